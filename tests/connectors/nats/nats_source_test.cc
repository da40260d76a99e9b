// SPDX-License-Identifier: Apache-2.0
//
// NatsSource against a real nats-server: a partitioned stream read exactly
// by a job, positions restored at the same and at other parallelisms (the
// function driven directly over memory backends), clear errors for a wrong
// URL and an unknown stream, and records that do not parse.
#include <algorithm>
#include <chrono>
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

// n messages "m<i>" on subjects "<prefix>.<i % parts>".
std::vector<StoredMessage> Messages(const std::string& prefix, int parts,
                                    int from, int to) {
  std::vector<StoredMessage> out;
  for (int i = from; i < to; ++i) {
    out.push_back(
        {prefix + "." + std::to_string(i % parts), "m" + std::to_string(i)});
  }
  return out;
}

std::vector<std::string> Datas(const std::vector<StoredMessage>& messages) {
  std::vector<std::string> out;
  for (const StoredMessage& m : messages) out.push_back(m.data);
  std::sort(out.begin(), out.end());
  return out;
}

template <class T>
class VectorOutput final : public SourceOutput<T> {
 public:
  void Collect(T value) override { values.push_back(std::move(value)); }
  void CollectWithTimestamp(T value, int64_t) override {
    values.push_back(std::move(value));
  }
  std::vector<T> values;
};

class NatsSourceTest : public NatsTest {
 protected:
  NatsSourceOptions Options(bool bounded = true) const {
    NatsSourceOptions o;
    o.connection.servers = {url()};
    o.stream = "ORDERS";
    o.subjects = {"orders.0", "orders.1", "orders.2", "orders.3"};
    o.bounded = bounded;
    o.fetch_batch = 50;
    return o;
  }
  void CreateOrders() {
    ASSERT_OK(CreateStream(url(), {"ORDERS", {"orders.*"}}));
  }

  // Polls `source` until it has emitted `n` more records (or ended);
  // bounded by 2000 polls.
  static void PollUntil(NatsSource<std::string>& source,
                        VectorOutput<std::string>& out, size_t n) {
    for (int i = 0; i < 2000 && out.values.size() < n; ++i) {
      Result<SourceStatus> r =
          source.Poll(out, static_cast<int>(n - out.values.size()));
      ASSERT_OK(r);
      if (r->kind == SourceStatus::Kind::kEnd) return;
      if (r->kind == SourceStatus::Kind::kWaiting) {
        std::this_thread::sleep_for(5ms);
      }
    }
  }
};

TEST_F(NatsSourceTest, JobReadsAPartitionedStreamExactly) {
  CreateOrders();
  const auto published = Messages("orders", 4, 0, 1000);
  ASSERT_OK(Publish(url(), published));
  auto out = std::make_shared<CollectedRecords<std::string>>();
  JobBuilder b("read");
  b.AddSource<std::string>(
       NatsSource<std::string>::Factory(Options(), NatsRawBytes), "orders")
      .Uid("orders")
      .SetParallelism(3)
      .SinkTo(CollectSink<std::string>::Factory(out));
  ASSERT_OK_AND_ASSIGN(auto job, b.Build());
  ASSERT_OK(job->Start());
  ASSERT_TRUE(job->WaitFor(60s));
  ASSERT_OK(job->Wait());
  std::vector<std::string> got = out->values();
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, Datas(published));
  // Records out of the source vertex: the records in from NATS.
  const JobInfo info = job->Info();
  ASSERT_FALSE(info.vertices.empty());
  EXPECT_EQ(info.vertices.front().records_out, 1000);
}

TEST_F(NatsSourceTest, DefaultsToTheStreamsSubjects) {
  CreateOrders();
  const auto published = Messages("orders", 2, 0, 100);
  ASSERT_OK(Publish(url(), published));
  auto backend = NewBackend();
  FakeContext ctx(backend.get(), "orders", 0, 1);
  NatsSourceOptions options = Options();
  options.subjects.clear();
  NatsSource<std::string> source(options, NatsRawBytes);
  ASSERT_OK(source.Open(ctx));
  VectorOutput<std::string> out;
  PollUntil(source, out, 1000);
  std::sort(out.values.begin(), out.values.end());
  EXPECT_EQ(out.values, Datas(published));
  ASSERT_OK(source.Close());
}

// A subtask with several splits reads the whole stream through one
// consumer: it emits exactly the messages of its own splits, in stream
// order, and drops the others'.
TEST_F(NatsSourceTest, SubtaskWithSeveralSplitsReadsOnlyItsOwn) {
  CreateOrders();
  const auto published = Messages("orders", 4, 0, 400);
  ASSERT_OK(Publish(url(), published));
  auto backend = NewBackend();
  FakeContext ctx(backend.get(), "orders", 0, 2);  // orders.0 and orders.2
  NatsSource<std::string> source(Options(), NatsRawBytes);
  ASSERT_OK(source.Open(ctx));
  VectorOutput<std::string> out;
  PollUntil(source, out, 1000);
  std::vector<std::string> expected;
  for (const StoredMessage& m : published) {
    if (m.subject == "orders.0" || m.subject == "orders.2") {
      expected.push_back(m.data);
    }
  }
  ASSERT_EQ(expected.size(), 200u);
  EXPECT_EQ(out.values, expected);
  ASSERT_OK(source.Close());
}

// A bounded source whose split has no message ends without one.
TEST_F(NatsSourceTest, BoundedSourceWithNothingToReadEnds) {
  CreateOrders();
  ASSERT_OK(Publish(url(), Messages("orders", 2, 0, 10)));
  auto backend = NewBackend();
  FakeContext ctx(backend.get(), "orders", 0, 1);
  NatsSourceOptions options = Options();
  options.subjects = {"orders.3"};
  NatsSource<std::string> source(options, NatsRawBytes);
  ASSERT_OK(source.Open(ctx));
  VectorOutput<std::string> out;
  bool ended = false;
  for (int i = 0; i < 200 && !ended; ++i) {
    Result<SourceStatus> r = source.Poll(out, 100);
    ASSERT_OK(r);
    ended = r->kind == SourceStatus::Kind::kEnd;
    if (r->kind == SourceStatus::Kind::kWaiting) {
      std::this_thread::sleep_for(5ms);
    }
  }
  EXPECT_TRUE(ended);
  EXPECT_TRUE(out.values.empty());
  ASSERT_OK(source.Close());
}

// A poll never emits more than it asks for, though a fetch brings more:
// the rest comes with the next polls, in order, none lost or repeated.
TEST_F(NatsSourceTest, APollEmitsNoMoreThanItAsksFor) {
  CreateOrders();
  const auto published = Messages("orders", 1, 0, 300);
  ASSERT_OK(Publish(url(), published));
  auto backend = NewBackend();
  FakeContext ctx(backend.get(), "orders", 0, 1);
  NatsSourceOptions options = Options();
  options.subjects = {"orders.0"};
  options.fetch_batch = 100;
  NatsSource<std::string> source(options, NatsRawBytes);
  ASSERT_OK(source.Open(ctx));
  VectorOutput<std::string> out;
  for (int i = 0; i < 2000 && out.values.size() < published.size(); ++i) {
    const size_t before = out.values.size();
    Result<SourceStatus> r = source.Poll(out, 7);
    ASSERT_OK(r);
    ASSERT_LE(out.values.size() - before, 7u);
    if (r->kind == SourceStatus::Kind::kEnd) break;
    if (r->kind == SourceStatus::Kind::kWaiting)
      std::this_thread::sleep_for(5ms);
  }
  std::vector<std::string> expected;
  for (const StoredMessage& m : published) expected.push_back(m.data);
  EXPECT_EQ(out.values, expected);
  ASSERT_OK(source.Close());
}

// A snapshot after some records; a restore (same backend) reads exactly
// the rest, also what was published after the snapshot.
TEST_F(NatsSourceTest, RestoreContinuesAfterTheLastSequence) {
  CreateOrders();
  ASSERT_OK(Publish(url(), Messages("orders", 4, 0, 400)));
  auto backend = NewBackend();
  FakeContext ctx(backend.get(), "orders", 0, 1);
  VectorOutput<std::string> first;
  {
    NatsSource<std::string> source(Options(false), NatsRawBytes);
    ASSERT_OK(source.Open(ctx));
    PollUntil(source, first, 150);
    ASSERT_EQ(first.values.size(), 150u);
    ASSERT_OK(source.SnapshotState(ctx));
    // Read past the snapshot: a crash loses these, the restore reads
    // them again.
    PollUntil(source, first, 250);
    ASSERT_OK(source.Close());
  }
  first.values.resize(150);
  ASSERT_OK(Publish(url(), Messages("orders", 4, 400, 600)));
  NatsSource<std::string> restored(Options(true), NatsRawBytes);
  ASSERT_OK(restored.Open(ctx));
  VectorOutput<std::string> second;
  PollUntil(restored, second, 1000);
  std::vector<std::string> all = first.values;
  all.insert(all.end(), second.values.begin(), second.values.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, Datas(Messages("orders", 4, 0, 600)));
}

// Three subtasks snapshot their splits; 1, 2 and 4 new subtasks share the
// splits out and together read exactly the rest.
TEST_F(NatsSourceTest, RestoreAtAnotherParallelismReadsEachMessageOnce) {
  CreateOrders();
  const auto published = Messages("orders", 4, 0, 800);
  ASSERT_OK(Publish(url(), published));
  std::vector<std::unique_ptr<KeyedStateBackend>> olds;
  std::vector<std::string> before;
  const size_t polled[3] = {30, 0, 120};
  for (int s = 0; s < 3; ++s) {
    olds.push_back(NewBackend());
    FakeContext ctx(olds.back().get(), "orders", s, 3);
    NatsSource<std::string> source(Options(), NatsRawBytes);
    ASSERT_OK(source.Open(ctx));
    VectorOutput<std::string> out;
    if (polled[s] > 0) PollUntil(source, out, polled[s]);
    ASSERT_EQ(out.values.size(), polled[s]);
    ASSERT_OK(source.SnapshotState(ctx));
    ASSERT_OK(source.Close());
    before.insert(before.end(), out.values.begin(), out.values.end());
  }
  for (int p : {1, 2, 4}) {
    SCOPED_TRACE("parallelism " + std::to_string(p));
    auto restored = UnionOf({olds[0].get(), olds[1].get(), olds[2].get()},
                            "orders", "offset");
    std::vector<std::string> all = before;
    for (int s = 0; s < p; ++s) {
      FakeContext ctx(restored.get(), "orders", s, p);
      NatsSource<std::string> source(Options(), NatsRawBytes);
      ASSERT_OK(source.Open(ctx));
      VectorOutput<std::string> out;
      PollUntil(source, out, 10000);
      if (p == 4) {
        EXPECT_FALSE(out.values.empty());  // one split each
      }
      all.insert(all.end(), out.values.begin(), out.values.end());
      ASSERT_OK(source.Close());
    }
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, Datas(published));
  }
}

TEST_F(NatsSourceTest, UnknownStreamFailsNamingSourceAndStream) {
  auto backend = NewBackend();
  FakeContext ctx(backend.get(), "events", 0, 1);
  NatsSourceOptions options = Options();
  options.stream = "NOPE";
  NatsSource<std::string> source(options, NatsRawBytes);
  Status s = source.Open(ctx);
  EXPECT_THAT(s, StatusIs(Status::Code::kNotFound));
  EXPECT_THAT(s.ToString(), HasSubstr("NATS source 'events'"));
  EXPECT_THAT(s.ToString(), HasSubstr("stream 'NOPE' not found"));
}

TEST_F(NatsSourceTest, WrongUrlFailsTheJobNamingTheSource) {
  NatsSourceOptions options = Options();
  options.connection.servers = {"nats://user:secret@127.0.0.1:" +
                                std::to_string(FreePort())};
  JobBuilder b("read");
  b.AddSource<std::string>(
       NatsSource<std::string>::Factory(options, NatsRawBytes), "events")
      .Uid("events")
      .SinkTo(DiscardingSink<std::string>::Factory());
  ASSERT_OK_AND_ASSIGN(auto job, b.Build());
  ASSERT_OK(job->Start());
  ASSERT_TRUE(job->WaitFor(60s));
  Status s = job->Wait();
  EXPECT_THAT(s, StatusIs(Status::Code::kIOError));
  EXPECT_THAT(s.ToString(), HasSubstr("NATS source 'events': cannot connect"));
  EXPECT_THAT(s.ToString(), testing::Not(HasSubstr("secret")));
}

TEST_F(NatsSourceTest, BadRecordFailsOrIsSkipped) {
  CreateOrders();
  ASSERT_OK(Publish(url(),
                    {{"orders.0", "1"}, {"orders.0", "x"}, {"orders.0", "3"}}));
  auto parse = [](const NatsMessage& m) -> Result<std::optional<int>> {
    if (m.data == "x") return Status::InvalidArgument("not a number");
    return std::optional<int>(std::stoi(std::string(m.data)));
  };
  for (bool skip : {false, true}) {
    SCOPED_TRACE(skip ? "skip" : "fail");
    auto backend = NewBackend();
    FakeContext ctx(backend.get(), "numbers", 0, 1);
    NatsSourceOptions options = Options();
    options.subjects = {"orders.0"};
    if (skip) options.on_error = NatsSourceOptions::OnError::kSkip;
    NatsSource<int> source(options, parse);
    ASSERT_OK(source.Open(ctx));
    VectorOutput<int> out;
    Result<SourceStatus> r = source.Poll(out, 100);
    for (int i = 0; i < 100 && r.ok() && r->kind != SourceStatus::Kind::kEnd;
         ++i) {
      r = source.Poll(out, 100);
    }
    if (skip) {
      ASSERT_OK(r);
      EXPECT_EQ(out.values, (std::vector<int>{1, 3}));
      EXPECT_EQ(ctx.skipped, 1);
    } else {
      EXPECT_THAT(r.status(), StatusIs(Status::Code::kInvalidArgument));
      EXPECT_THAT(r.status().ToString(),
                  HasSubstr("NATS source 'numbers': message 2 of stream "
                            "ORDERS: not a number"));
    }
    ASSERT_OK(source.Close());
  }
}

}  // namespace
}  // namespace weir::natstest
