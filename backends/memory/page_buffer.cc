// SPDX-License-Identifier: Apache-2.0
#include "backends/memory/page_buffer.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace weir::internal {
namespace {

[[noreturn]] void OutOfMemory(size_t bytes) {
  std::fprintf(stderr, "weir: out of memory allocating %zu bytes\n", bytes);
  std::abort();
}

constexpr size_t kSmallPageSize = 4096;

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

// `bytes` (a multiple of the small page size) at a 2 MiB boundary: map one
// huge page more than needed and unmap the unaligned head and the tail.
char* MapAligned(size_t bytes) {
  const size_t span = bytes + PageBuffer::kHugePageSize;
  void* p = mmap(nullptr, span, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  const auto start = reinterpret_cast<uintptr_t>(p);
  const uintptr_t aligned = RoundUp(start, PageBuffer::kHugePageSize);
  if (aligned > start) munmap(p, aligned - start);
  const uintptr_t end = start + span;
  if (end > aligned + bytes) {
    munmap(reinterpret_cast<void*>(aligned + bytes), end - aligned - bytes);
  }
  char* block = reinterpret_cast<char*>(aligned);
  // Only a hint: without transparent huge pages the block still works.
  (void)madvise(block, bytes, MADV_HUGEPAGE);
  return block;
}

// How much to map for `bytes`. A huge page is used only where a whole one
// lies inside the mapping, so the last partial one is rounded up to a whole
// one when that adds at most half of `bytes` (it is backed in full on first
// touch); otherwise the tail stays in small pages.
size_t MappedSize(size_t bytes) {
  const size_t whole = RoundUp(bytes, PageBuffer::kHugePageSize);
  if (whole - bytes <= bytes / 2) return whole;
  return RoundUp(bytes, kSmallPageSize);
}

}  // namespace

PageBuffer::PageBuffer(size_t bytes) : size_(bytes) {
  if (bytes == 0) return;
  if (bytes >= kHugeThreshold) {
    const size_t mapped = MappedSize(bytes);
    data_ = MapAligned(mapped);
    if (data_ != nullptr) {
      mapped_ = mapped;
      return;
    }
  }
  data_ = static_cast<char*>(std::aligned_alloc(128, RoundUp(bytes, 128)));
  if (data_ == nullptr) OutOfMemory(bytes);
  __builtin_memset(data_, 0, bytes);
}

void PageBuffer::Release() {
  if (data_ == nullptr) return;
  if (mapped_ != 0) {
    munmap(data_, mapped_);
  } else {
    std::free(data_);
  }
  data_ = nullptr;
  size_ = 0;
  mapped_ = 0;
}

}  // namespace weir::internal
