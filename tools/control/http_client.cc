// SPDX-License-Identifier: Apache-2.0
#include "tools/control/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string_view>

namespace weir::tools {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;

// The largest answer read.
constexpr std::uint64_t kAnswerLimit = std::uint64_t{64} << 20;

// Runs `ioc` until the operation just started on it, and the timer it set
// off, have completed; the stream's deadline bounds it.
void RunOnce(net::io_context& ioc) {
  ioc.restart();
  ioc.run();
}

std::string HostField(const std::string& host, int port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

HttpClientAnswer Failed(HttpFailure failure, std::string detail) {
  HttpClientAnswer answer;
  answer.failure = failure;
  answer.detail = std::move(detail);
  return answer;
}

std::string TimedOut(std::chrono::milliseconds timeout) {
  return "timed out after " + std::to_string(timeout.count()) + " ms";
}

HttpClientAnswer Send(const std::string& host, int port,
                      const HttpClientRequest& request,
                      std::chrono::milliseconds timeout) {
  net::io_context ioc;
  error_code ec;
  tcp::resolver resolver(ioc);
  const tcp::resolver::results_type endpoints = resolver.resolve(
      host, std::to_string(port), tcp::resolver::numeric_service, ec);
  if (ec) {
    return Failed(HttpFailure::kResolve,
                  "cannot resolve '" + host + "': " + ec.message());
  }

  beast::tcp_stream stream(ioc);
  stream.expires_after(timeout);
  stream.async_connect(endpoints,
                       [&ec](error_code e, const tcp::endpoint&) { ec = e; });
  RunOnce(ioc);
  if (ec == beast::error::timeout) {
    return Failed(HttpFailure::kConnectTimeout, TimedOut(timeout));
  }
  if (ec == net::error::connection_refused) {
    return Failed(HttpFailure::kRefused, ec.message());
  }
  if (ec) return Failed(HttpFailure::kConnect, ec.message());

  http::request<http::string_body> req;
  req.version(11);
  req.method_string(request.method);
  req.target(request.target);
  req.set(http::field::host, HostField(host, port));
  req.set(http::field::user_agent, "weir");
  for (const auto& [name, value] : request.headers) req.set(name, value);
  if (request.method != "GET" && request.method != "HEAD") {
    if (!request.content_type.empty()) {
      req.set(http::field::content_type, request.content_type);
    }
    req.body() = request.body;
    req.content_length(request.body.size());
  }
  req.keep_alive(false);
  stream.expires_after(timeout);
  http::async_write(stream, req, [&ec](error_code e, size_t) { ec = e; });
  RunOnce(ioc);
  if (ec) {
    return Failed(HttpFailure::kWrite, ec == beast::error::timeout
                                           ? TimedOut(timeout)
                                           : ec.message());
  }

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kAnswerLimit);
  stream.expires_after(timeout);
  http::async_read(stream, buffer, parser,
                   [&ec](error_code e, size_t) { ec = e; });
  RunOnce(ioc);
  if (ec == beast::error::timeout) {
    return Failed(HttpFailure::kReadTimeout, TimedOut(timeout));
  }
  if (ec) return Failed(HttpFailure::kRead, ec.message());
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);

  HttpClientAnswer answer;
  answer.status = static_cast<int>(parser.get().result_int());
  answer.body = std::move(parser.get().body());
  return answer;
}

}  // namespace

HttpClientAnswer SendHttpRequest(const std::string& host, int port,
                                 const HttpClientRequest& request,
                                 std::chrono::milliseconds timeout) {
  HttpClientAnswer failed;
  failed.failure = HttpFailure::kOther;
  try {
    return Send(host, port, request, timeout);
  } catch (const std::exception& e) {
    try {
      failed.detail = e.what();
    } catch (...) {
      // Out of memory: no detail.
    }
  } catch (...) {
  }
  return failed;
}

}  // namespace weir::tools
