// SPDX-License-Identifier: Apache-2.0
//
// weir::DisposeSavepoint (weir/savepoint.h) and engine::DisposeSavepoint.
#include "engine/checkpoint/dispose.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include <weir/savepoint.h>

#include "engine/checkpoint/metadata.h"
#include "lib/env.h"
#include "lib/file.h"

namespace weir {

namespace engine {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSharedPrefix = "shared/";

// What a savepoint consists of inside its directory, as paths relative to
// it: its `_metadata` (and the temporary file its atomic write may leave),
// the files its metadata places there, and the folders that hold them.
struct OwnEntries {
  std::set<std::string> files;
  std::set<std::string> dirs;
};

OwnEntries OwnEntriesOf(const CheckpointMetadata& m) {
  OwnEntries own;
  own.files.insert(std::string(kMetadataFileName));
  own.files.insert(std::string(kMetadataFileName) + ".tmp");
  for (const TaskSnapshotMetadata& task : m.tasks) {
    for (const StoredFile& f : task.files) {
      // Resolved against the checkpoint storage, not this directory.
      if (!m.shared_root.empty() && f.path.starts_with(kSharedPrefix)) continue;
      own.files.insert(f.path);
      for (size_t slash = f.path.find('/'); slash != std::string::npos;
           slash = f.path.find('/', slash + 1)) {
        own.dirs.insert(f.path.substr(0, slash));
      }
    }
  }
  return own;
}

// InvalidArgument naming up to three entries of `dir` that are not the
// savepoint's. The walk ends at the third, so it reads at most as many
// entries as the metadata names, plus three.
Status CheckOnlyOwnEntries(const std::string& dir, const OwnEntries& own) {
  std::vector<std::string> foreign;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string rel = it->path().string().substr(dir.size() + 1);
    std::error_code type_ec;
    const bool is_dir = it->is_directory(type_ec) && !it->is_symlink(type_ec);
    if (is_dir ? own.dirs.contains(rel) : own.files.contains(rel)) continue;
    foreign.push_back(is_dir ? rel + "/" : rel);
    if (foreign.size() == 3) break;
    if (is_dir) it.disable_recursion_pending();
  }
  if (ec) return Status::IOError("cannot list " + dir + ": " + ec.message());
  if (foreign.empty()) return Status::OK();
  std::string names;
  for (const std::string& f : foreign) {
    names += names.empty() ? "" : ", ";
    names += f;
  }
  return Status::InvalidArgument(
      "refusing to dispose of the savepoint in " + dir + ": the directory " +
      "also holds " + names + (foreign.size() == 3 ? " and maybe more" : "") +
      ", which the savepoint does not name; nothing was deleted");
}

Status Unlink(const std::string& path) {
  return Env::Default()->RemoveFile(path);
}

Status RemoveDir(const std::string& path) {
  return Env::Default()->RemoveDir(path);
}

// The commit point goes first (from then on the savepoint does not exist),
// then its files, then the emptied folders, children before parents.
Status RemoveOwnEntries(const std::string& dir, const OwnEntries& own) {
  const std::string metadata = std::string(kMetadataFileName);
  Status s = Unlink(dir + "/" + metadata);
  if (s.ok()) s = SyncDir(dir);
  for (auto it = own.files.begin(); s.ok() && it != own.files.end(); ++it) {
    if (*it != metadata) s = Unlink(dir + "/" + *it);
  }
  for (auto it = own.dirs.rbegin(); s.ok() && it != own.dirs.rend(); ++it) {
    s = RemoveDir(dir + "/" + *it);
  }
  if (s.ok()) s = RemoveDir(dir);
  return s;
}

// The savepoint's directory for `path` (the directory or its `_metadata`),
// without a trailing slash.
Result<std::string> SavepointDirOf(const std::string& path) {
  struct stat st;
  if (path.empty()) return Status::InvalidArgument("no savepoint path given");
  if (::stat(path.c_str(), &st) != 0) {
    return Status::NotFound("no savepoint at " + path +
                            ": no such file or directory");
  }
  std::string dir = path;
  if (!S_ISDIR(st.st_mode)) {
    const fs::path p(path);
    if (p.filename() != kMetadataFileName) {
      return Status::InvalidArgument(
          path + " is not a savepoint: give its directory or its " +
          std::string(kMetadataFileName) + " file");
    }
    dir = p.parent_path().string();
    if (dir.empty()) dir = ".";
  }
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

}  // namespace

Status DisposeSavepoint(const std::string& path, SharedFileStore* owner) {
  Result<std::string> found = SavepointDirOf(path);
  if (!found.ok()) return found.status();
  const std::string& dir = *found;
  Result<CheckpointMetadata> m =
      ReadMetadataFile(dir + "/" + std::string(kMetadataFileName));
  if (!m.ok()) return m.status();
  if (m->kind != SnapshotKind::kSavepoint) {
    return Status::InvalidArgument(
        path +
        " is a checkpoint, not a savepoint: a job deletes its own "
        "checkpoints (execution.checkpointing.num-retained)");
  }
  const OwnEntries own = OwnEntriesOf(*m);
  Status s = CheckOnlyOwnEntries(dir, own);
  if (!s.ok()) return s;

  // Which registration to release, and whether its shared files may be
  // deleted here. Decided before anything is deleted: telling the
  // registered savepoint from a copy compares directories.
  SharedFileStore* store = nullptr;
  std::unique_ptr<SharedFileStore> opened;
  std::unique_ptr<FileLock> lock;
  bool delete_shared = true;
  const std::string& root = m->shared_root;
  std::error_code ec;
  if (root.empty()) {
    // Self-contained: nothing outside its directory.
  } else if (owner != nullptr && owner->root() == root) {
    store = owner;
  } else if (fs::is_directory(root + "/shared", ec) &&
             fs::is_directory(root + "/savepoint-refs", ec)) {
    int64_t holder = 0;
    s = FileLock::TryAcquire(root + "/LOCK", &lock, &holder);
    if (!s.ok()) return s.WithContext("cannot dispose of " + path);
    // A job runs on that storage in another process: its shared files are
    // left to it (they go when it next starts), the registration goes.
    delete_shared = lock != nullptr;
    SharedFileStore::Options options;
    options.create_if_missing = false;
    Result<std::unique_ptr<SharedFileStore>> o =
        SharedFileStore::Open(root, options);
    if (!o.ok()) return o.status().WithContext("cannot dispose of " + path);
    opened = std::move(*o);
    store = opened.get();
  }
  // Any other shared root (gone, or not a checkpoint storage) is left
  // alone: nothing is created or deleted there.
  const std::string registration =
      store != nullptr ? store->RegistrationToRelease(*m, dir) : "";

  s = RemoveOwnEntries(dir, own);
  if (!s.ok()) return s;
  if (registration.empty()) return Status::OK();
  return store->ReleaseSavepoint(registration, delete_shared);
}

}  // namespace engine

Status DisposeSavepoint(const std::string& path) {
  return engine::DisposeSavepoint(path, nullptr);
}

}  // namespace weir
