// SPDX-License-Identifier: Apache-2.0
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <weir/key_group.h>

namespace weir {
namespace {

// Checks every property of the assignment of [0, max_p) to p subtasks.
void CheckAssignment(int max_p, int p) {
  SCOPED_TRACE("max_parallelism " + std::to_string(max_p) + ", parallelism " +
               std::to_string(p));
  int next = 0;  // the first key group not yet covered
  for (int subtask = 0; subtask < p; ++subtask) {
    const KeyGroupRange range = KeyGroupRangeForSubtask(max_p, p, subtask);
    // Non-empty, contiguous with the previous range, hence disjoint.
    ASSERT_FALSE(range.empty()) << "subtask " << subtask;
    ASSERT_EQ(range.start, next) << "subtask " << subtask;
    ASSERT_GE(range.end, range.start);
    ASSERT_EQ(range.size(), range.end - range.start + 1);
    // Balanced: sizes differ by at most one.
    ASSERT_TRUE(range.size() == max_p / p || range.size() == max_p / p + 1)
        << "subtask " << subtask << " has " << range.size();
    for (int kg = range.start; kg <= range.end; ++kg) {
      ASSERT_EQ(SubtaskForKeyGroup(max_p, p, kg), subtask)
          << "key group " << kg;
      ASSERT_TRUE(range.Contains(kg));
    }
    ASSERT_FALSE(range.Contains(range.start - 1));
    ASSERT_FALSE(range.Contains(range.end + 1));
    next = range.end + 1;
  }
  ASSERT_EQ(next, max_p) << "ranges do not cover every key group";
}

TEST(KeyGroup, EveryParallelismPartitionsAllKeyGroups) {
  for (int max_p : {1, 2, 7, 128, 1000}) {
    for (int p = 1; p <= max_p; ++p) {
      CheckAssignment(max_p, p);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(KeyGroup, UpperBoundMaxParallelismSampled) {
  const int max_p = kUpperBoundMaxParallelism;
  EXPECT_EQ(max_p, 32768);
  for (int p : {1, 2, 3, 7, 100, 127, 128, 129, 1000, 4096, 10000, 16383, 16384,
                32767, 32768}) {
    CheckAssignment(max_p, p);
    if (HasFatalFailure()) return;
  }
}

TEST(KeyGroup, MatchesFlinkFormula) {
  // Flink, maxP 128, p 3: [0,42] [43,85] [86,127].
  EXPECT_EQ(KeyGroupRangeForSubtask(128, 3, 0), (KeyGroupRange{0, 42}));
  EXPECT_EQ(KeyGroupRangeForSubtask(128, 3, 1), (KeyGroupRange{43, 85}));
  EXPECT_EQ(KeyGroupRangeForSubtask(128, 3, 2), (KeyGroupRange{86, 127}));
  EXPECT_EQ(KeyGroupRangeForSubtask(10, 10, 4), (KeyGroupRange{4, 4}));
  EXPECT_EQ(KeyGroupRange::All(128), (KeyGroupRange{0, 127}));
}

TEST(KeyGroup, RangeBasics) {
  KeyGroupRange empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.size(), 0);
  EXPECT_FALSE(empty.Contains(0));
  KeyGroupRange r{3, 5};
  EXPECT_FALSE(r.empty());
  EXPECT_EQ(r.size(), 3);
}

TEST(KeyGroup, KeyGroupForKeyInRangeAndDeterministic) {
  for (int max_p :
       {1, 2, 7, kDefaultMaxParallelism, 1000, kUpperBoundMaxParallelism}) {
    std::vector<int> seen(max_p, 0);
    for (int i = 0; i < 5000; ++i) {
      const std::string key = "key-" + std::to_string(i);
      const int kg = KeyGroupForKey(key, max_p);
      ASSERT_GE(kg, 0);
      ASSERT_LT(kg, max_p);
      ASSERT_EQ(KeyGroupForKey(key, max_p), kg);
      ++seen[kg];
    }
    if (max_p <= 128) {
      // 5000 keys reach every one of up to 128 groups.
      for (int kg = 0; kg < max_p; ++kg) {
        EXPECT_GT(seen[kg], 0)
            << "max_parallelism " << max_p << " group " << kg;
      }
    }
  }
  EXPECT_EQ(KeyGroupForKey("", 1), 0);
  EXPECT_EQ(KeyGroupForKey("anything", 1), 0);
}

TEST(KeyGroup, KeyGroupForKeyIsStable) {
  // XXH3-64("") = 0x2d06800538d394c2; key groups are persisted with the
  // state, so this value must never change.
  EXPECT_EQ(KeyGroupForKey("", 128),
            static_cast<int>(0x2d06800538d394c2u % 128));
  EXPECT_EQ(KeyGroupForKey("", 1000),
            static_cast<int>(0x2d06800538d394c2u % 1000));
}

}  // namespace
}  // namespace weir
