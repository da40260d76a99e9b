// SPDX-License-Identifier: Apache-2.0
//
// The functions users write: sources, sinks, keyed process functions, and
// watermark strategies. Map, FlatMap, Filter and KeyBy take plain callables
// (see stream.h). A function that returns a non-OK Status (or a callable
// that throws) fails the job with that message.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>

#include <weir/operator.h>
#include <weir/result.h>

namespace weir {

template <class T>
class Collector {
 public:
  virtual ~Collector() = default;
  virtual void Collect(T value) = 0;
};

// ---------------------------------------------------------------- sources

// Where a source puts its records. The event time of a record comes from the
// source's WatermarkStrategy, or from CollectWithTimestamp.
template <class T>
class SourceOutput {
 public:
  virtual ~SourceOutput() = default;
  virtual void Collect(T value) = 0;
  virtual void CollectWithTimestamp(T value, int64_t timestamp) = 0;
};

// A replayable source: it keeps its position (offset) in operator state,
// written by SnapshotState() and read back in Open(), so a restored job
// continues where the snapshot was taken. After its last Poll() (it
// returned End) SnapshotState() is called once more: the offset it then
// writes, at its end, is what later checkpoints keep of it.
template <class T>
class SourceFunction {
 public:
  virtual ~SourceFunction() = default;
  virtual Status Open(OperatorContext& ctx) {
    (void)ctx;
    return Status::OK();
  }
  // Emits at most `max_records` records.
  virtual Result<SourceStatus> Poll(SourceOutput<T>& out, int max_records) = 0;
  virtual Status SnapshotState(OperatorContext& ctx) {
    (void)ctx;
    return Status::OK();
  }
  // The same, for a source that needs the checkpoint's id (to learn later
  // when it completes). Default: SnapshotState(ctx).
  virtual Status SnapshotState(OperatorContext& ctx, int64_t checkpoint_id) {
    (void)checkpoint_id;
    return SnapshotState(ctx);
  }
  // Checkpoint `checkpoint_id` is complete (durable). On the task thread;
  // ids only grow, and one call may stand for several checkpoints. Not
  // called for savepoints.
  virtual Status NotifyCheckpointComplete(int64_t checkpoint_id) {
    (void)checkpoint_id;
    return Status::OK();
  }
  virtual Status Close() { return Status::OK(); }
};

// How a source assigns event time and generates watermarks (Flink's
// WatermarkStrategy). After each batch of records the source emits the
// watermark max_timestamp - max_out_of_orderness - 1 if it moved forward;
// at its end it emits kMaxWatermark.
template <class T>
struct WatermarkStrategy {
  // Event time of a record, in ms. Null: records carry no event time.
  std::function<int64_t(const T&)> timestamp;
  // Default: 0 (timestamps ascend).
  int64_t max_out_of_orderness_ms = 0;
  // A source subtask that emitted nothing for this long (processing time)
  // is marked idle, so that it does not hold back event time downstream.
  // Default: 0, never idle.
  int64_t idle_timeout_ms = 0;

  static WatermarkStrategy NoWatermarks() { return {}; }
  static WatermarkStrategy ForBoundedOutOfOrderness(
      int64_t max_out_of_orderness_ms,
      std::function<int64_t(const T&)> timestamp) {
    return {std::move(timestamp), max_out_of_orderness_ms, 0};
  }
  static WatermarkStrategy ForMonotonousTimestamps(
      std::function<int64_t(const T&)> timestamp) {
    return {std::move(timestamp), 0, 0};
  }
  WatermarkStrategy WithIdleness(int64_t idle_timeout) const {
    WatermarkStrategy copy = *this;
    copy.idle_timeout_ms = idle_timeout;
    return copy;
  }
};

// ---------------------------------------------------------------- sinks

template <class T>
class SinkFunction {
 public:
  virtual ~SinkFunction() = default;
  virtual Status Open(OperatorContext& ctx) {
    (void)ctx;
    return Status::OK();
  }
  virtual Status Invoke(const T& value, int64_t timestamp) = 0;
  // Checkpoint `checkpoint_id` cuts the stream here: stage what was written
  // since the previous one (pre-commit) and keep in operator state what a
  // restore needs to commit or discard it. On the task thread. Also called
  // once after Finish() with kFinalSnapshotId (operator.h); Finish() has
  // made everything visible by then, so there is nothing to stage.
  virtual Status SnapshotState(OperatorContext& ctx, int64_t checkpoint_id) {
    (void)ctx;
    (void)checkpoint_id;
    return Status::OK();
  }
  // Checkpoint `checkpoint_id` is durable: commit what was staged for it
  // and earlier ones. One call may stand for several checkpoints.
  virtual Status NotifyCheckpointComplete(int64_t checkpoint_id) {
    (void)checkpoint_id;
    return Status::OK();
  }
  // The input ended: make everything written visible.
  virtual Status Finish() { return Status::OK(); }
  virtual Status Close() { return Status::OK(); }
};

// ---------------------------------------------------------------- keyed

// Flink's KeyedProcessFunction: called per record with the record's key
// set as the current key, so keyed state handles opened in Open() read and
// write that key's state; timers fire OnTimer with their key set.
template <class K, class In, class Out>
class KeyedProcessFunction {
 public:
  class Context {
   public:
    virtual ~Context() = default;
    virtual const K& current_key() const = 0;
    // The record's (or the firing timer's) timestamp; kNoTimestamp if none.
    virtual int64_t timestamp() const = 0;
    virtual TimerService& timers() = 0;
    // In OnTimer: the namespace the timer was registered in.
    virtual std::string_view timer_namespace() const { return {}; }
  };

  virtual ~KeyedProcessFunction() = default;
  // Open state here: GetState(ctx.state(), ctx.operator_id(), descriptor).
  virtual Status Open(OperatorContext& ctx) {
    (void)ctx;
    return Status::OK();
  }
  virtual Status ProcessElement(const In& value, Context& ctx,
                                Collector<Out>& out) = 0;
  virtual Status OnTimer(int64_t time, TimeDomain domain, Context& ctx,
                         Collector<Out>& out) {
    (void)time;
    (void)domain;
    (void)ctx;
    (void)out;
    return Status::OK();
  }
  virtual Status Close() { return Status::OK(); }
};

}  // namespace weir
