// SPDX-License-Identifier: Apache-2.0
#include "engine/sinks/part_file_writer.h"

#include <string>
#include <utility>

#include "engine/sinks/part_files.h"
#include "lib/env.h"
#include "lib/file.h"

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
    Status s = Env::Default()->NewWritableFile(in_progress, /*exclusive=*/true,
                                               &file_);
    if (!s.ok()) {
      // Another writer may have taken this counter since the checks.
      exists = PathExists(in_progress);
      if (exists.ok() && *exists) continue;
      return s.WithContext("FileSink");
    }
    next_counter_ = n + 1;
    name_ = std::move(name);
    in_progress_path_ = std::move(in_progress);
    return Status::OK();
  }
}

Status PartFileWriter::FlushBuffer() {
  Status s = file_->Append(buf_);
  if (!s.ok()) return s.WithContext("FileSink");
  buf_.clear();
  return Status::OK();
}

Status PartFileWriter::Append(std::string_view data) {
  if (done_) {
    return Status::InvalidArgument("FileSink: append after the part file " +
                                   committed_path_ + " was committed");
  }
  if (file_ == nullptr) {
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
  if (s.ok()) s = file_->Sync().WithContext("FileSink");
  if (s.ok()) s = file_->Close().WithContext("FileSink");
  if (!s.ok()) return s;
  file_.reset();
  return Status::OK();
}

Result<std::optional<StagedPartFile>> PartFileWriter::Stage() {
  if (file_ == nullptr) return std::optional<StagedPartFile>();
  Status s = FinishFile();
  if (!s.ok()) return s;
  StagedPartFile staged;
  staged.staged_name = PendingName(name_);
  staged.final_name = name_;
  const std::string pending_path = dir_ + "/" + staged.staged_name;
  s = Env::Default()->Rename(in_progress_path_, pending_path);
  if (s.ok()) s = SyncDir(dir_);
  if (!s.ok()) return s.WithContext("FileSink");
  return std::optional<StagedPartFile>(std::move(staged));
}

Status PartFileWriter::Commit() {
  if (done_) return Status::OK();
  done_ = true;
  if (file_ == nullptr) return Status::OK();  // nothing was written
  Status s = FinishFile();
  if (!s.ok()) return s;
  const std::string final_path = dir_ + "/" + name_;
  s = Env::Default()->Rename(in_progress_path_, final_path);
  if (s.ok()) s = SyncDir(dir_);
  if (!s.ok()) return s.WithContext("FileSink");
  committed_path_ = final_path;
  return Status::OK();
}

void PartFileWriter::Close() {
  if (file_ == nullptr) return;
  // Best effort: keep what was written in the in-progress file.
  FlushBuffer().IgnoreError();
  file_->Close().IgnoreError();
  file_.reset();
  buf_.clear();
}

}  // namespace weir::internal
