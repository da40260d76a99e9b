// SPDX-License-Identifier: Apache-2.0
//
// Job::QueryState: a read of one key of a keyed value state, run on the
// owning task's thread through its mailbox, so that no backend is ever
// touched from another thread.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "engine/job_impl.h"

namespace weir {
namespace {

// The answer of one query, handed from the task thread to the caller.
struct QueryCall {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<std::string>> result;

  void Set(Result<std::string> r) {
    {
      std::lock_guard<std::mutex> lock(mu);
      result.emplace(std::move(r));
    }
    cv.notify_all();
  }
};

// On the task thread, between records.
Result<std::string> ReadValue(KeyedStateBackend& backend, const OperatorId& op,
                              const std::string& uid,
                              const std::string& state_name,
                              const std::string& key) {
  std::optional<RawStateDescriptor> found;
  for (RawStateDescriptor& d : backend.States(op)) {
    if (d.name == state_name) found = std::move(d);
  }
  if (!found) {
    return Status::InvalidArgument("operator '" + uid +
                                   "' has no keyed state '" + state_name + "'");
  }
  if (found->type != StateType::kValue && found->type != StateType::kReducing &&
      found->type != StateType::kAggregating) {
    return Status::InvalidArgument(
        "state '" + state_name + "' of operator '" + uid + "' is a " +
        std::string(StateTypeName(found->type)) +
        " state; only value, reducing and aggregating states can be queried");
  }
  Result<RawValueState*> state = backend.GetValueState(op, *found);
  if (!state.ok()) return state.status();
  // The operator sets its key before each record and timer; put it back
  // anyway, so that nothing between records sees the queried key.
  const std::string saved(backend.current_key());
  Status s = backend.SetCurrentKey(key);
  if (!s.ok()) return s;
  std::string value;
  Result<bool> got = (*state)->Get("", &value);
  if (!saved.empty()) {
    Status back = backend.SetCurrentKey(saved);
    if (!back.ok() && got.ok()) return back;
  }
  if (!got.ok()) return got.status();
  if (!*got) {
    return Status::NotFound("state '" + state_name + "' of operator '" + uid +
                            "' has no value for this key");
  }
  return value;
}

}  // namespace

Result<std::string> Job::QueryState(std::string_view uid,
                                    std::string_view state_name,
                                    std::string_view key,
                                    std::chrono::milliseconds timeout) {
  Impl& m = *impl_;
  const detail::GraphDef& g = *m.graph;
  int node = -1;
  for (const detail::NodeDef& n : g.nodes) {
    if (!n.uid.empty() && n.uid == uid) node = n.index;
  }
  if (node < 0) {
    return Status::InvalidArgument("job " + m.id.ToHex() +
                                   " has no operator with uid '" +
                                   std::string(uid) + "'");
  }
  if (!g.nodes[node].keyed) {
    return Status::InvalidArgument("operator '" + std::string(uid) +
                                   "' has no keyed state");
  }
  if (Status s = m.CheckRunning(); !s.ok()) return s;
  const int vertex = m.plan.vertex_of[node];
  const int parallelism = m.plan.vertices[vertex].parallelism;
  const int subtask = SubtaskForKeyGroup(
      g.max_parallelism, parallelism, KeyGroupForKey(key, g.max_parallelism));
  auto call = std::make_shared<QueryCall>();
  {
    std::lock_guard<std::mutex> lock(m.tasks_mu);
    if (static_cast<size_t>(vertex) >= m.tasks.size() ||
        static_cast<size_t>(subtask) >= m.tasks[vertex].size()) {
      return Status::FailedPrecondition("job " + m.id.ToHex() +
                                        " is restarting");
    }
    engine::Task* task = m.tasks[vertex][subtask].get();
    task->Post([task, call, op = m.plan.ids[node], uid = std::string(uid),
                name = std::string(state_name), key = std::string(key)] {
      call->Set(ReadValue(*task->backend(), op, uid, name, key));
    });
  }
  // A task that ends never runs its mailbox again: look at the job's
  // status now and then instead of waiting out the whole timeout.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lock(call->mu);
  while (!call->result) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      return Status::DeadlineExceeded(
          "query of state '" + std::string(state_name) + "' of operator '" +
          std::string(uid) + "' got no answer within " +
          std::to_string(timeout.count()) + " ms");
    }
    call->cv.wait_until(
        lock, std::min(deadline, now + std::chrono::milliseconds(20)));
    if (!call->result) {
      lock.unlock();
      Status running = m.CheckRunning();
      lock.lock();
      if (!running.ok() && !call->result) return running;
    }
  }
  return std::move(*call->result);
}

}  // namespace weir
