// SPDX-License-Identifier: Apache-2.0
//
// What the end-to-end tests of running jobs share: the sums job, the
// latest checkpoint on disk, and a fixture that runs `weir` in a directory
// of its own and cancels the jobs it started.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/testutil/temp_dir.h"
#include "tests/tools/e2e/run_process.h"

namespace weir::e2e {

// events.csv ("user,amount" lines, followed as it grows if `follow`, else
// read to its end) -> per-user totals -> a file sink writing part files
// into `out`.
std::string SumsJob(bool follow, const std::string& out);

// The `_metadata` of the highest chk-N anywhere under `root`, or empty.
std::string LatestCheckpoint(const std::string& root);

// Runs `weir` in a test directory: WEIR_RUNTIME_DIR, TMPDIR and
// WEIR_CONF_DIR (an empty etc/) point into it; conf.yaml there sets a free REST
// port and a checkpoint every 200 ms into chk/; sums.yaml is SumsJob(follow =
// true, "out") and events.csv is empty. Jobs started with StartDetached() are
// cancelled at the end.
class WeirJobTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // `weir <args>` in the test directory, with `env` added to the fixture's.
  ProcessResult Weir(std::vector<std::string> args, int timeout_s = 60,
                     std::vector<std::string> env = {});

  struct Started {
    std::string id;
    int port = 0;
    std::string out;  // what `weir run -d` printed on stdout
    std::string err;  // and on stderr
  };
  // `weir run -d -c conf.yaml <args>` (the job file last): the job's id and
  // REST port. Fails the test unless it exits with 0.
  Started StartDetached(std::vector<std::string> args);

  // Waits until the job's `weir run` has unregistered (it ended).
  void WaitGone(const std::string& id);

  testutil::TestDir dir_;
  std::vector<std::string> env_;
  std::vector<std::string> started_;
};

}  // namespace weir::e2e
