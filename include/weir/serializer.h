// SPDX-License-Identifier: Apache-2.0
//
// Serializers turn typed values into the bytes that state stores keep.
//
// A serializer for T is any type S with
//   static constexpr uint32_t kVersion;           // >= 1
//   void Serialize(const T& value, std::string* out) const;   // appends
//   Status Deserialize(uint32_t version, std::string_view in, T* out) const;
// Every stored value remembers the version that wrote it, and Deserialize is
// given that version, so a new serializer version can keep reading the old
// format (lazy migration). A store refuses to open state with a serializer
// older than one that already wrote it (see raw_state.h).
//
// Serializer<T> provides big-endian, order-preserving encodings for integers
// (so map keys iterate in numeric order), IEEE doubles, bools and strings.
#pragma once

#include <bit>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include <weir/status.h>

namespace weir {

template <class S, class T>
concept SerializerFor = requires(const S& s, const T& value, std::string* out,
                                 std::string_view in, T* result) {
  { S::kVersion } -> std::convertible_to<uint32_t>;
  s.Serialize(value, out);
  { s.Deserialize(uint32_t{1}, in, result) } -> std::same_as<Status>;
};

template <class T>
struct Serializer;

namespace internal {
Status SerializerSizeMismatch(std::string_view type, size_t expected,
                              size_t got);
}  // namespace internal

// Integers: fixed width, big-endian, sign bit flipped for signed types.
// clang-format 14 cannot lay out requires-clauses.
// clang-format off
template <class T>
  requires std::is_integral_v<T> && (!std::is_same_v<T, bool>)
struct Serializer<T> {
  // clang-format on
  static constexpr uint32_t kVersion = 1;
  using U = std::make_unsigned_t<T>;
  static constexpr U kFlip =
      std::is_signed_v<T> ? U(U(1) << (8 * sizeof(T) - 1)) : U(0);

  void Serialize(const T& value, std::string* out) const {
    U u = static_cast<U>(value) ^ kFlip;
    char buf[sizeof(T)];
    for (size_t i = 0; i < sizeof(T); ++i) {
      buf[sizeof(T) - 1 - i] = static_cast<char>(u & 0xff);
      if constexpr (sizeof(T) > 1) u = static_cast<U>(u >> 8);
    }
    out->append(buf, sizeof(T));
  }
  Status Deserialize(uint32_t, std::string_view in, T* out) const {
    if (in.size() != sizeof(T)) {
      return internal::SerializerSizeMismatch("integer", sizeof(T), in.size());
    }
    U u = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      u = static_cast<U>((sizeof(T) > 1 ? (u << 8) : 0) |
                         static_cast<uint8_t>(in[i]));
    }
    *out = static_cast<T>(u ^ kFlip);
    return Status::OK();
  }
};

template <>
struct Serializer<bool> {
  static constexpr uint32_t kVersion = 1;
  void Serialize(const bool& value, std::string* out) const {
    out->push_back(value ? '\1' : '\0');
  }
  Status Deserialize(uint32_t, std::string_view in, bool* out) const {
    if (in.size() != 1) {
      return internal::SerializerSizeMismatch("bool", 1, in.size());
    }
    *out = in[0] != 0;
    return Status::OK();
  }
};

template <>
struct Serializer<double> {
  static constexpr uint32_t kVersion = 1;
  void Serialize(const double& value, std::string* out) const {
    Serializer<uint64_t>().Serialize(std::bit_cast<uint64_t>(value), out);
  }
  Status Deserialize(uint32_t version, std::string_view in, double* out) const {
    uint64_t bits = 0;  // initialized: GCC 12 -Wmaybe-uninitialized
    Status s = Serializer<uint64_t>().Deserialize(version, in, &bits);
    if (s.ok()) *out = std::bit_cast<double>(bits);
    return s;
  }
};

template <>
struct Serializer<std::string> {
  static constexpr uint32_t kVersion = 1;
  void Serialize(const std::string& value, std::string* out) const {
    out->append(value);
  }
  Status Deserialize(uint32_t, std::string_view in, std::string* out) const {
    out->assign(in.data(), in.size());
    return Status::OK();
  }
};

}  // namespace weir
