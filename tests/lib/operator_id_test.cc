// SPDX-License-Identifier: Apache-2.0
#include <set>
#include <string>
#include <unordered_set>

#include <gtest/gtest.h>

#include <weir/operator_id.h>

namespace weir {
namespace {

TEST(OperatorId, FromUidIsDeterministic) {
  EXPECT_EQ(OperatorId::FromUid("source"), OperatorId::FromUid("source"));
  // XXH3-128 of the uid, canonical byte order (`xxhsum -H128`).
  EXPECT_EQ(OperatorId::FromUid("source").ToHex(),
            "e836c87d821f68cda6423e2e23454dca");
  EXPECT_EQ(OperatorId::FromUid("").ToHex(),
            "99aa06d3014798d86001c324468d497f");
}

TEST(OperatorId, FromUidDiffersByUid) {
  std::set<OperatorId> ids;
  for (const char* uid :
       {"source", "Source", "source ", "sink", "map-1", "map-2", ""}) {
    EXPECT_TRUE(ids.insert(OperatorId::FromUid(uid)).second) << uid;
  }
  EXPECT_NE(OperatorId::FromUid("a"), OperatorId());
}

TEST(OperatorId, ToHexIs32LowerCaseDigits) {
  const std::string hex = OperatorId::FromUid("window").ToHex();
  EXPECT_EQ(hex.size(), 32u);
  EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos)
      << hex;
  EXPECT_EQ(OperatorId().ToHex(), std::string(32, '0'));
}

TEST(OperatorId, FromHexRoundTrip) {
  for (const char* uid : {"source", "sink", "x"}) {
    const OperatorId id = OperatorId::FromUid(uid);
    Result<OperatorId> parsed = OperatorId::FromHex(id.ToHex());
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(*parsed, id);
  }
  Result<OperatorId> upper =
      OperatorId::FromHex("E836C87D821F68CDA6423E2E23454DCA");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(*upper, OperatorId::FromUid("source"));
}

TEST(OperatorId, FromHexRejectsBadInput) {
  const std::string good = OperatorId::FromUid("source").ToHex();
  std::string non_hex = good;
  non_hex[0] = 'g';
  std::string dash = good;
  dash[31] = '-';
  // Built by appending: `"0x" + std::string` trips GCC 12's -Wrestrict at -O3.
  std::string prefixed = "0x";
  prefixed += good.substr(2);
  for (const std::string& bad :
       {std::string(), good.substr(0, 31), good.substr(0, 30), good + "0",
        good + "00", non_hex, dash, prefixed, std::string(32, ' ')}) {
    Result<OperatorId> parsed = OperatorId::FromHex(bad);
    ASSERT_FALSE(parsed.ok()) << "'" << bad << "'";
    EXPECT_TRUE(parsed.status().IsInvalidArgument())
        << parsed.status().ToString();
    EXPECT_NE(parsed.status().message().find("32 hex digits"),
              std::string::npos);
  }
}

TEST(OperatorId, BytesRoundTrip) {
  const OperatorId id = OperatorId::FromUid("source");
  EXPECT_EQ(id.bytes().size(), OperatorId::kSize);
  EXPECT_EQ(OperatorId::FromBytes(id.bytes()), id);
}

TEST(OperatorId, OrdersByBytesAndHashes) {
  std::string low(32, '0');
  low[31] = '1';
  std::string high(32, '0');
  high[0] = '1';
  const OperatorId a = OperatorId::FromHex(low).value();
  const OperatorId b = OperatorId::FromHex(high).value();
  EXPECT_LT(OperatorId(), a);
  EXPECT_LT(a, b);
  std::unordered_set<OperatorId> set = {a, b, a};
  EXPECT_EQ(set.size(), 2u);
}

}  // namespace
}  // namespace weir
