// SPDX-License-Identifier: Apache-2.0
//
// ForgeMetadata: a `_metadata` file's bytes with one string replaced by
// another of the same length (so that no length prefix changes) and the
// checksum sealed again: what a forged or carelessly edited file that
// passes the integrity check looks like. Tests write such files to see that
// every name read from metadata is checked before it names anything.
#pragma once

#include <string>
#include <string_view>

#include "lib/coding.h"
#include "lib/hash.h"

namespace weir::testutil {

// Replaces the first occurrence of `from` by `to` in `bytes` (a whole
// `_metadata`) and reseals it. Returns "" if `from` does not occur or the
// lengths differ.
inline std::string ForgeMetadata(std::string bytes, std::string_view from,
                                 std::string_view to) {
  constexpr size_t kFooter = 16;  // checksum (8) + trailing magic (8)
  const size_t at = bytes.find(from);
  if (at == std::string::npos || from.size() != to.size() ||
      bytes.size() < kFooter) {
    return "";
  }
  bytes.replace(at, from.size(), to);
  std::string checksum;
  PutFixed64(&checksum,
             Hash64(std::string_view(bytes).substr(0, bytes.size() - kFooter)));
  bytes.replace(bytes.size() - kFooter, 8, checksum);
  return bytes;
}

}  // namespace weir::testutil
