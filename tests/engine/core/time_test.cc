// SPDX-License-Identifier: Apache-2.0
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/engine/core/test_functions.h"
#include "tests/testutil/status_matchers.h"

namespace weir::enginetest {
namespace {

using namespace std::chrono_literals;

struct Fired {
  std::string key;
  int64_t time = 0;
  int64_t watermark = 0;
  int64_t count = 0;
  bool operator==(const Fired&) const = default;
};

// Counts records per key and, for each record, sets an event-time timer at
// time + 10; the timer emits the count seen so far.
class CountThenFire final
    : public KeyedProcessFunction<std::string, Event, Fired> {
 public:
  Status Open(OperatorContext& ctx) override {
    auto s = GetState(ctx.state(), ctx.operator_id(),
                      ValueStateDescriptor<int64_t>{"count"});
    if (!s.ok()) return s.status();
    count_.emplace(std::move(*s));
    return Status::OK();
  }
  Status ProcessElement(const Event& e, Context& ctx,
                        Collector<Fired>&) override {
    auto c = count_->Value();
    if (!c.ok()) return c.status();
    Status s = count_->Update(c->value_or(0) + 1);
    if (!s.ok()) return s;
    return ctx.timers().RegisterEventTimeTimer(e.time + 10);
  }
  Status OnTimer(int64_t time, TimeDomain domain, Context& ctx,
                 Collector<Fired>& out) override {
    EXPECT_EQ(domain, TimeDomain::kEventTime);
    auto c = count_->Value();
    if (!c.ok()) return c.status();
    out.Collect(Fired{ctx.current_key(), time, ctx.timers().CurrentWatermark(),
                      c->value_or(0)});
    return Status::OK();
  }

 private:
  std::optional<ValueState<int64_t>> count_;
};

TEST(EventTimeTest, TimersFireInOrderWhenTheWatermarkPasses) {
  // Out of order by up to 5: watermark = max - 5 - 1.
  std::vector<Event> events = {{"a", 0, 100}, {"a", 0, 103}, {"b", 0, 101},
                               {"a", 0, 99},  {"b", 0, 120}, {"a", 0, 130}};
  auto out = std::make_shared<Collected<Fired>>();
  JobBuilder b("timers");
  b.AddSource<Event>(Events(events, /*batch=*/1), "events",
                     WatermarkStrategy<Event>::ForBoundedOutOfOrderness(
                         5, [](const Event& e) { return e.time; }))
      .KeyBy([](const Event& e) { return e.key; })
      .Process<Fired>([] { return std::make_unique<CountThenFire>(); },
                      "count-then-fire")
      .SinkTo(CollectInto(out));
  ASSERT_OK_AND_ASSIGN(auto job, b.Build());
  ASSERT_OK(job->Start());
  ASSERT_OK(job->Wait());
  std::vector<Fired> fired = out->values();
  ASSERT_EQ(fired.size(), 6u);
  // Timer 109 (a, from 99) first fires when the watermark reaches
  // 120 - 6 = 114: a has seen 4 records by then? No: the record at 130
  // comes later. At watermark 114, a has 3 records (100, 103, 99).
  EXPECT_EQ(fired[0], (Fired{"a", 109, 114, 3}));
  EXPECT_EQ(fired[1], (Fired{"a", 110, 114, 3}));
  EXPECT_EQ(fired[2], (Fired{"b", 111, 114, 2}));
  EXPECT_EQ(fired[3], (Fired{"a", 113, 114, 3}));
  // The rest fire at the end of input (watermark = max).
  EXPECT_EQ(fired[4], (Fired{"b", 130, kMaxWatermark, 2}));
  EXPECT_EQ(fired[5], (Fired{"a", 140, kMaxWatermark, 4}));
}

// Processing-time timers follow an injected clock: nothing fires until the
// clock moves.
class FireAfter final : public KeyedProcessFunction<std::string, Event, Fired> {
 public:
  Status ProcessElement(const Event& e, Context& ctx,
                        Collector<Fired>&) override {
    return ctx.timers().RegisterProcessingTimeTimer(
        ctx.timers().CurrentProcessingTime() + e.value);
  }
  Status OnTimer(int64_t time, TimeDomain domain, Context& ctx,
                 Collector<Fired>& out) override {
    EXPECT_EQ(domain, TimeDomain::kProcessingTime);
    out.Collect(Fired{ctx.current_key(), time, 0, 0});
    return Status::OK();
  }
};

class ForeverSource final : public SourceFunction<Event> {
 public:
  explicit ForeverSource(std::vector<Event> events) : events_(events) {}
  Result<SourceStatus> Poll(SourceOutput<Event>& out, int) override {
    if (next_ < events_.size()) out.Collect(events_[next_++]);
    return SourceStatus::Waiting(1);
  }

 private:
  std::vector<Event> events_;
  size_t next_ = 0;
};

TEST(ProcessingTimeTest, TimersFollowTheInjectedClock) {
  auto clock = std::make_shared<ManualClock>(1000);
  auto out = std::make_shared<Collected<Fired>>();
  JobBuilder b("proc-timers");
  b.AddSource<Event>(std::make_unique<ForeverSource>(
                         std::vector<Event>{{"a", 50, 0}, {"b", 20, 0}}),
                     "events")
      .KeyBy([](const Event& e) { return e.key; })
      .Process<Fired>([] { return std::make_unique<FireAfter>(); })
      .SinkTo(CollectInto(out));
  JobOptions options;
  options.clock = clock;
  ASSERT_OK_AND_ASSIGN(auto job, b.Build(options));
  ASSERT_OK(job->Start());
  // However long we wait, nothing fires while the clock stands still.
  EXPECT_FALSE(out->WaitForSize(1, 30ms));
  clock->AdvanceMillis(20);
  ASSERT_TRUE(out->WaitForSize(1, 10s));
  EXPECT_EQ(out->values()[0], (Fired{"b", 1020, 0, 0}));
  EXPECT_FALSE(out->WaitForSize(2, 20ms));
  clock->AdvanceMillis(30);
  ASSERT_TRUE(out->WaitForSize(2, 10s));
  EXPECT_EQ(out->values()[1], (Fired{"a", 1050, 0, 0}));
  job->Cancel();
  EXPECT_TRUE(job->Wait().IsAborted());
}

// Emits its events once, then nothing, forever.
class OnceThenQuiet final : public SourceFunction<Event> {
 public:
  explicit OnceThenQuiet(std::vector<Event> events) : events_(events) {}
  Result<SourceStatus> Poll(SourceOutput<Event>& out, int) override {
    for (; next_ < events_.size(); ++next_) out.Collect(events_[next_]);
    return SourceStatus::Waiting(1);
  }

 private:
  std::vector<Event> events_;
  size_t next_ = 0;
};

// A silent source holds back event time until it is marked idle.
TEST(EventTimeTest, IdleSourceStopsHoldingBackTheWatermark) {
  for (int64_t idle_timeout : {int64_t{0}, int64_t{50}}) {
    SCOPED_TRACE("idle timeout " + std::to_string(idle_timeout));
    auto clock = std::make_shared<ManualClock>(0);
    auto out = std::make_shared<Collected<Fired>>();
    auto strategy =
        WatermarkStrategy<Event>::ForMonotonousTimestamps([](const Event& e) {
          return e.time;
        }).WithIdleness(idle_timeout);
    JobBuilder b("idle");
    auto busy =
        b.AddSource<Event>(std::make_unique<OnceThenQuiet>(std::vector<Event>{
                               {"a", 1, 100}, {"a", 1, 200}}),
                           "busy", strategy);
    auto silent = b.AddSource<Event>(
        std::make_unique<OnceThenQuiet>(std::vector<Event>{}), "silent",
        strategy);
    busy.Union({silent})
        .KeyBy([](const Event& e) { return e.key; })
        .Process<Fired>([] { return std::make_unique<CountThenFire>(); })
        .SinkTo(CollectInto(out));
    JobOptions options;
    options.clock = clock;
    ASSERT_OK_AND_ASSIGN(auto job, b.Build(options));
    ASSERT_OK(job->Start());
    // The busy source's watermark is 199, but the silent one holds it back.
    EXPECT_FALSE(out->WaitForSize(1, 30ms));
    clock->AdvanceMillis(100);
    if (idle_timeout == 0) {
      EXPECT_FALSE(out->WaitForSize(1, 30ms));
    } else {
      // Idle now: the timer at 110 fires (watermark 199).
      ASSERT_TRUE(out->WaitForSize(1, 10s));
      EXPECT_EQ(out->values()[0], (Fired{"a", 110, 199, 2}));
    }
    job->Cancel();
    EXPECT_TRUE(job->Wait().IsAborted());
  }
}

}  // namespace
}  // namespace weir::enginetest
