// SPDX-License-Identifier: Apache-2.0
#include "backends/rocksdb/rocksdb_states.h"

#include <rocksdb/write_batch.h>

#include "backends/rocksdb/rocksdb_backend.h"
#include "backends/rocksdb/rocksdb_iterator.h"
#include "backends/rocksdb/rocksdb_util.h"
#include "lib/coding.h"

namespace weir::internal {

// ---------------------------------------------------------------- base

const std::string& RocksState::Key(std::string_view ns) {
  key_buf_.clear();
  AppendStateKeyPrefix(&key_buf_, ctx_->key.key_group(), id_);
  key_buf_.append(ctx_->key.encoded());
  PutLengthPrefixed(&key_buf_, ns);
  return key_buf_;
}

std::string_view RocksState::Stored(std::string_view value, int64_t ts) {
  if (!descriptor_.ttl.enabled()) return value;
  value_buf_.clear();
  AppendTtlHeader(ts, &value_buf_);
  value_buf_.append(value);
  return value_buf_;
}

bool RocksState::Unwrap(std::string_view stored, int64_t now,
                        std::string_view* value, int64_t* ts,
                        Status* error) const {
  if (!descriptor_.ttl.enabled()) {
    *value = stored;
    *ts = 0;
    return true;
  }
  if (!SplitTtlHeader(stored, ts, value)) {
    *error = CorruptValue();
    return false;
  }
  return !IsExpired(descriptor_.ttl, *ts, now);
}

Status RocksState::Checked(const rocksdb::Status& s,
                           std::string_view verb) const {
  if (s.ok()) return Status::OK();
  return FromRocks(s, std::string(verb) + " state '" + descriptor_.name + "'");
}

Status RocksState::CorruptValue() const {
  return Status::Corruption("stored value of state '" + descriptor_.name +
                            "' is malformed");
}

Status RocksState::VisitStored(std::string_view tail, std::string_view value,
                               int64_t now, const StateEntryVisitor& visitor) {
  StateEntry entry;
  entry.state = &descriptor_;
  if (!GetLengthPrefixed(&tail, &entry.key) ||
      !GetLengthPrefixed(&tail, &entry.ns)) {
    return Status::Corruption("malformed key in state '" + descriptor_.name +
                              "'");
  }
  const StateFamily family = FamilyOf(descriptor_.type);
  if (family != StateFamily::kMap && !tail.empty()) {
    return Status::Corruption("malformed key in state '" + descriptor_.name +
                              "'");
  }
  Status error;
  if (family == StateFamily::kList) {
    std::vector<std::string_view> elements;
    if (!DecodeListElements(value, &elements)) return CorruptValue();
    entry.kind = StateEntry::Kind::kListElement;
    for (std::string_view element : elements) {
      if (!Unwrap(element, now, &entry.value, &entry.timestamp, &error)) {
        if (!error.ok()) return error;
        continue;
      }
      Status s = visitor(entry);
      if (!s.ok()) return s;
    }
    return Status::OK();
  }
  entry.kind = family == StateFamily::kMap ? StateEntry::Kind::kMapEntry
                                           : StateEntry::Kind::kValue;
  entry.user_key = tail;
  if (!Unwrap(value, now, &entry.value, &entry.timestamp, &error)) {
    return error;
  }
  return visitor(entry);
}

Status RocksState::Import(int key_group, const StateEntry& entry) {
  std::string key;
  AppendStateKeyPrefix(&key, key_group, id_);
  PutLengthPrefixed(&key, entry.key);
  PutLengthPrefixed(&key, entry.ns);
  key.append(entry.user_key);
  const std::string_view stored = Stored(entry.value, entry.timestamp);
  rocksdb::Status s;
  if (FamilyOf(descriptor_.type) == StateFamily::kList) {
    std::string element;
    PutLengthPrefixed(&element, stored);
    s = ctx_->db->Merge(ctx_->write_options, cf_, key, element);
  } else {
    s = ctx_->db->Put(ctx_->write_options, cf_, key, ToSlice(stored));
  }
  return Checked(s, "import into");
}

namespace {

// ---------------------------------------------------------------- value

class RocksValueState final : public RocksState, public RawValueState {
 public:
  using RocksState::RocksState;

  Result<bool> Get(std::string_view ns, std::string* value) override {
    const std::string& key = Key(ns);
    rocksdb::Status rs = ctx_->db->Get(ctx_->read_options, cf_, key, &pinned_);
    if (rs.IsNotFound()) return false;
    if (!rs.ok()) return Checked(rs, "read");
    const int64_t now = Now();
    std::string_view bytes;
    int64_t ts;
    Status error;
    const bool live = Unwrap(ToView(pinned_), now, &bytes, &ts, &error);
    if (live) value->assign(bytes);
    pinned_.Reset();
    if (!error.ok()) return error;
    if (!live) return false;
    if (RefreshOnRead()) {
      Status s = Write(key, *value, now);
      if (!s.ok()) return s;
    }
    return true;
  }

  Status Put(std::string_view ns, std::string_view value) override {
    return Write(Key(ns), value, Now());
  }

  Status Clear(std::string_view ns) override {
    return Checked(ctx_->db->Delete(ctx_->write_options, cf_, Key(ns)),
                   "clear");
  }

 private:
  Status Write(const std::string& key, std::string_view value, int64_t now) {
    return Checked(ctx_->db->Put(ctx_->write_options, cf_, key,
                                 ToSlice(Stored(value, now))),
                   "write");
  }
};

// ---------------------------------------------------------------- list

class RocksListState final : public RocksState, public RawListState {
 public:
  using RocksState::RocksState;

  Status Get(std::string_view ns, std::vector<std::string>* values) override {
    values->clear();
    const std::string& key = Key(ns);
    rocksdb::Status rs = ctx_->db->Get(ctx_->read_options, cf_, key, &pinned_);
    if (rs.IsNotFound()) return Status::OK();
    if (!rs.ok()) return Checked(rs, "read");
    std::vector<std::string_view> elements;
    const bool well_formed = DecodeListElements(ToView(pinned_), &elements);
    const int64_t now = Now();
    Status error;
    // Survivors keep their own write times unless reading refreshes them.
    std::vector<int64_t> stamps;
    for (std::string_view element : elements) {
      std::string_view bytes;
      int64_t ts;
      if (Unwrap(element, now, &bytes, &ts, &error)) {
        values->emplace_back(bytes);
        stamps.push_back(RefreshOnRead() ? now : ts);
      } else if (!error.ok()) {
        break;
      }
    }
    const bool changed = RefreshOnRead() || values->size() != elements.size();
    pinned_.Reset();
    if (!well_formed) return CorruptValue();
    if (!error.ok()) return error;
    if (changed) return Rewrite(key, *values, stamps);
    return Status::OK();
  }

  Status Add(std::string_view ns, std::string_view value) override {
    element_buf_.clear();
    PutLengthPrefixed(&element_buf_, Stored(value, Now()));
    return Checked(
        ctx_->db->Merge(ctx_->write_options, cf_, Key(ns), element_buf_),
        "add to");
  }

  Status Update(std::string_view ns,
                std::span<const std::string> values) override {
    return Rewrite(Key(ns), values, std::vector<int64_t>(values.size(), Now()));
  }

  Status Clear(std::string_view ns) override {
    return Checked(ctx_->db->Delete(ctx_->write_options, cf_, Key(ns)),
                   "clear");
  }

 private:
  // Replaces the list at `key` (copied: Stored() reuses buffers); element
  // i gets write time stamps[i].
  Status Rewrite(std::string key, std::span<const std::string> values,
                 const std::vector<int64_t>& stamps) {
    rocksdb::Status s;
    if (values.empty()) {
      s = ctx_->db->Delete(ctx_->write_options, cf_, key);
    } else {
      element_buf_.clear();
      for (size_t i = 0; i < values.size(); ++i) {
        PutLengthPrefixed(&element_buf_, Stored(values[i], stamps[i]));
      }
      s = ctx_->db->Put(ctx_->write_options, cf_, key, element_buf_);
    }
    return Checked(s, "write");
  }

  std::string element_buf_;
};

// ---------------------------------------------------------------- map

class RocksMapState final : public RocksState, public RawMapState {
 public:
  using RocksState::RocksState;

  Result<bool> Get(std::string_view ns, std::string_view user_key,
                   std::string* value) override {
    return Find(ns, user_key, value);
  }

  Status Put(std::string_view ns, std::string_view user_key,
             std::string_view value) override {
    EntryKey(ns, user_key);
    return Write(value, Now());
  }

  Status Remove(std::string_view ns, std::string_view user_key) override {
    return Checked(
        ctx_->db->Delete(ctx_->write_options, cf_, EntryKey(ns, user_key)),
        "remove from");
  }

  Result<bool> Contains(std::string_view ns,
                        std::string_view user_key) override {
    return Find(ns, user_key, nullptr);
  }

  Result<bool> IsEmpty(std::string_view ns) override {
    PrefixIterator it(ctx_->db, ctx_->read_options, cf_, Key(ns));
    const int64_t now = Now();
    for (; it.Valid(); it.Next()) {
      std::string_view bytes;
      int64_t ts;
      Status error;
      if (Unwrap(ToView(it.value()), now, &bytes, &ts, &error)) return false;
      if (!error.ok()) return error;
    }
    Status s = it.status("read state '" + descriptor_.name + "'");
    if (!s.ok()) return s;
    return true;
  }

  Status ForEach(std::string_view ns, const EntryVisitor& visitor) override {
    return Walk(ns, visitor);
  }

  Status Clear(std::string_view ns) override {
    PrefixIterator it(ctx_->db, ctx_->read_options, cf_, Key(ns));
    rocksdb::WriteBatch batch;
    for (; it.Valid(); it.Next()) {
      rocksdb::Status s = batch.Delete(cf_, it.key());
      if (!s.ok()) return Checked(s, "clear");
    }
    Status s = it.status("clear state '" + descriptor_.name + "'");
    if (!s.ok()) return s;
    return Checked(ctx_->db->Write(ctx_->write_options, &batch), "clear");
  }

 private:
  const std::string& EntryKey(std::string_view ns, std::string_view user_key) {
    Key(ns);
    key_buf_.append(user_key);
    return key_buf_;
  }

  Status Write(std::string_view value, int64_t now) {
    return Checked(ctx_->db->Put(ctx_->write_options, cf_, key_buf_,
                                 ToSlice(Stored(value, now))),
                   "write");
  }

  // Looks up one entry; copies its value to *value unless null.
  Result<bool> Find(std::string_view ns, std::string_view user_key,
                    std::string* value) {
    EntryKey(ns, user_key);
    rocksdb::Status rs =
        ctx_->db->Get(ctx_->read_options, cf_, key_buf_, &pinned_);
    if (rs.IsNotFound()) return false;
    if (!rs.ok()) return Checked(rs, "read");
    const int64_t now = Now();
    std::string_view bytes;
    int64_t ts;
    Status error;
    const bool live = Unwrap(ToView(pinned_), now, &bytes, &ts, &error);
    std::string copy;
    if (live && (value != nullptr || RefreshOnRead())) copy.assign(bytes);
    pinned_.Reset();
    if (!error.ok()) return error;
    if (!live) return false;
    if (RefreshOnRead()) {
      Status s = Write(copy, now);
      if (!s.ok()) return s;
    }
    if (value != nullptr) *value = std::move(copy);
    return true;
  }

  // Visits the live entries of the current key and `ns` in key order. With
  // kOnReadAndWrite every visited entry counts as read, as in Flink's
  // TtlMapState, and gets a new write time.
  Status Walk(std::string_view ns, const EntryVisitor& visitor) {
    const std::string prefix = Key(ns);
    PrefixIterator it(ctx_->db, ctx_->read_options, cf_, prefix);
    const int64_t now = Now();
    rocksdb::WriteBatch refreshed;
    for (; it.Valid(); it.Next()) {
      std::string_view bytes;
      int64_t ts;
      Status error;
      if (!Unwrap(ToView(it.value()), now, &bytes, &ts, &error)) {
        if (!error.ok()) return error;
        continue;
      }
      Status s = visitor(ToView(it.key()).substr(prefix.size()), bytes);
      if (!s.ok()) return s;
      if (RefreshOnRead()) {
        s = Checked(refreshed.Put(cf_, it.key(), ToSlice(Stored(bytes, now))),
                    "refresh");
        if (!s.ok()) return s;
      }
    }
    Status s = it.status("read state '" + descriptor_.name + "'");
    if (!s.ok() || refreshed.Count() == 0) return s;
    return Checked(ctx_->db->Write(ctx_->write_options, &refreshed), "refresh");
  }
};

// ---------------------------------------------------------------- merge

class ListAppendOperator final : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice&, const rocksdb::Slice* existing,
             const rocksdb::Slice& value, std::string* new_value,
             rocksdb::Logger*) const override {
    new_value->clear();
    new_value->reserve((existing ? existing->size() : 0) + value.size());
    if (existing != nullptr)
      new_value->append(existing->data(), existing->size());
    new_value->append(value.data(), value.size());
    return true;
  }
  const char* Name() const override { return "weir.ListAppend"; }
};

// ---------------------------------------------------------------- TTL

class TtlFilter final : public rocksdb::CompactionFilter {
 public:
  TtlFilter(std::unordered_map<uint32_t, TtlTable::Entry> entries, int64_t now)
      : entries_(std::move(entries)), now_(now) {}

  Decision FilterV2(int, const rocksdb::Slice& key, ValueType type,
                    const rocksdb::Slice& existing, std::string* new_value,
                    std::string*) const override {
    if (type != ValueType::kValue) return Decision::kKeep;
    std::string_view k = ToView(key);
    uint16_t kg;
    uint32_t id;
    if (!GetFixed16BE(&k, &kg) || !GetFixed32BE(&k, &id))
      return Decision::kKeep;
    auto it = entries_.find(id);
    if (it == entries_.end() || !it->second.ttl.enabled()) {
      return Decision::kKeep;
    }
    const StateTtlConfig& ttl = it->second.ttl;
    int64_t ts;
    std::string_view bytes;
    if (it->second.family != StateFamily::kList) {
      if (!SplitTtlHeader(ToView(existing), &ts, &bytes))
        return Decision::kKeep;
      return IsExpired(ttl, ts, now_) ? Decision::kRemove : Decision::kKeep;
    }
    std::vector<std::string_view> elements;
    if (!DecodeListElements(ToView(existing), &elements))
      return Decision::kKeep;
    std::string kept;
    size_t live = 0;
    for (std::string_view element : elements) {
      if (!SplitTtlHeader(element, &ts, &bytes)) return Decision::kKeep;
      if (IsExpired(ttl, ts, now_)) continue;
      ++live;
      PutLengthPrefixed(&kept, element);
    }
    if (live == elements.size()) return Decision::kKeep;
    if (live == 0) return Decision::kRemove;
    *new_value = std::move(kept);
    return Decision::kChangeValue;
  }

  const char* Name() const override { return "weir.TtlFilter"; }

 private:
  std::unordered_map<uint32_t, TtlTable::Entry> entries_;
  int64_t now_;
};

class TtlFilterFactory final : public rocksdb::CompactionFilterFactory {
 public:
  TtlFilterFactory(std::shared_ptr<TtlTable> table,
                   std::shared_ptr<Clock> clock)
      : table_(std::move(table)), clock_(std::move(clock)) {}

  std::unique_ptr<rocksdb::CompactionFilter> CreateCompactionFilter(
      const rocksdb::CompactionFilter::Context&) override {
    return std::make_unique<TtlFilter>(table_->Snapshot(), clock_->NowMillis());
  }
  const char* Name() const override { return "weir.TtlFilterFactory"; }

 private:
  std::shared_ptr<TtlTable> table_;
  std::shared_ptr<Clock> clock_;
};

}  // namespace

std::unique_ptr<RocksState> NewRocksState(RocksContext* ctx,
                                          rocksdb::ColumnFamilyHandle* cf,
                                          const RawStateDescriptor& d) {
  switch (FamilyOf(d.type)) {
    case StateFamily::kList:
      return std::make_unique<RocksListState>(ctx, cf, d);
    case StateFamily::kMap:
      return std::make_unique<RocksMapState>(ctx, cf, d);
    case StateFamily::kValue:
      break;
  }
  return std::make_unique<RocksValueState>(ctx, cf, d);
}

std::shared_ptr<rocksdb::MergeOperator> NewListAppendOperator() {
  return std::make_shared<ListAppendOperator>();
}

std::shared_ptr<rocksdb::CompactionFilterFactory> NewTtlFilterFactory(
    std::shared_ptr<TtlTable> table, std::shared_ptr<Clock> clock) {
  return std::make_shared<TtlFilterFactory>(std::move(table), std::move(clock));
}

}  // namespace weir::internal
