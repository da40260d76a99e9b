// SPDX-License-Identifier: Apache-2.0
//
// Savepoints with the `weir` binary, end to end: the sums job (a keyed
// running sum fed from a growing CSV file into the two-phase file sink)
// savepointed, cancelled or stopped, and resumed with `weir run -s`; its
// committed output must equal that of a failure-free run. `weir cancel -s`
// and `weir stop` with and without a target directory and with the
// configured default; `weir savepoint -d` of savepoints that share files;
// restores into changed jobs (an operator removed, added, reordered); and
// input that is not a savepoint.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testutil/temp_dir.h"
#include "tests/tools/e2e/output_files.h"
#include "tests/tools/e2e/run_process.h"
#include "tests/tools/e2e/weir_job_fixture.h"
#include "tests/tools/e2e/weir_output.h"
#include "tools/control/rest_client.h"

namespace weir::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

// The source of SumsJob(follow = true, ...).
constexpr char kSource[] = R"(  - uid: events
    type: file-source
    path: events.csv
    format: csv
    follow: true
    schema: [user:string, amount:int64]
)";

// Without the stateful `totals`: events -> out.
std::string RemovedJob(const std::string& out) {
  return std::string("name: sums\nmax-parallelism: 128\noperators:\n") +
         kSource + "  - uid: out\n    type: file-sink\n    path: " + out +
         "\n    format: csv\n";
}

// The sums job and a new stateful branch: events -> counts -> counted.
// `reordered` lists the new branch first.
std::string AddedJob(bool reordered) {
  const std::string sums = R"(  - uid: totals
    type: sum
    key: user
    field: amount
    inputs: [events]
  - uid: out
    type: file-sink
    path: out
    format: csv
)";
  const std::string counts = R"(  - uid: counts
    type: count
    key: user
    inputs: [events]
  - uid: counted
    type: file-sink
    path: counted
    format: csv
)";
  return std::string("name: sums\nmax-parallelism: 128\noperators:\n") +
         kSource + (reordered ? counts + sums : sums + counts);
}

// The sums job with stateless operators added: a map (the same fields)
// and a filter that keeps every record before the sum, and a map after it.
// The ones before the sum run at the source's parallelism (1), so that
// each user's records keep their order and the running sums are those of
// the reference run.
std::string StatelessJob() {
  const std::string before = R"(  - uid: keep-fields
    type: map
    parallelism: 1
    inputs: [events]
    fields: [user, amount]
  - uid: keep-all
    type: filter
    parallelism: 1
    inputs: [keep-fields]
    field: amount
    op: '>='
    value: 0
)";
  const std::string sums = R"(  - uid: totals
    type: sum
    key: user
    field: amount
    inputs: [keep-all]
  - uid: rename
    type: map
    inputs: [totals]
    fields: [user, amount]
  - uid: out
    type: file-sink
    inputs: [rename]
    path: out
    format: csv
)";
  return std::string("name: sums\nmax-parallelism: 128\noperators:\n") +
         kSource + before + sums;
}

// The largest value per key of "key,value" lines.
std::map<std::string, int64_t> MaxPerKey(
    const std::map<std::string, int>& lines) {
  std::map<std::string, int64_t> out;
  for (const auto& [line, n] : lines) {
    const size_t comma = line.find(',');
    if (comma == std::string::npos) continue;
    int64_t& v = out[line.substr(0, comma)];
    v = std::max<int64_t>(v, std::stoll(line.substr(comma + 1)));
  }
  return out;
}

class WeirSavepointTest : public WeirJobTest {
 protected:
  void SetUp() override {
    WeirJobTest::SetUp();
    rng_.seed(42);
  }

  // `weir run -d -p <parallelism> -c conf.yaml <args>`.
  Started Start(std::vector<std::string> args, int parallelism = 2) {
    args.insert(args.begin(), {"-p", std::to_string(parallelism)});
    return StartDetached(std::move(args));
  }

  // The job's status as GET /jobs/:jobid reports it.
  std::string Status(const Started& job) {
    Result<std::string> body =
        tools::HttpGet("127.0.0.1", job.port, "/jobs/" + job.id);
    if (!body.ok()) return std::string(body.status().message());
    json j = json::parse(*body, nullptr, false);
    return j.is_object() && j.contains("state") ? j["state"].get<std::string>()
                                                : *body;
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

  // Waits until `dir` holds `n` committed lines.
  void WaitCommitted(const std::string& dir, int64_t n) {
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    int64_t have = 0;
    while ((have = Count(Committed(dir))) < n) {
      ASSERT_LT(Clock::now(), deadline)
          << dir << ": " << have << " of " << n << " lines committed";
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(have, n) << dir;
  }

  // The output of a failure-free run over the whole input.
  std::map<std::string, int> FailureFreeOutput() {
    Write(dir_.Sub("reference.yaml"), SumsJob(/*follow=*/false, "reference"));
    ProcessResult r = Weir({"run", "-D", "rest.port=0", "reference.yaml"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Committed(dir_.Sub("reference"));
  }

  void ExpectSameAsFailureFree(const std::string& dir) {
    const std::map<std::string, int> got = Committed(dir);
    const std::map<std::string, int> want = FailureFreeOutput();
    ASSERT_EQ(Count(want), records_);
    EXPECT_EQ(Count(got), records_);
    int shown = 0;
    for (const auto& [line, n] : want) {
      auto it = got.find(line);
      const int have = it == got.end() ? 0 : it->second;
      if (have != n && shown++ < 10) {
        ADD_FAILURE() << "'" << line << "': committed " << have
                      << " times, expected " << n;
      }
    }
    EXPECT_EQ(got, want);
  }

  std::mt19937_64 rng_;
  int64_t records_ = 0;
};

TEST_F(WeirSavepointTest, SavepointCancelResumeStopResumeContinuesExactly) {
  Append(2000);
  const Started j1 = Start({"sums.yaml"});
  ASSERT_FALSE(j1.id.empty());
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(dir_.Sub("out"), 2000));

  // A savepoint in passing, into a relative directory.
  ProcessResult r = Weir({"savepoint", j1.id, "sp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string sp1 = After(r.out, "Savepoint completed. Path: ");
  // The answer on stdout; what happens on stderr, as INFO lines (no
  // progress line: stderr is not a terminal).
  EXPECT_EQ(r.out, "Savepoint completed. Path: " + sp1 + "\n");
  EXPECT_THAT(
      r.err,
      MatchesRegex(LogLinePrefix("INFO ") + "Triggering savepoint for job " +
                   j1.id + "\\.\n" + LogLinePrefix("INFO ") +
                   "Waiting for response\\.\\.\\.\n" + LogLinePrefix("INFO ") +
                   "You can resume your program from this "
                   "savepoint with the run command\\.\n"));
  // -q: the answer only.
  r = Weir({"-q", "savepoint", j1.id, "sp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_THAT(r.out, StartsWith("Savepoint completed. Path: "));
  EXPECT_THAT(sp1,
              StartsWith(dir_.Sub("sp/savepoint-" + j1.id.substr(0, 6) + "-")));
  EXPECT_TRUE(fs::exists(sp1 + "/_metadata")) << sp1;
  EXPECT_EQ(Status(j1), "RUNNING");

  r = Weir({"cancel", j1.id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_NO_FATAL_FAILURE(WaitGone(j1.id));

  // Resumed from the savepoint: a new job that goes on from its offsets.
  Append(1000);
  const Started j2 = Start({"-s", sp1, "sums.yaml"});
  ASSERT_FALSE(j2.id.empty());
  EXPECT_NE(j2.id, j1.id);
  EXPECT_THAT(j2.err, HasSubstr(" INFO  Restoring job " + j2.id +
                                " from savepoint " + sp1 + "\n"));
  EXPECT_THAT(j2.out,
              StartsWith("Job has been submitted with JobID " + j2.id + "\n"));
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(dir_.Sub("out"), 3000));

  // Stopped while records arrive: none after the savepoint is committed,
  // and the next run starts at the savepoint's offsets.
  Append(700);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  r = Weir({"stop", "-p", "sp2", j2.id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string sp2 = After(r.out, "Savepoint completed. Path: ");
  EXPECT_EQ(r.out, "Savepoint completed. Path: " + sp2 + "\n");
  EXPECT_THAT(r.err,
              HasSubstr("Suspending job " + j2.id + " with a savepoint."));
  EXPECT_THAT(sp2, StartsWith(dir_.Sub("sp2/savepoint-")));
  ASSERT_NO_FATAL_FAILURE(WaitGone(j2.id));
  Append(300);
  const Started j3 =
      Start({"--fromSavepoint", sp2 + "/_metadata", "sums.yaml"});
  ASSERT_FALSE(j3.id.empty());
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(dir_.Sub("out"), records_));
  // A checkpoint more: anything committed twice would show now.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  ASSERT_EQ(Weir({"cancel", j3.id}).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(WaitGone(j3.id));
  ExpectSameAsFailureFree(dir_.Sub("out"));
}

// Flink's "restore with a new parallelism": stop with a savepoint at
// parallelism 2, resume at 3, stop again, resume at 1. The keyed sums move
// with their key groups, the sink's pending files with its union state, and
// the output is that of a run without stops.
TEST_F(WeirSavepointTest, ResumingAtAnotherParallelismContinuesExactly) {
  Append(1500);
  const Started j1 = Start({"sums.yaml"}, 2);
  ASSERT_FALSE(j1.id.empty());
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(dir_.Sub("out"), 1500));
  Append(500);
  ProcessResult r = Weir({"stop", "-p", "sp", j1.id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string sp1 = After(r.out, "Savepoint completed. Path: ");
  ASSERT_NO_FATAL_FAILURE(WaitGone(j1.id));

  Append(400);
  // The RocksDB read mode set, and then chosen by a budget the state
  // exceeds: the state reads back the same with pread and LZ4.
  const Started j2 = Start(
      {"-D", "state.backend.rocksdb.read-mode=pread", "-s", sp1, "sums.yaml"},
      3);
  ASSERT_FALSE(j2.id.empty());
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(dir_.Sub("out"), records_));
  Append(300);
  r = Weir({"stop", "-p", "sp2", j2.id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string sp2 = After(r.out, "Savepoint completed. Path: ");
  ASSERT_NO_FATAL_FAILURE(WaitGone(j2.id));
  r = Weir({"savepoint", "info", sp2});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("parallelism:      3"));

  Append(200);
  const Started j3 = Start(
      {"-D", "state.backend.rocksdb.memory-budget=1kb", "-s", sp2, "sums.yaml"},
      1);
  ASSERT_FALSE(j3.id.empty());
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(dir_.Sub("out"), records_));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  ASSERT_EQ(Weir({"cancel", j3.id}).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(WaitGone(j3.id));
  ExpectSameAsFailureFree(dir_.Sub("out"));
}

// A generator job rescales too: stopped with a savepoint at parallelism 2
// while rate-limited, resumed at 3 without the limit (the same uids), it
// runs to its end, and every generated record is committed exactly once.
TEST_F(WeirSavepointTest, AGeneratorJobResumesAtAnotherParallelism) {
  constexpr int kCount = 4000;
  auto job = [](int rate) {
    return "name: generated\n"
           "operators:\n"
           "  - uid: gen\n"
           "    type: generator\n"
           "    keys: 10\n"
           "    count: " +
           std::to_string(kCount) +
           "\n"
           "    rate: " +
           std::to_string(rate) +
           "\n"
           "  - uid: out\n"
           "    type: file-sink\n"
           "    path: gen-out\n";
  };
  Write(dir_.Sub("slow.yaml"), job(400));
  Write(dir_.Sub("fast.yaml"), job(0));
  const Started j1 = Start({"slow.yaml"}, 2);
  ASSERT_FALSE(j1.id.empty());
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Count(Committed(dir_.Sub("gen-out"))) < 500) {
    ASSERT_LT(Clock::now(), deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ProcessResult r = Weir({"stop", "-p", "sp", j1.id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string sp = After(r.out, "Savepoint completed. Path: ");
  ASSERT_NO_FATAL_FAILURE(WaitGone(j1.id));
  const int64_t before = Count(Committed(dir_.Sub("gen-out")));
  ASSERT_LT(before, kCount);

  const Started j2 = Start({"-s", sp, "fast.yaml"}, 3);
  ASSERT_FALSE(j2.id.empty());
  ASSERT_NO_FATAL_FAILURE(WaitGone(j2.id));  // a bounded job ends
  const std::map<std::string, int> lines = Committed(dir_.Sub("gen-out"));
  EXPECT_EQ(Count(lines), kCount);
  std::vector<int> seen(kCount, 0);
  for (const auto& [line, n] : lines) {
    const int seq = std::stoi(line.substr(0, line.find(',')));
    ASSERT_GE(seq, 0) << line;
    ASSERT_LT(seq, kCount) << line;
    seen[static_cast<size_t>(seq)] += n;
  }
  for (int seq = 0; seq < kCount; ++seq) {
    EXPECT_EQ(seen[static_cast<size_t>(seq)], 1) << "seq " << seq;
    if (seen[static_cast<size_t>(seq)] != 1) break;
  }
}

// A job of two branches, one of which ends: events.csv read to its end
// (no follow) -> totals -> out, and a rate-limited generator -> gen-out.
// Once the file branch has finished, checkpoints and savepoints go on, and
// `weir stop` ends the job with a savepoint; the resumed job does not run
// the finished branch again (out stays what a failure-free run commits)
// and the generator continues exactly once.
TEST_F(WeirSavepointTest, AJobWithAFinishedBranchIsCheckpointedAndStopped) {
  constexpr int kCount = 3000;
  auto job = [](int rate) {
    return SumsJob(/*follow=*/false, "out") +
           "  - uid: gen\n"
           "    type: generator\n"
           "    keys: 10\n"
           "    count: " +
           std::to_string(kCount) +
           "\n"
           "    rate: " +
           std::to_string(rate) +
           "\n"
           "  - uid: gen-out\n"
           "    type: file-sink\n"
           "    inputs: [gen]\n"
           "    path: gen-out\n";
  };
  Write(dir_.Sub("slow.yaml"), job(300));
  Write(dir_.Sub("fast.yaml"), job(0));
  Append(400);
  const Started j1 = Start({"slow.yaml"});
  ASSERT_FALSE(j1.id.empty());
  // The file branch committed at its end, and the job still runs.
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(dir_.Sub("out"), 400));
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Count(Committed(dir_.Sub("gen-out"))) < 300) {
    ASSERT_LT(Clock::now(), deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ProcessResult r = Weir({"checkpoint", j1.id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Weir({"savepoint", j1.id, "sp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Status(j1), "RUNNING");
  r = Weir({"stop", "-p", "sp", j1.id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string sp = After(r.out, "Savepoint completed. Path: ");
  ASSERT_NO_FATAL_FAILURE(WaitGone(j1.id));
  ASSERT_LT(Count(Committed(dir_.Sub("gen-out"))), kCount);

  const Started j2 = Start({"-s", sp, "fast.yaml"});
  ASSERT_FALSE(j2.id.empty());
  ASSERT_NO_FATAL_FAILURE(WaitGone(j2.id));  // the generator ends too
  ExpectSameAsFailureFree(dir_.Sub("out"));
  const std::map<std::string, int> lines = Committed(dir_.Sub("gen-out"));
  EXPECT_EQ(Count(lines), kCount);
  std::vector<int> seen(kCount, 0);
  for (const auto& [line, n] : lines) {
    const int seq = std::stoi(line.substr(0, line.find(',')));
    ASSERT_GE(seq, 0) << line;
    ASSERT_LT(seq, kCount) << line;
    seen[static_cast<size_t>(seq)] += n;
  }
  for (int seq = 0; seq < kCount; ++seq) {
    EXPECT_EQ(seen[static_cast<size_t>(seq)], 1) << "seq " << seq;
    if (seen[static_cast<size_t>(seq)] != 1) break;
  }
}

TEST_F(WeirSavepointTest, CancelWithSavepointAndStopUseTheGivenOrDefaultDir) {
  Append(300);
  const std::string def = dir_.Sub("default-sp");
  const std::vector<std::string> with_default = {
      "-D", "execution.checkpointing.savepoint-dir=" + def, "sums.yaml"};

  // cancel -s, into the configured default.
  Started j = Start(with_default);
  ProcessResult r = Weir({"cancel", "-s", j.id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string sp = After(r.out, "Savepoint stored in ");
  ASSERT_FALSE(sp.empty()) << r.out;
  sp.pop_back();  // the final '.'
  EXPECT_EQ(r.out,
            "Cancelled job " + j.id + ". Savepoint stored in " + sp + ".\n");
  EXPECT_THAT(r.err, HasSubstr("Cancelling job " + j.id +
                               " with savepoint to default savepoint "
                               "directory.\n"));
  EXPECT_THAT(sp, StartsWith(def + "/savepoint-"));
  EXPECT_TRUE(fs::exists(sp + "/_metadata"));
  ASSERT_NO_FATAL_FAILURE(WaitGone(j.id));

  // cancel -s DIR (Flink's alias too), over the default.
  j = Start(with_default);
  r = Weir({"cancel", "--withSavepoint", "given", j.id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("with savepoint to " + dir_.Sub("given") + "."));
  EXPECT_THAT(r.out, HasSubstr("Savepoint stored in " + dir_.Sub("given") +
                               "/savepoint-"));
  ASSERT_NO_FATAL_FAILURE(WaitGone(j.id));

  // stop, into the default; stop --savepointPath DIR --drain, through -m.
  j = Start(with_default);
  r = Weir({"stop", j.id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(After(r.out, "Savepoint completed. Path: "),
              StartsWith(def + "/savepoint-"));
  ASSERT_NO_FATAL_FAILURE(WaitGone(j.id));
  j = Start(with_default);
  r = Weir({"stop", "-m", "127.0.0.1:" + std::to_string(j.port),
            "--savepointPath", "stopped", "--drain", j.id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("Draining job " + j.id));
  EXPECT_THAT(After(r.out, "Savepoint completed. Path: "),
              StartsWith(dir_.Sub("stopped/savepoint-")));
  ASSERT_NO_FATAL_FAILURE(WaitGone(j.id));
  EXPECT_EQ(std::distance(fs::directory_iterator(def), {}), 2);

  // Neither a directory nor a default: one clear error, and the job runs on.
  j = Start({"sums.yaml"});
  // Each names how to give one with that command.
  for (const auto& [args, usage] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"cancel", "-s", j.id}, "weir cancel -s TARGET_DIR JOBID"},
           {{"stop", j.id}, "weir stop -p TARGET_DIR JOBID"},
           {{"stop", "-d", j.id}, "weir stop -p TARGET_DIR JOBID"},
           {{"savepoint", j.id}, "weir savepoint JOBID TARGET_DIR"}}) {
    r = Weir(args);
    SCOPED_TRACE(args[0]);
    ExpectOneErrorLine(
        r, {"no target directory", "execution.checkpointing.savepoint-dir",
            j.id, usage});
    EXPECT_EQ(Status(j), "RUNNING");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(Status(j), "RUNNING");
  // Unknown jobs and misuse.
  ExpectOneErrorLine(Weir({"savepoint", "0123456789abcdef0123456789abcdef"}),
                     {"0123456789abcdef0123456789abcdef"});
  ExpectOneErrorLine(Weir({"stop", "nothex"}), {"nothex"});
  ExpectOneErrorLine(Weir({"cancel", "dir", j.id}), {"-s"});
  ExpectOneErrorLine(Weir({"savepoint"}), {"JOBID"});
  EXPECT_EQ(Status(j), "RUNNING");
}

TEST_F(WeirSavepointTest, DisposeOneOfTwoSavepointsThatShareFiles) {
  Append(1000);
  const Started j = Start({"sums.yaml"});
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(dir_.Sub("out"), 1000));
  ProcessResult r = Weir({"savepoint", j.id, "sp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string sp1 = After(r.out, "Savepoint completed. Path: ");
  Append(200);
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(dir_.Sub("out"), 1200));
  r = Weir({"savepoint", j.id, "sp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string sp2 = After(r.out, "Savepoint completed. Path: ");
  ASSERT_NE(sp1, sp2);
  // Native savepoints: both reference the SST files in the job's shared/.
  const std::string shared = dir_.Sub("chk/" + j.id + "/shared");
  ASSERT_TRUE(fs::exists(shared));

  // Disposed through the running job (its checkpoint storage): while the
  // job's process is stopped, the disposal waits for it.
  const json entry =
      json::parse(Slurp(dir_.Sub("runtime/" + j.id + ".json")), nullptr, false);
  ASSERT_TRUE(entry.is_object() && entry.contains("pid"));
  const pid_t pid = entry["pid"].get<pid_t>();
  ASSERT_EQ(kill(pid, SIGSTOP), 0);
  r = Weir({"savepoint", "-d", sp1}, /*timeout_s=*/2);
  ASSERT_EQ(kill(pid, SIGCONT), 0);
  EXPECT_EQ(r.exit_code, -1) << r.out << r.err;  // killed after 2 s
  EXPECT_TRUE(fs::exists(sp1 + "/_metadata"));
  r = Weir({"savepoint", "-d", sp1});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Savepoint '" + sp1 + "' disposed.\n");
  EXPECT_THAT(r.err, HasSubstr("Disposing savepoint '" + sp1 + "'.\n"));
  EXPECT_FALSE(fs::exists(sp1));
  EXPECT_TRUE(fs::exists(sp2 + "/_metadata"));
  // The job checkpoints on, and the other savepoint and the retained
  // checkpoint have all their files.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(Status(j), "RUNNING");
  r = Weir({"savepoint", "info", "--verify", sp2});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_EQ(Weir({"cancel", j.id}).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(WaitGone(j.id));
  const std::string chk = LatestCheckpoint(dir_.Sub("chk/" + j.id));
  ASSERT_FALSE(chk.empty());
  r = Weir({"checkpoint", "info", "--verify", chk});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  // Both still restore: the savepoint as a new job, the checkpoint as j.
  Append(100);
  const Started from_sp = Start({"-s", sp2, "sums.yaml"});
  ASSERT_FALSE(from_sp.id.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(Status(from_sp), "RUNNING");
  // Its checkpoint covers what it read; the savepoint is not claimed.
  ASSERT_EQ(Weir({"checkpoint", from_sp.id}).exit_code, 0);
  ASSERT_EQ(Weir({"cancel", from_sp.id}).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(WaitGone(from_sp.id));
  const Started from_chk = Start({"-s", chk, "sums.yaml"});
  EXPECT_EQ(from_chk.id, j.id);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(Status(from_chk), "RUNNING");
  ASSERT_EQ(Weir({"cancel", from_chk.id}).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(WaitGone(from_chk.id));

  // No job runs now: disposed in this process; the checkpoint is intact.
  r = Weir({"savepoint", "--dispose", sp2 + "/_metadata"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(sp2));
  const std::string chk2 = LatestCheckpoint(dir_.Sub("chk/" + j.id));
  r = Weir({"checkpoint", "info", "--verify", chk2});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(WeirSavepointTest, RestoreMapsStateByUid) {
  Append(1000);
  Started j = Start({"sums.yaml"});
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(dir_.Sub("out"), 1000));
  ProcessResult r = Weir({"cancel", "-s", "sp", j.id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string sp = After(r.out, "Savepoint stored in ");
  sp.pop_back();
  ASSERT_NO_FATAL_FAILURE(WaitGone(j.id));
  const std::set<std::string> stored = Tree(dir_.Sub("sp"));

  // An operator with state removed: refused, naming it and -n ...
  Write(dir_.Sub("removed.yaml"), RemovedJob("removed-out"));
  r = Weir({"run", "-d", "-c", "conf.yaml", "-s", sp, "removed.yaml"});
  ExpectOneErrorLine(r, {"uid 'totals'", "-n"});
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(Tree(dir_.Sub("sp")), stored);
  // ... and with -n its state is skipped.
  j = Start({"-s", sp, "-n", "removed.yaml"});
  ASSERT_FALSE(j.id.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(Status(j), "RUNNING");
  ASSERT_EQ(Weir({"cancel", j.id}).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(WaitGone(j.id));
  EXPECT_EQ(Count(Committed(dir_.Sub("removed-out"))), 0);

  // An operator added: it starts empty, the others go on.
  Write(dir_.Sub("added.yaml"), AddedJob(/*reordered=*/false));
  j = Start({"-s", sp, "added.yaml"});
  ASSERT_FALSE(j.id.empty());
  const std::map<std::string, int> before = Committed(dir_.Sub("out"));
  Append(500);
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(dir_.Sub("out"), 1500));
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(dir_.Sub("counted"), 500));
  r = Weir({"stop", "-p", "sp2", j.id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string sp2 = After(r.out, "Savepoint completed. Path: ");
  ASSERT_NO_FATAL_FAILURE(WaitGone(j.id));
  // The new counts counted only the records after the restore.
  std::map<std::string, int64_t> new_records;
  {
    std::istringstream in(Slurp(dir_.Sub("events.csv")));
    int line_no = 0;
    for (std::string line; std::getline(in, line); ++line_no) {
      if (line_no >= 1000) ++new_records[line.substr(0, line.find(','))];
    }
  }
  EXPECT_EQ(MaxPerKey(Committed(dir_.Sub("counted"))), new_records);

  // The same operators listed in another order: uids map the state.
  Write(dir_.Sub("reordered.yaml"), AddedJob(/*reordered=*/true));
  j = Start({"-s", sp2, "reordered.yaml"});
  ASSERT_FALSE(j.id.empty());
  Append(500);
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(dir_.Sub("out"), 2000));
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(dir_.Sub("counted"), 1000));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  ASSERT_EQ(Weir({"cancel", j.id}).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(WaitGone(j.id));
  {
    std::istringstream in(Slurp(dir_.Sub("events.csv")));
    int line_no = 0;
    for (std::string line; std::getline(in, line); ++line_no) {
      if (line_no >= 1500) ++new_records[line.substr(0, line.find(','))];
    }
  }
  EXPECT_EQ(MaxPerKey(Committed(dir_.Sub("counted"))), new_records);
  EXPECT_EQ(Count(Committed(dir_.Sub("counted"))), 1000);
  ExpectSameAsFailureFree(dir_.Sub("out"));
}

// Stateless operators added, then removed again: with uids on the stateful
// ones the state goes on exactly, whatever the stateless ones around them.
TEST_F(WeirSavepointTest, StatelessOperatorsAddedAndRemovedKeepTheState) {
  Append(800);
  Started j = Start({"sums.yaml"});
  ASSERT_FALSE(j.id.empty());
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(dir_.Sub("out"), 800));
  ProcessResult r = Weir({"stop", "-p", "sp", j.id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string sp1 = After(r.out, "Savepoint completed. Path: ");
  ASSERT_NO_FATAL_FAILURE(WaitGone(j.id));

  Write(dir_.Sub("stateless.yaml"), StatelessJob());
  j = Start({"-s", sp1, "stateless.yaml"});
  ASSERT_FALSE(j.id.empty());
  Append(600);
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(dir_.Sub("out"), 1400));
  r = Weir({"stop", "-p", "sp", j.id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string sp2 = After(r.out, "Savepoint completed. Path: ");
  ASSERT_NO_FATAL_FAILURE(WaitGone(j.id));

  // Back to the plain job: the stateless operators are gone again.
  j = Start({"-s", sp2, "sums.yaml"});
  ASSERT_FALSE(j.id.empty());
  Append(600);
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(dir_.Sub("out"), records_));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  ASSERT_EQ(Weir({"cancel", j.id}).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(WaitGone(j.id));
  ExpectSameAsFailureFree(dir_.Sub("out"));
}

TEST_F(WeirSavepointTest, InputThatIsNotASavepointIsOneErrorAndDeletesNothing) {
  // A self-contained savepoint (the hashmap backend): its files are in it.
  Append(500);
  Started j = Start({"-D", "state.backend.type=hashmap", "sums.yaml"});
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(dir_.Sub("out"), 500));
  ProcessResult r = Weir({"cancel", "-s", "sp", j.id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string sp = After(r.out, "Savepoint stored in ");
  sp.pop_back();
  ASSERT_NO_FATAL_FAILURE(WaitGone(j.id));

  const std::string bad = dir_.Sub("bad");
  fs::create_directories(bad + "/empty");
  fs::copy(sp, bad + "/truncated", fs::copy_options::recursive);
  const std::string meta = Slurp(sp + "/_metadata");
  Write(bad + "/truncated/_metadata", meta.substr(0, meta.size() / 2));
  fs::create_directories(bad + "/random");
  {
    std::mt19937 bytes_rng(7);
    std::string random(meta.size(), '\0');
    for (char& c : random) c = static_cast<char>(bytes_rng());
    Write(bad + "/random/_metadata", random);
  }
  // A copy without one of its state files.
  fs::copy(sp, bad + "/missing-file", fs::copy_options::recursive);
  std::string victim;
  for (const auto& e :
       fs::recursive_directory_iterator(bad + "/missing-file")) {
    if (e.is_regular_file() && e.path().filename() != "_metadata") {
      victim = e.path().string();
    }
  }
  ASSERT_FALSE(victim.empty()) << "no state file in " << sp;
  fs::remove(victim);
  const std::set<std::string> stored = Tree(dir_.path());

  struct Case {
    std::string path;
    std::string named;  // in the message
  };
  const std::vector<Case> cases = {
      {bad + "/nothing-here", "nothing-here"},
      {bad + "/empty", "empty/_metadata"},
      {bad + "/truncated", "truncated/_metadata"},
      {bad + "/random", "random/_metadata"},
      {bad + "/missing-file", fs::path(victim).filename().string()},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.path);
    r = Weir({"run", "-c", "conf.yaml", "-s", c.path, "sums.yaml"});
    ExpectOneErrorLine(r, {c.named});
    EXPECT_THAT(r.out, ::testing::Not(HasSubstr("submitted")));
  }
  // Disposing them: the same, except that a missing state file does not
  // stop a disposal (covered below).
  for (size_t i = 0; i + 1 < cases.size(); ++i) {
    SCOPED_TRACE("-d " + cases[i].path);
    r = Weir({"savepoint", "-d", cases[i].path});
    ExpectOneErrorLine(r, {cases[i].path});
  }
  // A checkpoint is not a savepoint.
  r = Weir({"run", "-d", "-c", "conf.yaml", "sums.yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j.id = After(r.out, "Job has been submitted with JobID ");
  started_.push_back(j.id);
  std::string chk;
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while ((chk = LatestCheckpoint(dir_.Sub("chk/" + j.id))).empty()) {
    ASSERT_LT(Clock::now(), deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(Weir({"cancel", j.id}).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(WaitGone(j.id));
  const std::set<std::string> with_checkpoint = Tree(dir_.path());
  r = Weir({"savepoint", "-d", fs::path(chk).parent_path().string()});
  ExpectOneErrorLine(r, {"chk-"});
  // Nothing was deleted by any of it.
  for (const std::string& path : stored) {
    EXPECT_TRUE(fs::exists(path)) << path;
  }
  EXPECT_EQ(Tree(dir_.path()).size(), with_checkpoint.size());

  // The savepoint itself still restores.
  j = Start({"-s", sp, "-D", "state.backend.type=hashmap", "sums.yaml"});
  EXPECT_THAT(j.err, HasSubstr("from savepoint " + sp));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(Status(j), "RUNNING");
}

// Canonical savepoints (--type canonical, Flink's): every file inside the
// savepoint directory (key-group streams), restorable into either backend.
// savepoint, then cancel -s into the memory backend (hashmap), then stop
// back into RocksDB: the output is that of a failure-free run.
TEST_F(WeirSavepointTest, CanonicalSavepointsMoveBetweenBackends) {
  Append(1500);
  const Started j1 = Start({"sums.yaml"});
  ASSERT_FALSE(j1.id.empty());
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(dir_.Sub("out"), 1500));

  // An unknown type: one error line, nothing taken, the job runs on.
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"savepoint", "--type", "bogus", j1.id, "sp"},
           {"stop", "-t", "bogus", "-p", "sp", j1.id},
           {"cancel", "-s", "--type", "bogus", "sp", j1.id}}) {
    SCOPED_TRACE(args[0]);
    ExpectOneErrorLine(Weir(args),
                       {"unknown savepoint type 'bogus'", "canonical"});
  }
  EXPECT_FALSE(fs::exists(dir_.Sub("sp")));
  EXPECT_EQ(Status(j1), "RUNNING");

  ProcessResult r = Weir({"savepoint", "--type", "canonical", j1.id, "sp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string sp1 = After(r.out, "Savepoint completed. Path: ");
  EXPECT_THAT(sp1, StartsWith(dir_.Sub("sp/savepoint-")));
  // Self-contained: nothing of it in the checkpoint storage.
  EXPECT_FALSE(fs::exists(dir_.Sub("chk/" + j1.id + "/savepoint-refs/" +
                                   fs::path(sp1).filename().string())));
  r = Weir({"savepoint", "info", "--json", "--verify", sp1});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json info = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(info.is_object()) << r.out;
  EXPECT_EQ(info["format"], "canonical") << r.out;
  EXPECT_EQ(info["backend_format"], "key-group-streams") << r.out;
  EXPECT_EQ(Status(j1), "RUNNING");
  ASSERT_EQ(Weir({"cancel", j1.id}).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(WaitGone(j1.id));

  // Into the memory backend; cancelled with a canonical savepoint.
  Append(500);
  const Started j2 =
      Start({"-D", "state.backend.type=hashmap", "-s", sp1, "sums.yaml"});
  ASSERT_FALSE(j2.id.empty());
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(dir_.Sub("out"), 2000));
  r = Weir({"cancel", "-s", "-t", "CANONICAL", "sp2", j2.id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string sp2 = After(r.out, "Savepoint stored in ");
  ASSERT_FALSE(sp2.empty()) << r.out;
  sp2.pop_back();  // the final '.'
  ASSERT_NO_FATAL_FAILURE(WaitGone(j2.id));

  // Back into RocksDB; stopped with a canonical savepoint while records
  // arrive, and resumed once more.
  Append(400);
  const Started j3 = Start({"-s", sp2, "sums.yaml"});
  ASSERT_FALSE(j3.id.empty());
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(dir_.Sub("out"), 2400));
  Append(300);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  r = Weir({"stop", "--type", "canonical", "-p", "sp3", j3.id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string sp3 = After(r.out, "Savepoint completed. Path: ");
  EXPECT_THAT(sp3, StartsWith(dir_.Sub("sp3/savepoint-")));
  ASSERT_NO_FATAL_FAILURE(WaitGone(j3.id));
  Append(200);
  const Started j4 = Start({"-s", sp3, "sums.yaml"});
  ASSERT_FALSE(j4.id.empty());
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(dir_.Sub("out"), records_));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  ASSERT_EQ(Weir({"cancel", j4.id}).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(WaitGone(j4.id));
  ExpectSameAsFailureFree(dir_.Sub("out"));
}

// A native savepoint references its job's checkpoint storage, and says so;
// `savepoint export` makes a copy that survives deleting that storage, and
// the job resumes from the copy exactly. --self-contained savepoints need
// no export.
TEST_F(WeirSavepointTest, AnExportedSavepointOutlivesTheCheckpointStorage) {
  Append(1500);
  const Started j1 = Start({"sums.yaml"});
  ASSERT_FALSE(j1.id.empty());
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(dir_.Sub("out"), 1500));
  ProcessResult r = Weir({"stop", "-p", "sp", j1.id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string sp1 = After(r.out, "Savepoint completed. Path: ");
  ASSERT_NO_FATAL_FAILURE(WaitGone(j1.id));

  r = Weir({"savepoint", "info", sp1});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(" in " + dir_.Sub("chk/" + j1.id + "/shared") +
                               "; 'weir savepoint export' writes a copy"));

  r = Weir({"savepoint", "export", sp1, "exported"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Savepoint exported. Path: " + dir_.Sub("exported") + "\n");
  r = Weir({"savepoint", "info", "--json", "exported"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json info = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(info.is_object()) << r.out;
  EXPECT_EQ(info["external_files"], 0);
  EXPECT_EQ(info["kind"], "savepoint");
  EXPECT_GT(info["files"].get<int>(), 0);

  // Never over an existing savepoint.
  const auto before = fs::last_write_time(dir_.Sub("exported/_metadata"));
  r = Weir({"savepoint", "export", sp1, "exported"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("is not empty"));
  EXPECT_EQ(fs::last_write_time(dir_.Sub("exported/_metadata")), before);

  fs::remove_all(dir_.Sub("chk"));
  r = Weir({"savepoint", "info", "--verify", sp1});
  EXPECT_NE(r.exit_code, 0) << r.out;
  r = Weir({"savepoint", "info", "--verify", "exported"});
  EXPECT_EQ(r.exit_code, 0) << r.err;

  Append(500);
  const Started j2 = Start({"-s", "exported", "sums.yaml"});
  ASSERT_FALSE(j2.id.empty());
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(dir_.Sub("out"), records_));

  r = Weir({"savepoint", "--self-contained", j2.id, "sp3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string sp3 = After(r.out, "Savepoint completed. Path: ");
  r = Weir({"savepoint", "info", sp3});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out,
              HasSubstr("depends on:       nothing outside its directory"));
  ASSERT_EQ(Weir({"cancel", j2.id}).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(WaitGone(j2.id));
  ExpectSameAsFailureFree(dir_.Sub("out"));
}
}  // namespace
}  // namespace weir::e2e
