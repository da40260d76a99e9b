// SPDX-License-Identifier: Apache-2.0
#include "bench/nexmark/queries.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <weir/state.h>
#include <weir/window.h>

namespace weir::nexmark {

namespace {

bool SellerStateOfQ3(const std::string& state) {
  return state == "OR" || state == "ID" || state == "CA";
}

Q1Result ToEuro(const Bid& b) {
  return Q1Result{b.auction, b.bidder, 0.908 * static_cast<double>(b.price),
                  b.date_time, b.extra};
}

// q3's join, per seller id: the seller (name, city and state, if they
// arrived and qualify) and the ids of their auctions that came first.
class Q3Join final : public KeyedProcessFunction<int64_t, Event, Q3Result> {
 public:
  Status Open(OperatorContext& ctx) override {
    auto person = GetState(ctx.state(), ctx.operator_id(),
                           ValueStateDescriptor<std::string>{"person"});
    if (!person.ok()) return person.status();
    person_.emplace(std::move(*person));
    auto pending = GetState(ctx.state(), ctx.operator_id(),
                            ListStateDescriptor<int64_t>{"auctions"});
    if (!pending.ok()) return pending.status();
    pending_.emplace(std::move(*pending));
    return Status::OK();
  }

  Status ProcessElement(const Event& e, Context&,
                        Collector<Q3Result>& out) override {
    if (const Person* p = e.person()) {
      // name, city and state, each followed by '\0' (they hold none).
      std::string packed = p->name;
      packed += '\0';
      packed += p->city;
      packed += '\0';
      packed += p->state;
      Status s = person_->Update(packed);
      if (!s.ok()) return s;
      Result<std::vector<int64_t>> waiting = pending_->Get();
      if (!waiting.ok()) return waiting.status();
      if (waiting->empty()) return Status::OK();
      for (int64_t id : *waiting)
        out.Collect(Q3Result{p->name, p->city, p->state, id});
      return pending_->Clear();
    }
    const Auction* a = e.auction();
    Result<std::optional<std::string>> packed = person_->Value();
    if (!packed.ok()) return packed.status();
    if (!packed->has_value()) return pending_->Add(a->id);
    const std::string& v = **packed;
    const size_t c1 = v.find('\0');
    const size_t c2 = v.find('\0', c1 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos) {
      return Status::Corruption("q3: malformed person state");
    }
    out.Collect(Q3Result{v.substr(0, c1), v.substr(c1 + 1, c2 - c1 - 1),
                         v.substr(c2 + 1), a->id});
    return Status::OK();
  }

 private:
  std::optional<ValueState<std::string>> person_;
  std::optional<ListState<int64_t>> pending_;
};

// q5's second step, per window start: the highest count so far and the
// auctions that have it; emitted when the window's results are all in.
class Q5Max final
    : public KeyedProcessFunction<int64_t, WindowResult<int64_t, int64_t>,
                                  Q5Result> {
 public:
  Status Open(OperatorContext& ctx) override {
    auto max = GetState(ctx.state(), ctx.operator_id(),
                        ValueStateDescriptor<int64_t>{"max"});
    if (!max.ok()) return max.status();
    max_.emplace(std::move(*max));
    auto auctions = GetState(ctx.state(), ctx.operator_id(),
                             ListStateDescriptor<int64_t>{"auctions"});
    if (!auctions.ok()) return auctions.status();
    auctions_.emplace(std::move(*auctions));
    return Status::OK();
  }

  Status ProcessElement(const WindowResult<int64_t, int64_t>& r, Context& ctx,
                        Collector<Q5Result>&) override {
    Result<std::optional<int64_t>> max = max_->Value();
    if (!max.ok()) return max.status();
    Status s;
    if (!max->has_value() || r.value > **max) {
      s = max_->Update(r.value);
      if (s.ok()) s = auctions_->Update({r.key});
    } else if (r.value == **max) {
      s = auctions_->Add(r.key);
    }
    if (!s.ok()) return s;
    // The window's results come before the watermark that passes its end.
    return ctx.timers().RegisterEventTimeTimer(r.window.max_timestamp());
  }

  Status OnTimer(int64_t, TimeDomain, Context& ctx,
                 Collector<Q5Result>& out) override {
    Result<std::optional<int64_t>> max = max_->Value();
    if (!max.ok()) return max.status();
    if (!max->has_value()) return Status::OK();
    Result<std::vector<int64_t>> auctions = auctions_->Get();
    if (!auctions.ok()) return auctions.status();
    for (int64_t a : *auctions) {
      out.Collect(Q5Result{ctx.current_key(), a, **max});
    }
    Status s = max_->Clear();
    if (!s.ok()) return s;
    return auctions_->Clear();
  }

 private:
  std::optional<ValueState<int64_t>> max_;
  std::optional<ListState<int64_t>> auctions_;
};

}  // namespace

DataStream<Bid> Q0(DataStream<Event> events) {
  return events
      .FlatMap<Bid>([](const Event& e, Collector<Bid>& out) {
        if (const Bid* b = e.bid()) out.Collect(*b);
      })
      .Name("q0");
}

DataStream<Q1Result> Q1(DataStream<Event> events) {
  return events
      .FlatMap<Q1Result>([](const Event& e, Collector<Q1Result>& out) {
        if (const Bid* b = e.bid()) out.Collect(ToEuro(*b));
      })
      .Name("q1");
}

DataStream<Q2Result> Q2(DataStream<Event> events) {
  return events
      .FlatMap<Q2Result>([](const Event& e, Collector<Q2Result>& out) {
        const Bid* b = e.bid();
        if (b != nullptr && b->auction % 123 == 0) {
          out.Collect(Q2Result{b->auction, b->price});
        }
      })
      .Name("q2");
}

DataStream<Q3Result> Q3(DataStream<Event> events) {
  return events
      .Filter([](const Event& e) {
        if (const Person* p = e.person()) return SellerStateOfQ3(p->state);
        if (const Auction* a = e.auction()) return a->category == 10;
        return false;
      })
      .Name("q3-select")
      .KeyBy([](const Event& e) -> int64_t {
        const Person* p = e.person();
        return p != nullptr ? p->id : e.auction()->seller;
      })
      .Process<Q3Result>(
          [] {
            return std::unique_ptr<
                KeyedProcessFunction<int64_t, Event, Q3Result>>(
                std::make_unique<Q3Join>());
          },
          "q3-join")
      .Uid("q3-join");
}

DataStream<Q5Result> Q5(DataStream<Event> events) {
  AggregateFunction<int64_t, int64_t, int64_t> count;
  count.create_accumulator = [] { return int64_t{0}; };
  count.add = [](const int64_t&, int64_t* acc) { ++*acc; };
  count.get_result = [](const int64_t& acc) { return acc; };
  count.merge = [](const int64_t& a, const int64_t& b) { return a + b; };
  return events
      .FlatMap<int64_t>([](const Event& e, Collector<int64_t>& out) {
        if (const Bid* b = e.bid()) out.Collect(b->auction);
      })
      .Name("q5-bids")
      .KeyBy([](const int64_t& auction) { return auction; })
      .Window(WindowAssigner::SlidingEventTime(kQ5WindowMs, kQ5SlideMs))
      .Aggregate<int64_t, int64_t>(count, "q5-count")
      .Uid("q5-count")
      .KeyBy([](const WindowResult<int64_t, int64_t>& r) {
        return r.window.start;
      })
      .Process<Q5Result>(
          [] {
            return std::unique_ptr<KeyedProcessFunction<
                int64_t, WindowResult<int64_t, int64_t>, Q5Result>>(
                std::make_unique<Q5Max>());
          },
          "q5-max")
      .Uid("q5-max");
}

std::vector<std::string> QueryNames() { return {"q0", "q1", "q2", "q3", "q5"}; }

std::vector<Bid> ReferenceQ0(const std::vector<Event>& events) {
  std::vector<Bid> out;
  for (const Event& e : events) {
    if (const Bid* b = e.bid()) out.push_back(*b);
  }
  return out;
}

std::vector<Q1Result> ReferenceQ1(const std::vector<Event>& events) {
  std::vector<Q1Result> out;
  for (const Event& e : events) {
    if (const Bid* b = e.bid()) out.push_back(ToEuro(*b));
  }
  return out;
}

std::vector<Q2Result> ReferenceQ2(const std::vector<Event>& events) {
  std::vector<Q2Result> out;
  for (const Event& e : events) {
    const Bid* b = e.bid();
    if (b != nullptr && b->auction % 123 == 0) {
      out.push_back({b->auction, b->price});
    }
  }
  return out;
}

// The join as a whole: every auction of category 10 with its seller, if
// the seller is in one of the three states, whatever the order.
std::vector<Q3Result> ReferenceQ3(const std::vector<Event>& events) {
  std::map<int64_t, const Person*> people;
  for (const Event& e : events) {
    const Person* p = e.person();
    if (p != nullptr && SellerStateOfQ3(p->state)) people[p->id] = p;
  }
  std::vector<Q3Result> out;
  for (const Event& e : events) {
    const Auction* a = e.auction();
    if (a == nullptr || a->category != 10) continue;
    auto it = people.find(a->seller);
    if (it == people.end()) continue;
    out.push_back(
        {it->second->name, it->second->city, it->second->state, a->id});
  }
  return out;
}

// Counts per window and auction, then each window's maximum.
std::vector<Q5Result> ReferenceQ5(const std::vector<Event>& events) {
  const WindowAssigner windows =
      WindowAssigner::SlidingEventTime(kQ5WindowMs, kQ5SlideMs);
  std::map<int64_t, std::map<int64_t, int64_t>> counts;  // start, auction
  for (const Event& e : events) {
    const Bid* b = e.bid();
    if (b == nullptr) continue;
    for (const TimeWindow& w : windows.Assign(b->date_time)) {
      ++counts[w.start][b->auction];
    }
  }
  std::vector<Q5Result> out;
  for (const auto& [start, per_auction] : counts) {
    int64_t max = 0;
    for (const auto& [auction, n] : per_auction) max = std::max(max, n);
    for (const auto& [auction, n] : per_auction) {
      if (n == max) out.push_back({start, auction, n});
    }
  }
  return out;
}

}  // namespace weir::nexmark
