// SPDX-License-Identifier: Apache-2.0
// The HTTP transport under the REST endpoint (http_server.h, http_client.h):
// limits, timeouts, keep-alive, malformed requests and Stop(), against raw
// sockets, cpp-httplib's client and weir's own.
#include "tools/control/http_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testutil/status_matchers.h"
#include "tools/control/http_client.h"
#include "tools/control/rest_client.h"

namespace weir::tools {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testutil::StatusIs;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr char kHost[] = "127.0.0.1";

// A socket bound to a loopback port, listening or not: with `listen`,
// connections complete (in the backlog) but are never accepted, so a client
// waits for an answer; without, a connect is refused.
class LoopbackSocket {
 public:
  explicit LoopbackSocket(bool listen) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 ||
        ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        (listen && ::listen(fd_, 8) != 0)) {
      return;
    }
    socklen_t len = sizeof(addr);
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
  }
  ~LoopbackSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A TCP connection for requests that HTTP clients would not send, and for
// watching when the server closes it.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RawConnection() { Close(); }
  bool ok() const { return fd_ >= 0; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // One answer: its header and as many body bytes as its Content-Length
  // says (none for "100 Continue", or after HEAD). Empty if none came
  // within `timeout`.
  std::string ReadAnswer(milliseconds timeout = milliseconds(5000),
                         bool head = false) {
    const SteadyClock::time_point deadline = SteadyClock::now() + timeout;
    while (true) {
      const size_t end = buffer_.find("\r\n\r\n");
      if (end != std::string::npos) {
        const size_t size =
            end + 4 + (head ? 0 : ContentLength(buffer_.substr(0, end)));
        if (buffer_.size() >= size) {
          std::string answer = buffer_.substr(0, size);
          buffer_.erase(0, size);
          return answer;
        }
      }
      if (!Fill(deadline)) return "";
    }
  }

  // True if the server closes the connection within `timeout` (what it
  // sends until then is dropped).
  bool ClosedWithin(milliseconds timeout) {
    const SteadyClock::time_point deadline = SteadyClock::now() + timeout;
    while (Fill(deadline)) {
    }
    return eof_;
  }

 private:
  static size_t ContentLength(std::string header) {
    for (char& c : header) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    const size_t at = header.find("\r\ncontent-length:");
    if (at == std::string::npos) return 0;
    return std::stoul(header.substr(at + 17));
  }

  // Reads what arrives before `deadline`; false at its end, at EOF or on
  // an error.
  bool Fill(SteadyClock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
    if (fd_ < 0 || left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool eof_ = false;
  std::string buffer_;
};

std::string Field(const std::string& answer, const std::string& name) {
  const size_t at = answer.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "";
  const size_t start = at + name.size() + 4;
  return answer.substr(start, answer.find("\r\n", start) - start);
}

std::string Body(const std::string& answer) {
  const size_t end = answer.find("\r\n\r\n");
  return end == std::string::npos ? "" : answer.substr(end + 4);
}

// Answers with what it was given: "METHOD path" and the body, and counts
// the calls.
class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions options = {}) {
    Result<std::unique_ptr<HttpServer>> server = HttpServer::Start(
        kHost, 0, [this](RestRequest& r) { return Echo(r); }, options);
    ASSERT_OK(server);
    server_ = std::move(server).value();
    ASSERT_GT(server_->port(), 0);
  }

  RestResponse Echo(const RestRequest& r) {
    calls_.fetch_add(1);
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_ = r;
    }
    RestResponse response;
    response.status = 200;
    response.content_type = "text/plain";
    response.body = r.method + " " + r.path + "\n" + r.body;
    response.headers.emplace_back("X-Echo", "yes");
    return response;
  }

  RestRequest last() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_;
  }

  std::unique_ptr<HttpServer> server_;
  std::atomic<int> calls_{0};
  std::mutex mu_;
  RestRequest last_;  // guarded by mu_
};

TEST_F(HttpServerTest, HandsOverMethodPathQueryBodyAndHeaders) {
  StartServer();
  RawConnection conn(server_->port());
  ASSERT_TRUE(
      conn.Send("POST /a%20b/c%2Fd?x=1&y=a+b%26c&x=2&flag HTTP/1.1\r\n"
                "Host: x\r\nX-Test: v\r\nContent-Type: application/json\r\n"
                "Content-Length: 5\r\n\r\nhello"));
  const std::string answer = conn.ReadAnswer();
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 200"));
  EXPECT_EQ(Body(answer), "POST /a b/c/d\nhello");
  EXPECT_EQ(Field(answer, "Content-Type"), "text/plain");
  EXPECT_EQ(Field(answer, "X-Echo"), "yes");
  const RestRequest r = last();
  EXPECT_EQ(r.query.at("x"), "2");
  EXPECT_EQ(r.query.at("y"), "a b&c");
  EXPECT_EQ(r.query.at("flag"), "");
  EXPECT_EQ(r.headers.at("x-test"), "v");
  EXPECT_EQ(r.headers.at("content-type"), "application/json");
}

TEST_F(HttpServerTest, KeepAliveServesRequestsOneAfterAnotherAndPipelined) {
  StartServer();
  RawConnection conn(server_->port());
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(conn.Send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string answer = conn.ReadAnswer();
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 200"));
  EXPECT_EQ(Body(answer), "GET /one\n");
  ASSERT_TRUE(conn.Send("GET /two HTTP/1.1\r\nHost: x\r\n\r\n"));
  answer = conn.ReadAnswer();
  EXPECT_EQ(Body(answer), "GET /two\n");
  // Two at once.
  ASSERT_TRUE(conn.Send(
      "GET /three HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /four HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab"));
  EXPECT_EQ(Body(conn.ReadAnswer()), "GET /three\n");
  EXPECT_EQ(Body(conn.ReadAnswer()), "POST /four\nab");
  EXPECT_EQ(calls_.load(), 4);
  // "Connection: close" is honoured.
  ASSERT_TRUE(
      conn.Send("GET /five HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  answer = conn.ReadAnswer();
  EXPECT_EQ(Field(answer, "Connection"), "close");
  EXPECT_TRUE(conn.ClosedWithin(milliseconds(2000)));
}

TEST_F(HttpServerTest, Http10ClosesAfterTheAnswer) {
  StartServer();
  RawConnection conn(server_->port());
  ASSERT_TRUE(conn.Send("GET /old HTTP/1.0\r\n\r\n"));
  const std::string answer = conn.ReadAnswer();
  EXPECT_THAT(answer, StartsWith("HTTP/1.0 200"));
  EXPECT_EQ(Body(answer), "GET /old\n");
  EXPECT_TRUE(conn.ClosedWithin(milliseconds(2000)));
}

TEST_F(HttpServerTest, HeadIsAnsweredAsGetWithoutTheBody) {
  StartServer();
  RawConnection conn(server_->port());
  ASSERT_TRUE(conn.Send("HEAD /x HTTP/1.1\r\nHost: x\r\n\r\n"));
  const std::string head = conn.ReadAnswer(milliseconds(5000), /*head=*/true);
  EXPECT_THAT(head, StartsWith("HTTP/1.1 200"));
  // The length of the GET answer, "GET /x\n".
  EXPECT_EQ(Field(head, "Content-Length"), "7");
  EXPECT_EQ(last().method, "GET");
  // No body follows: the next answer starts right after the header.
  ASSERT_TRUE(conn.Send("GET /y HTTP/1.1\r\nHost: x\r\n\r\n"));
  const std::string next = conn.ReadAnswer();
  EXPECT_THAT(next, StartsWith("HTTP/1.1 200"));
  EXPECT_EQ(Body(next), "GET /y\n");
}

TEST_F(HttpServerTest, ABodyOverTheLimitIs413) {
  StartServer();
  httplib::Client client(kHost, server_->port());
  const size_t limit = size_t{1} << 20;
  httplib::Result res =
      client.Post("/big", std::string(limit, 'a'), "application/json");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body.size(), std::string("POST /big\n").size() + limit);
  res = client.Post("/big", std::string(limit + 1, 'a'), "application/json");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_THAT(res->body, HasSubstr(R"({"errors":["request body larger than)"));
  EXPECT_EQ(calls_.load(), 1);
  // Told by its Content-Length, before any of the body is sent.
  RawConnection conn(server_->port());
  ASSERT_TRUE(
      conn.Send("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000"
                "\r\n\r\n"));
  EXPECT_THAT(conn.ReadAnswer(), StartsWith("HTTP/1.1 413"));
  EXPECT_TRUE(conn.ClosedWithin(milliseconds(3000)));
  // And a chunked one, as it goes over.
  RawConnection chunked(server_->port());
  ASSERT_TRUE(chunked.Send(
      "POST /big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = std::string("100000\r\n") +
                            std::string(size_t{1} << 20, 'b') + "\r\n" +
                            "1\r\nb\r\n0\r\n\r\n";
  chunked.Send(chunk);  // the server may close before all of it is sent
  EXPECT_THAT(chunked.ReadAnswer(), StartsWith("HTTP/1.1 413"));
  EXPECT_EQ(calls_.load(), 1);
}

TEST_F(HttpServerTest, AChunkedBodyIsHandedOverWhole) {
  StartServer();
  RawConnection conn(server_->port());
  ASSERT_TRUE(
      conn.Send("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                "\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  EXPECT_EQ(Body(conn.ReadAnswer()), "POST /c\nabcde");
}

TEST_F(HttpServerTest, MalformedRequestsAre400AndTheConnectionCloses) {
  StartServer();
  for (const char* bad :
       {"GARBAGE\r\n\r\n", "GET /x HTTP/1.1 extra\r\n\r\n",
        "GET /x HTTP/2.0\r\n\r\n", "GET /x HTTP/1.1\r\nno colon here\r\n\r\n",
        "POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "POST /x HTTP/1.1\r\nContent-Length: 1\r\n"
        "Content-Length: 2\r\n\r\n"}) {
    RawConnection conn(server_->port());
    ASSERT_TRUE(conn.Send(bad));
    const std::string answer = conn.ReadAnswer();
    EXPECT_THAT(answer, StartsWith("HTTP/1.1 400")) << bad;
    EXPECT_EQ(Field(answer, "Content-Type"), "application/json");
    EXPECT_THAT(Body(answer), StartsWith(R"({"errors":["malformed request: )"))
        << bad;
    EXPECT_TRUE(conn.ClosedWithin(milliseconds(3000))) << bad;
  }
  EXPECT_EQ(calls_.load(), 0);
  // The server goes on.
  RawConnection conn(server_->port());
  ASSERT_TRUE(conn.Send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_THAT(conn.ReadAnswer(), StartsWith("HTTP/1.1 200"));
}

TEST_F(HttpServerTest, AHeaderOverTheLimitIs431) {
  StartServer();
  RawConnection conn(server_->port());
  ASSERT_TRUE(conn.Send("GET /x HTTP/1.1\r\nHost: x\r\nX-Big: " +
                        std::string(20000, 'h') + "\r\n\r\n"));
  EXPECT_THAT(conn.ReadAnswer(), StartsWith("HTTP/1.1 431"));
  EXPECT_EQ(calls_.load(), 0);
}

// "Expect: 100-continue": the client waits for the interim answer before
// it sends the body.
TEST_F(HttpServerTest, ExpectContinueGetsItsInterimAnswer) {
  StartServer();
  RawConnection conn(server_->port());
  ASSERT_TRUE(
      conn.Send("POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                "Expect: 100-continue\r\n\r\n"));
  EXPECT_THAT(conn.ReadAnswer(milliseconds(3000)),
              StartsWith("HTTP/1.1 100 Continue"));
  ASSERT_TRUE(conn.Send("hello"));
  EXPECT_EQ(Body(conn.ReadAnswer()), "POST /e\nhello");
}

// A POST without Content-Length or Transfer-Encoding has no body: it is
// answered while the client keeps the connection open.
TEST_F(HttpServerTest, APostWithoutLengthHasAnEmptyBody) {
  StartServer();
  RawConnection conn(server_->port());
  ASSERT_TRUE(conn.Send("POST /p HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(Body(conn.ReadAnswer(milliseconds(2000))), "POST /p\n");
}

TEST_F(HttpServerTest, AnIncompleteRequestIsClosedAtTheRequestTimeout) {
  HttpServerOptions options;
  options.request_timeout = milliseconds(300);
  StartServer(options);
  RawConnection silent(server_->port());
  RawConnection half(server_->port());
  ASSERT_TRUE(half.Send("GET /x HTTP/1.1\r\nHost: x\r\n"));
  // A client that trickles bytes is closed too: the deadline is for the
  // whole request.
  RawConnection trickle(server_->port());
  const SteadyClock::time_point start = SteadyClock::now();
  const std::string request = "GET /x HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  for (char c : request) {
    if (!trickle.Send(std::string(1, c))) break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(silent.ClosedWithin(milliseconds(2000)));
  EXPECT_TRUE(half.ClosedWithin(milliseconds(2000)));
  EXPECT_TRUE(trickle.ClosedWithin(milliseconds(2000)));
  EXPECT_LT(SteadyClock::now() - start, milliseconds(2000));
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(HttpServerTest, AnIdleKeepAliveConnectionIsClosed) {
  HttpServerOptions options;
  options.idle_timeout = milliseconds(200);
  StartServer(options);
  RawConnection conn(server_->port());
  ASSERT_TRUE(conn.Send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_THAT(conn.ReadAnswer(), StartsWith("HTTP/1.1 200"));
  const SteadyClock::time_point start = SteadyClock::now();
  EXPECT_TRUE(conn.ClosedWithin(milliseconds(3000)));
  EXPECT_GE(SteadyClock::now() - start, milliseconds(150));
}

// With every connection slot held by a client that sends nothing, the next
// waits in the backlog until one of them closes; then it is served.
TEST_F(HttpServerTest, ConnectionsBeyondTheLimitWaitForASlot) {
  HttpServerOptions options;
  options.max_connections = 2;
  options.request_timeout = milliseconds(20000);
  StartServer(options);
  auto a = std::make_unique<RawConnection>(server_->port());
  RawConnection b(server_->port());
  ASSERT_TRUE(a->ok());
  ASSERT_TRUE(b.ok());
  std::this_thread::sleep_for(milliseconds(100));  // both accepted
  std::future<Result<std::string>> third = std::async(std::launch::async, [&] {
    return HttpGet(kHost, server_->port(), "/third", milliseconds(10000));
  });
  EXPECT_EQ(third.wait_for(milliseconds(500)), std::future_status::timeout);
  a.reset();
  ASSERT_EQ(third.wait_for(milliseconds(5000)), std::future_status::ready);
  ASSERT_OK_AND_ASSIGN(std::string body, third.get());
  EXPECT_EQ(body, "GET /third\n");
}

TEST_F(HttpServerTest, SlowClientsHoldUpNoOther) {
  StartServer();
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 20; ++i) {
    slow.push_back(std::make_unique<RawConnection>(server_->port()));
    ASSERT_TRUE(slow.back()->Send("POST /x HTTP/1.1\r\nContent-Length: 9\r\n"));
  }
  const SteadyClock::time_point start = SteadyClock::now();
  for (int i = 0; i < 5; ++i) {
    EXPECT_OK(HttpGet(kHost, server_->port(), "/fast", milliseconds(3000)));
  }
  EXPECT_LT(SteadyClock::now() - start, milliseconds(2000));
}

TEST(HttpServer, WhatTheCallbackThrowsIs500AndTheServerGoesOn) {
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<HttpServer> server,
      HttpServer::Start(kHost, 0, [](RestRequest& r) -> RestResponse {
        if (r.path == "/int") throw 42;
        if (r.path == "/throw") throw std::runtime_error("bad \"luck\"");
        RestResponse ok;
        ok.body = "{}";
        return ok;
      }));
  httplib::Client client(kHost, server->port());
  httplib::Result res = client.Get("/throw");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_EQ(res->body, R"({"errors":["internal error: bad \"luck\""]})");
  res = client.Get("/int");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_EQ(res->body, R"({"errors":["internal error"]})");
  res = client.Get("/fine");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

// Stop() lets a callback in progress return and its answer be written
// ("Connection: close"), and closes idle connections without waiting for
// their timeouts.
TEST(HttpServer, StopWaitsForCallbacksAndClosesIdleConnections) {
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false;
  bool release = false;
  HttpServerOptions options;
  options.request_timeout = milliseconds(30000);
  options.idle_timeout = milliseconds(30000);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<HttpServer> server,
                       HttpServer::Start(
                           kHost, 0,
                           [&](RestRequest& r) {
                             if (r.path == "/block") {
                               std::unique_lock<std::mutex> lock(mu);
                               entered = true;
                               cv.notify_all();
                               cv.wait(lock, [&] { return release; });
                             }
                             RestResponse ok;
                             ok.body = "{}";
                             return ok;
                           },
                           options));
  const int port = server->port();
  RawConnection idle(port);
  ASSERT_TRUE(idle.Send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_THAT(idle.ReadAnswer(), StartsWith("HTTP/1.1 200"));
  RawConnection silent(port);
  RawConnection blocked(port);
  ASSERT_TRUE(blocked.Send("GET /block HTTP/1.1\r\nHost: x\r\n\r\n"));
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(
        cv.wait_for(lock, std::chrono::seconds(5), [&] { return entered; }));
  }
  std::future<void> stopped =
      std::async(std::launch::async, [&] { server->Stop(); });
  EXPECT_TRUE(idle.ClosedWithin(milliseconds(2000)));
  EXPECT_TRUE(silent.ClosedWithin(milliseconds(2000)));
  EXPECT_EQ(stopped.wait_for(milliseconds(300)), std::future_status::timeout);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  const std::string answer = blocked.ReadAnswer();
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 200"));
  EXPECT_EQ(Field(answer, "Connection"), "close");
  ASSERT_EQ(stopped.wait_for(milliseconds(5000)), std::future_status::ready);
  server->Stop();
  EXPECT_FALSE(RawConnection(port).ok());
}

TEST(HttpServer, BindFailuresNameTheAddressAndPort) {
  LoopbackSocket taken(/*listen=*/true);
  ASSERT_GT(taken.port(), 0);
  auto echo = [](RestRequest&) { return RestResponse(); };
  EXPECT_THAT(HttpServer::Start(kHost, taken.port(), echo),
              StatusIs(Status::Code::kIOError,
                       HasSubstr("127.0.0.1:" + std::to_string(taken.port()))));
  EXPECT_THAT(HttpServer::Start("203.0.113.1", 0, echo),
              StatusIs(Status::Code::kIOError, HasSubstr("203.0.113.1:0")));
  EXPECT_THAT(HttpServer::Start("::1", -1, echo),
              StatusIs(Status::Code::kInvalidArgument));
}

// SO_REUSEADDR but not SO_REUSEPORT: another socket that asks for
// SO_REUSEPORT cannot bind the port and share the connections.
TEST(HttpServer, NoOtherSocketSharesThePort) {
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<HttpServer> server,
      HttpServer::Start(kHost, 0, [](RestRequest&) { return RestResponse(); }));
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  int yes = 1;
  ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof(yes)), 0);
  ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes)), 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_NE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd);
}

TEST(HttpServer, AHostNameIsResolved) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<HttpServer> server,
                       HttpServer::Start("localhost", 0, [](RestRequest&) {
                         RestResponse ok;
                         ok.body = "{}";
                         return ok;
                       }));
  EXPECT_OK(HttpGet("localhost", server->port(), "/x"));
}

TEST(HttpClient, SaysWhyThereIsNoAnswer) {
  HttpClientRequest request;
  LoopbackSocket dead(/*listen=*/false);
  HttpClientAnswer answer =
      SendHttpRequest(kHost, dead.port(), request, milliseconds(2000));
  EXPECT_EQ(answer.failure, HttpFailure::kRefused);

  // Connected (the kernel's backlog accepts) but never answered.
  LoopbackSocket mute(/*listen=*/true);
  const SteadyClock::time_point start = SteadyClock::now();
  answer = SendHttpRequest(kHost, mute.port(), request, milliseconds(300));
  EXPECT_EQ(answer.failure, HttpFailure::kReadTimeout);
  EXPECT_LT(SteadyClock::now() - start, milliseconds(3000));
  EXPECT_THAT(HttpGet(kHost, mute.port(), "/x", milliseconds(300)),
              StatusIs(Status::Code::kIOError,
                       HasSubstr("cannot reach weir at 127.0.0.1:" +
                                 std::to_string(mute.port()) +
                                 ": no answer within 300 ms")));
}

TEST(HttpClient, AnAnswerThatEndsEarlyIsAReadError) {
  LoopbackSocket listener(/*listen=*/true);
  std::thread server([&] {
    const int fd = ::accept(listener.fd(), nullptr, nullptr);
    if (fd < 0) return;
    char buf[1024];
    [[maybe_unused]] ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    const std::string part = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nab";
    n = ::send(fd, part.data(), part.size(), MSG_NOSIGNAL);
    ::close(fd);
  });
  HttpClientRequest request;
  const HttpClientAnswer answer =
      SendHttpRequest(kHost, listener.port(), request, milliseconds(3000));
  server.join();
  EXPECT_EQ(answer.failure, HttpFailure::kRead);
  EXPECT_FALSE(answer.detail.empty());
}

TEST(HttpClient, SendsMethodBodyAndHeaders) {
  std::mutex mu;
  RestRequest seen;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<HttpServer> server,
                       HttpServer::Start(kHost, 0, [&](RestRequest& r) {
                         std::lock_guard<std::mutex> lock(mu);
                         seen = r;
                         RestResponse answer;
                         answer.status = 404;
                         answer.body = "gone";
                         return answer;
                       }));
  HttpClientRequest request;
  request.method = "PATCH";
  request.target = "/jobs/x?mode=cancel";
  request.body = "{}";
  request.content_type = "application/json";
  request.headers.emplace_back("Authorization", "Bearer t");
  const HttpClientAnswer answer =
      SendHttpRequest(kHost, server->port(), request, milliseconds(3000));
  ASSERT_EQ(answer.failure, HttpFailure::kNone) << answer.detail;
  EXPECT_EQ(answer.status, 404);
  EXPECT_EQ(answer.body, "gone");
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen.method, "PATCH");
  EXPECT_EQ(seen.path, "/jobs/x");
  EXPECT_EQ(seen.query.at("mode"), "cancel");
  EXPECT_EQ(seen.body, "{}");
  EXPECT_EQ(seen.headers.at("authorization"), "Bearer t");
  EXPECT_EQ(seen.headers.at("content-type"), "application/json");
}

}  // namespace
}  // namespace weir::tools
