// SPDX-License-Identifier: Apache-2.0
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/sinks/file_sink_writer.h"
#include "weir/sinks.h"

namespace weir::internal {

FileSinkOutput::FileSinkOutput(std::string dir, std::string suffix)
    : dir_(std::move(dir)),
      suffix_(std::move(suffix)),
      writer_(std::make_unique<FileSinkWriter>()) {}

FileSinkOutput::~FileSinkOutput() = default;

Status FileSinkOutput::Open(OperatorContext& ctx) {
  return writer_->Open(ctx, dir_, suffix_);
}

Status FileSinkOutput::Append(std::string_view data) {
  return writer_->Append(data);
}

Status FileSinkOutput::SnapshotState(OperatorContext& ctx,
                                     int64_t checkpoint_id) {
  return writer_->SnapshotState(ctx, checkpoint_id);
}

Status FileSinkOutput::NotifyCheckpointComplete(int64_t checkpoint_id) {
  return writer_->NotifyCheckpointComplete(checkpoint_id);
}

Status FileSinkOutput::Finish() { return writer_->Finish(); }

void FileSinkOutput::Close() { writer_->Close(); }

const std::vector<std::string>& FileSinkOutput::committed_paths() const {
  return writer_->committed_paths();
}

}  // namespace weir::internal
