// SPDX-License-Identifier: Apache-2.0
//
// zstd compression of whole buffers. The compressed frame records its
// content size, so decompression needs no side channel; a frame without it,
// or one larger than `max_output_bytes`, is refused as corrupt rather than
// allocating without bound.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <weir/result.h>

namespace weir {

// Default zstd level for snapshot streams: fast, and still about 3x on
// typical state.
constexpr int kDefaultZstdLevel = 3;

Result<std::string> ZstdCompress(std::string_view input,
                                 int level = kDefaultZstdLevel);

// Fails with Corruption on a malformed frame or when the frame's content
// size exceeds `max_output_bytes` (default 1 GiB).
Result<std::string> ZstdDecompress(std::string_view input,
                                   size_t max_output_bytes = size_t{1} << 30);

}  // namespace weir
