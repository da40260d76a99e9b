// SPDX-License-Identifier: Apache-2.0
#include "lib/coding.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace weir {
namespace {

TEST(Coding, Fixed32IsLittleEndian) {
  std::string s;
  PutFixed32(&s, 0x01020304);
  EXPECT_EQ(s, std::string("\x04\x03\x02\x01", 4));
  EXPECT_EQ(DecodeFixed32(s.data()), 0x01020304u);
}

TEST(Coding, Fixed64IsLittleEndian) {
  std::string s;
  PutFixed64(&s, 0x0102030405060708);
  EXPECT_EQ(s, std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8));
  EXPECT_EQ(DecodeFixed64(s.data()), 0x0102030405060708u);
}

TEST(Coding, FixedBigEndianLayout) {
  std::string s;
  PutFixed16BE(&s, 0x0102);
  PutFixed32BE(&s, 0x03040506);
  PutFixed64BE(&s, 0x0708090a0b0c0d0e);
  EXPECT_EQ(s, std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c"
                           "\x0d\x0e",
                           14));
  EXPECT_EQ(DecodeFixed16BE(s.data()), 0x0102);
}

TEST(Coding, FixedRoundTrip) {
  const std::vector<uint64_t> values = {0,
                                        1,
                                        0x7f,
                                        0x80,
                                        0xff,
                                        0x100,
                                        0xffff,
                                        0x10000,
                                        0xffffffff,
                                        uint64_t{1} << 32,
                                        std::numeric_limits<uint64_t>::max()};
  std::string s;
  for (uint64_t v : values) {
    PutFixed16BE(&s, static_cast<uint16_t>(v));
    PutFixed32(&s, static_cast<uint32_t>(v));
    PutFixed32BE(&s, static_cast<uint32_t>(v));
    PutFixed64(&s, v);
    PutFixed64BE(&s, v);
  }
  std::string_view in = s;
  for (uint64_t v : values) {
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;
    ASSERT_TRUE(GetFixed16BE(&in, &v16));
    EXPECT_EQ(v16, static_cast<uint16_t>(v));
    ASSERT_TRUE(GetFixed32(&in, &v32));
    EXPECT_EQ(v32, static_cast<uint32_t>(v));
    ASSERT_TRUE(GetFixed32BE(&in, &v32));
    EXPECT_EQ(v32, static_cast<uint32_t>(v));
    ASSERT_TRUE(GetFixed64(&in, &v64));
    EXPECT_EQ(v64, v);
    ASSERT_TRUE(GetFixed64BE(&in, &v64));
    EXPECT_EQ(v64, v);
  }
  EXPECT_TRUE(in.empty());
}

TEST(Coding, FixedRejectsShortInput) {
  std::string_view in("\x01\x02\x03", 3);
  uint16_t v16;
  uint32_t v32;
  uint64_t v64;
  EXPECT_FALSE(GetFixed32(&in, &v32));
  EXPECT_FALSE(GetFixed32BE(&in, &v32));
  EXPECT_FALSE(GetFixed64(&in, &v64));
  EXPECT_FALSE(GetFixed64BE(&in, &v64));
  std::string_view one("\x01", 1);
  EXPECT_FALSE(GetFixed16BE(&one, &v16));
}

TEST(Coding, Varint32RoundTrip) {
  const std::vector<uint32_t> values = {0,
                                        1,
                                        127,
                                        128,
                                        255,
                                        256,
                                        16383,
                                        16384,
                                        (1u << 21) - 1,
                                        1u << 21,
                                        (1u << 28) - 1,
                                        1u << 28,
                                        0xffffffff};
  std::string s;
  for (uint32_t v : values) PutVarint32(&s, v);
  std::string_view in = s;
  for (uint32_t v : values) {
    uint32_t got;
    ASSERT_TRUE(GetVarint32(&in, &got)) << v;
    EXPECT_EQ(got, v);
  }
  EXPECT_TRUE(in.empty());
}

TEST(Coding, Varint64RoundTrip) {
  std::vector<uint64_t> values = {0, 127, 128, 0xffffffff,
                                  std::numeric_limits<uint64_t>::max()};
  for (int shift = 0; shift < 64; ++shift) {
    const uint64_t power = uint64_t{1} << shift;
    values.push_back(power - 1);
    values.push_back(power);
    values.push_back(power + 1);
  }
  std::string s;
  for (uint64_t v : values) PutVarint64(&s, v);
  std::string_view in = s;
  for (uint64_t v : values) {
    const size_t before = in.size();
    uint64_t got;
    ASSERT_TRUE(GetVarint64(&in, &got)) << v;
    EXPECT_EQ(got, v);
    EXPECT_EQ(before - in.size(), static_cast<size_t>(VarintLength(v))) << v;
  }
  EXPECT_TRUE(in.empty());
}

TEST(Coding, VarintLengthAtBoundaries) {
  EXPECT_EQ(VarintLength(0), 1);
  EXPECT_EQ(VarintLength(127), 1);
  EXPECT_EQ(VarintLength(128), 2);
  EXPECT_EQ(VarintLength(0xffffffff), kMaxVarint32Length);
  EXPECT_EQ(VarintLength(std::numeric_limits<uint64_t>::max()),
            kMaxVarint64Length);

  std::string s;
  PutVarint32(&s, 0xffffffff);
  EXPECT_EQ(s, std::string("\xff\xff\xff\xff\x0f", 5));
}

TEST(Coding, TruncatedVarintIsRejected) {
  for (uint64_t v : {uint64_t{128}, uint64_t{0xffffffff},
                     std::numeric_limits<uint64_t>::max()}) {
    std::string s;
    PutVarint64(&s, v);
    for (size_t len = 0; len < s.size(); ++len) {
      std::string_view in(s.data(), len);
      uint64_t got;
      EXPECT_FALSE(GetVarint64(&in, &got)) << v << " cut to " << len;
      if (v <= 0xffffffff) {
        std::string_view in32(s.data(), len);
        uint32_t got32;
        EXPECT_FALSE(GetVarint32(&in32, &got32)) << v << " cut to " << len;
      }
    }
  }
}

TEST(Coding, OverlongVarintIsRejected) {
  uint32_t v32;
  uint64_t v64;

  // 2^32 does not fit in 32 bits.
  std::string big;
  PutVarint64(&big, uint64_t{1} << 32);
  std::string_view in = big;
  EXPECT_FALSE(GetVarint32(&in, &v32));

  // Six bytes for a varint32; eleven for a varint64.
  std::string_view six("\x80\x80\x80\x80\x80\x00", 6);
  EXPECT_FALSE(GetVarint32(&six, &v32));
  std::string_view eleven("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 11);
  EXPECT_FALSE(GetVarint64(&eleven, &v64));

  // A last byte with bits beyond the type's width.
  std::string_view wide32("\xff\xff\xff\xff\x1f", 5);
  EXPECT_FALSE(GetVarint32(&wide32, &v32));
  std::string_view wide64("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x03", 10);
  EXPECT_FALSE(GetVarint64(&wide64, &v64));
  // ... and one with the continuation bit set in the last allowed place.
  std::string_view cont64("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x81", 10);
  EXPECT_FALSE(GetVarint64(&cont64, &v64));

  // The largest values themselves are fine.
  std::string_view max32("\xff\xff\xff\xff\x0f", 5);
  ASSERT_TRUE(GetVarint32(&max32, &v32));
  EXPECT_EQ(v32, 0xffffffffu);
  std::string_view max64("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10);
  ASSERT_TRUE(GetVarint64(&max64, &v64));
  EXPECT_EQ(v64, std::numeric_limits<uint64_t>::max());
}

TEST(Coding, LengthPrefixedRoundTrip) {
  const std::vector<std::string> values = {"",
                                           "a",
                                           std::string(127, 'x'),
                                           std::string(128, 'y'),
                                           std::string("\0\1\2", 3),
                                           std::string(70000, 'z')};
  std::string s;
  for (const auto& v : values) PutLengthPrefixed(&s, v);
  std::string_view in = s;
  for (const auto& v : values) {
    std::string_view got;
    ASSERT_TRUE(GetLengthPrefixed(&in, &got));
    EXPECT_EQ(got, v);
  }
  EXPECT_TRUE(in.empty());
}

TEST(Coding, LengthPrefixedPointsIntoInput) {
  std::string s;
  PutLengthPrefixed(&s, "abc");
  std::string_view in = s;
  std::string_view got;
  ASSERT_TRUE(GetLengthPrefixed(&in, &got));
  EXPECT_EQ(got.data(), s.data() + 1);
}

TEST(Coding, LengthPrefixedRejectsShortInput) {
  std::string s;
  PutLengthPrefixed(&s, "hello");
  for (size_t len = 0; len < s.size(); ++len) {
    std::string_view in(s.data(), len);
    std::string_view got;
    EXPECT_FALSE(GetLengthPrefixed(&in, &got)) << len;
  }
  // A length beyond what size_t or the input can hold.
  std::string huge;
  PutVarint64(&huge, std::numeric_limits<uint64_t>::max());
  huge += "abc";
  std::string_view in = huge;
  std::string_view got;
  EXPECT_FALSE(GetLengthPrefixed(&in, &got));
}

TEST(Coding, OrderPreservingSignedRoundTrip) {
  for (int64_t v :
       {std::numeric_limits<int64_t>::min(), int64_t{-1}, int64_t{0},
        int64_t{1}, std::numeric_limits<int64_t>::max()}) {
    EXPECT_EQ(SignedFromOrderPreserving(OrderPreservingFromSigned(v)), v);
  }
}

TEST(Coding, OrderPreservingSignedSortsAsBigEndianBytes) {
  std::vector<int64_t> values = {std::numeric_limits<int64_t>::min(),
                                 std::numeric_limits<int64_t>::min() + 1,
                                 -(int64_t{1} << 32),
                                 -65536,
                                 -256,
                                 -255,
                                 -2,
                                 -1,
                                 0,
                                 1,
                                 2,
                                 255,
                                 256,
                                 65536,
                                 int64_t{1} << 32,
                                 std::numeric_limits<int64_t>::max() - 1,
                                 std::numeric_limits<int64_t>::max()};
  std::vector<std::string> encoded;
  for (int64_t v : values) {
    std::string s;
    PutFixed64BE(&s, OrderPreservingFromSigned(v));
    encoded.push_back(s);
  }
  // std::string compares as unsigned bytes (char_traits<char>::lt), the
  // order RocksDB's bytewise comparator uses.
  EXPECT_TRUE(std::is_sorted(encoded.begin(), encoded.end()));
  EXPECT_EQ(std::adjacent_find(encoded.begin(), encoded.end()), encoded.end());
  for (size_t i = 0; i < values.size(); ++i) {
    std::string_view in = encoded[i];
    uint64_t raw;
    ASSERT_TRUE(GetFixed64BE(&in, &raw));
    EXPECT_EQ(SignedFromOrderPreserving(raw), values[i]);
  }
}

TEST(Coding, Hex64IsSixteenLowerCaseDigits) {
  EXPECT_EQ(Hex64(0), "0x0000000000000000");
  EXPECT_EQ(Hex64(0xABCDEF0123456789ull), "0xabcdef0123456789");
  EXPECT_EQ(Hex64(0x1f), "0x000000000000001f");
}

}  // namespace
}  // namespace weir
