// SPDX-License-Identifier: Apache-2.0
//
// PageBuffer: a zero-filled block of memory for the memory backend's hash
// tables. Large blocks (kHugeThreshold bytes or more) come straight from
// mmap, aligned to 2 MiB and marked MADV_HUGEPAGE, so that with transparent
// huge pages in `madvise` mode every whole 2 MiB of the block is one TLB
// entry: a random access into a table of hundreds of MiB then costs one
// DRAM miss instead of a miss plus a page walk. Their pages are zero and
// are only backed when touched. Small blocks come from the heap.
//
// Not thread-safe. Running out of memory is fatal, as with operator new.
#pragma once

#include <cstddef>
#include <utility>

namespace weir::internal {

class PageBuffer {
 public:
  static constexpr size_t kHugePageSize = size_t{2} << 20;
  static constexpr size_t kHugeThreshold = size_t{1} << 20;

  PageBuffer() = default;
  // `bytes` zero bytes, aligned to at least 128 bytes.
  explicit PageBuffer(size_t bytes);
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;
  PageBuffer(PageBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        mapped_(std::exchange(other.mapped_, 0)) {}
  PageBuffer& operator=(PageBuffer&& other) noexcept {
    if (this != &other) {
      Release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      mapped_ = std::exchange(other.mapped_, 0);
    }
    return *this;
  }
  ~PageBuffer() { Release(); }

  char* data() const { return data_; }
  size_t size() const { return size_; }
  // True if the block came from mmap (with the huge-page hint).
  bool mapped() const { return mapped_ != 0; }

 private:
  void Release();

  char* data_ = nullptr;
  size_t size_ = 0;
  size_t mapped_ = 0;  // bytes mapped at data_, 0 for heap blocks
};

}  // namespace weir::internal
