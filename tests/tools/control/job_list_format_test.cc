// SPDX-License-Identifier: Apache-2.0
#include "tools/control/job_list_format.h"

#include <time.h>

#include <cstdlib>
#include <optional>
#include <string>

#include <gtest/gtest.h>

namespace weir::tools {
namespace {

JobInfo Job(std::string_view hex, std::string name, JobStatus status,
            int64_t start) {
  JobInfo job;
  job.id = JobId::FromHex(hex).value_or(JobId());
  job.name = std::move(name);
  job.status = status;
  job.start_time_ms = start;
  return job;
}

// Runs the test in UTC, whatever the machine's zone.
class JobListFormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* tz = std::getenv("TZ")) old_tz_ = tz;
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
  void TearDown() override {
    if (old_tz_) {
      ::setenv("TZ", old_tz_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }

 private:
  std::optional<std::string> old_tz_;
};

TEST_F(JobListFormatTest, StartTimeIsDayMonthYear) {
  EXPECT_EQ(FormatStartTime(1'700'000'000'123), "14.11.2023 22:13:20");
  EXPECT_EQ(FormatStartTime(0), "-");
}

TEST_F(JobListFormatTest, ListsRunningJobsOldestFirst) {
  const std::string text = FormatJobList({
      Job("fedcba9876543210fedcba9876543210", "second", JobStatus::kRunning,
          1'700'000'060'000),
      Job("0123456789abcdef0123456789abcdef", "word count", JobStatus::kRunning,
          1'700'000'000'000),
      Job("ffffffffffffffffffffffffffffffff", "done", JobStatus::kFinished,
          1'600'000'000'000),
  });
  EXPECT_EQ(text,
            "------------------ Running/Restarting Jobs -------------------\n"
            "14.11.2023 22:13:20 : 0123456789abcdef0123456789abcdef : "
            "word count (RUNNING)\n"
            "14.11.2023 22:14:20 : fedcba9876543210fedcba9876543210 : "
            "second (RUNNING)\n"
            "--------------------------------------------------------------\n");
}

TEST_F(JobListFormatTest, NoRunningJobs) {
  EXPECT_EQ(FormatJobList({}), "No running jobs.\n");
  EXPECT_EQ(FormatJobList({Job("ffffffffffffffffffffffffffffffff", "done",
                               JobStatus::kCanceled, 1)}),
            "No running jobs.\n");
}

TEST_F(JobListFormatTest, TerminatedSectionOnRequest) {
  const std::string text =
      FormatJobList({Job("ffffffffffffffffffffffffffffffff", "done",
                         JobStatus::kFailed, 1'700'000'000'000)},
                    /*include_terminated=*/true);
  EXPECT_EQ(text,
            "No running jobs.\n"
            "---------------------- Terminated Jobs -----------------------\n"
            "14.11.2023 22:13:20 : ffffffffffffffffffffffffffffffff : "
            "done (FAILED)\n"
            "--------------------------------------------------------------\n");
  EXPECT_EQ(FormatJobList({}, true), "No running jobs.\nNo terminated jobs.\n");
}

TEST_F(JobListFormatTest, EndedJobsShowHowTheyEndedAndTheirLog) {
  ListedJob failed;
  failed.info = Job("ffffffffffffffffffffffffffffffff", "sums",
                    JobStatus::kFailed, 1'700'000'000'000);
  failed.details = {
      "ended 14.11.2023 22:14:00, exit code 1: job failed:\nx",
      "log: /run/user/1000/weir/ffffffffffffffffffffffffffffffff.log"};
  ListedJob lost;
  lost.info = Job("eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "gen", JobStatus::kFailed,
                  1'700'000'001'000);
  lost.state = "LOST";
  ListedJob running;
  running.info = Job("0123456789abcdef0123456789abcdef", "live",
                     JobStatus::kRunning, 1'700'000'002'000);
  EXPECT_EQ(
      FormatListedJobs({running, lost, failed}, /*include_terminated=*/true),
      "------------------ Running/Restarting Jobs -------------------\n"
      "14.11.2023 22:13:22 : 0123456789abcdef0123456789abcdef : live "
      "(RUNNING)\n"
      "--------------------------------------------------------------\n"
      "---------------------- Terminated Jobs -----------------------\n"
      "14.11.2023 22:13:20 : ffffffffffffffffffffffffffffffff : sums "
      "(FAILED)\n"
      "    ended 14.11.2023 22:14:00, exit code 1: job failed:?x\n"
      "    log: /run/user/1000/weir/ffffffffffffffffffffffffffffffff.log\n"
      "14.11.2023 22:13:21 : eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee : gen (LOST)\n"
      "--------------------------------------------------------------\n");
  // Without -a only the running ones.
  EXPECT_EQ(FormatListedJobs({lost, failed}, false), "No running jobs.\n");
}

}  // namespace
}  // namespace weir::tools
