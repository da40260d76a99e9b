// SPDX-License-Identifier: Apache-2.0
//
// Reading what the `weir` binary printed and left on disk, for the
// end-to-end tests.
#pragma once

#include <algorithm>
#include <filesystem>
#include <regex>
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

// The start of a line of level `level` ("DEBUG", "INFO ", "WARN ", "ERROR")
// as `weir` writes it to a file or pipe, as a regular expression: "<UTC
// time> <LEVEL> " in the log of `weir run`, "weir: error: " (warning,
// debug; nothing for INFO) from the other commands (tools/log/log.h).
inline std::string LogLinePrefix(const std::string& level) {
  // POSIX extended syntax (GoogleTest's matchers): plain groups, no empty
  // alternative.
  std::string command;
  if (level == "ERROR") command = "weir: error: ";
  if (level == "WARN ") command = "weir: warning: ";
  if (level == "DEBUG") command = "weir: debug: ";
  if (level.front() == '(') command = "weir: (error|warning|debug): ";
  const std::string timed =
      "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z " +
      level + " ";
  if (command.empty()) return "(" + timed + ")?";
  if (level.front() == '(') return "(" + timed + "|" + command + ")?";
  return "(" + timed + "|" + command + ")";
}

// Whether `text` has a line that is an ERROR line.
inline ::testing::Matcher<std::string> HasErrorLine() {
  return ::testing::ContainsRegex(LogLinePrefix("ERROR"));
}

// `weir` failing: exit 1, and one ERROR line on stderr that contains every
// one of `what`; other lines on stderr (INFO lines of what it did before the
// error) are log lines too.
inline void ExpectOneErrorLine(const ProcessResult& r,
                               const std::vector<std::string>& what) {
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const std::regex error_line(LogLinePrefix("ERROR") + ".*");
  const std::regex log_line(LogLinePrefix("(DEBUG|INFO |WARN )") + ".*");
  std::vector<std::string> errors;
  size_t start = 0;
  while (start < r.err.size()) {
    size_t end = r.err.find('\n', start);
    if (end == std::string::npos) end = r.err.size();
    const std::string line = r.err.substr(start, end - start);
    if (std::regex_match(line, error_line)) {
      errors.push_back(line);
    } else {
      EXPECT_TRUE(std::regex_match(line, log_line))
          << "not a log line: " << line;
    }
    start = end + 1;
  }
  ASSERT_EQ(errors.size(), 1u) << r.err;
  for (const std::string& w : what) {
    EXPECT_THAT(errors[0], ::testing::HasSubstr(w));
  }
  EXPECT_EQ(r.err.back(), '\n') << r.err;
}

}  // namespace weir::e2e
