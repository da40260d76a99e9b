// SPDX-License-Identifier: Apache-2.0
//
// Files the end-to-end tests write and read: a job's input, and the lines
// that its file sink committed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <system_error>

namespace weir::e2e {

inline void Write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

inline std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Lines of the committed (visible) part files in `dir`, as a multiset:
// staged and in-progress files start with a dot and are left out.
inline std::map<std::string, int> Committed(const std::string& dir) {
  std::map<std::string, int> lines;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().filename().string().rfind("part-", 0) != 0) continue;
    std::ifstream in(it->path());
    for (std::string line; std::getline(in, line);) ++lines[line];
  }
  return lines;
}

inline int64_t Count(const std::map<std::string, int>& lines) {
  int64_t n = 0;
  for (const auto& [line, k] : lines) n += k;
  return n;
}

}  // namespace weir::e2e
