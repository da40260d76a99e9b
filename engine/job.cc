// SPDX-License-Identifier: Apache-2.0
//
// Job: plans the graph, creates one task per subtask of every vertex, wires
// chains and channels, runs the tasks and tracks the job's status.
#include "weir/job.h"

#include <sys/types.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>

#include "engine/job_impl.h"

namespace weir {

namespace {

int64_t WallMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string DefaultLocalDir() {
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/weir";
}

// InvalidArgument when an operator that finished in `source` (and is
// restored as finished) has an input that did not, or is new: the input
// would send records that nobody reads.
engine::RestorePlanOptions PlanOptions(const JobOptions& options,
                                       bool allow_non_restored_state) {
  engine::RestorePlanOptions o;
  o.allow_non_restored_state = allow_non_restored_state;
  o.backend = options.backend;
  o.ready_db_snapshots = options.rocksdb.ready_db_snapshots;
  return o;
}

}  // namespace

Status Job::Impl::PlanRestore() {
  auto rp = std::make_shared<engine::RestorePlan>(engine::PlanRestore(
      *restore, *graph, plan,
      PlanOptions(options, options.allow_non_restored_state)));
  if (!rp->status.ok()) return rp->status;
  restore_plan = std::move(rp);
  return Status::OK();
}

Result<RestoreCheck> Job::CheckRestore(
    const std::string& path, const RestoreCheckOptions& options) const {
  Result<engine::RestoreSource> r = engine::LoadRestoreSource(path);
  if (!r.ok()) return r.status();
  return engine::PlanRestore(
             *r, *impl_->graph, impl_->plan,
             PlanOptions(impl_->options, options.allow_non_restored_state))
      .check;
}

// ---------------------------------------------------------------- wiring

Status Job::Impl::Wire() {
  if (restore == nullptr) return WireTasks();
  restore_progress.Begin(restore->metadata_path, *restore_plan, WallMillis());
  Status s = WireTasks();
  restore_progress.End(s.ok(), WallMillis());
  return s;
}

Status Job::Impl::WireTasks() {
  const detail::GraphDef& g = *graph;
  const size_t nv = plan.vertices.size();
  counters.resize(nv);  // kept across restarts: counts of every attempt
  tasks.clear();
  tasks.resize(nv);
  for (size_t v = 0; v < nv; ++v) {
    if (counters[v] == nullptr) {
      counters[v] = std::make_unique<engine::VertexCounters>();
    }
    const engine::Vertex& vx = plan.vertices[v];
    for (int s = 0; s < vx.parallelism; ++s) {
      std::string name = vx.name + " (" + std::to_string(s + 1) + "/" +
                         std::to_string(vx.parallelism) + ")";
      tasks[v].push_back(std::make_unique<engine::Task>(
          std::move(name), s, vx.parallelism, g.max_parallelism, options.clock,
          counters[v].get()));
    }
  }
  // Network edges: for each non-chained node, channels from every producer
  // subtask of each input to its subtasks. writers[node][subtask] holds the
  // producer side, per consumer edge, in consumer order.
  struct PendingOutput {
    int consumer;  // node
    int edge;
    std::vector<detail::WriterBase*> writers;
  };
  std::vector<std::vector<std::vector<PendingOutput>>> outs(g.nodes.size());
  for (const detail::NodeDef& n : g.nodes) {
    outs[n.index].resize(plan.parallelism[n.index]);
  }
  std::vector<std::vector<std::vector<detail::ChannelBase*>>> inputs(nv);
  for (size_t v = 0; v < nv; ++v)
    inputs[v].resize(plan.vertices[v].parallelism);

  for (const detail::NodeDef& n : g.nodes) {
    if (plan.chained[n.index]) continue;
    const int v = plan.vertex_of[n.index];
    const int p = plan.parallelism[n.index];
    for (size_t e = 0; e < n.inputs.size(); ++e) {
      const int src = n.inputs[e].source;
      const int src_v = plan.vertex_of[src];
      const int src_p = plan.parallelism[src];
      const detail::Partitioning part = plan.partitioning[n.index][e];
      const detail::StreamTypeOps& type = *g.nodes[src].output_type;
      for (int i = 0; i < src_p; ++i) {
        PendingOutput po{n.index, static_cast<int>(e), {}};
        engine::Task* producer = tasks[src_v][i].get();
        for (int j = 0; j < p; ++j) {
          if (part == detail::Partitioning::kForward && j != i) continue;
          engine::Task* consumer = tasks[v][j].get();
          channels.push_back(
              type.MakeChannel(static_cast<size_t>(options.channel_capacity),
                               consumer->wakeup()));
          inputs[v][j].push_back(channels.back().get());
          std::unique_ptr<detail::WriterBase> w = type.MakeWriter(
              channels.back().get(), static_cast<size_t>(options.batch_size),
              producer);
          po.writers.push_back(w.get());
          producer->AddWriter(std::move(w));
        }
        outs[src][i].push_back(std::move(po));
      }
    }
  }

  for (size_t v = 0; v < nv; ++v) {
    const engine::Vertex& vx = plan.vertices[v];
    for (int s = 0; s < vx.parallelism; ++s) {
      engine::Task* task = tasks[v][s].get();
      // Operators, in chain order.
      std::vector<int> slot_of(g.nodes.size(), -1);
      for (int node : vx.nodes) {
        auto slot = std::make_unique<engine::Task::OperatorSlot>();
        slot->task = task;
        slot->node = &g.nodes[node];
        slot->id = plan.ids[node];
        slot->op = g.nodes[node].make_operator();
        if (slot->op == nullptr) {
          return Status::InvalidArgument(
              "operator '" + g.nodes[node].name +
              "' cannot create an instance for subtask " +
              std::to_string(s + 1) +
              ": it was given a single function object; pass a factory");
        }
        slot->timers_ =
            std::make_unique<engine::TaskTimerService>(task, slot->id);
        slot_of[node] = static_cast<int>(task->slots().size());
        task->slots().push_back(std::move(slot));
      }
      // Outputs, from the tail of the chain backwards so that chained
      // consumers exist; each node: chained consumers, then network edges.
      for (auto it = vx.nodes.rbegin(); it != vx.nodes.rend(); ++it) {
        const int node = *it;
        const detail::NodeDef& nd = g.nodes[node];
        if (nd.is_sink) continue;
        engine::Task::OperatorSlot& slot = *task->slots()[slot_of[node]];
        std::vector<OutputBase*> list;
        for (const detail::NodeDef& c : g.nodes) {
          if (!plan.chained[c.index] || c.inputs[0].source != node) continue;
          slot.outputs.push_back(nd.output_type->MakeChainedOutput(
              task->slots()[slot_of[c.index]]->op.get(), slot_of[c.index],
              task));
          list.push_back(slot.outputs.back().get());
        }
        for (PendingOutput& po : outs[node][s]) {
          const detail::EdgeDef& edge = g.nodes[po.consumer].inputs[po.edge];
          std::unique_ptr<OutputBase> out =
              edge.make_network_output(plan.partitioning[po.consumer][po.edge],
                                       po.writers, s, g.max_parallelism);
          slot.outputs.push_back(std::move(out));
          list.push_back(slot.outputs.back().get());
        }
        if (list.size() == 1) {
          slot.op->set_output(list[0]);
        } else {
          slot.output = nd.output_type->MakeFanOut(list);
          slot.op->set_output(slot.output.get());
        }
      }
      if (!g.nodes[vx.nodes[0]].is_source) {
        task->set_input(g.nodes[vx.nodes[0]].input_type->MakeInputGate(
            inputs[v][s], task->slots()[0]->op.get(), task));
      }
      Status st = Wire(task, static_cast<int>(v), s);
      if (!st.ok()) return st;
      engine::SnapshotObserver* target = observer.get();
      if (coordinator != nullptr) target = coordinator.get();
      task->set_snapshot_observer(target, static_cast<int>(v));
    }
  }
  return Status::OK();
}

// The task's state backend: new, or restored from `restore`.
Status Job::Impl::Wire(engine::Task* task, int vertex, int subtask) {
  StateBackendOptions bo;
  bo.max_parallelism = graph->max_parallelism;
  bo.key_group_range = KeyGroupRangeForSubtask(
      graph->max_parallelism, plan.vertices[vertex].parallelism, subtask);
  bo.clock = options.clock;
  std::vector<OperatorId> ops;
  for (int node : plan.vertices[vertex].nodes) ops.push_back(plan.ids[node]);
  // Every operator of the chain finished before the checkpoint: the task
  // is restored as finished (it runs none of them) and keeps their final
  // lists for later checkpoints, in a backend of its own.
  const bool finished =
      restore != nullptr && restore_plan->finished[vertex][subtask];
  task->set_finished_on_restore(finished);
  std::vector<BackendSnapshot> snapshots;
  if (restore != nullptr && !finished) {
    snapshots = engine::PlannedSnapshots(*restore, *restore_plan, plan, vertex,
                                         subtask);
  }
  const std::string where = "task '" + plan.vertices[vertex].name + "' (" +
                            std::to_string(subtask + 1) + "/" +
                            std::to_string(plan.vertices[vertex].parallelism) +
                            ")";
  // A backend without a directory of its own gets the job's as scratch.
  const std::string dir = backends->capabilities().own_dir
                              ? work_dir + "/vertex-" + std::to_string(vertex) +
                                    "-" + std::to_string(subtask)
                              : work_dir;
  Result<std::unique_ptr<KeyedStateBackend>> b =
      snapshots.empty() ? backends->Open(bo, dir)
                        : backends->Restore(bo, dir, snapshots);
  if (!b.ok()) {
    if (snapshots.empty()) return b.status();
    return b.status().WithContext("restoring " + where + " from " +
                                  restore->metadata_path);
  }
  if (restore != nullptr) {
    uint64_t files = 0;
    uint64_t bytes = 0;
    for (const BackendSnapshot& snap : snapshots) {
      files += snap.files.size();
      for (const SnapshotFile& f : snap.files) bytes += f.size;
    }
    restore_progress.TaskDone(files, bytes);
  }
  if (restore != nullptr) {
    // The backend restored the operator lists of the tasks it took key
    // groups from. Union lists: every subtask gets the entries of all
    // tasks. Split lists of an operator whose parallelism changed: this
    // subtask's share of all entries; of a finished task (no files): its
    // own, from `_metadata` (engine/checkpoint/restore.h).
    const int p = plan.vertices[vertex].parallelism;
    std::vector<engine::OperatorStateMetadata> lists;
    if (finished) {
      lists = engine::FinalOperatorStatesForSubtask(*restore, ops, p, subtask);
    } else {
      lists = engine::UnionOperatorStates(*restore, ops);
      for (engine::OperatorStateMetadata& st :
           engine::SplitOperatorStatesForSubtask(*restore, ops, p, subtask)) {
        lists.push_back(std::move(st));
      }
      for (engine::OperatorStateMetadata& st :
           engine::FinishedSplitOperatorStatesForSubtask(*restore, ops, p,
                                                         subtask)) {
        lists.push_back(std::move(st));
      }
    }
    for (const engine::OperatorStateMetadata& st : lists) {
      const auto mode = static_cast<OperatorStateMode>(st.mode);
      Result<RawOperatorListState*> list =
          (*b)->GetOperatorListState(st.operator_id, st.name, mode);
      Status s = list.ok() ? (*list)->Update(st.values) : list.status();
      if (!s.ok()) {
        return s.WithContext(
            std::string("restoring ") +
            (mode == OperatorStateMode::kUnion ? "union" : "split") +
            " state '" + st.name + "' of " + where);
      }
    }
  }
  if (backends->capabilities().read_mode) {
    engine::VertexCounters& c = *counters[static_cast<size_t>(vertex)];
    std::lock_guard<std::mutex> lock(c.read_modes_mu);
    c.read_modes.resize(static_cast<size_t>(plan.vertices[vertex].parallelism),
                        StateReadMode::kNone);
    c.read_modes[static_cast<size_t>(subtask)] = (*b)->read_mode();
  }
  task->set_backend(std::move(*b));
  return Status::OK();
}

Status Job::Impl::CheckRunning() const {
  std::lock_guard<std::mutex> lock(mu);
  if (status == JobStatus::kRunning) return Status::OK();
  return Status::FailedPrecondition("job " + id.ToHex() + " is " +
                                    std::string(JobStatusName(status)) +
                                    ", not RUNNING");
}

Status Job::Impl::LockStorage() {
  if (options.checkpoints.dir.empty()) return Status::OK();
  const std::string root = options.checkpoints.dir + "/" + id.ToHex();
  Status s = CreateDirsDurably(root);
  if (!s.ok()) return s.WithContext("cannot start job " + id.ToHex());
  int64_t holder = 0;
  s = FileLock::TryAcquire(root + "/LOCK", &storage_lock, &holder);
  if (!s.ok()) return s.WithContext("cannot start job " + id.ToHex());
  if (storage_lock != nullptr) return Status::OK();
  return Status::FailedPrecondition(
      "cannot start job " + id.ToHex() + ": its checkpoint storage " + root +
      " is in use by " +
      (holder > 0 ? "process " + std::to_string(holder) : "another process") +
      ", which runs the same job; stop that one first, or restore this one "
      "from a savepoint, which gives it a new job id");
}

Status Job::Impl::CreateCoordinator() {
  engine::CheckpointCoordinator::Config c;
  c.options = options.checkpoints;
  c.job_id = id;
  c.job_name = graph->name;
  for (const detail::NodeDef& n : graph->nodes) {
    engine::OperatorMetadata om;
    om.id = plan.ids[n.index];
    om.uid = n.uid;
    om.name = n.name;
    om.parallelism = plan.parallelism[n.index];
    om.max_parallelism = graph->max_parallelism;
    c.operators.push_back(std::move(om));
  }
  for (size_t v = 0; v < plan.vertices.size(); ++v) {
    const engine::Vertex& vx = plan.vertices[v];
    for (int s = 0; s < vx.parallelism; ++s) {
      engine::CheckpointTask t;
      t.vertex = static_cast<int>(v);
      t.subtask = s;
      for (int node : vx.nodes) t.operator_ids.push_back(plan.ids[node]);
      t.key_group_range =
          KeyGroupRangeForSubtask(graph->max_parallelism, vx.parallelism, s);
      t.max_parallelism = graph->max_parallelism;
      c.tasks.push_back(std::move(t));
    }
  }
  c.local_dir = work_dir + "/snapshots";
  c.canonical.rocksdb = options.rocksdb;
  c.canonical.clock = options.clock;
  c.format = backends->capabilities().sst_snapshots
                 ? SnapshotFormat::kRocksDBSst
                 : SnapshotFormat::kKeyGroupStreams;
  if (restore != nullptr) {
    c.last_id = static_cast<int64_t>(restore->metadata.checkpoint_id);
    if (restore->metadata.kind == engine::SnapshotKind::kSavepoint &&
        options.claim_mode == JobOptions::ClaimMode::kClaim) {
      c.claimed_savepoint = restore->metadata_dir;
    }
  }
  engine::CheckpointCoordinator::Hooks hooks;
  hooks.trigger = [this](int64_t cp, bool stop_sources, bool drain) {
    std::lock_guard<std::mutex> lock(tasks_mu);
    for (size_t v = 0; v < plan.vertices.size(); ++v) {
      if (!graph->nodes[plan.vertices[v].nodes[0]].is_source) continue;
      for (auto& t : tasks[v]) t->TriggerBarrier(cp, stop_sources, drain);
    }
  };
  hooks.savepoint_ended = [this](int64_t cp, SavepointOptions::Then then,
                                 bool completed) {
    OnSavepointEnded(cp, then, completed);
  };
  hooks.notify_complete = [this](int64_t cp) {
    std::lock_guard<std::mutex> lock(tasks_mu);
    for (auto& vt : tasks) {
      for (auto& t : vt) t->NotifyCheckpointComplete(cp);
    }
  };
  Result<std::unique_ptr<engine::CheckpointCoordinator>> co =
      engine::CheckpointCoordinator::Create(std::move(c), std::move(hooks));
  if (!co.ok()) return co.status().WithContext("checkpoints");
  coordinator = std::move(*co);
  if (restore != nullptr) {
    coordinator->SetRestored(
        restore->metadata_path,
        static_cast<int64_t>(restore->metadata.checkpoint_id));
  }
  return Status::OK();
}

// ---------------------------------------------------------------- lifecycle

void Job::Impl::CancelAll() {
  std::lock_guard<std::mutex> lock(tasks_mu);
  for (auto& c : channels) c->Close();
  for (auto& vt : tasks) {
    for (auto& t : vt) t->Cancel();
  }
}

// A stop or cancel with savepoint ended: once complete the job ends (its
// sinks have committed the savepoint's output); if it failed, stopped
// sources go on.
void Job::Impl::OnSavepointEnded(int64_t id, SavepointOptions::Then then,
                                 bool completed) {
  if (!completed) {
    if (then != SavepointOptions::Then::kStop) return;
    std::lock_guard<std::mutex> lock(tasks_mu);
    for (size_t v = 0; v < plan.vertices.size(); ++v) {
      if (!graph->nodes[plan.vertices[v].nodes[0]].is_source) continue;
      for (auto& t : tasks[v]) t->ResumeSource(id);
    }
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    if (status != JobStatus::kRunning) return;
    if (then == SavepointOptions::Then::kStop) {
      // The sources emitted nothing after the barrier; what is still in
      // flight (processing-time timers) is discarded like a cancel's.
      stopped = true;
    } else {
      cancel_requested = true;
      status = JobStatus::kCanceling;
    }
  }
  CancelAll();
}

void Job::Impl::RecordFailureLocked() {
  JobFailure f;
  f.time_ms = failure_ms;
  f.task = failure_task;
  f.code = failure.code();
  f.message = std::string(failure.message());
  failures.push_back(std::move(f));
  while (failures.size() > kJobFailuresKept) failures.pop_front();
}

void Job::Impl::OnTaskExit(const Status& s, bool cancelled,
                           const std::string& task) {
  // A task that finished (OK) told the coordinator itself, on its thread
  // (SnapshotObserver::OnTaskFinished); checkpoints go on without it.
  if (coordinator != nullptr && !s.ok()) coordinator->OnTaskEnded();
  bool cancel_others = false;
  bool last = false;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!s.ok() && !cancelled && failure.ok() && !cancel_requested) {
      failure = s;
      failure_ms = WallMillis();
      failure_task = task;
      cancel_others = true;
    }
    last = --running == 0;
  }
  if (cancel_others) CancelAll();
  if (!last) return;
  bool restart = false;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!failure.ok()) RecordFailureLocked();
    // The last task. A failure with attempts left restarts the tasks (on
    // another thread: this one is a task's, and the restart joins them).
    if (!failure.ok() && !cancel_requested &&
        restarts < options.restart.attempts) {
      ++restarts;
      restarting = true;
      restart = true;
    }
  }
  if (!restart) return Finalize();
  if (coordinator != nullptr) {
    coordinator->Suspend();
    coordinator->CountRestart();
  }
  // The previous restarter started these tasks and is done with them, or
  // nearly: join it without holding mu, which its last steps take.
  std::thread previous;
  {
    std::lock_guard<std::mutex> lock(mu);
    previous = std::move(restarter);
  }
  if (previous.joinable()) previous.join();
  std::lock_guard<std::mutex> lock(mu);
  restarter = std::thread([this] { Restart(); });
}

// Replaces the failed tasks with new ones restored from the latest
// completed checkpoint (or the job's initial state if there is none).
void Job::Impl::Restart() {
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, std::chrono::milliseconds(options.restart.delay_ms),
                [this] { return cancel_requested; });
    if (cancel_requested) {
      restarting = false;
      lock.unlock();
      return Finalize();
    }
  }
  // Only this thread replaces the tasks, so joining needs no lock (a task
  // may still be in OnTaskExit, cancelling the others under tasks_mu).
  for (auto& vt : tasks) {
    for (auto& t : vt) t->Join();
  }
  Status s;
  // Before tasks_mu: the coordinator takes its own lock before tasks_mu.
  const std::string latest =
      coordinator != nullptr ? coordinator->LatestCompletedPath() : "";
  {
    std::lock_guard<std::mutex> lock(tasks_mu);
    tasks.clear();
    channels.clear();
    std::error_code ec;
    if (!work_dir.empty()) {
      for (std::filesystem::directory_iterator it(work_dir, ec), end;
           !ec && it != end; it.increment(ec)) {
        if (it->path().filename().string().starts_with("vertex-")) {
          std::error_code ec2;
          std::filesystem::remove_all(it->path(), ec2);
        }
      }
    }
    if (!latest.empty()) {
      Result<engine::RestoreSource> r = engine::LoadRestoreSource(latest);
      if (r.ok()) {
        restore = std::make_shared<engine::RestoreSource>(std::move(*r));
        s = PlanRestore();
      } else {
        s = r.status();
      }
    }
    if (s.ok()) s = Wire();
    if (s.ok()) {
      std::lock_guard<std::mutex> l(mu);
      failure = Status::OK();
      restarting = false;
    }
  }
  if (!s.ok()) {
    {
      std::lock_guard<std::mutex> lock(mu);
      failure = s.WithContext("restarting the job");
      failure_ms = WallMillis();
      failure_task.clear();
      RecordFailureLocked();
      restarting = false;
    }
    {
      std::lock_guard<std::mutex> lock(tasks_mu);
      tasks.clear();
      channels.clear();
    }
    // Not under tasks_mu: Finalize waits for a committing checkpoint, whose
    // notification takes it.
    return Finalize();
  }
  if (coordinator != nullptr) {
    coordinator->SetRestored(
        restore != nullptr ? restore->metadata_path : "",
        restore != nullptr
            ? static_cast<int64_t>(restore->metadata.checkpoint_id)
            : 0);
  }
  StartTasks();
}

void Job::Impl::StartTasks() {
  int total = 0;
  for (auto& vt : tasks) total += static_cast<int>(vt.size());
  {
    std::lock_guard<std::mutex> lock(mu);
    running = total;
  }
  for (auto& vt : tasks) {
    for (auto& t : vt) {
      t->set_on_exit(
          [this, task = t->name()](const Status& st, bool cancelled) {
            OnTaskExit(st, cancelled, task);
          });
    }
  }
  if (coordinator != nullptr) coordinator->Resume();
  for (auto& vt : tasks) {
    for (auto& t : vt) t->Start();
  }
  bool cancel = false;
  {
    std::lock_guard<std::mutex> lock(mu);
    cancel = cancel_requested;
  }
  if (cancel) CancelAll();
}

// The job is over: stop checkpointing, remove working files, set the
// terminal status. Tasks are joined by whoever waits.
void Job::Impl::Finalize() {
  if (coordinator != nullptr) coordinator->Stop();
  std::error_code ec;
  if (!work_dir.empty()) std::filesystem::remove_all(work_dir, ec);
  // Another run of the job may start now.
  storage_lock.reset();
  // The nodes' end hooks (push sources) learn the outcome, as Wait() will
  // return it, before anyone waiting sees the job end.
  Status outcome;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!failure.ok()) {
      outcome = failure;
    } else if (!stopped && cancel_requested) {
      outcome = Status::Aborted("job " + id.ToHex() + " was cancelled");
    }
  }
  for (const detail::NodeDef& n : graph->nodes) {
    if (n.on_job_end) n.on_job_end(outcome);
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    end_ms = WallMillis();
    if (!failure.ok()) {
      status = JobStatus::kFailed;
    } else if (stopped) {
      status = JobStatus::kFinished;
    } else if (cancel_requested) {
      status = JobStatus::kCanceled;
    } else {
      status = JobStatus::kFinished;
    }
  }
  cv.notify_all();
}

Job::Job(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Job::~Job() {
  if (impl_ == nullptr) return;
  Cancel();
  Wait().IgnoreError();
  if (impl_->restarter.joinable()) impl_->restarter.join();
  for (auto& vt : impl_->tasks) {
    for (auto& t : vt) t->Join();
  }
  impl_->coordinator.reset();
}

const JobId& Job::id() const { return impl_->id; }
const std::string& Job::name() const { return impl_->graph->name; }

Status Job::Start() {
  Impl& m = *impl_;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    if (m.status != JobStatus::kCreated) {
      return Status::FailedPrecondition("job " + m.id.ToHex() +
                                        " was started already");
    }
  }
  // Nothing is written before the lock is held: the working directory may
  // be another run's.
  Status s = m.LockStorage();
  if (s.ok()) {
    // Also for the memory backend: its snapshots' files go here first.
    const std::string base =
        m.options.local_dir.empty() ? DefaultLocalDir() : m.options.local_dir;
    m.work_dir = base + "/job-" + m.id.ToHex();
    // A run of this job killed with SIGKILL left its working directory
    // behind (a restored job keeps the checkpoint's id): nothing in it is
    // needed, and a restore refuses a directory that holds state.
    std::error_code ec;
    std::filesystem::remove_all(m.work_dir, ec);
    // Every job can take savepoints; checkpoints need checkpoints.dir.
    // Tests that inject barriers observe snapshots themselves.
    if (m.observer == nullptr) s = m.CreateCoordinator();
    if (s.ok()) s = m.Wire();
    if (!s.ok()) {
      m.tasks.clear();
      m.coordinator.reset();
      std::filesystem::remove_all(m.work_dir, ec);
      m.storage_lock.reset();
    }
  }
  if (!s.ok()) {
    for (const detail::NodeDef& n : m.graph->nodes) {
      if (n.on_job_end) n.on_job_end(s);
    }
    std::lock_guard<std::mutex> lock(m.mu);
    m.status = JobStatus::kFailed;
    m.failure = s;
    m.end_ms = WallMillis();
    m.failure_ms = m.end_ms;
    m.RecordFailureLocked();
    m.cv.notify_all();
    return s;
  }
  {
    std::lock_guard<std::mutex> lock(m.mu);
    m.status = JobStatus::kRunning;
    m.start_ms = WallMillis();
  }
  if (m.coordinator != nullptr) m.coordinator->Start();
  m.StartTasks();
  return Status::OK();
}

Status Job::Wait() {
  Impl& m = *impl_;
  std::unique_lock<std::mutex> lock(m.mu);
  m.cv.wait(lock, [&m] {
    return IsTerminal(m.status) || m.status == JobStatus::kCreated;
  });
  switch (m.status) {
    case JobStatus::kFinished:
      return Status::OK();
    case JobStatus::kCanceled:
      return Status::Aborted("job " + m.id.ToHex() + " was cancelled");
    case JobStatus::kFailed:
      return m.failure;
    default:
      return Status::FailedPrecondition("job " + m.id.ToHex() +
                                        " was not started");
  }
}

bool Job::WaitFor(std::chrono::milliseconds timeout) {
  Impl& m = *impl_;
  std::unique_lock<std::mutex> lock(m.mu);
  return m.cv.wait_for(lock, timeout, [&m] { return IsTerminal(m.status); });
}

void Job::Cancel() {
  Impl& m = *impl_;
  {
    std::unique_lock<std::mutex> lock(m.mu);
    if (m.status == JobStatus::kCreated) {
      m.status = JobStatus::kCanceled;
      m.cv.notify_all();
      lock.unlock();
      const Status never = Status::Aborted("job " + m.id.ToHex() +
                                           " was cancelled before it started");
      for (const detail::NodeDef& n : m.graph->nodes) {
        if (n.on_job_end) n.on_job_end(never);
      }
      return;
    }
    if (m.status != JobStatus::kRunning) return;
    m.cancel_requested = true;
    m.status = JobStatus::kCanceling;
  }
  m.CancelAll();
}

Status Job::Impl::InjectBarrier(int64_t checkpoint_id) {
  if (Status s = CheckRunning(); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(tasks_mu);
  for (size_t v = 0; v < plan.vertices.size(); ++v) {
    if (!graph->nodes[plan.vertices[v].nodes[0]].is_source) continue;
    for (auto& t : tasks[v]) t->TriggerBarrier(checkpoint_id);
  }
  return Status::OK();
}

Result<int64_t> Job::TriggerCheckpoint(bool full) {
  Impl& m = *impl_;
  if (m.coordinator == nullptr || m.options.checkpoints.dir.empty()) {
    return Status::InvalidArgument(
        "job " + m.id.ToHex() +
        " has no checkpoint directory (execution.checkpointing.dir)");
  }
  if (Status s = m.CheckRunning(); !s.ok()) return s;
  return m.coordinator->Trigger(full);
}

Result<CheckpointStats> Job::WaitForCheckpoint(
    int64_t id, std::chrono::milliseconds timeout) {
  Impl& m = *impl_;
  if (m.coordinator == nullptr) {
    return Status::InvalidArgument("job " + m.id.ToHex() +
                                   " takes no checkpoints");
  }
  return m.coordinator->Wait(id, timeout);
}

Result<int64_t> Job::TriggerSavepoint(const SavepointOptions& options) {
  Impl& m = *impl_;
  if (m.coordinator == nullptr) {
    return Status::InvalidArgument("job " + m.id.ToHex() +
                                   " takes no savepoints");
  }
  if (Status s = m.CheckRunning(); !s.ok()) return s;
  return m.coordinator->TriggerSavepoint(options);
}

Status Job::DisposeSavepoint(const std::string& path) {
  Impl& m = *impl_;
  if (m.coordinator == nullptr) return weir::DisposeSavepoint(path);
  return m.coordinator->DisposeSavepoint(path);
}

CheckpointsInfo Job::Checkpoints() const {
  const Impl& m = *impl_;
  if (m.coordinator == nullptr) return CheckpointsInfo{};
  return m.coordinator->Info();
}

JobStatus Job::status() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->status;
}

JobInfo Job::Info() const {
  const Impl& m = *impl_;
  JobInfo info;
  info.id = m.id;
  info.name = m.graph->name;
  info.max_parallelism = m.graph->max_parallelism;
  info.state_backend = std::string(m.backends->name());
  {
    std::lock_guard<std::mutex> lock(m.mu);
    info.status = m.status;
    if (!m.failure.ok()) info.failure = std::string(m.failure.message());
    info.failures.assign(m.failures.begin(), m.failures.end());
    info.start_time_ms = m.start_ms;
    info.end_time_ms = m.end_ms;
  }
  info.restore = m.restore_progress.Get(WallMillis());
  // Before Start() has wired the tasks their counters may be in the making
  // (a restore may take long): none is read, all are 0 anyway.
  const bool wired = info.status != JobStatus::kCreated;
  for (size_t v = 0; v < m.plan.vertices.size(); ++v) {
    const engine::Vertex& vx = m.plan.vertices[v];
    VertexInfo vi;
    vi.name = vx.name;
    vi.parallelism = vx.parallelism;
    for (int node : vx.nodes) {
      const detail::NodeDef& n = m.graph->nodes[node];
      vi.operators.push_back({n.name, n.uid, m.plan.ids[node].ToHex()});
    }
    if (wired && v < m.counters.size() && m.counters[v] != nullptr) {
      const engine::VertexCounters& c = *m.counters[v];
      vi.records_in = c.records_in.load(std::memory_order_relaxed);
      vi.records_out = c.records_out.load(std::memory_order_relaxed);
      vi.late_records_dropped =
          c.late_records_dropped.load(std::memory_order_relaxed);
      vi.records_skipped = c.records_skipped.load(std::memory_order_relaxed);
      vi.running_subtasks = c.running_subtasks.load(std::memory_order_relaxed);
      {
        std::lock_guard<std::mutex> gauges(m.counters[v]->gauges_mu);
        for (int64_t n : c.pending_records) {
          if (n >= 0)
            vi.pending_records = std::max<int64_t>(vi.pending_records, 0) + n;
        }
        for (int64_t us : c.send_time_us) {
          vi.send_time_us = std::max(vi.send_time_us, us);
        }
      }
      std::lock_guard<std::mutex> lock(m.counters[v]->read_modes_mu);
      for (StateReadMode mode : c.read_modes) {
        if (mode == StateReadMode::kMmap) ++vi.state_read_mmap;
        if (mode == StateReadMode::kPread) ++vi.state_read_pread;
      }
    }
    info.vertices.push_back(std::move(vi));
  }
  return info;
}

// ---------------------------------------------------------------- builder

Result<std::unique_ptr<Job>> JobBuilder::Build(JobOptions options) const {
  Result<engine::Plan> plan = engine::PlanGraph(*graph_);
  if (!plan.ok())
    return plan.status().WithContext("job '" + graph_->name + "'");
  if (options.batch_size < 1 || options.channel_capacity < 1) {
    return Status::InvalidArgument(
        "batch size and channel capacity must be at least 1");
  }
  auto impl = std::make_unique<Job::Impl>();
  if (!options.restore_from.empty()) {
    Result<engine::RestoreSource> r =
        engine::LoadRestoreSource(options.restore_from);
    if (!r.ok()) return r.status();
    auto rp = std::make_shared<engine::RestorePlan>(engine::PlanRestore(
        *r, *graph_, *plan,
        PlanOptions(options, options.allow_non_restored_state)));
    if (!rp->status.ok()) return rp->status;
    impl->restore_plan = std::move(rp);
    // A claimed checkpoint: the job goes on in its directory. Otherwise a
    // new job, whose first checkpoint references none of the snapshot's
    // files (a claimed savepoint is disposed of after it).
    if (options.job_id.empty() &&
        r->metadata.kind == engine::SnapshotKind::kCheckpoint &&
        options.claim_mode != JobOptions::ClaimMode::kNoClaim) {
      options.job_id = r->metadata.job_id;
    }
    impl->restore = std::make_shared<engine::RestoreSource>(std::move(*r));
  }
  impl->id = options.job_id.empty() ? JobId::Generate() : options.job_id;
  if (options.clock == nullptr) options.clock = SystemClock();
  // The graph is copied, so that the builder may be changed or dropped.
  impl->graph = std::make_shared<const detail::GraphDef>(*graph_);
  impl->plan = std::move(*plan);
  impl->options = std::move(options);
  impl->backends =
      NewBackendFactory(impl->options.backend, impl->options.rocksdb);
  return std::make_unique<Job>(std::move(impl));
}

}  // namespace weir
