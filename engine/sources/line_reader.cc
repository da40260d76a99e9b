// SPDX-License-Identifier: Apache-2.0
#include "engine/sources/line_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "lib/file.h"

namespace weir::internal {

LineReader::~LineReader() { Close(); }

void LineReader::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buf_.clear();
  begin_ = 0;
  scan_ = 0;
}

Status LineReader::Open(const std::string& path, int64_t position) {
  Close();
  path_ = path;
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return ErrnoStatus("cannot open", path, errno);
  struct stat st;
  if (::fstat(fd_, &st) != 0) return ErrnoStatus("cannot stat", path, errno);
  if (S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument("cannot read " + path +
                                   ": it is a directory");
  }
  if (position < 0 || (S_ISREG(st.st_mode) && position > st.st_size)) {
    return Status::InvalidArgument(
        "cannot resume reading " + path + " at byte " +
        std::to_string(position) + ": the file has only " +
        std::to_string(st.st_size) + " bytes (was it truncated or replaced?)");
  }
  if (position > 0 && ::lseek(fd_, position, SEEK_SET) < 0) {
    return ErrnoStatus("cannot seek in", path, errno);
  }
  position_ = position;
  return Status::OK();
}

Result<bool> LineReader::Fill() {
  if (begin_ > 0) {
    // Keep only the unread tail; this moves at most one partial line per
    // chunk read.
    buf_.erase(0, begin_);
    scan_ -= begin_;
    begin_ = 0;
  }
  const size_t old_size = buf_.size();
  buf_.resize(old_size + kChunkBytes);
  for (;;) {
    const ssize_t n = ::read(fd_, buf_.data() + old_size, kChunkBytes);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      buf_.resize(old_size);
      return ErrnoStatus("cannot read", path_, err);
    }
    buf_.resize(old_size + static_cast<size_t>(n));
    return n > 0;
  }
}

Result<bool> LineReader::Next(bool take_unterminated, std::string_view* line) {
  if (fd_ < 0) return Status::InvalidArgument("LineReader is not open");
  for (;;) {
    const void* nl = nullptr;
    if (scan_ < buf_.size()) {
      nl = std::memchr(buf_.data() + scan_, '\n', buf_.size() - scan_);
    }
    if (nl != nullptr) {
      const auto end =
          static_cast<size_t>(static_cast<const char*>(nl) - buf_.data());
      size_t len = end - begin_;
      if (len > 0 && buf_[end - 1] == '\r') --len;
      *line = std::string_view(buf_.data() + begin_, len);
      position_ += static_cast<int64_t>(end + 1 - begin_);
      begin_ = end + 1;
      scan_ = begin_;
      return true;
    }
    scan_ = buf_.size();
    Result<bool> more = Fill();
    if (!more.ok()) return more.status();
    if (*more) continue;
    if (take_unterminated && begin_ < buf_.size()) {
      size_t len = buf_.size() - begin_;
      if (buf_[buf_.size() - 1] == '\r') --len;
      *line = std::string_view(buf_.data() + begin_, len);
      position_ += static_cast<int64_t>(buf_.size() - begin_);
      begin_ = buf_.size();
      scan_ = begin_;
      return true;
    }
    return false;
  }
}

}  // namespace weir::internal
