// SPDX-License-Identifier: Apache-2.0
//
// The "offset" operator state of the built-in sources. Union mode gives
// every subtask all entries on restore, so each one finds its own entry by
// its index whatever the redistribution does; a sequence source restored at
// another parallelism shares out the splits of all entries (the same
// computation in every subtask), and the file source notices a snapshot of
// another parallelism instead of silently replaying the wrong records.
#include "engine/sources/source_offset.h"

#include <algorithm>
#include <string>
#include <vector>

#include "lib/coding.h"
#include "weir/state.h"

namespace weir::internal {

namespace {

constexpr std::string_view kOffsetState = "offset";

// Version 1: [subtask fixed32][parallelism fixed32][position fixed64]
// [line fixed64]. Version 2 appends [splits varint32] and per split
// [next fixed64][stride fixed64] (sequence sources; none for the file
// source). A version 1 entry of a sequence source stands for the one split
// (position, parallelism).
struct OffsetEntry {
  uint32_t subtask = 0;
  uint32_t parallelism = 0;
  SourceOffset offset;
  std::vector<SequenceSplit> splits;
  bool has_splits = false;  // written as version 2
};

struct OffsetEntrySerializer {
  static constexpr uint32_t kVersion = 2;
  void Serialize(const OffsetEntry& e, std::string* out) const {
    PutFixed32(out, e.subtask);
    PutFixed32(out, e.parallelism);
    PutFixed64(out, static_cast<uint64_t>(e.offset.position));
    PutFixed64(out, static_cast<uint64_t>(e.offset.line));
    PutVarint32(out, static_cast<uint32_t>(e.splits.size()));
    for (const SequenceSplit& split : e.splits) {
      PutFixed64(out, static_cast<uint64_t>(split.next));
      PutFixed64(out, static_cast<uint64_t>(split.stride));
    }
  }
  Status Deserialize(uint32_t version, std::string_view in,
                     OffsetEntry* e) const {
    uint64_t position = 0;
    uint64_t line = 0;
    if (!GetFixed32(&in, &e->subtask) || !GetFixed32(&in, &e->parallelism) ||
        !GetFixed64(&in, &position) || !GetFixed64(&in, &line)) {
      return Status::Corruption("source offset entry has a bad size");
    }
    e->offset.position = static_cast<int64_t>(position);
    e->offset.line = static_cast<int64_t>(line);
    e->splits.clear();
    e->has_splits = version >= 2;
    if (e->has_splits) {
      uint32_t n = 0;
      if (!GetVarint32(&in, &n) || in.size() != size_t{n} * 16) {
        return Status::Corruption("source offset entry has a bad size");
      }
      for (uint32_t i = 0; i < n; ++i) {
        uint64_t next = 0;
        uint64_t stride = 0;
        GetFixed64(&in, &next);
        GetFixed64(&in, &stride);
        if (stride == 0 || stride > uint64_t{1} << 62) {
          return Status::Corruption("source offset entry has a bad stride");
        }
        e->splits.push_back(
            {static_cast<int64_t>(next), static_cast<int64_t>(stride)});
      }
    }
    if (!in.empty()) {
      return Status::Corruption("source offset entry has a bad size");
    }
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

Result<std::vector<SequenceSplit>> LoadSequenceSplits(OperatorContext& ctx,
                                                      std::string_view source,
                                                      int64_t end) {
  Result<OffsetState> state = OpenOffsetState(ctx);
  if (!state.ok()) return state.status();
  Result<std::vector<OffsetEntry>> entries = state->Get();
  if (!entries.ok()) return entries.status();
  const int p = ctx.parallelism();
  const int subtask = ctx.subtask();
  std::vector<SequenceSplit> splits;
  auto past = [&](const SequenceSplit& s) { return end >= 0 && s.next >= end; };
  if (entries->empty()) {
    splits.push_back({subtask, p});
    std::erase_if(splits, past);
    return splits;
  }
  auto bad = [&](const std::string& what) {
    return Status::InvalidArgument(std::string(source) + " '" +
                                   std::string(ctx.name()) +
                                   "': the restored offsets " + what);
  };
  auto splits_of = [](const OffsetEntry& e) {
    if (e.has_splits) return e.splits;
    return std::vector<SequenceSplit>{
        {e.offset.position, static_cast<int64_t>(e.parallelism)}};
  };
  // At the snapshot's parallelism: this subtask's own entry.
  bool same_parallelism = true;
  for (const OffsetEntry& e : *entries) {
    if (e.parallelism != static_cast<uint32_t>(p)) same_parallelism = false;
  }
  if (same_parallelism) {
    for (const OffsetEntry& e : *entries) {
      if (e.subtask == static_cast<uint32_t>(subtask)) {
        splits = splits_of(e);
        std::erase_if(splits, past);
        return splits;
      }
    }
    return bad("have no entry for subtask " + std::to_string(subtask));
  }
  // Rescaling: one entry per old subtask of one parallelism, taken in
  // subtask order.
  const uint32_t old_p = (*entries)[0].parallelism;
  if (old_p == 0 || entries->size() != old_p) {
    return bad("are not one entry per subtask (" +
               std::to_string(entries->size()) + " entries, parallelism " +
               std::to_string(old_p) + ")");
  }
  std::vector<const OffsetEntry*> by_subtask(old_p, nullptr);
  for (const OffsetEntry& e : *entries) {
    if (e.parallelism != old_p || e.subtask >= old_p ||
        by_subtask[e.subtask] != nullptr) {
      return bad("are not one entry per subtask of one parallelism");
    }
    by_subtask[e.subtask] = &e;
  }
  std::vector<SequenceSplit> all;
  for (const OffsetEntry* e : by_subtask) {
    for (const SequenceSplit& s : splits_of(*e)) {
      if (!past(s)) all.push_back(s);
    }
  }
  if (!all.empty() && all.size() < static_cast<size_t>(p)) {
    const int64_t k = (p + static_cast<int64_t>(all.size()) - 1) /
                      static_cast<int64_t>(all.size());
    std::vector<SequenceSplit> cut;
    for (const SequenceSplit& s : all) {
      for (int64_t r = 0; r < k; ++r) {
        SequenceSplit piece{s.next + r * s.stride, s.stride * k};
        if (!past(piece)) cut.push_back(piece);
      }
    }
    all = std::move(cut);
  }
  for (size_t i = static_cast<size_t>(subtask); i < all.size();
       i += static_cast<size_t>(p)) {
    splits.push_back(all[i]);
  }
  return splits;
}

Status StoreSequenceSplits(OperatorContext& ctx,
                           const std::vector<SequenceSplit>& splits) {
  Result<OffsetState> state = OpenOffsetState(ctx);
  if (!state.ok()) return state.status();
  OffsetEntry e;
  e.subtask = static_cast<uint32_t>(ctx.subtask());
  e.parallelism = static_cast<uint32_t>(ctx.parallelism());
  e.offset.position = splits.empty() ? -1 : splits.front().next;
  for (const SequenceSplit& s : splits) {
    e.offset.position = std::min(e.offset.position, s.next);
  }
  e.splits = splits;
  e.has_splits = true;
  return state->Update({e});
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
