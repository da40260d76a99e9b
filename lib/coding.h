// SPDX-License-Identifier: Apache-2.0
//
// Binary encoding: fixed-width little-endian integers (file formats), fixed-
// width big-endian integers (keys, where byte order must equal numeric
// order), LEB128 varints, and length-prefixed byte strings; and Hex64 for
// messages.
//
// Put* functions append to a std::string. Get* functions consume from the
// front of a std::string_view and return false if the input is too short or
// malformed; on failure the input view is left unspecified.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace weir {

constexpr int kMaxVarint32Length = 5;
constexpr int kMaxVarint64Length = 10;

void PutFixed16BE(std::string* dst, uint16_t value);
void PutFixed32(std::string* dst, uint32_t value);
void PutFixed32BE(std::string* dst, uint32_t value);
void PutFixed64(std::string* dst, uint64_t value);
void PutFixed64BE(std::string* dst, uint64_t value);
void PutVarint32(std::string* dst, uint32_t value);
void PutVarint64(std::string* dst, uint64_t value);
void PutLengthPrefixed(std::string* dst, std::string_view value);

bool GetFixed16BE(std::string_view* input, uint16_t* value);
bool GetFixed32(std::string_view* input, uint32_t* value);
bool GetFixed32BE(std::string_view* input, uint32_t* value);
bool GetFixed64(std::string_view* input, uint64_t* value);
bool GetFixed64BE(std::string_view* input, uint64_t* value);
bool GetVarint32(std::string_view* input, uint32_t* value);
bool GetVarint64(std::string_view* input, uint64_t* value);
// Sets *value to a view into the input's storage.
bool GetLengthPrefixed(std::string_view* input, std::string_view* value);

// Number of bytes PutVarint64 writes for `value`.
int VarintLength(uint64_t value);

// Signed 64-bit integers mapped to unsigned so that big-endian bytes sort in
// numeric order (timestamps in keys may be negative).
inline uint64_t OrderPreservingFromSigned(int64_t v) {
  return static_cast<uint64_t>(v) ^ (uint64_t{1} << 63);
}
inline int64_t SignedFromOrderPreserving(uint64_t v) {
  return static_cast<int64_t>(v ^ (uint64_t{1} << 63));
}

inline uint64_t DecodeFixed64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  if constexpr (std::endian::native == std::endian::big)
    v = __builtin_bswap64(v);
  return v;
}
inline uint32_t DecodeFixed32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  if constexpr (std::endian::native == std::endian::big)
    v = __builtin_bswap32(v);
  return v;
}
inline uint16_t DecodeFixed16BE(const char* p) {
  return static_cast<uint16_t>((static_cast<uint8_t>(p[0]) << 8) |
                               static_cast<uint8_t>(p[1]));
}

// "0x" and 16 lower-case hex digits: how messages print a checksum.
std::string Hex64(uint64_t value);

}  // namespace weir
