// SPDX-License-Identifier: Apache-2.0
//
// Status: the outcome of an operation that can fail. weir never throws; every
// fallible function returns a Status or a Result<T> (result.h).
//
// An OK status holds no allocation and costs one null pointer, so returning
// Status from hot paths is free on success (as in LevelDB). A failed status
// carries a code and a human-readable message that names what went wrong
// ("state directory /x was created with max parallelism 128, not 256").
//
// Thread safety: a Status is a value; distinct objects may be used from
// distinct threads without synchronization.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace weir {

class [[nodiscard]] Status {
 public:
  enum class Code : unsigned char {
    kOk = 0,
    kNotFound = 1,
    kInvalidArgument = 2,
    kCorruption = 3,
    kIOError = 4,
    kNotSupported = 5,
    kAborted = 6,  // an operation stopped on purpose, e.g. a job cancelled
    // The system is not in a state that allows the operation (a job that
    // is not running, started twice, or run by another process); retrying
    // the same call fails the same way until that state changes.
    kFailedPrecondition = 7,
    kDeadlineExceeded = 8,  // a wait ended before what it waited for
    // A bounded resource (a queue, a quota) is used up for now; retrying
    // later may succeed once it frees up.
    kResourceExhausted = 9,
  };

  // Creates an OK status.
  Status() noexcept = default;
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  ~Status() = default;

  static Status OK() { return Status(); }
  static Status NotFound(std::string_view msg) {
    return Status(Code::kNotFound, msg);
  }
  static Status InvalidArgument(std::string_view msg) {
    return Status(Code::kInvalidArgument, msg);
  }
  static Status Corruption(std::string_view msg) {
    return Status(Code::kCorruption, msg);
  }
  static Status IOError(std::string_view msg) {
    return Status(Code::kIOError, msg);
  }
  static Status NotSupported(std::string_view msg) {
    return Status(Code::kNotSupported, msg);
  }
  static Status Aborted(std::string_view msg) {
    return Status(Code::kAborted, msg);
  }
  static Status FailedPrecondition(std::string_view msg) {
    return Status(Code::kFailedPrecondition, msg);
  }
  static Status DeadlineExceeded(std::string_view msg) {
    return Status(Code::kDeadlineExceeded, msg);
  }
  static Status ResourceExhausted(std::string_view msg) {
    return Status(Code::kResourceExhausted, msg);
  }

  bool ok() const { return state_ == nullptr; }
  Code code() const { return state_ ? state_->code : Code::kOk; }
  bool IsNotFound() const { return code() == Code::kNotFound; }
  bool IsInvalidArgument() const { return code() == Code::kInvalidArgument; }
  bool IsCorruption() const { return code() == Code::kCorruption; }
  bool IsIOError() const { return code() == Code::kIOError; }
  bool IsNotSupported() const { return code() == Code::kNotSupported; }
  bool IsAborted() const { return code() == Code::kAborted; }
  bool IsFailedPrecondition() const {
    return code() == Code::kFailedPrecondition;
  }
  bool IsDeadlineExceeded() const { return code() == Code::kDeadlineExceeded; }
  bool IsResourceExhausted() const {
    return code() == Code::kResourceExhausted;
  }

  // The message without the code; empty for OK.
  std::string_view message() const {
    return state_ ? std::string_view(state_->message) : std::string_view();
  }

  // "OK", or "<Code name>: <message>".
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>"; OK stays OK.
  Status WithContext(std::string_view context) const;

  // Marks a status as deliberately ignored.
  void IgnoreError() const {}

 private:
  struct State {
    Code code;
    std::string message;
  };

  Status(Code code, std::string_view msg);

  std::unique_ptr<State> state_;
};

// The name of a code: "OK", "NotFound", "Invalid argument", ...
std::string_view StatusCodeName(Status::Code code);

}  // namespace weir
