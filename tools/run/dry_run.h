// SPDX-License-Identifier: Apache-2.0
//
// `weir run --dry-run -s PATH JOB.yaml`: what restoring the job from PATH
// would do (Job::CheckRestore, weir/restore_check.h), printed without
// starting anything.
#pragma once

#include <string>

#include <weir/job.h>

namespace weir::tools {

// Prints the check of restoring `job` (built without restore_from) from
// `path` on stdout, as text or one JSON object, and the problems, if any,
// as ERROR lines on stderr. Returns 0 when the restore would succeed as
// is, 1 when it would fail or `path` cannot be read.
int PrintRestoreCheck(const Job& job, const std::string& path,
                      bool allow_non_restored_state, bool json);

}  // namespace weir::tools
