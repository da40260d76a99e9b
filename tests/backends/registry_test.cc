// SPDX-License-Identifier: Apache-2.0
//
// Conformance: the checks made when a state is opened (type, TTL,
// serializer versions, names, state-id collisions) and lazy migration of
// values written by an older serializer.
#include <charconv>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "backends/common/state_registry.h"
#include "tests/backends/backend_fixture.h"

namespace weir::conformance {
namespace {

using ::testing::AllOf;

// An int64 serializer whose format changed: version 1 wrote decimal text,
// version 2 writes 8 big-endian bytes and still reads version 1. Records
// the versions Deserialize was given.
template <uint32_t V>
struct EvolvingIntSerializer {
  static constexpr uint32_t kVersion = V;
  std::shared_ptr<std::vector<uint32_t>> seen =
      std::make_shared<std::vector<uint32_t>>();

  void Serialize(const int64_t& v, std::string* out) const {
    if constexpr (V == 1) {
      out->append(std::to_string(v));
    } else {
      Serializer<int64_t>().Serialize(v, out);
    }
  }
  Status Deserialize(uint32_t version, std::string_view in,
                     int64_t* out) const {
    seen->push_back(version);
    if (version == 1) {
      auto [end, ec] = std::from_chars(in.data(), in.data() + in.size(), *out);
      if (ec != std::errc() || end != in.data() + in.size()) {
        return Status::Corruption("not a version-1 integer");
      }
      return Status::OK();
    }
    return Serializer<int64_t>().Deserialize(version, in, out);
  }
};
using IntV1 = EvolvingIntSerializer<1>;
using IntV2 = EvolvingIntSerializer<2>;

// The built-in int64 format under another version number.
template <uint32_t V>
struct RenumberedIntSerializer : Serializer<int64_t> {
  static constexpr uint32_t kVersion = V;
};

const auto kInvalid = Status::Code::kInvalidArgument;
const auto kNotSupported = Status::Code::kNotSupported;

TEST_P(BackendTest, ReopeningWithAnotherTypeIsInvalid) {
  ASSERT_OK_AND_ASSIGN(
      auto v, GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"s"}));
  ASSERT_OK_AND_ASSIGN(auto l,
                       GetState(kv(), op1_, ListStateDescriptor<int64_t>{"l"}));
  EXPECT_THAT(GetState(kv(), op1_, ListStateDescriptor<int64_t>{"s"}),
              StatusIs(kInvalid, HasSubstr("'s'")));
  EXPECT_THAT(GetState(kv(), op1_, MapStateDescriptor<int64_t, int64_t>{"s"}),
              StatusIs(kInvalid, HasSubstr("'s'")));
  // Same accessor family, another type.
  EXPECT_THAT(
      GetState(kv(), op1_,
               ReducingStateDescriptor<int64_t>{
                   "s", [](const int64_t& a, const int64_t&) { return a; }}),
      StatusIs(kInvalid, HasSubstr("'s'")));
  EXPECT_THAT(GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"l"}),
              StatusIs(kInvalid, HasSubstr("'l'")));
  // The failed opens changed nothing.
  SetKey("k");
  ASSERT_OK(v.Update(1));
  EXPECT_THAT(v.Value(), Holds<int64_t>(1));
  ASSERT_OK(l.Add(2));
  EXPECT_THAT(l.Get(), IsOkAndHolds(ElementsAre(2)));
  EXPECT_THAT(DescribeStates(kv(), op1_),
              ElementsAre(HasSubstr("l type=list"), HasSubstr("s type=value")));
}

TEST_P(BackendTest, TurningTtlOnOrOffIsInvalid) {
  ASSERT_OK(
      GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"plain"}).status());
  ASSERT_OK(
      GetState(kv(), op1_, ListStateDescriptor<int64_t>{"with-ttl", {}, {100}})
          .status());
  EXPECT_THAT(
      GetState(kv(), op1_, ValueStateDescriptor<int64_t>{"plain", {}, {100}}),
      StatusIs(kInvalid, HasSubstr("'plain'")));
  EXPECT_THAT(GetState(kv(), op1_, ListStateDescriptor<int64_t>{"with-ttl"}),
              StatusIs(kInvalid, HasSubstr("'with-ttl'")));
}

TEST_P(BackendTest, OlderSerializerCannotOpenNewerState) {
  {
    ASSERT_OK_AND_ASSIGN(
        auto v1,
        GetState(kv(), op1_, ValueStateDescriptor<int64_t, IntV1>{"v"}));
    SetKey("k");
    ASSERT_OK(v1.Update(1));
  }
  ASSERT_OK_AND_ASSIGN(
      auto v2, GetState(kv(), op1_, ValueStateDescriptor<int64_t, IntV2>{"v"}));
  ASSERT_OK(v2.Update(2));
  EXPECT_THAT(
      GetState(kv(), op1_, ValueStateDescriptor<int64_t, IntV1>{"v"}),
      StatusIs(kNotSupported, AllOf(HasSubstr("'v'"), HasSubstr("version 2"),
                                    HasSubstr("version 1"))));
  EXPECT_THAT(DescribeStates(kv(), op1_), ElementsAre(HasSubstr("value_v=2")));
  EXPECT_THAT(v2.Value(), Holds<int64_t>(2));
}

TEST_P(BackendTest, NewerSerializerReadsOlderValues) {
  ASSERT_OK_AND_ASSIGN(
      auto v1, GetState(kv(), op1_, ValueStateDescriptor<int64_t, IntV1>{"v"}));
  ASSERT_OK_AND_ASSIGN(
      auto l1, GetState(kv(), op1_, ListStateDescriptor<int64_t, IntV1>{"l"}));
  ASSERT_OK_AND_ASSIGN(
      auto m1,
      GetState(kv(), op1_,
               MapStateDescriptor<int64_t, int64_t, Serializer<int64_t>, IntV1>{
                   "m"}));
  SetKey("old");
  ASSERT_OK(v1.Update(-15));
  ASSERT_OK(l1.Add(1));
  ASSERT_OK(m1.Put(7, 70));

  IntV2 reader;
  ValueStateDescriptor<int64_t, IntV2> vd{"v", reader};
  ASSERT_OK_AND_ASSIGN(auto v2, GetState(kv(), op1_, vd));
  ASSERT_OK_AND_ASSIGN(
      auto l2,
      GetState(kv(), op1_, ListStateDescriptor<int64_t, IntV2>{"l", reader}));
  ASSERT_OK_AND_ASSIGN(
      auto m2,
      GetState(kv(), op1_,
               MapStateDescriptor<int64_t, int64_t, Serializer<int64_t>, IntV2>{
                   "m", {}, reader}));
  EXPECT_THAT(v2.Value(), Holds<int64_t>(-15));
  EXPECT_THAT(*reader.seen, ElementsAre(1u))
      << "Deserialize is given the writer's version";
  ASSERT_OK(l2.Add(2));  // a list may mix versions
  EXPECT_THAT(l2.Get(), IsOkAndHolds(ElementsAre(1, 2)));
  EXPECT_THAT(m2.Get(7), Holds<int64_t>(70));
  EXPECT_THAT(*reader.seen, ElementsAre(1u, 1u, 2u, 1u));

  reader.seen->clear();
  SetKey("new");
  ASSERT_OK(v2.Update(99));
  EXPECT_THAT(v2.Value(), Holds<int64_t>(99));
  EXPECT_THAT(*reader.seen, ElementsAre(2u));
  EXPECT_THAT(DescribeStates(kv(), op1_),
              ElementsAre(HasSubstr("l type=list value_v=2"),
                          HasSubstr("m type=map value_v=2"),
                          HasSubstr("v type=value value_v=2")));
}

TEST_P(BackendTest, UnknownValueVersionIsNotSupported) {
  ASSERT_OK_AND_ASSIGN(
      RawValueState * raw,
      kv().GetValueState(op1_, RawDescriptor("v", StateType::kValue)));
  ASSERT_OK_AND_ASSIGN(
      RawListState * raw_list,
      kv().GetListState(op1_, RawDescriptor("l", StateType::kList)));
  SetKey("k");
  ASSERT_OK(raw->Put("", std::string("\x09payload")));
  ASSERT_OK(raw_list->Add("", std::string("\x01\x02")));
  ASSERT_OK(raw_list->Add("", std::string("\x7f")));
  ASSERT_OK_AND_ASSIGN(
      auto v, GetState(kv(), op1_, ValueStateDescriptor<std::string>{"v"}));
  EXPECT_THAT(
      v.Value(),
      StatusIs(kNotSupported, AllOf(HasSubstr("'v'"), HasSubstr("version 9"))));
  ASSERT_OK_AND_ASSIGN(
      auto l, GetState(kv(), op1_, ListStateDescriptor<std::string>{"l"}));
  EXPECT_THAT(l.Get(), StatusIs(kNotSupported, HasSubstr("version 127")));
  // No header at all is corruption.
  ASSERT_OK(raw->Put("", ""));
  EXPECT_THAT(v.Value(), StatusIs(Status::Code::kCorruption, HasSubstr("'v'")));
}

TEST_P(BackendTest, MapKeySerializerVersionCannotChange) {
  ASSERT_OK_AND_ASSIGN(
      auto m, GetState(kv(), op1_, MapStateDescriptor<int64_t, int64_t>{"m"}));
  SetKey("k");
  ASSERT_OK(m.Put(1, 1));
  using KeyV2 = RenumberedIntSerializer<2>;
  EXPECT_THAT(
      (GetState(kv(), op1_, MapStateDescriptor<int64_t, int64_t, KeyV2>{"m"})),
      StatusIs(kNotSupported, AllOf(HasSubstr("'m'"), HasSubstr("version 1"),
                                    HasSubstr("version 2"))));
  ASSERT_OK_AND_ASSIGN(
      auto m2, (GetState(kv(), op1_,
                         MapStateDescriptor<int64_t, int64_t, KeyV2>{"m2"})));
  EXPECT_THAT(
      (GetState(kv(), op1_, MapStateDescriptor<int64_t, int64_t>{"m2"})),
      StatusIs(kNotSupported, HasSubstr("'m2'")));
  EXPECT_THAT(m.Get(1), Holds<int64_t>(1));
}

// Two names whose 32-bit state ids collide, found by brute force. With n
// names about n^2 / 2^33 pairs collide, so 200k names almost surely hold one;
// the search goes on (deterministically) until it finds one.
std::pair<std::string, std::string> CollidingStateNames() {
  std::unordered_map<uint32_t, std::string> by_id;
  by_id.reserve(1 << 18);
  for (int i = 0; i < 4'000'000; ++i) {
    std::string name = "state-" + std::to_string(i);
    auto [it, inserted] = by_id.emplace(internal::StateIdForName(name), name);
    if (!inserted) return {it->second, name};
  }
  return {};
}

TEST_P(BackendTest, CollidingStateIdsAreInvalid) {
  static const std::pair<std::string, std::string> names =
      CollidingStateNames();
  const auto& [first, second] = names;
  ASSERT_FALSE(first.empty()) << "no colliding pair found";
  ASSERT_NE(first, second);
  ASSERT_EQ(internal::StateIdForName(first), internal::StateIdForName(second));

  ASSERT_OK_AND_ASSIGN(
      auto a, GetState(kv(), op1_, ValueStateDescriptor<int64_t>{first}));
  EXPECT_THAT(GetState(kv(), op1_, ListStateDescriptor<int64_t>{second}),
              StatusIs(kInvalid, AllOf(HasSubstr(first), HasSubstr(second))));
  EXPECT_THAT(GetState(kv(), op1_, ValueStateDescriptor<int64_t>{second}),
              StatusIs(kInvalid, AllOf(HasSubstr(first), HasSubstr(second))));
  // The first state is unharmed, and the rejected one was not registered.
  SetKey("k");
  ASSERT_OK(a.Update(5));
  EXPECT_THAT(a.Value(), Holds<int64_t>(5));
  EXPECT_THAT(DescribeStates(kv(), op1_),
              ElementsAre(HasSubstr(first + " type=value")));
  // State ids are scoped to an operator.
  ASSERT_OK_AND_ASSIGN(
      auto b, GetState(kv(), op2_, ValueStateDescriptor<int64_t>{second}));
  ASSERT_OK(b.Update(6));
  EXPECT_THAT(a.Value(), Holds<int64_t>(5));
  EXPECT_THAT(b.Value(), Holds<int64_t>(6));
}

TEST_P(BackendTest, EmptyOrReservedStateNameIsInvalid) {
  EXPECT_THAT(GetState(kv(), op1_, ValueStateDescriptor<int64_t>{""}),
              StatusIs(kInvalid));
  EXPECT_THAT(GetState(kv(), op1_, ListStateDescriptor<int64_t>{""}),
              StatusIs(kInvalid));
  EXPECT_THAT((GetState(kv(), op1_, MapStateDescriptor<int64_t, int64_t>{""})),
              StatusIs(kInvalid));
  // Names starting with NUL are reserved for timers.
  EXPECT_THAT(GetState(kv(), op1_,
                       ValueStateDescriptor<int64_t>{
                           std::string("\0timers/event", 13)}),
              StatusIs(kInvalid));
  EXPECT_THAT(DescribeStates(kv(), op1_), IsEmpty());
}

TEST_P(BackendTest, MalformedRawDescriptorIsInvalid) {
  // An accessor of the wrong family.
  EXPECT_THAT(kv().GetListState(op1_, RawDescriptor("a", StateType::kValue)),
              StatusIs(kInvalid));
  EXPECT_THAT(kv().GetValueState(op1_, RawDescriptor("b", StateType::kMap)),
              StatusIs(kInvalid));
  EXPECT_THAT(kv().GetMapState(op1_, RawDescriptor("c", StateType::kReducing)),
              StatusIs(kInvalid));
  // Serializer versions start at 1.
  EXPECT_THAT(
      kv().GetValueState(op1_, RawDescriptor("d", StateType::kValue, 0)),
      StatusIs(kInvalid));
  RawStateDescriptor map = RawDescriptor("e", StateType::kMap);
  map.user_key_serializer_version = 0;
  EXPECT_THAT(kv().GetMapState(op1_, map), StatusIs(kInvalid));
  EXPECT_THAT(
      kv().GetValueState(op1_, RawDescriptor("f", StateType::kValue, 1, {-5})),
      StatusIs(kInvalid));
  EXPECT_THAT(DescribeStates(kv(), op1_), IsEmpty());
}

}  // namespace
}  // namespace weir::conformance
