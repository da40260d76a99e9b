// SPDX-License-Identifier: Apache-2.0
//
// `weir checkpoint [-m host:port] [--full] JOBID`: triggers a checkpoint of
// a running job through its REST endpoint (found as JobLocator says: -m
// host:port, the registry of this host, the configuration file), waits for it
// to end, and prints where it is:
//
//   Checkpoint 3 for job 0123...cdef completed. Path: /ckpt/0123...cdef/chk-3
//
// Returns the exit code: 0 once the checkpoint completed; 1 (with one line
// ERROR line on stderr) if it failed, or the job is unknown, takes
// no checkpoints, or cannot be reached. docs/cli.md describes the command.
#pragma once

#include <string>

#include "tools/control/job_locator.h"

namespace weir::tools {

int CheckpointJob(const std::string& job_id, bool full,
                  const JobLocator& locator);

}  // namespace weir::tools
