// SPDX-License-Identifier: Apache-2.0
//
// FlatTable: an open-addressing hash table (linear probing, backward-shift
// deletion) from byte-string keys to byte-string values with a timestamp,
// for the memory backend's value states. Each entry's key and value share
// one allocation, and the slot array holds the full hash, so a lookup
// touches the slot array and one block: about a third of the cache misses
// of std::unordered_map<std::string, std::string> (a bucket, a node, a key
// string, a value string), which dominate at millions of keys.
//
// Not thread-safe. Pointers returned by Find/Upsert stay valid until the
// entry is erased or next written with a larger value.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace weir::internal {

class FlatTable {
 public:
  class Entry {
   public:
    std::string_view key() const { return {data(), key_len_}; }
    std::string_view value() const { return {data() + key_len_, value_len_}; }
    int64_t ts = 0;

   private:
    friend class FlatTable;
    char* data() { return reinterpret_cast<char*>(this + 1); }
    const char* data() const { return reinterpret_cast<const char*>(this + 1); }
    uint32_t key_len_ = 0;
    uint32_t value_len_ = 0;
    uint32_t capacity_ = 0;  // bytes available for the value
  };

  FlatTable() = default;
  FlatTable(const FlatTable&) = delete;
  FlatTable& operator=(const FlatTable&) = delete;
  FlatTable(FlatTable&& other) noexcept { *this = std::move(other); }
  FlatTable& operator=(FlatTable&& other) noexcept;
  ~FlatTable() { Clear(); }

  size_t size() const { return size_; }

  // The entry for `key`, or null. `hash` must be Hash(key).
  Entry* Find(std::string_view key, uint64_t hash) const;
  // Sets the value and timestamp of `key`, inserting it if needed.
  Entry* Upsert(std::string_view key, uint64_t hash, std::string_view value,
                int64_t ts);
  // Removes `key`; false if it was not there.
  bool Erase(std::string_view key, uint64_t hash);
  void Clear();

  static uint64_t Hash(std::string_view key);

  // Calls f(const Entry&) for every entry, in no particular order, until f
  // returns false. Returns false if f did.
  template <class F>
  bool ForEach(F&& f) const {
    for (const Slot& slot : slots_) {
      if (slot.entry != nullptr && !f(*slot.entry)) return false;
    }
    return true;
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    Entry* entry = nullptr;
  };

  size_t Probe(std::string_view key, uint64_t hash) const;
  void Grow();
  static Entry* NewEntry(std::string_view key, std::string_view value);
  static void FreeEntry(Entry* e);

  std::vector<Slot> slots_;  // size is 0 or a power of two
  size_t size_ = 0;
};

}  // namespace weir::internal
