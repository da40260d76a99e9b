// SPDX-License-Identifier: Apache-2.0
//
// EventRandom: the random choices of one Nexmark event, seeded by the
// generator's seed and the event's id, so that each event is a function of
// the two alone (no state carries from one event to the next).
#pragma once

#include <cstdint>
#include <string>

namespace weir::nexmark::internal {

// SplitMix64 (Steele, Lea and Flood): small state, passes BigCrush, and
// cheap enough to draw a few dozen numbers per event.
class EventRandom {
 public:
  explicit EventRandom(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n), n >= 1 (Lemire's multiply-shift on 32 bits; the
  // bias, below 2^-32 * n, does not matter here).
  int64_t NextInt(int64_t n) {
    if (n <= 0) return 0;
    if (n <= int64_t{0xffffffff}) {
      return static_cast<int64_t>(((Next() >> 32) * static_cast<uint64_t>(n)) >>
                                  32);
    }
    return static_cast<int64_t>(Next() % static_cast<uint64_t>(n));
  }
  // Uniform in [0, 1).
  double NextDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

// The reference's string helpers (StringsGenerator).

// 3 to max_length - 1 characters, each a lower-case letter or, one in 13,
// `special`; with `special` ' ', the spaces at both ends are trimmed.
std::string NextString(EventRandom& random, int max_length, char special = ' ');
// Exactly `length` letters: a piece of one fixed random text of 1 MiB (as
// the reference does, to keep padding cheap).
std::string NextExactString(EventRandom& random, int64_t length);
// Padding that brings current_size to avg_size on average: uniform in
// [0.8, 1.2) of the difference; empty if current_size > avg_size.
std::string NextExtra(EventRandom& random, int64_t current_size,
                      int64_t avg_size);

}  // namespace weir::nexmark::internal
