// SPDX-License-Identifier: Apache-2.0
#include "lib/compression.h"

#include <random>
#include <string>

#include <gtest/gtest.h>

namespace weir {
namespace {

std::string CompressibleBytes(size_t n) {
  std::string s;
  s.reserve(n);
  std::mt19937 rng(301);
  while (s.size() < n) {
    s += "key-" + std::to_string(rng() % 1000) + "=value;";
  }
  s.resize(n);
  return s;
}

std::string RandomBytes(size_t n) {
  std::mt19937 rng(42);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

TEST(Compression, RoundTripEmpty) {
  Result<std::string> compressed = ZstdCompress("");
  ASSERT_TRUE(compressed.ok()) << compressed.status().ToString();
  EXPECT_FALSE(compressed->empty());  // a frame, even for no content
  Result<std::string> back = ZstdDecompress(*compressed);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, "");
}

TEST(Compression, RoundTripSmallAndOneMiB) {
  for (const std::string& input :
       {std::string("x"), CompressibleBytes(1000), CompressibleBytes(1 << 20),
        RandomBytes(1 << 20)}) {
    Result<std::string> compressed = ZstdCompress(input);
    ASSERT_TRUE(compressed.ok()) << compressed.status().ToString();
    Result<std::string> back = ZstdDecompress(*compressed);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, input);
  }
}

TEST(Compression, ActuallyCompresses) {
  const std::string input = CompressibleBytes(1 << 20);
  Result<std::string> compressed = ZstdCompress(input);
  ASSERT_TRUE(compressed.ok());
  EXPECT_LT(compressed->size(), input.size() / 2);
}

TEST(Compression, LevelsRoundTrip) {
  const std::string input = CompressibleBytes(100000);
  for (int level : {1, kDefaultZstdLevel, 19}) {
    Result<std::string> compressed = ZstdCompress(input, level);
    ASSERT_TRUE(compressed.ok()) << level;
    Result<std::string> back = ZstdDecompress(*compressed);
    ASSERT_TRUE(back.ok()) << level;
    EXPECT_EQ(*back, input);
  }
}

TEST(Compression, GarbageIsCorruption) {
  for (const std::string& input :
       {std::string(), std::string("x"), std::string("not a zstd frame"),
        RandomBytes(100)}) {
    Result<std::string> back = ZstdDecompress(input);
    ASSERT_FALSE(back.ok());
    EXPECT_TRUE(back.status().IsCorruption()) << back.status().ToString();
  }
}

TEST(Compression, TruncatedFrameIsCorruption) {
  Result<std::string> compressed = ZstdCompress(CompressibleBytes(100000));
  ASSERT_TRUE(compressed.ok());
  for (size_t len : {size_t{0}, size_t{4}, size_t{10}, compressed->size() / 2,
                     compressed->size() - 1}) {
    Result<std::string> back = ZstdDecompress(compressed->substr(0, len));
    ASSERT_FALSE(back.ok()) << "cut to " << len;
    EXPECT_TRUE(back.status().IsCorruption())
        << "cut to " << len << ": " << back.status().ToString();
  }
}

TEST(Compression, CorruptedFrameIsCorruption) {
  Result<std::string> compressed = ZstdCompress(CompressibleBytes(100000));
  ASSERT_TRUE(compressed.ok());

  // A broken magic number or frame header is always detected.
  std::string bad_magic = *compressed;
  bad_magic[0] = static_cast<char>(bad_magic[0] ^ 0xff);
  Result<std::string> back = ZstdDecompress(bad_magic);
  ASSERT_FALSE(back.ok());
  EXPECT_TRUE(back.status().IsCorruption()) << back.status().ToString();

  // In the entropy-coded body a flipped byte may go unnoticed (the frame
  // carries no content checksum), but whatever is detected is Corruption,
  // and most flips are detected.
  int flips = 0;
  int detected = 0;
  for (size_t pos = 10; pos < compressed->size(); pos += 37) {
    std::string bad = *compressed;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x5a);
    Result<std::string> result = ZstdDecompress(bad);
    ++flips;
    if (!result.ok()) {
      EXPECT_TRUE(result.status().IsCorruption())
          << "flip at " << pos << ": " << result.status().ToString();
      ++detected;
    }
  }
  EXPECT_GT(detected, flips / 2) << detected << " of " << flips;
}

TEST(Compression, SizeLimit) {
  const std::string input = CompressibleBytes(1 << 20);
  Result<std::string> compressed = ZstdCompress(input);
  ASSERT_TRUE(compressed.ok());

  Result<std::string> refused = ZstdDecompress(*compressed, (1 << 20) - 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsCorruption());
  EXPECT_NE(refused.status().message().find("limit"), std::string::npos)
      << refused.status().ToString();

  Result<std::string> exact = ZstdDecompress(*compressed, 1 << 20);
  ASSERT_TRUE(exact.ok()) << exact.status().ToString();
  EXPECT_EQ(*exact, input);
}

}  // namespace
}  // namespace weir
