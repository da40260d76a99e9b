// SPDX-License-Identifier: Apache-2.0
#include <algorithm>
#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/engine/core/test_functions.h"
#include "tests/testutil/status_matchers.h"

namespace weir::enginetest {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

using Result3 = std::tuple<std::string, int64_t, int64_t, int64_t>;

AggregateFunction<Event, int64_t, int64_t> SumOfValues() {
  return {[] { return int64_t{0}; },
          [](const Event& e, int64_t* acc) { *acc += e.value; },
          [](const int64_t& acc) { return acc; },
          [](const int64_t& a, const int64_t& b) { return a + b; }};
}

struct WindowRun {
  std::vector<Result3> results;  // (key, start, end, value), sorted
  JobInfo info;
};

WindowRun RunWindows(const std::vector<Event>& events, WindowAssigner assigner,
                     int64_t out_of_orderness, int64_t lateness,
                     int parallelism = 1, int batch = 1) {
  auto out = std::make_shared<Collected<WindowResult<std::string, int64_t>>>();
  JobBuilder b("windows");
  b.SetParallelism(parallelism);
  b.AddSource<Event>(
       Events(events, batch), "events",
       WatermarkStrategy<Event>::ForBoundedOutOfOrderness(
           out_of_orderness, [](const Event& e) { return e.time; }))
      .SetParallelism(1)
      .KeyBy([](const Event& e) { return e.key; })
      .Window(assigner)
      .AllowedLateness(lateness)
      .Aggregate(SumOfValues())
      .Uid("window")
      .SinkTo(CollectInto(out));
  auto job = b.Build();
  EXPECT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_TRUE((*job)->Start().ok());
  Status s = (*job)->Wait();
  EXPECT_TRUE(s.ok()) << s.ToString();
  WindowRun run;
  for (const auto& r : out->values()) {
    run.results.emplace_back(r.key, r.window.start, r.window.end, r.value);
  }
  std::sort(run.results.begin(), run.results.end());
  run.info = (*job)->Info();
  return run;
}

TEST(WindowTest, TumblingEventTimeWithOutOfOrderRecords) {
  std::vector<Event> events = {{"a", 1, 1},   {"a", 2, 8},  {"b", 5, 3},
                               {"a", 4, 12},  {"a", 8, 9},  // late but < ooo
                               {"b", 16, 25}, {"a", 32, 21}};
  WindowRun run = RunWindows(events, WindowAssigner::TumblingEventTime(10),
                             /*out_of_orderness=*/5, /*lateness=*/0);
  EXPECT_THAT(run.results,
              ElementsAre(Result3{"a", 0, 10, 11}, Result3{"a", 10, 20, 4},
                          Result3{"a", 20, 30, 32}, Result3{"b", 0, 10, 5},
                          Result3{"b", 20, 30, 16}));
  EXPECT_EQ(run.info.vertices.back().late_records_dropped, 0);
}

TEST(WindowTest, SameResultsAtParallelismOneTwoFour) {
  std::vector<Event> events;
  for (int i = 0; i < 3000; ++i) {
    // Up to 40 ms out of order.
    events.push_back(
        {"k" + std::to_string(i % 17), i % 7, i * 3 - (i * 37) % 40});
  }
  WindowRun p1 = RunWindows(events, WindowAssigner::SlidingEventTime(100, 50),
                            40, 0, 1, 16);
  WindowRun p2 = RunWindows(events, WindowAssigner::SlidingEventTime(100, 50),
                            40, 0, 2, 16);
  WindowRun p4 = RunWindows(events, WindowAssigner::SlidingEventTime(100, 50),
                            40, 0, 4, 16);
  EXPECT_FALSE(p1.results.empty());
  EXPECT_EQ(p1.results, p2.results);
  EXPECT_EQ(p1.results, p4.results);
  // Every record is in two sliding windows.
  int64_t total = 0, expected = 0;
  for (const auto& r : p1.results) total += std::get<3>(r);
  for (const Event& e : events) expected += 2 * e.value;
  EXPECT_EQ(total, expected);
}

TEST(WindowTest, LateRecordsAreDroppedAndCounted) {
  // No out-of-orderness: the record at 5 after 15 is late for [0, 10).
  std::vector<Event> events = {
      {"a", 1, 1}, {"a", 2, 15}, {"a", 100, 5}, {"a", 4, 16}};
  WindowRun run =
      RunWindows(events, WindowAssigner::TumblingEventTime(10), 0, 0);
  EXPECT_THAT(run.results,
              ElementsAre(Result3{"a", 0, 10, 1}, Result3{"a", 10, 20, 6}));
  EXPECT_EQ(run.info.vertices.back().late_records_dropped, 1);
}

TEST(WindowTest, AllowedLatenessFiresAgainWithTheLateRecord) {
  std::vector<Event> events = {
      {"a", 1, 1}, {"a", 2, 15}, {"a", 100, 5}, {"a", 7, 40}, {"a", 1000, 6}};
  // Lateness 10: [0, 10) keeps its state until watermark 19, so the record
  // at 5 (watermark 14) updates it; the record at 6 (watermark 39) is late.
  WindowRun run =
      RunWindows(events, WindowAssigner::TumblingEventTime(10), 0, 10);
  EXPECT_THAT(run.results,
              ElementsAre(Result3{"a", 0, 10, 1}, Result3{"a", 0, 10, 101},
                          Result3{"a", 10, 20, 2}, Result3{"a", 40, 50, 7}));
  EXPECT_EQ(run.info.vertices.back().late_records_dropped, 1);
}

TEST(WindowTest, SessionWindowsMergeWithinTheGap) {
  std::vector<Event> events = {
      {"a", 1, 0},   {"a", 2, 4},  // one session [0, 9)
      {"b", 10, 5},  {"a", 4, 20}, {"a", 8, 12},
      {"a", 16, 16},  // joins [12, 17) and [20, 25) into [12, 25)
      {"b", 20, 30}, {"a", 32, 50}};
  WindowRun run = RunWindows(events, WindowAssigner::EventTimeSession(5),
                             /*out_of_orderness=*/20, 0);
  EXPECT_THAT(run.results,
              ElementsAre(Result3{"a", 0, 9, 3}, Result3{"a", 12, 25, 28},
                          Result3{"a", 50, 55, 32}, Result3{"b", 5, 10, 10},
                          Result3{"b", 30, 35, 20}));
}

// Emits its events, then waits forever.
class ThenWait final : public SourceFunction<Event> {
 public:
  explicit ThenWait(std::vector<Event> events) : events_(std::move(events)) {}
  Result<SourceStatus> Poll(SourceOutput<Event>& out, int) override {
    if (next_ < events_.size()) out.Collect(events_[next_++]);
    return SourceStatus::Waiting(1);
  }

 private:
  std::vector<Event> events_;
  size_t next_ = 0;
};

TEST(WindowTest, ProcessingTimeWindowsFollowTheClock) {
  auto clock = std::make_shared<ManualClock>(1005);
  auto out = std::make_shared<Collected<WindowResult<std::string, int64_t>>>();
  JobBuilder b("proc-windows");
  b.AddSource<Event>(std::make_unique<ThenWait>(std::vector<Event>{
                         {"a", 1, 0}, {"a", 2, 0}, {"b", 3, 0}}),
                     "events")
      .KeyBy([](const Event& e) { return e.key; })
      .Window(WindowAssigner::TumblingProcessingTime(100))
      .Aggregate(SumOfValues())
      .SinkTo(CollectInto(out));
  JobOptions options;
  options.clock = clock;
  ASSERT_OK_AND_ASSIGN(auto job, b.Build(options));
  ASSERT_OK(job->Start());
  // The records fall in [1000, 1100), which fires at 1099 and not before.
  EXPECT_FALSE(out->WaitForSize(1, 30ms));
  clock->SetMillis(1099);
  ASSERT_TRUE(out->WaitForSize(2, 10s));
  std::vector<Result3> results;
  for (const auto& r : out->values()) {
    results.emplace_back(r.key, r.window.start, r.window.end, r.value);
  }
  EXPECT_THAT(results, UnorderedElementsAre(Result3{"a", 1000, 1100, 3},
                                            Result3{"b", 1000, 1100, 3}));
  job->Cancel();
  EXPECT_TRUE(job->Wait().IsAborted());
}

}  // namespace
}  // namespace weir::enginetest
