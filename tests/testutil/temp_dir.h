// SPDX-License-Identifier: Apache-2.0
//
// TestDir: a fresh directory for the running test, so that tests (and
// concurrent runs from several build directories) never share files:
//
//   <testing::TempDir()>/weir-<suite>-<test>-<pid>
//
// with every character outside [A-Za-z0-9_-] of the suite and test names
// (e.g. the '/' of parameterized names) replaced by '_'. Create() removes a
// leftover and makes the directory empty; the destructor removes it unless
// the test failed, and then says where it was kept.
#pragma once

#include <string>
#include <string_view>

namespace weir::testutil {

class TestDir {
 public:
  TestDir() = default;
  TestDir(const TestDir&) = delete;
  TestDir& operator=(const TestDir&) = delete;
  ~TestDir();

  // REQUIRES: called from within a running test (SetUp or a test body).
  // Adds a fatal failure if the directory cannot be made.
  void Create();

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string Sub(std::string_view name) const;

 private:
  std::string path_;
};

// Replaces every character outside [A-Za-z0-9_-] by '_'.
std::string SanitizeForPath(std::string_view name);

}  // namespace weir::testutil
