// SPDX-License-Identifier: Apache-2.0
#include "lib/file.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <system_error>

#include <gtest/gtest.h>

namespace weir {
namespace {

namespace fs = std::filesystem;

// Gives each test its own empty directory, so tests may run in parallel.
class FileTest : public testing::Test {
 protected:
  void SetUp() override {
    const testing::TestInfo* info =
        testing::UnitTest::GetInstance()->current_test_info();
    dir_ = testing::TempDir() + "weir_" + info->test_suite_name() + "_" +
           info->name() + "_" + std::to_string(::getpid());
    std::error_code ec;
    fs::remove_all(dir_, ec);
    fs::create_directories(dir_, ec);
    ASSERT_FALSE(ec) << dir_ << ": " << ec.message();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  std::set<std::string> Entries() const {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      names.insert(entry.path().filename().string());
    }
    return names;
  }

  std::string dir_;
};

TEST_F(FileTest, AtomicWriteCreatesFile) {
  const std::string path = Path("_metadata");
  ASSERT_TRUE(AtomicWriteFile(path, "hello").ok());
  Result<std::string> data = ReadFileToString(path);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(*data, "hello");
  EXPECT_EQ(Entries(), std::set<std::string>{"_metadata"});
}

TEST_F(FileTest, AtomicWriteReplacesContent) {
  const std::string path = Path("f");
  ASSERT_TRUE(AtomicWriteFile(path, std::string(100000, 'a')).ok());
  ASSERT_TRUE(AtomicWriteFile(path, "short").ok());
  EXPECT_EQ(ReadFileToString(path).value_or(""), "short");
  ASSERT_TRUE(AtomicWriteFile(path, "").ok());
  Result<std::string> data = ReadFileToString(path);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*data, "");
  EXPECT_EQ(Entries(), std::set<std::string>{"f"});
}

TEST_F(FileTest, AtomicWriteKeepsBinaryData) {
  std::string data;
  for (int i = 0; i < 300000; ++i) data.push_back(static_cast<char>(i % 251));
  ASSERT_TRUE(AtomicWriteFile(Path("bin"), data).ok());
  EXPECT_EQ(ReadFileToString(Path("bin")).value_or(""), data);
}

TEST_F(FileTest, AtomicWriteOverStaleTmp) {
  // A crash may leave a `.tmp` sibling; the next write must not care.
  {
    std::ofstream stale(Path("f.tmp"));
    stale << "left over from a crash";
  }
  ASSERT_TRUE(AtomicWriteFile(Path("f"), "new").ok());
  EXPECT_EQ(ReadFileToString(Path("f")).value_or(""), "new");
  EXPECT_EQ(Entries(), std::set<std::string>{"f"});
}

TEST_F(FileTest, AtomicWriteIntoMissingDirectoryNamesPath) {
  const std::string path = Path("no/such/dir/_metadata");
  Status s = AtomicWriteFile(path, "x");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsNotFound() || s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find(path), std::string::npos) << s.ToString();
  EXPECT_TRUE(Entries().empty());
}

TEST_F(FileTest, FailedRenameKeepsTargetAndRemovesTmp) {
  // The target is a non-empty directory, so rename() fails after the
  // temporary file was written.
  const std::string path = Path("target");
  ASSERT_TRUE(CreateDirs(path + "/child").ok());
  Status s = AtomicWriteFile(path, "x");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(path), std::string::npos) << s.ToString();
  EXPECT_TRUE(fs::is_directory(path + "/child"));
  EXPECT_EQ(Entries(), std::set<std::string>{"target"});
}

TEST_F(FileTest, ReadMissingFileIsNotFound) {
  const std::string path = Path("missing");
  Result<std::string> data = ReadFileToString(path);
  ASSERT_FALSE(data.ok());
  EXPECT_TRUE(data.status().IsNotFound()) << data.status().ToString();
  EXPECT_NE(data.status().message().find(path), std::string::npos);
}

TEST_F(FileTest, ReadDirectoryIsInvalidArgument) {
  Result<std::string> data = ReadFileToString(dir_);
  ASSERT_FALSE(data.ok());
  EXPECT_TRUE(data.status().IsInvalidArgument()) << data.status().ToString();
  EXPECT_NE(data.status().message().find("not a regular file"),
            std::string::npos);
}

TEST_F(FileTest, CreateDirsMakesParents) {
  const std::string path = Path("a/b/c");
  ASSERT_TRUE(CreateDirs(path).ok());
  EXPECT_TRUE(fs::is_directory(path));
  // Idempotent.
  EXPECT_TRUE(CreateDirs(path).ok());
  EXPECT_TRUE(CreateDirs(dir_).ok());
}

TEST_F(FileTest, CreateDirsOnFileIsInvalidArgument) {
  const std::string file = Path("file");
  ASSERT_TRUE(AtomicWriteFile(file, "x").ok());
  Status s = CreateDirs(file);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find(file), std::string::npos) << s.ToString();

  Status below = CreateDirs(file + "/sub");
  EXPECT_TRUE(below.IsInvalidArgument()) << below.ToString();
  EXPECT_EQ(ReadFileToString(file).value_or(""), "x");
}

TEST_F(FileTest, SyncDir) {
  EXPECT_TRUE(SyncDir(dir_).ok());
  Status missing = SyncDir(Path("missing"));
  EXPECT_TRUE(missing.IsNotFound()) << missing.ToString();
}

}  // namespace
}  // namespace weir
