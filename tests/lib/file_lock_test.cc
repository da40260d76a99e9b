// SPDX-License-Identifier: Apache-2.0
//
// FileLock: one holder at a time, the holder's pid readable by whoever
// finds it taken, released when the holder goes (also by SIGKILL).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "lib/file.h"
#include "tests/testutil/temp_dir.h"

namespace weir {
namespace {

class FileLockTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_.Create(); }
  testutil::TestDir dir_;
};

TEST_F(FileLockTest, OneHolderAtATime) {
  const std::string path = dir_.Sub("LOCK");
  std::unique_ptr<FileLock> first, second;
  int64_t holder = -1;
  ASSERT_TRUE(FileLock::TryAcquire(path, &first, &holder).ok());
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(holder, 0);

  // Taken (also within one process): no lock, and who holds it.
  ASSERT_TRUE(FileLock::TryAcquire(path, &second, &holder).ok());
  EXPECT_EQ(second, nullptr);
  EXPECT_EQ(holder, ::getpid());

  first.reset();
  ASSERT_TRUE(FileLock::TryAcquire(path, &second, &holder).ok());
  EXPECT_NE(second, nullptr);
}

TEST_F(FileLockTest, AKilledHolderReleasesIt) {
  const std::string path = dir_.Sub("LOCK");
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::unique_ptr<FileLock> lock;
    int64_t holder = 0;
    if (!FileLock::TryAcquire(path, &lock, &holder).ok() || !lock) _exit(1);
    const char byte = 1;
    if (::write(ready[1], &byte, 1) != 1) _exit(1);
    for (;;) ::pause();
  }
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  std::unique_ptr<FileLock> lock;
  int64_t holder = 0;
  ASSERT_TRUE(FileLock::TryAcquire(path, &lock, &holder).ok());
  EXPECT_EQ(lock, nullptr);
  EXPECT_EQ(holder, child);

  ::kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(FileLock::TryAcquire(path, &lock, &holder).ok());
  EXPECT_NE(lock, nullptr);
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST_F(FileLockTest, AMissingDirectoryIsAnError) {
  std::unique_ptr<FileLock> lock;
  int64_t holder = 0;
  Status s = FileLock::TryAcquire(dir_.Sub("missing/LOCK"), &lock, &holder);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_EQ(lock, nullptr);
}

}  // namespace
}  // namespace weir
