// SPDX-License-Identifier: Apache-2.0
//
// The commands of the `weir` binary, apart from argument parsing
// (tools/weir/main.cc). Each prints what it has to say and returns the
// process exit code: 0 for success, 1 for an error (one message on stderr).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace weir::tools {

struct RunArgs {
  std::string job_file;
  int parallelism = 0;                          // -p; 0 = not given
  std::optional<std::string> config;            // -c
  std::vector<std::string> dynamic_properties;  // -D key=value
  bool detached = false;                        // -d
  // -s/--from-savepoint PATH: a chk-N or savepoint directory, or its
  // `_metadata` file.
  std::optional<std::string> from_savepoint;
  // --from-latest-checkpoint: the newest complete checkpoint of the job (by
  // its name) in execution.checkpointing.dir.
  bool from_latest_checkpoint = false;
  // --resume: like --from-latest-checkpoint when the job has a complete
  // checkpoint there, else a fresh start (one command line for both, as a
  // service manager runs it).
  bool resume = false;
  // -n/--allowNonRestoredState: skip state of operators the job lacks.
  bool allow_non_restored_state = false;
};

// `weir run`. Exit codes: 0 when the job finished, or was stopped by
// SIGINT/SIGTERM as execution.stop-on-signal says; 1 on an error (also a
// checkpoint that cannot be restored, or a final snapshot that failed) or
// when the job failed; 2 when it was cancelled (`weir cancel`, REST).
int RunJob(const RunArgs& args);

// `weir list [-m host:port]`: the running jobs on this host (from the
// registry), or those of one endpoint.
int ListJobs(const std::optional<std::string>& endpoint);

// `weir cancel [-m host:port] JOBID` (without -s; savepoint_command.h has
// `weir cancel -s`).
int CancelJob(const std::string& job_id,
              const std::optional<std::string>& endpoint);

}  // namespace weir::tools
