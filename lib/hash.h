// SPDX-License-Identifier: Apache-2.0
//
// Hashing with XXH3 (xxHash 0.8): 64-bit for key groups and checksums,
// 128-bit for operator ids. The values are stable across platforms and
// releases of xxHash, so they may be persisted.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace weir {

uint64_t Hash64(std::string_view data);
uint64_t Hash64WithSeed(std::string_view data, uint64_t seed);

// 16 bytes, the canonical (big-endian) representation of XXH3-128.
using Hash128Bytes = std::array<uint8_t, 16>;
Hash128Bytes Hash128(std::string_view data);

// Incremental XXH3-64, for checksumming files and streams.
class Hash64Stream {
 public:
  Hash64Stream();
  ~Hash64Stream();
  Hash64Stream(const Hash64Stream&) = delete;
  Hash64Stream& operator=(const Hash64Stream&) = delete;

  void Update(std::string_view data);
  uint64_t Digest() const;

 private:
  void* state_;  // XXH3_state_t, kept out of this header
};

// Lower-case hex of `data`.
std::string ToHex(std::string_view data);
// Parses lower- or upper-case hex; false on odd length or a non-hex digit.
bool FromHex(std::string_view hex, std::string* out);

}  // namespace weir
