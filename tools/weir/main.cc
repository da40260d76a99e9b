// SPDX-License-Identifier: Apache-2.0
//
// The `weir` binary: runs YAML jobs and talks to running ones.
//
//   weir [-q | -v] COMMAND ...
//   weir run [-p N] [-c CONF.yaml] [-D key=value]... [-d]
//            [-s PATH [-n] | --from-latest-checkpoint | --resume] JOB.yaml
//   weir list [-m host:port] [-a]
//   weir cancel [-m host:port] [-s [-t TYPE] [TARGET_DIR]] JOBID
//   weir stop [-m host:port] [-p TARGET_DIR] [-d] [-t TYPE] JOBID
//   weir checkpoint [-m host:port] [--full] JOBID
//   weir checkpoint info [--json] [--verify] PATH
//   weir savepoint [-m host:port] [-t TYPE] JOBID [TARGET_DIR]
//   weir savepoint [-m host:port] -d PATH
//   weir savepoint info [--json] [--verify] PATH
//
// TYPE (Flink's -t/--type) is native (the default) or canonical. -q
// (--quiet) shows only warnings and errors, -v (--verbose) adds debug lines;
// both go before or after the command. Every command reads the
// configuration file (tools/job/config.h: LoadConfigFile). docs/cli.md is
// the reference.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "tools/control/checkpoint_command.h"
#include "tools/control/savepoint_command.h"
#include "tools/control/snapshot_info.h"
#include "tools/job/config.h"
#include "tools/log/log.h"
#include "tools/run/commands.h"
#include "tools/state/state_cli.h"
#include "tools/weir/version.h"

#ifdef WEIR_WITH_NATS
#include <nats/nats.h>
#endif

namespace {

int Fail(const std::string& message) {
  weir::tools::log::Error(message + " (see 'weir --help')");
  return 1;
}

bool IsGlobalFlag(const char* arg) {
  return std::strcmp(arg, "-q") == 0 || std::strcmp(arg, "--quiet") == 0 ||
         std::strcmp(arg, "-v") == 0 || std::strcmp(arg, "--verbose") == 0;
}

// -t/--type of `savepoint`, `stop` and `cancel -s`: the savepoint's format.
void AddTypeOption(CLI::App* cmd, std::optional<std::string>* type) {
  cmd->add_option("-t,--type", *type,
                  "The savepoint's format: native (the default; the "
                  "backend's own files) or canonical (backend-neutral, "
                  "self-contained)");
}

// --self-contained of `savepoint`, `stop` and `cancel -s`.
void AddSelfContainedFlag(CLI::App* cmd, bool* self_contained) {
  cmd->add_flag("--self-contained", *self_contained,
                "Link or copy every file into the savepoint's directory "
                "instead of referencing the job's checkpoint storage, so "
                "that the savepoint outlives it");
}

// The savepoint `type` and `self_contained` ask for (native if no type),
// or nullopt after printing the error.
std::optional<weir::tools::SavepointShape> ShapeOf(
    const std::optional<std::string>& type, bool self_contained) {
  weir::tools::SavepointShape shape;
  shape.self_contained = self_contained;
  if (!type) return shape;
  weir::Result<weir::SavepointFormatType> f =
      weir::tools::ParseSavepointType(*type);
  if (!f.ok()) {
    Fail(std::string(f.status().message()));
    return std::nullopt;
  }
  shape.format = *f;
  return shape;
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
  bool self_contained = false;
  InfoArgs info;
  CLI::App* export_cmd = nullptr;
  std::string export_path;
  std::string export_dir;
};

void AddSavepointCommand(CLI::App& app, SavepointArgs* args) {
  args->cmd = app.add_subcommand(
      "savepoint",
      "Take a savepoint of a running job and wait for it (JOBID "
      "[TARGET_DIR]), dispose of one (-d PATH), inspect one (info PATH), "
      "or copy one so that it depends on nothing else (export PATH DIR)");
  args->cmd->add_option("-m,--jobmanager", args->endpoint,
                        "The weir at host:port that runs the job");
  args->cmd->add_option("-d,--dispose", args->dispose,
                        "Dispose of the savepoint at this path (its "
                        "directory or its _metadata)");
  AddTypeOption(args->cmd, &args->type);
  AddSelfContainedFlag(args->cmd, &args->self_contained);
  // Checked after parsing: neither is given with -d, `info` or `export`.
  args->cmd->add_option("jobid", args->job_id, "The JobID (32 hex digits)");
  args->cmd->add_option("targetDirectory", args->target_dir,
                        "Where the savepoint goes; default: "
                        "execution.checkpointing.savepoint-dir");
  AddInfoCommand(args->cmd, "savepoint", &args->info);
  args->export_cmd = args->cmd->add_subcommand(
      "export",
      "Write a self-contained copy of a savepoint or retained checkpoint: "
      "every file it references linked or copied into DIR and checked");
  args->export_cmd
      ->add_option("path", args->export_path,
                   "The savepoint or checkpoint directory or its _metadata")
      ->required();
  args->export_cmd
      ->add_option("dir", args->export_dir,
                   "The new savepoint's directory (new or empty)")
      ->required();
}

struct CancelArgs {
  CLI::App* cmd = nullptr;
  std::optional<std::string> endpoint;
  bool with_savepoint = false;
  std::optional<std::string> type;  // only with -s
  bool self_contained = false;      // only with -s
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
  AddSelfContainedFlag(args->cmd, &args->self_contained);
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
  bool self_contained = false;
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
  AddSelfContainedFlag(args->cmd, &args->self_contained);
  args->cmd->add_option("jobid", args->job_id, "The JobID (32 hex digits)")
      ->required();
}

}  // namespace

int main(int argc, char** argv) {
  namespace log = weir::tools::log;
  // A command's lines read as a Unix tool's, those of `weir run` as a log's
  // (log.h).
  log::Init(/*one_shot=*/true);
  CLI::App app{"weir: stream jobs with state that survives restarts", "weir"};
  app.require_subcommand(1);
  // -q and -v are valid before and after any command.
  app.fallthrough();
  bool quiet = false;
  bool verbose = false;
  CLI::Option* quiet_flag = app.add_flag(
      "-q,--quiet", quiet, "Show only warnings and errors on stderr");
  app.add_flag("-v,--verbose", verbose, "Also show debug lines on stderr")
      ->excludes(quiet_flag);
  std::string built_with = WEIR_BUILT_WITH;
#ifdef WEIR_WITH_NATS
  // The version of the client linked in (static or shared), from itself.
  built_with += std::string(", NATS C client ") + nats_GetVersion();
#endif
  app.set_version_flag("--version", std::string("weir ") + WEIR_VERSION +
                                        " (commit " + weir::tools::kCommit +
                                        ")\nbuilt with " + built_with);

  weir::tools::RunArgs run;
  CLI::App* run_cmd = app.add_subcommand("run", "Run a job described in YAML");
  run_cmd
      ->add_option("-p,--parallelism", run.parallelism,
                   "Default parallelism of the job's operators")
      ->check(CLI::PositiveNumber);
  run_cmd->add_option("-c,--config", run.config,
                      "Configuration file (Flink-style flat keys), read "
                      "instead of $WEIR_CONF_DIR/config.yaml or "
                      "/etc/weir/config.yaml");
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
  run_cmd->add_flag("-n,--allowNonRestoredState,--allow-non-restored-state",
                    run.allow_non_restored_state,
                    "With -s: skip state of operators the job does not have "
                    "instead of failing");
  run_cmd->add_flag("--dry-run", run.dry_run,
                    "With -s: print what the restore would do (per operator "
                    "and task) and exit, 0 if it would succeed; starts "
                    "nothing");
  run_cmd->add_flag("--json", run.json, "With --dry-run: print JSON");
  run_cmd->add_option("--claim-mode,--restoreMode", run.claim_mode,
                      "With -s: claim (the job owns the snapshot and may "
                      "delete it) or no-claim (it never deletes or changes a "
                      "file of it); default: claim a checkpoint, not a "
                      "savepoint");
  run_cmd->add_option("job", run.job_file, "The job file (YAML)")->required();

  std::optional<std::string> list_endpoint;
  bool list_all = false;
  CLI::App* list_cmd = app.add_subcommand("list", "List the running jobs");
  list_cmd->add_option("-m,--jobmanager", list_endpoint,
                       "Ask the weir at host:port instead of this host's "
                       "registry of running jobs");
  list_cmd->add_flag("-a,--all", list_all,
                     "Also list the jobs that ended (finished, failed, "
                     "cancelled, lost) with how they ended and their log");

  CancelArgs cancel;
  AddCancelCommand(app, &cancel);
  StopArgs stop;
  AddStopCommand(app, &stop);

  CheckpointArgs checkpoint;
  AddCheckpointCommand(app, &checkpoint);
  SavepointArgs savepoint;
  AddSavepointCommand(app, &savepoint);
  weir::tools::StateCli state_cli;
  state_cli.Register(app, savepoint.cmd, savepoint.info.cmd,
                     checkpoint.info.cmd);

  // No command, or an unknown one: say so, and list the commands (CLI11
  // would only say that one is required).
  int first = 1;
  while (first < argc && IsGlobalFlag(argv[first])) ++first;
  if (first == argc || argv[first][0] != '-') {
    std::string names;
    bool known = false;
    for (const CLI::App* sub :
         app.get_subcommands([](const CLI::App*) { return true; })) {
      known = known || (first < argc && sub->get_name() == argv[first]);
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      return Fail((first == argc
                       ? std::string("a command is required")
                       : "unknown command '" + std::string(argv[first]) + "'") +
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
    Fail(e.what());
    return weir::tools::StateCli::ErrorStatus(argc, argv);
  }

  if (quiet) log::SetThreshold(log::Level::kWarn);
  if (verbose) log::SetThreshold(log::Level::kDebug);

  if (run_cmd->parsed()) {
    log::Init();  // `weir run` writes a log
    return weir::tools::RunJob(run);
  }

  // The other commands take from the configuration file where to find a
  // job that is not in this user's registry, and the REST token.
  weir::Result<weir::tools::ConfigFile> conf =
      weir::tools::LoadConfigFile(std::nullopt);
  if (!conf.ok()) {
    log::Error(conf.status().message());
    return weir::tools::StateCli::ErrorStatus(argc, argv);
  }
  if (conf->path) log::Debug("configuration file: " + *conf->path);
  if (std::optional<std::string> token = conf->config.GetString("rest.token");
      token && !token->empty()) {
    // The REST client sends $WEIR_REST_TOKEN; the environment wins.
    ::setenv("WEIR_REST_TOKEN", token->c_str(), /*overwrite=*/0);
  }
  if (std::optional<int> rc = state_cli.Run()) return *rc;
  auto locator = [&](const std::optional<std::string>& endpoint) {
    weir::tools::JobLocator l;
    l.endpoint = endpoint;
    l.configured = weir::tools::ConfiguredEndpoint(*conf);
    l.configured_from = conf->path.value_or("");
    return l;
  };

  if (list_cmd->parsed()) {
    return weir::tools::ListJobs(locator(list_endpoint), list_all);
  }
  if (cancel.cmd->parsed()) {
    const std::vector<std::string>& pos = cancel.positionals;
    if (!cancel.with_savepoint) {
      if (pos.size() != 1) {
        return Fail("cancel takes one JOBID (a TARGET_DIR only with -s)");
      }
      if (cancel.type || cancel.self_contained) {
        return Fail("cancel takes --type and --self-contained only with -s");
      }
      return weir::tools::CancelJob(pos[0], locator(cancel.endpoint));
    }
    std::optional<weir::tools::SavepointShape> shape =
        ShapeOf(cancel.type, cancel.self_contained);
    if (!shape) return 1;
    std::optional<std::string> target;
    if (pos.size() == 2) target = pos[0];
    return weir::tools::CancelJobWithSavepoint(pos.back(), target, *shape,
                                               locator(cancel.endpoint));
  }
  if (stop.cmd->parsed()) {
    std::optional<weir::tools::SavepointShape> shape =
        ShapeOf(stop.type, stop.self_contained);
    if (!shape) return 1;
    return weir::tools::StopJobWithSavepoint(stop.job_id, stop.target_dir,
                                             stop.drain, *shape,
                                             locator(stop.endpoint));
  }
  if (checkpoint.cmd->parsed()) {
    const InfoArgs& info = checkpoint.info;
    if (info.cmd->parsed()) {
      if (checkpoint.endpoint || checkpoint.full ||
          !checkpoint.job_id.empty()) {
        return Fail("'checkpoint info' takes no JOBID, -m or --full");
      }
      if (std::optional<int> rc = state_cli.RunInfo(info.path, info.json)) {
        return *rc;
      }
      return weir::tools::SnapshotInfoCommand(info.path, info.json,
                                              info.verify);
    }
    if (checkpoint.job_id.empty()) return Fail("jobid is required");
    return weir::tools::CheckpointJob(checkpoint.job_id, checkpoint.full,
                                      locator(checkpoint.endpoint));
  }
  if (savepoint.cmd->parsed()) {
    const InfoArgs& info = savepoint.info;
    const bool any_trigger_option =
        savepoint.endpoint || savepoint.dispose || savepoint.type ||
        savepoint.self_contained || !savepoint.job_id.empty();
    if (savepoint.export_cmd->parsed()) {
      if (any_trigger_option) {
        return Fail(
            "'savepoint export' takes no JOBID, -m, -d, --type or "
            "--self-contained");
      }
      return weir::tools::ExportSavepointCommand(savepoint.export_path,
                                                 savepoint.export_dir);
    }
    if (info.cmd->parsed()) {
      if (any_trigger_option) {
        return Fail(
            "'savepoint info' takes no JOBID, -m, -d, --type or "
            "--self-contained");
      }
      if (std::optional<int> rc = state_cli.RunInfo(info.path, info.json)) {
        return *rc;
      }
      return weir::tools::SnapshotInfoCommand(info.path, info.json,
                                              info.verify);
    }
    if (savepoint.dispose) {
      if (!savepoint.job_id.empty() || savepoint.type ||
          savepoint.self_contained) {
        return Fail(
            "'savepoint -d PATH' takes no JOBID, TARGET_DIR, --type or "
            "--self-contained");
      }
      return weir::tools::DisposeSavepointCommand(*savepoint.dispose,
                                                  savepoint.endpoint);
    }
    if (savepoint.job_id.empty()) {
      return Fail("savepoint needs a JOBID (or -d PATH, or info PATH)");
    }
    std::optional<weir::tools::SavepointShape> shape =
        ShapeOf(savepoint.type, savepoint.self_contained);
    if (!shape) return 1;
    return weir::tools::SavepointJob(savepoint.job_id, savepoint.target_dir,
                                     *shape, locator(savepoint.endpoint));
  }
  return 1;
}
