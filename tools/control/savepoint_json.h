// SPDX-License-Identifier: Apache-2.0
//
// Savepoints as JSON, in the shapes of Flink's REST API (1.19), and the
// parsers the CLI needs (`weir savepoint`, `weir cancel -s`, `weir stop`):
//
//   POST /jobs/:jobid/savepoints
//        {"target-directory":"/sp","cancel-job":false,"formatType":"NATIVE",
//         "self-contained":false,"triggerId":"<32 hex>"} (all optional)
//        202 {"request-id":"<32 hex>"}
//   POST /jobs/:jobid/stop
//        {"targetDirectory":"/sp","drain":false,"formatType":"NATIVE",
//         "triggerId":"<32 hex>"}                      (all optional)
//        202 {"request-id":"<32 hex>"}
//   GET  /jobs/:jobid/savepoints/:request-id
//        {"status":{"id":"IN_PROGRESS"},"operation":null,
//         "progress":{"tasks-acknowledged":1,"tasks-total":4,"files":3,
//                     "bytes":1234}}
//        {"status":{"id":"COMPLETED"},"operation":{"location":"/sp/..."}}
//        {"status":{"id":"COMPLETED"},"operation":{"failure-cause":
//         {"class":"weir.SavepointFailure","stack-trace":"<why>"}}}
//   POST /savepoint-disposal {"savepoint-path":"/sp/savepoint-...",
//                             "triggerId":"<32 hex>"}  (the id optional)
//        202 {"request-id":"<32 hex>"}
//   GET  /savepoint-disposal/:request-id
//        {"status":{"id":"COMPLETED"},"operation":{}} or the failure-cause
//
// "progress" and "self-contained" are weir's; the rest is Flink's. The
// request id is the body's triggerId if it has one, else one the server
// drew (trigger_ids.h). docs/rest-api.md describes every field. Plain
// functions; nothing throws.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include <weir/checkpoint.h>
#include <weir/result.h>
#include <weir/savepoint.h>
#include <weir/status.h>

namespace weir::tools {

// Flink's formatType: NATIVE or CANONICAL (exactly, as Flink's REST API
// takes them); InvalidArgument naming both for anything else.
Result<SavepointFormatType> ParseSavepointFormatType(std::string_view name);

// The body of POST /jobs/:jobid/savepoints: target-directory (a string or
// null), cancel-job (then kCancel instead of kContinue), formatType
// (NATIVE, the default, or CANONICAL) and weir's self-contained. An empty body
// takes every default. InvalidArgument for malformed JSON or a field of the
// wrong type or value. Each of these parsers also reads Flink's optional
// triggerId (TriggerIdField: 32 hex digits) into `*trigger_id` when that is
// not null; a malformed one is InvalidArgument naming it.
Result<SavepointOptions> ParseSavepointTriggerRequest(
    std::string_view body, std::optional<std::string>* trigger_id = nullptr);
// The body of POST /jobs/:jobid/stop: targetDirectory, drain, formatType;
// then is kStop.
Result<SavepointOptions> ParseStopRequest(
    std::string_view body, std::optional<std::string>* trigger_id = nullptr);
// The body of POST /savepoint-disposal: the savepoint-path, which must be a
// non-empty string.
Result<std::string> ParseSavepointDisposalRequest(
    std::string_view body, std::optional<std::string>* trigger_id = nullptr);

// The request bodies the client sends for `options` (which must have then
// kContinue or kCancel for the first, kStop for the second), and for a
// disposal; with "triggerId" unless `trigger_id` is empty.
std::string SavepointTriggerBody(const SavepointOptions& options,
                                 std::string_view trigger_id = "");
std::string StopBody(const SavepointOptions& options,
                     std::string_view trigger_id = "");
std::string SavepointDisposalBody(const std::string& path,
                                  std::string_view trigger_id = "");

// {"request-id":"<id>"}, and its parser: InvalidArgument if there is no
// string request-id.
nlohmann::json RequestIdToJson(std::string_view request_id);
Result<std::string> ParseRequestId(std::string_view text);

// The body of GET /jobs/:jobid/savepoints/:request-id. `ended` is the
// savepoint's stats once it completed or failed, else nullptr; `progress`
// is its history entry while in progress (nullptr if unknown).
nlohmann::json SavepointStatusToJson(const CheckpointStats* ended,
                                     const CheckpointStats* progress);
// The body of GET /savepoint-disposal/:request-id: in progress while !done,
// else COMPLETED with {} or the failure-cause from `result`.
nlohmann::json DisposalStatusToJson(bool done, const Status& result);

// An asynchronous operation's status as the client reads it: a savepoint
// trigger or a disposal.
struct OperationStatus {
  bool done = false;     // COMPLETED: it ended (completed or failed)
  std::string location;  // the savepoint directory, if one completed
  std::string failure;   // why it failed; empty if it did not
  // "progress", when the server sent it (IN_PROGRESS only).
  bool has_progress = false;
  int tasks_acknowledged = 0;
  int tasks_total = 0;
  int files = 0;
  uint64_t bytes = 0;
};
// Parses either GET body above. InvalidArgument if it is not one.
Result<OperationStatus> ParseOperationStatus(std::string_view text);

}  // namespace weir::tools
