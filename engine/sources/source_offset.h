// SPDX-License-Identifier: Apache-2.0
//
// The "offset" operator state of the built-in sources (weir/sources.h): a
// union list of one entry per subtask, tagged with the subtask index and
// the parallelism that wrote it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "weir/operator.h"
#include "weir/result.h"
#include "weir/status.h"

namespace weir::internal {

// A source subtask's position. What the fields mean is up to the source:
// FileSource keeps the byte offset of the next unread line in `position`
// and the number of lines read in `line`.
struct SourceOffset {
  int64_t position = 0;
  int64_t line = 0;
};

// This subtask's offset from the operator list state "offset" of
// ctx.operator_id(), or nullopt if nothing was stored (a fresh start).
// InvalidArgument (naming `source`) if the state was written at another
// parallelism; Corruption if an entry cannot be decoded.
Result<std::optional<SourceOffset>> LoadSourceOffset(OperatorContext& ctx,
                                                     std::string_view source);
// Replaces this subtask's entry of the "offset" state with `offset`.
Status StoreSourceOffset(OperatorContext& ctx, const SourceOffset& offset);

// What is left of a sequence source (CollectionSource, GeneratorSource):
// the numbers next, next + stride, next + 2 * stride, ... below the end.
struct SequenceSplit {
  int64_t next = 0;
  int64_t stride = 1;
  bool operator==(const SequenceSplit&) const = default;
};

// The splits this subtask of a sequence source emits, from the "offset"
// state. `end` is the first number not emitted, or -1 if unbounded; splits
// at or past it are dropped.
//  - A fresh start: {subtask, parallelism}.
//  - A restore at the snapshot's parallelism: this subtask's own splits.
//  - A restore at another parallelism: every old subtask's splits, in the
//    order of the old subtasks; if there are fewer (count) than the new
//    parallelism p, each is cut once into k = ceil(p / count) splits
//    (next + r * stride, k * stride), r < k; then split i goes to subtask
//    i % p.
//    Every subtask computes the same list from the union state, so every
//    number still to come is emitted once, by one subtask.
// InvalidArgument (naming `source`) if the entries are not one per subtask
// of one parallelism; Corruption if an entry cannot be decoded.
Result<std::vector<SequenceSplit>> LoadSequenceSplits(OperatorContext& ctx,
                                                      std::string_view source,
                                                      int64_t end);
// Replaces this subtask's entry of the "offset" state with `splits`.
Status StoreSequenceSplits(OperatorContext& ctx,
                           const std::vector<SequenceSplit>& splits);

}  // namespace weir::internal
