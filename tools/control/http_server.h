// SPDX-License-Identifier: Apache-2.0
//
// HttpServer: the HTTP/1.1 transport under RestServer (rest_server.h), on
// Boost.Beast. It accepts connections, reads requests, hands each to a
// callback as a RestRequest and writes back the RestResponse; it knows
// nothing of routes.
//
//   - It binds address:port (port 0: any free port, see port()) with
//     SO_REUSEADDR only: no SO_REUSEPORT, so a second server cannot bind a
//     port in use and silently share it. The listen backlog is 128.
//   - Each connection is served by a thread of its own, at most 32 at once;
//     more connections wait in the listen backlog until one ends. A client
//     that sends slowly, or not at all, holds up only its own connection.
//   - A connection must send a complete request (header and body) within
//     5 s of being accepted, and a later one within 5 s of its first byte;
//     an idle keep-alive connection is closed after 1 s without a byte. An
//     answer must be written within 5 s. Then the connection is closed.
//   - Bodies up to 1 MiB (a larger one: 413), header up to 16 KiB (431); a
//     malformed request (an HTTP version other than 1.0 and 1.1 included) is
//     answered 400. These answers close the connection.
//   - A POST, PUT or PATCH with neither Content-Length nor Transfer-Encoding
//     has an empty body (RFC 9112, 6.3) and is answered at once. "Expect:
//     100-continue" gets its interim answer before the body is read.
//   - HEAD is handed to the callback as GET and answered without the body.
//   - Keep-alive as the request's version and "Connection" field say; the
//     answers during Stop() say "Connection: close".
//   - The path is percent-decoded, the query split into parameters
//     ('+' is a space there).
//   - What the callback throws is answered 500; nothing throws out of
//     HttpServer. The answers made here are JSON in Flink's error shape,
//     {"errors":["..."]}.
//
// Thread safety: the callback is called from the connection threads, so
// concurrently. Stop() may be called from any thread but the callback's.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <weir/result.h>

#include "tools/control/rest_message.h"

namespace weir::tools {

// The limits above; tests shorten the timeouts.
struct HttpServerOptions {
  size_t max_connections = 32;
  int listen_backlog = 128;
  std::chrono::milliseconds request_timeout{5000};
  std::chrono::milliseconds idle_timeout{1000};
  std::chrono::milliseconds write_timeout{5000};
  size_t body_limit = size_t{1} << 20;
  size_t header_limit = size_t{16} << 10;
};

class HttpServer {
 public:
  // May modify the request (RestServer fills in path_params).
  using Callback = std::function<RestResponse(RestRequest&)>;

  // Binds `address` (an IP address or a host name) and `port`, listens, and
  // accepts on a background thread. Returns once the socket listens, so a
  // client may connect at once. IOError naming the address and port if it
  // cannot bind or listen; InvalidArgument if port is not in 0..65535.
  static Result<std::unique_ptr<HttpServer>> Start(
      const std::string& address, int port, Callback callback,
      HttpServerOptions options = {});

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();  // Stop()

  int port() const { return port_; }

  // Stops accepting, closes idle connections, lets the callbacks in progress
  // return and their answers be written, and joins every thread. Idempotent.
  // REQUIRES: not called from the callback (it would wait for itself).
  void Stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace weir::tools
