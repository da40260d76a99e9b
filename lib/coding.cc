// SPDX-License-Identifier: Apache-2.0
#include "lib/coding.h"

#include <bit>
#include <cinttypes>
#include <cstdio>

namespace weir {

namespace {

template <class T>
void PutLE(std::string* dst, T value) {
  char buf[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); ++i) {
    buf[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  }
  dst->append(buf, sizeof(T));
}

template <class T>
void PutBE(std::string* dst, T value) {
  char buf[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); ++i) {
    buf[sizeof(T) - 1 - i] = static_cast<char>((value >> (8 * i)) & 0xff);
  }
  dst->append(buf, sizeof(T));
}

template <class T>
bool GetLE(std::string_view* input, T* value) {
  if (input->size() < sizeof(T)) return false;
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    v |= static_cast<T>(static_cast<uint8_t>((*input)[i])) << (8 * i);
  }
  *value = v;
  input->remove_prefix(sizeof(T));
  return true;
}

template <class T>
bool GetBE(std::string_view* input, T* value) {
  if (input->size() < sizeof(T)) return false;
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    v = static_cast<T>((v << 8) | static_cast<uint8_t>((*input)[i]));
  }
  *value = v;
  input->remove_prefix(sizeof(T));
  return true;
}

template <class T, int kMaxLen>
bool GetVarint(std::string_view* input, T* value) {
  T result = 0;
  for (int i = 0; i < kMaxLen && i < static_cast<int>(input->size()); ++i) {
    const auto byte = static_cast<uint8_t>((*input)[i]);
    const int shift = 7 * i;
    // The last byte may carry only the bits that still fit in T.
    if (i == kMaxLen - 1 && (byte >> (sizeof(T) * 8 - shift)) != 0) {
      return false;
    }
    result |= static_cast<T>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *value = result;
      input->remove_prefix(i + 1);
      return true;
    }
  }
  return false;
}

}  // namespace

void PutFixed16BE(std::string* dst, uint16_t value) { PutBE(dst, value); }
void PutFixed32(std::string* dst, uint32_t value) { PutLE(dst, value); }
void PutFixed32BE(std::string* dst, uint32_t value) { PutBE(dst, value); }
void PutFixed64(std::string* dst, uint64_t value) { PutLE(dst, value); }
void PutFixed64BE(std::string* dst, uint64_t value) { PutBE(dst, value); }

void PutVarint32(std::string* dst, uint32_t value) { PutVarint64(dst, value); }

void PutVarint64(std::string* dst, uint64_t value) {
  char buf[kMaxVarint64Length];
  int len = 0;
  while (value >= 0x80) {
    buf[len++] = static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  buf[len++] = static_cast<char>(value);
  dst->append(buf, len);
}

void PutLengthPrefixed(std::string* dst, std::string_view value) {
  PutVarint64(dst, value.size());
  dst->append(value.data(), value.size());
}

bool GetFixed16BE(std::string_view* input, uint16_t* value) {
  return GetBE(input, value);
}
bool GetFixed32(std::string_view* input, uint32_t* value) {
  return GetLE(input, value);
}
bool GetFixed32BE(std::string_view* input, uint32_t* value) {
  return GetBE(input, value);
}
bool GetFixed64(std::string_view* input, uint64_t* value) {
  return GetLE(input, value);
}
bool GetFixed64BE(std::string_view* input, uint64_t* value) {
  return GetBE(input, value);
}
bool GetVarint32(std::string_view* input, uint32_t* value) {
  return GetVarint<uint32_t, kMaxVarint32Length>(input, value);
}
bool GetVarint64(std::string_view* input, uint64_t* value) {
  return GetVarint<uint64_t, kMaxVarint64Length>(input, value);
}

bool GetLengthPrefixed(std::string_view* input, std::string_view* value) {
  uint64_t len;
  if (!GetVarint64(input, &len) || len > input->size()) return false;
  *value = input->substr(0, len);
  input->remove_prefix(len);
  return true;
}

int VarintLength(uint64_t value) {
  int len = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++len;
  }
  return len;
}

std::string Hex64(uint64_t value) {
  char buf[19];
  std::snprintf(buf, sizeof(buf), "0x%016" PRIx64, value);
  return buf;
}

}  // namespace weir
