// SPDX-License-Identifier: Apache-2.0
#include "weir/serializer.h"

#include <string>

namespace weir::internal {

Status SerializerSizeMismatch(std::string_view type, size_t expected,
                              size_t got) {
  return Status::Corruption("serialized " + std::string(type) + " has " +
                            std::to_string(got) + " bytes, expected " +
                            std::to_string(expected));
}

}  // namespace weir::internal
