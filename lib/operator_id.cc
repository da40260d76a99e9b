// SPDX-License-Identifier: Apache-2.0
#include "weir/operator_id.h"

#include <cassert>
#include <cstring>

#include "lib/hash.h"

namespace weir {

OperatorId OperatorId::FromUid(std::string_view uid) {
  return OperatorId(Hash128(uid));
}

Result<OperatorId> OperatorId::FromHex(std::string_view hex) {
  std::string raw;
  if (hex.size() != 2 * kSize || !weir::FromHex(hex, &raw)) {
    return Status::InvalidArgument("operator id must be 32 hex digits, got '" +
                                   std::string(hex) + "'");
  }
  return FromBytes(raw);
}

OperatorId OperatorId::FromBytes(std::string_view bytes) {
  assert(bytes.size() == kSize);
  std::array<uint8_t, kSize> raw;
  std::memcpy(raw.data(), bytes.data(), kSize);
  return OperatorId(raw);
}

std::string OperatorId::ToHex() const { return weir::ToHex(bytes()); }

}  // namespace weir
