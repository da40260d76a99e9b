// SPDX-License-Identifier: Apache-2.0
//
// A broker that requires a user and password: the right ones work; wrong
// ones fail the source and the sink with one error that names them and
// the cause, and never shows the password.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <weir/job.h>
#include <weir/nats.h>
#include <weir/sinks.h>
#include <weir/stream.h>

#include "tests/connectors/nats/nats_test_util.h"

namespace weir::natstest {
namespace {

using namespace std::chrono_literals;
using testing::HasSubstr;
using testing::Not;
using testutil::StatusIs;

constexpr char kUser[] = "weir";
constexpr char kPassword[] = "s3cret-pw";
constexpr char kWrongPassword[] = "wr0ng-pw";

class NatsCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NatsServerInstalled()) GTEST_SKIP() << "nats-server is not installed";
    dir_.Create();
    server_ = std::make_unique<NatsServer>(dir_.Sub("nats"));
    server_->RequireAuth(kUser, kPassword);
    ASSERT_OK(server_->Start());
    ASSERT_OK(CreateStream(server_->auth_url(), {"EVENTS", {"events"}}));
    ASSERT_OK(CreateStream(server_->auth_url(), {"OUT", {"out"}}));
    ASSERT_OK(Publish(server_->auth_url(), {{"events", "a"}, {"events", "b"}}));
  }

  std::string UrlWith(const std::string& password) const {
    return "nats://" + std::string(kUser) + ":" + password +
           "@127.0.0.1:" + std::to_string(server_->port());
  }

  // Runs events -> out (bounded) with `password`; the job's result.
  Status RunJob(const std::string& password) {
    NatsSourceOptions source;
    source.connection.servers = {UrlWith(password)};
    source.stream = "EVENTS";
    source.bounded = true;
    NatsSinkOptions sink;
    sink.connection.servers = {UrlWith(password)};
    sink.subject = "out";
    sink.delivery = NatsSinkOptions::Delivery::kAtLeastOnce;
    JobBuilder b("credentials");
    b.AddSource<std::string>(
         NatsSource<std::string>::Factory(source, NatsRawBytes), "events")
        .Uid("events")
        .SinkTo(NatsSink<std::string>::Factory(
            sink, [](const std::string& s) { return s; }))
        .Name("out")
        .Uid("out");
    Result<std::unique_ptr<Job>> job = b.Build();
    if (!job.ok()) return job.status();
    Status s = (*job)->Start();
    if (!s.ok()) return s;
    if (!(*job)->WaitFor(60s)) return Status::Aborted("job did not end");
    return (*job)->Wait();
  }

  testutil::TestDir dir_;
  std::unique_ptr<NatsServer> server_;
};

TEST_F(NatsCredentialsTest, RightPasswordReadsAndWrites) {
  ASSERT_OK(RunJob(kPassword));
  std::vector<StoredMessage> out;
  ASSERT_OK(ReadStream(server_->auth_url(), "OUT", &out));
  EXPECT_EQ(out.size(), 2u);
}

TEST_F(NatsCredentialsTest, WrongPasswordFailsTheSourceNamingTheCause) {
  auto backend = NewBackend();
  FakeContext ctx(backend.get(), "events", 0, 1);
  NatsSourceOptions options;
  options.connection.servers = {UrlWith(kWrongPassword)};
  options.stream = "EVENTS";
  NatsSource<std::string> source(options, NatsRawBytes);
  Status s = source.Open(ctx);
  EXPECT_THAT(s, StatusIs(Status::Code::kIOError));
  EXPECT_THAT(s.ToString(), HasSubstr("NATS source 'events': cannot connect"));
  EXPECT_THAT(s.ToString(), HasSubstr("Authorization Violation"));
  EXPECT_THAT(s.ToString(), Not(HasSubstr("conn.c")));  // no client internals
  EXPECT_THAT(s.ToString(), Not(HasSubstr(kWrongPassword)));
  ASSERT_OK(source.Close());
}

TEST_F(NatsCredentialsTest, WrongPasswordFailsTheSinkNamingTheCause) {
  auto backend = NewBackend();
  FakeContext ctx(backend.get(), "out", 0, 1);
  NatsSinkOptions options;
  options.connection.servers = {UrlWith(kWrongPassword)};
  options.subject = "out";
  NatsSink<std::string> sink(options, [](const std::string& s) { return s; });
  Status s = sink.Open(ctx);
  EXPECT_THAT(s, StatusIs(Status::Code::kIOError));
  EXPECT_THAT(s.ToString(), HasSubstr("NATS sink 'out': cannot connect"));
  EXPECT_THAT(s.ToString(), HasSubstr("Authorization Violation"));
  EXPECT_THAT(s.ToString(), Not(HasSubstr(kWrongPassword)));
  ASSERT_OK(sink.Close());
}

// In a job: the job fails with the source's error; nothing in the job's
// failures shows the password.
TEST_F(NatsCredentialsTest, WrongPasswordFailsTheJob) {
  Status s = RunJob(kWrongPassword);
  EXPECT_THAT(s, StatusIs(Status::Code::kIOError));
  EXPECT_THAT(s.ToString(), HasSubstr("Authorization Violation"));
  EXPECT_THAT(s.ToString(), testing::AnyOf(HasSubstr("NATS source 'events'"),
                                           HasSubstr("NATS sink 'out'")));
  EXPECT_THAT(s.ToString(), Not(HasSubstr(kWrongPassword)));
}

}  // namespace
}  // namespace weir::natstest
