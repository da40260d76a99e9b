// SPDX-License-Identifier: Apache-2.0
#include "tests/testutil/temp_dir.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <system_error>

#include <gtest/gtest.h>

namespace weir::testutil {

namespace fs = std::filesystem;

std::string SanitizeForPath(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!keep) c = '_';
  }
  return out;
}

void TestDir::Create() {
  const testing::TestInfo* info =
      testing::UnitTest::GetInstance()->current_test_info();
  ASSERT_NE(info, nullptr) << "TestDir::Create outside a test";
  std::string base = testing::TempDir();
  if (!base.empty() && base.back() != '/') base.push_back('/');
  path_ = base + "weir-" + SanitizeForPath(info->test_suite_name()) + "-" +
          SanitizeForPath(info->name()) + "-" + std::to_string(getpid());
  std::error_code ec;
  fs::remove_all(path_, ec);
  ASSERT_FALSE(ec) << "cannot remove " << path_ << ": " << ec.message();
  fs::create_directories(path_, ec);
  ASSERT_FALSE(ec) << "cannot create " << path_ << ": " << ec.message();
}

TestDir::~TestDir() {
  if (path_.empty()) return;
  if (testing::Test::HasFailure()) {
    std::fprintf(stderr, "test files kept in %s\n", path_.c_str());
    return;
  }
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string TestDir::Sub(std::string_view name) const {
  return path_ + "/" + std::string(name);
}

}  // namespace weir::testutil
