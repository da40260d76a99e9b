// SPDX-License-Identifier: Apache-2.0
//
// What `weir list` prints, in the manner of `flink list`:
//
//   ------------------ Running/Restarting Jobs -------------------
//   17.11.2023 22:13:20 : 0123456789abcdef0123456789abcdef : word count
//   (RUNNING)
//   --------------------------------------------------------------
//
// or "No running jobs." when there are none. `weir list -a` adds a section
// "Terminated Jobs", where a job may have lines of its own, indented:
//
//   ---------------------- Terminated Jobs -----------------------
//   17.11.2023 22:13:20 : 0123456789abcdef0123456789abcdef : sums (FAILED)
//       ended 17.11.2023 22:14:02, exit code 1: job ... failed: ...
//       log: /run/user/1000/weir/0123456789abcdef0123456789abcdef.log
//   --------------------------------------------------------------
//
// Jobs are ordered by start time; times are local time (the TZ environment
// variable applies).
// Plain functions, safe to call from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <weir/job_info.h>

namespace weir::tools {

// "dd.MM.yyyy HH:mm:ss" in local time; "-" for 0 (not started).
std::string FormatStartTime(int64_t epoch_ms);

// A job as the listing shows it.
struct ListedJob {
  JobInfo info;
  // The state shown, when it is not JobStatusName(info.status) (LOST).
  std::string state;
  // Lines shown under the job's, indented; control characters are shown as
  // '?'.
  std::vector<std::string> details;
};

// The listing above, each line ending in '\n'. Jobs that are not terminal
// (CREATED, RUNNING, CANCELLING) are running; with `include_terminated`, a
// second section "Terminated Jobs" lists the others (or says "No terminated
// jobs.").
std::string FormatJobList(const std::vector<JobInfo>& jobs,
                          bool include_terminated = false);
std::string FormatListedJobs(const std::vector<ListedJob>& jobs,
                             bool include_terminated);

}  // namespace weir::tools
