// SPDX-License-Identifier: Apache-2.0
//
// One HTTP/1.1 request on a new connection, on Boost.Beast: connect, send,
// read the answer, close. The transport under rest_client.h; it knows
// nothing of weir's paths or JSON.
//
// Each step has its own deadline of `timeout`: connecting (over all the
// addresses of the host), sending the request, and reading the whole answer
// (up to 64 MiB). A host name is looked up with getaddrinfo, which the
// system resolver's own timeouts bound. Nothing here throws.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace weir::tools {

struct HttpClientRequest {
  std::string method = "GET";  // "GET", "POST", "PATCH", ...
  std::string target = "/";    // path and query: "/jobs/x?mode=cancel"
  // Sent with Content-Length (0 if empty) unless the method is GET or HEAD.
  std::string body;
  std::string content_type;  // sent if not empty
  // More header fields, e.g. {"Authorization", "Bearer x"}.
  std::vector<std::pair<std::string, std::string>> headers;
};

// What went wrong before an answer arrived.
enum class HttpFailure {
  kNone,            // an answer arrived (whatever its status)
  kResolve,         // the host name does not resolve
  kRefused,         // nothing listens at host:port
  kConnect,         // another connect error (unreachable, ...)
  kConnectTimeout,  // no connection within the timeout
  kWrite,           // the request could not be sent (in time)
  kReadTimeout,     // no complete answer within the timeout
  kRead,            // the answer could not be read: closed, malformed,
                    // too large
  kOther,           // anything else (out of memory)
};

struct HttpClientAnswer {
  HttpFailure failure = HttpFailure::kNone;
  // The system's or the parser's words for the failure ("Connection reset
  // by peer"); empty if there is none.
  std::string detail;
  int status = 0;  // if failure is kNone
  std::string body;
};

HttpClientAnswer SendHttpRequest(const std::string& host, int port,
                                 const HttpClientRequest& request,
                                 std::chrono::milliseconds timeout);

}  // namespace weir::tools
