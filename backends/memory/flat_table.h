// SPDX-License-Identifier: Apache-2.0
//
// FlatTable: an open-addressing hash table (linear probing, backward-shift
// deletion) from byte-string keys to byte-string values, each with a
// timestamp if the table keeps them, for the memory backend's value states.
//
// Layout: fixed-size slots, [tag][key length][value length][timestamp, only
// in tables that keep them][key bytes][value bytes], and beside them a dense
// array of the same 32-bit tags (part of each key's hash; 0 = empty). A
// table without timestamps has an 8-byte header, so that a 16-byte key and
// a 100-byte value fit a 128-byte slot: slots of a multiple of 128 bytes are
// aligned to 128, each 128 bytes one adjacent-line pair. An entry whose key and
// value fit in a slot lives there, and a lookup reads its home slot and the
// next (where nine keys in ten are at the load the table keeps) with one DRAM
// miss, all their cache lines fetched at once, and the tag array only for
// longer probe runs; a slot array pointing to separately allocated entries
// costs two misses. Larger entries live in a heap block that the slot
// points to. The slot size is chosen from the sizes of the entries when the
// table is created and whenever it grows (so that almost all fit), and both
// arrays sit in one PageBuffer, in whole huge pages once the table is large.
//
// Entries are addressed by index (Find, Upsert). Indexes, and views of keys
// and values, stay valid until entries move: an erase, a growth, Clear()
// (epoch() changes then). Assign() and SetTimestamp() move nothing, nor
// does an insert that does not grow the table; Assign() invalidates only
// views of the value it replaces.
//
// Not thread-safe.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

#include "backends/memory/page_buffer.h"

namespace weir::internal {

class FlatTable {
 public:
  static constexpr size_t kNone = ~size_t{0};

  // A view of one entry.
  class Entry {
   public:
    std::string_view key() const { return key_; }
    std::string_view value() const { return value_; }
    int64_t ts() const { return ts_; }

   private:
    friend class FlatTable;
    std::string_view key_, value_;
    int64_t ts_ = 0;
  };

  // Whether entries carry a timestamp (states with a TTL). Without, the
  // timestamps given to Upsert and Assign are dropped and every entry's
  // is 0.
  enum class Timestamps : uint8_t { kNone, kKept };

  FlatTable() = default;
  explicit FlatTable(Timestamps timestamps)
      : header_size_(timestamps == Timestamps::kKept ? kHeaderSizeWithTs
                                                     : kHeaderSizeNoTs) {}
  FlatTable(const FlatTable&) = delete;
  FlatTable& operator=(const FlatTable&) = delete;
  FlatTable(FlatTable&& other) noexcept { *this = std::move(other); }
  FlatTable& operator=(FlatTable&& other) noexcept;
  ~FlatTable() { Clear(); }

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  // Bytes per slot (0 before the first insert).
  size_t slot_size() const { return slot_size_; }
  // Entries kept in heap blocks because they do not fit in a slot.
  size_t heap_entries() const { return heap_entries_; }
  // True if the arrays were mapped with the huge-page hint.
  bool huge_pages() const { return buffer_.mapped(); }
  bool keeps_timestamps() const { return header_size_ == kHeaderSizeWithTs; }
  uint64_t epoch() const { return epoch_; }

  // The 64-bit hash the table expects (XXH3). Only its upper 32 bits are
  // used, so any hash whose upper half is well mixed will do.
  static uint64_t Hash(std::string_view key);

  // The index of `key`, or kNone. `hash` must be the key's hash (the same
  // function for every key of the table). `prefetched`: the caller has
  // called Prefetch(hash) already.
  size_t Find(std::string_view key, uint64_t hash,
              bool prefetched = false) const {
    if (size_ == 0) return kNone;
    const uint32_t tag = TagOf(hash);
    size_t i = Home(tag);
    // Most keys are in their home slot or the next: look there first,
    // without the tag array, so that the common lookup reads two adjacent
    // slots, whose cache lines are all fetched at once (one DRAM miss).
    if (!prefetched) PrefetchSlots(i, 2);
    for (int probe = 0; probe < 2; ++probe) {
      const uint32_t t = Load32(SlotAt(i) + kTagOffset);
      if (t == tag && KeyEquals(i, key)) return i;
      if (t == 0) return kNone;
      if (++i == capacity_) i = 0;
    }
    return FindFrom(i, tag, key);
  }
  // Starts reading the slots where `hash` would be (see Find).
  void Prefetch(uint64_t hash) const {
    if (capacity_ != 0) PrefetchSlots(Home(TagOf(hash)), 2);
  }
  Entry At(size_t index) const;
  std::string_view ValueAt(size_t index) const {
    const char* slot = SlotAt(index);
    if (IsHeap(slot)) return HeapValue(slot);
    return {slot + header_size_ + Load16(slot + kKeyLenOffset),
            Load16(slot + kValueLenOffset)};
  }
  // 0 in a table without timestamps.
  int64_t TimestampAt(size_t index) const {
    int64_t ts = 0;
    if (keeps_timestamps()) std::memcpy(&ts, SlotAt(index) + kTsOffset, 8);
    return ts;
  }
  void SetTimestamp(size_t index, int64_t ts) {
    if (keeps_timestamps()) std::memcpy(SlotAt(index) + kTsOffset, &ts, 8);
  }
  // Sets the value and timestamp of the entry at `index`. `value` may point
  // into this entry's own value.
  void Assign(size_t index, std::string_view value, int64_t ts) {
    char* slot = SlotAt(index);
    if (!IsHeap(slot)) {
      // The common case inline: an entry that stays in its slot.
      const uint16_t key_len = Load16(slot + kKeyLenOffset);
      if (FitsInline(key_len, value.size())) {
        // memmove: the value may be this entry's own.
        if (!value.empty()) {
          std::memmove(slot + header_size_ + key_len, value.data(),
                       value.size());
        }
        Store16(slot + kValueLenOffset, static_cast<uint16_t>(value.size()));
        SetTimestamp(index, ts);
        return;
      }
    }
    AssignSlow(index, value, ts);
  }

  // Assign() without a timestamp, if that is quick: the entry is in its
  // slot, `value` fits there, is at most 128 bytes and does not overlap
  // it, and the table keeps no timestamps. Else changes nothing and returns
  // false. Calls nothing, so that the write of a read-modify-write can be
  // a leaf function.
  bool TryAssignInline(size_t index, std::string_view value) {
    char* slot = SlotAt(index);
    if (keeps_timestamps() || IsHeap(slot)) return false;
    const uint16_t key_len = Load16(slot + kKeyLenOffset);
    char* to = slot + header_size_ + key_len;
    const size_t n = value.size();
    const auto t = reinterpret_cast<uintptr_t>(to);
    const auto f = reinterpret_cast<uintptr_t>(value.data());
    if (!FitsInline(key_len, n) || n > 128 || (f < t + n && t < f + n)) {
      return false;
    }
    CopyDisjoint(to, value.data(), n);
    Store16(slot + kValueLenOffset, static_cast<uint16_t>(n));
    return true;
  }

  // Sets the value and timestamp of `key`, inserting it if needed, and
  // returns its index. `value` must not point into the table (an insert may
  // move every entry).
  size_t Upsert(std::string_view key, uint64_t hash, std::string_view value,
                int64_t ts);
  // Removes `key`; false if it was not there.
  bool Erase(std::string_view key, uint64_t hash);
  void EraseAt(size_t index);
  void Clear();

  // Calls f(const Entry&) for every entry, in no particular order, until f
  // returns false. Returns false if f did. f must not modify the table.
  template <class F>
  bool ForEach(F&& f) const {
    for (size_t i = 0; i < capacity_; ++i) {
      if (tags()[i] != 0 && !f(At(i))) return false;
    }
    return true;
  }

 private:
  // Slot header: tag (a copy of the tag array's, 0 when the slot is empty),
  // key length, value length (kHeapEntry: the entry is in a heap block,
  // whose address follows the header; the key length is then 0), and the
  // timestamp in tables that keep them.
  static constexpr size_t kHeaderSizeNoTs = 8;
  static constexpr size_t kHeaderSizeWithTs = 16;
  static constexpr size_t kTagOffset = 0;
  static constexpr size_t kKeyLenOffset = 4;
  static constexpr size_t kValueLenOffset = 6;
  static constexpr size_t kTsOffset = 8;
  static constexpr uint16_t kHeapEntry = 0xffff;
  static constexpr size_t kMinSlotSize = 32;
  static constexpr size_t kMaxSlotSize = 256;
  static constexpr size_t kMinCapacity = 16;

  struct HeapEntry;

  static uint32_t TagOf(uint64_t hash) {
    return static_cast<uint32_t>(hash >> 32) | 1;
  }
  // Multiply-shift instead of a mask: the home slot comes from the upper
  // bits of the tag, so the capacity need not be a power of two.
  size_t Home(uint32_t tag) const {
    return static_cast<size_t>((uint64_t{tag} * capacity_) >> 32);
  }
  uint32_t* tags() const { return reinterpret_cast<uint32_t*>(buffer_.data()); }
  char* SlotAt(size_t i) const { return slots_ + i * slot_size_; }
  static uint32_t Load32(const char* p) {
    uint32_t v;
    std::memcpy(&v, p, sizeof(v));
    return v;
  }
  static void Store32(char* p, uint32_t v) { std::memcpy(p, &v, sizeof(v)); }
  static uint16_t Load16(const char* p) {
    uint16_t v;
    std::memcpy(&v, p, sizeof(v));
    return v;
  }
  static void Store16(char* p, uint16_t v) { std::memcpy(p, &v, sizeof(v)); }
  static bool IsHeap(const char* slot) {
    return Load16(slot + kValueLenOffset) == kHeapEntry;
  }
  HeapEntry* HeapOf(const char* slot) const;
  std::string_view HeapValue(const char* slot) const;
  // Fetches the cache line at `address` in a state ready for writing: most
  // lookups are followed by a write of the value (read-modify-write), whose
  // stores would otherwise wait for a second round to memory (x86-64:
  // PREFETCHW, a no-op on CPUs without it).
  static void PrefetchForWrite(uintptr_t address) {
#if defined(__x86_64__)
    asm volatile("prefetchw (%0)" : : "r"(address));
#else
    __builtin_prefetch(reinterpret_cast<const void*>(address), 1);
#endif
  }
  // Starts the DRAM reads of all cache lines of `count` slots from i (at
  // the end of the array, of bytes past it: prefetches do not fault).
  void PrefetchSlots(size_t i, size_t count) const {
    const auto first = reinterpret_cast<uintptr_t>(SlotAt(i));
    const uintptr_t last = first + count * slot_size_ - 1;
    for (uintptr_t line = first & ~uintptr_t{63}; line <= last; line += 64) {
      PrefetchForWrite(line);
    }
  }
  std::string_view KeyAt(size_t i) const;
  // Find() past the home slot and the next: probes from slot `i`.
  size_t FindFrom(size_t i, uint32_t tag, std::string_view key) const;
  bool KeyEquals(size_t i, std::string_view key) const {
    const char* slot = SlotAt(i);
    if (IsHeap(slot)) return KeyAt(i) == key;
    return Load16(slot + kKeyLenOffset) == key.size() &&
           BytesEqual(slot + header_size_, key.data(), key.size());
  }
  // memcmp(a, b, n) == 0, without a call for keys of 8 to 32 bytes.
  static bool BytesEqual(const char* a, const char* b, size_t n) {
    if (n < 8 || n > 32) return n == 0 || std::memcmp(a, b, n) == 0;
    const auto word = [](const char* p) {
      uint64_t v;
      std::memcpy(&v, p, sizeof(v));
      return v;
    };
    // Overlapping words: the first and last 8 (or 16) bytes.
    uint64_t diff = (word(a) ^ word(b)) | (word(a + n - 8) ^ word(b + n - 8));
    if (n > 16) {
      diff |=
          (word(a + 8) ^ word(b + 8)) | (word(a + n - 16) ^ word(b + n - 16));
    }
    return diff == 0;
  }
  void AssignSlow(size_t index, std::string_view value, int64_t ts);
  // memcpy(to, from, n) for n <= 128 and disjoint ranges, inline: two
  // overlapping blocks of fixed size.
  static void CopyDisjoint(char* to, const char* from, size_t n) {
    if (n >= 64) {
      std::memcpy(to, from, 64);
      std::memcpy(to + n - 64, from + n - 64, 64);
    } else if (n >= 32) {
      std::memcpy(to, from, 32);
      std::memcpy(to + n - 32, from + n - 32, 32);
    } else if (n >= 16) {
      std::memcpy(to, from, 16);
      std::memcpy(to + n - 16, from + n - 16, 16);
    } else if (n >= 8) {
      uint64_t a, b;
      std::memcpy(&a, from, 8);
      std::memcpy(&b, from + n - 8, 8);
      std::memcpy(to, &a, 8);
      std::memcpy(to + n - 8, &b, 8);
    } else if (n >= 4) {
      uint32_t a, b;
      std::memcpy(&a, from, 4);
      std::memcpy(&b, from + n - 4, 4);
      std::memcpy(to, &a, 4);
      std::memcpy(to + n - 4, &b, 4);
    } else if (n != 0) {
      // 1 to 3 bytes: the first, the middle and the last.
      const char a = from[0], b = from[n / 2], c = from[n - 1];
      to[0] = a;
      to[n / 2] = b;
      to[n - 1] = c;
    }
  }
  // Inline lengths are 16 bits; slots are far smaller.
  bool FitsInline(size_t key_len, size_t value_len) const {
    return key_len + value_len <= slot_size_ - header_size_;
  }

  // Writes a new entry into the empty slot `slot`.
  void Emplace(char* slot, uint32_t tag, std::string_view key,
               std::string_view value, int64_t ts);
  // Frees the heap block of the entry in `slot`, if it has one.
  void ReleaseEntry(char* slot);
  // Rehashes into about `min_capacity` slots (FitToHugePages) of a size
  // fitting the current entries (and `extra_len`, the key + value length of
  // an entry about to be added).
  void Rebuild(size_t min_capacity, size_t extra_len);
  size_t ChooseSlotSize(size_t extra_len) const;
  size_t FitToHugePages(size_t capacity, size_t slot_size) const;

  PageBuffer buffer_;      // capacity_ tags, then capacity_ slots
  char* slots_ = nullptr;  // into buffer_
  size_t capacity_ = 0;
  size_t slot_size_ = 0;
  size_t size_ = 0;
  size_t heap_entries_ = 0;
  uint64_t epoch_ = 0;
  size_t header_size_ = kHeaderSizeWithTs;  // kHeaderSizeNoTs or WithTs
};

}  // namespace weir::internal
