// SPDX-License-Identifier: Apache-2.0
//
// Reading files that come from outside: only regular files, never more
// than a bound (a FIFO, a device, a huge or growing file end in one error,
// not a hang or an abort), and the checks on names and paths given as text.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lib/file.h"
#include "lib/hash.h"
#include "tests/testutil/temp_dir.h"

namespace weir {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class FileInputTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_.Create(); }

  std::string Write(const std::string& name, const std::string& data) {
    const std::string path = dir_.Sub(name);
    std::ofstream(path, std::ios::binary) << data;
    return path;
  }

  testutil::TestDir dir_;
};

TEST_F(FileInputTest, AFifoIsRefusedWithoutWaitingForAWriter) {
  const std::string fifo = dir_.Sub("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Result<std::string> read = ReadFileToString(fifo);
  ASSERT_FALSE(read.ok());
  EXPECT_TRUE(read.status().IsInvalidArgument()) << read.status().ToString();
  EXPECT_THAT(std::string(read.status().message()),
              HasSubstr(fifo + " is not a regular file"));
  uint64_t size = 0, sum = 0;
  EXPECT_TRUE(ChecksumFile(fifo, 10, &size, &sum).IsInvalidArgument());
}

TEST_F(FileInputTest, ADeviceBehindASymlinkIsRefused) {
  const std::string link = dir_.Sub("zero");
  fs::create_symlink("/dev/zero", link);
  Result<std::string> read = ReadFileToString(link);
  ASSERT_FALSE(read.ok());
  EXPECT_TRUE(read.status().IsInvalidArgument()) << read.status().ToString();
  uint64_t size = 0, sum = 0;
  Status s = ChecksumFile(link, 1 << 20, &size, &sum);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
}

TEST_F(FileInputTest, AFileOverTheLimitIsRefusedBeforeItIsRead) {
  // Sparse: 600 MiB that take no space and would take 600 MiB of memory.
  const std::string huge = dir_.Sub("huge");
  const int fd = ::open(huge.c_str(), O_WRONLY | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 600ll << 20), 0);
  ::close(fd);
  Result<std::string> read = ReadFileToString(huge, 64 << 20);
  ASSERT_FALSE(read.ok());
  EXPECT_TRUE(read.status().IsInvalidArgument());
  EXPECT_THAT(std::string(read.status().message()),
              HasSubstr("larger than 67108864 bytes"));

  const std::string small = Write("small", std::string(101, 'x'));
  EXPECT_TRUE(ReadFileToString(small, 100).status().IsInvalidArgument());
  ASSERT_TRUE(ReadFileToString(small, 101).ok());
  EXPECT_EQ(ReadFileToString(small, 101)->size(), 101u);
}

TEST_F(FileInputTest, ChecksumReadsNoMoreThanTheExpectedSizePlusOne) {
  const std::string data(1000, 'a');
  const std::string path = Write("f", data);
  uint64_t size = 0, sum = 0;
  ASSERT_TRUE(ChecksumFile(path, 1000, &size, &sum).ok());
  EXPECT_EQ(size, 1000u);
  EXPECT_EQ(sum, Hash64(data));
  // Longer than expected: it stops one byte past, which tells the caller.
  ASSERT_TRUE(ChecksumFile(path, 10, &size, &sum).ok());
  EXPECT_EQ(size, 11u);
  ASSERT_TRUE(ChecksumFile(path, UINT64_MAX, &size, &sum).ok());
  EXPECT_EQ(size, 1000u);
}

TEST_F(FileInputTest, PlainFileNames) {
  for (const char* good : {"000012.sst", "_metadata", "a b", "..x", "x.."}) {
    EXPECT_TRUE(IsPlainFileName(good)) << good;
  }
  for (std::string bad : {"", ".", "..", "a/b", "/abs", "../up", "dir/"}) {
    EXPECT_FALSE(IsPlainFileName(bad)) << bad;
  }
  EXPECT_FALSE(IsPlainFileName(std::string("a\0b", 3)));
  EXPECT_TRUE(IsPlainFileName(std::string(255, 'n')));
  EXPECT_FALSE(IsPlainFileName(std::string(256, 'n')));
}

TEST_F(FileInputTest, PathTextRefusesWhatCannotNameAFile) {
  EXPECT_TRUE(CheckPathText("/tmp/savepoints", "dir").ok());
  EXPECT_TRUE(CheckPathText("relative/ü-日本", "dir").ok());
  const struct {
    std::string path;
    const char* says;
  } bad[] = {
      {"", "dir is empty"},
      {std::string("/tmp/x/a\0b", 10), "holds a NUL byte"},
      {"/tmp/a\nb", "holds a control character"},
      {"/tmp/\x7f", "holds a control character"},
      {"/tmp/\xff\xfe", "is not valid UTF-8"},
      {"/tmp/\xc0\xaf", "is not valid UTF-8"},      // overlong '/'
      {"/tmp/\xed\xa0\x80", "is not valid UTF-8"},  // a surrogate
      {"/tmp/\xe6\x97", "is not valid UTF-8"},      // cut short
      {std::string(4097, 'p'), "longer than 4096 bytes"},
  };
  for (const auto& b : bad) {
    Status s = CheckPathText(b.path, "dir");
    EXPECT_TRUE(s.IsInvalidArgument()) << QuoteForMessage(b.path);
    EXPECT_THAT(std::string(s.message()), HasSubstr(b.says));
    // The message shows the bytes, never a raw NUL or newline.
    EXPECT_EQ(std::string(s.message()).find('\0'), std::string::npos);
    EXPECT_EQ(std::string(s.message()).find('\n'), std::string::npos);
  }
  EXPECT_EQ(QuoteForMessage(std::string("a\0b", 3)), "'a\\x00b'");
}

}  // namespace
}  // namespace weir
