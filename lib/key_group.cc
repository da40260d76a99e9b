// SPDX-License-Identifier: Apache-2.0
#include "weir/key_group.h"

#include <cassert>

#include "lib/hash.h"

namespace weir {

int KeyGroupForKey(std::string_view serialized_key, int max_parallelism) {
  assert(max_parallelism > 0 && max_parallelism <= kUpperBoundMaxParallelism);
  return static_cast<int>(Hash64(serialized_key) %
                          static_cast<uint64_t>(max_parallelism));
}

KeyGroupRange KeyGroupRangeForSubtask(int max_parallelism, int parallelism,
                                      int subtask) {
  assert(parallelism > 0 && parallelism <= max_parallelism);
  assert(subtask >= 0 && subtask < parallelism);
  const int64_t maxp = max_parallelism;
  const int64_t p = parallelism;
  const int64_t i = subtask;
  return {static_cast<int>((i * maxp + p - 1) / p),
          static_cast<int>(((i + 1) * maxp - 1) / p)};
}

int SubtaskForKeyGroup(int max_parallelism, int parallelism, int key_group) {
  assert(key_group >= 0 && key_group < max_parallelism);
  return static_cast<int>(static_cast<int64_t>(key_group) * parallelism /
                          max_parallelism);
}

}  // namespace weir
