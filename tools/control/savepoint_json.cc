// SPDX-License-Identifier: Apache-2.0
#include "tools/control/savepoint_json.h"

#include <utility>

#include "lib/file.h"
#include "tools/control/job_json.h"
#include "tools/control/trigger_ids.h"

namespace weir::tools {

namespace {

using nlohmann::json;

// The body as a JSON object; a blank body is an empty object.
Result<json> ParseBody(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return json::object();
  }
  Result<json> j = ParseJson(body);
  if (!j.ok()) return j.status();
  if (!j->is_object()) {
    return Status::InvalidArgument("the request body is not a JSON object");
  }
  return j;
}

// Field `name` of `j` as a string into `*out`: absent or null leaves it.
Status StringField(const json& j, const char* name, std::string* out) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return Status::OK();
  if (!it->is_string()) {
    return Status::InvalidArgument(std::string(name) + " is not a string");
  }
  *out = it->get<std::string>();
  return Status::OK();
}

Status BoolField(const json& j, const char* name, bool* out) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return Status::OK();
  if (!it->is_boolean()) {
    return Status::InvalidArgument(std::string(name) + " is not true or false");
  }
  *out = it->get<bool>();
  return Status::OK();
}

Status FormatTypeField(const json& j, SavepointFormatType* out) {
  std::string format = "NATIVE";
  Status s = StringField(j, "formatType", &format);
  if (!s.ok()) return s;
  Result<SavepointFormatType> type = ParseSavepointFormatType(format);
  if (!type.ok()) return type.status();
  *out = *type;
  return Status::OK();
}

const char* FormatTypeName(SavepointFormatType type) {
  return type == SavepointFormatType::kCanonical ? "CANONICAL" : "NATIVE";
}

// Field `name` of `j` if it is a non-negative integer, else 0.
uint64_t Count(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) return 0;
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_number_integer() && it->get<int64_t>() > 0) {
    return static_cast<uint64_t>(it->get<int64_t>());
  }
  return 0;
}

json FailureCause(std::string_view message) {
  return json{{"class", "weir.SavepointFailure"}, {"stack-trace", message}};
}

// StringField for a field that names a path: when present it must be one
// that can name a file (CheckPathText).
Status PathField(const json& j, const char* name, std::string* out) {
  Status s = StringField(j, name, out);
  if (!s.ok() || out->empty()) return s;
  return CheckPathText(*out, name);
}

// The body's triggerId into `*out` (if `out` is not null).
Status TriggerIdInto(const json& j, std::optional<std::string>* out) {
  Result<std::optional<std::string>> id = TriggerIdField(j);
  if (!id.ok()) return id.status();
  if (out != nullptr) *out = std::move(*id);
  return Status::OK();
}

// `body` with "triggerId" added unless `trigger_id` is empty.
std::string WithTriggerId(json body, std::string_view trigger_id) {
  if (!trigger_id.empty()) body["triggerId"] = std::string(trigger_id);
  return DumpJson(body);
}

}  // namespace

Result<SavepointFormatType> ParseSavepointFormatType(std::string_view name) {
  if (name == "NATIVE") return SavepointFormatType::kNative;
  if (name == "CANONICAL") return SavepointFormatType::kCanonical;
  return Status::InvalidArgument("formatType '" + std::string(name) +
                                 "' is not one of NATIVE, CANONICAL");
}

Result<SavepointOptions> ParseSavepointTriggerRequest(
    std::string_view body, std::optional<std::string>* trigger_id) {
  if (trigger_id != nullptr) trigger_id->reset();
  Result<json> j = ParseBody(body);
  if (!j.ok()) return j.status();
  SavepointOptions options;
  bool cancel = false;
  Status s = CheckRequestFields(*j,
                                {"target-directory", "cancel-job",
                                 "self-contained", "formatType", "triggerId"},
                                "the savepoint request");
  if (s.ok()) s = TriggerIdInto(*j, trigger_id);
  if (s.ok()) s = PathField(*j, "target-directory", &options.target_dir);
  if (s.ok()) s = BoolField(*j, "cancel-job", &cancel);
  if (s.ok()) s = BoolField(*j, "self-contained", &options.self_contained);
  if (s.ok()) s = FormatTypeField(*j, &options.format);
  if (!s.ok()) return s;
  options.then = cancel ? SavepointOptions::Then::kCancel
                        : SavepointOptions::Then::kContinue;
  return options;
}

Result<SavepointOptions> ParseStopRequest(
    std::string_view body, std::optional<std::string>* trigger_id) {
  if (trigger_id != nullptr) trigger_id->reset();
  Result<json> j = ParseBody(body);
  if (!j.ok()) return j.status();
  SavepointOptions options;
  options.then = SavepointOptions::Then::kStop;
  Status s = CheckRequestFields(
      *j,
      {"targetDirectory", "drain", "self-contained", "formatType", "triggerId"},
      "the stop request");
  if (s.ok()) s = TriggerIdInto(*j, trigger_id);
  if (s.ok()) s = PathField(*j, "targetDirectory", &options.target_dir);
  if (s.ok()) s = BoolField(*j, "drain", &options.drain);
  if (s.ok()) s = BoolField(*j, "self-contained", &options.self_contained);
  if (s.ok()) s = FormatTypeField(*j, &options.format);
  if (!s.ok()) return s;
  return options;
}

Result<std::string> ParseSavepointDisposalRequest(
    std::string_view body, std::optional<std::string>* trigger_id) {
  if (trigger_id != nullptr) trigger_id->reset();
  Result<json> j = ParseBody(body);
  if (!j.ok()) return j.status();
  std::string path;
  Status s = CheckRequestFields(*j, {"savepoint-path", "triggerId"},
                                "the disposal request");
  if (s.ok()) s = TriggerIdInto(*j, trigger_id);
  if (s.ok()) s = PathField(*j, "savepoint-path", &path);
  if (!s.ok()) return s;
  if (path.empty()) {
    return Status::InvalidArgument("the request names no savepoint-path");
  }
  return path;
}

std::string SavepointTriggerBody(const SavepointOptions& options,
                                 std::string_view trigger_id) {
  json body{{"cancel-job", options.then == SavepointOptions::Then::kCancel},
            {"formatType", FormatTypeName(options.format)}};
  if (!options.target_dir.empty()) {
    body["target-directory"] = options.target_dir;
  }
  if (options.self_contained) body["self-contained"] = true;
  return WithTriggerId(std::move(body), trigger_id);
}

std::string StopBody(const SavepointOptions& options,
                     std::string_view trigger_id) {
  json body{{"drain", options.drain},
            {"formatType", FormatTypeName(options.format)}};
  if (!options.target_dir.empty()) body["targetDirectory"] = options.target_dir;
  if (options.self_contained) body["self-contained"] = true;
  return WithTriggerId(std::move(body), trigger_id);
}

std::string SavepointDisposalBody(const std::string& path,
                                  std::string_view trigger_id) {
  return WithTriggerId(json{{"savepoint-path", path}}, trigger_id);
}

json RequestIdToJson(std::string_view request_id) {
  return json{{"request-id", request_id}};
}

Result<std::string> ParseRequestId(std::string_view text) {
  Result<json> j = ParseJson(text);
  if (!j.ok()) return j.status();
  if (j->is_object()) {
    auto it = j->find("request-id");
    if (it != j->end() && it->is_string() &&
        !it->get_ref<const std::string&>().empty()) {
      return it->get<std::string>();
    }
  }
  return Status::InvalidArgument("the answer has no request-id");
}

json SavepointStatusToJson(const CheckpointStats* ended,
                           const CheckpointStats* progress) {
  if (ended == nullptr || ended->state == CheckpointState::kInProgress) {
    json out{{"status", {{"id", "IN_PROGRESS"}}}, {"operation", nullptr}};
    if (ended != nullptr && progress == nullptr) progress = ended;
    if (progress != nullptr) {
      out["progress"] = {
          {"tasks-acknowledged", progress->tasks_acknowledged},
          {"tasks-total", progress->tasks_total},
          {"files", progress->files},
          {"bytes", progress->bytes_uploaded + progress->bytes_referenced}};
    }
    return out;
  }
  json operation = json::object();
  if (ended->state == CheckpointState::kFailed) {
    operation["failure-cause"] = FailureCause(ended->failure);
  } else {
    operation["location"] = ended->path;
  }
  return json{{"status", {{"id", "COMPLETED"}}},
              {"operation", std::move(operation)}};
}

json DisposalStatusToJson(bool done, const Status& result) {
  if (!done) {
    return json{{"status", {{"id", "IN_PROGRESS"}}}, {"operation", nullptr}};
  }
  json operation = json::object();
  if (!result.ok()) operation["failure-cause"] = FailureCause(result.message());
  return json{{"status", {{"id", "COMPLETED"}}},
              {"operation", std::move(operation)}};
}

Result<OperationStatus> ParseOperationStatus(std::string_view text) {
  Result<json> parsed = ParseJson(text);
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  OperationStatus out;
  if (!j.is_object() || !j.contains("status") || !j["status"].is_object() ||
      !j["status"].contains("id") || !j["status"]["id"].is_string()) {
    return Status::InvalidArgument("the operation status has no status.id");
  }
  const std::string& id = j["status"]["id"].get_ref<const std::string&>();
  if (id == "IN_PROGRESS") {
    auto p = j.find("progress");
    if (p != j.end() && p->is_object()) {
      out.has_progress = true;
      out.tasks_acknowledged =
          static_cast<int>(Count(*p, "tasks-acknowledged"));
      out.tasks_total = static_cast<int>(Count(*p, "tasks-total"));
      out.files = static_cast<int>(Count(*p, "files"));
      out.bytes = Count(*p, "bytes");
    }
    return out;
  }
  if (id != "COMPLETED") {
    return Status::InvalidArgument("unknown operation status '" + id + "'");
  }
  out.done = true;
  auto op = j.find("operation");
  if (op == j.end() || !op->is_object()) {
    return Status::InvalidArgument("the operation status has no operation");
  }
  if (auto loc = op->find("location"); loc != op->end() && loc->is_string()) {
    out.location = loc->get<std::string>();
  }
  if (auto cause = op->find("failure-cause"); cause != op->end()) {
    if (cause->is_object()) {
      auto trace = cause->find("stack-trace");
      if (trace != cause->end() && trace->is_string()) {
        out.failure = trace->get<std::string>();
      }
    }
    if (out.failure.empty()) out.failure = "unknown failure";
  }
  return out;
}

}  // namespace weir::tools
