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

#include "lib/coding.h"
#include "lib/hash.h"

namespace weir::internal {

class MemKey {
 public:
  MemKey(int max_parallelism, KeyGroupRange range)
      : max_parallelism_(max_parallelism), range_(range) {}

  Status Set(std::string_view key) {
    const uint64_t hash = Hash64(key);
    // KeyGroupForKey(key, max_parallelism_), without hashing again.
    const int kg =
        static_cast<int>(hash % static_cast<uint64_t>(max_parallelism_));
    if (!range_.Contains(kg)) return OutOfRange(kg);
    key_group_ = kg;
    hash_ = hash;
    ++sequence_;
    if (prefetcher_ != nullptr) prefetcher_(prefetch_state_, *this);
    if (key.size() < 0x80) {
      // The usual short key: a one-byte varint, without PutVarint's loop.
      encoded_.resize(key.size() + 1);
      encoded_[0] = static_cast<char>(key.size());
      if (!key.empty()) std::memcpy(&encoded_[1], key.data(), key.size());
    } else {
      encoded_.clear();
      PutLengthPrefixed(&encoded_, key);
    }
    key_offset_ = encoded_.size() - key.size();
    return Status::OK();
  }

  bool is_set() const { return key_group_ >= 0; }
  std::string_view key() const {
    return std::string_view(encoded_).substr(key_offset_);
  }
  int key_group() const { return key_group_; }
  // Index of the key group within the backend's range.
  int slot() const { return key_group_ - range_.start; }
  // Varint length + key bytes.
  const std::string& encoded() const { return encoded_; }
  // Hash64(key()).
  uint64_t hash() const { return hash_; }
  // Changes with every Set: the same sequence means the same current key.
  uint64_t sequence() const { return sequence_; }

  // A state that wants its entry of the next key read early: Set() calls
  // fn(state, *this) as soon as the key's hash and group are known, so that
  // the DRAM read of the entry overlaps the rest of Set() and of the
  // caller's work until it reads the state. One state at a time (the last
  // to ask); `state` must live as long as this key.
  using Prefetcher = void (*)(const void* state, const MemKey& key);
  void SetPrefetcher(Prefetcher fn, const void* state) const {
    prefetcher_ = fn;
    prefetch_state_ = state;
  }

  Status OutOfRange(int kg) const {
    return Status::InvalidArgument(
        "key belongs to key group " + std::to_string(kg) +
        ", outside this backend's key groups [" + std::to_string(range_.start) +
        ", " + std::to_string(range_.end) + "]");
  }

 private:
  int max_parallelism_;
  KeyGroupRange range_;
  int key_group_ = -1;
  uint64_t hash_ = 0;
  uint64_t sequence_ = 0;
  size_t key_offset_ = 0;
  std::string encoded_;
  mutable Prefetcher prefetcher_ = nullptr;
  mutable const void* prefetch_state_ = nullptr;
};

}  // namespace weir::internal
