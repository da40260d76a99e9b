// SPDX-License-Identifier: Apache-2.0
//
// A job's checkpoints as JSON, in the shapes of Flink's REST API (1.19), and
// the parsers the CLI needs (`weir checkpoint`):
//
//   POST /jobs/:jobid/checkpoints        202 {"request-id":"<N>",
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

// The body of POST /jobs/:jobid/checkpoints. The request id is the
// checkpoint id in decimal (clients treat it as opaque).
nlohmann::json CheckpointTriggerToJson(int64_t checkpoint_id);
// The body of GET /jobs/:jobid/checkpoints/:triggerid for a checkpoint that
// is in progress (`stats` nullptr) or has ended.
nlohmann::json CheckpointStatusToJson(int64_t checkpoint_id,
                                      const CheckpointStats* stats);

// What the request body of POST /jobs/:jobid/checkpoints asks for:
// {"checkpointType":"FULL"|"INCREMENTAL"|"CONFIGURED"} (Flink 1.19), or
// `?full=true|false` in the query; an empty body is CONFIGURED. Returns
// whether the checkpoint must be full. InvalidArgument for another type,
// malformed JSON, or a query value that is not true/false.
Result<bool> ParseCheckpointTriggerRequest(
    std::string_view body, const std::optional<std::string>& full_param);

// Parses the body of POST /jobs/:jobid/checkpoints: the checkpoint id.
Result<int64_t> ParseCheckpointTrigger(std::string_view text);

struct CheckpointTriggerStatus {
  bool done = false;     // COMPLETED: it ended (completed or failed)
  int64_t id = 0;        // the checkpoint id
  std::string location;  // the chk-N directory, if it completed
  std::string failure;   // why it failed; empty if it did not
};
// Parses the body of GET /jobs/:jobid/checkpoints/:triggerid.
Result<CheckpointTriggerStatus> ParseCheckpointStatus(std::string_view text);

}  // namespace weir::tools
