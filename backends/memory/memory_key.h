// SPDX-License-Identifier: Apache-2.0
//
// The current key of the memory backend: its bytes, key group, the
// length-prefixed form that states put in front of the namespace, and the
// key's XXH3 hash, computed once per SetCurrentKey for both the key group
// and the value tables (FlatTable), so that an access hashes nothing.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <weir/key_group.h>
#include <weir/status.h>

#include "backends/memory/flat_table.h"
#include "lib/coding.h"
#include "lib/hash.h"

// XXH3 compiled into this header (static functions, no clash with the
// library's): the same function as weir::Hash64 (lib/hash.h), without a
// call into libxxhash for every key. A test checks that they agree.
#define XXH_INLINE_ALL
#include <xxhash.h>
#undef XXH_INLINE_ALL

namespace weir::internal {

class MemKey {
 public:
  MemKey(int max_parallelism, KeyGroupRange range)
      : max_parallelism_(max_parallelism),
        group_mask_((max_parallelism & (max_parallelism - 1)) == 0
                        ? static_cast<uint64_t>(max_parallelism - 1)
                        : kNoMask),
        range_(range) {}
  // Not copyable: encoded() may point into the object itself.
  MemKey(const MemKey&) = delete;
  MemKey& operator=(const MemKey&) = delete;

  Status Set(std::string_view key) {
    const uint64_t hash = XXH3_64bits(key.data(), key.size());
    // KeyGroupForKey(key, max_parallelism_), without hashing again, and
    // for a power of two (the default 128) without a division: the key's
    // entry is prefetched as soon as its group is known, so the latency of
    // this chain (key, hash, group, slot address) comes before the miss.
    const int kg = KeyGroupOf(hash);
    if (!range_.Contains(kg)) return OutOfRange(kg);
    key_group_ = kg;
    hash_ = hash;
    ++sequence_;
    if (prefetch_tables_ != nullptr) {
      prefetch_tables_[kg - range_.start].Prefetch(hash);
    }
    if (key.size() < kInline) {
      // The usual short key, in the inline buffer behind a one-byte varint.
      short_[0] = static_cast<char>(key.size());
      CopyShort(short_ + 1, key.data(), key.size());
      encoded_view_ = {short_, key.size() + 1};
    } else {
      long_.clear();
      PutLengthPrefixed(&long_, key);
      encoded_view_ = long_;
    }
    key_offset_ = encoded_view_.size() - key.size();
    return Status::OK();
  }

  // Starts reading the slots of `key` in the prefetch tables (see
  // SetPrefetchTables), as Set() would, without making it current.
  void Prefetch(std::string_view key) const {
    if (prefetch_tables_ == nullptr) return;
    const uint64_t hash = XXH3_64bits(key.data(), key.size());
    const int kg = KeyGroupOf(hash);
    if (range_.Contains(kg)) prefetch_tables_[kg - range_.start].Prefetch(hash);
  }

  bool is_set() const { return key_group_ >= 0; }
  std::string_view key() const { return encoded_view_.substr(key_offset_); }
  int key_group() const { return key_group_; }
  // Index of the key group within the backend's range.
  int slot() const { return key_group_ - range_.start; }
  // Varint length + key bytes; valid until the next Set().
  std::string_view encoded() const { return encoded_view_; }
  // Hash64(key()).
  uint64_t hash() const { return hash_; }
  // Changes with every Set: the same sequence means the same current key.
  uint64_t sequence() const { return sequence_; }

  // A value state that wants its entry of the next key read early: Set()
  // prefetches the key's slots in tables[slot()] (one FlatTable per key
  // group of the range, with the hash of the bare key) as soon as the key's
  // hash and group are known, so that the DRAM read overlaps the rest of
  // Set() and of the caller's work until it reads the state. One state at a
  // time (the last to ask); `tables` must live as long as this key.
  void SetPrefetchTables(const FlatTable* tables) const {
    prefetch_tables_ = tables;
  }
  // True if Set() prefetched this key's slots in `tables`.
  bool Prefetched(const FlatTable* tables) const {
    return prefetch_tables_ == tables;
  }

  Status OutOfRange(int kg) const {
    return Status::InvalidArgument(
        "key belongs to key group " + std::to_string(kg) +
        ", outside this backend's key groups [" + std::to_string(range_.start) +
        ", " + std::to_string(range_.end) + "]");
  }

 private:
  int KeyGroupOf(uint64_t hash) const {
    return static_cast<int>(group_mask_ != kNoMask
                                ? hash & group_mask_
                                : hash %
                                      static_cast<uint64_t>(max_parallelism_));
  }

  // Keys shorter than this (with their length byte) live in short_.
  static constexpr size_t kInline = 63;

  // memcpy for n < kInline, as a few overlapping word moves instead of a
  // call for the common lengths.
  static void CopyShort(char* to, const char* from, size_t n) {
    if (n >= 8 && n <= 32) {
      uint64_t a, b, c, d;
      std::memcpy(&a, from, 8);
      std::memcpy(&b, from + n - 8, 8);
      if (n > 16) {
        std::memcpy(&c, from + 8, 8);
        std::memcpy(&d, from + n - 16, 8);
        std::memcpy(to + 8, &c, 8);
        std::memcpy(to + n - 16, &d, 8);
      }
      std::memcpy(to, &a, 8);
      std::memcpy(to + n - 8, &b, 8);
    } else if (n != 0) {
      std::memcpy(to, from, n);
    }
  }

  static constexpr uint64_t kNoMask = ~uint64_t{0};

  int max_parallelism_;
  uint64_t group_mask_;  // max_parallelism_ - 1 if a power of two
  KeyGroupRange range_;
  int key_group_ = -1;
  uint64_t hash_ = 0;
  uint64_t sequence_ = 0;
  size_t key_offset_ = 0;
  std::string_view encoded_view_;  // into short_ or long_
  char short_[kInline + 1] = {};
  std::string long_;
  mutable const FlatTable* prefetch_tables_ = nullptr;
};

}  // namespace weir::internal
