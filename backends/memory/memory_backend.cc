// SPDX-License-Identifier: Apache-2.0
#include "backends/memory/memory_backend.h"

#include <atomic>
#include <cassert>
#include <set>

#include "backends/common/backend_options.h"
#include "backends/common/key_group_streams.h"
#include "backends/common/operator_table.h"
#include "backends/common/state_registry.h"
#include "backends/memory/memory_key.h"
#include "backends/memory/memory_states.h"
#include "backends/timer_heads.h"
#include "lib/coding.h"

namespace weir {

namespace {

using internal::MemKey;
using internal::MemState;
using internal::StateFamily;

class MemOperatorList final : public RawOperatorListState {
 public:
  explicit MemOperatorList(OperatorStateMode mode) : mode_(mode) {}

  Status Get(std::vector<std::string>* values) override {
    *values = values_;
    return Status::OK();
  }
  Status Add(std::string_view value) override {
    values_.emplace_back(value);
    return Status::OK();
  }
  Status Update(std::span<const std::string> values) override {
    values_.assign(values.begin(), values.end());
    return Status::OK();
  }
  Status Clear() override {
    values_.clear();
    return Status::OK();
  }
  OperatorStateMode mode() const { return mode_; }

 private:
  OperatorStateMode mode_;
  std::vector<std::string> values_;
};

// Timers of one operator and time domain: per key-group slot, a set ordered
// by (time, [len][key][len][ns]), the order the RocksDB backend's keys have.
struct MemTimers {
  explicit MemTimers(int slots) : by_slot(slots), heads(slots) {}

  void UpdateHead(int slot) {
    const auto& set = by_slot[slot];
    heads.Set(slot, set.empty() ? std::nullopt
                                : std::optional<int64_t>(set.begin()->first));
  }

  std::vector<std::set<std::pair<int64_t, std::string>>> by_slot;
  internal::TimerHeads heads;
};

// An operator's states, and its timers per time domain (null until used).
struct MemOperator : internal::OperatorRecord<MemState, MemOperatorList> {
  std::unique_ptr<MemTimers> timers[2];
};

std::string TimerTail(std::string_view key, std::string_view ns) {
  std::string tail;
  PutLengthPrefixed(&tail, key);
  PutLengthPrefixed(&tail, ns);
  return tail;
}

class MemoryBackend final : public KeyedStateBackend {
 public:
  explicit MemoryBackend(StateBackendOptions options)
      : options_(std::move(options)),
        key_(options_.max_parallelism, options_.key_group_range) {}

  int max_parallelism() const override { return options_.max_parallelism; }
  KeyGroupRange key_group_range() const override {
    return options_.key_group_range;
  }
  Status SetCurrentKey(std::string_view key) override { return key_.Set(key); }
  void PrefetchKey(std::string_view key) override { key_.Prefetch(key); }
  bool prefetches_keys() const override { return true; }
  std::string_view current_key() const override { return key_.key(); }
  int current_key_group() const override { return key_.key_group(); }

  Result<RawValueState*> GetValueState(const OperatorId& op,
                                       const RawStateDescriptor& d) override {
    return internal::AsRawState<RawValueState>(
        GetOrCreate(op, d, StateFamily::kValue));
  }
  Result<RawListState*> GetListState(const OperatorId& op,
                                     const RawStateDescriptor& d) override {
    return internal::AsRawState<RawListState>(
        GetOrCreate(op, d, StateFamily::kList));
  }
  Result<RawMapState*> GetMapState(const OperatorId& op,
                                   const RawStateDescriptor& d) override {
    return internal::AsRawState<RawMapState>(
        GetOrCreate(op, d, StateFamily::kMap));
  }

  Result<RawOperatorListState*> GetOperatorListState(
      const OperatorId& op, std::string_view name,
      OperatorStateMode mode) override {
    return ops_.OpenList(op, name, mode,
                         [&]() -> Result<std::unique_ptr<MemOperatorList>> {
                           return std::make_unique<MemOperatorList>(mode);
                         });
  }

  Status RegisterTimer(const OperatorId& op, TimeDomain domain,
                       int64_t timestamp, std::string_view ns) override {
    if (!key_.is_set()) return internal::NoCurrentKey();
    MemTimers& t = Timers(op, domain);
    const int slot = key_.slot();
    t.by_slot[slot].emplace(timestamp, TimerTail(key_.key(), ns));
    t.UpdateHead(slot);
    return Status::OK();
  }

  Status DeleteTimer(const OperatorId& op, TimeDomain domain, int64_t timestamp,
                     std::string_view ns) override {
    if (!key_.is_set()) return internal::NoCurrentKey();
    MemTimers* t = FindTimers(op, domain);
    if (t == nullptr) return Status::OK();
    const int slot = key_.slot();
    t->by_slot[slot].erase({timestamp, TimerTail(key_.key(), ns)});
    t->UpdateHead(slot);
    return Status::OK();
  }

  Result<std::optional<int64_t>> NextTimerTimestamp(
      const OperatorId& op, TimeDomain domain) override {
    const MemTimers* t = FindTimers(op, domain);
    if (t == nullptr) return std::optional<int64_t>();
    auto min = t->heads.Min();
    if (!min) return std::optional<int64_t>();
    return std::optional<int64_t>(min->first);
  }

  Result<std::optional<Timer>> PopTimer(const OperatorId& op, TimeDomain domain,
                                        int64_t max_timestamp) override {
    MemTimers* t = FindTimers(op, domain);
    if (t == nullptr) return std::optional<Timer>();
    auto min = t->heads.Min();
    if (!min || min->first > max_timestamp) return std::optional<Timer>();
    auto& set = t->by_slot[min->second];
    auto first = set.begin();
    Timer timer;
    timer.timestamp = first->first;
    std::string_view tail = first->second, key, ns;
    GetLengthPrefixed(&tail, &key);
    GetLengthPrefixed(&tail, &ns);
    timer.key.assign(key);
    timer.ns.assign(ns);
    set.erase(first);
    t->UpdateHead(min->second);
    return std::optional<Timer>(std::move(timer));
  }

  std::vector<OperatorId> Operators() const override { return ops_.Ids(); }

  std::vector<RawStateDescriptor> States(const OperatorId& op) const override {
    return ops_.Descriptors(op);
  }

  Status ForEachEntry(const OperatorId& op, int key_group,
                      const StateEntryVisitor& visitor) override {
    if (!options_.key_group_range.Contains(key_group)) {
      return key_.OutOfRange(key_group);
    }
    const MemOperator* mem_op = ops_.Find(op);
    if (mem_op == nullptr) return Status::OK();
    const int slot = key_group - options_.key_group_range.start;
    for (const auto& [_, state] : mem_op->states) {
      Status s = state->ForEachEntry(slot, visitor);
      if (!s.ok()) return s;
    }
    for (int domain = 0; domain < 2; ++domain) {
      const MemTimers* t = mem_op->timers[domain].get();
      if (t == nullptr) continue;
      StateEntry entry;
      entry.kind = StateEntry::Kind::kTimer;
      entry.timer_domain = static_cast<TimeDomain>(domain);
      for (const auto& [ts, tail_bytes] : t->by_slot[slot]) {
        std::string_view tail = tail_bytes;
        GetLengthPrefixed(&tail, &entry.key);
        GetLengthPrefixed(&tail, &entry.ns);
        entry.timestamp = ts;
        Status s = visitor(entry);
        if (!s.ok()) return s;
      }
    }
    return Status::OK();
  }

  Status ForEachKey(
      const OperatorId& op, std::string_view state_name,
      const std::function<Status(std::string_view, std::string_view)>& visitor)
      override {
    Result<MemState*> state = ops_.FindState(op, state_name);
    if (!state.ok()) return state.status();
    return (*state)->ForEachKey(visitor);
  }

  Status ImportEntry(const OperatorId& op, const StateEntry& entry) override {
    const int kg = KeyGroupForKey(entry.key, options_.max_parallelism);
    if (!options_.key_group_range.Contains(kg)) return key_.OutOfRange(kg);
    const int slot = kg - options_.key_group_range.start;
    if (entry.kind == StateEntry::Kind::kTimer) {
      MemTimers& t = Timers(op, entry.timer_domain);
      t.by_slot[slot].emplace(entry.timestamp, TimerTail(entry.key, entry.ns));
      t.UpdateHead(slot);
      return Status::OK();
    }
    if (entry.state == nullptr) {
      return Status::InvalidArgument("imported entry names no state");
    }
    Result<MemState*> state =
        GetOrCreate(op, *entry.state, internal::FamilyOf(entry.state->type));
    if (!state.ok()) return state.status();
    std::string composite;
    PutLengthPrefixed(&composite, entry.key);
    composite.append(entry.ns);
    return (*state)->Import(slot, composite, entry);
  }

  Result<std::vector<OperatorStateEntry>> OperatorStates(
      const OperatorId& op) override {
    return ops_.ListStates(op);
  }

  Status Flush() override { return Status::OK(); }

  // A full copy into encoded buffers per operator and key group
  // (backends/common/key_group_streams.h): the pause is linear in the state
  // size.
  Result<std::unique_ptr<PendingSnapshot>> Snapshot(
      int64_t checkpoint_id, const std::string& local_dir) override {
    return internal::TakeKeyGroupStreamSnapshot(*this, checkpoint_id, local_dir,
                                                pending_);
  }
  int PendingSnapshots() const override { return pending_->load(); }

 private:
  Result<MemState*> GetOrCreate(const OperatorId& op,
                                const RawStateDescriptor& d,
                                StateFamily family) {
    Status s = internal::ValidateDescriptor(op, d, family);
    if (!s.ok()) return s;
    // Nothing to persist: the states are the snapshot's only record.
    return ops_[op].OpenState(
        op, d, [](const RawStateDescriptor&) { return Status::OK(); },
        [&](const RawStateDescriptor& desc) {
          return internal::NewMemState(desc, options_.key_group_range.size(),
                                       &key_, options_.clock.get());
        });
  }

  MemTimers& Timers(const OperatorId& op, TimeDomain domain) {
    auto& slot = ops_[op].timers[static_cast<int>(domain)];
    if (!slot) {
      slot = std::make_unique<MemTimers>(options_.key_group_range.size());
    }
    return *slot;
  }

  // The timers of `op` in `domain`, or null if it has none. Unlike
  // Timers(), creates nothing: queries must not make an operator appear in
  // Operators().
  MemTimers* FindTimers(const OperatorId& op, TimeDomain domain) {
    MemOperator* mem_op = ops_.Find(op);
    if (mem_op == nullptr) return nullptr;
    return mem_op->timers[static_cast<int>(domain)].get();
  }

  StateBackendOptions options_;
  MemKey key_;
  internal::OperatorTable<MemOperator> ops_;
  std::shared_ptr<std::atomic<int>> pending_ =
      std::make_shared<std::atomic<int>>(0);
};

}  // namespace

Result<std::unique_ptr<KeyedStateBackend>> NewMemoryBackend(
    const StateBackendOptions& options) {
  Result<StateBackendOptions> resolved =
      internal::ResolveBackendOptions(options);
  if (!resolved.ok()) return resolved.status();
  return std::unique_ptr<KeyedStateBackend>(
      std::make_unique<MemoryBackend>(std::move(*resolved)));
}

}  // namespace weir
