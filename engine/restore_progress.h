// SPDX-License-Identifier: Apache-2.0
//
// RestoreProgress: how far a job's restore has come, for JobInfo::restore
// (GET /jobs/:jobid, the progress lines of `weir run -s`). The job sets
// the totals from its restore plan when it starts wiring tasks, and counts
// each task's files and bytes once its state backend is restored.
//
// Thread safety: Begin, TaskDone and End are called by the one thread that
// wires the tasks; Get from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include <weir/job_info.h>

#include "engine/checkpoint/restore_plan.h"

namespace weir::engine {

class RestoreProgress {
 public:
  // A restore from `path` following `plan` starts now (wall clock, ms).
  void Begin(const std::string& path, const RestorePlan& plan, int64_t now_ms);
  // A task's backend holds its state: `files` files, `bytes` bytes.
  void TaskDone(uint64_t files, uint64_t bytes);
  // The restore ended, failed unless `ok`.
  void End(bool ok, int64_t now_ms);
  // The progress as of `now_ms`, with the estimate of the time left.
  RestoreInfo Get(int64_t now_ms) const;

 private:
  mutable std::mutex mu_;  // guards info_ but its counters of done work
  RestoreInfo info_;
  int64_t estimated_ms_ = 0;  // the plan's, for the whole restore
  // Bumped per task without mu_: cheap for the wiring thread.
  std::atomic<int> tasks_done_{0};
  std::atomic<uint64_t> files_done_{0};
  std::atomic<uint64_t> bytes_done_{0};
};

}  // namespace weir::engine
