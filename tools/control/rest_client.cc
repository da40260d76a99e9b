// SPDX-License-Identifier: Apache-2.0
#include "tools/control/rest_client.h"

#include <cstdlib>
#include <utility>

#include "tools/control/http_client.h"
#include "tools/control/job_json.h"

namespace weir::tools {

namespace {

std::string HostPort(const std::string& host, int port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Status TransportError(const std::string& host, int port,
                      const HttpClientAnswer& answer,
                      std::chrono::milliseconds timeout) {
  std::string why;
  switch (answer.failure) {
    case HttpFailure::kRefused:
      why = "connection refused (is the job running?)";
      break;
    case HttpFailure::kResolve:
    case HttpFailure::kConnect:
      why = "cannot connect: " + answer.detail;
      break;
    case HttpFailure::kConnectTimeout:
      why = "no connection within " + std::to_string(timeout.count()) + " ms";
      break;
    case HttpFailure::kWrite:
      why = "cannot send the request (" + answer.detail + ")";
      break;
    case HttpFailure::kReadTimeout:
      why = "no answer within " + std::to_string(timeout.count()) + " ms";
      break;
    case HttpFailure::kRead:
      why = "no answer (read failed: " + answer.detail + ")";
      break;
    case HttpFailure::kNone:
    case HttpFailure::kOther:
      why = "request failed: " + answer.detail;
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
    case 429:
      return Status::ResourceExhausted(msg);
    case 504:
      return Status::DeadlineExceeded(msg);
    default:
      return Status::IOError(msg);
  }
}

// `token`: the bearer token to send; empty: $WEIR_REST_TOKEN, if set.
Result<std::string> Request(const std::string& host, int port,
                            std::chrono::milliseconds timeout,
                            HttpClientRequest request,
                            const std::string& token = "") {
  if (port <= 0 || port > 65535) {
    return Status::InvalidArgument("port " + std::to_string(port) +
                                   " is not in 1..65535");
  }
  // A server started with rest.token wants it on every request.
  if (!token.empty()) {
    request.headers.emplace_back("Authorization", "Bearer " + token);
  } else if (const char* env = std::getenv("WEIR_REST_TOKEN");
             env != nullptr && *env != '\0') {
    request.headers.emplace_back("Authorization", std::string("Bearer ") + env);
  }
  HttpClientAnswer answer = SendHttpRequest(host, port, request, timeout);
  if (answer.failure != HttpFailure::kNone) {
    return TransportError(host, port, answer, timeout);
  }
  if (answer.status < 200 || answer.status > 299) {
    return HttpError(host, port, answer.status, answer.body);
  }
  return std::move(answer.body);
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
  HttpClientRequest request;
  request.method = "GET";
  request.target = path;
  return Request(host, port, timeout, std::move(request), token);
}

Result<std::string> HttpPatch(const std::string& host, int port,
                              const std::string& path,
                              std::chrono::milliseconds timeout) {
  HttpClientRequest request;
  request.method = "PATCH";
  request.target = path;
  return Request(host, port, timeout, std::move(request));
}

Result<std::string> HttpPost(const std::string& host, int port,
                             const std::string& path, const std::string& body,
                             std::chrono::milliseconds timeout) {
  HttpClientRequest request;
  request.method = "POST";
  request.target = path;
  request.body = body;
  request.content_type = "application/json";
  return Request(host, port, timeout, std::move(request));
}

Result<std::string> HttpDelete(const std::string& host, int port,
                               const std::string& path,
                               std::chrono::milliseconds timeout,
                               const std::string& token) {
  HttpClientRequest request;
  request.method = "DELETE";
  request.target = path;
  return Request(host, port, timeout, std::move(request), token);
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
