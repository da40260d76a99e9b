// SPDX-License-Identifier: Apache-2.0
//
// Checkpoints of whole jobs: the coordinator takes them (on demand and
// periodically), commits `_metadata` naming exactly the files on disk,
// retains and prunes, aborts on timeout and goes on; a job restored from a
// checkpoint, or restarted after a failure, continues with exactly the
// state and source offsets of the cut: every key's final count equals the
// count of a run that never stopped.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/checkpoint/metadata.h"
#include "lib/hash.h"
#include "tests/engine/checkpoint/count_job.h"
#include "tests/engine/core/test_functions.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"
#include "weir/sinks.h"
#include "weir/sources.h"

namespace weir::enginetest {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

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

// Rescaling: a checkpoint of the keyed count at parallelism 2 restores at
// parallelism 1 (one task takes the key groups of both) and 3 (each task
// takes parts of one or two old tasks'), and every key's count goes on.
TEST_P(JobCheckpointTest, RestoreAtAnotherParallelismContinuesTheCounts) {
  constexpr int64_t kTotal = 6000;
  Harness a;
  JobOptions options = Options();
  ASSERT_OK_AND_ASSIGN(auto job, CountJob(a, kTotal).Build(options));
  ASSERT_OK(job->Start());
  OpenGateAndWait(a, 2000);
  ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerCheckpoint());
  ASSERT_OK_AND_ASSIGN(CheckpointStats stats, job->WaitForCheckpoint(id, 30s));
  ASSERT_EQ(stats.state, CheckpointState::kCompleted);
  job->Cancel();
  EXPECT_TRUE(job->Wait().IsAborted());
  // Keep the checkpoint: each resumed job claims the directory it restores
  // from, so each gets its own copy.
  const std::string root = fs::path(stats.path).parent_path().string();
  for (int parallelism : {1, 3}) {
    SCOPED_TRACE("parallelism " + std::to_string(parallelism));
    const std::string copy = dir_.Sub("copy-" + std::to_string(parallelism));
    fs::create_directories(copy);
    fs::copy(root, copy + "/" + fs::path(root).filename().string(),
             fs::copy_options::recursive);
    Harness b;
    JobOptions resumed_options = options;
    resumed_options.checkpoints.dir = copy;
    resumed_options.local_dir =
        dir_.Sub("local-" + std::to_string(parallelism));
    resumed_options.restore_from = copy + "/" +
                                   fs::path(root).filename().string() + "/" +
                                   fs::path(stats.path).filename().string();
    ASSERT_OK_AND_ASSIGN(
        auto resumed,
        CountJob(b, kTotal, "count", parallelism).Build(resumed_options));
    b.gate->open.store(kTotal);
    ASSERT_OK(resumed->Start());
    ASSERT_OK(resumed->Wait());
    EXPECT_EQ(b.out->values().size(), static_cast<size_t>(kTotal - 2000));
    EXPECT_EQ(FinalCounts(b.out->values()), ExpectedCounts(kTotal));
  }
}

// Info() names the state backend and, for RocksDB, how many subtasks of
// each vertex read their files through memory maps or with pread: kAuto
// picks maps for this small state; pread when set.
TEST_P(JobCheckpointTest, InfoReportsTheStateBackendAndItsReadMode) {
  for (RocksDBOptions::ReadMode mode :
       {RocksDBOptions::ReadMode::kAuto, RocksDBOptions::ReadMode::kPread}) {
    const bool pread = mode == RocksDBOptions::ReadMode::kPread;
    SCOPED_TRACE(pread ? "pread" : "auto");
    Harness h;
    JobOptions options = Options();
    options.rocksdb.read_mode = mode;
    options.local_dir = dir_.Sub(pread ? "local-pread" : "local-auto");
    ASSERT_OK_AND_ASSIGN(auto job, CountJob(h, 100).Build(options));
    ASSERT_OK(job->Start());
    OpenGateAndWait(h, 100);
    const JobInfo info = job->Info();
    job->Cancel();
    job->Wait().IgnoreError();
    ASSERT_FALSE(info.vertices.empty());
    if (GetParam() == JobOptions::Backend::kMemory) {
      EXPECT_EQ(info.state_backend, "hashmap");
      for (const VertexInfo& v : info.vertices) {
        EXPECT_EQ(v.state_read_mmap + v.state_read_pread, 0) << v.name;
      }
      break;
    }
    EXPECT_EQ(info.state_backend, "rocksdb");
    for (const VertexInfo& v : info.vertices) {
      EXPECT_EQ(v.state_read_pread, pread ? v.parallelism : 0) << v.name;
      EXPECT_EQ(v.state_read_mmap, pread ? 0 : v.parallelism) << v.name;
    }
  }
}

// Records what each subtask received, and how much of it before the
// first checkpoint's barrier: the records of that checkpoint's cut.
struct CutRecords {
  std::mutex mu;
  std::map<int, std::vector<int64_t>> seqs;  // by sink subtask
  std::map<int, size_t> at_cut;
  std::vector<int64_t> BeforeCut() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<int64_t> out;
    for (const auto& [subtask, v] : seqs) {
      const size_t n = at_cut.count(subtask) ? at_cut[subtask] : v.size();
      out.insert(out.end(), v.begin(), v.begin() + static_cast<long>(n));
    }
    return out;
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu);
    size_t n = 0;
    for (const auto& [_, v] : seqs) n += v.size();
    return n;
  }
};

class CutSink final : public SinkFunction<GeneratedEvent> {
 public:
  explicit CutSink(std::shared_ptr<CutRecords> records)
      : records_(std::move(records)) {}
  Status Open(OperatorContext& ctx) override {
    subtask_ = ctx.subtask();
    return Status::OK();
  }
  Status Invoke(const GeneratedEvent& e, int64_t) override {
    std::lock_guard<std::mutex> lock(records_->mu);
    records_->seqs[subtask_].push_back(e.seq);
    return Status::OK();
  }
  Status SnapshotState(OperatorContext&, int64_t) override {
    std::lock_guard<std::mutex> lock(records_->mu);
    records_->at_cut.try_emplace(subtask_, records_->seqs[subtask_].size());
    return Status::OK();
  }

 private:
  std::shared_ptr<CutRecords> records_;
  int subtask_ = 0;
};

// The generator source rescales: rate-limited at parallelism 2 under a
// manual clock, checkpointed after some events, it resumes at 1, 3 and 5
// subtasks, and with the events the sinks received before the barrier
// every sequence number comes out exactly once. (A finished task stops
// checkpoints, so the collection source is covered by its unit tests.)
TEST_P(JobCheckpointTest, GeneratorSourceResumesAtAnyParallelism) {
  constexpr int64_t kCount = 3000;
  GeneratorOptions gen;
  gen.count = kCount;
  gen.num_keys = 7;
  gen.rate = 1000;
  auto build = [&](const GeneratorOptions& g, int parallelism,
                   std::shared_ptr<CutRecords> out) {
    JobBuilder b("sequences");
    b.SetParallelism(parallelism);
    b.AddSource<GeneratedEvent>(GeneratorSource::Factory(g), "events",
                                GeneratorSource::Watermarks())
        .Uid("events")
        .SinkTo([out]() -> std::unique_ptr<SinkFunction<GeneratedEvent>> {
          return std::make_unique<CutSink>(out);
        });
    return b;
  };
  // The first run: the clock moves in steps until some events came out;
  // then it stands still and a checkpoint is taken.
  auto clock = std::make_shared<ManualClock>(1'000'000);
  JobOptions options = Options();
  options.clock = clock;
  auto first = std::make_shared<CutRecords>();
  ASSERT_OK_AND_ASSIGN(auto job, build(gen, 2, first).Build(options));
  ASSERT_OK(job->Start());
  for (int i = 0; i < 2000 && first->size() < 300; ++i) {
    clock->AdvanceMillis(5);
    std::this_thread::sleep_for(2ms);
  }
  ASSERT_GE(first->size(), 300u);
  ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerCheckpoint());
  ASSERT_OK_AND_ASSIGN(CheckpointStats stats, job->WaitForCheckpoint(id, 30s));
  ASSERT_EQ(stats.state, CheckpointState::kCompleted);
  job->Cancel();
  EXPECT_TRUE(job->Wait().IsAborted());
  const std::vector<int64_t> before = first->BeforeCut();
  ASSERT_GE(before.size(), 300u);
  ASSERT_LT(before.size(), static_cast<size_t>(kCount));
  std::vector<int64_t> expected;
  for (int64_t i = 0; i < kCount; ++i) expected.push_back(i);

  const std::string root = fs::path(stats.path).parent_path().string();
  for (int parallelism : {1, 3, 5}) {
    SCOPED_TRACE("parallelism " + std::to_string(parallelism));
    const std::string copy = dir_.Sub("copy-" + std::to_string(parallelism));
    fs::create_directories(copy);
    fs::copy(root, copy + "/" + fs::path(root).filename().string(),
             fs::copy_options::recursive);
    JobOptions resumed_options = Options();
    resumed_options.checkpoints.dir = copy;
    resumed_options.local_dir =
        dir_.Sub("local-" + std::to_string(parallelism));
    resumed_options.restore_from = copy + "/" +
                                   fs::path(root).filename().string() + "/" +
                                   fs::path(stats.path).filename().string();
    GeneratorOptions unthrottled = gen;
    unthrottled.rate = 0;
    auto out = std::make_shared<CutRecords>();
    ASSERT_OK_AND_ASSIGN(
        auto resumed,
        build(unthrottled, parallelism, out).Build(resumed_options));
    ASSERT_OK(resumed->Start());
    ASSERT_OK(resumed->Wait());
    std::vector<int64_t> seqs = before;
    const std::vector<int64_t> after = out->BeforeCut();  // no checkpoint
    seqs.insert(seqs.end(), after.begin(), after.end());
    std::sort(seqs.begin(), seqs.end());
    EXPECT_EQ(seqs, expected);  // 0 .. kCount-1, each once
  }
}

// A source whose subtasks each hold a split-mode list; on Open it reports
// what it restored. A fresh subtask s starts with s * 100 + 0..4.
struct SplitLists {
  std::mutex mu;
  std::map<int, std::vector<int64_t>> restored;  // by subtask
  size_t size() {
    std::lock_guard<std::mutex> lock(mu);
    return restored.size();
  }
};

class SplitListSource final : public SourceFunction<Event> {
 public:
  SplitListSource(bool fresh, std::shared_ptr<SplitLists> lists)
      : fresh_(fresh), lists_(std::move(lists)) {}
  Status Open(OperatorContext& ctx) override {
    auto state =
        GetOperatorListState<int64_t>(ctx.state(), ctx.operator_id(), "splits");
    if (!state.ok()) return state.status();
    auto v = state->Get();
    if (!v.ok()) return v.status();
    mine_ = *v;
    if (fresh_) {
      for (int64_t i = 0; i < 5; ++i) mine_.push_back(ctx.subtask() * 100 + i);
    }
    std::lock_guard<std::mutex> lock(lists_->mu);
    lists_->restored[ctx.subtask()] = *v;
    return Status::OK();
  }
  Result<SourceStatus> Poll(SourceOutput<Event>&, int) override {
    return SourceStatus::WaitingMicros(1000);
  }
  Status SnapshotState(OperatorContext& ctx) override {
    auto state =
        GetOperatorListState<int64_t>(ctx.state(), ctx.operator_id(), "splits");
    if (!state.ok()) return state.status();
    return state->Update(mine_);
  }

 private:
  bool fresh_;
  std::shared_ptr<SplitLists> lists_;
  std::vector<int64_t> mine_;
};

// Split-mode list state is redistributed as Flink does when the operator's
// parallelism changes: all entries, in subtask order, cut into even
// contiguous runs; kept per subtask when it does not change.
TEST_P(JobCheckpointTest, SplitStateIsRedistributedWhenTheParallelismChanges) {
  std::string restore_from;
  auto run = [&](bool fresh,
                 int parallelism) -> std::map<int, std::vector<int64_t>> {
    auto lists = std::make_shared<SplitLists>();
    auto out = std::make_shared<Collected<Event>>();
    JobBuilder b("splits");
    b.AddSource<Event>(
         [fresh, lists] {
           return std::unique_ptr<SourceFunction<Event>>(
               std::make_unique<SplitListSource>(fresh, lists));
         },
         "source")
        .Uid("source")
        .SetParallelism(parallelism)
        .SinkTo(CollectInto(out));
    JobOptions options = Options();
    options.restore_from = restore_from;
    auto job = b.Build(options);
    EXPECT_OK(job.status());
    if (!job.ok()) return {};
    EXPECT_OK((*job)->Start());
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (lists->size() < static_cast<size_t>(parallelism) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
    auto id = (*job)->TriggerCheckpoint();
    EXPECT_OK(id.status());
    if (id.ok()) {
      auto stats = (*job)->WaitForCheckpoint(*id, 30s);
      EXPECT_OK(stats.status());
      if (stats.ok()) {
        EXPECT_EQ(stats->state, CheckpointState::kCompleted);
        restore_from = stats->path;
      }
    }
    (*job)->Cancel();
    (*job)->Wait().IgnoreError();
    std::lock_guard<std::mutex> lock(lists->mu);
    return lists->restored;
  };
  using Lists = std::map<int, std::vector<int64_t>>;
  ASSERT_EQ(run(true, 2), (Lists{{0, {}}, {1, {}}}));
  // 10 entries over 3 subtasks: 4, 3, 3.
  EXPECT_EQ(
      run(false, 3),
      (Lists{{0, {0, 1, 2, 3}}, {1, {4, 100, 101}}, {2, {102, 103, 104}}}));
  // Unchanged parallelism: each subtask keeps its own list.
  EXPECT_EQ(
      run(false, 3),
      (Lists{{0, {0, 1, 2, 3}}, {1, {4, 100, 101}}, {2, {102, 103, 104}}}));
  // Fewer subtasks than entries, and more.
  EXPECT_EQ(run(false, 1),
            (Lists{{0, {0, 1, 2, 3, 4, 100, 101, 102, 103, 104}}}));
  Lists twelve;
  for (int s = 0; s < 12; ++s) twelve[s] = {};
  const std::vector<int64_t> all{0, 1, 2, 3, 4, 100, 101, 102, 103, 104};
  for (int s = 0; s < 10; ++s) twelve[s] = {all[static_cast<size_t>(s)]};
  EXPECT_EQ(run(false, 12), twelve);
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
  // Two retained: the newest two chk-N directories and the lock of the
  // running job, nothing else.
  std::set<std::string> want = {"shared", "savepoint-refs", "LOCK",
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
        EXPECT_EQ(bytes.size(), f.file.size) << path;
        EXPECT_EQ(Hash64(bytes), f.file.checksum) << path;
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
  // A wait shorter than the checkpoint's timeout ends first.
  EXPECT_THAT(job->WaitForCheckpoint(id, 50ms),
              testutil::StatusIs(Status::Code::kDeadlineExceeded));
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
  // What needs a running job says that it is not running.
  EXPECT_THAT(job->TriggerCheckpoint(),
              testutil::StatusIs(Status::Code::kFailedPrecondition));
  EXPECT_THAT(job->TriggerSavepoint({}),
              testutil::StatusIs(Status::Code::kFailedPrecondition));
  EXPECT_THAT(job->Start(),
              testutil::StatusIs(Status::Code::kFailedPrecondition));
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
  // The failure that was restarted stays in the history.
  const JobInfo info = job->Info();
  EXPECT_EQ(info.status, JobStatus::kFinished);
  EXPECT_EQ(info.failure, "");
  ASSERT_EQ(info.failures.size(), 1u);
  EXPECT_THAT(info.failures[0].message, ::testing::HasSubstr("injected"));
  EXPECT_FALSE(info.failures[0].task.empty());
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
  // Both failures, the last one the job's.
  const JobInfo info = job->Info();
  ASSERT_EQ(info.failures.size(), 2u);
  EXPECT_EQ(info.failures[1].message, info.failure);
  EXPECT_LE(info.failures[0].time_ms, info.failures[1].time_ms);
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
      if (f.file.size > 16 && victim.empty()) {
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
    return CountToFilesJob(h, kTotal, out_dir);
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

  const std::multiset<std::string> lines = PublishedLines(out_dir);
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
