// SPDX-License-Identifier: Apache-2.0
//
// LineReader: the file reading of FileSource (weir/sources.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "weir/result.h"
#include "weir/status.h"

namespace weir::internal {

// Reads a file line by line, in chunks of kChunkBytes (one read() per chunk,
// not per line). The file may grow between calls: at its current end,
// Next() reports no line and a later call reads what was appended.
class LineReader {
 public:
  static constexpr size_t kChunkBytes = size_t{64} << 10;

  LineReader() = default;
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Opens `path` and seeks to byte `position` (the start of a line).
  // NotFound if the file does not exist, InvalidArgument if `position` is
  // past its end, IOError otherwise; every message names the path.
  Status Open(const std::string& path, int64_t position);
  void Close();

  // Sets *line to the next line without its '\n' (and without a '\r' right
  // before it) and returns true; *line is valid until the next call. At the
  // end of the file returns false. A last line that has no '\n' yet is held
  // back (it may still be growing) unless `take_unterminated`.
  Result<bool> Next(bool take_unterminated, std::string_view* line);

  // Byte offset of the first byte of the next line Next() returns.
  int64_t position() const { return position_; }

 private:
  // Appends up to kChunkBytes to the buffer; false at the end of the file.
  Result<bool> Fill();

  int fd_ = -1;
  std::string path_;
  std::string buf_;
  size_t begin_ = 0;  // first unread byte in buf_
  size_t scan_ = 0;   // bytes before this in buf_ hold no '\n'
  int64_t position_ = 0;
};

}  // namespace weir::internal
