// SPDX-License-Identifier: Apache-2.0
//
// Options of the state backends. Each field says its default and its unit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include <weir/clock.h>
#include <weir/key_group.h>

namespace weir {

// Options every state backend takes.
struct StateBackendOptions {
  // Number of key groups, fixed for the life of the state (Flink's
  // max parallelism). 1 to 32768. Default: 128.
  int max_parallelism = kDefaultMaxParallelism;
  // The key groups this backend (one task) owns. Default: empty, meaning
  // all of [0, max_parallelism).
  KeyGroupRange key_group_range{};
  // Processing time for TTL. Default: null, meaning SystemClock().
  std::shared_ptr<Clock> clock;
};

// RocksDB settings of the RocksDB backend. The defaults are tuned for point
// lookups and read-modify-writes of keyed state on a small (2-core)
// machine; docs/rocksdb-options.md says why and what memory they cost.
struct RocksDBOptions {
  enum class Compression : uint8_t { kAuto, kNone, kSnappy, kLz4, kZstd };
  enum class ReadMode : uint8_t { kAuto, kMmap, kPread };

  // LRU cache of uncompressed data blocks shared by all column families of
  // one backend, in bytes. It fills only with blocks that are decompressed
  // or copied on reading: with kMmap reads and no compression (the
  // default while the state fits in memory) data blocks are read in place
  // and never enter it. Memory is
  // taken as blocks are inserted. Default: 256 MiB.
  size_t block_cache_bytes = size_t{256} << 20;
  // Memtable size per column family (one per operator), in bytes. A
  // smaller memtable is a shallower skip list that stays in the CPU cache:
  // cheaper inserts. At most `max_write_buffer_number` of them exist per
  // column family. Default: 16 MiB.
  size_t write_buffer_bytes = size_t{16} << 20;
  // Memtables per column family, the active one included. Default: 3.
  int max_write_buffer_number = 3;
  // Bloom filter bits per key; 0 disables filters. Default: 10 (about 1%
  // false positives).
  int bloom_bits_per_key = 10;
  // Uncompressed size of a data block, in bytes. Default: 8 KiB.
  size_t block_size = 8 << 10;
  // Compression of levels 2 and below; levels 0 and 1 are never compressed
  // (they are rewritten soon). Compressed blocks are decompressed into the
  // block cache on every cache miss. Default: kAuto, which is kNone when
  // SST files are read through memory maps (a lookup reads its block in
  // place) and kLz4 when they are read with pread (more keys per cached
  // page, for state larger than memory).
  Compression compression = Compression::kAuto;
  // Background flush and compaction threads. Default: 2.
  int max_background_jobs = 2;
  // Keep index and filter blocks of every open file in memory, outside the
  // block cache. Default: true.
  bool pin_index_and_filter_blocks = true;
  // How lookups read SST files.
  //   kMmap: through memory maps (RocksDB's allow_mmap_reads): an
  //     uncompressed block is read in place from the page cache, with no
  //     system call, copy or block cache entry. Best while the page cache
  //     holds the files: twice the value updates a second of kPread.
  //   kPread: with pread into the block cache. Best for state larger than
  //     memory, where page faults on mapped files and the reclaim of mapped
  //     pages cost more than the reads (2.7 times the value updates a
  //     second of kMmap in a 1 GiB cgroup; docs/rocksdb-options.md).
  //   kAuto (default): chosen when the backend is opened or restored:
  //     kPread if the state's SST files, with those of the other RocksDB
  //     backends open in the process, exceed half of
  //     `memory_budget_bytes`, else kMmap. State that grows past that
  //     while the backend is open keeps its mode until the next restore
  //     or restart; set the mode if the state will outgrow memory.
  ReadMode read_mode = ReadMode::kAuto;
  // The memory kAuto compares the state against, in bytes. Default: 0,
  // meaning the machine's memory or, if lower, the limit of the process's
  // memory cgroup (which the page cache is charged to).
  size_t memory_budget_bytes = 0;
  // Give every snapshot a ready-made RocksDB (a MANIFEST naming its files),
  // built in the snapshot's asynchronous phase, so that a restore at the
  // same parallelism is hard links plus DB::Open instead of an import of
  // every column family (within 1.2x of raw DB::Open, against 2.5 to 3.6x
  // by import). Costs the asynchronous phase one import of the state's
  // files (docs/rocksdb-options.md). Default: true.
  bool ready_db_snapshots = true;
};

}  // namespace weir
