// SPDX-License-Identifier: Apache-2.0
//
// PartFileWriter: writes and stages the part files of one FileSink subtask
// (weir/sinks.h), through the process's Env (lib/env.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lib/env.h"
#include "weir/result.h"
#include "weir/status.h"

namespace weir::internal {

// A part file that FileSink staged at a checkpoint: complete, fsynced and
// hidden, waiting for its checkpoint to complete. Names are relative to the
// sink's directory.
struct StagedPartFile {
  int64_t checkpoint_id = 0;
  std::string staged_name;  // ".part-<subtask>-<n><suffix>.pending"
  std::string final_name;   // "part-<subtask>-<n><suffix>"

  bool operator==(const StagedPartFile&) const = default;
};

// One subtask's part files of a FileSink, written one at a time. A file is
// created on the first Append() as
// "<dir>/.part-<subtask>-<n><suffix>.inprogress", n being the first counter
// from next_counter() on for which no file of that counter exists (neither
// in progress, nor pending, nor "part-<subtask>-<n><suffix>"); it is created
// with O_EXCL, so concurrent writers never share one. Append() buffers up to
// kBufferBytes before a write(). Stage() ends the file as a pending one and
// the next Append() starts another; Commit() ends it as a visible one and
// the writer with it.
class PartFileWriter {
 public:
  static constexpr size_t kBufferBytes = size_t{64} << 10;

  PartFileWriter() = default;
  ~PartFileWriter();  // Close()
  PartFileWriter(const PartFileWriter&) = delete;
  PartFileWriter& operator=(const PartFileWriter&) = delete;

  // Creates `dir` (and parents) if missing. IOError or InvalidArgument
  // (not a directory) naming the path.
  Status Open(std::string dir, int subtask, std::string suffix);
  // IOError naming the file if it cannot be created or written.
  // InvalidArgument after Commit().
  Status Append(std::string_view data);
  // Flushes, fsyncs and closes the current file, renames it to
  // "<dir>/.part-<subtask>-<n><suffix>.pending" and fsyncs the directory.
  // Returns its names (checkpoint_id 0), or nullopt if no file is open
  // (nothing was appended since the last Stage(), or Commit() was called).
  // IOError naming the file.
  Result<std::optional<StagedPartFile>> Stage();
  // Makes the current file visible: flushes, fsyncs and renames it to
  // "<dir>/part-<subtask>-<n><suffix>", then fsyncs the directory. OK and
  // nothing happens if no file is open. After Commit(), Append() starts no
  // new file: the writer is done.
  Status Commit();
  // Writes out the buffer (best effort) and closes the file without
  // renaming it: an in-progress file stays behind.
  void Close();

  // Where the search for the next file's counter starts. Default: 0; set it
  // before the first Append() to continue a restored counter.
  int64_t next_counter() const { return next_counter_; }
  void set_next_counter(int64_t n) { next_counter_ = n; }
  const std::string& dir() const { return dir_; }

  // The last committed file's path; empty before Commit() or if nothing
  // was written.
  const std::string& committed_path() const { return committed_path_; }

 private:
  Status CreateFile();
  Status FlushBuffer();
  // Flushes, fsyncs and closes the current file.
  Status FinishFile();

  std::string dir_;
  std::string suffix_;
  int subtask_ = 0;
  int64_t next_counter_ = 0;
  std::unique_ptr<WritableFile> file_;  // null when no file is open
  std::string name_;  // of the open file: "part-<subtask>-<n><suffix>"
  std::string in_progress_path_;
  std::string committed_path_;
  std::string buf_;
  bool done_ = false;
};

}  // namespace weir::internal
