// SPDX-License-Identifier: Apache-2.0
#include "tools/run/commands.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "engine/checkpoint/metadata.h"
#include "engine/checkpoint/restore.h"
#include "tools/control/info_json.h"
#include "tools/control/job_json.h"
#include "tools/control/job_list_format.h"
#include "tools/control/job_locator.h"
#include "tools/control/job_registry.h"
#include "tools/control/rest_client.h"
#include "tools/control/rest_server.h"
#include "tools/job/config.h"
#include "tools/job/job_spec.h"
#include "tools/log/log.h"
#include "tools/run/dry_run.h"
#include "tools/run/job_planner.h"
#include "tools/run/restore_report.h"
#include "tools/run/state_query.h"

namespace weir::tools {
namespace {

int Fail(const Status& s) {
  log::Error(s.message());
  return 1;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The REST endpoint's view of the one job this process runs.
class SingleJobDirectory final : public JobDirectory {
 public:
  SingleJobDirectory(Job* job, JobSettings settings, const JobSpec* spec)
      : job_(job), settings_(std::move(settings)), spec_(spec) {}
  std::vector<JobInfo> ListJobs() override { return {job_->Info()}; }
  std::optional<JobInfo> GetJob(const JobId& id) override {
    if (id != job_->id()) return std::nullopt;
    return job_->Info();
  }
  Status CancelJob(const JobId& id) override {
    if (id != job_->id()) {
      return Status::NotFound("no job " + id.ToHex());
    }
    job_->Cancel();
    return Status::OK();
  }
  Result<int64_t> TriggerCheckpoint(const JobId& id, bool full) override {
    if (id != job_->id()) return Status::NotFound("no job " + id.ToHex());
    return job_->TriggerCheckpoint(full);
  }
  Result<CheckpointsInfo> Checkpoints(const JobId& id) override {
    if (id != job_->id()) return Status::NotFound("no job " + id.ToHex());
    return job_->Checkpoints();
  }
  Result<int64_t> TriggerSavepoint(const JobId& id,
                                   const SavepointOptions& options) override {
    if (id != job_->id()) return Status::NotFound("no job " + id.ToHex());
    const bool ends_job = options.then != SavepointOptions::Then::kContinue;
    if (ends_job) {
      std::lock_guard<std::mutex> lock(mu_);
      ++triggering_;
    }
    Result<int64_t> savepoint = job_->TriggerSavepoint(options);
    if (ends_job) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        --triggering_;
        if (savepoint.ok()) awaited_.insert(*savepoint);
      }
      cv_.notify_all();
    }
    return savepoint;
  }
  Result<JobSettings> Settings(const JobId& id) override {
    if (id != job_->id()) return Status::NotFound("no job " + id.ToHex());
    return settings_;
  }
  Status Shutdown() override {
    const JobStatus status = job_->status();
    if (!IsTerminal(status)) {
      return Status::FailedPrecondition(
          "job " + job_->id().ToHex() + " is " +
          std::string(JobStatusName(status)) +
          ": cancel or stop it first (DELETE /cluster ends only a weir run "
          "whose job has ended)");
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      shutdown_ = true;
    }
    cv_.notify_all();
    return Status::OK();
  }
  Status DisposeSavepoint(const std::string& path) override {
    return job_->DisposeSavepoint(path);
  }
  Result<nlohmann::json> QueryState(const JobId& id, const std::string& uid,
                                    const std::string& key) override {
    if (id != job_->id()) return Status::NotFound("no job " + id.ToHex());
    return QueryAggregate(*job_, *spec_, uid, key);
  }
  Result<std::optional<CheckpointStats>> CheckpointOutcome(
      const JobId& id, int64_t checkpoint_id) override {
    Result<std::optional<CheckpointStats>> outcome = Outcome(id, checkpoint_id);
    if (outcome.ok() && outcome->has_value()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (awaited_.erase(checkpoint_id) > 0) cv_.notify_all();
    }
    return outcome;
  }

  // After the job ended: keeps the endpoint up for `linger`, so that
  // clients can still read the job's final state, unless DELETE /cluster
  // (Shutdown) or `interrupted()` (polled every 100 ms) ends the wait.
  void Linger(std::chrono::milliseconds linger,
              const std::function<bool()>& interrupted) {
    const auto deadline = std::chrono::steady_clock::now() + linger;
    std::unique_lock<std::mutex> lock(mu_);
    while (!shutdown_ && !interrupted()) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return;
      cv_.wait_until(lock,
                     std::min(deadline, now + std::chrono::milliseconds(100)));
    }
  }

  // A savepoint that cancels or stops the job ends it, and with it this
  // process and its REST endpoint: wait (at most `timeout`) until the
  // client that triggered it has read its outcome. Savepoints that did not
  // complete did not end the job: nobody waits for those. A trigger still
  // under way is waited for first, so that its savepoint is known.
  void WaitUntilOutcomesRead(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_until(lock, deadline, [this] { return triggering_ == 0; });
    for (auto it = awaited_.begin(); it != awaited_.end();) {
      if (job_->WaitForCheckpoint(*it, std::chrono::milliseconds(0)).ok()) {
        ++it;
      } else {
        it = awaited_.erase(it);
      }
    }
    cv_.wait_until(lock, deadline, [this] { return awaited_.empty(); });
  }

 private:
  Result<std::optional<CheckpointStats>> Outcome(const JobId& id,
                                                 int64_t checkpoint_id) {
    if (id != job_->id()) return Status::NotFound("no job " + id.ToHex());
    Result<CheckpointStats> stats =
        job_->WaitForCheckpoint(checkpoint_id, std::chrono::milliseconds(0));
    if (stats.ok()) return std::optional<CheckpointStats>(std::move(*stats));
    // Still running (the wait timed out), or failed (its stats say why).
    if (stats.status().IsDeadlineExceeded()) {
      return std::optional<CheckpointStats>();
    }
    if (stats.status().code() == Status::Code::kAborted) {
      for (CheckpointStats& c : job_->Checkpoints().history) {
        if (c.id == checkpoint_id) return std::optional<CheckpointStats>(c);
      }
      CheckpointStats failed;
      failed.id = checkpoint_id;
      failed.state = CheckpointState::kFailed;
      failed.failure = std::string(stats.status().message());
      return std::optional<CheckpointStats>(std::move(failed));
    }
    return stats.status();
  }

  Job* job_;
  const JobSettings settings_;
  const JobSpec* const spec_;
  std::mutex mu_;
  std::condition_variable cv_;
  // Savepoints that end the job, whose outcome no client has read yet.
  std::set<int64_t> awaited_;  // guarded by mu_
  // Triggers of such savepoints under way.
  int triggering_ = 0;  // guarded by mu_
  // DELETE /cluster came: no more lingering.
  bool shutdown_ = false;  // guarded by mu_
};

// SIGINT and SIGTERM received.
std::atomic<int> g_signals{0};
void OnSignal(int) { g_signals.fetch_add(1); }

// Waits for snapshot `id` of `job` to complete. Aborted if a second signal
// comes first or the job ends; the snapshot's failure if it fails.
Status WaitForFinalSnapshot(Job& job, int64_t id) {
  for (;;) {
    Result<CheckpointStats> done =
        job.WaitForCheckpoint(id, std::chrono::milliseconds(100));
    if (done.ok()) {
      log::Info(std::string("Stored ") +
                (done->savepoint ? "savepoint " : "checkpoint ") +
                std::to_string(id) + " in " + done->path);
      return Status::OK();
    }
    if (done.status().code() != Status::Code::kDeadlineExceeded) {
      return done.status();
    }
    if (g_signals.load() > 1) {
      return Status::Aborted("a second signal: cancelled without waiting");
    }
    if (job.WaitFor(std::chrono::milliseconds(0))) {
      return Status::Aborted("the job ended first");
    }
  }
}

// Stops `job` after a SIGINT or SIGTERM as execution.stop-on-signal says
// (docs/cli.md): "checkpoint" takes a final checkpoint (when the job
// checkpoints) and cancels; "savepoint" stops the job with a savepoint in
// the default savepoint directory; "cancel" cancels at once. OK if the job
// was stopped as asked; otherwise why not, and the job is cancelled.
Status StopOnSignal(Job& job, const std::string& mode) {
  log::Info("Stopping job " + job.id().ToHex() + " (" + mode + ")");
  Status s;
  if (mode == "savepoint") {
    SavepointOptions options;
    options.then = SavepointOptions::Then::kStop;
    Result<int64_t> id = job.TriggerSavepoint(options);
    s = id.ok() ? WaitForFinalSnapshot(job, *id) : id.status();
    if (!s.ok()) job.Cancel();  // else the job finishes by itself
    return s.WithContext("stop with a savepoint");
  }
  if (mode == "checkpoint") {
    Result<int64_t> id = job.TriggerCheckpoint();
    // InvalidArgument: the job takes no checkpoints, there is nothing to
    // keep.
    if (id.ok()) {
      s = WaitForFinalSnapshot(job, *id);
    } else if (id.status().code() != Status::Code::kInvalidArgument) {
      s = id.status();
    }
    s = s.WithContext("final checkpoint");
  }
  job.Cancel();
  return s;
}

// Logs what happened to the job's checkpoints since `*seen` (the id of the
// last one reported): completed ones at DEBUG, failed ones as warnings.
void LogCheckpoints(Job& job, int64_t* seen) {
  const CheckpointsInfo info = job.Checkpoints();
  if (!info.enabled) return;
  for (auto it = info.history.rbegin(); it != info.history.rend(); ++it) {
    const CheckpointStats& c = *it;
    if (c.id <= *seen || c.state == CheckpointState::kInProgress) continue;
    const std::string what =
        std::string(c.savepoint ? "Savepoint " : "Checkpoint ") +
        std::to_string(c.id);
    if (c.state == CheckpointState::kCompleted) {
      log::Debug(what + " completed: " + c.path);
    } else {
      log::Warn(what + " failed: " + c.failure);
    }
    *seen = c.id;
  }
}

// True if a weir REST endpoint answers at host:port (its GET /config has
// "weir-version"; Flink's has not).
bool IsWeirEndpoint(const std::string& host, int port,
                    const std::string& token) {
  Result<std::string> body =
      HttpGet(host, port, "/config", std::chrono::seconds(2), token);
  if (!body.ok()) return false;
  Result<nlohmann::json> j = ParseJson(*body);
  return j.ok() && j->is_object() && j->contains("weir-version");
}

// Starts the REST endpoint. A fixed port held by a `weir run` whose job has
// ended and that keeps its final state queryable for a while
// (rest.archive-linger) is asked to exit now (DELETE /cluster), and taken
// once it has.
Result<std::unique_ptr<RestServer>> StartRestServer(const std::string& address,
                                                    int port,
                                                    JobDirectory* directory,
                                                    const std::string& token) {
  Result<std::unique_ptr<RestServer>> server =
      RestServer::Start(address, port, directory, nullptr, token);
  if (server.ok() || port == 0) return server;
  const std::string host = address == "0.0.0.0" ? "127.0.0.1"
                           : address == "::"    ? "::1"
                                                : address;
  // Only a weir: DELETE /cluster would shut a Flink cluster down.
  if (!IsWeirEndpoint(host, port, token) ||
      !RequestShutdown(host, port, token, std::chrono::seconds(2)).ok()) {
    return server;
  }
  // It exits once clients have read the outcome of a savepoint that ended
  // its job, within 10 s.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (!server.ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    server = RestServer::Start(address, port, directory, nullptr, token);
  }
  return server;
}

// Starts the job, its REST endpoint and its registry entry, waits for the
// job (stopping it on SIGINT/SIGTERM: StopOnSignal), records how it ended in
// the registry and cleans up. `ready` is called once the endpoint listens
// (or with the error), so that a detached parent can report it.
// `log_path`: a detached job's log file, else empty. After the job ended,
// the endpoint answers for rest.archive-linger more (not after a signal),
// and until a savepoint that ended the job has had its outcome read (at
// most 10 s).
int Serve(
    Job& job, const JobSpec& spec, const Config& config, JobSettings settings,
    const std::optional<std::string>& conf_file, const std::string& log_path,
    const std::function<void(const std::string& message, bool ok)>& ready) {
  SingleJobDirectory directory(&job, std::move(settings), &spec);
  const std::string address =
      config.GetString("rest.address").value_or("127.0.0.1");
  const int port = static_cast<int>(config.GetInt("rest.port").value_or(8081));
  const std::string token = config.GetString("rest.token").value_or("");
  const std::chrono::milliseconds linger(
      config.GetDurationMs("rest.archive-linger").value_or(3000));
  Result<std::unique_ptr<RestServer>> server =
      StartRestServer(address, port, &directory, token);
  if (!server.ok()) {
    ready(std::string(server.status().message()), false);
    return 1;
  }
  Status s;
  {
    RestoreReporter progress(job);
    s = job.Start();
  }
  if (!s.ok()) {
    ready(std::string(s.message()), false);
    return 1;
  }
  Result<JobRegistry> registry = JobRegistry::OpenDefault();
  RegistryEntry entry;
  entry.job_id = job.id();
  entry.name = job.name();
  entry.pid = getpid();
  entry.rest_address = (*server)->address();
  entry.rest_port = (*server)->port();
  entry.start_time_ms = job.Info().start_time_ms;
  entry.log_path = log_path;
  Status reg = registry.ok() ? registry->Register(entry) : registry.status();
  if (!reg.ok()) {
    log::Warn("job not registered: " + std::string(reg.message()));
  }
  std::string where = "Job has been submitted with JobID " + job.id().ToHex() +
                      "\nREST endpoint: http://" + (*server)->address() + ":" +
                      std::to_string((*server)->port());
  if (conf_file) where += "\nConfiguration: " + *conf_file;
  const CheckpointsInfo checkpoints = job.Checkpoints();
  if (checkpoints.enabled) where += "\nCheckpoints: " + checkpoints.directory;
  if (std::optional<std::string> dir =
          config.GetString("execution.checkpointing.savepoint-dir")) {
    // Absolute, as the checkpoint directory is: the job resolves a relative
    // one against its working directory.
    std::error_code ec;
    const std::filesystem::path abs = std::filesystem::absolute(*dir, ec);
    where += "\nSavepoints: " + (ec ? *dir : abs.lexically_normal().string());
  }
  where += "\nLogs: " + (log_path.empty() ? log::Destination() : log_path);
  ready(where, true);

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  const std::string stop_mode =
      config.GetString("execution.stop-on-signal").value_or("checkpoint");
  bool stopped_by_signal = false;
  Status stop;
  int64_t checkpoints_seen = 0;
  while (!job.WaitFor(std::chrono::milliseconds(100))) {
    LogCheckpoints(job, &checkpoints_seen);
    if (g_signals.load() != 0 && !stopped_by_signal) {
      stopped_by_signal = true;
      stop = StopOnSignal(job, stop_mode);
    }
  }
  Status result = job.Wait();
  LogCheckpoints(job, &checkpoints_seen);
  const JobInfo info = job.Info();
  const std::string id = job.id().ToHex();
  EndedEntry ended;
  ended.entry = entry;
  ended.state = std::string(JobStatusName(info.status));
  int code = 1;
  if (stopped_by_signal && info.status != JobStatus::kFailed) {
    if (!stop.ok()) {
      ended.message =
          "stopping on a signal failed: " + std::string(stop.message());
      log::Error("job " + id + ": " + std::string(stop.message()));
      code = 1;
    } else {
      ended.message =
          "stopped by a signal (execution.stop-on-signal: " + stop_mode + ")";
      std::printf("Job %s stopped.\n", id.c_str());
      code = 0;
    }
  } else {
    switch (info.status) {
      case JobStatus::kFinished:
        std::printf("Job %s finished.\n", id.c_str());
        code = 0;
        break;
      case JobStatus::kCanceled:
        ended.message = "cancelled";
        std::printf("Job %s was cancelled.\n", id.c_str());
        code = 2;
        break;
      default:
        ended.state = "FAILED";
        ended.message =
            "job " + id + " failed: " + std::string(result.message());
        log::Error(ended.message);
        code = 1;
    }
  }
  std::fflush(stdout);
  ended.end_time_ms = NowMs();
  ended.exit_code = code;
  if (registry.ok() && reg.ok()) {
    Status recorded = registry->RecordEnd(ended);
    if (!recorded.ok()) {
      log::Warn("the end of job " + id +
                " was not recorded: " + std::string(recorded.message()));
      registry->Unregister(job.id()).IgnoreError();
    }
  }
  // Another run of the job may start now (its storage lock is released);
  // this endpoint still answers for it, as Flink keeps ended jobs.
  if (!stopped_by_signal) {
    directory.Linger(linger, [] { return g_signals.load() != 0; });
  }
  directory.WaitUntilOutcomesRead(std::chrono::seconds(10));
  (*server)->Stop();
  return code;
}

// The newest complete snapshot of job `name` to resume from: its latest
// checkpoint in `checkpoints_dir`, or the newest savepoint of a job of that
// name in `savepoint_dir` (its `savepoint-*` folders) if that completed
// later, as the one a stop with a savepoint takes does (the job's output
// was published up to it: resuming from an older checkpoint would repeat
// what came after). NotFound if there is neither.
Result<std::string> FindResumePoint(const std::string& checkpoints_dir,
                                    const std::string& savepoint_dir,
                                    const std::string& name) {
  Result<std::string> best =
      engine::FindLatestCheckpointOfJob(checkpoints_dir, name);
  if (!best.ok() && !best.status().IsNotFound()) return best.status();
  int64_t best_time = -1;
  if (best.ok()) {
    Result<engine::CheckpointMetadata> m = engine::ReadMetadataFile(*best);
    if (m.ok()) best_time = m->completion_time_ms;
  }
  if (savepoint_dir.empty()) return best;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(savepoint_dir, ec), end;
       !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().rfind("savepoint-", 0) != 0) continue;
    if (!it->is_directory(ec)) continue;
    const std::string meta = it->path().string() + "/_metadata";
    Result<engine::CheckpointMetadata> m = engine::ReadMetadataFile(meta);
    if (!m.ok() || m->kind != engine::SnapshotKind::kSavepoint ||
        m->job_name != name || m->completion_time_ms <= best_time) {
      continue;
    }
    best_time = m->completion_time_ms;
    best = meta;
  }
  if (!best.ok()) {
    return Status::NotFound("no complete checkpoint of job '" + name + "' in " +
                            checkpoints_dir + " and no savepoint of it in " +
                            savepoint_dir);
  }
  return best;
}

// Opens `path` for appending, for a detached job's stdout and stderr: a
// regular file of this user, never through a symbolic link. `created` says
// whether it is new.
Result<int> OpenLogFile(const std::string& path, bool* created) {
  int fd = ::open(
      path.c_str(),
      O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
  *created = fd >= 0;
  if (fd < 0 && errno == EEXIST) {
    fd = ::open(path.c_str(),
                O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  }
  if (fd < 0) {
    return Status::IOError("cannot open log file " + path + ": " +
                           std::strerror(errno));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      st.st_uid != ::geteuid()) {
    ::close(fd);
    return Status::InvalidArgument("log file " + path +
                                   " is not a regular file of yours");
  }
  return fd;
}

}  // namespace

int RunJob(const RunArgs& args) {
  // Precedence: -D, then the job file's `config:`, then the configuration
  // file, then the defaults.
  Result<ConfigFile> file = LoadConfigFile(args.config);
  if (!file.ok()) return Fail(file.status());
  if (file->path) {
    log::Debug("configuration file: " + *file->path);
  } else {
    log::Debug("no configuration file (" +
               ConfigFilePath(std::getenv("WEIR_CONF_DIR")) +
               " does not exist): defaults");
  }
  Result<JobSpec> spec = ParseJobFile(args.job_file);
  if (!spec.ok()) return Fail(spec.status());
  Result<Config> config =
      LayerConfig(*file, spec->config, args.dynamic_properties);
  if (!config.ok()) return Fail(config.status());
  PlanOverrides overrides;
  overrides.parallelism = args.parallelism;
  if (args.parallelism < 0) {
    return Fail(Status::InvalidArgument("-p must be at least 1"));
  }
  Result<JobBuilder> builder = PlanJob(*spec, *config, overrides);
  if (!builder.ok()) return Fail(builder.status());
  Result<JobOptions> options = JobOptionsFromConfig(*config);
  if (!options.ok()) return Fail(options.status());
  if (int(args.from_savepoint.has_value()) + int(args.from_latest_checkpoint) +
          int(args.resume) >
      1) {
    return Fail(Status::InvalidArgument(
        "-s, --from-latest-checkpoint and --resume exclude each other"));
  }
  if (args.from_savepoint) {
    if (args.from_savepoint->empty()) {
      return Fail(Status::InvalidArgument("-s needs a checkpoint path"));
    }
    options->restore_from = *args.from_savepoint;
  } else if (args.from_latest_checkpoint || args.resume) {
    const char* flag = args.resume ? "--resume" : "--from-latest-checkpoint";
    if (options->checkpoints.dir.empty()) {
      return Fail(Status::InvalidArgument(
          std::string(flag) +
          " needs a checkpoint directory (execution.checkpointing.dir)"));
    }
    Result<std::string> latest =
        args.resume
            ? FindResumePoint(options->checkpoints.dir,
                              options->checkpoints.savepoint_dir, spec->name)
            : engine::FindLatestCheckpointOfJob(options->checkpoints.dir,
                                                spec->name);
    if (latest.ok()) {
      options->restore_from = *latest;
    } else if (!args.resume ||
               latest.status().code() != Status::Code::kNotFound) {
      return Fail(latest.status());
    } else {
      std::string none = "No checkpoint of job '" + spec->name + "' in " +
                         options->checkpoints.dir;
      if (!options->checkpoints.savepoint_dir.empty()) {
        none +=
            " and no savepoint of it in " + options->checkpoints.savepoint_dir;
      }
      log::Info(none + ": starting fresh");
    }
  }
  options->allow_non_restored_state = args.allow_non_restored_state;
  if (args.claim_mode == "claim") {
    options->claim_mode = JobOptions::ClaimMode::kClaim;
  } else if (args.claim_mode == "no-claim") {
    options->claim_mode = JobOptions::ClaimMode::kNoClaim;
  } else if (!args.claim_mode.empty()) {
    return Fail(
        Status::InvalidArgument("--claim-mode must be claim or "
                                "no-claim, not '" +
                                args.claim_mode + "'"));
  }
  if (args.dry_run) {
    if (options->restore_from.empty()) {
      return Fail(Status::InvalidArgument(
          "--dry-run needs a checkpoint or savepoint to check: -s PATH"));
    }
    JobOptions fresh = *options;
    fresh.restore_from.clear();
    Result<std::unique_ptr<Job>> job = builder->Build(fresh);
    if (!job.ok()) return Fail(job.status());
    return PrintRestoreCheck(**job, options->restore_from,
                             args.allow_non_restored_state, args.json);
  }
  // Build() checks the graph and starts no thread, so a detached run may
  // still fork after it.
  Result<std::unique_ptr<Job>> job = builder->Build(*options);
  if (!job.ok()) return Fail(job.status());
  if (!options->restore_from.empty()) {
    // The restored job keeps the checkpoint's id, its checkpoint directory
    // and its local working directory: one process at a time.
    Result<JobRegistry> registry = JobRegistry::OpenDefault();
    if (registry.ok()) {
      if (Result<RegistryEntry> running = registry->Find((*job)->id());
          running.ok()) {
        return Fail(Status::InvalidArgument(
            "job " + (*job)->id().ToHex() + " is running already (pid " +
            std::to_string(running->pid) + "); cancel it first"));
      }
    }
    // Build() read the `_metadata` already; it reads again here only to
    // say what it restores.
    Result<engine::CheckpointMetadata> restored =
        engine::ReadMetadataFile(options->restore_from);
    const bool savepoint =
        restored.ok() && restored->kind == engine::SnapshotKind::kSavepoint;
    log::Info("Restoring job " + (*job)->id().ToHex() + " from " +
              (savepoint ? "savepoint " : "") + options->restore_from);
  }

  // What GET /jobs/:jobid/config and /checkpoints/config show.
  JobSettings settings;
  settings.parallelism = JobParallelism(*spec, *config, overrides);
  settings.restart = options->restart;
  settings.checkpoints = options->checkpoints;
  settings.state_backend = (*job)->Info().state_backend;
  settings.config = HideSecrets(config->EffectiveValues());

  if (!args.detached) {
    return Serve(**job, *spec, *config, std::move(settings), file->path, "",
                 [](const std::string& msg, bool ok) {
                   if (ok) {
                     std::printf("%s\n", msg.c_str());
                     std::fflush(stdout);
                   } else {
                     log::Error(msg);
                   }
                 });
  }

  // Detached: the job's stdout and stderr go to <registry>/<jobid>.log.
  Result<JobRegistry> registry = JobRegistry::OpenDefault();
  if (!registry.ok()) return Fail(registry.status());
  const std::string log_path = registry->LogPathOf((*job)->id());
  bool log_created = false;
  Result<int> log_fd = OpenLogFile(log_path, &log_created);
  if (!log_fd.ok()) return Fail(log_fd.status());

  // Detached: the child runs the job in a new session and tells the parent
  // through a pipe when it is up (or why not).
  int fds[2];
  if (pipe(fds) != 0) {
    ::close(*log_fd);
    return Fail(Status::IOError(std::string("pipe: ") + std::strerror(errno)));
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) {
    return Fail(Status::IOError(std::string("fork: ") + std::strerror(errno)));
  }
  if (pid == 0) {
    close(fds[0]);
    setsid();
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
      dup2(devnull, STDIN_FILENO);
      if (devnull > STDERR_FILENO) close(devnull);
    }
    dup2(*log_fd, STDOUT_FILENO);
    dup2(*log_fd, STDERR_FILENO);
    // Keep no descriptor of the caller's open (its pipes would never see
    // end of file while the job runs).
    for (int fd = STDERR_FILENO + 1; fd < 1024; ++fd) {
      if (fd != fds[1]) close(fd);
    }
    // Not the journal any more, whatever the parent's stderr was.
    log::Init();
    log::Info("weir run -d: job " + (*job)->id().ToHex() + " (" +
              (*job)->name() + "), pid " + std::to_string(getpid()));
    const int wfd = fds[1];
    const int code =
        Serve(**job, *spec, *config, std::move(settings), file->path, log_path,
              [wfd, &log_path, log_created](const std::string& msg, bool ok) {
                const std::string out = std::string(ok ? "+" : "-") + msg;
                [[maybe_unused]] ssize_t n = write(wfd, out.data(), out.size());
                close(wfd);
                // The job never ran: the caller has the error, and a log this
                // run created holds nothing more.
                if (!ok && log_created) ::unlink(log_path.c_str());
              });
    std::fflush(stdout);
    job->reset();
    _exit(code);
  }
  close(fds[1]);
  ::close(*log_fd);
  std::string reply;
  char buf[512];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) reply.append(buf, n);
  close(fds[0]);
  if (reply.empty()) {
    int status = 0;
    waitpid(pid, &status, 0);
    return Fail(Status::IOError("the detached job process exited early"));
  }
  if (reply[0] != '+') {
    waitpid(pid, nullptr, 0);
    return Fail(Status::InvalidArgument(reply.substr(1)));
  }
  std::printf("%s\n", reply.substr(1).c_str());
  return 0;
}

int ListJobs(const JobLocator& locator, bool all) {
  std::vector<ListedJob> jobs;
  std::set<JobId> listed;
  auto add = [&](JobInfo info) {
    if (!listed.insert(info.id).second) return;
    jobs.push_back({std::move(info), "", {}});
  };
  if (locator.endpoint) {
    Result<HostPort> hp = ParseHostPort(*locator.endpoint);
    if (!hp.ok()) return Fail(hp.status());
    Result<std::vector<JobInfo>> r = FetchJobs(hp->host, hp->port);
    if (!r.ok()) return Fail(r.status());
    for (JobInfo& j : *r) add(std::move(j));
    std::printf("%s", FormatListedJobs(jobs, all).c_str());
    return 0;
  }
  Result<JobRegistry> registry = JobRegistry::OpenDefault();
  if (!registry.ok()) return Fail(registry.status());
  Result<std::vector<RegistryEntry>> entries = registry->List();
  if (!entries.ok()) return Fail(entries.status());
  for (const RegistryEntry& e : *entries) {
    Result<JobInfo> info = FetchJob(e.rest_address, e.rest_port, e.job_id);
    if (info.ok()) {
      add(std::move(*info));
    } else {
      // The process is alive but does not answer: list what we know.
      JobInfo j;
      j.id = e.job_id;
      j.name = e.name;
      j.status = JobStatus::kRunning;
      j.start_time_ms = e.start_time_ms;
      add(std::move(j));
    }
  }
  // A job that runs as a service, under another user, is not in this
  // user's registry: ask the endpoint the configuration file names.
  if (locator.configured) {
    const HostPort& hp = *locator.configured;
    Result<std::vector<JobInfo>> r =
        FetchJobs(hp.host, hp.port, std::chrono::milliseconds(2000));
    if (r.ok()) {
      for (JobInfo& j : *r) add(std::move(j));
    } else {
      log::Debug("no jobs from " + hp.host + ":" + std::to_string(hp.port) +
                 " (rest.address and rest.port of " + locator.configured_from +
                 "): " + std::string(r.status().message()));
    }
  }
  if (all) {
    Result<std::vector<EndedEntry>> ended = registry->ListEnded();
    if (!ended.ok()) return Fail(ended.status());
    for (const EndedEntry& e : *ended) {
      if (listed.contains(e.entry.job_id)) continue;  // it runs again
      ListedJob job;
      job.info.id = e.entry.job_id;
      job.info.name = e.entry.name;
      job.info.start_time_ms = e.entry.start_time_ms;
      job.info.end_time_ms = e.end_time_ms;
      if (e.state == "FINISHED") {
        job.info.status = JobStatus::kFinished;
      } else if (e.state == "CANCELED") {
        job.info.status = JobStatus::kCanceled;
      } else {
        job.info.status = JobStatus::kFailed;
        if (e.state == "LOST") job.state = "LOST";
      }
      std::string ended_line = (e.state == "LOST" ? "noticed " : "ended ") +
                               FormatStartTime(e.end_time_ms);
      if (e.exit_code >= 0) {
        ended_line += ", exit code " + std::to_string(e.exit_code);
      }
      if (!e.message.empty()) ended_line += ": " + e.message;
      job.details.push_back(ended_line);
      if (!e.entry.log_path.empty()) {
        job.details.push_back("log: " + e.entry.log_path);
      }
      listed.insert(job.info.id);
      jobs.push_back(std::move(job));
    }
  }
  std::printf("%s", FormatListedJobs(jobs, all).c_str());
  return 0;
}

int CancelJob(const std::string& job_id, const JobLocator& locator) {
  Result<JobId> id = JobId::FromHex(job_id);
  if (!id.ok()) return Fail(id.status());
  Result<HostPort> hp = LocateJob(*id, locator);
  if (!hp.ok()) return Fail(hp.status());
  Status s = RequestCancel(hp->host, hp->port, *id);
  if (!s.ok()) return Fail(s);
  std::printf("Cancelled job %s.\n", id->ToHex().c_str());
  return 0;
}

std::optional<HostPort> ConfiguredEndpoint(const ConfigFile& file) {
  if (!file.path || !file.config.IsSet("rest.port")) return std::nullopt;
  return ClientEndpoint(
      file.config.GetString("rest.address").value_or("127.0.0.1"),
      static_cast<int>(file.config.GetInt("rest.port").value_or(0)));
}

}  // namespace weir::tools
