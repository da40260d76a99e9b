// SPDX-License-Identifier: Apache-2.0
//
// The Nexmark queries (bench/nexmark/queries.h) in jobs at parallelism 2,
// on both backends, against the plain single-threaded computations over
// the same generated events: the same results, as multisets.
#include "bench/nexmark/queries.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"
#include "weir/clock.h"
#include "weir/nexmark.h"
#include "weir/stream.h"

namespace weir::nexmark {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

template <class T>
struct Collected {
  std::mutex mu;
  std::vector<T> values;
};

bool BidLess(const Bid& a, const Bid& b) {
  return std::tie(a.auction, a.bidder, a.price, a.date_time, a.channel, a.url,
                  a.extra) < std::tie(b.auction, b.bidder, b.price, b.date_time,
                                      b.channel, b.url, b.extra);
}

class NexmarkQueryTest : public ::testing::TestWithParam<JobOptions::Backend> {
 protected:
  void SetUp() override {
    dir_.Create();
    gen_.count = 50'000;
    gen_.seed = 5;
    for (int64_t n = 0; n < gen_.count; ++n)
      events_.push_back(Generate(gen_, n));
  }

  // Runs `query` over the generated events at parallelism 2 and returns
  // what its sink received.
  template <class T, class Query>
  std::vector<T> Run(Query query) {
    auto out = std::make_shared<Collected<T>>();
    JobBuilder b("nexmark");
    b.SetParallelism(2);
    DataStream<Event> events =
        b.AddSource<Event>(Source::Factory(gen_), "nexmark",
                           Source::Watermarks(gen_))
            .Uid("nexmark");
    query(events).SinkTo([out](const T& v) {
      std::lock_guard<std::mutex> lock(out->mu);
      out->values.push_back(v);
    });
    JobOptions options;
    options.backend = GetParam();
    options.local_dir = dir_.Sub("local");
    options.checkpoints.dir = dir_.Sub("checkpoints");
    auto job = b.Build(options);
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    if (!job.ok()) return {};
    Status s = (*job)->Start();
    EXPECT_TRUE(s.ok()) << s.ToString();
    s = (*job)->Wait();
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::lock_guard<std::mutex> lock(out->mu);
    return out->values;
  }

  testutil::TestDir dir_;
  GeneratorOptions gen_;
  std::vector<Event> events_;
};

TEST_P(NexmarkQueryTest, Q0PassesEveryBidThrough) {
  std::vector<Bid> got = Run<Bid>(Q0);
  std::vector<Bid> want = ReferenceQ0(events_);
  ASSERT_EQ(want.size(), 46'000u);
  std::sort(got.begin(), got.end(), BidLess);
  std::sort(want.begin(), want.end(), BidLess);
  EXPECT_TRUE(got == want);
  EXPECT_EQ(got.size(), want.size());
}

TEST_P(NexmarkQueryTest, Q1ConvertsEveryPrice) {
  std::vector<Q1Result> got = Run<Q1Result>(Q1);
  std::vector<Q1Result> want = ReferenceQ1(events_);
  ASSERT_EQ(want.size(), 46'000u);
  ASSERT_EQ(want[0].price,
            0.908 * static_cast<double>(events_[4].bid()->price));
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_TRUE(got == want);
  EXPECT_EQ(got.size(), want.size());
}

TEST_P(NexmarkQueryTest, Q2KeepsTheBidsOfEvery123rdAuction) {
  std::vector<Q2Result> got = Run<Q2Result>(Q2);
  std::vector<Q2Result> want = ReferenceQ2(events_);
  ASSERT_GT(want.size(), 50u);
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
}

TEST_P(NexmarkQueryTest, Q3JoinsSellersAndTheirAuctions) {
  std::vector<Q3Result> got = Run<Q3Result>(Q3);
  std::vector<Q3Result> want = ReferenceQ3(events_);
  ASSERT_GT(want.size(), 100u);
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
}

// Event time at 1000 events/s: 50K events span 50 s, about 30 windows.
TEST_P(NexmarkQueryTest, Q5FindsTheAuctionsWithTheMostBidsPerWindow) {
  gen_.first_event_rate = 1000;
  events_.clear();
  for (int64_t n = 0; n < gen_.count; ++n) events_.push_back(Generate(gen_, n));
  std::vector<Q5Result> got = Run<Q5Result>(Q5);
  std::vector<Q5Result> want = ReferenceQ5(events_);
  ASSERT_GE(want.size(), 25u);
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
}

// What each sink subtask received, and how much of it before the first
// checkpoint's barrier.
template <class T>
struct CutResults {
  std::mutex mu;
  std::map<int, std::vector<T>> values;  // by subtask
  std::map<int, size_t> at_cut;
  std::vector<T> BeforeCut() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<T> out;
    for (const auto& [subtask, v] : values) {
      const size_t n = at_cut.count(subtask) ? at_cut[subtask] : v.size();
      out.insert(out.end(), v.begin(), v.begin() + static_cast<long>(n));
    }
    return out;
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu);
    size_t n = 0;
    for (const auto& [_, v] : values) n += v.size();
    return n;
  }
};

template <class T>
class CutSink final : public SinkFunction<T> {
 public:
  explicit CutSink(std::shared_ptr<CutResults<T>> out) : out_(std::move(out)) {}
  Status Open(OperatorContext& ctx) override {
    subtask_ = ctx.subtask();
    return Status::OK();
  }
  Status Invoke(const T& v, int64_t) override {
    std::lock_guard<std::mutex> lock(out_->mu);
    out_->values[subtask_].push_back(v);
    return Status::OK();
  }
  Status SnapshotState(OperatorContext&, int64_t) override {
    std::lock_guard<std::mutex> lock(out_->mu);
    out_->at_cut.try_emplace(subtask_, out_->values[subtask_].size());
    return Status::OK();
  }

 private:
  std::shared_ptr<CutResults<T>> out_;
  int subtask_ = 0;
};

// q3's join state (sellers, auctions waiting for their seller) is keyed
// state: checkpointed at parallelism 2 part way through, restored at 1 and
// 3, the job's results before the cut and after the restore are the
// join's, each once.
TEST_P(NexmarkQueryTest, Q3RestoresItsJoinStateAtAnotherParallelism) {
  auto build = [](const GeneratorOptions& gen, int parallelism,
                  std::shared_ptr<CutResults<Q3Result>> out) {
    JobBuilder b("nexmark-q3");
    b.SetParallelism(parallelism);
    Q3(b.AddSource<Event>(Source::Factory(gen), "nexmark",
                          Source::Watermarks(gen))
           .Uid("nexmark"))
        .SinkTo([out]() -> std::unique_ptr<SinkFunction<Q3Result>> {
          return std::make_unique<CutSink<Q3Result>>(out);
        })
        .Uid("sink");
    return b;
  };
  GeneratorOptions throttled = gen_;
  throttled.rate = 20'000;
  auto clock = std::make_shared<ManualClock>(1'000'000);
  JobOptions options;
  options.backend = GetParam();
  options.local_dir = dir_.Sub("local");
  options.checkpoints.dir = dir_.Sub("checkpoints");
  options.clock = clock;
  auto first = std::make_shared<CutResults<Q3Result>>();
  ASSERT_OK_AND_ASSIGN(auto job, build(throttled, 2, first).Build(options));
  ASSERT_OK(job->Start());
  for (int i = 0; i < 5000 && first->size() < 60; ++i) {
    clock->AdvanceMillis(5);
    std::this_thread::sleep_for(2ms);
  }
  ASSERT_GE(first->size(), 60u);
  ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerCheckpoint());
  ASSERT_OK_AND_ASSIGN(CheckpointStats stats, job->WaitForCheckpoint(id, 30s));
  ASSERT_EQ(stats.state, CheckpointState::kCompleted);
  job->Cancel();
  EXPECT_TRUE(job->Wait().IsAborted());
  const std::vector<Q3Result> before = first->BeforeCut();
  std::vector<Q3Result> want = ReferenceQ3(events_);
  ASSERT_LT(before.size(), want.size());
  std::sort(want.begin(), want.end());

  const std::string root = fs::path(stats.path).parent_path().string();
  for (int parallelism : {1, 3}) {
    SCOPED_TRACE("parallelism " + std::to_string(parallelism));
    const std::string copy = dir_.Sub("copy-" + std::to_string(parallelism));
    fs::create_directories(copy);
    fs::copy(root, copy + "/" + fs::path(root).filename().string(),
             fs::copy_options::recursive);
    JobOptions resumed_options;
    resumed_options.backend = GetParam();
    resumed_options.checkpoints.dir = copy;
    resumed_options.local_dir =
        dir_.Sub("local-" + std::to_string(parallelism));
    resumed_options.restore_from = copy + "/" +
                                   fs::path(root).filename().string() + "/" +
                                   fs::path(stats.path).filename().string();
    auto out = std::make_shared<CutResults<Q3Result>>();
    ASSERT_OK_AND_ASSIGN(auto resumed,
                         build(gen_, parallelism, out).Build(resumed_options));
    ASSERT_OK(resumed->Start());
    ASSERT_OK(resumed->Wait());
    std::vector<Q3Result> got = before;
    const std::vector<Q3Result> after = out->BeforeCut();
    got.insert(got.end(), after.begin(), after.end());
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, want);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, NexmarkQueryTest,
                         ::testing::Values(JobOptions::Backend::kMemory,
                                           JobOptions::Backend::kRocksDB),
                         [](const auto& info) {
                           return info.param == JobOptions::Backend::kMemory
                                      ? std::string("memory")
                                      : std::string("rocksdb");
                         });

}  // namespace
}  // namespace weir::nexmark
