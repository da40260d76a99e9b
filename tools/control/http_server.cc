// SPDX-License-Identifier: Apache-2.0
#include "tools/control/http_server.h"

#include <fcntl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cctype>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <list>
#include <mutex>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace weir::tools {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// After an error answer the connection is closed, but first what the client
// still sends is read and dropped, for up to this long: closing with unread
// data would reset the connection, and the client could lose the answer.
constexpr std::chrono::milliseconds kLingerTimeout{1000};
constexpr size_t kReadChunk = 4096;

// Runs `ioc` until the operation just started on it, and the timer it set
// off, have completed. Every operation here is bounded by its tcp_stream's
// deadline (or the acceptor's close), so this returns by then.
void RunOnce(net::io_context& ioc) {
  ioc.restart();
  ioc.run();
}

std::string_view ToStd(beast::string_view s) { return {s.data(), s.size()}; }

std::string HostPort(std::string_view host, int port) {
  const bool ipv6 = host.find(':') != std::string_view::npos;
  std::string out = ipv6 ? "[" + std::string(host) + "]" : std::string(host);
  return out + ":" + std::to_string(port);
}

// {"errors":["<message>"]}, with the message escaped for JSON; bytes beyond
// ASCII become '?' (what an exception says need not be UTF-8).
std::string ErrorBody(std::string_view message) {
  std::string out = R"({"errors":[")";
  for (const char c : message) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x", u);
      out += escaped;
    } else if (u >= 0x80) {
      out += '?';
    } else {
      out += c;
    }
  }
  out += "\"]}";
  return out;
}

RestResponse ErrorAnswer(int status, std::string_view message) {
  RestResponse response;
  response.status = status;
  response.body = ErrorBody(message);
  return response;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "%2F" is '/'; in a query '+' is a space. A '%' not followed by two hex
// digits stays as it is.
std::string PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexDigit(s[i + 1]) >= 0 &&
        HexDigit(s[i + 2]) >= 0) {
      out += static_cast<char>(HexDigit(s[i + 1]) * 16 + HexDigit(s[i + 2]));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

// The path and query of a request target ("/jobs/x?mode=cancel").
void ParseTarget(std::string_view target, RestRequest& request) {
  const size_t question = target.find('?');
  request.path = PercentDecode(target.substr(0, question), false);
  if (question == std::string_view::npos) return;
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view()
                                          : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string value = eq == std::string_view::npos
                            ? std::string()
                            : PercentDecode(pair.substr(eq + 1), true);
    request.query[PercentDecode(pair.substr(0, eq), true)] = std::move(value);
  }
}

RestRequest ToRestRequest(Request& request) {
  RestRequest out;
  out.method = request.method() == http::verb::head
                   ? "GET"
                   : std::string(ToStd(request.method_string()));
  ParseTarget(ToStd(request.target()), out);
  for (const auto& field : request) {
    std::string name(ToStd(field.name_string()));
    for (char& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    out.headers[std::move(name)] = std::string(ToStd(field.value()));
  }
  out.body = std::move(request.body());
  return out;
}

bool ExpectsContinue(const Request& request) {
  return request.version() >= 11 &&
         beast::iequals(request[http::field::expect], "100-continue");
}

}  // namespace

struct HttpServer::Impl {
  // One accepted connection. Its socket and timer run on its own io_context,
  // driven by its own thread (RunOnce).
  struct Connection {
    net::io_context ioc;
    beast::tcp_stream stream{ioc};
    std::thread thread;
    bool done = false;  // guarded by Impl::mu: the thread is about to end
  };

  Impl(Callback cb, const HttpServerOptions& opts)
      : callback(std::move(cb)), options(opts) {}

  error_code Listen(const tcp::endpoint& endpoint);
  void AcceptLoop();
  // Accepts one connection and starts its thread; false once stopping.
  bool AcceptOne();
  // Joins the connections that ended, and waits while max_connections are
  // open. False once stopping.
  bool WaitForSlot();
  // Waits up to `pause` unless stopping.
  void Pause(std::chrono::milliseconds pause);
  bool Stopping();
  void Stop();

  // The connection thread: requests and answers until the connection ends.
  void Serve(Connection& c);
  void ServeRequests(Connection& c);
  // Waits up to idle_timeout for the first bytes of another request.
  bool WaitForRequest(Connection& c, beast::flat_buffer& buffer);
  // Answers a request that could not be read, if the client can be told.
  void AnswerReadError(Connection& c, error_code ec);
  // Writes an error answer and closes gracefully (kLingerTimeout).
  void AnswerAndClose(Connection& c, int status, std::string_view message);
  RestResponse Handle(RestRequest& request);
  bool Write(Connection& c, RestResponse response, unsigned version,
             bool keep_alive, bool head);

  const Callback callback;
  const HttpServerOptions options;
  net::io_context ioc;  // the acceptor's, driven by accept_thread
  tcp::acceptor acceptor{ioc};
  std::thread accept_thread;

  std::mutex stop_mu;  // one Stop() at a time
  std::mutex mu;
  std::condition_variable cv;  // a connection ended, or Stop() began
  bool stopping = false;       // guarded by mu
  std::list<std::shared_ptr<Connection>> connections;  // guarded by mu
};

error_code HttpServer::Impl::Listen(const tcp::endpoint& endpoint) {
  error_code ec;
  acceptor.close(ec);  // after a failed attempt on another address
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return ec;
  ::fcntl(acceptor.native_handle(), F_SETFD, FD_CLOEXEC);
  // SO_REUSEADDR only (see the header).
  acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(options.listen_backlog, ec);
  return ec;
}

void HttpServer::Impl::AcceptLoop() {
  while (true) {
    try {
      if (!AcceptOne()) return;
    } catch (...) {
      // Out of memory: try again shortly rather than end the thread.
      Pause(std::chrono::milliseconds(50));
    }
  }
}

bool HttpServer::Impl::AcceptOne() {
  if (!WaitForSlot()) return false;
  auto conn = std::make_shared<Connection>();
  error_code ec;
  acceptor.async_accept(conn->stream.socket(), [&ec](error_code e) { ec = e; });
  RunOnce(ioc);
  if (ec) {
    if (!acceptor.is_open()) return false;  // Stop() closed it
    // Out of descriptors, or the client gave up before it was accepted:
    // again shortly, without spinning.
    Pause(std::chrono::milliseconds(50));
    return true;
  }
  ::fcntl(conn->stream.socket().native_handle(), F_SETFD, FD_CLOEXEC);
  std::lock_guard<std::mutex> lock(mu);
  if (stopping) return false;  // `conn` closes as it goes
  connections.push_back(conn);
  Connection* c = conn.get();
  try {
    c->thread = std::thread([this, c] {
      Serve(*c);
      std::lock_guard<std::mutex> l(mu);
      c->done = true;
      cv.notify_all();
    });
  } catch (...) {
    connections.pop_back();  // no thread: the connection is closed
  }
  return true;
}

bool HttpServer::Impl::WaitForSlot() {
  std::vector<std::shared_ptr<Connection>> ended;
  bool go = false;
  {
    std::unique_lock<std::mutex> lock(mu);
    while (true) {
      for (auto it = connections.begin(); it != connections.end();) {
        if ((*it)->done) {
          ended.push_back(std::move(*it));
          it = connections.erase(it);
        } else {
          ++it;
        }
      }
      if (stopping || connections.size() < options.max_connections) break;
      cv.wait(lock);
    }
    go = !stopping;
  }
  for (const std::shared_ptr<Connection>& c : ended) c->thread.join();
  return go;
}

void HttpServer::Impl::Pause(std::chrono::milliseconds pause) {
  std::unique_lock<std::mutex> lock(mu);
  cv.wait_for(lock, pause, [this] { return stopping; });
}

bool HttpServer::Impl::Stopping() {
  std::lock_guard<std::mutex> lock(mu);
  return stopping;
}

void HttpServer::Impl::Stop() {
  std::lock_guard<std::mutex> stop_lock(stop_mu);
  {
    std::lock_guard<std::mutex> lock(mu);
    stopping = true;
    // A connection waiting for a request sees its end at once; one whose
    // callback runs answers first. Shutting down the receiving side, unlike
    // cancelling, lasts: it also ends a read that starts after this ran.
    // Posted, because the socket belongs to the connection's thread.
    for (const std::shared_ptr<Connection>& conn : connections) {
      Connection* c = conn.get();
      try {
        net::post(c->ioc, [c] {
          error_code ignored;
          c->stream.socket().shutdown(tcp::socket::shutdown_receive, ignored);
        });
      } catch (...) {
        // Out of memory: the connection ends by its deadlines.
      }
    }
  }
  cv.notify_all();
  try {
    net::post(ioc, [this] {
      error_code ignored;
      acceptor.close(ignored);
    });
  } catch (...) {
    // Out of memory: stop its loop instead (this does not allocate, but
    // would be lost if it came just before the accept thread's RunOnce).
    ioc.stop();
  }
  if (accept_thread.joinable()) accept_thread.join();
  error_code ignored;
  acceptor.close(ignored);
  std::list<std::shared_ptr<Connection>> rest;
  {
    std::lock_guard<std::mutex> lock(mu);
    rest.swap(connections);
  }
  for (const std::shared_ptr<Connection>& c : rest) {
    if (c->thread.joinable()) c->thread.join();
  }
}

void HttpServer::Impl::Serve(Connection& c) {
  try {
    ServeRequests(c);
  } catch (...) {
    // Out of memory, or a Beast precondition: this connection ends.
  }
  error_code ignored;
  c.stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  c.stream.socket().close(ignored);
}

void HttpServer::Impl::ServeRequests(Connection& c) {
  beast::flat_buffer buffer;
  for (bool first = true;; first = false) {
    // Pipelined requests are in the buffer already.
    if (!first && buffer.size() == 0 && !WaitForRequest(c, buffer)) return;
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
    parser.body_limit(options.body_limit);
    // One deadline for the whole request, header and body.
    c.stream.expires_after(options.request_timeout);
    error_code ec;
    http::async_read_header(c.stream, buffer, parser,
                            [&ec](error_code e, size_t) { ec = e; });
    RunOnce(c.ioc);
    if (!ec && !parser.is_done()) {
      if (ExpectsContinue(parser.get())) {
        http::response<http::empty_body> go_on{http::status::continue_, 11};
        http::async_write(c.stream, go_on,
                          [&ec](error_code e, size_t) { ec = e; });
        RunOnce(c.ioc);
      }
      if (!ec) {
        http::async_read(c.stream, buffer, parser,
                         [&ec](error_code e, size_t) { ec = e; });
        RunOnce(c.ioc);
      }
    }
    if (ec) {
      AnswerReadError(c, ec);
      return;
    }
    Request request = parser.release();
    const unsigned version = request.version();  // 10 or 11: Beast checks
    const bool head = request.method() == http::verb::head;
    RestRequest rest = ToRestRequest(request);
    RestResponse response = Handle(rest);
    // Stop() during the callback: this answer is the last.
    const bool keep_alive = request.keep_alive() && !Stopping();
    if (!Write(c, std::move(response), version, keep_alive, head) ||
        !keep_alive) {
      return;
    }
  }
}

bool HttpServer::Impl::WaitForRequest(Connection& c,
                                      beast::flat_buffer& buffer) {
  c.stream.expires_after(options.idle_timeout);
  error_code ec;
  size_t n = 0;
  c.stream.async_read_some(buffer.prepare(kReadChunk),
                           [&ec, &n](error_code e, size_t bytes) {
                             ec = e;
                             n = bytes;
                           });
  RunOnce(c.ioc);
  buffer.commit(n);
  return !ec && n > 0;
}

void HttpServer::Impl::AnswerReadError(Connection& c, error_code ec) {
  // Not a parse error (a timeout, a reset, Stop()), or the client closed:
  // there is no one to answer.
  if (ec.category() !=
          http::make_error_code(http::error::bad_method).category() ||
      ec == http::error::end_of_stream || ec == http::error::partial_message) {
    return;
  }
  if (ec == http::error::body_limit) {
    AnswerAndClose(c, 413,
                   "request body larger than " +
                       std::to_string(options.body_limit) + " bytes");
  } else if (ec == http::error::header_limit) {
    AnswerAndClose(c, 431,
                   "request header larger than " +
                       std::to_string(options.header_limit) + " bytes");
  } else {
    AnswerAndClose(c, 400, "malformed request: " + ec.message());
  }
}

void HttpServer::Impl::AnswerAndClose(Connection& c, int status,
                                      std::string_view message) {
  if (!Write(c, ErrorAnswer(status, message), 11, /*keep_alive=*/false,
             /*head=*/false)) {
    return;
  }
  error_code ec;
  c.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  c.stream.expires_after(kLingerTimeout);
  char sink[kReadChunk];
  while (!ec) {
    c.stream.async_read_some(net::buffer(sink),
                             [&ec](error_code e, size_t) { ec = e; });
    RunOnce(c.ioc);
  }
}

RestResponse HttpServer::Impl::Handle(RestRequest& request) {
  try {
    return callback(request);
  } catch (const std::exception& e) {
    return ErrorAnswer(500, std::string("internal error: ") + e.what());
  } catch (...) {
    return ErrorAnswer(500, "internal error");
  }
}

bool HttpServer::Impl::Write(Connection& c, RestResponse response,
                             unsigned version, bool keep_alive, bool head) {
  Response res;
  res.version(version);
  // Beast refuses a status beyond 999, and a body with 1xx, 204 or 304.
  const int status =
      response.status >= 200 && response.status <= 599 ? response.status : 500;
  res.result(static_cast<unsigned>(status));
  res.set(http::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) res.set(name, value);
  if (status != 204 && status != 304) res.body() = std::move(response.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  c.stream.expires_after(options.write_timeout);
  error_code ec;
  // Lives until RunOnce() has run the write that uses it.
  http::response_serializer<http::string_body> serializer(res);
  if (head) {
    // The header of the GET answer, Content-Length included.
    http::async_write_header(c.stream, serializer,
                             [&ec](error_code e, size_t) { ec = e; });
  } else {
    http::async_write(c.stream, serializer,
                      [&ec](error_code e, size_t) { ec = e; });
  }
  RunOnce(c.ioc);
  return !ec;
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() { impl_->Stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(
    const std::string& address, int port, Callback callback,
    HttpServerOptions options) {
  if (port < 0 || port > 65535) {
    return Status::InvalidArgument("port " + std::to_string(port) +
                                   " is not in 0..65535");
  }
  const std::string where = HostPort(address, port);
  try {
    auto impl = std::make_unique<Impl>(std::move(callback), options);
    error_code ec;
    std::vector<tcp::endpoint> endpoints;
    const net::ip::address ip = net::ip::make_address(address, ec);
    if (!ec) {
      endpoints.emplace_back(ip, static_cast<unsigned short>(port));
    } else {
      // A host name: each of its addresses until one binds, as
      // getaddrinfo lists them.
      tcp::resolver resolver(impl->ioc);
      const tcp::resolver::results_type results = resolver.resolve(
          address, std::to_string(port),
          tcp::resolver::passive | tcp::resolver::numeric_service, ec);
      if (ec) {
        return Status::IOError("cannot listen on " + where +
                               ": cannot resolve '" + address +
                               "': " + ec.message());
      }
      for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    }
    ec = net::error::host_not_found;
    for (const tcp::endpoint& endpoint : endpoints) {
      ec = impl->Listen(endpoint);
      if (!ec) break;
    }
    if (ec) {
      error_code ignored;
      impl->acceptor.close(ignored);
      return Status::IOError("cannot listen on " + where + ": " + ec.message());
    }
    const tcp::endpoint local = impl->acceptor.local_endpoint(ec);
    if (ec) {
      return Status::IOError("cannot listen on " + where + ": " + ec.message());
    }
    Impl* raw = impl.get();
    std::unique_ptr<HttpServer> server(new HttpServer(std::move(impl)));
    server->port_ = local.port();
    raw->accept_thread = std::thread([raw] { raw->AcceptLoop(); });
    return server;
  } catch (const std::exception& e) {
    return Status::IOError("cannot listen on " + where + ": " + e.what());
  }
}

}  // namespace weir::tools
