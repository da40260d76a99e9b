// SPDX-License-Identifier: Apache-2.0
//
// One connection to a NATS server with its JetStream context, made from
// NatsOptions (weir/nats.h), and the translation of the C client's errors
// into Status. The only code besides the source and the sink that includes
// <nats/nats.h>.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "weir/nats.h"
#include "weir/result.h"
#include "weir/status.h"

namespace weir::internal {

// `url` without the user information (user:password@ or token@).
std::string RedactUrl(std::string_view url);
// The servers of `options`, redacted, joined by ", ".
std::string ServerList(const NatsOptions& options);

// "<what>: <text of s> (<the client's last error>)"; JetStream's error
// code is added when not 0.
std::string NatsErrorText(std::string_view what, natsStatus s,
                          jsErrCode js_error = static_cast<jsErrCode>(0));

// A connection and its JetStream context. Not thread-safe: it belongs to
// the task thread that made it (the client's own threads run its
// reconnects and acknowledgement handlers).
class NatsConnection {
 public:
  ~NatsConnection();
  NatsConnection(const NatsConnection&) = delete;
  NatsConnection& operator=(const NatsConnection&) = delete;

  // Connects to one of options.servers. `who` names the source or sink in
  // errors ("NATS source 'events'"). InvalidArgument for bad options (no
  // server, a TLS file that cannot be loaded); IOError if no server can be
  // reached or the server refuses the connection (bad credentials).
  // `js_options` may set the acknowledgement handlers of asynchronous
  // publishes; its Wait is set from options.request_timeout_ms.
  static Result<std::unique_ptr<NatsConnection>> Connect(
      const NatsOptions& options, std::string who,
      const jsOptions* js_options = nullptr);

  natsConnection* connection() { return nc_; }
  jsCtx* js() { return js_; }
  const std::string& who() const { return who_; }
  const NatsOptions& options() const { return options_; }

  bool connected() const;
  // How many times the client has reconnected since Connect(): a change
  // means server-side state without persistence (ephemeral consumers) may
  // be gone.
  uint64_t reconnects() const;
  // OK while connected or disconnected for at most options.max_outage_ms
  // (measured from the first call that saw the connection down); IOError
  // naming `who` after that, or when the connection is closed.
  Status CheckOutage();

 private:
  NatsConnection(const NatsOptions& options, std::string who);

  NatsOptions options_;
  std::string who_;
  natsOptions* opts_ = nullptr;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  natsStatistics* stats_ = nullptr;
  int64_t down_since_ms_ = -1;  // steady clock; -1 while connected
};

}  // namespace weir::internal
