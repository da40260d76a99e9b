// SPDX-License-Identifier: Apache-2.0
//
// `weir checkpoint [-m host:port] [--full] JOBID`: triggers a checkpoint of
// a running job through its REST endpoint (found in the registry of this
// host, or at host:port), waits for it to end, and prints where it is:
//
//   Checkpoint 3 for job 0123...cdef completed. Path: /ckpt/0123...cdef/chk-3
//
// Returns the exit code: 0 once the checkpoint completed; 1 (with one line
// `weir: error: ...` on stderr) if it failed, or the job is unknown, takes
// no checkpoints, or cannot be reached. docs/cli.md describes the command.
#pragma once

#include <optional>
#include <string>

namespace weir::tools {

int CheckpointJob(const std::string& job_id, bool full,
                  const std::optional<std::string>& endpoint);

}  // namespace weir::tools
