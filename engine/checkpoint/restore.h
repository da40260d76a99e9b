// SPDX-License-Identifier: Apache-2.0
//
// Restoring a job from a checkpoint (or savepoint): finding it, checking
// that the job can take its state, and handing each task the snapshots
// that hold the state of its operators and key groups.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include <weir/key_group.h>
#include <weir/operator_id.h>
#include <weir/result.h>

#include "backends/snapshot.h"
#include "engine/checkpoint/metadata.h"

namespace weir::engine {

struct RestoreSource {
  CheckpointMetadata metadata;
  std::string metadata_path;  // the `_metadata` file
  std::string metadata_dir;   // the chk-N (or savepoint) directory
};

// Reads the checkpoint at `path`: a chk-N or savepoint directory, or its
// `_metadata` file. NotFound names the missing file; Corruption a file
// that is truncated, foreign or damaged.
Result<RestoreSource> LoadRestoreSource(const std::string& path);

// The `_metadata` of the newest complete checkpoint under `job_root`
// (<checkpoints-dir>/<job id>): the highest chk-N whose `_metadata` reads.
// NotFound if there is none.
Result<std::string> FindLatestCheckpoint(const std::string& job_root);

// The `_metadata` of the newest complete checkpoint (by completion time)
// of any job named `job_name` under `checkpoints_dir`. NotFound if none.
Result<std::string> FindLatestCheckpointOfJob(
    const std::string& checkpoints_dir, const std::string& job_name);

// The operators `task` holds keyed state (files) of.
std::set<OperatorId> OperatorsWithState(const TaskSnapshotMetadata& task);

// Every reason the job cannot take the state, in the order CheckRestorable
// meets them (its error is the first); empty if it can.
std::vector<Status> RestoreProblems(
    const RestoreSource& source, const std::vector<OperatorId>& job_operators,
    int max_parallelism, bool allow_non_restored_state);

// InvalidArgument unless the job can take the state: the max parallelism
// is the same, and every operator that has state in the checkpoint is an
// operator of the job (named by uid when it has one).
// With `allow_non_restored_state` such state is skipped instead.
Status CheckRestorable(const RestoreSource& source,
                       const std::vector<OperatorId>& job_operators,
                       int max_parallelism,
                       bool allow_non_restored_state = false);

// True when `op` was fully finished at the checkpoint: every subtask of it
// had finished (OperatorMetadata::fully_finished). A restore does not run
// it again.
bool FullyFinished(const RestoreSource& source, const OperatorId& op);

// The snapshots a task with operators `operators` and key groups `range`
// restores from: every task snapshot of the checkpoint that holds state of
// one of the operators and key groups that overlap `range`, with only the
// files of those operators (and of no operator: the backend's own).
// Finished tasks' records hold no files and are not listed.
std::vector<BackendSnapshot> SnapshotsForTask(
    const RestoreSource& source, const std::vector<OperatorId>& operators,
    KeyGroupRange range);

// The indices into metadata.tasks of the snapshots SnapshotsForTask
// returns, in the same order.
std::vector<size_t> SourceTasksFor(const RestoreSource& source,
                                   const std::vector<OperatorId>& operators,
                                   KeyGroupRange range);

// Task snapshot `task` of the checkpoint as SnapshotsForTask returns it:
// with only the files of `operators` and of no operator.
BackendSnapshot SnapshotOfTask(const RestoreSource& source, size_t task,
                               const std::vector<OperatorId>& operators);

// The kSplit operator list states of `operators`, which now run at
// `parallelism`, as subtask `subtask` must see them on restore, for each
// operator whose parallelism changed (Flink's even split): per (operator,
// name), the entries of all tasks of the checkpoint in (vertex, subtask)
// order, cut into `parallelism` contiguous runs whose sizes differ by at
// most one (the first n % parallelism runs are the longer ones); this
// subtask's run, possibly empty. An operator whose parallelism is unchanged
// is not listed: each of its subtasks keeps its own lists.
std::vector<OperatorStateMetadata> SplitOperatorStatesForSubtask(
    const RestoreSource& source, const std::vector<OperatorId>& operators,
    int parallelism, int subtask);

// The kSplit operator list states that finished subtask `subtask` of
// `operators` kept, for each operator whose parallelism is unchanged: a
// finished task has no files, so its lists come from `_metadata` (a running
// task's come from its files, through the backend). Operators whose
// parallelism changed get theirs from SplitOperatorStatesForSubtask.
std::vector<OperatorStateMetadata> FinishedSplitOperatorStatesForSubtask(
    const RestoreSource& source, const std::vector<OperatorId>& operators,
    int parallelism, int subtask);

// The final list states of the fully finished `operators` for subtask
// `subtask` of `parallelism`, which is restored as finished and keeps them
// for later checkpoints without running: the old subtask's own lists when
// the parallelism is unchanged; otherwise kSplit lists split evenly (as
// SplitOperatorStatesForSubtask) and kUnion lists whole in subtask 0, so
// that the concatenation over the subtasks, which a restore reads, stays
// the same.
std::vector<OperatorStateMetadata> FinalOperatorStatesForSubtask(
    const RestoreSource& source, const std::vector<OperatorId>& operators,
    int parallelism, int subtask);

// The kUnion operator list states of `operators` as every subtask must see
// them on restore: per (operator, name), the entries of all tasks of the
// checkpoint, in (vertex, subtask) order. Empty for a checkpoint written
// before `_metadata` kept operator states.
std::vector<OperatorStateMetadata> UnionOperatorStates(
    const RestoreSource& source, const std::vector<OperatorId>& operators);

}  // namespace weir::engine
