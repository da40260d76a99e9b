// SPDX-License-Identifier: Apache-2.0
//
// Conformance: state time-to-live, driven by the fixture's ManualClock. An
// entry written (or, with kOnReadAndWrite, last read) at t has expired
// when now - t >= ttl.
#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tests/backends/backend_fixture.h"

namespace weir::conformance {
namespace {

constexpr int64_t kTtl = 100;

StateTtlConfig Ttl(StateTtlConfig::UpdateType update =
                       StateTtlConfig::UpdateType::kOnCreateAndWrite) {
  return StateTtlConfig{kTtl, update};
}

TEST_P(BackendTest, TtlValueVisibleBeforeTtlGoneAtTtl) {
  ASSERT_OK_AND_ASSIGN(
      auto v,
      GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"v", {}, Ttl()}));
  SetKey("k");
  ASSERT_OK(v.Update(7));
  clock_->AdvanceMillis(kTtl - 1);
  EXPECT_THAT(v.Value(), Holds<int64_t>(7));
  clock_->AdvanceMillis(1);  // now - t == ttl
  EXPECT_THAT(v.Value(), HoldsNothing());
  clock_->AdvanceMillis(1000);
  EXPECT_THAT(v.Value(), HoldsNothing());
  // A new write starts a new life.
  ASSERT_OK(v.Update(8));
  EXPECT_THAT(v.Value(), Holds<int64_t>(8));
}

TEST_P(BackendTest, TtlOnCreateAndWriteReadDoesNotRefresh) {
  ASSERT_OK_AND_ASSIGN(
      auto v,
      GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"v", {}, Ttl()}));
  SetKey("k");
  ASSERT_OK(v.Update(1));
  clock_->AdvanceMillis(60);
  EXPECT_THAT(v.Value(), Holds<int64_t>(1));
  clock_->AdvanceMillis(40);  // 100 since the write
  EXPECT_THAT(v.Value(), HoldsNothing());
}

TEST_P(BackendTest, TtlWriteRefreshes) {
  ASSERT_OK_AND_ASSIGN(
      auto v,
      GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"v", {}, Ttl()}));
  SetKey("k");
  ASSERT_OK(v.Update(1));
  clock_->AdvanceMillis(90);
  ASSERT_OK(v.Update(2));
  clock_->AdvanceMillis(60);  // 150 after the first write, 60 after the second
  EXPECT_THAT(v.Value(), Holds<int64_t>(2));
  clock_->AdvanceMillis(40);
  EXPECT_THAT(v.Value(), HoldsNothing());
}

TEST_P(BackendTest, TtlOnReadAndWriteReadRefreshes) {
  ASSERT_OK_AND_ASSIGN(
      auto v,
      GetState(kv(), op1_,
               ValueStateDescriptor<int64_t>{
                   "v", {}, Ttl(StateTtlConfig::UpdateType::kOnReadAndWrite)}));
  SetKey("k");
  ASSERT_OK(v.Update(1));
  clock_->AdvanceMillis(60);
  EXPECT_THAT(v.Value(), Holds<int64_t>(1));  // refreshed at +60
  clock_->AdvanceMillis(60);                  // +120: 60 since the read
  EXPECT_THAT(v.Value(), Holds<int64_t>(1));  // refreshed at +120
  clock_->AdvanceMillis(99);
  EXPECT_THAT(v.Value(), Holds<int64_t>(1));  // refreshed at +219
  clock_->AdvanceMillis(100);
  EXPECT_THAT(v.Value(), HoldsNothing());
}

TEST_P(BackendTest, TtlOnReadAndWriteMapGetRefreshesThatEntry) {
  ASSERT_OK_AND_ASSIGN(
      auto m,
      GetState(
          kv(), op1_,
          MapStateDescriptor<int64_t, int64_t>{
              "m", {}, {}, Ttl(StateTtlConfig::UpdateType::kOnReadAndWrite)}));
  SetKey("k");
  ASSERT_OK(m.Put(1, 10));
  ASSERT_OK(m.Put(2, 20));
  clock_->AdvanceMillis(60);
  EXPECT_THAT(m.Get(1), Holds<int64_t>(10));
  clock_->AdvanceMillis(40);  // entry 2 written 100 ago, entry 1 read 40 ago
  EXPECT_THAT(m.Contains(2), IsOkAndHolds(false));
  EXPECT_THAT(m.Get(1), Holds<int64_t>(10));
}

// Iterating a map reads every entry, so with kOnReadAndWrite it refreshes
// them all.
TEST_P(BackendTest, TtlOnReadAndWriteMapIterationRefreshes) {
  ASSERT_OK_AND_ASSIGN(
      auto m,
      GetState(
          kv(), op1_,
          MapStateDescriptor<int64_t, int64_t>{
              "m", {}, {}, Ttl(StateTtlConfig::UpdateType::kOnReadAndWrite)}));
  using Entries = std::vector<std::pair<int64_t, int64_t>>;
  SetKey("k");
  ASSERT_OK(m.Put(1, 10));
  ASSERT_OK(m.Put(2, 20));
  clock_->AdvanceMillis(60);
  EXPECT_THAT(m.Entries(), IsOkAndHolds(Entries{{1, 10}, {2, 20}}));
  clock_->AdvanceMillis(60);  // 120 after the writes, 60 after the walk
  EXPECT_THAT(m.Entries(), IsOkAndHolds(Entries{{1, 10}, {2, 20}}));
}

TEST_P(BackendTest, TtlOnReadAndWriteListReadRefreshes) {
  ASSERT_OK_AND_ASSIGN(
      auto l,
      GetState(kv(), op1_,
               ListStateDescriptor<int64_t>{
                   "l", {}, Ttl(StateTtlConfig::UpdateType::kOnReadAndWrite)}));
  SetKey("k");
  ASSERT_OK(l.Add(1));
  clock_->AdvanceMillis(60);
  ASSERT_OK(l.Add(2));
  EXPECT_THAT(l.Get(), IsOkAndHolds(ElementsAre(1, 2)));
  clock_->AdvanceMillis(99);
  EXPECT_THAT(l.Get(), IsOkAndHolds(ElementsAre(1, 2)));
  clock_->AdvanceMillis(100);
  EXPECT_THAT(l.Get(), IsOkAndHolds(IsEmpty()));
}

TEST_P(BackendTest, TtlListElementsExpireIndividually) {
  ASSERT_OK_AND_ASSIGN(
      auto l,
      GetState(kv(), op1_, ListStateDescriptor<int64_t>{"l", {}, Ttl()}));
  SetKey("k");
  ASSERT_OK(l.Add(1));
  clock_->AdvanceMillis(50);
  ASSERT_OK(l.Add(2));
  ASSERT_OK(l.Add(3));
  clock_->AdvanceMillis(49);
  EXPECT_THAT(l.Get(), IsOkAndHolds(ElementsAre(1, 2, 3)));
  clock_->AdvanceMillis(1);  // element 1 is 100 old
  EXPECT_THAT(l.Get(), IsOkAndHolds(ElementsAre(2, 3)));
  ASSERT_OK(l.Add(4));
  clock_->AdvanceMillis(50);  // 2 and 3 are 100 old
  EXPECT_THAT(l.Get(), IsOkAndHolds(ElementsAre(4)));
  clock_->AdvanceMillis(50);
  EXPECT_THAT(l.Get(), IsOkAndHolds(IsEmpty()));
  // Update stamps every element with the time of the update.
  ASSERT_OK(l.Update({5, 6}));
  clock_->AdvanceMillis(99);
  EXPECT_THAT(l.Get(), IsOkAndHolds(ElementsAre(5, 6)));
  clock_->AdvanceMillis(1);
  EXPECT_THAT(l.Get(), IsOkAndHolds(IsEmpty()));
}

TEST_P(BackendTest, TtlMapEntriesExpireIndividually) {
  ASSERT_OK_AND_ASSIGN(auto m, GetState(kv(), op1_,
                                        MapStateDescriptor<int64_t, int64_t>{
                                            "m", {}, {}, Ttl()}));
  SetKey("k");
  ASSERT_OK(m.Put(1, 10));
  clock_->AdvanceMillis(50);
  ASSERT_OK(m.Put(2, 20));
  clock_->AdvanceMillis(50);  // entry 1 is 100 old, entry 2 is 50
  EXPECT_THAT(m.Get(1), HoldsNothing());
  EXPECT_THAT(m.Contains(1), IsOkAndHolds(false));
  EXPECT_THAT(m.Get(2), Holds<int64_t>(20));
  EXPECT_THAT(m.IsEmpty(), IsOkAndHolds(false));
  EXPECT_THAT(m.Entries(),
              IsOkAndHolds(std::vector<std::pair<int64_t, int64_t>>{{2, 20}}));
  ASSERT_OK(m.Put(3, 30));
  clock_->AdvanceMillis(50);
  EXPECT_THAT(m.Entries(),
              IsOkAndHolds(std::vector<std::pair<int64_t, int64_t>>{{3, 30}}));
  clock_->AdvanceMillis(50);
  EXPECT_THAT(m.IsEmpty(), IsOkAndHolds(true));
  EXPECT_THAT(m.Entries(), IsOkAndHolds(IsEmpty()));
}

TEST_P(BackendTest, TtlIterationSkipsExpired) {
  ASSERT_OK_AND_ASSIGN(
      auto v,
      GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"v", {}, Ttl()}));
  ASSERT_OK_AND_ASSIGN(
      auto l,
      GetState(kv(), op1_, ListStateDescriptor<int64_t>{"l", {}, Ttl()}));
  ASSERT_OK_AND_ASSIGN(auto m, GetState(kv(), op1_,
                                        MapStateDescriptor<int64_t, int64_t>{
                                            "m", {}, {}, Ttl()}));
  const int64_t t0 = clock_->NowMillis();
  // "old" is written at t0, "new" at t0 + 50; "mixed" has one of each.
  SetKey("old");
  ASSERT_OK(v.Update(1));
  ASSERT_OK(l.Add(1));
  ASSERT_OK(m.Put(1, 1));
  SetKey("mixed");
  ASSERT_OK(l.Add(2));
  ASSERT_OK(m.Put(2, 2));
  clock_->AdvanceMillis(50);
  ASSERT_OK(l.Add(3));
  ASSERT_OK(m.Put(3, 3));
  SetKey("new");
  ASSERT_OK(v.Update(4));
  ASSERT_OK(l.Add(4));
  ASSERT_OK(m.Put(4, 4));
  clock_->AdvanceMillis(50);  // t0 + 100: everything written at t0 expired

  const int64_t t1 = t0 + 50;
  std::vector<DumpedEntry> expected;
  auto add = [&](StateEntry::Kind kind, const char* state, StateType type,
                 const char* key, std::string user_key, int64_t value) {
    DumpedEntry e;
    e.kind = kind;
    e.state = state;
    e.state_type = static_cast<int>(type);
    e.key = key;
    e.user_key = std::move(user_key);
    e.value = Encoded(value);
    e.timestamp = t1;
    expected.push_back(std::move(e));
  };
  add(StateEntry::Kind::kValue, "v", StateType::kValue, "new", "", 4);
  add(StateEntry::Kind::kListElement, "l", StateType::kList, "mixed", "", 3);
  add(StateEntry::Kind::kListElement, "l", StateType::kList, "new", "", 4);
  add(StateEntry::Kind::kMapEntry, "m", StateType::kMap, "mixed",
      KeyBytes<int64_t>(3), 3);
  add(StateEntry::Kind::kMapEntry, "m", StateType::kMap, "new",
      KeyBytes<int64_t>(4), 4);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(Dump(kv(), op1_), expected);

  for (const char* state : {"v", "l", "m"}) {
    std::multiset<std::string> keys;
    ASSERT_OK(kv().ForEachKey(op1_, state,
                              [&](std::string_view key, std::string_view ns) {
                                EXPECT_EQ(ns, "");
                                keys.emplace(key);
                                return Status::OK();
                              }));
    if (std::string_view(state) == "v") {
      EXPECT_THAT(keys, ElementsAre("new")) << state;
    } else {
      EXPECT_THAT(keys, ElementsAre("mixed", "new")) << state;
    }
  }
}

TEST_P(BackendTest, TtlEntriesReportTheirWriteTime) {
  ASSERT_OK_AND_ASSIGN(
      auto v,
      GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"v", {}, Ttl()}));
  ASSERT_OK_AND_ASSIGN(
      auto plain, GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"plain"}));
  SetKey("k");
  clock_->SetMillis(5000);
  ASSERT_OK(v.Update(1));
  ASSERT_OK(plain.Update(2));
  clock_->SetMillis(5030);
  std::vector<DumpedEntry> entries = Dump(kv(), op1_);
  ASSERT_EQ(entries.size(), 2u);
  // Sorted by state name: "plain" < "v".
  EXPECT_EQ(entries[0].state, "plain");
  EXPECT_EQ(entries[0].timestamp, 0) << "states without TTL report time 0";
  EXPECT_EQ(entries[1].state, "v");
  EXPECT_EQ(entries[1].timestamp, 5000);
}

}  // namespace
}  // namespace weir::conformance
