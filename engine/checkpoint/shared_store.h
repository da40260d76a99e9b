// SPDX-License-Identifier: Apache-2.0
//
// SharedFileStore: one job's checkpoint storage, `<checkpoints-dir>/<job-id>/`
//
//   shared/<16 hex>-<name>   state files, shared by checkpoints and native
//                            savepoints; the random prefix makes names
//                            unique across tasks, jobs and restarts
//   chk-<N>/_metadata        the commit point of checkpoint N
//   savepoint-refs/<id>      a copy of the `_metadata` of each native
//                            savepoint that references shared/, named by
//                            the savepoint's id, so that its files stay
//                            protected across restarts
//   LOCK                     held (flock) by the process that runs the job
//
// Upload() puts a task's snapshot files into shared/ (hard link when on the
// same file system, else an fsync'd copy; both verified by size and XXH3-64)
// unless a file with the same identity (size, checksum) is already there;
// then it is only referenced. Files uploaded or referenced for a checkpoint
// are held by it while it is pending; CommitCheckpoint() writes its
// `_metadata` and makes the checkpoint retained, Abort() drops it.
//
// Reference tracking: every shared file knows the pending and retained
// checkpoints and the registered savepoints that reference it. A shared
// file is deleted only when none does (docs/design.md, invariant 3), and a
// checkpoint's `_metadata` is deleted before any file it references, so a
// crash at any point leaves at worst unreferenced files, which Sweep()
// removes. Open() rebuilds the tracking from the `_metadata` files on disk.
// Docs: docs/checkpoint-format.md.
//
// Thread safety: all methods may be called concurrently (tasks upload from
// a background pool). File copies run outside the store's lock. One store
// object per directory and process.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <weir/result.h>

#include "backends/snapshot.h"
#include "engine/checkpoint/metadata.h"
#include "lib/file.h"

namespace weir::engine {

enum class UploadMode {
  // Reference files whose identity is already in shared/.
  kIncremental,
  // Upload every file anew (`weir checkpoint --full`): breaks the
  // incremental chain, so no damaged old file is carried forward.
  kFull,
};

struct UploadResult {
  // One per input file, in input order: where it is stored.
  std::vector<StoredFile> files;
  uint64_t bytes_uploaded = 0;    // linked or copied into shared/ now
  uint64_t bytes_referenced = 0;  // already in shared/, only referenced
  int files_uploaded = 0;
  int files_linked = 0;  // of files_uploaded, by hard link
  int files_referenced = 0;
};

struct DeletionResult {
  std::vector<uint64_t> checkpoints_removed;  // Prune: ids, oldest first
  int files_removed = 0;                      // in shared/
  uint64_t bytes_removed = 0;                 // of those files
  int directories_removed = 0;                // Sweep: chk-* without metadata
};

// Links (when `hard_links` and on the same file system) or copies a
// snapshot file to `target`, checking its size and XXH3-64 against the
// snapshot's (a linked file only if `verify_linked`); on failure nothing is
// left at `target`. Corruption on a mismatch, IOError naming the file.
Status TransferSnapshotFile(const SnapshotFile& file, const std::string& target,
                            bool hard_links, bool verify_linked, bool* linked);

class SharedFileStore {
 public:
  struct Options {
    // Re-read a hard-linked file to check its XXH3-64 against the
    // snapshot's. Copies are always checked (the hash is computed while
    // copying). Default: true.
    bool verify_linked_checksums = true;
    // Try link(2) before copying. Off: always copy (for a checkpoint
    // directory that must not share inodes with the task's files).
    // Default: true.
    bool hard_links = true;
    // Create the storage when `root` holds none. Off: NotFound unless
    // `root/shared` is a directory already, and Open creates nothing (for
    // a path read from a savepoint's metadata). Default: true.
    bool create_if_missing = true;
  };

  // Opens (creating if needed) the checkpoint storage of one job,
  // `root` = <checkpoints-dir>/<job-id>, and rebuilds the reference
  // tracking from `chk-*/_metadata` and `savepoint-refs/*`. A `_metadata`
  // that cannot be read does not fail Open; it is listed in
  // unreadable_metadata() and, while it is, no shared file is deleted.
  static Result<std::unique_ptr<SharedFileStore>> Open(const std::string& root,
                                                       Options options);
  static Result<std::unique_ptr<SharedFileStore>> Open(
      const std::string& root) {
    return Open(root, Options());
  }

  SharedFileStore(const SharedFileStore&) = delete;
  SharedFileStore& operator=(const SharedFileStore&) = delete;
  ~SharedFileStore();

  const std::string& root() const { return root_; }
  std::string shared_dir() const { return root_ + "/shared"; }
  std::string CheckpointDir(uint64_t checkpoint_id) const;

  // Stores `files` (each with local_path, size and checksum set) for the
  // pending checkpoint (or savepoint) `checkpoint_id`. The returned paths
  // are what its metadata must name. On error some files may already be
  // stored; Abort(checkpoint_id) removes them.
  // InvalidArgument if checkpoint_id is already complete or a file lacks a
  // local path; Aborted if it was aborted; Corruption if a file's size or
  // checksum is not what the snapshot says; IOError/NotFound from the file
  // system, naming the file.
  Result<UploadResult> Upload(uint64_t checkpoint_id,
                              std::span<const SnapshotFile> files,
                              UploadMode mode = UploadMode::kIncremental);

  // The commit point: writes `chk-<id>/_metadata` atomically, then the
  // checkpoint is retained and holds exactly the shared files its metadata
  // names (pending references it did not use are dropped).
  // REQUIRES: metadata.kind == kCheckpoint. InvalidArgument if the id is
  // already complete, or the metadata names a shared/ file the store does
  // not hold; Aborted if the id was aborted.
  Status CommitCheckpoint(const CheckpointMetadata& metadata);

  // Commits a savepoint taken with Upload(metadata.checkpoint_id, ...):
  // registers it in savepoint-refs/<savepoint id> (durably, first), then
  // writes `<savepoint_dir>/_metadata` with shared_root set to root(). A
  // savepoint id and directory are given to metadata that has none. Its
  // shared files stay until ReleaseSavepoint(). A savepoint that names no
  // shared/ file is written but not registered.
  Status CommitSavepoint(CheckpointMetadata metadata,
                         const std::string& savepoint_dir);

  // The registration that disposing the savepoint `metadata`, read from
  // `savepoint_dir`, may release: the one named by its id (by its
  // directory's name for a savepoint written before ids), or "" when there
  // is none or `savepoint_dir` is a copy of a savepoint that is still
  // registered at another directory, whose files must stay.
  std::string RegistrationToRelease(const CheckpointMetadata& metadata,
                                    const std::string& savepoint_dir) const;

  // Removes the registration `name` (durably) and then, if
  // `delete_unreferenced`, the shared files that nothing else references.
  // Off: for a storage whose job runs in another process, which removes
  // them when it next starts. OK if no such registration exists.
  Status ReleaseSavepoint(const std::string& name,
                          bool delete_unreferenced = true);

  // Drops a pending checkpoint: removes the shared files uploaded for it
  // that nothing else references and a `chk-<id>` directory without
  // `_metadata`. Uploads still running for it remove their files when they
  // finish. InvalidArgument if the checkpoint is complete.
  Status Abort(uint64_t checkpoint_id);

  // Keeps the `retain` newest completed checkpoints and removes the older
  // ones: `_metadata` first, then the directory, then exactly the shared
  // files that no retained or pending checkpoint and no registered
  // savepoint references. InvalidArgument if retain < 1.
  Result<DeletionResult> Prune(int retain);

  // Removes what a crash can leave: files in shared/ that no `_metadata`
  // (re-read from disk), registered savepoint, pending checkpoint or
  // running upload references, and `chk-*` directories without
  // `_metadata` that are not pending. Corruption, deleting nothing, if a
  // `_metadata` on disk cannot be read.
  Result<DeletionResult> Sweep();

  // Completed checkpoint ids, ascending.
  std::vector<uint64_t> CompletedCheckpoints() const;
  // Each shared file ("shared/<name>") and who references it ("chk-7",
  // "pending-8", "savepoint-ab12cd-...").
  std::map<std::string, std::vector<std::string>> References() const;
  // `_metadata` files Open could not read.
  std::vector<std::string> unreadable_metadata() const;

 private:
  struct SharedFile {
    uint64_t size = 0;
    uint64_t checksum = 0;
    // The file when its checksum was computed from it (the upload's hash,
    // or the first metadata naming it after a restart); inode 0 if unknown.
    FileStamp stamp;
    std::set<uint64_t> checkpoints;    // pending or complete
    std::set<std::string> savepoints;  // registration names
    bool referenced() const {
      return !checkpoints.empty() || !savepoints.empty();
    }
  };
  using Identity = std::pair<uint64_t, uint64_t>;  // (size, checksum)

  SharedFileStore(std::string root, Options options);

  Status Load();
  // REQUIRES: mu_ held (or single-threaded in Open).
  void AddReferences(const CheckpointMetadata& metadata, uint64_t checkpoint,
                     const std::string* savepoint);
  std::string NewSharedName(const std::string& original);  // REQUIRES: mu_
  // Deletes the named shared files that are unreferenced and not in
  // flight. REQUIRES: mu_ held.
  void DeleteUnreferenced(const std::set<std::string>& names,
                          DeletionResult* result);
  Result<StoredFile> UploadOne(uint64_t checkpoint_id, const SnapshotFile& file,
                               UploadMode mode, UploadResult* totals);
  // Links or copies `file` to `target` and verifies it; on failure nothing
  // is left at `target`.
  Status Transfer(const SnapshotFile& file, const std::string& target,
                  bool* linked) const;

  const std::string root_;
  const Options options_;

  mutable std::mutex mu_;
  // Everything below is guarded by mu_.
  std::map<std::string, SharedFile> files_;  // by name inside shared/
  std::map<Identity, std::string> by_identity_;
  std::map<uint64_t, std::set<std::string>> completed_;  // id -> files
  std::map<uint64_t, std::set<std::string>> pending_;    // id -> files
  std::map<std::string, std::set<std::string>> savepoints_;
  // Registration -> the directory its savepoint was written to ("" if the
  // registration predates savepoint ids).
  std::map<std::string, std::string> savepoint_dirs_;
  std::set<uint64_t> aborted_;
  std::set<std::string> in_flight_;  // names being linked or copied
  std::vector<std::string> unreadable_;
  std::mt19937_64 rng_;
};

}  // namespace weir::engine
