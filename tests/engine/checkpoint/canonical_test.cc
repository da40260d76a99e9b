// SPDX-License-Identifier: Apache-2.0
//
// engine::ToKeyGroupStreams (engine/checkpoint/canonical.h): a RocksDB
// task's native snapshot turned into key-group streams that restore into
// either backend with exactly the state of the cut, leaving no scratch or
// native files behind.
#include "engine/checkpoint/canonical.h"

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "backends/memory/memory_backend.h"
#include "backends/restore.h"
#include "backends/rocksdb/rocksdb_backend.h"
#include "backends/rocksdb/rocksdb_snapshot.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace weir::enginetest {
namespace {

namespace fs = std::filesystem;

RocksDBOptions SmallRocks() {
  RocksDBOptions o;
  o.block_cache_bytes = size_t{8} << 20;
  o.write_buffer_bytes = size_t{1} << 20;
  return o;
}

RawStateDescriptor Descriptor(std::string name, StateType type) {
  RawStateDescriptor d;
  d.name = std::move(name);
  d.type = type;
  d.user_key_serializer_version = type == StateType::kMap ? 1 : 0;
  return d;
}

// Every entry of every operator as one line, sorted (list elements keep
// their order within a key).
std::vector<std::string> Dump(KeyedStateBackend& b) {
  std::vector<std::string> out;
  for (const OperatorId& op : b.Operators()) {
    for (int kg = b.key_group_range().start; kg <= b.key_group_range().end;
         ++kg) {
      std::vector<std::string> lists;
      EXPECT_OK(b.ForEachEntry(op, kg, [&](const StateEntry& e) {
        std::string line =
            op.ToHex() + " " + std::to_string(static_cast<int>(e.kind)) + " " +
            (e.state ? e.state->name : "timer") + " " + std::string(e.key) +
            "/" + std::string(e.ns) + "/" + std::string(e.user_key) + "=" +
            std::string(e.value) + "@" + std::to_string(e.timestamp);
        out.push_back(std::move(line));
        return Status::OK();
      }));
    }
    Result<std::vector<KeyedStateBackend::OperatorStateEntry>> lists =
        b.OperatorStates(op);
    EXPECT_OK(lists.status());
    if (!lists.ok()) continue;
    for (const auto& l : *lists) {
      std::string line = op.ToHex() + " op-state " + l.name + ":";
      for (const std::string& v : l.values) line += " " + v;
      out.push_back(std::move(line));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

class CanonicalTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_.Create(); }

  StateBackendOptions Options() const {
    StateBackendOptions o;
    o.max_parallelism = 16;
    return o;
  }

  // Writes values, lists, maps, timers and operator state of two operators.
  void Write(KeyedStateBackend& b, int round) {
    for (const OperatorId& op : {op1_, op2_}) {
      auto value = b.GetValueState(op, Descriptor("value", StateType::kValue));
      auto list = b.GetListState(op, Descriptor("list", StateType::kList));
      auto map = b.GetMapState(op, Descriptor("map", StateType::kMap));
      ASSERT_OK(value.status());
      ASSERT_OK(list.status());
      ASSERT_OK(map.status());
      for (int i = 0; i < 200; ++i) {
        ASSERT_OK(b.SetCurrentKey("key-" + std::to_string(i)));
        const std::string r = std::to_string(round);
        ASSERT_OK((*value)->Put("", "v" + r + "-" + std::to_string(i)));
        ASSERT_OK((*list)->Add("ns", "e" + r));
        ASSERT_OK((*map)->Put("", "uk" + std::to_string(i % 3), r));
        ASSERT_OK(
            b.RegisterTimer(op, TimeDomain::kEventTime, 1000 + i + round, "w"));
      }
      auto offsets =
          b.GetOperatorListState(op, "offsets", OperatorStateMode::kSplit);
      ASSERT_OK(offsets.status());
      ASSERT_OK((*offsets)->Add("offset-" + std::to_string(round)));
    }
  }

  std::set<std::string> Names(const std::string& dir) const {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) {
      names.insert(e.path().filename().string());
    }
    return names;
  }

  testutil::TestDir dir_;
  const OperatorId op1_ = OperatorId::FromUid("one");
  const OperatorId op2_ = OperatorId::FromUid("two");
};

TEST_F(CanonicalTest, RocksDBSnapshotBecomesStreamsOfTheCut) {
  ASSERT_OK_AND_ASSIGN(
      auto rocks, OpenRocksDBBackend(Options(), SmallRocks(), dir_.Sub("db")));
  ASSERT_NO_FATAL_FAILURE(Write(*rocks, 0));
  ASSERT_OK(rocks->Flush());  // some state in files, some in memtables
  ASSERT_NO_FATAL_FAILURE(Write(*rocks, 1));
  const std::vector<std::string> at_cut = Dump(*rocks);
  ASSERT_FALSE(at_cut.empty());
  ASSERT_OK_AND_ASSIGN(auto pending, rocks->Snapshot(7, dir_.Sub("native")));
  ASSERT_NO_FATAL_FAILURE(Write(*rocks, 2));  // after the cut
  ASSERT_OK_AND_ASSIGN(BackendSnapshot native, pending->Complete());
  pending.reset();
  ASSERT_EQ(native.format, SnapshotFormat::kRocksDBSst);

  engine::CanonicalConversion conversion;
  conversion.rocksdb = SmallRocks();
  ASSERT_OK_AND_ASSIGN(
      BackendSnapshot streams,
      engine::ToKeyGroupStreams(native, 7, conversion, dir_.Sub("scratch"),
                                dir_.Sub("streams")));
  EXPECT_EQ(streams.format, SnapshotFormat::kKeyGroupStreams);
  EXPECT_EQ(streams.max_parallelism, 16);
  EXPECT_EQ(streams.key_group_range, native.key_group_range);
  ASSERT_FALSE(streams.files.empty());
  for (const SnapshotFile& f : streams.files) {
    EXPECT_EQ(fs::path(f.local_path).parent_path(),
              fs::path(dir_.Sub("streams")))
        << f.local_path;
    EXPECT_TRUE(fs::exists(f.local_path)) << f.local_path;
    EXPECT_FALSE(f.operator_id.empty()) << f.name;
  }
  // Neither the scratch backend nor the native links are left.
  EXPECT_FALSE(fs::exists(dir_.Sub("scratch")));
  for (const SnapshotFile& f : native.files) {
    EXPECT_FALSE(fs::exists(f.local_path)) << f.local_path;
  }
  // The live backend is untouched and goes on.
  ASSERT_NO_FATAL_FAILURE(Write(*rocks, 3));

  ASSERT_OK_AND_ASSIGN(auto memory, RestoreMemoryBackend(Options(), {streams}));
  EXPECT_EQ(Dump(*memory), at_cut);
  ASSERT_OK_AND_ASSIGN(auto into_rocks,
                       RestoreRocksDBBackend(Options(), SmallRocks(),
                                             dir_.Sub("restored"), {streams}));
  EXPECT_EQ(Dump(*into_rocks), at_cut);
}

TEST_F(CanonicalTest, StreamsAreReturnedAsTheyAre) {
  ASSERT_OK_AND_ASSIGN(auto memory, NewMemoryBackend(Options()));
  ASSERT_NO_FATAL_FAILURE(Write(*memory, 0));
  ASSERT_OK_AND_ASSIGN(auto pending, memory->Snapshot(3, dir_.Sub("native")));
  ASSERT_OK_AND_ASSIGN(BackendSnapshot snap, pending->Complete());
  ASSERT_OK_AND_ASSIGN(
      BackendSnapshot same,
      engine::ToKeyGroupStreams(snap, 3, {}, dir_.Sub("scratch"),
                                dir_.Sub("streams")));
  EXPECT_EQ(same.format, SnapshotFormat::kKeyGroupStreams);
  ASSERT_EQ(same.files.size(), snap.files.size());
  for (size_t i = 0; i < snap.files.size(); ++i) {
    EXPECT_EQ(same.files[i].local_path, snap.files[i].local_path);
    EXPECT_TRUE(fs::exists(same.files[i].local_path));
  }
  EXPECT_FALSE(fs::exists(dir_.Sub("streams")));
}

// A damaged native file fails the conversion with Corruption, and still
// leaves no scratch directory.
TEST_F(CanonicalTest, DamagedNativeSnapshotFails) {
  ASSERT_OK_AND_ASSIGN(
      auto rocks, OpenRocksDBBackend(Options(), SmallRocks(), dir_.Sub("db")));
  ASSERT_NO_FATAL_FAILURE(Write(*rocks, 0));
  ASSERT_OK_AND_ASSIGN(auto pending, rocks->Snapshot(1, dir_.Sub("native")));
  ASSERT_OK_AND_ASSIGN(BackendSnapshot native, pending->Complete());
  pending.reset();
  ASSERT_FALSE(native.files.empty());
  native.files[0].checksum ^= 1;
  native.files[0].verified_inode = 0;
  Result<BackendSnapshot> r = engine::ToKeyGroupStreams(
      native, 1, {}, dir_.Sub("scratch"), dir_.Sub("streams"));
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_FALSE(fs::exists(dir_.Sub("scratch")));
}

}  // namespace
}  // namespace weir::enginetest
