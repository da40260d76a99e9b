// SPDX-License-Identifier: Apache-2.0
//
// Nexmark queries written with weir's public API (stream.h, state.h), each
// as a function that appends the query to a job reading the Nexmark source
// (weir/nexmark.h) and returns the stream of its results. The benchmark
// (nexmark_bench) and the tests (tests/engine/nexmark) build the same
// queries. Each query follows its SQL in nexmark/nexmark's Flink suite.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <weir/nexmark.h>
#include <weir/stream.h>

namespace weir::nexmark {

// q1: a bid with its price converted from dollars to euros.
struct Q1Result {
  int64_t auction = 0;
  int64_t bidder = 0;
  double price = 0;  // 0.908 * the bid's price
  int64_t date_time = 0;
  std::string extra;
  auto operator<=>(const Q1Result&) const = default;
};

// q2: the auction and price of a bid.
struct Q2Result {
  int64_t auction = 0;
  int64_t price = 0;
  auto operator<=>(const Q2Result&) const = default;
};

// q3: a seller in Oregon, Idaho or California and one of their auctions of
// category 10.
struct Q3Result {
  std::string name;
  std::string city;
  std::string state;
  int64_t id = 0;  // the auction's
  auto operator<=>(const Q3Result&) const = default;
};

// q5: an auction with the most bids of a sliding window (ties: each).
struct Q5Result {
  int64_t window_start = 0;
  int64_t auction = 0;
  int64_t num = 0;  // its bids in the window
  auto operator<=>(const Q5Result&) const = default;
};

// q0, pass-through: every bid, unchanged.
//   SELECT auction, bidder, price, dateTime, extra FROM bid
DataStream<Bid> Q0(DataStream<Event> events);

// q1, currency conversion: a map.
//   SELECT auction, bidder, 0.908 * price, dateTime, extra FROM bid
DataStream<Q1Result> Q1(DataStream<Event> events);

// q2, selection: a filter.
//   SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0
DataStream<Q2Result> Q2(DataStream<Event> events);

// q3, local item suggestion: an incremental join of people and auctions on
// the seller, in keyed state (the seller's name, city and state; the
// auctions that came before their seller). A person's id is unique, so the
// person is kept and their earlier auctions are emitted and dropped when
// they arrive, and a later auction joins at once.
//   SELECT P.name, P.city, P.state, A.id
//   FROM auction AS A INNER JOIN person AS P ON A.seller = P.id
//   WHERE A.category = 10 AND P.state IN ('OR', 'ID', 'CA')
DataStream<Q3Result> Q3(DataStream<Event> events);

// q5, hot items: the auctions with the most bids in each sliding window of
// 10 s every 2 s. A window count per auction (Window + Aggregate), then per
// window start a keyed process that keeps the highest count and its
// auctions in keyed state and emits them when the watermark passes the
// window's end (an event-time timer).
//   SELECT auction, num FROM (count per auction and HOP window) AS A
//   JOIN (max of those counts per window) AS M ON window AND num >= maxn
DataStream<Q5Result> Q5(DataStream<Event> events);
inline constexpr int64_t kQ5WindowMs = 10'000;
inline constexpr int64_t kQ5SlideMs = 2'000;

// The queries above by name ("q0" .. "q3", "q5").
std::vector<std::string> QueryNames();

// The results of the queries, computed by a plain loop over the events in
// event number order, for the tests.
std::vector<Bid> ReferenceQ0(const std::vector<Event>& events);
std::vector<Q1Result> ReferenceQ1(const std::vector<Event>& events);
std::vector<Q2Result> ReferenceQ2(const std::vector<Event>& events);
std::vector<Q3Result> ReferenceQ3(const std::vector<Event>& events);
std::vector<Q5Result> ReferenceQ5(const std::vector<Event>& events);

}  // namespace weir::nexmark
