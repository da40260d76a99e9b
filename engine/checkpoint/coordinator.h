// SPDX-License-Identifier: Apache-2.0
//
// CheckpointCoordinator: takes a job's checkpoints (docs/design.md,
// "Snapshots"). One per job, alive across restarts of its tasks.
//
//   trigger     a new id; barrier N injected at every source task (Hooks)
//   sync phase  each task, on its thread, once barrier N is aligned:
//               operator state, then KeyedStateBackend::Snapshot
//               (OnTaskSnapshot): the only pause records see
//   async phase on the coordinator's worker threads: PendingSnapshot::
//               Complete(), SharedFileStore::Upload into shared/ (a
//               canonical savepoint: the snapshot converted into key-group
//               streams, canonical.h, and put into the savepoint)
//   commit      once every task acknowledged: chk-N/_metadata written
//               atomically; only then are the tasks told N is complete
//               (Hooks::notify_complete) and older checkpoints pruned
//
// A checkpoint that fails (a snapshot or upload error, a task failing or
// cancelled, the timeout) is aborted: its partial files are removed and the
// job goes on.
//
// Finished tasks (a bounded source ran out, and everything downstream of it
// whose inputs all ended) take part with their final state (FLIP-147): a
// task that finished before its barrier came is acknowledged as finished,
// with no keyed state and its operators' final list states (OnTaskFinished),
// at trigger time or when it finishes. The rest of the job keeps
// checkpointing; downstream tasks align over the channels still open.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <weir/checkpoint.h>
#include <weir/job_info.h>
#include <weir/result.h>
#include <weir/savepoint.h>

#include "engine/checkpoint/canonical.h"
#include "engine/checkpoint/metadata.h"
#include "engine/checkpoint/shared_store.h"
#include "engine/snapshot_observer.h"

namespace weir::engine {

// One task of the job, as the coordinator knows it.
struct CheckpointTask {
  int vertex = 0;
  int subtask = 0;
  std::vector<OperatorId> operator_ids;  // the chain
  // What a finished task's record in `_metadata` says it owned.
  KeyGroupRange key_group_range;
  int max_parallelism = 0;
};

class CheckpointCoordinator final : public SnapshotObserver {
 public:
  struct Hooks {
    // Injects barrier `id` at every source task. With `stop_sources` (stop
    // with savepoint) the sources poll no more after it, until
    // savepoint_ended; with `drain` they first emit the maximum watermark.
    std::function<void(int64_t id, bool stop_sources, bool drain)> trigger;
    // Tells every task that checkpoint `id` is complete.
    std::function<void(int64_t id)> notify_complete;
    // A savepoint whose `then` is not kContinue ended, completed or not:
    // the job stops, cancels, or lets its sources go on.
    std::function<void(int64_t id, SavepointOptions::Then then, bool completed)>
        savepoint_ended;
  };

  struct Config {
    CheckpointOptions options;
    JobId job_id;
    std::string job_name;
    std::vector<OperatorMetadata> operators;
    std::vector<CheckpointTask> tasks;
    // Where tasks' snapshot files are put before upload (a directory on
    // the file system of the RocksDB state, so that hard links work).
    std::string local_dir;
    // The first checkpoint id is above this (a restored checkpoint's id)
    // and above every checkpoint already in the job's directory.
    int64_t last_id = 0;
    // How a canonical savepoint converts a RocksDB task's snapshot.
    CanonicalConversion canonical;
    // The backend's snapshot format, which finished tasks' records (no
    // files) are marked with.
    SnapshotFormat format = SnapshotFormat::kRocksDBSst;
    // A savepoint the job restored from in claim mode (JobOptions::
    // ClaimMode): disposed of (DisposeSavepoint) once the first checkpoint
    // is complete, which holds all the state in the job's own storage.
    // Empty: none.
    std::string claimed_savepoint;
  };

  // Opens <options.dir>/<job id>/ (rebuilding its file tracking, sweeping
  // files a crash left behind). IOError/Corruption from the storage. With
  // no options.dir there is no checkpoint storage: only (self-contained)
  // savepoints can be taken.
  static Result<std::unique_ptr<CheckpointCoordinator>> Create(Config config,
                                                               Hooks hooks);
  ~CheckpointCoordinator() override;  // Stop()

  // Starts periodic checkpoints (if an interval is set) and the timeout
  // watch. Tasks must be running.
  void Start();
  // Aborts pending checkpoints, waits for one whose metadata is being
  // committed, and stops every thread. Idempotent. The caller must not hold
  // a lock that Hooks::notify_complete takes.
  void Stop();

  // Tasks are being replaced (a restart): pending checkpoints are aborted
  // (one being committed is waited for) and none starts until Resume().
  // Same locking rule as Stop().
  void Suspend();
  void Resume();

  // A task failed or was cancelled: pending checkpoints are aborted and no
  // new one starts until Resume(). (A task that finished reports it through
  // OnTaskFinished, and checkpoints go on.)
  void OnTaskEnded();

  // Starts a checkpoint now, waiting (up to the checkpoint timeout) while
  // max_concurrent are in progress. Returns its id. FailedPrecondition when
  // checkpoints cannot be taken (a task failed or was cancelled, every task
  // has finished, the coordinator is stopped); DeadlineExceeded when the one in
  // progress does not end in time.
  Result<int64_t> Trigger(bool full);
  // Starts a savepoint (weir/savepoint.h) like Trigger() a checkpoint.
  // InvalidArgument when there is no target directory; IOError when it
  // cannot be created.
  Result<int64_t> TriggerSavepoint(const SavepointOptions& options);
  // Disposes the savepoint at `path` through this job's checkpoint storage
  // when it references it (so that no file a checkpoint in progress takes
  // up is deleted), else as weir::DisposeSavepoint.
  Status DisposeSavepoint(const std::string& path);

  // Waits until checkpoint `id` is completed or failed, at most `timeout`.
  // Its stats when completed; the failure when it failed;
  // DeadlineExceeded on timeout; NotFound for an id never triggered.
  Result<CheckpointStats> Wait(int64_t id, std::chrono::milliseconds timeout);

  // The `_metadata` path of the newest completed checkpoint; empty if none.
  std::string LatestCompletedPath() const;
  CheckpointsInfo Info() const;
  void SetRestored(const std::string& path, int64_t id);
  void CountRestart();

  // SnapshotObserver: the synchronous phase of task (vertex, subtask).
  // Never fails the task: a snapshot error aborts the checkpoint.
  Status OnTaskSnapshot(int64_t checkpoint_id, int vertex, int subtask,
                        KeyedStateBackend& backend) override;
  // SnapshotObserver: task (vertex, subtask) finished. Pending checkpoints
  // whose barrier it did not take are acknowledged for it as finished, and
  // so is every later one.
  void OnTaskFinished(int vertex, int subtask,
                      KeyedStateBackend& backend) override;

  // The options the coordinator opens its SharedFileStore with (benchmarks
  // that replay its steps use them too).
  static SharedFileStore::Options StoreOptions();

 private:
  struct Pending {
    CheckpointStats stats;
    std::chrono::steady_clock::time_point deadline;
    std::vector<bool> acked;                  // per task
    std::vector<bool> snapshotting;           // per task: its sync phase ran
    std::vector<TaskSnapshotMetadata> tasks;  // per task
    bool committing = false;  // writing `_metadata`: no abort now
    // Savepoints: where, and what then.
    bool savepoint = false;
    SavepointOptions savepoint_options;
    std::string savepoint_dir;
  };
  // Where a task's files go in the asynchronous phase.
  struct Destination {
    bool savepoint = false;
    bool self_contained = false;  // into savepoint_dir, not shared/
    bool canonical = false;       // as key-group streams (canonical.h)
    std::string savepoint_dir;
  };

  CheckpointCoordinator(Config config, Hooks hooks,
                        std::unique_ptr<SharedFileStore> store);

  void RunTimer();
  void RunWorker();
  // REQUIRES: mu_ held.
  bool CanTrigger(std::string* why) const;
  // Waits while max_concurrent checkpoints are pending (up to the timeout).
  Status WaitForTriggerLocked(std::unique_lock<std::mutex>& lock);
  int64_t StartCheckpoint(bool full, bool periodic,
                          std::unique_lock<std::mutex>& lock,
                          const Pending* savepoint = nullptr);
  void AbortLocked(int64_t id, const std::string& why);
  // Aborts every pending checkpoint that is not committing.
  void AbortAllLocked(const std::string& why);
  void FinishLocked(Pending& p);  // into history_
  // Async phase of one task's snapshot.
  void CompleteTaskSnapshot(int64_t id, int task, bool full, Destination to,
                            std::shared_ptr<PendingSnapshot> pending,
                            std::string local_dir,
                            std::vector<OperatorStateMetadata> op_states);
  // Links or copies a self-contained savepoint's files into its directory.
  Result<UploadResult> CopyIntoSavepoint(const CheckpointTask& task,
                                         const Destination& to,
                                         const BackendSnapshot& snap);
  // Acknowledges task `task` of checkpoint `id` as finished, unless it
  // took the checkpoint itself; schedules the commit once every task has
  // acknowledged. REQUIRES: mu_ held.
  void AckFinishedLocked(int64_t id, Pending& p, size_t task);
  void Commit(int64_t id);
  // What a stop or cancel with savepoint does once it ended. REQUIRES: mu_
  // not held.
  void EndSavepoint(int64_t id, SavepointOptions::Then then, bool completed);
  int TaskIndex(int vertex, int subtask) const;

  const Config config_;
  const Hooks hooks_;
  std::unique_ptr<SharedFileStore> store_;  // null: no checkpoint storage
  // Set once config_.claimed_savepoint was disposed of (or tried).
  std::atomic<bool> claim_done_{false};

  mutable std::mutex mu_;
  std::condition_variable cv_;  // state changes: triggers, completions
  bool stopped_ = false;
  bool started_ = false;
  bool suspended_ = false;
  bool task_ended_ = false;
  // Per task: its record once it finished (no files, its final operator
  // states); cleared by Resume().
  std::vector<std::optional<TaskSnapshotMetadata>> finished_;
  size_t finished_count_ = 0;
  int64_t next_id_ = 1;
  std::chrono::steady_clock::time_point last_trigger_{};
  std::chrono::steady_clock::time_point last_end_{};
  std::map<int64_t, Pending> pending_;
  std::deque<CheckpointStats> history_;       // ended checkpoints, oldest first
  std::map<int64_t, CheckpointStats> ended_;  // for Wait(); last 64
  int64_t completed_ = 0;
  int64_t failed_ = 0;
  int64_t restarts_ = 0;
  std::string latest_path_;
  std::string restored_from_;
  int64_t restored_id_ = 0;

  std::mt19937_64 rng_{std::random_device{}()};  // savepoint names; mu_

  std::deque<std::function<void()>> work_;  // async phases, guarded by mu_
  std::condition_variable work_cv_;
  std::vector<std::thread> workers_;
  std::thread timer_;
};

}  // namespace weir::engine
