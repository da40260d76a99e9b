// SPDX-License-Identifier: Apache-2.0
//
// Runs the `weir` binary for end-to-end tests.
#pragma once

#include <sys/types.h>

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

}  // namespace weir::e2e
