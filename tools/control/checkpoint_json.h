// SPDX-License-Identifier: Apache-2.0
//
// A job's checkpoints as JSON, in the shapes of Flink's REST API (1.19), and
// the parsers the CLI needs (`weir checkpoint`):
//
//   POST /jobs/:jobid/checkpoints        {"checkpointType":"FULL",
//                                         "triggerId":"<32 hex>"} (optional)
//                                        202 {"request-id":"<32 hex>",
//                                             "checkpoint-id":N}
//   GET  /jobs/:jobid/checkpoints/:triggerid
//        {"status":{"id":"IN_PROGRESS"|"COMPLETED"},
//         "operation":{"checkpointId":N,"location":"<chk-N dir>"}}
//        or, if it failed, "operation":{"checkpointId":N,
//         "failure-cause":{"class":..,"stack-trace":"<why>"}}
//   GET  /jobs/:jobid/checkpoints        {"counts":{...},"latest":{...},
//                                         "history":[...]}
//   GET  /jobs/:jobid/checkpoints/details/:checkpointid   one history entry
//
// docs/rest-api.md describes every field. Plain functions; nothing throws.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include <weir/checkpoint.h>
#include <weir/result.h>

namespace weir::tools {

// "IN_PROGRESS", "COMPLETED", "FAILED" (Flink's CheckpointStatsStatus).
std::string_view CheckpointStateName(CheckpointState state);

// One checkpoint: a "history" entry, and the body of
// GET /jobs/:jobid/checkpoints/details/:checkpointid.
nlohmann::json CheckpointToJson(const CheckpointStats& stats);
// The body of GET /jobs/:jobid/checkpoints.
nlohmann::json CheckpointsToJson(const CheckpointsInfo& info);

// The answer to POST /jobs/:jobid/checkpoints: the request (trigger) id,
// and weir's "checkpoint-id".
nlohmann::json CheckpointTriggerToJson(std::string_view request_id,
                                       int64_t checkpoint_id);
// The body of GET /jobs/:jobid/checkpoints/:triggerid for a checkpoint that
// is in progress (`stats` nullptr) or has ended.
nlohmann::json CheckpointStatusToJson(int64_t checkpoint_id,
                                      const CheckpointStats* stats);

// What the request body of POST /jobs/:jobid/checkpoints asks for:
// {"checkpointType":"FULL"|"INCREMENTAL"|"CONFIGURED"} (Flink 1.19), or
// `?full=true|false` in the query; an empty body is CONFIGURED. Returns
// whether the checkpoint must be full, and puts Flink's optional triggerId
// (trigger_ids.h) into `*trigger_id` when that is not null.
// InvalidArgument for another type, a malformed triggerId, malformed JSON,
// or a query value that is not true/false.
Result<bool> ParseCheckpointTriggerRequest(
    std::string_view body, const std::optional<std::string>& full_param,
    std::optional<std::string>* trigger_id = nullptr);

// The request body the client sends: FULL or CONFIGURED, with "triggerId"
// unless `trigger_id` is empty.
std::string CheckpointTriggerBody(bool full, std::string_view trigger_id = "");

struct CheckpointTrigger {
  std::string request_id;     // what to poll the outcome with
  int64_t checkpoint_id = 0;  // 0 if the answer did not say
};
// Parses the answer to POST /jobs/:jobid/checkpoints. An answer of an
// older weir ({"request-id":"<N>","checkpoint-id":N}) or of Flink (only
// the request id) reads as well.
Result<CheckpointTrigger> ParseCheckpointTrigger(std::string_view text);

struct CheckpointTriggerStatus {
  bool done = false;     // COMPLETED: it ended (completed or failed)
  int64_t id = 0;        // the checkpoint id
  std::string location;  // the chk-N directory, if it completed
  std::string failure;   // why it failed; empty if it did not
};
// Parses the body of GET /jobs/:jobid/checkpoints/:triggerid.
Result<CheckpointTriggerStatus> ParseCheckpointStatus(std::string_view text);

}  // namespace weir::tools
