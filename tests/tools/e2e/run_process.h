// SPDX-License-Identifier: Apache-2.0
//
// Runs the `weir` binary for end-to-end tests.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace weir::e2e {

struct ProcessResult {
  int exit_code = -1;  // -1 if killed by a signal
  std::string out;
  std::string err;
};

// The binary under test ($WEIR_BIN).
std::string WeirBinary();

// Runs `args` (args[0] is the program) in `cwd` with `env` added, and waits
// at most `timeout_s` seconds (then SIGKILL, exit_code -1).
ProcessResult Run(const std::vector<std::string>& args, const std::string& cwd,
                  const std::vector<std::string>& env = {}, int timeout_s = 60);

// Starts `args` in the background in `cwd` with `env` added, its stdout and
// stderr appended to the files `out_path` and `err_path`. Returns the pid,
// or -1 if it could not fork.
pid_t Spawn(const std::vector<std::string>& args, const std::string& cwd,
            const std::vector<std::string>& env, const std::string& out_path,
            const std::string& err_path);

// Waits at most `timeout_ms` for the spawned `pid` to end: its exit code,
// -1 if a signal killed it, or nullopt if it still runs.
std::optional<int> WaitExit(pid_t pid, int timeout_ms);

}  // namespace weir::e2e
