// SPDX-License-Identifier: Apache-2.0
#include "backends/memory/memory_states.h"

#include <cassert>

#include "backends/common/state_registry.h"
#include "lib/coding.h"

namespace weir::internal {

void SplitComposite(std::string_view composite, std::string_view* key,
                    std::string_view* ns) {
  const bool ok = GetLengthPrefixed(&composite, key);
  assert(ok);
  (void)ok;
  *ns = composite;
}

namespace {

template <class Entry>
using Tables = std::vector<std::unordered_map<std::string, Entry>>;

class MemListState final : public MemState, public RawListState {
 public:
  MemListState(const RawStateDescriptor& d, int slots, const MemKey* key,
               const Clock* clock)
      : MemState(d, key, clock), tables_(slots) {}

  Status Get(std::string_view ns, std::vector<std::string>* values) override {
    values->clear();
    auto& table = tables_[slot()];
    auto it = table.find(Composite(ns));
    if (it == table.end()) return Status::OK();
    std::vector<MemEntry>& list = it->second;
    if (descriptor_.ttl.enabled()) {
      const int64_t now = Now();
      std::erase_if(list, [&](const MemEntry& e) { return !Live(e, now); });
      if (list.empty()) {
        table.erase(it);
        return Status::OK();
      }
      if (RefreshOnRead()) {
        for (MemEntry& e : list) e.ts = now;
      }
    }
    values->reserve(list.size());
    for (const MemEntry& e : list) values->push_back(e.bytes);
    return Status::OK();
  }

  Status Add(std::string_view ns, std::string_view value) override {
    tables_[slot()][Composite(ns)].push_back(
        MemEntry{std::string(value), Now()});
    return Status::OK();
  }

  Status Update(std::string_view ns,
                std::span<const std::string> values) override {
    if (values.empty()) return Clear(ns);
    std::vector<MemEntry>& list = tables_[slot()][Composite(ns)];
    list.clear();
    const int64_t now = Now();
    for (const std::string& v : values) list.push_back(MemEntry{v, now});
    return Status::OK();
  }

  Status Clear(std::string_view ns) override {
    tables_[slot()].erase(Composite(ns));
    return Status::OK();
  }

  Status ForEachEntry(int slot, const StateEntryVisitor& visitor) override {
    const int64_t now = Now();
    StateEntry entry;
    entry.kind = StateEntry::Kind::kListElement;
    entry.state = &descriptor_;
    for (const auto& [composite, list] : tables_[slot]) {
      SplitComposite(composite, &entry.key, &entry.ns);
      for (const MemEntry& e : list) {
        if (!Live(e, now)) continue;
        entry.value = e.bytes;
        entry.timestamp = e.ts;
        Status s = visitor(entry);
        if (!s.ok()) return s;
      }
    }
    return Status::OK();
  }

  Status ForEachKey(
      const std::function<Status(std::string_view, std::string_view)>& visitor)
      override {
    const int64_t now = Now();
    for (const auto& table : tables_) {
      for (const auto& [composite, list] : table) {
        bool live = false;
        for (const MemEntry& e : list) live = live || Live(e, now);
        if (!live) continue;
        std::string_view key, ns;
        SplitComposite(composite, &key, &ns);
        Status s = visitor(key, ns);
        if (!s.ok()) return s;
      }
    }
    return Status::OK();
  }

  Status Import(int slot, const std::string& composite,
                const StateEntry& entry) override {
    tables_[slot][composite].push_back(
        MemEntry{std::string(entry.value), entry.timestamp});
    return Status::OK();
  }

 private:
  Tables<std::vector<MemEntry>> tables_;
};

class MemMapState final : public MemState, public RawMapState {
 public:
  using UserMap = std::map<std::string, MemEntry, std::less<>>;

  MemMapState(const RawStateDescriptor& d, int slots, const MemKey* key,
              const Clock* clock)
      : MemState(d, key, clock), tables_(slots) {}

  Result<bool> Get(std::string_view ns, std::string_view user_key,
                   std::string* value) override {
    MemEntry* e = Find(ns, user_key);
    if (e == nullptr) return false;
    value->assign(e->bytes);
    return true;
  }

  Status Put(std::string_view ns, std::string_view user_key,
             std::string_view value) override {
    UserMap& map = tables_[slot()][Composite(ns)];
    auto it = map.find(user_key);
    if (it == map.end())
      it = map.emplace(std::string(user_key), MemEntry{}).first;
    it->second.bytes.assign(value);
    it->second.ts = Now();
    return Status::OK();
  }

  Status Remove(std::string_view ns, std::string_view user_key) override {
    auto& table = tables_[slot()];
    auto it = table.find(Composite(ns));
    if (it == table.end()) return Status::OK();
    auto entry = it->second.find(user_key);
    if (entry != it->second.end()) it->second.erase(entry);
    if (it->second.empty()) table.erase(it);
    return Status::OK();
  }

  Result<bool> Contains(std::string_view ns,
                        std::string_view user_key) override {
    return Find(ns, user_key) != nullptr;
  }

  Result<bool> IsEmpty(std::string_view ns) override {
    return LiveMap(ns, /*refresh=*/false) == nullptr;
  }

  // With kOnReadAndWrite every visited entry counts as read (Flink's
  // TtlMapState does the same).
  Status ForEach(std::string_view ns, const EntryVisitor& visitor) override {
    UserMap* map = LiveMap(ns, RefreshOnRead());
    if (map == nullptr) return Status::OK();
    for (const auto& [user_key, e] : *map) {
      Status s = visitor(user_key, e.bytes);
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

  Status Clear(std::string_view ns) override {
    tables_[slot()].erase(Composite(ns));
    return Status::OK();
  }

  Status ForEachEntry(int slot, const StateEntryVisitor& visitor) override {
    const int64_t now = Now();
    StateEntry entry;
    entry.kind = StateEntry::Kind::kMapEntry;
    entry.state = &descriptor_;
    for (const auto& [composite, map] : tables_[slot]) {
      SplitComposite(composite, &entry.key, &entry.ns);
      for (const auto& [user_key, e] : map) {
        if (!Live(e, now)) continue;
        entry.user_key = user_key;
        entry.value = e.bytes;
        entry.timestamp = e.ts;
        Status s = visitor(entry);
        if (!s.ok()) return s;
      }
    }
    return Status::OK();
  }

  Status ForEachKey(
      const std::function<Status(std::string_view, std::string_view)>& visitor)
      override {
    const int64_t now = Now();
    for (const auto& table : tables_) {
      for (const auto& [composite, map] : table) {
        bool live = false;
        for (const auto& [user_key, e] : map) live = live || Live(e, now);
        if (!live) continue;
        std::string_view key, ns;
        SplitComposite(composite, &key, &ns);
        Status s = visitor(key, ns);
        if (!s.ok()) return s;
      }
    }
    return Status::OK();
  }

  Status Import(int slot, const std::string& composite,
                const StateEntry& entry) override {
    tables_[slot][composite].insert_or_assign(
        std::string(entry.user_key),
        MemEntry{std::string(entry.value), entry.timestamp});
    return Status::OK();
  }

 private:
  // The live entry, dropping it if it has expired.
  MemEntry* Find(std::string_view ns, std::string_view user_key) {
    auto& table = tables_[slot()];
    auto it = table.find(Composite(ns));
    if (it == table.end()) return nullptr;
    auto entry = it->second.find(user_key);
    if (entry == it->second.end()) return nullptr;
    if (descriptor_.ttl.enabled()) {
      const int64_t now = Now();
      if (!Live(entry->second, now)) {
        it->second.erase(entry);
        if (it->second.empty()) table.erase(it);
        return nullptr;
      }
      if (RefreshOnRead()) entry->second.ts = now;
    }
    return &entry->second;
  }

  // The map of the current key and `ns` with expired entries dropped, or
  // null if nothing is left. `refresh` stamps the survivors as read now.
  UserMap* LiveMap(std::string_view ns, bool refresh) {
    auto& table = tables_[slot()];
    auto it = table.find(Composite(ns));
    if (it == table.end()) return nullptr;
    if (descriptor_.ttl.enabled()) {
      const int64_t now = Now();
      std::erase_if(it->second,
                    [&](const auto& kv) { return !Live(kv.second, now); });
      if (it->second.empty()) {
        table.erase(it);
        return nullptr;
      }
      if (refresh) {
        for (auto& kv : it->second) kv.second.ts = now;
      }
    }
    return &it->second;
  }

  Tables<UserMap> tables_;
};

}  // namespace

std::unique_ptr<MemState> NewMemState(const RawStateDescriptor& d,
                                      int num_slots, const MemKey* key,
                                      const Clock* clock) {
  switch (FamilyOf(d.type)) {
    case StateFamily::kList:
      return std::make_unique<MemListState>(d, num_slots, key, clock);
    case StateFamily::kMap:
      return std::make_unique<MemMapState>(d, num_slots, key, clock);
    case StateFamily::kValue:
      break;
  }
  return NewMemValueState(d, num_slots, key, clock);
}

}  // namespace weir::internal
