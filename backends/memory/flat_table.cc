// SPDX-License-Identifier: Apache-2.0
#include "backends/memory/flat_table.h"

#include <cassert>
#include <new>
#include <utility>

#include "lib/hash.h"

namespace weir::internal {

// An entry too large for its table's slots.
struct FlatTable::HeapEntry {
  uint32_t key_len;
  uint32_t value_len;
  uint32_t capacity;  // bytes available for the value

  char* data() { return reinterpret_cast<char*>(this + 1); }
  const char* data() const { return reinterpret_cast<const char*>(this + 1); }
  std::string_view key() const { return {data(), key_len}; }
  std::string_view value() const { return {data() + key_len, value_len}; }

  static HeapEntry* New(std::string_view key, std::string_view value) {
    void* mem = ::operator new(sizeof(HeapEntry) + key.size() + value.size());
    auto* e = new (mem) HeapEntry{static_cast<uint32_t>(key.size()),
                                  static_cast<uint32_t>(value.size()),
                                  static_cast<uint32_t>(value.size())};
    std::memcpy(e->data(), key.data(), key.size());
    if (!value.empty()) {
      std::memcpy(e->data() + key.size(), value.data(), value.size());
    }
    return e;
  }
  static void Free(HeapEntry* e) {
    e->~HeapEntry();
    ::operator delete(e);
  }
};

namespace {

// The tag array, rounded up so that the slots after it start at a multiple
// of 128 bytes (PageBuffer aligns to 128): slots of 128 or 256 bytes are
// then adjacent-line pairs.
constexpr size_t TagBytes(size_t capacity) {
  return (capacity * sizeof(uint32_t) + 127) / 128 * 128;
}

}  // namespace

uint64_t FlatTable::Hash(std::string_view key) { return Hash64(key); }

FlatTable& FlatTable::operator=(FlatTable&& other) noexcept {
  if (this != &other) {
    Clear();
    buffer_ = std::move(other.buffer_);
    slots_ = std::exchange(other.slots_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
    slot_size_ = std::exchange(other.slot_size_, 0);
    header_size_ = other.header_size_;
    size_ = std::exchange(other.size_, 0);
    heap_entries_ = std::exchange(other.heap_entries_, 0);
    ++other.epoch_;
    ++epoch_;
  }
  return *this;
}

FlatTable::HeapEntry* FlatTable::HeapOf(const char* slot) const {
  HeapEntry* e;
  std::memcpy(&e, slot + header_size_, sizeof(e));
  return e;
}

std::string_view FlatTable::HeapValue(const char* slot) const {
  return HeapOf(slot)->value();
}

std::string_view FlatTable::KeyAt(size_t i) const {
  const char* slot = SlotAt(i);
  if (IsHeap(slot)) return HeapOf(slot)->key();
  return {slot + header_size_, Load16(slot + kKeyLenOffset)};
}

size_t FlatTable::FindFrom(size_t i, uint32_t tag, std::string_view key) const {
  // A longer run (one lookup in ten): the next four slots, fetched at
  // once, hold most of the rest; one more miss instead of two dependent
  // ones (the tag array, then the slot).
  PrefetchSlots(i, 4);
  for (int probe = 0; probe < 4; ++probe) {
    const uint32_t t = Load32(SlotAt(i) + kTagOffset);
    if (t == tag && KeyEquals(i, key)) return i;
    if (t == 0) return kNone;
    if (++i == capacity_) i = 0;
  }
  for (;;) {
    const uint32_t t = tags()[i];
    if (t == 0) return kNone;
    if (t == tag && KeyEquals(i, key)) return i;
    if (++i == capacity_) i = 0;
  }
}

FlatTable::Entry FlatTable::At(size_t index) const {
  assert(index < capacity_ && tags()[index] != 0);
  const char* slot = SlotAt(index);
  Entry e;
  e.ts_ = TimestampAt(index);
  const uint16_t value_len = Load16(slot + kValueLenOffset);
  if (value_len == kHeapEntry) {
    const HeapEntry* h = HeapOf(slot);
    e.key_ = h->key();
    e.value_ = h->value();
  } else {
    const uint16_t key_len = Load16(slot + kKeyLenOffset);
    e.key_ = {slot + header_size_, key_len};
    e.value_ = {slot + header_size_ + key_len, value_len};
  }
  return e;
}

void FlatTable::Emplace(char* slot, uint32_t tag, std::string_view key,
                        std::string_view value, int64_t ts) {
  if (keeps_timestamps()) std::memcpy(slot + kTsOffset, &ts, sizeof(ts));
  Store32(slot + kTagOffset, tag);
  if (FitsInline(key.size(), value.size())) {
    Store16(slot + kKeyLenOffset, static_cast<uint16_t>(key.size()));
    Store16(slot + kValueLenOffset, static_cast<uint16_t>(value.size()));
    std::memcpy(slot + header_size_, key.data(), key.size());
    if (!value.empty()) {
      std::memcpy(slot + header_size_ + key.size(), value.data(), value.size());
    }
    return;
  }
  Store16(slot + kKeyLenOffset, 0);
  Store16(slot + kValueLenOffset, kHeapEntry);
  HeapEntry* e = HeapEntry::New(key, value);
  std::memcpy(slot + header_size_, &e, sizeof(e));
  ++heap_entries_;
}

void FlatTable::ReleaseEntry(char* slot) {
  if (!IsHeap(slot)) return;
  HeapEntry::Free(HeapOf(slot));
  --heap_entries_;
}

void FlatTable::AssignSlow(size_t index, std::string_view value, int64_t ts) {
  char* slot = SlotAt(index);
  if (!IsHeap(slot)) {
    const uint16_t key_len = Load16(slot + kKeyLenOffset);
    char* key = slot + header_size_;
    if (FitsInline(key_len, value.size())) {
      // memmove: the value may be this entry's own.
      if (!value.empty())
        std::memmove(key + key_len, value.data(), value.size());
      Store16(slot + kValueLenOffset, static_cast<uint16_t>(value.size()));
    } else {
      // New() copies key and value out of the slot before it is reused.
      HeapEntry* e = HeapEntry::New({key, key_len}, value);
      std::memcpy(slot + header_size_, &e, sizeof(e));
      Store16(slot + kKeyLenOffset, 0);
      Store16(slot + kValueLenOffset, kHeapEntry);
      ++heap_entries_;
    }
  } else {
    HeapEntry* e = HeapOf(slot);
    const uint32_t key_len = e->key_len;
    if (FitsInline(key_len, value.size())) {
      // Back into the slot; the value may live in `e`, freed only after.
      std::memcpy(slot + header_size_, e->data(), key_len);
      if (!value.empty()) {
        std::memcpy(slot + header_size_ + key_len, value.data(), value.size());
      }
      Store16(slot + kKeyLenOffset, static_cast<uint16_t>(key_len));
      Store16(slot + kValueLenOffset, static_cast<uint16_t>(value.size()));
      HeapEntry::Free(e);
      --heap_entries_;
    } else if (value.size() <= e->capacity) {
      if (!value.empty()) {
        std::memmove(e->data() + key_len, value.data(), value.size());
      }
      e->value_len = static_cast<uint32_t>(value.size());
    } else {
      HeapEntry* fresh = HeapEntry::New(e->key(), value);
      HeapEntry::Free(e);
      std::memcpy(slot + header_size_, &fresh, sizeof(fresh));
    }
  }
  SetTimestamp(index, ts);
}

size_t FlatTable::Upsert(std::string_view key, uint64_t hash,
                         std::string_view value, int64_t ts) {
  size_t i = Find(key, hash);
  if (i != kNone) {
    Assign(i, value, ts);
    return i;
  }
  // Keep the load factor at or below 4/5: linear probing stays short, and
  // the tag array keeps the probes of a lookup in one or two cache lines.
  if (capacity_ == 0 || (size_ + 1) * 5 > capacity_ * 4) {
    Rebuild(capacity_ == 0 ? kMinCapacity : capacity_ * 2,
            key.size() + value.size());
  }
  const uint32_t tag = TagOf(hash);
  i = Home(tag);
  while (tags()[i] != 0) {
    if (++i == capacity_) i = 0;
  }
  tags()[i] = tag;
  Emplace(SlotAt(i), tag, key, value, ts);
  ++size_;
  return i;
}

bool FlatTable::Erase(std::string_view key, uint64_t hash) {
  const size_t i = Find(key, hash);
  if (i == kNone) return false;
  EraseAt(i);
  return true;
}

void FlatTable::EraseAt(size_t index) {
  size_t hole = index;
  ReleaseEntry(SlotAt(hole));
  --size_;
  ++epoch_;
  // Backward shift: move later members of the probe run into the hole when
  // their home slot does not lie cyclically in (hole, j].
  size_t j = hole;
  for (;;) {
    if (++j == capacity_) j = 0;
    const uint32_t tag = tags()[j];
    if (tag == 0) break;
    const size_t home = Home(tag);
    const bool home_in_range =
        hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (home_in_range) continue;
    tags()[hole] = tag;
    std::memcpy(SlotAt(hole), SlotAt(j), slot_size_);
    hole = j;
  }
  tags()[hole] = 0;
  Store32(SlotAt(hole) + kTagOffset, 0);
}

void FlatTable::Clear() {
  for (size_t i = 0; i < capacity_ && heap_entries_ > 0; ++i) {
    if (tags()[i] != 0) ReleaseEntry(SlotAt(i));
  }
  buffer_ = PageBuffer();
  slots_ = nullptr;
  capacity_ = 0;
  slot_size_ = 0;
  size_ = 0;
  heap_entries_ = 0;
  ++epoch_;
}

// The smallest slot that holds 15/16 of the entries (one with length
// `extra_len` included), or failing that half of them, or failing that one
// only big enough to point to a heap block. At most kMaxSlotSize.
size_t FlatTable::ChooseSlotSize(size_t extra_len) const {
  constexpr size_t kBuckets = kMaxSlotSize / 8 + 2;  // the last: too large
  size_t counts[kBuckets] = {};
  const auto add = [&](size_t len) {
    const size_t need = header_size_ + len;
    ++counts[need > kMaxSlotSize ? kBuckets - 1 : (need + 7) / 8];
  };
  add(extra_len);
  for (size_t i = 0; i < capacity_; ++i) {
    if (tags()[i] == 0) continue;
    const char* slot = SlotAt(i);
    if (IsHeap(slot)) {
      const HeapEntry* e = HeapOf(slot);
      add(size_t{e->key_len} + e->value_len);
    } else {
      add(size_t{Load16(slot + kKeyLenOffset)} +
          Load16(slot + kValueLenOffset));
    }
  }
  const size_t total = size_ + 1;
  for (const size_t share16 : {size_t{15}, size_t{8}}) {
    size_t covered = 0;
    for (size_t b = 0; b + 1 < kBuckets; ++b) {
      covered += counts[b];
      if (covered * 16 >= total * share16) {
        return b * 8 < kMinSlotSize ? kMinSlotSize : b * 8;
      }
    }
  }
  return kMinSlotSize;
}

// Capacities near `capacity` whose arrays fill whole huge pages, so that no
// part of a large table is left in small pages (a TLB miss per access
// there): rounded down when the load stays at most 0.55, else up.
size_t FlatTable::FitToHugePages(size_t capacity, size_t slot_size) const {
  const auto bytes = [&](size_t c) { return TagBytes(c) + c * slot_size; };
  // The largest capacity whose arrays fit in `limit` bytes.
  const auto fitting = [&](size_t limit) {
    size_t c = limit / (slot_size + sizeof(uint32_t));
    while (bytes(c) > limit) --c;
    return c;
  };
  constexpr size_t kHuge = PageBuffer::kHugePageSize;
  const size_t whole = bytes(capacity) / kHuge * kHuge;
  if (whole == 0) return capacity;
  const size_t down = fitting(whole);
  if ((size_ + 1) * 20 <= down * 11) return down;
  return fitting(whole + kHuge);
}

void FlatTable::Rebuild(size_t min_capacity, size_t extra_len) {
  const size_t slot_size = ChooseSlotSize(extra_len);
  const size_t capacity = FitToHugePages(min_capacity, slot_size);
  assert(capacity > size_ + 1);
  PageBuffer buffer(TagBytes(capacity) + capacity * slot_size);
  auto* tags = reinterpret_cast<uint32_t*>(buffer.data());
  char* slots = buffer.data() + TagBytes(capacity);

  PageBuffer old_buffer = std::move(buffer_);
  const char* old_slots = slots_;
  const size_t old_capacity = capacity_;
  const size_t old_slot_size = slot_size_;
  const auto* old_tags = reinterpret_cast<const uint32_t*>(old_buffer.data());

  buffer_ = std::move(buffer);
  slots_ = slots;
  capacity_ = capacity;
  slot_size_ = slot_size;
  ++epoch_;
  for (size_t i = 0; i < old_capacity; ++i) {
    const uint32_t tag = old_tags[i];
    if (tag == 0) continue;
    size_t j = Home(tag);
    while (tags[j] != 0) {
      if (++j == capacity_) j = 0;
    }
    tags[j] = tag;
    const char* from = old_slots + i * old_slot_size;
    char* to = SlotAt(j);
    int64_t ts = 0;
    if (keeps_timestamps()) std::memcpy(&ts, from + kTsOffset, sizeof(ts));
    if (!IsHeap(from)) {
      const uint16_t key_len = Load16(from + kKeyLenOffset);
      const uint16_t value_len = Load16(from + kValueLenOffset);
      // Emplace() counts a new heap block if the entry no longer fits.
      Emplace(to, tag, {from + header_size_, key_len},
              {from + header_size_ + key_len, value_len}, ts);
      continue;
    }
    HeapEntry* e = HeapOf(from);
    if (FitsInline(e->key_len, e->value_len)) {
      Emplace(to, tag, e->key(), e->value(), ts);
      HeapEntry::Free(e);
      --heap_entries_;
    } else {
      std::memcpy(to, from, header_size_ + sizeof(e));
    }
  }
}

}  // namespace weir::internal
