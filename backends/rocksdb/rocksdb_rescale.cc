// SPDX-License-Identifier: Apache-2.0
#include "backends/rocksdb/rocksdb_rescale.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <system_error>
#include <tuple>

#include "backends/rocksdb/rocksdb_backend_impl.h"
#include "backends/rocksdb/rocksdb_ingest.h"
#include "backends/rocksdb/rocksdb_snapshot.h"

namespace weir::internal {

namespace fs = std::filesystem;

namespace {

constexpr char kStagingDir[] = "restore-staging";
constexpr char kScratchPrefix[] = "rescale-scratch-";
constexpr char kIngestPrefix[] = "rescale-ingest-";

KeyGroupRange Intersect(KeyGroupRange a, KeyGroupRange b) {
  KeyGroupRange out;
  out.start = std::max(a.start, b.start);
  out.end = std::min(a.end, b.end);
  if (out.end < out.start) return KeyGroupRange{};
  return out;
}

int Size(KeyGroupRange r) { return r.end < r.start ? 0 : r.end - r.start + 1; }

// Operator list states of one snapshot, by operator and name.
using Lists = std::map<std::tuple<OperatorId, std::string>,
                       KeyedStateBackend::OperatorStateEntry>;

Result<Lists> ListsOf(KeyedStateBackend& backend) {
  Lists out;
  for (const OperatorId& op : backend.Operators()) {
    Result<std::vector<KeyedStateBackend::OperatorStateEntry>> lists =
        backend.OperatorStates(op);
    if (!lists.ok()) return lists.status();
    for (auto& list : *lists) {
      std::string name = list.name;
      out[{op, std::move(name)}] = std::move(list);
    }
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<RocksDBBackend>> RestoreRescaledRocksDBBackend(
    const StateBackendOptions& options, const RocksDBOptions& rocksdb_options,
    const std::string& dir, const std::vector<BackendSnapshot>& snapshots,
    uint64_t expected_state_bytes) {
  const KeyGroupRange target = options.key_group_range;
  size_t base = 0;
  for (size_t i = 1; i < snapshots.size(); ++i) {
    if (Size(Intersect(snapshots[i].key_group_range, target)) >
        Size(Intersect(snapshots[base].key_group_range, target))) {
      base = i;
    }
  }
  Result<std::unique_ptr<RocksDBBackend>> backend = OpenRocksDBBackendSized(
      options, rocksdb_options, dir, expected_state_bytes);
  if (!backend.ok()) return backend;
  std::error_code ec;
  const std::string staging = (fs::path(dir) / kStagingDir).string();
  // Only the base's own key groups: its files may also hold entries of
  // other key groups, hidden by range deletions that do not survive the
  // import (RocksDBBackend::ImportSnapshot).
  const KeyGroupRange keep = Intersect(snapshots[base].key_group_range, target);
  Status s = (*backend)->ImportSnapshot(snapshots[base], staging, &keep);
  fs::remove_all(staging, ec);
  if (!s.ok()) return s;
  std::vector<Lists> lists(snapshots.size());
  Result<Lists> base_lists = ListsOf(**backend);
  if (!base_lists.ok()) return base_lists.status();
  lists[base] = std::move(*base_lists);

  // A scratch backend needs little cache and no ready-made DBs.
  RocksDBOptions scratch_options = rocksdb_options;
  scratch_options.block_cache_bytes =
      std::min<size_t>(rocksdb_options.block_cache_bytes, size_t{8} << 20);
  for (size_t i = 0; i < snapshots.size(); ++i) {
    if (i == base) continue;
    const KeyGroupRange shared =
        Intersect(snapshots[i].key_group_range, target);
    if (Size(shared) == 0) continue;
    StateBackendOptions scratch_backend_options = options;
    scratch_backend_options.key_group_range = shared;
    const std::string scratch_dir =
        (fs::path(dir) / (kScratchPrefix + std::to_string(i))).string();
    fs::remove_all(scratch_dir, ec);
    {
      Result<std::unique_ptr<RocksDBBackend>> scratch =
          RestoreRocksDBBackendImpl(scratch_backend_options, scratch_options,
                                    scratch_dir, {snapshots[i]});
      if (!scratch.ok()) {
        s = scratch.status();
      } else {
        internal::IngestStats stats;
        s = (*backend)->IngestKeyGroups(
            **scratch, shared,
            (fs::path(dir) / (kIngestPrefix + std::to_string(i))).string(),
            &stats);
        if (s.ok()) {
          Result<Lists> l = ListsOf(**scratch);
          if (l.ok()) {
            lists[i] = std::move(*l);
          } else {
            s = l.status();
          }
        }
      }
    }
    fs::remove_all(scratch_dir, ec);
    fs::remove_all(fs::path(dir) / (kIngestPrefix + std::to_string(i)), ec);
    if (!s.ok()) {
      return s.WithContext("merge the snapshot of key groups " +
                           std::to_string(snapshots[i].key_group_range.start) +
                           "-" +
                           std::to_string(snapshots[i].key_group_range.end));
    }
  }

  // Every list: the snapshots' values in the order the snapshots came.
  Lists merged;
  for (Lists& l : lists) {
    for (auto& [key, entry] : l) {
      auto [it, added] = merged.try_emplace(key);
      if (added) {
        it->second.name = entry.name;
        it->second.mode = entry.mode;
      }
      it->second.values.insert(it->second.values.end(),
                               std::make_move_iterator(entry.values.begin()),
                               std::make_move_iterator(entry.values.end()));
    }
  }
  for (auto& [key, entry] : merged) {
    Result<RawOperatorListState*> list = (*backend)->GetOperatorListState(
        std::get<0>(key), entry.name, entry.mode);
    s = list.ok() ? (*list)->Update(entry.values) : list.status();
    if (!s.ok()) return s;
  }
  return backend;
}

}  // namespace weir::internal
