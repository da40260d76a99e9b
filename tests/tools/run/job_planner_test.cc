// SPDX-License-Identifier: Apache-2.0
//
// Every built-in operator type of job files, planned onto the engine and
// run in this process; results compared with values computed here.
#include "tools/run/job_planner.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"
#include "weir/nexmark.h"

namespace weir::tools {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::weir::testutil::StatusIs;

std::vector<std::string> ReadParts(const std::string& dir) {
  std::vector<std::string> lines;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().rfind("part-", 0) != 0) continue;
    std::ifstream in(e.path());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

// user -> last value in the lines "user,value" (max for running aggregates
// of positive values; the test data makes last == extreme).
std::map<std::string, std::string> LastPerKey(
    const std::vector<std::string>& lines,
    const std::function<bool(const std::string&, const std::string&)>& better) {
  std::map<std::string, std::string> out;
  for (const std::string& l : lines) {
    const size_t c = l.find(',');
    const std::string k = l.substr(0, c), v = l.substr(c + 1);
    auto it = out.find(k);
    if (it == out.end() || better(v, it->second)) out[k] = v;
  }
  return out;
}

class PlannerTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { dir_.Create(); }

  void RunJob(const std::string& yaml, const std::string& backend) {
    Result<JobSpec> spec = ParseJobString(yaml, "job.yaml", dir_.path());
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    Result<Config> config =
        LoadConfigString("", "conf.yaml",
                         {"state.backend.type=" + backend,
                          "state.backend.local-dir=" + dir_.Sub("state")});
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    PlanOverrides o;
    o.parallelism = GetParam();
    ASSERT_OK_AND_ASSIGN(JobBuilder b, PlanJob(*spec, *config, o));
    ASSERT_OK_AND_ASSIGN(JobOptions options, JobOptionsFromConfig(*config));
    ASSERT_OK_AND_ASSIGN(auto job, b.Build(options));
    ASSERT_OK(job->Start());
    ASSERT_OK(job->Wait());
  }

  testutil::TestDir dir_;
};

TEST_P(PlannerTest, EveryOperatorTypeComputesWhatItSays) {
  std::ostringstream csv;
  struct Rec {
    std::string user;
    int64_t amount;
    double score;
  };
  std::vector<Rec> recs;
  for (int i = 0; i < 500; ++i) {
    recs.push_back({"u" + std::to_string(i % 9), i % 23, (i % 7) * 0.5});
    csv << recs.back().user << "," << recs.back().amount << ","
        << recs.back().score << "\n";
  }
  std::ofstream(dir_.Sub("in.csv")) << csv.str();
  RunJob(R"(name: all-ops
operators:
  - uid: in
    type: file-source
    path: in.csv
    format: csv
    schema: [user:string, amount:int64, score:double]
  - uid: big
    type: filter
    field: amount
    op: ">="
    value: 5
  - uid: slim
    type: map
    fields: [user, {spent: amount}]
  - uid: counts
    type: count
    key: user
  - uid: counts-out
    type: file-sink
    path: counts
  - uid: maxes
    type: max
    inputs: [slim]
    key: user
    field: spent
  - uid: maxes-out
    type: file-sink
    path: maxes
  - uid: mins
    type: min
    inputs: [in]
    key: user
    field: score
  - uid: mins-out
    type: file-sink
    path: mins
  - uid: users
    type: distinct
    inputs: [in]
    key: user
  - uid: users-out
    type: file-sink
    path: users
    format: json
)",
         GetParam() == 2 ? "rocksdb" : "hashmap");

  std::map<std::string, int64_t> count, max;
  std::map<std::string, double> min;
  std::set<std::string> users;
  for (const Rec& r : recs) {
    users.insert(r.user);
    min[r.user] = min.count(r.user) ? std::min(min[r.user], r.score) : r.score;
    if (r.amount < 5) continue;
    ++count[r.user];
    max[r.user] = std::max(max[r.user], r.amount);
  }
  auto num_greater = [](const std::string& a, const std::string& b) {
    return std::stod(a) > std::stod(b);
  };
  auto num_less = [](const std::string& a, const std::string& b) {
    return std::stod(a) < std::stod(b);
  };
  std::map<std::string, std::string> want_count, want_max, want_min;
  for (auto& [u, c] : count) want_count[u] = std::to_string(c);
  for (auto& [u, m] : max) want_max[u] = std::to_string(m);
  EXPECT_EQ(LastPerKey(ReadParts(dir_.Sub("counts")), num_greater), want_count);
  EXPECT_EQ(LastPerKey(ReadParts(dir_.Sub("maxes")), num_greater), want_max);
  auto mins = LastPerKey(ReadParts(dir_.Sub("mins")), num_less);
  ASSERT_EQ(mins.size(), min.size());
  for (auto& [u, m] : min) EXPECT_DOUBLE_EQ(std::stod(mins[u]), m) << u;
  // distinct: one JSON line per user, the first record of each.
  std::vector<std::string> firsts = ReadParts(dir_.Sub("users"));
  EXPECT_EQ(firsts.size(), users.size());
  for (const std::string& line : firsts) {
    EXPECT_THAT(line, HasSubstr("\"user\":\"u"));
  }
}

TEST_P(PlannerTest, WindowAggregatesMatchAComputedAnswer) {
  std::ostringstream csv;
  std::map<std::tuple<std::string, int64_t>, std::pair<int64_t, int64_t>>
      want;  // (key, window start) -> (count, sum)
  for (int i = 0; i < 1000; ++i) {
    const std::string k = "k" + std::to_string(i % 4);
    const int64_t ts = i * 10;  // in order: nothing is late
    csv << k << "," << i % 11 << "," << ts << "\n";
    auto& w = want[{k, ts / 1000 * 1000}];
    ++w.first;
    w.second += i % 11;
  }
  std::ofstream(dir_.Sub("in.csv")) << csv.str();
  for (const std::string agg : {"count", "avg"}) {
    SCOPED_TRACE(agg);
    fs::remove_all(dir_.Sub("out"));
    RunJob(std::string(R"(name: w
operators:
  - uid: in
    type: file-source
    path: in.csv
    format: csv
    schema: [key:string, v:int64, ts:int64]
    timestamp: ts
  - uid: win
    type: window
    key: key
    kind: tumbling
    size: 1s
    agg: )") + agg +
               (agg == "count" ? "" : "\n    field: v") + R"(
  - uid: out
    type: file-sink
    path: out
)",
           "hashmap");
    std::vector<std::string> lines = ReadParts(dir_.Sub("out"));
    ASSERT_EQ(lines.size(), want.size());
    for (const std::string& line : lines) {
      std::vector<std::string> f;
      std::stringstream ss(line);
      for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
      ASSERT_EQ(f.size(), 4u) << line;
      const auto& w = want.at({f[0], std::stoll(f[1])});
      EXPECT_EQ(std::stoll(f[2]) - std::stoll(f[1]), 1000);
      if (agg == "count") {
        EXPECT_EQ(std::stoll(f[3]), w.first) << line;
      } else {
        EXPECT_NEAR(std::stod(f[3]), static_cast<double>(w.second) / w.first,
                    1e-9)
            << line;
      }
    }
  }
}

// nexmark-source rows are the generator's events of the chosen kind, at
// any parallelism; a filter and a map work on their fields.
TEST_P(PlannerTest, NexmarkSourceRowsAreTheGeneratorsEvents) {
  RunJob(R"(name: nexmark
operators:
  - uid: bids
    type: nexmark-source
    events: bid
    count: 5000
    seed: 3
  - uid: dear
    type: filter
    field: price
    op: '>'
    value: 100000
  - uid: cols
    type: map
    fields: [auction, bidder, price, date_time]
  - uid: out
    type: file-sink
    path: out
)",
         "hashmap");
  nexmark::GeneratorOptions gen;
  gen.seed = 3;
  std::vector<std::string> want;
  for (int64_t n = 0; n < 5000; ++n) {
    const nexmark::Event e = nexmark::Generate(gen, n);
    const nexmark::Bid* b = e.bid();
    if (b == nullptr || b->price <= 100000) continue;
    want.push_back(std::to_string(b->auction) + "," +
                   std::to_string(b->bidder) + "," + std::to_string(b->price) +
                   "," + std::to_string(b->date_time));
  }
  std::sort(want.begin(), want.end());
  ASSERT_GT(want.size(), 100u);
  EXPECT_EQ(ReadParts(dir_.Sub("out")), want);
}

TEST_P(PlannerTest, SourceParallelismAboveOneIsRefused) {
  Result<JobSpec> spec = ParseJobString(R"(name: x
operators:
  - uid: in
    type: file-source
    path: in.csv
    format: csv
    schema: [a:int64]
    parallelism: 2
  - uid: out
    type: null-sink
)",
                                        "job.yaml", dir_.path());
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  Result<Config> config = LoadConfigString("", "conf.yaml", {});
  ASSERT_TRUE(config.ok());
  ASSERT_OK_AND_ASSIGN(JobBuilder b, PlanJob(*spec, *config, {}));
  EXPECT_THAT(b.Build(), StatusIs(Status::Code::kInvalidArgument,
                                  HasSubstr("non-parallel source")));
}

INSTANTIATE_TEST_SUITE_P(Parallelism, PlannerTest, ::testing::Values(1, 2, 4),
                         [](const auto& info) {
                           return "p" + std::to_string(info.param);
                         });

TEST(JobOptionsFromConfig, RocksDBOptionsDefaultToTheLibrarys) {
  ASSERT_OK_AND_ASSIGN(Config config, LoadConfigString("", "c.yaml", {}));
  ASSERT_OK_AND_ASSIGN(JobOptions o, JobOptionsFromConfig(config));
  const RocksDBOptions d;
  EXPECT_EQ(o.rocksdb.block_cache_bytes, d.block_cache_bytes);
  EXPECT_EQ(o.rocksdb.write_buffer_bytes, d.write_buffer_bytes);
  EXPECT_EQ(o.rocksdb.max_write_buffer_number, d.max_write_buffer_number);
  EXPECT_EQ(o.rocksdb.block_size, d.block_size);
  EXPECT_EQ(o.rocksdb.bloom_bits_per_key, d.bloom_bits_per_key);
  EXPECT_EQ(o.rocksdb.compression, d.compression);
  EXPECT_EQ(o.rocksdb.read_mode, d.read_mode);
  EXPECT_EQ(o.rocksdb.memory_budget_bytes, d.memory_budget_bytes);
  EXPECT_EQ(o.rocksdb.max_background_jobs, d.max_background_jobs);
  EXPECT_EQ(o.rocksdb.ready_db_snapshots, d.ready_db_snapshots);
}

TEST(JobOptionsFromConfig, RocksDBOptionsFromTheFileAndDynamicProperties) {
  ASSERT_OK_AND_ASSIGN(
      Config config,
      LoadConfigString("state.backend.rocksdb:\n"
                       "  block.cache-size: 64mb\n"
                       "  writebuffer.size: 8mb\n"
                       "  writebuffer.count: 4\n"
                       "  block.blocksize: 4kb\n"
                       "  bloom-filter.bits-per-key: 0\n"
                       "  compression: zstd\n"
                       "  read-mode: pread\n"
                       "  thread.num: 3\n"
                       "  ready-db-snapshots: false\n",
                       "c.yaml", {"state.backend.rocksdb.memory-budget=1g"}));
  ASSERT_OK_AND_ASSIGN(JobOptions o, JobOptionsFromConfig(config));
  EXPECT_EQ(o.rocksdb.block_cache_bytes, size_t{64} << 20);
  EXPECT_EQ(o.rocksdb.write_buffer_bytes, size_t{8} << 20);
  EXPECT_EQ(o.rocksdb.max_write_buffer_number, 4);
  EXPECT_EQ(o.rocksdb.block_size, size_t{4} << 10);
  EXPECT_EQ(o.rocksdb.bloom_bits_per_key, 0);
  EXPECT_EQ(o.rocksdb.compression, RocksDBOptions::Compression::kZstd);
  EXPECT_EQ(o.rocksdb.read_mode, RocksDBOptions::ReadMode::kPread);
  EXPECT_EQ(o.rocksdb.memory_budget_bytes, size_t{1} << 30);
  EXPECT_EQ(o.rocksdb.max_background_jobs, 3);
  EXPECT_FALSE(o.rocksdb.ready_db_snapshots);
}

TEST(JobOptionsFromConfig, BadRocksDBValuesNameTheKey) {
  for (const char* bad : {"state.backend.rocksdb.read-mode=mapped",
                          "state.backend.rocksdb.block.cache-size=lots",
                          "state.backend.rocksdb.writebuffer.size=1kb",
                          "state.backend.rocksdb.compression=gzip"}) {
    Result<Config> config = LoadConfigString("", "c.yaml", {bad});
    ASSERT_FALSE(config.ok()) << bad;
    const std::string key =
        std::string(bad).substr(0, std::string(bad).find('='));
    EXPECT_THAT(std::string(config.status().message()), HasSubstr(key)) << bad;
  }
}

TEST(JobOptionsFromConfig, CheckpointsAndRestarts) {
  {
    ASSERT_OK_AND_ASSIGN(Config config, LoadConfigString("", "c.yaml", {}));
    ASSERT_OK_AND_ASSIGN(JobOptions o, JobOptionsFromConfig(config));
    EXPECT_EQ(o.backend, JobOptions::Backend::kRocksDB);
    EXPECT_EQ(o.checkpoints.dir, "");  // checkpointing off
    EXPECT_EQ(o.checkpoints.interval_ms, 0);
    EXPECT_EQ(o.checkpoints.timeout_ms, 600000);
    EXPECT_EQ(o.checkpoints.num_retained, 1);
    EXPECT_TRUE(o.checkpoints.incremental);
    EXPECT_EQ(o.restart.attempts, 0);
    EXPECT_TRUE(o.restore_from.empty());
    EXPECT_EQ(o.checkpoints.savepoint_dir, "");
  }
  {
    // The savepoint directory, by its name and by Flink's older one.
    ASSERT_OK_AND_ASSIGN(
        Config config,
        LoadConfigString("execution.checkpointing.savepoint-dir: /var/sp\n",
                         "c.yaml", {}));
    ASSERT_OK_AND_ASSIGN(JobOptions o, JobOptionsFromConfig(config));
    EXPECT_EQ(o.checkpoints.savepoint_dir, "/var/sp");
    ASSERT_OK_AND_ASSIGN(
        config, LoadConfigString("", "c.yaml", {"state.savepoints.dir=/old"}));
    ASSERT_OK_AND_ASSIGN(o, JobOptionsFromConfig(config));
    EXPECT_EQ(o.checkpoints.savepoint_dir, "/old");
  }
  {
    ASSERT_OK_AND_ASSIGN(
        Config config,
        LoadConfigString("state.checkpoints.dir: /var/chk\n"
                         "execution.checkpointing.interval: 200ms\n"
                         "execution.checkpointing.timeout: 5s\n"
                         "execution.checkpointing.min-pause: 20ms\n"
                         "execution.checkpointing.max-concurrent-checkpoints: "
                         "3\n"
                         "execution.checkpointing.num-retained: 4\n"
                         "execution.checkpointing.incremental: false\n"
                         "restart-strategy.type: fixed-delay\n"
                         "restart-strategy.fixed-delay.attempts: 7\n"
                         "restart-strategy.fixed-delay.delay: 250ms\n",
                         "c.yaml", {}));
    ASSERT_OK_AND_ASSIGN(JobOptions o, JobOptionsFromConfig(config));
    EXPECT_EQ(o.checkpoints.dir, "/var/chk");
    EXPECT_EQ(o.checkpoints.interval_ms, 200);
    EXPECT_EQ(o.checkpoints.timeout_ms, 5000);
    EXPECT_EQ(o.checkpoints.min_pause_ms, 20);
    EXPECT_EQ(o.checkpoints.max_concurrent, 3);
    EXPECT_EQ(o.checkpoints.num_retained, 4);
    EXPECT_FALSE(o.checkpoints.incremental);
    EXPECT_EQ(o.restart.attempts, 7);
    EXPECT_EQ(o.restart.delay_ms, 250);
  }
  {
    // Attempts without the fixed-delay strategy restart nothing.
    ASSERT_OK_AND_ASSIGN(
        Config config,
        LoadConfigString("", "c.yaml",
                         {"restart-strategy.fixed-delay.attempts=3"}));
    ASSERT_OK_AND_ASSIGN(JobOptions o, JobOptionsFromConfig(config));
    EXPECT_EQ(o.restart.attempts, 0);
  }
  {
    ASSERT_OK_AND_ASSIGN(
        Config config,
        LoadConfigString("", "c.yaml",
                         {"execution.checkpointing.interval=1s"}));
    EXPECT_THAT(JobOptionsFromConfig(config),
                StatusIs(Status::Code::kInvalidArgument,
                         HasSubstr("execution.checkpointing.dir")));
  }
}

}  // namespace
}  // namespace weir::tools
