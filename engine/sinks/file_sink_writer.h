// SPDX-License-Identifier: Apache-2.0
//
// FileSinkWriter: the two-phase commit of one FileSink subtask
// (weir/sinks.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/sinks/part_file_writer.h"
#include "weir/operator.h"
#include "weir/status.h"

namespace weir::internal {

// The two-phase commit of one FileSink subtask: its PartFileWriter, the
// files staged for checkpoints that have not completed yet, and the
// operator list state "file-sink" (union mode) that records them. FileSink
// formats records and hands them here; FileSink describes the behaviour.
class FileSinkWriter {
 public:
  FileSinkWriter() = default;
  FileSinkWriter(const FileSinkWriter&) = delete;
  FileSinkWriter& operator=(const FileSinkWriter&) = delete;

  // Opens the writer in `dir`. If ctx's operator state holds a snapshot's
  // entries (a restore), publishes the files they stage that fall to this
  // subtask and removes this subtask's share of hidden part files that they
  // do not name; then keeps only this subtask's entry. InvalidArgument if
  // the entries are not one per subtask of one parallelism (the state was
  // not given whole to every subtask); Corruption if one cannot be decoded;
  // IOError naming the file.
  Status Open(OperatorContext& ctx, std::string dir, std::string suffix);
  Status Append(std::string_view data) { return writer_.Append(data); }
  // Stages the current file for `checkpoint_id` and writes this subtask's
  // entry (its counter, directory and staged files) into the state.
  Status SnapshotState(OperatorContext& ctx, int64_t checkpoint_id);
  // Publishes the files staged for checkpoints <= `checkpoint_id`, then
  // fsyncs the directory. IOError if a staged file is missing or cannot be
  // renamed; the files not published stay staged.
  Status NotifyCheckpointComplete(int64_t checkpoint_id);
  // Publishes every staged file and commits the current one.
  Status Finish();
  // Leaves the current file in progress and staged files staged.
  void Close() { writer_.Close(); }

  // Files this writer published, in order (paths in the directory).
  const std::vector<std::string>& committed_paths() const {
    return committed_paths_;
  }
  // Files staged and not yet published, oldest first.
  const std::vector<StagedPartFile>& staged() const { return staged_; }

 private:
  Status Recover(OperatorContext& ctx);
  // Publishes staged_[0, count) and fsyncs the directory.
  Status PublishStaged(size_t count);

  std::string dir_;
  std::string suffix_;
  PartFileWriter writer_;
  std::vector<StagedPartFile> staged_;
  std::vector<std::string> committed_paths_;
};

}  // namespace weir::internal
