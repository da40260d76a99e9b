// SPDX-License-Identifier: Apache-2.0
#include "tools/control/job_json.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testutil/status_matchers.h"

namespace weir::tools {
namespace {

using ::testing::HasSubstr;
using testutil::StatusIs;
using json = nlohmann::json;

JobId IdOf(std::string_view hex) {
  Result<JobId> id = JobId::FromHex(hex);
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  return id.value_or(JobId());
}

JobInfo SampleJob() {
  JobInfo job;
  job.id = IdOf("0123456789abcdef0123456789abcdef");
  job.name = "word count";
  job.status = JobStatus::kRunning;
  job.start_time_ms = 1'700'000'000'000;
  job.max_parallelism = 128;
  VertexInfo src;
  src.name = "Source: lines -> Map: split";
  src.parallelism = 1;
  src.operators = {
      {"Source: lines", "lines", "11111111111111111111111111111111"},
      {"Map: split", "", "22222222222222222222222222222222"}};
  src.records_out = 42;
  src.running_subtasks = 1;
  VertexInfo agg;
  agg.name = "Window: count -> Sink: out";
  agg.parallelism = 4;
  agg.operators = {
      {"Window: count", "count", "33333333333333333333333333333333"},
      {"Sink: out", "out", "44444444444444444444444444444444"}};
  agg.records_in = 40;
  agg.late_records_dropped = 2;
  agg.records_skipped = 3;
  agg.running_subtasks = 3;
  agg.state_read_mmap = 3;
  agg.state_read_pread = 1;
  job.state_backend = "rocksdb";
  job.vertices = {src, agg};
  return job;
}

void ExpectSameJob(const JobInfo& a, const JobInfo& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.failure, b.failure);
  EXPECT_EQ(a.start_time_ms, b.start_time_ms);
  EXPECT_EQ(a.end_time_ms, b.end_time_ms);
  EXPECT_EQ(a.max_parallelism, b.max_parallelism);
  EXPECT_EQ(a.state_backend, b.state_backend);
  EXPECT_EQ(a.restore.phase, b.restore.phase);
  EXPECT_EQ(a.restore.path, b.restore.path);
  EXPECT_EQ(a.restore.tasks_done, b.restore.tasks_done);
  EXPECT_EQ(a.restore.tasks_total, b.restore.tasks_total);
  EXPECT_EQ(a.restore.files_done, b.restore.files_done);
  EXPECT_EQ(a.restore.files_total, b.restore.files_total);
  EXPECT_EQ(a.restore.bytes_done, b.restore.bytes_done);
  EXPECT_EQ(a.restore.bytes_total, b.restore.bytes_total);
  EXPECT_EQ(a.restore.start_time_ms, b.restore.start_time_ms);
  EXPECT_EQ(a.restore.end_time_ms, b.restore.end_time_ms);
  EXPECT_EQ(a.restore.estimated_ms_left, b.restore.estimated_ms_left);
  ASSERT_EQ(a.vertices.size(), b.vertices.size());
  for (size_t vertex_idx = 0; vertex_idx < a.vertices.size(); ++vertex_idx) {
    const VertexInfo& va = a.vertices[vertex_idx];
    const VertexInfo& vb = b.vertices[vertex_idx];
    EXPECT_EQ(va.name, vb.name);
    EXPECT_EQ(va.parallelism, vb.parallelism);
    EXPECT_EQ(va.records_in, vb.records_in);
    EXPECT_EQ(va.records_out, vb.records_out);
    EXPECT_EQ(va.late_records_dropped, vb.late_records_dropped);
    EXPECT_EQ(va.records_skipped, vb.records_skipped);
    EXPECT_EQ(va.running_subtasks, vb.running_subtasks);
    EXPECT_EQ(va.state_read_mmap, vb.state_read_mmap);
    EXPECT_EQ(va.state_read_pread, vb.state_read_pread);
    EXPECT_EQ(va.pending_records, vb.pending_records);
    EXPECT_EQ(va.send_time_us, vb.send_time_us);
    ASSERT_EQ(va.operators.size(), vb.operators.size());
    for (size_t op_idx = 0; op_idx < va.operators.size(); ++op_idx) {
      EXPECT_EQ(va.operators[op_idx].name, vb.operators[op_idx].name);
      EXPECT_EQ(va.operators[op_idx].uid, vb.operators[op_idx].uid);
      EXPECT_EQ(va.operators[op_idx].operator_id,
                vb.operators[op_idx].operator_id);
    }
  }
}

TEST(JobStatusFromName, InvertsJobStatusName) {
  for (JobStatus s :
       {JobStatus::kCreated, JobStatus::kRunning, JobStatus::kFinished,
        JobStatus::kCanceling, JobStatus::kCanceled, JobStatus::kFailed}) {
    EXPECT_EQ(JobStatusFromName(JobStatusName(s)), s);
  }
  EXPECT_EQ(JobStatusFromName("RESTARTING"), std::nullopt);
  EXPECT_EQ(JobStatusFromName("running"), std::nullopt);
}

TEST(JobJson, JobIdsHaveFlinkShape) {
  const json j = JobIdsToJson({SampleJob()});
  EXPECT_EQ(j, json::parse(R"({"jobs":[{"id":"0123456789abcdef0123456789abcdef",
                                        "status":"RUNNING"}]})"));
  EXPECT_EQ(JobIdsToJson({}), json::parse(R"({"jobs":[]})"));
}

TEST(JobJson, DetailsHaveFlinkShape) {
  const JobInfo job = SampleJob();
  const json j = JobDetailsToJson(job, job.start_time_ms + 5000);
  EXPECT_EQ(j["jid"], "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(j["name"], "word count");
  EXPECT_EQ(j["state"], "RUNNING");
  EXPECT_EQ(j["start-time"], 1'700'000'000'000);
  EXPECT_EQ(j["end-time"], -1);
  EXPECT_EQ(j["duration"], 5000);
  EXPECT_EQ(j["maxParallelism"], 128);
  EXPECT_FALSE(j.contains("failure"));
  ASSERT_EQ(j["vertices"].size(), 2u);
  const json& v = j["vertices"][1];
  EXPECT_EQ(v["id"], "33333333333333333333333333333333");
  EXPECT_EQ(v["name"], "Window: count -> Sink: out");
  EXPECT_EQ(v["parallelism"], 4);
  EXPECT_EQ(v["status"], "RUNNING");
  EXPECT_EQ(v["tasks"]["RUNNING"], 3);
  EXPECT_EQ(v["tasks"]["FINISHED"], 1);
  EXPECT_EQ(v["operators"][0],
            json::parse(R"({"name":"Window: count","uid":"count",
                            "id":"33333333333333333333333333333333"})"));
  EXPECT_EQ(v["metrics"], json::parse(R"({"read-records":40,"write-records":0,
                                          "late-records-dropped":2,
                                          "records-skipped":3})"));
}

// The connector gauges (consumer lag, publish acknowledgement time) are in
// a vertex's metrics when a subtask reports them, and absent otherwise.
TEST(JobJson, DetailsCarryConnectorGaugesWhenReported) {
  JobInfo job = SampleJob();
  job.vertices[0].pending_records = 1234;
  job.vertices[1].send_time_us = 5678;
  const json j = JobDetailsToJson(job, job.start_time_ms);
  const json& src = j["vertices"][0]["metrics"];
  const json& sink = j["vertices"][1]["metrics"];
  EXPECT_EQ(src["pending-records"], 1234);
  EXPECT_FALSE(src.contains("send-time-us"));
  EXPECT_EQ(sink["send-time-us"], 5678);
  EXPECT_FALSE(sink.contains("pending-records"));
  ASSERT_OK_AND_ASSIGN(JobInfo back, ParseJobDetails(DumpJson(j)));
  ExpectSameJob(job, back);
}

TEST(JobJson, FailedJobCarriesFailureAndEndTime) {
  JobInfo job = SampleJob();
  job.status = JobStatus::kFailed;
  job.failure = "task 'count' failed: disk full";
  job.end_time_ms = job.start_time_ms + 750;
  for (VertexInfo& v : job.vertices) v.running_subtasks = 0;
  const json j = JobDetailsToJson(job, job.start_time_ms + 99'999);
  EXPECT_EQ(j["failure"], "task 'count' failed: disk full");
  EXPECT_EQ(j["end-time"], job.start_time_ms + 750);
  EXPECT_EQ(j["duration"], 750);
  EXPECT_EQ(j["vertices"][0]["status"], "FAILED");
}

TEST(JobJson, OverviewCountsTasks) {
  const JobInfo job = SampleJob();
  const json j = JobsOverviewToJson({job}, job.start_time_ms + 10);
  ASSERT_EQ(j["jobs"].size(), 1u);
  const json& e = j["jobs"][0];
  EXPECT_EQ(e["jid"], "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(e["name"], "word count");
  EXPECT_EQ(e["state"], "RUNNING");
  EXPECT_EQ(e["duration"], 10);
  EXPECT_EQ(e["tasks"]["total"], 5);
  EXPECT_EQ(e["tasks"]["running"], 4);
  EXPECT_EQ(e["tasks"]["finished"], 1);
}

TEST(JobJson, DetailsRoundTrip) {
  JobInfo job = SampleJob();
  ASSERT_OK_AND_ASSIGN(JobInfo back,
                       ParseJobDetails(DumpJson(JobDetailsToJson(job, 0))));
  ExpectSameJob(job, back);

  job.status = JobStatus::kFailed;
  job.failure = "boom";
  job.end_time_ms = job.start_time_ms + 1;
  for (VertexInfo& v : job.vertices) v.running_subtasks = 0;
  ASSERT_OK_AND_ASSIGN(back,
                       ParseJobDetails(DumpJson(JobDetailsToJson(job, 0))));
  ExpectSameJob(job, back);

  job.status = JobStatus::kCanceling;
  job.failure.clear();
  job.end_time_ms = 0;
  job.vertices[1].running_subtasks = 2;
  ASSERT_OK_AND_ASSIGN(back,
                       ParseJobDetails(DumpJson(JobDetailsToJson(job, 0))));
  ExpectSameJob(job, back);
}

TEST(JobJson, RestoreRoundTripsAndIsAbsentWithoutOne) {
  JobInfo job = SampleJob();
  EXPECT_FALSE(JobDetailsToJson(job, 0).contains("restore"));
  job.restore.phase = RestoreInfo::Phase::kRestored;
  job.restore.path = "/sp/_metadata";
  job.restore.tasks_done = job.restore.tasks_total = 5;
  job.restore.files_done = job.restore.files_total = 17;
  job.restore.bytes_done = job.restore.bytes_total = uint64_t{5} << 33;
  job.restore.start_time_ms = job.start_time_ms - 2000;
  job.restore.end_time_ms = job.start_time_ms - 1;
  const json j = JobDetailsToJson(job, 0);
  EXPECT_EQ(j["restore"]["phase"], "RESTORED");
  ASSERT_OK_AND_ASSIGN(JobInfo back, ParseJobDetails(DumpJson(j)));
  ExpectSameJob(job, back);

  json bad = j;
  bad["restore"]["phase"] = "SLEEPING";
  EXPECT_THAT(ParseJobDetails(bad.dump()),
              StatusIs(Status::Code::kInvalidArgument, HasSubstr("phase")));
}

TEST(JobJson, CreatedJobRoundTripsWithoutTimes) {
  JobInfo job;
  job.id = IdOf("ffffffffffffffffffffffffffffffff");
  job.name = "new";
  const json j = JobDetailsToJson(job, 123);
  EXPECT_EQ(j["start-time"], -1);
  EXPECT_EQ(j["duration"], 0);
  ASSERT_OK_AND_ASSIGN(JobInfo back, ParseJobDetails(DumpJson(j)));
  ExpectSameJob(job, back);
}

TEST(JobJson, OverviewAndIdsRoundTrip) {
  JobInfo a = SampleJob();
  JobInfo b = SampleJob();
  b.id = IdOf("fedcba9876543210fedcba9876543210");
  b.name = "other";
  b.status = JobStatus::kFinished;
  b.end_time_ms = b.start_time_ms + 3;
  ASSERT_OK_AND_ASSIGN(
      std::vector<JobInfo> jobs,
      ParseJobsOverview(DumpJson(JobsOverviewToJson({a, b}, 0))));
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[1].id, b.id);
  EXPECT_EQ(jobs[1].name, "other");
  EXPECT_EQ(jobs[1].status, JobStatus::kFinished);
  EXPECT_EQ(jobs[1].start_time_ms, b.start_time_ms);
  EXPECT_EQ(jobs[1].end_time_ms, b.end_time_ms);
  EXPECT_EQ(jobs[0].end_time_ms, 0);

  ASSERT_OK_AND_ASSIGN(std::vector<JobIdAndStatus> ids,
                       ParseJobIds(DumpJson(JobIdsToJson({a, b}))));
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0].id, a.id);
  EXPECT_EQ(ids[0].status, JobStatus::kRunning);
  EXPECT_EQ(ids[1].status, JobStatus::kFinished);
}

TEST(JobJson, InvalidUtf8IsReplacedNotThrown) {
  JobInfo job = SampleJob();
  job.name = "bad \xff name";
  std::string text = DumpJson(JobDetailsToJson(job, 0));
  ASSERT_OK_AND_ASSIGN(JobInfo back, ParseJobDetails(text));
  EXPECT_EQ(back.name, "bad \xEF\xBF\xBD name");
}

TEST(JobJson, MalformedJsonIsAnError) {
  EXPECT_THAT(
      ParseJobDetails("{\"jid\": "),
      StatusIs(Status::Code::kInvalidArgument, HasSubstr("malformed JSON")));
  EXPECT_THAT(ParseJobDetails(""), StatusIs(Status::Code::kInvalidArgument));
  EXPECT_THAT(ParseJobsOverview("[1, 2"),
              StatusIs(Status::Code::kInvalidArgument));
  EXPECT_THAT(ParseJobIds("not json"),
              StatusIs(Status::Code::kInvalidArgument));
}

TEST(JobJson, WrongShapeNamesTheField) {
  EXPECT_THAT(ParseJobDetails("[]"),
              StatusIs(Status::Code::kInvalidArgument, HasSubstr("object")));
  json j = JobDetailsToJson(SampleJob(), 0);
  j.erase("name");
  EXPECT_THAT(ParseJobDetails(j.dump()),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("\"name\" is missing")));
  j = JobDetailsToJson(SampleJob(), 0);
  j["jid"] = "xyz";
  EXPECT_THAT(ParseJobDetails(j.dump()),
              StatusIs(Status::Code::kInvalidArgument, HasSubstr("\"jid\"")));
  j = JobDetailsToJson(SampleJob(), 0);
  j["state"] = "RESTARTING";
  EXPECT_THAT(
      ParseJobDetails(j.dump()),
      StatusIs(Status::Code::kInvalidArgument, HasSubstr("RESTARTING")));
  j = JobDetailsToJson(SampleJob(), 0);
  j["vertices"][1]["parallelism"] = "four";
  EXPECT_THAT(ParseJobDetails(j.dump()),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("vertex 1: field \"parallelism\"")));
  j = JobDetailsToJson(SampleJob(), 0);
  j["vertices"][0]["parallelism"] = 1e30;
  EXPECT_THAT(ParseJobDetails(j.dump()),
              StatusIs(Status::Code::kInvalidArgument));
  j = JobDetailsToJson(SampleJob(), 0);
  j["vertices"][0]["operators"][1] = 7;
  EXPECT_THAT(
      ParseJobDetails(j.dump()),
      StatusIs(Status::Code::kInvalidArgument, HasSubstr("operator 1")));
  EXPECT_THAT(ParseJobsOverview(R"({"jobs":{}})"),
              StatusIs(Status::Code::kInvalidArgument, HasSubstr("array")));
  EXPECT_THAT(
      ParseJobIds(R"({"jobs":[{"id":"0123456789abcdef0123456789abcdef"}]})"),
      StatusIs(Status::Code::kInvalidArgument, HasSubstr("status")));
}

TEST(JobJson, ErrorBody) {
  EXPECT_EQ(ErrorJson("Job x not found"),
            json::parse(R"({"errors":["Job x not found"]})"));
  EXPECT_EQ(ParseErrorMessage(R"({"errors":["a","b"]})"), "a; b");
  EXPECT_EQ(ParseErrorMessage(R"({"jobs":[]})"), std::nullopt);
  EXPECT_EQ(ParseErrorMessage("<html>"), std::nullopt);
}

}  // namespace
}  // namespace weir::tools
