// SPDX-License-Identifier: Apache-2.0
//
// The client side of the REST endpoint (rest_server.h): what `weir list`,
// `weir cancel`, `weir savepoint`, ... use to talk to a running `weir run`.
//
// Each call opens one connection, sends one request, and closes it. Plain
// HTTP on the given host and port; nothing here throws. Failures come back
// as a Status whose message says what to fix:
//
//   cannot reach weir at 127.0.0.1:8081: connection refused (is the job
//   running?)                                     IOError
//   <the server's "errors" text> (HTTP 404 from 127.0.0.1:8081)
//                                                 NotFound for 404,
//                                                 InvalidArgument for 400,
//                                                 NotSupported for 405/409,
//                                                 IOError otherwise
//
// Thread safety: the functions share no state; call them from any thread.
#pragma once

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <weir/job_info.h>
#include <weir/result.h>
#include <weir/status.h>

#include "tools/control/checkpoint_json.h"
#include "tools/control/savepoint_json.h"

namespace weir::tools {

// Default: 10 s to connect, 10 s to send the request, and 10 s to read the
// answer (http_client.h).
inline constexpr std::chrono::milliseconds kDefaultHttpTimeout{10'000};

// The Status of a Status or of a Result.
inline const Status& OutcomeStatus(const Status& s) { return s; }
template <class T>
const Status& OutcomeStatus(const Result<T>& r) {
  return r.status();
}

// Calls `request` (returning a Result or a Status) until it succeeds or
// fails with other than IOError (the server unreachable, an answer lost, an
// HTTP 5xx), at most `attempts` times, `pause` apart; its last outcome. For
// requests that may be repeated: GETs, and triggers with a trigger id.
template <class Request>
auto Retrying(Request request, int attempts = 3,
              std::chrono::milliseconds pause = std::chrono::milliseconds(200))
    -> decltype(request()) {
  for (int attempt = 1;; ++attempt) {
    auto outcome = request();
    if (outcome.ok() || !OutcomeStatus(outcome).IsIOError() ||
        attempt >= attempts) {
      return outcome;
    }
    std::this_thread::sleep_for(pause);
  }
}

// The body of a 2xx answer to the request, or an error as above. `path`
// starts with '/' and may carry a query ("/jobs/x?mode=cancel"). Requests
// carry $WEIR_REST_TOKEN as the bearer token when it is set; `token`, where
// given and not empty, instead.
Result<std::string> HttpGet(
    const std::string& host, int port, const std::string& path,
    std::chrono::milliseconds timeout = kDefaultHttpTimeout,
    const std::string& token = "");
Result<std::string> HttpPatch(
    const std::string& host, int port, const std::string& path,
    std::chrono::milliseconds timeout = kDefaultHttpTimeout);
// `body` is sent as application/json.
Result<std::string> HttpPost(
    const std::string& host, int port, const std::string& path,
    const std::string& body,
    std::chrono::milliseconds timeout = kDefaultHttpTimeout);
Result<std::string> HttpDelete(
    const std::string& host, int port, const std::string& path,
    std::chrono::milliseconds timeout = kDefaultHttpTimeout,
    const std::string& token = "");

// GET /jobs/overview: the server's jobs with id, name, status, start and end
// time (no vertices). InvalidArgument if the answer cannot be read.
Result<std::vector<JobInfo>> FetchJobs(
    const std::string& host, int port,
    std::chrono::milliseconds timeout = kDefaultHttpTimeout);

// GET /jobs/:jobid: every field of the job's JobInfo. NotFound if the server
// does not know the job.
Result<JobInfo> FetchJob(
    const std::string& host, int port, const JobId& id,
    std::chrono::milliseconds timeout = kDefaultHttpTimeout);

// PATCH /jobs/:jobid?mode=cancel: asks the job to cancel; OK once the
// server accepted (202), before the job has stopped.
Status RequestCancel(const std::string& host, int port, const JobId& id,
                     std::chrono::milliseconds timeout = kDefaultHttpTimeout);

// The triggers below send `trigger_id` (trigger_ids.h; none if empty) as
// the body's "triggerId": repeating a trigger with the same id after its
// answer was lost triggers nothing twice. A weir that predates trigger ids
// refuses the field; then the trigger is sent once more without it.

// POST /jobs/:jobid/checkpoints: triggers a checkpoint (a full one if
// `full`) and returns its request id (and checkpoint id) without waiting
// for it. InvalidArgument (HTTP 400) if the job takes no checkpoints or is
// not running.
Result<CheckpointTrigger> RequestCheckpoint(
    const std::string& host, int port, const JobId& id, bool full,
    const std::string& trigger_id = "",
    std::chrono::milliseconds timeout = kDefaultHttpTimeout);

// GET /jobs/:jobid/checkpoints/:triggerid: whether the checkpoint of
// request `request_id` has ended, and how.
Result<CheckpointTriggerStatus> FetchCheckpointStatus(
    const std::string& host, int port, const JobId& id,
    const std::string& request_id,
    std::chrono::milliseconds timeout = kDefaultHttpTimeout);

// POST /jobs/:jobid/savepoints (then kContinue or kCancel) or POST
// /jobs/:jobid/stop (then kStop): triggers a savepoint and returns its
// request id without waiting for it. InvalidArgument (HTTP 400) with the
// engine's message if it cannot be triggered.
Result<std::string> RequestSavepoint(
    const std::string& host, int port, const JobId& id,
    const SavepointOptions& options, const std::string& trigger_id = "",
    std::chrono::milliseconds timeout = kDefaultHttpTimeout);

// GET /jobs/:jobid/savepoints/:request-id.
Result<OperationStatus> FetchSavepointStatus(
    const std::string& host, int port, const JobId& id,
    const std::string& request_id,
    std::chrono::milliseconds timeout = kDefaultHttpTimeout);

// POST /savepoint-disposal: starts disposing the savepoint at `path` (as
// the server sees it) and returns the request id.
Result<std::string> RequestSavepointDisposal(
    const std::string& host, int port, const std::string& path,
    const std::string& trigger_id = "",
    std::chrono::milliseconds timeout = kDefaultHttpTimeout);

// GET /savepoint-disposal/:request-id.
Result<OperationStatus> FetchSavepointDisposalStatus(
    const std::string& host, int port, const std::string& request_id,
    std::chrono::milliseconds timeout = kDefaultHttpTimeout);

// DELETE /cluster: asks the `weir run` at host:port, whose jobs have all
// ended, to exit now. FailedPrecondition (HTTP 409) while one runs;
// `token` as for HttpDelete.
Status RequestShutdown(const std::string& host, int port,
                       const std::string& token = "",
                       std::chrono::milliseconds timeout = kDefaultHttpTimeout);

}  // namespace weir::tools
