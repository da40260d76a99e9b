// SPDX-License-Identifier: Apache-2.0
//
// The keyed function behind KeyedStream::Window(): per key and window, one
// accumulator in keyed state under the window's namespace, and a timer at
// the window's end (and one at its cleanup time with allowed lateness).
// Session windows keep the key's open windows in a map state and merge
// accumulators when a record joins windows together.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <weir/functions.h>
#include <weir/state.h>
#include <weir/window.h>

namespace weir::detail {

// How records fold into an accumulator.
template <class In, class Acc, class Out>
struct WindowCombiner {
  std::function<Acc(const In&)> init;
  std::function<void(Acc*, const In&)> add;
  std::function<Acc(const Acc&, const Acc&)> merge;  // sessions
  std::function<Out(const Acc&)> result;
};

template <class K, class In, class Acc, class Out, class AccS>
class WindowFunction final
    : public KeyedProcessFunction<K, In, WindowResult<K, Out>> {
  using Base = KeyedProcessFunction<K, In, WindowResult<K, Out>>;
  using Context = typename Base::Context;

 public:
  WindowFunction(WindowAssigner assigner, int64_t allowed_lateness,
                 WindowCombiner<In, Acc, Out> combiner, std::string name)
      : assigner_(assigner),
        lateness_(assigner.event_time ? allowed_lateness : 0),
        combiner_(std::move(combiner)),
        name_(std::move(name)) {}

  Status Open(OperatorContext& ctx) override {
    ctx_ = &ctx;
    auto acc = GetState(ctx.state(), ctx.operator_id(),
                        ValueStateDescriptor<Acc, AccS>{"window-contents"});
    if (!acc.ok()) return acc.status();
    acc_.emplace(std::move(*acc));
    if (assigner_.merging()) {
      auto sessions =
          GetState(ctx.state(), ctx.operator_id(),
                   MapStateDescriptor<int64_t, int64_t>{"session-windows"});
      if (!sessions.ok()) return sessions.status();
      sessions_.emplace(std::move(*sessions));
    }
    return Status::OK();
  }

  Status ProcessElement(const In& value, Context& ctx,
                        Collector<WindowResult<K, Out>>& out) override {
    int64_t time;
    if (assigner_.event_time) {
      time = ctx.timestamp();
      if (time == kNoTimestamp) {
        return Status::InvalidArgument(
            "window '" + name_ +
            "' is an event-time window but a record has no event time; give "
            "the source a timestamp (watermark strategy)");
      }
    } else {
      time = ctx.timers().CurrentProcessingTime();
    }
    if (assigner_.merging()) return AddToSession(value, time, ctx, out);
    bool added = false;
    for (const TimeWindow& w : assigner_.Assign(time)) {
      if (IsLate(w, ctx)) continue;
      added = true;
      Status s = AddTo(w, value);
      if (!s.ok()) return s;
      // A late record within the allowed lateness fires the window again
      // at once (Flink's EventTimeTrigger); its cleanup timer is set.
      if (assigner_.event_time &&
          w.max_timestamp() <= ctx.timers().CurrentWatermark()) {
        s = Emit(w, ctx, out);
        if (s.ok() && lateness_ > 0) {
          s = ctx.timers().RegisterEventTimeTimer(w.max_timestamp() + lateness_,
                                                  Ns(w));
        }
      } else {
        s = RegisterTimers(w, ctx);
      }
      if (!s.ok()) return s;
    }
    if (!added) ctx_->CountLateRecordDropped();
    return Status::OK();
  }

  Status OnTimer(int64_t time, TimeDomain, Context& ctx,
                 Collector<WindowResult<K, Out>>& out) override {
    TimeWindow w;
    Status s =
        Serializer<TimeWindow>().Deserialize(1, ctx.timer_namespace(), &w);
    if (!s.ok()) return s;
    if (time == w.max_timestamp()) {
      s = Emit(w, ctx, out);
      if (!s.ok()) return s;
    }
    if (time == w.max_timestamp() + lateness_) return Clear(w);
    return Status::OK();
  }

 private:
  std::string Ns(const TimeWindow& w) const {
    std::string ns;
    Serializer<TimeWindow>().Serialize(w, &ns);
    return ns;
  }

  bool IsLate(const TimeWindow& w, Context& ctx) const {
    return assigner_.event_time &&
           w.max_timestamp() + lateness_ <= ctx.timers().CurrentWatermark();
  }

  Status AddTo(const TimeWindow& w, const In& value) {
    acc_->SetNamespace(Ns(w));
    Result<std::optional<Acc>> current = acc_->Value();
    if (!current.ok()) return current.status();
    if (current->has_value()) {
      combiner_.add(&**current, value);
      return acc_->Update(**current);
    }
    return acc_->Update(combiner_.init(value));
  }

  Status RegisterTimers(const TimeWindow& w, Context& ctx) {
    const std::string ns = Ns(w);
    TimerService& t = ctx.timers();
    if (!assigner_.event_time) {
      return t.RegisterProcessingTimeTimer(w.max_timestamp(), ns);
    }
    Status s = t.RegisterEventTimeTimer(w.max_timestamp(), ns);
    if (s.ok() && lateness_ > 0) {
      s = t.RegisterEventTimeTimer(w.max_timestamp() + lateness_, ns);
    }
    return s;
  }

  Status DeleteTimers(const TimeWindow& w, Context& ctx) {
    const std::string ns = Ns(w);
    TimerService& t = ctx.timers();
    if (!assigner_.event_time) {
      return t.DeleteProcessingTimeTimer(w.max_timestamp(), ns);
    }
    Status s = t.DeleteEventTimeTimer(w.max_timestamp(), ns);
    if (s.ok() && lateness_ > 0) {
      s = t.DeleteEventTimeTimer(w.max_timestamp() + lateness_, ns);
    }
    return s;
  }

  Status Emit(const TimeWindow& w, Context& ctx,
              Collector<WindowResult<K, Out>>& out) {
    acc_->SetNamespace(Ns(w));
    Result<std::optional<Acc>> acc = acc_->Value();
    if (!acc.ok()) return acc.status();
    if (!acc->has_value()) return Status::OK();
    out.Collect(
        WindowResult<K, Out>{ctx.current_key(), w, combiner_.result(**acc)});
    if (lateness_ == 0) return Clear(w);
    return Status::OK();
  }

  Status Clear(const TimeWindow& w) {
    acc_->SetNamespace(Ns(w));
    Status s = acc_->Clear();
    if (s.ok() && sessions_) {
      Result<std::optional<int64_t>> end = sessions_->Get(w.start);
      if (!end.ok()) return end.status();
      if (end->has_value() && **end == w.end) s = sessions_->Remove(w.start);
    }
    return s;
  }

  Status AddToSession(const In& value, int64_t time, Context& ctx,
                      Collector<WindowResult<K, Out>>& out) {
    TimeWindow merged{time, time + assigner_.gap_ms};
    std::vector<TimeWindow> overlapping;
    Status s = sessions_->ForEach(
        [&](const int64_t& start, const int64_t& end) -> Status {
          const TimeWindow w{start, end};
          if (w.Intersects(merged)) overlapping.push_back(w);
          return Status::OK();
        });
    if (!s.ok()) return s;
    for (const TimeWindow& w : overlapping) merged = merged.Cover(w);
    if (IsLate(merged, ctx)) {
      ctx_->CountLateRecordDropped();
      return Status::OK();
    }
    std::optional<Acc> acc;
    for (const TimeWindow& w : overlapping) {
      acc_->SetNamespace(Ns(w));
      Result<std::optional<Acc>> part = acc_->Value();
      if (!part.ok()) return part.status();
      if (part->has_value()) {
        acc = acc ? combiner_.merge(*acc, **part) : std::move(**part);
      }
      if (w == merged) continue;
      s = acc_->Clear();
      if (s.ok()) s = sessions_->Remove(w.start);
      if (s.ok()) s = DeleteTimers(w, ctx);
      if (!s.ok()) return s;
    }
    if (acc) {
      combiner_.add(&*acc, value);
    } else {
      acc = combiner_.init(value);
    }
    acc_->SetNamespace(Ns(merged));
    s = acc_->Update(*acc);
    if (s.ok()) s = sessions_->Put(merged.start, merged.end);
    if (!s.ok()) return s;
    if (assigner_.event_time &&
        merged.max_timestamp() <= ctx.timers().CurrentWatermark()) {
      return Emit(merged, ctx, out);
    }
    return RegisterTimers(merged, ctx);
  }

  const WindowAssigner assigner_;
  const int64_t lateness_;
  WindowCombiner<In, Acc, Out> combiner_;
  const std::string name_;
  OperatorContext* ctx_ = nullptr;
  std::optional<ValueState<Acc, AccS>> acc_;
  std::optional<MapState<int64_t, int64_t>> sessions_;
};

}  // namespace weir::detail
