// SPDX-License-Identifier: Apache-2.0
#include "lib/memory_limit.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include <gtest/gtest.h>

namespace weir {
namespace {

namespace fs = std::filesystem;

constexpr char kMeminfo[] =
    "MemTotal:       24576000 kB\n"
    "MemFree:         1000000 kB\n";
constexpr uint64_t kMachine = uint64_t{24576000} * 1024;

// A fake cgroup mount root, one per test.
class MemoryLimitTest : public testing::Test {
 protected:
  void SetUp() override {
    const testing::TestInfo* info =
        testing::UnitTest::GetInstance()->current_test_info();
    root_ = testing::TempDir() + "weir_memlimit_" + info->name() + "_" +
            std::to_string(::getpid());
    std::error_code ec;
    fs::remove_all(root_, ec);
    fs::create_directories(root_, ec);
    ASSERT_FALSE(ec) << root_;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  void Write(const std::string& rel, const std::string& text) {
    const fs::path p = fs::path(root_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  uint64_t Limit(const std::string& proc_cgroup) {
    return internal::MemoryLimitBytesFrom(proc_cgroup, kMeminfo, root_);
  }

  std::string root_;
};

TEST_F(MemoryLimitTest, NoCgroupIsTheMachinesMemory) {
  EXPECT_EQ(Limit(""), kMachine);
  EXPECT_EQ(Limit("0::/\n"), kMachine);
}

TEST_F(MemoryLimitTest, CgroupV1LimitOfTheProcessOrAnAncestor) {
  const std::string proc = "5:devices:/\n4:memory:/jobs/one\n1:cpu,cpuacct:/\n";
  Write("memory/memory.limit_in_bytes", "9223372036854771712\n");  // none
  Write("memory/jobs/memory.limit_in_bytes", "2147483648\n");
  Write("memory/jobs/one/memory.limit_in_bytes", "9223372036854771712\n");
  EXPECT_EQ(Limit(proc), uint64_t{2} << 30);
  Write("memory/jobs/one/memory.limit_in_bytes", "1073741824\n");
  EXPECT_EQ(Limit(proc), uint64_t{1} << 30);
}

TEST_F(MemoryLimitTest, CgroupV1ControllersListedTogether) {
  Write("memory/a/memory.limit_in_bytes", "1048576\n");
  EXPECT_EQ(Limit("3:cpu,memory:/a\n"), uint64_t{1} << 20);
}

TEST_F(MemoryLimitTest, CgroupV2MaxOfTheProcessOrAnAncestor) {
  Write("user.slice/memory.max", "max\n");
  Write("user.slice/app.scope/memory.max", "536870912\n");
  EXPECT_EQ(Limit("0::/user.slice/app.scope\n"), uint64_t{512} << 20);
  Write("user.slice/app.scope/memory.max", "max\n");
  EXPECT_EQ(Limit("0::/user.slice/app.scope\n"), kMachine);
}

TEST_F(MemoryLimitTest, ALimitAboveTheMachinesMemoryIsTheMachines) {
  Write("memory.max", "99999999999999\n");
  EXPECT_EQ(Limit("0::/\n"), kMachine);
}

TEST_F(MemoryLimitTest, UnreadableInputsAreIgnored) {
  Write("memory.max", "garbage\n");
  EXPECT_EQ(Limit("0::/\nnot a line\n4:memory:/missing\n"), kMachine);
  EXPECT_EQ(internal::MemoryLimitBytesFrom("", "", root_), 0u);
  Write("memory.max", "4096\n");
  EXPECT_EQ(internal::MemoryLimitBytesFrom("0::/\n", "", root_), 4096u);
}

TEST(ProcessMemoryLimit, IsSetAndAtMostTheMachinesMemory) {
  const uint64_t limit = ProcessMemoryLimitBytes();
  EXPECT_GT(limit, 0u);
  const uint64_t machine = internal::MemoryLimitBytesFrom(
      "", "MemTotal: " + std::to_string(uint64_t{1} << 50) + " kB\n",
      "/nonexistent");
  EXPECT_GE(machine, limit);
}

}  // namespace
}  // namespace weir
