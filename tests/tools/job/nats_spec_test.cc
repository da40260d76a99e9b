// SPDX-License-Identifier: Apache-2.0
//
// The YAML types nats-source and nats-sink: the block the docs show
// parses to the values it says; each bad value gives one error naming the
// file, the line, the operator and the cause (never a password).
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testutil/status_matchers.h"
#include "tools/job/job_spec.h"

namespace weir::tools {
namespace {

using testing::HasSubstr;
using testing::Not;
using testing::StartsWith;
using testutil::StatusIs;

// The operators of the NATS example of docs/job-files.md, as written.
constexpr const char* kNatsOperators = R"(
  - uid: events
    type: nats-source
    servers: nats://127.0.0.1:4222     # a string or a list
    stream: EVENTS
    subjects: [events.0, events.1]      # one split per subject filter; default: the stream's subjects
    format: json                        # csv | json
    schema: [user:string, amount:int64]
  - uid: out
    type: nats-sink
    servers: nats://127.0.0.1:4222
    subject: totals                     # a stream must capture it
    format: json
    delivery: exactly-once              # or at-least-once
)";

Result<JobSpec> Parse(std::string_view yaml) {
  return ParseJobString(yaml, "jobs/nats.yaml", "/jobs");
}

// Fails with "jobs/nats.yaml:<line>:..." holding every one of `parts`.
testing::Matcher<Result<JobSpec>> FailsAt(int line,
                                          std::vector<std::string> parts) {
  std::vector<testing::Matcher<std::string>> all = {
      StartsWith("jobs/nats.yaml:" + std::to_string(line) + ":")};
  for (const std::string& part : parts) all.push_back(HasSubstr(part));
  return StatusIs(Status::Code::kInvalidArgument, testing::AllOfArray(all));
}

// A job of a nats-source with `extra` lines (its keys start on line 5)
// into a null sink.
std::string Source(const std::string& extra) {
  return "name: j\noperators:\n  - uid: events\n    type: nats-source\n" +
         extra + "  - uid: sink\n    type: null-sink\n";
}
const std::string kSourceKeys =
    "    servers: nats://127.0.0.1:4222\n    stream: EVENTS\n"
    "    format: csv\n    schema: [user:string, amount:int64]\n";

// A generator into a nats-sink with `extra` lines (on line 7 on).
std::string Sink(const std::string& extra) {
  return "name: j\noperators:\n  - uid: gen\n    type: generator\n"
         "  - uid: out\n    type: nats-sink\n" +
         extra;
}

TEST(NatsSpec, ParsesTheDocumentedBlock) {
  ASSERT_OK_AND_ASSIGN(
      JobSpec job, Parse(std::string("name: j\noperators:") + kNatsOperators));
  ASSERT_EQ(job.operators.size(), 2u);
  const OperatorSpec& events = job.operators[0];
  EXPECT_TRUE(events.is_source());
  EXPECT_EQ(events.output_schema.ToString(), "[user:string, amount:int64]");
  const auto& source = std::get<NatsSourceSpec>(events.params);
  EXPECT_EQ(source.connection.servers,
            std::vector<std::string>{"nats://127.0.0.1:4222"});
  EXPECT_EQ(source.stream, "EVENTS");
  EXPECT_EQ(source.subjects,
            (std::vector<std::string>{"events.0", "events.1"}));
  EXPECT_EQ(source.format, "json");
  EXPECT_FALSE(source.bounded);
  EXPECT_EQ(source.on_error, OnError::kFail);
  EXPECT_FALSE(events.has_event_time);

  const OperatorSpec& out = job.operators[1];
  EXPECT_TRUE(out.is_sink());
  EXPECT_EQ(out.inputs, std::vector<int>{0});
  const auto& sink = std::get<NatsSinkSpec>(out.params);
  EXPECT_EQ(sink.connection.servers,
            std::vector<std::string>{"nats://127.0.0.1:4222"});
  EXPECT_EQ(sink.subject, "totals");
  EXPECT_EQ(sink.format, "json");
  EXPECT_TRUE(sink.exactly_once);
  EXPECT_FALSE(sink.min_duplicate_window_ms.has_value());
}

TEST(NatsSpec, SourceOptions) {
  ASSERT_OK_AND_ASSIGN(
      JobSpec job,
      Parse(Source("    servers: [nats://a:4222, tls://b:4222]\n"
                   "    stream: EVENTS\n    bounded: true\n"
                   "    format: csv\n    schema: [user:string, ts:int64]\n"
                   "    on-error: skip\n    timestamp: ts\n"
                   "    out-of-orderness: 2s\n    idle-timeout: 1m\n"
                   "    credentials: creds/weir.creds\n"
                   "    tls:\n      ca-file: /etc/ca.pem\n"
                   "      cert-file: c.pem\n      key-file: k.pem\n"
                   "    reconnect-wait: 50ms\n    reconnect-wait-max: 1s\n"
                   "    max-outage: 30s\n")));
  const OperatorSpec& events = job.operators[0];
  const auto& spec = std::get<NatsSourceSpec>(events.params);
  EXPECT_EQ(spec.connection.servers,
            (std::vector<std::string>{"nats://a:4222", "tls://b:4222"}));
  EXPECT_TRUE(spec.subjects.empty());  // the stream's subjects
  EXPECT_TRUE(spec.bounded);
  EXPECT_EQ(spec.on_error, OnError::kSkip);
  EXPECT_EQ(spec.timestamp_index, 1);
  EXPECT_TRUE(events.has_event_time);
  EXPECT_EQ(spec.out_of_orderness_ms, 2000);
  EXPECT_EQ(spec.idle_timeout_ms, 60000);
  // Paths resolve against the job file's directory.
  EXPECT_EQ(spec.connection.credentials, "/jobs/creds/weir.creds");
  EXPECT_TRUE(spec.connection.tls);
  EXPECT_EQ(spec.connection.tls_ca, "/etc/ca.pem");
  EXPECT_EQ(spec.connection.tls_cert, "/jobs/c.pem");
  EXPECT_EQ(spec.connection.tls_key, "/jobs/k.pem");
  EXPECT_EQ(spec.connection.reconnect_wait_ms, 50);
  EXPECT_EQ(spec.connection.reconnect_wait_max_ms, 1000);
  EXPECT_EQ(spec.connection.max_outage_ms, 30000);
}

TEST(NatsSpec, SinkOptions) {
  ASSERT_OK_AND_ASSIGN(JobSpec job,
                       Parse(Sink("    servers: nats://127.0.0.1:4222\n"
                                  "    subject: totals\n    format: csv\n"
                                  "    delivery: at-least-once\n"
                                  "    min-duplicate-window: 10m\n")));
  const auto& spec = std::get<NatsSinkSpec>(job.operators[1].params);
  EXPECT_EQ(spec.format, "csv");
  EXPECT_FALSE(spec.exactly_once);
  EXPECT_EQ(spec.min_duplicate_window_ms, 600000);
  // Defaults: json, exactly-once.
  ASSERT_OK_AND_ASSIGN(job, Parse(Sink("    servers: nats://h:4222\n"
                                       "    subject: totals\n")));
  const auto& defaults = std::get<NatsSinkSpec>(job.operators[1].params);
  EXPECT_EQ(defaults.format, "json");
  EXPECT_TRUE(defaults.exactly_once);
}

TEST(NatsSpec, SourceErrors) {
  const std::string op = "operator 'events': ";
  EXPECT_THAT(Parse(Source("    stream: EVENTS\n    format: csv\n"
                           "    schema: [a:int64]\n")),
              FailsAt(3, {op, "missing required key 'servers'"}));
  EXPECT_THAT(Parse(Source("    servers: nats://h:4222\n    format: csv\n"
                           "    schema: [a:int64]\n")),
              FailsAt(3, {op, "missing required key 'stream'"}));
  EXPECT_THAT(Parse(Source("    servers: []\n    stream: S\n")),
              FailsAt(5, {op,
                          "'servers' must be a string or a non-empty "
                          "list"}));
  EXPECT_THAT(
      Parse(Source("    servers: weir:pw123@127.0.0.1:4222\n"
                   "    stream: S\n")),
      AllOf(FailsAt(5, {op, "'servers' must be URLs"}),
            StatusIs(Status::Code::kInvalidArgument, Not(HasSubstr("pw123")))));
  EXPECT_THAT(Parse(Source(kSourceKeys + "    subjects: [e.0, e.0]\n")),
              FailsAt(9, {op, "subject 'e.0' is listed twice"}));
  EXPECT_THAT(Parse(Source(kSourceKeys + "    bounded: maybe\n")),
              FailsAt(9, {op, "'bounded' must be true or false"}));
  EXPECT_THAT(Parse(Source(kSourceKeys + "    max-outage: soon\n")),
              FailsAt(9, {op, "'max-outage'", "invalid duration 'soon'"}));
  EXPECT_THAT(Parse(Source(kSourceKeys + "    tls:\n      cert-file: c\n")),
              FailsAt(10, {op, "'tls' needs both 'cert-file' and 'key-file'"}));
  EXPECT_THAT(Parse(Source(kSourceKeys + "    tls:\n      ca: c\n")),
              FailsAt(10, {op, "'ca'"}));
  EXPECT_THAT(
      Parse(Source(kSourceKeys + "    password: pw123\n")),
      AllOf(FailsAt(9, {op, "'password'"}),
            StatusIs(Status::Code::kInvalidArgument, Not(HasSubstr("pw123")))));
  EXPECT_THAT(Parse(Source("    servers: nats://h:4222\n    stream: S\n"
                           "    format: xml\n    schema: [a:int64]\n")),
              FailsAt(7, {op, "'format' must be one of csv|json"}));
}

TEST(NatsSpec, SinkErrors) {
  const std::string op = "operator 'out': ";
  EXPECT_THAT(Parse(Sink("    subject: totals\n")),
              FailsAt(5, {op, "missing required key 'servers'"}));
  EXPECT_THAT(Parse(Sink("    servers: nats://h:4222\n")),
              FailsAt(5, {op, "missing required key 'subject'"}));
  EXPECT_THAT(Parse(Sink("    servers: nats://h:4222\n    subject: t\n"
                         "    delivery: twice\n")),
              FailsAt(9, {op,
                          "'delivery' must be one of "
                          "exactly-once|at-least-once, not 'twice'"}));
  EXPECT_THAT(
      Parse(Sink("    servers: nats://h:4222\n    subject: t\n"
                 "    min-duplicate-window: long\n")),
      FailsAt(9, {op, "'min-duplicate-window'", "invalid duration 'long'"}));
  EXPECT_THAT(Parse(Sink("    servers: nats://h:4222\n    subject: t\n"
                         "    stream: T\n")),
              FailsAt(9, {op, "'stream'"}));
}

}  // namespace
}  // namespace weir::tools
