// SPDX-License-Identifier: Apache-2.0
//
// What a running job tells about itself: its id, its status, and per vertex
// (a chain of operators run by one set of tasks) its parallelism and record
// counts. The REST endpoint (`GET /jobs/:jobid`) and `weir list` print these.
// Plain values, safe to copy across threads.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <weir/result.h>
#include <weir/status.h>

namespace weir {

// 16 random bytes, printed as 32 lowercase hex digits (Flink's JobID).
class JobId {
 public:
  static constexpr size_t kSize = 16;

  JobId() = default;
  explicit JobId(const std::array<uint8_t, kSize>& bytes) : bytes_(bytes) {}

  // A new random id.
  static JobId Generate();
  // InvalidArgument unless `hex` is exactly 32 hex digits.
  static Result<JobId> FromHex(std::string_view hex);

  std::string ToHex() const;
  bool empty() const { return bytes_ == std::array<uint8_t, kSize>{}; }

  auto operator<=>(const JobId&) const = default;
  bool operator==(const JobId&) const = default;

 private:
  std::array<uint8_t, kSize> bytes_{};
};

// Flink's job states, as far as weir has them.
enum class JobStatus : uint8_t {
  kCreated,    // built, not started
  kRunning,    // tasks are running
  kFinished,   // every source was exhausted and every task finished
  kCanceling,  // Cancel() was called; tasks are stopping
  kCanceled,   // stopped by Cancel()
  kFailed,     // a task failed; JobInfo::failure says why
};

// "CREATED", "RUNNING", "FINISHED", "CANCELLING", "CANCELED", "FAILED"
// (Flink's spellings).
std::string_view JobStatusName(JobStatus status);
bool IsTerminal(JobStatus status);

struct OperatorInfo {
  std::string name;
  std::string uid;          // empty if the operator has none
  std::string operator_id;  // 32 hex digits
};

struct VertexInfo {
  // Flink-style vertex name: the chained operators' names joined by " -> ".
  std::string name;
  int parallelism = 1;
  std::vector<OperatorInfo> operators;  // chain order, head first
  // Records read from the vertex's input channels (0 for sources) and
  // records written to its output channels (0 for sinks), summed over its
  // subtasks.
  int64_t records_in = 0;
  int64_t records_out = 0;
  // Records dropped because they arrived after their windows were cleaned
  // up, and input records skipped as malformed (on-error: skip).
  int64_t late_records_dropped = 0;
  int64_t records_skipped = 0;
  // Subtasks not finished yet.
  int running_subtasks = 0;
  // RocksDB state: how many subtasks' backends read their SST files through
  // memory maps and how many with pread (RocksDBOptions::ReadMode, as the
  // default kAuto chose it at open or restore). Both 0 with the hashmap
  // backend and before the tasks opened their state.
  int state_read_mmap = 0;
  int state_read_pread = 0;
  // Connector gauges (OperatorContext::SetPendingRecords, SetSendTime): the
  // records the vertex's sources have not read yet, summed over its
  // subtasks, and the longest last send time of its sinks over its
  // subtasks, in microseconds. -1 when no subtask reports one.
  int64_t pending_records = -1;
  int64_t send_time_us = -1;
};

// One failure of a job: a task failed, or a restart could not start the
// tasks again. Failures that a restart followed are kept as well.
struct JobFailure {
  int64_t time_ms = 0;  // wall clock, when it failed (its first task)
  // The task that failed first, "<vertex name> (<subtask>/<parallelism>)";
  // empty for a restart that failed.
  std::string task;
  Status::Code code = Status::Code::kAborted;  // of the failure's Status
  std::string message;                         // the failure's message
};

// A restore of the job's state from a checkpoint or savepoint: at Start()
// (JobOptions::restore_from) or by a restart from the latest checkpoint
// (the last restore is shown). The totals are the restore plan's, as
// Job::CheckRestore reports them; files and bytes count as done when the
// task that restores them has its state backend, so they advance a task
// at a time.
struct RestoreInfo {
  enum class Phase : uint8_t {
    kNone,       // nothing restored: a fresh start
    kRestoring,  // the tasks' state backends are being restored
    kRestored,   // every task has its state
    kFailed,     // the restore failed (JobInfo::failures says why)
  };
  Phase phase = Phase::kNone;
  std::string path;  // the `_metadata` restored from
  int tasks_done = 0;
  int tasks_total = 0;  // of the job, restored from files or not
  uint64_t files_done = 0;
  uint64_t files_total = 0;
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
  int64_t start_time_ms = 0;  // wall clock
  int64_t end_time_ms = 0;    // 0 while restoring
  // While restoring, the time left in ms at the byte rate so far; before
  // any byte is done, the plan's estimate less the time spent. -1 when not
  // restoring.
  int64_t estimated_ms_left = -1;
};

// "NONE", "RESTORING", "RESTORED", "FAILED".
std::string_view RestorePhaseName(RestoreInfo::Phase phase);

// Failures a job keeps (JobInfo::failures); older ones are dropped.
inline constexpr size_t kJobFailuresKept = 16;

struct JobInfo {
  JobId id;
  std::string name;
  JobStatus status = JobStatus::kCreated;
  // Empty unless status is kFailed.
  std::string failure;
  // The job's failures, oldest first: the last kJobFailuresKept, restarted
  // ones included (the last is the cause of a kFailed status).
  std::vector<JobFailure> failures;
  int64_t start_time_ms = 0;  // wall clock; 0 before Start()
  int64_t end_time_ms = 0;    // 0 until the job is terminal
  int max_parallelism = 0;
  // "hashmap" or "rocksdb" (Flink's names); empty if unknown.
  std::string state_backend;
  std::vector<VertexInfo> vertices;  // topological order, sources first
  // Its last restore; phase kNone if it restored nothing.
  RestoreInfo restore;
};

}  // namespace weir
