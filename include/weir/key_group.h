// SPDX-License-Identifier: Apache-2.0
//
// Key groups: keyed state is partitioned into `max_parallelism` key groups,
// fixed for the life of the state. A key belongs to key group
// XXH3-64(serialized key) % max_parallelism; subtask i of p owns a
// contiguous range of key groups, computed as in Flink's
// KeyGroupRangeAssignment, so that rescaling moves whole ranges.
#pragma once

#include <cstdint>
#include <string_view>

namespace weir {

constexpr int kDefaultMaxParallelism = 128;
// Key groups are stored in two bytes in front of every key.
constexpr int kUpperBoundMaxParallelism = 1 << 15;

// An inclusive range [start, end] of key groups. Empty when end < start.
struct KeyGroupRange {
  int start = 0;
  int end = -1;

  static KeyGroupRange All(int max_parallelism) {
    return {0, max_parallelism - 1};
  }
  bool empty() const { return end < start; }
  int size() const { return empty() ? 0 : end - start + 1; }
  bool Contains(int key_group) const {
    return key_group >= start && key_group <= end;
  }
  bool operator==(const KeyGroupRange&) const = default;
};

// REQUIRES: 0 < max_parallelism <= kUpperBoundMaxParallelism.
int KeyGroupForKey(std::string_view serialized_key, int max_parallelism);

// Flink's formula: [ceil(i*maxP/p), floor(((i+1)*maxP - 1)/p)].
// REQUIRES: 0 < parallelism <= max_parallelism, 0 <= subtask < parallelism.
KeyGroupRange KeyGroupRangeForSubtask(int max_parallelism, int parallelism,
                                      int subtask);

// The subtask that owns `key_group`: key_group * parallelism / maxP.
int SubtaskForKeyGroup(int max_parallelism, int parallelism, int key_group);

}  // namespace weir
