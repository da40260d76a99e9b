// SPDX-License-Identifier: Apache-2.0
#include "tools/control/job_json.h"

#include <algorithm>
#include <climits>
#include <utility>

namespace weir::tools {

namespace {

using nlohmann::json;

constexpr JobStatus kAllStatuses[] = {
    JobStatus::kCreated,   JobStatus::kRunning,  JobStatus::kFinished,
    JobStatus::kCanceling, JobStatus::kCanceled, JobStatus::kFailed,
};

// Flink counts tasks (subtasks) per execution state. weir knows only how many
// subtasks of a vertex still run; the others are counted by what the job's
// status says happened to them.
struct TaskCounts {
  int64_t total = 0;
  int64_t created = 0;
  int64_t running = 0;
  int64_t finished = 0;
  int64_t canceling = 0;
  int64_t canceled = 0;
  int64_t failed = 0;
};

TaskCounts CountTasks(JobStatus status, int64_t total, int64_t running) {
  TaskCounts c;
  c.total = total;
  const int64_t stopped = total > running ? total - running : 0;
  switch (status) {
    case JobStatus::kCreated:
      c.created = total;
      return c;
    case JobStatus::kRunning:
    case JobStatus::kFinished:
      c.running = running;
      c.finished = stopped;
      return c;
    case JobStatus::kCanceling:
    case JobStatus::kCanceled:
      c.canceling = running;
      c.canceled = stopped;
      return c;
    case JobStatus::kFailed:
      c.running = running;
      c.failed = stopped;
      return c;
  }
  return c;
}

json LowerCaseTasks(const TaskCounts& c) {
  return json{{"total", c.total},         {"created", c.created},
              {"scheduled", 0},           {"deploying", 0},
              {"running", c.running},     {"finished", c.finished},
              {"canceling", c.canceling}, {"canceled", c.canceled},
              {"failed", c.failed},       {"reconciling", 0},
              {"initializing", 0}};
}

json UpperCaseTasks(const TaskCounts& c) {
  return json{{"CREATED", c.created},   {"SCHEDULED", 0},
              {"DEPLOYING", 0},         {"RUNNING", c.running},
              {"FINISHED", c.finished}, {"CANCELING", c.canceling},
              {"CANCELED", c.canceled}, {"FAILED", c.failed},
              {"RECONCILING", 0},       {"INITIALIZING", 0}};
}

// The state of a vertex, as Flink would show it.
std::string_view VertexStatus(JobStatus job, const VertexInfo& v) {
  if (job == JobStatus::kCreated) return "CREATED";
  if (v.running_subtasks > 0) {
    return job == JobStatus::kCanceling ? "CANCELING" : "RUNNING";
  }
  switch (job) {
    case JobStatus::kCanceling:
    case JobStatus::kCanceled:
      return "CANCELED";
    case JobStatus::kFailed:
      return "FAILED";
    default:
      return "FINISHED";
  }
}

int64_t StartTime(const JobInfo& job) {
  return job.start_time_ms > 0 ? job.start_time_ms : -1;
}
int64_t EndTime(const JobInfo& job) {
  return job.end_time_ms > 0 ? job.end_time_ms : -1;
}
int64_t Duration(const JobInfo& job, int64_t now_ms) {
  if (job.start_time_ms <= 0) return 0;
  const int64_t end = job.end_time_ms > 0 ? job.end_time_ms : now_ms;
  return end > job.start_time_ms ? end - job.start_time_ms : 0;
}

json OverviewEntry(const JobInfo& job, int64_t now_ms) {
  int64_t total = 0;
  int64_t running = 0;
  for (const VertexInfo& v : job.vertices) {
    total += v.parallelism;
    running += v.running_subtasks;
  }
  const int64_t end = EndTime(job);
  return json{
      {"jid", job.id.ToHex()},
      {"name", job.name},
      {"state", JobStatusName(job.status)},
      {"start-time", StartTime(job)},
      {"end-time", end},
      {"duration", Duration(job, now_ms)},
      {"last-modification",
       end > 0 ? end : std::max<int64_t>(0, StartTime(job))},
      {"tasks", LowerCaseTasks(CountTasks(job.status, total, running))},
      // Flink's operators still to be scheduled (adaptive scheduling):
      // weir starts every operator at once.
      {"pending-operators", 0},
  };
}

// ---- Parsing -------------------------------------------------------------

// Reads fields of one JSON object; the first problem becomes status().
class FieldReader {
 public:
  FieldReader(const json& obj, std::string where)
      : obj_(obj), where_(std::move(where)) {
    if (!obj_.is_object()) Fail("is not a JSON object");
  }

  const Status& status() const { return status_; }

  std::string String(const char* key) {
    const json* v = Find(key);
    if (v == nullptr) return {};
    if (!v->is_string()) {
      FailField(key, "is not a string");
      return {};
    }
    return v->get_ref<const json::string_t&>();
  }

  int64_t Int(const char* key, int64_t min = INT64_MIN,
              int64_t max = INT64_MAX) {
    const json* v = Find(key);
    if (v == nullptr) return 0;
    if (!v->is_number_integer()) {
      FailField(key, "is not an integer");
      return 0;
    }
    if (v->is_number_unsigned() &&
        v->get<json::number_unsigned_t>() >
            static_cast<json::number_unsigned_t>(INT64_MAX)) {
      FailField(key, "is out of range");
      return 0;
    }
    const int64_t n = v->get<int64_t>();
    if (n < min || n > max) {
      FailField(key, "is out of range");
      return 0;
    }
    return n;
  }

  // A field that must be an array or an object; nullptr (and a failure) if
  // it is missing or of another kind.
  const json* Array(const char* key) { return Kind(key, /*array=*/true); }
  const json* Object(const char* key) { return Kind(key, /*array=*/false); }

  // A field that may be absent; nullptr if it is.
  const json* Optional(const char* key) const {
    if (!status_.ok()) return nullptr;
    auto it = obj_.find(key);
    return it == obj_.end() ? nullptr : &*it;
  }

  JobId Id(const char* key) {
    const std::string hex = String(key);
    if (!status_.ok()) return {};
    Result<JobId> id = JobId::FromHex(hex);
    if (!id.ok()) {
      FailField(key, "is not a job id (32 hex digits)");
      return {};
    }
    return *id;
  }

  JobStatus State(const char* key) {
    const std::string name = String(key);
    if (!status_.ok()) return JobStatus::kCreated;
    std::optional<JobStatus> s = JobStatusFromName(name);
    if (!s) {
      FailField(key, "is not a job state weir knows ('" + name + "')");
      return JobStatus::kCreated;
    }
    return *s;
  }

  void Fail(std::string_view what) {
    if (!status_.ok()) return;
    status_ = Status::InvalidArgument(where_ + " " + std::string(what));
  }
  void Adopt(const Status& s) {
    if (status_.ok() && !s.ok()) status_ = s;
  }

 private:
  const json* Find(const char* key) {
    if (!status_.ok()) return nullptr;
    auto it = obj_.find(key);
    if (it == obj_.end()) {
      FailField(key, "is missing");
      return nullptr;
    }
    return &*it;
  }

  const json* Kind(const char* key, bool array) {
    const json* v = Find(key);
    if (v == nullptr) return nullptr;
    if (array ? !v->is_array() : !v->is_object()) {
      FailField(key, array ? "is not an array" : "is not an object");
      return nullptr;
    }
    return v;
  }

  void FailField(const char* key, std::string_view what) {
    Fail("field \"" + std::string(key) + "\" " + std::string(what));
  }

  const json& obj_;
  std::string where_;
  Status status_;
};

Result<json> ParseTopObject(std::string_view text, std::string_view what) {
  Result<json> doc = ParseJson(text);
  if (!doc.ok()) return doc.status().WithContext(what);
  if (!doc->is_object()) {
    return Status::InvalidArgument(std::string(what) +
                                   ": the body is not a JSON object");
  }
  return doc;
}

Status ParseOperator(const json& obj, const std::string& where,
                     OperatorInfo* op) {
  FieldReader r(obj, where);
  op->name = r.String("name");
  op->uid = r.String("uid");
  op->operator_id = r.String("id");
  return r.status();
}

Status ParseRestore(const json& obj, RestoreInfo* out) {
  FieldReader r(obj, "job details: restore:");
  const std::string phase = r.String("phase");
  bool known = false;
  for (RestoreInfo::Phase p :
       {RestoreInfo::Phase::kRestoring, RestoreInfo::Phase::kRestored,
        RestoreInfo::Phase::kFailed}) {
    if (RestorePhaseName(p) == phase) {
      out->phase = p;
      known = true;
    }
  }
  if (r.status().ok() && !known) {
    r.Fail("field \"phase\" is not a restore phase weir knows ('" + phase +
           "')");
  }
  out->path = r.String("path");
  out->tasks_done = static_cast<int>(r.Int("tasks-done", 0, INT_MAX));
  out->tasks_total = static_cast<int>(r.Int("tasks-total", 0, INT_MAX));
  out->files_done = static_cast<uint64_t>(r.Int("files-done", 0));
  out->files_total = static_cast<uint64_t>(r.Int("files-total", 0));
  out->bytes_done = static_cast<uint64_t>(r.Int("bytes-done", 0));
  out->bytes_total = static_cast<uint64_t>(r.Int("bytes-total", 0));
  out->start_time_ms = r.Int("start-time");
  out->end_time_ms = std::max<int64_t>(0, r.Int("end-time"));
  out->estimated_ms_left = r.Int("estimated-ms-left");
  return r.status();
}

Status ParseVertex(const json& obj, const std::string& where, VertexInfo* v) {
  FieldReader r(obj, where);
  v->name = r.String("name");
  v->parallelism = static_cast<int>(r.Int("parallelism", 0, INT_MAX));
  if (const json* tasks = r.Object("tasks")) {
    FieldReader t(*tasks, where + " tasks");
    const int64_t running = t.Int("RUNNING", 0, INT_MAX);
    const int64_t canceling =
        t.Optional("CANCELING") ? t.Int("CANCELING", 0, INT_MAX) : 0;
    v->running_subtasks =
        static_cast<int>(std::min<int64_t>(INT_MAX, running + canceling));
    r.Adopt(t.status());
  }
  if (const json* ops = r.Array("operators")) {
    for (size_t op_idx = 0; op_idx < ops->size() && r.status().ok(); ++op_idx) {
      OperatorInfo op;
      r.Adopt(ParseOperator(
          (*ops)[op_idx], where + " operator " + std::to_string(op_idx), &op));
      v->operators.push_back(std::move(op));
    }
  }
  if (const json* metrics = r.Object("metrics")) {
    FieldReader m(*metrics, where + " metrics");
    v->records_in = m.Int("read-records");
    v->records_out = m.Int("write-records");
    v->late_records_dropped = m.Int("late-records-dropped");
    v->records_skipped = m.Int("records-skipped");
    // Connector gauges: present only when a subtask reports one.
    if (m.Optional("pending-records") != nullptr) {
      v->pending_records = m.Int("pending-records", 0);
    }
    if (m.Optional("send-time-us") != nullptr) {
      v->send_time_us = m.Int("send-time-us", 0);
    }
    r.Adopt(m.status());
  }
  if (r.Optional("state-read-mode") != nullptr) {
    if (const json* modes = r.Object("state-read-mode")) {
      FieldReader m(*modes, where + " state-read-mode");
      v->state_read_mmap = static_cast<int>(m.Int("mmap", 0, INT_MAX));
      v->state_read_pread = static_cast<int>(m.Int("pread", 0, INT_MAX));
      r.Adopt(m.status());
    }
  }
  return r.status();
}

json RestoreToJson(const RestoreInfo& r) {
  // Byte counts stay below 2^63: int64_t keeps them exact in JSON readers.
  return json{
      {"phase", RestorePhaseName(r.phase)},
      {"path", r.path},
      {"tasks-done", r.tasks_done},
      {"tasks-total", r.tasks_total},
      {"files-done", static_cast<int64_t>(r.files_done)},
      {"files-total", static_cast<int64_t>(r.files_total)},
      {"bytes-done", static_cast<int64_t>(r.bytes_done)},
      {"bytes-total", static_cast<int64_t>(r.bytes_total)},
      {"start-time", r.start_time_ms},
      {"end-time", r.end_time_ms > 0 ? r.end_time_ms : -1},
      {"estimated-ms-left", r.estimated_ms_left},
  };
}

}  // namespace

std::optional<JobStatus> JobStatusFromName(std::string_view name) {
  for (JobStatus s : kAllStatuses) {
    if (JobStatusName(s) == name) return s;
  }
  return std::nullopt;
}

json JobIdsToJson(const std::vector<JobInfo>& jobs) {
  json list = json::array();
  for (const JobInfo& job : jobs) {
    list.push_back(
        {{"id", job.id.ToHex()}, {"status", JobStatusName(job.status)}});
  }
  return json{{"jobs", std::move(list)}};
}

json JobsOverviewToJson(const std::vector<JobInfo>& jobs, int64_t now_ms) {
  json list = json::array();
  for (const JobInfo& job : jobs) list.push_back(OverviewEntry(job, now_ms));
  return json{{"jobs", std::move(list)}};
}

json JobDetailsToJson(const JobInfo& job, int64_t now_ms) {
  json vertices = json::array();
  for (const VertexInfo& v : job.vertices) {
    json ops = json::array();
    for (const OperatorInfo& op : v.operators) {
      ops.push_back(
          {{"name", op.name}, {"uid", op.uid}, {"id", op.operator_id}});
    }
    vertices.push_back({
        {"id",
         v.operators.empty() ? std::string() : v.operators.front().operator_id},
        {"name", v.name},
        {"parallelism", v.parallelism},
        {"maxParallelism", job.max_parallelism},
        {"status", VertexStatus(job.status, v)},
        {"tasks", UpperCaseTasks(CountTasks(job.status, v.parallelism,
                                            v.running_subtasks))},
        {"operators", std::move(ops)},
        {"metrics",
         {{"read-records", v.records_in},
          {"write-records", v.records_out},
          {"late-records-dropped", v.late_records_dropped},
          {"records-skipped", v.records_skipped}}},
    });
    json& metrics = vertices.back()["metrics"];
    if (v.pending_records >= 0) metrics["pending-records"] = v.pending_records;
    if (v.send_time_us >= 0) metrics["send-time-us"] = v.send_time_us;
    if (job.state_backend == "rocksdb") {
      vertices.back()["state-read-mode"] = {{"mmap", v.state_read_mmap},
                                            {"pread", v.state_read_pread}};
    }
  }
  json out{
      {"jid", job.id.ToHex()},
      {"name", job.name},
      {"state", JobStatusName(job.status)},
      {"start-time", StartTime(job)},
      {"end-time", EndTime(job)},
      {"duration", Duration(job, now_ms)},
      {"now", now_ms},
      {"maxParallelism", job.max_parallelism},
  };
  if (job.status == JobStatus::kFailed) out["failure"] = job.failure;
  if (!job.state_backend.empty()) out["state-backend"] = job.state_backend;
  if (job.restore.phase != RestoreInfo::Phase::kNone) {
    out["restore"] = RestoreToJson(job.restore);
  }
  out["vertices"] = std::move(vertices);
  return out;
}

json ErrorJson(std::string_view message) {
  return json{{"errors", json::array({std::string(message)})}};
}

std::string DumpJson(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<json> ParseJson(std::string_view text) {
  // The non-throwing overload reports only "discarded"; the sax parser's
  // error message with its byte offset is worth the catch.
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    return Status::InvalidArgument("malformed JSON: " + std::string(e.what()));
  }
}

Status CheckRequestFields(const json& j,
                          const std::vector<std::string_view>& known,
                          std::string_view what) {
  std::string unknown;
  for (const auto& [key, value] : j.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    unknown += (unknown.empty() ? "'" : ", '") + key + "'";
  }
  if (unknown.empty()) return Status::OK();
  std::string names;
  for (std::string_view k : known) {
    names += (names.empty() ? "" : ", ") + std::string(k);
  }
  return Status::InvalidArgument(std::string(what) + " has unknown fields " +
                                 unknown + " (known: " + names + ")");
}

Result<std::vector<JobIdAndStatus>> ParseJobIds(std::string_view text) {
  Result<json> doc = ParseTopObject(text, "job list");
  if (!doc.ok()) return doc.status();
  FieldReader r(*doc, "job list:");
  std::vector<JobIdAndStatus> out;
  if (const json* jobs = r.Array("jobs")) {
    for (size_t job_idx = 0; job_idx < jobs->size(); ++job_idx) {
      FieldReader j((*jobs)[job_idx],
                    "job list: entry " + std::to_string(job_idx) + ":");
      JobIdAndStatus e;
      e.id = j.Id("id");
      e.status = j.State("status");
      if (!j.status().ok()) return j.status();
      out.push_back(e);
    }
  }
  if (!r.status().ok()) return r.status();
  return out;
}

Result<std::vector<JobInfo>> ParseJobsOverview(std::string_view text) {
  Result<json> doc = ParseTopObject(text, "jobs overview");
  if (!doc.ok()) return doc.status();
  FieldReader r(*doc, "jobs overview:");
  std::vector<JobInfo> out;
  if (const json* jobs = r.Array("jobs")) {
    for (size_t job_idx = 0; job_idx < jobs->size(); ++job_idx) {
      FieldReader j((*jobs)[job_idx],
                    "jobs overview: entry " + std::to_string(job_idx) + ":");
      JobInfo job;
      job.id = j.Id("jid");
      job.name = j.String("name");
      job.status = j.State("state");
      job.start_time_ms = std::max<int64_t>(0, j.Int("start-time"));
      job.end_time_ms = std::max<int64_t>(0, j.Int("end-time"));
      if (!j.status().ok()) return j.status();
      out.push_back(std::move(job));
    }
  }
  if (!r.status().ok()) return r.status();
  return out;
}

Result<JobInfo> ParseJobDetails(std::string_view text) {
  Result<json> doc = ParseTopObject(text, "job details");
  if (!doc.ok()) return doc.status();
  FieldReader r(*doc, "job details:");
  JobInfo job;
  job.id = r.Id("jid");
  job.name = r.String("name");
  job.status = r.State("state");
  job.start_time_ms = std::max<int64_t>(0, r.Int("start-time"));
  job.end_time_ms = std::max<int64_t>(0, r.Int("end-time"));
  job.max_parallelism = static_cast<int>(r.Int("maxParallelism", 0, INT_MAX));
  if (r.Optional("failure") != nullptr) job.failure = r.String("failure");
  if (r.Optional("state-backend") != nullptr) {
    job.state_backend = r.String("state-backend");
  }
  if (const json* restore = r.Optional("restore")) {
    r.Adopt(ParseRestore(*restore, &job.restore));
  }
  if (const json* vertices = r.Array("vertices")) {
    for (size_t vertex_idx = 0;
         vertex_idx < vertices->size() && r.status().ok(); ++vertex_idx) {
      VertexInfo v;
      r.Adopt(ParseVertex(
          (*vertices)[vertex_idx],
          "job details: vertex " + std::to_string(vertex_idx) + ":", &v));
      job.vertices.push_back(std::move(v));
    }
  }
  if (!r.status().ok()) return r.status();
  return job;
}

std::optional<std::string> ParseErrorMessage(std::string_view text) {
  Result<json> doc = ParseJson(text);
  if (!doc.ok() || !doc->is_object()) return std::nullopt;
  auto it = doc->find("errors");
  if (it == doc->end() || !it->is_array()) return std::nullopt;
  std::string joined;
  for (const json& e : *it) {
    if (!joined.empty()) joined += "; ";
    joined += e.is_string() ? e.get_ref<const json::string_t&>() : DumpJson(e);
  }
  return joined;
}

}  // namespace weir::tools
