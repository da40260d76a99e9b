// SPDX-License-Identifier: Apache-2.0
//
// StateBackendOptions as every backend reads them: validated, with their
// defaults filled in. Pure functions; safe from any thread.
#pragma once

#include <weir/options.h>
#include <weir/result.h>

namespace weir::internal {

// Validates `options` and fills in defaults (full range, system clock).
// InvalidArgument if the max parallelism is outside [1, 32768] or the
// key-group range outside [0, max parallelism).
Result<StateBackendOptions> ResolveBackendOptions(
    const StateBackendOptions& options);

}  // namespace weir::internal
