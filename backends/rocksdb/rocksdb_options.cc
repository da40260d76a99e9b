// SPDX-License-Identifier: Apache-2.0
//
// weir's RocksDB options. Point lookups and read-modify-writes dominate
// keyed state, so: while the state fits in memory, SST files read through
// memory maps and not compressed (a lookup reads its block in place from
// the page cache: no pread, no decompression, no block cache insert;
// rocksdb_read_mode.h says when pread and LZ4 are chosen instead), a hash index
// in every data block (a lookup jumps to its restart interval instead of a
// binary search), bloom filters on whole keys (a Get then touches one file per
// level at most), index and filter blocks held by the table readers (never
// evicted), a memtable bloom filter (a Get for a key not in the memtable skips
// the skip list search), 16 MiB memtables (a shallow skip list: cheaper
// inserts), and dynamic level sizes (less space amplification).
// docs/rocksdb-options.md records the measurements behind these choices.
#include <memory>

#include <rocksdb/cache.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>

#include "backends/rocksdb/rocksdb_backend.h"
#include "backends/rocksdb/rocksdb_read_mode.h"
#include "lib/coding.h"

namespace weir::internal {

namespace {
rocksdb::CompressionType ToRocks(RocksDBOptions::Compression c) {
  switch (c) {
    case RocksDBOptions::Compression::kAuto:  // resolved by the caller
    case RocksDBOptions::Compression::kNone:
      return rocksdb::kNoCompression;
    case RocksDBOptions::Compression::kSnappy:
      return rocksdb::kSnappyCompression;
    case RocksDBOptions::Compression::kLz4:
      return rocksdb::kLZ4Compression;
    case RocksDBOptions::Compression::kZstd:
      return rocksdb::kZSTD;
  }
  return rocksdb::kLZ4Compression;
}
// Every random-access file (SST) is hinted "random" as soon as it is
// opened. RocksDB does that for the files a DB opens (advise_random_on_open)
// but not for the ones CreateColumnFamilyWithImport reads while importing;
// with mmap reads, the kernel then reads around each page fault with the
// device's readahead window (8 MiB here), and a cold restore read about a
// fifth of every file instead of its footer, index and filter.
class RandomHintFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  explicit RandomHintFileSystem(std::shared_ptr<rocksdb::FileSystem> base)
      : FileSystemWrapper(std::move(base)) {}
  static const char* kClassName() { return "WeirRandomHintFileSystem"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewRandomAccessFile(
      const std::string& f, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSRandomAccessFile>* result,
      rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s =
        FileSystemWrapper::NewRandomAccessFile(f, options, result, dbg);
    if (s.ok() && *result != nullptr) {
      (*result)->Hint(rocksdb::FSRandomAccessFile::kRandom);
    }
    return s;
  }
};

rocksdb::Env* RandomHintEnv() {
  static rocksdb::Env* env =
      rocksdb::NewCompositeEnv(std::make_shared<RandomHintFileSystem>(
                                   rocksdb::FileSystem::Default()))
          .release();
  return env;
}
}  // namespace

void ApplyRocksDBOptions(const RocksDBOptions& options, rocksdb::Options* out) {
  // kAuto without a state size: the mode of state that fits in memory.
  const RocksDBOptions o = ResolveAutoOptions(options, 0, 0, 0);
  out->env = RandomHintEnv();
  out->max_background_jobs = o.max_background_jobs;
  out->allow_mmap_reads = o.read_mode == RocksDBOptions::ReadMode::kMmap;
  out->write_buffer_size = o.write_buffer_bytes;
  out->max_write_buffer_number = o.max_write_buffer_number;
  out->level_compaction_dynamic_level_bytes = true;
  out->bytes_per_sync = 1 << 20;
  out->memtable_prefix_bloom_size_ratio = 0.02;
  out->memtable_whole_key_filtering = true;

  const rocksdb::CompressionType compression = ToRocks(o.compression);
  out->compression = compression;
  out->compression_per_level.assign(7, compression);
  out->compression_per_level[0] = rocksdb::kNoCompression;
  out->compression_per_level[1] = rocksdb::kNoCompression;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(o.block_cache_bytes);
  table.block_size = o.block_size;
  table.format_version = 5;
  // Four one-byte buckets per key (about 3% of a block of 130-byte
  // entries); fewer collisions than RocksDB's 0.75, and a collision falls
  // back to the binary search.
  table.data_block_index_type =
      rocksdb::BlockBasedTableOptions::kDataBlockBinaryAndHash;
  table.data_block_hash_table_util_ratio = 0.25;
  if (o.bloom_bits_per_key > 0) {
    table.filter_policy.reset(
        rocksdb::NewBloomFilterPolicy(o.bloom_bits_per_key, false));
    table.whole_key_filtering = true;
  }
  table.cache_index_and_filter_blocks = !o.pin_index_and_filter_blocks;
  out->table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
}

void AppendStateKeyPrefix(std::string* out, int key_group, uint32_t state_id) {
  PutFixed16BE(out, static_cast<uint16_t>(key_group));
  PutFixed32BE(out, state_id);
}

}  // namespace weir::internal
