// SPDX-License-Identifier: Apache-2.0
//
// The event lines of the `weir` binary: one line per event on stderr, with a
// level that journald understands. The library never logs (it returns
// Status); the commands in tools/ report through these functions. A
// command's answer (`weir savepoint` printing the path, `weir list`) is not
// an event: it goes to stdout, unprefixed, as before.
//
// When stderr is the journal (systemd sets JOURNAL_STREAM to
// "<device>:<inode>" of the stream it connected, and stderr is that stream),
// a line is the sd-daemon priority prefix and the message, and journald
// adds the time:
//
//   <6>Restoring job 9330866def2496d5d6b2f9e9d3d879ff from ...
//
// Anywhere else, the lines of `weir run` (a process that runs for long, and
// whose stderr is often a file) start with the UTC time and the level:
//
//   2026-11-24T11:42:30.003Z INFO  Restoring job 9330866def2496d5d6b2f9e9...
//
// and those of the other commands (one-shot, run from a shell) read as a Unix
// tool's: "weir: error: ...", "weir: warning: ...", "weir: debug: ..." and
// information lines as they are.
//
// Levels: DEBUG (<7>), INFO (<6>), WARN (<4>), ERROR (<3>). Lines below the
// threshold are dropped: INFO by default, WARN with -q, DEBUG with -v.
//
// A message of several lines is written as one prefixed line per line;
// other control characters are written as \xNN, so that a path in a
// message cannot forge a line or move a terminal's cursor.
//
// Thread safety: every function may be called from any thread; a line is
// written with one write(2), so lines of several threads do not mix.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace weir::tools::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

enum class Style {
  kPlain,    // "<UTC time> <LEVEL> <message>"
  kJournal,  // "<N><message>"
  kCommand,  // "weir: error: <message>"; information lines unprefixed
};

// The least level that is written; kInfo until set.
void SetThreshold(Level level);
Level Threshold();
bool Enabled(Level level);

// kJournal if `journal_stream` (the value of $JOURNAL_STREAM, may be null)
// is "<device>:<inode>" in decimal and names the file open on `fd`; else
// kPlain. A malformed value is kPlain.
Style DetectStyle(const char* journal_stream, int fd);

// Detects the style of stderr (DetectStyle($JOURNAL_STREAM, 2)), kCommand
// instead of kPlain for a one-shot command. Called once at start, and again
// after stderr was redirected (a detached job's log file).
void Init(bool one_shot = false);
Style CurrentStyle();

// The text written for one event: one "\n"-terminated line per line of
// `message` (an empty message is one empty line), prefixed as `style` says,
// with `unix_ms` as the time of kPlain.
std::string FormatLines(Level level, std::string_view message, Style style,
                        int64_t unix_ms);

// "2026-11-24T11:42:30.003Z": `unix_ms` as UTC, ISO 8601, milliseconds.
std::string FormatUtc(int64_t unix_ms);

// Writes `message` to stderr if `level` is at least the threshold.
void Write(Level level, std::string_view message);
inline void Debug(std::string_view message) { Write(Level::kDebug, message); }
inline void Info(std::string_view message) { Write(Level::kInfo, message); }
inline void Warn(std::string_view message) { Write(Level::kWarn, message); }
inline void Error(std::string_view message) { Write(Level::kError, message); }

// Where the lines go, for `weir run`'s "Logs:" line: "the journal" when
// stderr is the journal, the file's path when stderr is a regular file,
// else "stderr".
std::string Destination();

}  // namespace weir::tools::log
