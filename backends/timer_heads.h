// SPDX-License-Identifier: Apache-2.0
//
// TimerHeads: the earliest timer time of each key group, ordered, so that
// the earliest timer of a whole key-group range is found in O(log n) while
// the timers themselves stay partitioned by key group (as snapshots need).
// Both backends keep one per operator and time domain, as Flink's
// KeyGroupPartitionedPriorityQueue does.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace weir::internal {

class TimerHeads {
 public:
  explicit TimerHeads(int num_key_groups) : heads_(num_key_groups) {}

  // Records the earliest time of key group slot `slot` (nullopt: none).
  void Set(int slot, std::optional<int64_t> head) {
    std::optional<int64_t>& current = heads_[slot];
    if (current == head) return;
    if (current) order_.erase({*current, slot});
    current = head;
    if (head) order_.insert({*head, slot});
  }
  std::optional<int64_t> Get(int slot) const { return heads_[slot]; }

  // (time, slot) of the earliest head, or nullopt if there are no timers.
  std::optional<std::pair<int64_t, int>> Min() const {
    if (order_.empty()) return std::nullopt;
    return *order_.begin();
  }

 private:
  std::vector<std::optional<int64_t>> heads_;
  std::set<std::pair<int64_t, int>> order_;
};

}  // namespace weir::internal
