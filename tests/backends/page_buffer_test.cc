// SPDX-License-Identifier: Apache-2.0
#include "backends/memory/page_buffer.h"

#include <cstdint>
#include <utility>

#include <gtest/gtest.h>

namespace weir::internal {
namespace {

bool AllZero(const PageBuffer& b) {
  for (size_t i = 0; i < b.size(); ++i) {
    if (b.data()[i] != 0) return false;
  }
  return true;
}

TEST(PageBuffer, SmallBlocksAreZeroedHeapMemory) {
  PageBuffer b(1000);
  EXPECT_FALSE(b.mapped());
  EXPECT_EQ(b.size(), 1000u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % 128, 0u);
  EXPECT_TRUE(AllZero(b));
  b.data()[999] = 1;
}

TEST(PageBuffer, LargeBlocksAreMappedAtHugePageBoundaries) {
  for (size_t bytes :
       {PageBuffer::kHugeThreshold, size_t{3} << 20, (size_t{8} << 20) + 5}) {
    PageBuffer b(bytes);
    EXPECT_TRUE(b.mapped());
    EXPECT_EQ(b.size(), bytes);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % PageBuffer::kHugePageSize,
              0u);
    EXPECT_TRUE(AllZero(b));
    b.data()[0] = 1;
    b.data()[bytes - 1] = 1;
  }
}

TEST(PageBuffer, MovesOwnership) {
  PageBuffer a(size_t{4} << 20);
  char* data = a.data();
  PageBuffer b = std::move(a);
  EXPECT_EQ(b.data(), data);
  EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move)
  a = std::move(b);
  EXPECT_EQ(a.data(), data);
  PageBuffer empty;
  EXPECT_EQ(empty.size(), 0u);
}

}  // namespace
}  // namespace weir::internal
