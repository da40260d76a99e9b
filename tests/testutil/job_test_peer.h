// SPDX-License-Identifier: Apache-2.0
//
// JobTestPeer: what tests of the engine reach inside a Job (weir/job.h)
// that its users cannot.
#pragma once

#include <cstdint>
#include <memory>

#include "engine/snapshot_observer.h"
#include "weir/job.h"
#include "weir/status.h"

namespace weir {

class JobTestPeer {
 public:
  // Before Start(): every task's synchronous snapshot phase calls
  // `observer` instead of a checkpoint coordinator, and the job has none:
  // it takes no checkpoints or savepoints of its own.
  static void SetSnapshotObserver(
      Job& job, std::shared_ptr<engine::SnapshotObserver> observer);
  // Injects barrier `checkpoint_id` at every source that is still running:
  // each source snapshots between two polls (so its offset is exact) and
  // sends the barrier on; every task snapshots once the barrier has come on
  // all its inputs, calling the observer. Ids must grow.
  // FailedPrecondition unless the job is running.
  static Status InjectBarrier(Job& job, int64_t checkpoint_id);
};

}  // namespace weir
