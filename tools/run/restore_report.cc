// SPDX-License-Identifier: Apache-2.0
#include "tools/run/restore_report.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "tools/control/snapshot_info.h"
#include "tools/log/log.h"

namespace weir::tools {

namespace {

constexpr auto kPoll = std::chrono::milliseconds(250);
constexpr int64_t kQuietMs = 1000;       // nothing shown before
constexpr int64_t kPlainEveryMs = 5000;  // between lines off a terminal

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Seconds(int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f s", static_cast<double>(ms) / 1000);
  return buf;
}

// Writes all of `text` to stderr, bypassing the log's line format.
void WriteStderr(const std::string& text) {
  size_t off = 0;
  while (off < text.size()) {
    const ssize_t n =
        ::write(STDERR_FILENO, text.data() + off, text.size() - off);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

}  // namespace

std::string FormatRestoreProgress(const RestoreInfo& info) {
  std::string out = "Restoring: " + std::to_string(info.files_done) + "/" +
                    std::to_string(info.files_total) + " files, " +
                    HumanBytes(info.bytes_done) + " of " +
                    HumanBytes(info.bytes_total);
  if (info.bytes_total > 0) {
    out +=
        " (" + std::to_string(info.bytes_done * 100 / info.bytes_total) + "%)";
  }
  if (info.estimated_ms_left >= 0) {
    out += ", about " + std::to_string((info.estimated_ms_left + 999) / 1000) +
           " s left";
  }
  return out;
}

std::string FormatRestoreDone(const RestoreInfo& info) {
  const std::string spent =
      Seconds(std::max<int64_t>(0, info.end_time_ms - info.start_time_ms));
  if (info.phase == RestoreInfo::Phase::kFailed) {
    return "Restore failed after " + spent + " (" +
           std::to_string(info.files_done) + "/" +
           std::to_string(info.files_total) + " files restored)";
  }
  return "Restored " + std::to_string(info.files_done) + " files, " +
         HumanBytes(info.bytes_done) + " in " + spent;
}

RestoreReporter::RestoreReporter(const Job& job)
    : job_(job),
      terminal_(::isatty(STDERR_FILENO) == 1 &&
                log::CurrentStyle() != log::Style::kJournal),
      thread_([this] { Run(); }) {}

RestoreReporter::~RestoreReporter() { Finish(); }

void RestoreReporter::Run() {
  int64_t last_plain_ms = 0;
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, kPoll, [this] { return stop_; })) {
    const RestoreInfo info = job_.Info().restore;
    if (info.phase != RestoreInfo::Phase::kRestoring) continue;
    const int64_t now = NowMs();
    if (now - info.start_time_ms < kQuietMs) continue;
    if (!log::Enabled(log::Level::kInfo)) continue;
    if (terminal_) {
      WriteStderr("\r" + FormatRestoreProgress(info) + "\x1b[K");
      line_shown_ = true;
    } else if (now - last_plain_ms >= kPlainEveryMs) {
      last_plain_ms = now;
      log::Info(FormatRestoreProgress(info));
    }
  }
}

void RestoreReporter::Finish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (line_shown_) WriteStderr("\r\x1b[K");
  const RestoreInfo info = job_.Info().restore;
  if (info.phase == RestoreInfo::Phase::kRestored ||
      info.phase == RestoreInfo::Phase::kFailed) {
    log::Info(FormatRestoreDone(info));
  }
}

}  // namespace weir::tools
