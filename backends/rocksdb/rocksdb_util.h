// SPDX-License-Identifier: Apache-2.0
//
// Small pieces shared by the RocksDB backend's files: the one translation
// of rocksdb::Status, key prefixes and their upper bounds, and the value
// encodings (TTL timestamp, list elements).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/slice.h>
#include <rocksdb/status.h>

#include <weir/status.h>

namespace weir::internal {

// Translates a RocksDB status; `context` says what was being done.
Status FromRocks(const rocksdb::Status& s, std::string_view context);

inline rocksdb::Slice ToSlice(std::string_view v) {
  return rocksdb::Slice(v.data(), v.size());
}
inline std::string_view ToView(const rocksdb::Slice& s) {
  return std::string_view(s.data(), s.size());
}

// The smallest key greater than every key starting with `prefix`.
// REQUIRES: prefix holds a byte other than 0xff (key groups < 0x8000 do).
std::string PrefixUpperBound(std::string_view prefix);

// With TTL, a stored value (or list element) is [write ms: fixed64][bytes].
constexpr size_t kTtlHeaderSize = 8;
void AppendTtlHeader(int64_t write_ms, std::string* out);
// False if the stored value is too short to hold a header.
bool SplitTtlHeader(std::string_view stored, int64_t* write_ms,
                    std::string_view* bytes);

// A list value is a sequence of [varint len][element]; RocksDB's merge
// operator appends by concatenation.
bool DecodeListElements(std::string_view stored,
                        std::vector<std::string_view>* elements);

}  // namespace weir::internal
