// SPDX-License-Identifier: Apache-2.0
//
// A real `nats-server -js` for tests: started on a free loopback port with
// its store in a temporary directory, waited for (bounded), stopped (and
// killed if need be) by Stop() or the destructor, also when a test fails.
// Plus the few C-client calls tests need: create a stream, publish, read a
// stream back.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "weir/result.h"
#include "weir/status.h"

namespace weir::natstest {

// Whether `nats-server` is on the PATH (tests skip without it).
bool NatsServerInstalled();

class NatsServer {
 public:
  // `dir`: the store directory (-sd) and the server's log. The port is
  // picked at the first Start() and kept by later ones.
  explicit NatsServer(std::string dir) : dir_(std::move(dir)) {}
  ~NatsServer() { Stop(); }
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  // Makes the server accept only clients that log in with `user` and
  // `password` (--user/--pass). Call before Start().
  void RequireAuth(std::string user, std::string password) {
    user_ = std::move(user);
    password_ = std::move(password);
  }

  // Starts the server and waits (at most 20 s) until it accepts
  // connections and answers JetStream requests.
  Status Start();
  // SIGTERM, then SIGKILL after 10 s; waits for the process.
  void Stop();

  std::string url() const {
    return "nats://127.0.0.1:" + std::to_string(port_);
  }
  int port() const { return port_; }
  // url() with the user and password of RequireAuth(), if any.
  std::string auth_url() const {
    if (user_.empty()) return url();
    return "nats://" + user_ + ":" + password_ +
           "@127.0.0.1:" + std::to_string(port_);
  }

 private:
  std::string dir_;
  std::string user_;
  std::string password_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// A free TCP port on 127.0.0.1 (bound and released).
int FreePort();

struct StreamSpec {
  std::string name;
  std::vector<std::string> subjects;
  int64_t duplicate_window_ms = 120000;
};

struct StoredMessage {
  std::string subject;
  std::string data;
  bool operator<(const StoredMessage& o) const {
    return std::pair(subject, data) < std::pair(o.subject, o.data);
  }
  bool operator==(const StoredMessage&) const = default;
};

Status CreateStream(const std::string& url, const StreamSpec& spec);
// Publishes each (subject, data) and waits for its acknowledgement.
Status Publish(const std::string& url,
               const std::vector<StoredMessage>& messages);
// How many messages `stream` holds.
Result<uint64_t> StreamCount(const std::string& url, const std::string& stream);
// Waits (at most `timeout_ms`) until `stream` holds at least `n` messages;
// returns how many it holds then.
Result<uint64_t> WaitForCount(const std::string& url, const std::string& stream,
                              uint64_t n, int64_t timeout_ms);
// Every message in `stream`, in stream order.
Status ReadStream(const std::string& url, const std::string& stream,
                  std::vector<StoredMessage>* out);

}  // namespace weir::natstest
