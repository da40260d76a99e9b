// SPDX-License-Identifier: Apache-2.0
#include "bench/backends/state_stores.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <rocksdb/merge_operator.h>
#include <rocksdb/write_batch.h>

#include "backends/common/state_registry.h"
#include "backends/memory/memory_backend.h"
#include "backends/rocksdb/rocksdb_read_mode.h"
#include "backends/rocksdb/rocksdb_state_dir.h"
#include "lib/memory_limit.h"

namespace weir::bench {

namespace {

constexpr char kValueName[] = "counter";
constexpr char kListName[] = "list";
constexpr char kMapName[] = "map";
constexpr size_t kBatchKeys = 1000;

// Same bytes as weir's list merge operator: the operands are sequences of
// [len][element], so appending is concatenation.
class ConcatOperator final : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice&, const rocksdb::Slice* existing,
             const rocksdb::Slice& value, std::string* new_value,
             rocksdb::Logger*) const override {
    new_value->clear();
    if (existing != nullptr)
      new_value->assign(existing->data(), existing->size());
    new_value->append(value.data(), value.size());
    return true;
  }
  const char* Name() const override { return "bench.Concat"; }
};

class Stopwatch {
 public:
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start_)
        .count();
  }

 private:
  std::chrono::steady_clock::time_point start_ =
      std::chrono::steady_clock::now();
};

void Progress(StoreKind kind, uint64_t done, uint64_t n, const Stopwatch& t) {
  if (n >= 10 && done % (n / 10) != 0) return;
  std::fprintf(stderr, "  load %s: %llu/%llu keys, %.1f s\n",
               StoreKindName(kind), static_cast<unsigned long long>(done),
               static_cast<unsigned long long>(n), t.Seconds());
}

constexpr char kLoadedMarker[] = "LOADED";

bool IsLoaded(const std::string& dir) {
  std::error_code ec;
  return ReuseData() && std::filesystem::exists(
                            std::filesystem::path(dir) / kLoadedMarker, ec);
}

void MarkLoaded(const std::string& dir) {
  if (!ReuseData()) return;
  std::FILE* f = std::fopen(
      (std::filesystem::path(dir) / kLoadedMarker).string().c_str(), "w");
  if (f != nullptr) std::fclose(f);
}

long EnvLong(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtol(v, nullptr, 10) : fallback;
}

}  // namespace

const char* StoreKindName(StoreKind kind) {
  switch (kind) {
    case StoreKind::kMemory:
      return "memory";
    case StoreKind::kRocksDB:
      return "rocksdb";
    case StoreKind::kRawSameOptions:
      return "raw_same_options";
    case StoreKind::kRawDefaults:
      return "raw_defaults";
  }
  return "?";
}

std::string_view Payload(uint64_t i) {
  // 1 MiB of 50 random bytes followed by the same 50 bytes, repeated.
  static const std::string buffer = [] {
    std::string b;
    uint64_t x = 42;
    while (b.size() < (size_t{1} << 20)) {
      std::string half;
      for (int j = 0; j < 50; ++j) {
        x = SplitMix64(x);
        half.push_back(static_cast<char>(' ' + x % 95));
      }
      b += half;
      b += half;
    }
    return b;
  }();
  return std::string_view(buffer).substr(
      SplitMix64(i) % (buffer.size() - kValueSize), kValueSize);
}

RocksDBOptions BenchRocksDBOptions() {
  RocksDBOptions o;
  o.block_cache_bytes =
      static_cast<size_t>(EnvLong("WEIR_BENCH_BLOCK_CACHE_MB",
                                  static_cast<long>(o.block_cache_bytes >> 20)))
      << 20;
  o.write_buffer_bytes = static_cast<size_t>(EnvLong(
                             "WEIR_BENCH_WRITE_BUFFER_MB",
                             static_cast<long>(o.write_buffer_bytes >> 20)))
                         << 20;
  o.bloom_bits_per_key =
      static_cast<int>(EnvLong("WEIR_BENCH_BLOOM_BITS", o.bloom_bits_per_key));
  o.block_size = static_cast<size_t>(
      EnvLong("WEIR_BENCH_BLOCK_SIZE", static_cast<long>(o.block_size)));
  if (const char* m = std::getenv("WEIR_BENCH_READ_MODE")) {
    const std::string_view v(m);
    if (v == "auto") o.read_mode = RocksDBOptions::ReadMode::kAuto;
    if (v == "mmap") o.read_mode = RocksDBOptions::ReadMode::kMmap;
    if (v == "pread") o.read_mode = RocksDBOptions::ReadMode::kPread;
  }
  o.pin_index_and_filter_blocks =
      EnvLong("WEIR_BENCH_PIN_INDEX", o.pin_index_and_filter_blocks ? 1 : 0) !=
      0;
  if (const char* c = std::getenv("WEIR_BENCH_COMPRESSION")) {
    const std::string_view v(c);
    if (v == "auto") o.compression = RocksDBOptions::Compression::kAuto;
    if (v == "none") o.compression = RocksDBOptions::Compression::kNone;
    if (v == "snappy") o.compression = RocksDBOptions::Compression::kSnappy;
    if (v == "lz4") o.compression = RocksDBOptions::Compression::kLz4;
    if (v == "zstd") o.compression = RocksDBOptions::Compression::kZstd;
  }
  return o;
}

RocksDBOptions ResolvedBenchOptions(const std::string& db_path) {
  const RocksDBOptions o = internal::ResolveAutoOptions(
      BenchRocksDBOptions(), internal::SstBytesIn(db_path), 0,
      ProcessMemoryLimitBytes());
  std::fprintf(
      stderr, "  options for %s: %s reads, compression %d\n", db_path.c_str(),
      o.read_mode == RocksDBOptions::ReadMode::kPread ? "pread" : "mmap",
      static_cast<int>(o.compression));
  return o;
}

bool ReuseData() { return EnvLong("WEIR_BENCH_REUSE", 0) != 0; }

bool SettleNone() {
  const char* settle = std::getenv("WEIR_BENCH_SETTLE");
  return settle != nullptr && std::string_view(settle) == "none";
}
bool WarmCacheEnabled() { return EnvLong("WEIR_BENCH_WARM_CACHE", 0) != 0; }

Status SettleRocksDB(const std::string& path, const rocksdb::Options& options,
                     bool rewrite_all) {
  std::vector<std::string> names;
  rocksdb::Status rs = rocksdb::DB::ListColumnFamilies(
      rocksdb::DBOptions(options), path, &names);
  if (!rs.ok()) return Status::IOError(rs.ToString());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions(options));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw_db = nullptr;
  rs = rocksdb::DB::Open(rocksdb::DBOptions(options), path, descriptors,
                         &handles, &raw_db);
  if (!rs.ok()) return Status::IOError(rs.ToString());
  std::unique_ptr<rocksdb::DB> db(raw_db);
  rocksdb::FlushOptions flush;
  flush.wait = true;
  rs = db->Flush(flush, handles);
  rocksdb::CompactRangeOptions compact;
  if (rewrite_all) {
    compact.bottommost_level_compaction =
        rocksdb::BottommostLevelCompaction::kForce;
  }
  // WEIR_BENCH_SETTLE=live: no forced full compaction, only RocksDB's own
  // (waited for below): the LSM shape of a running job, with keys spread
  // over L0 and several levels. The default, full, leaves one level.
  const char* settle = std::getenv("WEIR_BENCH_SETTLE");
  const bool live = settle != nullptr && std::string_view(settle) == "live";
  for (rocksdb::ColumnFamilyHandle* h : handles) {
    if (rs.ok() && !live) rs = db->CompactRange(compact, h, nullptr, nullptr);
  }
  // Nothing pending or running, observed twice in a row.
  for (int quiet = 0; rs.ok() && quiet < 2;) {
    uint64_t busy = 0, v = 0;
    for (const char* p :
         {"rocksdb.num-running-compactions", "rocksdb.num-running-flushes"}) {
      if (db->GetIntProperty(p, &v)) busy += v;
    }
    for (rocksdb::ColumnFamilyHandle* h : handles) {
      for (const char* p :
           {"rocksdb.compaction-pending", "rocksdb.mem-table-flush-pending"}) {
        if (db->GetIntProperty(h, p, &v)) busy += v;
      }
    }
    quiet = busy == 0 ? quiet + 1 : 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (rocksdb::ColumnFamilyHandle* h : handles) {
    db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  rocksdb::Status closed = db->Close();
  if (rs.ok()) rs = closed;
  return rs.ok() ? Status::OK() : Status::IOError(rs.ToString());
}

// ---------------------------------------------------------------- weir

Result<std::unique_ptr<WeirStore>> WeirStore::Create(StoreKind kind,
                                                     const std::string& dir,
                                                     uint64_t n) {
  auto store = std::make_unique<WeirStore>();
  store->kind_ = kind;
  store->dir_ = dir;
  store->element_.assign(Payload(~uint64_t{0}));
  const bool loaded = kind != StoreKind::kMemory && IsLoaded(dir);
  if (!loaded) {
    Status s = store->Open(kind);
    if (s.ok()) s = store->Load(n);
    if (!s.ok()) return s;
    if (kind == StoreKind::kMemory) return store;
    // Close (which flushes), then compact everything and reopen.
    store->value_.reset();
    store->list_.reset();
    store->map_.reset();
    store->backend_.reset();
  }
  Stopwatch t;
  rocksdb::Options options;
  internal::ApplyRocksDBOptions(
      ResolvedBenchOptions(
          (std::filesystem::path(dir) / internal::kStateDirDb).string()),
      &options);
  options.merge_operator = std::make_shared<ConcatOperator>();
  Status s;
  if (!loaded || !SettleNone()) {
    s = SettleRocksDB(
        (std::filesystem::path(dir) / internal::kStateDirDb).string(), options,
        loaded);
  }
  if (!s.ok()) return s;
  MarkLoaded(dir);
  std::fprintf(stderr, "  settle %s: %.1f s\n", StoreKindName(kind),
               t.Seconds());
  s = store->Open(kind);
  if (s.ok()) s = store->WarmCache();
  if (!s.ok()) return s;
  return store;
}

Status WeirStore::Open(StoreKind kind) {
  StateBackendOptions options;
  options.max_parallelism = kMaxParallelism;
  Result<std::unique_ptr<KeyedStateBackend>> backend =
      kind == StoreKind::kMemory
          ? NewMemoryBackend(options)
          : OpenRocksDBBackend(options, BenchRocksDBOptions(), dir_);
  if (!backend.ok()) return backend.status();
  backend_ = std::move(*backend);
  const OperatorId op = OperatorId::FromUid("state_bench");
  auto value =
      GetState(*backend_, op,
               ValueStateDescriptor<Counter, CounterSerializer>{kValueName});
  if (!value.ok()) return value.status();
  auto list =
      GetState(*backend_, op, ListStateDescriptor<std::string>{kListName});
  if (!list.ok()) return list.status();
  auto map = GetState(*backend_, op,
                      MapStateDescriptor<int64_t, std::string>{kMapName});
  if (!map.ok()) return map.status();
  value_.emplace(std::move(*value));
  list_.emplace(std::move(*list));
  map_.emplace(std::move(*map));
  return Status::OK();
}

Status WeirStore::WarmCache() {
  if (!WarmCacheEnabled()) return Status::OK();
  Stopwatch t;
  uint64_t entries = 0;
  const OperatorId op = OperatorId::FromUid("state_bench");
  for (int kg = 0; kg < kMaxParallelism; ++kg) {
    Status s = backend_->ForEachEntry(op, kg, [&](const StateEntry&) {
      ++entries;
      return Status::OK();
    });
    if (!s.ok()) return s;
  }
  std::fprintf(stderr, "  warm %s: %llu entries, %.1f s\n",
               StoreKindName(kind_), static_cast<unsigned long long>(entries),
               t.Seconds());
  return Status::OK();
}

Status WeirStore::Load(uint64_t n) {
  Stopwatch t;
  Counter counter;
  std::string payload;
  for (uint64_t i = 0; i < n; ++i) {
    const std::string_view p = Payload(i);
    std::memcpy(counter.pad.data(), p.data() + 8, counter.pad.size());
    payload.assign(p);
    Status s = SetKey(i);
    if (s.ok()) s = value_->Update(counter);
    if (s.ok()) s = list_->Add(payload);
    if (s.ok()) s = map_->Put(static_cast<int64_t>(i), payload);
    if (!s.ok()) return s;
    Progress(kind_, i + 1, n, t);
  }
  return backend_->Flush();
}

// ---------------------------------------------------------------- raw

RawStore::RawStore(StoreKind kind, std::string dir)
    : kind_(kind),
      dir_(std::move(dir)),
      value_id_(internal::StateIdForName(kValueName)),
      list_id_(internal::StateIdForName(kListName)),
      map_id_(internal::StateIdForName(kMapName)) {
  if (kind == StoreKind::kRawSameOptions) {
    internal::ApplyRocksDBOptions(BenchRocksDBOptions(), &options_);
  }
  options_.create_if_missing = true;
  // Needed for list state; RocksDB has no default merge operator.
  options_.merge_operator = std::make_shared<ConcatOperator>();
  write_options_.disableWAL = true;

  const std::string_view element = Payload(~uint64_t{0});
  map_value_.push_back('\1');
  map_value_.append(element);
  PutLengthPrefixed(&list_element_, map_value_);
}

RawStore::~RawStore() {
  if (!db_) return;
  ReportMemory("closing");
  db_->Close().PermitUncheckedError();
}

void RawStore::ReportMemory(const char* when) const {
  const auto mib = [&](const char* property) {
    uint64_t v = 0;
    if (!db_->GetIntProperty(cf_, property, &v)) return -1.0;
    return static_cast<double>(v) / (1 << 20);
  };
  std::fprintf(
      stderr,
      "  memory %s, %s: table readers (index, filters) %.1f MiB, "
      "memtables %.1f MiB, block cache %.1f MiB\n",
      StoreKindName(kind_), when, mib("rocksdb.estimate-table-readers-mem"),
      mib("rocksdb.cur-size-all-mem-tables"), mib("rocksdb.block-cache-usage"));
}

Result<std::unique_ptr<RawStore>> RawStore::Create(StoreKind kind,
                                                   const std::string& dir,
                                                   uint64_t n) {
  std::unique_ptr<RawStore> store(new RawStore(kind, dir));
  const bool loaded = IsLoaded(dir);
  Status s;
  if (!loaded) {
    s = store->Open();
    if (s.ok()) s = store->Load(n);
    if (!s.ok()) return s;
    rocksdb::Status closed = store->db_->Close();
    store->db_.reset();
    if (!closed.ok()) return Status::IOError(closed.ToString());
  }
  if (kind == StoreKind::kRawSameOptions) {
    // What weir's backend would choose for this state (kAuto).
    internal::ApplyRocksDBOptions(ResolvedBenchOptions(dir), &store->options_);
  }
  Stopwatch t;
  if (!loaded || !SettleNone()) s = SettleRocksDB(dir, store->options_, loaded);
  if (!s.ok()) return s;
  MarkLoaded(dir);
  std::fprintf(stderr, "  settle %s: %.1f s\n", StoreKindName(kind),
               t.Seconds());
  s = store->Open();
  if (s.ok()) s = store->WarmCache();
  if (!s.ok()) return s;
  store->ReportMemory("opened");
  return store;
}

Status RawStore::Open() {
  rocksdb::DB* db = nullptr;
  rocksdb::Status rs = rocksdb::DB::Open(options_, dir_, &db);
  if (!rs.ok()) return FromRocks(rs);
  db_.reset(db);
  cf_ = db_->DefaultColumnFamily();
  return Status::OK();
}

Status RawStore::WarmCache() {
  if (!WarmCacheEnabled()) return Status::OK();
  Stopwatch t;
  uint64_t entries = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options_, cf_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++entries;
  if (!it->status().ok()) return FromRocks(it->status());
  std::fprintf(stderr, "  warm %s: %llu entries, %.1f s\n",
               StoreKindName(kind_), static_cast<unsigned long long>(entries),
               t.Seconds());
  return Status::OK();
}

Status RawStore::Load(uint64_t n) {
  Stopwatch t;
  rocksdb::WriteBatch batch;
  std::string value, element;
  for (uint64_t i = 0; i < n; ++i) {
    const std::string_view p = Payload(i);
    // Counter{0, pad = p[8..]} as CounterSerializer writes it.
    value.assign(1, '\1');
    value.append(8, '\0');
    value.append(p.substr(8));
    StateKey(value_id_, i);
    rocksdb::Status rs = batch.Put(key_, value);
    value.assign(1, '\1');
    value.append(p);
    element.clear();
    PutLengthPrefixed(&element, value);
    StateKey(list_id_, i);
    if (rs.ok()) rs = batch.Put(key_, element);
    MapKey(i);
    if (rs.ok()) rs = batch.Put(key_, value);
    if (rs.ok() && (batch.Count() >= 3 * kBatchKeys || i + 1 == n)) {
      rs = db_->Write(write_options_, &batch);
      batch.Clear();
    }
    if (!rs.ok()) return FromRocks(rs);
    Progress(kind_, i + 1, n, t);
  }
  rocksdb::FlushOptions flush;
  flush.wait = true;
  return FromRocks(db_->Flush(flush));
}

}  // namespace weir::bench
