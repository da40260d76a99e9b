// SPDX-License-Identifier: Apache-2.0
//
// Result<T>: either a value of type T or a failed Status (abseil's StatusOr).
//
// A Result never holds an OK status without a value: constructing one from
// Status::OK() is a bug and asserts. Accessing the value of a failed Result
// is a bug and asserts as well. Absence is not an error: functions that may
// find nothing return Result<std::optional<T>>.
#pragma once

#include <cassert>
#include <optional>
#include <type_traits>
#include <utility>

#include <weir/status.h>

namespace weir {

template <class T>
class [[nodiscard]] Result {
 public:
  // Implicit on purpose, so that `return value;` and `return status;` both
  // work in functions returning Result<T>.
  Result(const T& value) : value_(value) {}
  Result(T&& value) : value_(std::move(value)) {}
  Result(Status status) : status_(std::move(status)) {
    assert(!status_.ok() && "Result constructed from an OK status");
  }
  // clang-format 14 cannot lay out requires-clauses.
  // clang-format off
  template <class U>
    requires(std::is_constructible_v<T, U &&> &&
             !std::is_same_v<std::remove_cvref_t<U>, T> &&
             !std::is_same_v<std::remove_cvref_t<U>, Status> &&
             !std::is_same_v<std::remove_cvref_t<U>, Result>)
  Result(U&& value) : value_(std::forward<U>(value)) {}
  // clang-format on

  bool ok() const { return status_.ok(); }
  const Status& status() const& { return status_; }
  Status status() && { return std::move(status_); }

  // REQUIRES: ok().
  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The value, or `fallback` if this Result failed.
  template <class U>
  T value_or(U&& fallback) const& {
    // Tests value_ rather than ok() (equivalent): GCC 12 at -O3 cannot see
    // that ok() implies a value and warns -Wmaybe-uninitialized otherwise.
    return value_.has_value() ? *value_
                              : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace weir
