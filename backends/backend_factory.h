// SPDX-License-Identifier: Apache-2.0
//
// BackendFactory: how the engine opens and restores a task's state backend
// without naming a concrete one. There is one factory per
// JobOptions::Backend; it knows the backend's options (RocksDBOptions) and
// what the backend can do (BackendCapabilities), so that the engine asks
// instead of switching on the kind.
//
// Thread safety: a factory is immutable once made; Open and Restore may
// run on any thread, each backend they return belongs to its caller.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <weir/job.h>
#include <weir/options.h>
#include <weir/result.h>

#include "backends/backend.h"
#include "backends/snapshot.h"

namespace weir {

// What a kind of backend does, for the engine's decisions and reports.
struct BackendCapabilities {
  // Native snapshots are RocksDB SST files (SnapshotFormat::kRocksDBSst);
  // otherwise they are key-group streams.
  bool sst_snapshots = false;
  // Snapshots may carry a ready-made DB that a restore at the same
  // key-group range opens as it is (backends/rocksdb/rocksdb_ready_db.h).
  bool ready_db = false;
  // Backends report a StateReadMode other than kNone (read_mode()).
  bool read_mode = false;
  // Each backend keeps its state in the directory given to Open and
  // Restore, which must be its own. Otherwise that directory is scratch
  // space only (may be empty: the system's temp directory) and may be
  // shared by several backends.
  bool own_dir = false;
};

class BackendFactory {
 public:
  virtual ~BackendFactory() = default;
  BackendFactory(const BackendFactory&) = delete;
  BackendFactory& operator=(const BackendFactory&) = delete;

  // The backend's name in reports (JobInfo::state_backend): "hashmap",
  // "rocksdb".
  virtual std::string_view name() const = 0;
  virtual const BackendCapabilities& capabilities() const = 0;

  // A backend with no state for `options`, in `dir` (see
  // BackendCapabilities::own_dir). InvalidArgument for inconsistent
  // options; RocksDB: IOError or Corruption when the directory cannot be
  // used (backends/rocksdb/rocksdb_backend.h).
  virtual Result<std::unique_ptr<KeyedStateBackend>> Open(
      const StateBackendOptions& options, const std::string& dir) const = 0;

  // A backend holding the state of `snapshots` (of one format, any
  // backend's, possibly of other key-group ranges: rescaling) restricted
  // to options.key_group_range. Files are verified first: Corruption
  // naming a file whose size or checksum differs.
  virtual Result<std::unique_ptr<KeyedStateBackend>> Restore(
      const StateBackendOptions& options, const std::string& dir,
      const std::vector<BackendSnapshot>& snapshots) const = 0;

 protected:
  BackendFactory() = default;
};

// The factory for backends of kind `kind`. `rocksdb` is used by the
// RocksDB backend only.
std::unique_ptr<BackendFactory> NewBackendFactory(
    JobOptions::Backend kind, const RocksDBOptions& rocksdb = {});

// A snapshot of `backend` (of any kind) as key-group streams
// (SnapshotFormat::kKeyGroupStreams) into `local_dir`, whatever the
// backend's native format: canonical savepoints. The synchronous phase
// copies the state (backends/common/key_group_streams.h); Complete()
// compresses and writes it. The PendingSnapshot does not count in
// backend.PendingSnapshots().
Result<std::unique_ptr<PendingSnapshot>> SnapshotAsKeyGroupStreams(
    KeyedStateBackend& backend, int64_t checkpoint_id,
    const std::string& local_dir);

}  // namespace weir
