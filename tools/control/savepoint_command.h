// SPDX-License-Identifier: Apache-2.0
//
// The savepoint commands of the `weir` binary (Flink's CLI), talking to the
// REST endpoint of the `weir run` that runs the job, found as JobLocator
// says (-m host:port, the registry of this host, the configuration file). A
// relative directory is made absolute here, against the caller's working
// directory. What they print on stdout (their answer), after INFO lines on
// stderr (tools/log/log.h) that say what they do:
//
//   weir savepoint [-t native|canonical] JOBID [DIR]
//     INFO  Triggering savepoint for job <id>.
//     INFO  Waiting for response...
//     Savepoint completed. Path: /sp/savepoint-0a1b2c-5f3e9d01aa42
//     INFO  You can resume your program from this savepoint with the run
//           command.
//   weir savepoint -d PATH
//     INFO  Disposing savepoint '/sp/savepoint-0a1b2c-5f3e9d01aa42'.
//     Savepoint '/sp/savepoint-0a1b2c-5f3e9d01aa42' disposed.
//   weir cancel -s [-t native|canonical] [DIR] JOBID
//     INFO  Cancelling job <id> with savepoint to /sp.
//     Cancelled job <id>. Savepoint stored in /sp/savepoint-....
//   weir stop [-p DIR] [-d] [-t native|canonical] JOBID
//     INFO  Suspending job <id> with a savepoint.
//     Savepoint completed. Path: /sp/savepoint-...
//
// -t/--type (Flink's) is the savepoint's format: native (the default) or
// canonical (ParseSavepointType); --self-contained puts every file of a
// native savepoint into its directory (SavepointOptions::self_contained).
//
//   weir savepoint export PATH DIR
//     INFO  Exporting savepoint '/sp/savepoint-...' to '/backup/sp-1'.
//     Savepoint exported. Path: /backup/sp-1
//
// While a savepoint is taken, and stderr is a terminal (and INFO lines are
// shown), one updating stderr line shows how far it got (tasks
// acknowledged, files, bytes).
//
// Each returns the exit code: 0 on success; 1 with one ERROR line on
// stderr if the savepoint (or disposal) failed or could not be
// triggered, the job is unknown, or the endpoint cannot be reached. A job
// whose savepoint failed keeps running (the engine sees to that).
// docs/cli.md describes the commands.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <weir/result.h>
#include <weir/savepoint.h>

#include "tools/control/job_locator.h"

namespace weir::tools {

// The value of `--type`: "native" or "canonical", in any case.
// InvalidArgument naming both for anything else.
Result<SavepointFormatType> ParseSavepointType(std::string_view type);

// What -t/--type and --self-contained ask of a savepoint.
struct SavepointShape {
  SavepointFormatType format = SavepointFormatType::kNative;
  bool self_contained = false;
};

// `weir savepoint [-m host:port] JOBID [TARGET_DIR]`: then continue.
int SavepointJob(const std::string& job_id,
                 const std::optional<std::string>& target_dir,
                 const SavepointShape& shape, const JobLocator& locator);

// `weir cancel -s [TARGET_DIR] JOBID`: a savepoint, then cancel.
int CancelJobWithSavepoint(const std::string& job_id,
                           const std::optional<std::string>& target_dir,
                           const SavepointShape& shape,
                           const JobLocator& locator);

// `weir stop [-p TARGET_DIR] [-d] JOBID`: stop the sources, a savepoint,
// then finish; `drain` first fires every event-time timer.
int StopJobWithSavepoint(const std::string& job_id,
                         const std::optional<std::string>& target_dir,
                         bool drain, const SavepointShape& shape,
                         const JobLocator& locator);

// `weir savepoint [-m host:port] -d PATH`. Without -m: through the REST
// endpoint of the job running on this host whose checkpoint storage the
// savepoint references (its `_metadata`'s shared_root), else in this
// process (weir::DisposeSavepoint).
int DisposeSavepointCommand(const std::string& path,
                            const std::optional<std::string>& endpoint);

// `weir savepoint export PATH DIR`: a self-contained copy of a savepoint
// or retained checkpoint (weir::ExportSavepoint), in this process.
int ExportSavepointCommand(const std::string& path, const std::string& dir);

}  // namespace weir::tools
