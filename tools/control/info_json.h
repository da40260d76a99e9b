// SPDX-License-Identifier: Apache-2.0
//
// The bodies of the REST endpoint's informational routes, in the shapes of
// Flink's REST API:
//
//   GET /overview       {"taskmanagers":1,"slots-total","slots-available",
//                        "jobs-running","jobs-finished","jobs-cancelled",
//                        "jobs-failed","flink-version","flink-commit",...}
//   GET /jobs/:jobid/config
//                       {"jid","name","execution-config":{"execution-mode",
//                        "restart-strategy","job-parallelism",
//                        "object-reuse-mode","user-config":{...}}}
//   GET /jobs/:jobid/exceptions
//                       {"root-exception","timestamp","all-exceptions",
//                        "truncated","exceptionHistory":{"entries":[...],
//                        "truncated"}}
//   GET /jobs/:jobid/checkpoints/config
//                       {"mode":"exactly_once","interval","timeout",
//                        "min_pause","max_concurrent","externalization",
//                        "state_backend","checkpoint_storage",
//                        "unaligned_checkpoints",...}
//
// docs/rest-api.md describes every field. Plain functions; nothing throws.
#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include <weir/checkpoint.h>
#include <weir/job_info.h>

namespace weir::tools {

// What a job runs with, as far as the REST endpoint shows it.
struct JobSettings {
  // The job's default parallelism (-p, else the job file's, else
  // parallelism.default); operators may set their own.
  int parallelism = 1;
  RestartOptions restart;         // attempts 0: no restarts
  CheckpointOptions checkpoints;  // dir empty: no checkpoints
  std::string state_backend;      // "rocksdb" or "hashmap"
  // The effective configuration, key -> value as text, secrets hidden
  // (HideSecrets).
  std::map<std::string, std::string> config;
};

// What Flink shows in place of a secret configuration value.
inline constexpr char kHiddenValue[] = "******";

// `config` with the value of every key that names a secret (its name holds
// "token", "password", "secret" or "apikey", in any case) replaced by
// kHiddenValue, as Flink hides them.
std::map<std::string, std::string> HideSecrets(
    std::map<std::string, std::string> config);

// GET /overview for the jobs of one `weir run`: one task manager (the
// process), whose slots are what Flink would need with slot sharing: per
// job its highest vertex parallelism; those of ended jobs are available.
nlohmann::json ClusterOverviewToJson(const std::vector<JobInfo>& jobs,
                                     std::string_view version,
                                     std::string_view commit);

// GET /jobs/:jobid/config.
nlohmann::json JobConfigToJson(const JobInfo& job, const JobSettings& settings);

// "Restart deactivated." or "Restart with fixed delay (1000 ms). #3 restart
// attempts." (Flink's descriptions).
std::string RestartStrategyDescription(const RestartOptions& restart);

// GET /jobs/:jobid/exceptions: the job's failures, newest first, at most
// `max_exceptions` of them ("truncated" says whether there were more).
nlohmann::json JobExceptionsToJson(const JobInfo& job, size_t max_exceptions);

// "weir.IOError", "weir.Aborted", ...: the exceptionName of a failure with
// this code.
std::string ExceptionName(Status::Code code);

// GET /jobs/:jobid/checkpoints/config. REQUIRES: checkpoints are on
// (settings.checkpoints.dir is not empty).
nlohmann::json CheckpointConfigToJson(const JobSettings& settings);

}  // namespace weir::tools
