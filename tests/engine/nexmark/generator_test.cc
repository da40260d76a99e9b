// SPDX-License-Identifier: Apache-2.0
//
// The Nexmark generator against the reference's numbers: over 1M events
// the proportions of people, auctions and bids, their average sizes, the
// share of hot auctions, sellers and bidders, the auctions in flight and
// the active people; event times at the configured rate; the same events
// for a seed; and the out-of-order groups.
#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testutil/status_matchers.h"
#include "weir/nexmark.h"

namespace weir::nexmark {
namespace {

constexpr int64_t kEvents = 1'000'000;

// What the reference says event id `id` may refer to, base 0: the last
// person and the last auction created by then.
int64_t LastPerson(int64_t id) { return id / 50; }  // the first of 50
int64_t LastAuction(int64_t id) {
  const int64_t epoch = id / 50;
  const int64_t offset = id % 50;
  if (offset < 1) return epoch * 3 - 1;
  if (offset >= 4) return epoch * 3 + 2;
  return epoch * 3 + offset - 1;
}

struct Tally {
  int64_t people = 0, auctions = 0, bids = 0;
  int64_t person_bytes = 0, auction_bytes = 0, bid_bytes = 0;
  int64_t hot_auction_bids = 0, hot_bidder_bids = 0, hot_seller_auctions = 0;
};

TEST(NexmarkGenerator, MixSizesAndHotRatiosMatchTheReference) {
  GeneratorOptions o;
  ASSERT_OK(Validate(o));
  Tally t;
  for (int64_t n = 0; n < kEvents; ++n) {
    const Event e = Generate(o, n);
    // Event time: 10000 events per second of event time.
    ASSERT_EQ(e.timestamp(), n / 10) << n;
    if (const Person* p = e.person()) {
      ++t.people;
      t.person_bytes += e.SizeInBytes();
      ASSERT_EQ(n % 50, 0);
      ASSERT_EQ(p->id, kFirstPersonId + LastPerson(n));
    } else if (const Auction* a = e.auction()) {
      ++t.auctions;
      t.auction_bytes += e.SizeInBytes();
      ASSERT_EQ(a->id, kFirstAuctionId + LastAuction(n));
      ASSERT_GE(a->category, kFirstCategoryId);
      ASSERT_LT(a->category, kFirstCategoryId + 5);
      ASSERT_GT(a->expires, a->date_time);
      ASSERT_GE(a->reserve, a->initial_bid);
      // A seller among the last 1000 people, or up to 10 ahead.
      const int64_t people = LastPerson(n) + 1;
      ASSERT_GE(a->seller - kFirstPersonId,
                std::max<int64_t>(people - 1000, 0));
      ASSERT_LT(a->seller - kFirstPersonId, people + 10);
      if ((a->seller - kFirstPersonId) % 100 == 0) ++t.hot_seller_auctions;
    } else {
      const Bid* b = e.bid();
      ASSERT_NE(b, nullptr);
      ++t.bids;
      t.bid_bytes += e.SizeInBytes();
      // An auction among the last 100, or up to 10 ahead.
      const int64_t last = LastAuction(n);
      ASSERT_GE(b->auction - kFirstAuctionId, std::max<int64_t>(last - 100, 0));
      ASSERT_LE(b->auction - kFirstAuctionId, last + 10);
      const int64_t people = LastPerson(n) + 1;
      ASSERT_GE(b->bidder - kFirstPersonId,
                std::max<int64_t>(people - 1000, 0));
      ASSERT_LE(b->bidder - kFirstPersonId, people + 10);
      ASSERT_GT(b->price, 0);
      ASSERT_FALSE(b->channel.empty());
      ASSERT_THAT(b->url, ::testing::StartsWith("https://www.nexmark.com/"));
      if ((b->auction - kFirstAuctionId) % 100 == 0) ++t.hot_auction_bids;
      if ((b->bidder - kFirstPersonId) % 100 == 1) ++t.hot_bidder_bids;
    }
  }
  // 1 : 3 : 46, exactly over whole epochs of 50 events.
  EXPECT_EQ(t.people, kEvents / 50);
  EXPECT_EQ(t.auctions, kEvents / 50 * 3);
  EXPECT_EQ(t.bids, kEvents / 50 * 46);
  // Average sizes 200, 500, 100 bytes, within 2%.
  const double person = static_cast<double>(t.person_bytes) / t.people;
  const double auction = static_cast<double>(t.auction_bytes) / t.auctions;
  const double bid = static_cast<double>(t.bid_bytes) / t.bids;
  EXPECT_NEAR(person, 200, 4) << person;
  EXPECT_NEAR(auction, 500, 10) << auction;
  EXPECT_NEAR(bid, 100, 2) << bid;
  // Hot auction ratio 2: half the bids go to the hot auction, plus the 1 in
  // 100 of the others that pick it by chance (0.505); hot bidder and
  // seller ratios 4: 0.75 + 0.25 / 100. Within 0.01 (the binomial standard
  // deviation is below 0.001 here).
  EXPECT_NEAR(static_cast<double>(t.hot_auction_bids) / t.bids, 0.505, 0.01);
  EXPECT_NEAR(static_cast<double>(t.hot_bidder_bids) / t.bids, 0.7525, 0.01);
  EXPECT_NEAR(static_cast<double>(t.hot_seller_auctions) / t.auctions, 0.7525,
              0.01);
}

TEST(NexmarkGenerator, SameEventsForASeed) {
  GeneratorOptions a;
  a.seed = 42;
  GeneratorOptions b = a;
  GeneratorOptions other = a;
  other.seed = 43;
  int differ = 0;
  for (int64_t n = 0; n < 5000; ++n) {
    ASSERT_EQ(Generate(a, n), Generate(b, n)) << n;
    if (!(Generate(a, n) == Generate(other, n))) ++differ;
  }
  EXPECT_GT(differ, 4900);  // a few bids may agree by chance
}

TEST(NexmarkGenerator, EventTimeFollowsTheRate) {
  GeneratorOptions o;
  o.first_event_rate = 1'000'000;  // 1 us apart
  o.base_time_ms = 1'700'000'000'000;
  EXPECT_EQ(Generate(o, 0).timestamp(), o.base_time_ms);
  EXPECT_EQ(Generate(o, 999).timestamp(), o.base_time_ms);
  EXPECT_EQ(Generate(o, 1000).timestamp(), o.base_time_ms + 1);
  EXPECT_EQ(Generate(o, 2'500'000).timestamp(), o.base_time_ms + 2500);
  o.first_event_rate = 10;  // 100 ms apart
  EXPECT_EQ(Generate(o, 7).timestamp(), o.base_time_ms + 700);
}

// Out of order: each group of 10 event numbers is a permutation of the
// events in order, so a group's times go back by less than its span.
TEST(NexmarkGenerator, OutOfOrderGroupsPermuteTheEvents) {
  GeneratorOptions in_order;
  in_order.first_event_rate = 1000;  // 1 ms apart
  GeneratorOptions shuffled = in_order;
  shuffled.out_of_order_group_size = 10;
  const WatermarkStrategy<Event> wm = Source::Watermarks(shuffled);
  EXPECT_EQ(wm.max_out_of_orderness_ms, 11);
  EXPECT_EQ(Source::Watermarks(in_order).max_out_of_orderness_ms, 0);
  bool any_back = false;
  int64_t max_seen = -1;
  for (int64_t g = 0; g < 100; ++g) {
    std::set<int64_t> times_in_order;
    std::set<int64_t> times_shuffled;
    for (int64_t n = g * 10; n < g * 10 + 10; ++n) {
      times_in_order.insert(Generate(in_order, n).timestamp());
      const Event e = Generate(shuffled, n);
      times_shuffled.insert(e.timestamp());
      if (e.timestamp() < max_seen) any_back = true;
      EXPECT_GT(e.timestamp(), max_seen - wm.max_out_of_orderness_ms);
      max_seen = std::max(max_seen, e.timestamp());
      // The same event as in order, at another place of its group.
      bool found = false;
      for (int64_t m = g * 10; m < g * 10 + 10 && !found; ++m) {
        found = Generate(in_order, m) == e;
      }
      EXPECT_TRUE(found) << n;
    }
    EXPECT_EQ(times_in_order, times_shuffled);
  }
  EXPECT_TRUE(any_back);
}

TEST(NexmarkGenerator, RejectsOptionsOutOfRange) {
  auto invalid = [](auto change) {
    GeneratorOptions o;
    change(o);
    return Validate(o);
  };
  EXPECT_TRUE(
      invalid([](GeneratorOptions& o) { o.count = -2; }).IsInvalidArgument());
  EXPECT_TRUE(invalid([](GeneratorOptions& o) {
                o.first_event_rate = 0;
              }).IsInvalidArgument());
  EXPECT_TRUE(
      invalid([](GeneratorOptions& o) { o.rate = -1; }).IsInvalidArgument());
  EXPECT_TRUE(invalid([](GeneratorOptions& o) {
                o.out_of_order_group_size = 953;
              }).IsInvalidArgument());
  EXPECT_TRUE(invalid([](GeneratorOptions& o) {
                o.auction_proportion = 0;
              }).IsInvalidArgument());
  EXPECT_TRUE(invalid([](GeneratorOptions& o) {
                o.hot_auction_ratio = 0;
              }).IsInvalidArgument());
  const Status s =
      invalid([](GeneratorOptions& o) { o.num_active_people = 0; });
  EXPECT_THAT(s.message(), ::testing::HasSubstr("Nexmark source"));
  EXPECT_THAT(s.message(), ::testing::HasSubstr("num_active_people"));
}

}  // namespace
}  // namespace weir::nexmark
