// SPDX-License-Identifier: Apache-2.0
//
// The restore progress `weir run -s` prints while Job::Start() restores the
// tasks' state (JobInfo::restore). On a terminal, one line rewritten in
// place from the first second on:
//
//   Restoring: 12/40 files, 1.2 GiB of 4.0 GiB (30%), about 9 s left
//
// elsewhere (a log file, the journal) an INFO line every 5 s. Once the
// restore ended, whatever stderr is:
//
//   Restored 40 files, 4.0 GiB in 12.6 s
//
// Thread safety: one reporter per restore; its own thread polls the job.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include <weir/job.h>
#include <weir/job_info.h>

namespace weir::tools {

// "Restoring: 12/40 files, 1.2 GiB of 4.0 GiB (30%), about 9 s left".
std::string FormatRestoreProgress(const RestoreInfo& info);
// "Restored 40 files, 4.0 GiB in 12.6 s"; for a failed restore, "Restore
// failed after ...".
std::string FormatRestoreDone(const RestoreInfo& info);

class RestoreReporter {
 public:
  // Starts polling `job`, which must outlive the reporter.
  explicit RestoreReporter(const Job& job);
  // Finish() if not called.
  ~RestoreReporter();
  RestoreReporter(const RestoreReporter&) = delete;
  RestoreReporter& operator=(const RestoreReporter&) = delete;

  // Stops polling, then prints the final line if the job restored state.
  // Call once Job::Start() returned.
  void Finish();

 private:
  void Run();

  const Job& job_;
  const bool terminal_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool line_shown_ = false;  // a terminal line to clear; guarded by mu_
  std::thread thread_;
};

}  // namespace weir::tools
