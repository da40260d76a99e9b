// SPDX-License-Identifier: Apache-2.0
//
// The memory backend's value state: one FlatTable per key group, keyed by
// [varint len][key][namespace]. The table hash of an entry is the key's
// XXH3, which SetCurrentKey computed already for the key group, combined
// with the namespace's when there is one; so the default namespace costs no
// hashing per access.
#include <weir/raw_state.h>

#include "backends/memory/flat_table.h"
#include "backends/memory/memory_states.h"
#include "backends/state_registry.h"
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
      : MemState(d, key, clock), tables_(slots) {}

  Result<bool> Get(std::string_view ns, std::string* value) override {
    FlatTable& table = tables_[slot()];
    const std::string_view k = Key(ns);
    const size_t i = table.Find(k, WithNamespace(key_->hash(), ns));
    if (i == FlatTable::kNone) return false;
    if (descriptor_.ttl.enabled()) {
      const int64_t now = Now();
      if (IsExpired(descriptor_.ttl, table.At(i).ts(), now)) {
        table.EraseAt(i);
        return false;
      }
      if (RefreshOnRead()) table.SetTimestamp(i, now);
    }
    value->assign(table.At(i).value());
    return true;
  }

  Status Put(std::string_view ns, std::string_view value) override {
    const std::string_view k = Key(ns);
    tables_[slot()].Upsert(k, WithNamespace(key_->hash(), ns), value, Now());
    return Status::OK();
  }

  Status Clear(std::string_view ns) override {
    const std::string_view k = Key(ns);
    tables_[slot()].Erase(k, WithNamespace(key_->hash(), ns));
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
  // [len][key][ns] of the current key: with the default namespace, the
  // current key's own bytes, without a copy.
  std::string_view Key(std::string_view ns) {
    if (ns.empty()) return key_->encoded();
    return Composite(ns);
  }

  std::vector<FlatTable> tables_;
};

}  // namespace

std::unique_ptr<MemState> NewMemValueState(const RawStateDescriptor& d,
                                           int num_slots, const MemKey* key,
                                           const Clock* clock) {
  return std::make_unique<MemValueState>(d, num_slots, key, clock);
}

}  // namespace weir::internal
