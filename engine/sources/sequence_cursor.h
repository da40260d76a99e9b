// SPDX-License-Identifier: Apache-2.0
//
// SequenceCursor: walks the splits of a sequence source (source_offset.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "engine/sources/source_offset.h"

namespace weir::internal {

// Walks a subtask's splits in ascending order of their numbers (so that
// timestamps derived from them ascend within the subtask).
class SequenceCursor {
 public:
  void Reset(std::vector<SequenceSplit> splits, int64_t end) {
    splits_ = std::move(splits);
    end_ = end;
    std::erase_if(splits_, [&](const SequenceSplit& s) { return Past(s); });
  }
  // Bounded and nothing left.
  bool Done() const { return splits_.empty(); }
  // The smallest number left, or `end` when done. REQUIRES: not Done() for
  // an unbounded cursor.
  int64_t Peek() const { return Done() ? end_ : splits_[Min()].next; }
  // Returns the smallest number left and moves past it. REQUIRES: !Done().
  int64_t Take() {
    const size_t i = Min();
    const int64_t n = splits_[i].next;
    splits_[i].next += splits_[i].stride;
    if (Past(splits_[i])) splits_.erase(splits_.begin() + i);
    return n;
  }
  const std::vector<SequenceSplit>& splits() const { return splits_; }

 private:
  bool Past(const SequenceSplit& s) const {
    return end_ >= 0 && s.next >= end_;
  }
  size_t Min() const {
    size_t m = 0;
    for (size_t i = 1; i < splits_.size(); ++i) {
      if (splits_[i].next < splits_[m].next) m = i;
    }
    return m;
  }

  std::vector<SequenceSplit> splits_;
  int64_t end_ = -1;
};

}  // namespace weir::internal
