// SPDX-License-Identifier: Apache-2.0
//
// What restoring a job from a checkpoint or savepoint would do, found
// without doing it (Job::CheckRestore, `weir run --dry-run -s PATH`): only
// the `_metadata` is read; no task, thread or state backend is started and
// no state file is opened. The decisions are those of the real restore,
// made by the same code, so that a restore after an OK check does what the
// check said.
//
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <weir/key_group.h>

namespace weir {

struct RestoreCheckOptions {
  // As JobOptions::allow_non_restored_state: state of operators the job
  // does not have is skipped instead of failing the restore.
  // Default: false.
  bool allow_non_restored_state = false;
};

struct RestoreCheck {
  // What happens to an operator of the snapshot or of the job.
  enum class Fate : uint8_t {
    // Its state in the snapshot is handed to the job's operator.
    kRestored,
    // Every subtask had finished at the snapshot: it is not run again and
    // keeps its final state.
    kFinished,
    // An operator of the job that has no state in the snapshot.
    kStartsEmpty,
    // An operator of the snapshot that the job lacks: its state is not
    // restored (allowed: only operator list state, or
    // allow_non_restored_state).
    kDropped,
    // As kDropped, but it holds keyed state and non-restored state is not
    // allowed: the restore fails (`problems` says so).
    kNeedsAllowNonRestored,
    // An operator of the snapshot without state that the job lacks.
    kGone,
  };

  // How a task's backend gets its state.
  enum class Method : uint8_t {
    kNone,     // no state to restore: opened empty, or finished
    kLink,     // RocksDB: hard links of a ready-made DB and DB::Open
    kImport,   // RocksDB: SST files linked and imported per operator
    kRewrite,  // RocksDB: several old tasks merged, entries rewritten
    kRead,     // entries read and decoded (memory backend, canonical files)
  };

  struct Operator {
    std::string id;    // 32 hex digits
    std::string uid;   // empty when it has none
    std::string name;  // of the job's operator, else of the snapshot's
    bool in_snapshot = false;
    bool in_job = false;
    // Keyed state files (key groups) of it in the snapshot.
    bool keyed_state = false;
    // Operator list state of it in the snapshot (a source's offsets).
    bool list_state = false;
    int old_parallelism = 0;  // 0 when not in the snapshot
    int new_parallelism = 0;  // 0 when not in the job
    Fate fate = Fate::kStartsEmpty;
    // Bytes of its files in the snapshot.
    uint64_t bytes = 0;
    // For a kStartsEmpty keyed operator of the job: the id of an orphaned
    // snapshot operator (kDropped or kNeedsAllowNonRestored, with keyed
    // state) whose state it could adopt with a `uid-hash: <id>` line
    // (JobBuilder's SetUidHash); empty if none fits. Only the shape is
    // compared (keyed state on both sides, one candidate each, or equal
    // names), not the states' names and types, which `_metadata` does not
    // hold: check the adopted state before relying on it.
    std::string suggested_uid_hash;
  };

  // Key groups that a new task takes from one old task.
  struct Source {
    int old_vertex = 0;
    int old_subtask = 0;
    KeyGroupRange old_key_groups;  // what the old task owned
    KeyGroupRange key_groups;      // the part of it the new task takes
    uint64_t bytes = 0;            // of the files the new task restores
  };

  struct Task {
    std::string vertex;  // the chain's name
    int subtask = 0;
    int parallelism = 0;
    KeyGroupRange key_groups;
    bool finished = false;  // restored as finished, runs nothing
    std::vector<Source> sources;
    Method method = Method::kNone;
    uint64_t files = 0;  // of its sources
    uint64_t bytes = 0;
  };

  std::string metadata_path;  // the `_metadata` file read
  bool savepoint = false;     // else a checkpoint
  bool canonical = false;     // a canonical savepoint
  // The max parallelism of the snapshot's state (0 if it has no task) and
  // of the job; they must be equal.
  int snapshot_max_parallelism = 0;
  int job_max_parallelism = 0;
  // The snapshot's operators, then the job's new ones.
  std::vector<Operator> operators;
  // Every task of the job; empty when the max parallelism differs.
  std::vector<Task> tasks;
  // Bytes hard-linked (kLink, kImport) and rewritten or read (kRewrite,
  // kRead) by all tasks.
  uint64_t bytes_linked = 0;
  uint64_t bytes_rewritten = 0;
  // A rough estimate of the restore's duration with a cold page cache, in
  // ms, from the rates savepoint_bench measures (docs/performance.md).
  int64_t estimated_ms = 0;
  // Why the restore would fail, the first being the error it would return;
  // empty when it would succeed as is.
  std::vector<std::string> problems;

  bool ok() const { return problems.empty(); }
};

// "restored", "finished", "starts empty", "dropped", "needs -n", "gone".
const char* FateName(RestoreCheck::Fate fate);
// "none", "link", "import", "rewrite", "read".
const char* MethodName(RestoreCheck::Method method);

}  // namespace weir
