// SPDX-License-Identifier: Apache-2.0
//
// OperatorId: the 16 bytes that name an operator's state. With a uid it is
// XXH3-128 of the uid's UTF-8 bytes, so state follows the uid across program
// changes; the engine derives ids for operators without a uid from their
// place in the graph. Printed as 32 lower-case hex digits.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include <weir/result.h>

namespace weir {

class OperatorId {
 public:
  static constexpr size_t kSize = 16;

  OperatorId() = default;
  explicit OperatorId(const std::array<uint8_t, kSize>& bytes)
      : bytes_(bytes) {}

  static OperatorId FromUid(std::string_view uid);
  // Parses 32 hex digits; InvalidArgument otherwise.
  static Result<OperatorId> FromHex(std::string_view hex);
  // REQUIRES: bytes.size() == kSize.
  static OperatorId FromBytes(std::string_view bytes);

  std::string ToHex() const;
  std::string_view bytes() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }

  auto operator<=>(const OperatorId&) const = default;
  bool operator==(const OperatorId&) const = default;

 private:
  std::array<uint8_t, kSize> bytes_{};
};

}  // namespace weir

template <>
struct std::hash<weir::OperatorId> {
  size_t operator()(const weir::OperatorId& id) const noexcept {
    size_t h;
    static_assert(sizeof(h) <= weir::OperatorId::kSize);
    __builtin_memcpy(&h, id.bytes().data(), sizeof(h));
    return h;
  }
};
