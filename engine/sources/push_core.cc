// SPDX-License-Identifier: Apache-2.0
#include <algorithm>
#include <condition_variable>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "lib/coding.h"
#include "weir/push_source.h"

namespace weir::internal {
namespace {

// The operator list state that holds the last position handed to the job.
constexpr char kStateName[] = "push-position";

using Clock = std::chrono::steady_clock;

}  // namespace

struct PushSourceCore::Rep {
  PushSourceOptions options;

  mutable std::mutex mu;
  std::condition_variable not_full;  // pushers wait for room or open
  std::condition_variable changed;   // durability, open, end
  bool opened = false;               // some attempt opened (positions are set)
  bool finished = false;             // Finish() was called
  bool ended = false;                // the job is over
  Status outcome;                    // the job's, once ended
  int64_t next = 1;                  // the next position to give out
  size_t queued = 0;                 // positions next - queued .. next - 1
  int64_t handed = 0;                // last position handed to the job
  int64_t durable = 0;
  // Positions handed to an attempt that failed and not covered by the
  // checkpoint the next attempt restored: (first, last), inclusive.
  std::vector<std::pair<int64_t, int64_t>> lost;
  // Checkpoint id -> last position handed at its barrier.
  std::map<int64_t, int64_t> snapshots;
  std::multimap<int64_t, std::function<void(const Status&)>> callbacks;
  std::function<void()> waker;

  std::string Name() const { return "push source '" + options.name + "'"; }

  bool Lost(int64_t position) const {
    for (const auto& [first, last] : lost) {
      if (position >= first && position <= last) return true;
    }
    return false;
  }

  // What WaitDurable answers for `position` now; nullopt while unknown.
  // REQUIRES: mu held.
  std::optional<Status> Outcome(int64_t position) const {
    if (Lost(position)) {
      return Status::Aborted(
          Name() + ": position " + std::to_string(position) +
          " was lost when the job restarted from a checkpoint that does not "
          "cover it; push the record again");
    }
    if (position <= durable) return Status::OK();
    if (!ended) return std::nullopt;
    // A job that finished processed every record it was handed (the last
    // ones are final without a checkpoint); stop with savepoint stops the
    // source after its barrier, so the savepoint holds them.
    if (outcome.ok() && position <= handed) return Status::OK();
    if (outcome.ok()) {
      return Status::Aborted(Name() + ": the job ended before position " +
                             std::to_string(position) + " was read");
    }
    return outcome.WithContext(Name() + ": position " +
                               std::to_string(position) + " is not durable");
  }

  // Takes the callbacks whose outcome is known now. REQUIRES: mu held.
  std::vector<std::pair<std::function<void(const Status&)>, Status>>
  DueCallbacks() {
    std::vector<std::pair<std::function<void(const Status&)>, Status>> due;
    for (auto it = callbacks.begin(); it != callbacks.end();) {
      std::optional<Status> s = Outcome(it->first);
      if (!s) {
        // Positions above durable wait unless something else is known.
        if (lost.empty() && !ended) break;
        ++it;
        continue;
      }
      due.emplace_back(std::move(it->second), std::move(*s));
      it = callbacks.erase(it);
    }
    return due;
  }
};

namespace {
void Run(
    std::vector<std::pair<std::function<void(const Status&)>, Status>> due) {
  for (auto& [fn, s] : due) fn(s);
}
}  // namespace

PushSourceCore::PushSourceCore(PushSourceOptions options)
    : rep_(std::make_unique<Rep>()) {
  rep_->options = std::move(options);
  if (rep_->options.capacity == 0) rep_->options.capacity = 1;
}

PushSourceCore::~PushSourceCore() = default;

Result<int64_t> PushSourceCore::Push(
    const std::function<void(int64_t)>& enqueue, int64_t timeout_ms) {
  Rep& r = *rep_;
  std::function<void()> wake;
  int64_t position = 0;
  {
    std::unique_lock<std::mutex> lock(r.mu);
    auto can = [&r] {
      return r.ended || r.finished ||
             (r.opened && r.queued < r.options.capacity);
    };
    if (!can()) {
      if (timeout_ms == 0) {
        if (!r.opened) {
          return Status::FailedPrecondition(
              r.Name() + " has not opened yet (the job is starting)");
        }
        // Retrying succeeds once the job has taken records from the queue.
        return Status::ResourceExhausted(r.Name() + " is full (" +
                                         std::to_string(r.options.capacity) +
                                         " records queued)");
      }
      if (timeout_ms < 0) {
        r.not_full.wait(lock, can);
      } else if (!r.not_full.wait_for(
                     lock, std::chrono::milliseconds(timeout_ms), can)) {
        return Status::DeadlineExceeded(r.Name() + ": no room within " +
                                        std::to_string(timeout_ms) + " ms");
      }
    }
    if (r.ended) {
      return Status::FailedPrecondition(r.Name() + ": the job is over");
    }
    if (r.finished) {
      return Status::FailedPrecondition(r.Name() + " was finished");
    }
    position = r.next++;
    enqueue(position);
    // Wake the task only when it may be waiting: the queue was empty.
    if (r.queued++ == 0) wake = r.waker;
    if (wake) wake();
  }
  return position;
}

Status PushSourceCore::Finish() {
  Rep& r = *rep_;
  std::lock_guard<std::mutex> lock(r.mu);
  if (r.ended)
    return Status::FailedPrecondition(r.Name() + ": the job is over");
  r.finished = true;
  if (r.waker) r.waker();
  r.not_full.notify_all();
  return Status::OK();
}

Status PushSourceCore::WaitReady(std::chrono::milliseconds timeout) {
  Rep& r = *rep_;
  std::unique_lock<std::mutex> lock(r.mu);
  if (!r.changed.wait_for(lock, timeout,
                          [&r] { return r.opened || r.ended; })) {
    return Status::DeadlineExceeded(r.Name() + " did not open within " +
                                    std::to_string(timeout.count()) + " ms");
  }
  if (r.opened) return Status::OK();
  if (!r.outcome.ok()) return r.outcome.WithContext(r.Name());
  return Status::FailedPrecondition(r.Name() + ": the job is over");
}

Status PushSourceCore::WaitDurable(int64_t position,
                                   std::chrono::milliseconds timeout) {
  Rep& r = *rep_;
  std::unique_lock<std::mutex> lock(r.mu);
  if (position < 1 || position >= r.next) {
    return Status::InvalidArgument(r.Name() + " gave out no position " +
                                   std::to_string(position));
  }
  std::optional<Status> s;
  const auto deadline = Clock::now() + timeout;
  while (!(s = r.Outcome(position))) {
    if (r.changed.wait_until(lock, deadline) == std::cv_status::timeout) {
      s = r.Outcome(position);
      if (s) break;
      return Status::DeadlineExceeded(
          r.Name() + ": position " + std::to_string(position) +
          " not durable within " + std::to_string(timeout.count()) +
          " ms (durable: " + std::to_string(r.durable) + ")");
    }
  }
  return std::move(*s);
}

void PushSourceCore::OnDurable(int64_t position,
                               std::function<void(const Status&)> done) {
  Rep& r = *rep_;
  Status now;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    if (position < 1 || position >= r.next) {
      now = Status::InvalidArgument(r.Name() + " gave out no position " +
                                    std::to_string(position));
    } else if (std::optional<Status> s = r.Outcome(position)) {
      now = std::move(*s);
    } else {
      r.callbacks.emplace(position, std::move(done));
      return;
    }
  }
  done(now);
}

int64_t PushSourceCore::durable_position() const {
  std::lock_guard<std::mutex> lock(rep_->mu);
  return rep_->durable;
}

int64_t PushSourceCore::last_position() const {
  std::lock_guard<std::mutex> lock(rep_->mu);
  return rep_->next - 1;
}

size_t PushSourceCore::queued() const {
  std::lock_guard<std::mutex> lock(rep_->mu);
  return rep_->queued;
}

Status PushSourceCore::Open(OperatorContext& ctx) {
  Rep& r = *rep_;
  if (ctx.parallelism() != 1) {
    return Status::InvalidArgument(r.Name() + " runs with parallelism 1, not " +
                                   std::to_string(ctx.parallelism()));
  }
  Result<RawOperatorListState*> list = ctx.state().GetOperatorListState(
      ctx.operator_id(), kStateName, OperatorStateMode::kUnion);
  if (!list.ok()) return list.status();
  std::vector<std::string> entries;
  Status s = (*list)->Get(&entries);
  if (!s.ok()) return s;
  int64_t restored = 0;
  for (const std::string& e : entries) {
    if (e.size() != 8) {
      return Status::Corruption(r.Name() + ": bad entry in state '" +
                                kStateName + "'");
    }
    restored =
        std::max(restored, static_cast<int64_t>(DecodeFixed64(e.data())));
  }
  std::vector<std::pair<std::function<void(const Status&)>, Status>> due;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    if (r.opened && r.handed > std::max(restored, r.durable)) {
      // A restart: what the failed attempt took after the restored cut is
      // gone with it.
      r.lost.emplace_back(std::max(restored, r.durable) + 1, r.handed);
    }
    r.durable = std::max(r.durable, restored);
    r.handed = restored;
    r.next = std::max(r.next, restored + 1);
    r.snapshots.clear();
    r.opened = true;
    r.waker = ctx.Waker();
    due = r.DueCallbacks();
  }
  r.changed.notify_all();
  r.not_full.notify_all();
  Run(std::move(due));
  return Status::OK();
}

size_t PushSourceCore::Take(size_t max, const std::function<void(size_t)>& take,
                            bool* end) {
  Rep& r = *rep_;
  size_t n = 0;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    n = std::min(max, r.queued);
    if (n > 0) {
      take(n);
      const bool was_full = r.queued >= r.options.capacity;
      r.queued -= n;
      r.handed = r.next - static_cast<int64_t>(r.queued) - 1;
      if (was_full) r.not_full.notify_all();
    }
    *end = r.finished && r.queued == 0;
  }
  return n;
}

Status PushSourceCore::Snapshot(OperatorContext& ctx, int64_t checkpoint_id) {
  Rep& r = *rep_;
  int64_t handed = 0;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    handed = r.handed;
    r.snapshots[checkpoint_id] = handed;
  }
  Result<RawOperatorListState*> list = ctx.state().GetOperatorListState(
      ctx.operator_id(), kStateName, OperatorStateMode::kUnion);
  if (!list.ok()) return list.status();
  std::string entry;
  PutFixed64(&entry, static_cast<uint64_t>(handed));
  return (*list)->Update(std::span<const std::string>(&entry, 1));
}

Status PushSourceCore::CheckpointComplete(int64_t checkpoint_id) {
  Rep& r = *rep_;
  std::vector<std::pair<std::function<void(const Status&)>, Status>> due;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    // One notification may stand for several checkpoints: the newest
    // snapshot at or below it counts.
    auto it = r.snapshots.upper_bound(checkpoint_id);
    if (it == r.snapshots.begin()) return Status::OK();
    const int64_t covered = std::prev(it)->second;
    r.snapshots.erase(r.snapshots.begin(), it);
    if (covered <= r.durable) return Status::OK();
    r.durable = covered;
    due = r.DueCallbacks();
  }
  r.changed.notify_all();
  Run(std::move(due));
  return Status::OK();
}

void PushSourceCore::Close() {
  std::lock_guard<std::mutex> lock(rep_->mu);
  rep_->waker = nullptr;
}

void PushSourceCore::JobEnded(const Status& outcome) {
  Rep& r = *rep_;
  std::vector<std::pair<std::function<void(const Status&)>, Status>> due;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    if (r.ended) return;
    r.ended = true;
    r.outcome = outcome;
    due = r.DueCallbacks();
  }
  r.changed.notify_all();
  r.not_full.notify_all();
  Run(std::move(due));
}

}  // namespace weir::internal
