// SPDX-License-Identifier: Apache-2.0
#include "backends/rocksdb/rocksdb_util.h"

#include <cassert>

#include "lib/coding.h"

namespace weir::internal {

Status FromRocks(const rocksdb::Status& s, std::string_view context) {
  if (s.ok()) return Status::OK();
  std::string msg(context);
  msg += ": ";
  msg += s.ToString();
  if (s.IsNotFound()) return Status::NotFound(msg);
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsInvalidArgument()) return Status::InvalidArgument(msg);
  if (s.IsNotSupported()) return Status::NotSupported(msg);
  return Status::IOError(msg);
}

std::string PrefixUpperBound(std::string_view prefix) {
  std::string bound(prefix);
  while (!bound.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(bound.back());
    if (last != 0xff) {
      ++last;
      return bound;
    }
    bound.pop_back();
  }
  assert(false && "prefix of 0xff bytes has no upper bound");
  return bound;
}

void AppendTtlHeader(int64_t write_ms, std::string* out) {
  PutFixed64(out, static_cast<uint64_t>(write_ms));
}

bool SplitTtlHeader(std::string_view stored, int64_t* write_ms,
                    std::string_view* bytes) {
  uint64_t ts;
  if (!GetFixed64(&stored, &ts)) return false;
  *write_ms = static_cast<int64_t>(ts);
  *bytes = stored;
  return true;
}

bool DecodeListElements(std::string_view stored,
                        std::vector<std::string_view>* elements) {
  elements->clear();
  while (!stored.empty()) {
    std::string_view element;
    if (!GetLengthPrefixed(&stored, &element)) return false;
    elements->push_back(element);
  }
  return true;
}

}  // namespace weir::internal
