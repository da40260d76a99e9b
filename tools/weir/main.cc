// SPDX-License-Identifier: Apache-2.0
//
// The `weir` binary: runs YAML jobs and talks to running ones.
//
//   weir run [-p N] [-c CONF.yaml] [-D key=value]... [-d]
//            [-s PATH | --from-latest-checkpoint] JOB.yaml
//   weir list [-m host:port]
//   weir cancel [-m host:port] JOBID
//   weir checkpoint [-m host:port] [--full] JOBID
//
// docs/cli.md is the reference.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "tools/control/checkpoint_command.h"
#include "tools/run/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"weir: stream jobs with state that survives restarts"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("weir ") + WEIR_VERSION);

  weir::tools::RunArgs run;
  CLI::App* run_cmd = app.add_subcommand("run", "Run a job described in YAML");
  run_cmd
      ->add_option("-p,--parallelism", run.parallelism,
                   "Default parallelism of the job's operators")
      ->check(CLI::PositiveNumber);
  run_cmd->add_option("-c,--config", run.config,
                      "Configuration file (Flink-style flat keys)");
  run_cmd
      ->add_option("-D", run.dynamic_properties,
                   "Set a configuration key: -D key=value")
      ->allow_extra_args(false);
  run_cmd->add_flag("-d,--detached", run.detached,
                    "Run in the background; print the JobID and return");
  CLI::Option* from_savepoint = run_cmd->add_option(
      "-s,--from-savepoint,--fromSavepoint", run.from_savepoint,
      "Start from this checkpoint or savepoint (chk-N directory or its "
      "_metadata)");
  run_cmd
      ->add_flag("--from-latest-checkpoint", run.from_latest_checkpoint,
                 "Start from the newest complete checkpoint of the job in "
                 "execution.checkpointing.dir")
      ->excludes(from_savepoint);
  run_cmd->add_option("job", run.job_file, "The job file (YAML)")->required();

  std::optional<std::string> list_endpoint;
  CLI::App* list_cmd = app.add_subcommand("list", "List the running jobs");
  list_cmd->add_option("-m,--jobmanager", list_endpoint,
                       "Ask the weir at host:port instead of this host's "
                       "registry of running jobs");

  std::optional<std::string> cancel_endpoint;
  std::string cancel_id;
  CLI::App* cancel_cmd = app.add_subcommand("cancel", "Cancel a running job");
  cancel_cmd->add_option("-m,--jobmanager", cancel_endpoint,
                         "The weir at host:port that runs the job");
  cancel_cmd->add_option("jobid", cancel_id, "The JobID (32 hex digits)")
      ->required();

  std::optional<std::string> checkpoint_endpoint;
  std::string checkpoint_id;
  bool checkpoint_full = false;
  CLI::App* checkpoint_cmd = app.add_subcommand(
      "checkpoint", "Take a checkpoint of a running job and wait for it");
  checkpoint_cmd->add_option("-m,--jobmanager", checkpoint_endpoint,
                             "The weir at host:port that runs the job");
  checkpoint_cmd->add_flag("--full", checkpoint_full,
                           "Upload every file anew instead of referencing "
                           "those of earlier checkpoints");
  checkpoint_cmd
      ->add_option("jobid", checkpoint_id, "The JobID (32 hex digits)")
      ->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "weir: error: %s (see 'weir --help')\n", e.what());
    return 1;
  }

  if (run_cmd->parsed()) return weir::tools::RunJob(run);
  if (list_cmd->parsed()) return weir::tools::ListJobs(list_endpoint);
  if (cancel_cmd->parsed()) {
    return weir::tools::CancelJob(cancel_id, cancel_endpoint);
  }
  if (checkpoint_cmd->parsed()) {
    return weir::tools::CheckpointJob(checkpoint_id, checkpoint_full,
                                      checkpoint_endpoint);
  }
  return 1;
}
