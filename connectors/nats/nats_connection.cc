// SPDX-License-Identifier: Apache-2.0
#include "connectors/nats/nats_connection.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace weir::internal {

namespace {

int64_t SteadyNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The backoff travels in the closure pointer itself (base and cap in ms,
// 32 bits each), so nothing the client's reconnect thread reads can be
// freed under it.
int64_t ReconnectDelay(natsConnection* nc, int attempts, void* closure) {
  (void)nc;
  const auto packed = reinterpret_cast<uintptr_t>(closure);
  const auto base = static_cast<int64_t>(packed >> 32);
  const auto cap = static_cast<int64_t>(packed & 0xffffffffu);
  int64_t delay = std::max<int64_t>(base, 1);
  for (int i = 1; i < attempts && delay < cap; ++i) delay *= 2;
  return std::min(delay, cap);
}

void* PackBackoff(int64_t base, int64_t cap) {
  auto clamp = [](int64_t v) {
    return static_cast<uintptr_t>(std::clamp<int64_t>(v, 1, 0x7fffffff));
  };
  return reinterpret_cast<void*>(clamp(base) << 32 | clamp(cap));
}

}  // namespace

std::string RedactUrl(std::string_view url) {
  const size_t scheme = url.find("://");
  const size_t host_start = scheme == std::string_view::npos ? 0 : scheme + 3;
  const size_t at = url.find('@', host_start);
  const size_t slash = url.find('/', host_start);
  if (at == std::string_view::npos ||
      (slash != std::string_view::npos && slash < at)) {
    return std::string(url);
  }
  return std::string(url.substr(0, host_start)) + "***@" +
         std::string(url.substr(at + 1));
}

std::string ServerList(const NatsOptions& options) {
  std::string out;
  for (const std::string& s : options.servers) {
    if (!out.empty()) out += ", ";
    out += RedactUrl(s);
  }
  return out;
}

std::string NatsErrorText(std::string_view what, natsStatus s,
                          jsErrCode js_error) {
  std::string text(what);
  text += ": ";
  text += natsStatus_GetText(s);
  natsStatus last = NATS_OK;
  const char* detail = nats_GetLastError(&last);
  if (detail != nullptr && *detail != '\0' && last == s) {
    // The client's text may quote a URL it tried: left out if it could
    // carry a user part.
    std::string d = detail;
    // Without the client's source location, "(conn.c:1905): ".
    if (!d.empty() && d.front() == '(') {
      const size_t end = d.find("): ");
      if (end != std::string::npos) d.erase(0, end + 3);
    }
    if (d.find('@') == std::string::npos && d != natsStatus_GetText(s))
      text += " (" + d + ")";
  }
  if (js_error != 0) {
    text +=
        " [JetStream error " + std::to_string(static_cast<int>(js_error)) + "]";
  }
  return text;
}

NatsConnection::NatsConnection(const NatsOptions& options, std::string who)
    : options_(options), who_(std::move(who)) {}

NatsConnection::~NatsConnection() {
  if (js_ != nullptr) jsCtx_Destroy(js_);
  if (nc_ != nullptr) {
    natsConnection_Close(nc_);
    natsConnection_Destroy(nc_);
  }
  if (opts_ != nullptr) natsOptions_Destroy(opts_);
  if (stats_ != nullptr) natsStatistics_Destroy(stats_);
}

Result<std::unique_ptr<NatsConnection>> NatsConnection::Connect(
    const NatsOptions& options, std::string who, const jsOptions* js_options) {
  if (options.servers.empty()) {
    return Status::InvalidArgument(who + ": no NATS server given");
  }
  if (options.max_outage_ms < 0 || options.connect_timeout_ms <= 0 ||
      options.request_timeout_ms <= 0 || options.reconnect_wait_ms < 0 ||
      options.reconnect_wait_max_ms < options.reconnect_wait_ms) {
    return Status::InvalidArgument(
        who +
        ": the connection's timeouts must be positive and the "
        "reconnect wait at most its maximum");
  }
  std::unique_ptr<NatsConnection> c(new NatsConnection(options, who));
  natsStatus s = natsOptions_Create(&c->opts_);
  if (s != NATS_OK) return Status::IOError(NatsErrorText(who, s));
  std::vector<const char*> servers;
  bool tls =
      options.tls || !options.ca_file.empty() || !options.cert_file.empty();
  for (const std::string& url : options.servers) {
    servers.push_back(url.c_str());
    if (url.rfind("tls://", 0) == 0) tls = true;
  }
  natsOptions* o = c->opts_;
  s = natsOptions_SetServers(o, servers.data(),
                             static_cast<int>(servers.size()));
  if (s == NATS_OK) s = natsOptions_SetTimeout(o, options.connect_timeout_ms);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(o, -1);
  if (s == NATS_OK) {
    s = natsOptions_SetCustomReconnectDelay(
        o, ReconnectDelay,
        PackBackoff(options.reconnect_wait_ms, options.reconnect_wait_max_ms));
  }
  if (s != NATS_OK) {
    return Status::InvalidArgument(NatsErrorText(
        who + ": bad NATS options (servers " + ServerList(options) + ")", s));
  }
  if (tls) {
    s = natsOptions_SetSecure(o, true);
    if (s == NATS_OK && !options.ca_file.empty()) {
      s = natsOptions_LoadCATrustedCertificates(o, options.ca_file.c_str());
    }
    if (s == NATS_OK &&
        (!options.cert_file.empty() || !options.key_file.empty())) {
      s = natsOptions_LoadCertificatesChain(o, options.cert_file.c_str(),
                                            options.key_file.c_str());
    }
    if (s != NATS_OK) {
      return Status::InvalidArgument(NatsErrorText(
          who + ": cannot set up TLS (CA file '" + options.ca_file +
              "', certificate '" + options.cert_file + "', key '" +
              options.key_file + "')",
          s));
    }
  }
  if (!options.credentials_file.empty()) {
    s = natsOptions_SetUserCredentialsFromFiles(
        o, options.credentials_file.c_str(), nullptr);
    if (s != NATS_OK) {
      return Status::InvalidArgument(
          NatsErrorText(who + ": cannot use the credentials file '" +
                            options.credentials_file + "'",
                        s));
    }
  }
  s = natsConnection_Connect(&c->nc_, o);
  if (s != NATS_OK) {
    return Status::IOError(NatsErrorText(
        who + ": cannot connect to NATS at " + ServerList(options), s));
  }
  jsOptions jo;
  if (js_options != nullptr) {
    jo = *js_options;
  } else {
    jsOptions_Init(&jo);
  }
  jo.Wait = options.request_timeout_ms;
  s = natsConnection_JetStream(&c->js_, c->nc_, &jo);
  if (s != NATS_OK) {
    return Status::IOError(NatsErrorText(who + ": no JetStream context", s));
  }
  s = natsStatistics_Create(&c->stats_);
  if (s != NATS_OK) return Status::IOError(NatsErrorText(who, s));
  return c;
}

bool NatsConnection::connected() const {
  return natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED;
}

uint64_t NatsConnection::reconnects() const {
  if (natsConnection_GetStats(nc_, stats_) != NATS_OK) return 0;
  uint64_t reconnects = 0;
  natsStatistics_GetCounts(stats_, nullptr, nullptr, nullptr, nullptr,
                           &reconnects);
  return reconnects;
}

Status NatsConnection::CheckOutage() {
  const natsConnStatus status = natsConnection_Status(nc_);
  if (status == NATS_CONN_STATUS_CONNECTED) {
    down_since_ms_ = -1;
    return Status::OK();
  }
  if (status == NATS_CONN_STATUS_CLOSED) {
    return Status::IOError(who_ + ": the connection to NATS (" +
                           ServerList(options_) + ") was closed");
  }
  const int64_t now = SteadyNowMs();
  if (down_since_ms_ < 0) down_since_ms_ = now;
  if (now - down_since_ms_ > options_.max_outage_ms) {
    return Status::IOError(who_ + ": NATS (" + ServerList(options_) +
                           ") has been unreachable for more than " +
                           std::to_string(options_.max_outage_ms) + " ms");
  }
  return Status::OK();
}

}  // namespace weir::internal
