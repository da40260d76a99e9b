// SPDX-License-Identifier: Apache-2.0
//
// The `weir` binary: runs YAML jobs and talks to running ones.
//
//   weir run [-p N] [-c CONF.yaml] [-D key=value]... [-d]
//            [-s PATH [-n] | --from-latest-checkpoint] JOB.yaml
//   weir list [-m host:port]
//   weir cancel [-m host:port] [-s [-t TYPE] [TARGET_DIR]] JOBID
//   weir stop [-m host:port] [-p TARGET_DIR] [-d] [-t TYPE] JOBID
//   weir checkpoint [-m host:port] [--full] JOBID
//   weir checkpoint info [--json] [--verify] PATH
//   weir savepoint [-m host:port] [-t TYPE] JOBID [TARGET_DIR]
//   weir savepoint [-m host:port] -d PATH
//   weir savepoint info [--json] [--verify] PATH
//
// TYPE (Flink's -t/--type) is native (the default) or canonical.
// docs/cli.md is the reference.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "tools/control/checkpoint_command.h"
#include "tools/control/savepoint_command.h"
#include "tools/control/snapshot_info.h"
#include "tools/run/commands.h"
#include "tools/weir/version.h"

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "weir: error: %s (see 'weir --help')\n",
               message.c_str());
  return 1;
}

// -t/--type of `savepoint`, `stop` and `cancel -s`: the savepoint's format.
void AddTypeOption(CLI::App* cmd, std::optional<std::string>* type) {
  cmd->add_option("-t,--type", *type,
                  "The savepoint's format: native (the default; the "
                  "backend's own files) or canonical (backend-neutral, "
                  "self-contained)");
}

// The format `type` names (native if none), or nullopt after printing the
// error.
std::optional<weir::SavepointFormatType> FormatOf(
    const std::optional<std::string>& type) {
  if (!type) return weir::SavepointFormatType::kNative;
  weir::Result<weir::SavepointFormatType> f =
      weir::tools::ParseSavepointType(*type);
  if (!f.ok()) {
    Fail(std::string(f.status().message()));
    return std::nullopt;
  }
  return *f;
}

// `weir checkpoint info` and `weir savepoint info`.
struct InfoArgs {
  CLI::App* cmd = nullptr;
  std::string path;
  bool json = false;
  bool verify = false;
};

void AddInfoCommand(CLI::App* parent, const std::string& what, InfoArgs* args) {
  args->cmd = parent->add_subcommand(
      "info", "Show what a " + what +
                  " holds (from its _metadata) and check that its files "
                  "are there");
  args->cmd->add_flag("--json", args->json, "Print one JSON object");
  args->cmd->add_flag("--verify", args->verify,
                      "Also compare every file's XXH3-64 checksum (reads "
                      "all of them)");
  args->cmd
      ->add_option("path", args->path,
                   "The " + what + " directory or its _metadata file")
      ->required();
}

struct CheckpointArgs {
  CLI::App* cmd = nullptr;
  std::optional<std::string> endpoint;
  std::string job_id;
  bool full = false;
  InfoArgs info;
};

void AddCheckpointCommand(CLI::App& app, CheckpointArgs* args) {
  args->cmd = app.add_subcommand(
      "checkpoint", "Take a checkpoint of a running job and wait for it");
  args->cmd->add_option("-m,--jobmanager", args->endpoint,
                        "The weir at host:port that runs the job");
  args->cmd->add_flag("--full", args->full,
                      "Upload every file anew instead of referencing "
                      "those of earlier checkpoints");
  // Required unless `info` is given: checked after parsing, since CLI11
  // would require it of `checkpoint info PATH` too.
  args->cmd->add_option("jobid", args->job_id,
                        "The JobID (32 hex digits); required");
  AddInfoCommand(args->cmd, "checkpoint", &args->info);
}

struct SavepointArgs {
  CLI::App* cmd = nullptr;
  std::optional<std::string> endpoint;
  std::optional<std::string> dispose;
  std::string job_id;
  std::optional<std::string> target_dir;
  std::optional<std::string> type;
  InfoArgs info;
};

void AddSavepointCommand(CLI::App& app, SavepointArgs* args) {
  args->cmd = app.add_subcommand(
      "savepoint",
      "Take a savepoint of a running job and wait for it (JOBID "
      "[TARGET_DIR]), dispose of one (-d PATH), or inspect one (info PATH)");
  args->cmd->add_option("-m,--jobmanager", args->endpoint,
                        "The weir at host:port that runs the job");
  args->cmd->add_option("-d,--dispose", args->dispose,
                        "Dispose of the savepoint at this path (its "
                        "directory or its _metadata)");
  AddTypeOption(args->cmd, &args->type);
  // Checked after parsing: neither is given with -d or `info`.
  args->cmd->add_option("jobid", args->job_id, "The JobID (32 hex digits)");
  args->cmd->add_option("targetDirectory", args->target_dir,
                        "Where the savepoint goes; default: "
                        "execution.checkpointing.savepoint-dir");
  AddInfoCommand(args->cmd, "savepoint", &args->info);
}

struct CancelArgs {
  CLI::App* cmd = nullptr;
  std::optional<std::string> endpoint;
  bool with_savepoint = false;
  std::optional<std::string> type;  // only with -s
  // [TARGET_DIR] JOBID: -s is a flag, so that its directory may be left
  // out (Flink's `cancel -s [targetDirectory] <jobID>`).
  std::vector<std::string> positionals;
};

void AddCancelCommand(CLI::App& app, CancelArgs* args) {
  args->cmd = app.add_subcommand(
      "cancel", "Cancel a running job, optionally after a savepoint");
  args->cmd->add_option("-m,--jobmanager", args->endpoint,
                        "The weir at host:port that runs the job");
  args->cmd->add_flag("-s,--withSavepoint", args->with_savepoint,
                      "Take a savepoint first (into TARGET_DIR, else "
                      "execution.checkpointing.savepoint-dir) and cancel "
                      "once it is complete; if it fails the job runs on");
  AddTypeOption(args->cmd, &args->type);
  args->cmd
      ->add_option("jobid", args->positionals,
                   "[TARGET_DIR] JOBID; TARGET_DIR only with -s")
      ->required()
      ->expected(1, 2);
}

struct StopArgs {
  CLI::App* cmd = nullptr;
  std::optional<std::string> endpoint;
  std::optional<std::string> target_dir;
  bool drain = false;
  std::optional<std::string> type;
  std::string job_id;
};

void AddStopCommand(CLI::App& app, StopArgs* args) {
  args->cmd = app.add_subcommand(
      "stop",
      "Stop a running job with a savepoint: its sources stop, the "
      "savepoint is taken, the job finishes");
  args->cmd->add_option("-m,--jobmanager", args->endpoint,
                        "The weir at host:port that runs the job");
  args->cmd->add_option("-p,--savepointPath", args->target_dir,
                        "Where the savepoint goes; default: "
                        "execution.checkpointing.savepoint-dir");
  args->cmd->add_flag("-d,--drain", args->drain,
                      "Advance event time to the end first, firing every "
                      "event-time timer (windows)");
  AddTypeOption(args->cmd, &args->type);
  args->cmd->add_option("jobid", args->job_id, "The JobID (32 hex digits)")
      ->required();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"weir: stream jobs with state that survives restarts", "weir"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("weir ") + WEIR_VERSION +
                                        " (commit " + weir::tools::kCommit +
                                        ")\nbuilt with " WEIR_BUILT_WITH);

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
  CLI::Option* from_latest =
      run_cmd
          ->add_flag("--from-latest-checkpoint", run.from_latest_checkpoint,
                     "Start from the newest complete checkpoint of the job "
                     "in execution.checkpointing.dir")
          ->excludes(from_savepoint);
  run_cmd
      ->add_flag("--resume", run.resume,
                 "Start from the newest complete checkpoint of the job if "
                 "there is one, else fresh")
      ->excludes(from_savepoint)
      ->excludes(from_latest);
  run_cmd->add_flag("-n,--allowNonRestoredState", run.allow_non_restored_state,
                    "With -s: skip state of operators the job does not have "
                    "instead of failing");
  run_cmd->add_option("job", run.job_file, "The job file (YAML)")->required();

  std::optional<std::string> list_endpoint;
  CLI::App* list_cmd = app.add_subcommand("list", "List the running jobs");
  list_cmd->add_option("-m,--jobmanager", list_endpoint,
                       "Ask the weir at host:port instead of this host's "
                       "registry of running jobs");

  CancelArgs cancel;
  AddCancelCommand(app, &cancel);
  StopArgs stop;
  AddStopCommand(app, &stop);

  CheckpointArgs checkpoint;
  AddCheckpointCommand(app, &checkpoint);
  SavepointArgs savepoint;
  AddSavepointCommand(app, &savepoint);

  // No command, or an unknown one: say so, and list the commands (CLI11
  // would only say that one is required).
  if (argc == 1 || argv[1][0] != '-') {
    std::string names;
    bool known = false;
    for (const CLI::App* sub :
         app.get_subcommands([](const CLI::App*) { return true; })) {
      known = known || (argc > 1 && sub->get_name() == argv[1]);
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      return Fail((argc == 1
                       ? std::string("a command is required")
                       : "unknown command '" + std::string(argv[1]) + "'") +
                  "; the commands are " + names);
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return Fail(e.what());
  }

  if (run_cmd->parsed()) return weir::tools::RunJob(run);
  if (list_cmd->parsed()) return weir::tools::ListJobs(list_endpoint);
  if (cancel.cmd->parsed()) {
    const std::vector<std::string>& pos = cancel.positionals;
    if (!cancel.with_savepoint) {
      if (pos.size() != 1) {
        return Fail("cancel takes one JOBID (a TARGET_DIR only with -s)");
      }
      if (cancel.type) return Fail("cancel takes --type only with -s");
      return weir::tools::CancelJob(pos[0], cancel.endpoint);
    }
    std::optional<weir::SavepointFormatType> format = FormatOf(cancel.type);
    if (!format) return 1;
    std::optional<std::string> target;
    if (pos.size() == 2) target = pos[0];
    return weir::tools::CancelJobWithSavepoint(pos.back(), target, *format,
                                               cancel.endpoint);
  }
  if (stop.cmd->parsed()) {
    std::optional<weir::SavepointFormatType> format = FormatOf(stop.type);
    if (!format) return 1;
    return weir::tools::StopJobWithSavepoint(
        stop.job_id, stop.target_dir, stop.drain, *format, stop.endpoint);
  }
  if (checkpoint.cmd->parsed()) {
    const InfoArgs& info = checkpoint.info;
    if (info.cmd->parsed()) {
      if (checkpoint.endpoint || checkpoint.full ||
          !checkpoint.job_id.empty()) {
        return Fail("'checkpoint info' takes no JOBID, -m or --full");
      }
      return weir::tools::SnapshotInfoCommand(info.path, info.json,
                                              info.verify);
    }
    if (checkpoint.job_id.empty()) return Fail("jobid is required");
    return weir::tools::CheckpointJob(checkpoint.job_id, checkpoint.full,
                                      checkpoint.endpoint);
  }
  if (savepoint.cmd->parsed()) {
    const InfoArgs& info = savepoint.info;
    if (info.cmd->parsed()) {
      if (savepoint.endpoint || savepoint.dispose || savepoint.type ||
          !savepoint.job_id.empty()) {
        return Fail("'savepoint info' takes no JOBID, -m, -d or --type");
      }
      return weir::tools::SnapshotInfoCommand(info.path, info.json,
                                              info.verify);
    }
    if (savepoint.dispose) {
      if (!savepoint.job_id.empty() || savepoint.type) {
        return Fail("'savepoint -d PATH' takes no JOBID, TARGET_DIR or --type");
      }
      return weir::tools::DisposeSavepointCommand(*savepoint.dispose,
                                                  savepoint.endpoint);
    }
    if (savepoint.job_id.empty()) {
      return Fail("savepoint needs a JOBID (or -d PATH, or info PATH)");
    }
    std::optional<weir::SavepointFormatType> format = FormatOf(savepoint.type);
    if (!format) return 1;
    return weir::tools::SavepointJob(savepoint.job_id, savepoint.target_dir,
                                     *format, savepoint.endpoint);
  }
  return 1;
}
