// SPDX-License-Identifier: Apache-2.0
#include "tests/connectors/nats/nats_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "connectors/nats/nats_connection.h"

namespace weir::natstest {

namespace {

using namespace std::chrono_literals;

// A connection and JetStream context, closed at the end of the scope.
struct Client {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  ~Client() {
    if (js != nullptr) jsCtx_Destroy(js);
    if (nc != nullptr) natsConnection_Destroy(nc);
  }
  Status Connect(const std::string& url) {
    natsStatus s = natsConnection_ConnectTo(&nc, url.c_str());
    if (s == NATS_OK) s = natsConnection_JetStream(&js, nc, nullptr);
    if (s != NATS_OK)
      return Status::IOError(weir::internal::NatsErrorText("test client", s));
    return Status::OK();
  }
};

bool Accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok =
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

bool NatsServerInstalled() {
  return std::system("command -v nats-server >/dev/null 2>&1") == 0;
}

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

Status NatsServer::Start() {
  if (pid_ > 0) return Status::FailedPrecondition("nats-server runs already");
  if (port_ == 0) port_ = FreePort();
  std::filesystem::create_directories(dir_ + "/store");
  const std::string log = dir_ + "/nats-server.log";
  const std::string port = std::to_string(port_);
  const std::string store = dir_ + "/store";
  pid_ = ::fork();
  if (pid_ < 0) return Status::IOError("fork failed");
  if (pid_ == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<const char*> argv = {"nats-server", "-js",        "-a",
                                     "127.0.0.1",   "-p",         port.c_str(),
                                     "-sd",         store.c_str()};
    if (!user_.empty()) {
      argv.insert(argv.end(),
                  {"--user", user_.c_str(), "--pass", password_.c_str()});
    }
    argv.push_back(nullptr);
    ::execvp("nats-server", const_cast<char* const*>(argv.data()));
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Status::IOError("nats-server exited at start; see " + log);
    }
    if (Accepts(port_)) {
      // JetStream answers once it has recovered its store.
      Client c;
      jsAccountInfo* info = nullptr;
      if (c.Connect(auth_url()).ok() &&
          js_GetAccountInfo(&info, c.js, nullptr, nullptr) == NATS_OK) {
        jsAccountInfo_Destroy(info);
        return Status::OK();
      }
    }
    std::this_thread::sleep_for(20ms);
  }
  Stop();
  return Status::IOError("nats-server did not come up in 20 s; see " + log);
}

void NatsServer::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  pid_ = -1;
}

Status CreateStream(const std::string& url, const StreamSpec& spec) {
  Client c;
  Status st = c.Connect(url);
  if (!st.ok()) return st;
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = spec.name.c_str();
  std::vector<const char*> subjects;
  for (const std::string& s : spec.subjects) subjects.push_back(s.c_str());
  cfg.Subjects = subjects.data();
  cfg.SubjectsLen = static_cast<int>(subjects.size());
  cfg.Storage = js_FileStorage;
  cfg.Duplicates = spec.duplicate_window_ms * 1000000;
  jsStreamInfo* info = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const natsStatus s = js_AddStream(&info, c.js, &cfg, nullptr, &jerr);
  if (s != NATS_OK) {
    return Status::IOError(
        weir::internal::NatsErrorText("creating stream " + spec.name, s));
  }
  jsStreamInfo_Destroy(info);
  return Status::OK();
}

Status Publish(const std::string& url,
               const std::vector<StoredMessage>& messages) {
  Client c;
  Status st = c.Connect(url);
  if (!st.ok()) return st;
  for (const StoredMessage& m : messages) {
    natsStatus s = js_PublishAsync(c.js, m.subject.c_str(), m.data.data(),
                                   static_cast<int>(m.data.size()), nullptr);
    if (s != NATS_OK)
      return Status::IOError(weir::internal::NatsErrorText("publish", s));
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = 20000;
  const natsStatus s = js_PublishAsyncComplete(c.js, &po);
  if (s != NATS_OK)
    return Status::IOError(weir::internal::NatsErrorText("publish acks", s));
  return Status::OK();
}

Result<uint64_t> StreamCount(const std::string& url,
                             const std::string& stream) {
  Client c;
  Status st = c.Connect(url);
  if (!st.ok()) return st;
  jsStreamInfo* info = nullptr;
  natsStatus s =
      js_GetStreamInfo(&info, c.js, stream.c_str(), nullptr, nullptr);
  if (s != NATS_OK)
    return Status::IOError(weir::internal::NatsErrorText("stream info", s));
  const uint64_t count = info->State.Msgs;
  jsStreamInfo_Destroy(info);
  return count;
}

Result<uint64_t> WaitForCount(const std::string& url, const std::string& stream,
                              uint64_t n, int64_t timeout_ms) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    Result<uint64_t> count = StreamCount(url, stream);
    if (!count.ok() || *count >= n ||
        std::chrono::steady_clock::now() > deadline) {
      return count;
    }
    std::this_thread::sleep_for(50ms);
  }
}

Status ReadStream(const std::string& url, const std::string& stream,
                  std::vector<StoredMessage>* out) {
  out->clear();
  Client c;
  Status st = c.Connect(url);
  if (!st.ok()) return st;
  jsStreamInfo* info = nullptr;
  natsStatus s =
      js_GetStreamInfo(&info, c.js, stream.c_str(), nullptr, nullptr);
  if (s != NATS_OK)
    return Status::IOError(weir::internal::NatsErrorText("stream info", s));
  const uint64_t first = info->State.FirstSeq;
  const uint64_t last = info->State.LastSeq;
  const uint64_t count = info->State.Msgs;
  jsStreamInfo_Destroy(info);
  if (count == 0) return Status::OK();
  for (uint64_t seq = first; seq <= last; ++seq) {
    natsMsg* msg = nullptr;
    s = js_GetMsg(&msg, c.js, stream.c_str(), seq, nullptr, nullptr);
    if (s == NATS_NOT_FOUND) continue;
    if (s != NATS_OK)
      return Status::IOError(weir::internal::NatsErrorText("get message", s));
    out->push_back(
        {natsMsg_GetSubject(msg),
         std::string(natsMsg_GetData(msg),
                     static_cast<size_t>(natsMsg_GetDataLength(msg)))});
    natsMsg_Destroy(msg);
  }
  return Status::OK();
}

}  // namespace weir::natstest
