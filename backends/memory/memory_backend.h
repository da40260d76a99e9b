// SPDX-License-Identifier: Apache-2.0
//
// The memory backend: keyed state in hash maps, partitioned by key group. It
// is the reference the RocksDB backend is tested against and the fastest
// backend for state that fits in memory. Nothing is persisted; snapshots
// write its state out as key-group streams
// (backends/common/key_group_streams.h).
#pragma once

#include <memory>

#include <weir/options.h>

#include "backends/backend.h"

namespace weir {

// InvalidArgument if the options are inconsistent (max parallelism out of
// [1, 32768], a key-group range outside it).
Result<std::unique_ptr<KeyedStateBackend>> NewMemoryBackend(
    const StateBackendOptions& options);

}  // namespace weir
