// SPDX-License-Identifier: Apache-2.0
//
// The commands of the `weir` binary, apart from argument parsing
// (tools/weir/main.cc). Each prints its answer on stdout and what happens
// as event lines on stderr (tools/log/log.h), and returns the process exit
// code: 0 for success, 1 for an error (one ERROR line on stderr).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tools/control/job_locator.h"
#include "tools/job/config.h"

namespace weir::tools {

struct RunArgs {
  std::string job_file;
  int parallelism = 0;  // -p; 0 = not given
  // -c: the configuration file instead of ConfigFilePath($WEIR_CONF_DIR).
  std::optional<std::string> config;
  std::vector<std::string> dynamic_properties;  // -D key=value
  bool detached = false;                        // -d
  // -s/--from-savepoint PATH: a chk-N or savepoint directory, or its
  // `_metadata` file.
  std::optional<std::string> from_savepoint;
  // --from-latest-checkpoint: the newest complete checkpoint of the job (by
  // its name) in execution.checkpointing.dir.
  bool from_latest_checkpoint = false;
  // --resume: like --from-latest-checkpoint when the job has a complete
  // checkpoint there, or from the job's newest savepoint in
  // execution.checkpointing.savepoint-dir when that completed later (a stop
  // with a savepoint), else a fresh start (one command line for both, as a
  // service manager runs it).
  bool resume = false;
  // -n/--allowNonRestoredState: skip state of operators the job lacks.
  bool allow_non_restored_state = false;
  // --dry-run: with -s (or --from-latest-checkpoint, --resume), print what
  // the restore would do and exit (0 when it would succeed) instead of
  // running the job (tools/run/dry_run.h); --json prints it as JSON.
  bool dry_run = false;
  // --claim-mode claim|no-claim (JobOptions::ClaimMode); empty: the
  // default (claim a checkpoint, not a savepoint).
  std::string claim_mode;
  bool json = false;
};

// `weir run`. The configuration: -D over the job file's `config:` over the
// configuration file over the defaults. Exit codes: 0 when the job
// finished, or was stopped by SIGINT/SIGTERM as execution.stop-on-signal
// says; 1 on an error (also a checkpoint that cannot be restored, or a
// final snapshot that failed) or when the job failed; 2 when it was
// cancelled (`weir cancel`, REST). How the job ended is recorded in the
// registry (JobRegistry::RecordEnd). With -d the job's process writes its
// stdout and stderr to JobRegistry::LogPathOf(its id).
int RunJob(const RunArgs& args);

// `weir list [-m host:port] [-a]`: the running jobs on this host (from the
// registry, and at the endpoint the configuration file names), or those of
// one endpoint; with `all` also the jobs that ended (the registry's ended
// entries: state, end, exit code, message, log file).
int ListJobs(const JobLocator& locator, bool all);

// `weir cancel [-m host:port] JOBID` (without -s; savepoint_command.h has
// `weir cancel -s`).
int CancelJob(const std::string& job_id, const JobLocator& locator);

// The endpoint the configuration file names for the commands that talk to
// a running job: rest.address and rest.port when the file sets rest.port
// (ClientEndpoint); nullopt if there is no file, or it leaves rest.port
// unset or at 0.
std::optional<HostPort> ConfiguredEndpoint(const ConfigFile& file);

}  // namespace weir::tools
