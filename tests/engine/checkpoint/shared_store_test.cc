// SPDX-License-Identifier: Apache-2.0
//
// The shared-file store: uploads by hard link or copy, identity-based
// reuse, reference tracking, and that prune, sweep, abort and savepoint
// disposal delete exactly the files no retained snapshot needs, also after
// a restart.
#include "engine/checkpoint/shared_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/checkpoint/dispose.h"
#include "lib/file.h"
#include "lib/hash.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace weir::engine {
namespace {

namespace fs = std::filesystem;
using testing::HasSubstr;
using testutil::StatusIs;

class SharedStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_.Create();
    root_ = dir_.Sub("checkpoints/0123456789abcdef0123456789abcdef");
    local_ = dir_.Sub("local");
    ASSERT_OK(CreateDirs(local_));
  }

  // A file a backend left in its local snapshot directory.
  SnapshotFile LocalFile(const std::string& name, const std::string& content,
                         const std::string& subdir = "task0") {
    EXPECT_OK(CreateDirs(local_ + "/" + subdir));
    SnapshotFile f;
    f.name = name;
    f.local_path = local_ + "/" + subdir + "/" + name;
    EXPECT_OK(AtomicWriteFile(f.local_path, content));
    f.size = content.size();
    f.checksum = Hash64(content);
    f.column_family = "default";
    return f;
  }

  static CheckpointMetadata Checkpoint(uint64_t id,
                                       const std::vector<StoredFile>& files) {
    CheckpointMetadata m;
    m.job_id = *JobId::FromHex("0123456789abcdef0123456789abcdef");
    m.job_name = "test";
    m.checkpoint_id = id;
    TaskSnapshotMetadata task;
    task.key_group_range = {0, 127};
    task.max_parallelism = 128;
    task.files = files;
    m.tasks.push_back(task);
    return m;
  }

  // Uploads and commits checkpoint `id` with `files`.
  void TakeCheckpoint(SharedFileStore* store, uint64_t id,
                      const std::vector<SnapshotFile>& files,
                      UploadMode mode = UploadMode::kIncremental) {
    ASSERT_OK_AND_ASSIGN(UploadResult up, store->Upload(id, files, mode));
    ASSERT_OK(store->CommitCheckpoint(Checkpoint(id, up.files)));
  }

  // Files under shared/, by name.
  std::set<std::string> SharedFiles() const {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(root_ + "/shared")) {
      out.insert(e.path().filename().string());
    }
    return out;
  }

  // Every path under root, relative to it.
  std::set<std::string> Tree(const std::string& root) const {
    std::set<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      out.insert(fs::relative(e.path(), root).string());
    }
    return out;
  }

  // For every retained checkpoint, every file its metadata names exists
  // with the right size and checksum; returns the shared names they use.
  std::set<std::string> VerifyRetained(const SharedFileStore& store) {
    std::set<std::string> used;
    for (uint64_t id : store.CompletedCheckpoints()) {
      const std::string chk = store.CheckpointDir(id);
      Result<CheckpointMetadata> m = ReadMetadataFile(chk);
      EXPECT_OK(m);
      if (!m.ok()) continue;
      for (const TaskSnapshotMetadata& task : m->tasks) {
        for (const StoredFile& f : task.files) {
          const std::string path = ResolveStoredPath(*m, chk, f);
          Result<std::string> content = ReadFileToString(path);
          EXPECT_OK(content) << "chk-" << id << " needs " << path;
          if (!content.ok()) continue;
          EXPECT_EQ(content->size(), f.file.size) << path;
          EXPECT_EQ(Hash64(*content), f.file.checksum) << path;
          used.insert(f.path.substr(std::string("shared/").size()));
        }
      }
    }
    return used;
  }

  static ino_t Inode(const std::string& path) {
    struct stat st;
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_ino;
  }

  testutil::TestDir dir_;
  std::string root_;
  std::string local_;
};

TEST_F(SharedStoreTest, OpenCreatesTheLayout) {
  ASSERT_OK_AND_ASSIGN(auto store, SharedFileStore::Open(root_));
  EXPECT_TRUE(fs::is_directory(root_ + "/shared"));
  EXPECT_EQ(store->root(), root_);
  EXPECT_EQ(store->CheckpointDir(7), root_ + "/chk-7");
  EXPECT_TRUE(store->CompletedCheckpoints().empty());
}

TEST_F(SharedStoreTest, UploadHardLinksAndReferencesIdenticalContentOnce) {
  ASSERT_OK_AND_ASSIGN(auto store, SharedFileStore::Open(root_));
  const SnapshotFile a = LocalFile("000012.sst", std::string(5000, 'a'));
  const SnapshotFile b = LocalFile("000013.sst", std::string(3000, 'b'));
  ASSERT_OK_AND_ASSIGN(UploadResult first, store->Upload(1, {{a, b}}));
  EXPECT_EQ(first.files_uploaded, 2);
  EXPECT_EQ(first.files_linked, 2);
  EXPECT_EQ(first.bytes_uploaded, 8000u);
  EXPECT_EQ(first.bytes_referenced, 0u);
  ASSERT_EQ(first.files.size(), 2u);
  EXPECT_THAT(first.files[0].path, testing::StartsWith("shared/"));
  EXPECT_THAT(first.files[0].path, testing::EndsWith("-000012.sst"));
  EXPECT_EQ(first.files[0].file.name, "000012.sst");
  EXPECT_EQ(first.files[0].file.size, a.size);
  EXPECT_EQ(first.files[0].file.checksum, a.checksum);
  EXPECT_EQ(Inode(root_ + "/" + first.files[0].path), Inode(a.local_path));
  EXPECT_EQ(Inode(root_ + "/" + first.files[1].path), Inode(b.local_path));
  ASSERT_OK(store->CommitCheckpoint(Checkpoint(1, first.files)));

  // The next checkpoint: a is unchanged (a new local link with the same
  // content, in another task's folder), c is new.
  const SnapshotFile a2 =
      LocalFile("000012.sst", std::string(5000, 'a'), "task0-chk2");
  const SnapshotFile c = LocalFile("000020.sst", std::string(700, 'c'));
  ASSERT_OK_AND_ASSIGN(UploadResult second, store->Upload(2, {{a2, c}}));
  EXPECT_EQ(second.files_uploaded, 1);
  EXPECT_EQ(second.files_referenced, 1);
  EXPECT_EQ(second.bytes_uploaded, 700u);
  EXPECT_EQ(second.bytes_referenced, 5000u);
  EXPECT_EQ(second.files[0].path, first.files[0].path);
  ASSERT_OK(store->CommitCheckpoint(Checkpoint(2, second.files)));

  EXPECT_EQ(SharedFiles().size(), 3u);
  const auto refs = store->References();
  EXPECT_THAT(refs.at(first.files[0].path),
              testing::ElementsAre("chk-1", "chk-2"));
  EXPECT_THAT(refs.at(first.files[1].path), testing::ElementsAre("chk-1"));
  EXPECT_THAT(refs.at(second.files[1].path), testing::ElementsAre("chk-2"));
}

// RocksDB file numbers repeat across task DBs and restarts: the same
// original name with other content is another file.
TEST_F(SharedStoreTest, SameOriginalNameWithOtherContentIsAnotherFile) {
  ASSERT_OK_AND_ASSIGN(auto store, SharedFileStore::Open(root_));
  const SnapshotFile t0 = LocalFile("000009.sst", "task zero", "t0");
  const SnapshotFile t1 = LocalFile("000009.sst", "task one!", "t1");
  ASSERT_OK_AND_ASSIGN(UploadResult up, store->Upload(1, {{t0, t1}}));
  EXPECT_EQ(up.files_uploaded, 2);
  EXPECT_NE(up.files[0].path, up.files[1].path);
  EXPECT_EQ(SharedFiles().size(), 2u);
}

TEST_F(SharedStoreTest, CopiesWhenHardLinksAreOff) {
  SharedFileStore::Options options;
  options.hard_links = false;
  ASSERT_OK_AND_ASSIGN(auto store, SharedFileStore::Open(root_, options));
  const SnapshotFile a = LocalFile("1.sst", std::string(3 << 20, 'x'));
  ASSERT_OK_AND_ASSIGN(UploadResult up, store->Upload(1, {{a}}));
  EXPECT_EQ(up.files_uploaded, 1);
  EXPECT_EQ(up.files_linked, 0);
  const std::string stored = root_ + "/" + up.files[0].path;
  EXPECT_NE(Inode(stored), Inode(a.local_path));
  ASSERT_OK_AND_ASSIGN(std::string content, ReadFileToString(stored));
  EXPECT_EQ(Hash64(content), a.checksum);
  EXPECT_EQ(SharedFiles().size(), 1u);  // no .tmp left
}

// link(2) across file systems fails with EXDEV; the store copies instead.
TEST_F(SharedStoreTest, CopiesAcrossFileSystems) {
  struct stat shm, ours;
  if (::stat("/dev/shm", &shm) != 0 || ::stat(local_.c_str(), &ours) != 0 ||
      shm.st_dev == ours.st_dev) {
    GTEST_SKIP() << "no second file system at /dev/shm";
  }
  const std::string other =
      "/dev/shm/weir-ckpt-test-" + std::to_string(getpid());
  ASSERT_OK(CreateDirs(other));
  const std::string content(100000, 'e');
  SnapshotFile f;
  f.name = "3.sst";
  f.local_path = other + "/3.sst";
  ASSERT_OK(AtomicWriteFile(f.local_path, content));
  f.size = content.size();
  f.checksum = Hash64(content);
  ASSERT_OK_AND_ASSIGN(auto store, SharedFileStore::Open(root_));
  Result<UploadResult> up = store->Upload(1, {{f}});
  fs::remove_all(other);
  ASSERT_OK(up);
  EXPECT_EQ(up->files_uploaded, 1);
  EXPECT_EQ(up->files_linked, 0);
  ASSERT_OK_AND_ASSIGN(std::string stored,
                       ReadFileToString(root_ + "/" + up->files[0].path));
  EXPECT_EQ(stored, content);
}

TEST_F(SharedStoreTest, FullModeUploadsEverythingAnew) {
  ASSERT_OK_AND_ASSIGN(auto store, SharedFileStore::Open(root_));
  const SnapshotFile a = LocalFile("1.sst", "aaaa");
  TakeCheckpoint(store.get(), 1, {a});
  ASSERT_OK_AND_ASSIGN(UploadResult full,
                       store->Upload(2, {{a}}, UploadMode::kFull));
  EXPECT_EQ(full.files_uploaded, 1);
  EXPECT_EQ(full.files_referenced, 0);
  ASSERT_OK(store->CommitCheckpoint(Checkpoint(2, full.files)));
  EXPECT_EQ(SharedFiles().size(), 2u);
  // Later incremental checkpoints build on the fresh copy.
  ASSERT_OK_AND_ASSIGN(UploadResult next, store->Upload(3, {{a}}));
  EXPECT_EQ(next.files_referenced, 1);
  EXPECT_EQ(next.files[0].path, full.files[0].path);
  ASSERT_OK(store->CommitCheckpoint(Checkpoint(3, next.files)));
  ASSERT_OK(store->Prune(2).status());
  EXPECT_EQ(SharedFiles(), std::set<std::string>{full.files[0].path.substr(7)});
}

TEST_F(SharedStoreTest, WrongChecksumOrSizeIsCorruptionAndLeavesNothing) {
  for (const bool links : {true, false}) {
    SCOPED_TRACE(links ? "link" : "copy");
    SharedFileStore::Options options;
    options.hard_links = links;
    ASSERT_OK_AND_ASSIGN(auto store, SharedFileStore::Open(root_, options));
    SnapshotFile bad = LocalFile("5.sst", "contents");
    bad.checksum ^= 1;
    EXPECT_THAT(store->Upload(1, {{bad}}),
                StatusIs(Status::Code::kCorruption,
                         HasSubstr("checksum mismatch for " + bad.local_path)));
    SnapshotFile short_file = LocalFile("6.sst", "contents");
    short_file.size = 100;
    EXPECT_THAT(
        store->Upload(1, {{short_file}}),
        StatusIs(Status::Code::kCorruption,
                 HasSubstr(short_file.local_path + " has 8 bytes, the "
                                                   "snapshot says 100")));
    EXPECT_TRUE(SharedFiles().empty());
    ASSERT_OK(store->Abort(1));
  }
}

TEST_F(SharedStoreTest, MissingLocalFileNamesIt) {
  ASSERT_OK_AND_ASSIGN(auto store, SharedFileStore::Open(root_));
  SnapshotFile gone;
  gone.name = "7.sst";
  gone.local_path = local_ + "/nope/7.sst";
  EXPECT_THAT(store->Upload(1, {{gone}}),
              StatusIs(Status::Code::kNotFound, HasSubstr(gone.local_path)));
  gone.local_path.clear();
  EXPECT_THAT(store->Upload(1, {{gone}}),
              StatusIs(Status::Code::kInvalidArgument, HasSubstr("7.sst")));
}

// An LSM-like history: each checkpoint keeps some files, drops some and
// adds some. After every commit and prune, the retained checkpoints find
// all their files intact, and shared/ holds nothing else.
TEST_F(SharedStoreTest, PruneKeepsExactlyTheFilesRetainedCheckpointsNeed) {
  ASSERT_OK_AND_ASSIGN(auto store, SharedFileStore::Open(root_));
  std::vector<SnapshotFile> live;
  int next_file = 1;
  for (uint64_t id = 1; id <= 8; ++id) {
    // "Compaction": drop the two oldest files now and then.
    if (id % 3 == 0 && live.size() >= 2)
      live.erase(live.begin(), live.begin() + 2);
    for (int n = 0; n < 2; ++n, ++next_file) {
      live.push_back(
          LocalFile(std::to_string(next_file) + ".sst",
                    std::string(100 + next_file, 'a' + next_file % 26)));
    }
    TakeCheckpoint(store.get(), id, live);
    ASSERT_OK_AND_ASSIGN(DeletionResult pruned, store->Prune(2));
    if (id > 2) {
      EXPECT_THAT(pruned.checkpoints_removed, testing::ElementsAre(id - 2));
    }
    std::vector<uint64_t> want_retained;
    for (uint64_t r = id > 2 ? id - 1 : 1; r <= id; ++r)
      want_retained.push_back(r);
    EXPECT_EQ(store->CompletedCheckpoints(), want_retained);
    EXPECT_EQ(VerifyRetained(*store), SharedFiles()) << "after chk-" << id;
    EXPECT_FALSE(fs::exists(store->CheckpointDir(id - 2))) << id;
  }
  EXPECT_THAT(store->Prune(0), StatusIs(Status::Code::kInvalidArgument));
}

TEST_F(SharedStoreTest, SweepRemovesWhatACrashLeftAndNothingElse) {
  {
    ASSERT_OK_AND_ASSIGN(auto store, SharedFileStore::Open(root_));
    TakeCheckpoint(store.get(), 1,
                   {LocalFile("1.sst", "one"), LocalFile("2.sst", "two")});
    TakeCheckpoint(store.get(), 2,
                   {LocalFile("1.sst", "one"), LocalFile("3.sst", "three")});
    // Then the process dies in checkpoint 3: one file uploaded, another
    // being copied, the metadata being written.
    ASSERT_OK(store->Upload(3, {{LocalFile("4.sst", "four")}}).status());
  }
  ASSERT_OK(
      AtomicWriteFile(root_ + "/shared/00000000deadbeef-5.sst.tmp", "fi"));
  ASSERT_OK(CreateDirs(root_ + "/chk-3"));
  ASSERT_OK(AtomicWriteFile(root_ + "/chk-3/_metadata.tmp", "partial"));
  ASSERT_OK(CreateDirs(root_ + "/chk-11"));  // an empty one
  const std::set<std::string> before = SharedFiles();
  ASSERT_EQ(before.size(), 5u);

  ASSERT_OK_AND_ASSIGN(auto store, SharedFileStore::Open(root_));
  EXPECT_EQ(store->CompletedCheckpoints(), (std::vector<uint64_t>{1, 2}));
  ASSERT_OK_AND_ASSIGN(DeletionResult swept, store->Sweep());
  EXPECT_EQ(swept.files_removed, 2);  // 4.sst and the .tmp
  EXPECT_EQ(swept.directories_removed, 2);
  EXPECT_FALSE(fs::exists(root_ + "/chk-3"));
  EXPECT_FALSE(fs::exists(root_ + "/chk-11"));
  EXPECT_EQ(VerifyRetained(*store), SharedFiles());
  EXPECT_EQ(SharedFiles().size(), 3u);
  // A second sweep finds nothing.
  ASSERT_OK_AND_ASSIGN(DeletionResult again, store->Sweep());
  EXPECT_EQ(again.files_removed, 0);
  EXPECT_EQ(again.directories_removed, 0);
}

TEST_F(SharedStoreTest, SweepKeepsPendingUploads) {
  ASSERT_OK_AND_ASSIGN(auto store, SharedFileStore::Open(root_));
  ASSERT_OK_AND_ASSIGN(UploadResult up,
                       store->Upload(1, {{LocalFile("1.sst", "one")}}));
  ASSERT_OK(CreateDirs(store->CheckpointDir(1)));  // exclusive files go here
  ASSERT_OK_AND_ASSIGN(DeletionResult swept, store->Sweep());
  EXPECT_EQ(swept.files_removed, 0);
  EXPECT_EQ(swept.directories_removed, 0);
  ASSERT_OK(store->CommitCheckpoint(Checkpoint(1, up.files)));
  EXPECT_EQ(VerifyRetained(*store), SharedFiles());
}

// Sweep re-reads the metadata on disk: a complete checkpoint the store did
// not write itself still protects its files.
TEST_F(SharedStoreTest, SweepNeverDeletesFilesOfAnyCompleteCheckpoint) {
  ASSERT_OK_AND_ASSIGN(auto store, SharedFileStore::Open(root_));
  ASSERT_OK(AtomicWriteFile(root_ + "/shared/0000000000000001-9.sst", "nine"));
  StoredFile f;
  f.file.name = "9.sst";
  f.path = "shared/0000000000000001-9.sst";
  f.file.size = 4;
  f.file.checksum = Hash64("nine");
  ASSERT_OK(WriteMetadataFile(root_ + "/chk-40", Checkpoint(40, {f})));
  ASSERT_OK_AND_ASSIGN(DeletionResult swept, store->Sweep());
  EXPECT_EQ(swept.files_removed, 0);
  EXPECT_EQ(store->CompletedCheckpoints(), (std::vector<uint64_t>{40}));
  EXPECT_EQ(VerifyRetained(*store), SharedFiles());
}

TEST_F(SharedStoreTest, UnreadableMetadataStopsAllDeletion) {
  {
    ASSERT_OK_AND_ASSIGN(auto store, SharedFileStore::Open(root_));
    TakeCheckpoint(store.get(), 1, {LocalFile("1.sst", "one")});
    TakeCheckpoint(store.get(), 2, {LocalFile("2.sst", "two")});
    TakeCheckpoint(store.get(), 3, {LocalFile("3.sst", "three")});
  }
  ASSERT_OK(
      AtomicWriteFile(root_ + "/shared/00000000000000ff-x.sst", "orphan"));
  ASSERT_OK(AtomicWriteFile(root_ + "/chk-2/_metadata", "WEIRMETA garbage"));
  ASSERT_OK_AND_ASSIGN(auto store, SharedFileStore::Open(root_));
  EXPECT_THAT(store->unreadable_metadata(),
              testing::ElementsAre(root_ + "/chk-2/_metadata"));
  EXPECT_THAT(store->Sweep(),
              StatusIs(Status::Code::kCorruption,
                       HasSubstr(root_ + "/chk-2/_metadata cannot be read")));
  ASSERT_OK(store->Prune(1).status());
  EXPECT_EQ(SharedFiles().size(), 4u);  // chk-1's file and the orphan stay
}

// A store rebuilt from the directory after a restart makes the same
// decisions as the one that wrote it.
TEST_F(SharedStoreTest, RestartRebuildsTheSameTracking) {
  ASSERT_OK_AND_ASSIGN(auto store, SharedFileStore::Open(root_));
  std::vector<SnapshotFile> live;
  for (uint64_t id = 1; id <= 5; ++id) {
    if (id == 4) live.erase(live.begin());
    live.push_back(
        LocalFile(std::to_string(id) + ".sst", std::string(id * 10, 'q')));
    TakeCheckpoint(store.get(), id, live);
  }
  const std::string copy_root =
      dir_.Sub("copy/0123456789abcdef0123456789abcdef");
  fs::create_directories(copy_root);
  fs::copy(root_, copy_root, fs::copy_options::recursive);

  ASSERT_OK_AND_ASSIGN(auto restarted, SharedFileStore::Open(copy_root));
  EXPECT_EQ(restarted->CompletedCheckpoints(), store->CompletedCheckpoints());
  EXPECT_EQ(restarted->References(), store->References());

  ASSERT_OK_AND_ASSIGN(DeletionResult a, store->Prune(2));
  ASSERT_OK_AND_ASSIGN(DeletionResult b, restarted->Prune(2));
  EXPECT_EQ(a.checkpoints_removed, b.checkpoints_removed);
  EXPECT_EQ(a.files_removed, b.files_removed);
  EXPECT_GT(a.files_removed, 0);
  EXPECT_EQ(Tree(root_), Tree(copy_root));
  EXPECT_EQ(restarted->References(), store->References());

  // Deduplication survives the restart too.
  ASSERT_OK_AND_ASSIGN(UploadResult up, restarted->Upload(6, live));
  EXPECT_EQ(up.files_uploaded, 0);
  EXPECT_EQ(up.files_referenced, static_cast<int>(live.size()));
}

TEST_F(SharedStoreTest, AbortRemovesPartialUploads) {
  ASSERT_OK_AND_ASSIGN(auto store, SharedFileStore::Open(root_));
  const SnapshotFile a = LocalFile("1.sst", "one");
  TakeCheckpoint(store.get(), 1, {a});
  const std::set<std::string> after_one = SharedFiles();
  ASSERT_OK_AND_ASSIGN(UploadResult up,
                       store->Upload(2, {{a, LocalFile("2.sst", "two")}}));
  EXPECT_EQ(up.files_referenced, 1);
  EXPECT_EQ(SharedFiles().size(), 2u);
  ASSERT_OK(CreateDirs(store->CheckpointDir(2)));
  ASSERT_OK(store->Abort(2));
  EXPECT_EQ(SharedFiles(), after_one);
  EXPECT_FALSE(fs::exists(store->CheckpointDir(2)));
  EXPECT_EQ(VerifyRetained(*store), after_one);

  EXPECT_THAT(store->Upload(2, {{a}}), StatusIs(Status::Code::kAborted));
  EXPECT_THAT(store->CommitCheckpoint(Checkpoint(2, up.files)),
              StatusIs(Status::Code::kAborted));
  EXPECT_THAT(store->Abort(1), StatusIs(Status::Code::kInvalidArgument));
  // The next checkpoint works.
  TakeCheckpoint(store.get(), 3, {a, LocalFile("3.sst", "three")});
  EXPECT_EQ(VerifyRetained(*store), SharedFiles());
}

TEST_F(SharedStoreTest, CommitDropsUnusedPendingFilesAndRejectsUnknownOnes) {
  ASSERT_OK_AND_ASSIGN(auto store, SharedFileStore::Open(root_));
  ASSERT_OK_AND_ASSIGN(UploadResult up,
                       store->Upload(1, {{LocalFile("1.sst", "one"),
                                          LocalFile("2.sst", "two")}}));
  StoredFile unknown = up.files[0];
  unknown.path = "shared/ffffffffffffffff-1.sst";
  EXPECT_THAT(store->CommitCheckpoint(Checkpoint(1, {unknown})),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("names shared/ffffffffffffffff-1.sst")));
  StoredFile elsewhere = up.files[0];
  elsewhere.path = "chk-9/1.sst";
  EXPECT_THAT(store->CommitCheckpoint(Checkpoint(1, {elsewhere})),
              StatusIs(Status::Code::kInvalidArgument));
  EXPECT_FALSE(fs::exists(store->CheckpointDir(1) + "/_metadata"));
  ASSERT_OK(store->CommitCheckpoint(Checkpoint(1, {up.files[0]})));
  EXPECT_EQ(SharedFiles(), std::set<std::string>{up.files[0].path.substr(7)});
  EXPECT_THAT(store->CommitCheckpoint(Checkpoint(1, {up.files[0]})),
              StatusIs(Status::Code::kInvalidArgument));
}

TEST_F(SharedStoreTest, NativeSavepointProtectsItsSharedFiles) {
  ASSERT_OK_AND_ASSIGN(auto store, SharedFileStore::Open(root_));
  const SnapshotFile a = LocalFile("1.sst", "aaa");
  const SnapshotFile b = LocalFile("2.sst", "bbb");
  TakeCheckpoint(store.get(), 1, {a, b});
  ASSERT_OK_AND_ASSIGN(UploadResult sp_files,
                       store->Upload(2, {{a, LocalFile("3.sst", "ccc")}}));
  CheckpointMetadata sp = Checkpoint(2, sp_files.files);
  sp.kind = SnapshotKind::kSavepoint;
  const std::string sp_dir =
      dir_.Sub("savepoints/savepoint-012345-abcdef012345");
  ASSERT_OK(store->CommitSavepoint(sp, sp_dir));
  ASSERT_OK_AND_ASSIGN(CheckpointMetadata written, ReadMetadataFile(sp_dir));
  EXPECT_EQ(written.shared_root, root_);
  // Given an id and its directory, and registered by the id.
  EXPECT_EQ(written.savepoint_id.size(), 32u);
  EXPECT_EQ(written.savepoint_dir, sp_dir);
  EXPECT_TRUE(fs::exists(root_ + "/savepoint-refs/" + written.savepoint_id));

  TakeCheckpoint(store.get(), 3, {LocalFile("4.sst", "ddd")});
  ASSERT_OK(store->Prune(1).status());
  // a and c stay for the savepoint, b went with chk-1.
  const std::set<std::string> want = {sp_files.files[0].path.substr(7),
                                      sp_files.files[1].path.substr(7)};
  std::set<std::string> with_chk3 = want;
  with_chk3.merge(VerifyRetained(*store));
  EXPECT_EQ(SharedFiles(), with_chk3);
  for (const StoredFile& f : written.tasks[0].files) {
    EXPECT_TRUE(fs::exists(ResolveStoredPath(written, sp_dir, f))) << f.path;
  }

  // After a restart the savepoint still protects them.
  store.reset();
  ASSERT_OK_AND_ASSIGN(store, SharedFileStore::Open(root_));
  ASSERT_OK(store->Sweep().status());
  EXPECT_EQ(SharedFiles(), with_chk3);
  EXPECT_THAT(store->References().at(sp_files.files[0].path),
              testing::ElementsAre(written.savepoint_id));

  EXPECT_THAT(DisposeSavepoint(root_ + "/chk-3", store.get()),
              StatusIs(Status::Code::kInvalidArgument));
  ASSERT_OK(DisposeSavepoint(sp_dir, store.get()));
  EXPECT_FALSE(fs::exists(sp_dir));
  EXPECT_FALSE(fs::exists(root_ + "/savepoint-refs/" + written.savepoint_id));
  EXPECT_EQ(SharedFiles(), VerifyRetained(*store));
  EXPECT_EQ(SharedFiles().size(), 1u);
  EXPECT_THAT(DisposeSavepoint(sp_dir, store.get()),
              StatusIs(Status::Code::kNotFound));
}

// The path a coordinator takes: backend snapshot -> upload -> task record
// -> commit; and back for restore: the backend sees every file at its
// place in the storage, with the fields it reported.
TEST_F(SharedStoreTest, BackendSnapshotRoundTripsThroughTheStore) {
  ASSERT_OK_AND_ASSIGN(auto store, SharedFileStore::Open(root_));
  BackendSnapshot snap;
  snap.format = SnapshotFormat::kRocksDBSst;
  snap.max_parallelism = 128;
  snap.key_group_range = {32, 63};
  snap.sequence_number = 991;
  snap.files.push_back(LocalFile("000007.sst", "seven"));
  snap.files.back().level = 6;
  snap.files.back().smallest_key = "k1";
  snap.files.back().largest_key = "k9";
  snap.files.back().largest_seqno = 990;
  snap.files.push_back(LocalFile("op-kg00001.zst", "stream"));
  snap.files.back().operator_id = std::string(32, 'a');
  snap.files.back().key_group = 1;
  ASSERT_OK_AND_ASSIGN(UploadResult up, store->Upload(5, snap.files));
  CheckpointMetadata m = Checkpoint(5, {});
  m.tasks = {
      MakeTaskSnapshot(2, 1, {OperatorId::FromUid("x")}, snap, up.files)};
  ASSERT_OK(store->CommitCheckpoint(m));

  ASSERT_OK_AND_ASSIGN(CheckpointMetadata read,
                       ReadMetadataFile(store->CheckpointDir(5)));
  ASSERT_EQ(read.tasks.size(), 1u);
  EXPECT_EQ(read.tasks[0].vertex_index, 2);
  EXPECT_EQ(read.tasks[0].subtask_index, 1);
  const BackendSnapshot restored =
      ToBackendSnapshot(read, store->CheckpointDir(5), read.tasks[0]);
  EXPECT_EQ(restored.format, snap.format);
  EXPECT_EQ(restored.max_parallelism, 128);
  EXPECT_EQ(restored.key_group_range, snap.key_group_range);
  EXPECT_EQ(restored.sequence_number, 991u);
  ASSERT_EQ(restored.files.size(), 2u);
  for (size_t i = 0; i < restored.files.size(); ++i) {
    SnapshotFile want = snap.files[i];
    want.local_path = root_ + "/" + up.files[i].path;
    const SnapshotFile& got = restored.files[i];
    EXPECT_EQ(got.local_path, want.local_path);
    EXPECT_EQ(
        std::tie(got.name, got.size, got.checksum, got.column_family, got.level,
                 got.smallest_key, got.largest_key, got.smallest_seqno,
                 got.largest_seqno, got.operator_id, got.key_group),
        std::tie(want.name, want.size, want.checksum, want.column_family,
                 want.level, want.smallest_key, want.largest_key,
                 want.smallest_seqno, want.largest_seqno, want.operator_id,
                 want.key_group));
    EXPECT_TRUE(fs::exists(got.local_path));
  }
}

TEST_F(SharedStoreTest, ConcurrentUploadsOfOneCheckpoint) {
  ASSERT_OK_AND_ASSIGN(auto store, SharedFileStore::Open(root_));
  constexpr int kTasks = 4;
  std::vector<std::vector<SnapshotFile>> files(kTasks);
  for (int task = 0; task < kTasks; ++task) {
    const std::string sub = "t" + std::to_string(task);
    files[task].push_back(LocalFile("1.sst", "common", sub));
    for (int i = 0; i < 10; ++i) {
      files[task].push_back(LocalFile(
          std::to_string(i + 2) + ".sst",
          sub + "-" + std::string(static_cast<size_t>(i) * 100, 'z'), sub));
    }
  }
  std::vector<Result<UploadResult>> results(kTasks, Status::Aborted("unset"));
  std::vector<std::thread> threads;
  for (int task = 0; task < kTasks; ++task) {
    threads.emplace_back(
        [&, task] { results[task] = store->Upload(1, files[task]); });
  }
  for (std::thread& t : threads) t.join();
  CheckpointMetadata m = Checkpoint(1, {});
  m.tasks.clear();
  for (int task = 0; task < kTasks; ++task) {
    ASSERT_OK(results[task]);
    TaskSnapshotMetadata t;
    t.subtask_index = task;
    t.files = results[task]->files;
    m.tasks.push_back(t);
  }
  ASSERT_OK(store->CommitCheckpoint(m));
  EXPECT_EQ(VerifyRetained(*store), SharedFiles());
  EXPECT_GE(SharedFiles().size(), static_cast<size_t>(kTasks * 10 + 1));
}

}  // namespace
}  // namespace weir::engine
