// SPDX-License-Identifier: Apache-2.0
#include "engine/checkpoint/shared_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>

#include "lib/coding.h"
#include "lib/env.h"
#include "lib/file.h"
#include "lib/hash.h"

namespace weir::engine {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSharedPrefix = "shared/";
constexpr std::string_view kSavepointRefsDir = "savepoint-refs";
constexpr std::string_view kTmpSuffix = ".tmp";
constexpr size_t kCopyBufferSize = 1 << 20;

// The name inside shared/ of a stored path, if it is "shared/<name>".
std::optional<std::string> SharedName(std::string_view path) {
  if (!path.starts_with(kSharedPrefix)) return std::nullopt;
  path.remove_prefix(kSharedPrefix.size());
  if (path.empty() || path.find('/') != std::string_view::npos) {
    return std::nullopt;
  }
  return std::string(path);
}

// `f` with the stamp of the stored file its checksum was computed from.
bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

Status RemoveFile(const std::string& path) {
  return Env::Default()->RemoveFile(path);
}

Status RemoveTree(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return Status::IOError("remove " + path + ": " + ec.message());
  return Status::OK();
}

std::string BaseName(const std::string& path) {
  fs::path p(path);
  if (!p.has_filename()) p = p.parent_path();
  return p.filename().string();
}

// Copies src to dst (created, must not exist), fsyncs dst, and returns the
// size and XXH3-64 of what was copied. Writes go through Env::Default().
Status CopyFile(const std::string& src, const std::string& dst, uint64_t* size,
                uint64_t* checksum) {
  const int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return ErrnoStatus("open", src, errno);
  std::unique_ptr<WritableFile> out;
  Status s = Env::Default()->NewWritableFile(dst, /*exclusive=*/true, &out);
  if (!s.ok()) {
    ::close(in);
    return s;
  }
  Hash64Stream hash;
  std::string buf(kCopyBufferSize, '\0');
  uint64_t total = 0;
  while (s.ok()) {
    const ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      s = ErrnoStatus("read", src, errno);
      break;
    }
    if (n == 0) break;
    const std::string_view chunk(buf.data(), static_cast<size_t>(n));
    hash.Update(chunk);
    total += static_cast<uint64_t>(n);
    s = out->Append(chunk);
  }
  if (s.ok()) s = out->Sync();
  const Status closed = out->Close();
  if (s.ok()) s = closed;
  ::close(in);
  *size = total;
  *checksum = hash.Digest();
  return s;
}

}  // namespace

SharedFileStore::SharedFileStore(std::string root, Options options)
    : root_(std::move(root)), options_(options) {
  std::random_device rd;
  std::seed_seq seed{rd(), rd(), rd(), rd()};
  rng_.seed(seed);
}

SharedFileStore::~SharedFileStore() = default;

Result<std::unique_ptr<SharedFileStore>> SharedFileStore::Open(
    const std::string& root, Options options) {
  if (root.empty()) {
    return Status::InvalidArgument("the checkpoint directory is empty");
  }
  std::error_code ec;
  fs::path abs = fs::absolute(root, ec).lexically_normal();
  if (ec)
    return Status::IOError("cannot resolve " + root + ": " + ec.message());
  std::string normalized = abs.string();
  while (normalized.size() > 1 && normalized.back() == '/')
    normalized.pop_back();
  if (!options.create_if_missing &&
      !fs::is_directory(normalized + "/shared", ec)) {
    return Status::NotFound(normalized + " is not a checkpoint storage");
  }
  std::unique_ptr<SharedFileStore> store(
      new SharedFileStore(std::move(normalized), options));
  Status s = store->Load();
  if (!s.ok()) return s;
  return store;
}

std::string SharedFileStore::CheckpointDir(uint64_t checkpoint_id) const {
  return root_ + "/chk-" + std::to_string(checkpoint_id);
}

void SharedFileStore::AddReferences(const CheckpointMetadata& metadata,
                                    uint64_t checkpoint,
                                    const std::string* savepoint) {
  std::set<std::string>& held =
      savepoint ? savepoints_[*savepoint] : completed_[checkpoint];
  if (savepoint) savepoint_dirs_[*savepoint] = metadata.savepoint_dir;
  for (const TaskSnapshotMetadata& task : metadata.tasks) {
    for (const StoredFile& f : task.files) {
      std::optional<std::string> name = SharedName(f.path);
      if (!name) continue;
      SharedFile& entry = files_[*name];
      entry.size = f.file.size;
      entry.checksum = f.file.checksum;
      if (entry.stamp.inode == 0 && f.file.verified_inode != 0) {
        entry.stamp = {f.file.verified_inode, f.file.size,
                       f.file.verified_mtime_ns};
      }
      if (savepoint) {
        entry.savepoints.insert(*savepoint);
      } else {
        entry.checkpoints.insert(checkpoint);
      }
      by_identity_.emplace(Identity(f.file.size, f.file.checksum), *name);
      held.insert(*name);
    }
  }
}

Status SharedFileStore::Load() {
  Status s = CreateDirsDurably(shared_dir());
  if (!s.ok()) return s;
  std::error_code ec;
  for (fs::directory_iterator it(root_, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::optional<uint64_t> id = ParseCheckpointDirName(name);
    if (!id || !it->is_directory()) continue;
    const std::string metadata_path =
        it->path().string() + "/" + std::string(kMetadataFileName);
    if (!Exists(metadata_path)) continue;  // not a checkpoint; Sweep's
    Result<CheckpointMetadata> m = ReadMetadataFile(metadata_path);
    if (!m.ok()) {
      unreadable_.push_back(metadata_path);
      continue;
    }
    AddReferences(*m, *id, nullptr);
  }
  if (ec) return Status::IOError("cannot list " + root_ + ": " + ec.message());

  const std::string refs_dir = root_ + "/" + std::string(kSavepointRefsDir);
  if (!Exists(refs_dir)) return Status::OK();
  for (fs::directory_iterator it(refs_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.ends_with(kTmpSuffix)) continue;
    Result<CheckpointMetadata> m = ReadMetadataFile(it->path().string());
    if (!m.ok()) {
      unreadable_.push_back(it->path().string());
      continue;
    }
    AddReferences(*m, 0, &name);
  }
  if (ec) {
    return Status::IOError("cannot list " + refs_dir + ": " + ec.message());
  }
  return Status::OK();
}

std::string SharedFileStore::NewSharedName(const std::string& original) {
  std::string tail = original.empty() ? "file" : original.substr(0, 200);
  for (char& c : tail) {
    if (c == '/' || c == '\0') c = '_';
  }
  for (;;) {
    char prefix[17];
    std::snprintf(prefix, sizeof(prefix), "%016" PRIx64, rng_());
    std::string name = std::string(prefix) + "-" + tail;
    if (!files_.contains(name) && !in_flight_.contains(name)) return name;
  }
}

Status SharedFileStore::Transfer(const SnapshotFile& file,
                                 const std::string& target,
                                 bool* linked) const {
  return TransferSnapshotFile(file, target, options_.hard_links,
                              options_.verify_linked_checksums, linked);
}

Status TransferSnapshotFile(const SnapshotFile& file, const std::string& target,
                            bool hard_links, bool verify_linked, bool* linked) {
  *linked = false;
  struct stat st;
  if (::stat(file.local_path.c_str(), &st) != 0) {
    return ErrnoStatus("cannot upload", file.local_path, errno);
  }
  if (static_cast<uint64_t>(st.st_size) != file.size) {
    return Status::Corruption(
        file.local_path + " has " + std::to_string(st.st_size) +
        " bytes, the snapshot says " + std::to_string(file.size));
  }
  auto mismatch = [&](uint64_t actual) {
    return Status::Corruption("checksum mismatch for " + file.local_path +
                              ": the snapshot says " + Hex64(file.checksum) +
                              ", the file has " + Hex64(actual));
  };
  Env* env = Env::Default();
  if (hard_links) {
    Status linked_status = env->Link(file.local_path, target);
    if (linked_status.ok()) {
      *linked = true;
      if (!verify_linked) return Status::OK();
      uint64_t size = 0, checksum = 0;
      Status s = ChecksumFile(target, file.size, &size, &checksum);
      if (s.ok() && size != file.size) {
        s = Status::Corruption(file.local_path + " changed size while linked");
      }
      if (s.ok() && checksum != file.checksum) s = mismatch(checksum);
      if (!s.ok()) RemoveFile(target).IgnoreError();
      return s;
    }
    if (!linked_status.IsNotSupported()) return linked_status;
  }
  const std::string tmp = target + std::string(kTmpSuffix);
  uint64_t size = 0, checksum = 0;
  Status s = CopyFile(file.local_path, tmp, &size, &checksum);
  if (s.ok() && size != file.size) {
    s = Status::Corruption("copied " + std::to_string(size) + " bytes of " +
                           file.local_path + ", the snapshot says " +
                           std::to_string(file.size));
  }
  if (s.ok() && checksum != file.checksum) s = mismatch(checksum);
  if (s.ok()) s = env->Rename(tmp, target);
  if (!s.ok()) RemoveFile(tmp).IgnoreError();
  return s;
}

Result<StoredFile> SharedFileStore::UploadOne(uint64_t checkpoint_id,
                                              const SnapshotFile& file,
                                              UploadMode mode,
                                              UploadResult* totals) {
  if (file.local_path.empty()) {
    return Status::InvalidArgument("snapshot file " + file.name +
                                   " has no local path");
  }
  std::string name;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (mode == UploadMode::kIncremental) {
      auto found = by_identity_.find(Identity(file.size, file.checksum));
      if (found != by_identity_.end()) {
        auto entry = files_.find(found->second);
        struct stat st;
        // A file someone removed behind our back is uploaded again.
        if (entry != files_.end() &&
            ::stat((shared_dir() + "/" + found->second).c_str(), &st) == 0 &&
            static_cast<uint64_t>(st.st_size) == file.size) {
          entry->second.checkpoints.insert(checkpoint_id);
          pending_[checkpoint_id].insert(found->second);
          totals->bytes_referenced += file.size;
          ++totals->files_referenced;
          return Stamped(
              ToStoredFile(file, std::string(kSharedPrefix) + found->second),
              entry->second.stamp);
        }
      }
    }
    name = NewSharedName(file.name);
    in_flight_.insert(name);
  }

  const std::string target = shared_dir() + "/" + name;
  bool linked = false;
  Status s = Transfer(file, target, &linked);

  std::lock_guard<std::mutex> lock(mu_);
  in_flight_.erase(name);
  if (!s.ok()) return s;
  if (aborted_.contains(checkpoint_id)) {
    RemoveFile(target).IgnoreError();
    return Status::Aborted("checkpoint " + std::to_string(checkpoint_id) +
                           " was aborted during its upload");
  }
  SharedFile& entry = files_[name];
  entry.size = file.size;
  entry.checksum = file.checksum;
  // The checksum is the content of this inode: linked, the very file that
  // was hashed; copied, hashed while copying.
  if (std::optional<FileStamp> stamp = StampFile(target)) entry.stamp = *stamp;
  entry.checkpoints.insert(checkpoint_id);
  // The newest upload of an identity is the one later checkpoints reuse,
  // so a full checkpoint starts a fresh chain.
  by_identity_[Identity(file.size, file.checksum)] = name;
  pending_[checkpoint_id].insert(name);
  totals->bytes_uploaded += file.size;
  ++totals->files_uploaded;
  if (linked) ++totals->files_linked;
  return Stamped(ToStoredFile(file, std::string(kSharedPrefix) + name),
                 entry.stamp);
}

Result<UploadResult> SharedFileStore::Upload(
    uint64_t checkpoint_id, std::span<const SnapshotFile> files,
    UploadMode mode) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (completed_.contains(checkpoint_id)) {
      return Status::InvalidArgument("checkpoint " +
                                     std::to_string(checkpoint_id) +
                                     " is already complete");
    }
    if (aborted_.contains(checkpoint_id)) {
      return Status::Aborted("checkpoint " + std::to_string(checkpoint_id) +
                             " was aborted");
    }
    pending_[checkpoint_id];
  }
  UploadResult result;
  for (const SnapshotFile& file : files) {
    Result<StoredFile> stored = UploadOne(checkpoint_id, file, mode, &result);
    if (!stored.ok()) return stored.status();
    result.files.push_back(std::move(stored).value());
  }
  if (result.files_uploaded > 0) {
    Status s = SyncDir(shared_dir());
    if (!s.ok()) return s;
  }
  return result;
}

void SharedFileStore::DeleteUnreferenced(const std::set<std::string>& names,
                                         DeletionResult* result) {
  // While a `_metadata` cannot be read, its references are unknown.
  if (!unreadable_.empty()) return;
  for (const std::string& name : names) {
    auto it = files_.find(name);
    if (it == files_.end() || it->second.referenced() ||
        in_flight_.contains(name)) {
      continue;
    }
    // A file that cannot be removed now stays unreferenced; Sweep retries.
    if (!RemoveFile(shared_dir() + "/" + name).ok()) continue;
    ++result->files_removed;
    result->bytes_removed += it->second.size;
    const Identity identity(it->second.size, it->second.checksum);
    files_.erase(it);
    auto mapped = by_identity_.find(identity);
    if (mapped != by_identity_.end() && mapped->second == name) {
      by_identity_.erase(mapped);
      for (const auto& [other, entry] : files_) {
        if (Identity(entry.size, entry.checksum) == identity) {
          by_identity_.emplace(identity, other);
          break;
        }
      }
    }
  }
}

Status SharedFileStore::CommitCheckpoint(const CheckpointMetadata& metadata) {
  const uint64_t id = metadata.checkpoint_id;
  const std::string what = "checkpoint " + std::to_string(id);
  if (metadata.kind != SnapshotKind::kCheckpoint) {
    return Status::InvalidArgument(what + " is not of kind checkpoint");
  }
  const std::string own_prefix = "chk-" + std::to_string(id) + "/";
  std::lock_guard<std::mutex> lock(mu_);
  if (completed_.contains(id)) {
    return Status::InvalidArgument(what + " is already complete");
  }
  if (aborted_.contains(id)) return Status::Aborted(what + " was aborted");
  for (const TaskSnapshotMetadata& task : metadata.tasks) {
    for (const StoredFile& f : task.files) {
      std::optional<std::string> name = SharedName(f.path);
      if (!name) {
        if (f.path.starts_with(own_prefix)) continue;
        return Status::InvalidArgument(what + " names " + f.path +
                                       ", which is neither in shared/ nor in " +
                                       own_prefix);
      }
      auto it = files_.find(*name);
      if (it == files_.end() || it->second.size != f.file.size ||
          it->second.checksum != f.file.checksum) {
        return Status::InvalidArgument(what + " names " + f.path + ", which " +
                                       root_ +
                                       " does not hold with that size and "
                                       "checksum");
      }
    }
  }
  bool in_place = false;
  Status s = WriteMetadataFile(CheckpointDir(id), metadata, &in_place);
  // In place but maybe not durable: the checkpoint exists on disk, so its
  // files must stay. It is retained (and pruned in turn), and the error
  // still fails it for the job.
  if (!s.ok() && !in_place) return s;

  AddReferences(metadata, id, nullptr);
  std::set<std::string> unused;
  auto pending = pending_.find(id);
  if (pending != pending_.end()) {
    const std::set<std::string>& held = completed_[id];
    for (const std::string& name : pending->second) {
      if (held.contains(name)) continue;
      files_[name].checkpoints.erase(id);
      unused.insert(name);
    }
    pending_.erase(pending);
  }
  DeletionResult ignored;
  DeleteUnreferenced(unused, &ignored);
  return s;
}

Status SharedFileStore::CommitSavepoint(CheckpointMetadata metadata,
                                        const std::string& savepoint_dir) {
  const uint64_t id = metadata.checkpoint_id;
  if (metadata.kind != SnapshotKind::kSavepoint) {
    return Status::InvalidArgument("the metadata for " + savepoint_dir +
                                   " is not of kind savepoint");
  }
  std::error_code ec;
  const fs::path abs = fs::absolute(savepoint_dir, ec).lexically_normal();
  if (ec || BaseName(abs.string()).empty()) {
    return Status::InvalidArgument("invalid savepoint directory '" +
                                   savepoint_dir + "'");
  }
  if (metadata.savepoint_dir.empty()) {
    metadata.savepoint_dir = abs.string();
    while (metadata.savepoint_dir.size() > 1 &&
           metadata.savepoint_dir.back() == '/') {
      metadata.savepoint_dir.pop_back();
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (metadata.savepoint_id.empty()) metadata.savepoint_id = NewSavepointId();
  const std::string registration = metadata.savepoint_id;
  if (savepoints_.contains(registration)) {
    return Status::InvalidArgument("a savepoint named " + registration +
                                   " is already registered in " + root_);
  }
  bool uses_shared = false;
  for (const TaskSnapshotMetadata& task : metadata.tasks) {
    for (const StoredFile& f : task.files) {
      std::optional<std::string> name = SharedName(f.path);
      if (!name) continue;
      uses_shared = true;
      auto it = files_.find(*name);
      if (it == files_.end() || it->second.size != f.file.size ||
          it->second.checksum != f.file.checksum) {
        return Status::InvalidArgument(
            "savepoint " + savepoint_dir + " names " + f.path + ", which " +
            root_ + " does not hold with that size and checksum");
      }
    }
  }
  const std::string refs_dir = root_ + "/" + std::string(kSavepointRefsDir);
  const std::string registration_path = refs_dir + "/" + registration;
  Status s;
  if (uses_shared) {
    metadata.shared_root = root_;
    // Registered before the savepoint exists: a crash in between leaves a
    // registration that only keeps files alive, never a savepoint whose
    // files are unprotected.
    std::string bytes;
    s = Encode(metadata, &bytes);
    if (s.ok()) s = CreateDirsDurably(refs_dir);
    if (s.ok()) s = AtomicWriteFile(registration_path, bytes);
    if (!s.ok()) {
      RemoveFile(registration_path).IgnoreError();
      return s;
    }
  }
  bool in_place = false;
  s = WriteMetadataFile(savepoint_dir, metadata, &in_place);
  if (!s.ok()) {
    // A `_metadata` that is in place is taken back; if that fails too, the
    // savepoint exists and its registration keeps its files.
    if (in_place &&
        !RemoveFile(savepoint_dir + "/" + std::string(kMetadataFileName))
             .ok()) {
      AddReferences(metadata, 0, &registration);
      return s;
    }
    if (uses_shared) RemoveFile(registration_path).IgnoreError();
    return s;
  }
  if (uses_shared) AddReferences(metadata, 0, &registration);
  std::set<std::string> unused;
  auto pending = pending_.find(id);
  if (pending != pending_.end()) {
    for (const std::string& name : pending->second) {
      files_[name].checkpoints.erase(id);
      unused.insert(name);
    }
    pending_.erase(pending);
  }
  DeletionResult ignored;
  DeleteUnreferenced(unused, &ignored);
  return Status::OK();
}

std::string SharedFileStore::RegistrationToRelease(
    const CheckpointMetadata& metadata,
    const std::string& savepoint_dir) const {
  const std::string name = metadata.savepoint_id.empty()
                               ? BaseName(savepoint_dir)
                               : metadata.savepoint_id;
  std::lock_guard<std::mutex> lock(mu_);
  auto registered = savepoint_dirs_.find(name);
  if (registered == savepoint_dirs_.end()) return "";
  const std::string& original = registered->second;
  // Written before savepoints had ids: only the directory's name is known.
  if (original.empty() || metadata.savepoint_id.empty()) return name;
  std::error_code ec;
  if (fs::equivalent(original, savepoint_dir, ec)) return name;
  // Another directory: a copy, unless the original is gone (moved or
  // deleted), in which case this is the savepoint that is left.
  Result<CheckpointMetadata> there = ReadMetadataFile(original);
  if (there.ok() && there->savepoint_id == metadata.savepoint_id) return "";
  return name;
}

Status SharedFileStore::ReleaseSavepoint(const std::string& name,
                                         bool delete_unreferenced) {
  std::lock_guard<std::mutex> lock(mu_);
  auto registered = savepoints_.find(name);
  if (registered == savepoints_.end()) return Status::OK();
  const std::string refs_dir = root_ + "/" + std::string(kSavepointRefsDir);
  Status s = RemoveFile(refs_dir + "/" + name);
  if (s.ok()) s = SyncDir(refs_dir);
  if (!s.ok()) return s;
  std::set<std::string> names = std::move(registered->second);
  savepoints_.erase(registered);
  savepoint_dirs_.erase(name);
  for (const std::string& file : names) {
    auto it = files_.find(file);
    if (it != files_.end()) it->second.savepoints.erase(name);
  }
  if (!delete_unreferenced) return Status::OK();
  DeletionResult ignored;
  DeleteUnreferenced(names, &ignored);
  return Status::OK();
}

Status SharedFileStore::Abort(uint64_t checkpoint_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (completed_.contains(checkpoint_id)) {
    return Status::InvalidArgument("checkpoint " +
                                   std::to_string(checkpoint_id) +
                                   " is complete and cannot be aborted");
  }
  aborted_.insert(checkpoint_id);
  std::set<std::string> names;
  auto pending = pending_.find(checkpoint_id);
  if (pending != pending_.end()) {
    names = std::move(pending->second);
    pending_.erase(pending);
  }
  for (const std::string& name : names) {
    auto it = files_.find(name);
    if (it != files_.end()) it->second.checkpoints.erase(checkpoint_id);
  }
  DeletionResult ignored;
  DeleteUnreferenced(names, &ignored);
  const std::string dir = CheckpointDir(checkpoint_id);
  if (Exists(dir) && !Exists(dir + "/" + std::string(kMetadataFileName))) {
    return RemoveTree(dir);
  }
  return Status::OK();
}

Result<DeletionResult> SharedFileStore::Prune(int retain) {
  if (retain < 1) {
    return Status::InvalidArgument(
        "at least one checkpoint must be retained, "
        "got " +
        std::to_string(retain));
  }
  std::lock_guard<std::mutex> lock(mu_);
  DeletionResult result;
  std::set<std::string> released;
  Status status;
  while (completed_.size() > static_cast<size_t>(retain)) {
    const uint64_t id = completed_.begin()->first;
    const std::string dir = CheckpointDir(id);
    // The commit point goes first: from here on the checkpoint does not
    // exist, and a crash leaves only unreferenced files.
    status = RemoveFile(dir + "/" + std::string(kMetadataFileName));
    if (status.ok() && Exists(dir)) status = SyncDir(dir);
    if (!status.ok()) break;
    for (const std::string& name : completed_.begin()->second) {
      auto it = files_.find(name);
      if (it != files_.end()) it->second.checkpoints.erase(id);
      released.insert(name);
    }
    completed_.erase(completed_.begin());
    result.checkpoints_removed.push_back(id);
    status = RemoveTree(dir);
    if (!status.ok()) break;
  }
  DeleteUnreferenced(released, &result);
  if (!status.ok()) return status;
  return result;
}

Result<DeletionResult> SharedFileStore::Sweep() {
  std::lock_guard<std::mutex> lock(mu_);
  DeletionResult result;
  // Every `_metadata` on disk counts, also one this store did not write.
  std::vector<std::string> unreadable;
  std::vector<std::string> orphan_dirs;
  std::error_code ec;
  for (fs::directory_iterator it(root_, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::optional<uint64_t> id =
        ParseCheckpointDirName(it->path().filename().string());
    if (!id || !it->is_directory()) continue;
    const std::string metadata_path =
        it->path().string() + "/" + std::string(kMetadataFileName);
    if (!Exists(metadata_path)) {
      if (!pending_.contains(*id)) orphan_dirs.push_back(it->path().string());
      continue;
    }
    if (completed_.contains(*id)) continue;
    Result<CheckpointMetadata> m = ReadMetadataFile(metadata_path);
    if (!m.ok()) {
      unreadable.push_back(metadata_path);
      continue;
    }
    AddReferences(*m, *id, nullptr);
  }
  if (ec) return Status::IOError("cannot list " + root_ + ": " + ec.message());
  const std::string refs_dir = root_ + "/" + std::string(kSavepointRefsDir);
  std::vector<std::string> stale_tmp;
  if (Exists(refs_dir)) {
    for (fs::directory_iterator it(refs_dir, ec), end; !ec && it != end;
         it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.ends_with(kTmpSuffix)) {
        stale_tmp.push_back(it->path().string());
        continue;
      }
      if (savepoints_.contains(name)) continue;
      Result<CheckpointMetadata> m = ReadMetadataFile(it->path().string());
      if (!m.ok()) {
        unreadable.push_back(it->path().string());
        continue;
      }
      AddReferences(*m, 0, &name);
    }
    if (ec) {
      return Status::IOError("cannot list " + refs_dir + ": " + ec.message());
    }
  }
  unreadable_ = unreadable;
  if (!unreadable_.empty()) {
    return Status::Corruption("cannot sweep " + root_ + ": " +
                              unreadable_.front() +
                              " cannot be read, so the files it references "
                              "are unknown");
  }
  for (const std::string& tmp : stale_tmp) {
    Status s = RemoveFile(tmp);
    if (!s.ok()) return s;
  }
  for (const std::string& dir : orphan_dirs) {
    Status s = RemoveTree(dir);
    if (!s.ok()) return s;
    ++result.directories_removed;
  }
  std::vector<std::string> orphans;
  for (fs::directory_iterator it(shared_dir(), ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->is_directory()) continue;
    const std::string name = it->path().filename().string();
    std::string base = name;
    if (base.ends_with(kTmpSuffix))
      base.resize(base.size() - kTmpSuffix.size());
    if (in_flight_.contains(base)) continue;
    auto entry = files_.find(name);
    if (entry != files_.end() && entry->second.referenced()) continue;
    orphans.push_back(name);
  }
  if (ec) {
    return Status::IOError("cannot list " + shared_dir() + ": " + ec.message());
  }
  for (const std::string& name : orphans) {
    const std::string path = shared_dir() + "/" + name;
    struct stat st;
    const uint64_t size =
        ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
    Status s = RemoveFile(path);
    if (!s.ok()) return s;
    files_.erase(name);
    ++result.files_removed;
    result.bytes_removed += size;
  }
  return result;
}

std::vector<uint64_t> SharedFileStore::CompletedCheckpoints() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<uint64_t> ids;
  for (const auto& [id, names] : completed_) ids.push_back(id);
  return ids;
}

std::map<std::string, std::vector<std::string>> SharedFileStore::References()
    const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [name, entry] : files_) {
    std::vector<std::string>& refs = out[std::string(kSharedPrefix) + name];
    for (uint64_t id : entry.checkpoints) {
      refs.push_back((completed_.contains(id) ? "chk-" : "pending-") +
                     std::to_string(id));
    }
    for (const std::string& sp : entry.savepoints) refs.push_back(sp);
  }
  return out;
}

std::vector<std::string> SharedFileStore::unreadable_metadata() const {
  std::lock_guard<std::mutex> lock(mu_);
  return unreadable_;
}

}  // namespace weir::engine
