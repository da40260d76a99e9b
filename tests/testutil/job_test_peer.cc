// SPDX-License-Identifier: Apache-2.0
#include "tests/testutil/job_test_peer.h"

#include <utility>

#include "engine/job_impl.h"

namespace weir {

void JobTestPeer::SetSnapshotObserver(
    Job& job, std::shared_ptr<engine::SnapshotObserver> observer) {
  job.impl_->observer = std::move(observer);
}

Status JobTestPeer::InjectBarrier(Job& job, int64_t checkpoint_id) {
  return job.impl_->InjectBarrier(checkpoint_id);
}

}  // namespace weir
