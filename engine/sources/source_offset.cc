// SPDX-License-Identifier: Apache-2.0
//
// The "offset" operator state of the built-in sources. Union mode gives
// every subtask all entries on restore, so each one finds its own entry by
// its index whatever the redistribution does, and a snapshot taken at
// another parallelism is noticed instead of silently replaying the wrong
// records.
#include <string>
#include <vector>

#include "lib/coding.h"
#include "weir/sources.h"
#include "weir/state.h"

namespace weir::internal {

namespace {

constexpr std::string_view kOffsetState = "offset";

// [subtask fixed32][parallelism fixed32][position fixed64][line fixed64]
struct OffsetEntry {
  uint32_t subtask = 0;
  uint32_t parallelism = 0;
  SourceOffset offset;
};

struct OffsetEntrySerializer {
  static constexpr uint32_t kVersion = 1;
  void Serialize(const OffsetEntry& e, std::string* out) const {
    PutFixed32(out, e.subtask);
    PutFixed32(out, e.parallelism);
    PutFixed64(out, static_cast<uint64_t>(e.offset.position));
    PutFixed64(out, static_cast<uint64_t>(e.offset.line));
  }
  Status Deserialize(uint32_t, std::string_view in, OffsetEntry* e) const {
    uint64_t position = 0;
    uint64_t line = 0;
    if (!GetFixed32(&in, &e->subtask) || !GetFixed32(&in, &e->parallelism) ||
        !GetFixed64(&in, &position) || !GetFixed64(&in, &line) || !in.empty()) {
      return Status::Corruption("source offset entry has a bad size");
    }
    e->offset.position = static_cast<int64_t>(position);
    e->offset.line = static_cast<int64_t>(line);
    return Status::OK();
  }
};

using OffsetState = OperatorListState<OffsetEntry, OffsetEntrySerializer>;

Result<OffsetState> OpenOffsetState(OperatorContext& ctx) {
  return GetOperatorListState<OffsetEntry, OffsetEntrySerializer>(
      ctx.state(), ctx.operator_id(), kOffsetState, OperatorStateMode::kUnion);
}

}  // namespace

Result<std::optional<SourceOffset>> LoadSourceOffset(OperatorContext& ctx,
                                                     std::string_view source) {
  Result<OffsetState> state = OpenOffsetState(ctx);
  if (!state.ok()) return state.status();
  Result<std::vector<OffsetEntry>> entries = state->Get();
  if (!entries.ok()) return entries.status();
  if (entries->empty()) return std::optional<SourceOffset>();
  const auto subtask = static_cast<uint32_t>(ctx.subtask());
  const auto parallelism = static_cast<uint32_t>(ctx.parallelism());
  for (const OffsetEntry& e : *entries) {
    if (e.parallelism != parallelism) {
      return Status::InvalidArgument(
          std::string(source) + " '" + std::string(ctx.name()) +
          "': its offsets were written at parallelism " +
          std::to_string(e.parallelism) + ", and restoring it at parallelism " +
          std::to_string(parallelism) + " is not supported");
    }
    if (e.subtask == subtask) return std::optional<SourceOffset>(e.offset);
  }
  return Status::InvalidArgument(
      std::string(source) + " '" + std::string(ctx.name()) +
      "': the restored offsets have no entry for subtask " +
      std::to_string(subtask));
}

Status StoreSourceOffset(OperatorContext& ctx, const SourceOffset& offset) {
  Result<OffsetState> state = OpenOffsetState(ctx);
  if (!state.ok()) return state.status();
  OffsetEntry e;
  e.subtask = static_cast<uint32_t>(ctx.subtask());
  e.parallelism = static_cast<uint32_t>(ctx.parallelism());
  e.offset = offset;
  return state->Update({e});
}

}  // namespace weir::internal
