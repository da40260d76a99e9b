// SPDX-License-Identifier: Apache-2.0
//
// Conformance: a randomized model check. A fixed-seed stream of operations
// on value, list and map state over 200 keys and 3 namespaces runs against
// the backend and against std::map models; every read is compared with the
// model, and at the end so is the backend's full dump.
#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "tests/backends/backend_fixture.h"

namespace weir::conformance {
namespace {

using Slot = std::pair<std::string, std::string>;  // (key, namespace)

struct Model {
  std::map<Slot, int64_t> values;
  std::map<Slot, std::vector<int64_t>> lists;
  std::map<Slot, std::map<int64_t, int64_t>> maps;
};

std::vector<DumpedEntry> ModelDump(const Model& model) {
  std::vector<DumpedEntry> out;
  auto entry = [&](StateEntry::Kind kind, const char* state, StateType type,
                   const Slot& slot) -> DumpedEntry& {
    DumpedEntry& e = out.emplace_back();
    e.kind = kind;
    e.state = state;
    e.state_type = static_cast<int>(type);
    e.key = slot.first;
    e.ns = slot.second;
    return e;
  };
  for (const auto& [slot, v] : model.values) {
    entry(StateEntry::Kind::kValue, "v", StateType::kValue, slot).value =
        Encoded(v);
  }
  for (const auto& [slot, list] : model.lists) {
    for (size_t i = 0; i < list.size(); ++i) {
      DumpedEntry& e =
          entry(StateEntry::Kind::kListElement, "l", StateType::kList, slot);
      e.value = Encoded(list[i]);
      e.position = static_cast<int>(i);
    }
  }
  for (const auto& [slot, map] : model.maps) {
    for (const auto& [k, v] : map) {
      DumpedEntry& e =
          entry(StateEntry::Kind::kMapEntry, "m", StateType::kMap, slot);
      e.user_key = KeyBytes(k);
      e.value = Encoded(v);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST_P(BackendTest, RandomOperationsMatchAModel) {
  constexpr int kOperations = 20'000;
  constexpr int kKeys = 200;
  const char* const kNamespaces[] = {"", "w1", "w2"};
  ASSERT_OK_AND_ASSIGN(
      auto v, GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"v"}));
  ASSERT_OK_AND_ASSIGN(auto l,
                       GetState(kv(), op1_, ListStateDescriptor<int64_t>{"l"}));
  ASSERT_OK_AND_ASSIGN(
      auto m, GetState(kv(), op1_, MapStateDescriptor<int64_t, int64_t>{"m"}));
  Model model;
  std::mt19937_64 rng(20260124);
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };

  for (int op = 0; op < kOperations; ++op) {
    const Slot slot{"key-" + std::to_string(uniform(0, kKeys - 1)),
                    kNamespaces[uniform(0, 2)]};
    ASSERT_OK(kv().SetCurrentKey(slot.first)) << "op " << op;
    v.SetNamespace(slot.second);
    l.SetNamespace(slot.second);
    m.SetNamespace(slot.second);
    const int64_t value = uniform(-1000, 1000);
    const int64_t user_key = uniform(-8, 7);
    switch (uniform(0, 15)) {
      case 0:
      case 1:
        ASSERT_OK(v.Update(value)) << "op " << op;
        model.values[slot] = value;
        break;
      case 2:
        ASSERT_OK(v.Clear()) << "op " << op;
        model.values.erase(slot);
        break;
      case 3: {
        auto it = model.values.find(slot);
        if (it == model.values.end()) {
          ASSERT_THAT(v.Value(), HoldsNothing()) << "op " << op;
        } else {
          ASSERT_THAT(v.Value(), Holds(it->second)) << "op " << op;
        }
        break;
      }
      case 4:
      case 5:
        ASSERT_OK(l.Add(value)) << "op " << op;
        model.lists[slot].push_back(value);
        break;
      case 6: {
        std::vector<int64_t> values(static_cast<size_t>(uniform(0, 3)), value);
        for (size_t i = 0; i < values.size(); ++i)
          values[i] += static_cast<int64_t>(i);
        ASSERT_OK(l.Update(values)) << "op " << op;
        if (values.empty()) {
          model.lists.erase(slot);
        } else {
          model.lists[slot] = values;
        }
        break;
      }
      case 7:
        if (uniform(0, 2) == 0) {
          ASSERT_OK(l.Clear()) << "op " << op;
          model.lists.erase(slot);
        }
        break;
      case 8: {
        auto it = model.lists.find(slot);
        ASSERT_THAT(l.Get(), IsOkAndHolds(it == model.lists.end()
                                              ? std::vector<int64_t>{}
                                              : it->second))
            << "op " << op;
        break;
      }
      case 9:
      case 10:
        ASSERT_OK(m.Put(user_key, value)) << "op " << op;
        model.maps[slot][user_key] = value;
        break;
      case 11: {
        ASSERT_OK(m.Remove(user_key)) << "op " << op;
        auto it = model.maps.find(slot);
        if (it != model.maps.end()) {
          it->second.erase(user_key);
          if (it->second.empty()) model.maps.erase(it);
        }
        break;
      }
      case 12:
        if (uniform(0, 3) == 0) {
          ASSERT_OK(m.Clear()) << "op " << op;
          model.maps.erase(slot);
        }
        break;
      case 13: {
        auto it = model.maps.find(slot);
        const bool present =
            it != model.maps.end() && it->second.count(user_key) > 0;
        if (present) {
          ASSERT_THAT(m.Get(user_key), Holds(it->second.at(user_key)))
              << "op " << op;
        } else {
          ASSERT_THAT(m.Get(user_key), HoldsNothing()) << "op " << op;
        }
        ASSERT_THAT(m.Contains(user_key), IsOkAndHolds(present)) << "op " << op;
        break;
      }
      case 14:
        ASSERT_THAT(m.IsEmpty(), IsOkAndHolds(model.maps.count(slot) == 0))
            << "op " << op;
        break;
      case 15: {
        std::vector<std::pair<int64_t, int64_t>> expected;
        auto it = model.maps.find(slot);
        if (it != model.maps.end())
          expected.assign(it->second.begin(), it->second.end());
        ASSERT_THAT(m.Entries(), IsOkAndHolds(expected)) << "op " << op;
        break;
      }
    }
  }

  ExpectSameEntries(Dump(kv(), op1_), ModelDump(model));
  // Every key of the model, and only those, has live state.
  for (const char* state : {"v", "l", "m"}) {
    std::vector<Slot> keys;
    ASSERT_OK(kv().ForEachKey(op1_, state,
                              [&](std::string_view key, std::string_view ns) {
                                keys.emplace_back(key, ns);
                                return Status::OK();
                              }));
    std::sort(keys.begin(), keys.end());
    std::vector<Slot> want;
    auto add_keys = [&](const auto& slots) {
      for (const auto& entry : slots) want.push_back(entry.first);
    };
    if (*state == 'v') add_keys(model.values);
    if (*state == 'l') add_keys(model.lists);
    if (*state == 'm') add_keys(model.maps);
    EXPECT_EQ(keys, want) << state;
  }
}

}  // namespace
}  // namespace weir::conformance
