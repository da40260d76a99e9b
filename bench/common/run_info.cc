// SPDX-License-Identifier: Apache-2.0
#include "bench/common/run_info.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "bench/common/build_commit.h"

namespace weir::bench {

namespace {

// The first line of `path` that starts with `key`, after the ':'.
std::string ProcField(const char* path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) return "";
    const size_t start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "" : line.substr(start);
  }
  return "";
}

std::string FirstLine(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string Utc(const char* format) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), format, &tm);
  return buf;
}

// A JSON string literal of `s` (quotes and backslashes escaped; control
// bytes dropped).
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out + "\"";
}

}  // namespace

const char* BuildCommit() { return kBuildCommit; }

std::string CpuModel() { return ProcField("/proc/cpuinfo", "model name"); }

std::string MachineJson() {
  utsname u{};
  uname(&u);
  std::ostringstream o;
  o << "{\"host\":" << Quote(u.nodename) << ",\"kernel\":" << Quote(u.release)
    << ",\"arch\":" << Quote(u.machine)
    << ",\"cpu_model\":" << Quote(CpuModel())
    << ",\"cpus_online\":" << sysconf(_SC_NPROCESSORS_ONLN)
    << ",\"memory\":" << Quote(ProcField("/proc/meminfo", "MemTotal"))
    << ",\"loadavg\":" << Quote(FirstLine("/proc/loadavg"))
    << ",\"time\":" << Quote(Utc("%Y-%m-%d %H:%M:%S UTC")) << "}";
  return o.str();
}

std::string ResultsPath(const std::string& bench) {
  const char* dir = std::getenv("WEIR_BENCH_RESULTS");
  if (dir == nullptr || *dir == '\0') return "";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  return std::string(dir) + "/" + bench + "-" + Utc("%Y%m%dT%H%M%SZ") + "-" +
         BuildCommit() + ".json";
}

}  // namespace weir::bench
