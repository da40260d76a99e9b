// SPDX-License-Identifier: Apache-2.0
#include "backends/memory/flat_table.h"

#include <map>
#include <random>
#include <string>

#include <gtest/gtest.h>

namespace weir::internal {
namespace {

// Keys that all land in a few home slots, so probe runs wrap around the
// table and backward-shift deletion is exercised.
std::string KeyFor(int i) {
  // Not "k" + std::to_string(i): GCC 12 at -O3 warns -Wrestrict on it.
  std::string key = "k";
  key += std::to_string(i);
  return key;
}

TEST(FlatTable, MatchesAMapUnderRandomOperations) {
  FlatTable table;
  std::map<std::string, std::pair<std::string, int64_t>> model;
  std::mt19937_64 rng(42);
  for (int step = 0; step < 200000; ++step) {
    const std::string key = KeyFor(static_cast<int>(rng() % 3000));
    const uint64_t hash = FlatTable::Hash(key);
    switch (rng() % 4) {
      case 0:
      case 1: {
        const std::string value(rng() % 40, static_cast<char>('a' + step % 26));
        table.Upsert(key, hash, value, step);
        model[key] = {value, step};
        break;
      }
      case 2:
        EXPECT_EQ(table.Erase(key, hash), model.erase(key) == 1);
        break;
      case 3: {
        const size_t i = table.Find(key, hash);
        auto it = model.find(key);
        ASSERT_EQ(i != FlatTable::kNone, it != model.end()) << key;
        if (i != FlatTable::kNone) {
          EXPECT_EQ(table.At(i).key(), key);
          EXPECT_EQ(table.At(i).value(), it->second.first);
          EXPECT_EQ(table.At(i).ts(), it->second.second);
        }
        break;
      }
    }
    ASSERT_EQ(table.size(), model.size());
  }
  // Every entry is found by iteration exactly once, and by lookup.
  size_t seen = 0;
  table.ForEach([&](const FlatTable::Entry& e) {
    ++seen;
    auto it = model.find(std::string(e.key()));
    EXPECT_NE(it, model.end());
    if (it != model.end()) {
      EXPECT_EQ(e.value(), it->second.first);
    }
    return true;
  });
  EXPECT_EQ(seen, model.size());
  for (const auto& [key, value] : model) {
    const size_t i = table.Find(key, FlatTable::Hash(key));
    ASSERT_NE(i, FlatTable::kNone) << key;
    EXPECT_EQ(table.At(i).value(), value.first);
  }
}

TEST(FlatTable, CollidingHashesStayDistinct) {
  FlatTable table;
  // The same hash for every key: one long probe run.
  for (int i = 0; i < 100; ++i) table.Upsert(KeyFor(i), 7, KeyFor(i * 2), i);
  for (int i = 0; i < 100; i += 2) EXPECT_TRUE(table.Erase(KeyFor(i), 7));
  EXPECT_FALSE(table.Erase(KeyFor(0), 7));
  for (int i = 0; i < 100; ++i) {
    const size_t index = table.Find(KeyFor(i), 7);
    if (i % 2 == 0) {
      EXPECT_EQ(index, FlatTable::kNone) << i;
    } else {
      ASSERT_NE(index, FlatTable::kNone) << i;
      EXPECT_EQ(table.At(index).value(), KeyFor(i * 2));
    }
  }
  EXPECT_EQ(table.size(), 50u);
}

TEST(FlatTable, GrowingAndShrinkingValuesKeepTheKey) {
  FlatTable table;
  const std::string key = "key";
  const uint64_t hash = FlatTable::Hash(key);
  for (size_t len : {0, 5, 1000, 3, 0, 64}) {
    const std::string value(len, 'x');
    table.Upsert(key, hash, value, static_cast<int64_t>(len));
    const size_t i = table.Find(key, hash);
    ASSERT_NE(i, FlatTable::kNone);
    EXPECT_EQ(table.At(i).key(), key);
    EXPECT_EQ(table.At(i).value(), value);
    EXPECT_EQ(table.At(i).ts(), static_cast<int64_t>(len));
  }
  FlatTable moved = std::move(table);
  EXPECT_EQ(moved.size(), 1u);
  EXPECT_EQ(table.size(), 0u);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(table.Find(key, hash), FlatTable::kNone);
}

}  // namespace
}  // namespace weir::internal
