// SPDX-License-Identifier: Apache-2.0
//
// The stores that state_bench compares, each preloaded with N keys:
//
//   memory, rocksdb    weir backends, used through the typed state API with
//                      one SetCurrentKey per access, as the engine does;
//   raw_same_options   a plain rocksdb::DB with weir's RocksDB options;
//   raw_defaults       a plain rocksdb::DB with RocksDB's default options.
//
// All of them hold the same three states, byte for byte the way weir lays
// them out: a value state "counter" (a 100-byte value whose first 8 bytes
// count updates), a list state "list" (one 100-byte element per key after
// the load) and a map state "map" (one entry per key, user key = the key's
// index as an int64). Keys are 16 bytes. Every access goes to key index i,
// 0 <= i < N; map accesses use user key i.
//
// The Store classes are not thread-safe; one benchmark thread uses them.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <weir/options.h>
#include <weir/state.h>

#include "backends/backend.h"
#include "backends/rocksdb/rocksdb_backend.h"
#include "lib/coding.h"

namespace weir::bench {

inline constexpr size_t kKeySize = 16;
inline constexpr size_t kValueSize = 100;
inline constexpr int kMaxParallelism = kDefaultMaxParallelism;

enum class StoreKind { kMemory, kRocksDB, kRawSameOptions, kRawDefaults };

// "memory", "rocksdb", "raw_same_options", "raw_defaults".
const char* StoreKindName(StoreKind kind);

inline uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Key i: its index big-endian, then 8 scrambled bytes (SplitMix64(i),
// big-endian). Two word stores: GCC assembled the bytes of a per-byte loop
// one by one (about 40 instructions of harness in every timed operation).
inline std::string_view MakeKey(uint64_t i, std::array<char, kKeySize>* buf) {
  static_assert(std::endian::native == std::endian::little);
  const uint64_t head = __builtin_bswap64(i);
  const uint64_t tail = __builtin_bswap64(SplitMix64(i));
  std::memcpy(buf->data(), &head, 8);
  std::memcpy(buf->data() + 8, &tail, 8);
  return {buf->data(), buf->size()};
}

// 100 bytes of value for key i, about half compressible (as db_bench's
// values are); views into a static buffer.
std::string_view Payload(uint64_t i);

// The value of the "counter" state: a count and padding up to 100 bytes.
struct Counter {
  uint64_t count = 0;
  std::array<char, kValueSize - 8> pad{};
};

struct CounterSerializer {
  static constexpr uint32_t kVersion = 1;
  void Serialize(const Counter& c, std::string* out) const {
    char count[8];
    std::memcpy(count, &c.count, 8);
    out->append(count, 8);
    out->append(c.pad.data(), c.pad.size());
  }
  Status Deserialize(uint32_t, std::string_view in, Counter* out) const {
    if (in.size() != kValueSize) {
      return Status::Corruption("counter value of wrong size");
    }
    std::memcpy(&out->count, in.data(), 8);
    std::memcpy(out->pad.data(), in.data() + 8, out->pad.size());
    return Status::OK();
  }
};

// The weir::RocksDBOptions used for `rocksdb` and `raw_same_options`: the
// defaults, overridden by WEIR_BENCH_BLOCK_CACHE_MB, WEIR_BENCH_BLOOM_BITS,
// WEIR_BENCH_BLOCK_SIZE (bytes), WEIR_BENCH_COMPRESSION (auto, none, snappy,
// lz4, zstd), WEIR_BENCH_WRITE_BUFFER_MB, WEIR_BENCH_PIN_INDEX and
// WEIR_BENCH_READ_MODE (auto, mmap, pread).
RocksDBOptions BenchRocksDBOptions();

// BenchRocksDBOptions() with kAuto resolved as weir's backend resolves it
// for the SST files in `db_path` (rocksdb_read_mode.h), so that
// `raw_same_options`, and the settling of both stores, use what `rocksdb`
// will use.
RocksDBOptions ResolvedBenchOptions(const std::string& db_path);

// WEIR_BENCH_REUSE=1, for option experiments: data directories are kept,
// and a RocksDB store found loaded (a LOADED marker) is not loaded again but
// only settled, with every file rewritten so that new table options
// (compression, block size, bloom bits) apply. Results then include the
// writes of earlier runs, so they are for comparing options only.
bool ReuseData();

// WEIR_BENCH_SETTLE=none, with WEIR_BENCH_REUSE=1: a store found loaded is
// opened as it is, without the flush, compaction and wait of
// SettleRocksDB. For A/B runs over copies of one settled store.
bool SettleNone();

// WEIR_BENCH_WARM_CACHE=1: after a RocksDB store is reopened, read all of
// it once (weir: ForEachEntry of every key group; raw: an iterator), so
// that benchmarks start with a full block cache instead of an empty one.
bool WarmCacheEnabled();

// ---------------------------------------------------------------- weir

class WeirStore {
 public:
  // Creates the backend in `dir` (memory: no files) and loads N keys
  // through the typed API. A RocksDB backend is then flushed, closed,
  // fully compacted (SettleRocksDB) and reopened.
  static Result<std::unique_ptr<WeirStore>> Create(StoreKind kind,
                                                   const std::string& dir,
                                                   uint64_t n);

  Status ValueGet(uint64_t i) {
    Status s = SetKey(i);
    if (!s.ok()) return s;
    Result<std::optional<Counter>> r = value_->Value();
    if (!r.ok()) return r.status();
    if (!r->has_value()) return Missing();
    benchmark_sink_ += (*r)->count;
    return Status::OK();
  }
  Status ValueUpdate(uint64_t i) {
    Status s = SetKey(i);
    if (!s.ok()) return s;
    Result<std::optional<Counter>> r = value_->Value();
    if (!r.ok()) return r.status();
    if (!r->has_value()) return Missing();
    Counter& c = **r;
    ++c.count;
    return value_->Update(c);
  }
  // ValueUpdate(i), after hinting that key `ahead` comes next
  // (KeyedStateStore::PrefetchKey).
  Status ValueUpdateAhead(uint64_t i, uint64_t ahead) {
    backend_->PrefetchKey(MakeKey(ahead, &ahead_key_));
    return ValueUpdate(i);
  }
  Status ListAdd(uint64_t i) {
    Status s = SetKey(i);
    if (!s.ok()) return s;
    return list_->Add(element_);
  }
  Status MapPut(uint64_t i) {
    Status s = SetKey(i);
    if (!s.ok()) return s;
    return map_->Put(static_cast<int64_t>(i), element_);
  }
  Status MapGet(uint64_t i) {
    Status s = SetKey(i);
    if (!s.ok()) return s;
    Result<std::optional<std::string>> r = map_->Get(static_cast<int64_t>(i));
    if (!r.ok()) return r.status();
    if (!r->has_value()) return Missing();
    benchmark_sink_ += (*r)->size();
    return Status::OK();
  }

  uint64_t sink() const { return benchmark_sink_; }

 private:
  Status SetKey(uint64_t i) {
    return backend_->SetCurrentKey(MakeKey(i, &key_));
  }
  static Status Missing() { return Status::NotFound("preloaded key missing"); }
  Status Open(StoreKind kind);
  Status Load(uint64_t n);
  Status WarmCache();

  StoreKind kind_ = StoreKind::kMemory;
  std::string dir_;
  std::unique_ptr<KeyedStateBackend> backend_;
  std::array<char, kKeySize> ahead_key_{};
  std::optional<ValueState<Counter, CounterSerializer>> value_;
  std::optional<ListState<std::string>> list_;
  std::optional<MapState<int64_t, std::string>> map_;
  std::array<char, kKeySize> key_{};
  std::string element_;
  uint64_t benchmark_sink_ = 0;
};

// ---------------------------------------------------------------- raw

// A plain RocksDB holding weir's key layout in the default column family.
class RawStore {
 public:
  // Creates the DB in `dir`, loads N keys with WriteBatches, flushes,
  // closes, fully compacts it (SettleRocksDB) and reopens it.
  static Result<std::unique_ptr<RawStore>> Create(StoreKind kind,
                                                  const std::string& dir,
                                                  uint64_t n);
  ~RawStore();

  Status ValueGet(uint64_t i) {
    StateKey(value_id_, i);
    rocksdb::Status rs = db_->Get(read_options_, cf_, key_, &pinned_);
    if (!rs.ok()) return FromRocks(rs);
    if (pinned_.size() != kValueSize + 1 || pinned_[0] != 1) return Bad();
    uint64_t count;
    std::memcpy(&count, pinned_.data() + 1, 8);
    benchmark_sink_ += count;
    pinned_.Reset();
    return Status::OK();
  }
  Status ValueUpdate(uint64_t i) {
    StateKey(value_id_, i);
    rocksdb::Status rs = db_->Get(read_options_, cf_, key_, &pinned_);
    if (!rs.ok()) return FromRocks(rs);
    if (pinned_.size() != kValueSize + 1 || pinned_[0] != 1) return Bad();
    value_buf_.assign(pinned_.data(), pinned_.size());
    pinned_.Reset();
    uint64_t count;
    std::memcpy(&count, value_buf_.data() + 1, 8);
    ++count;
    std::memcpy(value_buf_.data() + 1, &count, 8);
    return FromRocks(db_->Put(write_options_, cf_, key_, value_buf_));
  }
  Status ListAdd(uint64_t i) {
    StateKey(list_id_, i);
    return FromRocks(db_->Merge(write_options_, cf_, key_, list_element_));
  }
  Status MapPut(uint64_t i) {
    MapKey(i);
    return FromRocks(db_->Put(write_options_, cf_, key_, map_value_));
  }
  Status MapGet(uint64_t i) {
    MapKey(i);
    rocksdb::Status rs = db_->Get(read_options_, cf_, key_, &pinned_);
    if (!rs.ok()) return FromRocks(rs);
    if (pinned_.size() != kValueSize + 1 || pinned_[0] != 1) return Bad();
    benchmark_sink_ += pinned_.size();
    pinned_.Reset();
    return Status::OK();
  }

  uint64_t sink() const { return benchmark_sink_; }

 private:
  RawStore(StoreKind kind, std::string dir);

  // [key group][state id][len][key][len][empty namespace], as weir builds it.
  void StateKey(uint32_t state_id, uint64_t i) {
    const std::string_view key = MakeKey(i, &key_bytes_);
    key_.clear();
    internal::AppendStateKeyPrefix(&key_, KeyGroupForKey(key, kMaxParallelism),
                                   state_id);
    PutLengthPrefixed(&key_, key);
    PutLengthPrefixed(&key_, std::string_view());
  }
  void MapKey(uint64_t i) {
    StateKey(map_id_, i);
    Serializer<int64_t>().Serialize(static_cast<int64_t>(i), &key_);
  }
  static Status FromRocks(const rocksdb::Status& s) {
    if (s.ok()) return Status::OK();
    return Status::IOError(s.ToString());
  }
  static Status Bad() { return Status::Corruption("unexpected stored value"); }
  Status Open();
  Status Load(uint64_t n);
  Status WarmCache();
  // Prints RocksDB's own memory (table readers, memtables, block cache) to
  // stderr.
  void ReportMemory(const char* when) const;

  StoreKind kind_;
  std::string dir_;
  rocksdb::Options options_;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* cf_ = nullptr;
  rocksdb::ReadOptions read_options_;
  rocksdb::WriteOptions write_options_;
  uint32_t value_id_, list_id_, map_id_;
  std::array<char, kKeySize> key_bytes_{};
  std::string key_;
  std::string value_buf_;
  std::string list_element_;  // [len][version 1][100 bytes]
  std::string map_value_;     // [version 1][100 bytes]
  rocksdb::PinnableSlice pinned_;
  uint64_t benchmark_sink_ = 0;
};

// Opens the closed RocksDB at `path` with `options` for every column
// family, flushes, compacts all of it (CompactRange; with `rewrite_all`
// the last level too), waits until no flush or compaction is pending or
// running, and closes it.
Status SettleRocksDB(const std::string& path, const rocksdb::Options& options,
                     bool rewrite_all);

}  // namespace weir::bench
