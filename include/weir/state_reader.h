// SPDX-License-Identifier: Apache-2.0
//
// SavepointReader: the keyed and operator state of a savepoint or retained
// checkpoint, read offline (no running job), entry by entry. It reads
// native RocksDB, memory (key-group stream) and canonical snapshots alike.
//
// The snapshot is never changed. Each task's state is restored through its
// backend into a scratch directory of the reader's own (hard links or
// copies of the snapshot's files, as a restore with `weir run -s` makes
// them), read, and removed; the scratch directory itself is removed when
// the reader is destroyed. Files are checked against their recorded size
// and checksum before they are read.
//
// Thread safety: a reader belongs to one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <weir/operator_id.h>
#include <weir/raw_state.h>
#include <weir/result.h>

namespace weir {

namespace internal {
class SavepointReaderImpl;
}  // namespace internal

// One entry of state. Views are valid only during the visitor call.
struct StateRecord {
  enum class Kind : uint8_t {
    kValue,                // value, reducing and aggregating states
    kListElement,          // one element of a list state, in list order
    kMapEntry,             // one entry of a map state
    kTimer,                // a timer (state_name empty)
    kOperatorListElement,  // one element of an operator (non-keyed) list
  };

  Kind kind = Kind::kValue;
  OperatorId operator_id;
  std::string_view uid;  // empty if the operator has none
  // The state's name; empty for timers.
  std::string_view state_name;
  // Keyed states: as registered (type, serializer versions, TTL).
  // Timers and operator lists: type kList, no TTL.
  const RawStateDescriptor* descriptor = nullptr;
  // The snapshot's task that held the entry.
  int vertex_index = 0;
  int subtask_index = 0;
  // Keyed entries and timers: the key group of `key`. Operator lists: -1.
  int key_group = -1;
  std::string_view key;       // serialized key (keyed entries, timers)
  std::string_view ns;        // namespace (windows: the window)
  std::string_view user_key;  // map entries
  // Values, list and map elements, operator list elements: the bytes as
  // stored (the serializer version header, then the payload). Timers: empty.
  std::string_view value;
  TimeDomain timer_domain = TimeDomain::kEventTime;
  // Timers: the timer's time. Entries of states with TTL: the entry's last
  // write (or access) in ms since the epoch. Otherwise 0.
  int64_t timestamp = 0;
};

using StateRecordVisitor = std::function<Status(const StateRecord&)>;

// What to read; an unset field does not filter.
struct StateReadFilter {
  // Only the operator with this id.
  std::optional<OperatorId> operator_id;
  // Only this state (keyed or operator list state). Timers are read only
  // when this is unset.
  std::optional<std::string> state_name;
};

struct SavepointReaderOptions {
  // Where the scratch directory is made. Default: empty, meaning $TMPDIR
  // (or /tmp).
  std::string scratch_parent;
};

class SavepointReader {
 public:
  // One operator of the snapshot, from its `_metadata`.
  struct Operator {
    OperatorId id;
    std::string uid;  // empty if the operator has none
    std::string name;
    int parallelism = 0;
    int max_parallelism = 0;
  };

  // One file of the snapshot that holds state of an operator (or of the
  // whole task: RocksDB's default column family, the ready-made DB).
  struct File {
    // The operator, or nullopt for a file of the whole task.
    std::optional<OperatorId> operator_id;
    int vertex_index = 0;
    int subtask_index = 0;
    std::string path;  // where it is on disk
    uint64_t size = 0;
    // True when it lies outside the snapshot's directory (a checkpoint
    // storage's shared/ folder).
    bool shared = false;
  };

  // Reads the `_metadata` of the snapshot at `path` (its directory or its
  // `_metadata`) and makes the scratch directory. Errors: NotFound naming
  // the missing `_metadata`; Corruption or NotSupported for one that is
  // truncated, foreign or damaged (engine/checkpoint/metadata.h); IOError
  // if the scratch directory cannot be made.
  static Result<std::unique_ptr<SavepointReader>> Open(
      const std::string& path, const SavepointReaderOptions& options = {});

  ~SavepointReader();
  SavepointReader(const SavepointReader&) = delete;
  SavepointReader& operator=(const SavepointReader&) = delete;

  // The `_metadata` file read.
  const std::string& metadata_path() const;
  // The job's max parallelism (the number of key groups).
  int max_parallelism() const;
  // "savepoint" or "checkpoint".
  std::string_view kind() const;

  const std::vector<Operator>& operators() const;
  const std::vector<File>& files() const;

  // The operator whose uid, or else whose id in hex, is `uid_or_id`.
  // NotFound names the snapshot and lists its operators.
  Result<OperatorId> FindOperator(std::string_view uid_or_id) const;

  // Visits every entry that `filter` selects: task by task (in the
  // `_metadata`'s order), operator by operator, key group by key group;
  // within a key group in no given order. A non-OK status from the
  // visitor stops the walk and is returned. Errors: Corruption or NotFound
  // naming a state file that is damaged or missing; NotFound if
  // filter.state_name names no state of the selected operators (the
  // message lists theirs). Expired TTL entries are included.
  Status Read(const StateReadFilter& filter, const StateRecordVisitor& visitor);

 private:
  explicit SavepointReader(std::unique_ptr<internal::SavepointReaderImpl> impl);
  std::unique_ptr<internal::SavepointReaderImpl> impl_;
};

}  // namespace weir
