// SPDX-License-Identifier: Apache-2.0
//
// Restoring a RocksDB backend from several SST snapshots: the state of
// tasks of another parallelism (rescaling), each snapshot one old task's
// key groups.
//
//   1. The snapshot that shares the most key groups with the backend is
//      imported into it (CreateColumnFamilyWithImport of its files), and
//      the key groups outside the backend's range are clipped (DeleteRange):
//      no entry of it is read or written.
//   2. Each other snapshot that shares key groups with the backend is
//      restored into a scratch backend on exactly those key groups (the
//      same import and clip); its state descriptors are registered, and its
//      entries are written once, in key order, into new SST files that are
//      ingested (rocksdb_ingest.h).
//   3. Operator list states are the concatenation of the snapshots' lists,
//      in the order the snapshots are given (as the memory backend does;
//      the engine redistributes split lists and hands out union lists).
//
// Key groups are disjoint between the snapshots of one checkpoint, so step 2
// never overwrites an entry of step 1. Its cost is linear in the bytes
// copied: scaling from p to p/2 rewrites half the state, sequentially.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <weir/options.h>
#include <weir/result.h>

#include "backends/backend.h"
#include "backends/snapshot.h"

namespace weir::internal {

class RocksDBBackend;

// REQUIRES: `options` resolved (ResolveBackendOptions), every snapshot
// kRocksDBSst with its max parallelism, their files verified, and `dir`
// holding no DB yet. `expected_state_bytes`: the SST bytes the result will
// hold, for a kAuto read mode (OpenRocksDBBackendSized).
Result<std::unique_ptr<RocksDBBackend>> RestoreRescaledRocksDBBackend(
    const StateBackendOptions& options, const RocksDBOptions& rocksdb_options,
    const std::string& dir, const std::vector<BackendSnapshot>& snapshots,
    uint64_t expected_state_bytes);

}  // namespace weir::internal
