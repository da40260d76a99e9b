// SPDX-License-Identifier: Apache-2.0
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "lib/file.h"
#include "weir/sinks.h"

namespace weir::internal {

namespace {

Status ErrnoStatus(std::string_view what, const std::string& path, int err) {
  std::string msg("FileSink: ");
  msg += what;
  msg += " ";
  msg += path;
  msg += ": ";
  msg += std::strerror(err);
  return Status::IOError(msg);
}

// True if `path` exists; an error other than "no such file" (a directory we
// may not search, say) is returned rather than taken for "exists", which
// would make the counter search below run forever.
Result<bool> Exists(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT) return false;
  return ErrnoStatus("cannot stat", path, errno);
}

}  // namespace

PartFileWriter::~PartFileWriter() { Close(); }

Status PartFileWriter::Open(std::string dir, int subtask, std::string suffix) {
  dir_ = std::move(dir);
  subtask_ = subtask;
  suffix_ = std::move(suffix);
  if (dir_.empty()) return Status::InvalidArgument("FileSink: no directory");
  Status s = CreateDirs(dir_);
  if (!s.ok()) return s.WithContext("FileSink");
  return Status::OK();
}

Status PartFileWriter::CreateFile() {
  const std::string base = "part-" + std::to_string(subtask_) + "-";
  for (int64_t n = 0;; ++n) {
    const std::string name = base + std::to_string(n) + suffix_;
    std::string final_path = dir_ + "/" + name;
    std::string in_progress = dir_ + "/." + name + ".inprogress";
    Result<bool> exists = Exists(final_path);
    if (exists.ok() && !*exists) exists = Exists(in_progress);
    if (!exists.ok()) return exists.status();
    if (*exists) continue;
    fd_ = ::open(in_progress.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                 0644);
    if (fd_ < 0) {
      if (errno == EEXIST) continue;  // another writer took this counter
      return ErrnoStatus("cannot create", in_progress, errno);
    }
    in_progress_path_ = std::move(in_progress);
    final_path_ = std::move(final_path);
    return Status::OK();
  }
}

Status PartFileWriter::FlushBuffer() {
  std::string_view data(buf_);
  while (!data.empty()) {
    const ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot write", in_progress_path_, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  buf_.clear();
  return Status::OK();
}

Status PartFileWriter::Append(std::string_view data) {
  if (done_) {
    return Status::InvalidArgument("FileSink: append after the part file " +
                                   committed_path_ + " was committed");
  }
  if (fd_ < 0) {
    Status s = CreateFile();
    if (!s.ok()) return s;
    buf_.reserve(kBufferBytes);
  }
  buf_.append(data);
  if (buf_.size() >= kBufferBytes) return FlushBuffer();
  return Status::OK();
}

Status PartFileWriter::Commit() {
  if (done_) return Status::OK();
  done_ = true;
  if (fd_ < 0) return Status::OK();  // nothing was written
  Status s = FlushBuffer();
  if (!s.ok()) return s;
  if (::fsync(fd_) != 0) {
    return ErrnoStatus("cannot fsync", in_progress_path_, errno);
  }
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    return ErrnoStatus("cannot close", in_progress_path_, errno);
  }
  if (::rename(in_progress_path_.c_str(), final_path_.c_str()) != 0) {
    return ErrnoStatus("cannot rename " + in_progress_path_ + " to",
                       final_path_, errno);
  }
  s = SyncDir(dir_);
  if (!s.ok()) return s.WithContext("FileSink");
  committed_path_ = final_path_;
  return Status::OK();
}

void PartFileWriter::Close() {
  if (fd_ < 0) return;
  // Best effort: keep what was written in the in-progress file.
  FlushBuffer().IgnoreError();
  ::close(fd_);
  fd_ = -1;
  buf_.clear();
}

}  // namespace weir::internal
