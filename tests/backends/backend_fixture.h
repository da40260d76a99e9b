// SPDX-License-Identifier: Apache-2.0
//
// The backend conformance suite. Every TEST_P(BackendTest, ...) runs against
// every backend of AllBackends() (backend_fixture.cc), so that all backends
// are held to one behaviour; the memory backend is the reference.
//
// A backend is a BackendParam: a name, whether its state survives closing
// and reopening its directory, and how to open it. Each test gets a fresh
// directory (TestDir), a ManualClock at kStartMillis and `backend_`, opened
// in <dir>/db with Options().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <weir/clock.h>
#include <weir/operator_id.h>
#include <weir/options.h>
#include <weir/state.h>

#include "backends/backend.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace weir {

// Found by ADL so that failures print timers readably.
void PrintTo(const Timer& timer, std::ostream* os);

namespace conformance {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Optional;
using testutil::IsOk;
using testutil::IsOkAndHolds;
using testutil::StatusIs;

// Matchers for Result<std::optional<T>>: OK and holding v, OK and empty.
template <class T>
auto Holds(const T& v) {
  return IsOkAndHolds(Optional(::testing::Eq(v)));
}
inline auto HoldsNothing() { return IsOkAndHolds(::testing::Eq(std::nullopt)); }

// A raw descriptor; map states get key serializer version 1 by default.
inline RawStateDescriptor RawDescriptor(std::string name, StateType type,
                                        uint32_t value_version = 1,
                                        StateTtlConfig ttl = {}) {
  RawStateDescriptor d;
  d.name = std::move(name);
  d.type = type;
  d.value_serializer_version = value_version;
  d.user_key_serializer_version = type == StateType::kMap ? 1 : 0;
  d.ttl = ttl;
  return d;
}

struct BackendParam {
  using OpenFn = std::function<Result<std::unique_ptr<KeyedStateBackend>>(
      const StateBackendOptions& options, const std::string& dir)>;

  std::string name;
  // True if Flush() and reopening the same directory keep all state.
  bool persistent = false;
  OpenFn open;
};

void PrintTo(const BackendParam& param, std::ostream* os);

// Every backend the suite runs against, and the reference among them.
const std::vector<BackendParam>& AllBackends();
const BackendParam& MemoryBackendParam();

// Printable bytes: printable ASCII as is, everything else as \xNN.
std::string Escape(std::string_view bytes);

// The bytes the typed API stores for `value`: [version][serialized].
template <class T, class S = Serializer<T>>
std::string Encoded(const T& value, const S& serializer = S{}) {
  std::string out;
  internal::EncodeValue(serializer, value, &out);
  return out;
}

// The bytes of a map user key (no version header).
template <class K>
std::string KeyBytes(const K& key) {
  std::string out;
  Serializer<K>().Serialize(key, &out);
  return out;
}

// One entry of ForEachEntry, copied so that it outlives the visit. Fields
// that do not apply to the entry's kind are left empty.
struct DumpedEntry {
  StateEntry::Kind kind = StateEntry::Kind::kValue;
  std::string state;   // state name; empty for timers
  int state_type = 0;  // StateType; 0 for timers
  int domain = 0;      // TimeDomain of timers; 0 otherwise
  std::string key;
  std::string ns;
  std::string user_key;  // map entries
  std::string value;     // everything but timers
  int64_t timestamp = 0;
  int position = 0;  // list elements: index in their list

  auto operator<=>(const DumpedEntry&) const = default;
};

void PrintTo(const DumpedEntry& entry, std::ostream* os);

// Every entry of `op` over the backend's whole key-group range, sorted.
// Adds a test failure for an entry listed under a key group its key does not
// hash to, or if ForEachEntry fails.
std::vector<DumpedEntry> Dump(KeyedStateBackend& backend, const OperatorId& op);

// Expects equal dumps; on a difference reports the sizes and the first
// differing entry of each (full dumps are too long to print).
void ExpectSameEntries(const std::vector<DumpedEntry>& actual,
                       const std::vector<DumpedEntry>& expected);

// "name type=... value_v=... key_v=... ttl=...ms/update", for comparing
// descriptors with readable failures.
std::string DescribeDescriptor(const RawStateDescriptor& d);
std::vector<std::string> DescribeStates(const KeyedStateBackend& backend,
                                        const OperatorId& op);

// Pops every timer of `ops` (event time, then processing time, per
// operator) and returns them as "<op>/<domain>/<ts>/<key>/<ns>" in pop order.
// Adds a test failure if a pop fails or comes out of time order.
std::vector<std::string> PopAllTimers(KeyedStateBackend& backend,
                                      const std::vector<OperatorId>& ops);

// ---- A sample of every kind of state, for persistence and import tests.

OperatorId SampleOp1();
OperatorId SampleOp2();
constexpr int64_t kSampleTtlMs = 1000;
ValueStateDescriptor<int64_t> SampleValue();
ListStateDescriptor<std::string> SampleList();
MapStateDescriptor<int64_t, std::string> SampleMap();
ReducingStateDescriptor<int64_t> SampleSum();
ValueStateDescriptor<int64_t> SampleTtlValue();

// Writes keyed state of every type (one with TTL, written at the clock's
// current time), timers of both domains and operator list states, over
// SampleOp1() and SampleOp2(). Use with ASSERT_NO_FATAL_FAILURE.
void WriteSampleState(KeyedStateBackend& backend);
// Reads back, through the typed API, what WriteSampleState wrote.
// `ttl_live` says whether the TTL state should still be visible.
void CheckSampleState(KeyedStateBackend& backend, bool ttl_live = true);
// The operator list states WriteSampleState wrote for `op`, as
// "name/mode/escaped values..." lines, sorted.
std::vector<std::string> DescribeOperatorStates(KeyedStateBackend& backend,
                                                const OperatorId& op);

// ---- The fixture.

class BackendTest : public ::testing::TestWithParam<BackendParam> {
 protected:
  static constexpr int64_t kStartMillis = 1'000'000;

  void SetUp() override;
  void TearDown() override;

  // Default options with this test's clock.
  StateBackendOptions Options() const;
  // Opens a backend of this test's kind (or of `param`'s) in <dir>/<sub>.
  Result<std::unique_ptr<KeyedStateBackend>> Open(
      const StateBackendOptions& options, std::string_view sub) const;
  Result<std::unique_ptr<KeyedStateBackend>> OpenAs(
      const BackendParam& param, const StateBackendOptions& options,
      std::string_view sub) const;

  // Sets the current key of backend_. Use with ASSERT_NO_FATAL_FAILURE
  // where a wrong key would make the rest meaningless.
  void SetKey(std::string_view key) { ASSERT_OK(backend_->SetCurrentKey(key)); }

  KeyedStateBackend& kv() { return *backend_; }

  testutil::TestDir dir_;
  std::shared_ptr<ManualClock> clock_;
  std::unique_ptr<KeyedStateBackend> backend_;
  const OperatorId op1_ = OperatorId::FromUid("conformance/op-1");
  const OperatorId op2_ = OperatorId::FromUid("conformance/op-2");
};

}  // namespace conformance
}  // namespace weir
