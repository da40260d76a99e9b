// SPDX-License-Identifier: Apache-2.0
//
// Checkpoints of whole jobs: the coordinator takes them (on demand and
// periodically), commits `_metadata` naming exactly the files on disk,
// retains and prunes, aborts on timeout and goes on; a job restored from a
// checkpoint, or restarted after a failure, continues with exactly the
// state and source offsets of the cut: every key's final count equals the
// count of a run that never stopped.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/checkpoint/metadata.h"
#include "lib/hash.h"
#include "tests/engine/core/test_functions.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"
#include "weir/sinks.h"

namespace weir::enginetest {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr int kKeys = 31;

// Emits records 0..total-1 (key "k<i % 31>"), but never beyond the shared
// gate: the test opens it step by step. Its offset is operator state,
// restored in Open().
struct Gate {
  std::atomic<int64_t> open{0};
};

class GatedSource final : public SourceFunction<Event> {
 public:
  GatedSource(int64_t total, std::shared_ptr<Gate> gate)
      : total_(total), gate_(std::move(gate)) {}
  Status Open(OperatorContext& ctx) override {
    auto state =
        GetOperatorListState<int64_t>(ctx.state(), ctx.operator_id(), "offset");
    if (!state.ok()) return state.status();
    auto v = state->Get();
    if (!v.ok()) return v.status();
    if (!v->empty()) next_ = v->front();
    return Status::OK();
  }
  Result<SourceStatus> Poll(SourceOutput<Event>& out, int max) override {
    const int64_t limit = std::min(total_, gate_->open.load());
    for (int i = 0; i < std::min(max, 16) && next_ < limit; ++i, ++next_) {
      out.Collect(Event{"k" + std::to_string(next_ % kKeys), 1, next_});
    }
    if (next_ >= total_) return SourceStatus::End();
    if (next_ >= limit) return SourceStatus::WaitingMicros(200);
    return SourceStatus::More();
  }
  Status SnapshotState(OperatorContext& ctx) override {
    auto state =
        GetOperatorListState<int64_t>(ctx.state(), ctx.operator_id(), "offset");
    if (!state.ok()) return state.status();
    return state->Update({next_});
  }

 private:
  int64_t total_;
  std::shared_ptr<Gate> gate_;
  int64_t next_ = 0;
};

// Counts per key in keyed state and emits (key, count).
class CountPerKey final
    : public KeyedProcessFunction<std::string, Event, Event> {
 public:
  Status Open(OperatorContext& ctx) override {
    auto s = GetState(ctx.state(), ctx.operator_id(),
                      ValueStateDescriptor<int64_t>{"count"});
    if (!s.ok()) return s.status();
    count_.emplace(std::move(*s));
    return Status::OK();
  }
  Status ProcessElement(const Event& e, Context&,
                        Collector<Event>& out) override {
    auto c = count_->Value();
    if (!c.ok()) return c.status();
    const int64_t n = c->value_or(0) + 1;
    Status s = count_->Update(n);
    if (s.ok()) out.Collect(Event{e.key, n, e.time});
    return s;
  }

 private:
  std::optional<ValueState<int64_t>> count_;
};

// Test hooks into the running job's functions.
struct Hooks {
  std::atomic<int64_t> fail_at{-1};         // fail once at this record
  std::atomic<int64_t> always_fail_at{-1};  // fail each time at this one
  std::atomic<bool> block{false};           // the map waits while set
};

struct Harness {
  std::shared_ptr<Gate> gate = std::make_shared<Gate>();
  std::shared_ptr<Collected<Event>> out = std::make_shared<Collected<Event>>();
  std::shared_ptr<Hooks> hooks = std::make_shared<Hooks>();
};

JobBuilder CountJob(const Harness& run, int64_t total) {
  JobBuilder b("counts");
  b.SetParallelism(2);
  auto gate = run.gate;
  auto hooks = run.hooks;
  b.AddSource<Event>(
       [gate, total] {
         return std::unique_ptr<SourceFunction<Event>>(
             std::make_unique<GatedSource>(total, gate));
       },
       "source")
      .Uid("source")
      .SetParallelism(1)
      .Map([hooks](const Event& e) -> Result<Event> {
        while (hooks->block.load()) std::this_thread::sleep_for(1ms);
        if (e.time == hooks->always_fail_at.load()) {
          return Status::IOError("injected failure at record " +
                                 std::to_string(e.time));
        }
        int64_t at = hooks->fail_at.load();
        if (at >= 0 && e.time == at &&
            hooks->fail_at.compare_exchange_strong(at, -1)) {
          return Status::IOError("injected failure at record " +
                                 std::to_string(at));
        }
        return e;
      })
      .Uid("check")
      .SetParallelism(1)
      .KeyBy([](const Event& e) { return e.key; })
      .Process<Event>([] { return std::make_unique<CountPerKey>(); })
      .Uid("count")
      .SinkTo(CollectInto(run.out));
  return b;
}

// The final count per key: the largest count emitted for it.
std::map<std::string, int64_t> FinalCounts(const std::vector<Event>& out) {
  std::map<std::string, int64_t> m;
  for (const Event& e : out) m[e.key] = std::max(m[e.key], e.value);
  return m;
}

std::map<std::string, int64_t> ExpectedCounts(int64_t total) {
  std::map<std::string, int64_t> m;
  for (int64_t i = 0; i < total; ++i) ++m["k" + std::to_string(i % kKeys)];
  return m;
}

void OpenGateAndWait(const Harness& run, int64_t n) {
  run.gate->open.store(n);
  ASSERT_TRUE(run.out->WaitForSize(static_cast<size_t>(n), 30s));
}

std::set<std::string> ListDir(const std::string& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    names.insert(it->path().filename().string());
  }
  return names;
}

class JobCheckpointTest : public ::testing::TestWithParam<JobOptions::Backend> {
 protected:
  void SetUp() override { dir_.Create(); }

  JobOptions Options() const {
    JobOptions o;
    o.backend = GetParam();
    o.local_dir = dir_.Sub("local");
    o.checkpoints.dir = dir_.Sub("checkpoints");
    return o;
  }

  testutil::TestDir dir_;
};

TEST_P(JobCheckpointTest, RestoredJobContinuesFromTheCut) {
  constexpr int64_t kTotal = 6000;
  Harness a;
  JobOptions options = Options();
  ASSERT_OK_AND_ASSIGN(auto job, CountJob(a, kTotal).Build(options));
  ASSERT_OK(job->Start());
  OpenGateAndWait(a, 2000);
  ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerCheckpoint());
  ASSERT_OK_AND_ASSIGN(CheckpointStats stats, job->WaitForCheckpoint(id, 30s));
  EXPECT_EQ(stats.state, CheckpointState::kCompleted);
  EXPECT_EQ(stats.tasks_acknowledged, stats.tasks_total);
  EXPECT_GT(stats.files, 0);
  EXPECT_GT(stats.metadata_size, 0u);
  EXPECT_TRUE(fs::exists(stats.path + "/_metadata"));
  // Records after the cut: they must not be in the restored state.
  OpenGateAndWait(a, 3500);
  job->Cancel();
  EXPECT_TRUE(job->Wait().IsAborted());

  Harness b;
  options.restore_from = stats.path;
  ASSERT_OK_AND_ASSIGN(auto resumed, CountJob(b, kTotal).Build(options));
  EXPECT_EQ(resumed->id(), job->id());  // goes on in the same directory
  b.gate->open.store(kTotal);
  ASSERT_OK(resumed->Start());
  ASSERT_OK(resumed->Wait());
  // The source resumed at offset 2000 exactly, and each key's count went
  // on from its value at the cut.
  EXPECT_EQ(b.out->values().size(), static_cast<size_t>(kTotal - 2000));
  EXPECT_EQ(FinalCounts(b.out->values()), ExpectedCounts(kTotal));
  CheckpointsInfo info = resumed->Checkpoints();
  EXPECT_EQ(info.restored_id, id);
  EXPECT_THAT(info.restored_from, ::testing::EndsWith("/_metadata"));
}

TEST_P(JobCheckpointTest, MetadataNamesExactlyTheFilesOnDisk) {
  Harness run;
  JobOptions options = Options();
  options.checkpoints.num_retained = 2;
  ASSERT_OK_AND_ASSIGN(auto job, CountJob(run, 100000).Build(options));
  ASSERT_OK(job->Start());
  std::vector<int64_t> ids;
  for (int i = 1; i <= 4; ++i) {
    OpenGateAndWait(run, 1000 * i);
    ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerCheckpoint());
    ASSERT_OK(job->WaitForCheckpoint(id, 30s));
    ids.push_back(id);
  }
  const std::string root = Options().checkpoints.dir + "/" + job->id().ToHex();
  // Two retained: the newest two chk-N directories, nothing else.
  std::set<std::string> want = {"shared", "savepoint-refs",
                                "chk-" + std::to_string(ids[2]),
                                "chk-" + std::to_string(ids[3])};
  std::set<std::string> have = ListDir(root);
  have.erase("savepoint-refs");
  want.erase("savepoint-refs");
  EXPECT_EQ(have, want);
  // Every file a retained checkpoint names is there with its size and
  // checksum, and shared/ holds nothing else.
  std::set<std::string> named;
  for (int64_t id : {ids[2], ids[3]}) {
    ASSERT_OK_AND_ASSIGN(
        engine::CheckpointMetadata m,
        engine::ReadMetadataFile(root + "/chk-" + std::to_string(id)));
    EXPECT_EQ(m.checkpoint_id, static_cast<uint64_t>(id));
    EXPECT_EQ(m.job_id, job->id());
    EXPECT_EQ(m.tasks.size(), 3u);  // source -> check, 2 x count -> sink
    for (const auto& t : m.tasks) {
      for (const auto& f : t.files) {
        const std::string path = root + "/" + f.path;
        std::ifstream in(path, std::ios::binary);
        ASSERT_TRUE(in.good()) << path;
        std::string bytes((std::istreambuf_iterator<char>(in)),
                          std::istreambuf_iterator<char>());
        EXPECT_EQ(bytes.size(), f.size) << path;
        EXPECT_EQ(Hash64(bytes), f.checksum) << path;
        if (f.path.starts_with("shared/")) named.insert(f.path.substr(7));
      }
    }
  }
  EXPECT_EQ(ListDir(root + "/shared"), named);
  job->Cancel();
  job->Wait().IgnoreError();
}

TEST_P(JobCheckpointTest, PeriodicCheckpoints) {
  Harness run;
  JobOptions options = Options();
  options.checkpoints.interval_ms = 20;
  ASSERT_OK_AND_ASSIGN(auto job, CountJob(run, 1000000).Build(options));
  ASSERT_OK(job->Start());
  run.gate->open.store(1000000);
  for (int i = 0; i < 3000 && job->Checkpoints().completed < 3; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  CheckpointsInfo info = job->Checkpoints();
  EXPECT_GE(info.completed, 3)
      << "failed: " << info.failed << ", last: "
      << (info.history.empty() ? "" : info.history.back().failure);
  ASSERT_FALSE(info.history.empty());
  const CheckpointStats& first = info.history.front();
  EXPECT_TRUE(first.periodic);
  EXPECT_GT(first.sync_max_us, 0);
  EXPECT_GT(first.state_size, 0u);
  job->Cancel();
  job->Wait().IgnoreError();
}

TEST_P(JobCheckpointTest, TimedOutCheckpointIsAbortedAndTheJobGoesOn) {
  Harness run;
  JobOptions options = Options();
  options.checkpoints.timeout_ms = 1000;  // the second one must fit, loaded
  ASSERT_OK_AND_ASSIGN(auto job, CountJob(run, 4000).Build(options));
  ASSERT_OK(job->Start());
  OpenGateAndWait(run, 1000);
  run.hooks->block.store(true);  // the map stalls: no barrier gets through
  run.gate->open.store(1500);
  ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerCheckpoint());
  Result<CheckpointStats> r = job->WaitForCheckpoint(id, 30s);
  EXPECT_TRUE(r.status().IsAborted()) << r.status().ToString();
  EXPECT_THAT(std::string(r.status().message()),
              ::testing::HasSubstr("timed out"));
  run.hooks->block.store(false);
  ASSERT_TRUE(run.out->WaitForSize(1500, 30s));
  ASSERT_OK_AND_ASSIGN(int64_t next, job->TriggerCheckpoint());
  EXPECT_GT(next, id);
  ASSERT_OK(job->WaitForCheckpoint(next, 30s));
  const std::string root = Options().checkpoints.dir + "/" + job->id().ToHex();
  EXPECT_FALSE(fs::exists(root + "/chk-" + std::to_string(id)));
  EXPECT_TRUE(fs::exists(root + "/chk-" + std::to_string(next) + "/_metadata"));
  run.gate->open.store(4000);
  ASSERT_OK(job->Wait());
  EXPECT_EQ(FinalCounts(run.out->values()), ExpectedCounts(4000));
  CheckpointsInfo info = job->Checkpoints();
  EXPECT_EQ(info.failed, 1);
  EXPECT_EQ(info.completed, 1);
}

// An I/O error while uploading (shared/ is, for a while, not a directory)
// aborts that checkpoint; the job goes on and the next one completes.
TEST_P(JobCheckpointTest, UploadErrorAbortsTheCheckpointAndTheJobGoesOn) {
  Harness run;
  JobOptions options = Options();
  ASSERT_OK_AND_ASSIGN(auto job, CountJob(run, 4000).Build(options));
  ASSERT_OK(job->Start());
  OpenGateAndWait(run, 1000);
  ASSERT_OK_AND_ASSIGN(int64_t first, job->TriggerCheckpoint());
  ASSERT_OK(job->WaitForCheckpoint(first, 30s));
  const std::string root = Options().checkpoints.dir + "/" + job->id().ToHex();
  fs::rename(root + "/shared", root + "/shared.away");
  std::ofstream(root + "/shared") << "not a directory";
  OpenGateAndWait(run, 2000);
  ASSERT_OK_AND_ASSIGN(int64_t broken, job->TriggerCheckpoint());
  Result<CheckpointStats> r = job->WaitForCheckpoint(broken, 30s);
  EXPECT_TRUE(r.status().IsAborted()) << r.status().ToString();
  fs::remove(root + "/shared");
  fs::rename(root + "/shared.away", root + "/shared");
  EXPECT_FALSE(fs::exists(root + "/chk-" + std::to_string(broken)));
  OpenGateAndWait(run, 3000);
  ASSERT_OK_AND_ASSIGN(int64_t next, job->TriggerCheckpoint());
  ASSERT_OK_AND_ASSIGN(CheckpointStats stats,
                       job->WaitForCheckpoint(next, 30s));
  run.gate->open.store(4000);
  ASSERT_OK(job->Wait());
  EXPECT_EQ(FinalCounts(run.out->values()), ExpectedCounts(4000));
  EXPECT_EQ(job->Checkpoints().failed, 1);
  // The checkpoint taken after the error restores.
  Harness b;
  options.restore_from = stats.path;
  ASSERT_OK_AND_ASSIGN(auto resumed, CountJob(b, 4000).Build(options));
  b.gate->open.store(4000);
  ASSERT_OK(resumed->Start());
  ASSERT_OK(resumed->Wait());
  EXPECT_EQ(b.out->values().size(), 1000u);
  EXPECT_EQ(FinalCounts(b.out->values()), ExpectedCounts(4000));
}

TEST_P(JobCheckpointTest, FailureRestartsFromTheLatestCheckpoint) {
  constexpr int64_t kTotal = 5000;
  Harness run;
  JobOptions options = Options();
  options.restart.attempts = 2;
  options.restart.delay_ms = 10;
  ASSERT_OK_AND_ASSIGN(auto job, CountJob(run, kTotal).Build(options));
  ASSERT_OK(job->Start());
  OpenGateAndWait(run, 2000);
  ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerCheckpoint());
  ASSERT_OK(job->WaitForCheckpoint(id, 30s));
  run.hooks->fail_at.store(3000);
  run.gate->open.store(kTotal);
  ASSERT_OK(job->Wait());
  // Records 2000..2999 were counted twice by the sink's eyes (the first
  // attempt emitted them before failing), but the state restarted from the
  // cut: each key's final count is exact.
  EXPECT_EQ(FinalCounts(run.out->values()), ExpectedCounts(kTotal));
  EXPECT_EQ(job->Checkpoints().restarts, 1);
  EXPECT_EQ(job->Checkpoints().restored_id, id);
}

TEST_P(JobCheckpointTest, FailureWithoutAttemptsLeftFailsTheJob) {
  Harness run;
  JobOptions options = Options();
  options.restart.attempts = 1;
  options.restart.delay_ms = 0;
  ASSERT_OK_AND_ASSIGN(auto job, CountJob(run, 5000).Build(options));
  run.hooks->always_fail_at.store(100);
  run.gate->open.store(5000);
  ASSERT_OK(job->Start());
  // The first failure restarts the job from the beginning (there is no
  // checkpoint); the second has no attempt left.
  Status s = job->Wait();
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("injected"));
  EXPECT_EQ(job->status(), JobStatus::kFailed);
  EXPECT_EQ(job->Checkpoints().restarts, 1);
  // Both attempts counted from empty state: no count beyond records 0..99
  // (the records in flight when the map failed may not have arrived).
  std::map<std::string, int64_t> want = ExpectedCounts(100);
  for (const auto& [key, count] : FinalCounts(run.out->values())) {
    EXPECT_LE(count, want[key]) << key;
  }
}

TEST_P(JobCheckpointTest, CheckpointsNeedADirectory) {
  Harness run;
  JobOptions options = Options();
  options.checkpoints.dir.clear();
  ASSERT_OK_AND_ASSIGN(auto job, CountJob(run, 10).Build(options));
  ASSERT_OK(job->Start());
  Result<int64_t> r = job->TriggerCheckpoint();
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_THAT(std::string(r.status().message()),
              ::testing::HasSubstr("execution.checkpointing.dir"));
  run.gate->open.store(10);
  ASSERT_OK(job->Wait());
}

TEST_P(JobCheckpointTest, RestoreChecksTheJobAndTheFiles) {
  Harness a;
  JobOptions options = Options();
  ASSERT_OK_AND_ASSIGN(auto job, CountJob(a, 100000).Build(options));
  ASSERT_OK(job->Start());
  OpenGateAndWait(a, 500);
  ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerCheckpoint());
  ASSERT_OK_AND_ASSIGN(CheckpointStats stats, job->WaitForCheckpoint(id, 30s));
  job->Cancel();
  job->Wait().IgnoreError();

  // A job without the "count" operator cannot take its state.
  {
    Harness b;
    JobBuilder other("counts");
    other.AddSource<Event>(Events({Event{"k", 1, 1}}), "source")
        .Uid("source")
        .SinkTo(CollectInto(b.out));
    options.restore_from = stats.path;
    Result<std::unique_ptr<Job>> r = other.Build(options);
    EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
    EXPECT_THAT(std::string(r.status().message()),
                ::testing::HasSubstr("uid 'count'"));
  }
  // A missing checkpoint is named.
  {
    Harness b;
    options.restore_from = dir_.Sub("nowhere/chk-3");
    Result<std::unique_ptr<Job>> r = CountJob(b, 10).Build(options);
    EXPECT_TRUE(r.status().IsNotFound()) << r.status().ToString();
    EXPECT_THAT(std::string(r.status().message()),
                ::testing::HasSubstr("nowhere/chk-3"));
  }
  // A damaged state file: the restore fails naming it and the mismatch.
  ASSERT_OK_AND_ASSIGN(engine::CheckpointMetadata m,
                       engine::ReadMetadataFile(stats.path));
  std::string victim;
  for (const auto& t : m.tasks) {
    for (const auto& f : t.files) {
      if (f.size > 16 && victim.empty()) {
        victim = fs::path(stats.path).parent_path().string() + "/" + f.path;
      }
    }
  }
  ASSERT_FALSE(victim.empty());
  {
    std::fstream io(victim, std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(8);
    io.put('\x5a');
    io.put('\xa5');
  }
  Harness c;
  options.restore_from = stats.path;
  ASSERT_OK_AND_ASSIGN(auto broken, CountJob(c, 10).Build(options));
  Status s = broken->Start();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_THAT(std::string(s.message()),
              ::testing::HasSubstr(fs::path(victim).filename().string()));
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("checksum"));
}

// Exactly once through the two-phase file sink at parallelism 2: a job
// cancelled after a checkpoint (with output written after it) and resumed
// from it commits each (key, count) line exactly once.
TEST_P(JobCheckpointTest, FileSinkOutputIsExactlyOnceAcrossARestore) {
  static constexpr int64_t kTotal = 6000;
  const std::string out_dir = dir_.Sub("out");
  auto build = [&](const Harness& h) {
    JobBuilder b("counts");
    b.SetParallelism(2);
    auto gate = h.gate;
    b.AddSource<Event>(
         [gate] {
           return std::unique_ptr<SourceFunction<Event>>(
               std::make_unique<GatedSource>(kTotal, gate));
         },
         "source")
        .Uid("source")
        .SetParallelism(1)
        .KeyBy([](const Event& e) { return e.key; })
        .Process<Event>([] { return std::make_unique<CountPerKey>(); })
        .Uid("count")
        .SinkTo(FileSink<Event>::Factory(out_dir,
                                         [](const Event& e) {
                                           return e.key + "," +
                                                  std::to_string(e.value);
                                         }))
        .Uid("files");
    return b;
  };
  auto counted = [](Job& job) {
    // Vertices: the source, then count -> files.
    return job.Info().vertices.back().records_in;
  };
  auto wait_counted = [&](Job& job, int64_t n) {
    for (int i = 0; i < 30000 && counted(job) < n; ++i) {
      std::this_thread::sleep_for(1ms);
    }
    ASSERT_GE(counted(job), n);
  };
  Harness a;
  JobOptions options = Options();
  ASSERT_OK_AND_ASSIGN(auto job, build(a).Build(options));
  ASSERT_OK(job->Start());
  a.gate->open.store(2000);
  wait_counted(*job, 2000);
  ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerCheckpoint());
  ASSERT_OK_AND_ASSIGN(CheckpointStats stats, job->WaitForCheckpoint(id, 30s));
  a.gate->open.store(3500);
  wait_counted(*job, 3500);
  job->Cancel();
  job->Wait().IgnoreError();

  Harness b;
  options.restore_from = stats.path;
  ASSERT_OK_AND_ASSIGN(auto resumed, build(b).Build(options));
  b.gate->open.store(kTotal);
  ASSERT_OK(resumed->Start());
  ASSERT_OK(resumed->Wait());

  std::multiset<std::string> lines;
  for (const std::string& name : ListDir(out_dir)) {
    if (name.starts_with(".")) continue;  // staged or in progress
    std::ifstream in(out_dir + "/" + name);
    for (std::string line; std::getline(in, line);) lines.insert(line);
  }
  std::multiset<std::string> want;
  for (const auto& [key, n] : ExpectedCounts(kTotal)) {
    for (int64_t c = 1; c <= n; ++c) want.insert(key + "," + std::to_string(c));
  }
  EXPECT_EQ(lines.size(), want.size());
  EXPECT_TRUE(lines == want);
}

INSTANTIATE_TEST_SUITE_P(Backends, JobCheckpointTest,
                         ::testing::Values(JobOptions::Backend::kMemory,
                                           JobOptions::Backend::kRocksDB),
                         [](const auto& info) {
                           return info.param == JobOptions::Backend::kMemory
                                      ? "memory"
                                      : "rocksdb";
                         });

}  // namespace
}  // namespace weir::enginetest
