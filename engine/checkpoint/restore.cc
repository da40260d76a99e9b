// SPDX-License-Identifier: Apache-2.0
#include "engine/checkpoint/restore.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <weir/raw_state.h>

namespace weir::engine {

std::set<OperatorId> OperatorsWithState(const TaskSnapshotMetadata& task) {
  std::set<OperatorId> ops;
  for (const StoredFile& f : task.files) {
    const std::string& hex = task.format == SnapshotFormat::kRocksDBSst
                                 ? f.file.column_family
                                 : f.file.operator_id;
    Result<OperatorId> id = OperatorId::FromHex(hex);
    if (id.ok()) ops.insert(*id);
  }
  return ops;
}

namespace {

bool Overlaps(KeyGroupRange a, KeyGroupRange b) {
  return !a.empty() && !b.empty() && a.start <= b.end && b.start <= a.end;
}

}  // namespace

Result<RestoreSource> LoadRestoreSource(const std::string& path) {
  RestoreSource source;
  source.metadata_path = MetadataFilePath(path);
  Result<CheckpointMetadata> m = ReadMetadataFile(source.metadata_path);
  if (!m.ok()) return m.status();
  source.metadata = std::move(*m);
  source.metadata_dir =
      std::filesystem::path(source.metadata_path).parent_path().string();
  if (source.metadata_dir.empty()) source.metadata_dir = ".";
  return source;
}

Result<std::string> FindLatestCheckpoint(const std::string& job_root) {
  std::error_code ec;
  std::map<uint64_t, std::string> found;
  for (std::filesystem::directory_iterator it(job_root, ec), end;
       !ec && it != end; it.increment(ec)) {
    std::optional<uint64_t> id =
        ParseCheckpointDirName(it->path().filename().string());
    if (id) found[*id] = it->path().string();
  }
  for (auto it = found.rbegin(); it != found.rend(); ++it) {
    const std::string meta = MetadataFilePath(it->second);
    if (ReadMetadataFile(meta).ok()) return meta;
  }
  return Status::NotFound("no complete checkpoint in " + job_root);
}

Result<std::string> FindLatestCheckpointOfJob(
    const std::string& checkpoints_dir, const std::string& job_name) {
  std::error_code ec;
  std::string best;
  int64_t best_time = -1;
  for (std::filesystem::directory_iterator it(checkpoints_dir, ec), end;
       !ec && it != end; it.increment(ec)) {
    if (!it->is_directory()) continue;
    Result<std::string> latest = FindLatestCheckpoint(it->path().string());
    if (!latest.ok()) continue;
    Result<CheckpointMetadata> m = ReadMetadataFile(*latest);
    if (!m.ok() || m->job_name != job_name) continue;
    if (m->completion_time_ms > best_time) {
      best_time = m->completion_time_ms;
      best = *latest;
    }
  }
  if (best.empty()) {
    return Status::NotFound("no complete checkpoint of job '" + job_name +
                            "' in " + checkpoints_dir);
  }
  return best;
}

std::vector<Status> RestoreProblems(
    const RestoreSource& source, const std::vector<OperatorId>& job_operators,
    int max_parallelism, bool allow_non_restored_state) {
  const CheckpointMetadata& m = source.metadata;
  const std::set<OperatorId> job(job_operators.begin(), job_operators.end());
  std::vector<Status> problems;
  std::set<std::string> seen;
  auto add = [&](Status s) {
    if (seen.insert(std::string(s.message())).second) {
      problems.push_back(std::move(s));
    }
  };
  for (const TaskSnapshotMetadata& t : m.tasks) {
    if (t.max_parallelism != max_parallelism) {
      add(Status::InvalidArgument(
          source.metadata_path +
          ": the state was written with max "
          "parallelism " +
          std::to_string(t.max_parallelism) + ", the job has " +
          std::to_string(max_parallelism) +
          "; the max parallelism of a job cannot change"));
    }
    if (allow_non_restored_state) continue;
    for (const OperatorId& op : OperatorsWithState(t)) {
      if (job.contains(op)) continue;
      std::string name = "id " + op.ToHex();
      for (const OperatorMetadata& om : m.operators) {
        if (om.id != op) continue;
        name = om.uid.empty()
                   ? "'" + om.name + "' (no uid, id " + op.ToHex() + ")"
                   : "uid '" + om.uid + "' (id " + op.ToHex() + ")";
      }
      add(Status::InvalidArgument(
          source.metadata_path + ": it holds state of operator " + name +
          ", which the job does not have; to skip that state, allow "
          "non-restored state (weir run -n / --allowNonRestoredState)"));
    }
  }
  return problems;
}

Status CheckRestorable(const RestoreSource& source,
                       const std::vector<OperatorId>& job_operators,
                       int max_parallelism, bool allow_non_restored_state) {
  std::vector<Status> problems = RestoreProblems(
      source, job_operators, max_parallelism, allow_non_restored_state);
  return problems.empty() ? Status::OK() : problems.front();
}

bool FullyFinished(const RestoreSource& source, const OperatorId& op) {
  for (const OperatorMetadata& om : source.metadata.operators) {
    if (om.id == op) return om.fully_finished;
  }
  return false;
}

std::vector<size_t> SourceTasksFor(const RestoreSource& source,
                                   const std::vector<OperatorId>& operators,
                                   KeyGroupRange range) {
  std::vector<size_t> out;
  const std::set<OperatorId> mine(operators.begin(), operators.end());
  const std::vector<TaskSnapshotMetadata>& tasks = source.metadata.tasks;
  for (size_t i = 0; i < tasks.size(); ++i) {
    const TaskSnapshotMetadata& t = tasks[i];
    if (t.finished) continue;  // no files: no keyed state
    if (!Overlaps(t.key_group_range, range)) continue;
    bool relevant = false;
    for (const OperatorId& op : t.operator_ids) relevant |= mine.contains(op);
    for (const OperatorId& op : OperatorsWithState(t)) {
      relevant |= mine.contains(op);
    }
    if (relevant) out.push_back(i);
  }
  return out;
}

BackendSnapshot SnapshotOfTask(const RestoreSource& source, size_t task,
                               const std::vector<OperatorId>& operators) {
  const std::set<OperatorId> mine(operators.begin(), operators.end());
  BackendSnapshot snap = ToBackendSnapshot(source.metadata, source.metadata_dir,
                                           source.metadata.tasks[task]);
  // State of operators this task does not run (gone from the job, with
  // non-restored state allowed, or chained elsewhere now) stays behind.
  std::erase_if(snap.files, [&](const SnapshotFile& f) {
    const std::string& hex = snap.format == SnapshotFormat::kRocksDBSst
                                 ? f.column_family
                                 : f.operator_id;
    Result<OperatorId> id = OperatorId::FromHex(hex);
    return id.ok() && !mine.contains(*id);
  });
  return snap;
}

std::vector<BackendSnapshot> SnapshotsForTask(
    const RestoreSource& source, const std::vector<OperatorId>& operators,
    KeyGroupRange range) {
  std::vector<BackendSnapshot> out;
  for (size_t i : SourceTasksFor(source, operators, range)) {
    out.push_back(SnapshotOfTask(source, i, operators));
  }
  return out;
}

namespace {

// Per (operator, name), the `mode` states of `operators`: the entries of
// all tasks of the checkpoint, in (vertex, subtask) order.
std::map<std::pair<OperatorId, std::string>, OperatorStateMetadata>
MergedOperatorStates(const RestoreSource& source,
                     const std::set<OperatorId>& operators,
                     OperatorStateMode mode) {
  std::vector<const TaskSnapshotMetadata*> tasks;
  for (const TaskSnapshotMetadata& t : source.metadata.tasks) {
    tasks.push_back(&t);
  }
  std::sort(tasks.begin(), tasks.end(), [](const auto* a, const auto* b) {
    return std::pair(a->vertex_index, a->subtask_index) <
           std::pair(b->vertex_index, b->subtask_index);
  });
  std::map<std::pair<OperatorId, std::string>, OperatorStateMetadata> merged;
  for (const TaskSnapshotMetadata* t : tasks) {
    for (const OperatorStateMetadata& st : t->operator_states) {
      if (st.mode != static_cast<uint8_t>(mode) ||
          !operators.contains(st.operator_id)) {
        continue;
      }
      OperatorStateMetadata& m = merged[{st.operator_id, st.name}];
      m.operator_id = st.operator_id;
      m.name = st.name;
      m.mode = st.mode;
      m.values.insert(m.values.end(), st.values.begin(), st.values.end());
    }
  }
  return merged;
}

}  // namespace

std::vector<OperatorStateMetadata> SplitOperatorStatesForSubtask(
    const RestoreSource& source, const std::vector<OperatorId>& operators,
    int parallelism, int subtask) {
  std::set<OperatorId> changed;
  for (const OperatorId& op : operators) {
    for (const OperatorMetadata& om : source.metadata.operators) {
      if (om.id == op && om.parallelism != parallelism) changed.insert(op);
    }
  }
  std::vector<OperatorStateMetadata> out;
  if (changed.empty() || parallelism <= 0 || subtask < 0 ||
      subtask >= parallelism) {
    return out;
  }
  for (auto& [key, st] :
       MergedOperatorStates(source, changed, OperatorStateMode::kSplit)) {
    const size_t n = st.values.size();
    const size_t p = static_cast<size_t>(parallelism);
    const size_t i = static_cast<size_t>(subtask);
    // Runs of n / p, the first n % p of them one longer.
    const size_t begin = i * (n / p) + std::min(i, n % p);
    const size_t length = n / p + (i < n % p ? 1 : 0);
    std::vector<std::string> mine(
        st.values.begin() + static_cast<std::ptrdiff_t>(begin),
        st.values.begin() + static_cast<std::ptrdiff_t>(begin + length));
    st.values = std::move(mine);
    out.push_back(std::move(st));
  }
  return out;
}

namespace {

// The parallelism `op` had at the checkpoint; 0 if it had none there.
int OldParallelism(const RestoreSource& source, const OperatorId& op) {
  for (const OperatorMetadata& om : source.metadata.operators) {
    if (om.id == op) return om.parallelism;
  }
  return 0;
}

// The lists of `op` in the record of its old subtask `subtask`, of
// `mode` (0: any).
std::vector<OperatorStateMetadata> OwnStates(const RestoreSource& source,
                                             const OperatorId& op, int subtask,
                                             bool finished_only, int mode) {
  std::vector<OperatorStateMetadata> out;
  for (const TaskSnapshotMetadata& t : source.metadata.tasks) {
    if (t.subtask_index != subtask || (finished_only && !t.finished) ||
        std::find(t.operator_ids.begin(), t.operator_ids.end(), op) ==
            t.operator_ids.end()) {
      continue;
    }
    for (const OperatorStateMetadata& st : t.operator_states) {
      if (st.operator_id == op && (mode == 0 || st.mode == mode)) {
        out.push_back(st);
      }
    }
  }
  return out;
}

}  // namespace

std::vector<OperatorStateMetadata> FinishedSplitOperatorStatesForSubtask(
    const RestoreSource& source, const std::vector<OperatorId>& operators,
    int parallelism, int subtask) {
  std::vector<OperatorStateMetadata> out;
  for (const OperatorId& op : operators) {
    if (OldParallelism(source, op) != parallelism) continue;
    for (OperatorStateMetadata& st :
         OwnStates(source, op, subtask, /*finished_only=*/true,
                   static_cast<int>(OperatorStateMode::kSplit))) {
      out.push_back(std::move(st));
    }
  }
  return out;
}

std::vector<OperatorStateMetadata> FinalOperatorStatesForSubtask(
    const RestoreSource& source, const std::vector<OperatorId>& operators,
    int parallelism, int subtask) {
  std::vector<OperatorStateMetadata> out;
  std::vector<OperatorId> changed;
  for (const OperatorId& op : operators) {
    if (OldParallelism(source, op) == parallelism) {
      for (OperatorStateMetadata& st :
           OwnStates(source, op, subtask, /*finished_only=*/false, 0)) {
        out.push_back(std::move(st));
      }
    } else {
      changed.push_back(op);
    }
  }
  if (changed.empty()) return out;
  for (OperatorStateMetadata& st :
       SplitOperatorStatesForSubtask(source, changed, parallelism, subtask)) {
    out.push_back(std::move(st));
  }
  if (subtask == 0) {
    for (OperatorStateMetadata& st : UnionOperatorStates(source, changed)) {
      out.push_back(std::move(st));
    }
  }
  return out;
}

std::vector<OperatorStateMetadata> UnionOperatorStates(
    const RestoreSource& source, const std::vector<OperatorId>& operators) {
  const std::set<OperatorId> mine(operators.begin(), operators.end());
  std::vector<OperatorStateMetadata> out;
  for (auto& [key, st] :
       MergedOperatorStates(source, mine, OperatorStateMode::kUnion)) {
    out.push_back(std::move(st));
  }
  return out;
}

}  // namespace weir::engine
