// SPDX-License-Identifier: Apache-2.0
//
// The byte-level keyed state interface. A KeyedStateStore holds the state of
// the operators of one task; every state belongs to one operator (by
// OperatorId) and has a name, a type and a descriptor. Typed handles
// (state.h) are thin templates over the Raw*State interfaces below; most
// users never see this header directly.
//
// Keyed access is scoped to the *current key*, set with SetCurrentKey(), and
// to a namespace (windows use them; the empty namespace is the default).
// Values are opaque bytes to the store, except that with TTL the store keeps
// a timestamp beside each value and never returns an expired one.
//
// Thread safety: a store and its handles belong to one task thread and are
// not synchronized. Handles stay valid until the store is destroyed.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <weir/key_group.h>
#include <weir/operator_id.h>
#include <weir/result.h>

namespace weir {

enum class StateType : uint8_t {
  kValue = 1,
  kList = 2,
  kMap = 3,
  kReducing = 4,
  kAggregating = 5,
};

std::string_view StateTypeName(StateType type);

// Time-to-live of state entries, in processing time. An entry whose last
// write (or, with kOnReadAndWrite, last access) is `ttl_ms` or more in the
// past is never returned; backends also drop it in the background.
struct StateTtlConfig {
  enum class UpdateType : uint8_t {
    kOnCreateAndWrite = 0,
    kOnReadAndWrite = 1,
  };
  // Default: 0, no TTL.
  int64_t ttl_ms = 0;
  // Default: kOnCreateAndWrite.
  UpdateType update_type = UpdateType::kOnCreateAndWrite;

  bool enabled() const { return ttl_ms > 0; }
};

// What the store knows of a state: it is persisted with the state and
// checked when the state is opened again.
struct RawStateDescriptor {
  std::string name;
  StateType type = StateType::kValue;
  // Version of the value serializer. A store refuses a descriptor whose
  // version is lower than one that already wrote the state.
  uint32_t value_serializer_version = 1;
  // Map states: version of the user-key serializer. Keys are looked up by
  // their bytes, so this version must not change.
  uint32_t user_key_serializer_version = 0;
  StateTtlConfig ttl;
};

// Value, reducing and aggregating state: one value per key and namespace.
class RawValueState {
 public:
  virtual ~RawValueState() = default;
  // Sets *value and returns true, or returns false if there is none.
  virtual Result<bool> Get(std::string_view ns, std::string* value) = 0;
  // Like Get, but sets *value to a view of the value instead of copying it:
  // into the store's own memory (memory backend) or into *scratch (the
  // default, which calls Get). The view is valid until the next call on
  // this store or any of its states, or a change of *scratch; copy it
  // before passing it to such a call.
  virtual Result<bool> GetView(std::string_view ns, std::string* scratch,
                               std::string_view* value) {
    Result<bool> found = Get(ns, scratch);
    if (found.ok() && *found) *value = *scratch;
    return found;
  }
  virtual Status Put(std::string_view ns, std::string_view value) = 0;
  virtual Status Clear(std::string_view ns) = 0;
};

// List state: an ordered list per key and namespace.
class RawListState {
 public:
  virtual ~RawListState() = default;
  // Replaces *values with the list (empty if there is none), oldest first.
  virtual Status Get(std::string_view ns, std::vector<std::string>* values) = 0;
  virtual Status Add(std::string_view ns, std::string_view value) = 0;
  // Replaces the list. An empty span clears it.
  virtual Status Update(std::string_view ns,
                        std::span<const std::string> values) = 0;
  virtual Status Clear(std::string_view ns) = 0;
};

// Map state: a map from user key to value per key and namespace.
class RawMapState {
 public:
  using EntryVisitor =
      std::function<Status(std::string_view user_key, std::string_view value)>;

  virtual ~RawMapState() = default;
  virtual Result<bool> Get(std::string_view ns, std::string_view user_key,
                           std::string* value) = 0;
  virtual Status Put(std::string_view ns, std::string_view user_key,
                     std::string_view value) = 0;
  virtual Status Remove(std::string_view ns, std::string_view user_key) = 0;
  virtual Result<bool> Contains(std::string_view ns,
                                std::string_view user_key) = 0;
  virtual Result<bool> IsEmpty(std::string_view ns) = 0;
  // Visits the entries in byte order of the user keys. A visitor that
  // returns a non-OK status stops the walk, and that status is returned.
  // REQUIRES: the visitor does not modify this state.
  virtual Status ForEach(std::string_view ns, const EntryVisitor& visitor) = 0;
  virtual Status Clear(std::string_view ns) = 0;
};

// Operator (non-keyed) list state of one subtask, e.g. a source's offsets.
// On rescale, kSplit lists are divided among the new subtasks and kUnion
// lists are given whole to each of them.
enum class OperatorStateMode : uint8_t { kSplit = 1, kUnion = 2 };

class RawOperatorListState {
 public:
  virtual ~RawOperatorListState() = default;
  virtual Status Get(std::vector<std::string>* values) = 0;
  virtual Status Add(std::string_view value) = 0;
  virtual Status Update(std::span<const std::string> values) = 0;
  virtual Status Clear() = 0;
};

// The two kinds of time a timer can be set in. Timers are keyed state of
// the engine's (backends/backend.h), listed here for the operator API.
enum class TimeDomain : uint8_t { kEventTime = 0, kProcessingTime = 1 };

// The part of a state backend that operators use.
class KeyedStateStore {
 public:
  virtual ~KeyedStateStore() = default;

  virtual int max_parallelism() const = 0;
  virtual KeyGroupRange key_group_range() const = 0;

  // Sets the key that keyed state handles read and write. InvalidArgument if
  // the key's group is outside this store's key-group range.
  virtual Status SetCurrentKey(std::string_view serialized_key) = 0;
  virtual std::string_view current_key() const = 0;
  virtual int current_key_group() const = 0;

  // A hint that `serialized_key` will soon be the current key, so that the
  // store may start reading its state while the caller works on the
  // current one (the memory backend prefetches the key's entry of the
  // value state read last; the RocksDB backend does nothing). It changes
  // neither the current key nor any state, and a key outside the store's
  // key groups is ignored. Worth calling only if prefetches_keys().
  virtual void PrefetchKey(std::string_view serialized_key) {
    (void)serialized_key;
  }
  virtual bool prefetches_keys() const { return false; }

  // Opens the state named by `descriptor` for `op`, creating it on first
  // use. Opening it again returns the same handle. Fails with
  // InvalidArgument if the state exists with another type or TTL setting,
  // and NotSupported if it was written with a newer serializer version.
  // `descriptor.type` must be kValue, kReducing or kAggregating for
  // GetValueState, kList for GetListState, kMap for GetMapState.
  virtual Result<RawValueState*> GetValueState(
      const OperatorId& op, const RawStateDescriptor& descriptor) = 0;
  virtual Result<RawListState*> GetListState(
      const OperatorId& op, const RawStateDescriptor& descriptor) = 0;
  virtual Result<RawMapState*> GetMapState(
      const OperatorId& op, const RawStateDescriptor& descriptor) = 0;

  virtual Result<RawOperatorListState*> GetOperatorListState(
      const OperatorId& op, std::string_view name, OperatorStateMode mode) = 0;
};

}  // namespace weir
