// SPDX-License-Identifier: Apache-2.0
//
// The RocksDB backend's read mode: kAuto reads through memory maps while
// the state fits in half of the memory budget and with pread (and LZ4)
// above, decided when the backend is opened or restored; a mode that is
// set is kept. The state reads back the same in either mode.
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "backends/rocksdb/rocksdb_backend.h"
#include "backends/rocksdb/rocksdb_read_mode.h"
#include "backends/rocksdb/rocksdb_snapshot.h"
#include "tests/backends/backend_fixture.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace weir {
namespace {

using Mode = RocksDBOptions::ReadMode;
using Compression = RocksDBOptions::Compression;
using conformance::CheckSampleState;
using conformance::WriteSampleState;

constexpr uint64_t kMiB = uint64_t{1} << 20;

TEST(ResolveAutoOptions, MapsWhileTheStateFitsInHalfOfMemory) {
  const RocksDBOptions r =
      internal::ResolveAutoOptions(RocksDBOptions{}, 100 * kMiB, 0, 200 * kMiB);
  EXPECT_EQ(r.read_mode, Mode::kMmap);
  EXPECT_EQ(r.compression, Compression::kNone);
}

TEST(ResolveAutoOptions, PreadsWithLz4AboveHalfOfMemory) {
  const RocksDBOptions r = internal::ResolveAutoOptions(
      RocksDBOptions{}, 100 * kMiB + 1, 0, 200 * kMiB);
  EXPECT_EQ(r.read_mode, Mode::kPread);
  EXPECT_EQ(r.compression, Compression::kLz4);
}

TEST(ResolveAutoOptions, CountsTheOtherOpenBackends) {
  EXPECT_EQ(internal::ResolveAutoOptions(RocksDBOptions{}, 60 * kMiB, 60 * kMiB,
                                         200 * kMiB)
                .read_mode,
            Mode::kPread);
  EXPECT_EQ(internal::ResolveAutoOptions(RocksDBOptions{}, 60 * kMiB, 40 * kMiB,
                                         200 * kMiB)
                .read_mode,
            Mode::kMmap);
}

TEST(ResolveAutoOptions, TheBudgetReplacesTheMachinesMemory) {
  RocksDBOptions o;
  o.memory_budget_bytes = 10 * kMiB;
  EXPECT_EQ(
      internal::ResolveAutoOptions(o, 6 * kMiB, 0, 64 * 1024 * kMiB).read_mode,
      Mode::kPread);
  o.memory_budget_bytes = 64 * 1024 * kMiB;
  EXPECT_EQ(internal::ResolveAutoOptions(o, 6 * kMiB, 0, 10 * kMiB).read_mode,
            Mode::kMmap);
}

TEST(ResolveAutoOptions, UnknownMemoryKeepsMemoryMaps) {
  EXPECT_EQ(internal::ResolveAutoOptions(RocksDBOptions{}, 1000 * kMiB, 0, 0)
                .read_mode,
            Mode::kMmap);
}

TEST(ResolveAutoOptions, KeepsWhatIsSet) {
  RocksDBOptions o;
  o.read_mode = Mode::kMmap;
  o.compression = Compression::kZstd;
  RocksDBOptions r = internal::ResolveAutoOptions(o, 1000 * kMiB, 0, kMiB);
  EXPECT_EQ(r.read_mode, Mode::kMmap);
  EXPECT_EQ(r.compression, Compression::kZstd);
  o.read_mode = Mode::kPread;
  o.compression = Compression::kAuto;
  r = internal::ResolveAutoOptions(o, 0, 0, 1000 * kMiB);
  EXPECT_EQ(r.read_mode, Mode::kPread);
  EXPECT_EQ(r.compression, Compression::kLz4);
  o.read_mode = Mode::kMmap;
  EXPECT_EQ(internal::ResolveAutoOptions(o, 0, 0, 0).compression,
            Compression::kNone);
}

class ReadModeTest : public testing::Test {
 protected:
  void SetUp() override { dir_.Create(); }

  const std::shared_ptr<ManualClock> clock_ =
      std::make_shared<ManualClock>(1'000'000);

  // A manual clock: the sample state's TTL value must not expire while a
  // slow (sanitized, loaded) run writes, snapshots and restores it.
  StateBackendOptions Options() const {
    StateBackendOptions o;
    o.max_parallelism = 16;
    o.clock = clock_;
    return o;
  }
  static RocksDBOptions Rocks(uint64_t budget, Mode mode = Mode::kAuto) {
    RocksDBOptions r;
    r.block_cache_bytes = 4 * kMiB;
    r.write_buffer_bytes = kMiB;
    r.memory_budget_bytes = budget;
    r.read_mode = mode;
    return r;
  }
  // Writes the sample state into a new backend in `sub`, and closes it
  // with its state flushed into SST files.
  void WriteAndClose(const std::string& sub) {
    ASSERT_OK_AND_ASSIGN(
        auto b, OpenRocksDBBackend(Options(), Rocks(0), dir_.Sub(sub)));
    ASSERT_NO_FATAL_FAILURE(WriteSampleState(*b));
    ASSERT_OK(b->Flush());
  }
  uint64_t SstBytes(const std::string& sub) {
    return internal::SstBytesIn(dir_.Sub(sub) + "/db");
  }

  testutil::TestDir dir_;
};

TEST_F(ReadModeTest, AnEmptyStateIsReadThroughMemoryMaps) {
  ASSERT_OK_AND_ASSIGN(
      auto b, OpenRocksDBBackend(Options(), Rocks(kMiB), dir_.Sub("a")));
  EXPECT_EQ(internal::SstBytesIn(dir_.Sub("a") + "/db"), 0u);
  EXPECT_EQ(b->read_mode(), StateReadMode::kMmap);
}

TEST_F(ReadModeTest, ReopeningStateLargerThanHalfTheBudgetUsesPread) {
  ASSERT_NO_FATAL_FAILURE(WriteAndClose("a"));
  const uint64_t bytes = SstBytes("a");
  ASSERT_GT(bytes, 0u);
  {
    // Twice the state plus one byte: it fits.
    ASSERT_OK_AND_ASSIGN(
        auto b, OpenRocksDBBackend(Options(), Rocks(2 * bytes), dir_.Sub("a")));
    EXPECT_EQ(b->read_mode(), StateReadMode::kMmap);
    ASSERT_NO_FATAL_FAILURE(CheckSampleState(*b));
  }
  {
    ASSERT_OK_AND_ASSIGN(
        auto b,
        OpenRocksDBBackend(Options(), Rocks(2 * bytes - 2), dir_.Sub("a")));
    EXPECT_EQ(b->read_mode(), StateReadMode::kPread);
    ASSERT_NO_FATAL_FAILURE(CheckSampleState(*b));
  }
  {
    // A mode that is set is kept.
    ASSERT_OK_AND_ASSIGN(
        auto b,
        OpenRocksDBBackend(Options(), Rocks(1, Mode::kMmap), dir_.Sub("a")));
    EXPECT_EQ(b->read_mode(), StateReadMode::kMmap);
    ASSERT_NO_FATAL_FAILURE(CheckSampleState(*b));
  }
  {
    ASSERT_OK_AND_ASSIGN(
        auto b,
        OpenRocksDBBackend(Options(), Rocks(0, Mode::kPread), dir_.Sub("a")));
    EXPECT_EQ(b->read_mode(), StateReadMode::kPread);
    ASSERT_NO_FATAL_FAILURE(CheckSampleState(*b));
  }
}

TEST_F(ReadModeTest, OtherOpenBackendsCountUntilClosed) {
  ASSERT_NO_FATAL_FAILURE(WriteAndClose("a"));
  const uint64_t bytes = SstBytes("a");
  ASSERT_GT(bytes, 0u);
  const uint64_t before = internal::OpenRocksDBStateBytes();
  {
    ASSERT_OK_AND_ASSIGN(
        auto a, OpenRocksDBBackend(Options(), Rocks(0), dir_.Sub("a")));
    EXPECT_EQ(internal::OpenRocksDBStateBytes(), before + bytes);
    // An empty backend next to `a`, with a budget that `a` alone exceeds
    // half of.
    ASSERT_OK_AND_ASSIGN(
        auto b, OpenRocksDBBackend(Options(), Rocks(bytes), dir_.Sub("b")));
    EXPECT_EQ(b->read_mode(), StateReadMode::kPread);
  }
  EXPECT_EQ(internal::OpenRocksDBStateBytes(), before);
  ASSERT_OK_AND_ASSIGN(
      auto b, OpenRocksDBBackend(Options(), Rocks(bytes), dir_.Sub("b")));
  EXPECT_EQ(b->read_mode(), StateReadMode::kMmap);
}

TEST_F(ReadModeTest, ARestoreIsSizedByTheSnapshotNotTheEmptyDirectory) {
  for (const bool ready_db : {true, false}) {
    SCOPED_TRACE(ready_db ? "ready-made DB" : "import");
    const std::string sub = ready_db ? "ready" : "import";
    RocksDBOptions rocks = Rocks(0);
    rocks.ready_db_snapshots = ready_db;
    BackendSnapshot snap;
    uint64_t bytes = 0;
    {
      ASSERT_OK_AND_ASSIGN(
          auto b, OpenRocksDBBackend(Options(), rocks, dir_.Sub(sub + "-src")));
      ASSERT_NO_FATAL_FAILURE(WriteSampleState(*b));
      ASSERT_OK_AND_ASSIGN(auto pending,
                           b->Snapshot(1, dir_.Sub(sub + "-chk")));
      ASSERT_OK_AND_ASSIGN(snap, pending->Complete());
      for (const SnapshotFile& f : snap.files) {
        if (f.name.ends_with(".sst")) bytes += f.size;
      }
    }
    ASSERT_GT(bytes, 0u);
    {
      ASSERT_OK_AND_ASSIGN(
          auto r, RestoreRocksDBBackend(Options(), Rocks(2 * bytes - 2),
                                        dir_.Sub(sub + "-small"), {snap}));
      EXPECT_EQ(r->read_mode(), StateReadMode::kPread);
      ASSERT_NO_FATAL_FAILURE(CheckSampleState(*r));
    }
    ASSERT_OK_AND_ASSIGN(
        auto r, RestoreRocksDBBackend(Options(), Rocks(2 * bytes),
                                      dir_.Sub(sub + "-large"), {snap}));
    EXPECT_EQ(r->read_mode(), StateReadMode::kMmap);
    ASSERT_NO_FATAL_FAILURE(CheckSampleState(*r));
  }
}

}  // namespace
}  // namespace weir
