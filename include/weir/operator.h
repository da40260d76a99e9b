// SPDX-License-Identifier: Apache-2.0
//
// The operator interface of the engine, in the spirit of Flink's
// StreamOperator. Most users never implement it: the job builder
// (stream.h) wraps user functions (functions.h) in the operators of
// detail/operators.h. It is public so that new operator kinds (windows,
// joins) can be written outside the engine.
//
// An operator belongs to one task thread. The engine calls Open(), then
// ProcessElement() / ProcessWatermark() / OnTimer() as input arrives, then
// Finish() at the end of its input, and Close() always. A non-OK status from
// any of them fails the job with that message.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include <weir/clock.h>
#include <weir/detail/channel.h>
#include <weir/operator_id.h>
#include <weir/raw_state.h>
#include <weir/status.h>

namespace weir {

// Timers of the current key, scoped to one operator. Registering the same
// (time, namespace) twice keeps one timer. Timers are keyed state: they are
// snapshotted with it and survive restore.
class TimerService {
 public:
  virtual ~TimerService() = default;
  virtual int64_t CurrentProcessingTime() const = 0;
  // The operator's current event time; kMinWatermark before the first.
  virtual int64_t CurrentWatermark() const = 0;
  virtual Status RegisterEventTimeTimer(int64_t time,
                                        std::string_view ns = {}) = 0;
  virtual Status RegisterProcessingTimeTimer(int64_t time,
                                             std::string_view ns = {}) = 0;
  virtual Status DeleteEventTimeTimer(int64_t time,
                                      std::string_view ns = {}) = 0;
  virtual Status DeleteProcessingTimeTimer(int64_t time,
                                           std::string_view ns = {}) = 0;
};

// What an operator knows of where it runs.
class OperatorContext {
 public:
  virtual ~OperatorContext() = default;
  virtual const OperatorId& operator_id() const = 0;
  virtual std::string_view name() const = 0;
  virtual int subtask() const = 0;
  virtual int parallelism() const = 0;
  virtual int max_parallelism() const = 0;
  // The task's state: keyed state (scoped to the current key) and operator
  // state. Use operator_id() for this operator's own states.
  virtual KeyedStateStore& state() = 0;
  // This operator's timers. Keyed operators only.
  virtual TimerService& timers() = 0;
  virtual Clock& clock() = 0;
  // Counters shown per vertex (JobInfo).
  virtual void CountLateRecordDropped() = 0;
  virtual void CountRecordSkipped() = 0;
  // A function that wakes this operator's task from its wait for input (a
  // source that returned SourceStatus::Waiting), callable from any thread
  // until the operator's Close() returns. Default: null (the task then
  // looks again after the wait it was told).
  virtual std::function<void()> Waker() { return {}; }
  // Gauges shown per vertex (JobInfo), Flink's FLIP-33 connector metrics:
  // the records a source has not read yet (its backlog, e.g. a consumer's
  // lag), and how long a sink's last send took until the external system
  // acknowledged it, in microseconds. The latest value per subtask counts.
  virtual void SetPendingRecords(int64_t records) { (void)records; }
  virtual void SetSendTime(int64_t micros) { (void)micros; }
};

// Where an operator sends what it produces.
class OutputBase {
 public:
  virtual ~OutputBase() = default;
  virtual void EmitWatermark(int64_t watermark) = 0;
};

template <class T>
class Output : public OutputBase {
 public:
  virtual void Collect(T&& value, int64_t timestamp) = 0;
  void Collect(const T& value, int64_t timestamp) {
    T copy(value);
    Collect(std::move(copy), timestamp);
  }
};

// The checkpoint id of the snapshot an operator takes after Finish()
// (StreamOperator::SnapshotState): no checkpoint's, since ids start at 1.
inline constexpr int64_t kFinalSnapshotId = 0;

class StreamOperator {
 public:
  virtual ~StreamOperator() = default;

  // Called once before any input. Operators get their state handles here.
  virtual Status Open(OperatorContext& ctx) {
    ctx_ = &ctx;
    return Status::OK();
  }
  // Event time moved to `watermark`. The engine has already fired this
  // operator's event-time timers up to it; the default forwards it.
  virtual Status ProcessWatermark(int64_t watermark) {
    if (output_ != nullptr) output_->EmitWatermark(watermark);
    return Status::OK();
  }
  // A timer of this operator fired; the store's current key is the timer's.
  virtual Status OnTimer(TimeDomain domain, int64_t time, std::string_view ns) {
    (void)domain;
    (void)time;
    (void)ns;
    return Status::OK();
  }
  // The input ended: emit what is still buffered.
  virtual Status Finish() { return Status::OK(); }
  // Write operator state (a source's offset, a sink's staged output) for
  // checkpoint `checkpoint_id`: the synchronous phase, on the task thread.
  // Also called once after Finish(), with kFinalSnapshotId: the state the
  // finished operator keeps in every later checkpoint (a source's offset at
  // its end). A finished operator hears of no more completed checkpoints,
  // so Finish() must have committed its output already.
  virtual Status SnapshotState(int64_t checkpoint_id) {
    (void)checkpoint_id;
    return Status::OK();
  }
  // Checkpoint `checkpoint_id` is complete (its `_metadata` is durable):
  // commit what was staged for it and for earlier ones. Called on the task
  // thread; ids only grow, and one call may stand for several checkpoints.
  virtual Status NotifyCheckpointComplete(int64_t checkpoint_id) {
    (void)checkpoint_id;
    return Status::OK();
  }
  // Called once at the end, also after a failure or cancellation.
  virtual Status Close() { return Status::OK(); }

  // Set by the engine before Open(); null for sinks.
  void set_output(OutputBase* output) { output_ = output; }

 protected:
  OperatorContext* ctx_ = nullptr;
  OutputBase* output_ = nullptr;
};

template <class In>
class OneInputOperator : public StreamOperator {
 public:
  // `value` may be moved from. `timestamp` is kNoTimestamp when unset.
  virtual Status ProcessElement(In& value, int64_t timestamp) = 0;
  // A hint that `value` comes to ProcessElement soon: the engine calls it
  // for the record a few places ahead in the input batch, so that a keyed
  // operator can have its state store start reading that record's state
  // (KeyedStateStore::PrefetchKey) while it processes the current one.
  // Must change nothing observable. Default: nothing.
  virtual void Prefetch(const In& value) { (void)value; }
};

// What a source reports after a poll.
struct SourceStatus {
  enum class Kind : uint8_t {
    kMore,     // call again right away
    kWaiting,  // nothing now; call again after `wait_us` or a wakeup
    kEnd,      // exhausted: the source emits nothing more
  };
  Kind kind = Kind::kMore;
  int64_t wait_us = 0;  // microseconds

  static SourceStatus More() { return {Kind::kMore, 0}; }
  static SourceStatus Waiting(int64_t ms) {
    return {Kind::kWaiting, ms * 1000};
  }
  static SourceStatus WaitingMicros(int64_t us) { return {Kind::kWaiting, us}; }
  static SourceStatus End() { return {Kind::kEnd, 0}; }
};

class SourceOperatorBase : public StreamOperator {
 public:
  // Emits at most `max_records` records (and watermarks) to the output.
  virtual Result<SourceStatus> Poll(int max_records) = 0;
  // True while the source has emitted nothing for its idle timeout.
  virtual bool idle() const { return false; }
  // Event time runs out: emits the maximum watermark, as at the end of a
  // bounded input, so that every event-time timer downstream fires (stop
  // with savepoint and --drain).
  virtual void EmitMaxWatermark() {}
};

}  // namespace weir
