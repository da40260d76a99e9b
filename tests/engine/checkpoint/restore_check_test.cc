// SPDX-License-Identifier: Apache-2.0
//
// Job::CheckRestore (weir/restore_check.h): what it predicts is what the
// restore then does. Each case checks a savepoint of the count job against
// a changed job, then restores it: the same error, word for word, when the
// check found a problem; otherwise the state the check said is restored
// is there (exact counts), and an operator said to start empty starts
// empty.
#include <filesystem>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/engine/checkpoint/count_job.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace weir::enginetest {
namespace {

using Fate = RestoreCheck::Fate;
using Method = RestoreCheck::Method;

constexpr int64_t kTotal = 3000;
constexpr int64_t kAt = 1000;

const RestoreCheck::Operator* Find(const RestoreCheck& c,
                                   const std::string& uid) {
  for (const RestoreCheck::Operator& op : c.operators) {
    if (op.uid == uid) return &op;
  }
  return nullptr;
}

class RestoreCheckTest : public ::testing::TestWithParam<JobOptions::Backend> {
 protected:
  void SetUp() override {
    dir_.Create();
    Harness a;
    std::unique_ptr<Job> job;
    const CheckpointStats sp =
        RunCountJobToSavepoint(a, Options(), kTotal, kAt, {}, &job);
    ASSERT_EQ(sp.state, CheckpointState::kCompleted);
    job->Cancel();
    job->Wait().IgnoreError();
    savepoint_ = sp.path;
  }

  JobOptions Options() const {
    JobOptions o;
    o.backend = GetParam();
    o.local_dir = dir_.Sub("local");
    o.checkpoints.dir = dir_.Sub("checkpoints");
    o.checkpoints.savepoint_dir = dir_.Sub("savepoints");
    return o;
  }

  // The check of restoring `builder`'s job from the savepoint, and the
  // job restored from it (or why not).
  RestoreCheck Check(const JobBuilder& builder, bool allow_non_restored) {
    JobOptions o = Options();
    o.allow_non_restored_state = allow_non_restored;
    Result<std::unique_ptr<Job>> fresh = builder.Build(o);
    EXPECT_OK(fresh.status());
    if (!fresh.ok()) return {};
    RestoreCheckOptions co;
    co.allow_non_restored_state = allow_non_restored;
    Result<RestoreCheck> c = (*fresh)->CheckRestore(savepoint_, co);
    EXPECT_OK(c.status());
    return c.ok() ? *c : RestoreCheck{};
  }

  Result<std::unique_ptr<Job>> Restore(const JobBuilder& builder,
                                       bool allow_non_restored) {
    JobOptions o = Options();
    o.restore_from = savepoint_;
    o.allow_non_restored_state = allow_non_restored;
    return builder.Build(o);
  }

  testutil::TestDir dir_;
  std::string savepoint_;
};

TEST_P(RestoreCheckTest, TheSameJobRestoresEverything) {
  Harness b;
  const RestoreCheck c = Check(CountJob(b, kTotal), false);
  EXPECT_TRUE(c.ok()) << c.problems.front();
  EXPECT_EQ(c.snapshot_max_parallelism, 128);
  ASSERT_NE(Find(c, "count"), nullptr);
  EXPECT_EQ(Find(c, "count")->fate, Fate::kRestored);
  EXPECT_TRUE(Find(c, "count")->keyed_state);
  EXPECT_GT(Find(c, "count")->bytes, 0u);
  EXPECT_EQ(Find(c, "source")->fate, Fate::kRestored);
  EXPECT_TRUE(Find(c, "source")->list_state);
  // The count runs at 2: each new task takes its own old task's key groups.
  int keyed_tasks = 0;
  for (const RestoreCheck::Task& t : c.tasks) {
    if (t.parallelism != 2) continue;
    ++keyed_tasks;
    ASSERT_EQ(t.sources.size(), 1u) << t.vertex;
    EXPECT_EQ(t.sources[0].key_groups, t.key_groups);
    EXPECT_EQ(t.sources[0].old_subtask, t.subtask);
    EXPECT_EQ(t.method, GetParam() == JobOptions::Backend::kRocksDB
                            ? Method::kLink
                            : Method::kRead);
  }
  EXPECT_EQ(keyed_tasks, 2);
  EXPECT_GT(c.bytes_linked + c.bytes_rewritten, 0u);

  ASSERT_OK_AND_ASSIGN(auto job, Restore(CountJob(b, kTotal), false));
  b.gate->open.store(kTotal);
  ASSERT_OK(job->Start());
  ASSERT_OK(job->Wait());
  EXPECT_EQ(FinalCounts(b.out->values()), ExpectedCounts(kTotal));
}

TEST_P(RestoreCheckTest, AChangedUidNeedsAllowNonRestoredAndGetsASuggestion) {
  Harness b;
  const RestoreCheck c = Check(CountJob(b, kTotal, "count-v2"), false);
  ASSERT_FALSE(c.ok());
  const RestoreCheck::Operator* old_op = Find(c, "count");
  const RestoreCheck::Operator* new_op = Find(c, "count-v2");
  ASSERT_NE(old_op, nullptr);
  ASSERT_NE(new_op, nullptr);
  EXPECT_EQ(old_op->fate, Fate::kNeedsAllowNonRestored);
  EXPECT_EQ(new_op->fate, Fate::kStartsEmpty);
  EXPECT_EQ(new_op->suggested_uid_hash, OperatorId::FromUid("count").ToHex());
  // The restore fails with the check's first problem.
  Result<std::unique_ptr<Job>> refused =
      Restore(CountJob(b, kTotal, "count-v2"), false);
  ASSERT_TRUE(refused.status().IsInvalidArgument());
  EXPECT_EQ(std::string(refused.status().message()), c.problems.front());

  // With -n the old state is dropped and the new operator starts empty.
  const RestoreCheck n = Check(CountJob(b, kTotal, "count-v2"), true);
  EXPECT_TRUE(n.ok());
  EXPECT_EQ(Find(n, "count")->fate, Fate::kDropped);
  EXPECT_EQ(Find(n, "count-v2")->fate, Fate::kStartsEmpty);
  ASSERT_OK_AND_ASSIGN(auto job,
                       Restore(CountJob(b, kTotal, "count-v2"), true));
  b.gate->open.store(kTotal);
  ASSERT_OK(job->Start());
  ASSERT_OK(job->Wait());
  // Counted from zero: the records after the savepoint only.
  std::map<std::string, int64_t> want;
  for (int64_t i = kAt; i < kTotal; ++i)
    ++want["k" + std::to_string(i % kKeys)];
  EXPECT_EQ(FinalCounts(b.out->values()), want);
}

TEST_P(RestoreCheckTest, AnotherMaxParallelismIsRefusedAsTheRestoreRefusesIt) {
  Harness b;
  JobBuilder builder = CountJob(b, kTotal);
  builder.SetMaxParallelism(64);
  const RestoreCheck c = Check(builder, false);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.snapshot_max_parallelism, 128);
  EXPECT_EQ(c.job_max_parallelism, 64);
  EXPECT_TRUE(c.tasks.empty());
  Result<std::unique_ptr<Job>> refused = Restore(builder, false);
  ASSERT_TRUE(refused.status().IsInvalidArgument());
  EXPECT_EQ(std::string(refused.status().message()), c.problems.front());
}

TEST_P(RestoreCheckTest, ARescaleTakesEachKeyGroupFromTheTaskThatHadIt) {
  Harness b;
  JobBuilder builder = CountJob(b, kTotal, "count", 3);
  const RestoreCheck c = Check(builder, false);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(Find(c, "count")->old_parallelism, 2);
  EXPECT_EQ(Find(c, "count")->new_parallelism, 3);
  std::set<int> covered;
  for (const RestoreCheck::Task& t : c.tasks) {
    if (t.parallelism != 3) continue;
    for (const RestoreCheck::Source& s : t.sources) {
      // The part taken is inside both the old and the new range.
      EXPECT_GE(s.key_groups.start,
                std::max(t.key_groups.start, s.old_key_groups.start));
      EXPECT_LE(s.key_groups.end,
                std::min(t.key_groups.end, s.old_key_groups.end));
      for (int kg = s.key_groups.start; kg <= s.key_groups.end; ++kg) {
        EXPECT_TRUE(covered.insert(kg).second) << kg;
      }
    }
    if (GetParam() == JobOptions::Backend::kRocksDB) {
      EXPECT_EQ(t.method,
                t.sources.size() > 1 ? Method::kRewrite : Method::kImport);
    }
  }
  EXPECT_EQ(covered.size(), 128u);

  ASSERT_OK_AND_ASSIGN(auto job, Restore(builder, false));
  b.gate->open.store(kTotal);
  ASSERT_OK(job->Start());
  ASSERT_OK(job->Wait());
  EXPECT_EQ(FinalCounts(b.out->values()), ExpectedCounts(kTotal));
}

// JobInfo::restore: nothing before Start(); after it, every task restored
// and the counts at the totals of the plan, which the check reports, at
// the same parallelism (link or read) and rescaled (several old tasks per
// new one).
TEST_P(RestoreCheckTest, ProgressEndsAtThePlansTotals) {
  for (int parallelism : {2, 3}) {
    SCOPED_TRACE(parallelism);
    Harness b;
    const RestoreCheck c =
        Check(CountJob(b, kTotal, "count", parallelism), false);
    ASSERT_TRUE(c.ok());
    uint64_t files = 0;
    uint64_t bytes = 0;
    for (const RestoreCheck::Task& t : c.tasks) {
      files += t.files;
      bytes += t.bytes;
    }
    ASSERT_GT(files, 0u);
    ASSERT_GT(bytes, 0u);

    ASSERT_OK_AND_ASSIGN(
        auto job, Restore(CountJob(b, kTotal, "count", parallelism), false));
    EXPECT_EQ(job->Info().restore.phase, RestoreInfo::Phase::kNone);
    ASSERT_OK(job->Start());
    const RestoreInfo r = job->Info().restore;
    EXPECT_EQ(r.phase, RestoreInfo::Phase::kRestored);
    EXPECT_EQ(r.path, c.metadata_path);
    EXPECT_EQ(r.tasks_total, static_cast<int>(c.tasks.size()));
    EXPECT_EQ(r.tasks_done, r.tasks_total);
    EXPECT_EQ(r.files_total, files);
    EXPECT_EQ(r.files_done, files);
    EXPECT_EQ(r.bytes_total, bytes);
    EXPECT_EQ(r.bytes_done, bytes);
    EXPECT_GT(r.start_time_ms, 0);
    EXPECT_GE(r.end_time_ms, r.start_time_ms);
    EXPECT_EQ(r.estimated_ms_left, -1);
    b.gate->open.store(kTotal);
    ASSERT_OK(job->Wait());
    EXPECT_EQ(FinalCounts(b.out->values()), ExpectedCounts(kTotal));
  }
}

// A restore that fails (the savepoint's files are gone) ends FAILED, its
// counts short of the totals.
TEST_P(RestoreCheckTest, AFailedRestoreIsShownAsFailed) {
  Harness b;
  const RestoreCheck c = Check(CountJob(b, kTotal), false);
  ASSERT_TRUE(c.ok());
  // Every state file of the savepoint, in its directory or in the
  // shared folder a native RocksDB savepoint references.
  int removed = 0;
  for (const std::string& root :
       {dir_.Sub("savepoints"), dir_.Sub("checkpoints")}) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
      if (e.is_regular_file() && e.path().filename() != "_metadata") {
        files.push_back(e.path());
      }
    }
    for (const auto& f : files) removed += std::filesystem::remove(f) ? 1 : 0;
  }
  ASSERT_GT(removed, 0);
  ASSERT_OK_AND_ASSIGN(auto job, Restore(CountJob(b, kTotal), false));
  EXPECT_FALSE(job->Start().ok());
  const RestoreInfo r = job->Info().restore;
  EXPECT_EQ(r.phase, RestoreInfo::Phase::kFailed);
  EXPECT_LT(r.files_done, r.files_total);
  EXPECT_GE(r.end_time_ms, r.start_time_ms);
}

TEST_P(RestoreCheckTest, APathWithoutMetadataIsNotFound) {
  Harness b;
  ASSERT_OK_AND_ASSIGN(auto job, CountJob(b, kTotal).Build(Options()));
  Result<RestoreCheck> c = job->CheckRestore(dir_.Sub("nothing"), {});
  EXPECT_TRUE(c.status().IsNotFound()) << c.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(Backends, RestoreCheckTest,
                         ::testing::Values(JobOptions::Backend::kMemory,
                                           JobOptions::Backend::kRocksDB),
                         [](const auto& info) {
                           return info.param == JobOptions::Backend::kMemory
                                      ? "memory"
                                      : "rocksdb";
                         });

}  // namespace
}  // namespace weir::enginetest
