// SPDX-License-Identifier: Apache-2.0
//
// The current key of a backend: its bytes, key group and the length-
// prefixed form that both backends put in front of the namespace.
#pragma once

#include <string>
#include <string_view>

#include <weir/key_group.h>
#include <weir/status.h>

#include "lib/coding.h"

namespace weir::internal {

class CurrentKey {
 public:
  CurrentKey(int max_parallelism, KeyGroupRange range)
      : max_parallelism_(max_parallelism), range_(range) {}

  Status Set(std::string_view key) {
    const int kg = KeyGroupForKey(key, max_parallelism_);
    if (!range_.Contains(kg)) return OutOfRange(kg);
    key_group_ = kg;
    encoded_.clear();
    PutLengthPrefixed(&encoded_, key);
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
  size_t key_offset_ = 0;
  std::string encoded_;
};

}  // namespace weir::internal
