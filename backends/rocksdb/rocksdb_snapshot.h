// SPDX-License-Identifier: Apache-2.0
//
// Snapshots of the RocksDB backend (the two phases of
// KeyedStateBackend::Snapshot) and restore from them.
//
// The cut. The synchronous phase, on the task thread (the only writer):
//   1. writes a marker record (key kCutMarkerKey, value: this database
//      session's random id and the sequence number before the marker)
//      into every column family with unflushed data,
//   2. takes a RocksDB snapshot; its sequence number is the cut S, and it
//      keeps compactions from dropping any version visible at S,
//   3. disables file deletions (so that files listed later cannot vanish
//      before they are linked), and
//   4. switches the memtables of those column families with a non-waiting
//      flush (FlushOptions::wait = false, allow_write_stall = true).
// Every write <= S is then in a memtable that is queued for flush or in an
// SST file, and every later write goes to a newer memtable.
//
// The asynchronous phase (Complete) waits until each marker can be read
// with ReadOptions::read_tier = kPersistedTier (which skips memtables when
// the WAL is off): memtables are installed in order, so every memtable of
// the cut is flushed. Only a marker of this session counts: a restored
// snapshot's files carry the markers of the database that wrote them, whose
// sequence numbers may exceed this one's (compaction into the bottommost
// level zeroes a record's sequence number, not the marker's value), and the
// Delete that a restore writes over them sits in a memtable, which
// kPersistedTier does not read. Such a marker must not pass for this cut's. It
// then lists the live files of each column family:
//   - largest_seqno <= S: in the snapshot;
//   - smallest_seqno > S: after the cut, left out;
//   - smallest_seqno <= S < largest_seqno: a file holding both sides (a
//     compaction, or a flush that merged memtables from both sides of the
//     cut). Whole files cannot express the cut then, so that column family
//     takes the fallback: its state at S is read through the RocksDB
//     snapshot and written into one new SST file with SstFileWriter.
// Why the exact path is exact: files with largest_seqno <= S hold only
// writes <= S. Every version visible at S survives compaction (the
// snapshot pins it) and is in some live file once the cut's memtables are
// flushed; that file's smallest_seqno is <= S, so the file is either in the
// snapshot or a straddling one, and with no straddling file it is in.
//
// Thread safety: Snapshot runs on the task thread; Complete on any thread.
// Closing the backend waits for a running Complete and then releases every
// hold of pending snapshots.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <weir/options.h>

#include "backends/backend.h"
#include "backends/snapshot.h"

namespace rocksdb {
struct ColumnFamilyOptions;
class ColumnFamilyHandle;
class DB;
class Snapshot;
}  // namespace rocksdb

namespace weir {

// Creates the state directory `dir` (which must not hold a RocksDB yet)
// from `snapshots` and opens a backend on it. For kRocksDBSst snapshots,
// every file is verified first: its size and XXH3-64 checksum (Corruption
// naming the file and the mismatch), unless its inode, size and mtime are
// still those recorded when the checksum was computed (SnapshotFile::
// verified_*: nothing wrote to it since). The backend then opens an empty
// DB and imports each operator's files as its column family
// (CreateColumnFamilyWithImport; the files are hard-linked into the DB, or
// copied across file systems, never moved out of the snapshot), and copies
// the default column family's records in; the DB is not closed and
// reopened. kKeyGroupStreams snapshots are imported entry by entry.
// `options` must have the snapshots' max parallelism.
//
// Key groups of the snapshots outside options.key_group_range are clipped
// (DeleteRange). Several snapshots (rescaling) are merged: stream
// snapshots entry by entry, kRocksDBSst ones as rocksdb_rescale.h says.
//
// A kRocksDBSst snapshot with a whole ready-made DB (rocksdb_ready_db.h) at
// the backend's own key-group range is restored as hard links plus
// DB::Open instead; if that fails, by import.
struct RocksDBRestoreReport {
  bool ready_db = false;       // restored from the ready-made DB
  std::string ready_db_error;  // why the ready-made DB was not used
};
Result<std::unique_ptr<KeyedStateBackend>> RestoreRocksDBBackend(
    const StateBackendOptions& options, const RocksDBOptions& rocksdb_options,
    const std::string& dir, const std::vector<BackendSnapshot>& snapshots,
    RocksDBRestoreReport* report = nullptr);

namespace internal {

// The marker record of the cut, outside every key-group prefix (key groups
// are < 0x8000) and outside the default column family's tags.
inline constexpr std::string_view kCutMarkerKey = "\xff\xffweir-cut-marker";

// What the backend shares with its pending snapshots, so that a pending
// snapshot may outlive the backend.
class RocksSnapshotHub {
 public:
  explicit RocksSnapshotHub(rocksdb::DB* db);

  // A random id of this open database, in the value of its cut markers.
  uint64_t session() const { return session_; }

  // Registers what a synchronous phase holds; returns its id.
  uint64_t AddHold(const rocksdb::Snapshot* snapshot);
  // Releases a hold (the RocksDB snapshot and one DisableFileDeletions).
  // No-op if already released.
  void ReleaseHold(uint64_t id);
  // Releases only the RocksDB snapshot of a hold; file deletions stay off.
  void ReleaseRocksSnapshot(uint64_t id);

  // Complete() runs between BeginUse (false once the backend is closed)
  // and EndUse; the DB and its column family handles stay valid meanwhile.
  bool BeginUse();
  void EndUse();

  // Called by the backend before it closes the DB: waits for running
  // Complete() calls and releases every hold.
  void Shutdown();

  int pending() const { return pending_.load(); }
  void AddPending() { pending_.fetch_add(1); }
  void RemovePending() { pending_.fetch_sub(1); }

  // Size and checksum of files already summed (SST files never change),
  // keyed by file name.
  bool CachedChecksum(const std::string& name, uint64_t size,
                      uint64_t* checksum);
  void CacheChecksum(const std::string& name, uint64_t size, uint64_t checksum);

  rocksdb::DB* db() const { return db_; }

 private:
  void ReleaseLocked(const rocksdb::Snapshot* snapshot);

  std::mutex mu_;
  std::condition_variable cv_;
  rocksdb::DB* db_;  // null once shut down
  const uint64_t session_;
  bool closing_ = false;
  int users_ = 0;
  uint64_t next_id_ = 1;
  std::map<uint64_t, const rocksdb::Snapshot*> holds_;
  std::map<std::string, std::pair<uint64_t, uint64_t>> checksums_;
  std::atomic<int> pending_{0};
};

struct RocksColumnFamily {
  std::string name;
  rocksdb::ColumnFamilyHandle* handle = nullptr;
};

// The synchronous phase. `cfs` are all column families at the cut, the
// default one included. With `ready_db`, Complete() also builds the
// snapshot's ready-made DB (rocksdb_ready_db.h).
Result<std::unique_ptr<PendingSnapshot>> TakeRocksDBSnapshot(
    std::shared_ptr<RocksSnapshotHub> hub, std::vector<RocksColumnFamily> cfs,
    int max_parallelism, KeyGroupRange range, int64_t checkpoint_id,
    const std::string& local_dir, bool ready_db);

// Imports `files` (all of one column family, as a snapshot lists them) as
// the new column family `name` of `db`, with `cf_options`: each file is
// hard-linked (or copied) into `staging`/`name`, and the links are moved
// into the DB, so the snapshot's files stay where they are.
Status ImportColumnFamilyFiles(rocksdb::DB* db,
                               const rocksdb::ColumnFamilyOptions& cf_options,
                               const std::string& staging,
                               const std::string& name,
                               const std::vector<const SnapshotFile*>& files,
                               rocksdb::ColumnFamilyHandle** handle);

// Deletes the key groups outside `range` from a column family (DeleteRange):
// a snapshot that covered more (rescaling).
Status ClipColumnFamily(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                        KeyGroupRange range, int max_parallelism);

// False if the SST file `f` of an operator's column family cannot hold an
// entry of `range`: its key range (as RocksDB recorded it, range deletions
// included) lies wholly in other key groups. Keys start with the key group
// in 2 bytes big-endian; a file without recorded keys may hold anything.
bool FileMayHoldKeyGroups(const SnapshotFile& f, KeyGroupRange range);

// Tests: makes every column family take the fallback path.
void ForceRocksDBSnapshotFallbackForTesting(bool force);

}  // namespace internal
}  // namespace weir
