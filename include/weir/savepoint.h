// SPDX-License-Identifier: Apache-2.0
//
// Savepoints: snapshots that the user triggers and owns (Flink's model,
// docs/savepoints.md). A savepoint goes through the same barriers and
// two-phase snapshots as a checkpoint, but it is written where the user
// says, never pruned, and never used by a restart; a job starts from it
// with JobOptions::restore_from.
//
//   native (the default)  `_metadata` references the RocksDB files in the
//                         checkpoint storage's shared/ folder: small, fast.
//                         Self-contained when the job has no checkpoint
//                         storage, and always for the memory backend.
//   self-contained        every file is in the savepoint directory (hard
//                         links when on the same file system): the
//                         directory can be moved or copied anywhere.
//   canonical             backend-neutral key-group streams (Flink's
//                         `--type canonical`), always self-contained:
//                         restorable into either backend, at another
//                         parallelism too.
#pragma once

#include <cstdint>
#include <string>

#include <weir/status.h>

namespace weir {

// The format of a savepoint's state files (Flink's SavepointFormatType).
enum class SavepointFormatType : uint8_t {
  // The backend's own files (RocksDB: SST files, which a savepoint may
  // reference in the checkpoint storage's shared/ folder).
  kNative,
  // Backend-neutral key-group streams (SnapshotFormat::kKeyGroupStreams),
  // every file inside the savepoint directory. A RocksDB task's snapshot is
  // converted in the asynchronous phase; the synchronous phase, which
  // pauses the task, is the native one.
  kCanonical,
};

struct SavepointOptions {
  // What the job does once the savepoint is complete.
  enum class Then : uint8_t {
    kContinue,  // keep running (a savepoint in passing)
    kCancel,    // cancel (`weir cancel -s`)
    kStop,      // stop the sources before the barrier, then finish
                // (`weir stop`): no record after the savepoint reaches a
                // sink. If the savepoint fails the sources go on.
  };

  // The savepoint is written to <target_dir>/savepoint-<first 6 hex digits
  // of the job id>-<12 random hex digits>/. Empty: the job's
  // CheckpointOptions::savepoint_dir; with neither, the trigger fails.
  std::string target_dir;
  // Copy (or hard-link) every file into the savepoint directory instead of
  // referencing the checkpoint storage's shared/ folder.
  bool self_contained = false;
  // kCanonical implies self_contained.
  SavepointFormatType format = SavepointFormatType::kNative;
  Then then = Then::kContinue;
  // With kStop: advance event time to the end (the maximum watermark)
  // before the barrier, firing every event-time timer (`weir stop --drain`).
  bool drain = false;
};

// Deletes the savepoint at `path` (its directory, or its file named
// `_metadata`) and nothing else: the `_metadata` first (after which it no
// longer exists), then the files and folders its metadata places in its
// directory, the directory, its registration in its checkpoint storage,
// and the files in that storage's shared/ folder that nothing else
// references (no retained checkpoint, no other savepoint). A copy of a
// native savepoint releases nothing its original still needs.
//
// NotFound if there is nothing at `path`. InvalidArgument, deleting
// nothing, if it is not a savepoint (a checkpoint's chk-N, a file not named
// `_metadata`) or its directory holds anything the savepoint does not name;
// the `_metadata`'s read errors (Corruption, ...), deleting nothing.
//
// When another process runs the job that owns the savepoint's checkpoint
// storage, its shared files are left for that job, which removes them when
// it next starts: prefer asking that job (Job::DisposeSavepoint, or `weir
// savepoint -d`, which does).
Status DisposeSavepoint(const std::string& path);

// Writes a self-contained copy of the savepoint or retained checkpoint at
// `path` (its directory or its `_metadata`) into `target_dir`, which must
// not exist or be empty: every file it references, in its own directory or
// in a checkpoint storage's shared/ folder, is hard-linked (on the same
// file system) or copied to `<target_dir>/<vertex>-<subtask>/`, checked
// against its size and checksum, and a new `_metadata` written last. The
// result is a savepoint with an id of its own that depends on nothing
// outside `target_dir`: it can be moved, and the original, its job and its
// checkpoint storage can be deleted. The input is never changed.
//
// The errors of reading the `_metadata`; NotFound or Corruption naming a
// referenced file that is missing or does not match; InvalidArgument if
// `target_dir` is a file or a non-empty directory. On error, what was
// written is removed.
Status ExportSavepoint(const std::string& path, const std::string& target_dir);

}  // namespace weir
