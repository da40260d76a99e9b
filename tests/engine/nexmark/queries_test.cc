// SPDX-License-Identifier: Apache-2.0
//
// The Nexmark queries (bench/nexmark/queries.h) in jobs at parallelism 2,
// on both backends, against the plain single-threaded computations over
// the same generated events: the same results, as multisets.
#include "bench/nexmark/queries.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"
#include "weir/nexmark.h"
#include "weir/stream.h"

namespace weir::nexmark {
namespace {

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
