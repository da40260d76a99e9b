// SPDX-License-Identifier: Apache-2.0
//
// The memory backend's value state: one FlatTable per key group, keyed by
// [varint len][key][namespace], with timestamps only if the state has a
// TTL. The table hash of an entry is the key's
// XXH3, which SetCurrentKey computed already for the key group, combined
// with the namespace's when there is one; so the default namespace costs no
// hashing per access.
#include <weir/raw_state.h>

#include "backends/common/state_registry.h"
#include "backends/memory/flat_table.h"
#include "backends/memory/memory_states.h"
#include "lib/hash.h"

namespace weir::internal {
namespace {

uint64_t WithNamespace(uint64_t key_hash, std::string_view ns) {
  return ns.empty() ? key_hash : Hash64WithSeed(ns, key_hash);
}

// The table hash of a stored [len][key][ns].
uint64_t CompositeHash(std::string_view composite) {
  std::string_view key, ns;
  SplitComposite(composite, &key, &ns);
  return WithNamespace(Hash64(key), ns);
}

class MemValueState final : public MemState, public RawValueState {
 public:
  MemValueState(const RawStateDescriptor& d, int slots, const MemKey* key,
                const Clock* clock)
      : MemState(d, key, clock) {
    // Timestamps only for a TTL, which cannot be turned on or off for an
    // existing state (CheckCompatible): 8 bytes less per entry without.
    tables_.reserve(slots);
    for (int i = 0; i < slots; ++i) {
      tables_.emplace_back(d.ttl.enabled() ? FlatTable::Timestamps::kKept
                                           : FlatTable::Timestamps::kNone);
    }
  }

  Result<bool> Get(std::string_view ns, std::string* value) override {
    std::string_view view;
    Result<bool> found = GetView(ns, nullptr, &view);
    if (*found) value->assign(view);
    return found;
  }

  // The view points into the table's slot (or heap block): valid until the
  // table is next modified.
  Result<bool> GetView(std::string_view ns, std::string* /*scratch*/,
                       std::string_view* value) override {
    FlatTable& table = tables_[slot()];
    // Set() prefetched the slots of the key in the default namespace.
    const bool prefetched = ns.empty() && key_->Prefetched(tables_.data());
    const size_t i = table.Find(Key(ns), Hash(ns), prefetched);
    if (i == FlatTable::kNone) return false;
    if (descriptor_.ttl.enabled() && !LiveAfterRead(table, i)) return false;
    Remember(table, i, ns);
    *value = table.ValueAt(i);
    return true;
  }

  Status Put(std::string_view ns, std::string_view value) override {
    // The write of a read-modify-write in the default namespace, without
    // a TTL, inline and calling nothing (a leaf: no registers to save);
    // the rest out of line, as a tail call.
    if (ns.empty() && !descriptor_.ttl.enabled()) {
      FlatTable& table = tables_[slot()];
      if (IsRemembered(table, key_->encoded(), ns) &&
          table.TryAssignInline(last_.index, value)) {
        return Status::OK();
      }
    }
    return PutSlow(ns, value);
  }

  Status Clear(std::string_view ns) override {
    tables_[slot()].Erase(Key(ns), Hash(ns));
    return Status::OK();
  }

  Status ForEachEntry(int slot, const StateEntryVisitor& visitor) override {
    const int64_t now = Now();
    StateEntry entry;
    entry.kind = StateEntry::Kind::kValue;
    entry.state = &descriptor_;
    Status s;
    tables_[slot].ForEach([&](const FlatTable::Entry& e) {
      if (IsExpired(descriptor_.ttl, e.ts(), now)) return true;
      SplitComposite(e.key(), &entry.key, &entry.ns);
      entry.value = e.value();
      entry.timestamp = e.ts();
      s = visitor(entry);
      return s.ok();
    });
    return s;
  }

  Status ForEachKey(
      const std::function<Status(std::string_view, std::string_view)>& visitor)
      override {
    const int64_t now = Now();
    Status s;
    for (const FlatTable& table : tables_) {
      const bool completed = table.ForEach([&](const FlatTable::Entry& e) {
        if (IsExpired(descriptor_.ttl, e.ts(), now)) return true;
        std::string_view key, ns;
        SplitComposite(e.key(), &key, &ns);
        s = visitor(key, ns);
        return s.ok();
      });
      if (!completed) break;
    }
    return s;
  }

  Status Import(int slot, const std::string& composite,
                const StateEntry& entry) override {
    tables_[slot].Upsert(composite, CompositeHash(composite), entry.value,
                         entry.timestamp);
    return Status::OK();
  }

 private:
  // False, after erasing it, if the entry at `i` has expired; else
  // refreshes its timestamp if reads do.
  bool LiveAfterRead(FlatTable& table, size_t i);
  Status PutSlow(std::string_view ns, std::string_view value);

  // [len][key][ns] of the current key: with the default namespace, the
  // current key's own bytes, without a copy.
  std::string_view Key(std::string_view ns) {
    if (ns.empty()) return key_->encoded();
    return Composite(ns);
  }

  uint64_t Hash(std::string_view ns) const {
    return WithNamespace(key_->hash(), ns);
  }

  // The entry the last Get or Put of this state found, so that the Put of a
  // read-modify-write does not probe the table again. It still holds the
  // same entry while its table has not moved any (the epoch).
  struct LastEntry {
    const FlatTable* table = nullptr;
    size_t index = 0;
    uint64_t epoch = 0;
    uint64_t key_sequence = 0;  // of the current key, when the namespace
    bool default_ns = false;    // was the default one
  };

  void Remember(const FlatTable& table, size_t index, std::string_view ns) {
    last_.table = &table;
    last_.index = index;
    last_.epoch = table.epoch();
    last_.key_sequence = key_->sequence();
    last_.default_ns = ns.empty();
    // The next key will likely be accessed here too: have SetCurrentKey
    // start reading its entry.
    if (ns.empty()) key_->SetPrefetchTables(tables_.data());
  }

  // True if last_ is the entry of `key` ([len][key][ns]) in `table`. With
  // the default namespace, the same current key proves it; with another,
  // the stored key is compared.
  bool IsRemembered(const FlatTable& table, std::string_view key,
                    std::string_view ns) const {
    if (last_.table != &table || last_.epoch != table.epoch()) return false;
    if (ns.empty()) {
      return last_.default_ns && last_.key_sequence == key_->sequence();
    }
    return table.At(last_.index).key() == key;
  }

  std::vector<FlatTable> tables_;
  LastEntry last_;
};

// Out of line (noinline: GCC inlines functions called once), so that the
// registers and code they need do not weigh on GetView and Put.
[[gnu::noinline]] bool MemValueState::LiveAfterRead(FlatTable& table,
                                                    size_t i) {
  const int64_t now = Now();
  if (IsExpired(descriptor_.ttl, table.TimestampAt(i), now)) {
    table.EraseAt(i);
    return false;
  }
  if (RefreshOnRead()) table.SetTimestamp(i, now);
  return true;
}

[[gnu::noinline]] Status MemValueState::PutSlow(std::string_view ns,
                                                std::string_view value) {
  FlatTable& table = tables_[slot()];
  const std::string_view k = Key(ns);
  if (IsRemembered(table, k, ns)) {
    table.Assign(last_.index, value, Now());
  } else {
    Remember(table, table.Upsert(k, Hash(ns), value, Now()), ns);
  }
  return Status::OK();
}

}  // namespace

std::unique_ptr<MemState> NewMemValueState(const RawStateDescriptor& d,
                                           int num_slots, const MemKey* key,
                                           const Clock* clock) {
  return std::make_unique<MemValueState>(d, num_slots, key, clock);
}

}  // namespace weir::internal
