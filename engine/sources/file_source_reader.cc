// SPDX-License-Identifier: Apache-2.0
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/sources/line_reader.h"
#include "engine/sources/source_offset.h"
#include "weir/sources.h"

namespace weir::internal {

FileSourceReader::FileSourceReader()
    : reader_(std::make_unique<LineReader>()) {}

FileSourceReader::~FileSourceReader() = default;

Status FileSourceReader::Open(OperatorContext& ctx,
                              const FileSourceOptions& options) {
  if (options.path.empty()) {
    return Status::InvalidArgument("FileSource: no path given");
  }
  if (ctx.parallelism() != 1) {
    return Status::InvalidArgument(
        "FileSource of " + options.path +
        " reads one file with one subtask: add it with non_parallel = true "
        "(parallelism is " +
        std::to_string(ctx.parallelism()) + ")");
  }
  Result<std::optional<SourceOffset>> offset =
      LoadSourceOffset(ctx, "FileSource");
  if (!offset.ok()) return offset.status();
  int64_t position = 0;
  line_ = 0;
  if (offset->has_value()) {
    position = (*offset)->position;
    line_ = (*offset)->line;
  }
  follow_ = options.follow;
  return reader_->Open(options.path, position);
}

Result<bool> FileSourceReader::Next(std::string_view* line) {
  Result<bool> got = reader_->Next(!follow_, line);
  if (got.ok() && *got) ++line_;
  return got;
}

void FileSourceReader::Close() { reader_->Close(); }

Status FileSourceReader::SnapshotState(OperatorContext& ctx) const {
  return StoreSourceOffset(ctx, {reader_->position(), line_});
}

}  // namespace weir::internal
