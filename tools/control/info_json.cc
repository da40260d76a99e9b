// SPDX-License-Identifier: Apache-2.0
#include "tools/control/info_json.h"

#include <algorithm>
#include <climits>
#include <utility>

namespace weir::tools {

namespace {

using nlohmann::json;

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Flink's slot-sharing count: a job needs as many slots as its widest
// vertex has subtasks.
int64_t SlotsOf(const JobInfo& job) {
  int64_t slots = 0;
  for (const VertexInfo& v : job.vertices) {
    slots = std::max<int64_t>(slots, v.parallelism);
  }
  return slots;
}

// Flink's class names for weir's state backends.
std::string StateBackendClass(std::string_view backend) {
  if (backend == "rocksdb") return "EmbeddedRocksDBStateBackend";
  if (backend == "hashmap") return "HashMapStateBackend";
  return std::string(backend);
}

json FailureEntry(const JobFailure& f) {
  return json{
      {"exceptionName", ExceptionName(f.code)},
      {"stacktrace", f.message},
      {"timestamp", f.time_ms},
      {"taskName", f.task.empty() ? json(nullptr) : json(f.task)},
      {"endpoint", nullptr},
      {"taskManagerId", nullptr},
      {"failureLabels", json::object()},
      {"concurrentExceptions", json::array()},
  };
}

}  // namespace

std::map<std::string, std::string> HideSecrets(
    std::map<std::string, std::string> config) {
  static constexpr std::string_view kSecretWords[] = {"token", "password",
                                                      "secret", "apikey"};
  for (auto& [key, value] : config) {
    const std::string lower = Lower(key);
    for (std::string_view word : kSecretWords) {
      if (lower.find(word) != std::string::npos) {
        value = kHiddenValue;
        break;
      }
    }
  }
  return config;
}

json ClusterOverviewToJson(const std::vector<JobInfo>& jobs,
                           std::string_view version, std::string_view commit) {
  int64_t slots_total = 0;
  int64_t slots_available = 0;
  int64_t running = 0, finished = 0, cancelled = 0, failed = 0;
  for (const JobInfo& job : jobs) {
    const int64_t slots = SlotsOf(job);
    slots_total += slots;
    switch (job.status) {
      case JobStatus::kFinished:
        ++finished;
        slots_available += slots;
        break;
      case JobStatus::kCanceled:
        ++cancelled;
        slots_available += slots;
        break;
      case JobStatus::kFailed:
        ++failed;
        slots_available += slots;
        break;
      default:  // created, running, cancelling: not globally terminal
        ++running;
        break;
    }
  }
  return json{
      {"taskmanagers", 1},           {"taskmanagers-blocked", 0},
      {"slots-total", slots_total},  {"slots-available", slots_available},
      {"slots-free-and-blocked", 0}, {"jobs-running", running},
      {"jobs-finished", finished},   {"jobs-cancelled", cancelled},
      {"jobs-failed", failed},       {"flink-version", version},
      {"flink-commit", commit},
  };
}

std::string RestartStrategyDescription(const RestartOptions& restart) {
  if (restart.attempts <= 0) return "Restart deactivated.";
  return "Restart with fixed delay (" + std::to_string(restart.delay_ms) +
         " ms). #" + std::to_string(restart.attempts) + " restart attempts.";
}

json JobConfigToJson(const JobInfo& job, const JobSettings& settings) {
  json user_config = json::object();
  for (const auto& [key, value] : settings.config) user_config[key] = value;
  return json{
      {"jid", job.id.ToHex()},
      {"name", job.name},
      {"execution-config",
       {
           {"execution-mode", "PIPELINED"},
           {"restart-strategy", RestartStrategyDescription(settings.restart)},
           {"job-parallelism", settings.parallelism},
           {"object-reuse-mode", false},
           {"user-config", std::move(user_config)},
       }},
  };
}

std::string ExceptionName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk:
      return "weir.OK";
    case Status::Code::kNotFound:
      return "weir.NotFound";
    case Status::Code::kInvalidArgument:
      return "weir.InvalidArgument";
    case Status::Code::kCorruption:
      return "weir.Corruption";
    case Status::Code::kIOError:
      return "weir.IOError";
    case Status::Code::kNotSupported:
      return "weir.NotSupported";
    case Status::Code::kAborted:
      return "weir.Aborted";
    case Status::Code::kFailedPrecondition:
      return "weir.FailedPrecondition";
    case Status::Code::kDeadlineExceeded:
      return "weir.DeadlineExceeded";
    case Status::Code::kResourceExhausted:
      return "weir.ResourceExhausted";
  }
  return "weir.Unknown";
}

json JobExceptionsToJson(const JobInfo& job, size_t max_exceptions) {
  json entries = json::array();
  json all = json::array();
  // Newest first, as Flink lists them.
  for (auto it = job.failures.rbegin();
       it != job.failures.rend() && entries.size() < max_exceptions; ++it) {
    entries.push_back(FailureEntry(*it));
    all.push_back({
        {"exception", it->message},
        {"task", it->task.empty() ? json(nullptr) : json(it->task)},
        {"location", nullptr},
        {"timestamp", it->time_ms},
        {"taskManagerId", nullptr},
    });
  }
  const bool truncated = job.failures.size() > entries.size();
  json root = nullptr;
  json timestamp = nullptr;
  if (!job.failures.empty()) {
    root = job.failures.back().message;
    timestamp = job.failures.back().time_ms;
  }
  return json{
      {"root-exception", std::move(root)},
      {"timestamp", std::move(timestamp)},
      {"all-exceptions", std::move(all)},
      {"truncated", truncated},
      {"exceptionHistory",
       {{"entries", std::move(entries)}, {"truncated", truncated}}},
  };
}

json CheckpointConfigToJson(const JobSettings& settings) {
  const CheckpointOptions& c = settings.checkpoints;
  return json{
      // Barriers are aligned: every record is in exactly one checkpoint.
      {"mode", "exactly_once"},
      {"interval", c.interval_ms},
      {"timeout", c.timeout_ms},
      {"min_pause", c.min_pause_ms},
      {"max_concurrent", c.max_concurrent},
      // Completed checkpoints stay when the job ends, cancelled or not
      // (weir run --from-latest-checkpoint restores them).
      {"externalization",
       {{"enabled", true}, {"delete_on_cancellation", false}}},
      {"state_backend", StateBackendClass(settings.state_backend)},
      {"checkpoint_storage", "FileSystemCheckpointStorage"},
      {"unaligned_checkpoints", false},
      {"aligned_checkpoint_timeout", 0},
      // A failed checkpoint never fails the job.
      {"tolerable_failed_checkpoints", INT_MAX},
      {"checkpoints_after_tasks_finish", true},
      {"state_changelog_enabled", false},
      // weir's own.
      {"num_retained", c.num_retained},
      {"incremental", c.incremental},
  };
}

}  // namespace weir::tools
