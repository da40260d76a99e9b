// SPDX-License-Identifier: Apache-2.0
#include "backends/rocksdb/rocksdb_backend.h"

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include <rocksdb/db.h>
#include <rocksdb/metadata.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include "backends/common/backend_options.h"
#include "backends/rocksdb/rocksdb_ingest.h"
#include "backends/rocksdb/rocksdb_iterator.h"
#include "backends/rocksdb/rocksdb_read_mode.h"
#include "backends/rocksdb/rocksdb_snapshot.h"
#include "backends/rocksdb/rocksdb_state_dir.h"
#include "backends/rocksdb/rocksdb_states.h"
#include "backends/rocksdb/rocksdb_util.h"
#include "backends/state_registry.h"
#include "backends/timer_heads.h"
#include "lib/coding.h"
#include "lib/memory_limit.h"

namespace weir {

namespace {

using internal::FromRocks;
using internal::PrefixIterator;
using internal::RocksContext;
using internal::RocksState;
using internal::StateFamily;
using internal::ToSlice;
using internal::ToView;

// Records of the default column family.
constexpr char kDescriptorTag = 's';    // 's' op name -> descriptor
constexpr char kOperatorListTag = 'o';  // 'o' op name -> [mode][elements]

std::string RecordKey(char tag, const OperatorId& op, std::string_view name) {
  std::string key(1, tag);
  key.append(op.bytes());
  key.append(name);
  return key;
}

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
    if (stored.empty() || !internal::DecodeListElements(
                              std::string_view(stored).substr(1), &elements)) {
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

struct RocksOperator {
  rocksdb::ColumnFamilyHandle* cf = nullptr;
  std::shared_ptr<internal::TtlTable> ttl =
      std::make_shared<internal::TtlTable>();
  std::map<std::string, std::unique_ptr<RocksState>, std::less<>> states;
  std::unordered_map<uint32_t, RocksState*> by_id;
  std::unique_ptr<internal::TimerHeads> heads[2];
  std::map<std::string, std::unique_ptr<RocksOperatorList>, std::less<>> lists;
};

void AppendTimerKey(std::string* out, int key_group, TimeDomain domain,
                    int64_t ts, std::string_view key, std::string_view ns) {
  internal::AppendStateKeyPrefix(
      out, key_group, internal::TimerStateId(static_cast<int>(domain)));
  PutFixed64BE(out, OrderPreservingFromSigned(ts));
  PutLengthPrefixed(out, key);
  PutLengthPrefixed(out, ns);
}

// Parses [ts][len key][len ns] after the timer prefix.
bool ParseTimerTail(std::string_view tail, int64_t* ts, std::string_view* key,
                    std::string_view* ns) {
  uint64_t raw;
  if (!GetFixed64BE(&tail, &raw) || !GetLengthPrefixed(&tail, key) ||
      !GetLengthPrefixed(&tail, ns) || !tail.empty()) {
    return false;
  }
  *ts = SignedFromOrderPreserving(raw);
  return true;
}

constexpr size_t kStatePrefixSize = 6;  // key group + state id

class RocksDBBackend final : public KeyedStateBackend {
 public:
  // `rocks` has its kAuto read mode resolved (rocksdb_read_mode.h);
  // `share` counts the state's SST bytes while the backend is open.
  RocksDBBackend(StateBackendOptions options, const RocksDBOptions& rocks,
                 std::string dir, internal::OpenStateShare share)
      : options_(std::move(options)),
        dir_(std::move(dir)),
        share_(std::move(share)),
        ready_db_snapshots_(rocks.ready_db_snapshots),
        ctx_(options_.max_parallelism, options_.key_group_range,
             options_.clock.get()) {
    internal::ApplyRocksDBOptions(rocks, &db_options_);
    db_options_.create_if_missing = true;
    db_options_.keep_log_file_num = 2;
    db_options_.max_log_file_size = 1 << 20;
    merge_operator_ = internal::NewListAppendOperator();
  }

  ~RocksDBBackend() override { Close().IgnoreError(); }

  Status Open() {
    namespace fs = std::filesystem;
    const std::string path = (fs::path(dir_) / internal::kStateDirDb).string();
    std::vector<std::string> names{rocksdb::kDefaultColumnFamilyName};
    std::error_code ec;
    if (fs::exists(fs::path(path) / "CURRENT", ec)) {
      rocksdb::Status rs =
          rocksdb::DB::ListColumnFamilies(db_options_, path, &names);
      if (!rs.ok()) return FromRocks(rs, "list column families of " + path);
    }
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    std::vector<RocksOperator*> owners;
    for (const std::string& name : names) {
      if (name == rocksdb::kDefaultColumnFamilyName) {
        descriptors.emplace_back(name,
                                 rocksdb::ColumnFamilyOptions(db_options_));
        owners.push_back(nullptr);
        continue;
      }
      Result<OperatorId> op = OperatorId::FromHex(name);
      if (!op.ok()) {
        return Status::Corruption(path + " has column family '" + name +
                                  "', which is not an operator id");
      }
      RocksOperator& rop = ops_[*op];
      descriptors.emplace_back(name, OperatorCfOptions(rop));
      owners.push_back(&rop);
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    rocksdb::Status rs = rocksdb::DB::Open(rocksdb::DBOptions(db_options_),
                                           path, descriptors, &handles, &db);
    if (!rs.ok()) {
      ops_.clear();
      return FromRocks(rs, "open RocksDB in " + path);
    }
    db_.reset(db);
    ctx_.db = db;
    hub_ = std::make_shared<internal::RocksSnapshotHub>(db);
    for (size_t i = 0; i < handles.size(); ++i) {
      if (owners[i] == nullptr) {
        default_cf_ = handles[i];
      } else {
        owners[i]->cf = handles[i];
      }
    }
    return LoadRecords();
  }

  Status Close() {
    if (!db_) return Status::OK();
    // Pending snapshots hold RocksDB snapshots and column family handles.
    if (hub_) hub_->Shutdown();
    Status s = Flush();
    for (auto& [_, rop] : ops_) {
      if (rop.cf != nullptr)
        db_->DestroyColumnFamilyHandle(rop.cf).PermitUncheckedError();
      rop.cf = nullptr;
    }
    if (default_cf_ != nullptr) {
      db_->DestroyColumnFamilyHandle(default_cf_).PermitUncheckedError();
      default_cf_ = nullptr;
    }
    rocksdb::Status rs = db_->Close();
    if (s.ok()) s = FromRocks(rs, "close RocksDB in " + dir_);
    db_.reset();
    ctx_.db = nullptr;
    share_.Release();
    return s;
  }

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
                                       const RawStateDescriptor& d) override {
    Result<RocksState*> s = GetOrCreate(op, d, StateFamily::kValue);
    if (!s.ok()) return s.status();
    return dynamic_cast<RawValueState*>(*s);
  }
  Result<RawListState*> GetListState(const OperatorId& op,
                                     const RawStateDescriptor& d) override {
    Result<RocksState*> s = GetOrCreate(op, d, StateFamily::kList);
    if (!s.ok()) return s.status();
    return dynamic_cast<RawListState*>(*s);
  }
  Result<RawMapState*> GetMapState(const OperatorId& op,
                                   const RawStateDescriptor& d) override {
    Result<RocksState*> s = GetOrCreate(op, d, StateFamily::kMap);
    if (!s.ok()) return s.status();
    return dynamic_cast<RawMapState*>(*s);
  }

  Result<RawOperatorListState*> GetOperatorListState(
      const OperatorId& op, std::string_view name,
      OperatorStateMode mode) override {
    RocksOperator& rop = ops_[op];
    auto it = rop.lists.find(name);
    if (it != rop.lists.end()) {
      if (it->second->mode() != mode) {
        return Status::InvalidArgument(
            "operator state '" + std::string(name) + "' of operator " +
            op.ToHex() + " was created as a " + ModeName(it->second->mode()) +
            " list and cannot be opened as a " + ModeName(mode) + " list");
      }
      return static_cast<RawOperatorListState*>(it->second.get());
    }
    auto list = std::make_unique<RocksOperatorList>(
        &ctx_, default_cf_, RecordKey(kOperatorListTag, op, name), mode);
    Status s = list->Update({});
    if (!s.ok()) return s;
    RawOperatorListState* raw = list.get();
    rop.lists.emplace(std::string(name), std::move(list));
    return raw;
  }

  // ---- timers

  Status RegisterTimer(const OperatorId& op, TimeDomain domain,
                       int64_t timestamp, std::string_view ns) override {
    if (!ctx_.key.is_set()) return NoCurrentKey();
    return PutTimer(op, domain, ctx_.key.key_group(), timestamp, ctx_.key.key(),
                    ns);
  }

  Status DeleteTimer(const OperatorId& op, TimeDomain domain, int64_t timestamp,
                     std::string_view ns) override {
    if (!ctx_.key.is_set()) return NoCurrentKey();
    Result<internal::TimerHeads*> heads = Heads(op, domain, false);
    if (!heads.ok()) return heads.status();
    if (*heads == nullptr) return Status::OK();
    const int kg = ctx_.key.key_group();
    std::string key;
    AppendTimerKey(&key, kg, domain, timestamp, ctx_.key.key(), ns);
    Status s = FromRocks(db_->Delete(ctx_.write_options, ops_[op].cf, key),
                         "delete timer");
    if (!s.ok()) return s;
    const int slot = kg - options_.key_group_range.start;
    if ((*heads)->Get(slot) == timestamp) {
      return RefreshHead(op, domain, kg, *heads);
    }
    return Status::OK();
  }

  Result<std::optional<int64_t>> NextTimerTimestamp(
      const OperatorId& op, TimeDomain domain) override {
    Result<internal::TimerHeads*> heads = Heads(op, domain, false);
    if (!heads.ok()) return heads.status();
    if (*heads == nullptr) return std::optional<int64_t>();
    auto min = (*heads)->Min();
    if (!min) return std::optional<int64_t>();
    return std::optional<int64_t>(min->first);
  }

  Result<std::optional<Timer>> PopTimer(const OperatorId& op, TimeDomain domain,
                                        int64_t max_timestamp) override {
    Result<internal::TimerHeads*> heads = Heads(op, domain, false);
    if (!heads.ok()) return heads.status();
    if (*heads == nullptr) return std::optional<Timer>();
    auto min = (*heads)->Min();
    if (!min || min->first > max_timestamp) return std::optional<Timer>();
    const int slot = min->second;
    const int kg = options_.key_group_range.start + slot;
    rocksdb::ColumnFamilyHandle* cf = ops_[op].cf;
    PrefixIterator it(db_.get(), ctx_.read_options, cf,
                      TimerPrefix(kg, domain));
    if (!it.Valid()) {
      Status s = it.status("read timers");
      if (!s.ok()) return s;
      return Status::Corruption("timer index and stored timers disagree");
    }
    Timer timer;
    std::string_view key, ns;
    if (!ParseTimerTail(it.tail(), &timer.timestamp, &key, &ns)) {
      return Status::Corruption("malformed timer key");
    }
    timer.key.assign(key);
    timer.ns.assign(ns);
    const std::string stored_key(ToView(it.key()));
    it.Next();
    std::optional<int64_t> next_head;
    if (it.Valid()) {
      int64_t ts;
      if (!ParseTimerTail(it.tail(), &ts, &key, &ns)) {
        return Status::Corruption("malformed timer key");
      }
      next_head = ts;
    }
    Status s = it.status("read timers");
    if (!s.ok()) return s;
    s = FromRocks(db_->Delete(ctx_.write_options, cf, stored_key),
                  "delete timer");
    if (!s.ok()) return s;
    (*heads)->Set(slot, next_head);
    return std::optional<Timer>(std::move(timer));
  }

  // ---- inspection

  std::vector<OperatorId> Operators() const override {
    std::vector<OperatorId> out;
    for (const auto& [op, _] : ops_) out.push_back(op);
    return out;
  }

  std::vector<RawStateDescriptor> States(const OperatorId& op) const override {
    std::vector<RawStateDescriptor> out;
    auto it = ops_.find(op);
    if (it == ops_.end()) return out;
    for (const auto& [_, state] : it->second.states) {
      out.push_back(state->descriptor());
    }
    return out;
  }

  Status ForEachEntry(const OperatorId& op, int key_group,
                      const StateEntryVisitor& visitor) override {
    if (!options_.key_group_range.Contains(key_group)) {
      return ctx_.key.OutOfRange(key_group);
    }
    auto op_it = ops_.find(op);
    if (op_it == ops_.end() || op_it->second.cf == nullptr) return Status::OK();
    RocksOperator& rop = op_it->second;
    std::string prefix;
    PutFixed16BE(&prefix, static_cast<uint16_t>(key_group));
    PrefixIterator it(db_.get(), ctx_.read_options, rop.cf, prefix);
    const int64_t now = options_.clock->NowMillis();
    const uint32_t timer_ids[2] = {internal::TimerStateId(0),
                                   internal::TimerStateId(1)};
    for (; it.Valid(); it.Next()) {
      std::string_view key = ToView(it.key());
      if (key.size() < kStatePrefixSize) {
        return Status::Corruption("malformed key in operator " + op.ToHex());
      }
      std::string_view id_bytes = key.substr(2, 4);
      uint32_t id;
      GetFixed32BE(&id_bytes, &id);
      const std::string_view tail = key.substr(kStatePrefixSize);
      Status s;
      if (id == timer_ids[0] || id == timer_ids[1]) {
        StateEntry entry;
        entry.kind = StateEntry::Kind::kTimer;
        entry.timer_domain = id == timer_ids[0] ? TimeDomain::kEventTime
                                                : TimeDomain::kProcessingTime;
        if (!ParseTimerTail(tail, &entry.timestamp, &entry.key, &entry.ns)) {
          return Status::Corruption("malformed timer key");
        }
        s = visitor(entry);
      } else {
        auto state = rop.by_id.find(id);
        if (state == rop.by_id.end()) {
          return Status::Corruption("operator " + op.ToHex() +
                                    " holds entries of unknown state id " +
                                    std::to_string(id));
        }
        s = state->second->VisitStored(tail, ToView(it.value()), now, visitor);
      }
      if (!s.ok()) return s;
    }
    return it.status("read key group " + std::to_string(key_group));
  }

  Status ForEachKey(
      const OperatorId& op, std::string_view state_name,
      const std::function<Status(std::string_view, std::string_view)>& visitor)
      override {
    auto op_it = ops_.find(op);
    RocksState* state = nullptr;
    if (op_it != ops_.end()) {
      auto it = op_it->second.states.find(state_name);
      if (it != op_it->second.states.end()) state = it->second.get();
    }
    if (state == nullptr) {
      return Status::NotFound(internal::DescribeState(op, state_name) +
                              " is not registered");
    }
    const int64_t now = options_.clock->NowMillis();
    std::string last_key, last_ns;
    bool have_last = false;
    for (int kg = options_.key_group_range.start;
         kg <= options_.key_group_range.end; ++kg) {
      std::string prefix;
      internal::AppendStateKeyPrefix(&prefix, kg, state->id());
      PrefixIterator it(db_.get(), ctx_.read_options, op_it->second.cf, prefix);
      for (; it.Valid(); it.Next()) {
        std::string_view key, ns;
        bool live = false;
        Status s = state->VisitStored(it.tail(), ToView(it.value()), now,
                                      [&](const StateEntry& e) {
                                        live = true;
                                        key = e.key;
                                        ns = e.ns;
                                        return Status::OK();
                                      });
        if (!s.ok()) return s;
        if (!live || (have_last && key == last_key && ns == last_ns)) continue;
        last_key.assign(key);
        last_ns.assign(ns);
        have_last = true;
        s = visitor(key, ns);
        if (!s.ok()) return s;
      }
      Status s = it.status("read state '" + std::string(state_name) + "'");
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

  Status ImportEntry(const OperatorId& op, const StateEntry& entry) override {
    const int kg = KeyGroupForKey(entry.key, options_.max_parallelism);
    if (!options_.key_group_range.Contains(kg)) return ctx_.key.OutOfRange(kg);
    if (entry.kind == StateEntry::Kind::kTimer) {
      return PutTimer(op, entry.timer_domain, kg, entry.timestamp, entry.key,
                      entry.ns);
    }
    if (entry.state == nullptr) {
      return Status::InvalidArgument("imported entry names no state");
    }
    Result<RocksState*> state =
        GetOrCreate(op, *entry.state, internal::FamilyOf(entry.state->type));
    if (!state.ok()) return state.status();
    return (*state)->Import(kg, entry);
  }

  Result<std::vector<OperatorStateEntry>> OperatorStates(
      const OperatorId& op) override {
    std::vector<OperatorStateEntry> out;
    auto it = ops_.find(op);
    if (it == ops_.end()) return out;
    for (const auto& [name, list] : it->second.lists) {
      OperatorStateEntry entry{name, list->mode(), {}};
      Status s = list->Get(&entry.values);
      if (!s.ok()) return s;
      out.push_back(std::move(entry));
    }
    return out;
  }

  Status Flush() override {
    if (!db_) return Status::OK();
    std::vector<rocksdb::ColumnFamilyHandle*> cfs{default_cf_};
    for (auto& [_, rop] : ops_) {
      if (rop.cf != nullptr) cfs.push_back(rop.cf);
    }
    rocksdb::FlushOptions flush;
    flush.wait = true;
    return FromRocks(db_->Flush(flush, cfs), "flush RocksDB in " + dir_);
  }

  Result<std::unique_ptr<PendingSnapshot>> Snapshot(
      int64_t checkpoint_id, const std::string& local_dir) override {
    if (!db_) return Status::InvalidArgument("the backend is closed");
    std::vector<internal::RocksColumnFamily> cfs{
        {rocksdb::kDefaultColumnFamilyName, default_cf_}};
    for (auto& [op, rop] : ops_) {
      if (rop.cf != nullptr) cfs.push_back({op.ToHex(), rop.cf});
    }
    return internal::TakeRocksDBSnapshot(
        hub_, std::move(cfs), options_.max_parallelism,
        options_.key_group_range, checkpoint_id, local_dir,
        ready_db_snapshots_);
  }

  int PendingSnapshots() const override { return hub_ ? hub_->pending() : 0; }

  StateReadMode read_mode() const override {
    if (!db_) return StateReadMode::kNone;
    return db_->GetDBOptions().allow_mmap_reads ? StateReadMode::kMmap
                                                : StateReadMode::kPread;
  }

  // internal::ImportSnapshotIntoRocksDBBackend: into this open, empty DB.
  Status ImportSnapshot(const BackendSnapshot& snap, const std::string& staging,
                        const KeyGroupRange* keep) {
    if (!db_) return Status::InvalidArgument("the backend is closed");
    if (!ops_.empty()) {
      return Status::InvalidArgument("cannot restore into " + dir_ +
                                     ": it already holds state");
    }
    std::map<std::string, std::vector<const SnapshotFile*>> by_cf;
    for (const SnapshotFile& f : snap.files) {
      // Files only the ready-made DB needs (its MANIFEST, its default
      // column family) have no column family.
      if (f.column_family.empty()) continue;
      by_cf[f.column_family].push_back(&f);
    }
    // Clipped whenever only some key groups are kept, whatever the
    // snapshot's range: its files may hold entries of other key groups
    // (a backend restored from a wider snapshot), hidden by range deletions
    // that an import truncates to the file's point keys.
    const KeyGroupRange kept =
        keep != nullptr ? *keep : options_.key_group_range;
    const bool clip = kept.start > 0 || kept.end < options_.max_parallelism - 1;
    for (const auto& [cf, files] : by_cf) {
      if (cf == rocksdb::kDefaultColumnFamilyName) {
        Status s = CopyDefaultColumnFamily(files, staging);
        if (!s.ok()) return s;
        continue;
      }
      Result<OperatorId> op = OperatorId::FromHex(cf);
      if (!op.ok()) {
        return Status::Corruption("the snapshot has column family '" + cf +
                                  "', which is not an operator id");
      }
      std::vector<const SnapshotFile*> wanted = files;
      if (clip) {
        std::erase_if(wanted, [&](const SnapshotFile* f) {
          return !internal::FileMayHoldKeyGroups(*f, kept);
        });
        // Nothing of the kept key groups: the column family is created
        // below if the operator has registered states.
        if (wanted.empty()) continue;
      }
      RocksOperator& rop = ops_[*op];
      Status s = internal::ImportColumnFamilyFiles(
          db_.get(), OperatorCfOptions(rop), staging, cf, wanted, &rop.cf);
      if (!s.ok()) {
        ops_.erase(*op);
        return s;
      }
      if (clip) {
        s = internal::ClipColumnFamily(db_.get(), rop.cf, kept,
                                       options_.max_parallelism);
        if (!s.ok()) return s;
      }
    }
    Status s = RemoveCutMarkers();
    if (!s.ok()) return s;
    // Operators with registered states but no files still need their
    // column family.
    std::vector<OperatorId> described;
    {
      PrefixIterator it(db_.get(), ctx_.read_options, default_cf_,
                        std::string(1, kDescriptorTag));
      for (; it.Valid(); it.Next()) {
        std::string_view tail = it.tail();
        if (tail.size() < OperatorId::kSize) {
          return Status::Corruption("malformed record in " + dir_);
        }
        described.push_back(
            OperatorId::FromBytes(tail.substr(0, OperatorId::kSize)));
      }
      s = it.status("read records of " + dir_);
      if (!s.ok()) return s;
    }
    for (const OperatorId& op : described) {
      Result<RocksOperator*> rop = EnsureOperator(op);
      if (!rop.ok()) return rop.status();
    }
    return LoadRecords();
  }

  // internal::IngestKeyGroupsIntoRocksDBBackend (rocksdb_ingest.h).
  Status IngestKeyGroups(RocksDBBackend& from, KeyGroupRange range,
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
          (std::filesystem::path(staging) / std::to_string(n++)).string(),
          check, stats);
      if (!s.ok()) return s.WithContext("operator " + op.ToHex());
      // Rebuilt from the stored timers on next use.
      (*rop)->heads[0].reset();
      (*rop)->heads[1].reset();
    }
    return Status::OK();
  }

  // The snapshot's cut markers are the old database's bookkeeping, not
  // state. Deleting them is not what keeps them from passing for this
  // backend's next marker (the Delete sits in a memtable, which the flush
  // wait's kPersistedTier read skips): the session id in every marker does
  // that (rocksdb_snapshot.h).
  Status RemoveCutMarkers() {
    if (!db_) return Status::InvalidArgument("the backend is closed");
    rocksdb::WriteBatch unmark;
    const rocksdb::Slice marker = internal::ToSlice(internal::kCutMarkerKey);
    unmark.Delete(default_cf_, marker).PermitUncheckedError();
    for (auto& [_, rop] : ops_) {
      if (rop.cf != nullptr)
        unmark.Delete(rop.cf, marker).PermitUncheckedError();
    }
    return FromRocks(db_->Write(ctx_.write_options, &unmark),
                     "remove the snapshot's cut markers");
  }

  // Deletes the key groups outside the backend's own range from every
  // operator's column family (a restore: see ImportSnapshot).
  Status ClipToOwnRange() {
    if (!db_) return Status::InvalidArgument("the backend is closed");
    const KeyGroupRange r = options_.key_group_range;
    if (r.start == 0 && r.end == options_.max_parallelism - 1) {
      return Status::OK();
    }
    for (auto& [_, rop] : ops_) {
      if (rop.cf == nullptr) continue;
      Status s = internal::ClipColumnFamily(db_.get(), rop.cf, r,
                                            options_.max_parallelism);
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

  rocksdb::DB* raw_db() const { return db_.get(); }
  // The column family named `name` (as in RocksDB), or null.
  rocksdb::ColumnFamilyHandle* HandleForTesting(const std::string& name) {
    if (name == rocksdb::kDefaultColumnFamilyName) return default_cf_;
    for (auto& [op, rop] : ops_) {
      if (op.ToHex() == name) return rop.cf;
    }
    return nullptr;
  }

 private:
  static const char* ModeName(OperatorStateMode m) {
    return m == OperatorStateMode::kSplit ? "split" : "union";
  }
  static Status NoCurrentKey() {
    return Status::InvalidArgument("no current key is set");
  }

  // The default column family cannot be imported into: its files go into a
  // scratch column family, whose records are copied over, then dropped.
  Status CopyDefaultColumnFamily(const std::vector<const SnapshotFile*>& files,
                                 const std::string& staging) {
    static constexpr char kScratch[] = "weir-restore-default";
    rocksdb::ColumnFamilyOptions cf(db_options_);
    cf.merge_operator = merge_operator_;
    rocksdb::ColumnFamilyHandle* scratch = nullptr;
    Status s = internal::ImportColumnFamilyFiles(db_.get(), cf, staging,
                                                 kScratch, files, &scratch);
    if (!s.ok()) return s;
    rocksdb::WriteBatch batch;
    {
      std::unique_ptr<rocksdb::Iterator> it(
          db_->NewIterator(rocksdb::ReadOptions(), scratch));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        batch.Put(default_cf_, it->key(), it->value()).PermitUncheckedError();
      }
      s = FromRocks(it->status(), "read the default column family");
    }
    if (s.ok()) {
      s = FromRocks(db_->Write(ctx_.write_options, &batch),
                    "restore the default column family");
    }
    rocksdb::Status dropped = db_->DropColumnFamily(scratch);
    db_->DestroyColumnFamilyHandle(scratch).PermitUncheckedError();
    if (s.ok()) s = FromRocks(dropped, "drop " + std::string(kScratch));
    return s;
  }

  rocksdb::ColumnFamilyOptions OperatorCfOptions(const RocksOperator& rop) {
    rocksdb::ColumnFamilyOptions cf(db_options_);
    cf.merge_operator = merge_operator_;
    cf.compaction_filter_factory =
        internal::NewTtlFilterFactory(rop.ttl, options_.clock);
    return cf;
  }

  // The operator's record, with its column family created if needed.
  Result<RocksOperator*> EnsureOperator(const OperatorId& op) {
    RocksOperator& rop = ops_[op];
    if (rop.cf == nullptr) {
      rocksdb::Status rs =
          db_->CreateColumnFamily(OperatorCfOptions(rop), op.ToHex(), &rop.cf);
      if (!rs.ok()) {
        return FromRocks(rs, "create column family for operator " + op.ToHex());
      }
    }
    return &rop;
  }

  Result<RocksState*> GetOrCreate(const OperatorId& op,
                                  const RawStateDescriptor& d,
                                  StateFamily family) {
    Status s = internal::ValidateDescriptor(op, d, family);
    if (!s.ok()) return s;
    Result<RocksOperator*> rop = EnsureOperator(op);
    if (!rop.ok()) return rop.status();
    auto it = (*rop)->states.find(d.name);
    if (it != (*rop)->states.end()) {
      RawStateDescriptor merged;
      bool changed = false;
      s = internal::CheckCompatible(op, it->second->descriptor(), d, &merged,
                                    &changed);
      if (!s.ok()) return s;
      if (changed) {
        s = PersistDescriptor(op, **rop, merged);
        if (!s.ok()) return s;
        it->second->set_descriptor(merged);
      }
      return it->second.get();
    }
    auto clash = (*rop)->by_id.find(internal::StateIdForName(d.name));
    s = internal::CheckStateIdFree(op, d.name,
                                   clash != (*rop)->by_id.end()
                                       ? &clash->second->descriptor().name
                                       : nullptr);
    if (!s.ok()) return s;
    s = PersistDescriptor(op, **rop, d);
    if (!s.ok()) return s;
    return AddState(**rop, d);
  }

  RocksState* AddState(RocksOperator& rop, const RawStateDescriptor& d) {
    auto state = internal::NewRocksState(&ctx_, rop.cf, d);
    RocksState* raw = state.get();
    rop.by_id[raw->id()] = raw;
    rop.states.emplace(d.name, std::move(state));
    return raw;
  }

  Status PersistDescriptor(const OperatorId& op, RocksOperator& rop,
                           const RawStateDescriptor& d) {
    std::string record;
    internal::EncodeDescriptor(d, &record);
    Status s =
        FromRocks(db_->Put(ctx_.write_options, default_cf_,
                           RecordKey(kDescriptorTag, op, d.name), record),
                  "register " + internal::DescribeState(op, d.name));
    if (s.ok()) {
      rop.ttl->Set(internal::StateIdForName(d.name),
                   {internal::FamilyOf(d.type), d.ttl});
    }
    return s;
  }

  // Reads descriptors and operator list states back after a reopen.
  Status LoadRecords() {
    for (char tag : {kDescriptorTag, kOperatorListTag}) {
      PrefixIterator it(db_.get(), ctx_.read_options, default_cf_,
                        std::string(1, tag));
      for (; it.Valid(); it.Next()) {
        std::string_view tail = it.tail();
        if (tail.size() < OperatorId::kSize) {
          return Status::Corruption("malformed record in " + dir_);
        }
        const OperatorId op =
            OperatorId::FromBytes(tail.substr(0, OperatorId::kSize));
        const std::string name(tail.substr(OperatorId::kSize));
        RocksOperator& rop = ops_[op];
        if (tag == kOperatorListTag) {
          std::string_view value = ToView(it.value());
          if (value.empty() || (value[0] != 1 && value[0] != 2)) {
            return Status::Corruption("malformed operator state record '" +
                                      name + "' in " + dir_);
          }
          rop.lists.emplace(
              name, std::make_unique<RocksOperatorList>(
                        &ctx_, default_cf_, std::string(ToView(it.key())),
                        static_cast<OperatorStateMode>(value[0])));
          continue;
        }
        RawStateDescriptor d;
        Status s = internal::DecodeDescriptor(ToView(it.value()), &d);
        if (!s.ok()) return s.WithContext(dir_);
        if (rop.cf == nullptr) {
          return Status::Corruption("state '" + d.name + "' of operator " +
                                    op.ToHex() + " has no column family in " +
                                    dir_);
        }
        rop.ttl->Set(internal::StateIdForName(d.name),
                     {internal::FamilyOf(d.type), d.ttl});
        AddState(rop, d);
      }
      Status s = it.status("read records of " + dir_);
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

  std::string TimerPrefix(int kg, TimeDomain domain) const {
    std::string prefix;
    internal::AppendStateKeyPrefix(
        &prefix, kg, internal::TimerStateId(static_cast<int>(domain)));
    return prefix;
  }

  // The timer index of (op, domain), built from the stored timers on first
  // use. With `create` false, an operator without a column family has no
  // timers and the result is null: queries create nothing.
  Result<internal::TimerHeads*> Heads(const OperatorId& op, TimeDomain domain,
                                      bool create) {
    RocksOperator* rop = nullptr;
    if (create) {
      Result<RocksOperator*> ensured = EnsureOperator(op);
      if (!ensured.ok()) return ensured.status();
      rop = *ensured;
    } else {
      auto it = ops_.find(op);
      if (it == ops_.end() || it->second.cf == nullptr) {
        return static_cast<internal::TimerHeads*>(nullptr);
      }
      rop = &it->second;
    }
    auto& heads = rop->heads[static_cast<int>(domain)];
    if (!heads) {
      auto fresh = std::make_unique<internal::TimerHeads>(
          options_.key_group_range.size());
      for (int kg = options_.key_group_range.start;
           kg <= options_.key_group_range.end; ++kg) {
        Status s = RefreshHead(op, domain, kg, fresh.get());
        if (!s.ok()) return s;
      }
      heads = std::move(fresh);
    }
    return heads.get();
  }

  Status RefreshHead(const OperatorId& op, TimeDomain domain, int kg,
                     internal::TimerHeads* heads) {
    PrefixIterator it(db_.get(), ctx_.read_options, ops_[op].cf,
                      TimerPrefix(kg, domain));
    std::optional<int64_t> head;
    if (it.Valid()) {
      int64_t ts;
      std::string_view key, ns;
      if (!ParseTimerTail(it.tail(), &ts, &key, &ns)) {
        return Status::Corruption("malformed timer key");
      }
      head = ts;
    }
    Status s = it.status("read timers");
    if (!s.ok()) return s;
    heads->Set(kg - options_.key_group_range.start, head);
    return Status::OK();
  }

  Status PutTimer(const OperatorId& op, TimeDomain domain, int kg,
                  int64_t timestamp, std::string_view key,
                  std::string_view ns) {
    Result<internal::TimerHeads*> heads = Heads(op, domain, true);
    if (!heads.ok()) return heads.status();
    std::string stored;
    AppendTimerKey(&stored, kg, domain, timestamp, key, ns);
    Status s = FromRocks(db_->Put(ctx_.write_options, ops_[op].cf, stored, ""),
                         "register timer");
    if (!s.ok()) return s;
    const int slot = kg - options_.key_group_range.start;
    const std::optional<int64_t> head = (*heads)->Get(slot);
    if (!head || timestamp < *head) (*heads)->Set(slot, timestamp);
    return Status::OK();
  }

  StateBackendOptions options_;
  std::string dir_;
  internal::OpenStateShare share_;
  bool ready_db_snapshots_;
  rocksdb::Options db_options_;
  std::shared_ptr<rocksdb::MergeOperator> merge_operator_;
  RocksContext ctx_;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* default_cf_ = nullptr;
  std::map<OperatorId, RocksOperator> ops_;
  std::shared_ptr<internal::RocksSnapshotHub> hub_;
};

}  // namespace

namespace internal {
Status ImportSnapshotIntoRocksDBBackend(KeyedStateBackend& backend,
                                        const BackendSnapshot& snapshot,
                                        const std::string& staging,
                                        const KeyGroupRange* keep) {
  auto* rocks = dynamic_cast<RocksDBBackend*>(&backend);
  if (rocks == nullptr) {
    return Status::InvalidArgument("not a RocksDB backend");
  }
  return rocks->ImportSnapshot(snapshot, staging, keep);
}

Status IngestKeyGroupsIntoRocksDBBackend(KeyedStateBackend& to,
                                         KeyedStateBackend& from,
                                         KeyGroupRange range,
                                         const std::string& staging,
                                         IngestStats* stats) {
  auto* rocks_to = dynamic_cast<RocksDBBackend*>(&to);
  auto* rocks_from = dynamic_cast<RocksDBBackend*>(&from);
  if (rocks_to == nullptr || rocks_from == nullptr) {
    return Status::InvalidArgument("not a RocksDB backend");
  }
  return rocks_to->IngestKeyGroups(*rocks_from, range, staging, stats);
}

Status RemoveRestoredCutMarkers(KeyedStateBackend& backend) {
  auto* rocks = dynamic_cast<RocksDBBackend*>(&backend);
  if (rocks == nullptr) {
    return Status::InvalidArgument("not a RocksDB backend");
  }
  Status s = rocks->ClipToOwnRange();
  if (!s.ok()) return s;
  return rocks->RemoveCutMarkers();
}

Status CompactRocksDBBackendForTesting(KeyedStateBackend& backend) {
  auto* rocks = dynamic_cast<RocksDBBackend*>(&backend);
  if (rocks == nullptr || rocks->raw_db() == nullptr) {
    return Status::InvalidArgument("not an open RocksDB backend");
  }
  rocksdb::DB* db = rocks->raw_db();
  std::vector<rocksdb::LiveFileMetaData> live;
  db->GetLiveFilesMetaData(&live);
  std::set<std::string> names;
  for (const rocksdb::LiveFileMetaData& m : live) {
    names.insert(m.column_family_name);
  }
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction =
      rocksdb::BottommostLevelCompaction::kForce;
  for (const std::string& name : names) {
    rocksdb::ColumnFamilyHandle* cf = rocks->HandleForTesting(name);
    if (cf == nullptr) continue;
    rocksdb::Status rs = db->CompactRange(compact, cf, nullptr, nullptr);
    if (!rs.ok()) return FromRocks(rs, "compact column family " + name);
  }
  return Status::OK();
}

Result<RocksDBOptions::ReadMode> RocksDBReadMode(KeyedStateBackend& backend) {
  auto* rocks = dynamic_cast<RocksDBBackend*>(&backend);
  if (rocks == nullptr || rocks->raw_db() == nullptr) {
    return Status::InvalidArgument("not an open RocksDB backend");
  }
  return rocks->raw_db()->GetDBOptions().allow_mmap_reads
             ? RocksDBOptions::ReadMode::kMmap
             : RocksDBOptions::ReadMode::kPread;
}

Result<bool> RocksDBFileDeletionsEnabled(KeyedStateBackend& backend) {
  auto* rocks = dynamic_cast<RocksDBBackend*>(&backend);
  if (rocks == nullptr || rocks->raw_db() == nullptr) {
    return Status::InvalidArgument("not an open RocksDB backend");
  }
  uint64_t disabled = 0;
  if (!rocks->raw_db()->GetIntProperty(
          rocksdb::DB::Properties::kIsFileDeletionsEnabled, &disabled)) {
    return Status::NotSupported("no property is-file-deletions-enabled");
  }
  // Despite its name and comment, the property is 1 when enabled.
  return disabled != 0;
}
}  // namespace internal

Result<std::unique_ptr<KeyedStateBackend>> OpenRocksDBBackend(
    const StateBackendOptions& options, const RocksDBOptions& rocksdb_options,
    const std::string& dir) {
  return internal::OpenRocksDBBackendSized(options, rocksdb_options, dir, 0);
}

namespace internal {
Result<std::unique_ptr<KeyedStateBackend>> OpenRocksDBBackendSized(
    const StateBackendOptions& options, const RocksDBOptions& rocksdb_options,
    const std::string& dir, uint64_t expected_state_bytes) {
  Result<StateBackendOptions> resolved =
      internal::ResolveBackendOptions(options);
  if (!resolved.ok()) return resolved.status();
  Status s = internal::PrepareStateDir(dir, resolved->max_parallelism);
  if (!s.ok()) return s;
  const uint64_t state_bytes =
      std::max(expected_state_bytes,
               SstBytesIn((std::filesystem::path(dir) / kStateDirDb).string()));
  const uint64_t memory = rocksdb_options.memory_budget_bytes != 0
                              ? rocksdb_options.memory_budget_bytes
                              : ProcessMemoryLimitBytes();
  const RocksDBOptions rocks = ResolveAutoOptions(
      rocksdb_options, state_bytes, OpenRocksDBStateBytes(), memory);
  auto backend = std::make_unique<RocksDBBackend>(
      std::move(*resolved), rocks, dir, OpenStateShare(state_bytes));
  s = backend->Open();
  if (!s.ok()) return s;
  return std::unique_ptr<KeyedStateBackend>(std::move(backend));
}
}  // namespace internal

}  // namespace weir
