// SPDX-License-Identifier: Apache-2.0
#include "backends/rocksdb/rocksdb_backend.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include <rocksdb/db.h>
#include <rocksdb/metadata.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include "backends/common/backend_options.h"
#include "backends/common/state_registry.h"
#include "backends/rocksdb/rocksdb_backend_impl.h"
#include "backends/rocksdb/rocksdb_iterator.h"
#include "backends/rocksdb/rocksdb_read_mode.h"
#include "backends/rocksdb/rocksdb_state_dir.h"
#include "backends/rocksdb/rocksdb_util.h"
#include "lib/coding.h"
#include "lib/memory_limit.h"

namespace weir::internal {

namespace {

std::string RecordKey(char tag, const OperatorId& op, std::string_view name) {
  std::string key(1, tag);
  key.append(op.bytes());
  key.append(name);
  return key;
}

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

}  // namespace

RocksDBBackend::RocksDBBackend(StateBackendOptions options,
                               const RocksDBOptions& rocks, std::string dir,
                               internal::OpenStateShare share)
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

RocksDBBackend::~RocksDBBackend() { Close().IgnoreError(); }

Status RocksDBBackend::Open() {
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
      descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions(db_options_));
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
  rocksdb::Status rs = rocksdb::DB::Open(rocksdb::DBOptions(db_options_), path,
                                         descriptors, &handles, &db);
  if (!rs.ok()) {
    ops_.Clear();
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

Status RocksDBBackend::Close() {
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

Result<RawValueState*> RocksDBBackend::GetValueState(
    const OperatorId& op, const RawStateDescriptor& d) {
  return AsRawState<RawValueState>(GetOrCreate(op, d, StateFamily::kValue));
}

Result<RawListState*> RocksDBBackend::GetListState(
    const OperatorId& op, const RawStateDescriptor& d) {
  return AsRawState<RawListState>(GetOrCreate(op, d, StateFamily::kList));
}

Result<RawMapState*> RocksDBBackend::GetMapState(const OperatorId& op,
                                                 const RawStateDescriptor& d) {
  return AsRawState<RawMapState>(GetOrCreate(op, d, StateFamily::kMap));
}

Result<RawOperatorListState*> RocksDBBackend::GetOperatorListState(
    const OperatorId& op, std::string_view name, OperatorStateMode mode) {
  return ops_.OpenList(
      op, name, mode, [&]() -> Result<std::unique_ptr<RocksOperatorList>> {
        auto list = std::make_unique<RocksOperatorList>(
            &ctx_, default_cf_, RecordKey(kOperatorListTag, op, name), mode);
        Status s = list->Update({});
        if (!s.ok()) return s;
        return list;
      });
}

Status RocksDBBackend::RegisterTimer(const OperatorId& op, TimeDomain domain,
                                     int64_t timestamp, std::string_view ns) {
  if (!ctx_.key.is_set()) return NoCurrentKey();
  return PutTimer(op, domain, ctx_.key.key_group(), timestamp, ctx_.key.key(),
                  ns);
}

Status RocksDBBackend::DeleteTimer(const OperatorId& op, TimeDomain domain,
                                   int64_t timestamp, std::string_view ns) {
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

Result<std::optional<int64_t>> RocksDBBackend::NextTimerTimestamp(
    const OperatorId& op, TimeDomain domain) {
  Result<internal::TimerHeads*> heads = Heads(op, domain, false);
  if (!heads.ok()) return heads.status();
  if (*heads == nullptr) return std::optional<int64_t>();
  auto min = (*heads)->Min();
  if (!min) return std::optional<int64_t>();
  return std::optional<int64_t>(min->first);
}

Result<std::optional<Timer>> RocksDBBackend::PopTimer(const OperatorId& op,
                                                      TimeDomain domain,
                                                      int64_t max_timestamp) {
  Result<internal::TimerHeads*> heads = Heads(op, domain, false);
  if (!heads.ok()) return heads.status();
  if (*heads == nullptr) return std::optional<Timer>();
  auto min = (*heads)->Min();
  if (!min || min->first > max_timestamp) return std::optional<Timer>();
  const int slot = min->second;
  const int kg = options_.key_group_range.start + slot;
  rocksdb::ColumnFamilyHandle* cf = ops_[op].cf;
  PrefixIterator it(db_.get(), ctx_.read_options, cf, TimerPrefix(kg, domain));
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

std::vector<OperatorId> RocksDBBackend::Operators() const { return ops_.Ids(); }

std::vector<RawStateDescriptor> RocksDBBackend::States(
    const OperatorId& op) const {
  return ops_.Descriptors(op);
}

Status RocksDBBackend::ForEachEntry(const OperatorId& op, int key_group,
                                    const StateEntryVisitor& visitor) {
  if (!options_.key_group_range.Contains(key_group)) {
    return ctx_.key.OutOfRange(key_group);
  }
  const RocksOperator* found = ops_.Find(op);
  if (found == nullptr || found->cf == nullptr) return Status::OK();
  const RocksOperator& rop = *found;
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

Status RocksDBBackend::ForEachKey(
    const OperatorId& op, std::string_view state_name,
    const std::function<Status(std::string_view, std::string_view)>& visitor) {
  Result<RocksState*> found = ops_.FindState(op, state_name);
  if (!found.ok()) return found.status();
  RocksState* state = *found;
  rocksdb::ColumnFamilyHandle* cf = ops_.Find(op)->cf;
  const int64_t now = options_.clock->NowMillis();
  std::string last_key, last_ns;
  bool have_last = false;
  for (int kg = options_.key_group_range.start;
       kg <= options_.key_group_range.end; ++kg) {
    std::string prefix;
    internal::AppendStateKeyPrefix(&prefix, kg, state->id());
    PrefixIterator it(db_.get(), ctx_.read_options, cf, prefix);
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

Status RocksDBBackend::ImportEntry(const OperatorId& op,
                                   const StateEntry& entry) {
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

Result<std::vector<KeyedStateBackend::OperatorStateEntry>>
RocksDBBackend::OperatorStates(const OperatorId& op) {
  return ops_.ListStates(op);
}

Status RocksDBBackend::Flush() {
  if (!db_) return Status::OK();
  std::vector<rocksdb::ColumnFamilyHandle*> cfs{default_cf_};
  for (auto& [_, rop] : ops_) {
    if (rop.cf != nullptr) cfs.push_back(rop.cf);
  }
  rocksdb::FlushOptions flush;
  flush.wait = true;
  return FromRocks(db_->Flush(flush, cfs), "flush RocksDB in " + dir_);
}

StateReadMode RocksDBBackend::read_mode() const {
  if (!db_) return StateReadMode::kNone;
  return db_->GetDBOptions().allow_mmap_reads ? StateReadMode::kMmap
                                              : StateReadMode::kPread;
}

rocksdb::ColumnFamilyHandle* RocksDBBackend::HandleForTesting(
    const std::string& name) {
  if (name == rocksdb::kDefaultColumnFamilyName) return default_cf_;
  for (auto& [op, rop] : ops_) {
    if (op.ToHex() == name) return rop.cf;
  }
  return nullptr;
}

rocksdb::ColumnFamilyOptions RocksDBBackend::OperatorCfOptions(
    const RocksOperator& rop) {
  rocksdb::ColumnFamilyOptions cf(db_options_);
  cf.merge_operator = merge_operator_;
  cf.compaction_filter_factory =
      internal::NewTtlFilterFactory(rop.ttl, options_.clock);
  return cf;
}

Result<RocksOperator*> RocksDBBackend::EnsureOperator(const OperatorId& op) {
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

Result<RocksState*> RocksDBBackend::GetOrCreate(const OperatorId& op,
                                                const RawStateDescriptor& d,
                                                StateFamily family) {
  Status s = internal::ValidateDescriptor(op, d, family);
  if (!s.ok()) return s;
  Result<RocksOperator*> rop = EnsureOperator(op);
  if (!rop.ok()) return rop.status();
  RocksOperator& r = **rop;
  return r.OpenState(
      op, d,
      [&](const RawStateDescriptor& desc) {
        return PersistDescriptor(op, r, desc);
      },
      [&](const RawStateDescriptor& desc) {
        return internal::NewRocksState(&ctx_, r.cf, desc);
      });
}

Status RocksDBBackend::PersistDescriptor(const OperatorId& op,
                                         RocksOperator& rop,
                                         const RawStateDescriptor& d) {
  std::string record;
  internal::EncodeDescriptor(d, &record);
  Status s = FromRocks(db_->Put(ctx_.write_options, default_cf_,
                                RecordKey(kDescriptorTag, op, d.name), record),
                       "register " + internal::DescribeState(op, d.name));
  if (s.ok()) {
    rop.ttl->Set(internal::StateIdForName(d.name),
                 {internal::FamilyOf(d.type), d.ttl});
  }
  return s;
}

Status RocksDBBackend::LoadRecords() {
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
          return Status::Corruption("malformed operator state record '" + name +
                                    "' in " + dir_);
        }
        rop.lists.emplace(name,
                          std::make_unique<RocksOperatorList>(
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
      rop.AddState(internal::NewRocksState(&ctx_, rop.cf, d));
    }
    Status s = it.status("read records of " + dir_);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

std::string RocksDBBackend::TimerPrefix(int kg, TimeDomain domain) const {
  std::string prefix;
  internal::AppendStateKeyPrefix(
      &prefix, kg, internal::TimerStateId(static_cast<int>(domain)));
  return prefix;
}

Result<internal::TimerHeads*> RocksDBBackend::Heads(const OperatorId& op,
                                                    TimeDomain domain,
                                                    bool create) {
  RocksOperator* rop = nullptr;
  if (create) {
    Result<RocksOperator*> ensured = EnsureOperator(op);
    if (!ensured.ok()) return ensured.status();
    rop = *ensured;
  } else {
    rop = ops_.Find(op);
    if (rop == nullptr || rop->cf == nullptr) {
      return static_cast<internal::TimerHeads*>(nullptr);
    }
  }
  auto& heads = rop->heads[static_cast<int>(domain)];
  if (!heads) {
    auto fresh =
        std::make_unique<internal::TimerHeads>(options_.key_group_range.size());
    for (int kg = options_.key_group_range.start;
         kg <= options_.key_group_range.end; ++kg) {
      Status s = RefreshHead(op, domain, kg, fresh.get());
      if (!s.ok()) return s;
    }
    heads = std::move(fresh);
  }
  return heads.get();
}

Status RocksDBBackend::RefreshHead(const OperatorId& op, TimeDomain domain,
                                   int kg, internal::TimerHeads* heads) {
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

Status RocksDBBackend::PutTimer(const OperatorId& op, TimeDomain domain, int kg,
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

Status RocksDBBackend::RemoveRestoredCutMarkers() {
  Status s = ClipToOwnRange();
  if (!s.ok()) return s;
  return RemoveCutMarkers();
}

Status RocksDBBackend::CompactForTesting() {
  if (!db_) return Status::InvalidArgument("the backend is closed");
  std::vector<rocksdb::LiveFileMetaData> live;
  db_->GetLiveFilesMetaData(&live);
  std::set<std::string> names;
  for (const rocksdb::LiveFileMetaData& m : live) {
    names.insert(m.column_family_name);
  }
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction =
      rocksdb::BottommostLevelCompaction::kForce;
  for (const std::string& name : names) {
    rocksdb::ColumnFamilyHandle* cf = HandleForTesting(name);
    if (cf == nullptr) continue;
    rocksdb::Status rs = db_->CompactRange(compact, cf, nullptr, nullptr);
    if (!rs.ok()) return FromRocks(rs, "compact column family " + name);
  }
  return Status::OK();
}

Result<bool> RocksDBBackend::FileDeletionsEnabled() {
  if (!db_) return Status::InvalidArgument("the backend is closed");
  uint64_t disabled = 0;
  if (!db_->GetIntProperty(rocksdb::DB::Properties::kIsFileDeletionsEnabled,
                           &disabled)) {
    return Status::NotSupported("no property is-file-deletions-enabled");
  }
  // Despite its name and comment, the property is 1 when enabled.
  return disabled != 0;
}

Result<std::unique_ptr<RocksDBBackend>> OpenRocksDBBackendSized(
    const StateBackendOptions& options, const RocksDBOptions& rocksdb_options,
    const std::string& dir, uint64_t expected_state_bytes) {
  Result<StateBackendOptions> resolved = ResolveBackendOptions(options);
  if (!resolved.ok()) return resolved.status();
  Status s = PrepareStateDir(dir, resolved->max_parallelism);
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
  return backend;
}

}  // namespace weir::internal

namespace weir {

Result<std::unique_ptr<KeyedStateBackend>> OpenRocksDBBackend(
    const StateBackendOptions& options, const RocksDBOptions& rocksdb_options,
    const std::string& dir) {
  Result<std::unique_ptr<internal::RocksDBBackend>> backend =
      internal::OpenRocksDBBackendSized(options, rocksdb_options, dir, 0);
  if (!backend.ok()) return backend.status();
  return std::unique_ptr<KeyedStateBackend>(std::move(*backend));
}

}  // namespace weir
