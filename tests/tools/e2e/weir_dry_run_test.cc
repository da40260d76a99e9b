// SPDX-License-Identifier: Apache-2.0
//
// `weir run --dry-run -s PATH JOB.yaml` against the restore it predicts:
// for each change of the savepoint FAQ (the parallelism changed, an
// operator added, reordered, removed, its uid changed, the max parallelism
// changed) the dry run is followed by the real `weir run -s`, which must
// do what the dry run said: fail with the same error, or restore the state
// said to be restored (the running sums go on exactly) and start empty
// what was said to start empty. `--claim-mode`: the savepoint's file tree
// before and after the new job pruned several checkpoints.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/tools/e2e/output_files.h"
#include "tests/tools/e2e/run_process.h"
#include "tests/tools/e2e/weir_job_fixture.h"
#include "tests/tools/e2e/weir_output.h"

namespace weir::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr int kBefore = 600;  // records in the savepoint
constexpr int kAfter = 400;   // records after it

struct JobText {
  std::string totals_uid = "totals";
  std::string uid_hash;  // of the totals operator
  bool counts = false;   // the added branch events -> counts -> counted
  bool reordered = false;
  bool removed = false;  // no totals operator
  int max_parallelism = 128;
  std::string out;
};

JobText Text(const std::string& out) {
  JobText t;
  t.out = out;
  return t;
}

// The sums job reading events.csv to its end (it finishes), changed as
// `t` says.
std::string Job(const JobText& t) {
  std::string totals = "  - uid: " + t.totals_uid +
                       "\n    type: sum\n    key: user\n    field: amount\n"
                       "    inputs: [events]\n";
  if (!t.uid_hash.empty()) totals += "    uid-hash: " + t.uid_hash + "\n";
  const std::string sums =
      (t.removed ? "" : totals) + "  - uid: out\n    type: file-sink\n" +
      "    inputs: [" + (t.removed ? "events" : t.totals_uid) +
      "]\n    path: " + t.out + "\n    format: csv\n";
  const std::string counts =
      "  - uid: counts\n    type: count\n    key: user\n    inputs: [events]\n"
      "  - uid: counted\n    type: file-sink\n    inputs: [counts]\n"
      "    path: " +
      t.out + "-counted\n    format: csv\n";
  std::string body =
      t.counts ? (t.reordered ? counts + sums : sums + counts) : sums;
  return "name: sums\nmax-parallelism: " + std::to_string(t.max_parallelism) +
         "\noperators:\n  - uid: events\n    type: file-source\n"
         "    path: events.csv\n    format: csv\n    follow: false\n"
         "    schema: [user:string, amount:int64]\n" +
         body;
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

// The messages of the ERROR lines of `err`, without their prefix.
std::vector<std::string> Errors(const std::string& err) {
  std::vector<std::string> out;
  const std::regex line("^" + LogLinePrefix("ERROR") + "(.*)$");
  std::istringstream in(err);
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (std::regex_match(l, m, line)) out.push_back(m[m.size() - 1].str());
  }
  return out;
}

class WeirDryRunTest : public WeirJobTest {
 protected:
  void SetUp() override {
    WeirJobTest::SetUp();
    rng_.seed(7);
  }

  void Append(int n, int first_line) {
    std::ostringstream chunk;
    for (int i = 0; i < n; ++i) {
      const std::string user = "user" + std::to_string(rng_() % 13);
      const int64_t amount = static_cast<int64_t>(rng_() % 100 + 1);
      chunk << user << "," << amount << "\n";
      totals_[user] += amount;
      if (first_line + i >= kBefore) ++new_counts_[user];
    }
    std::ofstream(dir_.Sub("events.csv"), std::ios::app) << chunk.str();
  }

  // Runs the sums job at parallelism 2 over kBefore records, cancels it
  // with a savepoint, and appends kAfter records; the savepoint's path.
  std::string TakeSavepoint(std::vector<std::string> extra = {}) {
    Append(kBefore, 0);
    std::vector<std::string> args = {"-p", "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("sums.yaml");
    const Started j = StartDetached(args);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (Count(Committed(dir_.Sub("out"))) < kBefore &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_EQ(Count(Committed(dir_.Sub("out"))), kBefore);
    ProcessResult r = Weir({"cancel", "-s", "sp", j.id});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string sp = After(r.out, "Savepoint stored in ");
    if (!sp.empty() && sp.back() == '.') sp.pop_back();
    WaitGone(j.id);
    old_job_ = j.id;
    Append(kAfter, kBefore);
    return sp;
  }

  // Every file under `root` with its size, inode and mtime.
  static std::map<std::string, std::string> Stamps(const std::string& root) {
    std::map<std::string, std::string> out;
    for (const std::string& path : Tree(root)) {
      struct stat st {};
      if (::lstat(path.c_str(), &st) != 0) continue;
      out[path] = std::to_string(st.st_size) + " " + std::to_string(st.st_ino) +
                  " " + std::to_string(st.st_mtim.tv_sec) + "." +
                  std::to_string(st.st_mtim.tv_nsec);
    }
    return out;
  }

  static std::set<ino_t> Inodes(const std::string& dir) {
    std::set<ino_t> out;
    for (const std::string& path : Tree(dir)) {
      struct stat st {};
      if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
        out.insert(st.st_ino);
      }
    }
    return out;
  }

  // N of the job's newest chk-N, or -1.
  int LatestId(const std::string& id) {
    const std::string latest = LatestCheckpoint(dir_.Sub("chk/" + id));
    if (latest.empty()) return -1;
    return std::stoi(
        fs::path(latest).parent_path().filename().string().substr(4));
  }

  // Waits until the job `id` has completed `n` checkpoints after the one
  // (if any) it has now; `n` = 1 with none yet: its first.
  void WaitCheckpoints(const std::string& id, int n) {
    const int from = LatestId(id);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (int seen = 0, last = from; seen < n;) {
      const int now = LatestId(id);
      if (now != last) {
        ++seen;  // ids grow; a skipped one (pruned) counts once, at worst
        last = now;
        continue;
      }
      ASSERT_LT(std::chrono::steady_clock::now(), deadline)
          << n << " checkpoints of " << id << " after " << from;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // `weir run --dry-run --json -s sp <args> job`: the exit code and JSON.
  std::pair<int, json> DryRun(const std::string& sp, const std::string& job,
                              std::vector<std::string> args = {}) {
    std::vector<std::string> all = {"run",    "-c", "conf.yaml", "--dry-run",
                                    "--json", "-s", sp};
    all.insert(all.end(), args.begin(), args.end());
    all.push_back(job);
    ProcessResult r = Weir(all);
    json j = json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_object()) << r.out << r.err;
    if (j.is_object()) {
      // Each problem is an ERROR line, the first is what a restore says.
      EXPECT_EQ(Errors(r.err), j["problems"].get<std::vector<std::string>>());
    }
    return {r.exit_code, j};
  }

  // The real restore, run to the end of events.csv.
  ProcessResult RealRun(const std::string& sp, const std::string& job,
                        std::vector<std::string> args = {}) {
    std::vector<std::string> all = {"run", "-c", "conf.yaml", "-s", sp};
    all.insert(all.end(), args.begin(), args.end());
    all.push_back(job);
    return Weir(all);
  }

  static json Op(const json& check, const std::string& uid) {
    for (const json& op : check["operators"]) {
      if (op["uid"] == uid) return op;
    }
    ADD_FAILURE() << "no operator " << uid << " in " << check.dump();
    return json::object();
  }

  // The sums of `out` go on from the savepoint: every user's last sum is
  // the total over all records.
  void ExpectSumsGoOn(const std::string& out) {
    EXPECT_EQ(Count(Committed(dir_.Sub(out))), kAfter);
    for (const auto& [user, sum] : MaxPerKey(Committed(dir_.Sub(out)))) {
      EXPECT_EQ(sum, totals_[user]) << user;
    }
  }

  std::mt19937_64 rng_;
  std::string old_job_;  // the job TakeSavepoint ran
  std::map<std::string, int64_t> totals_;
  std::map<std::string, int64_t> new_counts_;
};

TEST_F(WeirDryRunTest, PredictsARescale) {
  const std::string sp = TakeSavepoint();
  ASSERT_FALSE(sp.empty());
  Write(dir_.Sub("p3.yaml"), Job(Text("p3")));
  auto [code, check] = DryRun(sp, "p3.yaml", {"-p", "3"});
  EXPECT_EQ(code, 0) << check.dump(2);
  const json totals = Op(check, "totals");
  EXPECT_EQ(totals["fate"], "restored");
  EXPECT_EQ(totals["oldParallelism"], 2);
  EXPECT_EQ(totals["newParallelism"], 3);
  // The three new tasks of the sum take all 128 key groups, each from the
  // old tasks whose ranges overlap its own.
  int covered = 0;
  for (const json& t : check["tasks"]) {
    if (t["parallelism"] != 3 || t["sources"].empty()) continue;
    for (const json& s : t["sources"]) {
      covered +=
          s["keyGroups"][1].get<int>() - s["keyGroups"][0].get<int>() + 1;
      EXPECT_LE(s["keyGroups"][0], s["keyGroups"][1]);
      EXPECT_GE(s["keyGroups"][0], t["keyGroups"][0]);
      EXPECT_LE(s["keyGroups"][1], t["keyGroups"][1]);
    }
  }
  EXPECT_EQ(covered, 128);
  EXPECT_GT(check["bytesLinked"].get<uint64_t>() +
                check["bytesRewritten"].get<uint64_t>(),
            0u);

  ProcessResult r = RealRun(sp, "p3.yaml", {"-p", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectSumsGoOn("p3");
  // stderr is not a terminal: no line rewritten in place, and the final
  // line counts the files the dry run planned.
  uint64_t files = 0;
  for (const json& t : check["tasks"]) files += t["files"].get<uint64_t>();
  EXPECT_GT(files, 0u);
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("\r")));
  std::smatch m;
  const std::regex done(LogLinePrefix("INFO ") +
                        "Restored ([0-9]+) files, [0-9.]+ [KMGTPE]?i?B in "
                        "[0-9]+\\.[0-9] s");
  ASSERT_TRUE(std::regex_search(r.err, m, done)) << r.err;
  EXPECT_EQ(m[m.size() - 1].str(), std::to_string(files));
}

TEST_F(WeirDryRunTest, PredictsAddedReorderedAndRemovedOperators) {
  const std::string sp = TakeSavepoint();
  ASSERT_FALSE(sp.empty());
  for (bool reordered : {false, true}) {
    const std::string out = reordered ? "reordered" : "added";
    Write(dir_.Sub(out + ".yaml"), Job([&] {
            JobText t = Text(out);
            t.counts = true;
            t.reordered = reordered;
            return t;
          }()));
    auto [code, check] = DryRun(sp, out + ".yaml", {"-p", "2"});
    EXPECT_EQ(code, 0) << check.dump(2);
    EXPECT_EQ(Op(check, "totals")["fate"], "restored");
    EXPECT_EQ(Op(check, "counts")["fate"], "starts empty");
    EXPECT_EQ(Op(check, "events")["fate"], "restored");
    ProcessResult r = RealRun(sp, out + ".yaml", {"-p", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ExpectSumsGoOn(out);
    // Started empty: it counted the records after the savepoint only.
    EXPECT_EQ(MaxPerKey(Committed(dir_.Sub(out + "-counted"))), new_counts_);
  }

  Write(dir_.Sub("removed.yaml"), Job([&] {
          JobText t = Text("removed");
          t.removed = true;
          return t;
        }()));
  auto [code, check] = DryRun(sp, "removed.yaml");
  EXPECT_EQ(code, 1);
  EXPECT_EQ(Op(check, "totals")["fate"], "needs -n");
  ASSERT_FALSE(check["problems"].empty());
  ProcessResult r = RealRun(sp, "removed.yaml");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(Errors(r.err),
              ::testing::ElementsAre(check["problems"][0].get<std::string>()));
  auto [code_n, check_n] = DryRun(sp, "removed.yaml", {"-n"});
  EXPECT_EQ(code_n, 0) << check_n.dump(2);
  EXPECT_EQ(Op(check_n, "totals")["fate"], "dropped");
  r = RealRun(sp, "removed.yaml", {"-n"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Count(Committed(dir_.Sub("removed"))), kAfter);
}

TEST_F(WeirDryRunTest, SuggestsTheUidHashThatAdoptsAnOrphanedState) {
  const std::string sp = TakeSavepoint();
  ASSERT_FALSE(sp.empty());
  Write(dir_.Sub("renamed.yaml"), Job([&] {
          JobText t = Text("renamed");
          t.totals_uid = "running-totals";
          return t;
        }()));
  auto [code, check] = DryRun(sp, "renamed.yaml");
  EXPECT_EQ(code, 1);
  const std::string old_id = Op(check, "totals")["id"];
  EXPECT_EQ(Op(check, "totals")["fate"], "needs -n");
  EXPECT_EQ(Op(check, "running-totals")["fate"], "starts empty");
  EXPECT_EQ(Op(check, "running-totals")["suggestedUidHash"], old_id);
  // The text form prints the line to add.
  ProcessResult text =
      Weir({"run", "-c", "conf.yaml", "--dry-run", "-s", sp, "renamed.yaml"});
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_THAT(text.out, HasSubstr("`uid-hash: " + old_id + "`"));
  ProcessResult r = RealRun(sp, "renamed.yaml");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(Errors(r.err),
              ::testing::ElementsAre(check["problems"][0].get<std::string>()));

  // With the suggested line the state is adopted.
  Write(dir_.Sub("adopted.yaml"), Job([&] {
          JobText t = Text("adopted");
          t.totals_uid = "running-totals";
          t.uid_hash = old_id;
          return t;
        }()));
  auto [code2, check2] = DryRun(sp, "adopted.yaml", {"-p", "2"});
  EXPECT_EQ(code2, 0) << check2.dump(2);
  EXPECT_EQ(Op(check2, "running-totals")["fate"], "restored");
  EXPECT_EQ(Op(check2, "running-totals")["id"], old_id);
  r = RealRun(sp, "adopted.yaml", {"-p", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectSumsGoOn("adopted");
}

TEST_F(WeirDryRunTest, PredictsAMaxParallelismMismatch) {
  const std::string sp = TakeSavepoint();
  ASSERT_FALSE(sp.empty());
  Write(dir_.Sub("mp64.yaml"), Job([&] {
          JobText t = Text("mp64");
          t.max_parallelism = 64;
          return t;
        }()));
  auto [code, check] = DryRun(sp, "mp64.yaml");
  EXPECT_EQ(code, 1);
  EXPECT_EQ(check["snapshotMaxParallelism"], 128);
  EXPECT_EQ(check["jobMaxParallelism"], 64);
  ASSERT_FALSE(check["problems"].empty());
  EXPECT_THAT(check["problems"][0].get<std::string>(),
              HasSubstr("max parallelism"));
  ProcessResult r = RealRun(sp, "mp64.yaml");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(Errors(r.err),
              ::testing::ElementsAre(check["problems"][0].get<std::string>()));
}

TEST_F(WeirDryRunTest, NeedsASnapshotAndStartsNothing) {
  ProcessResult r = Weir({"run", "-c", "conf.yaml", "--dry-run", "sums.yaml"});
  ExpectOneErrorLine(r, {"--dry-run needs", "-s"});
  r = Weir(
      {"run", "-c", "conf.yaml", "--dry-run", "-s", "nowhere", "sums.yaml"});
  ExpectOneErrorLine(r, {"nowhere"});
  EXPECT_FALSE(fs::exists(dir_.Sub("chk")));
}

// no-claim: the new job prunes several checkpoints and never changes a
// file of the savepoint or of the old job's storage; its first checkpoint
// hard-links the restored files (the same inodes) instead of copying them.
// claim: once the new job's first checkpoint is complete the savepoint is
// disposed of, and the job goes on.
TEST_F(WeirDryRunTest, ClaimModes) {
  Write(dir_.Sub("conf.yaml"),
        "rest.port: 0\nexecution.checkpointing.dir: " + dir_.Sub("chk") +
            "\nexecution.checkpointing.interval: 200ms\n");
  const std::string sp = TakeSavepoint();
  ASSERT_FALSE(sp.empty());
  const std::string old_storage = dir_.Sub("chk/" + old_job_);
  const auto sp_before = Stamps(dir_.Sub("sp"));
  const auto storage_before = Stamps(old_storage);
  const std::set<ino_t> old_inodes = Inodes(old_storage + "/shared");
  ASSERT_FALSE(old_inodes.empty());

  Started j = StartDetached(
      {"-s", sp, "--claim-mode", "no-claim", "-p", "2", "sums.yaml"});
  ASSERT_NO_FATAL_FAILURE(WaitCheckpoints(j.id, 1));
  {
    // The first checkpoint: the restored files, linked, not copied.
    std::set<ino_t> linked;
    for (ino_t i : Inodes(dir_.Sub("chk/" + j.id + "/shared"))) {
      if (old_inodes.contains(i)) linked.insert(i);
    }
    EXPECT_FALSE(linked.empty());
  }
  for (int round = 0; round < 4; ++round) {
    Append(50, kBefore + kAfter + round * 50);
    ASSERT_NO_FATAL_FAILURE(WaitCheckpoints(j.id, 2));
  }
  ASSERT_EQ(Weir({"cancel", j.id}).exit_code, 0);
  WaitGone(j.id);
  EXPECT_EQ(Stamps(dir_.Sub("sp")), sp_before);
  EXPECT_EQ(Stamps(old_storage), storage_before);

  // no-claim of a checkpoint: a new job, which leaves the old job's
  // storage (and that checkpoint) as it was.
  const std::string chk = LatestCheckpoint(old_storage);
  ASSERT_FALSE(chk.empty());
  j = StartDetached(
      {"-s", chk, "--claim-mode", "no-claim", "-p", "2", "sums.yaml"});
  EXPECT_NE(j.id, old_job_);
  ASSERT_NO_FATAL_FAILURE(WaitCheckpoints(j.id, 1));
  Append(50, 1500);
  ASSERT_NO_FATAL_FAILURE(WaitCheckpoints(j.id, 3));
  ASSERT_EQ(Weir({"cancel", j.id}).exit_code, 0);
  WaitGone(j.id);
  EXPECT_EQ(Stamps(old_storage), storage_before);

  // claim: the savepoint goes once the new job has a checkpoint.
  j = StartDetached(
      {"-s", sp, "--claim-mode", "claim", "-p", "2", "sums.yaml"});
  ASSERT_NO_FATAL_FAILURE(WaitCheckpoints(j.id, 1));
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  // The registration goes after the directory.
  while ((fs::exists(sp) || !Tree(old_storage + "/savepoint-refs").empty()) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_FALSE(fs::exists(sp));
  EXPECT_TRUE(Tree(old_storage + "/savepoint-refs").empty());
  Append(50, 2000);
  ASSERT_NO_FATAL_FAILURE(WaitCheckpoints(j.id, 3));
  ASSERT_EQ(Weir({"cancel", j.id}).exit_code, 0);
  WaitGone(j.id);

  ProcessResult r = Weir({"run", "-c", "conf.yaml", "--claim-mode", "maybe",
                          "-s", dir_.Sub("nowhere"), "sums.yaml"});
  ExpectOneErrorLine(r, {"--claim-mode", "maybe"});
}

}  // namespace
}  // namespace weir::e2e
