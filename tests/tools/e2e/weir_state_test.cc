// SPDX-License-Identifier: Apache-2.0
//
// The offline state tools with the `weir` binary, end to end: `weir state
// dump`, `weir savepoint info --sizes` and `weir savepoint diff` on
// savepoints of the sums job (a keyed running sum) taken with the RocksDB
// backend (native and canonical) and the memory backend. The dumped sums
// must be those computed from the input; a savepoint equals itself; two
// savepoints of one job differ in exactly the keys whose sums changed; bad
// input is one error and changes no file.
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

#include "tests/tools/e2e/output_files.h"
#include "tests/tools/e2e/run_process.h"
#include "tests/tools/e2e/weir_job_fixture.h"
#include "tests/tools/e2e/weir_output.h"

namespace weir::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

struct Shape {
  std::string name;
  std::string backend;  // state.backend.type
  bool canonical = false;
};

class WeirStateTest : public WeirJobTest,
                      public ::testing::WithParamInterface<Shape> {
 protected:
  void SetUp() override {
    WeirJobTest::SetUp();
    rng_.seed(7);
  }

  // Appends `n` records "user<k>,<amount>" to events.csv and to sums_.
  void Append(int n) {
    std::ostringstream chunk;
    for (int i = 0; i < n; ++i) {
      const std::string user = "user" + std::to_string(rng_() % 13);
      const int64_t amount = static_cast<int64_t>(rng_() % 100) + 1;
      sums_[user] += amount;
      chunk << user << "," << amount << "\n";
    }
    std::ofstream(dir_.Sub("events.csv"), std::ios::app) << chunk.str();
    records_ += n;
  }

  void WaitCommitted(int64_t n) {
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (Count(Committed(dir_.Sub("out"))) < n) {
      ASSERT_LT(Clock::now(), deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  std::vector<std::string> BackendArgs() const {
    return {"-D", "state.backend.type=" + GetParam().backend};
  }

  // `weir savepoint [--type canonical] JOBID sp`: the savepoint's path.
  std::string Savepoint(const std::string& job) {
    std::vector<std::string> args = {"savepoint"};
    if (GetParam().canonical) args.insert(args.end(), {"--type", "canonical"});
    args.insert(args.end(), {job, "sp"});
    ProcessResult r = Weir(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return After(r.out, "Savepoint completed. Path: ");
  }

  // The JSON lines of `weir state dump <args>`.
  std::vector<json> Dump(std::vector<std::string> args) {
    args.insert(args.begin(), {"state", "dump"});
    ProcessResult r = Weir(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<json> out;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      out.push_back(json::parse(line, nullptr, false));
      EXPECT_TRUE(out.back().is_object()) << line;
    }
    return out;
  }

  // The `sum` values of operator `totals` in a dump.
  static std::map<std::string, int64_t> Sums(const std::vector<json>& lines) {
    std::map<std::string, int64_t> out;
    for (const json& j : lines) {
      if (j.value("operator", "") != "totals" ||
          j.value("state", "") != "sum") {
        continue;
      }
      EXPECT_EQ(j["kind"], "value") << j;
      EXPECT_TRUE(j["key"].is_string()) << j;
      EXPECT_TRUE(j["value"].is_number_integer()) << j;
      EXPECT_EQ(j["key_group"].get<int>() >= 0, true) << j;
      out[j["key"].get<std::string>()] = j["value"].get<int64_t>();
    }
    return out;
  }

  std::mt19937_64 rng_;
  std::map<std::string, int64_t> sums_;
  int64_t records_ = 0;
};

TEST_P(WeirStateTest, DumpSizesAndDiffOfSavepoints) {
  Append(600);
  std::vector<std::string> args = BackendArgs();
  args.push_back("sums.yaml");
  Started j = StartDetached(args);
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(records_));
  const std::string sp1 = Savepoint(j.id);
  ASSERT_FALSE(sp1.empty());
  const std::map<std::string, int64_t> sums1 = sums_;
  // More records for some users only.
  std::ostringstream more;
  for (int i = 0; i < 50; ++i) {
    const std::string user = "user" + std::to_string(i % 3);
    sums_[user] += i + 1;
    more << user << "," << i + 1 << "\n";
  }
  sums_["newcomer"] += 5;
  more << "newcomer,5\n";
  std::ofstream(dir_.Sub("events.csv"), std::ios::app) << more.str();
  records_ += 51;
  ASSERT_NO_FATAL_FAILURE(WaitCommitted(records_));
  const std::string sp2 = Savepoint(j.id);
  ASSERT_FALSE(sp2.empty());
  ASSERT_EQ(Weir({"cancel", j.id}).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(WaitGone(j.id));
  const std::set<std::string> tree = Tree(dir_.path());

  // The dump holds the sums a failure-free run computes.
  EXPECT_EQ(Sums(Dump({sp1})), sums1);
  EXPECT_EQ(Sums(Dump({sp2})), sums_);
  // Filters: one operator, one state, one key.
  std::vector<json> one =
      Dump({"--uid", "totals", "--state", "sum", "--key", "user3", sp2});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]["value"], sums_["user3"]);
  // CSV: a header and one line per entry.
  ProcessResult r = Weir({"state", "dump", "--format", "csv", "--uid", "totals",
                          "--state", "sum", sp2});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("operator,state,kind,key_group,key,"));
  EXPECT_THAT(r.out, HasSubstr("totals,sum,value,"));
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'),
            static_cast<long>(sums_.size()) + 1);

  // Sizes: entries per operator and state, key groups.
  r = Weir({"savepoint", "info", "--sizes", "--json", sp2});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json sizes = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(sizes.is_object()) << r.out;
  bool found = false;
  for (const json& op : sizes["operators"]) {
    if (op["uid"] != "totals") continue;
    found = true;
    EXPECT_EQ(op["entries"].get<size_t>(), sums_.size()) << op;
    EXPECT_GT(op["bytes"].get<uint64_t>(), 0u);
    EXPECT_EQ(op["key_groups"]["bytes"].size(), 128u);
    EXPECT_LE(op["key_groups"]["with_state"].get<size_t>(), sums_.size());
    EXPECT_GE(op["key_groups"]["max_bytes"].get<uint64_t>(),
              op["key_groups"]["median_bytes"].get<uint64_t>());
    ASSERT_EQ(op["states"].size(), 1u) << op;
    EXPECT_EQ(op["states"][0]["name"], "sum");
    EXPECT_FALSE(op["files"].empty()) << op;
  }
  EXPECT_TRUE(found) << r.out;
  r = Weir({"savepoint", "info", "--sizes", sp2});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Operator "));
  EXPECT_THAT(r.out, HasSubstr("key groups:"));
  EXPECT_THAT(r.out, HasSubstr("    sum: " + std::to_string(sums_.size()) +
                               " entries"));

  // A savepoint equals itself.
  r = Weir({"savepoint", "diff", sp1, sp1});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "");
  // Two points of one job: exactly the users with new records differ.
  r = Weir({"savepoint", "diff", "--keys", "--json", sp1, sp2});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const json diff = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(diff.is_object()) << r.out;
  EXPECT_EQ(diff["equal"], false);
  std::map<std::string, std::pair<json, json>> changed;
  for (const json& op : diff["operators"]) {
    for (const json& st : op.value("states", json::array())) {
      if (op["operator"] != "totals" || st["state"] != "sum") continue;
      EXPECT_EQ(st["entries_added"], 1);
      EXPECT_EQ(st["entries_removed"], 0);
      EXPECT_EQ(st["entries_changed"], 3);
      for (const json& k : st["keys"]) {
        changed[k["key"]["key"].get<std::string>()] = {k.value("old", json()),
                                                       k.value("new", json())};
      }
    }
  }
  std::map<std::string, std::pair<json, json>> want;
  for (const auto& [user, sum] : sums_) {
    auto before = sums1.find(user);
    if (before == sums1.end()) {
      want[user] = {json(), json(sum)};
    } else if (before->second != sum) {
      want[user] = {json(before->second), json(sum)};
    }
  }
  EXPECT_EQ(changed, want) << r.out;
  r = Weir({"savepoint", "diff", "--keys", sp1, sp2});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("operator totals: changed\n"));
  EXPECT_THAT(r.out, HasSubstr("    + newcomer: 5\n"));
  EXPECT_THAT(r.out,
              HasSubstr("    ~ user0: " + std::to_string(sums1.at("user0")) +
                        " -> " + std::to_string(sums_.at("user0"))));

  // Nothing was written into the savepoints or the checkpoint storage, and
  // no scratch directory was left in TMPDIR (the test directory).
  EXPECT_EQ(Tree(dir_.path()), tree);
}

// Bad input: one error line naming the cause, exit 1 (diff: 2), and no
// file written or removed anywhere.
TEST_F(WeirJobTest, StateToolsRefuseBadInputAndWriteNothing) {
  std::ostringstream events;
  for (int i = 0; i < 300; ++i) events << "user" << i % 7 << "," << i << "\n";
  Write(dir_.Sub("events.csv"), events.str());
  Started j = StartDetached({"-D", "state.backend.type=hashmap", "sums.yaml"});
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Count(Committed(dir_.Sub("out"))) < 300) {
    ASSERT_LT(Clock::now(), deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ProcessResult r = Weir({"stop", "-p", "sp", j.id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string sp = After(r.out, "Savepoint completed. Path: ");
  ASSERT_NO_FATAL_FAILURE(WaitGone(j.id));

  const std::string bad = dir_.Sub("bad");
  fs::create_directories(bad + "/empty");
  fs::copy(sp, bad + "/truncated", fs::copy_options::recursive);
  const std::string meta = Slurp(sp + "/_metadata");
  Write(bad + "/truncated/_metadata", meta.substr(0, meta.size() / 2));
  fs::create_directories(bad + "/foreign");
  Write(bad + "/foreign/_metadata", std::string(meta.size(), 'x'));
  // Copies without, and with a damaged, state file (same size).
  std::string victim;
  for (const auto& e : fs::recursive_directory_iterator(sp)) {
    if (e.is_regular_file() && e.path().filename() != "_metadata" &&
        e.file_size() > 0) {
      victim = fs::relative(e.path(), sp).string();
    }
  }
  ASSERT_FALSE(victim.empty()) << "no state file in " << sp;
  fs::copy(sp, bad + "/missing-file", fs::copy_options::recursive);
  fs::remove(bad + "/missing-file/" + victim);
  fs::copy(sp, bad + "/corrupt-file", fs::copy_options::recursive);
  std::string damaged = Slurp(sp + "/" + victim);
  for (char& c : damaged) c = static_cast<char>(~c);
  Write(bad + "/corrupt-file/" + victim, damaged);
  const std::set<std::string> tree = Tree(dir_.path());
  std::map<std::string, fs::file_time_type> times;
  for (const std::string& p : tree) times[p] = fs::last_write_time(p);

  struct Case {
    std::vector<std::string> args;  // after `state dump`
    std::string named;              // in the message
  };
  const std::string name = fs::path(victim).filename().string();
  const std::vector<Case> cases = {
      {{bad + "/nothing-here"}, "nothing-here"},
      {{bad + "/empty"}, "empty/_metadata"},
      {{bad + "/truncated"}, "truncated/_metadata"},
      {{bad + "/foreign"}, "foreign/_metadata"},
      {{bad + "/missing-file"}, name},
      {{bad + "/corrupt-file"}, name},
      {{"--uid", "nobody", sp}, "nobody"},
      {{"--uid", "totals", "--state", "nothing", sp}, "nothing"},
      {{"--format", "xml", sp}, "xml"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"state", "dump"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    SCOPED_TRACE(testing::PrintToString(args));
    r = Weir(args);
    ExpectOneErrorLine(r, {c.named});
    if (c.args.size() == 1) {
      r = Weir({"savepoint", "info", "--sizes", c.args[0]});
      ExpectOneErrorLine(r, {c.named});
      for (const auto& [a, b] : {std::pair{c.args[0], sp}, {sp, c.args[0]}}) {
        r = Weir({"savepoint", "diff", a, b});
        EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
        EXPECT_THAT(r.err, HasSubstr(c.named));
        EXPECT_EQ(r.out, "");
      }
    }
  }
  // A bad flag or a missing operand of diff is an error too: 2, as diff(1).
  r = Weir({"savepoint", "diff", "--no-such-flag", sp, sp});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("no-such-flag"));
  r = Weir({"savepoint", "diff", sp});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_EQ(Tree(dir_.path()), tree);
  for (const auto& [p, t] : times) {
    if (fs::exists(p)) {
      EXPECT_EQ(fs::last_write_time(p), t) << p;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, WeirStateTest,
                         ::testing::Values(Shape{"rocksdb", "rocksdb", false},
                                           Shape{"hashmap", "hashmap", false},
                                           Shape{"canonical", "rocksdb", true}),
                         [](const ::testing::TestParamInfo<Shape>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace weir::e2e
