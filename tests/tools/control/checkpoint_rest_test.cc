// SPDX-License-Identifier: Apache-2.0
// The checkpoint routes and /metrics of RestServer, against a fake
// directory, through the client functions and raw HTTP.
#include <httplib.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testutil/status_matchers.h"
#include "tools/control/checkpoint_json.h"
#include "tools/control/metrics.h"
#include "tools/control/rest_client.h"
#include "tools/control/rest_server.h"
#include "tools/control/trigger_ids.h"

namespace weir::tools {
namespace {

using ::testing::HasSubstr;
using testutil::StatusIs;
using json = nlohmann::json;

constexpr char kHost[] = "127.0.0.1";
constexpr char kJobHex[] = "0123456789abcdef0123456789abcdef";
constexpr char kPlainHex[] = "00000000000000000000000000000001";
constexpr char kOtherHex[] = "fedcba9876543210fedcba9876543210";
constexpr char kTriggerHex[] = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf";

JobId IdOf(std::string_view hex) {
  return JobId::FromHex(hex).value_or(JobId());
}

// One job with checkpoints (kJobHex) and one without (kPlainHex).
// Checkpoints complete when the test says so.
class CheckpointingDirectory : public JobDirectory {
 public:
  std::vector<JobInfo> ListJobs() override {
    return {Info(kJobHex), Info(kPlainHex)};
  }
  std::optional<JobInfo> GetJob(const JobId& id) override {
    if (id == IdOf(kJobHex)) return Info(kJobHex);
    if (id == IdOf(kPlainHex)) return Info(kPlainHex);
    return std::nullopt;
  }
  Status CancelJob(const JobId&) override { return Status::OK(); }

  Result<int64_t> TriggerCheckpoint(const JobId& id, bool full) override {
    if (Status s = Check(id); !s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    CheckpointStats c;
    c.id = next_id_++;
    c.full = full;
    c.trigger_time_ms = 1'700'000'000'000 + c.id * 1000;
    info_.history.push_back(c);
    ++info_.in_progress;
    triggered_full_.push_back(full);
    return c.id;
  }
  Result<std::optional<CheckpointStats>> CheckpointOutcome(
      const JobId& id, int64_t checkpoint_id) override {
    if (Status s = Check(id); !s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    for (const CheckpointStats& c : info_.history) {
      if (c.id != checkpoint_id) continue;
      if (c.state == CheckpointState::kInProgress) {
        return std::optional<CheckpointStats>();
      }
      return std::optional<CheckpointStats>(c);
    }
    return Status::NotFound("no checkpoint " + std::to_string(checkpoint_id) +
                            " was triggered");
  }
  Result<CheckpointsInfo> Checkpoints(const JobId& id) override {
    if (id == IdOf(kPlainHex)) return CheckpointsInfo{};
    if (Status s = Check(id); !s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    return info_;
  }

  // Ends checkpoint `id`: completed, or failed with `failure`.
  void End(int64_t id, std::string failure = "") {
    std::lock_guard<std::mutex> lock(mu_);
    for (CheckpointStats& c : info_.history) {
      if (c.id != id) continue;
      c.end_time_ms = c.trigger_time_ms + 300;
      --info_.in_progress;
      if (failure.empty()) {
        c.state = CheckpointState::kCompleted;
        c.path = "/ckpt/" + std::string(kJobHex) + "/chk-" + std::to_string(id);
        c.bytes_uploaded = 100;
        c.state_size = 900;
        c.files = 2;
        ++info_.completed;
      } else {
        c.state = CheckpointState::kFailed;
        c.failure = failure;
        ++info_.failed;
      }
    }
  }
  std::vector<bool> triggered_full() {
    std::lock_guard<std::mutex> lock(mu_);
    return triggered_full_;
  }

 private:
  static JobInfo Info(std::string_view hex) {
    JobInfo job;
    job.id = IdOf(hex);
    job.name = hex == kJobHex ? "checkpointed" : "plain";
    job.status = JobStatus::kRunning;
    VertexInfo v;
    v.name = "Source: gen -> Sink: out";
    v.operators = {{"Source: gen", "gen", "11111111111111111111111111111111"}};
    v.records_out = 10;
    job.vertices = {v};
    return job;
  }
  Status Check(const JobId& id) {
    if (id == IdOf(kPlainHex)) {
      return Status::InvalidArgument(
          "job " + std::string(kPlainHex) +
          " has no checkpoint directory (execution.checkpointing.dir)");
    }
    if (id != IdOf(kJobHex)) return Status::NotFound("no job " + id.ToHex());
    return Status::OK();
  }

  std::mutex mu_;
  CheckpointsInfo info_ = [] {
    CheckpointsInfo info;
    info.enabled = true;
    info.directory = "/ckpt/x";
    return info;
  }();
  int64_t next_id_ = 1;
  std::vector<bool> triggered_full_;
};

class CheckpointRestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<RestServer>> server =
        RestServer::Start(kHost, 0, &jobs_);
    ASSERT_OK(server);
    server_ = std::move(server).value();
  }
  int port() const { return server_->port(); }

  std::pair<int, json> Get(const std::string& path) {
    httplib::Client client(kHost, port());
    httplib::Result res = client.Get(path);
    if (!res) {
      ADD_FAILURE() << path << ": " << httplib::to_string(res.error());
      return {0, json()};
    }
    json body = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(body.is_discarded()) << res->body;
    return {res->status, body};
  }
  std::pair<int, json> Post(const std::string& path, const std::string& body) {
    httplib::Client client(kHost, port());
    httplib::Result res = client.Post(path, body, "application/json");
    if (!res) {
      ADD_FAILURE() << path << ": " << httplib::to_string(res.error());
      return {0, json()};
    }
    return {res->status, json::parse(res->body, nullptr, false)};
  }

  CheckpointingDirectory jobs_;
  std::unique_ptr<RestServer> server_;
};

TEST_F(CheckpointRestTest, TriggerThenPollUntilCompleted) {
  const std::string base = std::string("/jobs/") + kJobHex + "/checkpoints";
  auto [status, body] = Post(base, "");
  EXPECT_EQ(status, 202);
  // A trigger id the server drew, and weir's checkpoint-id.
  const std::string request = body["request-id"].get<std::string>();
  EXPECT_TRUE(IsTriggerId(request)) << body;
  EXPECT_EQ(body["checkpoint-id"], 1);

  auto [s1, running] = Get(base + "/" + request);
  EXPECT_EQ(s1, 200);
  EXPECT_EQ(running["status"]["id"], "IN_PROGRESS");

  jobs_.End(1);
  auto [s2, done] = Get(base + "/" + request);
  EXPECT_EQ(s2, 200);
  EXPECT_EQ(done["status"]["id"], "COMPLETED");
  EXPECT_EQ(done["operation"]["checkpointId"], 1);
  EXPECT_EQ(done["operation"]["location"],
            "/ckpt/" + std::string(kJobHex) + "/chk-1");
  // The checkpoint id in decimal, which weir answered as the request id
  // before it had trigger ids (and older `weir checkpoint` polls with),
  // names it too.
  EXPECT_EQ(Get(base + "/1").second, done);

  auto [s3, details] = Get(base + "/details/1");
  EXPECT_EQ(s3, 200);
  EXPECT_EQ(details["id"], 1);
  EXPECT_EQ(details["status"], "COMPLETED");
  EXPECT_EQ(details["state_size"], 900);

  auto [s4, all] = Get(base);
  EXPECT_EQ(s4, 200);
  EXPECT_EQ(all["counts"]["completed"], 1);
  EXPECT_EQ(all["counts"]["in_progress"], 0);
  EXPECT_EQ(all["latest"]["completed"]["id"], 1);
  ASSERT_EQ(all["history"].size(), 1u);
  EXPECT_EQ(all["history"][0]["bytes_uploaded"], 100);
}

TEST_F(CheckpointRestTest, CheckpointTypeFromBodyOrQuery) {
  const std::string base = std::string("/jobs/") + kJobHex + "/checkpoints";
  EXPECT_EQ(Post(base, R"({"checkpointType":"FULL"})").first, 202);
  EXPECT_EQ(Post(base, R"({"checkpointType":"INCREMENTAL"})").first, 202);
  EXPECT_EQ(Post(base + "?full=true", "").first, 202);
  auto [status, body] = Post(base, R"({"checkpointType":"SAVEPOINT"})");
  EXPECT_EQ(status, 400);
  EXPECT_THAT(body["errors"][0].get<std::string>(), HasSubstr("SAVEPOINT"));
  EXPECT_EQ(jobs_.triggered_full(), (std::vector<bool>{true, false, true}));
}

TEST_F(CheckpointRestTest, Errors) {
  // Unknown and malformed job ids.
  auto [s1, b1] = Post(std::string("/jobs/") + kOtherHex + "/checkpoints", "");
  EXPECT_EQ(s1, 404);
  EXPECT_EQ(Post("/jobs/nothex/checkpoints", "").first, 404);
  EXPECT_EQ(Get(std::string("/jobs/") + kOtherHex + "/checkpoints").first, 404);
  // A job without checkpoints: the engine's message, 400.
  auto [s2, b2] = Post(std::string("/jobs/") + kPlainHex + "/checkpoints", "");
  EXPECT_EQ(s2, 400);
  EXPECT_THAT(b2["errors"][0].get<std::string>(),
              HasSubstr("execution.checkpointing.dir"));
  auto [s3, b3] = Get(std::string("/jobs/") + kPlainHex + "/checkpoints");
  EXPECT_EQ(s3, 404);
  EXPECT_THAT(b3["errors"][0].get<std::string>(),
              HasSubstr("Checkpointing has not been enabled"));
  // Unknown and malformed checkpoint and trigger ids.
  const std::string base = std::string("/jobs/") + kJobHex + "/checkpoints";
  EXPECT_EQ(Get(base + "/7").first, 404);
  EXPECT_EQ(Get(base + "/x").first, 404);
  auto [s4, b4] = Get(base + "/" + kTriggerHex);
  EXPECT_EQ(s4, 404);
  EXPECT_THAT(b4["errors"][0].get<std::string>(),
              HasSubstr(std::string("no checkpoint request ") + kTriggerHex));
  // A malformed triggerId is refused by name; nothing is triggered.
  for (const char* bad : {R"({"triggerId":"x"})", R"({"triggerId":1})"}) {
    auto [s, b] = Post(base, bad);
    EXPECT_EQ(s, 400) << bad;
    EXPECT_THAT(b["errors"][0].get<std::string>(), HasSubstr("triggerId"));
  }
  EXPECT_TRUE(jobs_.triggered_full().empty());
  EXPECT_EQ(Get(base + "/details/7").first, 404);
  EXPECT_EQ(Post(base + "/7", "").first, 405);
}

// A checkpoint trigger with a triggerId answers it; a repeat, while the
// checkpoint runs or after, answers it again and triggers nothing.
TEST_F(CheckpointRestTest, AClientTriggerIdIsHonouredAndIdempotent) {
  const std::string base = std::string("/jobs/") + kJobHex + "/checkpoints";
  const std::string body = std::string(R"({"checkpointType":"FULL",)") +
                           R"("triggerId":")" + kTriggerHex + "\"}";
  auto [status, first] = Post(base, body);
  EXPECT_EQ(status, 202);
  EXPECT_EQ(first, json::parse(std::string(R"({"request-id":")") + kTriggerHex +
                               R"(","checkpoint-id":1})"));
  EXPECT_EQ(Post(base, body).second, first);
  jobs_.End(1);
  EXPECT_EQ(Post(base, body).second, first);
  EXPECT_EQ(jobs_.triggered_full(), std::vector<bool>{true});
  auto [s1, done] = Get(base + "/" + kTriggerHex);
  EXPECT_EQ(s1, 200);
  EXPECT_EQ(done["status"]["id"], "COMPLETED");
  EXPECT_EQ(done["operation"]["checkpointId"], 1);
  // The same id on a job without checkpoints is another operation, which
  // fails there.
  EXPECT_EQ(
      Post(std::string("/jobs/") + kPlainHex + "/checkpoints", body).first,
      400);
  // Checkpoint and savepoint trigger ids are apart.
  EXPECT_EQ(
      Get(std::string("/jobs/") + kJobHex + "/savepoints/" + kTriggerHex).first,
      404);
}

TEST_F(CheckpointRestTest, ClientTriggersAndReadsStatus) {
  ASSERT_OK_AND_ASSIGN(CheckpointTrigger trigger,
                       RequestCheckpoint(kHost, port(), IdOf(kJobHex), true));
  EXPECT_TRUE(IsTriggerId(trigger.request_id)) << trigger.request_id;
  EXPECT_EQ(trigger.checkpoint_id, 1);
  EXPECT_EQ(jobs_.triggered_full(), std::vector<bool>{true});
  ASSERT_OK_AND_ASSIGN(
      CheckpointTriggerStatus st,
      FetchCheckpointStatus(kHost, port(), IdOf(kJobHex), trigger.request_id));
  EXPECT_FALSE(st.done);
  jobs_.End(1, "the disk is full");
  ASSERT_OK_AND_ASSIGN(st, FetchCheckpointStatus(kHost, port(), IdOf(kJobHex),
                                                 trigger.request_id));
  EXPECT_TRUE(st.done);
  EXPECT_EQ(st.failure, "the disk is full");
  EXPECT_EQ(st.id, 1);
  // With the client's own trigger id.
  ASSERT_OK_AND_ASSIGN(trigger, RequestCheckpoint(kHost, port(), IdOf(kJobHex),
                                                  false, kTriggerHex));
  EXPECT_EQ(trigger.request_id, kTriggerHex);
  EXPECT_EQ(trigger.checkpoint_id, 2);
  ASSERT_OK_AND_ASSIGN(trigger, RequestCheckpoint(kHost, port(), IdOf(kJobHex),
                                                  false, kTriggerHex));
  EXPECT_EQ(trigger.checkpoint_id, 2);
  EXPECT_EQ(jobs_.triggered_full(), (std::vector<bool>{true, false}));

  EXPECT_THAT(RequestCheckpoint(kHost, port(), IdOf(kPlainHex), false).status(),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("has no checkpoint directory")));
  EXPECT_THAT(RequestCheckpoint(kHost, port(), IdOf(kOtherHex), false).status(),
              StatusIs(Status::Code::kNotFound));
}

TEST_F(CheckpointRestTest, MetricsAreTextWithCountsAndHistogram) {
  const std::string base = std::string("/jobs/") + kJobHex + "/checkpoints";
  for (int i = 1; i <= 3; ++i) {
    ASSERT_EQ(Post(base, "").first, 202);
    jobs_.End(i);
  }
  httplib::Client client(kHost, port());
  httplib::Result res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), kPrometheusContentType);
  const std::string& text = res->body;
  const std::string job = std::string("job_id=\"") + kJobHex + "\"";
  EXPECT_THAT(text,
              HasSubstr("weir_checkpoints_completed_total{" + job + "} 3\n"));
  EXPECT_THAT(text, HasSubstr("weir_checkpoint_duration_seconds_count{" + job +
                              "} 3\n"));
  EXPECT_THAT(text, HasSubstr("weir_checkpoint_duration_seconds_bucket{" + job +
                              ",le=\"0.5\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("weir_last_checkpoint_id{" + job + "} 3\n"));
  // The job without checkpoints has records, no checkpoint counts.
  EXPECT_THAT(text, HasSubstr(std::string("weir_records_out_total{job_id=\"") +
                              kPlainHex));
  EXPECT_THAT(text,
              ::testing::Not(HasSubstr(
                  std::string("weir_checkpoints_completed_total{job_id=\"") +
                  kPlainHex)));
  // A second scrape counts nothing twice.
  res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_THAT(res->body, HasSubstr("weir_checkpoint_duration_seconds_count{" +
                                   job + "} 3\n"));
}

}  // namespace
}  // namespace weir::tools
