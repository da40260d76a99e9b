// SPDX-License-Identifier: Apache-2.0
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "engine/sinks/part_files.h"
#include "lib/file.h"
#include "weir/sinks.h"

namespace weir::internal {

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
  for (int64_t n = next_counter_;; ++n) {
    std::string name = PartFileName(subtask_, n, suffix_);
    std::string in_progress = dir_ + "/" + InProgressName(name);
    Result<bool> exists = PathExists(dir_ + "/" + name);
    if (exists.ok() && !*exists) exists = PathExists(in_progress);
    if (exists.ok() && !*exists) {
      exists = PathExists(dir_ + "/" + PendingName(name));
    }
    if (!exists.ok()) return exists.status();
    if (*exists) continue;
    fd_ = ::open(in_progress.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                 0644);
    if (fd_ < 0) {
      if (errno == EEXIST) continue;  // another writer took this counter
      return FileSinkError("cannot create", in_progress, errno);
    }
    next_counter_ = n + 1;
    name_ = std::move(name);
    in_progress_path_ = std::move(in_progress);
    return Status::OK();
  }
}

Status PartFileWriter::FlushBuffer() {
  std::string_view data(buf_);
  while (!data.empty()) {
    const ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return FileSinkError("cannot write", in_progress_path_, errno);
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

Status PartFileWriter::FinishFile() {
  Status s = FlushBuffer();
  if (!s.ok()) return s;
  if (::fsync(fd_) != 0) {
    return FileSinkError("cannot fsync", in_progress_path_, errno);
  }
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    return FileSinkError("cannot close", in_progress_path_, errno);
  }
  return Status::OK();
}

Result<std::optional<StagedPartFile>> PartFileWriter::Stage() {
  if (fd_ < 0) return std::optional<StagedPartFile>();
  Status s = FinishFile();
  if (!s.ok()) return s;
  StagedPartFile staged;
  staged.staged_name = PendingName(name_);
  staged.final_name = name_;
  const std::string pending_path = dir_ + "/" + staged.staged_name;
  if (::rename(in_progress_path_.c_str(), pending_path.c_str()) != 0) {
    return FileSinkError("cannot rename " + in_progress_path_ + " to",
                         pending_path, errno);
  }
  s = SyncDir(dir_);
  if (!s.ok()) return s.WithContext("FileSink");
  return std::optional<StagedPartFile>(std::move(staged));
}

Status PartFileWriter::Commit() {
  if (done_) return Status::OK();
  done_ = true;
  if (fd_ < 0) return Status::OK();  // nothing was written
  Status s = FinishFile();
  if (!s.ok()) return s;
  const std::string final_path = dir_ + "/" + name_;
  if (::rename(in_progress_path_.c_str(), final_path.c_str()) != 0) {
    return FileSinkError("cannot rename " + in_progress_path_ + " to",
                         final_path, errno);
  }
  s = SyncDir(dir_);
  if (!s.ok()) return s.WithContext("FileSink");
  committed_path_ = final_path;
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
