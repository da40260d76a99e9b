// SPDX-License-Identifier: Apache-2.0
#include "engine/checkpoint/coordinator.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <utility>

#include "engine/checkpoint/dispose.h"
#include "lib/file.h"

namespace weir::engine {

namespace {

constexpr size_t kHistory = 10;
constexpr size_t kEndedKept = 64;
constexpr int kWorkers = 2;
// Names drawn for a new savepoint directory before giving up.
constexpr int kSavepointNameDraws = 16;

int64_t WallMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The operator list states of the chain `ops` in `backend`, appended to
// `*out`.
Status ReadOperatorStates(const std::vector<OperatorId>& ops,
                          KeyedStateBackend& backend,
                          std::vector<OperatorStateMetadata>* out) {
  for (const OperatorId& op : ops) {
    Result<std::vector<KeyedStateBackend::OperatorStateEntry>> r =
        backend.OperatorStates(op);
    if (!r.ok()) return r.status();
    for (auto& e : *r) {
      out->push_back(
          {op, e.name, static_cast<uint8_t>(e.mode), std::move(e.values)});
    }
  }
  return Status::OK();
}

int64_t MicrosSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now() - t0)
      .count();
}

}  // namespace

SharedFileStore::Options CheckpointCoordinator::StoreOptions() {
  SharedFileStore::Options o;
  // The snapshot's checksums were computed from the very files (inodes)
  // that are linked, which RocksDB never changes: reading them again would
  // only double the asynchronous phase's reads. Copies are still checked.
  o.verify_linked_checksums = false;
  return o;
}

Result<std::unique_ptr<CheckpointCoordinator>> CheckpointCoordinator::Create(
    Config config, Hooks hooks) {
  if (config.options.num_retained < 1 || config.options.max_concurrent < 1 ||
      config.options.timeout_ms < 1 || config.options.interval_ms < 0 ||
      config.options.min_pause_ms < 0) {
    return Status::InvalidArgument(
        "checkpoint options: num-retained and max-concurrent must be at "
        "least 1, the timeout positive, interval and pause not negative");
  }
  std::unique_ptr<SharedFileStore> store;
  if (!config.options.dir.empty()) {
    const std::string root = config.options.dir + "/" + config.job_id.ToHex();
    Result<std::unique_ptr<SharedFileStore>> opened =
        SharedFileStore::Open(root, StoreOptions());
    if (!opened.ok()) return opened.status();
    store = std::move(*opened);
    // What a crash left: unreferenced shared files, chk-* without metadata.
    // A `_metadata` that cannot be read stops the sweep (nothing is
    // deleted); the job still runs.
    store->Sweep().status().IgnoreError();
  }
  auto c = std::unique_ptr<CheckpointCoordinator>(new CheckpointCoordinator(
      std::move(config), std::move(hooks), std::move(store)));
  return c;
}

CheckpointCoordinator::CheckpointCoordinator(
    Config config, Hooks hooks, std::unique_ptr<SharedFileStore> store)
    : config_(std::move(config)),
      hooks_(std::move(hooks)),
      store_(std::move(store)) {
  int64_t last = config_.last_id;
  std::vector<uint64_t> done;
  if (store_ != nullptr) done = store_->CompletedCheckpoints();
  if (!done.empty()) {
    last = std::max(last, static_cast<int64_t>(done.back()));
    latest_path_ = store_->CheckpointDir(done.back()) + "/" +
                   std::string(kMetadataFileName);
  }
  next_id_ = last + 1;
  finished_.resize(config_.tasks.size());
}

CheckpointCoordinator::~CheckpointCoordinator() { Stop(); }

void CheckpointCoordinator::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stopped_) return;
  started_ = true;
  last_trigger_ = std::chrono::steady_clock::now();
  last_end_ = last_trigger_;
  for (int i = 0; i < kWorkers; ++i) {
    workers_.emplace_back([this] { RunWorker(); });
  }
  timer_ = std::thread([this] { RunTimer(); });
}

void CheckpointCoordinator::Stop() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    AbortAllLocked("the job stopped");
    cv_.notify_all();
    // A checkpoint whose metadata is being written cannot be taken back:
    // let it end (as completed, or failed if the write fails).
    cv_.wait(lock, [this] { return pending_.empty(); });
  }
  work_cv_.notify_all();
  if (timer_.joinable()) timer_.join();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

void CheckpointCoordinator::Suspend() {
  std::unique_lock<std::mutex> lock(mu_);
  suspended_ = true;
  AbortAllLocked("the job's tasks are restarting");
  // The restart restores the latest completed checkpoint: one being
  // committed now is about to be it.
  cv_.wait(lock, [this] { return pending_.empty(); });
}

void CheckpointCoordinator::AbortAllLocked(const std::string& why) {
  std::vector<int64_t> ids;
  for (auto& [id, p] : pending_) {
    if (!p.committing) ids.push_back(id);
  }
  for (int64_t id : ids) AbortLocked(id, why);
}

void CheckpointCoordinator::Resume() {
  std::lock_guard<std::mutex> lock(mu_);
  suspended_ = false;
  task_ended_ = false;
  // The new tasks start over; those restored as finished report again.
  for (auto& f : finished_) f.reset();
  finished_count_ = 0;
  last_trigger_ = std::chrono::steady_clock::now();
  cv_.notify_all();
}

void CheckpointCoordinator::OnTaskEnded() {
  std::lock_guard<std::mutex> lock(mu_);
  task_ended_ = true;
  AbortAllLocked("a task ended before the checkpoint completed");
}

bool CheckpointCoordinator::CanTrigger(std::string* why) const {
  if (stopped_ || !started_) {
    *why = "the job is not running";
  } else if (suspended_) {
    *why = "the job is restarting";
  } else if (task_ended_) {
    *why = "a task of the job failed or was cancelled";
  } else if (!finished_.empty() && finished_count_ == finished_.size()) {
    *why = "every task of the job has finished";
  } else {
    return true;
  }
  return false;
}

Status CheckpointCoordinator::WaitForTriggerLocked(
    std::unique_lock<std::mutex>& lock) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(config_.options.timeout_ms);
  for (;;) {
    std::string why;
    if (!CanTrigger(&why)) return Status::FailedPrecondition(why);
    if (static_cast<int>(pending_.size()) < config_.options.max_concurrent) {
      return Status::OK();
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      return Status::DeadlineExceeded(
          "the one in progress did not end in time");
    }
  }
}

Result<int64_t> CheckpointCoordinator::Trigger(bool full) {
  if (store_ == nullptr) {
    return Status::InvalidArgument(
        "cannot take a checkpoint: checkpointing is off (no checkpoint "
        "directory)");
  }
  std::unique_lock<std::mutex> lock(mu_);
  Status s = WaitForTriggerLocked(lock);
  if (!s.ok()) return s.WithContext("cannot take a checkpoint");
  return StartCheckpoint(full, /*periodic=*/false, lock);
}

Result<int64_t> CheckpointCoordinator::TriggerSavepoint(
    const SavepointOptions& options) {
  std::string target = options.target_dir.empty()
                           ? config_.options.savepoint_dir
                           : options.target_dir;
  if (target.empty()) {
    return Status::InvalidArgument(
        "cannot take a savepoint: no target directory was given and none "
        "is configured (execution.checkpointing.savepoint-dir, alias "
        "state.savepoints.dir)");
  }
  Status s = CheckPathText(target, "the savepoint target directory");
  if (!s.ok()) return s.WithContext("cannot take a savepoint");
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(target, ec);
  if (!ec) target = abs.lexically_normal().string();
  while (target.size() > 1 && target.back() == '/') target.pop_back();
  s = CreateDirsDurably(target);
  if (!s.ok()) return s.WithContext("cannot take a savepoint");
  Pending sp;
  sp.savepoint = true;
  sp.savepoint_options = options;
  sp.savepoint_options.target_dir = target;
  // savepoint-<first 6 hex digits of the job id>-<12 random hex digits>,
  // as Flink names them; a name already taken is drawn again, a few times
  // at most. The file system is asked outside the lock.
  uint64_t draws[kSavepointNameDraws];
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (uint64_t& d : draws) d = rng_();
  }
  for (uint64_t draw : draws) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string name = "savepoint-" + config_.job_id.ToHex().substr(0, 6) + "-";
    for (int i = 0; i < 12; ++i, draw >>= 4) name.push_back(kHex[draw % 16]);
    const std::string dir = target + "/" + name;
    struct stat st;
    if (::lstat(dir.c_str(), &st) != 0 && errno == ENOENT) {
      sp.savepoint_dir = dir;
      break;
    }
  }
  if (sp.savepoint_dir.empty()) {
    return Status::IOError(
        "cannot take a savepoint: no free savepoint name "
        "in " +
        target + " after " + std::to_string(kSavepointNameDraws) + " draws");
  }
  std::unique_lock<std::mutex> lock(mu_);
  s = WaitForTriggerLocked(lock);
  if (!s.ok()) return s.WithContext("cannot take a savepoint");
  return StartCheckpoint(/*full=*/false, /*periodic=*/false, lock, &sp);
}

Status CheckpointCoordinator::DisposeSavepoint(const std::string& path) {
  return engine::DisposeSavepoint(path, store_.get());
}

int64_t CheckpointCoordinator::StartCheckpoint(
    bool full, bool periodic, std::unique_lock<std::mutex>& lock,
    const Pending* savepoint) {
  (void)lock;
  const int64_t id = next_id_++;
  Pending& p = pending_[id];
  p.stats.id = id;
  p.stats.full = full || !config_.options.incremental;
  p.stats.periodic = periodic;
  p.stats.trigger_time_ms = WallMillis();
  p.stats.tasks_total = static_cast<int>(config_.tasks.size());
  p.deadline = std::chrono::steady_clock::now() +
               std::chrono::milliseconds(config_.options.timeout_ms);
  p.acked.assign(config_.tasks.size(), false);
  p.snapshotting.assign(config_.tasks.size(), false);
  p.tasks.resize(config_.tasks.size());
  bool stop = false, drain = false;
  if (savepoint != nullptr) {
    p.savepoint = true;
    p.stats.savepoint = true;
    p.savepoint_options = savepoint->savepoint_options;
    p.savepoint_dir = savepoint->savepoint_dir;
    p.stats.canonical =
        p.savepoint_options.format == SavepointFormatType::kCanonical;
    stop = p.savepoint_options.then == SavepointOptions::Then::kStop;
    drain = stop && p.savepoint_options.drain;
  }
  // Finished tasks take part as they are; the others when their barrier
  // comes (or when they finish first).
  for (size_t t = 0; t < finished_.size(); ++t) {
    if (finished_[t]) AckFinishedLocked(id, p, t);
  }
  last_trigger_ = std::chrono::steady_clock::now();
  // Under mu_, so that barriers reach the sources in id order. The hook
  // only posts to the tasks' mailboxes.
  hooks_.trigger(id, stop, drain);
  cv_.notify_all();
  return id;
}

Result<CheckpointStats> CheckpointCoordinator::Wait(
    int64_t id, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (id < 1 || id >= next_id_) {
    return Status::NotFound("no checkpoint " + std::to_string(id) +
                            " was triggered");
  }
  const bool ended = cv_.wait_for(lock, timeout, [&] {
    return ended_.contains(id) || (!pending_.contains(id) && stopped_);
  });
  auto it = ended_.find(id);
  if (it == ended_.end()) {
    if (!ended) {
      return Status::DeadlineExceeded("checkpoint " + std::to_string(id) +
                                      " did not end in time");
    }
    return Status::NotFound("checkpoint " + std::to_string(id) +
                            " is no longer known");
  }
  if (it->second.state == CheckpointState::kFailed) {
    return Status::Aborted("checkpoint " + std::to_string(id) +
                           " failed: " + it->second.failure);
  }
  return it->second;
}

std::string CheckpointCoordinator::LatestCompletedPath() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_path_;
}

void CheckpointCoordinator::SetRestored(const std::string& path, int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  restored_from_ = path;
  restored_id_ = id;
}

void CheckpointCoordinator::CountRestart() {
  std::lock_guard<std::mutex> lock(mu_);
  ++restarts_;
}

CheckpointsInfo CheckpointCoordinator::Info() const {
  std::lock_guard<std::mutex> lock(mu_);
  CheckpointsInfo info;
  info.enabled = store_ != nullptr;
  if (store_ != nullptr) info.directory = store_->root();
  info.completed = completed_;
  info.failed = failed_;
  info.in_progress = static_cast<int64_t>(pending_.size());
  info.restarts = restarts_;
  info.restored_from = restored_from_;
  info.restored_id = restored_id_;
  info.history.assign(history_.begin(), history_.end());
  for (const auto& [id, p] : pending_) info.history.push_back(p.stats);
  return info;
}

int CheckpointCoordinator::TaskIndex(int vertex, int subtask) const {
  for (size_t i = 0; i < config_.tasks.size(); ++i) {
    if (config_.tasks[i].vertex == vertex &&
        config_.tasks[i].subtask == subtask) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// ---------------------------------------------------------------- phases

Status CheckpointCoordinator::OnTaskSnapshot(int64_t checkpoint_id, int vertex,
                                             int subtask,
                                             KeyedStateBackend& backend) {
  const int task = TaskIndex(vertex, subtask);
  bool full;
  Destination to;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pending_.find(checkpoint_id);
    if (it == pending_.end() || task < 0) return Status::OK();  // aborted
    it->second.snapshotting[static_cast<size_t>(task)] = true;
    full = it->second.stats.full;
    to.savepoint = it->second.savepoint;
    to.canonical = to.savepoint && it->second.savepoint_options.format ==
                                       SavepointFormatType::kCanonical;
    to.self_contained =
        to.savepoint && (it->second.savepoint_options.self_contained ||
                         to.canonical || store_ == nullptr);
    to.savepoint_dir = it->second.savepoint_dir;
  }
  const std::string dir =
      config_.local_dir + "/chk-" + std::to_string(checkpoint_id) + "/" +
      std::to_string(vertex) + "-" + std::to_string(subtask);
  const auto t0 = std::chrono::steady_clock::now();
  // Operator list states go into `_metadata` as well (small: offsets,
  // staged files), for union and rescaled restores.
  std::vector<OperatorStateMetadata> op_states;
  Status st =
      ReadOperatorStates(config_.tasks[static_cast<size_t>(task)].operator_ids,
                         backend, &op_states);
  Result<std::unique_ptr<PendingSnapshot>> snap =
      st.ok() ? backend.Snapshot(checkpoint_id, dir)
              : Result<std::unique_ptr<PendingSnapshot>>(st);
  const int64_t sync_us = MicrosSince(t0);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pending_.find(checkpoint_id);
  if (!snap.ok()) {
    if (it != pending_.end()) {
      AbortLocked(checkpoint_id,
                  "snapshot of task " + std::to_string(vertex) + "/" +
                      std::to_string(subtask) +
                      " failed: " + std::string(snap.status().message()));
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return Status::OK();
  }
  if (it != pending_.end()) {
    it->second.stats.sync_max_us =
        std::max(it->second.stats.sync_max_us, sync_us);
  }
  std::shared_ptr<PendingSnapshot> pending(std::move(*snap));
  work_.push_back([this, checkpoint_id, task, full, to = std::move(to), pending,
                   dir, states = std::move(op_states)]() mutable {
    CompleteTaskSnapshot(checkpoint_id, task, full, std::move(to),
                         std::move(pending), dir, std::move(states));
  });
  work_cv_.notify_one();
  return Status::OK();
}

void CheckpointCoordinator::OnTaskFinished(int vertex, int subtask,
                                           KeyedStateBackend& backend) {
  const int task = TaskIndex(vertex, subtask);
  if (task < 0) return;
  const CheckpointTask& t = config_.tasks[static_cast<size_t>(task)];
  TaskSnapshotMetadata record;
  record.vertex_index = t.vertex;
  record.subtask_index = t.subtask;
  record.operator_ids = t.operator_ids;
  record.key_group_range = t.key_group_range;
  record.format = config_.format;
  record.max_parallelism = t.max_parallelism;
  record.finished = true;
  Status s =
      ReadOperatorStates(t.operator_ids, backend, &record.operator_states);
  std::lock_guard<std::mutex> lock(mu_);
  if (!s.ok()) {
    // Without its final state the task cannot be in a checkpoint: none
    // completes until the job restarts.
    task_ended_ = true;
    AbortAllLocked("task " + std::to_string(vertex) + "/" +
                   std::to_string(subtask) +
                   " finished, and reading its final state failed: " +
                   std::string(s.message()));
    return;
  }
  if (!finished_[static_cast<size_t>(task)]) ++finished_count_;
  finished_[static_cast<size_t>(task)] = std::move(record);
  for (auto& [id, p] : pending_) {
    AckFinishedLocked(id, p, static_cast<size_t>(task));
  }
}

void CheckpointCoordinator::AckFinishedLocked(int64_t id, Pending& p,
                                              size_t task) {
  if (p.committing || p.acked[task] || p.snapshotting[task]) return;
  // A task that finished before its barrier came emitted everything before
  // its end, and every task downstream aligned the barrier only after that
  // end: what it emitted is in their state, and it has nothing more.
  p.tasks[task] = *finished_[task];
  p.acked[task] = true;
  ++p.stats.tasks_acknowledged;
  if (p.stats.tasks_acknowledged < p.stats.tasks_total) return;
  p.committing = true;
  // Not on the caller's thread (a task's, or the trigger's under mu_).
  work_.push_back([this, id] { Commit(id); });
  work_cv_.notify_one();
}

Result<UploadResult> CheckpointCoordinator::CopyIntoSavepoint(
    const CheckpointTask& task, const Destination& to,
    const BackendSnapshot& snap) {
  // <savepoint>/<vertex>-<subtask>/<file name>: names are unique within
  // one task's snapshot.
  const std::string sub =
      std::to_string(task.vertex) + "-" + std::to_string(task.subtask);
  const std::string dir = to.savepoint_dir + "/" + sub;
  Status s = CreateDirs(dir);
  if (!s.ok()) return s;
  UploadResult out;
  for (const SnapshotFile& f : snap.files) {
    bool linked = false;
    s = TransferSnapshotFile(f, dir + "/" + f.name, /*hard_links=*/true,
                             /*verify_linked=*/false, &linked);
    if (!s.ok()) return s;
    out.files.push_back(Stamped(ToStoredFile(f, sub + "/" + f.name),
                                StampFile(dir + "/" + f.name)));
    out.bytes_uploaded += f.size;
    ++out.files_uploaded;
    if (linked) ++out.files_linked;
  }
  s = SyncDir(dir);
  if (!s.ok()) return s;
  return out;
}

void CheckpointCoordinator::CompleteTaskSnapshot(
    int64_t id, int task, bool full, Destination to,
    std::shared_ptr<PendingSnapshot> pending, std::string local_dir,
    std::vector<OperatorStateMetadata> op_states) {
  const auto t0 = std::chrono::steady_clock::now();
  const CheckpointTask& t = config_.tasks[static_cast<size_t>(task)];
  Result<BackendSnapshot> snap = pending->Complete();
  pending.reset();
  // A canonical savepoint's streams are written next to the native
  // snapshot, from a scratch backend beside it.
  const std::string streams_dir = local_dir + ".streams";
  if (snap.ok() && to.canonical) {
    snap = ToKeyGroupStreams(*snap, id, config_.canonical,
                             local_dir + ".scratch", streams_dir);
  }
  Status status = snap.status();
  UploadResult upload;
  if (status.ok()) {
    // The memory backend's files are the state itself, not files a
    // checkpoint shares: a savepoint holds them.
    const bool into_savepoint =
        to.savepoint &&
        (to.self_contained || snap->format == SnapshotFormat::kKeyGroupStreams);
    Result<UploadResult> r =
        into_savepoint ? CopyIntoSavepoint(t, to, *snap)
                       : store_->Upload(static_cast<uint64_t>(id), snap->files,
                                        full ? UploadMode::kFull
                                             : UploadMode::kIncremental);
    status = r.status();
    if (r.ok()) upload = std::move(*r);
  }
  // shared/ (or the savepoint) holds its own links or copies now.
  std::error_code ec;
  std::filesystem::remove_all(local_dir, ec);
  if (to.canonical) std::filesystem::remove_all(streams_dir, ec);
  const int64_t async_us = MicrosSince(t0);

  std::unique_lock<std::mutex> lock(mu_);
  auto it = pending_.find(id);
  if (it == pending_.end()) {
    // Aborted meanwhile; the store cleans up shared/, a savepoint without
    // `_metadata` is removed whole.
    if (to.savepoint) std::filesystem::remove_all(to.savepoint_dir, ec);
    return;
  }
  Pending& p = it->second;
  if (!status.ok()) {
    AbortLocked(id, "task " + std::to_string(t.vertex) + "/" +
                        std::to_string(t.subtask) + ": " +
                        std::string(status.message()));
    return;
  }
  p.stats.async_max_us = std::max(p.stats.async_max_us, async_us);
  p.stats.bytes_uploaded += upload.bytes_uploaded;
  p.stats.bytes_referenced += upload.bytes_referenced;
  p.stats.files += static_cast<int>(upload.files.size());
  for (const StoredFile& f : upload.files) p.stats.state_size += f.file.size;
  p.tasks[static_cast<size_t>(task)] = MakeTaskSnapshot(
      t.vertex, t.subtask, t.operator_ids, *snap, std::move(upload.files));
  p.tasks[static_cast<size_t>(task)].operator_states = std::move(op_states);
  if (!p.acked[static_cast<size_t>(task)]) {
    p.acked[static_cast<size_t>(task)] = true;
    ++p.stats.tasks_acknowledged;
  }
  if (p.stats.tasks_acknowledged < p.stats.tasks_total) return;
  p.committing = true;
  lock.unlock();
  Commit(id);
}

void CheckpointCoordinator::Commit(int64_t id) {
  CheckpointMetadata meta;
  bool savepoint = false;
  SavepointOptions::Then then = SavepointOptions::Then::kContinue;
  std::string dir;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Pending& p = pending_.at(id);
    meta.job_id = config_.job_id;
    meta.job_name = config_.job_name;
    meta.checkpoint_id = static_cast<uint64_t>(id);
    meta.kind =
        p.savepoint ? SnapshotKind::kSavepoint : SnapshotKind::kCheckpoint;
    if (p.savepoint &&
        p.savepoint_options.format == SavepointFormatType::kCanonical) {
      meta.savepoint_format = SavepointFormat::kCanonical;
    }
    meta.trigger_time_ms = p.stats.trigger_time_ms;
    meta.completion_time_ms = WallMillis();
    meta.operators = config_.operators;
    meta.tasks = std::move(p.tasks);
    // An operator is fully finished when every task that runs it is.
    for (OperatorMetadata& op : meta.operators) {
      bool any = false, all = true;
      for (const TaskSnapshotMetadata& t : meta.tasks) {
        if (std::find(t.operator_ids.begin(), t.operator_ids.end(), op.id) ==
            t.operator_ids.end()) {
          continue;
        }
        any = true;
        all = all && t.finished;
      }
      op.fully_finished = any && all;
    }
    if (meta.savepoint_format == SavepointFormat::kCanonical) {
      // No files either way; the format says what the others' are.
      for (TaskSnapshotMetadata& t : meta.tasks) {
        if (t.finished) t.format = SnapshotFormat::kKeyGroupStreams;
      }
    }
    savepoint = p.savepoint;
    then = p.savepoint_options.then;
    dir = p.savepoint_dir;
    if (savepoint) {
      meta.savepoint_id = NewSavepointId();
      meta.savepoint_dir = dir;
    }
  }
  Status s;
  if (!savepoint) {
    s = store_->CommitCheckpoint(meta);
    dir = store_->CheckpointDir(static_cast<uint64_t>(id));
  } else if (store_ != nullptr) {
    // Registers it if it references shared/, then writes `_metadata`.
    s = store_->CommitSavepoint(meta, dir);
  } else {
    s = WriteMetadataFile(dir, meta);
  }
  if (!s.ok()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending_.at(id).committing = false;
      AbortLocked(id,
                  "writing its metadata failed: " + std::string(s.message()));
    }
    if (savepoint && store_ != nullptr) store_->Abort(id).IgnoreError();
    return;
  }
  // The snapshot exists. Tasks commit their side effects, then older
  // checkpoints go; waiters hear of it last. A savepoint in passing commits
  // nothing (a restart from an older checkpoint would publish its output
  // twice) and prunes nothing.
  if (!savepoint || then != SavepointOptions::Then::kContinue) {
    hooks_.notify_complete(id);
  }
  if (!savepoint) {
    store_->Prune(config_.options.num_retained).status().IgnoreError();
    // Claim mode: the restored savepoint is subsumed by this checkpoint.
    // A savepoint that cannot be disposed of (changed by hand) is left.
    if (!config_.claimed_savepoint.empty() && !claim_done_.exchange(true)) {
      engine::DisposeSavepoint(config_.claimed_savepoint, store_.get())
          .IgnoreError();
    }
  } else if (store_ != nullptr) {
    // Files uploaded for it but not named by it (none, normally).
    store_->Abort(id).IgnoreError();
  }
  std::error_code ec;
  std::filesystem::remove(config_.local_dir + "/chk-" + std::to_string(id), ec);
  const std::string meta_path = dir + "/" + std::string(kMetadataFileName);
  const uint64_t meta_size = std::filesystem::file_size(meta_path, ec);

  {
    std::lock_guard<std::mutex> lock(mu_);
    Pending& p = pending_.at(id);
    p.committing = false;
    p.stats.metadata_size = ec ? 0 : meta_size;
    p.stats.state = CheckpointState::kCompleted;
    p.stats.end_time_ms = meta.completion_time_ms;
    p.stats.path = dir;
    if (!savepoint) latest_path_ = meta_path;
    ++completed_;
    FinishLocked(p);
    pending_.erase(id);
    // Older checkpoints still pending are subsumed by this one.
    std::vector<int64_t> older;
    for (auto& [other, q] : pending_) {
      if (other < id && !q.committing && !q.savepoint) older.push_back(other);
    }
    for (int64_t other : older) {
      AbortLocked(other, "subsumed by checkpoint " + std::to_string(id));
    }
  }
  if (savepoint && then != SavepointOptions::Then::kContinue) {
    EndSavepoint(id, then, /*completed=*/true);
  }
}

void CheckpointCoordinator::EndSavepoint(int64_t id,
                                         SavepointOptions::Then then,
                                         bool completed) {
  if (hooks_.savepoint_ended) hooks_.savepoint_ended(id, then, completed);
}

void CheckpointCoordinator::AbortLocked(int64_t id, const std::string& why) {
  auto it = pending_.find(id);
  if (it == pending_.end() || it->second.committing) return;
  Pending& p = it->second;
  p.stats.state = CheckpointState::kFailed;
  p.stats.failure = why;
  p.stats.end_time_ms = WallMillis();
  ++failed_;
  if (store_ != nullptr) store_->Abort(static_cast<uint64_t>(id)).IgnoreError();
  std::error_code ec;
  if (p.savepoint) {
    // Not committed: no `_metadata`, so nothing in it is a savepoint yet.
    std::filesystem::remove_all(p.savepoint_dir, ec);
    const SavepointOptions::Then then = p.savepoint_options.then;
    if (then != SavepointOptions::Then::kContinue) {
      // The sources stopped for it go on; not under mu_ (a worker runs it).
      work_.push_back([this, id, then] { EndSavepoint(id, then, false); });
      work_cv_.notify_one();
    }
  }
  FinishLocked(p);
  pending_.erase(it);
  std::filesystem::remove(config_.local_dir + "/chk-" + std::to_string(id), ec);
}

void CheckpointCoordinator::FinishLocked(Pending& p) {
  last_end_ = std::chrono::steady_clock::now();
  history_.push_back(p.stats);
  while (history_.size() > kHistory) history_.pop_front();
  ended_[p.stats.id] = p.stats;
  while (ended_.size() > kEndedKept) ended_.erase(ended_.begin());
  cv_.notify_all();
}

// ---------------------------------------------------------------- threads

void CheckpointCoordinator::RunWorker() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [this] { return stopped_ || !work_.empty(); });
    if (work_.empty()) return;  // stopped, nothing left
    std::function<void()> work = std::move(work_.front());
    work_.pop_front();
    lock.unlock();
    work();
    lock.lock();
  }
}

void CheckpointCoordinator::RunTimer() {
  using std::chrono::milliseconds;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopped_) {
    const auto now = std::chrono::steady_clock::now();
    std::vector<int64_t> expired;
    for (auto& [id, p] : pending_) {
      if (p.deadline <= now && !p.committing) expired.push_back(id);
    }
    for (int64_t id : expired) {
      AbortLocked(id, "timed out after " +
                          std::to_string(config_.options.timeout_ms) + " ms");
    }
    auto wake = now + milliseconds(100);
    const CheckpointOptions& o = config_.options;
    std::string why;
    if (o.interval_ms > 0 && store_ != nullptr && CanTrigger(&why) &&
        static_cast<int>(pending_.size()) < o.max_concurrent) {
      const auto due = std::max(last_trigger_ + milliseconds(o.interval_ms),
                                last_end_ + milliseconds(o.min_pause_ms));
      if (due <= now) {
        StartCheckpoint(/*full=*/false, /*periodic=*/true, lock);
        continue;
      }
      wake = std::min(wake, due);
    }
    for (auto& [id, p] : pending_) wake = std::min(wake, p.deadline);
    cv_.wait_until(lock, wake);
  }
}

}  // namespace weir::engine
