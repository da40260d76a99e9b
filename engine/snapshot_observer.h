// SPDX-License-Identifier: Apache-2.0
//
// The hook of a task's synchronous snapshot phase: called on the task
// thread when barrier N has been aligned (or, for a source, triggered),
// after every operator wrote its operator state and before the barrier goes
// downstream. The checkpoint machinery cuts the backend's state here; tests
// look at it.
#pragma once

#include <cstdint>

#include "backends/backend.h"

namespace weir::engine {

class SnapshotObserver {
 public:
  virtual ~SnapshotObserver() = default;
  // `vertex` and `subtask` name the task. A non-OK status fails the task.
  virtual Status OnTaskSnapshot(int64_t checkpoint_id, int vertex, int subtask,
                                KeyedStateBackend& backend) = 0;
};

}  // namespace weir::engine
