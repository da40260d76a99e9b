// SPDX-License-Identifier: Apache-2.0
//
// Snapshots and requests from outside are checked before they are used:
// a savepoint whose file names point outside its restore directory is
// refused and creates nothing; a `_metadata` that is a FIFO or a device,
// and a snapshot file swapped for a device, end in one error instead of a
// hang; a savepoint target with a NUL byte is refused and the job goes on;
// and a second process (here: a second job) cannot run a job on the
// checkpoint storage that another one runs on.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/checkpoint/metadata.h"
#include "lib/file.h"
#include "tests/engine/checkpoint/count_job.h"
#include "tests/testutil/forge_metadata.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace weir::enginetest {
namespace {

namespace fs = std::filesystem;
using engine::CheckpointMetadata;
using engine::ReadMetadataFile;
using ::testing::HasSubstr;
using testutil::StatusIs;

constexpr int64_t kTotal = 4000;

class SnapshotInputTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_.Create(); }

  JobOptions Options() const {
    JobOptions o;
    o.backend = JobOptions::Backend::kRocksDB;
    o.local_dir = dir_.Sub("local");
    o.checkpoints.dir = dir_.Sub("checkpoints");
    o.checkpoints.savepoint_dir = dir_.Sub("savepoints");
    // No ready-made DB: a restore imports the files by their names.
    o.rocksdb.ready_db_snapshots = false;
    return o;
  }

  // A self-contained savepoint of the count job at record 1500; the job is
  // cancelled.
  std::string SelfContainedSavepoint() {
    Harness run;
    std::unique_ptr<Job> job;
    SavepointOptions sp;
    sp.self_contained = true;
    const CheckpointStats stats =
        RunCountJobToSavepoint(run, Options(), kTotal, 1500, sp, &job);
    EXPECT_EQ(stats.state, CheckpointState::kCompleted);
    job->Cancel();
    job->Wait().IgnoreError();
    return stats.path;
  }

  // The name of one SST file of the savepoint at `path`.
  std::string SomeSstName(const std::string& path) {
    Result<CheckpointMetadata> m = ReadMetadataFile(path);
    EXPECT_TRUE(m.ok());
    if (!m.ok()) return "";
    for (const auto& t : m->tasks) {
      for (const auto& f : t.files) {
        if (f.file.name.ends_with(".sst")) return f.file.name;
      }
    }
    return "";
  }

  std::string ReadAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  Status Restore(const std::string& path) {
    Harness b;
    JobOptions options = Options();
    options.restore_from = path;
    Result<std::unique_ptr<Job>> job = CountJob(b, kTotal).Build(options);
    if (!job.ok()) return job.status();
    b.gate->open.store(kTotal);
    Status s = (*job)->Start();
    if (s.ok()) s = (*job)->Wait();
    return s;
  }

  testutil::TestDir dir_;
};

TEST_F(SnapshotInputTest, FileNamesThatLeaveTheRestoreDirectoryAreRefused) {
  const std::string path = SelfContainedSavepoint();
  const std::string name = SomeSstName(path);
  ASSERT_FALSE(name.empty());
  const std::string original = ReadAll(path + "/_metadata");
  // Names of the same length as the real one, so that only they change.
  std::mt19937_64 rng(std::random_device{}());
  std::string absolute = "/tmp/";
  while (absolute.size() < name.size()) absolute.push_back('a' + rng() % 26);
  ASSERT_FALSE(fs::exists(absolute)) << absolute;
  std::string upward;
  while (upward.size() + 3 <= name.size()) upward += "../";
  upward += std::string(name.size() - upward.size(), 'u');
  ASSERT_EQ(absolute.size(), name.size());
  ASSERT_EQ(upward.size(), name.size());

  for (const std::string& bad : {absolute, upward}) {
    const std::string forged = dir_.Sub("forged-" + std::to_string(bad[0]));
    fs::create_directories(forged);
    const std::string bytes =
        testutil::ForgeMetadata(original, name, bad);  // the name field
    ASSERT_FALSE(bytes.empty());
    ASSERT_OK(AtomicWriteFile(forged + "/_metadata", bytes));
    fs::copy(path, forged,
             fs::copy_options::recursive | fs::copy_options::skip_existing);
    const std::set<std::string> outside_before = [&] {
      std::set<std::string> out;
      for (const auto& e : fs::directory_iterator(dir_.path()))
        out.insert(e.path().string());
      return out;
    }();

    Status s = Restore(forged);
    EXPECT_THAT(s, StatusIs(Status::Code::kCorruption,
                            HasSubstr("is not a plain file name")))
        << bad;
    EXPECT_THAT(ReadMetadataFile(forged),
                StatusIs(Status::Code::kCorruption,
                         HasSubstr("its name '" + bad.substr(0, 3))));
    EXPECT_FALSE(fs::exists(absolute));
    std::set<std::string> outside_after;
    for (const auto& e : fs::directory_iterator(dir_.path()))
      outside_after.insert(e.path().string());
    EXPECT_EQ(outside_after, outside_before);
  }
}

TEST_F(SnapshotInputTest, AMetadataThatIsNoRegularFileIsOneError) {
  const std::string fifo_dir = dir_.Sub("fifo");
  fs::create_directories(fifo_dir);
  ASSERT_EQ(::mkfifo((fifo_dir + "/_metadata").c_str(), 0600), 0);
  EXPECT_THAT(Restore(fifo_dir), StatusIs(Status::Code::kInvalidArgument,
                                          HasSubstr("not a regular file")));

  const std::string zero_dir = dir_.Sub("zero");
  fs::create_directories(zero_dir);
  fs::create_symlink("/dev/zero", zero_dir + "/_metadata");
  EXPECT_THAT(Restore(zero_dir), StatusIs(Status::Code::kInvalidArgument,
                                          HasSubstr("not a regular file")));
  EXPECT_THAT(DisposeSavepoint(zero_dir),
              StatusIs(Status::Code::kInvalidArgument));
  EXPECT_TRUE(fs::is_symlink(zero_dir + "/_metadata"));
}

TEST_F(SnapshotInputTest, ASnapshotFileSwappedForADeviceFailsTheRestore) {
  const std::string path = SelfContainedSavepoint();
  ASSERT_OK_AND_ASSIGN(CheckpointMetadata m, ReadMetadataFile(path));
  std::string victim;
  for (const auto& t : m.tasks) {
    for (const auto& f : t.files) {
      if (f.file.name.ends_with(".sst")) victim = path + "/" + f.path;
    }
  }
  ASSERT_FALSE(victim.empty());
  fs::remove(victim);
  fs::create_symlink("/dev/zero", victim);
  EXPECT_THAT(Restore(path), StatusIs(Status::Code::kIOError,
                                      HasSubstr("not a regular file")));
}

TEST_F(SnapshotInputTest, ASavepointTargetWithANulByteIsRefused) {
  Harness run;
  std::unique_ptr<Job> job;
  ASSERT_OK_AND_ASSIGN(job, CountJob(run, kTotal).Build(Options()));
  ASSERT_OK(job->Start());
  OpenGateAndWait(run, 500);
  SavepointOptions sp;
  sp.target_dir = std::string("/tmp/x/a\0b", 10);
  EXPECT_THAT(
      job->TriggerSavepoint(sp),
      StatusIs(Status::Code::kInvalidArgument, HasSubstr("holds a NUL byte")));
  // The job goes on: checkpoints and savepoints still complete.
  ASSERT_OK_AND_ASSIGN(int64_t c, job->TriggerCheckpoint());
  ASSERT_OK(job->WaitForCheckpoint(c, 60s).status());
  sp.target_dir = dir_.Sub("ok");
  ASSERT_OK_AND_ASSIGN(int64_t s, job->TriggerSavepoint(sp));
  ASSERT_OK(job->WaitForCheckpoint(s, 60s).status());
  job->Cancel();
  job->Wait().IgnoreError();
}

TEST_F(SnapshotInputTest, OneJobAtATimeRunsOnACheckpointStorage) {
  // A checkpoint to restore from (restoring from it keeps the job id).
  Harness first;
  ASSERT_OK_AND_ASSIGN(auto job, CountJob(first, kTotal).Build(Options()));
  ASSERT_OK(job->Start());
  OpenGateAndWait(first, 1000);
  ASSERT_OK_AND_ASSIGN(int64_t c, job->TriggerCheckpoint());
  ASSERT_OK_AND_ASSIGN(CheckpointStats chk, job->WaitForCheckpoint(c, 60s));
  job->Cancel();
  job->Wait().IgnoreError();

  Harness a, b;
  JobOptions options = Options();
  options.restore_from = chk.path;
  ASSERT_OK_AND_ASSIGN(auto running, CountJob(a, kTotal).Build(options));
  ASSERT_OK(running->Start());
  options.local_dir = dir_.Sub("other-local");
  ASSERT_OK_AND_ASSIGN(auto second, CountJob(b, kTotal).Build(options));
  ASSERT_EQ(second->id(), running->id());
  EXPECT_THAT(second->Start(), StatusIs(Status::Code::kFailedPrecondition,
                                        HasSubstr("is in use by process " +
                                                  std::to_string(::getpid()))));
  EXPECT_EQ(second->status(), JobStatus::kFailed);
  EXPECT_FALSE(fs::exists(dir_.Sub("other-local")));

  // Once the first has ended, another may run.
  running->Cancel();
  running->Wait().IgnoreError();
  Harness c2;
  ASSERT_OK_AND_ASSIGN(auto third, CountJob(c2, kTotal).Build(options));
  ASSERT_OK(third->Start());
  third->Cancel();
  third->Wait().IgnoreError();
}

}  // namespace
}  // namespace weir::enginetest
