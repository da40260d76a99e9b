// SPDX-License-Identifier: Apache-2.0
//
// The events of the Nexmark generator, after the reference (Beam's Nexmark
// and nexmark/nexmark: GeneratorConfig, PersonGenerator, AuctionGenerator,
// BidGenerator). Each event's choices are drawn from a generator seeded by
// the options' seed and the event's id, so an event depends on nothing but
// its number.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

#include "engine/nexmark/random.h"
#include "lib/coding.h"
#include "lib/hash.h"
#include "weir/nexmark.h"

namespace weir::nexmark {

namespace {

using internal::EventRandom;
using internal::NextExtra;
using internal::NextString;

// Hot auctions, sellers and bidders are the first (sellers, auctions) or
// second (bidders) of the last batch of this many.
constexpr int64_t kHotBatch = 100;
// Ids up to this many ahead of the last one created may be chosen, so that
// some bids and auctions come before their auction or person.
constexpr int64_t kIdLead = 10;
constexpr int64_t kNumCategories = 5;
constexpr int kHotChannelsRatio = 2;
constexpr int kNumChannels = 10'000;

constexpr std::array<std::string_view, 6> kStates = {"AZ", "CA", "ID",
                                                     "OR", "WA", "WY"};
constexpr std::array<std::string_view, 10> kCities = {
    "Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland",
    "Bend",    "Redmond",     "Seattle",       "Kent",  "Cheyenne"};
constexpr std::array<std::string_view, 11> kFirstNames = {
    "Peter", "Paul",  "Luke",  "John",   "Saul",  "Vicky",
    "Kate",  "Julie", "Sarah", "Deiter", "Walter"};
constexpr std::array<std::string_view, 9> kLastNames = {
    "Shultz", "Abrams", "Spencer", "White", "Bartels",
    "Walton", "Smith",  "Jones",   "Noris"};
constexpr std::array<std::string_view, 4> kHotChannels = {"Google", "Facebook",
                                                          "Baidu", "Apple"};

std::string BaseUrl(EventRandom& random) {
  std::string url = "https://www.nexmark.com/";
  for (int i = 0; i < 3; ++i) {
    url += NextString(random, 5, '_');
    url += '/';
  }
  url += "item.htm?query=1";
  return url;
}

// The channels and their URLs, and the hot channels' URLs: fixed tables,
// the same in every process.
struct Channels {
  std::array<std::string, kHotChannels.size()> hot_urls;
  std::array<std::pair<std::string, std::string>, kNumChannels> channels;
};

const Channels& ChannelTable() {
  static const Channels* table = [] {
    auto* t = new Channels;
    EventRandom random(0x6368616e6e656c73ULL);  // "channels"
    for (std::string& url : t->hot_urls) url = BaseUrl(random);
    for (int i = 0; i < kNumChannels; ++i) {
      std::string url = BaseUrl(random);
      if (random.NextInt(10) > 0) {
        // The reference's |Integer.reverse(i)|: i's 32 bits reversed.
        uint32_t x = static_cast<uint32_t>(i);
        uint32_t r = 0;
        for (int b = 0; b < 32; ++b, x >>= 1) r = (r << 1) | (x & 1);
        const int64_t v = static_cast<int32_t>(r);
        url += "&channel_id=" + std::to_string(v < 0 ? -v : v);
      }
      t->channels[static_cast<size_t>(i)] = {"channel-" + std::to_string(i),
                                             std::move(url)};
    }
    return t;
  }();
  return *table;
}

int64_t Total(const GeneratorOptions& o) {
  return int64_t{o.person_proportion} + o.auction_proportion + o.bid_proportion;
}

// The event number n permuted within its out-of-order group.
int64_t AdjustedEventNumber(const GeneratorOptions& o, int64_t n) {
  const int64_t g = o.out_of_order_group_size;
  if (g <= 1) return n;
  const int64_t base = (n / g) * g;
  // (n * 953) % g without overflow for large n: 953 is prime and g not a
  // multiple of it, so this permutes the group.
  const int64_t offset = static_cast<int64_t>(
      (static_cast<uint64_t>(n % g) * 953u) % static_cast<uint64_t>(g));
  return base + offset;
}

// The last person id (base 0) created by event id `id`, or before it.
int64_t LastBase0PersonId(const GeneratorOptions& o, int64_t id) {
  const int64_t epoch = id / Total(o);
  int64_t offset = id % Total(o);
  if (offset >= o.person_proportion) offset = o.person_proportion - 1;
  return epoch * o.person_proportion + offset;
}

// The last auction id (base 0) created by event id `id`, or before it.
int64_t LastBase0AuctionId(const GeneratorOptions& o, int64_t id) {
  int64_t epoch = id / Total(o);
  int64_t offset = id % Total(o);
  if (offset < o.person_proportion) {
    --epoch;  // the last auction of the previous epoch
    offset = o.auction_proportion - 1;
  } else if (offset >= o.person_proportion + o.auction_proportion) {
    offset = o.auction_proportion - 1;  // the last one of this epoch
  } else {
    offset -= o.person_proportion;
  }
  return epoch * o.auction_proportion + offset;
}

// One of the active people, or a few ahead.
int64_t NextBase0PersonId(const GeneratorOptions& o, int64_t id,
                          EventRandom& random) {
  const int64_t num_people = LastBase0PersonId(o, id) + 1;
  const int64_t active = std::min<int64_t>(num_people, o.num_active_people);
  return num_people - active + random.NextInt(active + kIdLead);
}

// One of the auctions likely still in flight, or a few ahead.
int64_t NextBase0AuctionId(const GeneratorOptions& o, int64_t id,
                           EventRandom& random) {
  const int64_t max_auction = LastBase0AuctionId(o, id);
  const int64_t min_auction =
      std::max<int64_t>(max_auction - o.num_in_flight_auctions, 0);
  return min_auction + random.NextInt(max_auction - min_auction + 1 + kIdLead);
}

int64_t NextPrice(EventRandom& random) {
  return std::llround(std::pow(10.0, random.NextDouble() * 6.0) * 100.0);
}

Person MakePerson(const GeneratorOptions& o, int64_t id, int64_t time,
                  EventRandom& random) {
  Person p;
  p.id = LastBase0PersonId(o, id) + kFirstPersonId;
  p.name =
      std::string(kFirstNames[static_cast<size_t>(
          random.NextInt(kFirstNames.size()))]) +
      " " +
      std::string(
          kLastNames[static_cast<size_t>(random.NextInt(kLastNames.size()))]);
  p.email_address =
      NextString(random, 7) + "@" + NextString(random, 5) + ".com";
  char card[20];
  std::snprintf(card, sizeof(card), "%04d %04d %04d %04d",
                static_cast<int>(random.NextInt(10000)),
                static_cast<int>(random.NextInt(10000)),
                static_cast<int>(random.NextInt(10000)),
                static_cast<int>(random.NextInt(10000)));
  p.credit_card = card;
  p.city = kCities[static_cast<size_t>(random.NextInt(kCities.size()))];
  p.state = kStates[static_cast<size_t>(random.NextInt(kStates.size()))];
  p.date_time = time;
  const int64_t size =
      8 + static_cast<int64_t>(p.name.size() + p.email_address.size() +
                               p.credit_card.size() + p.city.size() +
                               p.state.size());
  p.extra = NextExtra(random, size, o.avg_person_bytes);
  return p;
}

Auction MakeAuction(const GeneratorOptions& o, int64_t id, int64_t time,
                    EventRandom& random) {
  Auction a;
  a.id = LastBase0AuctionId(o, id) + kFirstAuctionId;
  // P(hot seller) = 1 - 1/hot_sellers_ratio.
  if (random.NextInt(o.hot_sellers_ratio) > 0) {
    a.seller = (LastBase0PersonId(o, id) / kHotBatch) * kHotBatch;
  } else {
    a.seller = NextBase0PersonId(o, id, random);
  }
  a.seller += kFirstPersonId;
  a.category = kFirstCategoryId + random.NextInt(kNumCategories);
  a.initial_bid = NextPrice(random);
  // Auctions last on average until num_in_flight_auctions more auctions
  // were created.
  const int64_t events_for_auctions =
      int64_t{o.num_in_flight_auctions} * Total(o) / o.auction_proportion;
  const int64_t horizon =
      TimestampOfEventNumber(o, id + events_for_auctions) - time;
  a.expires = time + 1 + random.NextInt(std::max<int64_t>(horizon * 2, 1));
  a.item_name = NextString(random, 20);
  a.description = NextString(random, 100);
  a.reserve = a.initial_bid + NextPrice(random);
  a.date_time = time;
  const int64_t size =
      8 + static_cast<int64_t>(a.item_name.size() + a.description.size()) + 40;
  a.extra = NextExtra(random, size, o.avg_auction_bytes);
  return a;
}

Bid MakeBid(const GeneratorOptions& o, int64_t id, int64_t time,
            EventRandom& random) {
  Bid b;
  // P(hot auction) = 1 - 1/hot_auction_ratio.
  if (random.NextInt(o.hot_auction_ratio) > 0) {
    b.auction = (LastBase0AuctionId(o, id) / kHotBatch) * kHotBatch;
  } else {
    b.auction = NextBase0AuctionId(o, id, random);
  }
  b.auction += kFirstAuctionId;
  // Hot bidders are the second of their batch, so that they are not the
  // hot sellers.
  if (random.NextInt(o.hot_bidders_ratio) > 0) {
    b.bidder = (LastBase0PersonId(o, id) / kHotBatch) * kHotBatch + 1;
  } else {
    b.bidder = NextBase0PersonId(o, id, random);
  }
  b.bidder += kFirstPersonId;
  b.price = NextPrice(random);
  const Channels& table = ChannelTable();
  if (random.NextInt(kHotChannelsRatio) > 0) {
    const size_t i = static_cast<size_t>(random.NextInt(kHotChannels.size()));
    b.channel = kHotChannels[i];
    b.url = table.hot_urls[i];
  } else {
    const auto& c =
        table.channels[static_cast<size_t>(random.NextInt(kNumChannels))];
    b.channel = c.first;
    b.url = c.second;
  }
  b.date_time = time;
  b.extra = NextExtra(random, 32, o.avg_bid_bytes);
  return b;
}

}  // namespace

int64_t Event::timestamp() const {
  return std::visit([](const auto& e) { return e.date_time; }, data);
}

int64_t Event::SizeInBytes() const {
  if (const Person* p = person()) {
    return 8 + static_cast<int64_t>(p->name.size() + p->email_address.size() +
                                    p->credit_card.size() + p->city.size() +
                                    p->state.size() + p->extra.size());
  }
  if (const Auction* a = auction()) {
    return 48 + static_cast<int64_t>(a->item_name.size() +
                                     a->description.size() + a->extra.size());
  }
  return 32 + static_cast<int64_t>(bid()->extra.size());
}

Status Validate(const GeneratorOptions& o) {
  auto bad = [](std::string_view what) {
    return Status::InvalidArgument("Nexmark source: " + std::string(what));
  };
  if (o.count < -1) return bad("count must be >= -1");
  if (o.first_event_rate < 1) return bad("first_event_rate must be >= 1");
  if (o.rate < 0 || !std::isfinite(o.rate)) return bad("rate must be >= 0");
  if (o.out_of_order_group_size < 1 || o.out_of_order_group_size % 953 == 0) {
    return bad(
        "out_of_order_group_size must be >= 1 and not a multiple of 953");
  }
  if (o.person_proportion < 1 || o.auction_proportion < 1 ||
      o.bid_proportion < 0) {
    return bad(
        "person_proportion and auction_proportion must be >= 1, "
        "bid_proportion >= 0");
  }
  if (o.avg_person_bytes < 0 || o.avg_auction_bytes < 0 ||
      o.avg_bid_bytes < 0) {
    return bad("the average sizes must be >= 0");
  }
  if (o.hot_auction_ratio < 1 || o.hot_sellers_ratio < 1 ||
      o.hot_bidders_ratio < 1) {
    return bad("the hot ratios must be >= 1");
  }
  if (o.num_in_flight_auctions < 1 || o.num_active_people < 1) {
    return bad("num_in_flight_auctions and num_active_people must be >= 1");
  }
  return Status::OK();
}

int64_t TimestampOfEventNumber(const GeneratorOptions& o, int64_t n) {
  const double delay_us = 1e6 / static_cast<double>(o.first_event_rate);
  return o.base_time_ms +
         static_cast<int64_t>(static_cast<double>(n) * delay_us) / 1000;
}

Event Generate(const GeneratorOptions& o, int64_t n) {
  // With one timeline for all subtasks, the reference's event id is the
  // adjusted event number itself.
  const int64_t id = AdjustedEventNumber(o, n);
  const int64_t time = TimestampOfEventNumber(o, id);
  std::string bytes;
  PutFixed64(&bytes, static_cast<uint64_t>(id));
  EventRandom random(Hash64WithSeed(bytes, o.seed));
  const int64_t rem = id % Total(o);
  Event e;
  if (rem < o.person_proportion) {
    e.data = MakePerson(o, id, time, random);
  } else if (rem < o.person_proportion + o.auction_proportion) {
    e.data = MakeAuction(o, id, time, random);
  } else {
    e.data = MakeBid(o, id, time, random);
  }
  return e;
}

}  // namespace weir::nexmark
