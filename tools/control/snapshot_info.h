// SPDX-License-Identifier: Apache-2.0
//
// `weir savepoint info [--json] [--verify] PATH` and `weir checkpoint info
// ...`: what a savepoint or checkpoint holds, read from its `_metadata`
// (docs/checkpoint-format.md), for a human or, with --json, a program:
//
//   Checkpoint 3 of job 9330866def2496d5d6b2f9e9d3d879ff (sums)
//     kind:             checkpoint
//     ...
//   Operator count (uid: count)
//     operator id:      4f2a...
//     state size:       1290240 bytes (1.2 MiB)
//     subtask 0: key groups 0-63, 3 files, 640.0 KiB
//
// and whether every file it references is there with the recorded size
// (and, with --verify, the recorded XXH3-64 checksum).
//
// State is attributed to operators by the files' column family (RocksDB:
// the operator id in hex) or operator id (key-group streams). Files that
// hold no single operator's state (RocksDB's `default` column family: the
// state descriptors and operator list states of the whole chain) are
// attributed to their task, "shared by the task's operators".
//
// The functions below are pure except LoadSnapshotInfo, VerifySnapshotFiles
// and SnapshotInfoCommand, which read files. Nothing throws.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <weir/key_group.h>
#include <weir/operator_id.h>
#include <weir/result.h>

#include "engine/checkpoint/metadata.h"

namespace weir::tools {

// One subtask of an operator: the task that runs it and what of the
// operator's state that task holds.
struct SubtaskStateInfo {
  int subtask_index = 0;
  int vertex_index = 0;
  KeyGroupRange key_groups;
  int files = 0;
  uint64_t bytes = 0;
};

struct OperatorStateInfo {
  OperatorId id;
  std::string uid;  // empty: generated from the operator's place in the graph
  std::string name;
  int parallelism = 0;
  int max_parallelism = 0;
  uint64_t state_size = 0;  // bytes, the sum over its files
  int files = 0;
  std::vector<SubtaskStateInfo> subtasks;  // by subtask index
};

// The files of one task that no single operator's state is in (see above).
struct TaskSharedStateInfo {
  int vertex_index = 0;
  int subtask_index = 0;
  std::vector<OperatorId> operator_ids;  // the task's chain
  std::vector<std::string> operator_names;
  int files = 0;
  uint64_t bytes = 0;
};

// One referenced file, where it resolves, and whose state it holds.
struct ReferencedFile {
  std::string path;  // resolved (ResolveStoredPath)
  std::string name;  // the file's name in the snapshot
  uint64_t size = 0;
  uint64_t checksum = 0;
  std::string owner;  // "operator 'count' subtask 1" or "task ... subtask 0"
};

struct SnapshotInfo {
  std::string metadata_path;  // absolute
  uint64_t metadata_size = 0;
  engine::CheckpointMetadata metadata;  // operators and tasks as read
  // Where `shared/...` paths resolve: metadata.shared_root if set, else the
  // parent of the directory holding `_metadata`.
  std::string shared_root_resolved;
  // The tasks' state file formats, e.g. "rocksdb-sst" or
  // "key-group-streams" (several, comma-separated, if they differ).
  std::string backend_format;
  uint64_t state_size = 0;  // bytes, every file reference counted
  int files = 0;
  std::vector<OperatorStateInfo> operators;      // in the metadata's order
  std::vector<TaskSharedStateInfo> task_shared;  // tasks with such files
  std::vector<ReferencedFile> referenced;        // distinct resolved paths
  // Of `referenced`, the files outside the directory that holds
  // `_metadata` (a native savepoint's in its job's shared/ folder, a
  // checkpoint's in its storage), and the folders that hold them: what
  // the snapshot depends on that moving or deleting its directory alone
  // does not take along.
  int external_files = 0;
  uint64_t external_bytes = 0;
  std::vector<std::string> external_dirs;  // sorted, distinct
};

// What a verification found wrong with one file.
struct FileProblem {
  enum class Kind : uint8_t { kMissing, kDamaged };
  Kind kind = Kind::kMissing;
  std::string path;
  std::string message;  // the whole error line's text, without "weir: error:"
};

struct VerifyResult {
  bool checksums = false;  // whether checksums were computed
  int files_checked = 0;
  uint64_t bytes_checked = 0;
  std::vector<FileProblem> problems;
};

// The info of `metadata`, read from `metadata_path` (an absolute path to
// the `_metadata` file, of `metadata_size` bytes). Pure: touches no file.
SnapshotInfo BuildSnapshotInfo(const engine::CheckpointMetadata& metadata,
                               const std::string& metadata_path,
                               uint64_t metadata_size);

// Reads the `_metadata` of `path` (a chk-N or savepoint directory, or the
// file itself) and builds its info. NotFound if `path` does not exist or is
// a directory without `_metadata`; Corruption/NotSupported (from
// DecodeMetadata) for a file that is not a readable `_metadata`; IOError.
// Every message names the path.
Result<SnapshotInfo> LoadSnapshotInfo(const std::string& path);

// Checks that every referenced file is a regular file with the recorded
// size and, if `checksums`, the recorded XXH3-64.
VerifyResult VerifySnapshotFiles(const SnapshotInfo& info, bool checksums);

// "12.3 MiB" (binary units, one decimal; "512 B" below 1 KiB).
std::string HumanBytes(uint64_t bytes);
// "2026-11-24T05:12:56.123Z": UTC, ISO 8601, milliseconds.
std::string IsoTimeUtc(int64_t ms_since_epoch);

// The text for a human, ending in a newline; `verify` (may be null) adds a
// summary line of the verification.
std::string FormatSnapshotInfoText(const SnapshotInfo& info,
                                   const VerifyResult* verify);
// The same as one JSON object, keys in the order of the text (docs/cli.md
// lists the fields).
nlohmann::ordered_json SnapshotInfoToJson(const SnapshotInfo& info,
                                          const VerifyResult* verify);

// The command: prints the info on stdout, then one ERROR line (tools/log/log.h)
// per missing or damaged file on stderr. Returns the exit code: 0, or 1 if
// a file is missing or damaged, or (with one error line and nothing on
// stdout) if `path` holds no readable `_metadata`.
int SnapshotInfoCommand(const std::string& path, bool json, bool verify);

}  // namespace weir::tools
