// SPDX-License-Identifier: Apache-2.0
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/sources/sequence_cursor.h"
#include "engine/sources/source_offset.h"
#include "weir/sources.h"

namespace weir::internal {

SequencePosition::SequencePosition()
    : cursor_(std::make_unique<SequenceCursor>()) {}

SequencePosition::~SequencePosition() = default;

Status SequencePosition::Open(OperatorContext& ctx, std::string_view source,
                              int64_t end) {
  Result<std::vector<SequenceSplit>> splits =
      LoadSequenceSplits(ctx, source, end);
  if (!splits.ok()) return splits.status();
  cursor_->Reset(std::move(*splits), end);
  return Status::OK();
}

bool SequencePosition::Done() const { return cursor_->Done(); }

int64_t SequencePosition::Peek() const { return cursor_->Peek(); }

int64_t SequencePosition::Take() { return cursor_->Take(); }

Status SequencePosition::Store(OperatorContext& ctx) const {
  return StoreSequenceSplits(ctx, cursor_->splits());
}

}  // namespace weir::internal
