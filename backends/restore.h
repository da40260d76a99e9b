// SPDX-License-Identifier: Apache-2.0
//
// Restores that cross backends: a memory backend from RocksDB SST
// snapshots goes through a temporary RocksDB backend. It lives above
// memory/ and rocksdb/ so that neither includes the other.
//
// Thread safety: runs on the calling thread; the backend it returns
// belongs to the caller.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <weir/options.h>
#include <weir/result.h>

#include "backends/backend.h"
#include "backends/snapshot.h"

namespace weir {

// Creates a memory backend holding the state of `snapshots`: key-group
// streams are imported entry by entry; RocksDB SST snapshots are restored
// into a temporary RocksDB under `scratch_dir` (default: the system's temp
// directory), copied over and the temporary directory removed. Files are
// verified (size, checksum) first; a mismatch is Corruption naming the file.
// Entries of key groups outside options.key_group_range are skipped.
Result<std::unique_ptr<KeyedStateBackend>> RestoreMemoryBackend(
    const StateBackendOptions& options,
    const std::vector<BackendSnapshot>& snapshots,
    const std::string& scratch_dir = "");

}  // namespace weir
