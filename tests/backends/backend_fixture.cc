// SPDX-License-Identifier: Apache-2.0
#include "tests/backends/backend_fixture.h"

#include <algorithm>
#include <limits>
#include <map>
#include <tuple>

#include "backends/memory/memory_backend.h"
#include "backends/rocksdb/rocksdb_backend.h"

namespace weir {

void PrintTo(const Timer& timer, std::ostream* os) {
  *os << "Timer{" << timer.timestamp << ", \"" << conformance::Escape(timer.key)
      << "\", \"" << conformance::Escape(timer.ns) << "\"}";
}

namespace conformance {

namespace {

BackendParam RocksDBBackendParam() {
  return {"rocksdb", true,
          [](const StateBackendOptions& options, const std::string& dir) {
            // Small buffers: tests write little, and many run at once.
            RocksDBOptions r;
            r.block_cache_bytes = size_t{8} << 20;
            r.write_buffer_bytes = size_t{4} << 20;
            return OpenRocksDBBackend(options, r, dir);
          }};
}

const char* KindName(StateEntry::Kind kind) {
  switch (kind) {
    case StateEntry::Kind::kValue:
      return "value";
    case StateEntry::Kind::kListElement:
      return "list";
    case StateEntry::Kind::kMapEntry:
      return "map";
    case StateEntry::Kind::kTimer:
      return "timer";
  }
  return "?";
}

constexpr int kSampleKeys = 40;

std::string SampleKey(int i) { return "user-" + std::to_string(i); }

}  // namespace

void PrintTo(const BackendParam& param, std::ostream* os) { *os << param.name; }

const BackendParam& MemoryBackendParam() {
  static const BackendParam param{
      "memory", false,
      [](const StateBackendOptions& options, const std::string&) {
        return NewMemoryBackend(options);
      }};
  return param;
}

// To run the suite against another backend, add it here.
const std::vector<BackendParam>& AllBackends() {
  static const std::vector<BackendParam> backends = {
      MemoryBackendParam(),
      RocksDBBackendParam(),
  };
  return backends;
}

INSTANTIATE_TEST_SUITE_P(
    Backends, BackendTest, ::testing::ValuesIn(AllBackends()),
    [](const ::testing::TestParamInfo<BackendParam>& info) {
      return info.param.name;
    });

std::string Escape(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '\\') {
      out.push_back(c);
    } else {
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

void PrintTo(const DumpedEntry& e, std::ostream* os) {
  *os << "{" << KindName(e.kind);
  if (e.kind == StateEntry::Kind::kTimer) {
    *os << " domain=" << e.domain;
  } else {
    *os << " state=" << e.state << "(" << e.state_type << ")";
  }
  *os << " key=\"" << Escape(e.key) << "\" ns=\"" << Escape(e.ns) << "\"";
  if (e.kind == StateEntry::Kind::kMapEntry) {
    *os << " user_key=\"" << Escape(e.user_key) << "\"";
  }
  if (e.kind != StateEntry::Kind::kTimer) {
    *os << " value=\"" << Escape(e.value) << "\"";
  }
  if (e.kind == StateEntry::Kind::kListElement) *os << " pos=" << e.position;
  *os << " ts=" << e.timestamp << "}";
}

std::vector<DumpedEntry> Dump(KeyedStateBackend& backend,
                              const OperatorId& op) {
  std::vector<DumpedEntry> out;
  std::map<std::tuple<std::string, std::string, std::string>, int> positions;
  const KeyGroupRange range = backend.key_group_range();
  for (int kg = range.start; kg <= range.end; ++kg) {
    Status s = backend.ForEachEntry(op, kg, [&](const StateEntry& e) {
      EXPECT_EQ(KeyGroupForKey(e.key, backend.max_parallelism()), kg)
          << "entry of key \"" << Escape(e.key)
          << "\" listed under the wrong key group";
      DumpedEntry d;
      d.kind = e.kind;
      d.key.assign(e.key);
      d.ns.assign(e.ns);
      d.timestamp = e.timestamp;
      if (e.kind == StateEntry::Kind::kTimer) {
        d.domain = static_cast<int>(e.timer_domain);
      } else {
        EXPECT_NE(e.state, nullptr) << "entry without a state";
        if (e.state != nullptr) {
          d.state = e.state->name;
          d.state_type = static_cast<int>(e.state->type);
        }
        d.value.assign(e.value);
      }
      if (e.kind == StateEntry::Kind::kMapEntry) d.user_key.assign(e.user_key);
      if (e.kind == StateEntry::Kind::kListElement) {
        d.position = positions[{d.state, d.key, d.ns}]++;
      }
      out.push_back(std::move(d));
      return Status::OK();
    });
    EXPECT_OK(s) << "ForEachEntry of key group " << kg;
  }
  std::sort(out.begin(), out.end());
  return out;
}

void ExpectSameEntries(const std::vector<DumpedEntry>& actual,
                       const std::vector<DumpedEntry>& expected) {
  if (actual == expected) return;
  const auto [a, e] = std::mismatch(actual.begin(), actual.end(),
                                    expected.begin(), expected.end());
  ADD_FAILURE() << "entries differ: " << actual.size() << " entries, expected "
                << expected.size() << "; first difference: "
                << (a == actual.end() ? "<end>" : testing::PrintToString(*a))
                << ", expected "
                << (e == expected.end() ? "<end>" : testing::PrintToString(*e));
}

std::string DescribeDescriptor(const RawStateDescriptor& d) {
  return d.name + " type=" + std::string(StateTypeName(d.type)) +
         " value_v=" + std::to_string(d.value_serializer_version) +
         " key_v=" + std::to_string(d.user_key_serializer_version) +
         " ttl=" + std::to_string(d.ttl.ttl_ms) + "ms/" +
         std::to_string(static_cast<int>(d.ttl.update_type));
}

std::vector<std::string> DescribeStates(const KeyedStateBackend& backend,
                                        const OperatorId& op) {
  std::vector<std::string> out;
  for (const RawStateDescriptor& d : backend.States(op)) {
    out.push_back(DescribeDescriptor(d));
  }
  return out;
}

std::vector<std::string> PopAllTimers(KeyedStateBackend& backend,
                                      const std::vector<OperatorId>& ops) {
  std::vector<std::string> out;
  for (const OperatorId& op : ops) {
    for (TimeDomain domain :
         {TimeDomain::kEventTime, TimeDomain::kProcessingTime}) {
      int64_t last = std::numeric_limits<int64_t>::min();
      for (int n = 0; n < 1'000'000; ++n) {
        Result<std::optional<Timer>> t =
            backend.PopTimer(op, domain, std::numeric_limits<int64_t>::max());
        EXPECT_OK(t);
        if (!t.ok() || !t->has_value()) break;
        const Timer& timer = **t;
        EXPECT_GE(timer.timestamp, last) << "timers out of time order";
        last = timer.timestamp;
        out.push_back(op.ToHex().substr(0, 6) + "/" +
                      std::to_string(static_cast<int>(domain)) + "/" +
                      std::to_string(timer.timestamp) + "/" +
                      Escape(timer.key) + "/" + Escape(timer.ns));
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- sample

OperatorId SampleOp1() { return OperatorId::FromUid("conformance/sample-1"); }
OperatorId SampleOp2() { return OperatorId::FromUid("conformance/sample-2"); }

ValueStateDescriptor<int64_t> SampleValue() { return {"value"}; }
ListStateDescriptor<std::string> SampleList() { return {"list"}; }
MapStateDescriptor<int64_t, std::string> SampleMap() { return {"map"}; }
ReducingStateDescriptor<int64_t> SampleSum() {
  return {"sum", [](const int64_t& a, const int64_t& b) { return a + b; }};
}
ValueStateDescriptor<int64_t> SampleTtlValue() {
  return {"ttl-value", {}, StateTtlConfig{kSampleTtlMs}};
}

void WriteSampleState(KeyedStateBackend& b) {
  const OperatorId op1 = SampleOp1();
  const OperatorId op2 = SampleOp2();
  ASSERT_OK_AND_ASSIGN(auto value, GetState(b, op1, SampleValue()));
  ASSERT_OK_AND_ASSIGN(auto list, GetState(b, op1, SampleList()));
  ASSERT_OK_AND_ASSIGN(auto map, GetState(b, op1, SampleMap()));
  ASSERT_OK_AND_ASSIGN(auto sum, GetState(b, op1, SampleSum()));
  ASSERT_OK_AND_ASSIGN(auto ttl, GetState(b, op1, SampleTtlValue()));
  ASSERT_OK_AND_ASSIGN(auto value2, GetState(b, op2, SampleValue()));
  for (int i = 0; i < kSampleKeys; ++i) {
    ASSERT_OK(b.SetCurrentKey(SampleKey(i)));
    value.SetNamespace("");
    ASSERT_OK(value.Update(i * 10));
    if (i % 3 == 0) {
      value.SetNamespace("w");
      ASSERT_OK(value.Update(-i));
    }
    ASSERT_OK(list.Add("a" + std::to_string(i)));
    ASSERT_OK(list.Add("b"));
    if (i % 2 == 0) {
      ASSERT_OK(list.Add(""));
    }
    if (i % 4 != 3) {
      ASSERT_OK(map.Put(i, "m" + std::to_string(i)));
      ASSERT_OK(map.Put(-i - 1, "neg"));
      ASSERT_OK(map.Put(1000, std::string("\0x", 2)));
    }
    ASSERT_OK(sum.Add(i));
    ASSERT_OK(sum.Add(1));
    if (i % 5 == 0) {
      ASSERT_OK(ttl.Update(i));
    }
    ASSERT_OK(value2.Update(i * 100 + 1));
    ASSERT_OK(b.RegisterTimer(op1, TimeDomain::kEventTime, 100 + i % 7, ""));
    if (i % 2 == 0) {
      ASSERT_OK(
          b.RegisterTimer(op1, TimeDomain::kProcessingTime, 5000 - i, "w"));
    }
    ASSERT_OK(b.RegisterTimer(op2, TimeDomain::kEventTime, 100,
                              i % 3 == 0 ? "x" : ""));
  }
  ASSERT_OK_AND_ASSIGN(auto offsets1,
                       GetOperatorListState<int64_t>(b, op1, "offsets"));
  ASSERT_OK(offsets1.Update({1, 2, 3}));
  ASSERT_OK_AND_ASSIGN(auto broadcast,
                       GetOperatorListState<std::string>(
                           b, op1, "broadcast", OperatorStateMode::kUnion));
  ASSERT_OK(broadcast.Add("a"));
  ASSERT_OK(broadcast.Add("b"));
  ASSERT_OK_AND_ASSIGN(auto offsets2,
                       GetOperatorListState<int64_t>(b, op2, "offsets"));
  ASSERT_OK(offsets2.Add(42));
}

void CheckSampleState(KeyedStateBackend& b, bool ttl_live) {
  const OperatorId op1 = SampleOp1();
  const OperatorId op2 = SampleOp2();
  ASSERT_OK_AND_ASSIGN(auto value, GetState(b, op1, SampleValue()));
  ASSERT_OK_AND_ASSIGN(auto list, GetState(b, op1, SampleList()));
  ASSERT_OK_AND_ASSIGN(auto map, GetState(b, op1, SampleMap()));
  ASSERT_OK_AND_ASSIGN(auto sum, GetState(b, op1, SampleSum()));
  ASSERT_OK_AND_ASSIGN(auto ttl, GetState(b, op1, SampleTtlValue()));
  ASSERT_OK_AND_ASSIGN(auto value2, GetState(b, op2, SampleValue()));
  for (int i = 0; i < kSampleKeys; ++i) {
    SCOPED_TRACE(SampleKey(i));
    ASSERT_OK(b.SetCurrentKey(SampleKey(i)));
    value.SetNamespace("");
    EXPECT_THAT(value.Value(), Holds<int64_t>(i * 10));
    value.SetNamespace("w");
    if (i % 3 == 0) {
      EXPECT_THAT(value.Value(), Holds<int64_t>(-i));
    } else {
      EXPECT_THAT(value.Value(), HoldsNothing());
    }
    std::vector<std::string> expected_list = {"a" + std::to_string(i), "b"};
    if (i % 2 == 0) expected_list.push_back("");
    EXPECT_THAT(list.Get(), IsOkAndHolds(expected_list));
    std::vector<std::pair<int64_t, std::string>> expected_map;
    if (i % 4 != 3) {
      expected_map = {{-i - 1, "neg"},
                      {i, "m" + std::to_string(i)},
                      {1000, std::string("\0x", 2)}};
    }
    EXPECT_THAT(map.Entries(), IsOkAndHolds(expected_map));
    EXPECT_THAT(sum.Get(), Holds<int64_t>(i + 1));
    if (ttl_live && i % 5 == 0) {
      EXPECT_THAT(ttl.Value(), Holds<int64_t>(i));
    } else {
      EXPECT_THAT(ttl.Value(), HoldsNothing());
    }
    EXPECT_THAT(value2.Value(), Holds<int64_t>(i * 100 + 1));
  }
}

std::vector<std::string> DescribeOperatorStates(KeyedStateBackend& backend,
                                                const OperatorId& op) {
  std::vector<std::string> out;
  Result<std::vector<KeyedStateBackend::OperatorStateEntry>> states =
      backend.OperatorStates(op);
  EXPECT_OK(states);
  if (!states.ok()) return out;
  for (const auto& entry : *states) {
    std::string line =
        entry.name + "/" +
        (entry.mode == OperatorStateMode::kSplit ? "split" : "union");
    for (const std::string& v : entry.values) line += "/" + Escape(v);
    out.push_back(std::move(line));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// ---------------------------------------------------------------- fixture

void BackendTest::SetUp() {
  ASSERT_NO_FATAL_FAILURE(dir_.Create());
  clock_ = std::make_shared<ManualClock>(kStartMillis);
  ASSERT_OK_AND_ASSIGN(backend_, Open(Options(), "db"));
}

void BackendTest::TearDown() {
  // Close before TestDir removes the files under it.
  backend_.reset();
}

StateBackendOptions BackendTest::Options() const {
  StateBackendOptions options;
  options.clock = clock_;
  return options;
}

Result<std::unique_ptr<KeyedStateBackend>> BackendTest::Open(
    const StateBackendOptions& options, std::string_view sub) const {
  return OpenAs(GetParam(), options, sub);
}

Result<std::unique_ptr<KeyedStateBackend>> BackendTest::OpenAs(
    const BackendParam& param, const StateBackendOptions& options,
    std::string_view sub) const {
  return param.open(options, dir_.Sub(sub));
}

}  // namespace conformance
}  // namespace weir
