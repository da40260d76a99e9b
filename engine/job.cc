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

#include "backends/memory/memory_backend.h"
#include "backends/rocksdb/rocksdb_backend.h"
#include "engine/plan.h"
#include "engine/task.h"
#include "weir/stream.h"

namespace weir {

struct Job::Impl {
  JobId id;
  std::shared_ptr<const detail::GraphDef> graph;
  engine::Plan plan;
  JobOptions options;
  std::string work_dir;  // RocksDB working directories; empty for memory

  std::vector<std::unique_ptr<engine::VertexCounters>> counters;
  std::vector<std::vector<std::unique_ptr<engine::Task>>> tasks;  // [v][s]
  std::vector<std::unique_ptr<detail::ChannelBase>> channels;

  mutable std::mutex mu;
  std::condition_variable cv;
  JobStatus status = JobStatus::kCreated;
  bool cancel_requested = false;
  Status failure;
  int running = 0;
  int64_t start_ms = 0;
  int64_t end_ms = 0;

  Status Wire();
  Status Wire(engine::Task* task, int vertex, int subtask);
  void OnTaskExit(const Status& s, bool cancelled);
  void CancelAll();
};

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

}  // namespace

// ---------------------------------------------------------------- wiring

Status Job::Impl::Wire() {
  const detail::GraphDef& g = *graph;
  const size_t nv = plan.vertices.size();
  counters.resize(nv);
  tasks.resize(nv);
  for (size_t v = 0; v < nv; ++v) {
    counters[v] = std::make_unique<engine::VertexCounters>();
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
      task->set_snapshot_observer(options.snapshot_observer.get(),
                                  static_cast<int>(v));
    }
  }
  return Status::OK();
}

// The task's state backend.
Status Job::Impl::Wire(engine::Task* task, int vertex, int subtask) {
  StateBackendOptions bo;
  bo.max_parallelism = graph->max_parallelism;
  bo.key_group_range = KeyGroupRangeForSubtask(
      graph->max_parallelism, plan.vertices[vertex].parallelism, subtask);
  bo.clock = options.clock;
  if (options.backend == JobOptions::Backend::kMemory) {
    Result<std::unique_ptr<KeyedStateBackend>> b = NewMemoryBackend(bo);
    if (!b.ok()) return b.status();
    task->set_backend(std::move(*b));
    return Status::OK();
  }
  const std::string dir = work_dir + "/vertex-" + std::to_string(vertex) + "-" +
                          std::to_string(subtask);
  Result<std::unique_ptr<KeyedStateBackend>> b =
      OpenRocksDBBackend(bo, options.rocksdb, dir);
  if (!b.ok()) return b.status();
  task->set_backend(std::move(*b));
  return Status::OK();
}

// ---------------------------------------------------------------- lifecycle

void Job::Impl::CancelAll() {
  for (auto& c : channels) c->Close();
  for (auto& vt : tasks) {
    for (auto& t : vt) t->Cancel();
  }
}

void Job::Impl::OnTaskExit(const Status& s, bool cancelled) {
  bool cancel_others = false;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!s.ok() && !cancelled && failure.ok() && !cancel_requested) {
      failure = s;
      cancel_others = true;
    }
    --running;
  }
  if (cancel_others) CancelAll();
  bool done;
  {
    std::lock_guard<std::mutex> lock(mu);
    done = running == 0;
  }
  if (!done) return;
  // The last task: the job is over. Tasks are joined by whoever waits.
  std::error_code ec;
  if (!work_dir.empty()) std::filesystem::remove_all(work_dir, ec);
  {
    std::lock_guard<std::mutex> lock(mu);
    end_ms = WallMillis();
    if (!failure.ok()) {
      status = JobStatus::kFailed;
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
  for (auto& vt : impl_->tasks) {
    for (auto& t : vt) t->Join();
  }
}

const JobId& Job::id() const { return impl_->id; }
const std::string& Job::name() const { return impl_->graph->name; }

Status Job::Start() {
  Impl& m = *impl_;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    if (m.status != JobStatus::kCreated) {
      return Status::InvalidArgument("job " + m.id.ToHex() +
                                     " was started already");
    }
  }
  if (m.options.backend == JobOptions::Backend::kRocksDB) {
    const std::string base =
        m.options.local_dir.empty() ? DefaultLocalDir() : m.options.local_dir;
    m.work_dir = base + "/job-" + m.id.ToHex();
  }
  Status s = m.Wire();
  if (!s.ok()) {
    m.tasks.clear();
    std::error_code ec;
    if (!m.work_dir.empty()) std::filesystem::remove_all(m.work_dir, ec);
    std::lock_guard<std::mutex> lock(m.mu);
    m.status = JobStatus::kFailed;
    m.failure = s;
    m.end_ms = WallMillis();
    m.cv.notify_all();
    return s;
  }
  int total = 0;
  for (auto& vt : m.tasks) total += static_cast<int>(vt.size());
  {
    std::lock_guard<std::mutex> lock(m.mu);
    m.status = JobStatus::kRunning;
    m.running = total;
    m.start_ms = WallMillis();
  }
  for (auto& vt : m.tasks) {
    for (auto& t : vt) {
      t->set_on_exit([&m](const Status& st, bool cancelled) {
        m.OnTaskExit(st, cancelled);
      });
    }
  }
  for (auto& vt : m.tasks) {
    for (auto& t : vt) t->Start();
  }
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
      return Status::InvalidArgument("job " + m.id.ToHex() +
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
    std::lock_guard<std::mutex> lock(m.mu);
    if (m.status == JobStatus::kCreated) {
      m.status = JobStatus::kCanceled;
      m.cv.notify_all();
      return;
    }
    if (m.status != JobStatus::kRunning) return;
    m.cancel_requested = true;
    m.status = JobStatus::kCanceling;
  }
  m.CancelAll();
}

Status Job::TriggerCheckpoint(int64_t checkpoint_id) {
  Impl& m = *impl_;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    if (m.status != JobStatus::kRunning) {
      return Status::InvalidArgument("job " + m.id.ToHex() + " is " +
                                     std::string(JobStatusName(m.status)) +
                                     ", not RUNNING");
    }
  }
  for (size_t v = 0; v < m.plan.vertices.size(); ++v) {
    if (!m.graph->nodes[m.plan.vertices[v].nodes[0]].is_source) continue;
    for (auto& t : m.tasks[v]) t->TriggerBarrier(checkpoint_id);
  }
  return Status::OK();
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
  {
    std::lock_guard<std::mutex> lock(m.mu);
    info.status = m.status;
    if (!m.failure.ok()) info.failure = std::string(m.failure.message());
    info.start_time_ms = m.start_ms;
    info.end_time_ms = m.end_ms;
  }
  for (size_t v = 0; v < m.plan.vertices.size(); ++v) {
    const engine::Vertex& vx = m.plan.vertices[v];
    VertexInfo vi;
    vi.name = vx.name;
    vi.parallelism = vx.parallelism;
    for (int node : vx.nodes) {
      const detail::NodeDef& n = m.graph->nodes[node];
      vi.operators.push_back({n.name, n.uid, m.plan.ids[node].ToHex()});
    }
    if (v < m.counters.size() && m.counters[v] != nullptr) {
      const engine::VertexCounters& c = *m.counters[v];
      vi.records_in = c.records_in.load(std::memory_order_relaxed);
      vi.records_out = c.records_out.load(std::memory_order_relaxed);
      vi.late_records_dropped =
          c.late_records_dropped.load(std::memory_order_relaxed);
      vi.records_skipped = c.records_skipped.load(std::memory_order_relaxed);
      vi.running_subtasks = c.running_subtasks.load(std::memory_order_relaxed);
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
  impl->id = options.job_id.empty() ? JobId::Generate() : options.job_id;
  if (options.clock == nullptr) options.clock = SystemClock();
  // The graph is copied, so that the builder may be changed or dropped.
  impl->graph = std::make_shared<const detail::GraphDef>(*graph_);
  impl->plan = std::move(*plan);
  impl->options = std::move(options);
  return std::make_unique<Job>(std::move(impl));
}

}  // namespace weir
