// SPDX-License-Identifier: Apache-2.0
// The informational routes of RestServer (GET /overview, /jobs/:jobid/config,
// /jobs/:jobid/exceptions, /jobs/:jobid/checkpoints/config) and DELETE
// /cluster, against a fake directory through raw HTTP; and their JSON.
#include "tools/control/info_routes.h"

#include <httplib.h>

#include <climits>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testutil/status_matchers.h"
#include "tools/control/info_json.h"
#include "tools/control/rest_client.h"
#include "tools/control/rest_server.h"

namespace weir::tools {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using json = nlohmann::json;

constexpr char kHost[] = "127.0.0.1";
// Running, with checkpoints and a history of failures.
constexpr char kJobHex[] = "0123456789abcdef0123456789abcdef";
// Finished, without checkpoints or failures.
constexpr char kDoneHex[] = "00000000000000000000000000000002";
// Failed; its settings are unknown.
constexpr char kFailedHex[] = "00000000000000000000000000000003";
constexpr char kOtherHex[] = "fedcba9876543210fedcba9876543210";
constexpr int64_t kStart = 1'700'000'000'000;

JobId IdOf(std::string_view hex) {
  return JobId::FromHex(hex).value_or(JobId());
}

VertexInfo Vertex(std::string name, int parallelism) {
  VertexInfo v;
  v.name = std::move(name);
  v.parallelism = parallelism;
  return v;
}

JobFailure Failure(int64_t time_ms, std::string task, Status::Code code,
                   std::string message) {
  JobFailure f;
  f.time_ms = time_ms;
  f.task = std::move(task);
  f.code = code;
  f.message = std::move(message);
  return f;
}

class InfoDirectory : public JobDirectory {
 public:
  InfoDirectory() {
    JobInfo running;
    running.id = IdOf(kJobHex);
    running.name = "sums";
    running.status = JobStatus::kRunning;
    running.start_time_ms = kStart;
    running.state_backend = "rocksdb";
    running.vertices = {Vertex("events", 2), Vertex("totals -> out", 3)};
    running.failures = {
        Failure(kStart + 100, "totals -> out (2/3)", Status::Code::kIOError,
                "task totals -> out (2/3): No space left on device"),
        Failure(kStart + 200, "", Status::Code::kCorruption,
                "restarting the job: chk-4/_metadata is truncated"),
        Failure(kStart + 300, "events (1/2)", Status::Code::kAborted,
                "task events (1/2): a user function threw: boom"),
    };
    JobInfo done;
    done.id = IdOf(kDoneHex);
    done.name = "bounded";
    done.status = JobStatus::kFinished;
    done.start_time_ms = kStart;
    done.end_time_ms = kStart + 50;
    done.state_backend = "hashmap";
    done.vertices = {Vertex("gen -> out", 1)};
    JobInfo failed;
    failed.id = IdOf(kFailedHex);
    failed.name = "broken";
    failed.status = JobStatus::kFailed;
    failed.vertices = {Vertex("src", 2), Vertex("sink", 1)};
    jobs_ = {running, done, failed};
  }

  std::vector<JobInfo> ListJobs() override { return jobs_; }
  std::optional<JobInfo> GetJob(const JobId& id) override {
    for (const JobInfo& job : jobs_) {
      if (job.id == id) return job;
    }
    return std::nullopt;
  }
  Status CancelJob(const JobId&) override { return Status::OK(); }
  Result<JobSettings> Settings(const JobId& id) override {
    if (id == IdOf(kFailedHex)) return JobDirectory::Settings(id);
    JobSettings s;
    if (id == IdOf(kJobHex)) {
      s.parallelism = 2;
      s.restart.attempts = 3;
      s.restart.delay_ms = 500;
      s.checkpoints.dir = "/ckpt";
      s.checkpoints.interval_ms = 10'000;
      s.checkpoints.timeout_ms = 60'000;
      s.checkpoints.min_pause_ms = 250;
      s.checkpoints.max_concurrent = 2;
      s.checkpoints.num_retained = 3;
      s.state_backend = "rocksdb";
      s.config = HideSecrets({{"parallelism.default", "2"},
                              {"rest.token", "s3cret"},
                              {"execution.checkpointing.interval", "10s"}});
    } else if (id == IdOf(kDoneHex)) {
      s.state_backend = "hashmap";
    } else {
      return Status::NotFound("no job " + id.ToHex());
    }
    return s;
  }
  Status Shutdown() override {
    std::lock_guard<std::mutex> lock(mu_);
    ++shutdowns_;
    if (refuse_shutdown_) {
      return Status::FailedPrecondition("job " + std::string(kJobHex) +
                                        " is RUNNING: cancel or stop it first");
    }
    return Status::OK();
  }

  void RefuseShutdown(bool refuse) {
    std::lock_guard<std::mutex> lock(mu_);
    refuse_shutdown_ = refuse;
  }
  int shutdowns() {
    std::lock_guard<std::mutex> lock(mu_);
    return shutdowns_;
  }

 private:
  std::vector<JobInfo> jobs_;
  std::mutex mu_;
  bool refuse_shutdown_ = false;
  int shutdowns_ = 0;
};

class InfoRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<RestServer>> server =
        RestServer::Start(kHost, 0, &jobs_);
    ASSERT_OK(server);
    server_ = std::move(server).value();
  }

  std::pair<int, json> Request(const std::string& method,
                               const std::string& path) {
    httplib::Client client(kHost, server_->port());
    httplib::Result res =
        method == "DELETE" ? client.Delete(path) : client.Get(path);
    if (!res) {
      ADD_FAILURE() << method << " " << path << ": "
                    << httplib::to_string(res.error());
      return {0, json()};
    }
    json body = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(body.is_discarded()) << res->body;
    return {res->status, body};
  }
  std::pair<int, json> Get(const std::string& path) {
    return Request("GET", path);
  }

  InfoDirectory jobs_;
  std::unique_ptr<RestServer> server_;
};

std::string JobPath(const char* hex, const std::string& rest) {
  return std::string("/jobs/") + hex + rest;
}

TEST_F(InfoRoutesTest, OverviewCountsJobsAndSlots) {
  auto [status, body] = Get("/overview");
  ASSERT_EQ(status, 200);
  EXPECT_EQ(body["taskmanagers"], 1);
  // Per job its widest vertex (Flink's slot sharing): 3 + 1 + 2; the ended
  // jobs' slots are available.
  EXPECT_EQ(body["slots-total"], 6);
  EXPECT_EQ(body["slots-available"], 3);
  EXPECT_EQ(body["jobs-running"], 1);
  EXPECT_EQ(body["jobs-finished"], 1);
  EXPECT_EQ(body["jobs-cancelled"], 0);
  EXPECT_EQ(body["jobs-failed"], 1);
  EXPECT_THAT(body["flink-version"].get<std::string>(), StartsWith("weir "));
  ASSERT_TRUE(body["flink-commit"].is_string());
  EXPECT_FALSE(body["flink-commit"].get<std::string>().empty());
  EXPECT_EQ(body["taskmanagers-blocked"], 0);
  EXPECT_EQ(body["slots-free-and-blocked"], 0);
  EXPECT_EQ(Get("/v1/overview").second, body);
}

TEST_F(InfoRoutesTest, JobConfigHasTheExecutionConfig) {
  auto [status, body] = Get(JobPath(kJobHex, "/config"));
  ASSERT_EQ(status, 200);
  EXPECT_EQ(body["jid"], kJobHex);
  EXPECT_EQ(body["name"], "sums");
  const json& e = body["execution-config"];
  EXPECT_EQ(e["execution-mode"], "PIPELINED");
  EXPECT_EQ(e["restart-strategy"],
            "Restart with fixed delay (500 ms). #3 restart attempts.");
  EXPECT_EQ(e["job-parallelism"], 2);
  EXPECT_EQ(e["object-reuse-mode"], false);
  EXPECT_EQ(e["user-config"],
            json::parse(R"({"parallelism.default":"2",)"
                        R"("rest.token":"******",)"
                        R"("execution.checkpointing.interval":"10s"})"));

  auto [s2, done] = Get(JobPath(kDoneHex, "/config"));
  ASSERT_EQ(s2, 200);
  EXPECT_EQ(done["execution-config"]["restart-strategy"],
            "Restart deactivated.");
  EXPECT_EQ(done["execution-config"]["user-config"], json::object());
}

TEST_F(InfoRoutesTest, JobExceptionsListFailuresNewestFirst) {
  auto [status, body] = Get(JobPath(kJobHex, "/exceptions"));
  ASSERT_EQ(status, 200);
  EXPECT_EQ(body["root-exception"],
            "task events (1/2): a user function threw: boom");
  EXPECT_EQ(body["timestamp"], kStart + 300);
  EXPECT_EQ(body["truncated"], false);
  const json& entries = body["exceptionHistory"]["entries"];
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(body["exceptionHistory"]["truncated"], false);
  EXPECT_EQ(entries[0]["exceptionName"], "weir.Aborted");
  EXPECT_EQ(entries[0]["stacktrace"],
            "task events (1/2): a user function threw: boom");
  EXPECT_EQ(entries[0]["timestamp"], kStart + 300);
  EXPECT_EQ(entries[0]["taskName"], "events (1/2)");
  EXPECT_TRUE(entries[0]["endpoint"].is_null());
  EXPECT_EQ(entries[0]["failureLabels"], json::object());
  EXPECT_EQ(entries[0]["concurrentExceptions"], json::array());
  EXPECT_EQ(entries[1]["exceptionName"], "weir.Corruption");
  EXPECT_TRUE(entries[1]["taskName"].is_null());  // a restart that failed
  EXPECT_EQ(entries[2]["exceptionName"], "weir.IOError");
  EXPECT_EQ(entries[2]["taskName"], "totals -> out (2/3)");
  // Flink 1.x's all-exceptions: the same, newest first.
  ASSERT_EQ(body["all-exceptions"].size(), 3u);
  EXPECT_EQ(body["all-exceptions"][2]["exception"],
            "task totals -> out (2/3): No space left on device");
  EXPECT_EQ(body["all-exceptions"][2]["task"], "totals -> out (2/3)");
  EXPECT_EQ(body["all-exceptions"][2]["timestamp"], kStart + 100);

  // ?maxExceptions (Flink's) limits them.
  auto [s2, two] = Get(JobPath(kJobHex, "/exceptions?maxExceptions=2"));
  ASSERT_EQ(s2, 200);
  EXPECT_EQ(two["exceptionHistory"]["entries"].size(), 2u);
  EXPECT_EQ(two["exceptionHistory"]["truncated"], true);
  EXPECT_EQ(two["truncated"], true);
  EXPECT_EQ(two["exceptionHistory"]["entries"][0]["timestamp"], kStart + 300);
  for (const char* bad : {"0", "-1", "x", "", "2x", "99999999999999999999"}) {
    auto [s, b] =
        Get(JobPath(kJobHex, std::string("/exceptions?maxExceptions=") + bad));
    EXPECT_EQ(s, 400) << bad;
    EXPECT_THAT(b["errors"][0].get<std::string>(), HasSubstr("maxExceptions"))
        << bad;
  }

  // A job without failures.
  auto [s3, none] = Get(JobPath(kDoneHex, "/exceptions"));
  ASSERT_EQ(s3, 200);
  EXPECT_TRUE(none["root-exception"].is_null());
  EXPECT_TRUE(none["timestamp"].is_null());
  EXPECT_EQ(none["exceptionHistory"],
            json::parse(R"({"entries":[],"truncated":false})"));
  EXPECT_EQ(none["all-exceptions"], json::array());
}

TEST_F(InfoRoutesTest, CheckpointConfigHasFlinksFields) {
  // Not taken for a trigger id (/checkpoints/:triggerid).
  auto [status, body] = Get(JobPath(kJobHex, "/checkpoints/config"));
  ASSERT_EQ(status, 200);
  EXPECT_EQ(body["mode"], "exactly_once");
  EXPECT_EQ(body["interval"], 10'000);
  EXPECT_EQ(body["timeout"], 60'000);
  EXPECT_EQ(body["min_pause"], 250);
  EXPECT_EQ(body["max_concurrent"], 2);
  EXPECT_EQ(body["externalization"],
            json::parse(R"({"enabled":true,"delete_on_cancellation":false})"));
  EXPECT_EQ(body["state_backend"], "EmbeddedRocksDBStateBackend");
  EXPECT_EQ(body["checkpoint_storage"], "FileSystemCheckpointStorage");
  EXPECT_EQ(body["unaligned_checkpoints"], false);
  EXPECT_EQ(body["tolerable_failed_checkpoints"], INT_MAX);
  EXPECT_EQ(body["checkpoints_after_tasks_finish"], true);
  EXPECT_EQ(body["num_retained"], 3);
  EXPECT_EQ(body["incremental"], true);

  // Without checkpoints: 404, as GET /jobs/:jobid/checkpoints answers.
  auto [s2, none] = Get(JobPath(kDoneHex, "/checkpoints/config"));
  EXPECT_EQ(s2, 404);
  EXPECT_THAT(none["errors"][0].get<std::string>(),
              HasSubstr("Checkpointing has not been enabled"));
}

TEST_F(InfoRoutesTest, UnknownJobsAndSettingsAreErrors) {
  for (const char* rest : {"/config", "/exceptions", "/checkpoints/config"}) {
    auto [s1, b1] = Get(JobPath(kOtherHex, rest));
    EXPECT_EQ(s1, 404) << rest;
    EXPECT_THAT(b1["errors"][0].get<std::string>(),
                HasSubstr(std::string("Job ") + kOtherHex + " not found"));
    EXPECT_EQ(Get(std::string("/jobs/nothex") + rest).first, 404) << rest;
  }
  // A directory that does not know the job's settings.
  EXPECT_EQ(Get(JobPath(kFailedHex, "/config")).first, 409);
  EXPECT_EQ(Get(JobPath(kFailedHex, "/checkpoints/config")).first, 409);
  // The failures need no settings.
  EXPECT_EQ(Get(JobPath(kFailedHex, "/exceptions")).first, 200);
  EXPECT_EQ(Request("DELETE", "/overview").first, 405);
  EXPECT_EQ(Get("/cluster").first, 405);
}

TEST_F(InfoRoutesTest, DeleteClusterAsksTheDirectoryToShutDown) {
  auto [status, body] = Request("DELETE", "/cluster");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body, json::object());
  EXPECT_EQ(jobs_.shutdowns(), 1);
  jobs_.RefuseShutdown(true);
  auto [s2, b2] = Request("DELETE", "/v1/cluster");
  EXPECT_EQ(s2, 409);
  EXPECT_THAT(b2["errors"][0].get<std::string>(), HasSubstr("RUNNING"));
  EXPECT_THAT(RequestShutdown(kHost, server_->port()),
              testutil::StatusIs(Status::Code::kFailedPrecondition,
                                 HasSubstr("RUNNING")));
  jobs_.RefuseShutdown(false);
  EXPECT_OK(RequestShutdown(kHost, server_->port()));
  EXPECT_EQ(jobs_.shutdowns(), 4);
}

// A directory without Shutdown (the default) cannot be shut down.
TEST(InfoRoutes, TheDefaultDirectoryCannotBeShutDown) {
  class Plain : public JobDirectory {
   public:
    std::vector<JobInfo> ListJobs() override { return {}; }
    std::optional<JobInfo> GetJob(const JobId&) override {
      return std::nullopt;
    }
    Status CancelJob(const JobId&) override { return Status::OK(); }
  } plain;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<RestServer> server,
                       RestServer::Start(kHost, 0, &plain));
  EXPECT_THAT(RequestShutdown(kHost, server->port()),
              testutil::StatusIs(Status::Code::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(std::string overview,
                       HttpGet(kHost, server->port(), "/overview"));
  const json j = json::parse(overview);
  EXPECT_EQ(j["slots-total"], 0);
  EXPECT_EQ(j["jobs-running"], 0);
}

TEST(InfoJson, SecretsAreHidden) {
  const std::map<std::string, std::string> hidden =
      HideSecrets({{"rest.token", "a"},
                   {"rest.port", "8081"},
                   {"s3.secret-key", "b"},
                   {"my.PASSWORD", "c"},
                   {"x.apikey", "d"}});
  EXPECT_EQ(hidden,
            (std::map<std::string, std::string>{{"rest.token", kHiddenValue},
                                                {"rest.port", "8081"},
                                                {"s3.secret-key", kHiddenValue},
                                                {"my.PASSWORD", kHiddenValue},
                                                {"x.apikey", kHiddenValue}}));
}

TEST(InfoJson, NamesAndDescriptions) {
  RestartOptions restart;
  EXPECT_EQ(RestartStrategyDescription(restart), "Restart deactivated.");
  restart.attempts = 1;
  restart.delay_ms = 1000;
  EXPECT_EQ(RestartStrategyDescription(restart),
            "Restart with fixed delay (1000 ms). #1 restart attempts.");
  EXPECT_EQ(ExceptionName(Status::Code::kIOError), "weir.IOError");
  EXPECT_EQ(ExceptionName(Status::Code::kInvalidArgument),
            "weir.InvalidArgument");
  JobSettings settings;
  settings.checkpoints.dir = "/c";
  settings.state_backend = "hashmap";
  const json c = CheckpointConfigToJson(settings);
  EXPECT_EQ(c["state_backend"], "HashMapStateBackend");
  EXPECT_EQ(c["interval"], 0);  // on demand only
  EXPECT_EQ(c["timeout"], 600'000);
  EXPECT_EQ(c["max_concurrent"], 1);
}

}  // namespace
}  // namespace weir::tools
