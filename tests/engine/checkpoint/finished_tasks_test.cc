// SPDX-License-Identifier: Apache-2.0
//
// Checkpoints and savepoints of a job some of whose tasks have finished
// (docs/checkpoints.md, "Finished tasks"): a bounded source that ran out
// takes part with its final state, the rest of the job keeps
// checkpointing, and a restore neither runs a fully finished operator
// again nor loses or repeats a record.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/checkpoint/metadata.h"
#include "tests/engine/checkpoint/count_job.h"
#include "tests/engine/core/test_functions.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"
#include "weir/sources.h"

namespace weir::enginetest {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using engine::CheckpointMetadata;
using engine::OperatorMetadata;
using engine::ReadMetadataFile;
using engine::TaskSnapshotMetadata;

// Records of the bounded source: key "k<i % 31>", time -1 - i.
constexpr int64_t kBounded = 500;
// Records of the live (gated) source in all; the first run opens its gate
// only partly, a restored run all the way, and then it ends too.
constexpr int64_t kLive = 4000;

std::vector<Event> BoundedEvents() {
  std::vector<Event> events;
  for (int64_t i = 0; i < kBounded; ++i) {
    events.push_back(Event{"k" + std::to_string(i % kKeys), 1, -1 - i});
  }
  return events;
}

// The collection source (its offset a union list), counting its Open()s:
// a restore must not run it again once it has finished.
class CountedCollection final : public SourceFunction<Event> {
 public:
  CountedCollection(std::shared_ptr<const std::vector<Event>> events,
                    std::shared_ptr<std::atomic<int>> opens)
      : inner_(std::move(events)), opens_(std::move(opens)) {}
  Status Open(OperatorContext& ctx) override {
    opens_->fetch_add(1);
    return inner_.Open(ctx);
  }
  Result<SourceStatus> Poll(SourceOutput<Event>& out, int max) override {
    return inner_.Poll(out, max);
  }
  Status SnapshotState(OperatorContext& ctx) override {
    return inner_.SnapshotState(ctx);
  }

 private:
  CollectionSource<Event> inner_;
  std::shared_ptr<std::atomic<int>> opens_;
};

struct Parts {
  std::shared_ptr<Gate> gate = std::make_shared<Gate>();
  std::shared_ptr<std::atomic<int>> opens =
      std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<Collected<Event>> out = std::make_shared<Collected<Event>>();
  std::shared_ptr<Hooks> hooks = std::make_shared<Hooks>();
};

// A bounded collection source ("bounded") and the gated source ("live",
// kLive records) into one keyed count ("count", then a map that the test
// can block, then the sink).
JobBuilder TwoSourceJob(const Parts& run, int bounded_parallelism,
                        int parallelism) {
  JobBuilder b("two-sources");
  b.SetParallelism(parallelism);
  auto events = std::make_shared<const std::vector<Event>>(BoundedEvents());
  auto opens = run.opens;
  auto gate = run.gate;
  auto hooks = run.hooks;
  DataStream<Event> bounded =
      b.AddSource<Event>(
           [events, opens] {
             return std::unique_ptr<SourceFunction<Event>>(
                 std::make_unique<CountedCollection>(events, opens));
           },
           "bounded")
          .Uid("bounded")
          .SetParallelism(bounded_parallelism);
  DataStream<Event> live =
      b.AddSource<Event>(
           [gate] {
             return std::unique_ptr<SourceFunction<Event>>(
                 std::make_unique<GatedSource>(kLive, gate));
           },
           "live")
          .Uid("live")
          .SetParallelism(1);
  bounded.Union({live})
      .KeyBy([](const Event& e) { return e.key; })
      .Process<Event>([] { return std::make_unique<CountPerKey>(); })
      .Uid("count")
      .Map([hooks](const Event& e) -> Result<Event> {
        while (hooks->block.load()) {
          hooks->blocked.store(true);
          std::this_thread::sleep_for(1ms);
        }
        hooks->blocked.store(false);
        int64_t at = hooks->fail_at.load();
        if (at >= 0 && e.time == at &&
            hooks->fail_at.compare_exchange_strong(at, -1)) {
          return Status::IOError("injected failure at record " +
                                 std::to_string(at));
        }
        return e;
      })
      .Uid("slow")
      .SinkTo(CollectInto(run.out))
      .Uid("sink");
  return b;
}

// The bounded source alone (or with the live one: `with_live`) into the
// keyed count and the map the test can block.
JobBuilder OneSourceJob(const Parts& run, bool with_live = false) {
  JobBuilder b("one-source");
  b.SetParallelism(2);
  auto events = std::make_shared<const std::vector<Event>>(BoundedEvents());
  auto opens = run.opens;
  auto gate = run.gate;
  auto hooks = run.hooks;
  DataStream<Event> s =
      b.AddSource<Event>(
           [events, opens] {
             return std::unique_ptr<SourceFunction<Event>>(
                 std::make_unique<CountedCollection>(events, opens));
           },
           "bounded")
          .Uid("bounded")
          .SetParallelism(1);
  if (with_live) {
    s = s.Union({b.AddSource<Event>(
                      [gate] {
                        return std::unique_ptr<SourceFunction<Event>>(
                            std::make_unique<GatedSource>(kLive, gate));
                      },
                      "live")
                     .Uid("live")
                     .SetParallelism(1)});
  }
  s.KeyBy([](const Event& e) { return e.key; })
      .Process<Event>([] { return std::make_unique<CountPerKey>(); })
      .Uid("count")
      .Map([hooks](const Event& e) -> Result<Event> {
        while (hooks->block.load()) {
          hooks->blocked.store(true);
          std::this_thread::sleep_for(1ms);
        }
        return e;
      })
      .Uid("slow")
      .SinkTo(CollectInto(run.out))
      .Uid("sink");
  return b;
}

// Every subtask of the vertex that runs operator `uid` has ended.
bool Finished(const Job& job, const std::string& uid) {
  for (const VertexInfo& v : job.Info().vertices) {
    for (const auto& op : v.operators) {
      if (op.uid == uid) return v.running_subtasks == 0;
    }
  }
  return false;
}

void WaitUntilFinished(const Job& job, const std::string& uid) {
  for (int i = 0; i < 3000 && !Finished(job, uid); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(Finished(job, uid)) << uid << " did not finish";
}

// The count per key of the bounded records and the first `live` live ones.
std::map<std::string, int64_t> Expected(int64_t live) {
  std::map<std::string, int64_t> m = ExpectedCounts(live);
  for (const auto& [key, n] : ExpectedCounts(kBounded)) m[key] += n;
  return m;
}

const OperatorMetadata* OperatorByUid(const CheckpointMetadata& m,
                                      const std::string& uid) {
  for (const OperatorMetadata& op : m.operators) {
    if (op.uid == uid) return &op;
  }
  return nullptr;
}

// The task records of `m` that run operator `uid`.
std::vector<const TaskSnapshotMetadata*> TasksOf(const CheckpointMetadata& m,
                                                 const std::string& uid) {
  std::vector<const TaskSnapshotMetadata*> out;
  const OperatorMetadata* op = OperatorByUid(m, uid);
  if (op == nullptr) return out;
  for (const TaskSnapshotMetadata& t : m.tasks) {
    if (std::find(t.operator_ids.begin(), t.operator_ids.end(), op->id) !=
        t.operator_ids.end()) {
      out.push_back(&t);
    }
  }
  return out;
}

class FinishedTasksTest : public ::testing::TestWithParam<JobOptions::Backend> {
 protected:
  void SetUp() override { dir_.Create(); }

  JobOptions Options() const {
    JobOptions o;
    o.backend = GetParam();
    o.local_dir = dir_.Sub("local");
    o.checkpoints.dir = dir_.Sub("checkpoints");
    o.checkpoints.savepoint_dir = dir_.Sub("savepoints");
    return o;
  }

  // Runs TwoSourceJob until the bounded source has finished and the live
  // one has emitted `live` records; the job keeps running.
  std::unique_ptr<Job> StartWithBoundedFinished(const Parts& run,
                                                const JobOptions& options,
                                                int64_t live,
                                                int bounded_parallelism = 1,
                                                int parallelism = 2) {
    auto built =
        TwoSourceJob(run, bounded_parallelism, parallelism).Build(options);
    EXPECT_TRUE(built.ok()) << built.status().ToString();
    if (!built.ok()) return nullptr;
    std::unique_ptr<Job> job = std::move(*built);
    EXPECT_TRUE(job->Start().ok());
    WaitUntilFinished(*job, "bounded");
    run.gate->open.store(live);
    EXPECT_TRUE(
        run.out->WaitForSize(static_cast<size_t>(kBounded + live), 30s));
    return job;
  }

  // Restores TwoSourceJob from `path`, lets the live source run to its end
  // and checks exactly-once: no bounded record again, each live record
  // after the cut once, and the counts go on from `at_cut`.
  void RestoreAndCheck(const std::string& path, int64_t live_at_cut,
                       int bounded_parallelism = 1, int parallelism = 2,
                       JobOptions options = {}) {
    if (options.checkpoints.dir.empty()) options = Options();
    options.restore_from = path;
    Parts b;
    ASSERT_OK_AND_ASSIGN(
        auto job,
        TwoSourceJob(b, bounded_parallelism, parallelism).Build(options));
    b.gate->open.store(kLive);
    ASSERT_OK(job->Start());
    ASSERT_OK(job->Wait());
    EXPECT_EQ(b.opens->load(), 0) << "the finished source ran again";
    const std::vector<Event> out = b.out->values();
    EXPECT_EQ(out.size(), static_cast<size_t>(kLive - live_at_cut));
    for (const Event& e : out) {
      EXPECT_GE(e.time, live_at_cut) << "a record before the cut came again";
    }
    // Each key's count goes on from its value at the cut.
    const std::map<std::string, int64_t> at_cut = Expected(live_at_cut);
    std::map<std::string, int64_t> first;
    for (const Event& e : out) {
      auto [it, fresh] = first.emplace(e.key, e.value);
      if (!fresh) it->second = std::min(it->second, e.value);
    }
    for (const auto& [key, n] : first) {
      EXPECT_EQ(n, at_cut.at(key) + 1) << key;
    }
    EXPECT_EQ(FinalCounts(out), Expected(kLive));
  }

  testutil::TestDir dir_;
};

// After the bounded source finished, checkpoints keep completing: the
// finished task is acknowledged with its final state, the keyed count
// aligns barriers over the live channel alone. A restore from the latest
// one continues exactly once.
TEST_P(FinishedTasksTest, CheckpointsGoOnAfterABoundedSourceFinished) {
  Parts a;
  const JobOptions options = Options();
  std::unique_ptr<Job> job = StartWithBoundedFinished(a, options, 1000);
  ASSERT_NE(job, nullptr);
  CheckpointStats stats;
  for (int64_t live : {1000, 1500, 2000}) {
    a.gate->open.store(live);
    ASSERT_TRUE(a.out->WaitForSize(static_cast<size_t>(kBounded + live), 30s));
    ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerCheckpoint());
    ASSERT_OK_AND_ASSIGN(stats, job->WaitForCheckpoint(id, 60s));
    EXPECT_EQ(stats.state, CheckpointState::kCompleted);
    EXPECT_EQ(stats.tasks_acknowledged, stats.tasks_total);
  }
  EXPECT_EQ(job->status(), JobStatus::kRunning);

  ASSERT_OK_AND_ASSIGN(CheckpointMetadata m, ReadMetadataFile(stats.path));
  const OperatorMetadata* bounded = OperatorByUid(m, "bounded");
  const OperatorMetadata* live = OperatorByUid(m, "live");
  const OperatorMetadata* count = OperatorByUid(m, "count");
  ASSERT_NE(bounded, nullptr);
  ASSERT_NE(live, nullptr);
  ASSERT_NE(count, nullptr);
  EXPECT_TRUE(bounded->fully_finished);
  EXPECT_FALSE(live->fully_finished);
  EXPECT_FALSE(count->fully_finished);
  for (const TaskSnapshotMetadata* t : TasksOf(m, "bounded")) {
    EXPECT_TRUE(t->finished);
    EXPECT_TRUE(t->files.empty());
    // Its offset says that nothing is left.
    EXPECT_FALSE(t->operator_states.empty());
  }
  for (const TaskSnapshotMetadata* t : TasksOf(m, "count")) {
    EXPECT_FALSE(t->finished);
  }
  // Records after the cut must not be in the restored state.
  a.gate->open.store(2500);
  ASSERT_TRUE(a.out->WaitForSize(static_cast<size_t>(kBounded + 2500), 30s));
  job->Cancel();
  EXPECT_TRUE(job->Wait().IsAborted());

  RestoreAndCheck(stats.path, 2000);
}

// A failure after the bounded source finished restarts the job from the
// latest checkpoint, in which it is finished: it does not run again, and
// the counts end as those of a run without the failure.
TEST_P(FinishedTasksTest, RestartAfterAFailureKeepsTheSourceFinished) {
  Parts a;
  JobOptions options = Options();
  options.restart.attempts = 1;
  options.restart.delay_ms = 10;
  std::unique_ptr<Job> job = StartWithBoundedFinished(a, options, 1000);
  ASSERT_NE(job, nullptr);
  ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerCheckpoint());
  ASSERT_OK_AND_ASSIGN(CheckpointStats stats, job->WaitForCheckpoint(id, 60s));
  ASSERT_EQ(stats.state, CheckpointState::kCompleted);
  a.hooks->fail_at.store(1500);
  a.gate->open.store(kLive);
  ASSERT_OK(job->Wait());
  EXPECT_EQ(job->Checkpoints().restarts, 1);
  EXPECT_EQ(a.opens->load(), 1) << "the finished source ran again";
  // Records between the checkpoint and the failure reached the (not
  // exactly-once) sink twice; the state counted each once.
  EXPECT_EQ(FinalCounts(a.out->values()), Expected(kLive));
}

// Periodic checkpoints go on as well once a source has finished.
TEST_P(FinishedTasksTest, PeriodicCheckpointsGoOnAfterABoundedSourceFinished) {
  Parts a;
  JobOptions options = Options();
  options.checkpoints.interval_ms = 20;
  std::unique_ptr<Job> job = StartWithBoundedFinished(a, options, 500);
  ASSERT_NE(job, nullptr);
  const int64_t before = job->Checkpoints().completed;
  for (int i = 0; i < 3000 && job->Checkpoints().completed < before + 3; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_GE(job->Checkpoints().completed, before + 3);
  EXPECT_EQ(job->Checkpoints().failed, 0);
  job->Cancel();
  EXPECT_TRUE(job->Wait().IsAborted());
}

// A savepoint in passing, then stop with a savepoint: the job finishes
// cleanly, and a restore from either continues exactly once.
TEST_P(FinishedTasksTest, SavepointAndStopWithSavepoint) {
  Parts a;
  const JobOptions options = Options();
  std::unique_ptr<Job> job = StartWithBoundedFinished(a, options, 1000);
  ASSERT_NE(job, nullptr);
  ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerSavepoint({}));
  ASSERT_OK_AND_ASSIGN(CheckpointStats passing,
                       job->WaitForCheckpoint(id, 60s));
  EXPECT_EQ(passing.state, CheckpointState::kCompleted);
  EXPECT_TRUE(passing.savepoint);
  // A canonical one too, restored below into the other backend.
  SavepointOptions canonical;
  canonical.format = SavepointFormatType::kCanonical;
  ASSERT_OK_AND_ASSIGN(id, job->TriggerSavepoint(canonical));
  ASSERT_OK_AND_ASSIGN(CheckpointStats portable,
                       job->WaitForCheckpoint(id, 60s));
  EXPECT_EQ(portable.state, CheckpointState::kCompleted);

  a.gate->open.store(1700);
  ASSERT_TRUE(a.out->WaitForSize(static_cast<size_t>(kBounded + 1700), 30s));
  SavepointOptions stop;
  stop.then = SavepointOptions::Then::kStop;
  ASSERT_OK_AND_ASSIGN(id, job->TriggerSavepoint(stop));
  ASSERT_OK_AND_ASSIGN(CheckpointStats stopped,
                       job->WaitForCheckpoint(id, 60s));
  EXPECT_EQ(stopped.state, CheckpointState::kCompleted);
  ASSERT_OK(job->Wait());
  EXPECT_EQ(job->status(), JobStatus::kFinished);
  // Nothing after the savepoint reached the sink.
  EXPECT_EQ(a.out->values().size(), static_cast<size_t>(kBounded + 1700));
  job.reset();

  {
    SCOPED_TRACE("from the savepoint in passing");
    RestoreAndCheck(passing.path, 1000);
  }
  {
    SCOPED_TRACE("from the stop's savepoint");
    RestoreAndCheck(stopped.path, 1700);
  }
  {
    SCOPED_TRACE("from the canonical savepoint, into the other backend");
    JobOptions other = Options();
    other.backend = GetParam() == JobOptions::Backend::kMemory
                        ? JobOptions::Backend::kRocksDB
                        : JobOptions::Backend::kMemory;
    RestoreAndCheck(portable.path, 1000, 1, 2, other);
  }
}

// The only source finished while the task downstream still works through
// its input: a checkpoint then waits until that task finishes too, and
// completes with every task finished. Restored, the job ends at once and
// emits nothing again.
TEST_P(FinishedTasksTest, OnlySourceFinishedWhileDownstreamIsStillBusy) {
  Parts a;
  a.hooks->block.store(true);
  const JobOptions options = Options();
  ASSERT_OK_AND_ASSIGN(auto job, OneSourceJob(a).Build(options));
  ASSERT_OK(job->Start());
  WaitUntilFinished(*job, "bounded");
  ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerCheckpoint());
  // The count cannot finish while its map is blocked: the checkpoint waits.
  EXPECT_EQ(job->Checkpoints().in_progress, 1);
  EXPECT_EQ(job->Checkpoints().completed, 0);
  a.hooks->block.store(false);
  ASSERT_OK_AND_ASSIGN(CheckpointStats stats, job->WaitForCheckpoint(id, 60s));
  EXPECT_EQ(stats.state, CheckpointState::kCompleted);
  ASSERT_OK(job->Wait());
  EXPECT_EQ(a.out->values().size(), static_cast<size_t>(kBounded));
  EXPECT_EQ(FinalCounts(a.out->values()), ExpectedCounts(kBounded));

  ASSERT_OK_AND_ASSIGN(CheckpointMetadata m, ReadMetadataFile(stats.path));
  for (const OperatorMetadata& op : m.operators) {
    EXPECT_TRUE(op.fully_finished) << op.uid;
  }
  for (const TaskSnapshotMetadata& t : m.tasks) {
    EXPECT_TRUE(t.finished);
    EXPECT_TRUE(t.files.empty());
  }

  JobOptions restored = options;
  restored.restore_from = stats.path;
  Parts b;
  ASSERT_OK_AND_ASSIGN(auto again, OneSourceJob(b).Build(restored));
  ASSERT_OK(again->Start());
  ASSERT_OK(again->Wait());
  EXPECT_EQ(b.opens->load(), 0);
  EXPECT_TRUE(b.out->values().empty());
}

// A source whose subtask 0 is bounded (it ends after kBounded records) and
// whose subtask 1 is the gated live source; its offset is a split list.
class HalfBoundedSource final : public SourceFunction<Event> {
 public:
  explicit HalfBoundedSource(std::shared_ptr<Gate> gate)
      : gate_(std::move(gate)) {}
  Status Open(OperatorContext& ctx) override {
    subtask_ = ctx.subtask();
    auto state =
        GetOperatorListState<int64_t>(ctx.state(), ctx.operator_id(), "offset");
    if (!state.ok()) return state.status();
    auto v = state->Get();
    if (!v.ok()) return v.status();
    if (!v->empty()) next_ = v->front();
    return Status::OK();
  }
  Result<SourceStatus> Poll(SourceOutput<Event>& out, int max) override {
    const int64_t total = subtask_ == 0 ? kBounded : kLive;
    const int64_t limit =
        subtask_ == 0 ? kBounded : std::min(kLive, gate_->open.load());
    for (int i = 0; i < std::min(max, 16) && next_ < limit; ++i, ++next_) {
      // Subtask 0's records have negative times.
      const int64_t time = subtask_ == 0 ? -1 - next_ : next_;
      out.Collect(Event{"k" + std::to_string(next_ % kKeys), 1, time});
    }
    if (next_ >= total) return SourceStatus::End();
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
  std::shared_ptr<Gate> gate_;
  int subtask_ = 0;
  int64_t next_ = 0;
};

// A source of which one subtask finished (partly finished): it is run
// again on restore, and its finished subtask gets back its final offset
// (a split list, kept in `_metadata` since a finished task has no files),
// so it emits nothing again.
TEST_P(FinishedTasksTest, PartlyFinishedSourceKeepsItsFinalOffset) {
  auto build = [](const Parts& run) {
    JobBuilder b("half-bounded");
    b.SetParallelism(2);
    auto gate = run.gate;
    b.AddSource<Event>(
         [gate] {
           return std::unique_ptr<SourceFunction<Event>>(
               std::make_unique<HalfBoundedSource>(gate));
         },
         "source")
        .Uid("source")
        .KeyBy([](const Event& e) { return e.key; })
        .Process<Event>([] { return std::make_unique<CountPerKey>(); })
        .Uid("count")
        .SinkTo(CollectInto(run.out))
        .Uid("sink");
    return b;
  };
  Parts a;
  JobOptions options = Options();
  ASSERT_OK_AND_ASSIGN(auto job, build(a).Build(options));
  ASSERT_OK(job->Start());
  a.gate->open.store(1200);
  ASSERT_TRUE(a.out->WaitForSize(static_cast<size_t>(kBounded + 1200), 30s));
  ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerCheckpoint());
  ASSERT_OK_AND_ASSIGN(CheckpointStats stats, job->WaitForCheckpoint(id, 60s));
  ASSERT_EQ(stats.state, CheckpointState::kCompleted);
  ASSERT_OK_AND_ASSIGN(CheckpointMetadata m, ReadMetadataFile(stats.path));
  ASSERT_NE(OperatorByUid(m, "source"), nullptr);
  EXPECT_FALSE(OperatorByUid(m, "source")->fully_finished);
  int finished = 0;
  for (const TaskSnapshotMetadata* t : TasksOf(m, "source")) {
    finished += t->finished ? 1 : 0;
  }
  // Subtask 0 ran out long before the checkpoint (its records were all
  // counted before the gate opened far enough).
  EXPECT_EQ(finished, 1);
  a.gate->open.store(1800);
  ASSERT_TRUE(a.out->WaitForSize(static_cast<size_t>(kBounded + 1800), 30s));
  job->Cancel();
  EXPECT_TRUE(job->Wait().IsAborted());

  options.restore_from = stats.path;
  Parts b;
  ASSERT_OK_AND_ASSIGN(auto resumed, build(b).Build(options));
  b.gate->open.store(kLive);
  ASSERT_OK(resumed->Start());
  ASSERT_OK(resumed->Wait());
  const std::vector<Event> out = b.out->values();
  EXPECT_EQ(out.size(), static_cast<size_t>(kLive - 1200));
  for (const Event& e : out) EXPECT_GE(e.time, 1200);
  EXPECT_EQ(FinalCounts(out), Expected(kLive));
}

// A checkpoint with a finished source restores at another parallelism of
// the source and of the count; the source stays finished, also in the
// checkpoints of the restored job (its final state is carried over).
TEST_P(FinishedTasksTest, RestoreAtAnotherParallelism) {
  Parts a;
  const JobOptions options = Options();
  std::unique_ptr<Job> job = StartWithBoundedFinished(
      a, options, 1000, /*bounded_parallelism=*/2, /*parallelism=*/2);
  ASSERT_NE(job, nullptr);
  ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerCheckpoint());
  ASSERT_OK_AND_ASSIGN(CheckpointStats stats, job->WaitForCheckpoint(id, 60s));
  ASSERT_EQ(stats.state, CheckpointState::kCompleted);
  job->Cancel();
  EXPECT_TRUE(job->Wait().IsAborted());

  const std::string root = fs::path(stats.path).parent_path().string();
  for (int parallelism : {1, 3}) {
    SCOPED_TRACE("parallelism " + std::to_string(parallelism));
    const std::string copy = dir_.Sub("copy-" + std::to_string(parallelism));
    fs::create_directories(copy);
    const std::string job_dir = copy + "/" + fs::path(root).filename().string();
    fs::copy(root, job_dir, fs::copy_options::recursive);
    JobOptions resumed = Options();
    resumed.checkpoints.dir = copy;
    resumed.local_dir = dir_.Sub("local-" + std::to_string(parallelism));
    RestoreAndCheck(job_dir + "/" + fs::path(stats.path).filename().string(),
                    1000, parallelism, parallelism, resumed);
  }

  // Twice: restored at parallelism 3, checkpointed, restored at 2.
  const std::string copy = dir_.Sub("copy-twice");
  fs::create_directories(copy);
  const std::string job_dir = copy + "/" + fs::path(root).filename().string();
  fs::copy(root, job_dir, fs::copy_options::recursive);
  JobOptions second = Options();
  second.checkpoints.dir = copy;
  second.local_dir = dir_.Sub("local-twice");
  second.restore_from =
      job_dir + "/" + fs::path(stats.path).filename().string();
  Parts b;
  ASSERT_OK_AND_ASSIGN(auto resumed, TwoSourceJob(b, 3, 3).Build(second));
  ASSERT_OK(resumed->Start());
  b.gate->open.store(1500);
  ASSERT_TRUE(b.out->WaitForSize(500, 30s));
  ASSERT_OK_AND_ASSIGN(id, resumed->TriggerCheckpoint());
  ASSERT_OK_AND_ASSIGN(CheckpointStats again,
                       resumed->WaitForCheckpoint(id, 60s));
  ASSERT_EQ(again.state, CheckpointState::kCompleted);
  ASSERT_OK_AND_ASSIGN(CheckpointMetadata m, ReadMetadataFile(again.path));
  ASSERT_NE(OperatorByUid(m, "bounded"), nullptr);
  EXPECT_TRUE(OperatorByUid(m, "bounded")->fully_finished);
  resumed->Cancel();
  EXPECT_TRUE(resumed->Wait().IsAborted());
  EXPECT_EQ(b.opens->load(), 0);
  second.restore_from = again.path;
  RestoreAndCheck(again.path, 1500, 2, 2, second);
}

// A job whose finished operator got a new input that did not finish is
// refused: the finished operator would not read it.
TEST_P(FinishedTasksTest, FinishedOperatorWithANewInputIsRefused) {
  // Every task finishes; a checkpoint taken meanwhile completes.
  Parts a;
  a.hooks->block.store(true);
  const JobOptions options = Options();
  ASSERT_OK_AND_ASSIGN(auto job, OneSourceJob(a).Build(options));
  ASSERT_OK(job->Start());
  WaitUntilFinished(*job, "bounded");
  ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerCheckpoint());
  a.hooks->block.store(false);
  ASSERT_OK_AND_ASSIGN(CheckpointStats stats, job->WaitForCheckpoint(id, 60s));
  ASSERT_OK(job->Wait());
  ASSERT_OK_AND_ASSIGN(CheckpointMetadata m, ReadMetadataFile(stats.path));
  ASSERT_NE(OperatorByUid(m, "count"), nullptr);
  ASSERT_TRUE(OperatorByUid(m, "count")->fully_finished);

  JobOptions restored = options;
  restored.restore_from = stats.path;
  Parts b;
  EXPECT_THAT(
      OneSourceJob(b, /*with_live=*/true).Build(restored).status(),
      testutil::StatusIs(Status::Code::kInvalidArgument,
                         ::testing::HasSubstr("its input 'live' had not (or is "
                                              "new)")));
}

INSTANTIATE_TEST_SUITE_P(Backends, FinishedTasksTest,
                         ::testing::Values(JobOptions::Backend::kMemory,
                                           JobOptions::Backend::kRocksDB),
                         [](const auto& info) {
                           return info.param == JobOptions::Backend::kMemory
                                      ? "memory"
                                      : "rocksdb";
                         });

}  // namespace
}  // namespace weir::enginetest
