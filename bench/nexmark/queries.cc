// SPDX-License-Identifier: Apache-2.0
#include "bench/nexmark/queries.h"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <weir/state.h>

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

std::vector<std::string> QueryNames() { return {"q0", "q1", "q2", "q3"}; }

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

}  // namespace weir::nexmark
