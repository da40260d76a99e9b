// SPDX-License-Identifier: Apache-2.0
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/plan.h"
#include "tests/engine/core/test_functions.h"
#include "tests/testutil/status_matchers.h"

namespace weir::enginetest {
namespace {

using ::testing::HasSubstr;
using ::weir::testutil::StatusIs;

// source -> [extra map] -> filter (uid or not) -> keyed reduce -> sink
JobBuilder Program(bool extra_map, bool filter_uid) {
  JobBuilder b("ids");
  DataStream<Event> s = b.AddSource<Event>(Events({}), "source");
  if (extra_map) s = s.Map([](const Event& e) { return e; });
  auto f = s.Filter([](const Event&) { return true; });
  if (filter_uid) f.Uid("the-filter");
  auto r = f.KeyBy([](const Event& e) {
              return e.key;
            }).Reduce([](const Event& a, const Event&) { return a; });
  r.Uid("reduce");
  r.Map([](const Event& e) { return e.value; })
      .SinkTo(std::make_unique<CollectingSink<int64_t>>(
          std::make_shared<Collected<int64_t>>()));
  return b;
}

TEST(OperatorIdTest, SameProgramSameIds) {
  ASSERT_OK_AND_ASSIGN(
      auto a, engine::AssignOperatorIds(Program(false, false).graph()));
  ASSERT_OK_AND_ASSIGN(
      auto b, engine::AssignOperatorIds(Program(false, false).graph()));
  EXPECT_EQ(a, b);
  // All distinct.
  std::set<OperatorId> unique(a.begin(), a.end());
  EXPECT_EQ(unique.size(), a.size());
}

TEST(OperatorIdTest, UidIsXxh3OfTheUid) {
  ASSERT_OK_AND_ASSIGN(auto ids,
                       engine::AssignOperatorIds(Program(false, true).graph()));
  EXPECT_EQ(ids[1], OperatorId::FromUid("the-filter"));
  EXPECT_EQ(ids[2], OperatorId::FromUid("reduce"));
}

TEST(OperatorIdTest, UpstreamStatelessOperatorChangesOnlyGeneratedIds) {
  ASSERT_OK_AND_ASSIGN(auto before,
                       engine::AssignOperatorIds(Program(false, true).graph()));
  ASSERT_OK_AND_ASSIGN(auto after,
                       engine::AssignOperatorIds(Program(true, true).graph()));
  // before: source, filter, reduce, map, sink
  // after:  source, map, filter, reduce, map, sink
  ASSERT_EQ(before.size() + 1, after.size());
  EXPECT_EQ(before[1], after[2]);  // uid 'the-filter'
  EXPECT_EQ(before[2], after[3]);  // uid 'reduce'
  EXPECT_NE(before[3], after[4]);  // generated: the map after the reduce
  EXPECT_NE(before[4], after[5]);  // generated: the sink

  // Without uids, the filter's generated id changes too.
  ASSERT_OK_AND_ASSIGN(
      auto plain, engine::AssignOperatorIds(Program(false, false).graph()));
  ASSERT_OK_AND_ASSIGN(auto plain_extra,
                       engine::AssignOperatorIds(Program(true, false).graph()));
  EXPECT_NE(plain[1], plain_extra[2]);
}

// source -> filter with SetUidHash(hash) -> sink
JobBuilder HashedProgram(std::string hash) {
  JobBuilder b("hashed");
  b.AddSource<Event>(Events({}), "source")
      .Filter([](const Event&) { return true; })
      .SetUidHash(std::move(hash))
      .SinkTo(std::make_unique<CollectingSink<Event>>(
          std::make_shared<Collected<Event>>()));
  return b;
}

TEST(OperatorIdTest, UidHashIsTakenAsIs) {
  const std::string hex = "00112233445566778899aabbccddeeff";
  ASSERT_OK_AND_ASSIGN(auto ids,
                       engine::AssignOperatorIds(HashedProgram(hex).graph()));
  EXPECT_EQ(ids[1].ToHex(), hex);

  EXPECT_THAT(engine::AssignOperatorIds(HashedProgram("xyz").graph()),
              StatusIs(Status::Code::kInvalidArgument, HasSubstr("xyz")));
}

TEST(OperatorIdTest, DuplicateUidIsABuildError) {
  JobBuilder b("dup");
  auto s = b.AddSource<Event>(Events({}), "source");
  s.Uid("same");
  s.Map([](const Event& e) { return e; })
      .Uid("same")
      .SinkTo(std::make_unique<CollectingSink<Event>>(
          std::make_shared<Collected<Event>>()));
  EXPECT_THAT(b.Build(), StatusIs(Status::Code::kInvalidArgument,
                                  HasSubstr("two operators have uid 'same'")));
}

TEST(PlanTest, ChainsForwardEdgesOfEqualParallelism) {
  JobBuilder b("chain");
  b.SetParallelism(2);
  b.AddSource<Event>(Events({}), "source")
      .Map([](const Event& e) { return e; })
      .Filter([](const Event&) { return true; })
      .KeyBy([](const Event& e) { return e.key; })
      .Reduce([](const Event& a, const Event&) { return a; })
      .SinkTo(CollectInto(std::make_shared<Collected<Event>>()));
  ASSERT_OK_AND_ASSIGN(engine::Plan plan, engine::PlanGraph(b.graph()));
  ASSERT_EQ(plan.vertices.size(), 2u);
  EXPECT_EQ(plan.vertices[0].name, "source -> Map -> Filter");
  EXPECT_EQ(plan.vertices[1].name, "Reduce -> Sink");
  EXPECT_EQ(plan.vertices[1].parallelism, 2);
}

TEST(PlanTest, SingleFunctionObjectNeedsParallelismOne) {
  JobBuilder b("single");
  b.SetParallelism(2);
  b.AddSource<Event>(Events({}), "source")
      .SinkTo(std::make_unique<CollectingSink<Event>>(
          std::make_shared<Collected<Event>>()))
      .Name("the-sink");
  EXPECT_THAT(b.Build(), StatusIs(Status::Code::kInvalidArgument,
                                  HasSubstr("pass a factory")));
}

TEST(PlanTest, ParallelismAboveMaxParallelismIsRefused) {
  JobBuilder b("too-wide");
  b.SetParallelism(8).SetMaxParallelism(4);
  b.AddSource<Event>(Events({}), "source")
      .SinkTo(CollectInto(std::make_shared<Collected<Event>>()));
  EXPECT_THAT(b.Build(), StatusIs(Status::Code::kInvalidArgument,
                                  HasSubstr("exceeds the max parallelism 4")));
}

}  // namespace
}  // namespace weir::enginetest
