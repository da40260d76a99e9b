// SPDX-License-Identifier: Apache-2.0
#include "backends/memory/flat_table.h"

#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "backends/memory/memory_key.h"
#include "lib/coding.h"
#include "lib/hash.h"

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

// Random upserts, erases and lookups against a std::map; timestamps are
// checked if the table keeps them (else they are 0).
void MatchesAMapUnderRandomOperations(FlatTable::Timestamps timestamps) {
  FlatTable table(timestamps);
  const bool kept = timestamps == FlatTable::Timestamps::kKept;
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
          EXPECT_EQ(table.At(i).ts(), kept ? it->second.second : 0);
          EXPECT_EQ(table.TimestampAt(i), kept ? it->second.second : 0);
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

TEST(FlatTable, MatchesAMapUnderRandomOperations) {
  MatchesAMapUnderRandomOperations(FlatTable::Timestamps::kKept);
}

TEST(FlatTable, WithoutTimestampsMatchesAMapUnderRandomOperations) {
  MatchesAMapUnderRandomOperations(FlatTable::Timestamps::kNone);
}

TEST(FlatTable, WithoutTimestampsEntriesFitAligned128ByteSlots) {
  // A 16-byte key with its length byte and a 101-byte value: 118 bytes,
  // with the 8-byte header 126, so 128-byte slots, each at a multiple of
  // 128 bytes (an adjacent-line pair). With timestamps they take 136.
  FlatTable table(FlatTable::Timestamps::kNone);
  EXPECT_FALSE(table.keeps_timestamps());
  constexpr int kKeys = 20000;
  const auto key_of = [](int i) {
    std::string key(17, 'k');
    key[0] = 16;
    std::memcpy(&key[1], &i, sizeof(i));
    return key;
  };
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = key_of(i);
    table.Upsert(key, FlatTable::Hash(key), std::string(101, 'v'), 5);
  }
  EXPECT_EQ(table.slot_size(), 128u);
  EXPECT_EQ(table.heap_entries(), 0u);
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = key_of(i);
    const size_t index = table.Find(key, FlatTable::Hash(key));
    ASSERT_NE(index, FlatTable::kNone);
    const auto address =
        reinterpret_cast<uintptr_t>(table.At(index).key().data());
    EXPECT_EQ((address - 8) % 128, 0u) << i;
    EXPECT_EQ(table.ValueAt(index), std::string(101, 'v'));
    EXPECT_EQ(table.TimestampAt(index), 0);
  }
  FlatTable with_ts(FlatTable::Timestamps::kKept);
  with_ts.Upsert(key_of(0), FlatTable::Hash(key_of(0)), std::string(101, 'v'),
                 5);
  EXPECT_EQ(with_ts.slot_size(), 136u);
}

TEST(FlatTable, TryAssignInlineCopiesEverySizeOrDeclines) {
  // Slots sized for 200-byte values, so that sizes past 128 fit too.
  FlatTable table(FlatTable::Timestamps::kNone);
  const std::string key = "the-key";
  const uint64_t hash = FlatTable::Hash(key);
  const size_t i = table.Upsert(key, hash, std::string(200, 'x'), 0);
  ASSERT_GE(table.slot_size(), 8u + key.size() + 200u);
  for (size_t n = 0; n <= 200; ++n) {
    std::string value(n, '\0');
    for (size_t k = 0; k < n; ++k) value[k] = static_cast<char>('a' + k % 26);
    table.Upsert(key, hash, std::string(200, 'x'), 0);  // reset the bytes
    const bool inlined = table.TryAssignInline(i, value);
    EXPECT_EQ(inlined, n <= 128) << n;
    if (!inlined) table.Assign(i, value, 0);
    ASSERT_EQ(table.ValueAt(i), value) << n;
    EXPECT_EQ(table.At(i).key(), key);
  }
  // A value that is the entry's own (overlapping): declined, unchanged.
  table.Upsert(key, hash, "0123456789abcdef0123", 0);
  const std::string_view own = table.ValueAt(i);
  EXPECT_FALSE(table.TryAssignInline(i, own.substr(2, 10)));
  EXPECT_EQ(table.ValueAt(i), "0123456789abcdef0123");
  // Too large for the slot, a heap entry, a table with timestamps: declined.
  EXPECT_FALSE(table.TryAssignInline(i, std::string(table.slot_size(), 'y')));
  table.Upsert(key, hash, std::string(1000, 'h'), 0);
  ASSERT_EQ(table.heap_entries(), 1u);
  EXPECT_FALSE(table.TryAssignInline(i, "small"));
  EXPECT_EQ(table.ValueAt(i), std::string(1000, 'h'));
  FlatTable with_ts(FlatTable::Timestamps::kKept);
  const size_t j = with_ts.Upsert(key, hash, "old", 9);
  EXPECT_FALSE(with_ts.TryAssignInline(j, "new"));
  EXPECT_EQ(with_ts.ValueAt(j), "old");
}

TEST(FlatTable, WithoutTimestampsHeapEntriesWork) {
  FlatTable table(FlatTable::Timestamps::kNone);
  for (int i = 0; i < 40; ++i) {
    table.Upsert(KeyFor(i), 7, std::string(i < 30 ? 4 : 500 + i, 'h'), i);
  }
  EXPECT_EQ(table.heap_entries(), 10u);
  for (int i = 0; i < 40; i += 3) EXPECT_TRUE(table.Erase(KeyFor(i), 7));
  for (int i = 0; i < 40; ++i) {
    const size_t index = table.Find(KeyFor(i), 7);
    if (i % 3 == 0) {
      EXPECT_EQ(index, FlatTable::kNone);
      continue;
    }
    ASSERT_NE(index, FlatTable::kNone);
    EXPECT_EQ(table.At(index).key(), KeyFor(i));
    EXPECT_EQ(table.ValueAt(index), std::string(i < 30 ? 4 : 500 + i, 'h'));
    table.Assign(index, std::string(i < 30 ? 600 : 3, 'g'), 9);
    EXPECT_EQ(table.ValueAt(index), std::string(i < 30 ? 600 : 3, 'g'));
    EXPECT_EQ(table.TimestampAt(index), 0);
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

// A table of N keys with values of `len` bytes, and a check of all of them.
void Fill(FlatTable* table, int n, size_t len, int64_t ts = 0) {
  for (int i = 0; i < n; ++i) {
    const std::string key = KeyFor(i);
    table->Upsert(key, FlatTable::Hash(key), std::string(len, 'a' + i % 26),
                  ts + i);
  }
}

void ExpectAll(const FlatTable& table, int n, size_t len, int64_t ts = 0) {
  ASSERT_EQ(table.size(), static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const std::string key = KeyFor(i);
    const size_t index = table.Find(key, FlatTable::Hash(key));
    ASSERT_NE(index, FlatTable::kNone) << key;
    EXPECT_EQ(table.At(index).key(), key);
    ASSERT_EQ(table.ValueAt(index), std::string(len, 'a' + i % 26)) << key;
    EXPECT_EQ(table.TimestampAt(index), ts + i);
  }
}

TEST(FlatTable, ManyKeysGrowInlineIntoHugePages) {
  FlatTable table;
  constexpr int kKeys = 300000;
  Fill(&table, kKeys, 101);
  ExpectAll(table, kKeys, 101);
  // One slot size for all: every entry inline, at most 4/5 full.
  EXPECT_EQ(table.heap_entries(), 0u);
  EXPECT_GE(table.slot_size(), 16u + 7 + 101);
  EXPECT_LE(table.slot_size(), 16u + 7 + 101 + 8);
  EXPECT_LE(table.size() * 5, table.capacity() * 4);
  // Over 40 MB: mapped with the huge-page hint, in whole huge pages.
  EXPECT_TRUE(table.huge_pages());
  // Erase every other key (backward shifts over long runs), then re-add.
  for (int i = 0; i < kKeys; i += 2) {
    const std::string key = KeyFor(i);
    ASSERT_TRUE(table.Erase(key, FlatTable::Hash(key)));
  }
  EXPECT_EQ(table.size(), static_cast<size_t>(kKeys / 2));
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = KeyFor(i);
    ASSERT_EQ(table.Find(key, FlatTable::Hash(key)) != FlatTable::kNone,
              i % 2 == 1)
        << key;
  }
  Fill(&table, kKeys, 101);
  ExpectAll(table, kKeys, 101);
}

TEST(FlatTable, LargeValuesLiveInHeapBlocksAndComeBack) {
  FlatTable table;
  Fill(&table, 100, 8);  // slots sized for 8-byte values
  const size_t slot_size = table.slot_size();
  const std::string key = KeyFor(7);
  const uint64_t hash = FlatTable::Hash(key);
  for (size_t len : {size_t{5000}, size_t{300}, size_t{6000}, size_t{8},
                     size_t{0}, size_t{70000}, size_t{3}}) {
    const std::string value(len, 'v');
    const size_t index = table.Upsert(key, hash, value, 99);
    EXPECT_EQ(table.heap_entries(), slot_size < 16 + key.size() + len ? 1u : 0u)
        << len;
    EXPECT_EQ(table.Find(key, hash), index);
    EXPECT_EQ(table.At(index).key(), key);
    EXPECT_EQ(table.ValueAt(index), value);
    EXPECT_EQ(table.At(index).value(), value);
    EXPECT_EQ(table.TimestampAt(index), 99);
  }
  // A value assigned from a view of itself (inline and heap).
  for (size_t len : {size_t{6}, size_t{2000}}) {
    size_t index = table.Upsert(key, hash, std::string(len, 'w'), 1);
    table.Assign(index, table.ValueAt(index).substr(1), 2);
    EXPECT_EQ(table.ValueAt(index), std::string(len - 1, 'w'));
  }
  // Keys too long for any slot.
  const std::string long_key(100000, 'k');
  table.Upsert(long_key, FlatTable::Hash(long_key), "small", 5);
  const size_t index = table.Find(long_key, FlatTable::Hash(long_key));
  ASSERT_NE(index, FlatTable::kNone);
  EXPECT_EQ(table.At(index).key(), long_key);
  EXPECT_EQ(table.ValueAt(index), "small");
  EXPECT_TRUE(table.Erase(long_key, FlatTable::Hash(long_key)));
  table.Upsert(key, hash, "", 0);
  EXPECT_EQ(table.heap_entries(), 0u);
  for (int i = 0; i < 100; ++i) {
    if (i == 7) continue;
    const std::string k = KeyFor(i);
    ASSERT_NE(table.Find(k, FlatTable::Hash(k)), FlatTable::kNone) << k;
  }
}

TEST(FlatTable, SlotSizeFollowsTheEntriesAsTheTableGrows) {
  FlatTable table;
  Fill(&table, 10, 4);
  EXPECT_LT(table.slot_size(), 64u);
  // Larger entries go to the heap at first; once they are most of the
  // table, a growth makes the slots fit them and takes them back inline.
  for (int i = 10; i < 5000; ++i) {
    const std::string key = KeyFor(i);
    table.Upsert(key, FlatTable::Hash(key), std::string(120, 'z'), i);
  }
  EXPECT_GE(table.slot_size(), 16u + 5 + 120);
  EXPECT_LE(table.heap_entries(), 10u);
  for (int i = 0; i < 5000; ++i) {
    const std::string key = KeyFor(i);
    const size_t index = table.Find(key, FlatTable::Hash(key));
    ASSERT_NE(index, FlatTable::kNone);
    EXPECT_EQ(table.ValueAt(index).size(), i < 10 ? 4u : 120u);
  }
}

TEST(FlatTable, KeysDifferingInOneByteAreDistinct) {
  // Every length up to 40 (the word-wise compare covers 8 to 32 bytes), and
  // for each, keys that differ from a base key in one position only. One
  // hash for all: every lookup compares against all of them.
  FlatTable table;
  std::vector<std::string> keys;
  for (size_t len = 0; len <= 40; ++len) {
    const std::string base(len, 'b');
    keys.push_back(base);
    for (size_t pos = 0; pos < len; ++pos) {
      std::string key = base;
      key[pos] = 'c';
      keys.push_back(key);
    }
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    table.Upsert(keys[i], 7, std::to_string(i), 0);
  }
  ASSERT_EQ(table.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    const size_t index = table.Find(keys[i], 7);
    ASSERT_NE(index, FlatTable::kNone) << keys[i];
    EXPECT_EQ(table.ValueAt(index), std::to_string(i)) << keys[i];
  }
  EXPECT_EQ(table.Find(std::string(41, 'b'), 7), FlatTable::kNone);
}

TEST(FlatTable, ProbeRunsWrapAroundTheEnd) {
  FlatTable table;
  // Hashes whose home is the last slot: runs wrap to slot 0, and erasing
  // shifts entries back across the end.
  const uint64_t last = ~uint64_t{0};
  for (int i = 0; i < 12; ++i) table.Upsert(KeyFor(i), last, KeyFor(i), i);
  for (int i = 0; i < 12; i += 3) EXPECT_TRUE(table.Erase(KeyFor(i), last));
  for (int i = 0; i < 12; ++i) {
    const size_t index = table.Find(KeyFor(i), last);
    if (i % 3 == 0) {
      EXPECT_EQ(index, FlatTable::kNone) << i;
    } else {
      ASSERT_NE(index, FlatTable::kNone) << i;
      EXPECT_EQ(table.ValueAt(index), KeyFor(i));
    }
  }
}

TEST(FlatTable, EpochChangesWhenEntriesMayMove) {
  FlatTable table;
  Fill(&table, 10, 10);
  const std::string key = KeyFor(3);
  const size_t index = table.Find(key, FlatTable::Hash(key));
  const uint64_t epoch = table.epoch();
  // Writes in place and inserts without growth move nothing.
  table.Assign(index, "new value", 1);
  table.SetTimestamp(index, 2);
  table.Upsert(KeyFor(100), FlatTable::Hash(KeyFor(100)), "x", 0);
  EXPECT_EQ(table.epoch(), epoch);
  EXPECT_EQ(table.Find(key, FlatTable::Hash(key)), index);
  EXPECT_EQ(table.ValueAt(index), "new value");
  EXPECT_EQ(table.TimestampAt(index), 2);
  EXPECT_TRUE(table.Erase(KeyFor(100), FlatTable::Hash(KeyFor(100))));
  EXPECT_NE(table.epoch(), epoch);
  const uint64_t after_erase = table.epoch();
  Fill(&table, 1000, 10);  // grows
  EXPECT_NE(table.epoch(), after_erase);
}

TEST(FlatTable, HeapEntriesMoveWithBackwardShifts) {
  FlatTable table;
  // Slots for tiny values; every entry of the long run is a heap block.
  for (int i = 0; i < 40; ++i) {
    table.Upsert(KeyFor(i), 7, std::string(500 + i, 'h'), i);
  }
  EXPECT_EQ(table.heap_entries(), 40u);
  for (int i = 0; i < 40; i += 2) EXPECT_TRUE(table.Erase(KeyFor(i), 7));
  EXPECT_EQ(table.heap_entries(), 20u);
  for (int i = 1; i < 40; i += 2) {
    const size_t index = table.Find(KeyFor(i), 7);
    ASSERT_NE(index, FlatTable::kNone);
    EXPECT_EQ(table.ValueAt(index), std::string(500 + i, 'h'));
  }
  table.Clear();
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.heap_entries(), 0u);
}

// The memory backend's current key (memory_key.h), which FlatTable's hashes
// come from: its inline XXH3 and its key groups are the library's, for
// every key length and both kinds of max parallelism (a power of two uses a
// mask instead of a division).
TEST(MemKey, HashKeyGroupAndEncodingMatchTheLibrary) {
  for (int max_parallelism : {128, 100, 1, 32768}) {
    MemKey key(max_parallelism, KeyGroupRange::All(max_parallelism));
    std::mt19937_64 rng(max_parallelism);
    for (size_t len = 0; len <= 300; ++len) {
      std::string bytes(len, '\0');
      for (char& c : bytes) c = static_cast<char>(rng());
      ASSERT_TRUE(key.Set(bytes).ok());
      EXPECT_EQ(key.hash(), Hash64(bytes)) << len;
      EXPECT_EQ(key.key_group(), KeyGroupForKey(bytes, max_parallelism)) << len;
      EXPECT_EQ(key.key(), bytes) << len;
      std::string encoded;
      PutLengthPrefixed(&encoded, bytes);
      EXPECT_EQ(key.encoded(), encoded) << len;
    }
  }
  // A key group outside the range is refused.
  MemKey key(128, KeyGroupRange{0, 0});
  int refused = 0;
  for (int i = 0; i < 50; ++i) {
    if (!key.Set(KeyFor(i)).ok()) ++refused;
  }
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace weir::internal
