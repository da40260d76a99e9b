// SPDX-License-Identifier: Apache-2.0
//
// weir::ExportSavepoint: the copy names only files in its own directory,
// restores exactly after the original's checkpoint storage is deleted, and
// a failed export (a missing or damaged file, a target in use) leaves the
// input as it was and nothing behind.
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
constexpr int64_t kAt = 1500;

// Every file and directory under `root` with its size (0 for folders).
std::map<std::string, uintmax_t> Tree(const std::string& root) {
  std::map<std::string, uintmax_t> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end;
       it.increment(ec)) {
    out[fs::relative(it->path(), root).string()] =
        it->is_regular_file() ? it->file_size() : 0;
  }
  return out;
}

class ExportTest : public ::testing::TestWithParam<JobOptions::Backend> {
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

  // A native savepoint at record kAt of a job that is then cancelled.
  std::string NativeSavepoint() {
    Harness run;
    std::unique_ptr<Job> job;
    const CheckpointStats stats =
        RunCountJobToSavepoint(run, Options(), kTotal, kAt, {}, &job);
    EXPECT_EQ(stats.state, CheckpointState::kCompleted);
    job->Cancel();
    job->Wait().IgnoreError();
    return stats.path;
  }

  testutil::TestDir dir_;
};

TEST_P(ExportTest, TheCopyDependsOnNothingElseAndRestoresExactly) {
  const std::string sp = NativeSavepoint();
  const auto input_before = Tree(dir_.path());
  const std::string out = dir_.Sub("exported");
  ASSERT_OK(ExportSavepoint(sp, out));
  // The input is unchanged (the export only added its own directory).
  auto input_after = Tree(dir_.path());
  std::erase_if(input_after,
                [](const auto& e) { return e.first.starts_with("exported"); });
  EXPECT_EQ(input_after, input_before);

  ASSERT_OK_AND_ASSIGN(CheckpointMetadata original, ReadMetadataFile(sp));
  ASSERT_OK_AND_ASSIGN(CheckpointMetadata copy, ReadMetadataFile(out));
  EXPECT_TRUE(copy.shared_root.empty());
  EXPECT_EQ(copy.savepoint_dir, out);
  EXPECT_NE(copy.savepoint_id, original.savepoint_id);
  EXPECT_EQ(copy.kind, engine::SnapshotKind::kSavepoint);
  ASSERT_EQ(copy.tasks.size(), original.tasks.size());
  std::set<std::string> named;
  for (size_t t = 0; t < copy.tasks.size(); ++t) {
    ASSERT_EQ(copy.tasks[t].files.size(), original.tasks[t].files.size());
    for (size_t i = 0; i < copy.tasks[t].files.size(); ++i) {
      const StoredFile& f = copy.tasks[t].files[i];
      EXPECT_EQ(f.file.checksum, original.tasks[t].files[i].file.checksum);
      const std::string path = ResolveStoredPath(copy, out, f);
      EXPECT_TRUE(path.starts_with(out + "/")) << path;
      EXPECT_EQ(fs::file_size(path), f.file.size) << path;
      named.insert(fs::relative(path, out).string());
    }
  }
  // The directory holds what its metadata names, and nothing else.
  for (const auto& [entry, size] : Tree(out)) {
    if (size == 0 && fs::is_directory(out + "/" + entry)) continue;
    if (entry == "_metadata") continue;
    EXPECT_TRUE(named.count(entry)) << entry;
  }

  // Without the original and its job's storage, the copy restores.
  fs::remove_all(dir_.Sub("checkpoints"));
  fs::remove_all(dir_.Sub("savepoints"));
  Harness b;
  JobOptions options = Options();
  options.restore_from = out;
  ASSERT_OK_AND_ASSIGN(auto resumed, CountJob(b, kTotal).Build(options));
  b.gate->open.store(kTotal);
  ASSERT_OK(resumed->Start());
  ASSERT_OK(resumed->Wait());
  EXPECT_EQ(b.out->values().size(), static_cast<size_t>(kTotal - kAt));
  EXPECT_EQ(FinalCounts(b.out->values()), ExpectedCounts(kTotal));
}

TEST_P(ExportTest, AMissingOrDamagedFileFailsAndLeavesNothing) {
  const std::string sp = NativeSavepoint();
  ASSERT_OK_AND_ASSIGN(CheckpointMetadata m, ReadMetadataFile(sp));
  ASSERT_FALSE(m.tasks.empty());
  // The last file of the last task with files, so that others were
  // written before the failure.
  const StoredFile* victim = nullptr;
  for (const auto& t : m.tasks) {
    if (!t.files.empty()) victim = &t.files.back();
  }
  ASSERT_NE(victim, nullptr);
  const std::string path = ResolveStoredPath(m, sp, *victim);
  const std::string saved = dir_.Sub("saved-file");
  fs::copy_file(path, saved);

  // Damaged: same size, other bytes.
  fs::remove(path);
  {
    std::ifstream in(saved, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), {});
    data[data.size() / 2] ^= 0x5a;
    std::ofstream(path, std::ios::binary) << data;
  }
  const auto before = Tree(dir_.path());
  Status s = ExportSavepoint(sp, dir_.Sub("exported"));
  EXPECT_THAT(s, StatusIs(Status::Code::kCorruption));
  EXPECT_THAT(s.message(), HasSubstr(victim->file.name));
  EXPECT_FALSE(fs::exists(dir_.Sub("exported")));
  EXPECT_EQ(Tree(dir_.path()), before);

  // Missing; into an existing empty directory, which stays.
  fs::remove(path);
  fs::create_directories(dir_.Sub("empty"));
  s = ExportSavepoint(sp, dir_.Sub("empty"));
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(victim->file.name));
  EXPECT_TRUE(fs::is_directory(dir_.Sub("empty")));
  EXPECT_TRUE(fs::is_empty(dir_.Sub("empty")));
}

TEST_P(ExportTest, BadTargetsAndInputsAreRefused) {
  const std::string sp = NativeSavepoint();
  fs::create_directories(dir_.Sub("busy"));
  std::ofstream(dir_.Sub("busy/mine.txt")) << "mine";
  EXPECT_THAT(ExportSavepoint(sp, dir_.Sub("busy")),
              StatusIs(Status::Code::kInvalidArgument));
  EXPECT_EQ(Tree(dir_.Sub("busy")).size(), 1u);
  EXPECT_THAT(ExportSavepoint(sp, dir_.Sub("busy/mine.txt")),
              StatusIs(Status::Code::kInvalidArgument));
  EXPECT_THAT(ExportSavepoint(sp, ""),
              StatusIs(Status::Code::kInvalidArgument));
  EXPECT_THAT(ExportSavepoint(dir_.Sub("nothing"), dir_.Sub("x")),
              StatusIs(Status::Code::kNotFound));
  EXPECT_FALSE(fs::exists(dir_.Sub("x")));
  std::ofstream(dir_.Sub("foreign")) << "not a metadata file";
  EXPECT_FALSE(ExportSavepoint(dir_.Sub("foreign"), dir_.Sub("x")).ok());
  EXPECT_FALSE(fs::exists(dir_.Sub("x")));
}

INSTANTIATE_TEST_SUITE_P(Backends, ExportTest,
                         ::testing::Values(JobOptions::Backend::kMemory,
                                           JobOptions::Backend::kRocksDB),
                         [](const auto& info) {
                           return info.param == JobOptions::Backend::kMemory
                                      ? std::string("memory")
                                      : std::string("rocksdb");
                         });

}  // namespace
}  // namespace weir::enginetest
