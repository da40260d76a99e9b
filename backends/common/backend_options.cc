// SPDX-License-Identifier: Apache-2.0
#include "backends/common/backend_options.h"

#include <string>

namespace weir {

namespace internal {

Result<StateBackendOptions> ResolveBackendOptions(
    const StateBackendOptions& options) {
  StateBackendOptions o = options;
  if (o.max_parallelism < 1 || o.max_parallelism > kUpperBoundMaxParallelism) {
    return Status::InvalidArgument("max parallelism must be between 1 and " +
                                   std::to_string(kUpperBoundMaxParallelism) +
                                   ", got " +
                                   std::to_string(o.max_parallelism));
  }
  if (o.key_group_range.empty()) {
    o.key_group_range = KeyGroupRange::All(o.max_parallelism);
  } else if (o.key_group_range.start < 0 ||
             o.key_group_range.end >= o.max_parallelism) {
    return Status::InvalidArgument(
        "key-group range [" + std::to_string(o.key_group_range.start) + ", " +
        std::to_string(o.key_group_range.end) + "] is outside [0, " +
        std::to_string(o.max_parallelism - 1) + "]");
  }
  if (!o.clock) o.clock = SystemClock();
  return o;
}

}  // namespace internal

}  // namespace weir
