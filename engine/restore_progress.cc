// SPDX-License-Identifier: Apache-2.0
#include "engine/restore_progress.h"

#include <algorithm>

namespace weir::engine {

void RestoreProgress::Begin(const std::string& path, const RestorePlan& plan,
                            int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  info_ = RestoreInfo{};
  info_.phase = RestoreInfo::Phase::kRestoring;
  info_.path = path;
  info_.tasks_total = static_cast<int>(plan.check.tasks.size());
  for (const RestoreCheck::Task& t : plan.check.tasks) {
    info_.files_total += t.files;
    info_.bytes_total += t.bytes;
  }
  info_.start_time_ms = now_ms;
  estimated_ms_ = plan.check.estimated_ms;
  tasks_done_.store(0, std::memory_order_relaxed);
  files_done_.store(0, std::memory_order_relaxed);
  bytes_done_.store(0, std::memory_order_relaxed);
}

void RestoreProgress::TaskDone(uint64_t files, uint64_t bytes) {
  files_done_.fetch_add(files, std::memory_order_relaxed);
  bytes_done_.fetch_add(bytes, std::memory_order_relaxed);
  tasks_done_.fetch_add(1, std::memory_order_relaxed);
}

void RestoreProgress::End(bool ok, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  if (info_.phase != RestoreInfo::Phase::kRestoring) return;
  info_.phase =
      ok ? RestoreInfo::Phase::kRestored : RestoreInfo::Phase::kFailed;
  info_.end_time_ms = now_ms;
}

RestoreInfo RestoreProgress::Get(int64_t now_ms) const {
  RestoreInfo out;
  int64_t estimated_ms = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out = info_;
    estimated_ms = estimated_ms_;
  }
  if (out.phase == RestoreInfo::Phase::kNone) return out;
  out.tasks_done = tasks_done_.load(std::memory_order_relaxed);
  out.files_done = files_done_.load(std::memory_order_relaxed);
  out.bytes_done = bytes_done_.load(std::memory_order_relaxed);
  if (out.phase != RestoreInfo::Phase::kRestoring) return out;
  const int64_t spent = std::max<int64_t>(0, now_ms - out.start_time_ms);
  if (out.bytes_done == 0 || out.bytes_done >= out.bytes_total) {
    out.estimated_ms_left =
        out.bytes_done == 0 ? std::max<int64_t>(0, estimated_ms - spent) : 0;
  } else {
    // The rest at the rate so far: spent * left / done.
    const double left = static_cast<double>(out.bytes_total - out.bytes_done);
    out.estimated_ms_left =
        static_cast<int64_t>(static_cast<double>(spent) * left /
                                 static_cast<double>(out.bytes_done) +
                             0.5);
  }
  return out;
}

}  // namespace weir::engine
