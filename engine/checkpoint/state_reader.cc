// SPDX-License-Identifier: Apache-2.0
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>
#include <utility>

#include <weir/clock.h>
#include <weir/state_reader.h>

#include "backends/backend_factory.h"
#include "engine/checkpoint/restore.h"

namespace weir {

namespace internal {

class SavepointReaderImpl {
 public:
  engine::RestoreSource source;
  std::string scratch;
  std::vector<SavepointReader::Operator> operators;
  std::vector<SavepointReader::File> files;
  std::string kind;
  // Descriptors of timers and operator lists, which have none registered.
  RawStateDescriptor list_descriptor = ListDescriptor();

  static RawStateDescriptor ListDescriptor() {
    RawStateDescriptor d;
    d.type = StateType::kList;
    return d;
  }

  ~SavepointReaderImpl() {
    std::error_code ec;
    if (!scratch.empty()) std::filesystem::remove_all(scratch, ec);
  }

  // The operator a stored file holds state of, if it names one.
  static std::optional<OperatorId> FileOperator(SnapshotFormat format,
                                                const SnapshotFile& f) {
    const std::string& hex =
        format == SnapshotFormat::kRocksDBSst ? f.column_family : f.operator_id;
    Result<OperatorId> id = OperatorId::FromHex(hex);
    if (!id.ok()) return std::nullopt;
    return *id;
  }

  std::string_view UidOf(const OperatorId& id) const {
    for (const SavepointReader::Operator& op : operators) {
      if (op.id == id) return op.uid;
    }
    return {};
  }

  Status ReadTask(const engine::TaskSnapshotMetadata& task,
                  const std::vector<OperatorId>& ops,
                  const StateReadFilter& filter,
                  std::set<std::string>* state_names,
                  const StateRecordVisitor& visitor);
};

Status SavepointReaderImpl::ReadTask(const engine::TaskSnapshotMetadata& task,
                                     const std::vector<OperatorId>& ops,
                                     const StateReadFilter& filter,
                                     std::set<std::string>* state_names,
                                     const StateRecordVisitor& visitor) {
  const std::string where = "subtask " + std::to_string(task.subtask_index) +
                            " of vertex " + std::to_string(task.vertex_index) +
                            " of " + source.metadata_path;
  StateRecord rec;
  rec.vertex_index = task.vertex_index;
  rec.subtask_index = task.subtask_index;

  // Keyed state and timers, through a backend restored in scratch space.
  if (!task.finished && !task.files.empty() && !task.key_group_range.empty()) {
    BackendSnapshot snap =
        engine::ToBackendSnapshot(source.metadata, source.metadata_dir, task);
    if (filter.operator_id) {
      // Only the wanted operator's files (and the task's own): the others
      // are neither linked nor verified.
      std::erase_if(snap.files, [&](const SnapshotFile& f) {
        std::optional<OperatorId> op = FileOperator(snap.format, f);
        return op && *op != *filter.operator_id;
      });
    }
    StateBackendOptions bo;
    bo.max_parallelism = task.max_parallelism;
    bo.key_group_range = task.key_group_range;
    // Time 0: no entry counts as expired, so that all are shown.
    bo.clock = std::make_shared<ManualClock>(0);
    RocksDBOptions rocks;
    rocks.block_cache_bytes = size_t{8} << 20;
    const JobOptions::Backend kind = snap.format == SnapshotFormat::kRocksDBSst
                                         ? JobOptions::Backend::kRocksDB
                                         : JobOptions::Backend::kMemory;
    const std::string dir = scratch + "/task-" +
                            std::to_string(task.vertex_index) + "-" +
                            std::to_string(task.subtask_index);
    Status status;
    {
      Result<std::unique_ptr<KeyedStateBackend>> backend =
          NewBackendFactory(kind, rocks)->Restore(bo, dir, {snap});
      if (!backend.ok()) {
        status = backend.status().WithContext("reading " + where);
      }
      for (size_t i = 0; status.ok() && i < ops.size(); ++i) {
        const OperatorId& op = ops[i];
        const std::vector<OperatorId> with_state = (*backend)->Operators();
        if (std::find(with_state.begin(), with_state.end(), op) ==
            with_state.end()) {
          continue;  // stateless, or chained with stateful ones
        }
        bool wanted = !filter.state_name.has_value();
        for (const RawStateDescriptor& d : (*backend)->States(op)) {
          state_names->insert(d.name);
          wanted = wanted || d.name == *filter.state_name;
        }
        if (!wanted) continue;
        rec.operator_id = op;
        rec.uid = UidOf(op);
        for (int kg = task.key_group_range.start;
             status.ok() && kg <= task.key_group_range.end; ++kg) {
          rec.key_group = kg;
          status = (*backend)->ForEachEntry(op, kg, [&](const StateEntry& e) {
            if (filter.state_name &&
                (e.state == nullptr || e.state->name != *filter.state_name)) {
              return Status::OK();
            }
            switch (e.kind) {
              case StateEntry::Kind::kValue:
                rec.kind = StateRecord::Kind::kValue;
                break;
              case StateEntry::Kind::kListElement:
                rec.kind = StateRecord::Kind::kListElement;
                break;
              case StateEntry::Kind::kMapEntry:
                rec.kind = StateRecord::Kind::kMapEntry;
                break;
              case StateEntry::Kind::kTimer:
                rec.kind = StateRecord::Kind::kTimer;
                break;
            }
            rec.descriptor = e.state != nullptr ? e.state : &list_descriptor;
            rec.state_name =
                e.state != nullptr ? std::string_view(e.state->name) : "";
            rec.key = e.key;
            rec.ns = e.ns;
            rec.user_key = e.user_key;
            rec.value = e.value;
            rec.timer_domain = e.timer_domain;
            rec.timestamp = e.timestamp;
            return visitor(rec);
          });
        }
      }
    }  // the backend is closed before its directory goes
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (!status.ok()) return status;
  }

  // Operator lists, from `_metadata` (which holds them for every task).
  rec.kind = StateRecord::Kind::kOperatorListElement;
  rec.descriptor = &list_descriptor;
  rec.key_group = -1;
  rec.key = rec.ns = rec.user_key = {};
  rec.timestamp = 0;
  for (const engine::OperatorStateMetadata& st : task.operator_states) {
    if (std::find(ops.begin(), ops.end(), st.operator_id) == ops.end()) {
      continue;
    }
    state_names->insert(st.name);
    if (filter.state_name && st.name != *filter.state_name) continue;
    rec.operator_id = st.operator_id;
    rec.uid = UidOf(st.operator_id);
    rec.state_name = st.name;
    for (const std::string& v : st.values) {
      rec.value = v;
      Status s = visitor(rec);
      if (!s.ok()) return s;
    }
  }
  return Status::OK();
}

}  // namespace internal

SavepointReader::SavepointReader(
    std::unique_ptr<internal::SavepointReaderImpl> impl)
    : impl_(std::move(impl)) {}

SavepointReader::~SavepointReader() = default;

Result<std::unique_ptr<SavepointReader>> SavepointReader::Open(
    const std::string& path, const SavepointReaderOptions& options) {
  Result<engine::RestoreSource> source = engine::LoadRestoreSource(path);
  if (!source.ok()) return source.status();
  auto impl = std::make_unique<internal::SavepointReaderImpl>();
  impl->source = std::move(*source);
  const engine::CheckpointMetadata& m = impl->source.metadata;
  impl->kind =
      m.kind == engine::SnapshotKind::kSavepoint ? "savepoint" : "checkpoint";
  for (const engine::OperatorMetadata& om : m.operators) {
    impl->operators.push_back(
        {om.id, om.uid, om.name, om.parallelism, om.max_parallelism});
  }
  for (const engine::TaskSnapshotMetadata& t : m.tasks) {
    for (const engine::StoredFile& f : t.files) {
      File file;
      file.operator_id =
          internal::SavepointReaderImpl::FileOperator(t.format, f.file);
      file.vertex_index = t.vertex_index;
      file.subtask_index = t.subtask_index;
      file.path = engine::ResolveStoredPath(m, impl->source.metadata_dir, f);
      file.size = f.file.size;
      file.shared = f.path.starts_with("shared/");
      impl->files.push_back(std::move(file));
    }
  }

  std::string parent = options.scratch_parent;
  if (parent.empty()) {
    const char* tmp = ::getenv("TMPDIR");
    parent = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string tmpl = parent + "/weir-state-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Status::IOError("cannot make a scratch directory in " + parent +
                           ": " + std::strerror(errno));
  }
  impl->scratch = std::move(tmpl);
  return std::unique_ptr<SavepointReader>(new SavepointReader(std::move(impl)));
}

const std::string& SavepointReader::metadata_path() const {
  return impl_->source.metadata_path;
}

int SavepointReader::max_parallelism() const {
  for (const Operator& op : impl_->operators) {
    if (op.max_parallelism > 0) return op.max_parallelism;
  }
  return 0;
}

std::string_view SavepointReader::kind() const { return impl_->kind; }

const std::vector<SavepointReader::Operator>& SavepointReader::operators()
    const {
  return impl_->operators;
}

const std::vector<SavepointReader::File>& SavepointReader::files() const {
  return impl_->files;
}

Result<OperatorId> SavepointReader::FindOperator(
    std::string_view uid_or_id) const {
  for (const Operator& op : impl_->operators) {
    if (!op.uid.empty() && op.uid == uid_or_id) return op.id;
  }
  for (const Operator& op : impl_->operators) {
    if (op.id.ToHex() == uid_or_id) return op.id;
  }
  std::string known;
  for (const Operator& op : impl_->operators) {
    known += known.empty() ? "" : ", ";
    known += op.uid.empty() ? op.id.ToHex() + " (" + op.name + ")" : op.uid;
  }
  return Status::NotFound(
      metadata_path() + " has no operator with uid or id '" +
      std::string(uid_or_id) + "'; its operators are: " + known);
}

Status SavepointReader::Read(const StateReadFilter& filter,
                             const StateRecordVisitor& visitor) {
  std::set<std::string> state_names;
  for (const engine::TaskSnapshotMetadata& t : impl_->source.metadata.tasks) {
    std::vector<OperatorId> ops;
    for (const OperatorId& op : t.operator_ids) {
      if (!filter.operator_id || op == *filter.operator_id) ops.push_back(op);
    }
    if (ops.empty()) continue;
    Status s = impl_->ReadTask(t, ops, filter, &state_names, visitor);
    if (!s.ok()) return s;
  }
  if (filter.state_name && !state_names.contains(*filter.state_name)) {
    std::string known;
    for (const std::string& n : state_names) {
      known += (known.empty() ? "" : ", ") + n;
    }
    std::string whose = "no operator has";
    if (filter.operator_id) {
      std::string_view uid = impl_->UidOf(*filter.operator_id);
      whose = "operator '" +
              (uid.empty() ? filter.operator_id->ToHex() : std::string(uid)) +
              "' has";
    }
    return Status::NotFound(metadata_path() + ": " + whose +
                            " no state named '" + *filter.state_name + "'" +
                            (known.empty() ? std::string("; there are none")
                                           : "; the states are: " + known));
  }
  return Status::OK();
}

}  // namespace weir
