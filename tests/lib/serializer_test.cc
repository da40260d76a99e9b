// SPDX-License-Identifier: Apache-2.0
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <weir/serializer.h>

namespace weir {
namespace {

static_assert(SerializerFor<Serializer<int32_t>, int32_t>);
static_assert(SerializerFor<Serializer<int64_t>, int64_t>);
static_assert(SerializerFor<Serializer<uint64_t>, uint64_t>);
static_assert(SerializerFor<Serializer<bool>, bool>);
static_assert(SerializerFor<Serializer<double>, double>);
static_assert(SerializerFor<Serializer<std::string>, std::string>);

template <class T>
std::string Encode(const T& value) {
  std::string out;
  Serializer<T>().Serialize(value, &out);
  return out;
}

template <class T>
T Decode(const std::string& bytes) {
  T value{};
  Status s =
      Serializer<T>().Deserialize(Serializer<T>::kVersion, bytes, &value);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return value;
}

template <class T>
void ExpectRoundTrip(const std::vector<T>& values) {
  for (const T& v : values) {
    const std::string bytes = Encode(v);
    EXPECT_EQ(Decode<T>(bytes), v);
  }
}

// Encodes `values`, given in increasing order, and checks that their bytes
// sort the same way (std::string compares bytes as unsigned, like RocksDB's
// bytewise comparator).
template <class T>
void ExpectBytesSortNumerically(const std::vector<T>& values) {
  ASSERT_TRUE(std::is_sorted(values.begin(), values.end()));
  std::vector<std::string> encoded;
  for (const T& v : values) encoded.push_back(Encode(v));
  for (size_t i = 1; i < encoded.size(); ++i) {
    EXPECT_LT(encoded[i - 1], encoded[i])
        << values[i - 1] << " should sort before " << values[i];
  }
}

TEST(Serializer, Int32RoundTripAndOrder) {
  const std::vector<int32_t> values = {std::numeric_limits<int32_t>::min(),
                                       -65536,
                                       -256,
                                       -255,
                                       -1,
                                       0,
                                       1,
                                       255,
                                       256,
                                       65536,
                                       std::numeric_limits<int32_t>::max()};
  ExpectRoundTrip(values);
  ExpectBytesSortNumerically(values);
  EXPECT_EQ(Encode<int32_t>(0), std::string("\x80\x00\x00\x00", 4));
  EXPECT_EQ(Encode<int32_t>(-1), std::string("\x7f\xff\xff\xff", 4));
}

TEST(Serializer, Int64RoundTripAndOrder) {
  const std::vector<int64_t> values = {std::numeric_limits<int64_t>::min(),
                                       std::numeric_limits<int64_t>::min() + 1,
                                       -(int64_t{1} << 40),
                                       -1000,
                                       -1,
                                       0,
                                       1,
                                       1000,
                                       int64_t{1} << 40,
                                       std::numeric_limits<int64_t>::max()};
  ExpectRoundTrip(values);
  ExpectBytesSortNumerically(values);
  EXPECT_EQ(Encode<int64_t>(1).size(), 8u);
}

TEST(Serializer, Uint64RoundTripAndOrder) {
  const std::vector<uint64_t> values = {0,
                                        1,
                                        255,
                                        256,
                                        uint64_t{1} << 32,
                                        (uint64_t{1} << 63) - 1,
                                        uint64_t{1} << 63,
                                        std::numeric_limits<uint64_t>::max()};
  ExpectRoundTrip(values);
  ExpectBytesSortNumerically(values);
  EXPECT_EQ(Encode<uint64_t>(0x0102030405060708),
            std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
}

TEST(Serializer, SmallIntegersRoundTrip) {
  ExpectRoundTrip<int8_t>({-128, -1, 0, 1, 127});
  ExpectBytesSortNumerically<int8_t>({-128, -1, 0, 1, 127});
  ExpectRoundTrip<uint8_t>({0, 1, 255});
  ExpectRoundTrip<int16_t>({-32768, -1, 0, 1, 32767});
  ExpectBytesSortNumerically<int16_t>({-32768, -1, 0, 1, 32767});
  ExpectRoundTrip<uint32_t>({0, 1, 0xffffffff});
}

TEST(Serializer, BoolRoundTrip) {
  ExpectRoundTrip<bool>({false, true});
  EXPECT_EQ(Encode(false), std::string("\0", 1));
  EXPECT_EQ(Encode(true), "\x01");
}

TEST(Serializer, DoubleRoundTrip) {
  ExpectRoundTrip<double>({0.0, -0.0, 1.5, -1.5, 3.141592653589793, 1e300,
                           -1e-300, std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::denorm_min(),
                           std::numeric_limits<double>::max()});
  // -0.0 keeps its sign and NaN stays NaN.
  EXPECT_TRUE(std::signbit(Decode<double>(Encode(-0.0))));
  EXPECT_TRUE(std::isnan(
      Decode<double>(Encode(std::numeric_limits<double>::quiet_NaN()))));
  EXPECT_EQ(Encode(1.0).size(), 8u);
}

TEST(Serializer, StringRoundTrip) {
  ExpectRoundTrip<std::string>({"", "a", std::string("\0\xff", 2),
                                std::string(100000, 'x'), "unicode: \xc3\xa9"});
  // Stored as is: strings sort as their bytes do.
  EXPECT_EQ(Encode(std::string("abc")), "abc");
}

TEST(Serializer, SerializeAppends) {
  std::string out = "prefix";
  Serializer<int32_t>().Serialize(7, &out);
  Serializer<std::string>().Serialize("tail", &out);
  EXPECT_EQ(out, std::string("prefix\x80\x00\x00\x07tail", 14));
}

TEST(Serializer, WrongSizeIsCorruption) {
  int32_t i32 = 5;
  Status s = Serializer<int32_t>().Deserialize(1, std::string(3, '\0'), &i32);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ(i32, 5);  // untouched on failure
  EXPECT_NE(s.message().find("3 bytes"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("expected 4"), std::string::npos) << s.ToString();

  int64_t i64;
  EXPECT_TRUE(Serializer<int64_t>()
                  .Deserialize(1, std::string(9, '\0'), &i64)
                  .IsCorruption());
  EXPECT_TRUE(Serializer<int64_t>().Deserialize(1, "", &i64).IsCorruption());
  uint64_t u64;
  EXPECT_TRUE(Serializer<uint64_t>()
                  .Deserialize(1, std::string(4, '\0'), &u64)
                  .IsCorruption());
  bool b;
  EXPECT_TRUE(Serializer<bool>().Deserialize(1, "", &b).IsCorruption());
  EXPECT_TRUE(Serializer<bool>().Deserialize(1, "ab", &b).IsCorruption());
  double d;
  EXPECT_TRUE(Serializer<double>()
                  .Deserialize(1, std::string(7, '\0'), &d)
                  .IsCorruption());
}

TEST(Serializer, VersionsAreOne) {
  EXPECT_EQ(Serializer<int32_t>::kVersion, 1u);
  EXPECT_EQ(Serializer<int64_t>::kVersion, 1u);
  EXPECT_EQ(Serializer<uint64_t>::kVersion, 1u);
  EXPECT_EQ(Serializer<bool>::kVersion, 1u);
  EXPECT_EQ(Serializer<double>::kVersion, 1u);
  EXPECT_EQ(Serializer<std::string>::kVersion, 1u);
}

}  // namespace
}  // namespace weir
