// SPDX-License-Identifier: Apache-2.0
#include "lib/compression.h"

#include <zstd.h>

namespace weir {

Result<std::string> ZstdCompress(std::string_view input, int level) {
  std::string out;
  out.resize(ZSTD_compressBound(input.size()));
  const size_t n =
      ZSTD_compress(out.data(), out.size(), input.data(), input.size(), level);
  if (ZSTD_isError(n)) {
    return Status::InvalidArgument(std::string("zstd compression failed: ") +
                                   ZSTD_getErrorName(n));
  }
  out.resize(n);
  return out;
}

Result<std::string> ZstdDecompress(std::string_view input,
                                   size_t max_output_bytes) {
  const unsigned long long size =
      ZSTD_getFrameContentSize(input.data(), input.size());
  if (size == ZSTD_CONTENTSIZE_ERROR) {
    return Status::Corruption("not a zstd frame");
  }
  if (size == ZSTD_CONTENTSIZE_UNKNOWN) {
    return Status::Corruption("zstd frame without a content size");
  }
  if (size > max_output_bytes) {
    return Status::Corruption("zstd frame claims " + std::to_string(size) +
                              " bytes, more than the limit of " +
                              std::to_string(max_output_bytes));
  }
  std::string out;
  out.resize(size);
  const size_t n =
      ZSTD_decompress(out.data(), out.size(), input.data(), input.size());
  if (ZSTD_isError(n)) {
    return Status::Corruption(std::string("zstd decompression failed: ") +
                              ZSTD_getErrorName(n));
  }
  if (n != size) return Status::Corruption("zstd frame is truncated");
  return out;
}

}  // namespace weir
