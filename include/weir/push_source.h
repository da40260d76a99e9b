// SPDX-License-Identifier: Apache-2.0
//
// PushSource: a source that the host program feeds from its own threads,
// with acknowledgements when a record's effect is durable, like a database
// commit.
//
//   auto events = weir::PushSource<Event>::Create({.name = "events"});
//   b.AddSource(events, "events").Uid("events").KeyBy(...)...;
//   auto job = b.Build(options); (*job)->Start();
//   Result<int64_t> pos = events->Push(event);        // any thread
//   Status s = events->WaitDurable(*pos, 2s);         // OK once checkpointed
//
// Positions. Every accepted record gets a position: 1, 2, 3, ... in push
// order across all threads, continuing above the restored ones after a
// restore. The source hands records to the job in position order.
//
// Durability. A position is durable once a completed checkpoint covers it:
// the source's snapshot at barrier N recorded the last position it had
// handed to the job, and N completed. Its effect on state (and on
// two-phase sinks) then survives any failure. WaitDurable() and OnDurable()
// report it; durable_position() is the highest durable position.
//
// Failures. On a restart (the restart strategy, in the same process) the
// job goes back to its latest completed checkpoint: records handed to the
// job after it are lost, and WaitDurable/OnDurable report Aborted for
// them; the host pushes them again (they get new positions). Records still
// queued were never handed to the job and stay queued. After a crash of
// the process, a new PushSource in a job restored from the latest
// checkpoint learns the last durable position when it opens
// (WaitReady(), then durable_position()): the host pushes again every
// record above it. Keeping them until they are durable is the host's job
// (docs/embedding.md).
//
// A push source runs as one subtask (parallelism 1): its snapshot is then
// an exact cut of the positions. Use Rebalance() or KeyBy() after it to
// spread the work.
//
// One PushSource serves one run of one job: create a new one for each
// Build().
//
// Thread safety: every public method may be called from any thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <weir/functions.h>
#include <weir/operator.h>
#include <weir/result.h>
#include <weir/status.h>
#include <weir/stream.h>

namespace weir {

struct PushSourceOptions {
  // Named in errors. Default: "push source".
  std::string name = "push source";
  // Records queued before Push() blocks and TryPush() reports the queue
  // full (ResourceExhausted). Default: 10000. Must be >= 1.
  size_t capacity = 10000;
};

namespace internal {

// The untyped half of PushSource: positions, the queue's bookkeeping (the
// typed half keeps the records, under this object's lock, through the
// callbacks below), durability and its waiters. engine/sources/push_core.cc.
class PushSourceCore {
 public:
  explicit PushSourceCore(PushSourceOptions options);
  ~PushSourceCore();
  PushSourceCore(const PushSourceCore&) = delete;
  PushSourceCore& operator=(const PushSourceCore&) = delete;

  // ---- Host side.
  // Assigns the next position and calls enqueue(position) under the lock.
  // timeout_ms < 0: wait as long as needed; 0: do not wait.
  Result<int64_t> Push(const std::function<void(int64_t)>& enqueue,
                       int64_t timeout_ms);
  Status Finish();
  Status WaitReady(std::chrono::milliseconds timeout);
  Status WaitDurable(int64_t position, std::chrono::milliseconds timeout);
  void OnDurable(int64_t position, std::function<void(const Status&)> done);
  int64_t durable_position() const;
  int64_t last_position() const;
  size_t queued() const;

  // ---- Task side (the source's task thread).
  Status Open(OperatorContext& ctx);
  // Calls take(n) under the lock with n = min(max, queued): take moves the
  // n oldest records out. Sets *end when the input is finished and empty.
  size_t Take(size_t max, const std::function<void(size_t)>& take, bool* end);
  Status Snapshot(OperatorContext& ctx, int64_t checkpoint_id);
  Status CheckpointComplete(int64_t checkpoint_id);
  void Close();
  // The job is over with `outcome` (Job::Wait()'s).
  void JobEnded(const Status& outcome);

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace internal

template <class T>
class PushSource final : public std::enable_shared_from_this<PushSource<T>> {
 public:
  static std::shared_ptr<PushSource<T>> Create(PushSourceOptions options = {}) {
    return std::shared_ptr<PushSource<T>>(
        new PushSource<T>(std::move(options)));
  }
  PushSource(const PushSource&) = delete;
  PushSource& operator=(const PushSource&) = delete;

  // Queues `record` and returns its position. Blocks while the queue is
  // full, and until the source has opened (a restore decides where
  // positions continue). FailedPrecondition once Finish() was called or the
  // job is over.
  Result<int64_t> Push(T record) { return PushImpl(std::move(record), -1); }
  // The same, waiting at most `timeout`: DeadlineExceeded then, and the
  // record is not queued.
  Result<int64_t> Push(T record, std::chrono::milliseconds timeout) {
    return PushImpl(std::move(record), std::max<int64_t>(timeout.count(), 1));
  }
  // Never blocks. ResourceExhausted when the queue is full (the message
  // says "is full"): retry once the job has taken records from it.
  // FailedPrecondition before the source has opened, or after the end.
  Result<int64_t> TryPush(T record) { return PushImpl(std::move(record), 0); }

  // The input is complete: the source ends once the queue is drained, and
  // with it the job once everything downstream has finished. Pushes fail
  // from now on. Records handed to the job after the last checkpoint
  // become final (OnDurable/WaitDurable OK) when the job finishes.
  Status Finish() { return core_.Finish(); }

  // Waits until the source has opened in its job: after a restore,
  // durable_position() is then the restored one. DeadlineExceeded after
  // `timeout`; the job's outcome if it ended first.
  Status WaitReady(std::chrono::milliseconds timeout) {
    return core_.WaitReady(timeout);
  }

  // Waits until `position` is durable (OK), or lost in a restart
  // (Aborted: push the record again), or the job ended without making it
  // durable (the job's failure, or Aborted when cancelled), or `timeout`
  // passed (DeadlineExceeded). InvalidArgument for a position never
  // returned.
  Status WaitDurable(int64_t position, std::chrono::milliseconds timeout) {
    return core_.WaitDurable(position, timeout);
  }
  // Calls `done` once with what WaitDurable would return (never
  // DeadlineExceeded): on this thread if that is known now, else on the
  // source's task thread (keep it short; do not Push from it) or on the
  // thread that ends the job.
  void OnDurable(int64_t position, std::function<void(const Status&)> done) {
    core_.OnDurable(position, std::move(done));
  }

  // The highest durable position (0: none yet).
  int64_t durable_position() const { return core_.durable_position(); }
  // The highest position given out (0: none yet).
  int64_t last_position() const { return core_.last_position(); }
  // Records queued, not yet handed to the job.
  size_t queued() const { return core_.queued(); }

  // For JobBuilder::AddSource: one source function (parallelism 1).
  std::unique_ptr<SourceFunction<T>> NewFunction() {
    return std::make_unique<Function>(this->shared_from_this());
  }
  // For JobBuilder::AddSource, called when the job is over.
  void JobEnded(const Status& outcome) { core_.JobEnded(outcome); }

 private:
  class Function final : public SourceFunction<T> {
   public:
    explicit Function(std::shared_ptr<PushSource<T>> source)
        : source_(std::move(source)) {}
    Status Open(OperatorContext& ctx) override {
      return source_->core_.Open(ctx);
    }
    Result<SourceStatus> Poll(SourceOutput<T>& out, int max_records) override {
      bool end = false;
      batch_.clear();
      source_->core_.Take(
          static_cast<size_t>(max_records),
          [this](size_t n) {
            auto& q = source_->queue_;
            for (size_t i = 0; i < n; ++i) {
              batch_.push_back(std::move(q.front()));
              q.pop_front();
            }
          },
          &end);
      for (T& record : batch_) out.Collect(std::move(record));
      if (!batch_.empty()) return SourceStatus::More();
      if (end) return SourceStatus::End();
      // A push wakes the task (OperatorContext::Waker).
      return SourceStatus::Waiting(100);
    }
    Status SnapshotState(OperatorContext& ctx, int64_t checkpoint_id) override {
      return source_->core_.Snapshot(ctx, checkpoint_id);
    }
    Status NotifyCheckpointComplete(int64_t checkpoint_id) override {
      return source_->core_.CheckpointComplete(checkpoint_id);
    }
    Status Close() override {
      source_->core_.Close();
      return Status::OK();
    }

   private:
    std::shared_ptr<PushSource<T>> source_;
    std::vector<T> batch_;
  };

  explicit PushSource(PushSourceOptions options) : core_(std::move(options)) {}

  Result<int64_t> PushImpl(T&& record, int64_t timeout_ms) {
    return core_.Push(
        [this, &record](int64_t) { queue_.push_back(std::move(record)); },
        timeout_ms);
  }

  internal::PushSourceCore core_;
  std::deque<T> queue_;  // guarded by core_'s lock
};

template <class T>
DataStream<T> JobBuilder::AddSource(std::shared_ptr<PushSource<T>> source,
                                    std::string name,
                                    WatermarkStrategy<T> watermarks) {
  std::function<std::unique_ptr<SourceFunction<T>>()> factory =
      [source]() -> std::unique_ptr<SourceFunction<T>> {
    return source->NewFunction();
  };
  DataStream<T> out =
      AddSource<T>(std::move(factory), std::move(name), std::move(watermarks),
                   /*non_parallel=*/true);
  graph_->nodes.back().on_job_end = [source](const Status& outcome) {
    source->JobEnded(outcome);
  };
  return out;
}

}  // namespace weir
