// SPDX-License-Identifier: Apache-2.0
//
// The `_metadata` file: the commit point of a checkpoint or savepoint. A
// checkpoint without a readable `_metadata` does not exist.
//
// It names every operator of the job (id, uid, parallelism, max
// parallelism) and, for each task (one subtask of a chain), the key-group
// range it owned and the files that hold its state, each by a path relative
// to a storage root, with the size and XXH3-64 checksum that verify it.
// The byte layout, the versioning rule and the path rules are in
// docs/checkpoint-format.md; in short: magic "WEIRMETA", a format version,
// the total length, length-prefixed records to which fields are only ever
// added at the end, and a footer with an XXH3-64 checksum and a trailing
// magic.
//
// Decoding never trusts its input: garbage, truncated or foreign bytes give
// one error naming the file, never a crash or an out-of-bounds read.
//
// Thread safety: plain values and free functions; no shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <weir/job_info.h>
#include <weir/key_group.h>
#include <weir/operator_id.h>
#include <weir/result.h>

#include "backends/snapshot.h"
#include "lib/file.h"

namespace weir::engine {

// The file name of the commit point inside a chk-N or savepoint directory.
inline constexpr std::string_view kMetadataFileName = "_metadata";

// The largest `_metadata` this build reads: far above any real one (a few
// hundred bytes per file), so that a wrong path (a device, a huge file)
// is refused before it is read.
inline constexpr uint64_t kMaxMetadataBytes = 64ull << 20;

// The longest path a `_metadata` may hold (PATH_MAX).
inline constexpr size_t kMaxPathBytes = 4096;

// The newest format version this build writes and reads.
inline constexpr uint32_t kMetadataFormatVersion = 1;

enum class SnapshotKind : uint8_t {
  kCheckpoint = 1,
  kSavepoint = 2,
};

enum class SavepointFormat : uint8_t {
  // The backend's own files; a native savepoint may reference `shared/`.
  kNative = 1,
  // Backend-neutral key-group streams, self-contained.
  kCanonical = 2,
};

// One operator of the job.
struct OperatorMetadata {
  OperatorId id;
  std::string uid;  // empty if the operator has none
  std::string name;
  int parallelism = 0;
  int max_parallelism = 0;
  // Appended: every subtask of the operator had finished (its input ended
  // and it emitted everything) before the cut. A restore does not run it
  // again (docs/checkpoints.md, "Finished tasks"). False when read from an
  // older file.
  bool fully_finished = false;

  bool operator==(const OperatorMetadata&) const = default;
};

// One file of a task's snapshot as stored: the backend's description of
// the file, and where the storage keeps it.
struct StoredFile {
  // Every field of the backend's SnapshotFile but `local_path`, which is
  // always empty here: `path` takes its place. verified_inode and
  // verified_mtime_ns stamp the stored file (the one at `path`).
  SnapshotFile file;
  // Relative to the storage root (see ResolveStoredPath): "shared/<unique
  // name>" or "chk-7/<name>". Never absolute, never with a ".." component.
  std::string path;

  bool operator==(const StoredFile&) const = default;
};

// `file` as stored under `path` (local_path dropped).
StoredFile ToStoredFile(const SnapshotFile& file, std::string path);

// `f` with `stamp` (the stored file's inode and mtime) recorded as where
// its checksum was verified; with none (zeros) if there is no stamp or it
// is of a file of another size.
StoredFile Stamped(StoredFile f, const std::optional<FileStamp>& stamp);

// One operator list state of a task at the cut (a source's offsets, a
// sink's staged files). Kept in `_metadata` too, so that a restore can hand
// every subtask the union of a kUnion state, and redistribute kSplit states
// when the parallelism changes, without opening the other subtasks' files.
struct OperatorStateMetadata {
  OperatorId operator_id;
  std::string name;
  uint8_t mode = 1;  // OperatorStateMode: 1 split, 2 union
  std::vector<std::string> values;

  bool operator==(const OperatorStateMetadata&) const = default;
};

// The state of one task (subtask `subtask_index` of vertex `vertex_index`)
// at the cut. A task holds the state of every operator of its chain.
struct TaskSnapshotMetadata {
  int vertex_index = 0;
  int subtask_index = 0;
  std::vector<OperatorId> operator_ids;  // the operators of the chain
  KeyGroupRange key_group_range;
  SnapshotFormat format = SnapshotFormat::kRocksDBSst;
  int max_parallelism = 0;
  uint64_t sequence_number = 0;  // kRocksDBSst: the cut's sequence number
  std::vector<StoredFile> files;
  // Added after format version 1's first files (appended to the record;
  // empty when read from an older file).
  std::vector<OperatorStateMetadata> operator_states;
  // Appended next: BackendSnapshot::ready_db_files (0 when read from an
  // older file).
  uint32_t ready_db_files = 0;
  // Appended next: the task had finished before the cut. It has no files
  // (no keyed state); operator_states are its operators' final list states
  // (a source's offset at its end). False when read from an older file.
  bool finished = false;

  bool operator==(const TaskSnapshotMetadata&) const = default;
};

struct CheckpointMetadata {
  JobId job_id;
  std::string job_name;
  uint64_t checkpoint_id = 0;
  SnapshotKind kind = SnapshotKind::kCheckpoint;
  // Meaningful for savepoints; checkpoints are always native.
  SavepointFormat savepoint_format = SavepointFormat::kNative;
  int64_t trigger_time_ms = 0;     // ms since the Unix epoch
  int64_t completion_time_ms = 0;  // ms since the Unix epoch
  // Where `shared/...` paths resolve: the checkpoint storage root
  // (<checkpoints-dir>/<job-id>) of a native savepoint that references it.
  // Empty for checkpoints: they resolve against their own parent.
  std::string shared_root;
  // Savepoints since format version 1's first fields (appended): a random
  // id given at creation (32 hex digits) that a copy of the savepoint keeps,
  // and the absolute directory it was written to. A native savepoint's
  // registration in its checkpoint storage is named by the id; the
  // directory tells the registered savepoint from a copy of it. Empty for
  // checkpoints and older savepoints.
  std::string savepoint_id;
  std::string savepoint_dir;
  std::vector<OperatorMetadata> operators;
  std::vector<TaskSnapshotMetadata> tasks;

  bool operator==(const CheckpointMetadata&) const = default;
};

// A new savepoint id (CheckpointMetadata::savepoint_id): 32 random
// lowercase hex digits. Thread-safe.
std::string NewSavepointId();

// Serializes `metadata` into `*out` (replacing its content).
// InvalidArgument if a field cannot be stored: a file name that is not a
// plain file name (IsPlainFileName), a path that IsValidStoredPath or
// IsValidStorageRoot refuses, a negative parallelism, index or key-group
// bound.
Status Encode(const CheckpointMetadata& metadata, std::string* out);

// Parses a `_metadata` file's bytes. `path_for_messages` names the file in
// errors. Corruption for truncated, foreign ("bad magic"), checksum
// mismatch or malformed content, and for any name or path that Encode
// would refuse (a file name with a '/', a path leaving the storage): every
// name a restore uses on disk is checked here, once; NotSupported for a
// newer format version.
// Fields a newer writer appended to a record are skipped.
Result<CheckpointMetadata> DecodeMetadata(std::string_view bytes,
                                          std::string_view path_for_messages);

// Writes `<dir>/_metadata` atomically (tmp + fsync + rename + fsync dir),
// creating `dir` if needed. After OK the checkpoint exists; on failure or a
// crash there is no `_metadata` (at worst a `_metadata.tmp`).
// `*in_place` as for AtomicWriteFile: after an error, true means the
// `_metadata` is there (readable) but may not survive a crash.
Status WriteMetadataFile(const std::string& dir,
                         const CheckpointMetadata& metadata,
                         bool* in_place = nullptr);

// Reads and decodes a `_metadata` file. `path` is the file or the chk-N /
// savepoint directory that holds it. NotFound names the missing file;
// InvalidArgument if it is not a regular file or is larger than
// kMaxMetadataBytes.
Result<CheckpointMetadata> ReadMetadataFile(const std::string& path);

// The `_metadata` file of `path` (the file itself, or `<dir>/_metadata`).
std::string MetadataFilePath(const std::string& path);

// Where `file` lives. `metadata_dir` is the directory holding the
// `_metadata` file. A checkpoint's paths resolve against metadata_dir's
// parent (the checkpoint storage root), a savepoint's against metadata_dir
// itself (so that it can be moved), except that `shared/...` paths resolve
// against `metadata.shared_root` when it is set.
std::string ResolveStoredPath(const CheckpointMetadata& metadata,
                              const std::string& metadata_dir,
                              const StoredFile& file);

// The task record for a backend's snapshot whose files were stored as
// `stored` (UploadResult::files, in the snapshot's file order).
TaskSnapshotMetadata MakeTaskSnapshot(int vertex_index, int subtask_index,
                                      std::vector<OperatorId> operator_ids,
                                      const BackendSnapshot& snapshot,
                                      std::vector<StoredFile> stored);

// The backend's view of a stored task snapshot, for restore: every file's
// local_path is where it lives in the storage (ResolveStoredPath).
// `metadata_dir` is the directory holding the `_metadata` file.
BackendSnapshot ToBackendSnapshot(const CheckpointMetadata& metadata,
                                  const std::string& metadata_dir,
                                  const TaskSnapshotMetadata& task);

// N of a "chk-N" directory name; nullopt for any other name.
std::optional<uint64_t> ParseCheckpointDirName(std::string_view name);

// True for a path that Encode accepts: relative, at most kMaxPathBytes,
// every component a plain file name (no "."/".." or empty components).
bool IsValidStoredPath(std::string_view path);

// True for an absolute path without "."/".."/empty components or a
// trailing slash, at most kMaxPathBytes: a shared root or savepoint
// directory as stored.
bool IsValidStorageRoot(std::string_view path);

}  // namespace weir::engine
