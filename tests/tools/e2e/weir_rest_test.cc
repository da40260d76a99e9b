// SPDX-License-Identifier: Apache-2.0
//
// The REST endpoint of the `weir` binary, end to end: after its job ended
// (stopped with a savepoint, finished) `weir run` still answers for it for
// rest.archive-linger, then exits with the job's exit status; DELETE
// /cluster ends that early, and a new `weir run` on the same port takes it
// over; triggers with a client's triggerId are answered with it and are
// idempotent; the informational routes answer for a real job.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/tools/e2e/output_files.h"
#include "tests/tools/e2e/run_process.h"
#include "tests/tools/e2e/weir_job_fixture.h"
#include "tests/tools/e2e/weir_output.h"
#include "tools/control/rest_client.h"

namespace weir::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

constexpr char kHost[] = "127.0.0.1";
constexpr char kSavepointTrigger[] = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
constexpr char kStopTrigger[] = "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f";
constexpr char kCheckpointTrigger[] = "c0ffee00c0ffee00c0ffee00c0ffee00";

class WeirRestTest : public WeirJobTest {
 protected:
  void TearDown() override {
    // Cancels the jobs that still run; then a signal ends the wait of the
    // processes that still answer for their ended jobs.
    WeirJobTest::TearDown();
    for (pid_t pid : pids_) {
      if (WaitExit(pid, 0)) continue;
      kill(pid, SIGTERM);
      if (WaitExit(pid, 15000)) continue;
      ADD_FAILURE() << "weir run " << pid << " did not exit on SIGTERM";
      kill(pid, SIGKILL);
      WaitExit(pid, 10000);
    }
  }

  struct Running {
    pid_t pid = -1;
    std::string id;
    int port = 0;
    std::string out_path;
  };

  // `weir run -c conf.yaml <args> JOB` in the foreground of a process of
  // its own, once it has submitted its job.
  Running Run(std::vector<std::string> args, const std::string& job_file) {
    std::vector<std::string> argv = {WeirBinary(), "run", "-c", "conf.yaml"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(job_file);
    Running r;
    r.out_path = dir_.Sub("run-" + std::to_string(pids_.size()) + ".out");
    const std::string err = r.out_path + ".err";
    r.pid = Spawn(argv, dir_.path(), env_, r.out_path, err);
    EXPECT_GT(r.pid, 0);
    if (r.pid <= 0) return r;
    pids_.push_back(r.pid);
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    std::string out;
    while ((out = Slurp(r.out_path)).find("REST endpoint") ==
           std::string::npos) {
      if (WaitExit(r.pid, 0) || Clock::now() > deadline) {
        ADD_FAILURE() << "weir run did not start: " << out << Slurp(err);
        return r;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    r.id = After(out, "Job has been submitted with JobID ");
    const std::string port = After(out, "REST endpoint: http://127.0.0.1:");
    r.port = port.empty() ? 0 : std::stoi(port);
    EXPECT_EQ(r.id.size(), 32u) << out;
    EXPECT_GT(r.port, 0) << out;
    if (!r.id.empty()) started_.push_back(r.id);
    return r;
  }

  // Status code and body of a request to the job's endpoint; 0 if it did
  // not answer.
  std::pair<int, json> Call(const Running& r, const std::string& method,
                            const std::string& path,
                            const std::string& body = "") {
    Result<std::string> answer =
        method == "GET"    ? tools::HttpGet(kHost, r.port, path)
        : method == "POST" ? tools::HttpPost(kHost, r.port, path, body)
                           : tools::HttpDelete(kHost, r.port, path);
    if (answer.ok()) return {200, json::parse(*answer, nullptr, false)};
    const std::string why(answer.status().message());
    const size_t at = why.rfind("(HTTP ");
    if (at == std::string::npos) return {0, json(why)};
    return {std::stoi(why.substr(at + 6)), json(why)};
  }

  json Get(const Running& r, const std::string& path) {
    auto [status, body] = Call(r, "GET", path);
    EXPECT_EQ(status, 200) << path << ": " << body;
    return body;
  }

  // Polls GET <path> until its status is COMPLETED.
  json AwaitCompleted(const Running& r, const std::string& path) {
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (Clock::now() < deadline) {
      json body = Get(r, path);
      if (!body.is_object()) return body;
      if (body["status"]["id"] == "COMPLETED") return body;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << path << " did not complete";
    return json();
  }

  // Waits until the job's state is `state`.
  void AwaitState(const Running& r, const std::string& state) {
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    std::string last;
    while (Clock::now() < deadline) {
      json job = Get(r, "/jobs/" + r.id);
      if (!job.is_object()) return;
      last = job["state"].get<std::string>();
      if (last == state) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "job " << r.id << " is " << last << ", not " << state;
  }

  // The exit status of the process, waiting at most `timeout_s`.
  std::optional<int> Exit(const Running& r, int timeout_s) {
    return WaitExit(r.pid, timeout_s * 1000);
  }

  void AppendEvents(int n) {
    std::ofstream out(dir_.Sub("events.csv"), std::ios::app);
    for (int i = 0; i < n; ++i) out << "user" << i % 7 << "," << i + 1 << "\n";
  }

  std::vector<pid_t> pids_;
};

// `weir stop` ends the job; its `weir run` still answers GET /jobs/:jobid
// (and the other job routes) with the final state until rest.archive-linger
// has passed or DELETE /cluster came, and then exits with status 0.
TEST_F(WeirRestTest, TheFinalStateStaysQueryableAfterAStopWithSavepoint) {
  const std::string sp = dir_.Sub("sp");
  Running run = Run({"-D", "rest.archive-linger=60s", "-D",
                     "execution.checkpointing.savepoint-dir=" + sp},
                    "sums.yaml");
  ASSERT_GT(run.port, 0);
  AppendEvents(100);
  AwaitState(run, "RUNNING");

  ProcessResult stop = Weir({"stop", run.id});
  ASSERT_EQ(stop.exit_code, 0) << stop.out << stop.err;
  const std::string location = After(stop.out, "Savepoint completed. Path: ");
  EXPECT_THAT(location, StartsWith(sp + "/savepoint-"));
  EXPECT_TRUE(fs::exists(location + "/_metadata")) << location;

  // The job ended and is no longer registered: `weir run` answers on.
  WaitGone(run.id);
  EXPECT_FALSE(Exit(run, 0).has_value());
  json job = Get(run, "/jobs/" + run.id);
  EXPECT_EQ(job["state"], "FINISHED");
  EXPECT_GT(job["end-time"].get<int64_t>(), 0);
  EXPECT_GE(job["end-time"].get<int64_t>(), job["start-time"].get<int64_t>());
  json overview = Get(run, "/jobs/overview");
  ASSERT_EQ(overview["jobs"].size(), 1u);
  EXPECT_EQ(overview["jobs"][0]["state"], "FINISHED");
  json cluster = Get(run, "/overview");
  EXPECT_EQ(cluster["jobs-running"], 0);
  EXPECT_EQ(cluster["jobs-finished"], 1);
  EXPECT_EQ(cluster["slots-total"], cluster["slots-available"]);
  EXPECT_THAT(cluster["flink-version"].get<std::string>(), StartsWith("weir"));
  json exceptions = Get(run, "/jobs/" + run.id + "/exceptions");
  EXPECT_TRUE(exceptions["root-exception"].is_null()) << exceptions;
  EXPECT_EQ(exceptions["exceptionHistory"]["entries"], json::array());
  json config = Get(run, "/jobs/" + run.id + "/config");
  EXPECT_EQ(config["execution-config"]["restart-strategy"],
            "Restart deactivated.");
  EXPECT_EQ(config["execution-config"]["user-config"]
                  ["execution.checkpointing.savepoint-dir"],
            sp);
  json checkpoints = Get(run, "/jobs/" + run.id + "/checkpoints/config");
  EXPECT_EQ(checkpoints["mode"], "exactly_once");
  EXPECT_EQ(checkpoints["interval"], 200);
  // The savepoint that stopped it is in the history.
  json history = Get(run, "/jobs/" + run.id + "/checkpoints");
  EXPECT_EQ(history["latest"]["savepoint"]["external_path"], location);

  // DELETE /cluster: it exits now, with the status of a stopped job.
  EXPECT_EQ(Call(run, "DELETE", "/cluster").first, 200);
  std::optional<int> code = Exit(run, 20);
  ASSERT_TRUE(code.has_value()) << "weir run did not exit";
  EXPECT_EQ(*code, 0);
  EXPECT_THAT(Slurp(run.out_path), HasSubstr("Job " + run.id + " finished."));
}

// A client's triggerId is the request id, polling it works, and repeating
// the trigger (while it runs or after it ended) answers the same id and
// triggers nothing more: one savepoint directory per id, and a stop that
// is repeated after the job ended still answers.
TEST_F(WeirRestTest, AClientTriggerIdIsHonouredEndToEnd) {
  const std::string sp = dir_.Sub("sp");
  Running run = Run({"-D", "rest.archive-linger=60s"}, "sums.yaml");
  ASSERT_GT(run.port, 0);
  AppendEvents(50);
  AwaitState(run, "RUNNING");
  const std::string job = "/jobs/" + run.id;

  // A checkpoint.
  const std::string checkpoint_body =
      std::string(R"({"triggerId":")") + kCheckpointTrigger + "\"}";
  auto [c1, checkpoint] =
      Call(run, "POST", job + "/checkpoints", checkpoint_body);
  ASSERT_EQ(c1, 200) << checkpoint;
  EXPECT_EQ(checkpoint["request-id"], kCheckpointTrigger);
  EXPECT_EQ(Call(run, "POST", job + "/checkpoints", checkpoint_body).second,
            checkpoint);
  json checkpoint_done =
      AwaitCompleted(run, job + "/checkpoints/" + kCheckpointTrigger);
  EXPECT_EQ(checkpoint_done["operation"]["checkpointId"],
            checkpoint["checkpoint-id"]);
  EXPECT_THAT(checkpoint_done["operation"]["location"].get<std::string>(),
              HasSubstr("/chk-"));

  // A savepoint, triggered twice with one id.
  const std::string savepoint_body =
      json{{"target-directory", sp}, {"triggerId", kSavepointTrigger}}.dump();
  auto [s1, savepoint] = Call(run, "POST", job + "/savepoints", savepoint_body);
  ASSERT_EQ(s1, 200) << savepoint;
  EXPECT_EQ(savepoint, (json{{"request-id", kSavepointTrigger}}));
  EXPECT_EQ(Call(run, "POST", job + "/savepoints", savepoint_body).second,
            savepoint);
  json savepoint_done =
      AwaitCompleted(run, job + "/savepoints/" + kSavepointTrigger);
  const std::string location =
      savepoint_done["operation"]["location"].get<std::string>();
  EXPECT_THAT(location, StartsWith(sp + "/savepoint-"));
  EXPECT_EQ(Call(run, "POST", job + "/savepoints", savepoint_body).second,
            savepoint);
  EXPECT_EQ(Tree(sp).size(), Tree(location).size() + 1)
      << "one savepoint directory in " << sp;

  // A malformed triggerId: 400 naming it, nothing triggered.
  auto [bad_status, bad] =
      Call(run, "POST", job + "/stop", R"({"triggerId":"not-hex"})");
  EXPECT_EQ(bad_status, 400);
  EXPECT_THAT(bad.get<std::string>(), HasSubstr("triggerId"));
  AwaitState(run, "RUNNING");

  // A stop, repeated after the job ended.
  const std::string stop_body =
      json{{"targetDirectory", sp}, {"triggerId", kStopTrigger}}.dump();
  auto [t1, stop] = Call(run, "POST", job + "/stop", stop_body);
  ASSERT_EQ(t1, 200) << stop;
  EXPECT_EQ(stop, (json{{"request-id", kStopTrigger}}));
  json stop_done = AwaitCompleted(run, job + "/savepoints/" + kStopTrigger);
  EXPECT_FALSE(stop_done["operation"].contains("failure-cause")) << stop_done;
  AwaitState(run, "FINISHED");
  EXPECT_EQ(Call(run, "POST", job + "/stop", stop_body).second, stop);
  // A new trigger id on the ended job is refused: it triggered nothing.
  auto [t2, refused] = Call(run, "POST", job + "/savepoints",
                            json{{"target-directory", sp}}.dump());
  EXPECT_EQ(t2, 409) << refused;

  EXPECT_EQ(Call(run, "DELETE", "/cluster").first, 200);
  std::optional<int> code = Exit(run, 20);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
}

// With the default rest.archive-linger (3 s), a job that finished by itself
// answers for a moment and its `weir run` then exits by itself.
TEST_F(WeirRestTest, TheDefaultLingerEndsByItself) {
  Write(dir_.Sub("bounded.yaml"), SumsJob(/*follow=*/false, "out"));
  AppendEvents(20);
  Running run = Run({}, "bounded.yaml");
  ASSERT_GT(run.port, 0);
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Slurp(run.out_path).find("finished.") == std::string::npos) {
    ASSERT_LT(Clock::now(), deadline) << Slurp(run.out_path);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto ended = Clock::now();
  auto [status, job] = Call(run, "GET", "/jobs/" + run.id);
  EXPECT_EQ(status, 200) << job;
  EXPECT_EQ(job["state"], "FINISHED");
  std::optional<int> code = Exit(run, 30);
  ASSERT_TRUE(code.has_value()) << "weir run did not exit by itself";
  EXPECT_EQ(*code, 0);
  EXPECT_GE(Clock::now() - ended, std::chrono::milliseconds(2000));
}

// A port held by a `weir run` whose job ended: a new `weir run` on it asks
// the old one to go (DELETE /cluster) and takes the port.
TEST_F(WeirRestTest, ANewRunTakesThePortOfAnEndedOne) {
  int port = 0;
  {
    // A port that was free a moment ago.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port = ntohs(addr.sin_port);
    ::close(fd);
  }
  const std::string fixed = "rest.port=" + std::to_string(port);
  Write(dir_.Sub("bounded.yaml"), SumsJob(/*follow=*/false, "out"));
  Running first =
      Run({"-D", fixed, "-D", "rest.archive-linger=10m"}, "bounded.yaml");
  ASSERT_EQ(first.port, port);
  AwaitState(first, "FINISHED");

  Running second = Run({"-D", fixed}, "sums.yaml");
  EXPECT_EQ(second.port, port);
  std::optional<int> code = Exit(first, 30);
  ASSERT_TRUE(code.has_value()) << "the first weir run did not exit";
  EXPECT_EQ(*code, 0);
  AwaitState(second, "RUNNING");

  // A port held by a running job is not taken: the third run fails.
  ProcessResult third =
      Weir({"run", "-c", "conf.yaml", "-D", fixed, "sums.yaml"});
  ExpectOneErrorLine(third,
                     {"cannot listen on 127.0.0.1:" + std::to_string(port)});
  AwaitState(second, "RUNNING");
}

// GET /jobs/:jobid/state/:uid?key=KEY reads the running sum of one user
// from the job's state while it runs, typed as the aggregate is; a key
// without a value and an unknown uid are 404 with the usual JSON error.
TEST_F(WeirRestTest, TheStateOfAnAggregateIsQueryablePerKey) {
  Running run = Run({}, "sums.yaml");
  ASSERT_GT(run.port, 0);
  AwaitState(run, "RUNNING");
  AppendEvents(100);  // user<i % 7>, amount i + 1
  int64_t expected = 0;
  for (int i = 3; i < 100; i += 7) expected += i + 1;
  const std::string path = "/jobs/" + run.id + "/state/totals?key=user3";
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  json answer;
  while (Clock::now() < deadline) {
    auto [status, body] = Call(run, "GET", path);
    answer = body;
    if (status == 200 && body["value"] == expected) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(answer, json({{"key", "user3"}, {"value", expected}})) << answer;

  auto [no_key_status, no_key] =
      Call(run, "GET", "/jobs/" + run.id + "/state/totals?key=nobody");
  EXPECT_EQ(no_key_status, 404);
  EXPECT_THAT(no_key.get<std::string>(),
              HasSubstr("aggregate 'totals' has no value for key 'nobody'"));
  auto [no_uid_status, no_uid] =
      Call(run, "GET", "/jobs/" + run.id + "/state/nope?key=user3");
  EXPECT_EQ(no_uid_status, 404);
  EXPECT_THAT(no_uid.get<std::string>(), HasSubstr("no aggregate with uid"));
  auto [missing_status, missing] =
      Call(run, "GET", "/jobs/" + run.id + "/state/totals");
  EXPECT_EQ(missing_status, 400);
}

}  // namespace
}  // namespace weir::e2e
