// SPDX-License-Identifier: Apache-2.0
#include "tools/control/info_routes.h"

#include <charconv>
#include <string>

#include "tools/control/build_commit.h"
#include "tools/control/info_json.h"
#include "tools/control/job_json.h"

#ifndef WEIR_VERSION
#define WEIR_VERSION "unknown"
#endif

namespace weir::tools {

namespace {

// Flink's default of ?maxExceptions, and the most weir keeps anyway.
constexpr size_t kDefaultMaxExceptions = 20;

// The job of the request's ":jobid", or the 404 to answer.
Result<JobInfo> RequestedJob(JobDirectory* jobs, const RestRequest& request) {
  Result<JobId> id = JobIdParam(request);
  if (!id.ok()) return Status::NotFound(id.status().message());
  std::optional<JobInfo> job = jobs->GetJob(*id);
  if (!job) return Status::NotFound("Job " + id->ToHex() + " not found");
  return std::move(*job);
}

RestResponse Overview(JobDirectory* jobs) {
  return JsonResponse(
      200, ClusterOverviewToJson(jobs->ListJobs(), "weir " WEIR_VERSION,
                                 kBuildCommit));
}

RestResponse JobConfig(JobDirectory* jobs, const RestRequest& request) {
  Result<JobInfo> job = RequestedJob(jobs, request);
  if (!job.ok()) return StatusResponse(job.status());
  Result<JobSettings> settings = jobs->Settings(job->id);
  if (!settings.ok()) return StatusResponse(settings.status());
  return JsonResponse(200, JobConfigToJson(*job, *settings));
}

RestResponse JobExceptions(JobDirectory* jobs, const RestRequest& request) {
  Result<JobInfo> job = RequestedJob(jobs, request);
  if (!job.ok()) return StatusResponse(job.status());
  size_t max = kDefaultMaxExceptions;
  if (auto it = request.query.find("maxExceptions");
      it != request.query.end()) {
    const std::string& text = it->second;
    int64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size() || n < 1) {
      return ErrorResponse(
          400, "maxExceptions '" + text + "' is not a positive integer");
    }
    max = static_cast<size_t>(n);
  }
  return JsonResponse(200, JobExceptionsToJson(*job, max));
}

RestResponse CheckpointConfig(JobDirectory* jobs, const RestRequest& request) {
  Result<JobInfo> job = RequestedJob(jobs, request);
  if (!job.ok()) return StatusResponse(job.status());
  Result<JobSettings> settings = jobs->Settings(job->id);
  if (!settings.ok()) return StatusResponse(settings.status());
  if (settings->checkpoints.dir.empty()) {
    // As GET /jobs/:jobid/checkpoints (and Flink) answer.
    return ErrorResponse(404, "Checkpointing has not been enabled for job " +
                                  job->id.ToHex() +
                                  " (execution.checkpointing.dir)");
  }
  return JsonResponse(200, CheckpointConfigToJson(*settings));
}

RestResponse QueryState(JobDirectory* jobs, const RestRequest& request) {
  Result<JobInfo> job = RequestedJob(jobs, request);
  if (!job.ok()) return StatusResponse(job.status());
  auto key = request.query.find("key");
  if (key == request.query.end()) {
    return ErrorResponse(400, "the query parameter 'key' is missing");
  }
  const auto uid = request.path_params.find("uid");
  Result<nlohmann::json> value =
      jobs->QueryState(job->id, uid->second, key->second);
  if (!value.ok()) return StatusResponse(value.status());
  return JsonResponse(200, *value);
}

RestResponse Shutdown(JobDirectory* jobs) {
  const Status s = jobs->Shutdown();
  if (!s.ok()) return StatusResponse(s);
  return JsonResponse(200, nlohmann::json::object());
}

}  // namespace

void AddInfoRoutes(RestServer& server, JobDirectory* jobs) {
  server.AddRoute("GET", "/overview",
                  [jobs](const RestRequest&) { return Overview(jobs); });
  server.AddRoute("GET", "/jobs/:jobid/config",
                  [jobs](const RestRequest& r) { return JobConfig(jobs, r); });
  server.AddRoute(
      "GET", "/jobs/:jobid/exceptions",
      [jobs](const RestRequest& r) { return JobExceptions(jobs, r); });
  server.AddRoute(
      "GET", "/jobs/:jobid/checkpoints/config",
      [jobs](const RestRequest& r) { return CheckpointConfig(jobs, r); });
  server.AddRoute("GET", "/jobs/:jobid/state/:uid",
                  [jobs](const RestRequest& r) { return QueryState(jobs, r); });
  server.AddRoute("DELETE", "/cluster",
                  [jobs](const RestRequest&) { return Shutdown(jobs); });
}

}  // namespace weir::tools
