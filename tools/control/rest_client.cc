// SPDX-License-Identifier: Apache-2.0
#include "tools/control/rest_client.h"

#include <fcntl.h>
#include <httplib.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <utility>

#include "tools/control/job_json.h"

namespace weir::tools {

namespace {

std::string HostPort(const std::string& host, int port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// The errno of one connect to host:port (0 if it connects), found with a
// non-blocking connect. httplib reports every failed connect as
// Error::Connection; this tells "refused" from "unreachable" for the message.
int ConnectErrno(const std::string& host, int port,
                 std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addrs = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints,
                    &addrs) != 0) {
    return EHOSTUNREACH;
  }
  int err = ECONNREFUSED;
  for (addrinfo* a = addrs; a != nullptr; a = a->ai_next) {
    const int fd =
        ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                 a->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      err = 0;
    } else if (errno != EINPROGRESS) {
      err = errno;
    } else {
      pollfd p{fd, POLLOUT, 0};
      const int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
      if (n <= 0) {
        err = ETIMEDOUT;
      } else {
        socklen_t len = sizeof(err);
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
          err = errno;
        }
      }
    }
    ::close(fd);
    if (err == 0) break;
  }
  ::freeaddrinfo(addrs);
  return err;
}

Status TransportError(const std::string& host, int port, httplib::Error error,
                      std::chrono::milliseconds timeout) {
  std::string why;
  switch (error) {
    case httplib::Error::Connection: {
      const int err = ConnectErrno(host, port, timeout);
      if (err == ECONNREFUSED) {
        why = "connection refused (is the job running?)";
      } else if (err != 0) {
        why = std::string("cannot connect: ") + std::strerror(err);
      } else {
        why = "cannot connect";
      }
      break;
    }
    case httplib::Error::ConnectionTimeout:
      why = "no connection within " + std::to_string(timeout.count()) + " ms";
      break;
    case httplib::Error::Read:
      why = "no answer (read failed or timed out after " +
            std::to_string(timeout.count()) + " ms)";
      break;
    case httplib::Error::Write:
      why = "cannot send the request";
      break;
    default:
      why = httplib::to_string(error);
      break;
  }
  return Status::IOError("cannot reach weir at " + HostPort(host, port) + ": " +
                         why);
}

Status HttpError(const std::string& host, int port, int code,
                 const std::string& body) {
  std::string msg;
  if (std::optional<std::string> errors = ParseErrorMessage(body)) {
    msg = *errors;
  } else if (!body.empty()) {
    msg = body.size() > 200 ? body.substr(0, 200) + "..." : body;
  } else {
    msg = "empty answer";
  }
  msg +=
      " (HTTP " + std::to_string(code) + " from " + HostPort(host, port) + ")";
  switch (code) {
    case 404:
      return Status::NotFound(msg);
    case 400:
      return Status::InvalidArgument(msg);
    case 405:
      return Status::NotSupported(msg);
    case 409:
      return Status::FailedPrecondition(msg);
    case 504:
      return Status::DeadlineExceeded(msg);
    default:
      return Status::IOError(msg);
  }
}

// `token`: the bearer token to send; empty: $WEIR_REST_TOKEN, if set.
template <class Send>
Result<std::string> Request(const std::string& host, int port,
                            std::chrono::milliseconds timeout, Send send,
                            const std::string& token = "") {
  if (port <= 0 || port > 65535) {
    return Status::InvalidArgument("port " + std::to_string(port) +
                                   " is not in 1..65535");
  }
  // httplib may throw (std::regex, allocation); none of it leaves here.
  try {
    httplib::Client client(host, port);
    client.set_connection_timeout(timeout);
    client.set_read_timeout(timeout);
    client.set_write_timeout(timeout);
    client.set_keep_alive(false);
    // A server started with rest.token wants it on every request.
    if (!token.empty()) {
      client.set_bearer_token_auth(token);
    } else if (const char* env = std::getenv("WEIR_REST_TOKEN");
               env != nullptr && *env != '\0') {
      client.set_bearer_token_auth(env);
    }
    httplib::Result res = send(client);
    if (!res) return TransportError(host, port, res.error(), timeout);
    if (res->status < 200 || res->status > 299) {
      return HttpError(host, port, res->status, res->body);
    }
    return std::move(res->body);
  } catch (const std::exception& e) {
    return Status::IOError("request to weir at " + HostPort(host, port) +
                           " failed: " + e.what());
  }
}

// POSTs the body `make_body(trigger_id)`; if a weir that predates trigger
// ids refuses the field (nothing was triggered), once more without it.
template <class MakeBody>
Result<std::string> PostTrigger(const std::string& host, int port,
                                const std::string& path,
                                const std::string& trigger_id,
                                MakeBody make_body,
                                std::chrono::milliseconds timeout) {
  Result<std::string> answer =
      HttpPost(host, port, path, make_body(trigger_id), timeout);
  if (!trigger_id.empty() && !answer.ok() &&
      answer.status().IsInvalidArgument() &&
      answer.status().message().find("triggerId is not supported") !=
          std::string_view::npos) {
    answer = HttpPost(host, port, path, make_body(std::string()), timeout);
  }
  return answer;
}

}  // namespace

Result<std::string> HttpGet(const std::string& host, int port,
                            const std::string& path,
                            std::chrono::milliseconds timeout,
                            const std::string& token) {
  return Request(
      host, port, timeout, [&](httplib::Client& c) { return c.Get(path); },
      token);
}

Result<std::string> HttpPatch(const std::string& host, int port,
                              const std::string& path,
                              std::chrono::milliseconds timeout) {
  return Request(host, port, timeout,
                 [&](httplib::Client& c) { return c.Patch(path); });
}

Result<std::string> HttpPost(const std::string& host, int port,
                             const std::string& path, const std::string& body,
                             std::chrono::milliseconds timeout) {
  return Request(host, port, timeout, [&](httplib::Client& c) {
    return c.Post(path, body, "application/json");
  });
}

Result<std::string> HttpDelete(const std::string& host, int port,
                               const std::string& path,
                               std::chrono::milliseconds timeout,
                               const std::string& token) {
  return Request(
      host, port, timeout, [&](httplib::Client& c) { return c.Delete(path); },
      token);
}

Result<std::vector<JobInfo>> FetchJobs(const std::string& host, int port,
                                       std::chrono::milliseconds timeout) {
  Result<std::string> body = HttpGet(host, port, "/jobs/overview", timeout);
  if (!body.ok()) return body.status();
  return ParseJobsOverview(*body);
}

Result<JobInfo> FetchJob(const std::string& host, int port, const JobId& id,
                         std::chrono::milliseconds timeout) {
  Result<std::string> body =
      HttpGet(host, port, "/jobs/" + id.ToHex(), timeout);
  if (!body.ok()) return body.status();
  return ParseJobDetails(*body);
}

Status RequestCancel(const std::string& host, int port, const JobId& id,
                     std::chrono::milliseconds timeout) {
  Result<std::string> body =
      HttpPatch(host, port, "/jobs/" + id.ToHex() + "?mode=cancel", timeout);
  return body.status();
}

Result<CheckpointTrigger> RequestCheckpoint(const std::string& host, int port,
                                            const JobId& id, bool full,
                                            const std::string& trigger_id,
                                            std::chrono::milliseconds timeout) {
  Result<std::string> answer = PostTrigger(
      host, port, "/jobs/" + id.ToHex() + "/checkpoints", trigger_id,
      [full](const std::string& t) { return CheckpointTriggerBody(full, t); },
      timeout);
  if (!answer.ok()) return answer.status();
  return ParseCheckpointTrigger(*answer);
}

Result<CheckpointTriggerStatus> FetchCheckpointStatus(
    const std::string& host, int port, const JobId& id,
    const std::string& request_id, std::chrono::milliseconds timeout) {
  Result<std::string> answer =
      HttpGet(host, port, "/jobs/" + id.ToHex() + "/checkpoints/" + request_id,
              timeout);
  if (!answer.ok()) return answer.status();
  return ParseCheckpointStatus(*answer);
}

Result<std::string> RequestSavepoint(const std::string& host, int port,
                                     const JobId& id,
                                     const SavepointOptions& options,
                                     const std::string& trigger_id,
                                     std::chrono::milliseconds timeout) {
  const bool stop = options.then == SavepointOptions::Then::kStop;
  Result<std::string> answer = PostTrigger(
      host, port, "/jobs/" + id.ToHex() + (stop ? "/stop" : "/savepoints"),
      trigger_id,
      [&options, stop](const std::string& t) {
        return stop ? StopBody(options, t) : SavepointTriggerBody(options, t);
      },
      timeout);
  if (!answer.ok()) return answer.status();
  return ParseRequestId(*answer);
}

Result<OperationStatus> FetchSavepointStatus(
    const std::string& host, int port, const JobId& id,
    const std::string& request_id, std::chrono::milliseconds timeout) {
  Result<std::string> answer = HttpGet(
      host, port, "/jobs/" + id.ToHex() + "/savepoints/" + request_id, timeout);
  if (!answer.ok()) return answer.status();
  return ParseOperationStatus(*answer);
}

Result<std::string> RequestSavepointDisposal(
    const std::string& host, int port, const std::string& path,
    const std::string& trigger_id, std::chrono::milliseconds timeout) {
  Result<std::string> answer = PostTrigger(
      host, port, "/savepoint-disposal", trigger_id,
      [&path](const std::string& t) { return SavepointDisposalBody(path, t); },
      timeout);
  if (!answer.ok()) return answer.status();
  return ParseRequestId(*answer);
}

Result<OperationStatus> FetchSavepointDisposalStatus(
    const std::string& host, int port, const std::string& request_id,
    std::chrono::milliseconds timeout) {
  Result<std::string> answer =
      HttpGet(host, port, "/savepoint-disposal/" + request_id, timeout);
  if (!answer.ok()) return answer.status();
  return ParseOperationStatus(*answer);
}

Status RequestShutdown(const std::string& host, int port,
                       const std::string& token,
                       std::chrono::milliseconds timeout) {
  return HttpDelete(host, port, "/cluster", timeout, token).status();
}

}  // namespace weir::tools
