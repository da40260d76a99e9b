// SPDX-License-Identifier: Apache-2.0
//
// The operators behind the job builder's calls: sources, map, flat map,
// filter, keyed process functions, running reduces and sinks.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <weir/functions.h>
#include <weir/operator.h>
#include <weir/serializer.h>
#include <weir/state.h>

namespace weir::detail {

template <class T>
struct IsResult : std::false_type {
  using value_type = T;
};
template <class T>
struct IsResult<Result<T>> : std::true_type {
  using value_type = T;
};

// The record type a callable returns, unwrapping Result<T>.
template <class F, class In>
using MapResultT = std::decay_t<
    typename IsResult<std::invoke_result_t<F, const In&>>::value_type>;

template <class K>
std::string SerializeKey(const K& key) {
  std::string out;
  Serializer<K>().Serialize(key, &out);
  return out;
}

// ---------------------------------------------------------------- source

template <class T>
class SourceOperator final : public SourceOperatorBase,
                             private SourceOutput<T> {
 public:
  SourceOperator(std::unique_ptr<SourceFunction<T>> fn,
                 WatermarkStrategy<T> strategy)
      : fn_(std::move(fn)), strategy_(std::move(strategy)) {}

  Status Open(OperatorContext& ctx) override {
    ctx_ = &ctx;
    out_ = static_cast<Output<T>*>(output_);
    last_activity_ms_ = ctx.clock().NowMillis();
    return fn_->Open(ctx);
  }

  Result<SourceStatus> Poll(int max_records) override {
    emitted_ = 0;
    Result<SourceStatus> r = fn_->Poll(*this, max_records);
    if (!r.ok()) return r;
    if (emitted_ > 0) {
      idle_ = false;
      last_activity_ms_ = ctx_->clock().NowMillis();
      if (strategy_.timestamp && max_timestamp_ != kNoTimestamp) {
        const int64_t wm =
            max_timestamp_ - strategy_.max_out_of_orderness_ms - 1;
        if (wm > watermark_) {
          watermark_ = wm;
          out_->EmitWatermark(wm);
        }
      }
    } else if (strategy_.idle_timeout_ms > 0 && !idle_ &&
               ctx_->clock().NowMillis() - last_activity_ms_ >=
                   strategy_.idle_timeout_ms) {
      idle_ = true;
    }
    if (r->kind == SourceStatus::Kind::kEnd && watermark_ != kMaxWatermark) {
      // A bounded source's end: event time runs out and every event-time
      // timer downstream fires (Flink does the same).
      watermark_ = kMaxWatermark;
      out_->EmitWatermark(kMaxWatermark);
    }
    return r;
  }

  bool idle() const override { return idle_; }
  void EmitMaxWatermark() override {
    if (watermark_ == kMaxWatermark) return;
    watermark_ = kMaxWatermark;
    out_->EmitWatermark(kMaxWatermark);
  }
  Status SnapshotState(int64_t checkpoint_id) override {
    return fn_->SnapshotState(*ctx_, checkpoint_id);
  }
  Status NotifyCheckpointComplete(int64_t checkpoint_id) override {
    return fn_->NotifyCheckpointComplete(checkpoint_id);
  }
  Status Close() override { return fn_->Close(); }

 private:
  void Collect(T value) override {
    int64_t ts = kNoTimestamp;
    if (strategy_.timestamp) ts = strategy_.timestamp(value);
    Emit(std::move(value), ts);
  }
  void CollectWithTimestamp(T value, int64_t timestamp) override {
    Emit(std::move(value), timestamp);
  }
  void Emit(T&& value, int64_t ts) {
    if (ts != kNoTimestamp &&
        (max_timestamp_ == kNoTimestamp || ts > max_timestamp_)) {
      max_timestamp_ = ts;
    }
    ++emitted_;
    out_->Collect(std::move(value), ts);
  }

  std::unique_ptr<SourceFunction<T>> fn_;
  WatermarkStrategy<T> strategy_;
  Output<T>* out_ = nullptr;
  int64_t max_timestamp_ = kNoTimestamp;
  int64_t watermark_ = kMinWatermark;
  int64_t last_activity_ms_ = 0;
  int emitted_ = 0;
  bool idle_ = false;
};

// ---------------------------------------------------------------- stateless

template <class In, class Out, class F>
class MapOperator final : public OneInputOperator<In> {
 public:
  explicit MapOperator(F f) : f_(std::move(f)) {}

  Status ProcessElement(In& value, int64_t timestamp) override {
    auto* out = static_cast<Output<Out>*>(this->output_);
    if constexpr (IsResult<std::invoke_result_t<F, const In&>>::value) {
      auto r = f_(std::as_const(value));
      if (!r.ok()) return r.status();
      out->Collect(std::move(*r), timestamp);
    } else {
      out->Collect(f_(std::as_const(value)), timestamp);
    }
    return Status::OK();
  }

 private:
  F f_;
};

template <class In, class F>
class FilterOperator final : public OneInputOperator<In> {
 public:
  explicit FilterOperator(F f) : f_(std::move(f)) {}

  Status ProcessElement(In& value, int64_t timestamp) override {
    if (f_(std::as_const(value))) {
      static_cast<Output<In>*>(this->output_)
          ->Collect(std::move(value), timestamp);
    }
    return Status::OK();
  }

 private:
  F f_;
};

// Collects into an Output with the timestamp of the record being processed.
template <class T>
class TimestampedCollector final : public Collector<T> {
 public:
  void Collect(T value) override { out_->Collect(std::move(value), ts_); }
  void Set(Output<T>* out, int64_t ts) {
    out_ = out;
    ts_ = ts;
  }

 private:
  Output<T>* out_ = nullptr;
  int64_t ts_ = kNoTimestamp;
};

// F: Status(const In&, Collector<Out>&), or void(const In&, Collector<Out>&).
template <class In, class Out, class F>
class FlatMapOperator final : public OneInputOperator<In> {
 public:
  explicit FlatMapOperator(F f) : f_(std::move(f)) {}

  Status ProcessElement(In& value, int64_t timestamp) override {
    collector_.Set(static_cast<Output<Out>*>(this->output_), timestamp);
    using R = std::invoke_result_t<F, const In&, Collector<Out>&>;
    if constexpr (std::is_same_v<R, Status>) {
      return f_(std::as_const(value), collector_);
    } else {
      f_(std::as_const(value), collector_);
      return Status::OK();
    }
  }

 private:
  F f_;
  TimestampedCollector<Out> collector_;
};

// ---------------------------------------------------------------- keyed

template <class K, class In, class Out>
class KeyedProcessOperator final
    : public OneInputOperator<In>,
      private KeyedProcessFunction<K, In, Out>::Context {
 public:
  KeyedProcessOperator(std::function<K(const In&)> key,
                       std::unique_ptr<KeyedProcessFunction<K, In, Out>> fn)
      : key_(std::move(key)), fn_(std::move(fn)) {}

  Status Open(OperatorContext& ctx) override {
    this->ctx_ = &ctx;
    prefetch_ = ctx.state().prefetches_keys();
    return fn_->Open(ctx);
  }

  void Prefetch(const In& value) override {
    if (!prefetch_) return;
    ahead_bytes_.clear();
    Serializer<K>().Serialize(key_(value), &ahead_bytes_);
    this->ctx_->state().PrefetchKey(ahead_bytes_);
  }

  Status ProcessElement(In& value, int64_t timestamp) override {
    current_key_ = key_(value);
    key_bytes_.clear();
    Serializer<K>().Serialize(current_key_, &key_bytes_);
    Status s = this->ctx_->state().SetCurrentKey(key_bytes_);
    if (!s.ok()) return s;
    timestamp_ = timestamp;
    timer_ns_ = {};
    collector_.Set(static_cast<Output<Out>*>(this->output_), timestamp);
    return fn_->ProcessElement(value, *this, collector_);
  }

  Status OnTimer(TimeDomain domain, int64_t time,
                 std::string_view ns) override {
    timer_ns_ = ns;
    const std::string_view bytes = this->ctx_->state().current_key();
    Status s = Serializer<K>().Deserialize(Serializer<K>::kVersion, bytes,
                                           &current_key_);
    if (!s.ok()) return s;
    timestamp_ = domain == TimeDomain::kEventTime ? time : kNoTimestamp;
    collector_.Set(static_cast<Output<Out>*>(this->output_), timestamp_);
    return fn_->OnTimer(time, domain, *this, collector_);
  }

  Status Close() override { return fn_->Close(); }

 private:
  const K& current_key() const override { return current_key_; }
  int64_t timestamp() const override { return timestamp_; }
  TimerService& timers() override { return this->ctx_->timers(); }
  std::string_view timer_namespace() const override { return timer_ns_; }

  std::function<K(const In&)> key_;
  std::unique_ptr<KeyedProcessFunction<K, In, Out>> fn_;
  TimestampedCollector<Out> collector_;
  K current_key_{};
  std::string key_bytes_;
  bool prefetch_ = false;    // the store takes key hints
  std::string ahead_bytes_;  // the hinted key, serialized
  std::string_view timer_ns_;
  int64_t timestamp_ = kNoTimestamp;
};

// Flink's KeyedStream.reduce: a running reduce that emits the new value of
// the record's key for every record.
template <class K, class T>
class KeyedReduceFunction final : public KeyedProcessFunction<K, T, T> {
 public:
  explicit KeyedReduceFunction(std::function<T(const T&, const T&)> reduce)
      : reduce_(std::move(reduce)) {}

  Status Open(OperatorContext& ctx) override {
    Result<ValueState<T>> state = GetState(ctx.state(), ctx.operator_id(),
                                           ValueStateDescriptor<T>{"reduce"});
    if (!state.ok()) return state.status();
    state_.emplace(std::move(*state));
    return Status::OK();
  }
  Status ProcessElement(
      const T& value, typename KeyedProcessFunction<K, T, T>::Context& /*ctx*/,
      Collector<T>& out) override {
    Result<std::optional<T>> current = state_->Value();
    if (!current.ok()) return current.status();
    T next = current->has_value() ? reduce_(**current, value) : value;
    Status s = state_->Update(next);
    if (!s.ok()) return s;
    out.Collect(std::move(next));
    return Status::OK();
  }

 private:
  std::function<T(const T&, const T&)> reduce_;
  std::optional<ValueState<T>> state_;
};

// ---------------------------------------------------------------- sink

template <class T>
class SinkOperator final : public OneInputOperator<T> {
 public:
  explicit SinkOperator(std::unique_ptr<SinkFunction<T>> fn)
      : fn_(std::move(fn)) {}

  Status Open(OperatorContext& ctx) override {
    this->ctx_ = &ctx;
    return fn_->Open(ctx);
  }
  Status ProcessElement(T& value, int64_t timestamp) override {
    return fn_->Invoke(value, timestamp);
  }
  Status Finish() override { return fn_->Finish(); }
  Status SnapshotState(int64_t checkpoint_id) override {
    return fn_->SnapshotState(*this->ctx_, checkpoint_id);
  }
  Status NotifyCheckpointComplete(int64_t checkpoint_id) override {
    return fn_->NotifyCheckpointComplete(checkpoint_id);
  }
  Status Close() override { return fn_->Close(); }

 private:
  std::unique_ptr<SinkFunction<T>> fn_;
};

}  // namespace weir::detail
