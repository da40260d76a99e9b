// SPDX-License-Identifier: Apache-2.0
#include <cerrno>
#include <cstring>
#include <string>

#include "weir/sinks.h"

namespace weir::internal {

Status WriteLine(std::FILE* out, std::string_view line) {
  if (std::fwrite(line.data(), 1, line.size(), out) != line.size()) {
    return Status::IOError(std::string("PrintSink: write failed: ") +
                           std::strerror(errno));
  }
  return Status::OK();
}

Status FlushStream(std::FILE* out) {
  if (std::fflush(out) != 0) {
    return Status::IOError(std::string("PrintSink: flush failed: ") +
                           std::strerror(errno));
  }
  return Status::OK();
}

}  // namespace weir::internal
