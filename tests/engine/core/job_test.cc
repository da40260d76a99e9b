// SPDX-License-Identifier: Apache-2.0
#include <filesystem>
#include <map>
#include <mutex>
#include <utility>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/engine/core/test_functions.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace weir::enginetest {
namespace {

using ::testing::HasSubstr;
using ::weir::testutil::StatusIs;
using namespace std::chrono_literals;

std::vector<Event> ManyEvents(int n, int keys) {
  std::vector<Event> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(Event{"key-" + std::to_string((i * 7919) % keys), i % 13, i});
  }
  return out;
}

std::map<std::string, int64_t> ExpectedSums(const std::vector<Event>& events) {
  std::map<std::string, int64_t> sums;
  for (const Event& e : events) sums[e.key] += e.value;
  return sums;
}

struct RunParam {
  int parallelism;
  JobOptions::Backend backend;
};

class KeyedSumTest : public ::testing::TestWithParam<RunParam> {};

// A keyed running sum gives the same totals at any parallelism and with
// either backend; every input record is counted once.
TEST_P(KeyedSumTest, SameTotalsAtAnyParallelism) {
  testutil::TestDir dir;
  dir.Create();
  const std::vector<Event> events = ManyEvents(20000, 97);
  auto out = std::make_shared<Collected<Event>>();
  JobBuilder b("sums");
  b.SetParallelism(GetParam().parallelism);
  b.AddSource<Event>(Events(events), "events")
      .Uid("events")
      .KeyBy([](const Event& e) { return e.key; })
      .Reduce([](const Event& acc, const Event& e) {
        return Event{acc.key, acc.value + e.value, e.time};
      })
      .Uid("sums")
      .SinkTo(CollectInto(out));
  JobOptions options;
  options.backend = GetParam().backend;
  options.local_dir = dir.path();
  options.batch_size = 7;  // many small batches: exercises the channels
  ASSERT_OK_AND_ASSIGN(auto job, b.Build(options));
  ASSERT_OK(job->Start());
  ASSERT_OK(job->Wait());
  EXPECT_EQ(job->status(), JobStatus::kFinished);

  std::vector<Event> results = out->values();
  EXPECT_EQ(results.size(), events.size());  // one output per input
  std::map<std::string, int64_t> totals;
  for (const Event& e : results) {
    totals[e.key] = std::max(totals[e.key], e.value);
  }
  EXPECT_EQ(totals, ExpectedSums(events));

  JobInfo info = job->Info();
  ASSERT_EQ(info.vertices.size(), 2u);
  EXPECT_EQ(info.vertices[0].records_out, 20000);
  EXPECT_EQ(info.vertices[1].records_in, 20000);
  EXPECT_EQ(info.vertices[1].parallelism, GetParam().parallelism);
  EXPECT_EQ(info.vertices[1].operators[0].uid, "sums");
  EXPECT_EQ(info.vertices[1].operators[0].operator_id,
            OperatorId::FromUid("sums").ToHex());
}

INSTANTIATE_TEST_SUITE_P(
    Backends, KeyedSumTest,
    ::testing::Values(RunParam{1, JobOptions::Backend::kMemory},
                      RunParam{2, JobOptions::Backend::kMemory},
                      RunParam{4, JobOptions::Backend::kMemory},
                      RunParam{1, JobOptions::Backend::kRocksDB},
                      RunParam{2, JobOptions::Backend::kRocksDB},
                      RunParam{4, JobOptions::Backend::kRocksDB}),
    [](const auto& info) {
      return std::string(info.param.backend == JobOptions::Backend::kMemory
                             ? "memory"
                             : "rocksdb") +
             "_p" + std::to_string(info.param.parallelism);
    });

// Records what the engine calls on a keyed head operator: every record
// is hinted (Prefetch) before it is processed, or not at all.
class HintLog {
 public:
  void Add(char what, int64_t time) {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.emplace_back(what, time);
  }
  std::vector<std::pair<char, int64_t>> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<char, int64_t>> calls_;
};

class HintRecorder final : public OneInputOperator<Event> {
 public:
  explicit HintRecorder(std::shared_ptr<HintLog> log) : log_(std::move(log)) {}
  void Prefetch(const Event& e) override { log_->Add('h', e.time); }
  Status ProcessElement(Event& e, int64_t /*timestamp*/) override {
    log_->Add('p', e.time);
    return Status::OK();
  }

 private:
  std::shared_ptr<HintLog> log_;
};

TEST(JobTest, KeyedHeadsAreHintedAFewRecordsAhead) {
  const std::vector<Event> events = ManyEvents(1000, 31);
  auto log = std::make_shared<HintLog>();
  JobBuilder b("hints");
  b.SetParallelism(1);
  b.AddSource<Event>(Events(events), "events")
      .Uid("events")
      .KeyBy([](const Event& e) { return e.key; })
      .Keyed<Event>("recorder",
                    [log]() -> std::unique_ptr<StreamOperator> {
                      return std::make_unique<HintRecorder>(log);
                    })
      .Uid("recorder");
  JobOptions options;
  options.backend = JobOptions::Backend::kMemory;
  options.batch_size = 64;
  ASSERT_OK_AND_ASSIGN(auto job, b.Build(options));
  ASSERT_OK(job->Start());
  ASSERT_OK(job->Wait());

  // Each record (its time is its index) is processed once, in order; every
  // record is hinted once, before it is processed and at most four records
  // ahead (four batch places ahead, where watermarks take places too); the
  // first ones of a batch when the batch is taken.
  std::vector<int64_t> processed;
  std::map<int64_t, size_t> hinted_at;  // record -> processed count then
  for (const auto& [what, time] : log->calls()) {
    if (what == 'p') {
      processed.push_back(time);
    } else {
      EXPECT_TRUE(hinted_at.emplace(time, processed.size()).second)
          << "record " << time << " hinted twice";
    }
  }
  ASSERT_EQ(processed.size(), events.size());
  for (size_t i = 0; i < processed.size(); ++i) {
    ASSERT_EQ(processed[i], static_cast<int64_t>(i));
  }
  for (const auto& [time, count] : hinted_at) {
    EXPECT_LE(static_cast<int64_t>(count), time) << "record " << time;
    EXPECT_GE(static_cast<int64_t>(count), time - 4) << "record " << time;
  }
  EXPECT_EQ(hinted_at.size(), events.size());
}

TEST(JobTest, UnionAndBranches) {
  auto evens = std::make_shared<Collected<int64_t>>();
  auto all = std::make_shared<Collected<int64_t>>();
  JobBuilder b("branches");
  b.SetParallelism(2);
  auto a = b.AddSource<Event>(Events(ManyEvents(100, 5)), "a");
  auto c = b.AddSource<Event>(Events(ManyEvents(50, 5)), "c");
  auto values = a.Union({c}).Map([](const Event& e) { return e.time; });
  values.SinkTo(CollectInto(all));
  values.Filter([](int64_t v) { return v % 2 == 0; })
      .SinkTo(CollectInto(evens));
  ASSERT_OK_AND_ASSIGN(auto job, b.Build());
  ASSERT_OK(job->Start());
  ASSERT_OK(job->Wait());
  EXPECT_EQ(all->values().size(), 150u);
  EXPECT_EQ(evens->values().size(), 50u + 25u);
}

TEST(JobTest, FailingFunctionFailsTheJobWithItsMessage) {
  JobBuilder b("fails");
  b.AddSource<Event>(Events(ManyEvents(100, 5)), "events")
      .Map([](const Event& e) -> Result<Event> {
        if (e.time == 42) return Status::InvalidArgument("bad record 42");
        return e;
      })
      .Name("checker")
      .SinkTo(CollectInto(std::make_shared<Collected<Event>>()));
  ASSERT_OK_AND_ASSIGN(auto job, b.Build());
  ASSERT_OK(job->Start());
  Status s = job->Wait();
  EXPECT_THAT(
      s, StatusIs(Status::Code::kInvalidArgument, HasSubstr("bad record 42")));
  EXPECT_EQ(job->status(), JobStatus::kFailed);
  const JobInfo info = job->Info();
  EXPECT_THAT(info.failure, HasSubstr("bad record 42"));
  // The failure history has it, with the task that failed.
  ASSERT_EQ(info.failures.size(), 1u);
  EXPECT_EQ(info.failures[0].code, Status::Code::kInvalidArgument);
  EXPECT_EQ(info.failures[0].message, info.failure);
  EXPECT_THAT(info.failures[0].task, HasSubstr("checker"));
  EXPECT_THAT(info.failures[0].task, HasSubstr("(1/1)"));
  EXPECT_GE(info.failures[0].time_ms, info.start_time_ms);
  EXPECT_LE(info.failures[0].time_ms, info.end_time_ms);
}

TEST(JobTest, ThrowingFunctionFailsTheJob) {
  JobBuilder b("throws");
  b.AddSource<Event>(Events(ManyEvents(10, 5)), "events")
      .Map([](const Event& e) -> Event {
        if (e.time == 3) throw std::runtime_error("boom");
        return e;
      })
      .SinkTo(CollectInto(std::make_shared<Collected<Event>>()));
  ASSERT_OK_AND_ASSIGN(auto job, b.Build());
  ASSERT_OK(job->Start());
  EXPECT_THAT(job->Wait(), StatusIs(Status::Code::kAborted, HasSubstr("boom")));
  EXPECT_EQ(job->status(), JobStatus::kFailed);
}

// A sink that blocks until released.
class GateSink final : public SinkFunction<Event> {
 public:
  explicit GateSink(std::shared_ptr<std::atomic<bool>> open) : open_(open) {}
  Status Invoke(const Event&, int64_t) override {
    while (!open_->load()) std::this_thread::yield();
    return Status::OK();
  }

 private:
  std::shared_ptr<std::atomic<bool>> open_;
};

// A stuck sink stops the source: memory stays bounded by the channels.
TEST(JobTest, SlowSinkBackpressuresTheSource) {
  auto emitted = std::make_shared<std::atomic<int64_t>>(0);
  auto open = std::make_shared<std::atomic<bool>>(false);
  JobBuilder b("backpressure");
  b.AddSource<Event>(std::make_unique<EndlessSource>(emitted), "endless")
      .Rebalance()
      .Map([](const Event& e) { return e; })
      .DisableChaining()
      .SinkTo(std::make_unique<GateSink>(open));
  JobOptions options;
  options.batch_size = 16;
  options.channel_capacity = 4;
  ASSERT_OK_AND_ASSIGN(auto job, b.Build(options));
  ASSERT_OK(job->Start());
  // The source stalls once the channels are full: its count stops moving.
  int64_t last = -1;
  for (int i = 0; i < 2000 && emitted->load() != last; ++i) {
    last = emitted->load();
    std::this_thread::sleep_for(5ms);
  }
  const int64_t stalled = emitted->load();
  // Two channels of 4 batches of 16, the batches being filled and handled,
  // and one poll (1024) of slack.
  EXPECT_LT(stalled, 5000);
  EXPECT_EQ(job->status(), JobStatus::kRunning);
  open->store(true);
  // Released, it moves on.
  for (int i = 0; i < 2000 && emitted->load() < stalled + 10000; ++i) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_GE(emitted->load(), stalled + 10000);
  job->Cancel();
  EXPECT_THAT(job->Wait(), StatusIs(Status::Code::kAborted));
  EXPECT_EQ(job->status(), JobStatus::kCanceled);
}

TEST(JobTest, CancelStopsAnUnboundedJob) {
  auto emitted = std::make_shared<std::atomic<int64_t>>(0);
  JobBuilder b("unbounded");
  b.SetParallelism(1);
  b.AddSource<Event>(std::make_unique<EndlessSource>(emitted), "endless")
      .KeyBy([](const Event& e) { return e.key; })
      .Reduce([](const Event& a, const Event& e) {
        return Event{a.key, a.value + e.value, e.time};
      })
      .SinkTo(CollectInto(std::make_shared<Collected<Event>>()));
  ASSERT_OK_AND_ASSIGN(auto job, b.Build());
  ASSERT_OK(job->Start());
  EXPECT_FALSE(job->WaitFor(50ms));
  EXPECT_EQ(job->status(), JobStatus::kRunning);
  job->Cancel();
  EXPECT_THAT(job->Wait(), StatusIs(Status::Code::kAborted));
  EXPECT_EQ(job->status(), JobStatus::kCanceled);
  EXPECT_GT(emitted->load(), 0);
}

TEST(JobTest, RocksDBWorkingDirectoryIsRemovedAtTheEnd) {
  testutil::TestDir dir;
  dir.Create();
  JobBuilder b("cleanup");
  b.AddSource<Event>(Events(ManyEvents(100, 5)), "events")
      .KeyBy([](const Event& e) { return e.key; })
      .Reduce([](const Event& a, const Event&) { return a; })
      .SinkTo(CollectInto(std::make_shared<Collected<Event>>()));
  JobOptions options;
  options.backend = JobOptions::Backend::kRocksDB;
  options.local_dir = dir.path();
  ASSERT_OK_AND_ASSIGN(auto job, b.Build(options));
  ASSERT_OK(job->Start());
  ASSERT_OK(job->Wait());
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("job-" + job->id().ToHex())));
}

}  // namespace
}  // namespace weir::enginetest
