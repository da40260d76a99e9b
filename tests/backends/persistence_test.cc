// SPDX-License-Identifier: Apache-2.0
//
// Conformance: backends that persist (BackendParam::persistent) keep all
// state across close and reopen, and refuse bad state directories without
// changing anything on disk. Also the option checks of the memory backend.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "backends/memory/memory_backend.h"
#include "tests/backends/backend_fixture.h"

namespace weir::conformance {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::AnyOf;

const auto kInvalid = Status::Code::kInvalidArgument;

// The built-in int64 format under version number 2.
struct IntV2 : Serializer<int64_t> {
  static constexpr uint32_t kVersion = 2;
};

#define SKIP_UNLESS_PERSISTENT()                                  \
  if (!GetParam().persistent) {                                   \
    GTEST_SKIP() << GetParam().name << " keeps no state on disk"; \
  }

void WriteFile(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Every file and directory under `dir`, by relative path: the size of each
// file, or with `contents` its bytes; "<dir>" for directories.
std::map<std::string, std::string> Listing(const std::string& dir,
                                           bool contents) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string rel = fs::relative(it->path(), dir, ec).string();
    if (it->is_directory(ec)) {
      out[rel] = "<dir>";
    } else if (contents) {
      out[rel] = ReadFile(it->path().string());
    } else {
      out[rel] = std::to_string(it->file_size(ec));
    }
  }
  EXPECT_FALSE(ec) << "listing " << dir << ": " << ec.message();
  return out;
}

struct Snapshot {
  std::vector<OperatorId> operators;
  std::map<OperatorId, std::vector<std::string>> states;
  std::map<OperatorId, std::vector<DumpedEntry>> entries;
  std::map<OperatorId, std::vector<std::string>> operator_states;
};

Snapshot Take(KeyedStateBackend& b) {
  Snapshot s;
  s.operators = b.Operators();
  for (const OperatorId& op : s.operators) {
    s.states[op] = DescribeStates(b, op);
    s.entries[op] = Dump(b, op);
    s.operator_states[op] = DescribeOperatorStates(b, op);
  }
  return s;
}

void ExpectSame(const Snapshot& after, const Snapshot& before) {
  EXPECT_EQ(after.operators, before.operators);
  for (const OperatorId& op : before.operators) {
    SCOPED_TRACE(op.ToHex());
    EXPECT_EQ(after.states.at(op), before.states.at(op));
    EXPECT_EQ(after.operator_states.at(op), before.operator_states.at(op));
    const auto it = after.entries.find(op);
    ASSERT_NE(it, after.entries.end());
    ExpectSameEntries(it->second, before.entries.at(op));
  }
}

TEST_P(BackendTest, ReopenKeepsEverything) {
  SKIP_UNLESS_PERSISTENT();
  ASSERT_OK_AND_ASSIGN(auto reference,
                       OpenAs(MemoryBackendParam(), Options(), "reference"));
  // The same history on both: the sample, a popped and a deleted timer.
  for (KeyedStateBackend* b : {backend_.get(), reference.get()}) {
    ASSERT_NO_FATAL_FAILURE(WriteSampleState(*b));
    ASSERT_OK_AND_ASSIGN(
        auto popped, b->PopTimer(SampleOp1(), TimeDomain::kEventTime, 1000));
    ASSERT_TRUE(popped.has_value());
    ASSERT_OK(b->SetCurrentKey("user-1"));
    ASSERT_OK(b->DeleteTimer(SampleOp1(), TimeDomain::kEventTime, 101, ""));
  }
  const Snapshot before = Take(kv());
  ASSERT_EQ(before.operators.size(), 2u);
  ASSERT_OK(kv().Flush());
  backend_.reset();

  ASSERT_OK_AND_ASSIGN(backend_, Open(Options(), "db"));
  // Inspect before any state is opened again: it is all known from disk.
  ExpectSame(Take(kv()), before);
  ASSERT_NO_FATAL_FAILURE(CheckSampleState(kv()));
  EXPECT_EQ(PopAllTimers(kv(), before.operators),
            PopAllTimers(*reference, before.operators));
  clock_->AdvanceMillis(kSampleTtlMs);  // TTL timestamps survived too
  ASSERT_NO_FATAL_FAILURE(CheckSampleState(kv(), /*ttl_live=*/false));
}

TEST_P(BackendTest, ReopenTwiceKeepsLaterWrites) {
  SKIP_UNLESS_PERSISTENT();
  ASSERT_OK_AND_ASSIGN(auto l,
                       GetState(kv(), op1_, ListStateDescriptor<int64_t>{"l"}));
  SetKey("k");
  ASSERT_OK(l.Add(1));
  ASSERT_OK(kv().Flush());
  backend_.reset();
  ASSERT_OK_AND_ASSIGN(backend_, Open(Options(), "db"));
  ASSERT_OK_AND_ASSIGN(auto l2,
                       GetState(kv(), op1_, ListStateDescriptor<int64_t>{"l"}));
  SetKey("k");
  ASSERT_OK(l2.Add(2));
  ASSERT_OK(kv().RegisterTimer(op1_, TimeDomain::kEventTime, 7, ""));
  ASSERT_OK(kv().Flush());
  backend_.reset();
  ASSERT_OK_AND_ASSIGN(backend_, Open(Options(), "db"));
  ASSERT_OK_AND_ASSIGN(auto l3,
                       GetState(kv(), op1_, ListStateDescriptor<int64_t>{"l"}));
  SetKey("k");
  EXPECT_THAT(l3.Get(), IsOkAndHolds(ElementsAre(1, 2)));
  EXPECT_THAT(kv().NextTimerTimestamp(op1_, TimeDomain::kEventTime),
              Holds<int64_t>(7));
}

TEST_P(BackendTest, ReopenKeepsOperatorOnlyState) {
  SKIP_UNLESS_PERSISTENT();
  const OperatorId source = OperatorId::FromUid("conformance/source");
  ASSERT_OK_AND_ASSIGN(auto offsets,
                       GetOperatorListState<int64_t>(kv(), source, "offsets"));
  ASSERT_OK_AND_ASSIGN(
      auto all, GetOperatorListState<std::string>(kv(), source, "all",
                                                  OperatorStateMode::kUnion));
  ASSERT_OK(offsets.Update({10, 20}));
  ASSERT_OK(all.Add("x"));
  const std::vector<std::string> before = DescribeOperatorStates(kv(), source);
  ASSERT_EQ(before.size(), 2u);
  ASSERT_OK(kv().Flush());
  backend_.reset();
  ASSERT_OK_AND_ASSIGN(backend_, Open(Options(), "db"));
  EXPECT_THAT(kv().Operators(), ElementsAre(source));
  EXPECT_EQ(DescribeOperatorStates(kv(), source), before);
  EXPECT_THAT(GetOperatorListState<int64_t>(kv(), source, "offsets",
                                            OperatorStateMode::kUnion),
              StatusIs(kInvalid, HasSubstr("'offsets'")));
  ASSERT_OK_AND_ASSIGN(auto reopened,
                       GetOperatorListState<int64_t>(kv(), source, "offsets"));
  EXPECT_THAT(reopened.Get(), IsOkAndHolds(ElementsAre(10, 20)));
}

// rocksdb_backend.h: "durability comes from snapshots (and Flush()/close
// for a backend reopened in place)": closing alone must be enough.
TEST_P(BackendTest, CloseWithoutFlushKeepsState) {
  SKIP_UNLESS_PERSISTENT();
  ASSERT_OK_AND_ASSIGN(
      auto v, GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"v"}));
  SetKey("k");
  ASSERT_OK(v.Update(5));
  backend_.reset();
  ASSERT_OK_AND_ASSIGN(backend_, Open(Options(), "db"));
  ASSERT_OK_AND_ASSIGN(
      auto v2, GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"v"}));
  SetKey("k");
  EXPECT_THAT(v2.Value(), Holds<int64_t>(5));
}

TEST_P(BackendTest, RegistryChecksSurviveReopen) {
  SKIP_UNLESS_PERSISTENT();
  ASSERT_OK_AND_ASSIGN(
      auto v, GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"v"}));
  ASSERT_OK_AND_ASSIGN(
      auto v2,
      (GetState(kv(), op1_, ValueStateDescriptor<int64_t, IntV2>{"v"})));
  ASSERT_OK(GetState(kv(), op1_, ListStateDescriptor<int64_t>{"ttl", {}, {100}})
                .status());
  SetKey("k");
  ASSERT_OK(v2.Update(1));
  ASSERT_OK(kv().Flush());
  backend_.reset();
  ASSERT_OK_AND_ASSIGN(backend_, Open(Options(), "db"));
  EXPECT_THAT(DescribeStates(kv(), op1_),
              ElementsAre("ttl type=list value_v=1 key_v=0 ttl=100ms/0",
                          "v type=value value_v=2 key_v=0 ttl=0ms/0"));
  EXPECT_THAT(GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"v"}),
              StatusIs(Status::Code::kNotSupported, HasSubstr("version 2")));
  EXPECT_THAT(GetState(kv(), op1_, ListStateDescriptor<int64_t>{"v"}),
              StatusIs(kInvalid));
  EXPECT_THAT(GetState(kv(), op1_, ListStateDescriptor<int64_t>{"ttl"}),
              StatusIs(kInvalid));
}

TEST_P(BackendTest, OpenOnARegularFileFails) {
  SKIP_UNLESS_PERSISTENT();
  const std::string path = dir_.Sub("file");
  ASSERT_NO_FATAL_FAILURE(WriteFile(path, "not a directory"));
  EXPECT_THAT(Open(Options(), "file"),
              AnyOf(StatusIs(kInvalid, HasSubstr(path)),
                    StatusIs(Status::Code::kIOError, HasSubstr(path))));
  EXPECT_EQ(ReadFile(path), "not a directory");
}

TEST_P(BackendTest, OpenOnAForeignDirectoryFailsAndChangesNothing) {
  SKIP_UNLESS_PERSISTENT();
  const std::string path = dir_.Sub("foreign");
  ASSERT_TRUE(fs::create_directories(path + "/sub"));
  ASSERT_NO_FATAL_FAILURE(WriteFile(path + "/hello.txt", "hello\n"));
  ASSERT_NO_FATAL_FAILURE(
      WriteFile(path + "/sub/data.bin", std::string("\0\1\2", 3)));
  const auto before = Listing(path, /*contents=*/true);
  ASSERT_EQ(before.size(), 3u);
  Result<std::unique_ptr<KeyedStateBackend>> r = Open(Options(), "foreign");
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("not a weir state directory"));
  EXPECT_EQ(Listing(path, /*contents=*/true), before);
}

TEST_P(BackendTest, OpenAnEmptyDirectoryCreatesState) {
  SKIP_UNLESS_PERSISTENT();
  const std::string path = dir_.Sub("empty");
  ASSERT_TRUE(fs::create_directory(path));
  ASSERT_OK_AND_ASSIGN(auto b, Open(Options(), "empty"));
  EXPECT_TRUE(fs::exists(path + "/WEIR"));
}

TEST_P(BackendTest, ReopenWithAnotherMaxParallelismFailsAndChangesNothing) {
  SKIP_UNLESS_PERSISTENT();
  ASSERT_NO_FATAL_FAILURE(WriteSampleState(kv()));
  ASSERT_OK(kv().Flush());
  backend_.reset();
  const std::string path = dir_.Sub("db");
  const auto before = Listing(path, /*contents=*/false);
  for (int other : {256, 64}) {
    StateBackendOptions options = Options();
    options.max_parallelism = other;
    EXPECT_THAT(Open(options, "db"),
                StatusIs(kInvalid, AllOf(HasSubstr("128"),
                                         HasSubstr(std::to_string(other)))));
    EXPECT_EQ(Listing(path, /*contents=*/false), before);
  }
  ASSERT_OK_AND_ASSIGN(backend_, Open(Options(), "db"));
  ASSERT_NO_FATAL_FAILURE(CheckSampleState(kv()));
}

TEST_P(BackendTest, GarbageMarkerIsCorruption) {
  SKIP_UNLESS_PERSISTENT();
  backend_.reset();
  const std::string marker = dir_.Sub("db") + "/WEIR";
  ASSERT_TRUE(fs::exists(marker))
      << "a state directory is marked by " << marker;
  ASSERT_NO_FATAL_FAILURE(
      WriteFile(marker, std::string("garbage\xff\0\x01", 10)));
  EXPECT_THAT(Open(Options(), "db"), StatusIs(Status::Code::kCorruption));
  ASSERT_NO_FATAL_FAILURE(WriteFile(marker, ""));
  EXPECT_THAT(Open(Options(), "db"), StatusIs(Status::Code::kCorruption));
}

// ---------------------------------------------------------------- memory only

TEST(MemoryBackend, RejectsInvalidOptions) {
  auto with = [](int max_parallelism, KeyGroupRange range = {}) {
    StateBackendOptions o;
    o.max_parallelism = max_parallelism;
    o.key_group_range = range;
    return NewMemoryBackend(o);
  };
  EXPECT_THAT(with(0), StatusIs(kInvalid, HasSubstr("0")));
  EXPECT_THAT(with(-1), StatusIs(kInvalid));
  EXPECT_THAT(with(40000), StatusIs(kInvalid, HasSubstr("40000")));
  EXPECT_THAT(with(128, {0, 128}), StatusIs(kInvalid));
  EXPECT_THAT(with(128, {-1, 5}), StatusIs(kInvalid));
  EXPECT_THAT(with(128, {200, 300}), StatusIs(kInvalid));
  EXPECT_THAT(with(1), IsOk());
  EXPECT_THAT(with(kUpperBoundMaxParallelism), IsOk());
  EXPECT_THAT(with(128, {127, 127}), IsOk());
  ASSERT_OK_AND_ASSIGN(auto b, with(128, {0, 127}));
  EXPECT_EQ(b->key_group_range(), (KeyGroupRange{0, 127}));
}

}  // namespace
}  // namespace weir::conformance
