// SPDX-License-Identifier: Apache-2.0
#include "tools/log/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace weir::tools::log {

namespace {

std::atomic<int> g_threshold{static_cast<int>(Level::kInfo)};
std::atomic<int> g_style{static_cast<int>(Style::kPlain)};

// A decimal number of at most 20 digits that fits in uint64_t.
bool ParseDecimal(std::string_view text, uint64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (n > (UINT64_MAX - digit) / 10) return false;
    n = n * 10 + digit;
  }
  *out = n;
  return true;
}

const char* LevelWord(Level level) {
  switch (level) {
    case Level::kDebug:
      return "DEBUG";
    case Level::kInfo:
      return "INFO ";
    case Level::kWarn:
      return "WARN ";
    case Level::kError:
      return "ERROR";
  }
  return "ERROR";
}

// sd-daemon(3) priorities: LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR.
const char* JournalPrefix(Level level) {
  switch (level) {
    case Level::kDebug:
      return "<7>";
    case Level::kInfo:
      return "<6>";
    case Level::kWarn:
      return "<4>";
    case Level::kError:
      return "<3>";
  }
  return "<3>";
}

void AppendEscaped(std::string_view line, std::string* out) {
  for (char c : line) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) {
      char buf[5];
      std::snprintf(buf, sizeof(buf), "\\x%02x", u);
      out->append(buf);
    } else {
      out->push_back(c);
    }
  }
}

void WriteAll(const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n =
        ::write(STDERR_FILENO, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to report it
    done += static_cast<size_t>(n);
  }
}

}  // namespace

void SetThreshold(Level level) { g_threshold.store(static_cast<int>(level)); }

Level Threshold() { return static_cast<Level>(g_threshold.load()); }

bool Enabled(Level level) {
  return static_cast<int>(level) >= g_threshold.load();
}

Style DetectStyle(const char* journal_stream, int fd) {
  if (journal_stream == nullptr) return Style::kPlain;
  const std::string_view value(journal_stream);
  const size_t colon = value.find(':');
  if (colon == std::string_view::npos) return Style::kPlain;
  uint64_t dev = 0;
  uint64_t ino = 0;
  if (!ParseDecimal(value.substr(0, colon), &dev) ||
      !ParseDecimal(value.substr(colon + 1), &ino)) {
    return Style::kPlain;
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) return Style::kPlain;
  return static_cast<uint64_t>(st.st_dev) == dev &&
                 static_cast<uint64_t>(st.st_ino) == ino
             ? Style::kJournal
             : Style::kPlain;
}

void Init(bool one_shot) {
  Style style = DetectStyle(std::getenv("JOURNAL_STREAM"), STDERR_FILENO);
  if (style == Style::kPlain && one_shot) style = Style::kCommand;
  g_style.store(static_cast<int>(style));
}

Style CurrentStyle() { return static_cast<Style>(g_style.load()); }

std::string FormatUtc(int64_t unix_ms) {
  const int64_t secs = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
  const int ms = static_cast<int>(unix_ms - secs * 1000);
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (::gmtime_r(&t, &tm) == nullptr) return "0000-00-00T00:00:00.000Z";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, ms);
  return buf;
}

std::string FormatLines(Level level, std::string_view message, Style style,
                        int64_t unix_ms) {
  std::string prefix;
  if (style == Style::kJournal) {
    prefix = JournalPrefix(level);
  } else if (style == Style::kCommand) {
    static constexpr const char* kCommandPrefix[] = {
        "weir: debug: ", "", "weir: warning: ", "weir: error: "};
    prefix = kCommandPrefix[static_cast<int>(level)];
  } else {
    prefix = FormatUtc(unix_ms) + " " + LevelWord(level) + " ";
  }
  // A trailing newline ends the last line; it does not start another.
  if (!message.empty() && message.back() == '\n') message.remove_suffix(1);
  std::string out;
  for (;;) {
    const size_t nl = message.find('\n');
    out += prefix;
    AppendEscaped(message.substr(0, nl), &out);
    out += '\n';
    if (nl == std::string_view::npos) break;
    message.remove_prefix(nl + 1);
  }
  return out;
}

void Write(Level level, std::string_view message) {
  if (!Enabled(level)) return;
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count();
  WriteAll(FormatLines(level, message, CurrentStyle(), now_ms));
}

std::string Destination() {
  if (CurrentStyle() == Style::kJournal) return "the journal";
  struct stat st;
  if (::fstat(STDERR_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
    char buf[4096];
    const ssize_t n = ::readlink("/proc/self/fd/2", buf, sizeof(buf) - 1);
    if (n > 0 && buf[0] == '/') return std::string(buf, static_cast<size_t>(n));
  }
  return "stderr";
}

}  // namespace weir::tools::log
