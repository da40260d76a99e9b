// SPDX-License-Identifier: Apache-2.0
#include "connectors/nats/nats_sink_state.h"

#include <string>
#include <string_view>
#include <vector>

#include "lib/coding.h"
#include "weir/state.h"

namespace weir::internal {

namespace {

constexpr std::string_view kSinkState = "nats-sink";

// Version 1: [subtask fixed32][checkpoint fixed64][records varint32], then
// per record [length varint32][bytes].
struct NatsStagedSerializer {
  static constexpr uint32_t kVersion = 1;
  void Serialize(const NatsStagedBatch& b, std::string* out) const {
    PutFixed32(out, b.subtask);
    PutFixed64(out, static_cast<uint64_t>(b.checkpoint_id));
    PutVarint32(out, static_cast<uint32_t>(b.records.size()));
    for (const std::string& r : b.records) {
      PutVarint32(out, static_cast<uint32_t>(r.size()));
      out->append(r);
    }
  }
  Status Deserialize(uint32_t version, std::string_view in,
                     NatsStagedBatch* b) const {
    (void)version;
    uint64_t checkpoint = 0;
    uint32_t n = 0;
    if (!GetFixed32(&in, &b->subtask) || !GetFixed64(&in, &checkpoint) ||
        !GetVarint32(&in, &n)) {
      return Status::Corruption("NATS sink state entry has a bad size");
    }
    b->checkpoint_id = static_cast<int64_t>(checkpoint);
    b->records.clear();
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t len = 0;
      if (!GetVarint32(&in, &len) || in.size() < len) {
        return Status::Corruption("NATS sink state entry has a bad size");
      }
      b->records.emplace_back(in.substr(0, len));
      in.remove_prefix(len);
    }
    if (!in.empty()) {
      return Status::Corruption("NATS sink state entry has a bad size");
    }
    return Status::OK();
  }
};

using StagedState = OperatorListState<NatsStagedBatch, NatsStagedSerializer>;

Result<StagedState> OpenStagedState(OperatorContext& ctx) {
  return GetOperatorListState<NatsStagedBatch, NatsStagedSerializer>(
      ctx.state(), ctx.operator_id(), kSinkState, OperatorStateMode::kUnion);
}

}  // namespace

Result<std::vector<NatsStagedBatch>> LoadNatsStaged(OperatorContext& ctx) {
  Result<StagedState> state = OpenStagedState(ctx);
  if (!state.ok()) return state.status();
  return state->Get();
}

Status StoreNatsStaged(OperatorContext& ctx,
                       const std::vector<NatsStagedBatch>& staged) {
  Result<StagedState> state = OpenStagedState(ctx);
  if (!state.ok()) return state.status();
  return state->Update(staged);
}

std::string NatsMsgId(const std::string& prefix, uint32_t subtask,
                      int64_t checkpoint_id, size_t index) {
  std::string id = prefix;
  id += '-';
  id += std::to_string(subtask);
  id += '-';
  id += std::to_string(checkpoint_id);
  id += '-';
  id += std::to_string(index);
  return id;
}

}  // namespace weir::internal
