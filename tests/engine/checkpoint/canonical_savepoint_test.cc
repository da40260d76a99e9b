// SPDX-License-Identifier: Apache-2.0
//
// Canonical savepoints (SavepointFormatType::kCanonical): with either
// backend, a savepoint of key-group streams that holds all its files, says
// so in its `_metadata`, and restores into either backend, at another
// parallelism too, with the state continuing exactly; for each of
// continue, cancel and stop.
#include <filesystem>
#include <set>
#include <string>

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
using engine::SavepointFormat;
using engine::SnapshotKind;
using engine::StoredFile;

constexpr int64_t kTotal = 6000;
using Backend = JobOptions::Backend;

std::string Name(Backend b) {
  return b == Backend::kRocksDB ? "RocksDB" : "Memory";
}

class CanonicalSavepointTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { dir_.Create(); }

  JobOptions Options(Backend backend) const {
    JobOptions o;
    o.backend = backend;
    o.local_dir = dir_.Sub("local");
    o.checkpoints.dir = dir_.Sub("checkpoints");
    o.checkpoints.savepoint_dir = dir_.Sub("savepoints");
    return o;
  }

  static SavepointOptions Canonical(
      SavepointOptions::Then then = SavepointOptions::Then::kContinue) {
    SavepointOptions sp;
    sp.format = SavepointFormatType::kCanonical;
    sp.then = then;
    return sp;
  }

  // The savepoint at `path` is canonical: key-group streams, every file
  // inside it (nothing in the checkpoint storage's shared/).
  void ExpectCanonical(const std::string& path) {
    ASSERT_OK_AND_ASSIGN(CheckpointMetadata m, ReadMetadataFile(path));
    EXPECT_EQ(m.kind, SnapshotKind::kSavepoint);
    EXPECT_EQ(m.savepoint_format, SavepointFormat::kCanonical);
    EXPECT_EQ(m.shared_root, "");
    ASSERT_FALSE(m.tasks.empty());
    size_t files = 0;
    for (const auto& t : m.tasks) {
      EXPECT_EQ(t.format, SnapshotFormat::kKeyGroupStreams)
          << t.vertex_index << "/" << t.subtask_index;
      for (const StoredFile& f : t.files) {
        const std::string at = ResolveStoredPath(m, path, f);
        EXPECT_TRUE(at.starts_with(path + "/")) << at;
        EXPECT_TRUE(fs::exists(at)) << at;
        EXPECT_FALSE(f.path.starts_with("shared/")) << f.path;
        ++files;
      }
    }
    EXPECT_GT(files, 0u);
    // It is not registered in the checkpoint storage (nothing there to
    // keep for it).
    const std::string name = fs::path(path).filename().string();
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir_.Sub("checkpoints"), ec), end;
         !ec && it != end; it.increment(ec)) {
      EXPECT_NE(it->path().filename().string(), name) << it->path();
    }
  }

  CheckpointStats RunToSavepoint(Harness& run, const JobOptions& options,
                                 int64_t at, const SavepointOptions& sp,
                                 std::unique_ptr<Job>* job) {
    return RunCountJobToSavepoint(run, options, kTotal, at, sp, job);
  }

  // Resumes from `path` with `backend` and the count at `parallelism`, the
  // gate open to the end: exactly the records after `at`, and the counts of
  // a run that never stopped.
  void ResumeAndCheck(const std::string& path, int64_t at, Backend backend,
                      int parallelism = 2) {
    SCOPED_TRACE("resumed with " + Name(backend) + " at parallelism " +
                 std::to_string(parallelism));
    Harness b;
    JobOptions options = Options(backend);
    options.restore_from = path;
    ASSERT_OK_AND_ASSIGN(
        auto resumed, CountJob(b, kTotal, "count", parallelism).Build(options));
    b.gate->open.store(kTotal);
    ASSERT_OK(resumed->Start());
    ASSERT_OK(resumed->Wait());
    EXPECT_EQ(b.out->values().size(), static_cast<size_t>(kTotal - at));
    EXPECT_EQ(FinalCounts(b.out->values()), ExpectedCounts(kTotal));
  }

  testutil::TestDir dir_;
};

TEST_P(CanonicalSavepointTest, RestoresIntoEitherBackend) {
  Harness a;
  std::unique_ptr<Job> job;
  const CheckpointStats sp =
      RunToSavepoint(a, Options(GetParam()), 2000, Canonical(), &job);
  ASSERT_EQ(sp.state, CheckpointState::kCompleted);
  EXPECT_TRUE(sp.savepoint);
  EXPECT_TRUE(sp.canonical);
  EXPECT_EQ(fs::path(sp.path).parent_path(), fs::path(dir_.Sub("savepoints")));
  ASSERT_NO_FATAL_FAILURE(ExpectCanonical(sp.path));
  EXPECT_EQ(job->status(), JobStatus::kRunning);
  job->Cancel();
  EXPECT_TRUE(job->Wait().IsAborted());
  // The job's working snapshot directory holds nothing of it any more.
  for (const std::string& name : ListDir(dir_.Sub("local"))) {
    std::error_code ec;
    for (fs::recursive_directory_iterator
             it(dir_.Sub("local") + "/" + name, ec),
         end;
         !ec && it != end; it.increment(ec)) {
      EXPECT_EQ(it->path().string().find("snapshots/chk-"), std::string::npos)
          << it->path();
    }
  }
  ResumeAndCheck(sp.path, 2000, Backend::kRocksDB);
  ResumeAndCheck(sp.path, 2000, Backend::kMemory);
}

// Key-group streams of several old tasks merge: the savepoint restores at
// another parallelism, into RocksDB as well.
TEST_P(CanonicalSavepointTest, RestoresAtAnotherParallelism) {
  Harness a;
  std::unique_ptr<Job> job;
  const CheckpointStats sp =
      RunToSavepoint(a, Options(GetParam()), 3000, Canonical(), &job);
  ASSERT_EQ(sp.state, CheckpointState::kCompleted);
  job->Cancel();
  job->Wait().IgnoreError();
  ResumeAndCheck(sp.path, 3000, Backend::kRocksDB, 1);
  ResumeAndCheck(sp.path, 3000, Backend::kRocksDB, 3);
  ResumeAndCheck(sp.path, 3000, Backend::kMemory, 3);
}

// Without checkpoint storage too; the directory can be moved.
TEST_P(CanonicalSavepointTest, WithoutCheckpointStorage) {
  Harness a;
  std::unique_ptr<Job> job;
  JobOptions options = Options(GetParam());
  options.checkpoints.dir.clear();
  const CheckpointStats sp =
      RunToSavepoint(a, options, 1500, Canonical(), &job);
  ASSERT_EQ(sp.state, CheckpointState::kCompleted);
  job->Cancel();
  job->Wait().IgnoreError();
  const std::string moved = dir_.Sub("moved");
  fs::rename(sp.path, moved);
  ASSERT_NO_FATAL_FAILURE(ExpectCanonical(moved));
  ResumeAndCheck(moved, 1500, Backend::kRocksDB);
  ResumeAndCheck(moved, 1500, Backend::kMemory);
}

TEST_P(CanonicalSavepointTest, CancelWithCanonicalSavepoint) {
  Harness a;
  std::unique_ptr<Job> job;
  const CheckpointStats sp =
      RunToSavepoint(a, Options(GetParam()), 2500,
                     Canonical(SavepointOptions::Then::kCancel), &job);
  ASSERT_EQ(sp.state, CheckpointState::kCompleted);
  EXPECT_TRUE(job->Wait().IsAborted());
  EXPECT_EQ(job->status(), JobStatus::kCanceled);
  ASSERT_NO_FATAL_FAILURE(ExpectCanonical(sp.path));
  ResumeAndCheck(sp.path, 2500, Backend::kRocksDB);
  ResumeAndCheck(sp.path, 2500, Backend::kMemory);
}

// Stop: nothing after the savepoint reaches the sink, and the resumed job
// (either backend) emits exactly the rest.
TEST_P(CanonicalSavepointTest, StopWithCanonicalSavepoint) {
  Harness a;
  JobOptions options = Options(GetParam());
  ASSERT_OK_AND_ASSIGN(auto job, CountJob(a, kTotal).Build(options));
  ASSERT_OK(job->Start());
  OpenGateAndWait(a, 2000);
  // The source runs on while the savepoint is triggered, but not to its
  // end: the job cannot finish before the savepoint stops it, and the
  // resumed job still sees every key.
  a.gate->open.store(3000);
  ASSERT_OK_AND_ASSIGN(
      int64_t id,
      job->TriggerSavepoint(Canonical(SavepointOptions::Then::kStop)));
  ASSERT_OK_AND_ASSIGN(CheckpointStats sp, job->WaitForCheckpoint(id, 60s));
  ASSERT_OK(job->Wait());
  EXPECT_EQ(job->status(), JobStatus::kFinished);
  ASSERT_NO_FATAL_FAILURE(ExpectCanonical(sp.path));
  const size_t first = a.out->values().size();
  ASSERT_GE(first, 2000u);
  for (Backend backend : {Backend::kRocksDB, Backend::kMemory}) {
    SCOPED_TRACE("resumed with " + Name(backend));
    Harness b;
    JobOptions resume = Options(backend);
    resume.restore_from = sp.path;
    ASSERT_OK_AND_ASSIGN(auto resumed, CountJob(b, kTotal).Build(resume));
    b.gate->open.store(kTotal);
    ASSERT_OK(resumed->Start());
    ASSERT_OK(resumed->Wait());
    EXPECT_EQ(first + b.out->values().size(), static_cast<size_t>(kTotal));
    EXPECT_EQ(FinalCounts(b.out->values()), ExpectedCounts(kTotal));
  }
}

// A native savepoint of the same job says kNative (the default is
// unchanged), and a canonical one disposes like any self-contained one.
TEST_P(CanonicalSavepointTest, NativeStaysTheDefaultAndDisposeWorks) {
  Harness a;
  std::unique_ptr<Job> job;
  const CheckpointStats native =
      RunToSavepoint(a, Options(GetParam()), 1000, {}, &job);
  ASSERT_EQ(native.state, CheckpointState::kCompleted);
  ASSERT_OK_AND_ASSIGN(CheckpointMetadata m, ReadMetadataFile(native.path));
  EXPECT_EQ(m.savepoint_format, SavepointFormat::kNative);
  EXPECT_FALSE(native.canonical);
  ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerSavepoint(Canonical()));
  ASSERT_OK_AND_ASSIGN(CheckpointStats canonical,
                       job->WaitForCheckpoint(id, 60s));
  ASSERT_NO_FATAL_FAILURE(ExpectCanonical(canonical.path));
  ASSERT_OK(job->DisposeSavepoint(canonical.path));
  EXPECT_FALSE(fs::exists(canonical.path));
  EXPECT_TRUE(fs::exists(native.path + "/_metadata"));
  job->Cancel();
  job->Wait().IgnoreError();
}

INSTANTIATE_TEST_SUITE_P(Backends, CanonicalSavepointTest,
                         ::testing::Values(Backend::kMemory, Backend::kRocksDB),
                         [](const auto& info) { return Name(info.param); });

}  // namespace
}  // namespace weir::enginetest
