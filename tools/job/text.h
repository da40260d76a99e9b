// SPDX-License-Identifier: Apache-2.0
//
// Small text parsers shared by job files and the configuration: integers,
// booleans, durations, and the "did you mean" suggestion for a misspelt
// name. All are pure functions, safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <weir/result.h>

namespace weir::tools {

// A whole decimal integer, with an optional sign. nullopt on anything else
// (empty, trailing characters, out of range).
std::optional<int64_t> ParseInt64(std::string_view text);

// A whole floating-point number ("1", "2.5", "-1e3", "inf"). nullopt on
// anything else.
std::optional<double> ParseDouble(std::string_view text);

// true/false, yes/no, on/off (any case), and 1/0. nullopt on anything else.
std::optional<bool> ParseBool(std::string_view text);

// A duration in milliseconds: a bare integer is milliseconds, otherwise an
// integer followed by a unit, `ms`, `s`, `m` or `h` ("500ms", "5s", "1m",
// "2h"); spaces between number and unit are allowed. Negative durations are
// refused. InvalidArgument names the text and the accepted forms.
Result<int64_t> ParseDurationMs(std::string_view text);

// Formats milliseconds in the largest unit that divides them: "0", "500ms",
// "5s", "1m", "2h".
std::string FormatDurationMs(int64_t ms);

// A memory size in bytes, as Flink writes them: a bare integer is bytes,
// otherwise an integer followed by a unit, `b`, `k`/`kb`, `m`/`mb`,
// `g`/`gb` or `t`/`tb` (any case, powers of 1024: "256mb", "8kb", "1g");
// spaces between number and unit are allowed. InvalidArgument names the
// text and the accepted forms.
Result<int64_t> ParseMemorySize(std::string_view text);

// Formats bytes in the largest unit that divides them: "0", "100b", "8kb",
// "256mb", "1gb", "2tb".
std::string FormatMemorySize(int64_t bytes);

// The candidate closest to `word` by edit distance (a transposition counts
// as one edit), if it is close enough to be a likely typo: at most 2 edits,
// and fewer edits than half of the word's length. nullopt otherwise.
std::optional<std::string> ClosestMatch(
    std::string_view word, const std::vector<std::string>& candidates);

// "a, b, c".
std::string Join(const std::vector<std::string>& items,
                 std::string_view separator = ", ");

}  // namespace weir::tools
