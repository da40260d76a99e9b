// SPDX-License-Identifier: Apache-2.0
#include "backends/common/state_registry.h"

#include "lib/coding.h"
#include "lib/hash.h"

namespace weir::internal {

namespace {
constexpr uint8_t kDescriptorFormat = 1;
}  // namespace

uint32_t StateIdForName(std::string_view name) {
  return static_cast<uint32_t>(Hash64(name) >> 32);
}

uint32_t TimerStateId(int domain) {
  return StateIdForName(domain == 0 ? std::string_view("\0timers/event", 13)
                                    : std::string_view("\0timers/proc", 12));
}

StateFamily FamilyOf(StateType type) {
  switch (type) {
    case StateType::kList:
      return StateFamily::kList;
    case StateType::kMap:
      return StateFamily::kMap;
    case StateType::kValue:
    case StateType::kReducing:
    case StateType::kAggregating:
      break;
  }
  return StateFamily::kValue;
}

Status CheckStateIdFree(const OperatorId& op, std::string_view name,
                        const std::string* clashing_name) {
  const uint32_t id = StateIdForName(name);
  if (clashing_name == nullptr && id != TimerStateId(0) &&
      id != TimerStateId(1)) {
    return Status::OK();
  }
  return Status::InvalidArgument(
      "state names '" + (clashing_name ? *clashing_name : "(timers)") +
      "' and '" + std::string(name) + "' of operator " + op.ToHex() +
      " map to the same 32-bit state id; rename one of them");
}

std::string DescribeState(const OperatorId& op, std::string_view name) {
  return "state '" + std::string(name) + "' of operator " + op.ToHex();
}

Status ValidateDescriptor(const OperatorId& op, const RawStateDescriptor& d,
                          StateFamily family) {
  if (d.name.empty()) {
    return Status::InvalidArgument("a state of operator " + op.ToHex() +
                                   " has an empty name");
  }
  if (d.name.front() == '\0') {
    return Status::InvalidArgument("state names may not start with a NUL byte");
  }
  if (FamilyOf(d.type) != family) {
    return Status::InvalidArgument(DescribeState(op, d.name) + " is a " +
                                   std::string(StateTypeName(d.type)) +
                                   " state and cannot be opened this way");
  }
  if (d.value_serializer_version == 0 ||
      (d.type == StateType::kMap && d.user_key_serializer_version == 0)) {
    return Status::InvalidArgument(DescribeState(op, d.name) +
                                   ": serializer versions start at 1");
  }
  if (d.ttl.ttl_ms < 0) {
    return Status::InvalidArgument(DescribeState(op, d.name) +
                                   ": TTL must not be negative");
  }
  return Status::OK();
}

Status CheckCompatible(const OperatorId& op, const RawStateDescriptor& stored,
                       const RawStateDescriptor& requested,
                       RawStateDescriptor* merged, bool* stored_changed) {
  const std::string what = DescribeState(op, requested.name);
  *stored_changed = false;
  if (stored.type != requested.type) {
    return Status::InvalidArgument(
        what + " was created as a " + std::string(StateTypeName(stored.type)) +
        " state and cannot be opened as a " +
        std::string(StateTypeName(requested.type)) + " state");
  }
  if (stored.ttl.enabled() != requested.ttl.enabled()) {
    return Status::InvalidArgument(
        what + " was created with TTL " +
        (stored.ttl.enabled() ? "on" : "off") + "; TTL cannot be turned " +
        (requested.ttl.enabled() ? "on" : "off") + " for existing state");
  }
  if (requested.value_serializer_version < stored.value_serializer_version) {
    return Status::NotSupported(
        what + " was written with serializer version " +
        std::to_string(stored.value_serializer_version) +
        ", newer than this reader's version " +
        std::to_string(requested.value_serializer_version));
  }
  if (stored.user_key_serializer_version !=
      requested.user_key_serializer_version) {
    return Status::NotSupported(
        what + " has map keys written with key serializer version " +
        std::to_string(stored.user_key_serializer_version) +
        "; map keys cannot be migrated to version " +
        std::to_string(requested.user_key_serializer_version));
  }
  *merged = requested;
  *stored_changed =
      requested.value_serializer_version != stored.value_serializer_version ||
      requested.ttl.ttl_ms != stored.ttl.ttl_ms ||
      requested.ttl.update_type != stored.ttl.update_type;
  return Status::OK();
}

void EncodeDescriptor(const RawStateDescriptor& d, std::string* out) {
  out->push_back(static_cast<char>(kDescriptorFormat));
  PutLengthPrefixed(out, d.name);
  out->push_back(static_cast<char>(d.type));
  PutVarint32(out, d.value_serializer_version);
  PutVarint32(out, d.user_key_serializer_version);
  PutVarint64(out, static_cast<uint64_t>(d.ttl.ttl_ms));
  out->push_back(static_cast<char>(d.ttl.update_type));
}

Status DecodeDescriptor(std::string_view in, RawStateDescriptor* d) {
  std::string_view name;
  uint64_t ttl_ms = 0;
  if (in.empty() || static_cast<uint8_t>(in[0]) != kDescriptorFormat) {
    return Status::Corruption("unknown state descriptor format");
  }
  in.remove_prefix(1);
  if (!GetLengthPrefixed(&in, &name) || in.empty()) {
    return Status::Corruption("truncated state descriptor");
  }
  d->name.assign(name);
  const auto type = static_cast<uint8_t>(in[0]);
  in.remove_prefix(1);
  if (type < 1 || type > 5) {
    return Status::Corruption("state descriptor of '" + d->name +
                              "' has unknown type " + std::to_string(type));
  }
  d->type = static_cast<StateType>(type);
  if (!GetVarint32(&in, &d->value_serializer_version) ||
      !GetVarint32(&in, &d->user_key_serializer_version) ||
      !GetVarint64(&in, &ttl_ms) || in.size() != 1 ||
      static_cast<uint8_t>(in[0]) > 1) {
    return Status::Corruption("malformed state descriptor of '" + d->name +
                              "'");
  }
  d->ttl.ttl_ms = static_cast<int64_t>(ttl_ms);
  d->ttl.update_type =
      static_cast<StateTtlConfig::UpdateType>(static_cast<uint8_t>(in[0]));
  return Status::OK();
}

Status NoCurrentKey() {
  return Status::InvalidArgument("no current key is set");
}

Status OperatorListModeMismatch(const OperatorId& op, std::string_view name,
                                OperatorStateMode stored,
                                OperatorStateMode requested) {
  auto mode = [](OperatorStateMode m) {
    return m == OperatorStateMode::kSplit ? "split" : "union";
  };
  return Status::InvalidArgument(
      "operator state '" + std::string(name) + "' of operator " + op.ToHex() +
      " was created as a " + mode(stored) + " list and cannot be opened as a " +
      mode(requested) + " list");
}

}  // namespace weir::internal
