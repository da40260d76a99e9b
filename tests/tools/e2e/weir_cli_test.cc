// SPDX-License-Identifier: Apache-2.0
//
// The `weir` binary end to end: the sums job (per-user totals) at several
// parallelisms, windows, malformed input, and detached jobs found through
// the registry, cancelled over REST, and killed.
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testutil/temp_dir.h"
#include "tests/tools/e2e/run_process.h"
#include "tests/tools/e2e/weir_output.h"
#include "tools/control/rest_client.h"

namespace weir::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSumsJob[] = R"(name: sums
parallelism: 2
max-parallelism: 128
operators:
  - uid: events
    type: file-source
    path: events.csv            # relative to this file
    format: csv
    schema: [user:string, amount:int64]
  - uid: totals
    type: sum                   # keyed running sum
    key: user
    field: amount               # emits (user, running total) for every input record
  - uid: out
    type: file-sink
    path: out                   # a directory of part files, CSV lines "user,total"
    format: csv
)";

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// All lines of all part files in `dir`.
std::vector<std::string> ReadParts(const std::string& dir) {
  std::vector<std::string> lines;
  if (!fs::exists(dir)) return lines;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("part-", 0) != 0) continue;
    std::ifstream in(e.path());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  return lines;
}

class WeirCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Create();
    // An empty configuration directory: a configuration file on this
    // machine (/etc/weir/config.yaml) changes nothing here.
    std::filesystem::create_directories(dir_.Sub("etc"));
    env_ = {"WEIR_RUNTIME_DIR=" + dir_.Sub("runtime"), "TMPDIR=" + dir_.path(),
            "WEIR_CONF_DIR=" + dir_.Sub("etc")};
  }
  ProcessResult Weir(std::vector<std::string> args, int timeout_s = 60) {
    args.insert(args.begin(), WeirBinary());
    return e2e::Run(args, dir_.path(), env_, timeout_s);
  }

  testutil::TestDir dir_;
  std::vector<std::string> env_;
};

TEST_F(WeirCliTest, VersionNamesTheCommitAndTheLibraries) {
  ProcessResult r = Weir({"--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::StartsWith("weir "));
  EXPECT_THAT(r.out, HasSubstr(" (commit "));
  for (const char* lib : {"RocksDB ", "zstd ", "xxHash ", "yaml-cpp ", "CLI11 ",
                          "nlohmann-json ", "Boost.Beast "}) {
    EXPECT_THAT(r.out, HasSubstr(lib));
  }
}

// No command, or an unknown one: one error line that lists the commands.
TEST_F(WeirCliTest, AnUnknownCommandIsNamedAndTheCommandsListed) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{}, {"frobnicate"}}) {
    ProcessResult r = Weir(args);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("the commands are run, list, cancel, stop"));
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    if (!args.empty()) {
      EXPECT_THAT(r.err, HasSubstr("'frobnicate'"));
    }
  }
}

TEST_F(WeirCliTest, SumsJobGivesTheSameTotalsAtParallelismOneTwoFour) {
  std::ostringstream csv;
  std::map<std::string, int64_t> expected;
  for (int i = 0; i < 3000; ++i) {
    const std::string user = "user" + std::to_string((i * 31) % 53);
    csv << user << "," << i % 17 + 1 << "\n";
    expected[user] += i % 17 + 1;
  }
  Write(dir_.Sub("events.csv"), csv.str());
  Write(dir_.Sub("sums.yaml"), kSumsJob);
  for (int p : {1, 2, 4}) {
    SCOPED_TRACE("parallelism " + std::to_string(p));
    fs::remove_all(dir_.Sub("out"));
    ProcessResult r = Weir(
        {"run", "-p", std::to_string(p), "-D", "rest.port=0", "sums.yaml"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("Job has been submitted with JobID "));
    EXPECT_THAT(r.out, HasSubstr("REST endpoint: http://127.0.0.1:"));
    std::vector<std::string> lines = ReadParts(dir_.Sub("out"));
    EXPECT_EQ(lines.size(), 3000u);  // one running total per record
    std::map<std::string, int64_t> totals;
    for (const std::string& line : lines) {
      const size_t comma = line.find(',');
      ASSERT_NE(comma, std::string::npos) << line;
      int64_t v = std::stoll(line.substr(comma + 1));
      int64_t& t = totals[line.substr(0, comma)];
      t = std::max(t, v);
    }
    EXPECT_EQ(totals, expected);
  }
}

TEST_F(WeirCliTest, EventTimeWindowsGiveTheSameResultsAtAnyParallelism) {
  std::ostringstream csv;
  for (int i = 0; i < 2000; ++i) {
    // Timestamps up to 30 ms out of order; some far-late records.
    int64_t ts = i * 5 - (i * 13) % 30;
    if (i % 500 == 499) ts = 0;  // late: dropped
    csv << "k" << i % 7 << "," << i % 10 << "," << ts << "\n";
  }
  Write(dir_.Sub("events.csv"), csv.str());
  Write(dir_.Sub("windows.yaml"), R"(name: windows
operators:
  - uid: events
    type: file-source
    path: events.csv
    format: csv
    schema: [key:string, amount:int64, ts:int64]
    timestamp: ts
    out-of-orderness: 30ms
  - uid: per-second
    type: window
    key: key
    kind: tumbling
    size: 100ms
    agg: sum
    field: amount
  - uid: out
    type: file-sink
    path: out
)");
  std::vector<std::string> baseline;
  for (int p : {1, 2, 4}) {
    SCOPED_TRACE("parallelism " + std::to_string(p));
    fs::remove_all(dir_.Sub("out"));
    ProcessResult r =
        Weir({"run", "-p", std::to_string(p), "-D", "rest.port=0", "-D",
              "state.backend.type=hashmap", "windows.yaml"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> lines = ReadParts(dir_.Sub("out"));
    std::sort(lines.begin(), lines.end());
    EXPECT_GT(lines.size(), 100u);
    if (baseline.empty()) {
      baseline = lines;
    } else {
      EXPECT_EQ(lines, baseline);
    }
  }
  EXPECT_THAT(baseline, ::testing::Contains(HasSubstr(",0,100,")));
}

struct BadJob {
  std::string name;
  std::string yaml;
  std::string message;  // expected in stderr
};

class BadJobTest : public WeirCliTest,
                   public ::testing::WithParamInterface<BadJob> {};

TEST_P(BadJobTest, FailsWithOneClearMessage) {
  Write(dir_.Sub("events.csv"), "alice,1\n");
  Write(dir_.Sub("job.yaml"), GetParam().yaml);
  ProcessResult r = Weir({"run", "-D", "rest.port=0", "job.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(GetParam().message));
  EXPECT_THAT(r.err, HasErrorLine());
  // One message: one line.
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("submitted")));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadJobTest,
    ::testing::Values(
        BadJob{"UnknownType",
               "name: x\noperators:\n  - uid: a\n    type: summ\n",
               "job.yaml:4:"},
        BadJob{"UnknownField",
               "name: x\noperators:\n  - uid: events\n    type: file-source\n"
               "    path: events.csv\n    format: csv\n"
               "    schema: [user:string, amount:int64]\n"
               "  - uid: t\n    type: sum\n    key: user\n    field: amout\n",
               "amout"},
        BadJob{"UnknownKey",
               "name: x\noperators:\n  - uid: g\n    type: generator\n"
               "    kyes: 3\n",
               "kyes"},
        BadJob{"NotYaml", "name: [x\n", "job.yaml:"},
        BadJob{"DuplicateUid",
               "name: x\noperators:\n  - uid: g\n    type: generator\n"
               "    count: 1\n  - uid: g\n    type: null-sink\n",
               "'g'"}),
    [](const auto& info) { return info.param.name; });

TEST_F(WeirCliTest, SchemaMismatchFailsWithFileAndLineOrIsSkipped) {
  Write(dir_.Sub("events.csv"), "alice,1\nbob,2\ncarol,three\ndave,4\n");
  std::string job = kSumsJob;
  Write(dir_.Sub("sums.yaml"), job);
  ProcessResult r = Weir({"run", "-D", "rest.port=0", "sums.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("events.csv:3"));
  EXPECT_THAT(r.err, HasSubstr("three"));

  fs::remove_all(dir_.Sub("out"));
  job.replace(job.find("    format: csv\n"), 0, "    on-error: skip\n");
  Write(dir_.Sub("sums.yaml"), job);
  r = Weir({"run", "-D", "rest.port=0", "sums.yaml"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadParts(dir_.Sub("out")).size(), 3u);
}

TEST_F(WeirCliTest, BadFlagsAndConfigFail) {
  Write(dir_.Sub("sums.yaml"), kSumsJob);
  ProcessResult r = Weir({"run", "--no-such-flag", "sums.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--no-such-flag"));

  r = Weir({"run", "-D", "rest.prot=0", "sums.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("rest.port"));  // the suggestion

  Write(dir_.Sub("conf.yaml"), "state.backend.type: fancy\n");
  r = Weir({"run", "-c", "conf.yaml", "sums.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("conf.yaml:1"));

  r = Weir(
      {"run", "-D", "state.backend.rocksdb.read-mode=mapped", "sums.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("state.backend.rocksdb.read-mode"));
  EXPECT_THAT(r.err, HasSubstr("auto, mmap, pread"));

  Write(dir_.Sub("conf.yaml"),
        "state.backend.rocksdb:\n  block.cache-size: 12 parsecs\n");
  r = Weir({"run", "-c", "conf.yaml", "sums.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("conf.yaml:2"));
  EXPECT_THAT(r.err, HasSubstr("invalid memory size"));

  r = Weir({"run", "missing.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("missing.yaml"));
}

// A detached unbounded job: listed, inspected over REST, cancelled; another
// one SIGKILLed disappears from the list.
TEST_F(WeirCliTest, DetachedJobsAreListedCancelledAndCleanedUp) {
  Write(dir_.Sub("gen.yaml"), R"(name: forever
operators:
  - uid: gen
    type: generator
    keys: 100
    rate: 2000
  - uid: counts
    type: count
    key: key
  - uid: sink
    type: null-sink
)");
  ProcessResult r = Weir({"run", "-d", "-D", "rest.port=0", "gen.yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const size_t at = r.out.find("JobID ");
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string id = r.out.substr(at + 6, 32);
  const std::string rest = "REST endpoint: http://127.0.0.1:";
  const size_t rest_at = r.out.find(rest);
  ASSERT_NE(rest_at, std::string::npos) << r.out;
  const int port = std::stoi(r.out.substr(rest_at + rest.size()));

  // The endpoint describes the running job: vertices, parallelism, counts.
  Result<JobInfo> info =
      tools::FetchJob("127.0.0.1", port, *JobId::FromHex(id));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->name, "forever");
  EXPECT_EQ(info->status, JobStatus::kRunning);
  ASSERT_EQ(info->vertices.size(), 2u);
  EXPECT_EQ(info->vertices[1].operators[0].uid, "counts");
  EXPECT_EQ(info->vertices[1].parallelism, 1);
  for (int i = 0; i < 200 && info->vertices[1].records_in == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    info = tools::FetchJob("127.0.0.1", port, *JobId::FromHex(id));
    ASSERT_TRUE(info.ok()) << info.status().ToString();
  }
  EXPECT_GT(info->vertices[1].records_in, 0);

  r = Weir({"list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(id + " : forever (RUNNING)"));

  r = Weir({"cancel", id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The job winds down and leaves the registry.
  for (int i = 0; i < 100; ++i) {
    r = Weir({"list"});
    if (r.out.find(id) == std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_THAT(r.out, HasSubstr("No running jobs."));

  // SIGKILL: the registry entry stays on disk but its process is gone.
  r = Weir({"run", "-d", "-D", "rest.port=0", "gen.yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id2 = r.out.substr(r.out.find("JobID ") + 6, 32);
  std::ifstream entry(dir_.Sub("runtime/" + id2 + ".json"));
  std::string json((std::istreambuf_iterator<char>(entry)), {});
  const size_t pid_at = json.find("\"pid\"");
  ASSERT_NE(pid_at, std::string::npos) << json;
  const pid_t pid = std::stoi(json.substr(json.find(':', pid_at) + 1));
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  for (int i = 0; i < 100 && kill(pid, 0) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  r = Weir({"list"});
  EXPECT_THAT(r.out, Not(HasSubstr(id2)));
  r = Weir({"cancel", id2});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("no running job"));
}

}  // namespace
}  // namespace weir::e2e
