// SPDX-License-Identifier: Apache-2.0
#include "tools/log/log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testutil/temp_dir.h"

namespace weir::tools::log {
namespace {

using ::testing::HasSubstr;

// 2023-11-14T22:13:20.123Z
constexpr int64_t kT = 1'700'000'000'123;

TEST(LogFormat, PlainLinesHaveTheUtcTimeAndTheLevel) {
  EXPECT_EQ(FormatLines(Level::kInfo, "Restoring job 12", Style::kPlain, kT),
            "2023-11-14T22:13:20.123Z INFO  Restoring job 12\n");
  EXPECT_EQ(FormatLines(Level::kWarn, "w", Style::kPlain, kT),
            "2023-11-14T22:13:20.123Z WARN  w\n");
  EXPECT_EQ(FormatLines(Level::kError, "e", Style::kPlain, kT),
            "2023-11-14T22:13:20.123Z ERROR e\n");
  EXPECT_EQ(FormatLines(Level::kDebug, "d", Style::kPlain, kT),
            "2023-11-14T22:13:20.123Z DEBUG d\n");
}

TEST(LogFormat, CommandLinesReadAsAUnixToolsMessages) {
  EXPECT_EQ(FormatLines(Level::kError, "no such job", Style::kCommand, kT),
            "weir: error: no such job\n");
  EXPECT_EQ(FormatLines(Level::kWarn, "w", Style::kCommand, kT),
            "weir: warning: w\n");
  EXPECT_EQ(FormatLines(Level::kInfo, "Triggering", Style::kCommand, kT),
            "Triggering\n");
  EXPECT_EQ(FormatLines(Level::kDebug, "d", Style::kCommand, kT),
            "weir: debug: d\n");
}

TEST(LogFormat, JournalLinesHaveTheSdDaemonPriority) {
  EXPECT_EQ(FormatLines(Level::kDebug, "d", Style::kJournal, kT), "<7>d\n");
  EXPECT_EQ(FormatLines(Level::kInfo, "i", Style::kJournal, kT), "<6>i\n");
  EXPECT_EQ(FormatLines(Level::kWarn, "w", Style::kJournal, kT), "<4>w\n");
  EXPECT_EQ(FormatLines(Level::kError, "e", Style::kJournal, kT), "<3>e\n");
}

TEST(LogFormat, EveryLineOfAMessageIsPrefixed) {
  EXPECT_EQ(FormatLines(Level::kError, "one\ntwo\n", Style::kJournal, kT),
            "<3>one\n<3>two\n");
  EXPECT_EQ(FormatLines(Level::kInfo, "", Style::kJournal, kT), "<6>\n");
  EXPECT_EQ(FormatLines(Level::kInfo, "a\n\nb", Style::kJournal, kT),
            "<6>a\n<6>\n<6>b\n");
}

TEST(LogFormat, ControlCharactersAreEscaped) {
  // A carriage return or an escape sequence in a path cannot rewrite the
  // line or the terminal; a tab and UTF-8 stay.
  EXPECT_EQ(FormatLines(Level::kInfo, "a\rb\x1b[2Jc\td\x7f\xc3\xa9",
                        Style::kJournal, kT),
            "<6>a\\x0db\\x1b[2Jc\td\\x7f\xc3\xa9\n");
}

TEST(LogFormat, UtcTimes) {
  EXPECT_EQ(FormatUtc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatUtc(kT), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(FormatUtc(-1), "1969-12-31T23:59:59.999Z");
}

TEST(LogLevels, TheThresholdDropsLowerLevels) {
  const Level before = Threshold();
  SetThreshold(Level::kWarn);  // -q
  EXPECT_FALSE(Enabled(Level::kDebug));
  EXPECT_FALSE(Enabled(Level::kInfo));
  EXPECT_TRUE(Enabled(Level::kWarn));
  EXPECT_TRUE(Enabled(Level::kError));
  SetThreshold(Level::kDebug);  // -v
  EXPECT_TRUE(Enabled(Level::kDebug));
  SetThreshold(before);
}

TEST(LogStyle, JournalOnlyWhenJournalStreamNamesTheDescriptorsFile) {
  testutil::TestDir dir;
  dir.Create();
  const std::string path = dir.Sub("stream");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  struct stat st;
  ASSERT_EQ(::fstat(fd, &st), 0);
  const std::string mine =
      std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  EXPECT_EQ(DetectStyle(mine.c_str(), fd), Style::kJournal);
  // Inherited from a parent whose stderr was the journal, but this stderr
  // is another file: plain.
  const std::string other =
      std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
  EXPECT_EQ(DetectStyle(other.c_str(), fd), Style::kPlain);
  EXPECT_EQ(DetectStyle(nullptr, fd), Style::kPlain);
  for (const char* bad : {"", ":", "1", "1:", ":1", "a:b", "1:2:3", "-1:2",
                          "99999999999999999999999:1"}) {
    EXPECT_EQ(DetectStyle(bad, fd), Style::kPlain) << bad;
  }
  // A closed descriptor cannot be the journal.
  ::close(fd);
  EXPECT_EQ(DetectStyle(mine.c_str(), fd), Style::kPlain);
}

TEST(LogWrite, WritesToStderrAboveTheThreshold) {
  const Level before = Threshold();
  SetThreshold(Level::kInfo);
  ::testing::internal::CaptureStderr();
  Debug("hidden");
  Info("shown");
  Error("bad");
  const std::string err = ::testing::internal::GetCapturedStderr();
  SetThreshold(before);
  EXPECT_THAT(err, ::testing::Not(HasSubstr("hidden")));
  EXPECT_THAT(err, HasSubstr("shown\n"));
  EXPECT_THAT(err, HasSubstr("bad\n"));
}

}  // namespace
}  // namespace weir::tools::log
