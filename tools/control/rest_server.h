// SPDX-License-Identifier: Apache-2.0
//
// RestServer: the REST endpoint of `weir run`, with Flink's paths, on
// HttpServer (http_server.h, on Boost.Beast). It answers from a
// JobDirectory (the jobs of this process):
//
//   GET   /config           {"flink-version":"weir <version>", ...}
//   GET   /overview         the cluster overview (info_routes.h)
//   GET   /jobs             {"jobs":[{"id","status"}]}
//   GET   /jobs/overview    {"jobs":[{"jid","name","state",...}]}
//   GET   /jobs/:jobid      the job's details (job_json.h)
//   PATCH /jobs/:jobid      cancels the job (`?mode=cancel` optional);
//                           202 {}
//   GET   /jobs/:jobid/config, /jobs/:jobid/exceptions,
//         /jobs/:jobid/checkpoints/config   (info_routes.h)
//   POST  /jobs/:jobid/checkpoints          triggers a checkpoint; 202
//   GET   /jobs/:jobid/checkpoints          counts, latest, history
//   GET   /jobs/:jobid/checkpoints/:triggerid       a trigger's outcome
//   GET   /jobs/:jobid/checkpoints/details/:id      one checkpoint
//   POST  /jobs/:jobid/savepoints           triggers a savepoint (with
//                                           "cancel-job": then cancels);
//                                           202 {"request-id"}
//   GET   /jobs/:jobid/savepoints/:requestid        its outcome or progress
//   POST  /jobs/:jobid/stop                 stops the job with a savepoint;
//                                           202, polled as above
//   POST  /savepoint-disposal               disposes a savepoint; 202
//   GET   /savepoint-disposal/:requestid            the disposal's outcome
//   GET   /metrics          Prometheus text format (metrics.h)
//   DELETE /cluster         ends a `weir run` whose jobs ended (info_routes.h)
//
// (checkpoint_json.h and savepoint_json.h have the checkpoint and savepoint
// bodies.) Triggers answer a request id (trigger_ids.h): the body's
// "triggerId" when it has one, which makes them idempotent, else a random
// one. A trigger that fails at once (no target directory given or
// configured, the job not running) answers 400 with the engine's message; a
// savepoint that fails later answers COMPLETED with a "failure-cause".
// Disposals run on a thread of their own; their outcomes are kept until
// Stop().
//
// More routes can be added with AddRoute. An
// unknown path answers 404 {"errors":["Not found: /x"]}, a known path with
// another method 405, an unknown or malformed job id 404. Every body is
// JSON, except /metrics. docs/rest-api.md describes the API.
//
// With a token, every request must carry "Authorization: Bearer <token>";
// any other answers 401.
//
// Threads: Start() accepts on a background thread; requests (bodies up to
// 1 MiB) are handled on up to 32 worker threads, one per connection, so
// that a client that sends slowly holds up no other (a connection that
// sends no complete request within 5 s is closed; the listen backlog is
// 128; http_server.h has the details). A JobDirectory and
// the handlers given to AddRoute must be safe to call concurrently. Stop() (and
// the destructor) return after the last handler has returned.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <weir/checkpoint.h>
#include <weir/clock.h>
#include <weir/job_info.h>
#include <weir/result.h>
#include <weir/savepoint.h>
#include <weir/status.h>

#include "tools/control/info_json.h"
#include "tools/control/metrics.h"
#include "tools/control/rest_message.h"
#include "tools/control/trigger_ids.h"

namespace weir::tools {

class HttpServer;

// The jobs a REST endpoint answers for. Implemented by the job runner (and
// by fakes in tests). Called from the server's worker threads.
class JobDirectory {
 public:
  virtual ~JobDirectory();
  virtual std::vector<JobInfo> ListJobs() = 0;
  // nullopt if there is no such job.
  virtual std::optional<JobInfo> GetJob(const JobId& id) = 0;
  // Asks the job to cancel and returns without waiting for it to stop.
  // NotFound if there is no such job; another error if it cannot be
  // cancelled (the server answers as StatusToHttpCode says).
  virtual Status CancelJob(const JobId& id) = 0;

  // Checkpoints. The defaults answer NotSupported (a directory without
  // checkpoints). NotFound if there is no such job.
  //
  // Triggers a checkpoint of the job and returns its id without waiting
  // for it (Job::TriggerCheckpoint: InvalidArgument if the job takes no
  // checkpoints or is not running).
  virtual Result<int64_t> TriggerCheckpoint(const JobId& id, bool full);
  // The outcome of checkpoint `checkpoint_id`: its stats once it ended
  // (completed or failed), nullopt while it runs. NotFound if it was never
  // triggered or is too old to be known.
  virtual Result<std::optional<CheckpointStats>> CheckpointOutcome(
      const JobId& id, int64_t checkpoint_id);
  // Counts and recent history; CheckpointsInfo::enabled is false if the job
  // takes no checkpoints.
  virtual Result<CheckpointsInfo> Checkpoints(const JobId& id);

  // Savepoints (savepoint.h). Triggers a savepoint of the job and returns
  // its id without waiting for it; CheckpointOutcome() gives its outcome.
  // Job::TriggerSavepoint's errors (InvalidArgument if no target directory
  // is given or configured, or the job is not running). Default:
  // NotSupported.
  virtual Result<int64_t> TriggerSavepoint(const JobId& id,
                                           const SavepointOptions& options);
  // Disposes the savepoint at `path`, through the job of this directory
  // whose checkpoint storage it references if there is one
  // (Job::DisposeSavepoint). Blocks until done. Default:
  // weir::DisposeSavepoint(path).
  virtual Status DisposeSavepoint(const std::string& path);

  // What the job runs with (GET /jobs/:jobid/config and
  // /checkpoints/config). NotFound if there is no such job. Default:
  // NotSupported.
  virtual Result<JobSettings> Settings(const JobId& id);
  // GET /jobs/:jobid/state/:uid?key=KEY: the current value of `key` in the
  // keyed state of the operator `uid` (Job::QueryState), as
  // {"key": KEY, "value": ...}. NotFound for an unknown job or uid, or a
  // key without a value; InvalidArgument for a key that is not of the key's
  // type; FailedPrecondition if the job is not running. Default:
  // NotSupported.
  virtual Result<nlohmann::json> QueryState(const JobId& id,
                                            const std::string& uid,
                                            const std::string& key);
  // DELETE /cluster: the process that serves this directory may exit now
  // instead of keeping its ended jobs queryable (returns at once; the
  // process exits soon after). FailedPrecondition while a job has not
  // ended. Default: NotSupported.
  virtual Status Shutdown();
};

// A JSON response: DumpJson(body) with the given status code.
RestResponse JsonResponse(int status, const nlohmann::json& body);
// {"errors":["<message>"]} with the given status code.
RestResponse ErrorResponse(int status, std::string_view message);
// The HTTP status for a failed Status: NotFound 404, InvalidArgument 400,
// NotSupported and Aborted 409, anything else 500. REQUIRES: !s.ok().
int StatusToHttpCode(const Status& s);
// ErrorResponse(StatusToHttpCode(s), s.message()).
RestResponse StatusResponse(const Status& s);
// The ":jobid" path parameter as a JobId; InvalidArgument if it is missing
// or not 32 hex digits.
Result<JobId> JobIdParam(const RestRequest& request);

class RestServer {
 public:
  // Binds `address`:`port` (port 0: any free port, see port()), and serves
  // on a background thread. Returns once the socket listens, so a client may
  // connect at once. `jobs` must outlive the server. `clock` gives the
  // wall time for durations; nullptr means SystemClock(). A non-empty
  // `token` is required on every request (see above).
  // IOError naming the address and port if it cannot bind (port in use,
  // address not local).
  static Result<std::unique_ptr<RestServer>> Start(
      std::string address, int port, JobDirectory* jobs,
      std::shared_ptr<Clock> clock = nullptr, std::string token = "");

  RestServer(const RestServer&) = delete;
  RestServer& operator=(const RestServer&) = delete;
  // Stops the server.
  ~RestServer();

  int port() const { return port_; }
  std::string address() const { return address_; }

  // Adds a route. `method` is "GET", "POST", "PATCH", "PUT" or "DELETE";
  // `pattern` a path whose segments are literal or ":name" (matching any one
  // non-empty segment, given to the handler in path_params). A route added
  // later with the same method and pattern replaces the earlier one; a
  // literal segment wins over a ":name" one ("/jobs/overview" over
  // "/jobs/:jobid"). May be called at any time, from any thread.
  void AddRoute(std::string method, std::string pattern, RestHandler handler);

  // Stops accepting, waits for requests in progress, and joins the thread.
  // Idempotent. REQUIRES: not called from a handler (it would wait for
  // itself).
  void Stop();

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    RestHandler handler;
  };

  RestServer(std::string address, JobDirectory* jobs,
             std::shared_ptr<Clock> clock, std::string token);
  void AddBuiltinRoutes();
  RestResponse Dispatch(RestRequest& request);

  RestResponse GetConfig() const;
  RestResponse GetJobs() const;
  RestResponse GetJobsOverview() const;
  RestResponse GetJob(const RestRequest& request) const;
  RestResponse PatchJob(const RestRequest& request) const;
  RestResponse TriggerCheckpoint(const RestRequest& request);
  RestResponse GetCheckpoints(const RestRequest& request);
  RestResponse GetCheckpointStatus(const RestRequest& request) const;
  RestResponse GetCheckpointDetails(const RestRequest& request) const;
  RestResponse TriggerSavepoint(const RestRequest& request, bool stop);
  RestResponse GetSavepointStatus(const RestRequest& request) const;
  RestResponse TriggerDisposal(const RestRequest& request);
  RestResponse GetDisposalStatus(const RestRequest& request);
  RestResponse GetMetrics();
  // Observes the checkpoint history of every job (for the histograms of
  // /metrics); returns the jobs' current infos.
  std::vector<JobInfo> ObserveCheckpoints();
  void RunObserver();

  const std::string address_;
  const std::string token_;  // empty: no token needed
  int port_ = 0;
  JobDirectory* const jobs_;
  const std::shared_ptr<Clock> clock_;
  std::unique_ptr<HttpServer> http_;  // null until Start() bound the port

  std::mutex routes_mu_;
  std::vector<Route> routes_;  // guarded by routes_mu_

  // Savepoint disposals by request id, and the threads that run them.
  struct Disposal {
    bool done = false;
    Status result;
  };
  std::mutex disposals_mu_;
  std::map<std::string, Disposal> disposals_;  // guarded by disposals_mu_
  std::vector<std::thread> disposal_threads_;  // guarded by disposals_mu_
  bool disposals_closed_ = false;              // guarded by disposals_mu_

  // The trigger ids of savepoints, stops and checkpoints.
  TriggerRegistry triggers_;

  CheckpointMetrics metrics_;
  // Observes checkpoints every 200 ms until Stop().
  std::thread observer_;
  std::mutex observer_mu_;
  std::condition_variable observer_cv_;
  bool stopping_ = false;  // guarded by observer_mu_
};

}  // namespace weir::tools
