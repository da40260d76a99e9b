// SPDX-License-Identifier: Apache-2.0
//
// What a task's state backend hands to a checkpoint: the files that hold
// its state at one cut, described well enough to verify and restore them.
// The checkpoint storage (engine/checkpoint/) copies or links the files into
// `shared/` and writes these descriptions into `_metadata`.
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
  // task's local snapshot directory, or a file it wrote).
  std::string local_path;
  uint64_t size = 0;
  uint64_t checksum = 0;  // XXH3-64 of the contents

  // kRocksDBSst: the column family ("default", or an operator id in hex)
  // and what importing the file needs.
  std::string column_family;
  int level = 0;
  std::string smallest_key;
  std::string largest_key;
  uint64_t smallest_seqno = 0;
  uint64_t largest_seqno = 0;

  // kKeyGroupStreams: the operator (hex id) and key group of the stream;
  // key_group -1 for operator state.
  std::string operator_id;
  int key_group = -1;
};

// A task's state at one cut.
struct BackendSnapshot {
  SnapshotFormat format = SnapshotFormat::kRocksDBSst;
  int max_parallelism = 0;
  KeyGroupRange key_group_range;
  // kRocksDBSst: the sequence number of the cut.
  uint64_t sequence_number = 0;
  std::vector<SnapshotFile> files;
};

}  // namespace weir
