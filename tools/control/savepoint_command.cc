// SPDX-License-Identifier: Apache-2.0
#include "tools/control/savepoint_command.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include <weir/savepoint.h>

#include "engine/checkpoint/metadata.h"
#include "tools/control/job_json.h"
#include "tools/control/job_registry.h"
#include "tools/control/rest_client.h"
#include "tools/control/trigger_ids.h"
#include "tools/log/log.h"

namespace weir::tools {

namespace {

namespace fs = std::filesystem;

int Fail(std::string_view message) {
  log::Error(message);
  return 1;
}

// `path` made absolute against this process's working directory, without
// "." and ".." components or a trailing '/': the job's process has its own
// working directory.
std::string Absolute(const std::string& path) {
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  std::string out = ec ? path : abs.lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::string HumanBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 4) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  if (unit == 0) {
    std::snprintf(buf, sizeof(buf), "%llu B",
                  static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f %s", v, kUnits[unit]);
  }
  return buf;
}

// One stderr line that is rewritten in place, on a terminal only.
class ProgressLine {
 public:
  ProgressLine()
      : enabled_(isatty(STDERR_FILENO) == 1 &&
                 log::Enabled(log::Level::kInfo)) {}
  ~ProgressLine() { Clear(); }
  void Show(const std::string& text) {
    if (!enabled_ || (shown_ && text == last_)) return;
    last_ = text;
    std::fprintf(stderr, "\r\x1b[K%s", text.c_str());
    std::fflush(stderr);
    shown_ = true;
  }
  void Clear() {
    if (!shown_) return;
    std::fprintf(stderr, "\r\x1b[K");
    std::fflush(stderr);
    shown_ = false;
  }

 private:
  const bool enabled_;
  bool shown_ = false;
  std::string last_;
};

// Triggers a savepoint with `options` and polls it until it ends. The
// savepoint's directory, or the error to print.
Result<std::string> TakeSavepoint(const HostPort& hp, const JobId& id,
                                  const SavepointOptions& options) {
  // The trigger waits while the job has as many checkpoints in progress as
  // it may, up to the checkpoint timeout (10 min by default). With a
  // trigger id of our own, a trigger whose answer was lost is sent again
  // and answers the same savepoint: never a second one.
  const std::string trigger_id = NewTriggerId();
  Result<std::string> request = Retrying([&] {
    return RequestSavepoint(hp.host, hp.port, id, options, trigger_id,
                            std::chrono::minutes(11));
  });
  if (!request.ok()) {
    const std::string why(request.status().message());
    // The engine's messages say "cannot take a savepoint: ..." already.
    if (why.find("savepoint") != std::string::npos) {
      return Status::InvalidArgument("job " + id.ToHex() + ": " + why);
    }
    return Status::InvalidArgument("cannot take a savepoint of job " +
                                   id.ToHex() + ": " + why);
  }
  ProgressLine progress;
  std::chrono::milliseconds pause{10};
  while (true) {
    // A savepoint that cancels or stops the job ends its `weir run`, which
    // stays until the outcome was read (docs/rest-api.md): a poll that
    // fails on the way is repeated.
    Result<OperationStatus> status = Retrying(
        [&] { return FetchSavepointStatus(hp.host, hp.port, id, *request); });
    if (!status.ok()) {
      progress.Clear();
      return Status::IOError("savepoint " + *request + " of job " + id.ToHex() +
                             ": " + std::string(status.status().message()));
    }
    if (status->done) {
      progress.Clear();
      if (!status->failure.empty()) {
        return Status::Aborted("savepoint of job " + id.ToHex() +
                               " failed: " + status->failure);
      }
      return status->location;
    }
    if (status->has_progress) {
      progress.Show("Savepoint: " + std::to_string(status->tasks_acknowledged) +
                    "/" + std::to_string(status->tasks_total) +
                    " tasks acknowledged, " + std::to_string(status->files) +
                    " files, " + HumanBytes(status->bytes));
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(200));
  }
}

// The REST endpoint of the job running on this host whose checkpoint
// storage is `shared_root` (<checkpoints dir>/<job id>), if any.
std::optional<HostPort> OwnerOf(const std::string& shared_root) {
  const std::string root = Absolute(shared_root);
  Result<JobId> id = JobId::FromHex(fs::path(root).filename().string());
  if (!id.ok()) return std::nullopt;
  Result<JobRegistry> registry = JobRegistry::OpenDefault();
  if (!registry.ok()) return std::nullopt;
  Result<RegistryEntry> entry = registry->Find(*id);
  if (!entry.ok()) return std::nullopt;
  // Its storage must be this one: ask for its checkpoint directory.
  Result<std::string> body = HttpGet(entry->rest_address, entry->rest_port,
                                     "/jobs/" + id->ToHex() + "/checkpoints");
  if (!body.ok()) return std::nullopt;
  Result<nlohmann::json> j = ParseJson(*body);
  if (!j.ok() || !j->is_object()) return std::nullopt;
  auto dir = j->find("directory");
  if (dir == j->end() || !dir->is_string()) return std::nullopt;
  if (Absolute(dir->get<std::string>()) != root) return std::nullopt;
  return HostPort{entry->rest_address, entry->rest_port};
}

Status DisposeThrough(const HostPort& hp, const std::string& path) {
  const std::string trigger_id = NewTriggerId();
  Result<std::string> request = Retrying([&] {
    return RequestSavepointDisposal(hp.host, hp.port, path, trigger_id);
  });
  if (!request.ok()) return request.status();
  std::chrono::milliseconds pause{10};
  while (true) {
    Result<OperationStatus> status = Retrying([&] {
      return FetchSavepointDisposalStatus(hp.host, hp.port, *request);
    });
    if (!status.ok()) return status.status();
    if (status->done) {
      if (!status->failure.empty()) {
        return Status::InvalidArgument(status->failure);
      }
      return Status::OK();
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(200));
  }
}

// Why savepoint `options` failed; when it named no directory, with how
// `usage` names one.
std::string SavepointFailure(const Status& s, const SavepointOptions& options,
                             const char* usage) {
  std::string message(s.message());
  if (options.target_dir.empty() &&
      s.code() == Status::Code::kInvalidArgument &&
      message.find("no target directory") != std::string::npos) {
    message += "; give one: " + std::string(usage);
  }
  return message;
}

}  // namespace

Result<SavepointFormatType> ParseSavepointType(std::string_view type) {
  std::string lower(type);
  for (char& c : lower) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (lower == "native") return SavepointFormatType::kNative;
  if (lower == "canonical") return SavepointFormatType::kCanonical;
  return Status::InvalidArgument("unknown savepoint type '" +
                                 std::string(type) +
                                 "': use --type native or --type canonical");
}

int SavepointJob(const std::string& job_id,
                 const std::optional<std::string>& target_dir,
                 const SavepointShape& shape, const JobLocator& locator) {
  Result<JobId> id = JobId::FromHex(job_id);
  if (!id.ok()) return Fail(id.status().message());
  Result<HostPort> hp = LocateJob(*id, locator);
  if (!hp.ok()) return Fail(hp.status().message());
  SavepointOptions options;
  options.format = shape.format;
  options.self_contained = shape.self_contained;
  if (target_dir) options.target_dir = Absolute(*target_dir);
  log::Info("Triggering savepoint for job " + id->ToHex() + ".");
  log::Info("Waiting for response...");
  Result<std::string> path = TakeSavepoint(*hp, *id, options);
  if (!path.ok()) {
    return Fail(SavepointFailure(path.status(), options,
                                 "weir savepoint JOBID TARGET_DIR"));
  }
  std::printf("Savepoint completed. Path: %s\n", path->c_str());
  std::fflush(stdout);
  log::Info(
      "You can resume your program from this savepoint with the run command.");
  return 0;
}

int CancelJobWithSavepoint(const std::string& job_id,
                           const std::optional<std::string>& target_dir,
                           const SavepointShape& shape,
                           const JobLocator& locator) {
  Result<JobId> id = JobId::FromHex(job_id);
  if (!id.ok()) return Fail(id.status().message());
  Result<HostPort> hp = LocateJob(*id, locator);
  if (!hp.ok()) return Fail(hp.status().message());
  SavepointOptions options;
  options.then = SavepointOptions::Then::kCancel;
  options.format = shape.format;
  options.self_contained = shape.self_contained;
  if (target_dir) options.target_dir = Absolute(*target_dir);
  log::Info("Cancelling job " + id->ToHex() + " with savepoint to " +
            (target_dir ? options.target_dir : "default savepoint directory") +
            ".");
  Result<std::string> path = TakeSavepoint(*hp, *id, options);
  if (!path.ok()) {
    return Fail(SavepointFailure(path.status(), options,
                                 "weir cancel -s TARGET_DIR JOBID"));
  }
  std::printf("Cancelled job %s. Savepoint stored in %s.\n",
              id->ToHex().c_str(), path->c_str());
  return 0;
}

int StopJobWithSavepoint(const std::string& job_id,
                         const std::optional<std::string>& target_dir,
                         bool drain, const SavepointShape& shape,
                         const JobLocator& locator) {
  Result<JobId> id = JobId::FromHex(job_id);
  if (!id.ok()) return Fail(id.status().message());
  Result<HostPort> hp = LocateJob(*id, locator);
  if (!hp.ok()) return Fail(hp.status().message());
  SavepointOptions options;
  options.then = SavepointOptions::Then::kStop;
  options.drain = drain;
  options.format = shape.format;
  options.self_contained = shape.self_contained;
  if (target_dir) options.target_dir = Absolute(*target_dir);
  log::Info(std::string(drain ? "Draining" : "Suspending") + " job " +
            id->ToHex() + " with a savepoint.");
  Result<std::string> path = TakeSavepoint(*hp, *id, options);
  if (!path.ok()) {
    return Fail(SavepointFailure(path.status(), options,
                                 "weir stop -p TARGET_DIR JOBID"));
  }
  std::printf("Savepoint completed. Path: %s\n", path->c_str());
  return 0;
}

int ExportSavepointCommand(const std::string& path, const std::string& dir) {
  if (path.empty()) return Fail("export needs a savepoint path");
  if (dir.empty()) return Fail("export needs a target directory");
  const std::string target = Absolute(dir);
  log::Info("Exporting savepoint '" + path + "' to '" + target + "'.");
  Status s = ExportSavepoint(path, target);
  if (!s.ok()) return Fail(s.message());
  std::printf("Savepoint exported. Path: %s\n", target.c_str());
  return 0;
}

int DisposeSavepointCommand(const std::string& path,
                            const std::optional<std::string>& endpoint) {
  if (path.empty()) return Fail("-d needs a savepoint path");
  const std::string abs = Absolute(path);
  log::Info("Disposing savepoint '" + abs + "'.");
  Status s;
  if (endpoint) {
    Result<HostPort> hp = ParseHostPort(*endpoint);
    if (!hp.ok()) return Fail(hp.status().message());
    s = DisposeThrough(*hp, abs);
  } else {
    // A native savepoint references the shared/ folder of its job's
    // checkpoint storage: while that job runs, it must do the deleting (a
    // checkpoint in progress may reference the same files).
    std::optional<HostPort> owner;
    Result<engine::CheckpointMetadata> m = engine::ReadMetadataFile(abs);
    if (m.ok() && m->kind == engine::SnapshotKind::kSavepoint &&
        !m->shared_root.empty()) {
      owner = OwnerOf(m->shared_root);
    }
    s = owner ? DisposeThrough(*owner, abs) : weir::DisposeSavepoint(abs);
  }
  if (!s.ok()) {
    return Fail("cannot dispose savepoint '" + abs +
                "': " + std::string(s.message()));
  }
  std::printf("Savepoint '%s' disposed.\n", abs.c_str());
  return 0;
}

}  // namespace weir::tools
