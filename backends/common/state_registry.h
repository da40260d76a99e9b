// SPDX-License-Identifier: Apache-2.0
//
// What both backends share about registered states: the 32-bit state id
// derived from a state's name (so every subtask and every restore agrees on
// it without coordination), the checks made when a state is opened again,
// and the persisted form of a descriptor; and the errors and typed views
// both backends give out when operators ask for their state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <weir/raw_state.h>
#include <weir/result.h>

namespace weir::internal {

// First four bytes of XXH3-64 of the name.
uint32_t StateIdForName(std::string_view name);

// Reserved state ids for the timers of each time domain. Names starting with
// '\0' cannot collide with user state, which is checked on registration.
uint32_t TimerStateId(int domain);

// The accessor family a state type belongs to.
enum class StateFamily { kValue, kList, kMap };
StateFamily FamilyOf(StateType type);

// Checks a requested descriptor on its own: a name, the right family for the
// accessor used, serializer versions >= 1. InvalidArgument otherwise.
Status ValidateDescriptor(const OperatorId& op, const RawStateDescriptor& d,
                          StateFamily family);

// Checks `requested` against the persisted `stored` descriptor of the same
// name. Sets *stored_changed when the stored descriptor must be updated
// (newer serializer version, other TTL duration). Fails with InvalidArgument
// on a type or TTL on/off change, NotSupported on an older serializer.
Status CheckCompatible(const OperatorId& op, const RawStateDescriptor& stored,
                       const RawStateDescriptor& requested,
                       RawStateDescriptor* merged, bool* stored_changed);

// Checks that a new state `name` may take its id: `clashing_name` is the
// name of a state of the same operator that already has that id, or null.
// InvalidArgument naming both when taken, or when the id is a timer id.
Status CheckStateIdFree(const OperatorId& op, std::string_view name,
                        const std::string* clashing_name);

// "state 'x' of operator <hex> (value)": for error messages.
std::string DescribeState(const OperatorId& op, std::string_view name);

void EncodeDescriptor(const RawStateDescriptor& d, std::string* out);
Status DecodeDescriptor(std::string_view in, RawStateDescriptor* d);

// TTL: an entry written at `write_ms` has expired at `now_ms`.
inline bool IsExpired(const StateTtlConfig& ttl, int64_t write_ms,
                      int64_t now_ms) {
  return ttl.enabled() && now_ms - write_ms >= ttl.ttl_ms;
}

// InvalidArgument for a keyed call made before any SetCurrentKey.
Status NoCurrentKey();

// InvalidArgument: operator list state `name` of `op` was created as a
// `stored` list and is asked for as a `requested` one.
Status OperatorListModeMismatch(const OperatorId& op, std::string_view name,
                                OperatorStateMode stored,
                                OperatorStateMode requested);

// The accessor view (RawValueState, RawListState, RawMapState) of a state
// a backend found or created for that accessor's family: `state` was
// checked with ValidateDescriptor, so the cast cannot fail.
template <class Raw, class State>
Result<Raw*> AsRawState(Result<State*> state) {
  if (!state.ok()) return state.status();
  return dynamic_cast<Raw*>(*state);
}

}  // namespace weir::internal
