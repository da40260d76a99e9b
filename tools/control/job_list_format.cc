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

// `text` with control characters (a newline in a message) as '?'.
std::string OneLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

void AppendSection(const std::vector<const ListedJob*>& jobs,
                   const char* header, const char* none, std::string* out) {
  if (jobs.empty()) {
    *out += none;
    return;
  }
  *out += header;
  for (const ListedJob* job : jobs) {
    *out += FormatStartTime(job->info.start_time_ms);
    *out += " : ";
    *out += job->info.id.ToHex();
    *out += " : ";
    *out += job->info.name;
    *out += " (";
    *out += job->state.empty() ? std::string(JobStatusName(job->info.status))
                               : job->state;
    *out += ")\n";
    for (const std::string& line : job->details) {
      *out += "    " + OneLine(line) + "\n";
    }
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
  std::vector<ListedJob> listed;
  listed.reserve(jobs.size());
  for (const JobInfo& job : jobs) listed.push_back({job, "", {}});
  return FormatListedJobs(listed, include_terminated);
}

std::string FormatListedJobs(const std::vector<ListedJob>& jobs,
                             bool include_terminated) {
  std::vector<const ListedJob*> running;
  std::vector<const ListedJob*> terminated;
  for (const ListedJob& job : jobs) {
    (IsTerminal(job.info.status) ? terminated : running).push_back(&job);
  }
  const auto by_start = [](const ListedJob* a, const ListedJob* b) {
    if (a->info.start_time_ms != b->info.start_time_ms) {
      return a->info.start_time_ms < b->info.start_time_ms;
    }
    return a->info.id < b->info.id;
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
