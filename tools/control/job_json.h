// SPDX-License-Identifier: Apache-2.0
//
// JobInfo as JSON, in the shapes of Flink's REST API, and back again (the
// CLI reads what the REST endpoint wrote):
//
//   GET /jobs            {"jobs":[{"id":"<32 hex>","status":"RUNNING"}]}
//   GET /jobs/overview   {"jobs":[{"jid","name","state","start-time",
//                          "end-time","duration","last-modification",
//                          "tasks":{"total","running","finished",...},
//                          "pending-operators":0}]}
//   GET /jobs/:jobid     {"jid","name","state","start-time","end-time",
//                          "duration","now","maxParallelism",
//                          "failure" (only if FAILED),
//                          "restore" (only after a restore):{"phase",
//                            "path","tasks-done","tasks-total","files-done",
//                            "files-total","bytes-done","bytes-total",
//                            "start-time","end-time","estimated-ms-left"},
//                          "vertices":[{"id","name","parallelism",
//                            "maxParallelism","status","tasks":{...},
//                            "operators":[{"name","uid","id"}],
//                            "metrics":{"read-records","write-records",
//                              "late-records-dropped","records-skipped"}}]}
//
// docs/rest-api.md describes every field. Times are milliseconds since the
// Unix epoch; "end-time" is -1 until the job is terminal, "start-time" is -1
// before it started (Flink's convention). A vertex's "id" is the id of its
// head operator.
//
// Nothing here throws: serialization replaces invalid UTF-8, and parsing
// returns InvalidArgument for malformed JSON or a wrong shape. Plain
// functions, safe to call from any thread.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <weir/job_info.h>
#include <weir/result.h>

namespace weir::tools {

// The inverse of JobStatusName ("RUNNING" -> kRunning); nullopt for a name
// weir does not know.
std::optional<JobStatus> JobStatusFromName(std::string_view name);

// The bodies of GET /jobs, GET /jobs/overview and GET /jobs/:jobid. `now_ms`
// is the wall clock, used for the duration of jobs that have not ended.
nlohmann::json JobIdsToJson(const std::vector<JobInfo>& jobs);
nlohmann::json JobsOverviewToJson(const std::vector<JobInfo>& jobs,
                                  int64_t now_ms);
nlohmann::json JobDetailsToJson(const JobInfo& job, int64_t now_ms);

// Flink's error body: {"errors":["<message>"]}.
nlohmann::json ErrorJson(std::string_view message);

// Compact JSON text. Never throws: invalid UTF-8 in strings (a job name from
// a YAML file) is replaced by U+FFFD.
std::string DumpJson(const nlohmann::json& json);

// Parses `text` as JSON. InvalidArgument naming the byte offset if it is not
// JSON.
Result<nlohmann::json> ParseJson(std::string_view text);

// OK if every field of the object `j` is one of `known`; else
// InvalidArgument "<what> has unknown fields 'a', 'b' (known: ...)". A
// request with a misspelled field fails instead of silently doing the
// default. Routes that take Flink's "triggerId" list it among `known`
// (trigger_ids.h reads it).
Status CheckRequestFields(const nlohmann::json& j,
                          const std::vector<std::string_view>& known,
                          std::string_view what);

struct JobIdAndStatus {
  JobId id;
  JobStatus status = JobStatus::kCreated;
};

// Parse the bodies above. InvalidArgument if `text` is not JSON, or lacks a
// field, or has a field of the wrong type, or a job id or state weir cannot
// read; the message names the field. Fields that are not mentioned here are
// ignored, so newer servers may add some.
//
// ParseJobsOverview fills id, name, status, start and end time; the
// vertices stay empty (the overview has only task counts). ParseJobDetails
// fills every field of JobInfo; records_in/out come from "read-records" and
// "write-records", running_subtasks from the vertex's "tasks"."RUNNING".
Result<std::vector<JobIdAndStatus>> ParseJobIds(std::string_view text);
Result<std::vector<JobInfo>> ParseJobsOverview(std::string_view text);
Result<JobInfo> ParseJobDetails(std::string_view text);

// The messages of an error body ({"errors":[...]}) joined by "; ", or
// nullopt if `text` is not one.
std::optional<std::string> ParseErrorMessage(std::string_view text);

}  // namespace weir::tools
