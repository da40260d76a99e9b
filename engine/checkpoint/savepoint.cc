// SPDX-License-Identifier: Apache-2.0
//
// weir::DisposeSavepoint (weir/savepoint.h).
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include <weir/savepoint.h>

#include "engine/checkpoint/metadata.h"
#include "engine/checkpoint/shared_store.h"
#include "lib/file.h"

namespace weir {

Status DisposeSavepoint(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (path.empty() || !fs::exists(path, ec)) {
    return Status::NotFound("no savepoint at " + path +
                            ": no such file or directory");
  }
  const std::string metadata_path = engine::MetadataFilePath(path);
  Result<engine::CheckpointMetadata> m =
      engine::ReadMetadataFile(metadata_path);
  if (!m.ok()) return m.status();
  if (m->kind != engine::SnapshotKind::kSavepoint) {
    return Status::InvalidArgument(
        path +
        " is a checkpoint, not a savepoint: a job deletes its own "
        "checkpoints (execution.checkpointing.num-retained)");
  }
  const std::string dir = fs::path(metadata_path).parent_path().string();
  if (!m->shared_root.empty() && fs::exists(m->shared_root, ec)) {
    // The storage decides which of its shared files nothing else needs.
    Result<std::unique_ptr<engine::SharedFileStore>> store =
        engine::SharedFileStore::Open(m->shared_root);
    if (!store.ok()) return store.status();
    return (*store)->DisposeSavepoint(dir);
  }
  // Self-contained (or its checkpoint storage is gone): the commit point
  // goes first, then the rest.
  if (!fs::remove(metadata_path, ec) && ec) {
    return Status::IOError("cannot remove " + metadata_path + ": " +
                           ec.message());
  }
  Status s = SyncDir(dir);
  if (!s.ok()) return s;
  fs::remove_all(dir, ec);
  if (ec) {
    return Status::IOError("cannot remove " + dir + ": " + ec.message());
  }
  return Status::OK();
}

}  // namespace weir
