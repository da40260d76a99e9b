// SPDX-License-Identifier: Apache-2.0
//
// weir::ExportSavepoint (weir/savepoint.h): a self-contained copy of a
// savepoint or retained checkpoint.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include <weir/savepoint.h>

#include "engine/checkpoint/metadata.h"
#include "engine/checkpoint/shared_store.h"
#include "lib/file.h"

namespace weir {

namespace {

namespace fs = std::filesystem;

// `path` made absolute and normal, without a trailing slash.
Result<std::string> AbsoluteDir(const std::string& path) {
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  if (ec) return Status::IOError(path + ": " + ec.message());
  std::string out = abs.lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

// Creates `dir`, which must not exist or be an empty directory.
// *created says whether this call made it.
Status PrepareTarget(const std::string& dir, bool* created) {
  *created = false;
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      return Status::InvalidArgument(dir + " exists and is not a directory");
    }
    std::error_code ec;
    if (!fs::is_empty(dir, ec) || ec) {
      return Status::InvalidArgument(
          dir + " is not empty; export writes into a new or empty directory");
    }
    return Status::OK();
  }
  if (errno != ENOENT) {
    return Status::IOError(dir + ": " + std::strerror(errno));
  }
  Status s = CreateDirsDurably(dir);
  if (s.ok()) *created = true;
  return s;
}

// Removes what a failed export wrote: the files it names and the folders
// that held them, then `dir` if this export created it.
void RemoveWritten(const std::string& dir,
                   const std::vector<std::string>& files,
                   const std::set<std::string>& subdirs, bool created) {
  for (const std::string& f : files) ::unlink((dir + "/" + f).c_str());
  ::unlink(
      (dir + "/" + std::string(engine::kMetadataFileName) + ".tmp").c_str());
  for (const std::string& d : subdirs) ::rmdir((dir + "/" + d).c_str());
  if (created) ::rmdir(dir.c_str());
}

}  // namespace

Status ExportSavepoint(const std::string& path, const std::string& target_dir) {
  if (target_dir.empty()) {
    return Status::InvalidArgument("no target directory given");
  }
  Result<engine::CheckpointMetadata> read = engine::ReadMetadataFile(path);
  if (!read.ok()) return read.status();
  engine::CheckpointMetadata m = std::move(*read);
  const std::string metadata_dir =
      fs::path(engine::MetadataFilePath(path)).parent_path().string();

  Result<std::string> target = AbsoluteDir(target_dir);
  if (!target.ok()) return target.status();
  bool created = false;
  Status s = PrepareTarget(*target, &created);
  if (!s.ok()) return s.WithContext("export of " + path);

  std::vector<std::string> written;
  std::set<std::string> subdirs;
  for (engine::TaskSnapshotMetadata& task : m.tasks) {
    const std::string sub = std::to_string(task.vertex_index) + "-" +
                            std::to_string(task.subtask_index);
    if (!task.files.empty() && subdirs.insert(sub).second) {
      s = CreateDirs(*target + "/" + sub);
    }
    for (engine::StoredFile& stored : task.files) {
      if (!s.ok()) break;
      SnapshotFile file = stored.file;
      file.local_path = engine::ResolveStoredPath(m, metadata_dir, stored);
      const std::string rel = sub + "/" + file.name;
      const std::string dst = *target + "/" + rel;
      bool linked = false;
      // Stored files never change (docs/design.md, invariant 7), so a hard
      // link is as good as a copy; the link is still read once to check it,
      // since a user exports a savepoint before deleting what it came from.
      s = engine::TransferSnapshotFile(file, dst, /*hard_links=*/true,
                                       /*verify_linked=*/true, &linked);
      if (!s.ok()) break;
      written.push_back(rel);
      file.local_path.clear();
      stored = engine::Stamped(engine::ToStoredFile(file, rel), StampFile(dst));
    }
    if (!s.ok()) break;
  }
  for (const std::string& sub : subdirs) {
    if (s.ok()) s = SyncDir(*target + "/" + sub);
  }
  if (s.ok()) {
    // A new savepoint of its own: no registration in, and no path into,
    // the original's checkpoint storage.
    m.kind = engine::SnapshotKind::kSavepoint;
    m.shared_root.clear();
    m.savepoint_id = engine::NewSavepointId();
    m.savepoint_dir = *target;
    s = engine::WriteMetadataFile(*target, m);
  }
  if (!s.ok()) {
    RemoveWritten(*target, written, subdirs, created);
    return s.WithContext("export of " + path + " into " + *target);
  }
  return Status::OK();
}

}  // namespace weir
