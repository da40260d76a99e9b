// SPDX-License-Identifier: Apache-2.0
//
// Keyed states of the RocksDB backend, the list merge operator, and the
// compaction filter that drops expired TTL entries.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/merge_operator.h>

#include <weir/clock.h>
#include <weir/raw_state.h>

#include "backends/backend.h"
#include "backends/common/state_registry.h"
#include "backends/current_key.h"

namespace weir::internal {

// What every state of one backend shares.
struct RocksContext {
  RocksContext(int max_parallelism, KeyGroupRange range, const Clock* c)
      : key(max_parallelism, range), clock(c) {
    write_options.disableWAL = true;
  }

  rocksdb::DB* db = nullptr;
  CurrentKey key;
  const Clock* clock;
  rocksdb::WriteOptions write_options;
  rocksdb::ReadOptions read_options;
};

class RocksState {
 public:
  RocksState(RocksContext* ctx, rocksdb::ColumnFamilyHandle* cf,
             const RawStateDescriptor& d)
      : ctx_(ctx), cf_(cf), descriptor_(d), id_(StateIdForName(d.name)) {}
  virtual ~RocksState() = default;

  const RawStateDescriptor& descriptor() const { return descriptor_; }
  void set_descriptor(const RawStateDescriptor& d) { descriptor_ = d; }
  uint32_t id() const { return id_; }

  // Visits the live entries of one stored key-value pair of this state.
  // `tail` is the key after [key group][state id].
  virtual Status VisitStored(std::string_view tail, std::string_view value,
                             int64_t now, const StateEntryVisitor& visitor);
  // Writes an imported entry for the key in `entry`.
  Status Import(int key_group, const StateEntry& entry);

 protected:
  // Now, or 0 when the state has no TTL (hot paths skip the clock).
  int64_t Now() const {
    return descriptor_.ttl.enabled() ? ctx_->clock->NowMillis() : 0;
  }
  bool RefreshOnRead() const {
    return descriptor_.ttl.enabled() &&
           descriptor_.ttl.update_type ==
               StateTtlConfig::UpdateType::kOnReadAndWrite;
  }
  // [kg][id][len key][len ns] of the current key.
  const std::string& Key(std::string_view ns);
  // Value bytes as stored: with the TTL header when the state has a TTL.
  std::string_view Stored(std::string_view value, int64_t ts);
  // Splits a stored value; false if the entry has expired at `now`.
  bool Unwrap(std::string_view stored, int64_t now, std::string_view* value,
              int64_t* ts, Status* error) const;
  Status CorruptValue() const;
  // OK, or the RocksDB error with "<verb> state '<name>'" as context (built
  // only on failure: this is on every read and write).
  Status Checked(const rocksdb::Status& s, std::string_view verb) const;

  RocksContext* ctx_;
  rocksdb::ColumnFamilyHandle* cf_;
  RawStateDescriptor descriptor_;
  uint32_t id_;
  std::string key_buf_;
  std::string value_buf_;
  rocksdb::PinnableSlice pinned_;
};

std::unique_ptr<RocksState> NewRocksState(RocksContext* ctx,
                                          rocksdb::ColumnFamilyHandle* cf,
                                          const RawStateDescriptor& d);

// Concatenates list values: both sides are sequences of [len][element].
std::shared_ptr<rocksdb::MergeOperator> NewListAppendOperator();

// The TTL settings of one operator's states, read by its compaction filter
// on RocksDB's background threads.
class TtlTable {
 public:
  struct Entry {
    StateFamily family;
    StateTtlConfig ttl;
  };
  void Set(uint32_t state_id, const Entry& entry) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_[state_id] = entry;
  }
  std::unordered_map<uint32_t, Entry> Snapshot() const {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_;
  }

 private:
  mutable std::mutex mu_;
  std::unordered_map<uint32_t, Entry> entries_;
};

std::shared_ptr<rocksdb::CompactionFilterFactory> NewTtlFilterFactory(
    std::shared_ptr<TtlTable> table, std::shared_ptr<Clock> clock);

}  // namespace weir::internal
