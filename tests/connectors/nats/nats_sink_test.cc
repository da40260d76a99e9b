// SPDX-License-Identifier: Apache-2.0
//
// NatsSink against a real nats-server, in jobs: NATS source -> keyed
// running sum -> NATS sink with exactly-once delivery, cancelled and
// restored (at another parallelism, RocksDB state) and through a broker
// restart, the output stream read back holding each expected result once;
// at-least-once delivery; the refusal of a too short duplicate window; a
// subject no stream captures.
#include <algorithm>
#include <chrono>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <weir/job.h>
#include <weir/nats.h>
#include <weir/sinks.h>
#include <weir/stream.h>

#include "tests/connectors/nats/nats_test_util.h"

namespace weir::natstest {
namespace {

using namespace std::chrono_literals;
using testing::HasSubstr;
using testutil::StatusIs;

constexpr int kKeys = 6;

// Event i: key "k<i % 6>" with value i, on subject "events.<key % 2>", so
// that all events of a key are in one split and its sums are the same in
// every run.
std::vector<StoredMessage> Events(int from, int to) {
  std::vector<StoredMessage> out;
  for (int i = from; i < to; ++i) {
    const int key = i % kKeys;
    out.push_back({"events." + std::to_string(key % 2),
                   "k" + std::to_string(key) + "," + std::to_string(i)});
  }
  return out;
}

// The running sums a failure-free run emits for events [0, n).
std::vector<std::string> ExpectedSums(int n) {
  std::vector<std::string> out;
  std::map<int, int64_t> sums;
  for (int i = 0; i < n; ++i) {
    const int key = i % kKeys;
    sums[key] += i;
    out.push_back("k" + std::to_string(key) + "," + std::to_string(sums[key]));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string AddValues(const std::string& a, const std::string& b) {
  const size_t ca = a.find(',');
  const size_t cb = b.find(',');
  return a.substr(0, ca) + "," +
         std::to_string(std::stoll(a.substr(ca + 1)) +
                        std::stoll(b.substr(cb + 1)));
}

std::vector<std::string> Output(const std::string& url) {
  std::vector<StoredMessage> messages;
  EXPECT_OK(ReadStream(url, "TOTALS", &messages));
  std::vector<std::string> out;
  for (const StoredMessage& m : messages) out.push_back(m.data);
  std::sort(out.begin(), out.end());
  return out;
}

class NatsSinkTest : public NatsTest {
 protected:
  void SetUp() override {
    NatsTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_OK(CreateStream(url(), {"EVENTS", {"events.*"}}));
    ASSERT_OK(CreateStream(url(), {"TOTALS", {"totals"}, 300000}));
  }

  NatsSourceOptions SourceOptions(bool bounded) const {
    NatsSourceOptions o;
    o.connection.servers = {url()};
    o.stream = "EVENTS";
    o.subjects = {"events.0", "events.1"};
    o.bounded = bounded;
    return o;
  }
  NatsSinkOptions SinkOptions(NatsSinkOptions::Delivery delivery) const {
    NatsSinkOptions o;
    o.connection.servers = {url()};
    o.subject = "totals";
    o.delivery = delivery;
    return o;
  }
  JobOptions Options(const std::string& name) const {
    JobOptions o;
    o.backend = JobOptions::Backend::kRocksDB;
    o.local_dir = dir_.Sub("local-" + name);
    o.checkpoints.dir = dir_.Sub("checkpoints");
    o.checkpoints.interval_ms = 100;
    return o;
  }

  // events -> key -> running sum -> totals.
  JobBuilder SumJob(int parallelism, bool bounded,
                    NatsSinkOptions::Delivery delivery,
                    int64_t max_outage_ms = 60000) const {
    NatsSourceOptions source = SourceOptions(bounded);
    NatsSinkOptions sink = SinkOptions(delivery);
    source.connection.max_outage_ms = max_outage_ms;
    sink.connection.max_outage_ms = max_outage_ms;
    JobBuilder b("sums");
    b.SetParallelism(parallelism);
    b.AddSource<std::string>(
         NatsSource<std::string>::Factory(source, NatsRawBytes), "events")
        .Uid("events")
        .KeyBy([](const std::string& e) { return e.substr(0, e.find(',')); })
        .Reduce(AddValues, "sum")
        .Uid("sum")
        .SinkTo(NatsSink<std::string>::Factory(
            sink, [](const std::string& s) { return s; }))
        .Name("totals")
        .Uid("totals");
    return b;
  }

  static std::string LatestCheckpoint(const Job& job) {
    const CheckpointsInfo info = job.Checkpoints();
    for (auto it = info.history.rbegin(); it != info.history.rend(); ++it) {
      if (it->state == CheckpointState::kCompleted) return it->path;
    }
    return "";
  }
};

TEST_F(NatsSinkTest, ExactlyOnceAcrossCancelAndRestoreAtAnotherParallelism) {
  ASSERT_OK(Publish(url(), Events(0, 300)));
  std::string checkpoint;
  {
    ASSERT_OK_AND_ASSIGN(
        auto job, SumJob(2, false, NatsSinkOptions::Delivery::kExactlyOnce)
                      .Build(Options("first")));
    ASSERT_OK(job->Start());
    // Output appears as checkpoints complete.
    ASSERT_OK_AND_ASSIGN(uint64_t n, WaitForCount(url(), "TOTALS", 100, 30000));
    ASSERT_GE(n, 100u);
    job->Cancel();
    EXPECT_TRUE(job->Wait().IsAborted());
    checkpoint = LatestCheckpoint(*job);
  }
  ASSERT_FALSE(checkpoint.empty());
  ASSERT_OK(Publish(url(), Events(300, 600)));
  JobOptions options = Options("second");
  options.restore_from = checkpoint;
  ASSERT_OK_AND_ASSIGN(
      auto job,
      SumJob(3, false, NatsSinkOptions::Delivery::kExactlyOnce).Build(options));
  ASSERT_OK(job->Start());
  ASSERT_OK_AND_ASSIGN(uint64_t n, WaitForCount(url(), "TOTALS", 600, 60000));
  EXPECT_EQ(n, 600u);
  // A few more checkpoints: nothing more may come.
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerCheckpoint());
    ASSERT_OK(job->WaitForCheckpoint(id, 30s));
  }
  job->Cancel();
  EXPECT_TRUE(job->Wait().IsAborted());
  EXPECT_EQ(Output(url()), ExpectedSums(600));
}

// The broker restarts while the job runs: the source makes its consumers
// anew after the last sequence read, the sink publishes what the outage
// held up; each result is in the output once.
TEST_F(NatsSinkTest, BrokerRestartWhileTheJobRunsLosesNothing) {
  ASSERT_OK(Publish(url(), Events(0, 200)));
  ASSERT_OK_AND_ASSIGN(auto job,
                       SumJob(2, false, NatsSinkOptions::Delivery::kExactlyOnce)
                           .Build(Options("run")));
  ASSERT_OK(job->Start());
  ASSERT_OK_AND_ASSIGN(uint64_t n, WaitForCount(url(), "TOTALS", 200, 30000));
  ASSERT_EQ(n, 200u);
  server_->Stop();
  std::this_thread::sleep_for(500ms);
  ASSERT_OK(server_->Start());
  ASSERT_OK(Publish(url(), Events(200, 400)));
  ASSERT_OK_AND_ASSIGN(n, WaitForCount(url(), "TOTALS", 400, 60000));
  EXPECT_EQ(n, 400u);
  EXPECT_EQ(job->status(), JobStatus::kRunning);
  job->Cancel();
  EXPECT_TRUE(job->Wait().IsAborted());
  EXPECT_EQ(Output(url()), ExpectedSums(400));
}

// The broker stays away longer than max_outage_ms: without restarts the
// job fails naming the cause.
TEST_F(NatsSinkTest, OutageLongerThanMaxOutageFailsTheJob) {
  ASSERT_OK(Publish(url(), Events(0, 100)));
  JobBuilder b = SumJob(1, false, NatsSinkOptions::Delivery::kExactlyOnce,
                        /*max_outage_ms=*/500);
  ASSERT_OK_AND_ASSIGN(auto job, b.Build(Options("run")));
  ASSERT_OK(job->Start());
  ASSERT_OK_AND_ASSIGN(uint64_t n, WaitForCount(url(), "TOTALS", 100, 30000));
  ASSERT_EQ(n, 100u);
  server_->Stop();
  ASSERT_TRUE(job->WaitFor(60s));
  Status s = job->Wait();
  EXPECT_THAT(s, StatusIs(Status::Code::kIOError));
  EXPECT_THAT(s.ToString(), testing::AnyOf(HasSubstr("NATS source 'events'"),
                                           HasSubstr("NATS sink 'totals'")));
  EXPECT_THAT(s.ToString(), HasSubstr("unreachable for more than 500 ms"));
  EXPECT_EQ(job->status(), JobStatus::kFailed);
}

// The same outage with a restart strategy: the job fails, restarts from
// its latest checkpoint until the broker is back, and then goes on; each
// result is in the output once.
TEST_F(NatsSinkTest, OutageLongerThanMaxOutageRestartsAndContinues) {
  ASSERT_OK(Publish(url(), Events(0, 200)));
  JobOptions options = Options("run");
  options.restart.attempts = 1000;
  options.restart.delay_ms = 100;
  ASSERT_OK_AND_ASSIGN(auto job,
                       SumJob(2, false, NatsSinkOptions::Delivery::kExactlyOnce,
                              /*max_outage_ms=*/500)
                           .Build(options));
  ASSERT_OK(job->Start());
  ASSERT_OK_AND_ASSIGN(uint64_t n, WaitForCount(url(), "TOTALS", 200, 30000));
  ASSERT_EQ(n, 200u);
  server_->Stop();
  // Away for longer than max_outage_ms: the job fails over at least once.
  for (int i = 0; i < 600 && job->Checkpoints().restarts == 0; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_GE(job->Checkpoints().restarts, 1);
  std::this_thread::sleep_for(1s);
  ASSERT_OK(server_->Start());
  ASSERT_OK(Publish(url(), Events(200, 400)));
  ASSERT_OK_AND_ASSIGN(n, WaitForCount(url(), "TOTALS", 400, 60000));
  EXPECT_EQ(n, 400u);
  // A few more checkpoints: nothing more may come.
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerCheckpoint());
    ASSERT_OK(job->WaitForCheckpoint(id, 30s));
  }
  EXPECT_EQ(job->status(), JobStatus::kRunning);
  const JobInfo info = job->Info();
  ASSERT_FALSE(info.failures.empty());
  EXPECT_THAT(info.failures.front().message,
              HasSubstr("unreachable for more than 500 ms"));
  job->Cancel();
  EXPECT_TRUE(job->Wait().IsAborted());
  EXPECT_EQ(Output(url()), ExpectedSums(400));
}

TEST_F(NatsSinkTest, AtLeastOnceDeliversEveryResult) {
  ASSERT_OK(Publish(url(), Events(0, 300)));
  JobOptions options = Options("run");
  options.backend = JobOptions::Backend::kMemory;
  ASSERT_OK_AND_ASSIGN(
      auto job,
      SumJob(2, true, NatsSinkOptions::Delivery::kAtLeastOnce).Build(options));
  ASSERT_OK(job->Start());
  ASSERT_TRUE(job->WaitFor(60s));
  ASSERT_OK(job->Wait());
  // No failure happened: each result once.
  EXPECT_EQ(Output(url()), ExpectedSums(300));
}

TEST_F(NatsSinkTest, BoundedExactlyOnceJobPublishesEverythingAtItsEnd) {
  ASSERT_OK(Publish(url(), Events(0, 300)));
  ASSERT_OK_AND_ASSIGN(auto job,
                       SumJob(2, true, NatsSinkOptions::Delivery::kExactlyOnce)
                           .Build(Options("run")));
  ASSERT_OK(job->Start());
  ASSERT_TRUE(job->WaitFor(60s));
  ASSERT_OK(job->Wait());
  const std::vector<std::string> got = Output(url());
  const std::vector<std::string> want = ExpectedSums(300);
  std::vector<std::string> missing, extra;
  std::set_difference(want.begin(), want.end(), got.begin(), got.end(),
                      std::back_inserter(missing));
  std::set_difference(got.begin(), got.end(), want.begin(), want.end(),
                      std::back_inserter(extra));
  EXPECT_THAT(missing, testing::IsEmpty());
  EXPECT_THAT(extra, testing::IsEmpty());
  EXPECT_EQ(got.size(), want.size());
  // The connector gauges: the source read everything; the sink waited for
  // acknowledgements.
  const JobInfo info = job->Info();
  ASSERT_GE(info.vertices.size(), 2u);
  EXPECT_EQ(info.vertices.front().pending_records, 0);
  EXPECT_EQ(info.vertices.front().send_time_us, -1);
  EXPECT_GT(info.vertices.back().send_time_us, 0);
  EXPECT_EQ(info.vertices.back().pending_records, -1);
}

TEST_F(NatsSinkTest, RefusesAStreamWithAShortDuplicateWindow) {
  ASSERT_OK(CreateStream(url(), {"SHORT", {"short"}, 1000}));
  NatsSinkOptions options =
      SinkOptions(NatsSinkOptions::Delivery::kExactlyOnce);
  options.subject = "short";
  JobBuilder b("refuse");
  b.AddSource<std::string>(FromElements<std::string>({"a"}), "in")
      .SinkTo(NatsSink<std::string>::Factory(
          options, [](const std::string& s) { return s; }))
      .Name("out")
      .Uid("out");
  ASSERT_OK_AND_ASSIGN(auto job, b.Build());
  ASSERT_OK(job->Start());
  ASSERT_TRUE(job->WaitFor(60s));
  Status s = job->Wait();
  EXPECT_THAT(s, StatusIs(Status::Code::kFailedPrecondition));
  EXPECT_THAT(s.ToString(),
              HasSubstr("stream 'SHORT' keeps message ids for 1000 ms"));
  EXPECT_THAT(s.ToString(), HasSubstr("duplicate window"));
}

TEST_F(NatsSinkTest, SubjectWithoutStreamFailsNamingTheSink) {
  auto backend = NewBackend();
  FakeContext ctx(backend.get(), "out", 0, 1);
  NatsSinkOptions options =
      SinkOptions(NatsSinkOptions::Delivery::kAtLeastOnce);
  options.subject = "nowhere";
  NatsSink<std::string> sink(options, [](const std::string& s) { return s; });
  Status s = sink.Open(ctx);
  EXPECT_THAT(s, StatusIs(Status::Code::kNotFound));
  EXPECT_THAT(s.ToString(),
              HasSubstr("NATS sink 'out': no stream captures subject "
                        "'nowhere'"));
  ASSERT_OK(sink.Close());
}

// Driven directly: a restore publishes what the snapshot held, under the
// same message ids, so a second restore from the same snapshot adds
// nothing.
TEST_F(NatsSinkTest, RestorePublishesTheSnapshotsRecordsOnce) {
  auto backend = NewBackend();
  auto format = [](const std::string& s) { return s; };
  NatsSinkOptions options =
      SinkOptions(NatsSinkOptions::Delivery::kExactlyOnce);
  {
    FakeContext ctx(backend.get(), "totals", 0, 1);
    NatsSink<std::string> sink(options, format);
    ASSERT_OK(sink.Open(ctx));
    ASSERT_OK(sink.Invoke("a", 0));
    ASSERT_OK(sink.Invoke("b", 0));
    ASSERT_OK(sink.SnapshotState(ctx, 1));
    ASSERT_OK(sink.Invoke("c", 0));  // after the barrier: lost in a crash
    ASSERT_OK(sink.Close());
  }
  ASSERT_OK_AND_ASSIGN(uint64_t n, StreamCount(url(), "TOTALS"));
  EXPECT_EQ(n, 0u);  // nothing before the checkpoint completes
  for (int restore = 0; restore < 2; ++restore) {
    FakeContext ctx(backend.get(), "totals", 0, 1);
    NatsSink<std::string> sink(options, format);
    ASSERT_OK(sink.Open(ctx));
    EXPECT_EQ(sink.records_acked(), 2);
    ASSERT_OK(sink.Close());
  }
  EXPECT_EQ(Output(url()), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace weir::natstest
