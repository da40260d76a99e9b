// SPDX-License-Identifier: Apache-2.0
//
// The embedding API: a push source (bounded queue, positions, durable
// acknowledgements through checkpoints, and what survives a crash), the
// callback sink, and queryable state read on the owning task's thread.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/engine/core/test_functions.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"
#include "weir/push_source.h"
#include "weir/sinks.h"
#include "weir/sources.h"
#include "weir/stream.h"

namespace weir::enginetest {
namespace {

using namespace std::chrono_literals;
using testutil::StatusIs;

// A running sum per key in ValueState<int64_t> "sum"; emits (key, sum).
class SumPerKey final : public KeyedProcessFunction<std::string, Event, Event> {
 public:
  Status Open(OperatorContext& ctx) override {
    auto s = GetState(ctx.state(), ctx.operator_id(),
                      ValueStateDescriptor<int64_t>{"sum"});
    if (!s.ok()) return s.status();
    sum_.emplace(std::move(*s));
    return Status::OK();
  }
  Status ProcessElement(const Event& e, Context&,
                        Collector<Event>& out) override {
    Result<std::optional<int64_t>> v = sum_->Value();
    if (!v.ok()) return v.status();
    const int64_t next = v->value_or(0) + e.value;
    Status s = sum_->Update(next);
    if (!s.ok()) return s;
    out.Collect(Event{e.key, next, e.time});
    return Status::OK();
  }

 private:
  std::optional<ValueState<int64_t>> sum_;
};

Event Record(int64_t i) { return Event{"k" + std::to_string(i % 7), i, i}; }

std::map<std::string, int64_t> ExpectedSums(int64_t from, int64_t to) {
  std::map<std::string, int64_t> sums;
  for (int64_t i = from; i < to; ++i) sums[Record(i).key] += i;
  return sums;
}

// The last sum the sink saw per key.
std::map<std::string, int64_t> LastSums(const std::vector<Event>& out) {
  std::map<std::string, int64_t> sums;
  for (const Event& e : out) sums[e.key] = e.value;
  return sums;
}

// push source "events" -> keyed sum "sums" (parallelism `p`) -> callback.
JobBuilder SumJob(const std::shared_ptr<PushSource<Event>>& source,
                  const std::shared_ptr<CollectedRecords<Event>>& out,
                  int p = 1) {
  JobBuilder b("push-sums");
  b.AddSource(source, "events")
      .Uid("events")
      .KeyBy([](const Event& e) { return e.key; })
      .Process<Event>(std::function<std::unique_ptr<
                          KeyedProcessFunction<std::string, Event, Event>>()>(
          [] { return std::make_unique<SumPerKey>(); }))
      .Uid("sums")
      .SetParallelism(p)
      .SinkTo([out](const Event& e) { out->Add(e); })
      .SetParallelism(p);
  return b;
}

class EmbedTest : public ::testing::TestWithParam<JobOptions::Backend> {
 protected:
  void SetUp() override { dir_.Create(); }

  JobOptions Options() const {
    JobOptions o;
    o.backend = GetParam();
    o.local_dir = dir_.Sub("local");
    o.checkpoints.dir = dir_.Sub("checkpoints");
    return o;
  }

  testutil::TestDir dir_;
};

TEST_P(EmbedTest, TryPushReportsAFullQueueAndPushWaitsForRoom) {
  auto source = PushSource<Event>::Create({.name = "events", .capacity = 4});
  // Before the job opens the source, positions are not known yet.
  EXPECT_THAT(source->TryPush(Record(0)).status(),
              StatusIs(Status::Code::kFailedPrecondition));
  // A sink that holds the first record until the test lets it go: the
  // source's task (chained to it) stops, and the queue fills.
  auto gate = std::make_shared<std::mutex>();
  gate->lock();
  auto entered = std::make_shared<CollectedRecords<int>>();
  auto out = std::make_shared<CollectedRecords<Event>>();
  JobBuilder b("full");
  b.AddSource(source, "events")
      .Uid("events")
      .SinkTo([gate, entered, out](const Event& e) {
        entered->Add(1);
        std::lock_guard<std::mutex> hold(*gate);
        out->Add(e);
      });
  ASSERT_OK_AND_ASSIGN(auto job, b.Build(Options()));
  ASSERT_OK(job->Start());
  ASSERT_OK_AND_ASSIGN(int64_t first, source->Push(Record(0)));
  EXPECT_EQ(first, 1);
  // The source's task now waits in the sink: nothing leaves the queue.
  ASSERT_TRUE(entered->WaitForCount(1, 30s));
  int64_t accepted = 1;
  Status full;
  for (int i = 0; i < 100 && full.ok(); ++i) {
    Result<int64_t> pos = source->TryPush(Record(accepted));
    if (pos.ok()) {
      EXPECT_EQ(*pos, accepted + 1);
      ++accepted;
    } else {
      full = pos.status();
    }
  }
  EXPECT_EQ(accepted, 5);
  EXPECT_THAT(full, StatusIs(Status::Code::kResourceExhausted));
  EXPECT_THAT(std::string(full.message()),
              ::testing::HasSubstr("push source 'events' is full"));
  EXPECT_EQ(source->queued(), 4u);
  EXPECT_THAT(source->Push(Record(accepted), 1ms).status(),
              StatusIs(Status::Code::kDeadlineExceeded));
  gate->unlock();
  // Push blocks until there is room, then goes on.
  for (int64_t i = accepted; i < 100; ++i) {
    ASSERT_OK_AND_ASSIGN(int64_t pos, source->Push(Record(i)));
    EXPECT_EQ(pos, i + 1);
  }
  ASSERT_OK(source->Finish());
  EXPECT_THAT(source->Push(Record(0)).status(),
              StatusIs(Status::Code::kFailedPrecondition));
  ASSERT_OK(job->Wait());
  std::vector<Event> got = out->values();
  ASSERT_EQ(got.size(), 100u);
  for (int64_t i = 0; i < 100; ++i) EXPECT_EQ(got[i], Record(i));
  // The job finished: every record it took is final.
  EXPECT_OK(source->WaitDurable(100, 0ms));
}

TEST_P(EmbedTest, WaitDurableCompletesOnlyWhenACheckpointCoversThePosition) {
  auto source = PushSource<Event>::Create();
  auto out = std::make_shared<CollectedRecords<Event>>();
  ASSERT_OK_AND_ASSIGN(auto job, SumJob(source, out).Build(Options()));
  ASSERT_OK(job->Start());
  int64_t last = 0;
  for (int64_t i = 0; i < 100; ++i) {
    ASSERT_OK_AND_ASSIGN(last, source->Push(Record(i)));
  }
  ASSERT_TRUE(out->WaitForCount(100, 30s));
  // Processed, but no checkpoint yet.
  EXPECT_EQ(source->durable_position(), 0);
  EXPECT_THAT(source->WaitDurable(last, 0ms),
              StatusIs(Status::Code::kDeadlineExceeded));
  // OnDurable's callback runs on the source's task thread.
  auto acks = std::make_shared<CollectedRecords<Status>>();
  source->OnDurable(last, [acks](const Status& s) { acks->Add(s); });
  EXPECT_EQ(acks->size(), 0u);
  ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerCheckpoint());
  ASSERT_OK_AND_ASSIGN(CheckpointStats stats, job->WaitForCheckpoint(id, 30s));
  ASSERT_EQ(stats.state, CheckpointState::kCompleted);
  EXPECT_OK(source->WaitDurable(last, 30s));
  EXPECT_EQ(source->durable_position(), last);
  ASSERT_TRUE(acks->WaitForCount(1, 30s));
  ASSERT_EQ(acks->size(), 1u);
  EXPECT_OK(acks->values()[0]);
  // A position pushed after that checkpoint waits for the next one.
  ASSERT_OK_AND_ASSIGN(int64_t later, source->Push(Record(100)));
  EXPECT_THAT(source->WaitDurable(later, 0ms),
              StatusIs(Status::Code::kDeadlineExceeded));
  EXPECT_THAT(source->WaitDurable(later + 1, 0ms),
              StatusIs(Status::Code::kInvalidArgument));
  job->Cancel();
  EXPECT_TRUE(job->Wait().IsAborted());
  // The job ended without making it durable.
  EXPECT_THAT(source->WaitDurable(later, 10s),
              StatusIs(Status::Code::kAborted));
  EXPECT_THAT(source->Push(Record(0)).status(),
              StatusIs(Status::Code::kFailedPrecondition));
}

// The crash is a cancel without savepoint; the restore reads the latest
// checkpoint. Every record acknowledged durable is in the state; the host
// pushes again what came after durable_position().
TEST_P(EmbedTest, DurableRecordsSurviveACrashAndTheHostRepushesTheRest) {
  constexpr int64_t kDurable = 60;
  constexpr int64_t kTotal = 100;
  JobOptions options = Options();
  std::string checkpoint;
  {
    auto source = PushSource<Event>::Create();
    auto out = std::make_shared<CollectedRecords<Event>>();
    ASSERT_OK_AND_ASSIGN(auto job, SumJob(source, out, 2).Build(options));
    ASSERT_OK(job->Start());
    for (int64_t i = 0; i < kDurable; ++i) {
      ASSERT_OK(source->Push(Record(i)).status());
    }
    ASSERT_TRUE(out->WaitForCount(kDurable, 30s));
    ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerCheckpoint());
    ASSERT_OK_AND_ASSIGN(CheckpointStats stats,
                         job->WaitForCheckpoint(id, 30s));
    ASSERT_EQ(stats.state, CheckpointState::kCompleted);
    checkpoint = stats.path;
    ASSERT_OK(source->WaitDurable(kDurable, 30s));
    // Processed after the checkpoint, then lost in the crash.
    for (int64_t i = kDurable; i < 80; ++i) {
      ASSERT_OK(source->Push(Record(i)).status());
    }
    ASSERT_TRUE(out->WaitForCount(80, 30s));
    job->Cancel();
    EXPECT_TRUE(job->Wait().IsAborted());
    EXPECT_FALSE(source->WaitDurable(80, 10s).ok());
  }
  auto source = PushSource<Event>::Create();
  auto out = std::make_shared<CollectedRecords<Event>>();
  options.restore_from = checkpoint;
  ASSERT_OK_AND_ASSIGN(auto job, SumJob(source, out, 2).Build(options));
  ASSERT_OK(job->Start());
  ASSERT_OK(source->WaitReady(30s));
  ASSERT_EQ(source->durable_position(), kDurable);
  // Positions go on above the restored ones.
  for (int64_t i = kDurable; i < kTotal; ++i) {
    ASSERT_OK_AND_ASSIGN(int64_t pos, source->Push(Record(i)));
    EXPECT_EQ(pos, i + 1);
  }
  ASSERT_TRUE(out->WaitForCount(kTotal - kDurable, 30s));
  // The state holds every durable record once, and the re-pushed ones.
  const std::map<std::string, int64_t> expected = ExpectedSums(0, kTotal);
  for (const auto& [key, sum] : expected) {
    EXPECT_THAT(job->QueryValue<int64_t>("sums", "sum", key, 10s),
                testutil::IsOkAndHolds(sum))
        << key;
  }
  ASSERT_OK(source->Finish());
  ASSERT_OK(job->Wait());
  EXPECT_EQ(LastSums(out->values()), expected);
}

// A restart in the same process goes back to the latest checkpoint: the
// positions the failed attempt had taken after it are reported lost
// (Aborted), the host pushes those records again, and the state ends up
// with every record exactly once.
TEST_P(EmbedTest, ARestartReportsTheLostPositionsAndTheHostRepushesThem) {
  constexpr int64_t kTotal = 80;
  JobOptions options = Options();
  options.restart.attempts = 1;
  options.restart.delay_ms = 0;
  options.checkpoints.interval_ms = 100;
  auto source = PushSource<Event>::Create();
  auto out = std::make_shared<CollectedRecords<Event>>();
  auto failed = std::make_shared<std::atomic<bool>>(false);
  JobBuilder b("push-restart");
  b.AddSource(source, "events")
      .Uid("events")
      .Map([failed](const Event& e) -> Result<Event> {
        if (e.value == 70 && !failed->exchange(true)) {
          return Status::IOError("injected failure at record 70");
        }
        return e;
      })
      .KeyBy([](const Event& e) { return e.key; })
      .Process<Event>(std::function<std::unique_ptr<
                          KeyedProcessFunction<std::string, Event, Event>>()>(
          [] { return std::make_unique<SumPerKey>(); }))
      .Uid("sums")
      .SinkTo([out](const Event& e) { out->Add(e); });
  ASSERT_OK_AND_ASSIGN(auto job, b.Build(options));
  ASSERT_OK(job->Start());
  for (int64_t i = 0; i < 60; ++i) {
    ASSERT_OK(source->Push(Record(i)).status());
  }
  ASSERT_OK(source->WaitDurable(60, 30s));
  // Positions 61..80; record 70 (position 71) fails the first attempt.
  std::map<int64_t, int64_t> record_of;  // position -> record
  for (int64_t i = 60; i < kTotal; ++i) {
    ASSERT_OK_AND_ASSIGN(int64_t pos, source->Push(Record(i)));
    record_of[pos] = i;
  }
  int lost = 0;
  std::map<int64_t, int64_t> again;
  for (const auto& [pos, record] : record_of) {
    Status s = source->WaitDurable(pos, 30s);
    if (s.IsAborted()) {
      ++lost;
      ASSERT_OK_AND_ASSIGN(int64_t new_pos, source->Push(Record(record)));
      again[new_pos] = record;
    } else {
      ASSERT_OK(s) << "position " << pos;
    }
  }
  EXPECT_GE(lost, 1);  // at least the failing record itself
  EXPECT_THAT(source->WaitDurable(71, 0ms), StatusIs(Status::Code::kAborted));
  for (const auto& [pos, record] : again) {
    ASSERT_OK(source->WaitDurable(pos, 30s)) << "position " << pos;
  }
  EXPECT_EQ(job->Checkpoints().restarts, 1);
  for (const auto& [key, sum] : ExpectedSums(0, kTotal)) {
    EXPECT_THAT(job->QueryValue<int64_t>("sums", "sum", key, 10s),
                testutil::IsOkAndHolds(sum))
        << key;
  }
  ASSERT_OK(source->Finish());
  ASSERT_OK(job->Wait());
}

TEST_P(EmbedTest, QueryStateReadsWhatAFailureFreeRunComputes) {
  constexpr int64_t kTotal = 500;
  auto source = PushSource<Event>::Create();
  auto out = std::make_shared<CollectedRecords<Event>>();
  ASSERT_OK_AND_ASSIGN(auto job, SumJob(source, out, 3).Build(Options()));
  // Not running yet.
  EXPECT_THAT(
      job->QueryValue<int64_t>("sums", "sum", std::string("k1"), 1s).status(),
      StatusIs(Status::Code::kFailedPrecondition));
  ASSERT_OK(job->Start());
  for (int64_t i = 0; i < kTotal; ++i) {
    ASSERT_OK(source->Push(Record(i)).status());
  }
  ASSERT_TRUE(out->WaitForCount(kTotal, 30s));
  for (const auto& [key, sum] : ExpectedSums(0, kTotal)) {
    EXPECT_THAT(job->QueryValue<int64_t>("sums", "sum", key, 10s),
                testutil::IsOkAndHolds(sum))
        << key;
  }
  EXPECT_THAT(job->QueryValue<int64_t>("sums", "sum", std::string("nope"), 10s)
                  .status(),
              StatusIs(Status::Code::kNotFound));
  EXPECT_THAT(job->QueryState("nope", "sum", "k1", 10s).status(),
              StatusIs(Status::Code::kInvalidArgument));
  EXPECT_THAT(job->QueryState("sums", "nope", "k1", 10s).status(),
              StatusIs(Status::Code::kInvalidArgument));
  EXPECT_THAT(job->QueryState("events", "sum", "k1", 10s).status(),
              StatusIs(Status::Code::kInvalidArgument));
  ASSERT_OK(source->Finish());
  ASSERT_OK(job->Wait());
  EXPECT_THAT(
      job->QueryValue<int64_t>("sums", "sum", std::string("k1"), 1s).status(),
      StatusIs(Status::Code::kFailedPrecondition));
}

TEST_P(EmbedTest, APushWaitingForTheSourceFailsWhenTheJobNeverStarts) {
  auto source = PushSource<Event>::Create();
  auto out = std::make_shared<CollectedRecords<Event>>();
  ASSERT_OK_AND_ASSIGN(auto job, SumJob(source, out).Build(Options()));
  std::thread canceller([&job] { job->Cancel(); });
  // Blocks until the source opens, which it never does: the cancel ends it.
  EXPECT_THAT(source->Push(Record(0)).status(),
              StatusIs(Status::Code::kFailedPrecondition));
  canceller.join();
  EXPECT_THAT(source->WaitReady(10s), StatusIs(Status::Code::kAborted));
}

INSTANTIATE_TEST_SUITE_P(Backends, EmbedTest,
                         ::testing::Values(JobOptions::Backend::kMemory,
                                           JobOptions::Backend::kRocksDB),
                         [](const auto& info) {
                           return info.param == JobOptions::Backend::kMemory
                                      ? std::string("Memory")
                                      : std::string("RocksDB");
                         });

TEST(CallbackSink, RunsOnTheSinkTaskForEveryRecord) {
  std::vector<int> seen;  // one subtask: no lock needed
  JobBuilder b("callback");
  b.AddSource<int>(FromElements<int>({1, 2, 3, 4}), "numbers")
      .Map([](const int& i) { return i * 10; })
      .SinkTo([&seen](const int& i) { seen.push_back(i); });
  ASSERT_OK_AND_ASSIGN(auto job, b.Build());
  ASSERT_OK(job->Start());
  ASSERT_OK(job->Wait());
  EXPECT_THAT(seen, ::testing::ElementsAre(10, 20, 30, 40));
}

TEST(CallbackSink, AnErrorStatusFailsTheJobWithItsMessage) {
  JobBuilder b("callback-fails");
  b.AddSource<int>(FromElements<int>({1, 2, 3}), "numbers")
      .SinkTo([](const int& i) {
        return i == 2 ? Status::IOError("downstream refused 2") : Status::OK();
      })
      .Name("refuser");
  ASSERT_OK_AND_ASSIGN(auto job, b.Build());
  ASSERT_OK(job->Start());
  Status s = job->Wait();
  EXPECT_THAT(s, StatusIs(Status::Code::kIOError));
  EXPECT_THAT(std::string(s.message()),
              ::testing::HasSubstr("downstream refused 2"));
}

}  // namespace
}  // namespace weir::enginetest
