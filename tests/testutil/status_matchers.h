// SPDX-License-Identifier: Apache-2.0
//
// GoogleTest helpers for Status and Result<T>:
//
//   ASSERT_OK(expr) / EXPECT_OK(expr)   expr is a Status or a Result<T>; on
//                                       failure the message shows the status.
//   ASSERT_OK_AND_ASSIGN(lhs, expr)     unwraps a Result<T> into `lhs` (a
//                                       declaration or an lvalue), or fails.
//   EXPECT_THAT(x, IsOk())              gMock matchers, abseil style, for
//   EXPECT_THAT(x, StatusIs(code))      both Status and Result<T>; the
//   EXPECT_THAT(x, StatusIs(code, m))   second form also matches message()
//                                       against the string matcher m.
//   EXPECT_THAT(r, IsOkAndHolds(m))     r is an OK Result whose value
//                                       matches m.
#pragma once

#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <weir/result.h>
#include <weir/status.h>

namespace weir {

// Found by ADL, so that gtest prints statuses as text, not bytes.
inline void PrintTo(const Status& s, std::ostream* os) { *os << s.ToString(); }

template <class T>
void PrintTo(const Result<T>& r, std::ostream* os) {
  if (r.ok()) {
    *os << "OK(" << testing::PrintToString(*r) << ")";
  } else {
    *os << r.status().ToString();
  }
}

namespace testutil {

inline Status StatusOf(const Status& s) { return s; }
template <class T>
Status StatusOf(const Result<T>& r) {
  return r.status();
}

template <class S>
testing::AssertionResult AssertOk(const char* expr, const S& s) {
  const Status status = StatusOf(s);
  if (status.ok()) return testing::AssertionSuccess();
  return testing::AssertionFailure()
         << expr << " failed: " << status.ToString();
}

MATCHER(IsOk, negation ? "is not OK" : "is OK") {
  const Status s = ::weir::testutil::StatusOf(arg);
  *result_listener << "which is " << s.ToString();
  return s.ok();
}

MATCHER_P(StatusIs, code,
          std::string(negation ? "isn't" : "is") + " a status with code " +
              std::string(::weir::StatusCodeName(code))) {
  const Status s = ::weir::testutil::StatusOf(arg);
  *result_listener << "which is " << s.ToString();
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher,
           std::string(negation ? "isn't" : "is") + " a status with code " +
               std::string(::weir::StatusCodeName(code)) +
               " and a message that " +
               testing::DescribeMatcher<std::string>(message_matcher)) {
  const Status s = ::weir::testutil::StatusOf(arg);
  *result_listener << "which is " << s.ToString();
  if (s.code() != code) return false;
  return testing::ExplainMatchResult(message_matcher, std::string(s.message()),
                                     result_listener);
}

MATCHER_P(IsOkAndHolds, value_matcher,
          std::string(negation ? "isn't" : "is") +
              " OK and holds a value that " +
              testing::DescribeMatcher<
                  std::remove_cvref_t<decltype(*std::declval<arg_type>())>>(
                  value_matcher)) {
  if (!arg.ok()) {
    *result_listener << "which is " << arg.status().ToString();
    return false;
  }
  return testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

}  // namespace testutil
}  // namespace weir

#define EXPECT_OK(expr) EXPECT_PRED_FORMAT1(::weir::testutil::AssertOk, expr)
#define ASSERT_OK(expr) ASSERT_PRED_FORMAT1(::weir::testutil::AssertOk, expr)

#define WEIR_TESTUTIL_CONCAT_INNER(a, b) a##b
#define WEIR_TESTUTIL_CONCAT(a, b) WEIR_TESTUTIL_CONCAT_INNER(a, b)
#define ASSERT_OK_AND_ASSIGN(lhs, expr)    \
  WEIR_TESTUTIL_ASSERT_OK_AND_ASSIGN_IMPL( \
      WEIR_TESTUTIL_CONCAT(weir_testutil_result_, __LINE__), lhs, expr)
#define WEIR_TESTUTIL_ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)             \
  auto tmp = (expr);                                                        \
  ASSERT_TRUE(tmp.ok()) << #expr << " failed: " << tmp.status().ToString(); \
  lhs = std::move(tmp).value()
