// SPDX-License-Identifier: Apache-2.0
#include "engine/checkpoint/restore_plan.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>

namespace weir::engine {

namespace {

using Fate = RestoreCheck::Fate;
using Method = RestoreCheck::Method;

// Cold-cache rates of savepoint_bench at 4 GiB (docs/performance.md), in
// bytes per ms: a restore from the ready-made DB, by import, and a merge
// of several tasks (scale-in), which rewrites entries. Reading entries into
// the memory backend is taken to cost what a rewrite does.
constexpr double kLinkBytesPerMs = 4294967296.0 / 234;
constexpr double kImportBytesPerMs = 4294967296.0 / 726;
constexpr double kRewriteBytesPerMs = 4e8 / 1000;
constexpr double kPerTaskMs = 1;  // directory, CURRENT, DB::Open

// A finished operator is not run again; its inputs must have finished too
// (a new or unfinished input would feed it records it cannot take).
void FinishedInputProblems(const RestoreSource& source,
                           const detail::GraphDef& graph,
                           const std::vector<OperatorId>& ids,
                           std::vector<Status>* problems) {
  for (const detail::NodeDef& n : graph.nodes) {
    if (!FullyFinished(source, ids[n.index])) continue;
    for (const detail::EdgeDef& e : n.inputs) {
      if (FullyFinished(source, ids[e.source])) continue;
      problems->push_back(Status::InvalidArgument(
          source.metadata_path + ": operator '" + n.name +
          "' had finished there, but its input '" + graph.nodes[e.source].name +
          "' had not (or is new); a finished operator is not run again, so "
          "it cannot take new input"));
    }
  }
}

// Whether a snapshot restores from its ready-made DB (the rule of
// HasWholeReadyDb in backends/rocksdb/rocksdb_ready_db.cc): every file of
// the DB is still there, its MANIFEST included.
bool WholeReadyDb(const BackendSnapshot& snap) {
  if (snap.format != SnapshotFormat::kRocksDBSst || snap.ready_db_files == 0) {
    return false;
  }
  uint32_t n = 0;
  bool manifest = false;
  for (const SnapshotFile& f : snap.files) {
    if (f.db_name.empty()) continue;
    ++n;
    manifest |= f.db_name.rfind("MANIFEST-", 0) == 0;
  }
  return manifest && n == snap.ready_db_files;
}

uint64_t Bytes(const BackendSnapshot& snap) {
  uint64_t n = 0;
  for (const SnapshotFile& f : snap.files) n += f.size;
  return n;
}

KeyGroupRange Intersect(KeyGroupRange a, KeyGroupRange b) {
  return {std::max(a.start, b.start), std::min(a.end, b.end)};
}

// Per operator of the snapshot: the bytes of its files.
std::map<OperatorId, uint64_t> BytesPerOperator(const CheckpointMetadata& m) {
  std::map<OperatorId, uint64_t> out;
  for (const TaskSnapshotMetadata& t : m.tasks) {
    for (const StoredFile& f : t.files) {
      const std::string& hex = t.format == SnapshotFormat::kRocksDBSst
                                   ? f.file.column_family
                                   : f.file.operator_id;
      Result<OperatorId> id = OperatorId::FromHex(hex);
      if (id.ok()) out[*id] += f.file.size;
    }
  }
  return out;
}

// Fills the tasks' key-group plan, methods, bytes and the estimate.
void PlanTasks(const RestoreSource& source, const detail::GraphDef& graph,
               const Plan& plan, const RestorePlanOptions& options,
               RestorePlan* out) {
  RestoreCheck& check = out->check;
  const std::vector<TaskSnapshotMetadata>& old = source.metadata.tasks;
  double ms = 0;
  out->sources.resize(plan.vertices.size());
  out->finished.resize(plan.vertices.size());
  for (size_t v = 0; v < plan.vertices.size(); ++v) {
    const Vertex& vx = plan.vertices[v];
    std::vector<OperatorId> ops;
    for (int node : vx.nodes) ops.push_back(plan.ids[node]);
    bool finished = true;
    for (const OperatorId& op : ops) finished &= FullyFinished(source, op);
    for (int s = 0; s < vx.parallelism; ++s) {
      RestoreCheck::Task task;
      task.vertex = vx.name;
      task.subtask = s;
      task.parallelism = vx.parallelism;
      task.key_groups =
          KeyGroupRangeForSubtask(graph.max_parallelism, vx.parallelism, s);
      task.finished = finished;
      std::vector<size_t> sources;
      if (!finished) sources = SourceTasksFor(source, ops, task.key_groups);
      std::vector<BackendSnapshot> snaps;
      for (size_t i : sources) {
        snaps.push_back(SnapshotOfTask(source, i, ops));
        RestoreCheck::Source src;
        src.old_vertex = old[i].vertex_index;
        src.old_subtask = old[i].subtask_index;
        src.old_key_groups = old[i].key_group_range;
        src.key_groups = Intersect(old[i].key_group_range, task.key_groups);
        src.bytes = Bytes(snaps.back());
        task.files += snaps.back().files.size();
        task.bytes += src.bytes;
        task.sources.push_back(src);
      }
      // As the backends choose (backends/rocksdb/rocksdb_snapshot.h).
      if (snaps.empty()) {
        task.method = Method::kNone;
      } else if (options.backend == JobOptions::Backend::kMemory ||
                 snaps[0].format == SnapshotFormat::kKeyGroupStreams) {
        task.method = Method::kRead;
      } else if (snaps.size() > 1) {
        task.method = Method::kRewrite;
      } else if (options.ready_db_snapshots && WholeReadyDb(snaps[0]) &&
                 snaps[0].key_group_range == task.key_groups) {
        task.method = Method::kLink;
      } else {
        task.method = Method::kImport;
      }
      if (task.method != Method::kNone) ms += kPerTaskMs;
      switch (task.method) {
        case Method::kNone:
          break;
        case Method::kLink:
          check.bytes_linked += task.bytes;
          ms += static_cast<double>(task.bytes) / kLinkBytesPerMs;
          break;
        case Method::kImport:
          check.bytes_linked += task.bytes;
          ms += static_cast<double>(task.bytes) / kImportBytesPerMs;
          break;
        case Method::kRewrite: {
          // The largest part is imported, the others rewritten into it.
          uint64_t largest = 0;
          for (const RestoreCheck::Source& src : task.sources) {
            largest = std::max(largest, src.bytes);
          }
          check.bytes_linked += largest;
          check.bytes_rewritten += task.bytes - largest;
          ms += static_cast<double>(largest) / kImportBytesPerMs +
                static_cast<double>(task.bytes - largest) / kRewriteBytesPerMs;
          break;
        }
        case Method::kRead:
          check.bytes_rewritten += task.bytes;
          ms += static_cast<double>(task.bytes) / kRewriteBytesPerMs;
          break;
      }
      out->sources[v].push_back(std::move(sources));
      out->finished[v].push_back(finished);
      check.tasks.push_back(std::move(task));
    }
  }
  check.estimated_ms = static_cast<int64_t>(ms + 0.5);
}

// For each keyed operator of the job that starts empty: the orphaned
// snapshot operator with keyed state whose state it could adopt, when the
// match is unambiguous (equal names, else one of each).
void SuggestUidHashes(const detail::GraphDef& graph, const Plan& plan,
                      std::vector<RestoreCheck::Operator>* ops) {
  std::vector<RestoreCheck::Operator*> orphans;
  std::vector<RestoreCheck::Operator*> empty;
  for (RestoreCheck::Operator& op : *ops) {
    if ((op.fate == Fate::kDropped ||
         op.fate == Fate::kNeedsAllowNonRestored) &&
        op.keyed_state) {
      orphans.push_back(&op);
    }
  }
  for (const detail::NodeDef& n : graph.nodes) {
    if (!n.keyed || !n.uid_hash.empty()) continue;
    const std::string hex = plan.ids[n.index].ToHex();
    for (RestoreCheck::Operator& op : *ops) {
      if (op.id == hex && op.fate == Fate::kStartsEmpty) empty.push_back(&op);
    }
  }
  std::set<RestoreCheck::Operator*> used;
  for (RestoreCheck::Operator* e : empty) {
    for (RestoreCheck::Operator* o : orphans) {
      if (!used.contains(o) && o->name == e->name) {
        e->suggested_uid_hash = o->id;
        used.insert(o);
        break;
      }
    }
  }
  std::vector<RestoreCheck::Operator*> left_empty;
  std::vector<RestoreCheck::Operator*> left_orphans;
  for (RestoreCheck::Operator* e : empty) {
    if (e->suggested_uid_hash.empty()) left_empty.push_back(e);
  }
  for (RestoreCheck::Operator* o : orphans) {
    if (!used.contains(o)) left_orphans.push_back(o);
  }
  if (left_empty.size() == 1 && left_orphans.size() == 1) {
    left_empty[0]->suggested_uid_hash = left_orphans[0]->id;
  }
}

}  // namespace

RestorePlan PlanRestore(const RestoreSource& source,
                        const detail::GraphDef& graph, const Plan& plan,
                        const RestorePlanOptions& options) {
  RestorePlan out;
  RestoreCheck& check = out.check;
  const CheckpointMetadata& m = source.metadata;
  check.metadata_path = source.metadata_path;
  check.savepoint = m.kind == SnapshotKind::kSavepoint;
  check.canonical =
      check.savepoint && m.savepoint_format == SavepointFormat::kCanonical;
  check.job_max_parallelism = graph.max_parallelism;
  for (const TaskSnapshotMetadata& t : m.tasks) {
    check.snapshot_max_parallelism = t.max_parallelism;
    if (t.max_parallelism != graph.max_parallelism) break;
  }

  std::vector<Status> problems =
      RestoreProblems(source, plan.ids, graph.max_parallelism,
                      options.allow_non_restored_state);
  FinishedInputProblems(source, graph, plan.ids, &problems);

  // The operators: the snapshot's, then the job's new ones.
  std::set<OperatorId> keyed;
  std::set<OperatorId> listed;
  for (const TaskSnapshotMetadata& t : m.tasks) {
    for (const OperatorId& op : OperatorsWithState(t)) keyed.insert(op);
    for (const OperatorStateMetadata& st : t.operator_states) {
      listed.insert(st.operator_id);
    }
  }
  std::map<OperatorId, int> node_of;
  for (const detail::NodeDef& n : graph.nodes)
    node_of[plan.ids[n.index]] = n.index;
  const std::map<OperatorId, uint64_t> bytes = BytesPerOperator(m);
  auto describe = [&](const OperatorId& id, RestoreCheck::Operator* op) {
    op->id = id.ToHex();
    op->keyed_state = keyed.contains(id);
    op->list_state = listed.contains(id);
    if (auto it = bytes.find(id); it != bytes.end()) op->bytes = it->second;
    auto node = node_of.find(id);
    op->in_job = node != node_of.end();
    if (op->in_job) {
      const detail::NodeDef& n = graph.nodes[node->second];
      op->uid = n.uid;
      op->name = n.name;
      op->new_parallelism = plan.parallelism[node->second];
    }
  };
  std::set<OperatorId> in_snapshot;
  for (const OperatorMetadata& om : m.operators) {
    in_snapshot.insert(om.id);
    RestoreCheck::Operator op;
    op.uid = om.uid;
    op.name = om.name;
    op.in_snapshot = true;
    op.old_parallelism = om.parallelism;
    describe(om.id, &op);
    const bool state = op.keyed_state || op.list_state;
    if (op.in_job) {
      op.fate = om.fully_finished ? Fate::kFinished
                : state           ? Fate::kRestored
                                  : Fate::kStartsEmpty;
    } else if (!state) {
      op.fate = Fate::kGone;
    } else {
      op.fate = op.keyed_state && !options.allow_non_restored_state
                    ? Fate::kNeedsAllowNonRestored
                    : Fate::kDropped;
    }
    check.operators.push_back(std::move(op));
  }
  // State of an operator `_metadata` does not list (a foreign writer).
  for (const OperatorId& id : keyed) {
    if (in_snapshot.contains(id)) continue;
    RestoreCheck::Operator op;
    op.in_snapshot = true;
    describe(id, &op);
    op.fate = op.in_job                          ? Fate::kRestored
              : options.allow_non_restored_state ? Fate::kDropped
                                                 : Fate::kNeedsAllowNonRestored;
    check.operators.push_back(std::move(op));
  }
  for (const detail::NodeDef& n : graph.nodes) {
    if (in_snapshot.contains(plan.ids[n.index]) ||
        keyed.contains(plan.ids[n.index])) {
      continue;
    }
    RestoreCheck::Operator op;
    describe(plan.ids[n.index], &op);
    op.fate = Fate::kStartsEmpty;
    check.operators.push_back(std::move(op));
  }
  SuggestUidHashes(graph, plan, &check.operators);

  for (const Status& s : problems) {
    check.problems.emplace_back(s.message());
  }
  out.status = problems.empty() ? Status::OK() : problems.front();
  if (check.snapshot_max_parallelism == graph.max_parallelism ||
      m.tasks.empty()) {
    PlanTasks(source, graph, plan, options, &out);
  }
  return out;
}

std::vector<BackendSnapshot> PlannedSnapshots(const RestoreSource& source,
                                              const RestorePlan& restore_plan,
                                              const Plan& plan, int vertex,
                                              int subtask) {
  std::vector<OperatorId> ops;
  for (int node : plan.vertices[vertex].nodes) ops.push_back(plan.ids[node]);
  std::vector<BackendSnapshot> out;
  for (size_t i : restore_plan.sources[vertex][subtask]) {
    out.push_back(SnapshotOfTask(source, i, ops));
  }
  return out;
}

}  // namespace weir::engine

namespace weir {

const char* FateName(RestoreCheck::Fate fate) {
  switch (fate) {
    case RestoreCheck::Fate::kRestored:
      return "restored";
    case RestoreCheck::Fate::kFinished:
      return "finished";
    case RestoreCheck::Fate::kStartsEmpty:
      return "starts empty";
    case RestoreCheck::Fate::kDropped:
      return "dropped";
    case RestoreCheck::Fate::kNeedsAllowNonRestored:
      return "needs -n";
    case RestoreCheck::Fate::kGone:
      return "gone";
  }
  return "?";
}

const char* MethodName(RestoreCheck::Method method) {
  switch (method) {
    case RestoreCheck::Method::kNone:
      return "none";
    case RestoreCheck::Method::kLink:
      return "link";
    case RestoreCheck::Method::kImport:
      return "import";
    case RestoreCheck::Method::kRewrite:
      return "rewrite";
    case RestoreCheck::Method::kRead:
      return "read";
  }
  return "?";
}

}  // namespace weir
