// SPDX-License-Identifier: Apache-2.0
//
// The one place where a restore decides what to do with a checkpoint's
// state: which operators take state, which start empty or are dropped,
// whether the restore may proceed, and which old tasks' snapshots each new
// task restores from. The real restore (engine/job.cc) follows the plan;
// Job::CheckRestore reports it (weir/restore_check.h). Only `_metadata` is
// read.
#pragma once

#include <cstddef>
#include <vector>

#include <weir/job.h>
#include <weir/restore_check.h>
#include <weir/stream.h>

#include "backends/snapshot.h"
#include "engine/checkpoint/restore.h"
#include "engine/plan.h"

namespace weir::engine {

struct RestorePlan {
  // The report; check.problems.empty() means the restore may proceed.
  RestoreCheck check;
  // The first problem as the restore returns it (InvalidArgument), or OK.
  Status status;
  // Per vertex, per subtask: the indices into metadata.tasks of the task
  // snapshots it restores from (as SnapshotsForTask selects them), and
  // whether it is restored as finished.
  std::vector<std::vector<std::vector<size_t>>> sources;
  std::vector<std::vector<bool>> finished;
};

struct RestorePlanOptions {
  bool allow_non_restored_state = false;
  JobOptions::Backend backend = JobOptions::Backend::kMemory;
  bool ready_db_snapshots = true;  // RocksDBOptions::ready_db_snapshots
};

// Plans the restore of the job (`graph`, planned as `plan`) from `source`.
RestorePlan PlanRestore(const RestoreSource& source,
                        const detail::GraphDef& graph, const Plan& plan,
                        const RestorePlanOptions& options);

// The snapshots subtask `subtask` of vertex `vertex` restores from: the
// planned task snapshots, with only the files of the vertex's operators
// (and of no operator: the backend's own).
std::vector<BackendSnapshot> PlannedSnapshots(const RestoreSource& source,
                                              const RestorePlan& restore_plan,
                                              const Plan& plan, int vertex,
                                              int subtask);

}  // namespace weir::engine
