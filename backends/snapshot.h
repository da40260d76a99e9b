// SPDX-License-Identifier: Apache-2.0
//
// What a task's state backend hands to a checkpoint: the files that hold
// its state at one cut, described well enough to verify and restore them.
// The checkpoint storage (engine/checkpoint/) copies or links the files into
// `shared/` and writes these descriptions into `_metadata`.
//
// A snapshot is taken in two phases (KeyedStateBackend::Snapshot): a cheap
// synchronous phase on the task thread returns a PendingSnapshot, whose
// Complete() does the slow part on any thread while the task goes on.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <weir/key_group.h>
#include <weir/result.h>

namespace weir {

enum class SnapshotFormat : uint8_t {
  // RocksDB SST files, one set per column family (operator), importable with
  // CreateColumnFamilyWithImport, plus the default column family's files
  // (state descriptors and operator state).
  kRocksDBSst = 1,
  // Backend-neutral, zstd-compressed streams of entries, one file per
  // operator and key group (the memory backend; canonical savepoints).
  kKeyGroupStreams = 2,
};

// One file of a snapshot.
struct SnapshotFile {
  // File name, unique within the snapshot (e.g. "000012.sst",
  // "<op>-kg00017.zst").
  std::string name;
  // Where the asynchronous phase left the file (a hard link into the
  // task's local snapshot directory, or a file it wrote). Restore reads the
  // file from here, so the checkpoint storage rewrites it to the file's
  // place in the storage before restoring.
  std::string local_path;
  uint64_t size = 0;
  uint64_t checksum = 0;  // XXH3-64 of the contents

  // kRocksDBSst: the column family ("default", or an operator id in hex)
  // and what importing the file needs. A file written by the fallback path
  // (the column family's state at the cut, rewritten with SstFileWriter)
  // has smallest_seqno == largest_seqno == 0 and the bottom level.
  std::string column_family;
  int level = 0;
  std::string smallest_key;
  std::string largest_key;
  uint64_t smallest_seqno = 0;
  uint64_t largest_seqno = 0;

  // kKeyGroupStreams: the operator (hex id) and key group of the stream;
  // key_group -1 for the operator's file of descriptors and operator state.
  std::string operator_id;
  int key_group = -1;

  // The file as it was when its checksum was last computed from it: inode
  // number and modification time (ns since the epoch); 0 if unknown.
  // Restore skips re-hashing a file whose inode, mtime and size are still
  // these (docs/checkpoints.md, "Verification").
  uint64_t verified_inode = 0;
  int64_t verified_mtime_ns = 0;

  // kRocksDBSst: the file's name in the snapshot's ready-made RocksDB
  // (backends/rocksdb/rocksdb_ready_db.h), e.g. "000012.sst" or
  // "MANIFEST-000005"; empty if it is not part of one. A file that only the
  // ready-made DB needs (its MANIFEST, its default column family) has an
  // empty column_family: importing skips it.
  std::string db_name;
  bool operator==(const SnapshotFile&) const = default;
};

// A task's state at one cut.
struct BackendSnapshot {
  SnapshotFormat format = SnapshotFormat::kRocksDBSst;
  int max_parallelism = 0;
  KeyGroupRange key_group_range;
  // kRocksDBSst: the sequence number of the cut.
  uint64_t sequence_number = 0;
  std::vector<SnapshotFile> files;
  // kRocksDBSst: how many files have a db_name (the ready-made DB is whole
  // only if all of them are present); 0 if the snapshot has none.
  uint32_t ready_db_files = 0;
};

// How a snapshot was taken, for logs and metrics. Filled in by Snapshot()
// (sync fields) and Complete() (the rest).
struct SnapshotStats {
  int64_t checkpoint_id = 0;
  // Time spent in KeyedStateBackend::Snapshot, in microseconds.
  int64_t sync_micros = 0;
  // Time spent in PendingSnapshot::Complete, in microseconds, and the part
  // of it spent waiting for the memtable flush of the cut.
  int64_t async_micros = 0;
  int64_t flush_wait_micros = 0;
  uint64_t files = 0;
  uint64_t bytes = 0;
  // kRocksDBSst: column families whose files are exactly the cut (the
  // incremental path), and those that were rewritten from a RocksDB
  // snapshot at the cut because no set of whole files was exactly the cut
  // (a compaction or flush merged data from both sides of it).
  std::vector<std::string> exact_column_families;
  std::vector<std::string> fallback_column_families;
  // kRocksDBSst: the ready-made DB built for fast restore (microseconds
  // spent on it), or why it could not be built (the snapshot is still
  // complete without it: restore then imports).
  bool ready_db = false;
  int64_t ready_db_micros = 0;
  std::string ready_db_error;
};

// The asynchronous phase of a snapshot, returned by
// KeyedStateBackend::Snapshot.
//
// Thread safety: Complete() may run on any thread, concurrently with the
// task thread using the backend. A PendingSnapshot is not itself shared:
// one thread calls Complete() and then destroys it.
//
// Lifetime: destroying a PendingSnapshot without Complete() (an aborted
// checkpoint) releases everything the synchronous phase held and leaves the
// files already written in local_dir for the caller to remove. A
// PendingSnapshot may outlive its backend: once the backend is closed,
// Complete() fails with Aborted and destruction is a no-op.
class PendingSnapshot {
 public:
  virtual ~PendingSnapshot() = default;
  PendingSnapshot(const PendingSnapshot&) = delete;
  PendingSnapshot& operator=(const PendingSnapshot&) = delete;

  // Writes or links the files of the cut into the snapshot's local_dir and
  // returns their description. RocksDB: waits for the flush of the cut's
  // memtables. Releases what the synchronous phase held, whatever the
  // outcome. REQUIRES: called at most once.
  virtual Result<BackendSnapshot> Complete() = 0;

  // What happened so far.
  virtual const SnapshotStats& stats() const = 0;

 protected:
  PendingSnapshot() = default;
};

}  // namespace weir
