// SPDX-License-Identifier: Apache-2.0
#include "lib/memory_limit.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <optional>

#include "lib/file.h"

namespace weir {
namespace internal {
namespace {

// cgroup v1 reports "no limit" as a page-rounded INT64_MAX; anything this
// large is no limit.
constexpr uint64_t kNoLimitAbove = uint64_t{1} << 60;

std::optional<uint64_t> ParseU64(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    s.remove_suffix(1);
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return v;
}

// MemTotal of /proc/meminfo, in bytes.
std::optional<uint64_t> MemTotal(std::string_view meminfo) {
  constexpr std::string_view kKey = "MemTotal:";
  const size_t at = meminfo.find(kKey);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = meminfo.substr(at + kKey.size());
  rest = rest.substr(0, rest.find('\n'));
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  const size_t space = rest.find(' ');
  std::optional<uint64_t> kib = ParseU64(rest.substr(0, space));
  if (!kib) return std::nullopt;
  return *kib * 1024;
}

// The lowest limit in `file` of `dir` and of its ancestors up to `root`.
std::optional<uint64_t> LowestLimit(const std::filesystem::path& root,
                                    std::string_view cgroup_path,
                                    const char* file) {
  std::optional<uint64_t> lowest;
  std::filesystem::path dir = root;
  auto consider = [&](const std::filesystem::path& d) {
    Result<std::string> text = ReadFileToString((d / file).string());
    if (!text.ok()) return;
    std::optional<uint64_t> v = ParseU64(*text);  // "max" does not parse
    if (!v || *v >= kNoLimitAbove) return;
    if (!lowest || *v < *lowest) lowest = v;
  };
  consider(dir);
  size_t start = 0;
  while (start < cgroup_path.size()) {
    size_t end = cgroup_path.find('/', start);
    if (end == std::string_view::npos) end = cgroup_path.size();
    if (end > start) {
      dir /= std::string(cgroup_path.substr(start, end - start));
      consider(dir);
    }
    start = end + 1;
  }
  return lowest;
}

}  // namespace

uint64_t MemoryLimitBytesFrom(std::string_view proc_self_cgroup,
                              std::string_view meminfo,
                              const std::string& cgroup_root) {
  std::optional<uint64_t> limit = MemTotal(meminfo);
  auto lower = [&](std::optional<uint64_t> v) {
    if (v && (!limit || *v < *limit)) limit = v;
  };
  const std::filesystem::path root(cgroup_root);
  // Lines are "id:controllers:path"; v1's memory controller is listed by
  // name, v2's unified hierarchy has id 0 and no controllers.
  std::string_view rest = proc_self_cgroup;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest =
        nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    const size_t c1 = line.find(':');
    if (c1 == std::string_view::npos) continue;
    const size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    const std::string_view controllers = line.substr(c1 + 1, c2 - c1 - 1);
    const std::string_view path = line.substr(c2 + 1);
    if (controllers.empty()) {
      lower(LowestLimit(root, path, "memory.max"));
      continue;
    }
    size_t start = 0;
    while (start <= controllers.size()) {
      size_t end = controllers.find(',', start);
      if (end == std::string_view::npos) end = controllers.size();
      if (controllers.substr(start, end - start) == "memory") {
        lower(LowestLimit(root / "memory", path, "memory.limit_in_bytes"));
      }
      start = end + 1;
    }
  }
  return limit.value_or(0);
}

}  // namespace internal

uint64_t ProcessMemoryLimitBytes() {
  Result<std::string> cgroup = ReadFileToString("/proc/self/cgroup");
  Result<std::string> meminfo = ReadFileToString("/proc/meminfo");
  return internal::MemoryLimitBytesFrom(cgroup.ok() ? *cgroup : std::string(),
                                        meminfo.ok() ? *meminfo : std::string(),
                                        "/sys/fs/cgroup");
}

}  // namespace weir
