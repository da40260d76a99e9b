// SPDX-License-Identifier: Apache-2.0
//
// The per-operator bookkeeping both backends keep: one record per operator
// that has state, found by operator id, holding the operator's keyed states
// (by name and by state id) and its operator list states, with the rules
// for registering a state or opening it again (state_registry.h). Each
// backend's record derives from OperatorRecord and adds what is its own
// (the memory backend: its timers; RocksDB: a column family, a TTL table,
// timer heads); the backend says how a state is made and persisted.
//
// Lookups are those of the std::map underneath: no virtual call, lock or
// allocation. The typed state API holds the states themselves, so a state
// access does not go through the table at all.
//
// Thread safety: none; a backend belongs to one task thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <weir/operator_id.h>
#include <weir/raw_state.h>
#include <weir/result.h>

#include "backends/backend.h"
#include "backends/common/state_registry.h"

namespace weir::internal {

// What a backend keeps for one operator, whatever the backend. `S` is the
// backend's keyed state (with descriptor() and set_descriptor()), `L` its
// operator list state (a RawOperatorListState with mode()).
template <class S, class L>
struct OperatorRecord {
  using State = S;
  using List = L;

  // Takes `state` in, under its name and its StateIdForName; returns it.
  State* AddState(std::unique_ptr<State> state) {
    State* raw = state.get();
    const std::string& name = raw->descriptor().name;
    by_id[StateIdForName(name)] = raw;
    states.emplace(name, std::move(state));
    return raw;
  }

  // Registers keyed state `d` of operator `op` (this record) or opens it
  // again. A registered state is checked against `d` (CheckCompatible);
  // when its descriptor must change, `persist(merged)` stores the new one
  // before the state takes it. A new state must have its id free
  // (CheckStateIdFree); then `persist(d)` stores its descriptor and
  // `make(d)` makes it (a std::unique_ptr<State>). `persist` returns a
  // Status. REQUIRES: `d` passed ValidateDescriptor.
  template <class Persist, class Make>
  Result<State*> OpenState(const OperatorId& op, const RawStateDescriptor& d,
                           Persist&& persist, Make&& make) {
    auto it = states.find(d.name);
    if (it != states.end()) {
      RawStateDescriptor merged;
      bool changed = false;
      Status s =
          CheckCompatible(op, it->second->descriptor(), d, &merged, &changed);
      if (!s.ok()) return s;
      if (changed) {
        s = persist(merged);
        if (!s.ok()) return s;
        it->second->set_descriptor(merged);
      }
      return it->second.get();
    }
    auto clash = by_id.find(StateIdForName(d.name));
    Status s = CheckStateIdFree(
        op, d.name,
        clash != by_id.end() ? &clash->second->descriptor().name : nullptr);
    if (!s.ok()) return s;
    s = persist(d);
    if (!s.ok()) return s;
    return AddState(make(d));
  }

  std::map<std::string, std::unique_ptr<State>, std::less<>> states;
  // The same states by state id: which state a stored entry belongs to,
  // and which name already holds an id.
  std::unordered_map<uint32_t, State*> by_id;
  std::map<std::string, std::unique_ptr<List>, std::less<>> lists;
};

// The records of a backend's operators, in operator id order. `Op` derives
// from OperatorRecord.
template <class Op>
class OperatorTable {
 public:
  using State = typename Op::State;
  using List = typename Op::List;

  // The record of `op`, or null: finding creates nothing, so that a query
  // does not make an operator appear in Ids().
  Op* Find(const OperatorId& op) {
    auto it = ops_.find(op);
    return it == ops_.end() ? nullptr : &it->second;
  }
  const Op* Find(const OperatorId& op) const {
    auto it = ops_.find(op);
    return it == ops_.end() ? nullptr : &it->second;
  }

  // The record of `op`, created empty if it has none.
  Op& operator[](const OperatorId& op) { return ops_[op]; }

  void Erase(const OperatorId& op) { ops_.erase(op); }
  void Clear() { ops_.clear(); }
  bool empty() const { return ops_.empty(); }

  // (operator id, record) pairs in id order.
  auto begin() { return ops_.begin(); }
  auto end() { return ops_.end(); }
  auto begin() const { return ops_.begin(); }
  auto end() const { return ops_.end(); }

  // The operators that have a record (KeyedStateBackend::Operators).
  std::vector<OperatorId> Ids() const {
    std::vector<OperatorId> out;
    out.reserve(ops_.size());
    for (const auto& [op, _] : ops_) out.push_back(op);
    return out;
  }

  // The descriptors of the keyed states of `op` (KeyedStateBackend::States).
  std::vector<RawStateDescriptor> Descriptors(const OperatorId& op) const {
    std::vector<RawStateDescriptor> out;
    const Op* rec = Find(op);
    if (rec == nullptr) return out;
    for (const auto& [_, state] : rec->states) {
      out.push_back(state->descriptor());
    }
    return out;
  }

  // Keyed state `name` of `op`; NotFound if it is not registered.
  Result<State*> FindState(const OperatorId& op, std::string_view name) const {
    if (const Op* rec = Find(op); rec != nullptr) {
      auto it = rec->states.find(name);
      if (it != rec->states.end()) return it->second.get();
    }
    return Status::NotFound(DescribeState(op, name) + " is not registered");
  }

  // Operator list state `name` of `op`: the one made before, if it was
  // made in `mode` (InvalidArgument otherwise), or a new one from `make()`
  // (a Result<std::unique_ptr<List>>).
  template <class Make>
  Result<RawOperatorListState*> OpenList(const OperatorId& op,
                                         std::string_view name,
                                         OperatorStateMode mode, Make&& make) {
    auto& lists = ops_[op].lists;
    auto it = lists.find(name);
    if (it != lists.end()) {
      if (it->second->mode() != mode) {
        return OperatorListModeMismatch(op, name, it->second->mode(), mode);
      }
      return static_cast<RawOperatorListState*>(it->second.get());
    }
    Result<std::unique_ptr<List>> list = make();
    if (!list.ok()) return list.status();
    RawOperatorListState* raw = list->get();
    lists.emplace(std::string(name), std::move(*list));
    return raw;
  }

  // The operator list states of `op` and their values
  // (KeyedStateBackend::OperatorStates).
  Result<std::vector<KeyedStateBackend::OperatorStateEntry>> ListStates(
      const OperatorId& op) const {
    std::vector<KeyedStateBackend::OperatorStateEntry> out;
    const Op* rec = Find(op);
    if (rec == nullptr) return out;
    for (const auto& [name, list] : rec->lists) {
      KeyedStateBackend::OperatorStateEntry entry{name, list->mode(), {}};
      Status s = list->Get(&entry.values);
      if (!s.ok()) return s;
      out.push_back(std::move(entry));
    }
    return out;
  }

 private:
  std::map<OperatorId, Op> ops_;
};

}  // namespace weir::internal
