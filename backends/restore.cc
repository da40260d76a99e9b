// SPDX-License-Identifier: Apache-2.0
#include "backends/restore.h"

#include <chrono>
#include <filesystem>
#include <system_error>

#include "backends/common/key_group_streams.h"
#include "backends/memory/memory_backend.h"
#include "backends/rocksdb/rocksdb_snapshot.h"
#include "lib/hash.h"

namespace weir {

Result<std::unique_ptr<KeyedStateBackend>> RestoreMemoryBackend(
    const StateBackendOptions& options,
    const std::vector<BackendSnapshot>& snapshots,
    const std::string& scratch_dir) {
  Result<std::unique_ptr<KeyedStateBackend>> backend =
      NewMemoryBackend(options);
  if (!backend.ok()) return backend.status();
  if (snapshots.empty()) return backend;
  const SnapshotFormat format = snapshots.front().format;
  for (const BackendSnapshot& snap : snapshots) {
    if (snap.format != format) {
      return Status::InvalidArgument("snapshots of mixed formats");
    }
  }
  if (format == SnapshotFormat::kKeyGroupStreams) {
    Status s = ImportKeyGroupStreams(**backend, snapshots);
    if (!s.ok()) return s;
    return backend;
  }
  // SST files: restore into a temporary RocksDB and copy its state over.
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path base =
      scratch_dir.empty() ? fs::temp_directory_path(ec) : fs::path(scratch_dir);
  if (ec) return Status::IOError("no temporary directory: " + ec.message());
  const fs::path tmp =
      base /
      ("weir-restore-" +
       std::to_string(Hash64(std::to_string(
           std::chrono::steady_clock::now().time_since_epoch().count()))));
  Status s;
  {
    RocksDBOptions rocks;
    rocks.block_cache_bytes = size_t{8} << 20;
    Result<std::unique_ptr<KeyedStateBackend>> rocks_backend =
        RestoreRocksDBBackend(options, rocks, tmp.string(), snapshots);
    s = rocks_backend.ok() ? CopyBackendState(**rocks_backend, **backend)
                           : rocks_backend.status();
  }
  fs::remove_all(tmp, ec);
  if (!s.ok()) return s;
  return backend;
}

}  // namespace weir
