// SPDX-License-Identifier: Apache-2.0
#include "backends/memory/flat_table.h"

#include <cassert>
#include <new>
#include <utility>

#include "lib/hash.h"

namespace weir::internal {

uint64_t FlatTable::Hash(std::string_view key) { return Hash64(key); }

FlatTable& FlatTable::operator=(FlatTable&& other) noexcept {
  if (this != &other) {
    Clear();
    slots_ = std::move(other.slots_);
    size_ = std::exchange(other.size_, 0);
    other.slots_.clear();
  }
  return *this;
}

// The slot holding `key`, or the empty slot where it would go.
// REQUIRES: slots_ is not empty and not full.
size_t FlatTable::Probe(std::string_view key, uint64_t hash) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& slot = slots_[i];
    if (slot.entry == nullptr) return i;
    if (slot.hash == hash && slot.entry->key() == key) return i;
  }
}

FlatTable::Entry* FlatTable::Find(std::string_view key, uint64_t hash) const {
  if (size_ == 0) return nullptr;
  return slots_[Probe(key, hash)].entry;
}

FlatTable::Entry* FlatTable::NewEntry(std::string_view key,
                                      std::string_view value) {
  void* mem = ::operator new(sizeof(Entry) + key.size() + value.size());
  Entry* e = new (mem) Entry();
  e->key_len_ = static_cast<uint32_t>(key.size());
  e->value_len_ = static_cast<uint32_t>(value.size());
  e->capacity_ = static_cast<uint32_t>(value.size());
  std::memcpy(e->data(), key.data(), key.size());
  if (!value.empty())
    std::memcpy(e->data() + key.size(), value.data(), value.size());
  return e;
}

void FlatTable::FreeEntry(Entry* e) {
  e->~Entry();
  ::operator delete(e);
}

FlatTable::Entry* FlatTable::Upsert(std::string_view key, uint64_t hash,
                                    std::string_view value, int64_t ts) {
  // Keep the load factor at or below 1/2: short probe sequences.
  if ((size_ + 1) * 2 > slots_.size()) Grow();
  Slot& slot = slots_[Probe(key, hash)];
  if (slot.entry == nullptr) {
    slot.hash = hash;
    slot.entry = NewEntry(key, value);
    ++size_;
  } else if (value.size() <= slot.entry->capacity_) {
    slot.entry->value_len_ = static_cast<uint32_t>(value.size());
    if (!value.empty()) {
      std::memmove(slot.entry->data() + slot.entry->key_len_, value.data(),
                   value.size());
    }
  } else {
    Entry* fresh = NewEntry(key, value);
    FreeEntry(slot.entry);
    slot.entry = fresh;
  }
  slot.entry->ts = ts;
  return slot.entry;
}

bool FlatTable::Erase(std::string_view key, uint64_t hash) {
  if (size_ == 0) return false;
  const size_t mask = slots_.size() - 1;
  size_t hole = Probe(key, hash);
  if (slots_[hole].entry == nullptr) return false;
  FreeEntry(slots_[hole].entry);
  slots_[hole] = Slot{};
  --size_;
  // Backward shift: move later members of the probe run into the hole when
  // their home slot does not lie cyclically in (hole, j].
  for (size_t j = (hole + 1) & mask; slots_[j].entry != nullptr;
       j = (j + 1) & mask) {
    const size_t home = slots_[j].hash & mask;
    const bool home_in_range =
        hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (home_in_range) continue;
    slots_[hole] = slots_[j];
    slots_[j] = Slot{};
    hole = j;
  }
  return true;
}

void FlatTable::Clear() {
  for (Slot& slot : slots_) {
    if (slot.entry != nullptr) FreeEntry(slot.entry);
  }
  slots_.clear();
  size_ = 0;
}

void FlatTable::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
  const size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.entry == nullptr) continue;
    size_t i = slot.hash & mask;
    while (slots_[i].entry != nullptr) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

}  // namespace weir::internal
