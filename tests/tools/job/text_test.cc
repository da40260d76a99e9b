// SPDX-License-Identifier: Apache-2.0
#include "tools/job/text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testutil/status_matchers.h"

namespace weir::tools {
namespace {

using testing::HasSubstr;
using testutil::IsOkAndHolds;
using testutil::StatusIs;

TEST(Text, ParseInt64) {
  EXPECT_EQ(ParseInt64("42"), 42);
  EXPECT_EQ(ParseInt64("-7"), -7);
  EXPECT_EQ(ParseInt64("+7"), 7);
  EXPECT_EQ(ParseInt64(""), std::nullopt);
  EXPECT_EQ(ParseInt64("4x"), std::nullopt);
  EXPECT_EQ(ParseInt64("+-4"), std::nullopt);
  EXPECT_EQ(ParseInt64("99999999999999999999"), std::nullopt);
}

TEST(Text, ParseBool) {
  EXPECT_EQ(ParseBool("TRUE"), true);
  EXPECT_EQ(ParseBool("no"), false);
  EXPECT_EQ(ParseBool("maybe"), std::nullopt);
}

TEST(Text, DurationUnits) {
  EXPECT_THAT(ParseDurationMs("250"), IsOkAndHolds(250));
  EXPECT_THAT(ParseDurationMs("500ms"), IsOkAndHolds(500));
  EXPECT_THAT(ParseDurationMs("5s"), IsOkAndHolds(5000));
  EXPECT_THAT(ParseDurationMs("1m"), IsOkAndHolds(60000));
  EXPECT_THAT(ParseDurationMs("2 h"), IsOkAndHolds(7200000));
}

TEST(Text, BadDurations) {
  for (const char* bad : {"", "5x", "-5s", "s", "1.5s", "5 sec"}) {
    EXPECT_THAT(ParseDurationMs(bad), StatusIs(Status::Code::kInvalidArgument,
                                               HasSubstr("invalid duration")))
        << bad;
  }
  EXPECT_THAT(ParseDurationMs("9999999999999999h"),
              StatusIs(Status::Code::kInvalidArgument, HasSubstr("too large")));
}

TEST(Text, FormatDuration) {
  EXPECT_EQ(FormatDurationMs(0), "0");
  EXPECT_EQ(FormatDurationMs(200), "200ms");
  EXPECT_EQ(FormatDurationMs(5000), "5s");
  EXPECT_EQ(FormatDurationMs(120000), "2m");
  EXPECT_EQ(FormatDurationMs(3600000), "1h");
}

TEST(Text, ClosestMatch) {
  const std::vector<std::string> words = {"rest.port", "rest.address", "field"};
  EXPECT_EQ(ClosestMatch("rest.prot", words), "rest.port");
  EXPECT_EQ(ClosestMatch("fiel", words), "field");
  EXPECT_EQ(ClosestMatch("banana", words), std::nullopt);
  EXPECT_EQ(ClosestMatch("ab", {"xy"}), std::nullopt);
}

}  // namespace
}  // namespace weir::tools
