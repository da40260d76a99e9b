// SPDX-License-Identifier: Apache-2.0
//
// The RocksDB backend: one RocksDB instance per task, in `<dir>/db`, with
// one column family per operator (named by the operator id in hex) and the
// default column family for weir's own records (state descriptors,
// operator list state). Keys of keyed state are laid out as
//
//   [key group: 2 bytes BE][state id: 4 bytes BE][len][key][len][namespace][map
//   user key]
//
// so one key group is one contiguous key range. The WAL is off: durability
// comes from snapshots (and Flush()/close for a backend reopened in place).
//
// `<dir>/WEIR` marks a weir state directory and records its max
// parallelism. Open refuses a path that is a file, a non-empty directory
// without that marker, or state of another max parallelism, and changes
// nothing on disk when it refuses.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <weir/options.h>

#include "backends/backend.h"

namespace rocksdb {
struct Options;
}  // namespace rocksdb

namespace weir {

// Opens (creating if needed) the state directory `dir`.
Result<std::unique_ptr<KeyedStateBackend>> OpenRocksDBBackend(
    const StateBackendOptions& options, const RocksDBOptions& rocksdb_options,
    const std::string& dir);

namespace internal {

// The RocksDB options weir uses for `o`, for a column family and the DB
// (without weir's merge operator and compaction filter). Exposed so that
// benchmarks compare against raw RocksDB with exactly these options. A
// kAuto read mode is taken as kMmap: resolve it first
// (ResolveAutoOptions, rocksdb_read_mode.h) for a state of known size.
void ApplyRocksDBOptions(const RocksDBOptions& o, rocksdb::Options* out);

// Key layout helpers, shared with benchmarks and tests.
void AppendStateKeyPrefix(std::string* out, int key_group, uint32_t state_id);

}  // namespace internal

}  // namespace weir
