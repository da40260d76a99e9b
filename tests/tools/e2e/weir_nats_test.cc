// SPDX-License-Identifier: Apache-2.0
//
// The `weir` binary with a real nats-server (started by the test on a free
// loopback port): a YAML job nats-source -> keyed sum -> nats-sink over a
// partitioned stream, run to its end; and the same job unbounded, killed
// with SIGKILL at random moments and resumed from its latest checkpoint
// (some runs at another parallelism). The output stream, read back, holds
// each running sum a failure-free run emits exactly once.
//
// The kill schedule is random; the seed is printed, and WEIR_KILL_SEED=N
// replays the same input and delays.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/connectors/nats/nats_server.h"
#include "tests/testutil/status_matchers.h"
#include "tests/tools/e2e/output_files.h"
#include "tests/tools/e2e/run_process.h"
#include "tests/tools/e2e/weir_job_fixture.h"
#include "tests/tools/e2e/weir_output.h"

namespace weir::e2e {
namespace {

using Clock = std::chrono::steady_clock;
using natstest::NatsServer;
using natstest::StoredMessage;

constexpr int kParts = 4;
constexpr int kUsers = 13;

// The job: EVENTS (subjects events.0 .. events.3, one split each) -> sum
// of amount per user -> TOTALS, exactly-once.
std::string NatsSumsJob(const std::string& url, bool bounded) {
  return std::string(R"(name: nats-sums
max-parallelism: 128
operators:
  - uid: events
    type: nats-source
    servers: )") +
         url + R"(
    stream: EVENTS
    subjects: [events.0, events.1, events.2, events.3]
    format: csv
    schema: [user:string, amount:int64]
    bounded: )" +
         (bounded ? "true" : "false") + R"(
  - uid: totals
    type: sum
    key: user
    field: amount
  - uid: out
    type: nats-sink
    servers: )" +
         url + R"(
    subject: totals
    format: csv
    delivery: exactly-once
)";
}

class WeirNatsTest : public WeirJobTest {
 protected:
  void SetUp() override {
    if (!natstest::NatsServerInstalled()) {
      GTEST_SKIP() << "nats-server is not installed";
    }
    WeirJobTest::SetUp();
    server_ = std::make_unique<NatsServer>(dir_.Sub("nats"));
    ASSERT_OK(server_->Start());
    ASSERT_OK(natstest::CreateStream(server_->url(), {"EVENTS", {"events.*"}}));
    // The duplicate window outlasts every restart of the test.
    ASSERT_OK(
        natstest::CreateStream(server_->url(), {"TOTALS", {"totals"}, 600000}));
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      WaitExit(pid_, 10000);
    }
    WeirJobTest::TearDown();
    if (server_ != nullptr) server_->Stop();
  }

  // Publishes `n` events "user<k>,<amount>", user k always on subject
  // events.<k % 4>, so that a user's events keep their order in every run.
  void Append(int n) {
    std::vector<StoredMessage> batch;
    for (int i = 0; i < n; ++i) {
      const int user = static_cast<int>(rng_() % kUsers);
      const int amount = static_cast<int>(rng_() % 100) + 1;
      batch.push_back(
          {"events." + std::to_string(user % kParts),
           "user" + std::to_string(user) + "," + std::to_string(amount)});
      sums_[user] += amount;
      expected_["user" + std::to_string(user) + "," +
                std::to_string(sums_[user])] += 1;
    }
    ASSERT_OK(natstest::Publish(server_->url(), batch));
    records_ += n;
  }

  // The output stream's lines and how often each came.
  std::map<std::string, int> Output() {
    std::vector<StoredMessage> messages;
    EXPECT_OK(natstest::ReadStream(server_->url(), "TOTALS", &messages));
    std::map<std::string, int> out;
    for (const StoredMessage& m : messages) {
      std::string line = m.data;
      while (!line.empty() && line.back() == '\n') line.pop_back();
      out[line] += 1;
    }
    return out;
  }

  int64_t OutputCount() {
    Result<uint64_t> n = natstest::StreamCount(server_->url(), "TOTALS");
    return n.ok() ? static_cast<int64_t>(*n) : -1;
  }

  // Differences between Output() and the expected running sums, at most
  // a few of each kind; the full comparison last.
  void ExpectEachSumOnce(const std::string& context) {
    const std::map<std::string, int> got = Output();
    int shown = 0;
    for (const auto& [line, n] : expected_) {
      auto it = got.find(line);
      const int have = it == got.end() ? 0 : it->second;
      if (have != n && shown++ < 10) {
        ADD_FAILURE() << "'" << line << "': published " << have
                      << " times, expected " << n << " (" << context << ")";
      }
    }
    for (const auto& [line, n] : got) {
      if (expected_.count(line) == 0 && shown++ < 20) {
        ADD_FAILURE() << "'" << line << "': published " << n
                      << " times, expected never (" << context << ")";
      }
    }
    EXPECT_EQ(got, expected_) << context;
  }

  // `weir run --resume -p <parallelism> -c conf.yaml job.yaml` in the
  // background: from the latest checkpoint if there is one, else fresh.
  void Start(int parallelism) {
    std::vector<std::string> args = {WeirBinary(),
                                     "run",
                                     "--resume",
                                     "-p",
                                     std::to_string(parallelism),
                                     "-c",
                                     "conf.yaml",
                                     "job.yaml"};
    ++runs_;
    err_path_ = dir_.Sub("run-" + std::to_string(runs_) + ".err");
    out_path_ = dir_.Sub("run-" + std::to_string(runs_) + ".out");
    pid_ = Spawn(args, dir_.path(), env_, out_path_, err_path_);
    ASSERT_GT(pid_, 0);
  }

  void ExpectRunning() {
    std::optional<int> code = WaitExit(pid_, 0);
    if (code) {
      pid_ = -1;
      FAIL() << "run " << runs_ << " exited with " << *code << ": "
             << Slurp(err_path_);
    }
  }

  void Kill(int sig) {
    ASSERT_EQ(kill(pid_, sig), 0);
    std::optional<int> code = WaitExit(pid_, 60000);
    ASSERT_TRUE(code.has_value()) << "weir did not end after signal " << sig;
    if (sig == SIGTERM) {
      EXPECT_EQ(*code, 0) << Slurp(err_path_);
    }
    pid_ = -1;
  }

  // Kills the unbounded job `kills` times at random moments, each run at
  // `parallelism` except run `other_at` (if >= 0), which runs at
  // `other_parallelism`; then lets a last run catch up.
  void KillAndResume(int kills, int parallelism, int other_at,
                     int other_parallelism) {
    uint64_t seed = std::random_device{}();
    if (const char* s = std::getenv("WEIR_KILL_SEED")) {
      seed = std::strtoull(s, nullptr, 10);
    }
    std::cout << "kill schedule seed " << seed
              << " (replay with WEIR_KILL_SEED=" << seed << ")" << std::endl;
    RecordProperty("seed", std::to_string(seed));
    rng_.seed(seed);
    auto uniform = [this](int lo, int hi) {
      return lo + static_cast<int>(rng_() % static_cast<uint64_t>(hi - lo + 1));
    };
    Write(dir_.Sub("job.yaml"), NatsSumsJob(server_->url(), false));
    const std::string context = "seed " + std::to_string(seed);

    ASSERT_NO_FATAL_FAILURE(Append(500));
    for (int k = 0; k < kills; ++k) {
      ASSERT_NO_FATAL_FAILURE(
          Start(k == other_at ? other_parallelism : parallelism));
      // A random moment: before the first checkpoint of the run, during
      // the restore, between checkpoints, while input arrives.
      const int before = uniform(0, 700);
      const int after = uniform(0, 900);
      std::this_thread::sleep_for(std::chrono::milliseconds(before));
      ASSERT_NO_FATAL_FAILURE(Append(uniform(1, 400)));
      std::this_thread::sleep_for(std::chrono::milliseconds(after));
      ASSERT_NO_FATAL_FAILURE(ExpectRunning());
      std::cout << "kill " << k + 1 << " after " << before + after
                << " ms: published " << OutputCount() << " of " << records_
                << " sums" << std::endl;
      ASSERT_NO_FATAL_FAILURE(Kill(SIGKILL));
      if (rng_() % 2 == 0) {
        ASSERT_NO_FATAL_FAILURE(Append(uniform(1, 300)));  // while down
      }
    }

    // The last run catches up; every running sum is published once.
    ASSERT_NO_FATAL_FAILURE(Start(parallelism));
    const auto deadline = Clock::now() + std::chrono::seconds(120);
    while (Clock::now() < deadline && OutputCount() < records_) {
      ASSERT_NO_FATAL_FAILURE(ExpectRunning());
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    // Checkpoints more: anything published twice would show now.
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    ASSERT_NO_FATAL_FAILURE(ExpectRunning());
    ASSERT_NO_FATAL_FAILURE(Kill(SIGTERM));
    EXPECT_EQ(OutputCount(), records_) << context;
    ExpectEachSumOnce(context);
  }

  std::unique_ptr<NatsServer> server_;
  std::mt19937_64 rng_{42};
  std::map<int, int64_t> sums_;
  std::map<std::string, int> expected_;
  int64_t records_ = 0;
  pid_t pid_ = -1;
  int runs_ = 0;
  std::string err_path_;
  std::string out_path_;
};

// A bounded job file run to its end: every running sum in the output
// stream once, and a second run from scratch (same message ids) adds
// nothing.
TEST_F(WeirNatsTest, YamlJobReadsTheStreamAndPublishesEachSumOnce) {
  ASSERT_NO_FATAL_FAILURE(Append(1000));
  Write(dir_.Sub("job.yaml"), NatsSumsJob(server_->url(), true));
  ProcessResult r = Weir({"run", "-p", "2", "-c", "conf.yaml", "job.yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(OutputCount(), 1000);
  ExpectEachSumOnce("first run");
}

// A job file whose stream does not exist: one error naming the source and
// the stream, exit 1.
TEST_F(WeirNatsTest, UnknownStreamIsOneErrorNamingTheSource) {
  std::string job = NatsSumsJob(server_->url(), true);
  job.replace(job.find("stream: EVENTS"), 14, "stream: NOPE");
  Write(dir_.Sub("job.yaml"), job);
  ProcessResult r = Weir({"run", "-c", "conf.yaml", "job.yaml"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, testing::HasSubstr("NATS source 'events'"));
  EXPECT_THAT(r.err, testing::HasSubstr("stream 'NOPE' not found"));
}

// A broker that requires a password, given a wrong one in the job file:
// one error naming the source and the cause; the password appears nowhere
// in what weir printed.
TEST_F(WeirNatsTest, WrongPasswordIsOneErrorWithoutThePassword) {
  NatsServer secured(dir_.Sub("nats-auth"));
  secured.RequireAuth("weir", "right-pw-1");
  ASSERT_OK(secured.Start());
  const std::string url =
      "nats://weir:wrong-pw-2@127.0.0.1:" + std::to_string(secured.port());
  Write(dir_.Sub("job.yaml"), NatsSumsJob(url, true));
  ProcessResult r = Weir({"-v", "run", "-c", "conf.yaml", "job.yaml"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, testing::AnyOf(testing::HasSubstr("NATS source 'events'"),
                                    testing::HasSubstr("NATS sink 'out'")));
  EXPECT_THAT(r.err, testing::HasSubstr("Authorization Violation"));
  EXPECT_THAT(r.out + r.err, testing::Not(testing::HasSubstr("wrong-pw-2")));
  secured.Stop();
}

TEST_F(WeirNatsTest, KilledThreeTimesPublishesEachSumOnce) {
  KillAndResume(/*kills=*/3, /*parallelism=*/2, /*other_at=*/1,
                /*other_parallelism=*/1);
}

TEST_F(WeirNatsTest, KilledTwentyTimesAtParallelismTwo) {
  KillAndResume(/*kills=*/20, /*parallelism=*/2, /*other_at=*/10,
                /*other_parallelism=*/1);
}

TEST_F(WeirNatsTest, KilledTwentyTimesAtParallelismOne) {
  KillAndResume(/*kills=*/20, /*parallelism=*/1, /*other_at=*/7,
                /*other_parallelism=*/3);
}

}  // namespace
}  // namespace weir::e2e
