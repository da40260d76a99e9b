// SPDX-License-Identifier: Apache-2.0
//
// Job::Impl: what a Job (weir/job.h) holds: its plan, its tasks and
// channels, its checkpoint coordinator, and its status. Private to the
// engine (and to tests through tests/testutil/job_test_peer.h).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "backends/backend_factory.h"
#include "engine/checkpoint/coordinator.h"
#include "engine/checkpoint/restore.h"
#include "engine/checkpoint/restore_plan.h"
#include "engine/plan.h"
#include "engine/restore_progress.h"
#include "engine/snapshot_observer.h"
#include "engine/task.h"
#include "lib/file.h"
#include "weir/job.h"
#include "weir/stream.h"

namespace weir {

struct Job::Impl {
  JobId id;
  std::shared_ptr<const detail::GraphDef> graph;
  engine::Plan plan;
  JobOptions options;
  // Opens and restores the tasks' backends (options.backend).
  std::unique_ptr<const BackendFactory> backends;
  // RocksDB working directories and local snapshot files; empty for a
  // memory-backend job without checkpoints.
  std::string work_dir;
  // What the tasks start from; null for a fresh start.
  std::shared_ptr<const engine::RestoreSource> restore;
  // What each task restores from `restore` (set with it).
  std::shared_ptr<const engine::RestorePlan> restore_plan;
  // How far the last restore from `restore` has come (JobInfo::restore).
  engine::RestoreProgress restore_progress;
  std::unique_ptr<engine::CheckpointCoordinator> coordinator;
  // Called in every task's synchronous snapshot phase in place of the
  // coordinator, which the job then does not have (tests set it through
  // JobTestPeer before Start()).
  std::shared_ptr<engine::SnapshotObserver> observer;
  // Held from Start() on while the job has checkpoint storage: one process
  // at a time runs a job on it.
  std::unique_ptr<FileLock> storage_lock;

  // Guards `tasks` and `channels` against replacement by a restart while
  // the coordinator's hooks use them.
  std::mutex tasks_mu;
  std::vector<std::unique_ptr<engine::VertexCounters>> counters;
  std::vector<std::vector<std::unique_ptr<engine::Task>>> tasks;  // [v][s]
  std::vector<std::unique_ptr<detail::ChannelBase>> channels;

  mutable std::mutex mu;
  std::condition_variable cv;
  JobStatus status = JobStatus::kCreated;
  bool cancel_requested = false;
  // Stopped with a savepoint: the tasks were cancelled, the job finished.
  bool stopped = false;
  Status failure;
  // When `failure` was set, and by which task (empty: a failed restart).
  int64_t failure_ms = 0;
  std::string failure_task;
  // Past failures, oldest first, at most kJobFailuresKept (JobInfo).
  std::deque<JobFailure> failures;
  int running = 0;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  int restarts = 0;
  bool restarting = false;  // between a failure and the restarted tasks
  std::thread restarter;

  // Plans the restore from `restore` into `restore_plan`; the restore's
  // error if it cannot proceed.
  Status PlanRestore();
  // Creates and wires the tasks (WireTasks), counting the restore's
  // progress when there is one.
  Status Wire();
  Status WireTasks();
  Status Wire(engine::Task* task, int vertex, int subtask);
  // FailedPrecondition unless the job is RUNNING.
  Status CheckRunning() const;
  // Injects barrier `checkpoint_id` at every source that is still running:
  // each source snapshots between two polls (so its offset is exact) and
  // sends the barrier on; every task snapshots once the barrier has come on
  // all its inputs, calling `observer` (or the coordinator). Ids must grow.
  // FailedPrecondition unless running.
  Status InjectBarrier(int64_t checkpoint_id);
  Status LockStorage();
  Status CreateCoordinator();
  void StartTasks();
  void OnTaskExit(const Status& s, bool cancelled, const std::string& task);
  // Appends the current `failure` to `failures`. REQUIRES: mu held.
  void RecordFailureLocked();
  void OnSavepointEnded(int64_t id, SavepointOptions::Then then,
                        bool completed);
  void Restart();
  void Finalize();
  void CancelAll();
};

}  // namespace weir
