// SPDX-License-Identifier: Apache-2.0
#include "lib/hash.h"

#include <cassert>

#include <xxhash.h>

namespace weir {

uint64_t Hash64(std::string_view data) {
  return XXH3_64bits(data.data(), data.size());
}

uint64_t Hash64WithSeed(std::string_view data, uint64_t seed) {
  return XXH3_64bits_withSeed(data.data(), data.size(), seed);
}

Hash128Bytes Hash128(std::string_view data) {
  XXH128_hash_t h = XXH3_128bits(data.data(), data.size());
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, h);
  Hash128Bytes out;
  static_assert(sizeof(canonical.digest) == out.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = canonical.digest[i];
  return out;
}

Hash64Stream::Hash64Stream() : state_(XXH3_createState()) {
  assert(state_ != nullptr);
  XXH3_64bits_reset(static_cast<XXH3_state_t*>(state_));
}

Hash64Stream::~Hash64Stream() {
  XXH3_freeState(static_cast<XXH3_state_t*>(state_));
}

void Hash64Stream::Update(std::string_view data) {
  XXH3_64bits_update(static_cast<XXH3_state_t*>(state_), data.data(),
                     data.size());
}

uint64_t Hash64Stream::Digest() const {
  return XXH3_64bits_digest(static_cast<XXH3_state_t*>(state_));
}

std::string ToHex(std::string_view data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (char c : data) {
    const auto b = static_cast<uint8_t>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

bool FromHex(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  std::string result;
  result.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = HexValue(hex[i]);
    const int lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    result.push_back(static_cast<char>((hi << 4) | lo));
  }
  *out = std::move(result);
  return true;
}

}  // namespace weir
