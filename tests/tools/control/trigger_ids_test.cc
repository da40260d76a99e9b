// SPDX-License-Identifier: Apache-2.0
// Trigger ids: their form, the triggerId field, and the registry that makes
// triggers idempotent.
#include "tools/control/trigger_ids.h"

#include <atomic>
#include <chrono>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testutil/status_matchers.h"

namespace weir::tools {
namespace {

using ::testing::HasSubstr;
using testutil::StatusIs;
using json = nlohmann::json;

TEST(TriggerIds, NewIdsAre32HexDigitsAndDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string id = NewTriggerId();
    EXPECT_TRUE(IsTriggerId(id)) << id;
    EXPECT_EQ(id, NormalizeTriggerId(id));
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(TriggerIds, FormAndField) {
  EXPECT_TRUE(IsTriggerId("0123456789abcdefABCDEF0123456789"));
  EXPECT_FALSE(IsTriggerId("0123456789abcdef0123456789abcde"));
  EXPECT_FALSE(IsTriggerId("0123456789abcdef0123456789abcdef0"));
  EXPECT_FALSE(IsTriggerId("0123456789abcdef0123456789abcdeg"));
  EXPECT_FALSE(IsTriggerId(""));
  EXPECT_EQ(NormalizeTriggerId("ABCDEFabcdef"), "abcdefabcdef");

  ASSERT_OK_AND_ASSIGN(std::optional<std::string> id,
                       TriggerIdField(json::object()));
  EXPECT_EQ(id, std::nullopt);
  ASSERT_OK_AND_ASSIGN(id,
                       TriggerIdField(json::parse(R"({"triggerId":null})")));
  EXPECT_EQ(id, std::nullopt);
  ASSERT_OK_AND_ASSIGN(
      id, TriggerIdField(json::parse(
              R"({"triggerId":"FEDCBA9876543210FEDCBA9876543210"})")));
  EXPECT_EQ(id, "fedcba9876543210fedcba9876543210");
  EXPECT_THAT(TriggerIdField(json::parse(R"({"triggerId":5})")).status(),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("triggerId is not a string")));
  EXPECT_THAT(TriggerIdField(json::parse(R"({"triggerId":"abc"})")).status(),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("triggerId 'abc' is not a trigger id")));
  // A long value is quoted in part.
  const std::string long_value(1000, 'x');
  Result<std::optional<std::string>> bad =
      TriggerIdField(json{{"triggerId", long_value}});
  ASSERT_FALSE(bad.ok());
  EXPECT_LT(bad.status().message().size(), 200u);
}

TEST(TriggerRegistry, ASecondTriggerWithTheSameKeyAnswersTheFirstsId) {
  TriggerRegistry registry;
  int calls = 0;
  auto trigger = [&calls]() -> Result<int64_t> { return ++calls * 10; };
  EXPECT_EQ(registry.Find("a"), std::nullopt);
  EXPECT_EQ(registry.Trigger("a", trigger).value_or(0), 10);
  EXPECT_EQ(registry.Trigger("a", trigger).value_or(0), 10);
  EXPECT_EQ(registry.Find("a"), 10);
  EXPECT_EQ(registry.Trigger("b", trigger).value_or(0), 20);
  EXPECT_EQ(calls, 2);
}

TEST(TriggerRegistry, AFailedTriggerIsNotRemembered) {
  TriggerRegistry registry;
  EXPECT_THAT(registry.Trigger(
                  "a", [] { return Result<int64_t>(Status::IOError("no")); }),
              StatusIs(Status::Code::kIOError, HasSubstr("no")));
  EXPECT_EQ(registry.Find("a"), std::nullopt);
  EXPECT_EQ(
      registry.Trigger("a", [] { return Result<int64_t>(7); }).value_or(0), 7);
  EXPECT_EQ(registry.Find("a"), 7);
  // A trigger that throws fails; nothing is left pending.
  EXPECT_THAT(
      registry.Trigger(
          "b", []() -> Result<int64_t> { throw std::runtime_error("bad"); }),
      StatusIs(Status::Code::kAborted, HasSubstr("bad")));
  EXPECT_EQ(
      registry.Trigger("b", [] { return Result<int64_t>(8); }).value_or(0), 8);
}

TEST(TriggerRegistry, OldKeysAreForgotten) {
  TriggerRegistry registry(/*capacity=*/2);
  for (int64_t i = 1; i <= 3; ++i) {
    ASSERT_OK(registry.Trigger(std::to_string(i),
                               [i] { return Result<int64_t>(i); }));
  }
  EXPECT_EQ(registry.Find("1"), std::nullopt);
  EXPECT_EQ(registry.Find("2"), 2);
  EXPECT_EQ(registry.Find("3"), 3);
}

// Requests with one key while its trigger runs wait for it and get its
// id, or its error; the trigger runs once.
TEST(TriggerRegistry, ConcurrentRequestsWaitForTheRunningTrigger) {
  for (const bool fail : {false, true}) {
    TriggerRegistry registry;
    std::atomic<int> calls{0};
    std::atomic<bool> release{false};
    auto trigger = [&]() -> Result<int64_t> {
      ++calls;
      while (!release.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      if (fail) return Status::FailedPrecondition("not running");
      return 42;
    };
    std::vector<Result<int64_t>> results(4, Status::Aborted("unset"));
    std::vector<std::thread> threads;
    threads.emplace_back([&] { results[0] = registry.Trigger("k", trigger); });
    while (calls.load() == 0) std::this_thread::yield();
    for (int i = 1; i < 4; ++i) {
      threads.emplace_back(
          [&, i] { results[i] = registry.Trigger("k", trigger); });
    }
    // Time for the others to come to the wait.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(registry.Find("k"), std::nullopt);  // not yet known
    release.store(true);
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(calls.load(), 1) << fail;
    for (const Result<int64_t>& r : results) {
      if (fail) {
        EXPECT_THAT(r, StatusIs(Status::Code::kFailedPrecondition));
      } else {
        EXPECT_EQ(r.value_or(0), 42);
      }
    }
  }
}

}  // namespace
}  // namespace weir::tools
