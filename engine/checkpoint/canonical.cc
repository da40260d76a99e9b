// SPDX-License-Identifier: Apache-2.0
#include "engine/checkpoint/canonical.h"

#include <atomic>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "backends/backend_factory.h"

namespace weir::engine {

namespace {

// The streams of the state restored from `native` into `scratch_dir`.
Result<BackendSnapshot> Convert(const BackendSnapshot& native,
                                int64_t checkpoint_id,
                                const CanonicalConversion& options,
                                const std::string& scratch_dir,
                                const std::string& out_dir) {
  StateBackendOptions bo;
  bo.max_parallelism = native.max_parallelism;
  bo.key_group_range = native.key_group_range;
  bo.clock = options.clock;
  // Only RocksDB writes native snapshots that are not streams.
  Result<std::unique_ptr<KeyedStateBackend>> scratch =
      NewBackendFactory(JobOptions::Backend::kRocksDB, options.rocksdb)
          ->Restore(bo, scratch_dir, {native});
  if (!scratch.ok()) {
    return scratch.status().WithContext(
        "canonical savepoint: restoring the "
        "native snapshot");
  }
  Result<std::unique_ptr<PendingSnapshot>> pending =
      SnapshotAsKeyGroupStreams(**scratch, checkpoint_id, out_dir);
  if (!pending.ok()) {
    return pending.status().WithContext(
        "canonical savepoint: reading the state");
  }
  Result<BackendSnapshot> streams = (*pending)->Complete();
  pending->reset();
  scratch->reset();  // closes the scratch DB before its directory goes
  if (!streams.ok()) {
    return streams.status().WithContext(
        "canonical savepoint: writing the key-group streams");
  }
  return streams;
}

}  // namespace

Result<BackendSnapshot> ToKeyGroupStreams(const BackendSnapshot& native,
                                          int64_t checkpoint_id,
                                          const CanonicalConversion& options,
                                          const std::string& scratch_dir,
                                          const std::string& out_dir) {
  if (native.format == SnapshotFormat::kKeyGroupStreams) return native;
  Result<BackendSnapshot> streams =
      Convert(native, checkpoint_id, options, scratch_dir, out_dir);
  std::error_code ec;
  std::filesystem::remove_all(scratch_dir, ec);
  for (const SnapshotFile& f : native.files) {
    std::filesystem::remove(f.local_path, ec);
  }
  return streams;
}

}  // namespace weir::engine
