// SPDX-License-Identifier: Apache-2.0
//
// KeyedStateBackend: the state of the operators of one task. It extends the
// operator-facing KeyedStateStore (include/weir/raw_state.h) with what the
// engine needs beyond state access: timers, and iteration and import of
// state in a backend-neutral form, one key group at a time (snapshots,
// canonical savepoints and rescaling are built on that).
//
// Two implementations behave the same, and one conformance suite
// (tests/backends/) holds them to it: memory/ (hash maps) and rocksdb/ (one
// RocksDB instance, one column family per operator).
//
// Thread safety: a backend belongs to one task thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <weir/raw_state.h>

#include "backends/snapshot.h"

namespace weir {

struct Timer {
  int64_t timestamp = 0;
  std::string key;
  std::string ns;

  auto operator<=>(const Timer&) const = default;
};

// One entry of keyed state found by iteration. Views are valid only during
// the visitor call.
struct StateEntry {
  enum class Kind : uint8_t { kValue, kListElement, kMapEntry, kTimer };

  Kind kind = Kind::kValue;
  // The state the entry belongs to; null for timers.
  const RawStateDescriptor* state = nullptr;
  TimeDomain timer_domain = TimeDomain::kEventTime;
  std::string_view key;
  std::string_view ns;
  std::string_view user_key;  // map entries
  std::string_view value;     // values, list elements, map entries
  // Timers: the timer's time. States with TTL: the entry's last write (or
  // access) time in ms. Otherwise 0.
  int64_t timestamp = 0;
};

using StateEntryVisitor = std::function<Status(const StateEntry&)>;

// How a backend reads its state from storage, for reports (JobInfo's
// state_read_* counters). kNone: it keeps its state in memory.
enum class StateReadMode : uint8_t { kNone, kMmap, kPread };

class KeyedStateBackend : public KeyedStateStore {
 public:
  // ---- Timers. One timer per (operator, domain, key, namespace, time).

  // Registers a timer for the current key; registering it twice keeps one.
  virtual Status RegisterTimer(const OperatorId& op, TimeDomain domain,
                               int64_t timestamp, std::string_view ns) = 0;
  // Deletes a timer of the current key; OK if there is none.
  virtual Status DeleteTimer(const OperatorId& op, TimeDomain domain,
                             int64_t timestamp, std::string_view ns) = 0;
  // The earliest timer's time, or nullopt if there is none.
  virtual Result<std::optional<int64_t>> NextTimerTimestamp(
      const OperatorId& op, TimeDomain domain) = 0;
  // Removes and returns the earliest timer if its time is <= max_timestamp.
  // Ties are broken by key group, then by the bytes of
  // [varint len][key][varint len][namespace] (so a shorter key comes first).
  virtual Result<std::optional<Timer>> PopTimer(const OperatorId& op,
                                                TimeDomain domain,
                                                int64_t max_timestamp) = 0;

  // ---- Inspection, snapshots and restore.

  // Operators that have state here (keyed or operator state), sorted.
  virtual std::vector<OperatorId> Operators() const = 0;
  // The keyed states registered for `op`, sorted by name.
  virtual std::vector<RawStateDescriptor> States(
      const OperatorId& op) const = 0;

  // Visits every live entry of `op` in `key_group` (expired TTL entries are
  // skipped): values, list elements in list order, map entries, timers. The
  // order across states and keys is unspecified. A non-OK status from the
  // visitor stops the walk and is returned.
  virtual Status ForEachEntry(const OperatorId& op, int key_group,
                              const StateEntryVisitor& visitor) = 0;

  // Visits each (key, namespace) that has a live entry in state `state_name`
  // of `op`, once, over the whole key-group range. NotFound if the state is
  // not registered.
  virtual Status ForEachKey(
      const OperatorId& op, std::string_view state_name,
      const std::function<Status(std::string_view key, std::string_view ns)>&
          visitor) = 0;

  // Inserts an entry as found by ForEachEntry of any backend, registering
  // its state if needed: list elements are appended, map entries and values
  // overwrite, timers are registered; TTL timestamps are kept. The entry's
  // key must belong to this backend's key-group range. The current key is
  // left unspecified.
  virtual Status ImportEntry(const OperatorId& op, const StateEntry& entry) = 0;

  // Operator list states of `op`: name, mode and elements.
  struct OperatorStateEntry {
    std::string name;
    OperatorStateMode mode = OperatorStateMode::kSplit;
    std::vector<std::string> values;
  };
  virtual Result<std::vector<OperatorStateEntry>> OperatorStates(
      const OperatorId& op) = 0;

  // Makes all writes durable in the backend's own storage (RocksDB: flush
  // memtables). The memory backend has nothing to do.
  virtual Status Flush() = 0;

  // ---- Checkpoint snapshots (two phases; backends/snapshot.h).

  // The synchronous phase of a snapshot for checkpoint `checkpoint_id`: cuts
  // the state as it is now, cheaply, and returns the asynchronous phase.
  // Writes made after it returns are not in the snapshot. The files of the
  // snapshot go into `local_dir` (created if needed; a hard link there
  // shares the inode with the live state, so never write to those files).
  //
  // RocksDB: notes the sequence number of the cut, pins it with a RocksDB
  // snapshot, stops file deletions, and switches the memtables of every
  // column family with unflushed data with a non-waiting flush; it never
  // waits for a flush. Memory: copies the state into an encoded buffer per
  // operator and key group (a full copy, linear in the state size).
  //
  // Several snapshots may be pending at once. Errors: IOError when RocksDB
  // refuses the flush; the backend is unchanged then.
  virtual Result<std::unique_ptr<PendingSnapshot>> Snapshot(
      int64_t checkpoint_id, const std::string& local_dir) = 0;

  // Snapshots taken and neither completed nor destroyed. For tests and
  // metrics: with none, the backend holds no files or RocksDB snapshots.
  virtual int PendingSnapshots() const = 0;

  // How the backend reads its state while open (it does not change then).
  // RocksDB: kMmap or kPread, the resolved RocksDBOptions::read_mode
  // (kNone once closed). Memory: kNone.
  virtual StateReadMode read_mode() const { return StateReadMode::kNone; }
};

}  // namespace weir
