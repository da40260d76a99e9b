// SPDX-License-Identifier: Apache-2.0
#include "engine/checkpoint/restore.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <weir/raw_state.h>

namespace weir::engine {

namespace {

// The operators a task snapshot holds keyed state or files of.
std::set<OperatorId> OperatorsWithState(const TaskSnapshotMetadata& task) {
  std::set<OperatorId> ops;
  for (const StoredFile& f : task.files) {
    const std::string& hex = task.format == SnapshotFormat::kRocksDBSst
                                 ? f.column_family
                                 : f.operator_id;
    Result<OperatorId> id = OperatorId::FromHex(hex);
    if (id.ok()) ops.insert(*id);
  }
  return ops;
}

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

Status CheckRestorable(const RestoreSource& source,
                       const std::vector<OperatorId>& job_operators,
                       int max_parallelism, bool allow_non_restored_state) {
  const CheckpointMetadata& m = source.metadata;
  const std::set<OperatorId> job(job_operators.begin(), job_operators.end());
  for (const TaskSnapshotMetadata& t : m.tasks) {
    if (t.max_parallelism != max_parallelism) {
      return Status::InvalidArgument(
          source.metadata_path +
          ": the state was written with max "
          "parallelism " +
          std::to_string(t.max_parallelism) + ", the job has " +
          std::to_string(max_parallelism) +
          "; the max parallelism of a job cannot change");
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
      return Status::InvalidArgument(
          source.metadata_path + ": it holds state of operator " + name +
          ", which the job does not have; to skip that state, allow "
          "non-restored state (weir run -n / --allowNonRestoredState)");
    }
  }
  return Status::OK();
}

Status CheckSplitStatesKeepParallelism(
    const RestoreSource& source, const std::vector<OperatorId>& job_operators,
    const std::vector<int>& parallelism) {
  const CheckpointMetadata& m = source.metadata;
  for (size_t i = 0; i < job_operators.size() && i < parallelism.size(); ++i) {
    const OperatorId& op = job_operators[i];
    auto old =
        std::find_if(m.operators.begin(), m.operators.end(),
                     [&](const OperatorMetadata& om) { return om.id == op; });
    if (old == m.operators.end() || old->parallelism == parallelism[i]) {
      continue;
    }
    for (const TaskSnapshotMetadata& t : m.tasks) {
      for (const OperatorStateMetadata& st : t.operator_states) {
        if (st.operator_id != op ||
            st.mode != static_cast<uint8_t>(OperatorStateMode::kSplit) ||
            st.values.empty()) {
          continue;
        }
        const std::string name = old->uid.empty()
                                     ? "'" + old->name + "' (no uid)"
                                     : "uid '" + old->uid + "'";
        return Status::InvalidArgument(
            source.metadata_path + ": operator " + name +
            " has split-mode list state '" + st.name +
            "' and its parallelism changed from " +
            std::to_string(old->parallelism) + " to " +
            std::to_string(parallelism[i]) +
            "; weir does not redistribute split state yet: keep its "
            "parallelism at " +
            std::to_string(old->parallelism));
      }
    }
  }
  return Status::OK();
}

std::vector<BackendSnapshot> SnapshotsForTask(
    const RestoreSource& source, const std::vector<OperatorId>& operators,
    KeyGroupRange range) {
  std::vector<BackendSnapshot> out;
  const std::set<OperatorId> mine(operators.begin(), operators.end());
  for (const TaskSnapshotMetadata& t : source.metadata.tasks) {
    if (!Overlaps(t.key_group_range, range)) continue;
    bool relevant = false;
    for (const OperatorId& op : t.operator_ids) relevant |= mine.contains(op);
    for (const OperatorId& op : OperatorsWithState(t)) {
      relevant |= mine.contains(op);
    }
    if (!relevant) continue;
    BackendSnapshot snap =
        ToBackendSnapshot(source.metadata, source.metadata_dir, t);
    // State of operators this task does not run (gone from the job, with
    // non-restored state allowed, or chained elsewhere now) stays behind.
    std::erase_if(snap.files, [&](const SnapshotFile& f) {
      const std::string& hex = snap.format == SnapshotFormat::kRocksDBSst
                                   ? f.column_family
                                   : f.operator_id;
      Result<OperatorId> id = OperatorId::FromHex(hex);
      return id.ok() && !mine.contains(*id);
    });
    out.push_back(std::move(snap));
  }
  return out;
}

std::vector<OperatorStateMetadata> UnionOperatorStates(
    const RestoreSource& source, const std::vector<OperatorId>& operators) {
  const std::set<OperatorId> mine(operators.begin(), operators.end());
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
      if (st.mode != static_cast<uint8_t>(OperatorStateMode::kUnion) ||
          !mine.contains(st.operator_id)) {
        continue;
      }
      OperatorStateMetadata& m = merged[{st.operator_id, st.name}];
      m.operator_id = st.operator_id;
      m.name = st.name;
      m.mode = st.mode;
      m.values.insert(m.values.end(), st.values.begin(), st.values.end());
    }
  }
  std::vector<OperatorStateMetadata> out;
  for (auto& [key, st] : merged) out.push_back(std::move(st));
  return out;
}

}  // namespace weir::engine
