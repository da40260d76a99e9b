// SPDX-License-Identifier: Apache-2.0
//
// Faults below the process, through a FaultEnv (tests/testutil/fault_env.h)
// in place of the file system, at every step of taking a checkpoint or a
// savepoint and of disposing of one:
//
// - a call that fails (EIO, ENOSPC) fails that snapshot or disposal; the
//   job keeps running, its next checkpoint completes, every file a
//   completed checkpoint names is there, and a restore from the latest one
//   continues exactly;
// - a power cut (everything not yet fsynced is lost) leaves the previous
//   checkpoint or the new one restorable, never neither, and the new one
//   whenever the job was told it completed.
#include <cerrno>
#include <filesystem>
#include <functional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/checkpoint/metadata.h"
#include "engine/checkpoint/restore.h"
#include "tests/engine/checkpoint/count_job.h"
#include "tests/testutil/fault_env.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"
#include "weir/savepoint.h"

namespace weir::enginetest {
namespace {

namespace fs = std::filesystem;
using engine::CheckpointMetadata;
using engine::ReadMetadataFile;
using engine::ResolveStoredPath;
using testutil::FaultEnv;
using testutil::ScopedDefaultEnv;

constexpr int64_t kTotal = 1200;
// Rounds of one test at most: far more than a snapshot's calls.
constexpr int kMaxRounds = 200;

class CrashTest : public ::testing::TestWithParam<JobOptions::Backend> {
 protected:
  void SetUp() override { dir_.Create(); }

  JobOptions Options(const std::string& round) const {
    JobOptions o;
    o.backend = GetParam();
    o.local_dir = dir_.Sub(round + "/local");
    o.checkpoints.dir = dir_.Sub(round + "/checkpoints");
    o.checkpoints.savepoint_dir = dir_.Sub(round + "/savepoints");
    o.checkpoints.num_retained = 1;
    return o;
  }

  // A running count job with one completed checkpoint at record 400, its
  // gate then open to 800.
  std::unique_ptr<Job> StartWithACheckpoint(Harness& run,
                                            const JobOptions& options) {
    auto job = CountJob(run, kTotal).Build(options);
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    if (!job.ok()) return nullptr;
    EXPECT_TRUE((*job)->Start().ok());
    OpenGateAndWait(run, 400);
    Result<int64_t> c = (*job)->TriggerCheckpoint();
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (c.ok()) {
      EXPECT_TRUE((*job)->WaitForCheckpoint(*c, 60s).ok());
    }
    OpenGateAndWait(run, 800);
    return std::move(*job);
  }

  // Every file each completed checkpoint under `root` names exists with
  // its size.
  void ExpectCheckpointFilesPresent(const std::string& root) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root, ec)) {
      const std::string meta = e.path().string() + "/_metadata";
      if (!fs::exists(meta)) continue;
      Result<CheckpointMetadata> m = ReadMetadataFile(meta);
      ASSERT_TRUE(m.ok()) << m.status().ToString();
      for (const auto& t : m->tasks) {
        for (const auto& f : t.files) {
          const std::string path = ResolveStoredPath(*m, e.path().string(), f);
          EXPECT_TRUE(fs::exists(path)) << path;
          if (fs::exists(path)) {
            EXPECT_EQ(fs::file_size(path), f.file.size) << path;
          }
        }
      }
    }
  }

  // Restores `path` into a new count job and runs it to the end: the
  // counts must be those of a run without failures. The restored
  // checkpoint's id.
  int64_t RestoreAndFinish(const std::string& path, JobOptions options) {
    Harness b;
    options.restore_from = path;
    auto job = CountJob(b, kTotal).Build(options);
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    if (!job.ok()) return -1;
    b.gate->open.store(kTotal);
    EXPECT_TRUE((*job)->Start().ok());
    EXPECT_TRUE((*job)->Wait().ok());
    EXPECT_EQ(FinalCounts(b.out->values()), ExpectedCounts(kTotal)) << path;
    Result<CheckpointMetadata> m = ReadMetadataFile(path);
    return m.ok() ? static_cast<int64_t>(m->checkpoint_id) : -1;
  }

  // After a fault: the job still runs, its next checkpoint completes; then
  // it is cancelled and every file a completed checkpoint names is there.
  // Its checkpoint storage root.
  std::string ExpectTheJobGoesOn(Job& job, const JobOptions& options) {
    EXPECT_EQ(job.status(), JobStatus::kRunning);
    Result<int64_t> next = job.TriggerCheckpoint();
    EXPECT_TRUE(next.ok()) << next.status().ToString();
    if (next.ok()) {
      Result<CheckpointStats> done = job.WaitForCheckpoint(*next, 60s);
      EXPECT_TRUE(done.ok()) << done.status().ToString();
    }
    job.Cancel();
    job.Wait().IgnoreError();
    const std::string root = options.checkpoints.dir + "/" + job.id().ToHex();
    ExpectCheckpointFilesPresent(root);
    return root;
  }

  // The latest checkpoint under `root` restores and continues exactly.
  void ExpectTheLatestRestores(const std::string& root,
                               const std::string& round) {
    Result<std::string> latest = engine::FindLatestCheckpoint(root);
    EXPECT_TRUE(latest.ok()) << latest.status().ToString();
    if (latest.ok()) RestoreAndFinish(*latest, Options(round + "-restored"));
  }

  // Runs rounds n = 1, 2, ... of `round(n, env)` in fresh directories until
  // one does not reach its fault (every call of the operation was covered).
  void ForEveryCall(const std::function<bool(int, FaultEnv&)>& round) {
    for (int n = 1; n <= kMaxRounds; ++n) {
      SCOPED_TRACE("fault at call " + std::to_string(n));
      FaultEnv env;
      ScopedDefaultEnv installed(&env);
      if (!round(n, env)) return;
      if (HasFatalFailure()) return;
    }
    ADD_FAILURE() << "still faulting after " << kMaxRounds << " calls";
  }

  testutil::TestDir dir_;
};

TEST_P(CrashTest, AFailedCallFailsTheCheckpointAndTheJobGoesOn) {
  ForEveryCall([&](int n, FaultEnv& env) {
    const std::string round = "r" + std::to_string(n);
    const JobOptions options = Options(round);
    Harness run;
    auto job = StartWithACheckpoint(run, options);
    if (job == nullptr) return false;
    env.FailNth(n, n % 2 ? EIO : ENOSPC);
    Result<int64_t> c = job->TriggerCheckpoint();
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    Result<CheckpointStats> r = job->WaitForCheckpoint(*c, 60s);
    // A fault before the commit point fails the checkpoint; one after it
    // (pruning, removing files nothing references) does not, and what it
    // left is removed later.
    const bool hit = env.triggered();
    env.FailNth(0, 0);  // nothing more fails
    const std::string root = ExpectTheJobGoesOn(*job, options);
    ExpectTheLatestRestores(root, round);
    return hit;
  });
}

TEST_P(CrashTest, APowerCutLeavesTheOldOrTheNewCheckpoint) {
  ForEveryCall([&](int n, FaultEnv& env) {
    const std::string round = "r" + std::to_string(n);
    const JobOptions options = Options(round);
    Harness run;
    auto job = StartWithACheckpoint(run, options);
    if (job == nullptr) return false;
    const std::vector<CheckpointStats> history = job->Checkpoints().history;
    EXPECT_FALSE(history.empty());
    const int64_t old_id = history.empty() ? -1 : history.back().id;
    env.CutPowerAfter(n - 1);
    Result<int64_t> c = job->TriggerCheckpoint();
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    Result<CheckpointStats> r = job->WaitForCheckpoint(*c, 60s);
    const bool completed = r.ok();
    job->Cancel();
    job->Wait().IgnoreError();
    const bool cut = env.triggered();
    // New directory entries are lost in odd rounds and kept (with their
    // unsynced data lost) in even ones.
    env.ApplyPowerCut(/*keep_new_entries=*/n % 2 == 0);

    const std::string root = options.checkpoints.dir + "/" + job->id().ToHex();
    // No commit point is torn: every `_metadata` there reads.
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root, ec)) {
      const std::string meta = e.path().string() + "/_metadata";
      if (fs::exists(meta)) {
        EXPECT_TRUE(ReadMetadataFile(meta).ok()) << meta << " is torn";
      }
    }
    Result<std::string> latest = engine::FindLatestCheckpoint(root);
    EXPECT_TRUE(latest.ok())
        << "no checkpoint left: " << latest.status().ToString();
    if (!latest.ok()) return cut;
    const int64_t restored =
        RestoreAndFinish(*latest, Options(round + "-restored"));
    EXPECT_TRUE(restored == old_id || restored == *c) << restored;
    if (completed) {
      EXPECT_EQ(restored, *c) << "a completed checkpoint was lost";
    }
    return cut;
  });
}

TEST_P(CrashTest, AFailedCallFailsTheSavepointAndTheJobGoesOn) {
  ForEveryCall([&](int n, FaultEnv& env) {
    const std::string round = "r" + std::to_string(n);
    const JobOptions options = Options(round);
    Harness run;
    auto job = StartWithACheckpoint(run, options);
    if (job == nullptr) return false;
    env.FailNth(n, n % 2 ? EIO : ENOSPC);
    // The trigger itself creates the target directory.
    Result<int64_t> s = job->TriggerSavepoint({});
    EXPECT_TRUE(s.ok() || env.triggered()) << s.status().ToString();
    Result<CheckpointStats> r =
        s.ok() ? job->WaitForCheckpoint(*s, 60s) : s.status();
    const bool hit = env.triggered();
    env.FailNth(0, 0);  // nothing more fails
    const std::string root = ExpectTheJobGoesOn(*job, options);
    if (r.ok()) RestoreAndFinish(r->path, Options(round + "-from-savepoint"));
    ExpectTheLatestRestores(root, round);
    return hit;
  });
}

TEST_P(CrashTest, AFailedCallDuringADisposalLosesNothingElse) {
  ForEveryCall([&](int n, FaultEnv& env) {
    const std::string round = "r" + std::to_string(n);
    const JobOptions options = Options(round);
    Harness run;
    auto job = StartWithACheckpoint(run, options);
    if (job == nullptr) return false;
    Result<int64_t> s = job->TriggerSavepoint({});
    EXPECT_TRUE(s.ok());
    Result<CheckpointStats> sp = job->WaitForCheckpoint(*s, 60s);
    EXPECT_TRUE(sp.ok()) << sp.status().ToString();
    if (!sp.ok()) return false;
    env.FailNth(n, n % 2 ? EIO : ENOSPC);
    Status disposed = job->DisposeSavepoint(sp->path);
    const bool hit = env.triggered();
    env.FailNth(0, 0);  // nothing more fails
    (void)disposed;     // failed, or the fault was in removing what it freed
    const std::string root = ExpectTheJobGoesOn(*job, options);
    // The savepoint is whole (the failure came before its commit point
    // went) or gone; then disposing of it again finishes the job.
    if (fs::exists(sp->path + "/_metadata")) {
      RestoreAndFinish(sp->path, Options(round + "-from-savepoint"));
    }
    Status again = DisposeSavepoint(sp->path);
    EXPECT_TRUE(again.ok() || again.IsNotFound()) << again.ToString();
    EXPECT_FALSE(fs::exists(sp->path + "/_metadata"));
    ExpectTheLatestRestores(root, round);
    return hit;
  });
}

INSTANTIATE_TEST_SUITE_P(Backends, CrashTest,
                         ::testing::Values(JobOptions::Backend::kMemory,
                                           JobOptions::Backend::kRocksDB),
                         [](const auto& info) {
                           return info.param == JobOptions::Backend::kMemory
                                      ? "memory"
                                      : "rocksdb";
                         });

}  // namespace
}  // namespace weir::enginetest
