// SPDX-License-Identifier: Apache-2.0
//
// Conformance: value, list, map, reducing and aggregating state.
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <weir/key_group.h>

#include "tests/backends/backend_fixture.h"

namespace weir::conformance {
namespace {

using Int64Entries = std::vector<std::pair<int64_t, int64_t>>;

// ---------------------------------------------------------------- value

TEST_P(BackendTest, ValueAbsentIsNullopt) {
  ASSERT_OK_AND_ASSIGN(
      auto v, GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"v"}));
  SetKey("k1");
  EXPECT_THAT(v.Value(), HoldsNothing());
}

TEST_P(BackendTest, ValueUpdateThenRead) {
  ASSERT_OK_AND_ASSIGN(
      auto v, GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"v"}));
  SetKey("k1");
  ASSERT_OK(v.Update(42));
  EXPECT_THAT(v.Value(), Holds<int64_t>(42));
  ASSERT_OK(v.Update(std::numeric_limits<int64_t>::min()));
  EXPECT_THAT(v.Value(), Holds(std::numeric_limits<int64_t>::min()));
}

// A key hint (PrefetchKey) changes neither the current key nor any state,
// for keys present, absent, empty or in another backend's key groups.
TEST_P(BackendTest, PrefetchKeyChangesNothing) {
  EXPECT_EQ(kv().prefetches_keys(), GetParam().name == "memory");
  ASSERT_OK_AND_ASSIGN(
      auto v, GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"v"}));
  ASSERT_OK_AND_ASSIGN(
      auto w, GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"w"}));
  kv().PrefetchKey("k1");  // before any state was read
  SetKey("k1");
  ASSERT_OK(v.Update(1));
  SetKey("k2");
  ASSERT_OK(v.Update(2));
  EXPECT_THAT(v.Value(), Holds<int64_t>(2));
  for (std::string_view hint : {"k1", "k3", "", "k2"}) {
    kv().PrefetchKey(hint);
    EXPECT_EQ(kv().current_key(), "k2");
  }
  ASSERT_OK(v.Update(3));  // still k2's
  ASSERT_OK(w.Update(30));
  kv().PrefetchKey("k1");
  EXPECT_THAT(w.Value(), Holds<int64_t>(30));
  SetKey("k1");
  EXPECT_THAT(v.Value(), Holds<int64_t>(1));
  EXPECT_THAT(w.Value(), HoldsNothing());
  SetKey("k2");
  EXPECT_THAT(v.Value(), Holds<int64_t>(3));
  SetKey("k3");
  EXPECT_THAT(v.Value(), HoldsNothing());

  // A backend of one key group: hints for keys of the others are ignored.
  StateBackendOptions one = Options();
  one.max_parallelism = 4;
  one.key_group_range = {1, 1};
  ASSERT_OK_AND_ASSIGN(auto small, Open(one, "one-group"));
  ASSERT_OK_AND_ASSIGN(
      auto sv, GetState(*small, op1_, ValueStateDescriptor<int64_t>{"v"}));
  std::string own;
  for (int i = 0; own.empty(); ++i) {
    const std::string k = "key" + std::to_string(i);
    if (KeyGroupForKey(k, 4) == 1) own = k;
  }
  ASSERT_OK(small->SetCurrentKey(own));
  ASSERT_OK(sv.Update(7));
  EXPECT_THAT(sv.Value(), Holds<int64_t>(7));
  for (int i = 0; i < 50; ++i) small->PrefetchKey("key" + std::to_string(i));
  EXPECT_EQ(small->current_key(), own);
  EXPECT_THAT(sv.Value(), Holds<int64_t>(7));
}

TEST_P(BackendTest, ValueEmptyStringIsPresent) {
  ASSERT_OK_AND_ASSIGN(
      auto v, GetState(kv(), op1_, ValueStateDescriptor<std::string>{"s"}));
  SetKey("k1");
  ASSERT_OK(v.Update(""));
  EXPECT_THAT(v.Value(), Holds(std::string()));
  ASSERT_OK(v.Update(std::string("a\0b", 3)));
  EXPECT_THAT(v.Value(), Holds(std::string("a\0b", 3)));
}

TEST_P(BackendTest, RawEmptyValueIsPresent) {
  ASSERT_OK_AND_ASSIGN(
      RawValueState * raw,
      kv().GetValueState(op1_, RawDescriptor("raw", StateType::kValue)));
  SetKey("k1");
  std::string out = "garbage";
  EXPECT_THAT(raw->Get("", &out), IsOkAndHolds(false));
  ASSERT_OK(raw->Put("", ""));
  EXPECT_THAT(raw->Get("", &out), IsOkAndHolds(true));
  EXPECT_EQ(out, "");
}

// Read-modify-writes interleaved over keys, namespaces and two states,
// with values that change size and clears in between: a backend that
// remembers the entry of the last read (the memory backend does) must never
// write the wrong one.
TEST_P(BackendTest, ValueReadModifyWriteInterleaved) {
  ASSERT_OK_AND_ASSIGN(
      auto a, GetState(kv(), op1_, ValueStateDescriptor<std::string>{"a"}));
  ASSERT_OK_AND_ASSIGN(
      auto b, GetState(kv(), op1_, ValueStateDescriptor<std::string>{"b"}));
  // Keys of one key group, so that they share the memory backend's table.
  std::vector<std::string> keys, others;
  const int kg = KeyGroupForKey("key", kv().max_parallelism());
  for (int i = 0; keys.size() < 50 || others.size() < 7; ++i) {
    std::string key = "key" + std::to_string(i);
    if (KeyGroupForKey(key, kv().max_parallelism()) != kg) continue;
    (keys.size() < 50 ? keys : others).push_back(std::move(key));
  }
  std::map<std::tuple<int, std::string, int>, std::string> model;
  const std::string namespaces[] = {"", "w1", "w2"};
  uint64_t x = 12345;
  for (int step = 0; step < 3000; ++step) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const int key = static_cast<int>((x >> 33) % 50);
    const std::string& ns = namespaces[(x >> 20) % 3];
    const int which = static_cast<int>((x >> 10) % 2);
    auto& state = which == 0 ? a : b;
    SetKey(keys[key]);
    state.SetNamespace(ns);
    auto& expected = model[{key, ns, which}];
    if ((x >> 40) % 10 == 0) {
      ASSERT_OK(state.Clear());
      model.erase({key, ns, which});
      continue;
    }
    ASSERT_OK_AND_ASSIGN(std::optional<std::string> current, state.Value());
    ASSERT_EQ(current.value_or("<none>"),
              expected.empty() ? "<none>" : expected)
        << step;
    // Sometimes touch another key or namespace between read and write.
    if ((x >> 45) % 4 == 0) {
      SetKey(others[step % 7]);
      state.SetNamespace(ns);
      ASSERT_OK(state.Update("x"));
      model[{-1 - step % 7, ns, which}] = "x";
      SetKey(keys[key]);
    }
    // Grow by a byte, or start over once past 300 bytes (inline and heap).
    std::string next = current.value_or("");
    next = next.size() > 300 ? "v" : next + static_cast<char>('a' + step % 26);
    ASSERT_OK(state.Update(next));
    model[{key, ns, which}] = next;
  }
  for (const auto& [k, value] : model) {
    const auto& [key, ns, which] = k;
    SetKey(key >= 0 ? keys[key] : others[-1 - key]);
    auto& state = which == 0 ? a : b;
    state.SetNamespace(ns);
    EXPECT_THAT(state.Value(), Holds(value));
  }
}

TEST_P(BackendTest, RawGetViewMatchesGet) {
  ASSERT_OK_AND_ASSIGN(
      RawValueState * raw,
      kv().GetValueState(op1_, RawDescriptor("raw", StateType::kValue)));
  SetKey("k1");
  std::string scratch, copy;
  std::string_view view = "unchanged";
  EXPECT_THAT(raw->GetView("", &scratch, &view), IsOkAndHolds(false));
  EXPECT_EQ(view, "unchanged");
  for (const std::string& value :
       {std::string(), std::string("small"), std::string(1000, 'L')}) {
    ASSERT_OK(raw->Put("ns", value));
    EXPECT_THAT(raw->GetView("ns", &scratch, &view), IsOkAndHolds(true));
    EXPECT_EQ(view, value);
    EXPECT_THAT(raw->Get("ns", &copy), IsOkAndHolds(true));
    EXPECT_EQ(copy, value);
  }
}

TEST_P(BackendTest, ValueIsPerKey) {
  ASSERT_OK_AND_ASSIGN(
      auto v, GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"v"}));
  SetKey("k1");
  ASSERT_OK(v.Update(1));
  SetKey("k2");
  EXPECT_THAT(v.Value(), HoldsNothing());
  ASSERT_OK(v.Update(2));
  // Keys that are prefixes of each other, and the empty key.
  SetKey("k");
  ASSERT_OK(v.Update(3));
  SetKey("");
  ASSERT_OK(v.Update(4));
  SetKey("k1");
  EXPECT_THAT(v.Value(), Holds<int64_t>(1));
  SetKey("k2");
  EXPECT_THAT(v.Value(), Holds<int64_t>(2));
  SetKey("k");
  EXPECT_THAT(v.Value(), Holds<int64_t>(3));
  SetKey("");
  EXPECT_THAT(v.Value(), Holds<int64_t>(4));
  EXPECT_EQ(kv().current_key(), "");
  SetKey("k3");
  EXPECT_THAT(v.Value(), HoldsNothing());
}

TEST_P(BackendTest, ValueNamespacesAreIsolated) {
  ASSERT_OK_AND_ASSIGN(
      auto v, GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"v"}));
  SetKey("k1");
  ASSERT_OK(v.Update(1));
  v.SetNamespace("w1");
  EXPECT_THAT(v.Value(), HoldsNothing());
  ASSERT_OK(v.Update(2));
  v.SetNamespace("w12");
  ASSERT_OK(v.Update(3));
  v.SetNamespace("");
  EXPECT_THAT(v.Value(), Holds<int64_t>(1));
  v.SetNamespace("w1");
  EXPECT_THAT(v.Value(), Holds<int64_t>(2));
  v.SetNamespace("w12");
  EXPECT_THAT(v.Value(), Holds<int64_t>(3));
  // The key/namespace boundary: ("ab", "c") and ("a", "bc") are distinct.
  SetKey("ab");
  v.SetNamespace("c");
  ASSERT_OK(v.Update(10));
  SetKey("a");
  v.SetNamespace("bc");
  EXPECT_THAT(v.Value(), HoldsNothing());
  ASSERT_OK(v.Update(20));
  SetKey("ab");
  v.SetNamespace("c");
  EXPECT_THAT(v.Value(), Holds<int64_t>(10));
}

TEST_P(BackendTest, ValueClear) {
  ASSERT_OK_AND_ASSIGN(
      auto v, GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"v"}));
  SetKey("k1");
  ASSERT_OK(v.Clear());  // nothing to clear
  ASSERT_OK(v.Update(1));
  v.SetNamespace("w");
  ASSERT_OK(v.Update(5));
  SetKey("k2");
  v.SetNamespace("");
  ASSERT_OK(v.Update(2));
  SetKey("k1");
  ASSERT_OK(v.Clear());
  EXPECT_THAT(v.Value(), HoldsNothing());
  v.SetNamespace("w");
  EXPECT_THAT(v.Value(), Holds<int64_t>(5));
  SetKey("k2");
  v.SetNamespace("");
  EXPECT_THAT(v.Value(), Holds<int64_t>(2));
  ASSERT_OK(v.Update(3));  // writable again after a clear
  EXPECT_THAT(v.Value(), Holds<int64_t>(3));
}

TEST_P(BackendTest, SameStateNameInTwoOperatorsIsIndependent) {
  ASSERT_OK_AND_ASSIGN(
      auto a, GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"s"}));
  ASSERT_OK_AND_ASSIGN(
      auto b, GetState(kv(), op2_, ValueStateDescriptor<int64_t>{"s"}));
  // Another operator may even use the name for another type.
  ASSERT_OK_AND_ASSIGN(auto c,
                       GetState(kv(), OperatorId::FromUid("conformance/op-3"),
                                ListStateDescriptor<int64_t>{"s"}));
  SetKey("k");
  ASSERT_OK(a.Update(1));
  EXPECT_THAT(b.Value(), HoldsNothing());
  ASSERT_OK(b.Update(2));
  ASSERT_OK(c.Add(3));
  EXPECT_THAT(a.Value(), Holds<int64_t>(1));
  EXPECT_THAT(b.Value(), Holds<int64_t>(2));
  EXPECT_THAT(c.Get(), IsOkAndHolds(ElementsAre(3)));
  ASSERT_OK(a.Clear());
  EXPECT_THAT(b.Value(), Holds<int64_t>(2));
}

TEST_P(BackendTest, OpeningAStateAgainReturnsTheSameHandle) {
  const RawStateDescriptor d = RawDescriptor("v", StateType::kValue);
  ASSERT_OK_AND_ASSIGN(RawValueState * first, kv().GetValueState(op1_, d));
  ASSERT_OK_AND_ASSIGN(RawValueState * second, kv().GetValueState(op1_, d));
  EXPECT_EQ(first, second);
  SetKey("k");
  ASSERT_OK(first->Put("", "x"));
  std::string out;
  EXPECT_THAT(second->Get("", &out), IsOkAndHolds(true));
  EXPECT_EQ(out, "x");
}

// ---------------------------------------------------------------- list

TEST_P(BackendTest, ListGetEmpty) {
  ASSERT_OK_AND_ASSIGN(auto l,
                       GetState(kv(), op1_, ListStateDescriptor<int64_t>{"l"}));
  SetKey("k");
  EXPECT_THAT(l.Get(), IsOkAndHolds(IsEmpty()));
}

TEST_P(BackendTest, ListAddKeepsOrder) {
  ASSERT_OK_AND_ASSIGN(auto l,
                       GetState(kv(), op1_, ListStateDescriptor<int64_t>{"l"}));
  SetKey("k");
  for (int64_t v : {3, 1, 2, 1, -5}) ASSERT_OK(l.Add(v));
  EXPECT_THAT(l.Get(), IsOkAndHolds(ElementsAre(3, 1, 2, 1, -5)));
  ASSERT_OK(l.AddAll({7, 8}));
  EXPECT_THAT(l.Get(), IsOkAndHolds(ElementsAre(3, 1, 2, 1, -5, 7, 8)));
  SetKey("k2");
  EXPECT_THAT(l.Get(), IsOkAndHolds(IsEmpty()));
}

TEST_P(BackendTest, ListKeepsEmptyAndBinaryElements) {
  ASSERT_OK_AND_ASSIGN(
      auto l, GetState(kv(), op1_, ListStateDescriptor<std::string>{"l"}));
  SetKey("k");
  const std::string binary("\0\xff,\n", 4);
  ASSERT_OK(l.Add(""));
  ASSERT_OK(l.Add(binary));
  ASSERT_OK(l.Add(std::string(10000, 'x')));
  ASSERT_OK(l.Add(""));
  EXPECT_THAT(l.Get(), IsOkAndHolds(ElementsAre("", binary,
                                                std::string(10000, 'x'), "")));
}

TEST_P(BackendTest, ListUpdateReplaces) {
  ASSERT_OK_AND_ASSIGN(auto l,
                       GetState(kv(), op1_, ListStateDescriptor<int64_t>{"l"}));
  SetKey("k");
  ASSERT_OK(l.Add(1));
  ASSERT_OK(l.Add(2));
  ASSERT_OK(l.Update({7, 8, 9}));
  EXPECT_THAT(l.Get(), IsOkAndHolds(ElementsAre(7, 8, 9)));
  ASSERT_OK(l.Add(10));
  EXPECT_THAT(l.Get(), IsOkAndHolds(ElementsAre(7, 8, 9, 10)));
  SetKey("fresh");
  ASSERT_OK(l.Update({4}));
  EXPECT_THAT(l.Get(), IsOkAndHolds(ElementsAre(4)));
}

TEST_P(BackendTest, ListUpdateWithEmptyClears) {
  ASSERT_OK_AND_ASSIGN(auto l,
                       GetState(kv(), op1_, ListStateDescriptor<int64_t>{"l"}));
  SetKey("k");
  ASSERT_OK(l.Add(1));
  ASSERT_OK(l.Update({}));
  EXPECT_THAT(l.Get(), IsOkAndHolds(IsEmpty()));
  int visited = 0;
  EXPECT_OK(kv().ForEachKey(op1_, "l", [&](std::string_view, std::string_view) {
    ++visited;
    return Status::OK();
  }));
  EXPECT_EQ(visited, 0) << "an emptied list still has a key";
  ASSERT_OK(l.Add(2));
  EXPECT_THAT(l.Get(), IsOkAndHolds(ElementsAre(2)));
}

TEST_P(BackendTest, ListClear) {
  ASSERT_OK_AND_ASSIGN(auto l,
                       GetState(kv(), op1_, ListStateDescriptor<int64_t>{"l"}));
  SetKey("k");
  ASSERT_OK(l.Clear());
  ASSERT_OK(l.AddAll({1, 2, 3}));
  SetKey("other");
  ASSERT_OK(l.Add(9));
  SetKey("k");
  ASSERT_OK(l.Clear());
  EXPECT_THAT(l.Get(), IsOkAndHolds(IsEmpty()));
  SetKey("other");
  EXPECT_THAT(l.Get(), IsOkAndHolds(ElementsAre(9)));
}

TEST_P(BackendTest, ListNamespacesAreIsolated) {
  ASSERT_OK_AND_ASSIGN(auto l,
                       GetState(kv(), op1_, ListStateDescriptor<int64_t>{"l"}));
  SetKey("k");
  ASSERT_OK(l.Add(1));
  l.SetNamespace("w");
  ASSERT_OK(l.Add(2));
  ASSERT_OK(l.Add(3));
  l.SetNamespace("w2");
  EXPECT_THAT(l.Get(), IsOkAndHolds(IsEmpty()));
  l.SetNamespace("");
  EXPECT_THAT(l.Get(), IsOkAndHolds(ElementsAre(1)));
  l.SetNamespace("w");
  EXPECT_THAT(l.Get(), IsOkAndHolds(ElementsAre(2, 3)));
  ASSERT_OK(l.Clear());
  l.SetNamespace("");
  EXPECT_THAT(l.Get(), IsOkAndHolds(ElementsAre(1)));
}

// ---------------------------------------------------------------- map

TEST_P(BackendTest, MapPutGetContainsRemove) {
  ASSERT_OK_AND_ASSIGN(
      auto m,
      GetState(kv(), op1_, MapStateDescriptor<int64_t, std::string>{"m"}));
  SetKey("k");
  EXPECT_THAT(m.IsEmpty(), IsOkAndHolds(true));
  EXPECT_THAT(m.Get(1), HoldsNothing());
  EXPECT_THAT(m.Contains(1), IsOkAndHolds(false));
  ASSERT_OK(m.Put(1, "one"));
  ASSERT_OK(m.Put(2, "two"));
  EXPECT_THAT(m.IsEmpty(), IsOkAndHolds(false));
  EXPECT_THAT(m.Get(1), Holds(std::string("one")));
  EXPECT_THAT(m.Contains(2), IsOkAndHolds(true));
  EXPECT_THAT(m.Contains(3), IsOkAndHolds(false));
  ASSERT_OK(m.Put(1, "uno"));
  EXPECT_THAT(m.Get(1), Holds(std::string("uno")));
  ASSERT_OK(m.Remove(1));
  ASSERT_OK(m.Remove(42));  // absent: OK
  EXPECT_THAT(m.Get(1), HoldsNothing());
  EXPECT_THAT(m.Contains(1), IsOkAndHolds(false));
  EXPECT_THAT(m.IsEmpty(), IsOkAndHolds(false));
  ASSERT_OK(m.Remove(2));
  EXPECT_THAT(m.IsEmpty(), IsOkAndHolds(true));
  SetKey("k2");
  EXPECT_THAT(m.IsEmpty(), IsOkAndHolds(true));
}

TEST_P(BackendTest, MapIteratesInNumericKeyOrder) {
  ASSERT_OK_AND_ASSIGN(
      auto m, GetState(kv(), op1_, MapStateDescriptor<int64_t, int64_t>{"m"}));
  SetKey("k");
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  for (int64_t k : {int64_t{5}, int64_t{-3}, int64_t{0}, kMax, int64_t{-1},
                    kMin, int64_t{256}, int64_t{1}, int64_t{-256}}) {
    ASSERT_OK(m.Put(k, k / 2));
  }
  const Int64Entries expected = {
      {kMin, kMin / 2}, {-256, -128}, {-3, -1},   {-1, 0},         {0, 0},
      {1, 0},           {5, 2},       {256, 128}, {kMax, kMax / 2}};
  EXPECT_THAT(m.Entries(), IsOkAndHolds(expected));
  std::vector<int64_t> keys;
  ASSERT_OK(m.ForEach([&](const int64_t& k, const int64_t&) {
    keys.push_back(k);
    return Status::OK();
  }));
  EXPECT_THAT(keys, ElementsAre(kMin, -256, -3, -1, 0, 1, 5, 256, kMax));
}

TEST_P(BackendTest, MapForEachStopsAtVisitorError) {
  ASSERT_OK_AND_ASSIGN(
      auto m, GetState(kv(), op1_, MapStateDescriptor<int64_t, int64_t>{"m"}));
  SetKey("k");
  for (int64_t k = 0; k < 5; ++k) ASSERT_OK(m.Put(k, k));
  int visited = 0;
  Status s = m.ForEach([&](const int64_t&, const int64_t&) {
    return ++visited == 2 ? Status::NotFound("stop here") : Status::OK();
  });
  EXPECT_THAT(s, StatusIs(Status::Code::kNotFound, HasSubstr("stop here")));
  EXPECT_EQ(visited, 2);
}

TEST_P(BackendTest, MapEmptyStringUserKey) {
  ASSERT_OK_AND_ASSIGN(
      auto m,
      GetState(kv(), op1_, MapStateDescriptor<std::string, int64_t>{"m"}));
  SetKey("k");
  const std::string nul("\0", 1);
  ASSERT_OK(m.Put("", 1));
  ASSERT_OK(m.Put("a", 2));
  ASSERT_OK(m.Put(nul, 3));
  ASSERT_OK(m.Put("\xff", 4));
  EXPECT_THAT(m.Get(""), Holds<int64_t>(1));
  EXPECT_THAT(m.Contains(""), IsOkAndHolds(true));
  using Entries = std::vector<std::pair<std::string, int64_t>>;
  EXPECT_THAT(m.Entries(),
              IsOkAndHolds(Entries{{"", 1}, {nul, 3}, {"a", 2}, {"\xff", 4}}));
  ASSERT_OK(m.Remove(""));
  EXPECT_THAT(m.Contains(""), IsOkAndHolds(false));
  EXPECT_THAT(m.Entries(),
              IsOkAndHolds(Entries{{nul, 3}, {"a", 2}, {"\xff", 4}}));
}

TEST_P(BackendTest, MapClear) {
  ASSERT_OK_AND_ASSIGN(
      auto m, GetState(kv(), op1_, MapStateDescriptor<int64_t, int64_t>{"m"}));
  SetKey("k");
  ASSERT_OK(m.Put(1, 1));
  ASSERT_OK(m.Put(2, 2));
  m.SetNamespace("w");
  ASSERT_OK(m.Put(3, 3));
  SetKey("k2");
  m.SetNamespace("");
  ASSERT_OK(m.Put(4, 4));
  SetKey("k");
  ASSERT_OK(m.Clear());
  EXPECT_THAT(m.IsEmpty(), IsOkAndHolds(true));
  EXPECT_THAT(m.Entries(), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(m.Get(1), HoldsNothing());
  m.SetNamespace("w");
  EXPECT_THAT(m.Entries(), IsOkAndHolds(Int64Entries{{3, 3}}));
  SetKey("k2");
  m.SetNamespace("");
  EXPECT_THAT(m.Entries(), IsOkAndHolds(Int64Entries{{4, 4}}));
}

TEST_P(BackendTest, MapNamespacesAreIsolated) {
  ASSERT_OK_AND_ASSIGN(
      auto m,
      GetState(kv(), op1_, MapStateDescriptor<std::string, int64_t>{"m"}));
  using Entries = std::vector<std::pair<std::string, int64_t>>;
  SetKey("k");
  // The namespace/user-key boundary: ("a", "b") and ("ab", "") differ.
  m.SetNamespace("a");
  ASSERT_OK(m.Put("b", 1));
  m.SetNamespace("ab");
  EXPECT_THAT(m.IsEmpty(), IsOkAndHolds(true));
  EXPECT_THAT(m.Get(""), HoldsNothing());
  ASSERT_OK(m.Put("", 2));
  m.SetNamespace("");
  ASSERT_OK(m.Put("ab", 3));
  m.SetNamespace("a");
  EXPECT_THAT(m.Entries(), IsOkAndHolds(Entries{{"b", 1}}));
  m.SetNamespace("ab");
  EXPECT_THAT(m.Entries(), IsOkAndHolds(Entries{{"", 2}}));
  m.SetNamespace("");
  EXPECT_THAT(m.Entries(), IsOkAndHolds(Entries{{"ab", 3}}));
  // The key/namespace boundary as well.
  SetKey("ka");
  m.SetNamespace("");
  EXPECT_THAT(m.IsEmpty(), IsOkAndHolds(true));
}

// ---------------------------------------------------------------- reducing

TEST_P(BackendTest, ReducingSums) {
  const ReducingStateDescriptor<int64_t> d{
      "sum", [](const int64_t& a, const int64_t& b) { return a + b; }};
  ASSERT_OK_AND_ASSIGN(auto sum, GetState(kv(), op1_, d));
  SetKey("k");
  EXPECT_THAT(sum.Get(), HoldsNothing());
  ASSERT_OK(sum.Add(1));
  EXPECT_THAT(sum.Get(), Holds<int64_t>(1));
  ASSERT_OK(sum.Add(2));
  ASSERT_OK(sum.Add(-10));
  EXPECT_THAT(sum.Get(), Holds<int64_t>(-7));
  SetKey("k2");
  ASSERT_OK(sum.Add(100));
  sum.SetNamespace("w");
  ASSERT_OK(sum.Add(5));
  sum.SetNamespace("");
  EXPECT_THAT(sum.Get(), Holds<int64_t>(100));
  SetKey("k");
  EXPECT_THAT(sum.Get(), Holds<int64_t>(-7));
  ASSERT_OK(sum.Clear());
  EXPECT_THAT(sum.Get(), HoldsNothing());
  ASSERT_OK(sum.Add(4));
  EXPECT_THAT(sum.Get(), Holds<int64_t>(4));
}

// ---------------------------------------------------------------- aggregating

struct Average {
  int64_t sum = 0;
  int64_t count = 0;
};

struct AverageSerializer {
  static constexpr uint32_t kVersion = 1;
  void Serialize(const Average& a, std::string* out) const {
    Serializer<int64_t>().Serialize(a.sum, out);
    Serializer<int64_t>().Serialize(a.count, out);
  }
  Status Deserialize(uint32_t version, std::string_view in, Average* a) const {
    if (in.size() != 16) return Status::Corruption("bad average");
    Status s =
        Serializer<int64_t>().Deserialize(version, in.substr(0, 8), &a->sum);
    if (!s.ok()) return s;
    return Serializer<int64_t>().Deserialize(version, in.substr(8), &a->count);
  }
};

AggregatingStateDescriptor<int64_t, Average, double, AverageSerializer>
AverageDescriptor() {
  return {"avg",
          {[] { return Average{}; },
           [](const int64_t& v, Average* a) {
             a->sum += v;
             ++a->count;
           },
           [](const Average& a) {
             return a.count == 0 ? 0.0 : static_cast<double>(a.sum) / a.count;
           },
           [](const Average& a, const Average& b) {
             return Average{a.sum + b.sum, a.count + b.count};
           }}};
}

TEST_P(BackendTest, AggregatingAverages) {
  ASSERT_OK_AND_ASSIGN(auto avg, GetState(kv(), op1_, AverageDescriptor()));
  SetKey("k");
  EXPECT_THAT(avg.Get(), HoldsNothing());
  ASSERT_OK(avg.Add(1));
  EXPECT_THAT(avg.Get(), Holds(1.0));
  ASSERT_OK(avg.Add(2));
  ASSERT_OK(avg.Add(6));
  EXPECT_THAT(avg.Get(), Holds(3.0));
  avg.SetNamespace("w");
  EXPECT_THAT(avg.Get(), HoldsNothing());
  ASSERT_OK(avg.Add(-4));
  EXPECT_THAT(avg.Get(), Holds(-4.0));
  SetKey("k2");
  EXPECT_THAT(avg.Get(), HoldsNothing());
  SetKey("k");
  avg.SetNamespace("");
  EXPECT_THAT(avg.Get(), Holds(3.0));
  ASSERT_OK(avg.Clear());
  EXPECT_THAT(avg.Get(), HoldsNothing());
  // The accumulator is stored as written: [version 1][sum][count].
  ASSERT_OK(avg.Add(10));
  ASSERT_OK_AND_ASSIGN(
      RawValueState * raw,
      kv().GetValueState(op1_, RawDescriptor("avg", StateType::kAggregating)));
  std::string bytes;
  EXPECT_THAT(raw->Get("", &bytes), IsOkAndHolds(true));
  EXPECT_EQ(Escape(bytes),
            Escape(Encoded(Average{10, 1}, AverageSerializer())));
}

TEST_P(BackendTest, StatesReportTheirDescriptors) {
  ASSERT_OK(GetState(kv(), op1_, AverageDescriptor()).status());
  ASSERT_OK(GetState(kv(), op1_,
                     ReducingStateDescriptor<int64_t>{
                         "sum", [](const int64_t& a,
                                   const int64_t& b) { return a + b; }})
                .status());
  ASSERT_OK(GetState(kv(), op1_, MapStateDescriptor<std::string, int64_t>{"m"})
                .status());
  ASSERT_OK(
      GetState(kv(), op1_,
               ListStateDescriptor<int64_t>{
                   "l", {}, {500, StateTtlConfig::UpdateType::kOnReadAndWrite}})
          .status());
  EXPECT_THAT(DescribeStates(kv(), op1_),
              ElementsAre("avg type=aggregating value_v=1 key_v=0 ttl=0ms/0",
                          "l type=list value_v=1 key_v=0 ttl=500ms/1",
                          "m type=map value_v=1 key_v=1 ttl=0ms/0",
                          "sum type=reducing value_v=1 key_v=0 ttl=0ms/0"));
  EXPECT_THAT(DescribeStates(kv(), op2_), IsEmpty());
}

}  // namespace
}  // namespace weir::conformance
