// SPDX-License-Identifier: Apache-2.0
//
// RocksDBBackend, the RocksDB backend's class (rocksdb_backend.h has the
// public entry points and the layout). Private to backends/rocksdb/ and
// its tests, as RocksDB's db_impl.h is: the class is implemented over
// several files, one per concern:
//   rocksdb_backend.cc          open and close, state access, timers,
//                               iteration, import of entries
//   rocksdb_snapshot.cc         Snapshot() and RestoreRocksDBBackend
//   rocksdb_backend_restore.cc  ImportSnapshot and what it needs
//   rocksdb_backend_ingest.cc   IngestKeyGroups (scale-in)
//
// Thread safety: a backend belongs to one task thread; a pending snapshot
// shares only the RocksSnapshotHub.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <weir/options.h>

#include "backends/backend.h"
#include "backends/common/operator_table.h"
#include "backends/rocksdb/rocksdb_ingest.h"
#include "backends/rocksdb/rocksdb_read_mode.h"
#include "backends/rocksdb/rocksdb_snapshot.h"
#include "backends/rocksdb/rocksdb_states.h"
#include "backends/rocksdb/rocksdb_util.h"
#include "backends/timer_heads.h"
#include "lib/coding.h"

namespace weir::internal {

// Records of the default column family.
constexpr char kDescriptorTag = 's';    // 's' op name -> descriptor
constexpr char kOperatorListTag = 'o';  // 'o' op name -> [mode][elements]

class RocksOperatorList final : public RawOperatorListState {
 public:
  RocksOperatorList(RocksContext* ctx, rocksdb::ColumnFamilyHandle* cf,
                    std::string key, OperatorStateMode mode)
      : ctx_(ctx), cf_(cf), key_(std::move(key)), mode_(mode) {}

  OperatorStateMode mode() const { return mode_; }

  Status Get(std::vector<std::string>* values) override {
    values->clear();
    std::string stored;
    rocksdb::Status rs = ctx_->db->Get(ctx_->read_options, cf_, key_, &stored);
    if (rs.IsNotFound()) return Status::OK();
    if (!rs.ok()) return FromRocks(rs, "read operator state");
    std::vector<std::string_view> elements;
    if (stored.empty() ||
        !DecodeListElements(std::string_view(stored).substr(1), &elements)) {
      return Status::Corruption("malformed operator state record");
    }
    for (std::string_view e : elements) values->emplace_back(e);
    return Status::OK();
  }
  Status Add(std::string_view value) override {
    std::vector<std::string> values;
    Status s = Get(&values);
    if (!s.ok()) return s;
    values.emplace_back(value);
    return Update(values);
  }
  Status Update(std::span<const std::string> values) override {
    std::string stored(1, static_cast<char>(mode_));
    for (const std::string& v : values) PutLengthPrefixed(&stored, v);
    return FromRocks(ctx_->db->Put(ctx_->write_options, cf_, key_, stored),
                     "write operator state");
  }
  Status Clear() override { return Update({}); }

 private:
  RocksContext* ctx_;
  rocksdb::ColumnFamilyHandle* cf_;
  std::string key_;
  OperatorStateMode mode_;
};

// An operator's states, and its column family (null until it has keyed
// state or timers), the TTLs its compaction filter reads, and its timer
// index per time domain (built on first use).
struct RocksOperator : OperatorRecord<RocksState, RocksOperatorList> {
  rocksdb::ColumnFamilyHandle* cf = nullptr;
  std::shared_ptr<TtlTable> ttl = std::make_shared<TtlTable>();
  std::unique_ptr<TimerHeads> heads[2];
};

constexpr size_t kStatePrefixSize = 6;  // key group + state id

class RocksDBBackend final : public KeyedStateBackend {
 public:
  // `rocks` has its kAuto read mode resolved (rocksdb_read_mode.h);
  // `share` counts the state's SST bytes while the backend is open.
  RocksDBBackend(StateBackendOptions options, const RocksDBOptions& rocks,
                 std::string dir, internal::OpenStateShare share);

  ~RocksDBBackend() override;

  Status Open();

  Status Close();

  int max_parallelism() const override { return options_.max_parallelism; }
  KeyGroupRange key_group_range() const override {
    return options_.key_group_range;
  }
  Status SetCurrentKey(std::string_view key) override {
    return ctx_.key.Set(key);
  }
  std::string_view current_key() const override { return ctx_.key.key(); }
  int current_key_group() const override { return ctx_.key.key_group(); }

  Result<RawValueState*> GetValueState(const OperatorId& op,
                                       const RawStateDescriptor& d) override;
  Result<RawListState*> GetListState(const OperatorId& op,
                                     const RawStateDescriptor& d) override;
  Result<RawMapState*> GetMapState(const OperatorId& op,
                                   const RawStateDescriptor& d) override;

  Result<RawOperatorListState*> GetOperatorListState(
      const OperatorId& op, std::string_view name,
      OperatorStateMode mode) override;

  // ---- timers

  Status RegisterTimer(const OperatorId& op, TimeDomain domain,
                       int64_t timestamp, std::string_view ns) override;

  Status DeleteTimer(const OperatorId& op, TimeDomain domain, int64_t timestamp,
                     std::string_view ns) override;

  Result<std::optional<int64_t>> NextTimerTimestamp(const OperatorId& op,
                                                    TimeDomain domain) override;

  Result<std::optional<Timer>> PopTimer(const OperatorId& op, TimeDomain domain,
                                        int64_t max_timestamp) override;

  // ---- inspection

  std::vector<OperatorId> Operators() const override;

  std::vector<RawStateDescriptor> States(const OperatorId& op) const override;

  Status ForEachEntry(const OperatorId& op, int key_group,
                      const StateEntryVisitor& visitor) override;

  Status ForEachKey(
      const OperatorId& op, std::string_view state_name,
      const std::function<Status(std::string_view, std::string_view)>& visitor)
      override;

  Status ImportEntry(const OperatorId& op, const StateEntry& entry) override;

  Result<std::vector<OperatorStateEntry>> OperatorStates(
      const OperatorId& op) override;

  Status Flush() override;

  Result<std::unique_ptr<PendingSnapshot>> Snapshot(
      int64_t checkpoint_id, const std::string& local_dir) override;

  int PendingSnapshots() const override { return hub_ ? hub_->pending() : 0; }

  StateReadMode read_mode() const override;

  // Imports one kRocksDBSst snapshot into this backend, just opened on an
  // empty state directory, without closing it: operators' column families
  // by import, the default column family's records copied in, key groups
  // outside the backend's range clipped, the snapshot's cut markers removed.
  // `staging` is a scratch directory (removed by the caller). `keep`: the key
  // groups to keep, if not the backend's own (the rest is clipped). Files
  // that cannot hold a kept key group are not imported at all
  // (FileMayHoldKeyGroups): a task of a scale-out takes only the files of
  // its part of the key space, plus those that span it (L0). Clipping
  // writes new range deletions rather than trusting those inside the
  // snapshot's files: an imported file's key range is that of its point
  // keys, and RocksDB truncates a range deletion to its file's range.
  Status ImportSnapshot(const BackendSnapshot& snap, const std::string& staging,
                        const KeyGroupRange* keep);

  // Moves the entries of key groups `range` of `from` into this backend,
  // operator by operator (IngestKeyGroupRange, rocksdb_ingest.h), after
  // registering `from`'s state descriptors here. An entry of a state id
  // that `from` has no descriptor for is Corruption. Expired TTL entries are
  // copied as they are: reads skip them and compactions drop them. Operator
  // list states are not copied. REQUIRES: `range` inside both backends'
  // key-group ranges, and no entries of it here yet (rescaling: disjoint
  // key groups).
  Status IngestKeyGroups(RocksDBBackend& from, KeyGroupRange range,
                         const std::string& staging,
                         internal::IngestStats* stats);

  // The snapshot's cut markers are the old database's bookkeeping, not
  // state. Deleting them is not what keeps them from passing for this
  // backend's next marker (the Delete sits in a memtable, which the flush
  // wait's kPersistedTier read skips): the session id in every marker does
  // that (rocksdb_snapshot.h).
  Status RemoveCutMarkers();

  // Deletes the key groups outside the backend's own range from every
  // operator's column family (a restore: see ImportSnapshot).
  Status ClipToOwnRange();

  rocksdb::DB* raw_db() const { return db_.get(); }
  // The column family named `name` (as in RocksDB), or null.
  rocksdb::ColumnFamilyHandle* HandleForTesting(const std::string& name);

  // Deletes the cut markers a restored snapshot brought in, and the
  // entries of key groups outside the backend's range that its files may
  // carry (ImportSnapshot does both itself).
  Status RemoveRestoredCutMarkers();

  // Tests: compacts every column family that has files into the bottommost
  // level (RocksDB then zeroes the sequence numbers no snapshot needs).
  Status CompactForTesting();

  // Tests: whether RocksDB file deletions are enabled.
  Result<bool> FileDeletionsEnabled();

 private:
  // The default column family cannot be imported into: its files go into a
  // scratch column family, whose records are copied over, then dropped.
  Status CopyDefaultColumnFamily(const std::vector<const SnapshotFile*>& files,
                                 const std::string& staging);

  rocksdb::ColumnFamilyOptions OperatorCfOptions(const RocksOperator& rop);

  // The operator's record, with its column family created if needed.
  Result<RocksOperator*> EnsureOperator(const OperatorId& op);

  Result<RocksState*> GetOrCreate(const OperatorId& op,
                                  const RawStateDescriptor& d,
                                  StateFamily family);

  Status PersistDescriptor(const OperatorId& op, RocksOperator& rop,
                           const RawStateDescriptor& d);

  // Reads descriptors and operator list states back after a reopen.
  Status LoadRecords();

  std::string TimerPrefix(int kg, TimeDomain domain) const;

  // The timer index of (op, domain), built from the stored timers on first
  // use. With `create` false, an operator without a column family has no
  // timers and the result is null: queries create nothing.
  Result<internal::TimerHeads*> Heads(const OperatorId& op, TimeDomain domain,
                                      bool create);

  Status RefreshHead(const OperatorId& op, TimeDomain domain, int kg,
                     internal::TimerHeads* heads);

  Status PutTimer(const OperatorId& op, TimeDomain domain, int kg,
                  int64_t timestamp, std::string_view key, std::string_view ns);

  StateBackendOptions options_;
  std::string dir_;
  internal::OpenStateShare share_;
  bool ready_db_snapshots_;
  rocksdb::Options db_options_;
  std::shared_ptr<rocksdb::MergeOperator> merge_operator_;
  RocksContext ctx_;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* default_cf_ = nullptr;
  OperatorTable<RocksOperator> ops_;
  std::shared_ptr<internal::RocksSnapshotHub> hub_;
};

// OpenRocksDBBackend for a backend about to receive `expected_state_bytes`
// of SST files (a restore by import), so that a kAuto read mode is chosen
// for the state it will hold rather than for an empty directory.
Result<std::unique_ptr<RocksDBBackend>> OpenRocksDBBackendSized(
    const StateBackendOptions& options, const RocksDBOptions& rocksdb_options,
    const std::string& dir, uint64_t expected_state_bytes);

// RestoreRocksDBBackend (rocksdb_snapshot.h), with the concrete type.
Result<std::unique_ptr<RocksDBBackend>> RestoreRocksDBBackendImpl(
    const StateBackendOptions& options, const RocksDBOptions& rocksdb_options,
    const std::string& dir, const std::vector<BackendSnapshot>& snapshots,
    RocksDBRestoreReport* report = nullptr);

}  // namespace weir::internal
