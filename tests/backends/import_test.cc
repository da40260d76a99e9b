// SPDX-License-Identifier: Apache-2.0
//
// Conformance: ImportEntry. Entries listed by ForEachEntry of one backend
// and imported into a fresh backend of any kind (the cross product of all
// backends) reproduce the same state, TTL timestamps and timers included.
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "tests/backends/backend_fixture.h"

namespace weir::conformance {
namespace {

const auto kInvalid = Status::Code::kInvalidArgument;

// Copies every entry of `ops` from `from` into `to`, key group by key group.
void CopyAll(KeyedStateBackend& from, KeyedStateBackend& to,
             const std::vector<OperatorId>& ops) {
  const KeyGroupRange range = from.key_group_range();
  for (const OperatorId& op : ops) {
    for (int kg = range.start; kg <= range.end; ++kg) {
      ASSERT_OK(from.ForEachEntry(
          op, kg, [&](const StateEntry& e) { return to.ImportEntry(op, e); }))
          << "key group " << kg;
    }
  }
}

TEST_P(BackendTest, ImportIntoEveryBackendReproducesTheState) {
  ASSERT_NO_FATAL_FAILURE(WriteSampleState(kv()));
  const std::vector<OperatorId> ops = kv().Operators();
  ASSERT_EQ(ops.size(), 2u);
  std::map<OperatorId, std::vector<DumpedEntry>> dumps;
  for (const OperatorId& op : ops) {
    dumps[op] = Dump(kv(), op);
    ASSERT_FALSE(dumps[op].empty());
  }
  // The timer order every backend must reproduce.
  ASSERT_OK_AND_ASSIGN(auto reference,
                       OpenAs(MemoryBackendParam(), Options(), "reference"));
  ASSERT_NO_FATAL_FAILURE(WriteSampleState(*reference));
  const std::vector<std::string> timers = PopAllTimers(*reference, ops);
  ASSERT_EQ(timers.size(), 40u + 20u + 40u);

  for (const BackendParam& target : AllBackends()) {
    SCOPED_TRACE(GetParam().name + " into " + target.name);
    clock_->SetMillis(kStartMillis);
    ASSERT_OK_AND_ASSIGN(auto b,
                         OpenAs(target, Options(), "import-" + target.name));
    ASSERT_NO_FATAL_FAILURE(CopyAll(kv(), *b, ops));
    EXPECT_EQ(b->Operators(), ops);
    for (const OperatorId& op : ops) {
      EXPECT_EQ(DescribeStates(*b, op), DescribeStates(kv(), op));
      ExpectSameEntries(Dump(*b, op), dumps[op]);
    }
    ASSERT_NO_FATAL_FAILURE(CheckSampleState(*b));
    EXPECT_EQ(PopAllTimers(*b, ops), timers);
    // TTL timestamps were kept: the entries expire when the originals do.
    clock_->AdvanceMillis(kSampleTtlMs - 1);
    ASSERT_NO_FATAL_FAILURE(CheckSampleState(*b, /*ttl_live=*/true));
    clock_->AdvanceMillis(1);
    ASSERT_NO_FATAL_FAILURE(CheckSampleState(*b, /*ttl_live=*/false));
  }
  clock_->SetMillis(kStartMillis);
  EXPECT_EQ(PopAllTimers(kv(), ops), timers);
}

TEST_P(BackendTest, ImportKeepsListOrderAndOverwritesValues) {
  ASSERT_OK_AND_ASSIGN(auto l,
                       GetState(kv(), op1_, ListStateDescriptor<int64_t>{"l"}));
  ASSERT_OK_AND_ASSIGN(
      auto v, GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"v"}));
  SetKey("k");
  ASSERT_OK(l.AddAll({5, 3, 9, 1}));
  ASSERT_OK(v.Update(7));
  ASSERT_OK_AND_ASSIGN(auto b, Open(Options(), "target"));
  ASSERT_OK_AND_ASSIGN(auto bv,
                       GetState(*b, op1_, ValueStateDescriptor<int64_t>{"v"}));
  ASSERT_OK(b->SetCurrentKey("k"));
  ASSERT_OK(bv.Update(100));  // overwritten by the import
  ASSERT_NO_FATAL_FAILURE(CopyAll(kv(), *b, {op1_}));
  ASSERT_OK_AND_ASSIGN(auto bl,
                       GetState(*b, op1_, ListStateDescriptor<int64_t>{"l"}));
  ASSERT_OK(b->SetCurrentKey("k"));
  EXPECT_THAT(bl.Get(), IsOkAndHolds(ElementsAre(5, 3, 9, 1)));
  EXPECT_THAT(bv.Value(), Holds<int64_t>(7));
}

TEST_P(BackendTest, ImportOutsideTheKeyGroupRangeIsInvalid) {
  StateBackendOptions options = Options();
  options.key_group_range = KeyGroupRangeForSubtask(128, 4, 1);
  ASSERT_OK_AND_ASSIGN(auto b, Open(options, "subtask"));
  std::string inside, outside;
  for (int i = 0; inside.empty() || outside.empty(); ++i) {
    std::string key = "key-" + std::to_string(i);
    (options.key_group_range.Contains(KeyGroupForKey(key, 128)) ? inside
                                                                : outside) =
        key;
  }
  const RawStateDescriptor d = RawDescriptor("v", StateType::kValue);
  const std::string bytes = Encoded<int64_t>(3);
  StateEntry value;
  value.kind = StateEntry::Kind::kValue;
  value.state = &d;
  value.value = bytes;
  StateEntry timer;
  timer.kind = StateEntry::Kind::kTimer;
  timer.timer_domain = TimeDomain::kProcessingTime;
  timer.timestamp = 42;

  value.key = outside;
  timer.key = outside;
  EXPECT_THAT(b->ImportEntry(op1_, value), StatusIs(kInvalid));
  EXPECT_THAT(b->ImportEntry(op1_, timer), StatusIs(kInvalid));
  EXPECT_THAT(b->NextTimerTimestamp(op1_, TimeDomain::kProcessingTime),
              HoldsNothing());

  value.key = inside;
  timer.key = inside;
  ASSERT_OK(b->ImportEntry(op1_, value));
  ASSERT_OK(b->ImportEntry(op1_, timer));
  ASSERT_OK_AND_ASSIGN(auto v,
                       GetState(*b, op1_, ValueStateDescriptor<int64_t>{"v"}));
  ASSERT_OK(b->SetCurrentKey(inside));
  EXPECT_THAT(v.Value(), Holds<int64_t>(3));
  ASSERT_OK_AND_ASSIGN(auto popped,
                       b->PopTimer(op1_, TimeDomain::kProcessingTime,
                                   std::numeric_limits<int64_t>::max()));
  EXPECT_EQ(popped, (Timer{42, inside, ""}));
}

TEST_P(BackendTest, ImportChecksTheDescriptor) {
  ASSERT_OK(GetState(kv(), op1_, ListStateDescriptor<int64_t>{"s"}).status());
  const RawStateDescriptor d = RawDescriptor("s", StateType::kValue);
  const std::string bytes = Encoded<int64_t>(3);
  StateEntry entry;
  entry.kind = StateEntry::Kind::kValue;
  entry.state = &d;
  entry.key = "k";
  entry.value = bytes;
  EXPECT_THAT(kv().ImportEntry(op1_, entry),
              StatusIs(kInvalid, HasSubstr("'s'")));
}

}  // namespace
}  // namespace weir::conformance
