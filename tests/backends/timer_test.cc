// SPDX-License-Identifier: Apache-2.0
//
// Conformance: timers (per operator, time domain, key, namespace and time)
// and operator list state.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "tests/backends/backend_fixture.h"

namespace weir::conformance {
namespace {

constexpr auto kEvent = TimeDomain::kEventTime;
constexpr auto kProc = TimeDomain::kProcessingTime;
constexpr int64_t kNoLimit = std::numeric_limits<int64_t>::max();

void Register(KeyedStateBackend& b, const OperatorId& op, TimeDomain domain,
              std::string_view key, int64_t ts, std::string_view ns = "") {
  ASSERT_OK(b.SetCurrentKey(key));
  ASSERT_OK(b.RegisterTimer(op, domain, ts, ns));
}

// Pops timers up to `max` as "ts/key/ns".
std::vector<std::string> Pop(KeyedStateBackend& b, const OperatorId& op,
                             TimeDomain domain, int64_t max = kNoLimit) {
  std::vector<std::string> out;
  for (;;) {
    Result<std::optional<Timer>> t = b.PopTimer(op, domain, max);
    EXPECT_OK(t);
    if (!t.ok() || !t->has_value()) return out;
    out.push_back(std::to_string((*t)->timestamp) + "/" + Escape((*t)->key) +
                  "/" + Escape((*t)->ns));
  }
}

TEST_P(BackendTest, TimerNoneRegistered) {
  EXPECT_THAT(kv().NextTimerTimestamp(op1_, kEvent), HoldsNothing());
  EXPECT_THAT(kv().PopTimer(op1_, kEvent, kNoLimit), HoldsNothing());
  EXPECT_THAT(kv().NextTimerTimestamp(op1_, kProc), HoldsNothing());
}

TEST_P(BackendTest, TimerPopInTimeOrderUpToMaxTimestamp) {
  Register(kv(), op1_, kEvent, "a", 30);
  Register(kv(), op1_, kEvent, "b", 10);
  Register(kv(), op1_, kEvent, "c", -5);
  Register(kv(), op1_, kEvent, "a", 20, "w");
  Register(kv(), op1_, kEvent, "d", 40);
  Register(kv(), op1_, kEvent, "b", 25);
  EXPECT_THAT(kv().NextTimerTimestamp(op1_, kEvent), Holds<int64_t>(-5));
  EXPECT_THAT(Pop(kv(), op1_, kEvent, 24),
              ElementsAre("-5/c/", "10/b/", "20/a/w"));
  EXPECT_THAT(kv().NextTimerTimestamp(op1_, kEvent), Holds<int64_t>(25));
  EXPECT_THAT(kv().PopTimer(op1_, kEvent, 24), HoldsNothing());
  EXPECT_THAT(Pop(kv(), op1_, kEvent, 30), ElementsAre("25/b/", "30/a/"));
  EXPECT_THAT(kv().NextTimerTimestamp(op1_, kEvent), Holds<int64_t>(40));
  Register(kv(), op1_, kEvent, "e", 35);  // earlier than the head
  EXPECT_THAT(kv().NextTimerTimestamp(op1_, kEvent), Holds<int64_t>(35));
  EXPECT_THAT(Pop(kv(), op1_, kEvent), ElementsAre("35/e/", "40/d/"));
  EXPECT_THAT(kv().NextTimerTimestamp(op1_, kEvent), HoldsNothing());
}

TEST_P(BackendTest, TimerExtremeTimestamps) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  Register(kv(), op1_, kEvent, "a", kNoLimit);
  Register(kv(), op1_, kEvent, "b", kMin);
  Register(kv(), op1_, kEvent, "c", 0);
  Register(kv(), op1_, kEvent, "d", -1);
  EXPECT_THAT(kv().NextTimerTimestamp(op1_, kEvent), Holds(kMin));
  EXPECT_THAT(Pop(kv(), op1_, kEvent, kMin),
              ElementsAre(std::to_string(kMin) + "/b/"));
  EXPECT_THAT(Pop(kv(), op1_, kEvent),
              ElementsAre("-1/d/", "0/c/", std::to_string(kNoLimit) + "/a/"));
}

TEST_P(BackendTest, TimerRegisteringTwiceKeepsOne) {
  Register(kv(), op1_, kEvent, "a", 10);
  Register(kv(), op1_, kEvent, "a", 10);
  Register(kv(), op1_, kEvent, "a", 10,
           "w");  // another namespace: another timer
  Register(kv(), op1_, kEvent, "b", 10);
  EXPECT_THAT(Pop(kv(), op1_, kEvent),
              testing::UnorderedElementsAre("10/a/", "10/a/w", "10/b/"));
}

TEST_P(BackendTest, TimerDelete) {
  Register(kv(), op1_, kEvent, "a", 10);
  Register(kv(), op1_, kEvent, "a", 20);
  Register(kv(), op1_, kEvent, "b", 5);
  Register(kv(), op1_, kEvent, "b", 5, "w");
  ASSERT_OK(kv().SetCurrentKey("a"));
  ASSERT_OK(kv().DeleteTimer(op1_, kEvent, 20, ""));
  ASSERT_OK(kv().DeleteTimer(op1_, kEvent, 5, ""));    // not a's: no-op
  ASSERT_OK(kv().DeleteTimer(op1_, kProc, 10, ""));    // other domain: no-op
  ASSERT_OK(kv().DeleteTimer(op1_, kEvent, 10, "w"));  // other ns: no-op
  ASSERT_OK(kv().DeleteTimer(op2_, kEvent, 10, ""));   // other op: no-op
  ASSERT_OK(kv().SetCurrentKey("b"));
  ASSERT_OK(kv().DeleteTimer(op1_, kEvent, 5, ""));  // the head
  EXPECT_THAT(kv().NextTimerTimestamp(op1_, kEvent), Holds<int64_t>(5));
  ASSERT_OK(kv().DeleteTimer(op1_, kEvent, 5, "w"));
  EXPECT_THAT(kv().NextTimerTimestamp(op1_, kEvent), Holds<int64_t>(10));
  EXPECT_THAT(Pop(kv(), op1_, kEvent), ElementsAre("10/a/"));
}

TEST_P(BackendTest, TimerDomainsAndOperatorsAreIndependent) {
  Register(kv(), op1_, kEvent, "a", 10);
  Register(kv(), op1_, kProc, "a", 5);
  Register(kv(), op2_, kEvent, "a", 1);
  Register(kv(), op2_, kProc, "b", 7);
  Register(kv(), op1_, kProc, "c", 15);
  EXPECT_THAT(kv().NextTimerTimestamp(op1_, kEvent), Holds<int64_t>(10));
  EXPECT_THAT(kv().NextTimerTimestamp(op1_, kProc), Holds<int64_t>(5));
  EXPECT_THAT(kv().NextTimerTimestamp(op2_, kEvent), Holds<int64_t>(1));
  EXPECT_THAT(kv().NextTimerTimestamp(op2_, kProc), Holds<int64_t>(7));
  EXPECT_THAT(Pop(kv(), op1_, kProc), ElementsAre("5/a/", "15/c/"));
  EXPECT_THAT(kv().NextTimerTimestamp(op1_, kEvent), Holds<int64_t>(10));
  EXPECT_THAT(Pop(kv(), op2_, kEvent), ElementsAre("1/a/"));
  EXPECT_THAT(Pop(kv(), op1_, kEvent), ElementsAre("10/a/"));
  EXPECT_THAT(Pop(kv(), op2_, kProc), ElementsAre("7/b/"));
}

TEST_P(BackendTest, TimersAreNotKeyedState) {
  ASSERT_OK_AND_ASSIGN(
      auto v, GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"v"}));
  Register(kv(), op1_, kEvent, "a", 10);
  ASSERT_OK(v.Update(1));
  EXPECT_THAT(DescribeStates(kv(), op1_),
              ElementsAre(HasSubstr("v type=value")));
  EXPECT_THAT(Pop(kv(), op1_, kEvent), ElementsAre("10/a/"));
  EXPECT_THAT(v.Value(), Holds<int64_t>(1));
}

// Ties in time are broken by key group, then key and namespace, the same way
// in every backend: the pop sequence equals the reference backend's.
TEST_P(BackendTest, TimerTiesAreBrokenLikeTheReference) {
  ASSERT_OK_AND_ASSIGN(auto reference,
                       OpenAs(MemoryBackendParam(), Options(), "reference"));
  std::mt19937_64 rng(7);
  std::vector<std::tuple<std::string, std::string, int64_t>> timers;
  for (int i = 0; i < 60; ++i) {
    // Keys of different lengths, some prefixes of others.
    const std::string key =
        std::string(1 + i % 4, 'k') + std::to_string(i % 20);
    for (const char* ns : {"", "w", "ww"}) {
      timers.emplace_back(key, ns, 100 + static_cast<int64_t>(rng() % 3));
    }
  }
  std::shuffle(timers.begin(), timers.end(), rng);
  for (const auto& [key, ns, ts] : timers) {
    for (KeyedStateBackend* b : {backend_.get(), reference.get()}) {
      ASSERT_NO_FATAL_FAILURE(Register(*b, op1_, kEvent, key, ts, ns));
    }
  }
  std::vector<Timer> popped;
  std::vector<Timer> expected;
  for (;;) {
    ASSERT_OK_AND_ASSIGN(auto t, kv().PopTimer(op1_, kEvent, kNoLimit));
    ASSERT_OK_AND_ASSIGN(auto r, reference->PopTimer(op1_, kEvent, kNoLimit));
    if (t) popped.push_back(*t);
    if (r) expected.push_back(*r);
    if (!t && !r) break;
  }
  EXPECT_EQ(popped, expected);
  ASSERT_FALSE(popped.empty());
  for (size_t i = 1; i < popped.size(); ++i) {
    const Timer& a = popped[i - 1];
    const Timer& b = popped[i];
    if (a.timestamp == b.timestamp) {
      EXPECT_LE(KeyGroupForKey(a.key, kv().max_parallelism()),
                KeyGroupForKey(b.key, kv().max_parallelism()))
          << "ties must go by key group first";
    } else {
      EXPECT_LT(a.timestamp, b.timestamp);
    }
  }
}

// ---------------------------------------------------------------- operator
// state

TEST_P(BackendTest, OperatorListAddGetUpdateClear) {
  ASSERT_OK_AND_ASSIGN(auto offsets,
                       GetOperatorListState<int64_t>(kv(), op1_, "offsets"));
  EXPECT_THAT(offsets.Get(), IsOkAndHolds(IsEmpty()));
  ASSERT_OK(offsets.Add(3));
  ASSERT_OK(offsets.Add(1));
  EXPECT_THAT(offsets.Get(), IsOkAndHolds(ElementsAre(3, 1)));
  ASSERT_OK(offsets.Update({7, 8, 9}));
  EXPECT_THAT(offsets.Get(), IsOkAndHolds(ElementsAre(7, 8, 9)));
  ASSERT_OK(offsets.Clear());
  EXPECT_THAT(offsets.Get(), IsOkAndHolds(IsEmpty()));
  ASSERT_OK(offsets.Add(4));
  EXPECT_THAT(offsets.Get(), IsOkAndHolds(ElementsAre(4)));
}

TEST_P(BackendTest, OperatorListsArePerOperatorAndName) {
  ASSERT_OK_AND_ASSIGN(auto a,
                       GetOperatorListState<std::string>(kv(), op1_, "a"));
  ASSERT_OK_AND_ASSIGN(auto b,
                       GetOperatorListState<std::string>(kv(), op1_, "b"));
  ASSERT_OK_AND_ASSIGN(auto a2,
                       GetOperatorListState<std::string>(kv(), op2_, "a"));
  ASSERT_OK(a.Add("1"));
  ASSERT_OK(b.Add("2"));
  ASSERT_OK(a2.Add("3"));
  ASSERT_OK(a2.Add(""));
  EXPECT_THAT(a.Get(), IsOkAndHolds(ElementsAre("1")));
  EXPECT_THAT(b.Get(), IsOkAndHolds(ElementsAre("2")));
  EXPECT_THAT(a2.Get(), IsOkAndHolds(ElementsAre("3", "")));
  ASSERT_OK(a.Clear());
  EXPECT_THAT(a2.Get(), IsOkAndHolds(ElementsAre("3", "")));
  // Operator state and keyed state of one name do not meet.
  ASSERT_OK_AND_ASSIGN(
      auto keyed, GetState(kv(), op1_, ListStateDescriptor<std::string>{"b"}));
  SetKey("k");
  EXPECT_THAT(keyed.Get(), IsOkAndHolds(IsEmpty()));
  ASSERT_OK(keyed.Add("keyed"));
  EXPECT_THAT(b.Get(), IsOkAndHolds(ElementsAre("2")));
}

TEST_P(BackendTest, OperatorListModeMismatchIsInvalid) {
  ASSERT_OK_AND_ASSIGN(
      auto s, GetOperatorListState<int64_t>(kv(), op1_, "offsets",
                                            OperatorStateMode::kSplit));
  ASSERT_OK(s.Add(1));
  EXPECT_THAT(GetOperatorListState<int64_t>(kv(), op1_, "offsets",
                                            OperatorStateMode::kUnion),
              StatusIs(Status::Code::kInvalidArgument, HasSubstr("'offsets'")));
  ASSERT_OK(
      GetOperatorListState<int64_t>(kv(), op1_, "u", OperatorStateMode::kUnion)
          .status());
  EXPECT_THAT(
      GetOperatorListState<int64_t>(kv(), op1_, "u", OperatorStateMode::kSplit),
      StatusIs(Status::Code::kInvalidArgument, HasSubstr("'u'")));
  EXPECT_THAT(s.Get(), IsOkAndHolds(ElementsAre(1)));
}

TEST_P(BackendTest, OperatorStatesListsNameModeAndValues) {
  ASSERT_OK_AND_ASSIGN(auto offsets,
                       GetOperatorListState<int64_t>(kv(), op1_, "offsets"));
  ASSERT_OK_AND_ASSIGN(
      auto all, GetOperatorListState<std::string>(kv(), op1_, "all",
                                                  OperatorStateMode::kUnion));
  ASSERT_OK_AND_ASSIGN(auto other,
                       GetOperatorListState<int64_t>(kv(), op2_, "x"));
  ASSERT_OK(offsets.Update({5, 6}));
  ASSERT_OK(all.Add("p"));
  ASSERT_OK(other.Add(1));
  EXPECT_THAT(DescribeOperatorStates(kv(), op1_),
              ElementsAre("all/union/" + Escape(Encoded(std::string("p"))),
                          "offsets/split/" + Escape(Encoded<int64_t>(5)) + "/" +
                              Escape(Encoded<int64_t>(6))));
  EXPECT_THAT(DescribeOperatorStates(kv(), op2_),
              ElementsAre("x/split/" + Escape(Encoded<int64_t>(1))));
  EXPECT_THAT(DescribeOperatorStates(kv(), OperatorId::FromUid("nobody")),
              IsEmpty());
  EXPECT_THAT(kv().Operators(), testing::UnorderedElementsAre(op1_, op2_));
}

TEST_P(BackendTest, OperatorsListsOperatorsWithState) {
  EXPECT_THAT(kv().Operators(), IsEmpty());
  const OperatorId op3 = OperatorId::FromUid("conformance/op-3");
  // Queries create nothing.
  EXPECT_THAT(kv().NextTimerTimestamp(op3, kEvent), HoldsNothing());
  EXPECT_THAT(kv().Operators(), IsEmpty()) << "after NextTimerTimestamp";
  EXPECT_THAT(kv().PopTimer(op3, kProc, kNoLimit), HoldsNothing());
  EXPECT_THAT(kv().Operators(), IsEmpty()) << "after PopTimer";
  ASSERT_OK(kv().SetCurrentKey("k"));
  EXPECT_OK(kv().DeleteTimer(op3, kEvent, 1, ""));
  EXPECT_THAT(kv().Operators(), IsEmpty()) << "after DeleteTimer";
  EXPECT_OK(kv().ForEachEntry(op3, 0,
                              [](const StateEntry&) { return Status::OK(); }));
  EXPECT_THAT(kv().States(op3), IsEmpty());
  EXPECT_THAT(DescribeOperatorStates(kv(), op3), IsEmpty());
  EXPECT_THAT(kv().Operators(), IsEmpty()) << "after ForEachEntry";

  ASSERT_OK(GetState(kv(), op2_, ValueStateDescriptor<int64_t>{"v"}).status());
  ASSERT_OK(GetOperatorListState<int64_t>(kv(), op1_, "o").status());
  std::vector<OperatorId> expected = {op1_, op2_};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(kv().Operators(), expected);
}

}  // namespace
}  // namespace weir::conformance
