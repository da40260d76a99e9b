// SPDX-License-Identifier: Apache-2.0
#include "tools/control/job_list_format.h"

#include <time.h>

#include <algorithm>
#include <cstdio>

namespace weir::tools {

namespace {

constexpr char kRunningHeader[] =
    "------------------ Running/Restarting Jobs -------------------\n";
constexpr char kTerminatedHeader[] =
    "---------------------- Terminated Jobs -----------------------\n";
constexpr char kFooter[] =
    "--------------------------------------------------------------\n";

void AppendSection(const std::vector<const JobInfo*>& jobs, const char* header,
                   const char* none, std::string* out) {
  if (jobs.empty()) {
    *out += none;
    return;
  }
  *out += header;
  for (const JobInfo* job : jobs) {
    *out += FormatStartTime(job->start_time_ms);
    *out += " : ";
    *out += job->id.ToHex();
    *out += " : ";
    *out += job->name;
    *out += " (";
    *out += JobStatusName(job->status);
    *out += ")\n";
  }
  *out += kFooter;
}

}  // namespace

std::string FormatStartTime(int64_t epoch_ms) {
  if (epoch_ms <= 0) return "-";
  const time_t secs = static_cast<time_t>(epoch_ms / 1000);
  struct tm local;
  if (localtime_r(&secs, &local) == nullptr) return "-";
  char buf[32];
  const size_t n = strftime(buf, sizeof(buf), "%d.%m.%Y %H:%M:%S", &local);
  return n == 0 ? "-" : std::string(buf, n);
}

std::string FormatJobList(const std::vector<JobInfo>& jobs,
                          bool include_terminated) {
  std::vector<const JobInfo*> running;
  std::vector<const JobInfo*> terminated;
  for (const JobInfo& job : jobs) {
    (IsTerminal(job.status) ? terminated : running).push_back(&job);
  }
  const auto by_start = [](const JobInfo* a, const JobInfo* b) {
    if (a->start_time_ms != b->start_time_ms) {
      return a->start_time_ms < b->start_time_ms;
    }
    return a->id < b->id;
  };
  std::sort(running.begin(), running.end(), by_start);
  std::sort(terminated.begin(), terminated.end(), by_start);
  std::string out;
  AppendSection(running, kRunningHeader, "No running jobs.\n", &out);
  if (include_terminated) {
    AppendSection(terminated, kTerminatedHeader, "No terminated jobs.\n", &out);
  }
  return out;
}

}  // namespace weir::tools
