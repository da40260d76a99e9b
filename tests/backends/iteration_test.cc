// SPDX-License-Identifier: Apache-2.0
//
// Conformance: key-group ranges, and iteration of state by key group
// (ForEachEntry) and by key (ForEachKey).
#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tests/backends/backend_fixture.h"

namespace weir::conformance {
namespace {

const auto kInvalid = Status::Code::kInvalidArgument;

// Subtask 1 of 4 with max parallelism 128 owns key groups [32, 63].
StateBackendOptions Subtask1Of4(StateBackendOptions options) {
  options.max_parallelism = 128;
  options.key_group_range = KeyGroupRangeForSubtask(128, 4, 1);
  return options;
}

// The first `n` keys "user-<i>" whose key group is (or, with inside ==
// false, is not) in `range`.
std::vector<std::string> KeysIn(KeyGroupRange range, int max_parallelism,
                                size_t n, bool inside = true) {
  std::vector<std::string> keys;
  for (int i = 0; keys.size() < n; ++i) {
    std::string key = "user-" + std::to_string(i);
    if (range.Contains(KeyGroupForKey(key, max_parallelism)) == inside) {
      keys.push_back(std::move(key));
    }
  }
  return keys;
}

TEST_P(BackendTest, DefaultRangeIsAllKeyGroups) {
  EXPECT_EQ(kv().max_parallelism(), kDefaultMaxParallelism);
  EXPECT_EQ(kv().key_group_range(), KeyGroupRange::All(kDefaultMaxParallelism));
}

TEST_P(BackendTest, SetCurrentKeyChecksTheKeyGroupRange) {
  const StateBackendOptions options = Subtask1Of4(Options());
  ASSERT_EQ(options.key_group_range, (KeyGroupRange{32, 63}));
  ASSERT_OK_AND_ASSIGN(auto b, Open(options, "subtask"));
  EXPECT_EQ(b->max_parallelism(), 128);
  EXPECT_EQ(b->key_group_range(), (KeyGroupRange{32, 63}));
  int inside = 0;
  for (int i = 0; i < 300; ++i) {
    const std::string key = "key-" + std::to_string(i);
    const int kg = KeyGroupForKey(key, 128);
    if (options.key_group_range.Contains(kg)) {
      ++inside;
      ASSERT_OK(b->SetCurrentKey(key));
      EXPECT_EQ(b->current_key(), key);
      EXPECT_EQ(b->current_key_group(), kg);
    } else {
      EXPECT_THAT(b->SetCurrentKey(key), StatusIs(kInvalid))
          << key << " in " << kg;
    }
  }
  EXPECT_GT(inside, 30);
  EXPECT_LT(inside, 120);
}

TEST_P(BackendTest, CurrentKeyGroupFollowsMaxParallelism) {
  StateBackendOptions options = Options();
  options.max_parallelism = 7;
  ASSERT_OK_AND_ASSIGN(auto b, Open(options, "p7"));
  EXPECT_EQ(b->key_group_range(), KeyGroupRange::All(7));
  std::set<int> seen;
  for (int i = 0; i < 50; ++i) {
    const std::string key = "key-" + std::to_string(i);
    ASSERT_OK(b->SetCurrentKey(key));
    EXPECT_EQ(b->current_key_group(), KeyGroupForKey(key, 7));
    seen.insert(b->current_key_group());
  }
  EXPECT_EQ(seen.size(), 7u);
}

TEST_P(BackendTest, ForEachEntryCoversTheRangeExactly) {
  const StateBackendOptions options = Subtask1Of4(Options());
  ASSERT_OK_AND_ASSIGN(auto b, Open(options, "subtask"));
  ASSERT_OK_AND_ASSIGN(auto v,
                       GetState(*b, op1_, ValueStateDescriptor<int64_t>{"v"}));
  ASSERT_OK_AND_ASSIGN(auto l,
                       GetState(*b, op1_, ListStateDescriptor<int64_t>{"l"}));
  ASSERT_OK_AND_ASSIGN(
      auto m, GetState(*b, op1_, MapStateDescriptor<int64_t, int64_t>{"m"}));
  std::vector<DumpedEntry> expected;
  auto expect = [&](StateEntry::Kind kind, std::string state, StateType type,
                    const std::string& key, std::string ns,
                    std::string user_key, std::string value, int position = 0) {
    DumpedEntry e;
    e.kind = kind;
    e.state = std::move(state);
    e.state_type = static_cast<int>(type);
    e.key = key;
    e.ns = std::move(ns);
    e.user_key = std::move(user_key);
    e.value = std::move(value);
    e.position = position;
    expected.push_back(std::move(e));
  };
  auto expect_timer = [&](TimeDomain domain, const std::string& key,
                          std::string ns, int64_t ts) {
    DumpedEntry e;
    e.kind = StateEntry::Kind::kTimer;
    e.domain = static_cast<int>(domain);
    e.key = key;
    e.ns = std::move(ns);
    e.timestamp = ts;
    expected.push_back(std::move(e));
  };
  const std::vector<std::string> keys =
      KeysIn(options.key_group_range, 128, 500);
  std::set<int> groups;
  for (size_t j = 0; j < keys.size(); ++j) {
    const std::string& key = keys[j];
    const auto n = static_cast<int64_t>(j);
    groups.insert(KeyGroupForKey(key, 128));
    ASSERT_OK(b->SetCurrentKey(key));
    v.SetNamespace("");
    ASSERT_OK(v.Update(n));
    expect(StateEntry::Kind::kValue, "v", StateType::kValue, key, "", "",
           Encoded(n));
    if (j % 2 == 1) {
      v.SetNamespace("n");
      ASSERT_OK(v.Update(-n));
      expect(StateEntry::Kind::kValue, "v", StateType::kValue, key, "n", "",
             Encoded(-n));
    }
    for (int e = 0; e <= static_cast<int>(j % 3); ++e) {
      ASSERT_OK(l.Add(n * 10 + e));
      expect(StateEntry::Kind::kListElement, "l", StateType::kList, key, "", "",
             Encoded(n * 10 + e), e);
      ASSERT_OK(m.Put(e - 1, n));
      expect(StateEntry::Kind::kMapEntry, "m", StateType::kMap, key, "",
             KeyBytes<int64_t>(e - 1), Encoded(n));
    }
    ASSERT_OK(b->RegisterTimer(op1_, TimeDomain::kEventTime, n % 50, ""));
    expect_timer(TimeDomain::kEventTime, key, "", n % 50);
    if (j % 4 == 0) {
      ASSERT_OK(b->RegisterTimer(op1_, TimeDomain::kProcessingTime,
                                 1000 + n % 7, "t"));
      expect_timer(TimeDomain::kProcessingTime, key, "t", 1000 + n % 7);
    }
  }
  EXPECT_EQ(groups.size(), 32u) << "the keys should cover the whole range";
  std::sort(expected.begin(), expected.end());
  // Dump() visits each key group of the range and checks that each entry's
  // key hashes to the group it was listed under.
  ExpectSameEntries(Dump(*b, op1_), expected);
  // Key groups outside the range are an error.
  auto visitor = [](const StateEntry&) { return Status::OK(); };
  for (int kg : {-1, 0, 31, 64, 127, 128}) {
    EXPECT_THAT(b->ForEachEntry(op1_, kg, visitor), StatusIs(kInvalid)) << kg;
  }
}

TEST_P(BackendTest, ForEachEntryStopsAtVisitorError) {
  ASSERT_OK_AND_ASSIGN(
      auto v, GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"v"}));
  const std::string key = "k";
  SetKey(key);
  ASSERT_OK(v.Update(1));
  v.SetNamespace("a");
  ASSERT_OK(v.Update(2));
  ASSERT_OK(kv().RegisterTimer(op1_, TimeDomain::kEventTime, 5, ""));
  int visited = 0;
  Status s =
      kv().ForEachEntry(op1_, KeyGroupForKey(key, kv().max_parallelism()),
                        [&](const StateEntry&) {
                          ++visited;
                          return Status::Corruption("enough");
                        });
  EXPECT_THAT(s, StatusIs(Status::Code::kCorruption, HasSubstr("enough")));
  EXPECT_EQ(visited, 1);
}

// (key, ns) pairs visited by ForEachKey, sorted, duplicates kept.
std::vector<std::pair<std::string, std::string>> VisitKeys(
    KeyedStateBackend& b, const OperatorId& op, std::string_view state) {
  std::vector<std::pair<std::string, std::string>> out;
  Status s =
      b.ForEachKey(op, state, [&](std::string_view key, std::string_view ns) {
        out.emplace_back(key, ns);
        return Status::OK();
      });
  EXPECT_OK(s) << state;
  std::sort(out.begin(), out.end());
  return out;
}

TEST_P(BackendTest, ForEachKeyVisitsEachKeyAndNamespaceOnce) {
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  ASSERT_OK_AND_ASSIGN(
      auto v, GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"v"}));
  ASSERT_OK_AND_ASSIGN(auto l,
                       GetState(kv(), op1_, ListStateDescriptor<int64_t>{"l"}));
  ASSERT_OK_AND_ASSIGN(
      auto m, GetState(kv(), op1_, MapStateDescriptor<int64_t, int64_t>{"m"}));
  ASSERT_OK_AND_ASSIGN(
      auto other, GetState(kv(), op2_, ValueStateDescriptor<int64_t>{"v"}));
  SetKey("a");
  ASSERT_OK(v.Update(1));
  v.SetNamespace("w");
  ASSERT_OK(v.Update(2));
  v.SetNamespace("");
  ASSERT_OK(l.AddAll({1, 2, 3}));
  for (int64_t k = -2; k <= 2; ++k) ASSERT_OK(m.Put(k, k));
  m.SetNamespace("y");
  ASSERT_OK(m.Put(9, 9));
  m.SetNamespace("");
  SetKey("b");
  ASSERT_OK(v.Update(3));
  l.SetNamespace("x");
  ASSERT_OK(l.AddAll({4, 5}));
  l.SetNamespace("");
  SetKey("");  // the empty key
  ASSERT_OK(v.Update(4));
  ASSERT_OK(other.Update(5));
  // Emptied state has no keys.
  SetKey("gone");
  ASSERT_OK(v.Update(6));
  ASSERT_OK(v.Clear());
  ASSERT_OK(l.Add(7));
  ASSERT_OK(l.Clear());
  ASSERT_OK(m.Put(8, 8));
  ASSERT_OK(m.Remove(8));

  EXPECT_EQ(VisitKeys(kv(), op1_, "v"),
            (Pairs{{"", ""}, {"a", ""}, {"a", "w"}, {"b", ""}}));
  EXPECT_EQ(VisitKeys(kv(), op1_, "l"), (Pairs{{"a", ""}, {"b", "x"}}));
  EXPECT_EQ(VisitKeys(kv(), op1_, "m"), (Pairs{{"a", ""}, {"a", "y"}}));
  EXPECT_EQ(VisitKeys(kv(), op2_, "v"), (Pairs{{"", ""}}));
}

TEST_P(BackendTest, ForEachKeyOfUnknownStateIsNotFound) {
  ASSERT_OK(GetState(kv(), op2_, ValueStateDescriptor<int64_t>{"only-in-op2"})
                .status());
  auto visitor = [](std::string_view, std::string_view) {
    return Status::OK();
  };
  EXPECT_THAT(kv().ForEachKey(op1_, "nope", visitor),
              StatusIs(Status::Code::kNotFound, HasSubstr("nope")));
  EXPECT_THAT(kv().ForEachKey(op1_, "only-in-op2", visitor),
              StatusIs(Status::Code::kNotFound));
  // Registered but empty: OK, nothing visited.
  EXPECT_THAT(VisitKeys(kv(), op2_, "only-in-op2"), IsEmpty());
}

TEST_P(BackendTest, ForEachKeyStopsAtVisitorError) {
  ASSERT_OK_AND_ASSIGN(
      auto v, GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"v"}));
  for (const char* key : {"a", "b", "c", "d"}) {
    SetKey(key);
    ASSERT_OK(v.Update(1));
  }
  int visited = 0;
  Status s =
      kv().ForEachKey(op1_, "v", [&](std::string_view, std::string_view) {
        return ++visited == 2 ? Status::IOError("stop") : Status::OK();
      });
  EXPECT_THAT(s, StatusIs(Status::Code::kIOError, HasSubstr("stop")));
  EXPECT_EQ(visited, 2);
}

}  // namespace
}  // namespace weir::conformance
