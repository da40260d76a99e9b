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
  // Task (vertex, subtask) finished: its input ended and its operators
  // finished and wrote their final operator state (a source's offset at
  // its end) into `backend`, which is closed after this returns. Called on
  // the task thread, after every OnTaskSnapshot of the task. The task takes
  // part in later checkpoints as finished (docs/checkpoints.md, "Finished
  // tasks").
  virtual void OnTaskFinished(int vertex, int subtask,
                              KeyedStateBackend& backend) {
    (void)vertex;
    (void)subtask;
    (void)backend;
  }
};

}  // namespace weir::engine
