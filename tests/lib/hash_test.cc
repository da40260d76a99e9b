// SPDX-License-Identifier: Apache-2.0
#include "lib/hash.h"

#include <cstdint>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace weir {
namespace {

std::string HexOf(const Hash128Bytes& bytes) {
  return ToHex(std::string_view(reinterpret_cast<const char*>(bytes.data()),
                                bytes.size()));
}

// Reference values from xxHash's own CLI (`xxhsum -H3` and `xxhsum -H128`,
// xxHash 0.8.1). They are persisted in key groups, checksums and operator
// ids, so they must never change.
TEST(Hash, Hash64MatchesXxh3Reference) {
  EXPECT_EQ(Hash64(""), 0x2d06800538d394c2u);
  EXPECT_EQ(Hash64("weir"), 0x09831dc741817118u);
  EXPECT_EQ(Hash64("source"), 0xf462ccfc1df1f61bu);
  EXPECT_EQ(Hash64(std::string(1000, 'a')), 0xb3e7af627147db7cu);
}

TEST(Hash, Hash64IsDeterministicAndSpreads) {
  EXPECT_EQ(Hash64("key"), Hash64(std::string("key")));
  EXPECT_NE(Hash64("key1"), Hash64("key2"));
  EXPECT_NE(Hash64(""), Hash64(std::string_view("\0", 1)));
}

TEST(Hash, SeedChangesHash) {
  EXPECT_EQ(Hash64WithSeed("abc", 0), Hash64("abc"));
  EXPECT_NE(Hash64WithSeed("abc", 1), Hash64("abc"));
  EXPECT_EQ(Hash64WithSeed("abc", 42), Hash64WithSeed("abc", 42));
}

TEST(Hash, Hash128MatchesXxh3Reference) {
  EXPECT_EQ(HexOf(Hash128("")), "99aa06d3014798d86001c324468d497f");
  EXPECT_EQ(HexOf(Hash128("abc")), "06b05ab6733a618578af5f94892f3950");
  EXPECT_EQ(HexOf(Hash128("weir")), "58611f8d7be1fe2c3921234764190df9");
}

TEST(Hash, Hash128IsSixteenDeterministicBytes) {
  const Hash128Bytes a = Hash128("operator");
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a, Hash128("operator"));
  EXPECT_NE(a, Hash128("operator2"));
}

TEST(Hash, StreamEqualsOneShot) {
  std::string data;
  for (int i = 0; i < 5000; ++i) data.push_back(static_cast<char>(i * 31));
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{64}, size_t{240},
                       size_t{241}, size_t{1000}, data.size()}) {
    Hash64Stream stream;
    for (size_t pos = 0; pos < data.size(); pos += chunk) {
      stream.Update(std::string_view(data).substr(pos, chunk));
    }
    EXPECT_EQ(stream.Digest(), Hash64(data)) << "chunk " << chunk;
  }
}

TEST(Hash, EmptyStreamEqualsEmptyHash) {
  Hash64Stream stream;
  EXPECT_EQ(stream.Digest(), Hash64(""));
  stream.Update("");
  EXPECT_EQ(stream.Digest(), Hash64(""));
}

TEST(Hash, DigestDoesNotEndTheStream) {
  Hash64Stream stream;
  stream.Update("hello ");
  EXPECT_EQ(stream.Digest(), Hash64("hello "));
  stream.Update("world");
  EXPECT_EQ(stream.Digest(), Hash64("hello world"));
}

TEST(Hex, RoundTrip) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  const std::string hex = ToHex(all);
  EXPECT_EQ(hex.size(), 512u);
  EXPECT_EQ(hex.substr(0, 8), "00010203");
  EXPECT_EQ(hex.substr(hex.size() - 4), "feff");
  std::string back;
  ASSERT_TRUE(FromHex(hex, &back));
  EXPECT_EQ(back, all);
}

TEST(Hex, EmptyRoundTrip) {
  EXPECT_EQ(ToHex(""), "");
  std::string out = "stale";
  ASSERT_TRUE(FromHex("", &out));
  EXPECT_EQ(out, "");
}

TEST(Hex, AcceptsUpperCase) {
  std::string out;
  ASSERT_TRUE(FromHex("DEADbeef", &out));
  EXPECT_EQ(out, std::string("\xde\xad\xbe\xef", 4));
  EXPECT_EQ(ToHex(out), "deadbeef");
}

TEST(Hex, RejectsBadInput) {
  std::string out = "unchanged";
  EXPECT_FALSE(FromHex("abc", &out));   // odd length
  EXPECT_FALSE(FromHex("zz", &out));    // not hex
  EXPECT_FALSE(FromHex("0g", &out));    // second digit bad
  EXPECT_FALSE(FromHex("g0", &out));    // first digit bad
  EXPECT_FALSE(FromHex("00 1", &out));  // space
  EXPECT_FALSE(FromHex("0x00", &out));  // prefix
  EXPECT_FALSE(FromHex(std::string_view("0\0", 2), &out));
  EXPECT_EQ(out, "unchanged");
}

}  // namespace
}  // namespace weir
