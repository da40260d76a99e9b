// SPDX-License-Identifier: Apache-2.0
#include "tools/control/checkpoint_json.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "tools/control/job_json.h"
#include "tools/control/trigger_ids.h"

namespace weir::tools {

namespace {

using nlohmann::json;

int64_t EndToEnd(const CheckpointStats& c) {
  if (c.end_time_ms <= 0 || c.end_time_ms < c.trigger_time_ms) return -1;
  return c.end_time_ms - c.trigger_time_ms;
}

// {"min","max","avg"} over the values (Flink's summary; zeros if none).
json Summary(const std::vector<int64_t>& values) {
  if (values.empty()) return json{{"min", 0}, {"max", 0}, {"avg", 0}};
  int64_t sum = 0;
  for (int64_t v : values) sum += v;
  return json{{"min", *std::min_element(values.begin(), values.end())},
              {"max", *std::max_element(values.begin(), values.end())},
              {"avg", sum / static_cast<int64_t>(values.size())}};
}

// The newest entry of `history` (oldest first) in `state`, or null; a
// completed one is a checkpoint or a savepoint as `savepoint` says.
json Latest(const CheckpointsInfo& info, CheckpointState state,
            bool savepoint = false) {
  for (auto it = info.history.rbegin(); it != info.history.rend(); ++it) {
    if (it->state != state) continue;
    if (state == CheckpointState::kCompleted && it->savepoint != savepoint) {
      continue;
    }
    return CheckpointToJson(*it);
  }
  return nullptr;
}

Result<json> ParseObject(std::string_view text, std::string_view what) {
  Result<json> j = ParseJson(text);
  if (!j.ok()) return j.status();
  if (!j->is_object()) {
    return Status::InvalidArgument(std::string(what) + " is not a JSON object");
  }
  return j;
}

}  // namespace

std::string_view CheckpointStateName(CheckpointState state) {
  switch (state) {
    case CheckpointState::kInProgress:
      return "IN_PROGRESS";
    case CheckpointState::kCompleted:
      return "COMPLETED";
    case CheckpointState::kFailed:
      return "FAILED";
  }
  return "UNKNOWN";
}

json CheckpointToJson(const CheckpointStats& c) {
  const char* class_name = c.state == CheckpointState::kCompleted ? "completed"
                           : c.state == CheckpointState::kFailed
                               ? "failed"
                               : "in_progress";
  json j{
      {"className", class_name},
      {"id", c.id},
      {"status", CheckpointStateName(c.state)},
      {"is_savepoint", c.savepoint},
      {"savepointFormat", c.savepoint
                              ? json(c.canonical ? "CANONICAL" : "NATIVE")
                              : json(nullptr)},
      {"checkpoint_type", c.savepoint ? "SAVEPOINT" : "CHECKPOINT"},
      {"is_full", c.full},
      {"periodic", c.periodic},
      {"trigger_timestamp", c.trigger_time_ms},
      {"latest_ack_timestamp", c.end_time_ms > 0 ? c.end_time_ms : -1},
      {"end_to_end_duration", EndToEnd(c)},
      {"sync_duration", c.sync_max_us / 1000},
      {"async_duration", c.async_max_us / 1000},
      {"sync_duration_us", c.sync_max_us},
      {"async_duration_us", c.async_max_us},
      {"checkpointed_size", c.bytes_uploaded},
      {"state_size", c.state_size},
      {"bytes_uploaded", c.bytes_uploaded},
      {"bytes_referenced", c.bytes_referenced},
      {"files", c.files},
      {"metadata_size", c.metadata_size},
      {"alignment_buffered", 0},
      {"processed_data", 0},
      {"persisted_data", 0},
      {"num_subtasks", c.tasks_total},
      {"num_acknowledged_subtasks", c.tasks_acknowledged},
      {"tasks", json::object()},
  };
  if (c.state == CheckpointState::kCompleted) {
    j["external_path"] = c.path;
    j["discarded"] = false;
  }
  if (c.state == CheckpointState::kFailed) {
    j["failure_timestamp"] = c.end_time_ms;
    j["failure_message"] = c.failure;
  }
  return j;
}

json CheckpointsToJson(const CheckpointsInfo& info) {
  json history = json::array();
  std::vector<int64_t> state_sizes, uploaded, durations;
  // Newest first, as Flink lists them.
  for (auto it = info.history.rbegin(); it != info.history.rend(); ++it) {
    history.push_back(CheckpointToJson(*it));
    if (it->state != CheckpointState::kCompleted) continue;
    state_sizes.push_back(static_cast<int64_t>(it->state_size));
    uploaded.push_back(static_cast<int64_t>(it->bytes_uploaded));
    durations.push_back(std::max<int64_t>(0, EndToEnd(*it)));
  }
  json restored = nullptr;
  if (!info.restored_from.empty()) {
    restored = json{{"id", info.restored_id},
                    {"is_savepoint", false},
                    {"external_path", info.restored_from}};
  }
  return json{
      {"counts",
       {{"restored", info.restored_from.empty() ? 0 : 1},
        {"total", info.completed + info.failed + info.in_progress},
        {"in_progress", info.in_progress},
        {"completed", info.completed},
        {"failed", info.failed},
        {"restarts", info.restarts}}},
      {"summary",
       {{"state_size", Summary(state_sizes)},
        {"checkpointed_size", Summary(uploaded)},
        {"end_to_end_duration", Summary(durations)}}},
      {"latest",
       {{"completed", Latest(info, CheckpointState::kCompleted)},
        {"savepoint", Latest(info, CheckpointState::kCompleted, true)},
        {"failed", Latest(info, CheckpointState::kFailed)},
        {"restored", restored}}},
      {"history", std::move(history)},
      {"directory", info.directory},
  };
}

json CheckpointTriggerToJson(std::string_view request_id,
                             int64_t checkpoint_id) {
  return json{{"request-id", request_id}, {"checkpoint-id", checkpoint_id}};
}

json CheckpointStatusToJson(int64_t checkpoint_id,
                            const CheckpointStats* stats) {
  json operation{{"checkpointId", checkpoint_id}};
  if (stats == nullptr || stats->state == CheckpointState::kInProgress) {
    return json{{"status", {{"id", "IN_PROGRESS"}}}, {"operation", nullptr}};
  }
  if (stats->state == CheckpointState::kFailed) {
    operation["failure-cause"] = {{"class", "weir.CheckpointFailure"},
                                  {"stack-trace", stats->failure}};
  } else {
    operation["location"] = stats->path;
  }
  return json{{"status", {{"id", "COMPLETED"}}},
              {"operation", std::move(operation)}};
}

Result<bool> ParseCheckpointTriggerRequest(
    std::string_view body, const std::optional<std::string>& full_param,
    std::optional<std::string>* trigger_id) {
  if (trigger_id != nullptr) trigger_id->reset();
  bool full = false;
  const bool blank =
      body.find_first_not_of(" \t\r\n") == std::string_view::npos;
  if (!blank) {
    Result<json> j = ParseObject(body, "the request body");
    if (!j.ok()) return j.status();
    Status s = CheckRequestFields(*j, {"checkpointType", "triggerId"},
                                  "the checkpoint request");
    if (!s.ok()) return s;
    Result<std::optional<std::string>> id = TriggerIdField(*j);
    if (!id.ok()) return id.status();
    if (trigger_id != nullptr) *trigger_id = std::move(*id);
    auto type = j->find("checkpointType");
    if (type != j->end()) {
      if (!type->is_string()) {
        return Status::InvalidArgument("checkpointType is not a string");
      }
      const std::string& t = type->get_ref<const std::string&>();
      if (t == "FULL") {
        full = true;
      } else if (t != "INCREMENTAL" && t != "CONFIGURED") {
        return Status::InvalidArgument(
            "checkpointType '" + t +
            "' is not one of FULL, INCREMENTAL, CONFIGURED");
      }
    }
  }
  if (full_param) {
    if (*full_param == "true") {
      full = true;
    } else if (*full_param != "false") {
      return Status::InvalidArgument("full='" + *full_param +
                                     "' is neither true nor false");
    }
  }
  return full;
}

std::string CheckpointTriggerBody(bool full, std::string_view trigger_id) {
  json body{{"checkpointType", full ? "FULL" : "CONFIGURED"}};
  if (!trigger_id.empty()) body["triggerId"] = std::string(trigger_id);
  return DumpJson(body);
}

Result<CheckpointTrigger> ParseCheckpointTrigger(std::string_view text) {
  Result<json> j = ParseObject(text, "the answer to the checkpoint trigger");
  if (!j.ok()) return j.status();
  CheckpointTrigger out;
  auto rid = j->find("request-id");
  if (rid == j->end() || !rid->is_string() ||
      rid->get_ref<const std::string&>().empty()) {
    return Status::InvalidArgument(
        "the answer to the checkpoint trigger has no request-id");
  }
  out.request_id = rid->get<std::string>();
  auto id = j->find("checkpoint-id");
  if (id != j->end() && id->is_number_integer()) {
    out.checkpoint_id = id->get<int64_t>();
  }
  return out;
}

Result<CheckpointTriggerStatus> ParseCheckpointStatus(std::string_view text) {
  Result<json> j = ParseObject(text, "the checkpoint status");
  if (!j.ok()) return j.status();
  CheckpointTriggerStatus out;
  const json& status = (*j)["status"];
  if (!status.is_object() || !status.contains("id") ||
      !status["id"].is_string()) {
    return Status::InvalidArgument("the checkpoint status has no status.id");
  }
  const std::string& id = status["id"].get_ref<const std::string&>();
  if (id == "IN_PROGRESS") return out;
  if (id != "COMPLETED") {
    return Status::InvalidArgument("unknown checkpoint status '" + id + "'");
  }
  out.done = true;
  const json& op = (*j)["operation"];
  if (!op.is_object()) {
    return Status::InvalidArgument("the checkpoint status has no operation");
  }
  if (op.contains("checkpointId") && op["checkpointId"].is_number_integer()) {
    out.id = op["checkpointId"].get<int64_t>();
  }
  if (op.contains("location") && op["location"].is_string()) {
    out.location = op["location"].get<std::string>();
  }
  if (op.contains("failure-cause")) {
    const json& cause = op["failure-cause"];
    if (cause.is_object() && cause.contains("stack-trace") &&
        cause["stack-trace"].is_string()) {
      out.failure = cause["stack-trace"].get<std::string>();
    }
    if (out.failure.empty()) out.failure = "unknown failure";
  }
  return out;
}

}  // namespace weir::tools
