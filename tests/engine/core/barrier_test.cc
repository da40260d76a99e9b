// SPDX-License-Identifier: Apache-2.0
//
// Aligned barriers give a consistent cut: at every checkpoint, the counts in
// the keyed state of all count tasks add up to exactly the records the
// sources had emitted at their barrier (their offsets), however the
// barriers and records interleave on the channels.
#include <map>
#include <mutex>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/snapshot_observer.h"
#include "tests/engine/core/test_functions.h"
#include "tests/testutil/job_test_peer.h"
#include "tests/testutil/status_matchers.h"

namespace weir::enginetest {
namespace {

using namespace std::chrono_literals;

// Emits `total` records, `per_poll` a poll; its offset (records emitted) is
// its operator state.
class CountingSource final : public SourceFunction<Event> {
 public:
  CountingSource(int64_t total, int per_poll)
      : total_(total), per_poll_(per_poll) {}
  Status Open(OperatorContext& ctx) override {
    ctx_ = &ctx;
    return Status::OK();
  }
  Result<SourceStatus> Poll(SourceOutput<Event>& out, int max) override {
    for (int i = 0; i < std::min(max, per_poll_) && emitted_ < total_; ++i) {
      out.Collect(
          Event{"k" + std::to_string((emitted_ * 7) % 31), 1, emitted_});
      ++emitted_;
    }
    return emitted_ < total_ ? SourceStatus::More() : SourceStatus::End();
  }
  Status SnapshotState(OperatorContext& ctx) override {
    auto state =
        GetOperatorListState<int64_t>(ctx.state(), ctx.operator_id(), "offset");
    if (!state.ok()) return state.status();
    return state->Update({emitted_});
  }

 private:
  OperatorContext* ctx_ = nullptr;
  int64_t total_;
  int per_poll_;
  int64_t emitted_ = 0;
};

class CountPerKey final
    : public KeyedProcessFunction<std::string, Event, Event> {
 public:
  Status Open(OperatorContext& ctx) override {
    auto s = GetState(ctx.state(), ctx.operator_id(),
                      ValueStateDescriptor<int64_t>{"count"});
    if (!s.ok()) return s.status();
    count_.emplace(std::move(*s));
    return Status::OK();
  }
  Status ProcessElement(const Event& e, Context&,
                        Collector<Event>& out) override {
    auto c = count_->Value();
    if (!c.ok()) return c.status();
    const int64_t n = c->value_or(0) + 1;
    Status s = count_->Update(n);
    if (s.ok()) out.Collect(Event{e.key, n, e.time});
    return s;
  }

 private:
  std::optional<ValueState<int64_t>> count_;
};

// Sums, per checkpoint, the source offsets and the keyed counts it sees.
class CutObserver final : public engine::SnapshotObserver {
 public:
  Status OnTaskSnapshot(int64_t id, int vertex, int subtask,
                        KeyedStateBackend& backend) override {
    int64_t offsets = 0, counts = 0;
    for (const OperatorId& op : backend.Operators()) {
      auto states = backend.OperatorStates(op);
      if (!states.ok()) return states.status();
      for (const auto& st : *states) {
        for (const std::string& v : st.values) {
          int64_t x = 0;
          Status s =
              internal::DecodeValue(Serializer<int64_t>(), st.name, v, &x);
          if (!s.ok()) return s;
          offsets += x;
        }
      }
      for (int kg = backend.key_group_range().start;
           kg <= backend.key_group_range().end; ++kg) {
        Status s = backend.ForEachEntry(op, kg, [&](const StateEntry& e) {
          if (e.kind != StateEntry::Kind::kValue) return Status::OK();
          int64_t x = 0;
          Status d = internal::DecodeValue(Serializer<int64_t>(), "count",
                                           e.value, &x);
          counts += x;
          return d;
        });
        if (!s.ok()) return s;
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    Cut& cut = cuts_[id];
    cut.offsets += offsets;
    cut.counts += counts;
    cut.tasks.insert({vertex, subtask});
    return Status::OK();
  }

  struct Cut {
    int64_t offsets = 0;
    int64_t counts = 0;
    std::set<std::pair<int, int>> tasks;
  };
  std::map<int64_t, Cut> cuts() {
    std::lock_guard<std::mutex> lock(mu_);
    return cuts_;
  }

 private:
  std::mutex mu_;
  std::map<int64_t, Cut> cuts_;
};

class BarrierTest : public ::testing::TestWithParam<JobOptions::Backend> {};

TEST_P(BarrierTest, EveryCheckpointIsAConsistentCut) {
  auto observer = std::make_shared<CutObserver>();
  auto out = std::make_shared<Collected<Event>>();
  JobBuilder b("cut");
  b.SetParallelism(2);
  auto make_source = [] {
    return std::unique_ptr<SourceFunction<Event>>(
        std::make_unique<CountingSource>(40000, 7));
  };
  auto a = b.AddSource<Event>(make_source, "a").Uid("a");
  auto c = b.AddSource<Event>(make_source, "c").Uid("c").SetParallelism(1);
  a.Union({c})
      .KeyBy([](const Event& e) { return e.key; })
      .Process<Event>([] { return std::make_unique<CountPerKey>(); })
      .Uid("count")
      .SetParallelism(3)
      .SinkTo(CollectInto(out))
      .SetParallelism(3);
  JobOptions options;
  options.backend = GetParam();
  options.batch_size = 5;  // barriers land in the middle of batches
  options.channel_capacity = 2;
  ASSERT_OK_AND_ASSIGN(auto job, b.Build(options));
  JobTestPeer::SetSnapshotObserver(*job, observer);
  ASSERT_OK(job->Start());
  int64_t triggered = 0;
  for (int64_t id = 1; id <= 30; ++id) {
    if (!JobTestPeer::InjectBarrier(*job, id).ok()) break;
    triggered = id;
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_OK(job->Wait());
  ASSERT_GT(triggered, 3);
  auto cuts = observer->cuts();
  int complete = 0, mid_stream = 0;
  for (const auto& [id, cut] : cuts) {
    // A checkpoint counts when every task took part: 2 + 1 sources, 3
    // counters, whose chain holds the sink too.
    if (cut.tasks.size() != 6) continue;
    ++complete;
    EXPECT_EQ(cut.counts, cut.offsets) << "checkpoint " << id;
    mid_stream += cut.offsets > 0 && cut.offsets < 3 * 40000;
  }
  EXPECT_GT(complete, 3);
  EXPECT_GE(mid_stream, 2);  // cuts taken while records were flowing
  EXPECT_EQ(out->values().size(), 3u * 40000u);
}

INSTANTIATE_TEST_SUITE_P(Backends, BarrierTest,
                         ::testing::Values(JobOptions::Backend::kMemory,
                                           JobOptions::Backend::kRocksDB),
                         [](const auto& info) {
                           return info.param == JobOptions::Backend::kMemory
                                      ? "memory"
                                      : "rocksdb";
                         });

}  // namespace
}  // namespace weir::enginetest
