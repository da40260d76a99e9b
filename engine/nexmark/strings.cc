// SPDX-License-Identifier: Apache-2.0
#include <cmath>
#include <cstdint>
#include <string>

#include "engine/nexmark/random.h"

namespace weir::nexmark::internal {

namespace {

constexpr int kMinStringLength = 3;
constexpr int64_t kReusableLength = 1 << 20;

// Letters from a fixed seed: the same text in every process.
const std::string& ReusableText() {
  static const std::string* text = [] {
    auto* s = new std::string(static_cast<size_t>(kReusableLength), 'a');
    EventRandom random(0x6e65786d61726b00ULL);  // "nexmark"
    for (char& c : *s) c = static_cast<char>('a' + random.NextInt(26));
    return s;
  }();
  return *text;
}

}  // namespace

std::string NextString(EventRandom& random, int max_length, char special) {
  int64_t len =
      kMinStringLength + random.NextInt(max_length - kMinStringLength);
  std::string s;
  s.reserve(static_cast<size_t>(len));
  while (len-- > 0) {
    // One draw per character: its high half picks special-or-letter, its
    // low half the letter.
    const uint64_t x = random.Next();
    if ((((x >> 32) * 13) >> 32) == 0) {
      s.push_back(special);
    } else {
      s.push_back(static_cast<char>('a' + (((x & 0xffffffffULL) * 26) >> 32)));
    }
  }
  if (special == ' ') {
    const size_t first = s.find_first_not_of(' ');
    if (first == std::string::npos) return std::string();
    const size_t last = s.find_last_not_of(' ');
    return s.substr(first, last - first + 1);
  }
  return s;
}

std::string NextExactString(EventRandom& random, int64_t length) {
  const std::string& text = ReusableText();
  if (length < kReusableLength / 2) {
    const int64_t offset = random.NextInt(kReusableLength - length);
    return text.substr(static_cast<size_t>(offset),
                       static_cast<size_t>(length));
  }
  std::string s(static_cast<size_t>(length), 'a');
  for (char& c : s) c = static_cast<char>('a' + random.NextInt(26));
  return s;
}

std::string NextExtra(EventRandom& random, int64_t current_size,
                      int64_t avg_size) {
  if (current_size > avg_size) return std::string();
  const int64_t desired = avg_size - current_size;
  const int64_t delta = std::llround(static_cast<double>(desired) * 0.2);
  const int64_t min_size = desired - delta;
  const int64_t size = min_size + (delta == 0 ? 0 : random.NextInt(2 * delta));
  return NextExactString(random, size);
}

}  // namespace weir::nexmark::internal
