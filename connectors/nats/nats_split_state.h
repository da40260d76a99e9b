// SPDX-License-Identifier: Apache-2.0
//
// The "offset" operator state of NatsSource: a union list with one entry
// per split (a subject filter and the last stream sequence read from it).
// Union mode hands every subtask all entries on restore, so the splits can
// be shared out anew at any parallelism.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "weir/operator.h"
#include "weir/result.h"
#include "weir/status.h"

namespace weir::internal {

struct NatsSplit {
  std::string filter;
  uint64_t last_sequence = 0;  // 0: nothing read yet
  bool operator==(const NatsSplit&) const = default;
};

// Every entry of ctx's "offset" state (all subtasks' after a restore; none
// on a fresh start). Corruption if an entry cannot be decoded.
Result<std::vector<NatsSplit>> LoadNatsSplits(OperatorContext& ctx);
// Replaces this subtask's entries with `splits`.
Status StoreNatsSplits(OperatorContext& ctx,
                       const std::vector<NatsSplit>& splits);

// The splits of subtask `subtask` of `parallelism`: filter i of `filters`
// goes to subtask i % parallelism, starting after the last sequence that
// `restored` has for it (the largest, should several entries name it), or
// at the start of the stream.
std::vector<NatsSplit> AssignNatsSplits(const std::vector<std::string>& filters,
                                        const std::vector<NatsSplit>& restored,
                                        int subtask, int parallelism);

}  // namespace weir::internal
