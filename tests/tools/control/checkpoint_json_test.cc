// SPDX-License-Identifier: Apache-2.0
#include "tools/control/checkpoint_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testutil/status_matchers.h"
#include "tools/control/job_json.h"

namespace weir::tools {
namespace {

using ::testing::HasSubstr;
using testutil::StatusIs;
using json = nlohmann::json;

CheckpointStats Completed(int64_t id) {
  CheckpointStats c;
  c.id = id;
  c.state = CheckpointState::kCompleted;
  c.full = id == 1;
  c.trigger_time_ms = 1'700'000'000'000 + id * 1000;
  c.end_time_ms = c.trigger_time_ms + 250;
  c.sync_max_us = 1500;
  c.async_max_us = 120'000;
  c.tasks_acknowledged = 4;
  c.tasks_total = 4;
  c.bytes_uploaded = 1000 * static_cast<uint64_t>(id);
  c.bytes_referenced = 5000;
  c.files = 7;
  c.state_size = 6000;
  c.metadata_size = 321;
  c.path = "/ckpt/job/chk-" + std::to_string(id);
  return c;
}

TEST(CheckpointJsonTest, OneCheckpointHasFlinkAndWeirFields) {
  const json j = CheckpointToJson(Completed(3));
  EXPECT_EQ(j["id"], 3);
  EXPECT_EQ(j["status"], "COMPLETED");
  EXPECT_EQ(j["className"], "completed");
  EXPECT_EQ(j["is_savepoint"], false);
  EXPECT_EQ(j["checkpoint_type"], "CHECKPOINT");
  EXPECT_EQ(j["is_full"], false);
  EXPECT_EQ(j["trigger_timestamp"], 1'700'000'003'000);
  EXPECT_EQ(j["latest_ack_timestamp"], 1'700'000'003'250);
  EXPECT_EQ(j["end_to_end_duration"], 250);
  EXPECT_EQ(j["sync_duration"], 1);
  EXPECT_EQ(j["async_duration"], 120);
  EXPECT_EQ(j["sync_duration_us"], 1500);
  EXPECT_EQ(j["state_size"], 6000);
  EXPECT_EQ(j["checkpointed_size"], 3000);
  EXPECT_EQ(j["bytes_uploaded"], 3000);
  EXPECT_EQ(j["bytes_referenced"], 5000);
  EXPECT_EQ(j["files"], 7);
  EXPECT_EQ(j["num_subtasks"], 4);
  EXPECT_EQ(j["external_path"], "/ckpt/job/chk-3");
  EXPECT_FALSE(j.contains("failure_message"));
}

TEST(CheckpointJsonTest, CountsLatestAndHistoryNewestFirst) {
  CheckpointsInfo info;
  info.enabled = true;
  info.directory = "/ckpt/job";
  info.completed = 12;
  info.failed = 1;
  info.in_progress = 1;
  info.restored_from = "/old/chk-9/_metadata";
  info.restored_id = 9;
  CheckpointStats failed;
  failed.id = 13;
  failed.state = CheckpointState::kFailed;
  failed.trigger_time_ms = 5;
  failed.end_time_ms = 6;
  failed.failure = "timed out";
  CheckpointStats running;
  running.id = 15;
  running.trigger_time_ms = 7;
  info.history = {Completed(12), failed, Completed(14), running};

  const json j = CheckpointsToJson(info);
  EXPECT_EQ(j["counts"],
            json::parse(R"({"restored":1,"total":14,"in_progress":1,
                            "completed":12,"failed":1,"restarts":0})"));
  EXPECT_EQ(j["latest"]["completed"]["id"], 14);
  EXPECT_EQ(j["latest"]["failed"]["id"], 13);
  EXPECT_EQ(j["latest"]["failed"]["failure_message"], "timed out");
  EXPECT_TRUE(j["latest"]["savepoint"].is_null());
  EXPECT_EQ(j["latest"]["restored"]["id"], 9);
  EXPECT_EQ(j["latest"]["restored"]["external_path"], "/old/chk-9/_metadata");
  ASSERT_EQ(j["history"].size(), 4u);
  EXPECT_EQ(j["history"][0]["id"], 15);
  EXPECT_EQ(j["history"][0]["status"], "IN_PROGRESS");
  EXPECT_EQ(j["history"][0]["end_to_end_duration"], -1);
  EXPECT_EQ(j["history"][3]["id"], 12);
  EXPECT_EQ(j["summary"]["checkpointed_size"]["min"], 12000);
  EXPECT_EQ(j["summary"]["checkpointed_size"]["max"], 14000);
  EXPECT_EQ(j["summary"]["end_to_end_duration"]["avg"], 250);
}

TEST(CheckpointJsonTest, NothingYet) {
  CheckpointsInfo info;
  info.enabled = true;
  const json j = CheckpointsToJson(info);
  EXPECT_EQ(j["counts"]["total"], 0);
  EXPECT_TRUE(j["latest"]["completed"].is_null());
  EXPECT_TRUE(j["latest"]["restored"].is_null());
  EXPECT_TRUE(j["history"].empty());
}

TEST(CheckpointJsonTest, TriggerRequest) {
  EXPECT_EQ(ParseCheckpointTriggerRequest("", std::nullopt).value_or(true),
            false);
  EXPECT_EQ(ParseCheckpointTriggerRequest("{}", std::nullopt).value_or(true),
            false);
  EXPECT_EQ(ParseCheckpointTriggerRequest(R"({"checkpointType":"FULL"})",
                                          std::nullopt)
                .value_or(false),
            true);
  EXPECT_EQ(ParseCheckpointTriggerRequest(R"({"checkpointType":"INCREMENTAL"})",
                                          std::nullopt)
                .value_or(true),
            false);
  EXPECT_EQ(ParseCheckpointTriggerRequest("", "true").value_or(false), true);
  EXPECT_THAT(ParseCheckpointTriggerRequest(R"({"checkpointType":"SAVEPOINT"})",
                                            std::nullopt)
                  .status(),
              StatusIs(Status::Code::kInvalidArgument, HasSubstr("SAVEPOINT")));
  EXPECT_THAT(ParseCheckpointTriggerRequest("{", std::nullopt).status(),
              StatusIs(Status::Code::kInvalidArgument));
  EXPECT_THAT(ParseCheckpointTriggerRequest("", "yes").status(),
              StatusIs(Status::Code::kInvalidArgument, HasSubstr("yes")));
  // A misspelled field is an error that names it, not the default.
  EXPECT_THAT(ParseCheckpointTriggerRequest(R"({"checkpointtype":"FULL"})",
                                            std::nullopt)
                  .status(),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("unknown fields 'checkpointtype'")));
  // Flink's triggerId: 32 hex digits, in lower case; else an error naming
  // it.
  std::optional<std::string> id;
  ASSERT_OK(ParseCheckpointTriggerRequest(
      R"({"triggerId":"0123456789ABCDEF0123456789abcdef"})", std::nullopt,
      &id));
  EXPECT_EQ(id, "0123456789abcdef0123456789abcdef");
  ASSERT_OK(ParseCheckpointTriggerRequest("", std::nullopt, &id));
  EXPECT_EQ(id, std::nullopt);
  EXPECT_THAT(ParseCheckpointTriggerRequest(R"({"triggerId":"0123"})",
                                            std::nullopt, &id)
                  .status(),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("triggerId '0123' is not a trigger id")));
  EXPECT_THAT(
      ParseCheckpointTriggerRequest(R"({"triggerId":false})", std::nullopt)
          .status(),
      StatusIs(Status::Code::kInvalidArgument, HasSubstr("triggerId")));
  // The body the client sends.
  ASSERT_OK_AND_ASSIGN(
      bool full,
      ParseCheckpointTriggerRequest(
          CheckpointTriggerBody(true, "0123456789abcdef0123456789abcdef"),
          std::nullopt, &id));
  EXPECT_TRUE(full);
  EXPECT_EQ(id, "0123456789abcdef0123456789abcdef");
  ASSERT_OK_AND_ASSIGN(
      full, ParseCheckpointTriggerRequest(CheckpointTriggerBody(false),
                                          std::nullopt, &id));
  EXPECT_FALSE(full);
  EXPECT_EQ(id, std::nullopt);
}

TEST(CheckpointJsonTest, TriggerAndStatusRoundTrip) {
  ASSERT_OK_AND_ASSIGN(CheckpointTrigger trigger,
                       ParseCheckpointTrigger(DumpJson(CheckpointTriggerToJson(
                           "0123456789abcdef0123456789abcdef", 42))));
  EXPECT_EQ(trigger.request_id, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(trigger.checkpoint_id, 42);
  // An older weir's answer, and Flink's (the request id only).
  ASSERT_OK_AND_ASSIGN(
      trigger,
      ParseCheckpointTrigger(R"({"request-id":"17","checkpoint-id":17})"));
  EXPECT_EQ(trigger.request_id, "17");
  EXPECT_EQ(trigger.checkpoint_id, 17);
  ASSERT_OK_AND_ASSIGN(trigger,
                       ParseCheckpointTrigger(R"({"request-id":"abc"})"));
  EXPECT_EQ(trigger.request_id, "abc");
  EXPECT_EQ(trigger.checkpoint_id, 0);
  EXPECT_THAT(ParseCheckpointTrigger(R"({"checkpoint-id":3})").status(),
              StatusIs(Status::Code::kInvalidArgument));
  EXPECT_THAT(ParseCheckpointTrigger(R"({"request-id":""})").status(),
              StatusIs(Status::Code::kInvalidArgument));

  Result<CheckpointTriggerStatus> running =
      ParseCheckpointStatus(DumpJson(CheckpointStatusToJson(4, nullptr)));
  ASSERT_OK(running);
  EXPECT_FALSE(running->done);

  const CheckpointStats done = Completed(4);
  Result<CheckpointTriggerStatus> completed =
      ParseCheckpointStatus(DumpJson(CheckpointStatusToJson(4, &done)));
  ASSERT_OK(completed);
  EXPECT_TRUE(completed->done);
  EXPECT_EQ(completed->id, 4);
  EXPECT_EQ(completed->location, "/ckpt/job/chk-4");
  EXPECT_EQ(completed->failure, "");

  CheckpointStats failed;
  failed.id = 5;
  failed.state = CheckpointState::kFailed;
  failed.failure = "disk full";
  const json fj = CheckpointStatusToJson(5, &failed);
  EXPECT_EQ(fj["status"]["id"], "COMPLETED");
  EXPECT_EQ(fj["operation"]["failure-cause"]["stack-trace"], "disk full");
  Result<CheckpointTriggerStatus> f = ParseCheckpointStatus(DumpJson(fj));
  ASSERT_OK(f);
  EXPECT_TRUE(f->done);
  EXPECT_EQ(f->failure, "disk full");

  EXPECT_THAT(ParseCheckpointStatus(R"({"status":{"id":"WHAT"}})").status(),
              StatusIs(Status::Code::kInvalidArgument, HasSubstr("WHAT")));
  EXPECT_THAT(ParseCheckpointStatus("[]").status(),
              StatusIs(Status::Code::kInvalidArgument));
}

TEST(CheckpointJsonTest, SavepointsAreMarkedAndLatestApart) {
  CheckpointsInfo info;
  info.enabled = true;
  CheckpointStats savepoint = Completed(5);
  savepoint.savepoint = true;
  savepoint.path = "/sp/savepoint-012345-abcdefabcdef";
  info.history = {Completed(4), savepoint};
  const json j = CheckpointsToJson(info);
  EXPECT_EQ(j["latest"]["completed"]["id"], 4);
  EXPECT_EQ(j["latest"]["savepoint"]["id"], 5);
  EXPECT_EQ(j["latest"]["savepoint"]["external_path"],
            "/sp/savepoint-012345-abcdefabcdef");
  EXPECT_EQ(j["history"][0]["is_savepoint"], true);
  EXPECT_EQ(j["history"][0]["savepointFormat"], "NATIVE");
  EXPECT_EQ(j["history"][0]["checkpoint_type"], "SAVEPOINT");
  EXPECT_EQ(j["history"][1]["is_savepoint"], false);
  EXPECT_TRUE(j["history"][1]["savepointFormat"].is_null());
  EXPECT_EQ(j["history"][1]["checkpoint_type"], "CHECKPOINT");
}

TEST(CheckpointJsonTest, CanonicalSavepointsSaySo) {
  CheckpointsInfo info;
  info.enabled = true;
  CheckpointStats canonical = Completed(7);
  canonical.savepoint = true;
  canonical.canonical = true;
  info.history = {canonical};
  const json j = CheckpointsToJson(info);
  EXPECT_EQ(j["history"][0]["savepointFormat"], "CANONICAL");
  EXPECT_EQ(j["history"][0]["checkpoint_type"], "SAVEPOINT");
}

}  // namespace
}  // namespace weir::tools
