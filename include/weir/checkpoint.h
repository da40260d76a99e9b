// SPDX-License-Identifier: Apache-2.0
//
// Checkpointing a job: where checkpoints go, how often they are taken, how
// a failed job restarts, and what a job reports about its checkpoints.
// The keys of the `weir` binary's configuration map onto these fields with
// Flink's names (docs/configuration.md); the storage layout is in
// docs/checkpoint-format.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace weir {

struct CheckpointOptions {
  // The checkpoint directory (`execution.checkpointing.dir`); a job's
  // checkpoints go under <dir>/<job id>/. Empty: checkpointing is off.
  std::string dir;
  // Periodic checkpoints every `interval_ms` (measured between triggers);
  // 0: only on demand (Job::TriggerCheckpoint). Default: 0.
  int64_t interval_ms = 0;
  // A checkpoint not complete after this long is aborted. Default: 10 min.
  int64_t timeout_ms = 10 * 60 * 1000;
  // The least time between the end of one checkpoint and the trigger of
  // the next periodic one. Default: 0.
  int64_t min_pause_ms = 0;
  // Checkpoints in progress at once; a periodic trigger waits while this
  // many are pending. Default: 1.
  int max_concurrent = 1;
  // Completed checkpoints kept; older ones are deleted once a newer one is
  // complete (`execution.checkpointing.num-retained`). Default: 1.
  int num_retained = 1;
  // Reference SST files already in shared/ instead of uploading them again.
  // Off: every checkpoint uploads all its files. Default: true.
  bool incremental = true;
  // Where savepoints go when the trigger names no directory
  // (`execution.checkpointing.savepoint-dir`, alias `state.savepoints.dir`).
  // Default: empty, meaning every savepoint must name its directory.
  std::string savepoint_dir;
};

// What a failure inside the process does (Flink's fixed-delay restart
// strategy): the job restarts from its latest completed checkpoint (or from
// the beginning if there is none) up to `attempts` times, `delay_ms` after
// each failure. Default: no restarts.
struct RestartOptions {
  int attempts = 0;
  int64_t delay_ms = 1000;
};

enum class CheckpointState : uint8_t { kInProgress, kCompleted, kFailed };

// One checkpoint, as the job saw it.
struct CheckpointStats {
  int64_t id = 0;
  CheckpointState state = CheckpointState::kInProgress;
  bool full = false;            // uploaded every file anew
  bool periodic = false;        // triggered by the interval, not on demand
  int64_t trigger_time_ms = 0;  // ms since the Unix epoch
  int64_t end_time_ms = 0;      // completion or failure; 0 while running
  // Over the tasks: the longest synchronous phase (the pause records saw),
  // and the longest asynchronous phase (snapshot files, upload), in µs.
  int64_t sync_max_us = 0;
  int64_t async_max_us = 0;
  int tasks_acknowledged = 0;
  int tasks_total = 0;
  uint64_t bytes_uploaded = 0;    // new in shared/ for this checkpoint
  uint64_t bytes_referenced = 0;  // already in shared/
  int files = 0;                  // files the checkpoint consists of
  uint64_t state_size = 0;        // bytes of all its files
  uint64_t metadata_size = 0;     // bytes of its `_metadata`
  std::string path;               // the chk-N directory; set once completed
  std::string failure;            // why it failed; empty otherwise
  // A savepoint (Job::TriggerSavepoint): `path` is its directory. Savepoints
  // are never pruned and never restored by a restart.
  bool savepoint = false;
  // A savepoint in the canonical format (SavepointFormatType::kCanonical,
  // weir/savepoint.h); false for native savepoints and checkpoints.
  bool canonical = false;
};

struct CheckpointsInfo {
  bool enabled = false;
  std::string directory;  // <dir>/<job id>
  int64_t completed = 0;
  int64_t failed = 0;
  int64_t in_progress = 0;
  int64_t restarts = 0;  // restarts after failures
  // The checkpoint this run restored from (`_metadata` path); empty if none.
  std::string restored_from;
  int64_t restored_id = 0;
  // The newest checkpoints, oldest first (at most 10 are kept).
  std::vector<CheckpointStats> history;
};

}  // namespace weir
