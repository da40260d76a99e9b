// SPDX-License-Identifier: Apache-2.0
#include "weir/state.h"

#include <string>

namespace weir {

std::string_view StateTypeName(StateType type) {
  switch (type) {
    case StateType::kValue:
      return "value";
    case StateType::kList:
      return "list";
    case StateType::kMap:
      return "map";
    case StateType::kReducing:
      return "reducing";
    case StateType::kAggregating:
      return "aggregating";
  }
  return "unknown";
}

namespace internal {

Status BadVersionHeader(std::string_view state_name) {
  return Status::Corruption("value of state '" + std::string(state_name) +
                            "' has no valid serializer version header");
}

Status UnknownVersion(std::string_view state_name, uint32_t version,
                      uint32_t known) {
  return Status::NotSupported(
      "value of state '" + std::string(state_name) +
      "' was written with serializer version " + std::to_string(version) +
      ", but this reader knows versions 1 to " + std::to_string(known));
}

}  // namespace internal
}  // namespace weir
