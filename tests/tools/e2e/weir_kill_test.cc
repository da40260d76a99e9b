// SPDX-License-Identifier: Apache-2.0
//
// The `weir` binary killed and resumed: the sums job (per-user totals), fed
// from a growing file (`follow`), checkpointing every 200 ms, killed with
// SIGKILL at random moments and resumed each time with
// --from-latest-checkpoint; its committed output (the file sink's visible part
// files) must equal that of a failure-free run. And checkpoints that cannot be
// restored (missing, truncated, foreign, a damaged SST file): one error line,
// exit 1, nothing stored lost.
//
// The kill schedule is random; the seed is printed, and WEIR_KILL_SEED=N
// replays the same input and delays.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testutil/temp_dir.h"
#include "tests/tools/e2e/output_files.h"
#include "tests/tools/e2e/run_process.h"
#include "tests/tools/e2e/weir_job_fixture.h"
#include "tests/tools/e2e/weir_output.h"

namespace weir::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

class WeirKillTest : public WeirJobTest {
 protected:
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      WaitExit(pid_, 10000);
    }
    WeirJobTest::TearDown();
  }

  // Starts `weir run --resume -c conf.yaml sums.yaml` in the background:
  // from the latest checkpoint if there is one, else fresh.
  void Start(int parallelism) {
    std::vector<std::string> args = {WeirBinary(),
                                     "run",
                                     "--resume",
                                     "-p",
                                     std::to_string(parallelism),
                                     "-c",
                                     "conf.yaml",
                                     "sums.yaml"};
    ++runs_;
    err_path_ = dir_.Sub("run-" + std::to_string(runs_) + ".err");
    out_path_ = dir_.Sub("run-" + std::to_string(runs_) + ".out");
    pid_ = Spawn(args, dir_.path(), env_, out_path_, err_path_);
    ASSERT_GT(pid_, 0);
  }

  // Fails if the running weir has exited by itself.
  void ExpectRunning() {
    std::optional<int> code = WaitExit(pid_, 0);
    if (code) {
      pid_ = -1;
      FAIL() << "run " << runs_ << " exited with " << *code << ": "
             << Slurp(err_path_);
    }
  }

  // Waits until the running weir has started its job (and handles SIGTERM:
  // a final checkpoint, then exit status 0).
  void WaitSubmitted() {
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (Slurp(out_path_).find("Job has been submitted") ==
           std::string::npos) {
      ASSERT_NO_FATAL_FAILURE(ExpectRunning());
      ASSERT_LT(Clock::now(), deadline) << "weir did not start its job";
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    // The signal handlers are installed right after that line.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  void Kill(int sig) {
    ASSERT_EQ(kill(pid_, sig), 0);
    std::optional<int> code = WaitExit(pid_, 60000);
    ASSERT_TRUE(code.has_value()) << "weir did not end after signal " << sig;
    if (sig == SIGTERM) {
      EXPECT_EQ(*code, 0) << Slurp(err_path_);  // stopped
    }
    pid_ = -1;
  }

  // Appends `n` records "user<k>,<amount>" to events.csv in one write.
  void Append(int n) {
    std::ostringstream chunk;
    for (int i = 0; i < n; ++i) {
      chunk << "user" << rng_() % 13 << "," << rng_() % 100 + 1 << "\n";
    }
    std::ofstream(dir_.Sub("events.csv"), std::ios::app) << chunk.str();
    records_ += n;
  }

  // The output of a failure-free run over the whole input: the same job,
  // reading the file to its end, without checkpoints.
  std::map<std::string, int> FailureFreeOutput() {
    Write(dir_.Sub("reference.yaml"), SumsJob(/*follow=*/false, "reference"));
    ProcessResult r = Weir({"run", "-D", "rest.port=0", "reference.yaml"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Committed(dir_.Sub("reference"));
  }

  void KillAndResume(int kills, int parallelism) {
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

    Append(500);
    for (int k = 0; k < kills; ++k) {
      ASSERT_NO_FATAL_FAILURE(Start(parallelism));
      // Kill at a random moment: before the first checkpoint of this run,
      // during a restore, between checkpoints, while input arrives.
      const int before = uniform(0, 700);
      const int after = uniform(0, 900);
      std::this_thread::sleep_for(std::chrono::milliseconds(before));
      Append(uniform(1, 400));
      std::this_thread::sleep_for(std::chrono::milliseconds(after));
      ASSERT_NO_FATAL_FAILURE(ExpectRunning());
      std::cout << "kill " << k + 1 << " after " << before + after
                << " ms: committed " << Count(Committed(dir_.Sub("out")))
                << " of " << records_ << " records" << std::endl;
      ASSERT_NO_FATAL_FAILURE(Kill(SIGKILL));
      if (rng_() % 2 == 0) Append(uniform(1, 300));  // while it is down
    }

    // The last run catches up: every record has one committed running sum.
    ASSERT_NO_FATAL_FAILURE(Start(parallelism));
    ASSERT_NO_FATAL_FAILURE(WaitSubmitted());
    const auto deadline = Clock::now() + std::chrono::seconds(120);
    int64_t committed = 0;
    while (Clock::now() < deadline) {
      committed = Count(Committed(dir_.Sub("out")));
      if (committed >= records_) break;
      ASSERT_NO_FATAL_FAILURE(ExpectRunning());
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    // A checkpoint more: anything committed twice would show now.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    ASSERT_NO_FATAL_FAILURE(ExpectRunning());
    ASSERT_NO_FATAL_FAILURE(Kill(SIGTERM));
    const std::map<std::string, int> got = Committed(dir_.Sub("out"));
    const std::map<std::string, int> want = FailureFreeOutput();
    ASSERT_EQ(Count(want), records_);
    EXPECT_EQ(Count(got), records_) << "seed " << seed;
    // Differences, at most a few of each.
    int shown = 0;
    for (const auto& [line, n] : want) {
      auto it = got.find(line);
      const int have = it == got.end() ? 0 : it->second;
      if (have != n && shown++ < 10) {
        ADD_FAILURE() << "'" << line << "': committed " << have
                      << " times, expected " << n << " (seed " << seed << ")";
      }
    }
    for (const auto& [line, n] : got) {
      if (want.count(line) == 0 && shown++ < 20) {
        ADD_FAILURE() << "'" << line << "': committed " << n
                      << " times, expected never (seed " << seed << ")";
      }
    }
    EXPECT_EQ(got, want) << "seed " << seed;
  }

  std::mt19937_64 rng_;
  int64_t records_ = 0;
  pid_t pid_ = -1;
  int runs_ = 0;
  std::string err_path_;
  std::string out_path_;
};

TEST_F(WeirKillTest, SumsKilledThreeTimesCommitsWhatAFailureFreeRunDoes) {
  KillAndResume(/*kills=*/3, /*parallelism=*/2);
}

TEST_F(WeirKillTest, SumsKilledTwentyTimesCommitsWhatAFailureFreeRunDoes) {
  KillAndResume(/*kills=*/20, /*parallelism=*/2);
}

TEST_F(WeirKillTest, SumsKilledTwentyTimesAtParallelismOne) {
  KillAndResume(/*kills=*/20, /*parallelism=*/1);
}

// No periodic checkpoints: SIGTERM takes the only one, whose output is
// published as the job stops, and exits with 0. The next run resumes from
// it, and its own SIGTERM leaves every record committed exactly once.
TEST_F(WeirKillTest, SigtermTakesAFinalCheckpointAndTheNextRunResumesFromIt) {
  Write(dir_.Sub("conf.yaml"),
        "rest.port: 0\nexecution.checkpointing.dir: " + dir_.Sub("chk") +
            "\nexecution.checkpointing.interval: 1h\n");
  Append(300);
  ASSERT_NO_FATAL_FAILURE(Start(2));
  ASSERT_NO_FATAL_FAILURE(WaitSubmitted());
  EXPECT_THAT(Slurp(err_path_), HasSubstr("starting fresh"));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  ASSERT_TRUE(LatestCheckpoint(dir_.Sub("chk")).empty());
  ASSERT_NO_FATAL_FAILURE(Kill(SIGTERM));
  EXPECT_THAT(Slurp(err_path_), HasSubstr("Stored checkpoint 1 in "));
  ASSERT_FALSE(LatestCheckpoint(dir_.Sub("chk")).empty());
  EXPECT_EQ(Count(Committed(dir_.Sub("out"))), 300);

  Append(200);
  ASSERT_NO_FATAL_FAILURE(Start(2));
  ASSERT_NO_FATAL_FAILURE(WaitSubmitted());
  EXPECT_THAT(Slurp(err_path_), HasSubstr("Restoring job "));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  ASSERT_NO_FATAL_FAILURE(Kill(SIGTERM));
  EXPECT_EQ(Committed(dir_.Sub("out")), FailureFreeOutput());
}

// execution.stop-on-signal: savepoint: SIGTERM stops the job with a
// savepoint in the default savepoint directory, as `weir stop` does.
TEST_F(WeirKillTest, SigtermWithStopOnSignalSavepointStopsWithASavepoint) {
  Write(dir_.Sub("conf.yaml"),
        "rest.port: 0\nexecution.checkpointing.dir: " + dir_.Sub("chk") +
            "\nexecution.checkpointing.savepoint-dir: " + dir_.Sub("sp") +
            "\nexecution.stop-on-signal: savepoint\n");
  Append(100);
  ASSERT_NO_FATAL_FAILURE(Start(2));
  ASSERT_NO_FATAL_FAILURE(WaitSubmitted());
  std::this_thread::sleep_for(std::chrono::seconds(1));
  ASSERT_NO_FATAL_FAILURE(Kill(SIGTERM));
  const std::string out = Slurp(err_path_);
  EXPECT_THAT(out, HasSubstr("Stored savepoint "));
  const std::string sp = After(out, "Stored savepoint ");
  ASSERT_NE(sp.find(" in "), std::string::npos) << out;
  const std::string dir = sp.substr(sp.find(" in ") + 4);
  EXPECT_TRUE(fs::exists(dir + "/_metadata")) << out;
  EXPECT_EQ(Committed(dir_.Sub("out")), FailureFreeOutput());
}

TEST_F(WeirKillTest, CheckpointsThatCannotBeRestoredAreOneErrorLine) {
  rng_.seed(7);
  Append(2000);
  ASSERT_NO_FATAL_FAILURE(Start(2));
  ASSERT_NO_FATAL_FAILURE(WaitSubmitted());
  // Caught up, and a checkpoint after that.
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline &&
         Count(Committed(dir_.Sub("out"))) < records_) {
    ASSERT_NO_FATAL_FAILURE(ExpectRunning());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(Count(Committed(dir_.Sub("out"))), records_);
  ASSERT_NO_FATAL_FAILURE(Kill(SIGTERM));
  const std::string metadata = LatestCheckpoint(dir_.Sub("chk"));
  ASSERT_FALSE(metadata.empty());
  const fs::path chk = fs::path(metadata).parent_path();
  const fs::path job_root = chk.parent_path();

  // Missing.
  ExpectOneErrorLine(Weir({"run", "-p", "2", "-c", "conf.yaml", "-s",
                           (job_root / "chk-999999").string(), "sums.yaml"}),
                     {"chk-999999"});
  // --from-latest-checkpoint without a checkpoint directory, or with one
  // that holds no checkpoint of the job.
  ExpectOneErrorLine(Weir({"run", "--from-latest-checkpoint", "sums.yaml"}),
                     {"execution.checkpointing.dir"});
  ExpectOneErrorLine(Weir({"run", "-c", "conf.yaml", "-D",
                           "execution.checkpointing.dir=" + dir_.Sub("empty"),
                           "--from-latest-checkpoint", "sums.yaml"}),
                     {"no complete checkpoint of job 'sums'"});
  // Truncated, and foreign, metadata (copies beside the real one).
  const std::string bytes = Slurp(metadata);
  fs::create_directories(job_root / "truncated");
  Write((job_root / "truncated" / "_metadata").string(),
        bytes.substr(0, bytes.size() / 2));
  ExpectOneErrorLine(Weir({"run", "-p", "2", "-c", "conf.yaml", "-s",
                           (job_root / "truncated").string(), "sums.yaml"}),
                     {"truncated/_metadata"});
  fs::create_directories(job_root / "foreign");
  Write((job_root / "foreign" / "_metadata").string(),
        "this is not a weir checkpoint\n");
  ExpectOneErrorLine(Weir({"run", "-p", "2", "-c", "conf.yaml", "-s",
                           (job_root / "foreign").string(), "sums.yaml"}),
                     {"foreign/_metadata"});

  // A damaged SST file in shared/: named, with the checksum mismatch.
  std::string victim;
  uintmax_t victim_size = 0;
  for (const auto& e : fs::directory_iterator(job_root / "shared")) {
    if (e.path().extension() == ".sst" && e.file_size() > victim_size) {
      victim = e.path().string();
      victim_size = e.file_size();
    }
  }
  ASSERT_FALSE(victim.empty()) << "no SST file in " << job_root / "shared";
  std::vector<std::string> stored;
  for (const auto& e : fs::recursive_directory_iterator(job_root)) {
    stored.push_back(e.path().string());
  }
  const std::string original = Slurp(victim);
  {
    std::fstream io(victim, std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(static_cast<std::streamoff>(victim_size / 2));
    io.put(static_cast<char>(original[victim_size / 2] ^ 0x5a));
  }
  ProcessResult r = Weir(
      {"run", "-p", "2", "-c", "conf.yaml", "-s", chk.string(), "sums.yaml"},
      120);
  ExpectOneErrorLine(r, {fs::path(victim).filename().string()});
  EXPECT_THAT(r.err, HasSubstr("checksum mismatch"));
  // Nothing stored was removed: with the file repaired, the checkpoint
  // restores (here through its `_metadata`).
  for (const std::string& path : stored) EXPECT_TRUE(fs::exists(path)) << path;
  {
    std::ofstream out(victim, std::ios::binary | std::ios::trunc);
    out << original;
  }
  const int64_t before = Count(Committed(dir_.Sub("out")));
  Append(100);
  std::vector<std::string> args = {WeirBinary(), "run",    "-p",
                                   "2",          "-c",     "conf.yaml",
                                   "-s",         metadata, "sums.yaml"};
  pid_ = Spawn(args, dir_.path(), env_, out_path_ = dir_.Sub("last.out"),
               err_path_ = dir_.Sub("last.err"));
  ASSERT_NO_FATAL_FAILURE(WaitSubmitted());
  const auto until = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < until &&
         Count(Committed(dir_.Sub("out"))) < before + 100) {
    ASSERT_NO_FATAL_FAILURE(ExpectRunning());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(Count(Committed(dir_.Sub("out"))), before + 100);
  ASSERT_NO_FATAL_FAILURE(Kill(SIGTERM));
  EXPECT_THAT(Slurp(dir_.Sub("last.err")), HasSubstr("Restoring job "));
}

}  // namespace
}  // namespace weir::e2e
