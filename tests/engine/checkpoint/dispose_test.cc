// SPDX-License-Identifier: Apache-2.0
//
// Disposing of savepoints deletes what the savepoint consists of and
// nothing else: a file not named `_metadata` or a directory that holds
// anything more is refused before anything goes; a copy of a native
// savepoint releases none of the files its original needs; a savepoint
// whose shared root is not a checkpoint storage creates and deletes
// nothing there.
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/checkpoint/metadata.h"
#include "tests/engine/checkpoint/count_job.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"
#include "weir/savepoint.h"

namespace weir::enginetest {
namespace {

namespace fs = std::filesystem;
using engine::CheckpointMetadata;
using engine::ReadMetadataFile;
using engine::ResolveStoredPath;
using engine::StoredFile;
using ::testing::HasSubstr;
using testutil::StatusIs;

constexpr int64_t kTotal = 4000;

// Every file and directory under `root`, relative to it.
std::set<std::string> Tree(const std::string& root) {
  std::set<std::string> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end;
       it.increment(ec)) {
    out.insert(fs::relative(it->path(), root).string());
  }
  return out;
}

// The files a snapshot names, resolved, that are missing.
std::set<std::string> MissingFiles(const std::string& dir) {
  std::set<std::string> missing;
  Result<CheckpointMetadata> m = ReadMetadataFile(dir);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (!m.ok()) return missing;
  for (const auto& t : m->tasks) {
    for (const StoredFile& f : t.files) {
      const std::string path = ResolveStoredPath(*m, dir, f);
      if (!fs::exists(path)) missing.insert(path);
    }
  }
  return missing;
}

class DisposeTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_.Create(); }

  JobOptions Options() const {
    JobOptions o;
    o.backend = JobOptions::Backend::kRocksDB;
    o.local_dir = dir_.Sub("local");
    o.checkpoints.dir = dir_.Sub("checkpoints");
    o.checkpoints.savepoint_dir = dir_.Sub("savepoints");
    o.checkpoints.num_retained = 1;
    return o;
  }

  // A savepoint of the count job at record 1500; the job keeps running in
  // job_.
  std::string TakeSavepoint(const SavepointOptions& sp) {
    const CheckpointStats stats =
        RunCountJobToSavepoint(run_, Options(), kTotal, 1500, sp, &job_);
    EXPECT_EQ(stats.state, CheckpointState::kCompleted);
    return stats.path;
  }

  // A self-contained savepoint of a job that is then cancelled.
  std::string SelfContainedSavepoint() {
    SavepointOptions sp;
    sp.self_contained = true;
    const std::string path = TakeSavepoint(sp);
    job_->Cancel();
    job_->Wait().IgnoreError();
    return path;
  }

  // dir_/d with a file and a folder of the user's and the savepoint's
  // `_metadata` copied in as `copy_name`.
  std::string UsersDirectoryWith(const std::string& savepoint,
                                 const std::string& copy_name) {
    const std::string d = dir_.Sub("d");
    Write(d + "/precious.txt", "precious");
    fs::create_directories(d + "/sub");
    fs::copy_file(savepoint + "/_metadata", d + "/" + copy_name);
    return d;
  }

  void Write(const std::string& path, const std::string& data) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << data;
  }

  testutil::TestDir dir_;
  Harness run_;
  std::unique_ptr<Job> job_;
};

TEST_F(DisposeTest, AFileNotNamedMetadataIsRefusedAndNothingIsDeleted) {
  const std::string path = SelfContainedSavepoint();
  const std::string d = UsersDirectoryWith(path, "backup-of-savepoint.meta");
  const std::set<std::string> before = Tree(d);

  EXPECT_THAT(DisposeSavepoint(d + "/backup-of-savepoint.meta"),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("give its directory or its _metadata")));
  EXPECT_EQ(Tree(d), before);
  EXPECT_TRUE(MissingFiles(path).empty());
}

TEST_F(DisposeTest, ADirectoryHoldingMoreThanTheSavepointIsRefused) {
  const std::string path = SelfContainedSavepoint();
  // A copied `_metadata` next to other files.
  const std::string d = UsersDirectoryWith(path, "_metadata");
  const std::set<std::string> before = Tree(d);
  for (const std::string& p : {d, d + "/_metadata"}) {
    Status s = DisposeSavepoint(p);
    EXPECT_THAT(s, StatusIs(Status::Code::kInvalidArgument,
                            HasSubstr("nothing was deleted")));
    EXPECT_THAT(std::string(s.message()), HasSubstr("precious.txt"));
    EXPECT_EQ(Tree(d), before);
  }

  // The savepoint itself with a file added to one of its task folders.
  const std::set<std::string> own = Tree(path);
  std::string task_dir;
  for (const std::string& e : own) {
    if (fs::is_directory(path + "/" + e)) task_dir = e;
  }
  ASSERT_FALSE(task_dir.empty());
  Write(path + "/" + task_dir + "/notes.txt", "mine");
  EXPECT_THAT(DisposeSavepoint(path),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr(task_dir + "/notes.txt")));
  EXPECT_TRUE(MissingFiles(path).empty());

  // Without the stranger, it goes, and only it.
  fs::remove(path + "/" + task_dir + "/notes.txt");
  ASSERT_OK(DisposeSavepoint(path));
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(fs::exists(dir_.Sub("savepoints")));
  EXPECT_EQ(Tree(d), before);
}

TEST_F(DisposeTest, DisposingACopyKeepsTheOriginalWhole) {
  const std::string original = TakeSavepoint({});  // native: shared files
  ASSERT_OK_AND_ASSIGN(CheckpointMetadata m, ReadMetadataFile(original));
  ASSERT_FALSE(m.shared_root.empty());
  ASSERT_EQ(m.savepoint_id.size(), 32u);
  const std::string copy =
      dir_.Sub("backup/") + fs::path(original).filename().string();
  fs::create_directories(dir_.Sub("backup"));
  fs::copy(original, copy, fs::copy_options::recursive);

  // The live state moves on (a full checkpoint uploads every file anew)
  // and pruning keeps one checkpoint: from now on only the savepoint's
  // registration holds its files.
  OpenGateAndWait(run_, 3500);
  for (int i = 0; i < 2; ++i) {
    ASSERT_OK_AND_ASSIGN(int64_t c, job_->TriggerCheckpoint(/*full=*/true));
    ASSERT_OK(job_->WaitForCheckpoint(c, 60s).status());
  }
  job_->Cancel();
  job_->Wait().IgnoreError();

  ASSERT_OK(DisposeSavepoint(copy));
  EXPECT_FALSE(fs::exists(copy));
  EXPECT_TRUE(MissingFiles(original).empty());
  EXPECT_TRUE(fs::exists(m.shared_root + "/savepoint-refs/" + m.savepoint_id));

  // The original restores, and disposing of it releases its files.
  Harness b;
  JobOptions options = Options();
  options.restore_from = original;
  ASSERT_OK_AND_ASSIGN(auto resumed, CountJob(b, kTotal).Build(options));
  b.gate->open.store(kTotal);
  ASSERT_OK(resumed->Start());
  ASSERT_OK(resumed->Wait());
  EXPECT_EQ(FinalCounts(b.out->values()), ExpectedCounts(kTotal));

  const std::set<std::string> before = Tree(m.shared_root + "/shared");
  ASSERT_OK(DisposeSavepoint(original));
  EXPECT_FALSE(fs::exists(original));
  EXPECT_FALSE(fs::exists(m.shared_root + "/savepoint-refs/" + m.savepoint_id));
  EXPECT_LT(Tree(m.shared_root + "/shared").size(), before.size());
}

TEST_F(DisposeTest, AForgedSharedRootIsLeftAlone) {
  const std::string path = TakeSavepoint({});
  job_->Cancel();
  job_->Wait().IgnoreError();
  ASSERT_OK_AND_ASSIGN(CheckpointMetadata m, ReadMetadataFile(path));
  const std::string real_root = m.shared_root;
  const std::set<std::string> real_before = Tree(real_root);

  // Pointing at a directory that is not a checkpoint storage.
  const std::string elsewhere = dir_.Sub("elsewhere");
  Write(elsewhere + "/keep.txt", "keep");
  const std::string forged = dir_.Sub("forged/savepoint-1");
  m.shared_root = elsewhere;
  ASSERT_OK(engine::WriteMetadataFile(forged, m));
  ASSERT_OK(DisposeSavepoint(forged));
  EXPECT_FALSE(fs::exists(forged));
  EXPECT_EQ(Tree(elsewhere), std::set<std::string>{"keep.txt"});

  // Pointing at the real storage with another savepoint id: nothing there
  // is released.
  m.shared_root = real_root;
  m.savepoint_id = std::string(32, 'e');
  ASSERT_OK(engine::WriteMetadataFile(forged, m));
  ASSERT_OK(DisposeSavepoint(forged));
  std::set<std::string> real_after = Tree(real_root);
  real_after.erase("LOCK");
  std::set<std::string> real_without_lock = real_before;
  real_without_lock.erase("LOCK");
  EXPECT_EQ(real_after, real_without_lock);
  EXPECT_TRUE(MissingFiles(path).empty());
}

}  // namespace
}  // namespace weir::enginetest
