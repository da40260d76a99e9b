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

TEST(Text, MemorySizeUnits) {
  EXPECT_THAT(ParseMemorySize("0"), IsOkAndHolds(0));
  EXPECT_THAT(ParseMemorySize("4096"), IsOkAndHolds(4096));
  EXPECT_THAT(ParseMemorySize("100b"), IsOkAndHolds(100));
  EXPECT_THAT(ParseMemorySize("8kb"), IsOkAndHolds(8 << 10));
  EXPECT_THAT(ParseMemorySize("8K"), IsOkAndHolds(8 << 10));
  EXPECT_THAT(ParseMemorySize("256 mb"), IsOkAndHolds(256 << 20));
  EXPECT_THAT(ParseMemorySize("1g"), IsOkAndHolds(int64_t{1} << 30));
  EXPECT_THAT(ParseMemorySize("2TB"), IsOkAndHolds(int64_t{2} << 40));
}

TEST(Text, BadMemorySizes) {
  for (const char* bad : {"", "5x", "-5mb", "mb", "1.5gb", "5 megabytes"}) {
    EXPECT_THAT(ParseMemorySize(bad),
                StatusIs(Status::Code::kInvalidArgument,
                         HasSubstr("invalid memory size")))
        << bad;
  }
  EXPECT_THAT(ParseMemorySize("99999999999tb"),
              StatusIs(Status::Code::kInvalidArgument, HasSubstr("too large")));
}

TEST(Text, FormatMemorySize) {
  EXPECT_EQ(FormatMemorySize(0), "0");
  EXPECT_EQ(FormatMemorySize(100), "100b");
  EXPECT_EQ(FormatMemorySize(8 << 10), "8kb");
  EXPECT_EQ(FormatMemorySize((8 << 10) + 1), "8193b");
  EXPECT_EQ(FormatMemorySize(256 << 20), "256mb");
  EXPECT_EQ(FormatMemorySize(int64_t{3} << 30), "3gb");
  EXPECT_EQ(FormatMemorySize(int64_t{1} << 40), "1tb");
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
