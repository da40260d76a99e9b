// SPDX-License-Identifier: Apache-2.0
//
// RocksDBBackend: moving key groups of another RocksDB backend in as new
// SST files (scale-in, rocksdb_rescale.h).
#include <filesystem>
#include <string>

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include "backends/rocksdb/rocksdb_backend_impl.h"
#include "backends/rocksdb/rocksdb_ingest.h"
#include "backends/rocksdb/rocksdb_util.h"
#include "lib/coding.h"

namespace weir::internal {

Status RocksDBBackend::IngestKeyGroups(RocksDBBackend& from,
                                       KeyGroupRange range,
                                       const std::string& staging,
                                       internal::IngestStats* stats) {
  if (!db_ || !from.db_) {
    return Status::InvalidArgument("the backend is closed");
  }
  if (range.empty()) return Status::OK();
  if (from.options_.max_parallelism != options_.max_parallelism) {
    return Status::InvalidArgument(
        "cannot merge state of max parallelism " +
        std::to_string(from.options_.max_parallelism) + " into " +
        std::to_string(options_.max_parallelism));
  }
  for (int kg : {range.start, range.end}) {
    if (!options_.key_group_range.Contains(kg)) {
      return ctx_.key.OutOfRange(kg);
    }
    if (!from.options_.key_group_range.Contains(kg)) {
      return from.ctx_.key.OutOfRange(kg);
    }
  }
  const uint32_t timer_ids[2] = {internal::TimerStateId(0),
                                 internal::TimerStateId(1)};
  int n = 0;
  for (auto& [op, from_rop] : from.ops_) {
    for (const auto& [_, state] : from_rop.states) {
      const RawStateDescriptor& d = state->descriptor();
      Result<RocksState*> r = GetOrCreate(op, d, internal::FamilyOf(d.type));
      if (!r.ok()) return r.status();
    }
    if (from_rop.cf == nullptr) continue;
    Result<RocksOperator*> rop = EnsureOperator(op);
    if (!rop.ok()) return rop.status();
    // Called from several threads: reads only.
    auto check = [&, &op = op, &from_rop = from_rop](std::string_view key) {
      if (key.size() < kStatePrefixSize) {
        return Status::Corruption("malformed key in operator " + op.ToHex());
      }
      std::string_view id_bytes = key.substr(2, 4);
      uint32_t id;
      GetFixed32BE(&id_bytes, &id);
      if (id == timer_ids[0] || id == timer_ids[1] ||
          from_rop.by_id.contains(id)) {
        return Status::OK();
      }
      return Status::Corruption("operator " + op.ToHex() +
                                " holds entries of unknown state id " +
                                std::to_string(id));
    };
    const rocksdb::Options sst(rocksdb::DBOptions(db_options_),
                               OperatorCfOptions(**rop));
    Status s = internal::IngestKeyGroupRange(
        from.db_.get(), from_rop.cf, db_.get(), (*rop)->cf, sst, range,
        (std::filesystem::path(staging) / std::to_string(n++)).string(), check,
        stats);
    if (!s.ok()) return s.WithContext("operator " + op.ToHex());
    // Rebuilt from the stored timers on next use.
    (*rop)->heads[0].reset();
    (*rop)->heads[1].reset();
  }
  return Status::OK();
}

}  // namespace weir::internal
