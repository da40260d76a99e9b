// SPDX-License-Identifier: Apache-2.0
//
// Rescaling a backend's state: the snapshots of old tasks restored into
// new tasks of another parallelism, in and out. A new task's state is
// compared with the same key groups restored from one snapshot of the
// whole state (the restore path without merging), entry by entry and timer
// by timer, and the merged state goes on: it is snapshotted and rescaled
// again. On RocksDB the merge ingests rewritten SST files
// (rocksdb_ingest.h), so these tests also hold those files to the rest.
#include <filesystem>
#include <string>
#include <vector>

#include "backends/restore.h"
#include "backends/rocksdb/rocksdb_backend.h"
#include "backends/rocksdb/rocksdb_snapshot.h"
#include "tests/backends/backend_fixture.h"

namespace weir::conformance {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kTtlMs = 10'000;

bool IsRocks(const BackendParam& p) { return p.name == "rocksdb"; }

class RescaleTest : public BackendTest {
 protected:
  StateBackendOptions OptionsFor(KeyGroupRange range) const {
    StateBackendOptions o = Options();
    o.key_group_range = range;
    return o;
  }

  KeyGroupRange Subtask(int parallelism, int i) {
    return KeyGroupRangeForSubtask(kv().max_parallelism(), parallelism, i);
  }

  Result<std::unique_ptr<KeyedStateBackend>> Restore(
      KeyGroupRange range, const std::vector<BackendSnapshot>& snapshots,
      const std::string& sub) {
    if (IsRocks(GetParam())) {
      RocksDBOptions r;
      r.block_cache_bytes = size_t{8} << 20;
      r.write_buffer_bytes = size_t{1} << 20;  // several files per task
      r.ready_db_snapshots = true;
      return RestoreRocksDBBackend(OptionsFor(range), r, dir_.Sub(sub),
                                   snapshots);
    }
    return RestoreMemoryBackend(OptionsFor(range), snapshots, dir_.path());
  }

  BackendSnapshot Take(KeyedStateBackend& b, int64_t id,
                       const std::string& sub) {
    auto pending = b.Snapshot(id, dir_.Sub(sub));
    EXPECT_OK(pending.status());
    if (!pending.ok()) return {};
    auto snap = (*pending)->Complete();
    EXPECT_OK(snap.status());
    return snap.ok() ? *snap : BackendSnapshot{};
  }

  // Keyed state of every kind (one with a TTL, half of it expired by the
  // time of the snapshot), timers of both domains and an operator list,
  // over `keys` keys and both operators.
  void Write(KeyedStateBackend& b, int keys) {
    StateTtlConfig ttl;
    ttl.ttl_ms = kTtlMs;
    for (const OperatorId& op : {op1_, op2_}) {
      auto value =
          b.GetValueState(op, RawDescriptor("value", StateType::kValue));
      auto list = b.GetListState(op, RawDescriptor("list", StateType::kList));
      auto map = b.GetMapState(op, RawDescriptor("map", StateType::kMap));
      auto fresh =
          b.GetValueState(op, RawDescriptor("ttl", StateType::kValue, 1, ttl));
      ASSERT_OK(value.status());
      ASSERT_OK(list.status());
      ASSERT_OK(map.status());
      ASSERT_OK(fresh.status());
      for (int i = 0; i < keys; ++i) {
        ASSERT_OK(b.SetCurrentKey("key-" + std::to_string(i)));
        const std::string n = std::to_string(i);
        const std::string ns = i % 5 == 0 ? "window" : "";
        ASSERT_OK((*value)->Put(ns, "v" + n));
        ASSERT_OK((*list)->Add(ns, "a" + n));
        ASSERT_OK((*list)->Add(ns, "b" + n));
        ASSERT_OK((*map)->Put(ns, "uk" + std::to_string(i % 3), n));
        ASSERT_OK((*map)->Put(ns, "uk-last", n));
        if (i % 2 == 0) {
          ASSERT_OK((*fresh)->Put("", "t" + n));
        }
        ASSERT_OK(b.RegisterTimer(op, TimeDomain::kEventTime, 100 + i % 37,
                                  "w" + std::to_string(i % 2)));
        if (i % 3 == 0) {
          ASSERT_OK(b.RegisterTimer(op, TimeDomain::kProcessingTime,
                                    5000 + i % 11, ""));
        }
      }
      auto offsets =
          b.GetOperatorListState(op, "offsets", OperatorStateMode::kSplit);
      ASSERT_OK(offsets.status());
      ASSERT_OK((*offsets)->Add("offset-" + op.ToHex().substr(0, 4)));
    }
    // Every other key's TTL entry is rewritten later; the first ones then
    // expire, so the snapshots hold expired entries.
    clock_->AdvanceMillis(kTtlMs / 2 + 1);
    for (const OperatorId& op : {op1_, op2_}) {
      StateTtlConfig t;
      t.ttl_ms = kTtlMs;
      auto fresh =
          b.GetValueState(op, RawDescriptor("ttl", StateType::kValue, 1, t));
      ASSERT_OK(fresh.status());
      for (int i = 0; i < keys; i += 4) {
        ASSERT_OK(b.SetCurrentKey("key-" + std::to_string(i)));
        ASSERT_OK((*fresh)->Put("", "later" + std::to_string(i)));
      }
    }
    clock_->AdvanceMillis(kTtlMs / 2 + 1);
  }

  // `actual` holds what `reference` holds: entries, state descriptors, and
  // its timers come out in the same order. Pops the timers of both.
  void ExpectSameTasks(KeyedStateBackend& actual,
                       KeyedStateBackend& reference) {
    ASSERT_EQ(actual.key_group_range(), reference.key_group_range());
    for (const OperatorId& op : {op1_, op2_}) {
      SCOPED_TRACE("operator " + op.ToHex());
      const std::vector<DumpedEntry> expected = Dump(reference, op);
      ASSERT_FALSE(expected.empty());
      ExpectSameEntries(Dump(actual, op), expected);
      EXPECT_EQ(DescribeStates(actual, op), DescribeStates(reference, op));
    }
    const std::vector<std::string> timers =
        PopAllTimers(reference, {op1_, op2_});
    EXPECT_FALSE(timers.empty());
    EXPECT_EQ(PopAllTimers(actual, {op1_, op2_}), timers);
  }

  // Left-over scratch or staging directories of a rescaling restore.
  std::vector<std::string> Leftovers(const std::string& sub) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_.Sub(sub), ec)) {
      const std::string name = e.path().filename().string();
      if (name.starts_with("rescale-") || name.starts_with("restore-")) {
        out.push_back(name);
      }
    }
    return out;
  }
};

// Three tasks into one, and into two (each new task takes key groups of two
// old ones), then the merged state is snapshotted and spread over three
// tasks again.
TEST_P(RescaleTest, ScalingInAndOutKeepsEveryEntryAndTimerOrder) {
  ASSERT_NO_FATAL_FAILURE(Write(kv(), 900));
  const BackendSnapshot whole = Take(kv(), 1, "chk-whole");

  std::vector<BackendSnapshot> thirds;
  for (int i = 0; i < 3; ++i) {
    auto task = Restore(Subtask(3, i), {whole}, "third-" + std::to_string(i));
    ASSERT_OK(task.status());
    thirds.push_back(Take(**task, 2, "chk-third-" + std::to_string(i)));
  }

  for (int parallelism : {1, 2}) {
    for (int i = 0; i < parallelism; ++i) {
      const std::string name =
          std::to_string(parallelism) + "-" + std::to_string(i);
      SCOPED_TRACE("task " + name);
      auto merged = Restore(Subtask(parallelism, i), thirds, "merged-" + name);
      ASSERT_OK(merged.status());
      auto reference =
          Restore(Subtask(parallelism, i), {whole}, "reference-" + name);
      ASSERT_OK(reference.status());
      if (IsRocks(GetParam())) {
        EXPECT_THAT(Leftovers("merged-" + name), IsEmpty());
      }
      // One task: the operator lists of all three old tasks, in the
      // snapshots' order. (Which lists a task of several gets is the
      // engine's choice: it redistributes them.)
      for (const OperatorId& op : {op1_, op2_}) {
        if (parallelism != 1) break;
        auto offsets = (*merged)->GetOperatorListState(
            op, "offsets", OperatorStateMode::kSplit);
        ASSERT_OK(offsets.status());
        std::vector<std::string> values;
        ASSERT_OK((*offsets)->Get(&values));
        const std::string one = "offset-" + op.ToHex().substr(0, 4);
        EXPECT_EQ(values, (std::vector<std::string>{one, one, one}));
      }
      ASSERT_NO_FATAL_FAILURE(ExpectSameTasks(**merged, **reference));
      if (parallelism == 2) continue;
      // The one task goes on from the merged state (its timers now popped):
      // written, snapshotted, restored as it is and rescaled out again.
      ASSERT_OK((*merged)->SetCurrentKey("key-after"));
      auto value = (*merged)->GetValueState(
          op1_, RawDescriptor("value", StateType::kValue));
      ASSERT_OK(value.status());
      ASSERT_OK((*value)->Put("", "after"));
      std::vector<DumpedEntry> now[2] = {Dump(**merged, op1_),
                                         Dump(**merged, op2_)};
      const BackendSnapshot again = Take(**merged, 3, "chk-merged");
      auto same = Restore(Subtask(1, 0), {again}, "same");
      ASSERT_OK(same.status());
      ExpectSameEntries(Dump(**same, op1_), now[0]);
      ExpectSameEntries(Dump(**same, op2_), now[1]);
      for (int j = 0; j < 3; ++j) {
        SCOPED_TRACE("out again " + std::to_string(j));
        auto out = Restore(Subtask(3, j), {again}, "out-" + std::to_string(j));
        ASSERT_OK(out.status());
        for (int o = 0; o < 2; ++o) {
          std::vector<DumpedEntry> expected;
          for (const DumpedEntry& e : now[o]) {
            if (Subtask(3, j).Contains(
                    KeyGroupForKey(e.key, kv().max_parallelism()))) {
              expected.push_back(e);
            }
          }
          ExpectSameEntries(Dump(**out, o == 0 ? op1_ : op2_), expected);
        }
      }
    }
  }
}

// A task restored from old tasks of which only some share its key groups,
// and from old tasks whose snapshots are themselves merges.
TEST_P(RescaleTest, MergesOfMergesKeepEveryEntry) {
  ASSERT_NO_FATAL_FAILURE(Write(kv(), 600));
  const BackendSnapshot whole = Take(kv(), 1, "chk-whole");
  std::vector<BackendSnapshot> fourths;
  for (int i = 0; i < 4; ++i) {
    auto task = Restore(Subtask(4, i), {whole}, "fourth-" + std::to_string(i));
    ASSERT_OK(task.status());
    fourths.push_back(Take(**task, 2, "chk-fourth-" + std::to_string(i)));
  }
  // 4 -> 3: every new task merges parts of two old ones.
  std::vector<BackendSnapshot> thirds;
  for (int i = 0; i < 3; ++i) {
    auto task = Restore(Subtask(3, i), fourths, "third-" + std::to_string(i));
    ASSERT_OK(task.status());
    thirds.push_back(Take(**task, 3, "chk-third-" + std::to_string(i)));
  }
  // 3 -> 2, and the result against the whole state.
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE("task " + std::to_string(i));
    auto merged = Restore(Subtask(2, i), thirds, "half-" + std::to_string(i));
    ASSERT_OK(merged.status());
    auto reference =
        Restore(Subtask(2, i), {whole}, "reference-" + std::to_string(i));
    ASSERT_OK(reference.status());
    ASSERT_NO_FATAL_FAILURE(ExpectSameTasks(**merged, **reference));
  }
}

// State written one third of the key groups at a time, flushed after each,
// is in files that each cover a third: a task of a scale-out leaves out the
// files of the other key groups, and still holds every entry of its own.
TEST_P(RescaleTest, AScaleOutTaskSkipsFilesOfOtherKeyGroups) {
  if (!IsRocks(GetParam())) GTEST_SKIP() << "RocksDB files only";
  const int mp = kv().max_parallelism();
  auto value =
      kv().GetValueState(op1_, RawDescriptor("value", StateType::kValue));
  ASSERT_OK(value.status());
  for (int third = 0; third < 3; ++third) {
    const KeyGroupRange part = KeyGroupRangeForSubtask(mp, 3, third);
    for (int i = 0; i < 3000; ++i) {
      const std::string key = "key-" + std::to_string(i);
      if (!part.Contains(KeyGroupForKey(key, mp))) continue;
      ASSERT_OK(kv().SetCurrentKey(key));
      ASSERT_OK((*value)->Put("", "v" + std::to_string(i)));
      ASSERT_OK(kv().RegisterTimer(op1_, TimeDomain::kEventTime, i, ""));
    }
    ASSERT_OK(kv().Flush());
  }
  const std::vector<DumpedEntry> all = Dump(kv(), op1_);
  const BackendSnapshot whole = Take(kv(), 1, "chk-whole");
  for (int task = 0; task < 3; ++task) {
    SCOPED_TRACE("task " + std::to_string(task));
    const KeyGroupRange range = Subtask(3, task);
    // The precondition: some file of the operator holds only other key
    // groups (a background compaction merging the three would void it).
    int skipped = 0;
    for (const SnapshotFile& f : whole.files) {
      if (f.column_family == op1_.ToHex() &&
          !internal::FileMayHoldKeyGroups(f, range)) {
        ++skipped;
      }
    }
    EXPECT_GE(skipped, 1);
    auto restored = Restore(range, {whole}, "task-" + std::to_string(task));
    ASSERT_OK(restored.status());
    std::vector<DumpedEntry> expected;
    for (const DumpedEntry& e : all) {
      if (range.Contains(KeyGroupForKey(e.key, mp))) expected.push_back(e);
    }
    ASSERT_FALSE(expected.empty());
    ExpectSameEntries(Dump(**restored, op1_), expected);
  }
}

// Which SST files a restore of some key groups imports: those whose key
// range reaches one of them.
TEST(FileMayHoldKeyGroups, ComparesTheFilesKeyGroupsWithTheRange) {
  auto file = [](int first, int last) {
    SnapshotFile f;
    f.smallest_key = std::string{static_cast<char>(first >> 8),
                                 static_cast<char>(first & 0xff)} +
                     "key";
    f.largest_key = std::string{static_cast<char>(last >> 8),
                                static_cast<char>(last & 0xff)};
    return f;
  };
  const KeyGroupRange range{64, 127};
  EXPECT_FALSE(internal::FileMayHoldKeyGroups(file(0, 63), range));
  EXPECT_TRUE(internal::FileMayHoldKeyGroups(file(0, 64), range));
  EXPECT_TRUE(internal::FileMayHoldKeyGroups(file(70, 80), range));
  EXPECT_TRUE(internal::FileMayHoldKeyGroups(file(127, 300), range));
  EXPECT_FALSE(internal::FileMayHoldKeyGroups(file(128, 300), range));
  EXPECT_TRUE(internal::FileMayHoldKeyGroups(file(0, 0x7fff), range));
  // The cut marker's key sorts after every key group.
  SnapshotFile marker = file(300, 300);
  marker.largest_key = std::string(internal::kCutMarkerKey);
  EXPECT_FALSE(internal::FileMayHoldKeyGroups(marker, range));
  EXPECT_TRUE(internal::FileMayHoldKeyGroups(SnapshotFile{}, range));
}

INSTANTIATE_TEST_SUITE_P(
    Backends, RescaleTest, ::testing::ValuesIn(AllBackends()),
    [](const ::testing::TestParamInfo<BackendParam>& info) {
      return info.param.name;
    });

}  // namespace
}  // namespace weir::conformance
