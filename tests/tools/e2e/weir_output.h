// SPDX-License-Identifier: Apache-2.0
//
// Reading what the `weir` binary printed and left on disk, for the
// end-to-end tests.
#pragma once

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/tools/e2e/run_process.h"

namespace weir::e2e {

// The text after `prefix` up to the end of its line, or "".
inline std::string After(const std::string& text, const std::string& prefix) {
  const size_t at = text.find(prefix);
  if (at == std::string::npos) return "";
  const size_t start = at + prefix.size();
  return text.substr(start, text.find('\n', start) - start);
}

// Every file and directory under `root`.
inline std::set<std::string> Tree(const std::string& root) {
  std::set<std::string> out;
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(root, ec), end;
       !ec && it != end; it.increment(ec)) {
    out.insert(it->path().string());
  }
  return out;
}

// `weir` failing: exit 1, one error line on stderr that contains every one
// of `what`.
inline void ExpectOneErrorLine(const ProcessResult& r,
                               const std::vector<std::string>& what) {
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, ::testing::StartsWith("weir: error: "));
  for (const std::string& w : what) {
    EXPECT_THAT(r.err, ::testing::HasSubstr(w));
  }
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

}  // namespace weir::e2e
