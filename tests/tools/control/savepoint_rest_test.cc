// SPDX-License-Identifier: Apache-2.0
// The savepoint routes of RestServer (trigger, stop, status, disposal),
// against a fake directory, through raw HTTP and the client functions; and
// the savepoint JSON bodies.
#include <httplib.h>

#include <cctype>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"
#include "tools/control/rest_client.h"
#include "tools/control/rest_server.h"
#include "tools/control/savepoint_json.h"
#include "tools/control/trigger_ids.h"

namespace weir::tools {
namespace {

using ::testing::HasSubstr;
using testutil::StatusIs;
using json = nlohmann::json;
using Then = SavepointOptions::Then;

constexpr char kHost[] = "127.0.0.1";
constexpr char kJobHex[] = "0123456789abcdef0123456789abcdef";
constexpr char kDoneHex[] = "00000000000000000000000000000002";
constexpr char kOtherHex[] = "fedcba9876543210fedcba9876543210";
// A trigger id a client chose.
constexpr char kTriggerHex[] = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf";

JobId IdOf(std::string_view hex) {
  return JobId::FromHex(hex).value_or(JobId());
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(c));
  return s;
}

// One running job (kJobHex) and one finished one (kDoneHex). Savepoints
// and checkpoints complete when the test says so; without a target
// directory a savepoint fails to trigger unless default_dir is set.
// Disposals of paths under /fake/ are recorded (and block while `hold` is
// set); other paths go to weir::DisposeSavepoint.
class SavepointDirectory : public JobDirectory {
 public:
  std::vector<JobInfo> ListJobs() override {
    return {Info(kJobHex), Info(kDoneHex)};
  }
  std::optional<JobInfo> GetJob(const JobId& id) override {
    if (id == IdOf(kJobHex)) return Info(kJobHex);
    if (id == IdOf(kDoneHex)) return Info(kDoneHex);
    return std::nullopt;
  }
  Status CancelJob(const JobId&) override { return Status::OK(); }

  Result<int64_t> TriggerCheckpoint(const JobId& id, bool) override {
    if (Status s = Check(id); !s.ok()) return s;
    return Add(/*savepoint=*/false);
  }
  Result<int64_t> TriggerSavepoint(const JobId& id,
                                   const SavepointOptions& options) override {
    if (Status s = Check(id); !s.ok()) return s;
    std::unique_lock<std::mutex> lock(mu_);
    if (options.target_dir.empty() && default_dir_.empty()) {
      return Status::InvalidArgument(
          "cannot take a savepoint: no target directory was given and none "
          "is configured (execution.checkpointing.savepoint-dir, alias "
          "state.savepoints.dir)");
    }
    triggered_.push_back(options);
    // A trigger that waits (for a checkpoint in progress, say).
    cv_.wait(lock, [this] { return !hold_triggers_; });
    return AddLocked(/*savepoint=*/true);
  }
  Result<std::optional<CheckpointStats>> CheckpointOutcome(
      const JobId& id, int64_t checkpoint_id) override {
    if (id != IdOf(kJobHex) && id != IdOf(kDoneHex)) {
      return Status::NotFound("no job " + id.ToHex());
    }
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
  Result<CheckpointsInfo> Checkpoints(const JobId&) override {
    std::lock_guard<std::mutex> lock(mu_);
    return info_;
  }
  Status DisposeSavepoint(const std::string& path) override {
    if (path.rfind("/fake/", 0) != 0)
      return JobDirectory::DisposeSavepoint(path);
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !hold_; });
    disposed_.push_back(path);
    if (path == "/fake/broken") {
      return Status::Corruption("/fake/broken/_metadata: truncated");
    }
    return Status::OK();
  }

  // Progress of checkpoint `id`: acknowledged tasks and files.
  void Progress(int64_t id, int acknowledged, int files) {
    std::lock_guard<std::mutex> lock(mu_);
    for (CheckpointStats& c : info_.history) {
      if (c.id != id) continue;
      c.tasks_acknowledged = acknowledged;
      c.files = files;
      c.bytes_uploaded = 1000;
      c.bytes_referenced = 24;
    }
  }
  // Ends checkpoint `id`: completed, or failed with `failure`.
  void End(int64_t id, std::string failure = "") {
    std::lock_guard<std::mutex> lock(mu_);
    for (CheckpointStats& c : info_.history) {
      if (c.id != id) continue;
      if (failure.empty()) {
        c.state = CheckpointState::kCompleted;
        c.path = c.savepoint
                     ? "/sp/savepoint-012345-00000000000" + std::to_string(id)
                     : "/ckpt/chk-" + std::to_string(id);
      } else {
        c.state = CheckpointState::kFailed;
        c.failure = failure;
      }
    }
  }
  void SetDefaultDir(std::string dir) {
    std::lock_guard<std::mutex> lock(mu_);
    default_dir_ = std::move(dir);
  }
  void Hold(bool hold) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      hold_ = hold;
    }
    cv_.notify_all();
  }
  // Savepoint triggers wait while held (after they were recorded).
  void HoldTriggers(bool hold) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      hold_triggers_ = hold;
    }
    cv_.notify_all();
  }
  std::vector<SavepointOptions> triggered() {
    std::lock_guard<std::mutex> lock(mu_);
    return triggered_;
  }
  std::vector<std::string> disposed() {
    std::lock_guard<std::mutex> lock(mu_);
    return disposed_;
  }

 private:
  static JobInfo Info(std::string_view hex) {
    JobInfo job;
    job.id = IdOf(hex);
    job.name = "sums";
    job.status = hex == kJobHex ? JobStatus::kRunning : JobStatus::kFinished;
    return job;
  }
  Status Check(const JobId& id) {
    if (id == IdOf(kDoneHex)) {
      return Status::FailedPrecondition("job " + std::string(kDoneHex) +
                                        " is FINISHED, not RUNNING");
    }
    if (id != IdOf(kJobHex)) return Status::NotFound("no job " + id.ToHex());
    return Status::OK();
  }
  int64_t Add(bool savepoint) {
    std::lock_guard<std::mutex> lock(mu_);
    return AddLocked(savepoint);
  }
  int64_t AddLocked(bool savepoint) {
    CheckpointStats c;
    c.id = next_id_++;
    c.savepoint = savepoint;
    c.tasks_total = 4;
    info_.history.push_back(c);
    return c.id;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  CheckpointsInfo info_ = [] {
    CheckpointsInfo info;
    info.enabled = true;
    return info;
  }();
  int64_t next_id_ = 1;
  std::string default_dir_;
  bool hold_ = false;
  bool hold_triggers_ = false;
  std::vector<SavepointOptions> triggered_;
  std::vector<std::string> disposed_;
};

class SavepointRestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<RestServer>> server =
        RestServer::Start(kHost, 0, &jobs_);
    ASSERT_OK(server);
    server_ = std::move(server).value();
  }
  void TearDown() override {
    jobs_.Hold(false);
    jobs_.HoldTriggers(false);
    server_.reset();
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
  // Polls GET /savepoint-disposal/<id> until COMPLETED.
  json AwaitDisposal(const std::string& request_id) {
    for (int i = 0; i < 500; ++i) {
      auto [status, body] = Get("/savepoint-disposal/" + request_id);
      EXPECT_EQ(status, 200) << body.dump();
      if (status != 200 || body["status"]["id"] == "COMPLETED") return body;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "disposal " << request_id << " did not end";
    return json();
  }

  SavepointDirectory jobs_;
  std::unique_ptr<RestServer> server_;
};

std::string JobPath(const std::string& rest = "") {
  return std::string("/jobs/") + kJobHex + rest;
}

TEST_F(SavepointRestTest, TriggerThenPollWithProgressUntilCompleted) {
  auto [status, body] = Post(JobPath("/savepoints"),
                             R"({"target-directory":"/sp","cancel-job":false,)"
                             R"("formatType":"NATIVE"})");
  EXPECT_EQ(status, 202);
  ASSERT_EQ(body.size(), 1u) << body;
  // A trigger id the server drew: 32 hex digits, as Flink's.
  const std::string id = body["request-id"].get<std::string>();
  EXPECT_TRUE(IsTriggerId(id)) << id;
  EXPECT_EQ(id, NormalizeTriggerId(id));
  ASSERT_EQ(jobs_.triggered().size(), 1u);
  EXPECT_EQ(jobs_.triggered()[0].target_dir, "/sp");
  EXPECT_EQ(jobs_.triggered()[0].then, Then::kContinue);
  EXPECT_FALSE(jobs_.triggered()[0].self_contained);

  auto [s1, running] = Get(JobPath("/savepoints/" + id));
  EXPECT_EQ(s1, 200);
  EXPECT_EQ(running["status"]["id"], "IN_PROGRESS");
  EXPECT_EQ(running["progress"]["tasks-acknowledged"], 0);
  EXPECT_EQ(running["progress"]["tasks-total"], 4);

  jobs_.Progress(1, 3, 7);
  auto [s2, later] = Get(JobPath("/savepoints/" + id));
  EXPECT_EQ(s2, 200);
  EXPECT_EQ(later["status"]["id"], "IN_PROGRESS");
  EXPECT_EQ(later["progress"],
            json::parse(R"({"tasks-acknowledged":3,"tasks-total":4,)"
                        R"("files":7,"bytes":1024})"));

  jobs_.End(1);
  auto [s3, done] = Get(JobPath("/savepoints/" + id));
  EXPECT_EQ(s3, 200);
  EXPECT_EQ(done, json::parse(R"({"status":{"id":"COMPLETED"},)"
                              R"("operation":{"location":)"
                              R"("/sp/savepoint-012345-000000000001"}})"));
  // In upper case it is the same id.
  EXPECT_EQ(Get(JobPath("/savepoints/" + Upper(id))).second, done);
  // Each trigger draws another.
  auto [s4, second] = Post(JobPath("/savepoints"), "");
  EXPECT_EQ(s4, 400);  // no directory; nothing to remember
  jobs_.SetDefaultDir("/default");
  ASSERT_EQ(Post(JobPath("/savepoints"), "").first, 202);
  auto [s5, third] = Post(JobPath("/savepoints"), "");
  EXPECT_EQ(s5, 202);
  EXPECT_NE(third["request-id"], id);
  EXPECT_EQ(jobs_.triggered().size(), 3u);
}

TEST_F(SavepointRestTest, CancelJobStopAndDrainMapToThen) {
  EXPECT_EQ(Post(JobPath("/savepoints"), R"({"cancel-job":true,)"
                                         R"("target-directory":null,)"
                                         R"("self-contained":true})")
                .first,
            400);  // no directory given, none configured
  jobs_.SetDefaultDir("/default");
  EXPECT_EQ(Post(JobPath("/savepoints"),
                 R"({"cancel-job":true,"self-contained":true})")
                .first,
            202);
  EXPECT_EQ(Post(JobPath("/stop"), "").first, 202);
  auto [status, body] =
      Post(JobPath("/stop"), R"({"targetDirectory":"/sp","drain":true})");
  EXPECT_EQ(status, 202);
  EXPECT_TRUE(IsTriggerId(body["request-id"].get<std::string>())) << body;
  const std::vector<SavepointOptions> t = jobs_.triggered();
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].then, Then::kCancel);
  EXPECT_TRUE(t[0].self_contained);
  EXPECT_EQ(t[0].target_dir, "");
  EXPECT_EQ(t[1].then, Then::kStop);
  EXPECT_FALSE(t[1].drain);
  EXPECT_EQ(t[2].then, Then::kStop);
  EXPECT_TRUE(t[2].drain);
  EXPECT_EQ(t[2].target_dir, "/sp");
  EXPECT_EQ(t[2].format, SavepointFormatType::kNative);
}

// formatType CANONICAL (Flink's) in both the trigger and the stop.
TEST_F(SavepointRestTest, CanonicalFormatTypeIsTaken) {
  EXPECT_EQ(Post(JobPath("/savepoints"), R"({"target-directory":"/sp",)"
                                         R"("formatType":"CANONICAL"})")
                .first,
            202);
  EXPECT_EQ(Post(JobPath("/stop"), R"({"targetDirectory":"/sp",)"
                                   R"("formatType":"CANONICAL"})")
                .first,
            202);
  EXPECT_EQ(Post(JobPath("/savepoints"),
                 R"({"target-directory":"/sp","formatType":"NATIVE"})")
                .first,
            202);
  const std::vector<SavepointOptions> t = jobs_.triggered();
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].format, SavepointFormatType::kCanonical);
  EXPECT_EQ(t[0].then, Then::kContinue);
  EXPECT_EQ(t[1].format, SavepointFormatType::kCanonical);
  EXPECT_EQ(t[1].then, Then::kStop);
  EXPECT_EQ(t[2].format, SavepointFormatType::kNative);
  // Flink's names exactly; anything else is refused naming both.
  for (const char* bad : {R"({"formatType":"canonical"})",
                          R"({"formatType":"OTHER"})", R"({"formatType":1})"}) {
    for (const char* path : {"/savepoints", "/stop"}) {
      auto [status, body] = Post(JobPath(path), bad);
      EXPECT_EQ(status, 400) << path << " " << bad;
    }
  }
  auto [s, b] = Post(JobPath("/stop"), R"({"formatType":"OTHER"})");
  EXPECT_THAT(b["errors"][0].get<std::string>(),
              HasSubstr("is not one of NATIVE, CANONICAL"));
  EXPECT_EQ(jobs_.triggered().size(), 3u);
}

TEST_F(SavepointRestTest, FailedSavepointHasAFailureCause) {
  auto [trigger_status, trigger] =
      Post(JobPath("/savepoints"), R"({"target-directory":"/sp"})");
  ASSERT_EQ(trigger_status, 202);
  jobs_.End(1, "task 'totals' (1/2) failed: No space left on device");
  auto [status, body] =
      Get(JobPath("/savepoints/" + trigger["request-id"].get<std::string>()));
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body["status"]["id"], "COMPLETED");
  EXPECT_FALSE(body["operation"].contains("location"));
  EXPECT_EQ(body["operation"]["failure-cause"]["class"],
            "weir.SavepointFailure");
  EXPECT_EQ(body["operation"]["failure-cause"]["stack-trace"],
            "task 'totals' (1/2) failed: No space left on device");
}

TEST_F(SavepointRestTest, TriggerErrorsCarryTheEnginesMessage) {
  auto [s1, b1] = Post(JobPath("/savepoints"), "");
  EXPECT_EQ(s1, 400);
  EXPECT_THAT(b1["errors"][0].get<std::string>(),
              HasSubstr("execution.checkpointing.savepoint-dir"));
  auto [s2, b2] = Post(JobPath("/stop"), "{}");
  EXPECT_EQ(s2, 400);
  EXPECT_THAT(b2["errors"][0].get<std::string>(),
              HasSubstr("no target directory"));
  // Not running.
  auto [s3, b3] = Post(std::string("/jobs/") + kDoneHex + "/savepoints",
                       R"({"target-directory":"/sp"})");
  EXPECT_EQ(s3, 409);
  EXPECT_THAT(b3["errors"][0].get<std::string>(), HasSubstr("not RUNNING"));
  // Unknown and malformed job ids.
  EXPECT_EQ(Post(std::string("/jobs/") + kOtherHex + "/savepoints",
                 R"({"target-directory":"/sp"})")
                .first,
            404);
  EXPECT_EQ(Post("/jobs/nothex/stop", "").first, 404);
  // Bodies weir cannot take.
  for (const char* bad :
       {"{", "[1]", R"({"target-directory":5})", R"({"cancel-job":"yes"})",
        R"({"formatType":"OTHER"})"}) {
    auto [s, b] = Post(JobPath("/savepoints"), bad);
    EXPECT_EQ(s, 400) << bad;
    EXPECT_TRUE(b.contains("errors")) << bad;
  }
  auto [s4, b4] = Post(JobPath("/savepoints"),
                       R"({"target-directory":"/sp","formatType":"OTHER"})");
  EXPECT_THAT(b4["errors"][0].get<std::string>(), HasSubstr("NATIVE"));
  EXPECT_EQ(Post(JobPath("/stop"), R"({"drain":1})").first, 400);
  EXPECT_TRUE(jobs_.triggered().empty());
  // Unknown request ids, a checkpoint id, and a checkpoint's trigger id.
  EXPECT_EQ(Get(JobPath("/savepoints/9")).first, 404);
  EXPECT_EQ(Get(JobPath("/savepoints/x")).first, 404);
  auto [s5, b5] = Get(JobPath("/savepoints/" + std::string(kTriggerHex)));
  EXPECT_EQ(s5, 404);
  EXPECT_THAT(b5["errors"][0].get<std::string>(),
              HasSubstr(std::string("no savepoint request ") + kTriggerHex));
  auto [s6, checkpoint] = Post(JobPath("/checkpoints"), "");
  ASSERT_EQ(s6, 202);
  jobs_.End(1);
  EXPECT_EQ(Get(JobPath("/savepoints/1")).first, 404);
  EXPECT_EQ(
      Get(JobPath("/savepoints/" + checkpoint["request-id"].get<std::string>()))
          .first,
      404);
  EXPECT_EQ(Get(JobPath("/stop")).first, 405);
}

// Flink's idempotency: a trigger with a triggerId answers that id; a repeat
// of it, while the savepoint runs or after it ended, answers the same id and
// triggers nothing.
TEST_F(SavepointRestTest, AClientTriggerIdIsHonouredAndIdempotent) {
  const std::string body = std::string(R"({"target-directory":"/sp",)") +
                           R"("triggerId":")" + kTriggerHex + "\"}";
  auto [status, first] = Post(JobPath("/savepoints"), body);
  EXPECT_EQ(status, 202);
  EXPECT_EQ(first, (json{{"request-id", kTriggerHex}}));
  ASSERT_EQ(jobs_.triggered().size(), 1u);

  // While it runs: the same id, nothing triggered; also in upper case, and
  // as a stop (savepoints and stops share trigger ids, as in Flink).
  EXPECT_EQ(Post(JobPath("/savepoints"), body).second, first);
  EXPECT_EQ(Post(JobPath("/savepoints"),
                 std::string(R"({"triggerId":")") + Upper(kTriggerHex) + "\"}")
                .second,
            first);
  EXPECT_EQ(Post(JobPath("/stop"),
                 std::string(R"({"triggerId":")") + kTriggerHex + "\"}")
                .second,
            first);
  EXPECT_EQ(jobs_.triggered().size(), 1u);
  auto [s1, running] = Get(JobPath("/savepoints/") + kTriggerHex);
  EXPECT_EQ(s1, 200);
  EXPECT_EQ(running["status"]["id"], "IN_PROGRESS");

  // After it ended: the same again, and its outcome.
  jobs_.End(1);
  auto [s2, again] = Post(JobPath("/savepoints"), body);
  EXPECT_EQ(s2, 202);
  EXPECT_EQ(again, first);
  EXPECT_EQ(jobs_.triggered().size(), 1u);
  auto [s3, done] = Get(JobPath("/savepoints/") + kTriggerHex);
  EXPECT_EQ(s3, 200);
  EXPECT_EQ(done["status"]["id"], "COMPLETED");
  EXPECT_EQ(done["operation"]["location"], "/sp/savepoint-012345-000000000001");

  // The id names an operation of one job: on another job it is another
  // operation (which fails there: that job is not running).
  EXPECT_EQ(Post(std::string("/jobs/") + kDoneHex + "/savepoints", body).first,
            409);
  EXPECT_EQ(Get(std::string("/jobs/") + kDoneHex + "/savepoints/" + kTriggerHex)
                .first,
            404);
}

TEST_F(SavepointRestTest, AMalformedTriggerIdIsRefusedByName) {
  for (const std::string path : {"/savepoints", "/stop"}) {
    for (const char* bad :
         {R"({"triggerId":"1"})", R"({"triggerId":7})",
          R"({"triggerId":"zz23456789abcdef0123456789abcdef"})"}) {
      auto [status, body] = Post(JobPath(path), bad);
      EXPECT_EQ(status, 400) << path << " " << bad;
      EXPECT_THAT(body["errors"][0].get<std::string>(), HasSubstr("triggerId"))
          << path << " " << bad;
    }
  }
  auto [status, body] =
      Post("/savepoint-disposal", R"({"savepoint-path":"/fake/x",)"
                                  R"("triggerId":"not-an-id"})");
  EXPECT_EQ(status, 400);
  EXPECT_THAT(body["errors"][0].get<std::string>(),
              HasSubstr("triggerId 'not-an-id' is not a trigger id"));
  EXPECT_TRUE(jobs_.triggered().empty());
  EXPECT_TRUE(jobs_.disposed().empty());
}

// A trigger that fails at once (no directory) is not remembered: the same
// id later triggers.
TEST_F(SavepointRestTest, ATriggerIdWhoseTriggerFailedMayBeUsedAgain) {
  const std::string body =
      std::string(R"({"triggerId":")") + kTriggerHex + "\"}";
  EXPECT_EQ(Post(JobPath("/savepoints"), body).first, 400);
  EXPECT_EQ(Get(JobPath("/savepoints/") + kTriggerHex).first, 404);
  jobs_.SetDefaultDir("/default");
  auto [status, answer] = Post(JobPath("/savepoints"), body);
  EXPECT_EQ(status, 202);
  EXPECT_EQ(answer["request-id"], kTriggerHex);
  EXPECT_EQ(jobs_.triggered().size(), 1u);
}

// Two requests with one trigger id at once (a client that retried while
// its first trigger still waited): one savepoint, one id.
TEST_F(SavepointRestTest, ARepeatWhileTheTriggerWaitsTriggersOnce) {
  jobs_.HoldTriggers(true);
  const std::string body = std::string(R"({"target-directory":"/sp",)") +
                           R"("triggerId":")" + kTriggerHex + "\"}";
  std::pair<int, json> first, second;
  std::thread a([&] { first = Post(JobPath("/savepoints"), body); });
  for (int i = 0; i < 500 && jobs_.triggered().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(jobs_.triggered().size(), 1u);
  std::thread b([&] {
    second = Post(JobPath("/stop"),
                  std::string(R"({"triggerId":")") + kTriggerHex + "\"}");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(jobs_.triggered().size(), 1u);
  jobs_.HoldTriggers(false);
  a.join();
  b.join();
  EXPECT_EQ(first.first, 202);
  EXPECT_EQ(second.first, 202);
  EXPECT_EQ(first.second["request-id"], kTriggerHex);
  EXPECT_EQ(second.second["request-id"], kTriggerHex);
  ASSERT_EQ(jobs_.triggered().size(), 1u);
  EXPECT_EQ(jobs_.triggered()[0].then, Then::kContinue);
}

TEST_F(SavepointRestTest, ADisposalTriggerIdIsIdempotent) {
  jobs_.Hold(true);
  const std::string body = std::string(R"({"savepoint-path":"/fake/sp-1",)") +
                           R"("triggerId":")" + Upper(kTriggerHex) + "\"}";
  auto [status, first] = Post("/savepoint-disposal", body);
  EXPECT_EQ(status, 202);
  EXPECT_EQ(first, (json{{"request-id", kTriggerHex}}));
  EXPECT_EQ(Post("/savepoint-disposal", body).second, first);
  jobs_.Hold(false);
  EXPECT_EQ(AwaitDisposal(kTriggerHex)["status"]["id"], "COMPLETED");
  EXPECT_EQ(Post("/savepoint-disposal", body).second, first);
  EXPECT_EQ(Get("/savepoint-disposal/" + Upper(kTriggerHex)).first, 200);
  EXPECT_EQ(jobs_.disposed(), std::vector<std::string>{"/fake/sp-1"});
}

// A weir from before trigger ids refused the field by name: the client
// asks once more without it, and polls with the id that weir answered.
TEST_F(SavepointRestTest, AnOlderWeirIsAskedAgainWithoutTheTriggerId) {
  std::mutex mu;
  std::vector<std::string> bodies;
  server_->AddRoute("POST", "/jobs/:jobid/stop", [&](const RestRequest& r) {
    std::lock_guard<std::mutex> lock(mu);
    bodies.push_back(r.body);
    if (r.body.find("triggerId") != std::string::npos) {
      return ErrorResponse(400,
                           "the stop request: triggerId is not supported "
                           "(weir chooses the trigger id and returns it)");
    }
    return JsonResponse(202, {{"request-id", "7"}});
  });
  SavepointOptions options;
  options.then = Then::kStop;
  options.target_dir = "/sp";
  ASSERT_OK_AND_ASSIGN(
      std::string request,
      RequestSavepoint(kHost, port(), IdOf(kJobHex), options, kTriggerHex));
  EXPECT_EQ(request, "7");
  {
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_EQ(bodies.size(), 2u);
    EXPECT_THAT(bodies[0], HasSubstr(kTriggerHex));
    EXPECT_THAT(bodies[1], ::testing::Not(HasSubstr("triggerId")));
    bodies.clear();
  }
  // Another 400 is not asked again.
  server_->AddRoute("POST", "/jobs/:jobid/stop", [&](const RestRequest& r) {
    std::lock_guard<std::mutex> lock(mu);
    bodies.push_back(r.body);
    return ErrorResponse(400, "no target directory");
  });
  EXPECT_THAT(
      RequestSavepoint(kHost, port(), IdOf(kJobHex), options, kTriggerHex)
          .status(),
      StatusIs(Status::Code::kInvalidArgument));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(bodies.size(), 1u);
}

TEST_F(SavepointRestTest, DisposalRunsInTheBackgroundAndReportsItsOutcome) {
  jobs_.Hold(true);
  auto [status, body] =
      Post("/savepoint-disposal", R"({"savepoint-path":"/fake/sp-1"})");
  EXPECT_EQ(status, 202);
  const std::string id = body["request-id"].get<std::string>();
  EXPECT_EQ(id.size(), 32u);
  auto [s1, running] = Get("/savepoint-disposal/" + id);
  EXPECT_EQ(s1, 200);
  EXPECT_EQ(running["status"]["id"], "IN_PROGRESS");
  jobs_.Hold(false);
  EXPECT_EQ(AwaitDisposal(id),
            json::parse(R"({"status":{"id":"COMPLETED"},"operation":{}})"));
  EXPECT_EQ(jobs_.disposed(), std::vector<std::string>{"/fake/sp-1"});

  auto [s2, b2] =
      Post("/savepoint-disposal", R"({"savepoint-path":"/fake/broken"})");
  ASSERT_EQ(s2, 202);
  const json failed = AwaitDisposal(b2["request-id"].get<std::string>());
  EXPECT_EQ(failed["operation"]["failure-cause"]["stack-trace"],
            "/fake/broken/_metadata: truncated");

  // Not under /fake/: weir::DisposeSavepoint, which finds nothing there.
  testutil::TestDir dir;
  dir.Create();
  auto [s3, b3] = Post("/savepoint-disposal",
                       json{{"savepoint-path", dir.Sub("nothing")}}.dump());
  ASSERT_EQ(s3, 202);
  const json missing = AwaitDisposal(b3["request-id"].get<std::string>());
  EXPECT_THAT(
      missing["operation"]["failure-cause"]["stack-trace"].get<std::string>(),
      HasSubstr("nothing"));

  EXPECT_EQ(Post("/savepoint-disposal", "{}").first, 400);
  EXPECT_EQ(Post("/savepoint-disposal", R"({"savepoint-path":""})").first, 400);
  EXPECT_EQ(Get("/savepoint-disposal/0123").first, 404);
  EXPECT_EQ(Get("/savepoint-disposal").first, 405);
}

TEST_F(SavepointRestTest, StopWaitsForADisposalInProgress) {
  jobs_.Hold(true);
  ASSERT_EQ(
      Post("/savepoint-disposal", R"({"savepoint-path":"/fake/a"})").first,
      202);
  std::thread release([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    jobs_.Hold(false);
  });
  server_->Stop();
  EXPECT_EQ(jobs_.disposed(), std::vector<std::string>{"/fake/a"});
  release.join();
}

TEST_F(SavepointRestTest, ClientTriggersPollsAndDisposes) {
  SavepointOptions options;
  options.target_dir = "/sp";
  options.then = Then::kCancel;
  ASSERT_OK_AND_ASSIGN(std::string request,
                       RequestSavepoint(kHost, port(), IdOf(kJobHex), options));
  EXPECT_TRUE(IsTriggerId(request)) << request;
  jobs_.Progress(1, 2, 5);
  ASSERT_OK_AND_ASSIGN(
      OperationStatus st,
      FetchSavepointStatus(kHost, port(), IdOf(kJobHex), request));
  EXPECT_FALSE(st.done);
  EXPECT_TRUE(st.has_progress);
  EXPECT_EQ(st.tasks_acknowledged, 2);
  EXPECT_EQ(st.tasks_total, 4);
  EXPECT_EQ(st.files, 5);
  EXPECT_EQ(st.bytes, 1024u);
  jobs_.End(1);
  ASSERT_OK_AND_ASSIGN(
      st, FetchSavepointStatus(kHost, port(), IdOf(kJobHex), request));
  EXPECT_TRUE(st.done);
  EXPECT_EQ(st.failure, "");
  EXPECT_EQ(st.location, "/sp/savepoint-012345-000000000001");

  options.then = Then::kStop;
  options.drain = true;
  ASSERT_OK_AND_ASSIGN(request, RequestSavepoint(kHost, port(), IdOf(kJobHex),
                                                 options, kTriggerHex));
  EXPECT_EQ(request, kTriggerHex);
  jobs_.End(2, "the disk is full");
  ASSERT_OK_AND_ASSIGN(
      st, FetchSavepointStatus(kHost, port(), IdOf(kJobHex), request));
  EXPECT_TRUE(st.done);
  EXPECT_EQ(st.failure, "the disk is full");
  const std::vector<SavepointOptions> t = jobs_.triggered();
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].then, Then::kCancel);
  EXPECT_EQ(t[0].target_dir, "/sp");
  EXPECT_EQ(t[1].then, Then::kStop);
  EXPECT_TRUE(t[1].drain);

  EXPECT_THAT(RequestSavepoint(kHost, port(), IdOf(kJobHex), SavepointOptions{})
                  .status(),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("no target directory")));
  EXPECT_THAT(
      RequestSavepoint(kHost, port(), IdOf(kOtherHex), options).status(),
      StatusIs(Status::Code::kNotFound));

  ASSERT_OK_AND_ASSIGN(std::string disposal,
                       RequestSavepointDisposal(kHost, port(), "/fake/sp"));
  OperationStatus d;
  for (int i = 0; i < 500 && !d.done; ++i) {
    ASSERT_OK_AND_ASSIGN(d,
                         FetchSavepointDisposalStatus(kHost, port(), disposal));
    if (!d.done) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.failure, "");
  EXPECT_THAT(FetchSavepointDisposalStatus(kHost, port(), "nope").status(),
              StatusIs(Status::Code::kNotFound));
}

// Every request names only fields it knows: a misspelled one is an error
// that names it (and lists the known ones), not a silent default.
TEST(SavepointJson, UnknownRequestFieldsAreErrors) {
  EXPECT_THAT(
      ParseSavepointTriggerRequest(R"({"target_directory":"/x"})").status(),
      StatusIs(Status::Code::kInvalidArgument,
               HasSubstr("unknown fields 'target_directory' (known: "
                         "target-directory, cancel-job")));
  EXPECT_THAT(ParseStopRequest(R"({"drain":true,"dran":1,"x":2})").status(),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("unknown fields 'dran', 'x'")));
  EXPECT_THAT(
      ParseSavepointDisposalRequest(R"({"savepoint-path":"/s","force":true})")
          .status(),
      StatusIs(Status::Code::kInvalidArgument, HasSubstr("'force'")));
  EXPECT_OK(ParseSavepointTriggerRequest(
      R"({"target-directory":"/x","cancel-job":false,"formatType":"NATIVE"})"));
}

// Flink's triggerId is taken by every trigger: 32 hex digits, kept in lower
// case; anything else is an error that names it.
TEST(SavepointJson, TriggerIdIsReadAndChecked) {
  std::optional<std::string> id;
  ASSERT_OK(ParseSavepointTriggerRequest(
      R"({"triggerId":"0123456789ABCDEF0123456789abcdef"})", &id));
  EXPECT_EQ(id, "0123456789abcdef0123456789abcdef");
  ASSERT_OK(ParseStopRequest(
      std::string(R"({"drain":true,"triggerId":")") + kTriggerHex + "\"}",
      &id));
  EXPECT_EQ(id, kTriggerHex);
  ASSERT_OK(ParseSavepointDisposalRequest(
      std::string(R"({"savepoint-path":"/s","triggerId":")") + kTriggerHex +
          "\"}",
      &id));
  EXPECT_EQ(id, kTriggerHex);
  // Absent or null: none; without somewhere to put it, it is still checked.
  ASSERT_OK(ParseStopRequest(R"({"triggerId":null})", &id));
  EXPECT_EQ(id, std::nullopt);
  ASSERT_OK(ParseSavepointTriggerRequest("", &id));
  EXPECT_EQ(id, std::nullopt);
  EXPECT_OK(ParseSavepointTriggerRequest(std::string(R"({"triggerId":")") +
                                         kTriggerHex + "\"}"));
  for (const char* bad :
       {R"({"triggerId":"a"})", R"({"triggerId":17})",
        R"({"triggerId":"0123456789abcdef0123456789abcdeg"})",
        R"({"triggerId":"0123456789abcdef0123456789abcdef0"})",
        R"({"triggerId":""})", R"({"triggerId":["x"]})"}) {
    EXPECT_THAT(
        ParseSavepointTriggerRequest(bad).status(),
        StatusIs(Status::Code::kInvalidArgument, HasSubstr("triggerId")))
        << bad;
    EXPECT_THAT(
        ParseStopRequest(bad).status(),
        StatusIs(Status::Code::kInvalidArgument, HasSubstr("triggerId")))
        << bad;
  }
  EXPECT_THAT(ParseSavepointTriggerRequest(R"({"triggerId":"xyz"})").status(),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("triggerId 'xyz' is not a trigger id (32 hex "
                                 "digits)")));
  // The bodies the client sends carry it.
  SavepointOptions options;
  ASSERT_OK(ParseSavepointTriggerRequest(
      SavepointTriggerBody(options, kTriggerHex), &id));
  EXPECT_EQ(id, kTriggerHex);
  options.then = Then::kStop;
  ASSERT_OK(ParseStopRequest(StopBody(options, kTriggerHex), &id));
  EXPECT_EQ(id, kTriggerHex);
  ASSERT_OK(ParseStopRequest(StopBody(options), &id));
  EXPECT_EQ(id, std::nullopt);
}

TEST(SavepointJson, RequestBodiesRoundTrip) {
  SavepointOptions options;
  options.target_dir = "/sp dir";
  options.then = Then::kCancel;
  options.self_contained = true;
  ASSERT_OK_AND_ASSIGN(
      SavepointOptions back,
      ParseSavepointTriggerRequest(SavepointTriggerBody(options)));
  EXPECT_EQ(back.target_dir, "/sp dir");
  EXPECT_EQ(back.then, Then::kCancel);
  EXPECT_TRUE(back.self_contained);
  EXPECT_EQ(back.format, SavepointFormatType::kNative);
  options.format = SavepointFormatType::kCanonical;
  ASSERT_OK_AND_ASSIGN(
      back, ParseSavepointTriggerRequest(SavepointTriggerBody(options)));
  EXPECT_EQ(back.format, SavepointFormatType::kCanonical);

  options.then = Then::kStop;
  options.drain = true;
  options.self_contained = false;
  ASSERT_OK_AND_ASSIGN(back, ParseStopRequest(StopBody(options)));
  EXPECT_EQ(back.target_dir, "/sp dir");
  EXPECT_EQ(back.then, Then::kStop);
  EXPECT_TRUE(back.drain);
  EXPECT_EQ(back.format, SavepointFormatType::kCanonical);

  ASSERT_OK_AND_ASSIGN(back, ParseSavepointTriggerRequest("  "));
  EXPECT_EQ(back.target_dir, "");
  EXPECT_EQ(back.then, Then::kContinue);

  EXPECT_EQ(
      ParseSavepointDisposalRequest(SavepointDisposalBody("/a/b")).value_or(""),
      "/a/b");
  EXPECT_EQ(ParseRequestId(R"({"request-id":"17"})").value_or(""), "17");
  EXPECT_THAT(ParseRequestId(R"({"request-id":17})").status(),
              StatusIs(Status::Code::kInvalidArgument));
}

TEST(SavepointJson, StatusBodiesParse) {
  CheckpointStats stats;
  stats.id = 4;
  stats.savepoint = true;
  stats.tasks_acknowledged = 1;
  stats.tasks_total = 2;
  stats.files = 3;
  stats.bytes_uploaded = 10;
  stats.bytes_referenced = 5;
  ASSERT_OK_AND_ASSIGN(
      OperationStatus st,
      ParseOperationStatus(SavepointStatusToJson(nullptr, &stats).dump()));
  EXPECT_FALSE(st.done);
  EXPECT_TRUE(st.has_progress);
  EXPECT_EQ(st.bytes, 15u);
  ASSERT_OK_AND_ASSIGN(
      st, ParseOperationStatus(SavepointStatusToJson(nullptr, nullptr).dump()));
  EXPECT_FALSE(st.done);
  EXPECT_FALSE(st.has_progress);
  stats.state = CheckpointState::kCompleted;
  stats.path = "/sp/x";
  ASSERT_OK_AND_ASSIGN(
      st, ParseOperationStatus(SavepointStatusToJson(&stats, nullptr).dump()));
  EXPECT_TRUE(st.done);
  EXPECT_EQ(st.location, "/sp/x");
  ASSERT_OK_AND_ASSIGN(
      st, ParseOperationStatus(
              DisposalStatusToJson(true, Status::NotFound("gone")).dump()));
  EXPECT_TRUE(st.done);
  EXPECT_EQ(st.failure, "gone");
  ASSERT_OK_AND_ASSIGN(
      st,
      ParseOperationStatus(DisposalStatusToJson(true, Status::OK()).dump()));
  EXPECT_TRUE(st.done);
  EXPECT_EQ(st.failure, "");
  // Progress of the wrong type is ignored, not thrown.
  ASSERT_OK_AND_ASSIGN(st,
                       ParseOperationStatus(R"({"status":{"id":"IN_PROGRESS"},)"
                                            R"("progress":{"files":"many"}})"));
  EXPECT_EQ(st.files, 0);
  EXPECT_THAT(ParseOperationStatus(R"({"status":{"id":"WHAT"}})").status(),
              StatusIs(Status::Code::kInvalidArgument));
  EXPECT_THAT(ParseOperationStatus("[]").status(),
              StatusIs(Status::Code::kInvalidArgument));
}

}  // namespace
}  // namespace weir::tools
