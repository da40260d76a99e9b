// SPDX-License-Identifier: Apache-2.0
//
// The Nexmark benchmark's event generator as a weir source: an online
// auction's people, auctions and bids, generated as the reference generator
// (Beam's Nexmark, nexmark/nexmark's NexmarkConfiguration) generates them:
// the same proportions (1 person : 3 auctions : 46 bids), average sizes
// (200, 500 and 100 bytes), hot auctions, sellers and bidders, number of
// auctions in flight and of active people, and event times that advance at
// the configured event rate. docs/sources-and-sinks.md has examples.
//
// Every event is a function of the options and of its event number n alone
// (Generate()), so the events are the same on every run, at any
// parallelism, and after a restore at another parallelism: the source keeps
// the event numbers still to generate as splits of a sequence, as
// GeneratorSource does (sources.h, SequencePosition).
//
// Thread safety: a Source belongs to one task thread; Generate() and the
// factories may be called from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include <weir/functions.h>
#include <weir/operator.h>
#include <weir/result.h>
#include <weir/sources.h>
#include <weir/status.h>

namespace weir::nexmark {

// Ids start here, as in the reference, so that queries find matches even
// over few events.
inline constexpr int64_t kFirstPersonId = 1000;
inline constexpr int64_t kFirstAuctionId = 1000;
inline constexpr int64_t kFirstCategoryId = 10;

// Times are in ms since the epoch (the options' base_time_ms at event 0).
struct Person {
  int64_t id = 0;
  std::string name;
  std::string email_address;
  std::string credit_card;
  std::string city;
  std::string state;
  int64_t date_time = 0;
  std::string extra;

  bool operator==(const Person&) const = default;
};

struct Auction {
  int64_t id = 0;
  std::string item_name;
  std::string description;
  int64_t initial_bid = 0;  // cents
  int64_t reserve = 0;      // cents
  int64_t date_time = 0;
  int64_t expires = 0;
  int64_t seller = 0;  // a Person id
  int64_t category = 0;
  std::string extra;

  bool operator==(const Auction&) const = default;
};

struct Bid {
  int64_t auction = 0;  // an Auction id
  int64_t bidder = 0;   // a Person id
  int64_t price = 0;    // cents
  std::string channel;
  std::string url;
  int64_t date_time = 0;
  std::string extra;

  bool operator==(const Bid&) const = default;
};

// One event: a person, an auction or a bid.
struct Event {
  enum class Type : uint8_t { kPerson = 0, kAuction = 1, kBid = 2 };

  std::variant<Person, Auction, Bid> data;

  Type type() const { return static_cast<Type>(data.index()); }
  // The event of that type, or null.
  const Person* person() const { return std::get_if<Person>(&data); }
  const Auction* auction() const { return std::get_if<Auction>(&data); }
  const Bid* bid() const { return std::get_if<Bid>(&data); }
  // The event time (date_time), in ms.
  int64_t timestamp() const;
  // The size the reference accounts for (8 bytes per number plus the
  // lengths of the strings): its averages are the options' avg_*_bytes.
  int64_t SizeInBytes() const;

  bool operator==(const Event&) const = default;
};

// The reference's NexmarkConfiguration, as far as it shapes the events.
struct GeneratorOptions {
  // Events in total, over all subtasks; -1 for an unbounded source.
  // Default: -1.
  int64_t count = -1;
  // Seeds every event's random choices. Default: 0.
  uint64_t seed = 0;
  // Event time: event n has the time base_time_ms + floor(n * 1e6 /
  // first_event_rate) / 1000 (ms), whatever the parallelism and the speed
  // at which the events are emitted. Default: 0 and 10000 events/s.
  int64_t base_time_ms = 0;
  int64_t first_event_rate = 10'000;
  // Records per second in processing time, over all subtasks (a token
  // bucket per subtask, as GeneratorSource's `rate`); 0 for as fast as
  // possible, as Nexmark's benchmarks run. Default: 0.
  double rate = 0;
  // Out of orderness: events come in groups of this many event numbers,
  // each group permuted (the reference's outOfOrderGroupSize), so event
  // times go back by up to the group's time span. 1: in order. Must not be
  // a multiple of 953 (the permutation's factor). Default: 1.
  int64_t out_of_order_group_size = 1;
  // Of every person_proportion + auction_proportion + bid_proportion
  // events, this many are people, auctions and bids, in that order.
  // Default: 1, 3, 46.
  int person_proportion = 1;
  int auction_proportion = 3;
  int bid_proportion = 46;
  // Average sizes (Event::SizeInBytes), padded with `extra`.
  // Default: 200, 500, 100.
  int avg_person_bytes = 200;
  int avg_auction_bytes = 500;
  int avg_bid_bytes = 100;
  // 1 - 1/ratio of the bids go to the hot auction (the first of the last
  // 100 auctions); of the auctions, that share is sold by a hot seller, of
  // the bids made by a hot bidder. Default: 2, 4, 4.
  int hot_auction_ratio = 2;
  int hot_sellers_ratio = 4;
  int hot_bidders_ratio = 4;
  // Other bids go to one of the last num_in_flight_auctions auctions (or up
  // to 10 not yet created), other sellers and bidders are among the last
  // num_active_people people (or up to 10 ahead). Default: 100 and 1000.
  int num_in_flight_auctions = 100;
  int num_active_people = 1000;
};

// InvalidArgument (naming the Nexmark source and the option) if the options
// are out of range.
Status Validate(const GeneratorOptions& options);

// Event number n (0, 1, ...): the reference generator's event with id
// n' and time of n', where n' is n permuted within its out-of-order group.
// REQUIRES: Validate(options).ok(), n >= 0.
Event Generate(const GeneratorOptions& options, int64_t n);

// The event time of event number n (without the out-of-order permutation:
// the time the watermark follows).
int64_t TimestampOfEventNumber(const GeneratorOptions& options, int64_t n);

// The source: subtask s of p generates the event numbers s, s + p, ...
// (below `count`) in ascending order, each with its event time as the
// record's timestamp. Offset: the splits of the event numbers still to
// generate (SequencePosition), so a restore at any parallelism emits
// exactly the events not emitted before the snapshot.
class Source final : public SourceFunction<Event> {
 public:
  explicit Source(GeneratorOptions options);

  // A factory for any parallelism.
  static SourceFactory<Event> Factory(GeneratorOptions options);
  // Bounded out of orderness of one out-of-order group's time span (0 when
  // events are in order), on Event::timestamp().
  static WatermarkStrategy<Event> Watermarks(const GeneratorOptions& options);

  // InvalidArgument if Validate(options) fails.
  Status Open(OperatorContext& ctx) override;
  Result<SourceStatus> Poll(SourceOutput<Event>& out, int max_records) override;
  Status SnapshotState(OperatorContext& ctx) override;

  // The smallest event number this subtask has still to generate (`count`
  // when done).
  int64_t next_event_number() const { return position_.Peek(); }

 private:
  GeneratorOptions options_;
  const Clock* clock_ = nullptr;
  weir::internal::SequencePosition position_;
  // Token bucket, when options_.rate > 0.
  double rate_per_us_ = 0;  // of this subtask
  double tokens_ = 0;
  double max_tokens_ = 0;
  int64_t last_refill_us_ = 0;
};

}  // namespace weir::nexmark
