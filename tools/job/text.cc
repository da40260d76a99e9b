// SPDX-License-Identifier: Apache-2.0
#include "tools/job/text.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <system_error>

namespace weir::tools {

std::optional<int64_t> ParseInt64(std::string_view text) {
  // from_chars refuses a leading '+', which people do write.
  if (text.size() > 1 && text[0] == '+' && text[1] != '-')
    text.remove_prefix(1);
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

std::optional<double> ParseDouble(std::string_view text) {
  if (text.size() > 1 && text[0] == '+' && text[1] != '-')
    text.remove_prefix(1);
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text[0]))) {
    text.remove_prefix(1);
  }
  while (!text.empty() &&
         std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

// Optimal string alignment distance (Levenshtein plus adjacent swaps).
size_t EditDistance(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  const size_t m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1, 0));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] =
          std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

}  // namespace

std::optional<bool> ParseBool(std::string_view text) {
  const std::string lower = Lower(text);
  if (lower == "true" || lower == "yes" || lower == "on" || lower == "1") {
    return true;
  }
  if (lower == "false" || lower == "no" || lower == "off" || lower == "0") {
    return false;
  }
  return std::nullopt;
}

Result<int64_t> ParseDurationMs(std::string_view text) {
  const std::string_view trimmed = Trim(text);
  size_t digits = 0;
  while (digits < trimmed.size() &&
         std::isdigit(static_cast<unsigned char>(trimmed[digits]))) {
    ++digits;
  }
  const std::string unit = Lower(Trim(trimmed.substr(digits)));
  std::optional<int64_t> number = ParseInt64(trimmed.substr(0, digits));
  int64_t factor = 0;
  if (unit.empty() || unit == "ms") {
    factor = 1;
  } else if (unit == "s") {
    factor = 1000;
  } else if (unit == "m" || unit == "min") {
    factor = 60 * 1000;
  } else if (unit == "h") {
    factor = 60 * 60 * 1000;
  }
  if (!number || factor == 0) {
    return Status::InvalidArgument(
        "invalid duration '" + std::string(text) +
        "' (use milliseconds, or a number with a unit: 500ms, 5s, 1m, 2h)");
  }
  if (*number > std::numeric_limits<int64_t>::max() / factor) {
    return Status::InvalidArgument("duration '" + std::string(text) +
                                   "' is too large");
  }
  return *number * factor;
}

Result<int64_t> ParseMemorySize(std::string_view text) {
  const std::string_view trimmed = Trim(text);
  size_t digits = 0;
  while (digits < trimmed.size() &&
         std::isdigit(static_cast<unsigned char>(trimmed[digits]))) {
    ++digits;
  }
  const std::string unit = Lower(Trim(trimmed.substr(digits)));
  std::optional<int64_t> number = ParseInt64(trimmed.substr(0, digits));
  int64_t factor = 0;
  if (unit.empty() || unit == "b") {
    factor = 1;
  } else if (unit == "k" || unit == "kb") {
    factor = int64_t{1} << 10;
  } else if (unit == "m" || unit == "mb") {
    factor = int64_t{1} << 20;
  } else if (unit == "g" || unit == "gb") {
    factor = int64_t{1} << 30;
  } else if (unit == "t" || unit == "tb") {
    factor = int64_t{1} << 40;
  }
  if (!number || factor == 0) {
    return Status::InvalidArgument(
        "invalid memory size '" + std::string(text) +
        "' (use bytes, or a number with a unit: 8kb, 256mb, 1gb)");
  }
  if (*number > std::numeric_limits<int64_t>::max() / factor) {
    return Status::InvalidArgument("memory size '" + std::string(text) +
                                   "' is too large");
  }
  return *number * factor;
}

std::string FormatMemorySize(int64_t bytes) {
  if (bytes == 0) return "0";
  constexpr const char* kUnits[] = {"tb", "gb", "mb", "kb"};
  for (int i = 0; i < 4; ++i) {
    const int64_t factor = int64_t{1} << (10 * (4 - i));
    if (bytes % factor == 0) return std::to_string(bytes / factor) + kUnits[i];
  }
  return std::to_string(bytes) + "b";
}

std::string FormatDurationMs(int64_t ms) {
  if (ms == 0) return "0";
  constexpr int64_t kHour = 60 * 60 * 1000;
  constexpr int64_t kMinute = 60 * 1000;
  if (ms % kHour == 0) return std::to_string(ms / kHour) + "h";
  if (ms % kMinute == 0) return std::to_string(ms / kMinute) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::optional<std::string> ClosestMatch(
    std::string_view word, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (const std::string& candidate : candidates) {
    const size_t distance = EditDistance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  if (!best || best_distance > 2 || best_distance * 2 >= word.size()) {
    return std::nullopt;
  }
  return best;
}

std::string Join(const std::vector<std::string>& items,
                 std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}

}  // namespace weir::tools
