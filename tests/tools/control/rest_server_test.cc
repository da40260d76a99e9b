// SPDX-License-Identifier: Apache-2.0
#include "tools/control/rest_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testutil/status_matchers.h"
#include "tools/control/job_json.h"
#include "tools/control/rest_client.h"

namespace weir::tools {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using testutil::StatusIs;
using json = nlohmann::json;

constexpr char kHost[] = "127.0.0.1";
constexpr char kJobHex[] = "0123456789abcdef0123456789abcdef";
constexpr char kOtherHex[] = "fedcba9876543210fedcba9876543210";
constexpr int64_t kStart = 1'700'000'000'000;

JobId IdOf(std::string_view hex) {
  return JobId::FromHex(hex).value_or(JobId());
}

class FakeJobDirectory : public JobDirectory {
 public:
  std::vector<JobInfo> ListJobs() override {
    std::lock_guard<std::mutex> lock(mu_);
    return jobs_;
  }
  std::optional<JobInfo> GetJob(const JobId& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const JobInfo& job : jobs_) {
      if (job.id == id) return job;
    }
    return std::nullopt;
  }
  Status CancelJob(const JobId& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (JobInfo& job : jobs_) {
      if (job.id != id) continue;
      cancelled_.push_back(id);
      job.status = JobStatus::kCanceling;
      return Status::OK();
    }
    return Status::NotFound("Job " + id.ToHex() + " not found");
  }

  void Add(JobInfo job) {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(std::move(job));
  }
  std::vector<JobId> cancelled() {
    std::lock_guard<std::mutex> lock(mu_);
    return cancelled_;
  }

 private:
  std::mutex mu_;
  std::vector<JobInfo> jobs_;
  std::vector<JobId> cancelled_;
};

JobInfo RunningJob() {
  JobInfo job;
  job.id = IdOf(kJobHex);
  job.name = "word count";
  job.status = JobStatus::kRunning;
  job.start_time_ms = kStart;
  job.max_parallelism = 128;
  VertexInfo v;
  v.name = "Source: lines -> Sink: out";
  v.parallelism = 2;
  v.operators = {{"Source: lines", "lines", "11111111111111111111111111111111"},
                 {"Sink: out", "", "22222222222222222222222222222222"}};
  v.records_out = 7;
  v.records_in = 5;
  v.late_records_dropped = 1;
  v.records_skipped = 2;
  v.running_subtasks = 2;
  job.vertices = {v};
  return job;
}

// A port on which nothing listens: bound (so no one else gets it while the
// test runs) but never listen()ed, so a connect is refused.
class DeadPort {
 public:
  DeadPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (fd_ < 0 ||
        ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      return;
    }
    socklen_t len = sizeof(addr);
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
  }
  ~DeadPort() {
    if (fd_ >= 0) ::close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

class RestServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    jobs_.Add(RunningJob());
    clock_ = std::make_shared<ManualClock>(kStart + 2500);
    Result<std::unique_ptr<RestServer>> server =
        RestServer::Start(kHost, 0, &jobs_, clock_);
    ASSERT_OK(server);
    server_ = std::move(server).value();
    ASSERT_GT(server_->port(), 0);
  }

  // A TCP connection to the server, for requests httplib's client would
  // not send; -1 on failure.
  int ConnectRaw() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  // Status code and parsed body of a raw request.
  std::pair<int, json> Raw(const std::string& method, const std::string& path) {
    httplib::Client client(kHost, server_->port());
    httplib::Result res = method == "GET"     ? client.Get(path)
                          : method == "PATCH" ? client.Patch(path)
                          : method == "POST"
                              ? client.Post(path, "{}", "application/json")
                              : client.Delete(path);
    if (!res) {
      ADD_FAILURE() << method << " " << path << ": "
                    << httplib::to_string(res.error());
      return {0, json()};
    }
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
    json body = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(body.is_discarded()) << res->body;
    return {res->status, body};
  }

  FakeJobDirectory jobs_;
  std::shared_ptr<ManualClock> clock_;
  std::unique_ptr<RestServer> server_;
};

TEST_F(RestServerTest, ListsJobs) {
  auto [status, body] = Raw("GET", "/jobs");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body,
            json::parse(R"({"jobs":[{"id":"0123456789abcdef0123456789abcdef",
                                          "status":"RUNNING"}]})"));
}

TEST_F(RestServerTest, JobDetailsHaveFieldsAndValues) {
  auto [status, body] = Raw("GET", std::string("/jobs/") + kJobHex);
  ASSERT_EQ(status, 200);
  EXPECT_EQ(body["jid"], kJobHex);
  EXPECT_EQ(body["name"], "word count");
  EXPECT_EQ(body["state"], "RUNNING");
  EXPECT_EQ(body["start-time"], kStart);
  EXPECT_EQ(body["end-time"], -1);
  EXPECT_EQ(body["duration"], 2500);
  EXPECT_EQ(body["maxParallelism"], 128);
  ASSERT_EQ(body["vertices"].size(), 1u);
  const json& v = body["vertices"][0];
  EXPECT_EQ(v["id"], "11111111111111111111111111111111");
  EXPECT_EQ(v["name"], "Source: lines -> Sink: out");
  EXPECT_EQ(v["parallelism"], 2);
  EXPECT_EQ(v["status"], "RUNNING");
  EXPECT_EQ(v["operators"][1]["name"], "Sink: out");
  EXPECT_EQ(v["operators"][0]["uid"], "lines");
  EXPECT_EQ(v["metrics"]["read-records"], 5);
  EXPECT_EQ(v["metrics"]["write-records"], 7);
  EXPECT_EQ(v["metrics"]["late-records-dropped"], 1);
  EXPECT_EQ(v["metrics"]["records-skipped"], 2);
}

// A job restoring its state shows the restore's phase and progress; one
// that restored nothing has no "restore" object.
TEST_F(RestServerTest, JobDetailsShowTheRestore) {
  EXPECT_FALSE(
      Raw("GET", std::string("/jobs/") + kJobHex).second.contains("restore"));
  JobInfo job = RunningJob();
  job.id = IdOf(kOtherHex);
  job.status = JobStatus::kCreated;
  job.restore.phase = RestoreInfo::Phase::kRestoring;
  job.restore.path = "/sp/savepoint-1/_metadata";
  job.restore.tasks_done = 1;
  job.restore.tasks_total = 4;
  job.restore.files_done = 10;
  job.restore.files_total = 40;
  job.restore.bytes_done = uint64_t{3} << 32;  // beyond 32 bits
  job.restore.bytes_total = uint64_t{12} << 32;
  job.restore.start_time_ms = kStart;
  job.restore.estimated_ms_left = 9000;
  jobs_.Add(job);
  auto [status, body] = Raw("GET", std::string("/jobs/") + kOtherHex);
  ASSERT_EQ(status, 200);
  const json& r = body["restore"];
  EXPECT_EQ(r["phase"], "RESTORING");
  EXPECT_EQ(r["path"], "/sp/savepoint-1/_metadata");
  EXPECT_EQ(r["tasks-done"], 1);
  EXPECT_EQ(r["tasks-total"], 4);
  EXPECT_EQ(r["files-done"], 10);
  EXPECT_EQ(r["files-total"], 40);
  EXPECT_EQ(r["bytes-done"], uint64_t{3} << 32);
  EXPECT_EQ(r["bytes-total"], uint64_t{12} << 32);
  EXPECT_EQ(r["start-time"], kStart);
  EXPECT_EQ(r["end-time"], -1);
  EXPECT_EQ(r["estimated-ms-left"], 9000);
}

TEST_F(RestServerTest, OverviewAndConfig) {
  auto [status, body] = Raw("GET", "/jobs/overview");
  ASSERT_EQ(status, 200);
  ASSERT_EQ(body["jobs"].size(), 1u);
  EXPECT_EQ(body["jobs"][0]["jid"], kJobHex);
  EXPECT_EQ(body["jobs"][0]["tasks"]["running"], 2);
  // Flink's JobDetails fields, every one of them.
  std::vector<std::string> fields;
  for (const auto& [key, value] : body["jobs"][0].items())
    fields.push_back(key);
  EXPECT_THAT(fields,
              ::testing::UnorderedElementsAre(
                  "jid", "name", "state", "start-time", "end-time", "duration",
                  "last-modification", "tasks", "pending-operators"));
  EXPECT_EQ(body["jobs"][0]["pending-operators"], 0);
  auto [config_status, config] = Raw("GET", "/config");
  EXPECT_EQ(config_status, 200);
  EXPECT_THAT(config["flink-version"].get<std::string>(), HasSubstr("weir"));
}

TEST_F(RestServerTest, TheV1PrefixNamesTheSameEndpoints) {
  auto [status, body] = Raw("GET", "/v1/jobs/overview");
  ASSERT_EQ(status, 200);
  ASSERT_EQ(body["jobs"].size(), 1u);
  EXPECT_EQ(body["jobs"][0]["jid"], kJobHex);
  EXPECT_EQ(Raw("GET", "/v1/config").first, 200);
  EXPECT_EQ(Raw("GET", std::string("/v1/jobs/") + kOtherHex).first, 404);
  EXPECT_EQ(Raw("GET", "/v1").first, 404);
  EXPECT_EQ(Raw("GET", "/v2/config").first, 404);
}

TEST_F(RestServerTest, UnknownJobIs404) {
  auto [status, body] = Raw("GET", std::string("/jobs/") + kOtherHex);
  EXPECT_EQ(status, 404);
  EXPECT_EQ(body, json::parse(std::string(R"({"errors":["Job )") + kOtherHex +
                              R"( not found"]})"));
}

TEST_F(RestServerTest, MalformedJobIdIs404) {
  auto [status, body] = Raw("GET", "/jobs/not-a-job-id");
  EXPECT_EQ(status, 404);
  ASSERT_TRUE(body["errors"].is_array());
  EXPECT_THAT(body["errors"][0].get<std::string>(), HasSubstr("not-a-job-id"));
  EXPECT_EQ(Raw("PATCH", "/jobs/0123").first, 404);
}

TEST_F(RestServerTest, UnknownPathIs404) {
  auto [status, body] = Raw("GET", "/x");
  EXPECT_EQ(status, 404);
  EXPECT_EQ(body, json::parse(R"({"errors":["Not found: /x"]})"));
  EXPECT_EQ(Raw("GET", std::string("/jobs/") + kJobHex + "/nope").first, 404);
}

TEST_F(RestServerTest, WrongMethodIs405) {
  auto [status, body] = Raw("POST", "/jobs");
  EXPECT_EQ(status, 405);
  EXPECT_THAT(body["errors"][0].get<std::string>(), HasSubstr("POST"));
  EXPECT_EQ(Raw("DELETE", std::string("/jobs/") + kJobHex).first, 405);
}

TEST_F(RestServerTest, PatchCancelsTheJob) {
  auto [status, body] = Raw("PATCH", std::string("/jobs/") + kJobHex);
  EXPECT_EQ(status, 202);
  EXPECT_EQ(body, json::object());
  EXPECT_THAT(jobs_.cancelled(), ElementsAre(IdOf(kJobHex)));
  EXPECT_EQ(jobs_.GetJob(IdOf(kJobHex))->status, JobStatus::kCanceling);
}

TEST_F(RestServerTest, PatchWithOtherModeIsRefused) {
  EXPECT_EQ(Raw("PATCH", std::string("/jobs/") + kJobHex + "?mode=stop").first,
            400);
  EXPECT_TRUE(jobs_.cancelled().empty());
}

TEST_F(RestServerTest, PatchUnknownJobIs404) {
  EXPECT_EQ(Raw("PATCH", std::string("/jobs/") + kOtherHex).first, 404);
  EXPECT_TRUE(jobs_.cancelled().empty());
}

TEST_F(RestServerTest, AddedRoutesGetParamsAndBody) {
  server_->AddRoute(
      "POST", "/jobs/:jobid/savepoints", [](const RestRequest& r) {
        return JsonResponse(
            202, {{"job", r.path_params.at("jobid")}, {"body", r.body}});
      });
  ASSERT_OK_AND_ASSIGN(
      std::string answer,
      HttpPost(kHost, server_->port(),
               std::string("/jobs/") + kJobHex + "/savepoints", "{\"a\":1}"));
  EXPECT_EQ(json::parse(answer),
            json::parse(std::string(R"({"job":")") + kJobHex +
                        R"(","body":"{\"a\":1}"})"));
  // The literal /jobs/overview still wins over /jobs/:jobid.
  EXPECT_EQ(Raw("GET", "/jobs/overview").first, 200);
}

TEST_F(RestServerTest, ClientFetchesJobs) {
  ASSERT_OK_AND_ASSIGN(std::vector<JobInfo> jobs,
                       FetchJobs(kHost, server_->port()));
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].id, IdOf(kJobHex));
  EXPECT_EQ(jobs[0].name, "word count");
  EXPECT_EQ(jobs[0].start_time_ms, kStart);

  ASSERT_OK_AND_ASSIGN(JobInfo job,
                       FetchJob(kHost, server_->port(), IdOf(kJobHex)));
  EXPECT_EQ(job.vertices.at(0).records_out, 7);
  EXPECT_EQ(job.vertices.at(0).running_subtasks, 2);
}

TEST_F(RestServerTest, ClientReportsServerErrors) {
  EXPECT_THAT(
      FetchJob(kHost, server_->port(), IdOf(kOtherHex)),
      StatusIs(Status::Code::kNotFound,
               HasSubstr(std::string("Job ") + kOtherHex + " not found")));
  EXPECT_THAT(HttpPost(kHost, server_->port(), "/jobs", "{}"),
              StatusIs(Status::Code::kNotSupported, HasSubstr("HTTP 405")));
  EXPECT_OK(RequestCancel(kHost, server_->port(), IdOf(kJobHex)));
  EXPECT_THAT(jobs_.cancelled(), ElementsAre(IdOf(kJobHex)));
}

TEST_F(RestServerTest, PortInUseIsAnErrorNamingIt) {
  const int port = server_->port();
  FakeJobDirectory other;
  Result<std::unique_ptr<RestServer>> second =
      RestServer::Start(kHost, port, &other);
  EXPECT_THAT(second, StatusIs(Status::Code::kIOError,
                               HasSubstr("127.0.0.1:" + std::to_string(port))));
  // The first server still answers.
  EXPECT_EQ(Raw("GET", "/jobs").first, 200);
}

TEST_F(RestServerTest, StopIsIdempotentAndClosesThePort) {
  const int port = server_->port();
  server_->Stop();
  server_->Stop();
  EXPECT_THAT(HttpGet(kHost, port, "/jobs", std::chrono::milliseconds(2000)),
              StatusIs(Status::Code::kIOError, HasSubstr("cannot reach weir")));
}

// Ten clients that connect and send half a request hold ten workers, and
// the endpoint still answers others at once: not after their read timeouts
// (5 s), which the client's own 3 s timeout would not wait for.
TEST_F(RestServerTest, SlowClientsHoldUpNoOther) {
  std::vector<int> slow;
  for (int i = 0; i < 10; ++i) {
    const int fd = ConnectRaw();
    ASSERT_GE(fd, 0);
    const std::string half = "GET /jobs HTTP/1.1\r\nHost: x\r\n";
    ASSERT_EQ(::write(fd, half.data(), half.size()),
              static_cast<ssize_t>(half.size()));
    slow.push_back(fd);
  }
  for (int round = 0; round < 3; ++round) {
    EXPECT_OK(HttpGet(kHost, server_->port(), "/jobs",
                      std::chrono::milliseconds(3000)));
  }
  for (int fd : slow) ::close(fd);
}

// A PATCH (or POST) with no Content-Length and no Transfer-Encoding has no
// body: it is answered at once, not after the server waited for a body
// until its read timeout (5 s). The client keeps its side open, as curl
// -X PATCH does, and gives up after 4 s.
TEST_F(RestServerTest, ARequestWithoutContentLengthHasAnEmptyBody) {
  const int fd = ConnectRaw();
  ASSERT_GE(fd, 0);
  timeval tv{4, 0};
  ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
  const std::string request = std::string("PATCH /jobs/") + kJobHex +
                              "?mode=cancel HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::write(fd, request.data(), request.size()),
            static_cast<ssize_t>(request.size()));
  char buf[512];
  const ssize_t n = ::read(fd, buf, sizeof(buf));
  ::close(fd);
  ASSERT_GT(n, 0) << "no answer before the client's 4 s";
  EXPECT_THAT(std::string(buf, static_cast<size_t>(n)),
              StartsWith("HTTP/1.1 202"));
  EXPECT_EQ(jobs_.cancelled().size(), 1u);
}

// The limits of the HTTP transport (http_server.h), as the endpoint has
// them.
TEST_F(RestServerTest, ABodyOver1MiBIs413) {
  httplib::Client client(kHost, server_->port());
  httplib::Result res =
      client.Post("/savepoint-disposal", std::string((1 << 20) + 1, ' '),
                  "application/json");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_THAT(res->body, HasSubstr("larger than 1048576 bytes"));
}

TEST_F(RestServerTest, AMalformedRequestIs400) {
  const int fd = ConnectRaw();
  ASSERT_GE(fd, 0);
  timeval tv{4, 0};
  ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
  const std::string request = "GET /jobs HTTP/1.1 trailing\r\n\r\n";
  ASSERT_EQ(::write(fd, request.data(), request.size()),
            static_cast<ssize_t>(request.size()));
  std::string answer;
  char buf[512];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) answer.append(buf, n);
  ::close(fd);
  EXPECT_EQ(n, 0) << "not closed after the answer";
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 400"));
  EXPECT_THAT(answer, HasSubstr(R"({"errors":["malformed request: )"));
}

// Two requests on one connection, the second sent before the first is
// answered; the second asks to close.
TEST_F(RestServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  const int fd = ConnectRaw();
  ASSERT_GE(fd, 0);
  timeval tv{4, 0};
  ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
  const std::string requests =
      "GET /jobs HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /config HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::write(fd, requests.data(), requests.size()),
            static_cast<ssize_t>(requests.size()));
  std::string answers;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) answers.append(buf, n);
  ::close(fd);
  EXPECT_EQ(n, 0) << "not closed after the second answer";
  const size_t second = answers.find("HTTP/1.1 200", 1);
  ASSERT_NE(second, std::string::npos) << answers;
  EXPECT_THAT(answers, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(answers.substr(0, second), HasSubstr(kJobHex));
  EXPECT_THAT(answers.substr(second), HasSubstr("flink-version"));
}

// A connection that sends no complete request is closed after 5 s.
TEST_F(RestServerTest, AnIncompleteRequestIsClosedAfter5Seconds) {
  const int fd = ConnectRaw();
  ASSERT_GE(fd, 0);
  timeval tv{9, 0};
  ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
  const std::string half = "GET /jobs HTTP/1.1\r\nHost: x\r\n";
  ASSERT_EQ(::write(fd, half.data(), half.size()),
            static_cast<ssize_t>(half.size()));
  const auto start = std::chrono::steady_clock::now();
  char buf[512];
  const ssize_t n = ::read(fd, buf, sizeof(buf));
  const auto waited = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_EQ(n, 0) << "not closed within 9 s";
  EXPECT_GT(waited, std::chrono::milliseconds(4500));
  EXPECT_LT(waited, std::chrono::milliseconds(7000));
}

TEST(RestServer, ATokenIsRequiredWhenSet) {
  FakeJobDirectory jobs;
  jobs.Add(RunningJob());
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<RestServer> server,
      RestServer::Start(kHost, 0, &jobs, nullptr, "s3cret-token"));
  httplib::Client client(kHost, server->port());
  httplib::Result res = client.Get("/jobs");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(res->get_header_value("WWW-Authenticate"), "Bearer");
  EXPECT_THAT(res->body, HasSubstr("rest.token"));
  client.set_bearer_token_auth("s3cret-tokeN");
  res = client.Get("/jobs");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  res = client.Patch("/jobs/" + std::string(kJobHex));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_TRUE(jobs.cancelled().empty());
  client.set_bearer_token_auth("s3cret-token");
  res = client.Get("/jobs");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);

  // The weir commands send $WEIR_REST_TOKEN.
  EXPECT_THAT(HttpGet(kHost, server->port(), "/jobs"),
              StatusIs(Status::Code::kIOError, HasSubstr("HTTP 401")));
  ::setenv("WEIR_REST_TOKEN", "s3cret-token", 1);
  EXPECT_OK(HttpGet(kHost, server->port(), "/jobs"));
  ::unsetenv("WEIR_REST_TOKEN");
}

TEST(RestServer, StartAndStopRepeatedly) {
  FakeJobDirectory jobs;
  for (int round = 0; round < 20; ++round) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<RestServer> server,
                         RestServer::Start(kHost, 0, &jobs));
    if (round % 2 == 0) {
      ASSERT_OK(HttpGet(kHost, server->port(), "/jobs"));
    }
  }
}

TEST(RestServer, UnbindableAddressIsAnError) {
  FakeJobDirectory jobs;
  EXPECT_THAT(RestServer::Start("203.0.113.1", 0, &jobs),
              StatusIs(Status::Code::kIOError, HasSubstr("203.0.113.1")));
  EXPECT_THAT(RestServer::Start(kHost, 70000, &jobs),
              StatusIs(Status::Code::kInvalidArgument));
}

TEST(RestServer, StatusCodesMapToHttp) {
  EXPECT_EQ(StatusToHttpCode(Status::NotFound("x")), 404);
  EXPECT_EQ(StatusToHttpCode(Status::InvalidArgument("x")), 400);
  EXPECT_EQ(StatusToHttpCode(Status::NotSupported("x")), 409);
  EXPECT_EQ(StatusToHttpCode(Status::Aborted("x")), 409);
  EXPECT_EQ(StatusToHttpCode(Status::FailedPrecondition("x")), 409);
  EXPECT_EQ(StatusToHttpCode(Status::DeadlineExceeded("x")), 504);
  EXPECT_EQ(StatusToHttpCode(Status::ResourceExhausted("x")), 429);
  EXPECT_EQ(StatusToHttpCode(Status::IOError("x")), 500);
  const RestResponse r = StatusResponse(Status::NotFound("gone"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"errors":["gone"]})"));
}

TEST(RestClient, NothingListeningIsAClearError) {
  DeadPort dead;
  ASSERT_GT(dead.port(), 0);
  const std::string where =
      "cannot reach weir at 127.0.0.1:" + std::to_string(dead.port()) +
      ": connection refused";
  EXPECT_THAT(FetchJobs(kHost, dead.port()),
              StatusIs(Status::Code::kIOError, HasSubstr(where)));
  EXPECT_THAT(HttpPatch(kHost, dead.port(), "/jobs/x"),
              StatusIs(Status::Code::kIOError, HasSubstr(where)));
}

}  // namespace
}  // namespace weir::tools
