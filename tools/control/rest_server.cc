// SPDX-License-Identifier: Apache-2.0
#include "tools/control/rest_server.h"

#include <cassert>
#include <charconv>
#include <chrono>
#include <utility>

#include "tools/control/checkpoint_json.h"
#include "tools/control/http_server.h"
#include "tools/control/info_routes.h"
#include "tools/control/job_json.h"
#include "tools/control/savepoint_json.h"
#include "tools/control/trigger_ids.h"

#ifndef WEIR_VERSION
#define WEIR_VERSION "unknown"
#endif

namespace weir::tools {

namespace {

// `header` is "Bearer <token>", compared in time that does not depend on
// where they differ.
bool TokenMatches(const std::string& header, const std::string& token) {
  const std::string want = "Bearer " + token;
  if (header.size() != want.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    diff |= static_cast<unsigned char>(header[i] ^ want[i]);
  }
  return diff == 0;
}

// Non-empty path segments: "/jobs//x/" and "/jobs/x" are the same path.
std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > pos) out.emplace_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return out;
}

bool IsParam(const std::string& segment) {
  return !segment.empty() && segment[0] == ':';
}

bool Matches(const std::vector<std::string>& pattern,
             const std::vector<std::string>& path,
             std::map<std::string, std::string>* params) {
  if (pattern.size() != path.size()) return false;
  for (size_t seg_idx = 0; seg_idx < pattern.size(); ++seg_idx) {
    if (IsParam(pattern[seg_idx])) {
      if (params) (*params)[pattern[seg_idx].substr(1)] = path[seg_idx];
    } else if (pattern[seg_idx] != path[seg_idx]) {
      return false;
    }
  }
  return true;
}

// True if `a` is more specific than `b`: at the first segment where one is
// literal and the other a parameter, `a` is literal.
bool MoreSpecific(const std::vector<std::string>& a,
                  const std::vector<std::string>& b) {
  for (size_t seg_idx = 0; seg_idx < a.size() && seg_idx < b.size();
       ++seg_idx) {
    const bool a_param = IsParam(a[seg_idx]);
    if (a_param != IsParam(b[seg_idx])) return !a_param;
  }
  return false;
}

}  // namespace

JobDirectory::~JobDirectory() = default;

Result<int64_t> JobDirectory::TriggerCheckpoint(const JobId&, bool) {
  return Status::NotSupported("this endpoint takes no checkpoints");
}

Result<std::optional<CheckpointStats>> JobDirectory::CheckpointOutcome(
    const JobId&, int64_t) {
  return Status::NotSupported("this endpoint takes no checkpoints");
}

Result<CheckpointsInfo> JobDirectory::Checkpoints(const JobId&) {
  return Status::NotSupported("this endpoint takes no checkpoints");
}

Result<int64_t> JobDirectory::TriggerSavepoint(const JobId&,
                                               const SavepointOptions&) {
  return Status::NotSupported("this endpoint takes no savepoints");
}

Status JobDirectory::DisposeSavepoint(const std::string& path) {
  return weir::DisposeSavepoint(path);
}

Result<JobSettings> JobDirectory::Settings(const JobId&) {
  return Status::NotSupported("this endpoint has no job configuration");
}

Result<nlohmann::json> JobDirectory::QueryState(const JobId&,
                                                const std::string&,
                                                const std::string&) {
  return Status::NotSupported("this endpoint has no queryable state");
}

Status JobDirectory::Shutdown() {
  return Status::NotSupported("this endpoint cannot be shut down");
}

RestResponse JsonResponse(int status, const nlohmann::json& body) {
  return RestResponse{status, DumpJson(body)};
}

RestResponse ErrorResponse(int status, std::string_view message) {
  return JsonResponse(status, ErrorJson(message));
}

int StatusToHttpCode(const Status& s) {
  switch (s.code()) {
    case Status::Code::kNotFound:
      return 404;
    case Status::Code::kInvalidArgument:
      return 400;
    case Status::Code::kNotSupported:
    case Status::Code::kAborted:
    case Status::Code::kFailedPrecondition:
      return 409;
    case Status::Code::kDeadlineExceeded:
      return 504;
    case Status::Code::kResourceExhausted:
      return 429;
    default:
      return 500;
  }
}

RestResponse StatusResponse(const Status& s) {
  return ErrorResponse(StatusToHttpCode(s), s.message());
}

Result<JobId> JobIdParam(const RestRequest& request) {
  auto it = request.path_params.find("jobid");
  if (it == request.path_params.end()) {
    return Status::InvalidArgument("the path has no job id");
  }
  return JobId::FromHex(it->second);
}

RestServer::RestServer(std::string address, JobDirectory* jobs,
                       std::shared_ptr<Clock> clock, std::string token)
    : address_(std::move(address)),
      token_(std::move(token)),
      jobs_(jobs),
      clock_(std::move(clock)) {}

RestServer::~RestServer() { Stop(); }

Result<std::unique_ptr<RestServer>> RestServer::Start(
    std::string address, int port, JobDirectory* jobs,
    std::shared_ptr<Clock> clock, std::string token) {
  if (port < 0 || port > 65535) {
    return Status::InvalidArgument("REST port " + std::to_string(port) +
                                   " is not in 0..65535");
  }
  assert(jobs != nullptr);
  if (clock == nullptr) clock = SystemClock();
  std::unique_ptr<RestServer> server(new RestServer(
      std::move(address), jobs, std::move(clock), std::move(token)));
  server->AddBuiltinRoutes();

  RestServer* self = server.get();
  Result<std::unique_ptr<HttpServer>> http =
      HttpServer::Start(server->address_, port, [self](RestRequest& request) {
        if (!self->token_.empty()) {
          auto auth = request.headers.find("authorization");
          if (auth == request.headers.end() ||
              !TokenMatches(auth->second, self->token_)) {
            RestResponse denied = ErrorResponse(
                401,
                "this endpoint needs its token: Authorization: Bearer "
                "<rest.token> (WEIR_REST_TOKEN for weir)");
            denied.headers.emplace_back("WWW-Authenticate", "Bearer");
            return denied;
          }
        }
        return self->Dispatch(request);
      });
  if (!http.ok()) {
    const Status& s = http.status();
    if (s.code() != Status::Code::kIOError) return s;
    return Status::IOError("REST endpoint: " + std::string(s.message()));
  }
  server->http_ = std::move(http).value();
  server->port_ = server->http_->port();
  server->observer_ = std::thread([self] { self->RunObserver(); });
  return server;
}

void RestServer::Stop() {
  // Disposals in progress finish (a half-done one would leave files that
  // nothing references); no new one starts.
  std::vector<std::thread> disposals;
  {
    std::lock_guard<std::mutex> lock(disposals_mu_);
    disposals_closed_ = true;
    disposals.swap(disposal_threads_);
  }
  for (std::thread& t : disposals) t.join();
  if (observer_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(observer_mu_);
      stopping_ = true;
    }
    observer_cv_.notify_all();
    observer_.join();
  }
  if (http_) http_->Stop();
}

void RestServer::AddRoute(std::string method, std::string pattern,
                          RestHandler handler) {
  Route route{std::move(method), SplitPath(pattern), std::move(handler)};
  std::lock_guard<std::mutex> lock(routes_mu_);
  for (Route& r : routes_) {
    if (r.method == route.method && r.segments == route.segments) {
      r.handler = std::move(route.handler);
      return;
    }
  }
  routes_.push_back(std::move(route));
}

RestResponse RestServer::Dispatch(RestRequest& request) {
  std::vector<std::string> path = SplitPath(request.path);
  // Flink's versioned paths: /v1/jobs is /jobs.
  if (!path.empty() && path.front() == "v1") path.erase(path.begin());
  RestHandler handler;
  bool path_known = false;
  {
    std::lock_guard<std::mutex> lock(routes_mu_);
    const Route* best = nullptr;
    for (const Route& r : routes_) {
      if (!Matches(r.segments, path, nullptr)) continue;
      path_known = true;
      if (r.method != request.method) continue;
      if (best == nullptr || MoreSpecific(r.segments, best->segments)) {
        best = &r;
      }
    }
    if (best != nullptr) {
      (void)Matches(best->segments, path, &request.path_params);
      handler = best->handler;
    }
  }
  if (handler) return handler(request);
  if (path_known) {
    return ErrorResponse(405, "Method " + request.method +
                                  " is not allowed for " + request.path);
  }
  return ErrorResponse(404, "Not found: " + request.path);
}

void RestServer::AddBuiltinRoutes() {
  AddRoute("GET", "/config",
           [this](const RestRequest&) { return GetConfig(); });
  AddRoute("GET", "/jobs", [this](const RestRequest&) { return GetJobs(); });
  AddRoute("GET", "/jobs/overview",
           [this](const RestRequest&) { return GetJobsOverview(); });
  AddRoute("GET", "/jobs/:jobid",
           [this](const RestRequest& r) { return GetJob(r); });
  AddRoute("PATCH", "/jobs/:jobid",
           [this](const RestRequest& r) { return PatchJob(r); });
  AddRoute("POST", "/jobs/:jobid/checkpoints",
           [this](const RestRequest& r) { return TriggerCheckpoint(r); });
  AddRoute("GET", "/jobs/:jobid/checkpoints",
           [this](const RestRequest& r) { return GetCheckpoints(r); });
  AddRoute("GET", "/jobs/:jobid/checkpoints/:triggerid",
           [this](const RestRequest& r) { return GetCheckpointStatus(r); });
  AddRoute("GET", "/jobs/:jobid/checkpoints/details/:checkpointid",
           [this](const RestRequest& r) { return GetCheckpointDetails(r); });
  AddRoute("POST", "/jobs/:jobid/savepoints", [this](const RestRequest& r) {
    return TriggerSavepoint(r, /*stop=*/false);
  });
  AddRoute("GET", "/jobs/:jobid/savepoints/:requestid",
           [this](const RestRequest& r) { return GetSavepointStatus(r); });
  AddRoute("POST", "/jobs/:jobid/stop", [this](const RestRequest& r) {
    return TriggerSavepoint(r, /*stop=*/true);
  });
  AddRoute("POST", "/savepoint-disposal",
           [this](const RestRequest& r) { return TriggerDisposal(r); });
  AddRoute("GET", "/savepoint-disposal/:requestid",
           [this](const RestRequest& r) { return GetDisposalStatus(r); });
  AddRoute("GET", "/metrics",
           [this](const RestRequest&) { return GetMetrics(); });
  AddInfoRoutes(*this, jobs_);
}

RestResponse RestServer::GetConfig() const {
  return JsonResponse(200, {{"flink-version", "weir " WEIR_VERSION},
                            {"weir-version", WEIR_VERSION},
                            {"refresh-interval", 3000}});
}

RestResponse RestServer::GetJobs() const {
  return JsonResponse(200, JobIdsToJson(jobs_->ListJobs()));
}

RestResponse RestServer::GetJobsOverview() const {
  return JsonResponse(
      200, JobsOverviewToJson(jobs_->ListJobs(), clock_->NowMillis()));
}

RestResponse RestServer::GetJob(const RestRequest& request) const {
  Result<JobId> id = JobIdParam(request);
  if (!id.ok()) return ErrorResponse(404, id.status().message());
  std::optional<JobInfo> job = jobs_->GetJob(*id);
  if (!job) return ErrorResponse(404, "Job " + id->ToHex() + " not found");
  return JsonResponse(200, JobDetailsToJson(*job, clock_->NowMillis()));
}

RestResponse RestServer::PatchJob(const RestRequest& request) const {
  Result<JobId> id = JobIdParam(request);
  if (!id.ok()) return ErrorResponse(404, id.status().message());
  auto mode = request.query.find("mode");
  if (mode != request.query.end() && mode->second != "cancel") {
    return ErrorResponse(400, "unsupported mode '" + mode->second +
                                  "': PATCH /jobs/:jobid only cancels "
                                  "(mode=cancel); stop a job with POST "
                                  "/jobs/:jobid/stop");
  }
  const Status s = jobs_->CancelJob(*id);
  if (!s.ok()) return StatusResponse(s);
  return JsonResponse(202, nlohmann::json::object());
}

namespace {

// The key of an operation in the TriggerRegistry: its kind ("savepoint"
// for savepoints and stops, which share trigger ids as in Flink, or
// "checkpoint"), the job, and the trigger id.
std::string OperationKey(std::string_view kind, const JobId& job,
                         const std::string& trigger_id) {
  return std::string(kind) + "/" + job.ToHex() + "/" + trigger_id;
}

// A positive decimal checkpoint id from path parameter `name`.
Result<int64_t> CheckpointIdParam(const RestRequest& request,
                                  const char* name) {
  auto it = request.path_params.find(name);
  if (it == request.path_params.end()) {
    return Status::InvalidArgument("the path has no checkpoint id");
  }
  const std::string& s = it->second;
  int64_t id = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
  if (ec != std::errc() || end != s.data() + s.size() || id < 1) {
    return Status::InvalidArgument("'" + s + "' is not a checkpoint id");
  }
  return id;
}

}  // namespace

RestResponse RestServer::TriggerCheckpoint(const RestRequest& request) {
  Result<JobId> id = JobIdParam(request);
  if (!id.ok()) return ErrorResponse(404, id.status().message());
  std::optional<std::string> full_param;
  if (auto it = request.query.find("full"); it != request.query.end()) {
    full_param = it->second;
  }
  std::optional<std::string> trigger_id;
  Result<bool> full =
      ParseCheckpointTriggerRequest(request.body, full_param, &trigger_id);
  if (!full.ok()) return StatusResponse(full.status());
  const std::string request_id = trigger_id ? *trigger_id : NewTriggerId();
  Result<int64_t> checkpoint =
      triggers_.Trigger(OperationKey("checkpoint", *id, request_id),
                        [&] { return jobs_->TriggerCheckpoint(*id, *full); });
  if (!checkpoint.ok()) return StatusResponse(checkpoint.status());
  return JsonResponse(202, CheckpointTriggerToJson(request_id, *checkpoint));
}

RestResponse RestServer::GetCheckpoints(const RestRequest& request) {
  Result<JobId> id = JobIdParam(request);
  if (!id.ok()) return ErrorResponse(404, id.status().message());
  Result<CheckpointsInfo> info = jobs_->Checkpoints(*id);
  if (!info.ok()) return StatusResponse(info.status());
  if (!info->enabled) {
    // Flink answers so for a job without checkpointing.
    return ErrorResponse(404, "Checkpointing has not been enabled for job " +
                                  id->ToHex() +
                                  " (execution.checkpointing.dir)");
  }
  metrics_.Observe(*id, *info);
  return JsonResponse(200, CheckpointsToJson(*info));
}

RestResponse RestServer::GetCheckpointStatus(const RestRequest& request) const {
  Result<JobId> id = JobIdParam(request);
  if (!id.ok()) return ErrorResponse(404, id.status().message());
  // A trigger id this server answered; or, as weir before trigger ids
  // answered, the checkpoint id in decimal (what older `weir checkpoint`
  // commands poll with).
  const std::string& param = request.path_params.at("triggerid");
  Result<int64_t> checkpoint = Status::NotFound(
      "no checkpoint request " + param + " for job " + id->ToHex());
  if (IsTriggerId(param)) {
    if (std::optional<int64_t> known = triggers_.Find(
            OperationKey("checkpoint", *id, NormalizeTriggerId(param)))) {
      checkpoint = *known;
    }
  } else if (Result<int64_t> n = CheckpointIdParam(request, "triggerid");
             n.ok()) {
    checkpoint = *n;
  }
  if (!checkpoint.ok())
    return ErrorResponse(404, checkpoint.status().message());
  Result<std::optional<CheckpointStats>> outcome =
      jobs_->CheckpointOutcome(*id, *checkpoint);
  if (!outcome.ok()) return StatusResponse(outcome.status());
  return JsonResponse(
      200, CheckpointStatusToJson(*checkpoint,
                                  outcome->has_value() ? &**outcome : nullptr));
}

RestResponse RestServer::GetCheckpointDetails(
    const RestRequest& request) const {
  Result<JobId> id = JobIdParam(request);
  if (!id.ok()) return ErrorResponse(404, id.status().message());
  Result<int64_t> checkpoint = CheckpointIdParam(request, "checkpointid");
  if (!checkpoint.ok())
    return ErrorResponse(404, checkpoint.status().message());
  Result<CheckpointsInfo> info = jobs_->Checkpoints(*id);
  if (!info.ok()) return StatusResponse(info.status());
  for (const CheckpointStats& c : info->history) {
    if (c.id == *checkpoint) return JsonResponse(200, CheckpointToJson(c));
  }
  return ErrorResponse(404, "Checkpoint " + std::to_string(*checkpoint) +
                                " of job " + id->ToHex() +
                                " is not in the recent history");
}

RestResponse RestServer::TriggerSavepoint(const RestRequest& request,
                                          bool stop) {
  Result<JobId> id = JobIdParam(request);
  if (!id.ok()) return ErrorResponse(404, id.status().message());
  std::optional<std::string> trigger_id;
  Result<SavepointOptions> options =
      stop ? ParseStopRequest(request.body, &trigger_id)
           : ParseSavepointTriggerRequest(request.body, &trigger_id);
  if (!options.ok()) return StatusResponse(options.status());
  const std::string request_id = trigger_id ? *trigger_id : NewTriggerId();
  // A repeated trigger id answers the operation it names, whatever the
  // body says (Flink's idempotency): savepoints and stops share ids.
  Result<int64_t> savepoint =
      triggers_.Trigger(OperationKey("savepoint", *id, request_id),
                        [&] { return jobs_->TriggerSavepoint(*id, *options); });
  if (!savepoint.ok()) {
    // Flink answers a failed trigger with 400 and the cause; an engine
    // error that is not the caller's (an I/O error creating the target
    // directory, say) is still a failure to trigger. A job that is not in
    // a state to take one (409) and a wait that timed out (504) say so.
    const Status& s = savepoint.status();
    const int code = StatusToHttpCode(s);
    return ErrorResponse(code == 500 ? 400 : code, s.message());
  }
  return JsonResponse(202, RequestIdToJson(request_id));
}

RestResponse RestServer::GetSavepointStatus(const RestRequest& request) const {
  Result<JobId> id = JobIdParam(request);
  if (!id.ok()) return ErrorResponse(404, id.status().message());
  const std::string& param = request.path_params.at("requestid");
  std::optional<int64_t> savepoint;
  if (IsTriggerId(param)) {
    savepoint = triggers_.Find(
        OperationKey("savepoint", *id, NormalizeTriggerId(param)));
  }
  if (!savepoint) {
    return ErrorResponse(
        404, "no savepoint request " + param + " for job " + id->ToHex());
  }
  Result<std::optional<CheckpointStats>> outcome =
      jobs_->CheckpointOutcome(*id, *savepoint);
  if (!outcome.ok()) return StatusResponse(outcome.status());
  if (outcome->has_value()) {
    return JsonResponse(200, SavepointStatusToJson(&**outcome, nullptr));
  }
  // In progress: its history entry says how far it got.
  std::optional<CheckpointStats> progress;
  if (Result<CheckpointsInfo> info = jobs_->Checkpoints(*id); info.ok()) {
    for (const CheckpointStats& c : info->history) {
      if (c.id == *savepoint) progress = c;
    }
  }
  return JsonResponse(
      200, SavepointStatusToJson(nullptr, progress ? &*progress : nullptr));
}

RestResponse RestServer::TriggerDisposal(const RestRequest& request) {
  std::optional<std::string> trigger_id;
  Result<std::string> path =
      ParseSavepointDisposalRequest(request.body, &trigger_id);
  if (!path.ok()) return StatusResponse(path.status());
  const std::string request_id = trigger_id ? *trigger_id : NewTriggerId();
  std::lock_guard<std::mutex> lock(disposals_mu_);
  // A repeated trigger id: the disposal it started, not another one.
  if (disposals_.count(request_id) > 0) {
    return JsonResponse(202, RequestIdToJson(request_id));
  }
  if (disposals_closed_) {
    return ErrorResponse(503, "the endpoint is shutting down");
  }
  disposals_[request_id] = Disposal{};
  disposal_threads_.emplace_back([this, request_id, path = *path] {
    Status s = jobs_->DisposeSavepoint(path);
    std::lock_guard<std::mutex> l(disposals_mu_);
    Disposal& d = disposals_[request_id];
    d.done = true;
    d.result = std::move(s);
  });
  return JsonResponse(202, RequestIdToJson(request_id));
}

RestResponse RestServer::GetDisposalStatus(const RestRequest& request) {
  const std::string request_id =
      NormalizeTriggerId(request.path_params.at("requestid"));
  std::lock_guard<std::mutex> lock(disposals_mu_);
  auto it = disposals_.find(request_id);
  if (it == disposals_.end()) {
    return ErrorResponse(404, "no savepoint disposal request " + request_id);
  }
  return JsonResponse(200,
                      DisposalStatusToJson(it->second.done, it->second.result));
}

std::vector<JobInfo> RestServer::ObserveCheckpoints() {
  std::vector<JobInfo> jobs = jobs_->ListJobs();
  std::vector<JobId> ids;
  for (const JobInfo& job : jobs) {
    ids.push_back(job.id);
    Result<CheckpointsInfo> info = jobs_->Checkpoints(job.id);
    if (info.ok() && info->enabled) metrics_.Observe(job.id, *info);
  }
  metrics_.Retain(ids);
  return jobs;
}

void RestServer::RunObserver() {
  std::unique_lock<std::mutex> lock(observer_mu_);
  while (!stopping_) {
    lock.unlock();
    ObserveCheckpoints();
    lock.lock();
    observer_cv_.wait_for(lock, std::chrono::milliseconds(200),
                          [this] { return stopping_; });
  }
}

RestResponse RestServer::GetMetrics() {
  std::vector<JobMetricsInput> inputs;
  for (JobInfo& job : ObserveCheckpoints()) {
    JobMetricsInput in;
    Result<CheckpointsInfo> info = jobs_->Checkpoints(job.id);
    if (info.ok() && info->enabled) {
      // Observe this very history, so the histogram and the counts agree.
      metrics_.Observe(job.id, *info);
      in.checkpoints = std::move(*info);
      in.durations = metrics_.Histogram(job.id);
    }
    in.info = std::move(job);
    inputs.push_back(std::move(in));
  }
  RestResponse response;
  response.body = FormatMetrics(inputs);
  response.content_type = kPrometheusContentType;
  return response;
}

}  // namespace weir::tools
