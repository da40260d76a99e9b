// SPDX-License-Identifier: Apache-2.0
//
// Savepoints of whole jobs (weir/savepoint.h): trigger one, resume from it
// with exact state, cancel or stop with one, take one without checkpoint
// storage, map state by uid (a missing operator fails unless non-restored
// state is allowed), and dispose of one without harming what shares its
// files.
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/checkpoint/metadata.h"
#include "tests/engine/checkpoint/count_job.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"
#include "weir/sinks.h"

namespace weir::enginetest {
namespace {

namespace fs = std::filesystem;
using engine::CheckpointMetadata;
using engine::ReadMetadataFile;
using engine::ResolveStoredPath;
using engine::SnapshotKind;
using engine::StoredFile;
using ::testing::HasSubstr;

constexpr int64_t kTotal = 6000;

// Every file a snapshot names, resolved.
std::set<std::string> FilesOf(const std::string& dir) {
  std::set<std::string> out;
  Result<CheckpointMetadata> m = ReadMetadataFile(dir);
  EXPECT_OK(m.status());
  if (!m.ok()) return out;
  for (const auto& t : m->tasks) {
    for (const StoredFile& f : t.files) {
      out.insert(ResolveStoredPath(*m, dir, f));
    }
  }
  return out;
}

class JobSavepointTest : public ::testing::TestWithParam<JobOptions::Backend> {
 protected:
  void SetUp() override { dir_.Create(); }

  bool Rocks() const { return GetParam() == JobOptions::Backend::kRocksDB; }

  JobOptions Options() const {
    JobOptions o;
    o.backend = GetParam();
    o.local_dir = dir_.Sub("local");
    o.checkpoints.dir = dir_.Sub("checkpoints");
    o.checkpoints.savepoint_dir = dir_.Sub("savepoints");
    return o;
  }

  CheckpointStats RunToSavepoint(Harness& run, const JobOptions& options,
                                 int64_t at, const SavepointOptions& sp,
                                 std::unique_ptr<Job>* job) {
    return RunCountJobToSavepoint(run, options, kTotal, at, sp, job);
  }

  // Resumes from `path` with the gate open to the end: the counts must be
  // exactly those of a run that never stopped, and the resumed job must
  // emit exactly the records after `at`.
  void ResumeAndCheck(const std::string& path, int64_t at, JobOptions options) {
    Harness b;
    options.restore_from = path;
    ASSERT_OK_AND_ASSIGN(auto resumed, CountJob(b, kTotal).Build(options));
    b.gate->open.store(kTotal);
    ASSERT_OK(resumed->Start());
    ASSERT_OK(resumed->Wait());
    EXPECT_EQ(b.out->values().size(), static_cast<size_t>(kTotal - at));
    EXPECT_EQ(FinalCounts(b.out->values()), ExpectedCounts(kTotal));
  }

  testutil::TestDir dir_;
};

TEST_P(JobSavepointTest, ResumeFromASavepointContinuesExactly) {
  Harness a;
  std::unique_ptr<Job> job;
  const JobOptions options = Options();
  const CheckpointStats sp = RunToSavepoint(a, options, 2000, {}, &job);
  ASSERT_EQ(sp.state, CheckpointState::kCompleted);
  EXPECT_TRUE(sp.savepoint);
  // <savepoint-dir>/savepoint-<6 hex of the job id>-<12 hex>
  EXPECT_EQ(fs::path(sp.path).parent_path(), fs::path(dir_.Sub("savepoints")));
  EXPECT_TRUE(std::regex_match(
      fs::path(sp.path).filename().string(),
      std::regex("savepoint-" + job->id().ToHex().substr(0, 6) +
                 "-[0-9a-f]{12}")))
      << sp.path;
  ASSERT_OK_AND_ASSIGN(CheckpointMetadata m, ReadMetadataFile(sp.path));
  EXPECT_EQ(m.kind, SnapshotKind::kSavepoint);
  EXPECT_EQ(m.job_id, job->id());
  const std::string root = dir_.Sub("checkpoints") + "/" + job->id().ToHex();
  for (const std::string& f : FilesOf(sp.path)) {
    EXPECT_TRUE(fs::exists(f)) << f;
    // Native: RocksDB files stay in the checkpoint storage; the memory
    // backend's state is in the savepoint.
    EXPECT_TRUE(f.starts_with((Rocks() ? root + "/shared/" : sp.path + "/")))
        << f;
  }
  EXPECT_EQ(m.shared_root, Rocks() ? root : "");
  // A savepoint in passing: the job goes on, and it is not a checkpoint.
  EXPECT_TRUE(job->Checkpoints().restored_from.empty());
  EXPECT_EQ(job->status(), JobStatus::kRunning);
  job->Cancel();
  EXPECT_TRUE(job->Wait().IsAborted());

  // A new job (new id) restores it; the original's storage is untouched.
  ResumeAndCheck(sp.path, 2000, options);
  for (const std::string& f : FilesOf(sp.path)) EXPECT_TRUE(fs::exists(f));
}

TEST_P(JobSavepointTest, ResumedJobGetsANewIdAndItsOwnStorage) {
  Harness a;
  std::unique_ptr<Job> job;
  JobOptions options = Options();
  const CheckpointStats sp = RunToSavepoint(a, options, 1000, {}, &job);
  ASSERT_EQ(sp.state, CheckpointState::kCompleted);
  job->Cancel();
  job->Wait().IgnoreError();
  Harness b;
  options.restore_from = sp.path + "/_metadata";
  ASSERT_OK_AND_ASSIGN(auto resumed, CountJob(b, kTotal).Build(options));
  EXPECT_NE(resumed->id(), job->id());
  ASSERT_OK(resumed->Start());
  b.gate->open.store(2000);  // the source goes on from offset 1000
  ASSERT_TRUE(b.out->WaitForSize(1000, 30s));
  ASSERT_OK_AND_ASSIGN(int64_t id, resumed->TriggerCheckpoint());
  ASSERT_OK_AND_ASSIGN(CheckpointStats chk,
                       resumed->WaitForCheckpoint(id, 60s));
  // Its checkpoint is in its own directory and references nothing of the
  // savepoint's job.
  const std::string own = dir_.Sub("checkpoints") + "/" + resumed->id().ToHex();
  EXPECT_EQ(fs::path(chk.path).parent_path(), fs::path(own));
  for (const std::string& f : FilesOf(chk.path)) {
    EXPECT_TRUE(f.starts_with(own + "/")) << f;
  }
  resumed->Cancel();
  resumed->Wait().IgnoreError();
}

TEST_P(JobSavepointTest, WithoutADirectoryTheTriggerFailsAndTheJobRuns) {
  Harness a;
  JobOptions options = Options();
  options.checkpoints.savepoint_dir.clear();
  ASSERT_OK_AND_ASSIGN(auto job, CountJob(a, kTotal).Build(options));
  ASSERT_OK(job->Start());
  OpenGateAndWait(a, 500);
  Result<int64_t> r = job->TriggerSavepoint({});
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("execution.checkpointing.savepoint-dir"));
  EXPECT_EQ(job->status(), JobStatus::kRunning);
  a.gate->open.store(kTotal);
  ASSERT_OK(job->Wait());
  EXPECT_EQ(FinalCounts(a.out->values()), ExpectedCounts(kTotal));
}

// Without checkpoint storage a savepoint holds all its files, and can be
// moved.
TEST_P(JobSavepointTest, WithoutCheckpointStorageItIsSelfContained) {
  Harness a;
  std::unique_ptr<Job> job;
  JobOptions options = Options();
  options.checkpoints.dir.clear();
  options.checkpoints.savepoint_dir.clear();
  SavepointOptions sp_options;
  sp_options.target_dir = dir_.Sub("elsewhere");
  const CheckpointStats sp = RunToSavepoint(a, options, 3000, sp_options, &job);
  ASSERT_EQ(sp.state, CheckpointState::kCompleted);
  EXPECT_FALSE(job->Checkpoints().enabled);
  EXPECT_TRUE(job->TriggerCheckpoint().status().IsInvalidArgument());
  job->Cancel();
  job->Wait().IgnoreError();
  const std::string moved = dir_.Sub("moved-savepoint");
  fs::rename(sp.path, moved);
  for (const std::string& f : FilesOf(moved)) {
    EXPECT_TRUE(f.starts_with(moved + "/")) << f;
    EXPECT_TRUE(fs::exists(f)) << f;
  }
  ResumeAndCheck(moved, 3000, options);
}

TEST_P(JobSavepointTest, CancelWithSavepointEndsTheJobCancelled) {
  Harness a;
  std::unique_ptr<Job> job;
  SavepointOptions sp_options;
  sp_options.then = SavepointOptions::Then::kCancel;
  const CheckpointStats sp =
      RunToSavepoint(a, Options(), 2500, sp_options, &job);
  ASSERT_EQ(sp.state, CheckpointState::kCompleted);
  EXPECT_TRUE(job->Wait().IsAborted());
  EXPECT_EQ(job->status(), JobStatus::kCanceled);
  ResumeAndCheck(sp.path, 2500, Options());
}

// Stop with savepoint: the sources stop at the barrier, so the first run
// emits exactly the records before it and the resumed one exactly the
// rest: together each record once.
TEST_P(JobSavepointTest, StopWithSavepointEmitsNothingAfterIt) {
  Harness a;
  JobOptions options = Options();
  ASSERT_OK_AND_ASSIGN(auto job, CountJob(a, kTotal).Build(options));
  ASSERT_OK(job->Start());
  OpenGateAndWait(a, 2000);
  // The source runs on while the savepoint is triggered, but not to its
  // end: the job cannot finish before the savepoint stops it, and the
  // resumed job still sees every key.
  a.gate->open.store(3000);
  SavepointOptions sp_options;
  sp_options.then = SavepointOptions::Then::kStop;
  ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerSavepoint(sp_options));
  ASSERT_OK_AND_ASSIGN(CheckpointStats sp, job->WaitForCheckpoint(id, 60s));
  ASSERT_OK(job->Wait());  // stopped: FINISHED
  EXPECT_EQ(job->status(), JobStatus::kFinished);
  const size_t first = a.out->values().size();
  ASSERT_GE(first, 2000u);
  Harness b;
  options.restore_from = sp.path;
  ASSERT_OK_AND_ASSIGN(auto resumed, CountJob(b, kTotal).Build(options));
  b.gate->open.store(kTotal);
  ASSERT_OK(resumed->Start());
  ASSERT_OK(resumed->Wait());
  EXPECT_EQ(first + b.out->values().size(), static_cast<size_t>(kTotal));
  EXPECT_EQ(FinalCounts(b.out->values()), ExpectedCounts(kTotal));
}

// Stop with savepoint through the two-phase file sink: once `Wait()`
// returns, the published files hold exactly the counts up to the
// savepoint (nothing after it, nothing lost), and the resumed job adds
// exactly the rest.
TEST_P(JobSavepointTest, StopWithSavepointPublishesTheFileSinkOutput) {
  const std::string out_dir = dir_.Sub("out");
  auto build = [&](const Harness& h) {
    return CountToFilesJob(h, kTotal, out_dir);
  };
  auto published = [&] { return PublishedLines(out_dir); };
  auto want = [](int64_t upto) {
    std::multiset<std::string> lines;
    std::map<std::string, int64_t> n;
    for (int64_t i = 0; i < upto; ++i) {
      const std::string key = "k" + std::to_string(i % kKeys);
      lines.insert(key + "," + std::to_string(++n[key]));
    }
    return lines;
  };
  Harness a;
  JobOptions options = Options();
  ASSERT_OK_AND_ASSIGN(auto job, build(a).Build(options));
  ASSERT_OK(job->Start());
  a.gate->open.store(2500);
  for (int i = 0; i < 30000 && job->Info().vertices.back().records_in < 2500;
       ++i) {
    std::this_thread::sleep_for(1ms);
  }
  SavepointOptions sp_options;
  sp_options.then = SavepointOptions::Then::kStop;
  ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerSavepoint(sp_options));
  ASSERT_OK_AND_ASSIGN(CheckpointStats sp, job->WaitForCheckpoint(id, 60s));
  ASSERT_OK(job->Wait());
  EXPECT_TRUE(published() == want(2500)) << published().size();

  Harness b;
  options.restore_from = sp.path;
  ASSERT_OK_AND_ASSIGN(auto resumed, build(b).Build(options));
  b.gate->open.store(kTotal);
  ASSERT_OK(resumed->Start());
  ASSERT_OK(resumed->Wait());
  const std::multiset<std::string> all = published();
  EXPECT_EQ(all.size(), static_cast<size_t>(kTotal));
  EXPECT_TRUE(all == want(kTotal));
}

// Registers an event-time timer far in the future per record and emits
// (key, -1) when one fires: only the end of event time fires them.
class FireAtTheEnd final
    : public KeyedProcessFunction<std::string, Event, Event> {
 public:
  Status ProcessElement(const Event& e, Context& ctx,
                        Collector<Event>& out) override {
    out.Collect(e);
    return ctx.timers().RegisterEventTimeTimer(1'000'000'000);
  }
  Status OnTimer(int64_t time, TimeDomain, Context& ctx,
                 Collector<Event>& out) override {
    out.Collect(Event{ctx.current_key(), -1, time});
    return Status::OK();
  }
};

// Stop with savepoint and drain: event time runs out before the barrier,
// so every event-time timer fires into the output; without drain none
// does, and the savepoint keeps the timers.
TEST_P(JobSavepointTest, StopWithDrainFiresEveryEventTimeTimer) {
  for (bool drain : {false, true}) {
    SCOPED_TRACE(drain ? "drain" : "no drain");
    Harness a;
    JobBuilder b("timers");
    auto gate = a.gate;
    b.AddSource<Event>(
         [gate] {
           return std::unique_ptr<SourceFunction<Event>>(
               std::make_unique<GatedSource>(kTotal, gate));
         },
         "source",
         WatermarkStrategy<Event>::ForMonotonousTimestamps(
             [](const Event& e) { return e.time; }))
        .Uid("source")
        .KeyBy([](const Event& e) { return e.key; })
        .Process<Event>([] { return std::make_unique<FireAtTheEnd>(); })
        .Uid("timers")
        .SinkTo(CollectInto(a.out));
    JobOptions options = Options();
    ASSERT_OK_AND_ASSIGN(auto job, b.Build(options));
    ASSERT_OK(job->Start());
    OpenGateAndWait(a, 1000);
    SavepointOptions sp_options;
    sp_options.then = SavepointOptions::Then::kStop;
    sp_options.drain = drain;
    ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerSavepoint(sp_options));
    ASSERT_OK(job->WaitForCheckpoint(id, 60s).status());
    ASSERT_OK(job->Wait());
    std::set<std::string> fired;
    size_t records = 0;
    for (const Event& e : a.out->values()) {
      if (e.value == -1) {
        fired.insert(e.key);
      } else {
        ++records;
      }
    }
    EXPECT_EQ(records, 1000u);
    EXPECT_EQ(fired.size(), drain ? static_cast<size_t>(kKeys) : 0u);
  }
}

// A stop whose savepoint fails (here: times out while the map is blocked)
// lets the sources go on: the job then runs to its end.
TEST_P(JobSavepointTest, FailedStopWithSavepointKeepsTheJobRunning) {
  Harness a;
  JobOptions options = Options();
  options.checkpoints.timeout_ms = 300;
  ASSERT_OK_AND_ASSIGN(auto job, CountJob(a, kTotal).Build(options));
  ASSERT_OK(job->Start());
  OpenGateAndWait(a, 1000);
  a.hooks->block.store(true);
  a.gate->open.store(1500);
  // The map holds record 1000: the barrier cannot pass it.
  for (int i = 0; i < 30000 && !a.hooks->blocked.load(); ++i) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(a.hooks->blocked.load());
  SavepointOptions sp_options;
  sp_options.then = SavepointOptions::Then::kStop;
  ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerSavepoint(sp_options));
  Result<CheckpointStats> r = job->WaitForCheckpoint(id, 60s);
  EXPECT_TRUE(r.status().IsAborted()) << r.status().ToString();
  EXPECT_TRUE(fs::is_empty(dir_.Sub("savepoints")));
  a.hooks->block.store(false);
  a.gate->open.store(kTotal);
  ASSERT_OK(job->Wait());
  EXPECT_EQ(job->status(), JobStatus::kFinished);
  EXPECT_EQ(FinalCounts(a.out->values()), ExpectedCounts(kTotal));
}

// State maps by uid: a savepoint with state the job has no operator for
// fails to restore, naming the uid, unless non-restored state is allowed;
// the new operator then starts empty.
TEST_P(JobSavepointTest, MissingOperatorNeedsAllowNonRestoredState) {
  Harness a;
  std::unique_ptr<Job> job;
  const CheckpointStats sp = RunToSavepoint(a, Options(), 2000, {}, &job);
  ASSERT_EQ(sp.state, CheckpointState::kCompleted);
  job->Cancel();
  job->Wait().IgnoreError();

  Harness b;
  JobOptions options = Options();
  options.restore_from = sp.path;
  Result<std::unique_ptr<Job>> refused =
      CountJob(b, kTotal, "count-v2").Build(options);
  ASSERT_TRUE(refused.status().IsInvalidArgument());
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("uid 'count' (id " +
                        OperatorId::FromUid("count").ToHex() + ")"));
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("--allowNonRestoredState"));

  options.allow_non_restored_state = true;
  ASSERT_OK_AND_ASSIGN(auto resumed,
                       CountJob(b, kTotal, "count-v2").Build(options));
  b.gate->open.store(kTotal);
  ASSERT_OK(resumed->Start());
  ASSERT_OK(resumed->Wait());
  // The source's offset was restored; the new count started from zero.
  EXPECT_EQ(b.out->values().size(), static_cast<size_t>(kTotal - 2000));
  std::map<std::string, int64_t> since;
  for (int64_t i = 2000; i < kTotal; ++i)
    ++since["k" + std::to_string(i % kKeys)];
  EXPECT_EQ(FinalCounts(b.out->values()), since);
}

// The job keeps checkpointing and pruning (one retained) after a native
// savepoint: the savepoint's files stay, and it restores exactly.
TEST_P(JobSavepointTest, SavepointOutlivesTheJobsPruning) {
  Harness a;
  JobOptions options = Options();
  options.checkpoints.num_retained = 1;
  ASSERT_OK_AND_ASSIGN(auto job, CountJob(a, kTotal).Build(options));
  ASSERT_OK(job->Start());
  OpenGateAndWait(a, 1000);
  ASSERT_OK_AND_ASSIGN(int64_t c0, job->TriggerCheckpoint());
  ASSERT_OK(job->WaitForCheckpoint(c0, 60s).status());
  OpenGateAndWait(a, 1500);
  ASSERT_OK_AND_ASSIGN(int64_t s, job->TriggerSavepoint({}));
  ASSERT_OK_AND_ASSIGN(CheckpointStats sp, job->WaitForCheckpoint(s, 60s));
  const std::set<std::string> files = FilesOf(sp.path);
  for (int64_t upto = 2000; upto <= 4000; upto += 500) {
    OpenGateAndWait(a, upto);
    ASSERT_OK_AND_ASSIGN(int64_t c,
                         job->TriggerCheckpoint(/*full=*/upto == 3000));
    ASSERT_OK(job->WaitForCheckpoint(c, 60s).status());
  }
  EXPECT_EQ(job->Checkpoints().completed, 7);  // 6 checkpoints, 1 savepoint
  for (const std::string& f : files) EXPECT_TRUE(fs::exists(f)) << f;
  job->Cancel();
  job->Wait().IgnoreError();
  ResumeAndCheck(sp.path, 1500, options);
}

// Without uids, operator ids are hashes of the graph: the same program
// restores, and a changed one (a stateless map inserted before the source's
// successors) gives the mapping error rather than wrong state.
TEST_P(JobSavepointTest, GeneratedIdsRestoreOnlyTheSameGraph) {
  auto build = [](const Harness& h, bool extra_map) {
    JobBuilder b("no-uids");
    b.SetParallelism(2);
    auto gate = h.gate;
    auto events = b.AddSource<Event>(
        [gate] {
          return std::unique_ptr<SourceFunction<Event>>(
              std::make_unique<GatedSource>(kTotal, gate));
        },
        "source");
    events.SetParallelism(1);
    if (extra_map) events = events.Map([](const Event& e) { return e; });
    events.KeyBy([](const Event& e) { return e.key; })
        .Process<Event>([] { return std::make_unique<CountPerKey>(); })
        .SinkTo(CollectInto(h.out));
    return b;
  };
  Harness a;
  JobOptions options = Options();
  ASSERT_OK_AND_ASSIGN(auto job, build(a, false).Build(options));
  ASSERT_OK(job->Start());
  OpenGateAndWait(a, 1200);
  ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerSavepoint({}));
  ASSERT_OK_AND_ASSIGN(CheckpointStats sp, job->WaitForCheckpoint(id, 60s));
  job->Cancel();
  job->Wait().IgnoreError();

  options.restore_from = sp.path;
  Harness changed;
  Result<std::unique_ptr<Job>> refused = build(changed, true).Build(options);
  ASSERT_TRUE(refused.status().IsInvalidArgument());
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("no uid"));

  Harness same;
  ASSERT_OK_AND_ASSIGN(auto resumed, build(same, false).Build(options));
  same.gate->open.store(kTotal);
  ASSERT_OK(resumed->Start());
  ASSERT_OK(resumed->Wait());
  EXPECT_EQ(same.out->values().size(), static_cast<size_t>(kTotal - 1200));
  EXPECT_EQ(FinalCounts(same.out->values()), ExpectedCounts(kTotal));
}

// Two savepoints and the retained checkpoint share files. Disposing one
// removes exactly what nothing else references: the other and the
// checkpoint still restore.
TEST_P(JobSavepointTest, DisposeKeepsWhatOthersShare) {
  Harness a;
  JobOptions options = Options();
  ASSERT_OK_AND_ASSIGN(auto job, CountJob(a, kTotal).Build(options));
  ASSERT_OK(job->Start());
  OpenGateAndWait(a, 1500);
  ASSERT_OK_AND_ASSIGN(int64_t s1, job->TriggerSavepoint({}));
  ASSERT_OK_AND_ASSIGN(CheckpointStats sp1, job->WaitForCheckpoint(s1, 60s));
  OpenGateAndWait(a, 2500);
  ASSERT_OK_AND_ASSIGN(int64_t s2, job->TriggerSavepoint({}));
  ASSERT_OK_AND_ASSIGN(CheckpointStats sp2, job->WaitForCheckpoint(s2, 60s));
  ASSERT_OK_AND_ASSIGN(int64_t c, job->TriggerCheckpoint());
  ASSERT_OK_AND_ASSIGN(CheckpointStats chk, job->WaitForCheckpoint(c, 60s));
  const std::set<std::string> files1 = FilesOf(sp1.path);
  std::set<std::string> others = FilesOf(sp2.path);
  others.merge(FilesOf(chk.path));

  // While the job runs, through the job.
  ASSERT_OK(job->DisposeSavepoint(sp1.path));
  EXPECT_FALSE(fs::exists(sp1.path));
  for (const std::string& f : files1) {
    EXPECT_EQ(fs::exists(f), others.contains(f)) << f;
  }
  for (const std::string& f : others) EXPECT_TRUE(fs::exists(f)) << f;
  EXPECT_TRUE(job->DisposeSavepoint(sp1.path).IsNotFound());
  // A checkpoint is not a savepoint.
  EXPECT_TRUE(job->DisposeSavepoint(chk.path).IsInvalidArgument());
  job->Cancel();
  job->Wait().IgnoreError();

  ResumeAndCheck(sp2.path, 2500, options);
  ResumeAndCheck(chk.path, 2500, options);
  // Without a job: the free function.
  ASSERT_OK(DisposeSavepoint(sp2.path));
  EXPECT_FALSE(fs::exists(sp2.path));
  for (const std::string& f : FilesOf(chk.path)) EXPECT_TRUE(fs::exists(f));
  ResumeAndCheck(chk.path, 2500, options);
}

TEST_P(JobSavepointTest, BadRestorePathsAreClearErrors) {
  Harness b;
  JobOptions options = Options();
  options.restore_from = dir_.Sub("nothing-here");
  Result<std::unique_ptr<Job>> r = CountJob(b, kTotal).Build(options);
  EXPECT_TRUE(r.status().IsNotFound()) << r.status().ToString();
  fs::create_directories(dir_.Sub("empty-dir"));
  options.restore_from = dir_.Sub("empty-dir");
  r = CountJob(b, kTotal).Build(options);
  EXPECT_TRUE(r.status().IsNotFound()) << r.status().ToString();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("_metadata"));
  EXPECT_TRUE(DisposeSavepoint(dir_.Sub("nothing-here")).IsNotFound());
  EXPECT_TRUE(DisposeSavepoint(dir_.Sub("empty-dir")).IsNotFound());
  EXPECT_TRUE(fs::exists(dir_.Sub("empty-dir")));
}

INSTANTIATE_TEST_SUITE_P(Backends, JobSavepointTest,
                         ::testing::Values(JobOptions::Backend::kMemory,
                                           JobOptions::Backend::kRocksDB),
                         [](const auto& info) {
                           return info.param == JobOptions::Backend::kMemory
                                      ? "memory"
                                      : "rocksdb";
                         });

}  // namespace
}  // namespace weir::enginetest
