// SPDX-License-Identifier: Apache-2.0
//
// The "nats-sink" operator state of an exactly-once NatsSink: the records
// each subtask holds for checkpoints that have not completed yet. A union
// list, so that after a restore at any parallelism old subtask j's records
// are published by new subtask j % parallelism, under j's message ids.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "weir/operator.h"
#include "weir/result.h"
#include "weir/status.h"

namespace weir::internal {

// The records subtask `subtask` received before the barrier of checkpoint
// `checkpoint_id` (and after the previous one), in order. Record i is
// published with the message id "<prefix>-<subtask>-<checkpoint_id>-<i>".
struct NatsStagedBatch {
  uint32_t subtask = 0;
  int64_t checkpoint_id = 0;
  std::vector<std::string> records;
};

// Every entry of ctx's "nats-sink" state (all old subtasks' after a
// restore). Corruption if an entry cannot be decoded.
Result<std::vector<NatsStagedBatch>> LoadNatsStaged(OperatorContext& ctx);
// Replaces this subtask's entries with `staged`.
Status StoreNatsStaged(OperatorContext& ctx,
                       const std::vector<NatsStagedBatch>& staged);

// "<prefix>-<subtask>-<checkpoint_id>-<index>".
std::string NatsMsgId(const std::string& prefix, uint32_t subtask,
                      int64_t checkpoint_id, size_t index);

}  // namespace weir::internal
