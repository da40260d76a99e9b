// SPDX-License-Identifier: Apache-2.0
#include "backends/backend_factory.h"

#include <atomic>
#include <utility>

#include "backends/common/key_group_streams.h"
#include "backends/memory/memory_backend.h"
#include "backends/restore.h"
#include "backends/rocksdb/rocksdb_backend.h"
#include "backends/rocksdb/rocksdb_snapshot.h"

namespace weir {

namespace {

class MemoryBackendFactory final : public BackendFactory {
 public:
  std::string_view name() const override { return "hashmap"; }
  const BackendCapabilities& capabilities() const override {
    static const BackendCapabilities kCapabilities{};
    return kCapabilities;
  }
  Result<std::unique_ptr<KeyedStateBackend>> Open(
      const StateBackendOptions& options,
      const std::string& /*dir*/) const override {
    return NewMemoryBackend(options);
  }
  Result<std::unique_ptr<KeyedStateBackend>> Restore(
      const StateBackendOptions& options, const std::string& dir,
      const std::vector<BackendSnapshot>& snapshots) const override {
    return RestoreMemoryBackend(options, snapshots, dir);
  }
};

class RocksDBBackendFactory final : public BackendFactory {
 public:
  explicit RocksDBBackendFactory(RocksDBOptions options)
      : options_(std::move(options)) {}

  std::string_view name() const override { return "rocksdb"; }
  const BackendCapabilities& capabilities() const override {
    static const BackendCapabilities kCapabilities{.sst_snapshots = true,
                                                   .ready_db = true,
                                                   .read_mode = true,
                                                   .own_dir = true};
    return kCapabilities;
  }
  Result<std::unique_ptr<KeyedStateBackend>> Open(
      const StateBackendOptions& options,
      const std::string& dir) const override {
    return OpenRocksDBBackend(options, options_, dir);
  }
  Result<std::unique_ptr<KeyedStateBackend>> Restore(
      const StateBackendOptions& options, const std::string& dir,
      const std::vector<BackendSnapshot>& snapshots) const override {
    return RestoreRocksDBBackend(options, options_, dir, snapshots);
  }

 private:
  const RocksDBOptions options_;
};

}  // namespace

std::unique_ptr<BackendFactory> NewBackendFactory(
    JobOptions::Backend kind, const RocksDBOptions& rocksdb) {
  switch (kind) {
    case JobOptions::Backend::kMemory:
      return std::make_unique<MemoryBackendFactory>();
    case JobOptions::Backend::kRocksDB:
      return std::make_unique<RocksDBBackendFactory>(rocksdb);
  }
  return nullptr;
}

Result<std::unique_ptr<PendingSnapshot>> SnapshotAsKeyGroupStreams(
    KeyedStateBackend& backend, int64_t checkpoint_id,
    const std::string& local_dir) {
  return internal::TakeKeyGroupStreamSnapshot(
      backend, checkpoint_id, local_dir, std::make_shared<std::atomic<int>>(0));
}

}  // namespace weir
