// SPDX-License-Identifier: Apache-2.0
#include "connectors/nats/nats_split_state.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "lib/coding.h"
#include "weir/state.h"

namespace weir::internal {

namespace {

constexpr std::string_view kOffsetState = "offset";

// Version 1: [filter length varint32][filter][last sequence fixed64].
struct NatsSplitSerializer {
  static constexpr uint32_t kVersion = 1;
  void Serialize(const NatsSplit& split, std::string* out) const {
    PutVarint32(out, static_cast<uint32_t>(split.filter.size()));
    out->append(split.filter);
    PutFixed64(out, split.last_sequence);
  }
  Status Deserialize(uint32_t version, std::string_view in,
                     NatsSplit* split) const {
    (void)version;
    uint32_t n = 0;
    if (!GetVarint32(&in, &n) || in.size() != size_t{n} + 8) {
      return Status::Corruption("NATS source offset entry has a bad size");
    }
    split->filter.assign(in.substr(0, n));
    in.remove_prefix(n);
    GetFixed64(&in, &split->last_sequence);
    return Status::OK();
  }
};

using SplitState = OperatorListState<NatsSplit, NatsSplitSerializer>;

Result<SplitState> OpenSplitState(OperatorContext& ctx) {
  return GetOperatorListState<NatsSplit, NatsSplitSerializer>(
      ctx.state(), ctx.operator_id(), kOffsetState, OperatorStateMode::kUnion);
}

}  // namespace

Result<std::vector<NatsSplit>> LoadNatsSplits(OperatorContext& ctx) {
  Result<SplitState> state = OpenSplitState(ctx);
  if (!state.ok()) return state.status();
  return state->Get();
}

Status StoreNatsSplits(OperatorContext& ctx,
                       const std::vector<NatsSplit>& splits) {
  Result<SplitState> state = OpenSplitState(ctx);
  if (!state.ok()) return state.status();
  return state->Update(splits);
}

std::vector<NatsSplit> AssignNatsSplits(const std::vector<std::string>& filters,
                                        const std::vector<NatsSplit>& restored,
                                        int subtask, int parallelism) {
  std::map<std::string, uint64_t, std::less<>> last;
  for (const NatsSplit& s : restored) {
    uint64_t& seq = last[s.filter];
    seq = std::max(seq, s.last_sequence);
  }
  std::vector<NatsSplit> mine;
  for (size_t i = static_cast<size_t>(subtask); i < filters.size();
       i += static_cast<size_t>(parallelism)) {
    auto it = last.find(filters[i]);
    mine.push_back({filters[i], it == last.end() ? 0 : it->second});
  }
  return mine;
}

}  // namespace weir::internal
