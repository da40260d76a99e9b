// SPDX-License-Identifier: Apache-2.0
//
// Keyed state access per backend (see state_stores.h for the four stores):
// value get, value update (get, increment, put), list add, map put and map
// get, with N = 1M and 10M keys, uniform random keys from fixed seeds (one
// sequence per operation). One benchmark iteration is one operation. Names pair
// the stores:
//
//   BM_ValueUpdate/memory/keys:1000000
//   BM_ValueUpdate/rocksdb/keys:1000000/real_time
//   BM_ValueUpdate/raw_same_options/keys:1000000/real_time
//   BM_ValueUpdate/raw_defaults/keys:1000000/real_time
//
// BM_ValueUpdateSustained is BM_ValueUpdate run for exactly N updates (one
// per key on average, its own key sequence), so that every store does the
// same work and the memtable flushes and compactions it causes: the state
// of a job that keeps updating, where the 2-second runs of the others stay
// in one memtable over a freshly compacted LSM.
//
// Each (store, N) is loaded once, settled (flush + full compaction) for the
// RocksDB-based stores, and shared by the benchmarks of that group, which
// are registered next to each other; the store is dropped when the next
// group starts. Loading is not timed, but it dominates the run time.
// Operations run in the order get, update, list add, map put, map get, so
// later ones see the memtables and files the earlier writes left.
//
// Environment:
//   WEIR_BENCH_DIR       data directory, removed at start and end
//                        (default /tmp/weir-bench)
//   WEIR_BENCH_MAX_KEYS  largest N to run (default 10000000); below 1M the
//                        only N is this value, for smoke runs
//   WEIR_BENCH_BLOCK_CACHE_MB etc.: weir::RocksDBOptions overrides for the
//                        rocksdb and raw_same_options stores (state_stores.h)
//   WEIR_BENCH_PERF_CONTEXT=1  add RocksDB perf-context counters per op
//                        (diagnosis only: it slows RocksDB down)
//   WEIR_BENCH_KEEP_STORES=1  keep the RocksDB-based stores of one N open
//                        together, for --benchmark_enable_random_interleaving
//   WEIR_BENCH_WARM_CACHE=1  read each RocksDB store once before its
//                        benchmarks, so they start with a full block cache
//   WEIR_BENCH_SETTLE=live  after loading, flush and wait for RocksDB's own
//                        compactions but force no full compaction (the LSM
//                        shape of a running job); default: full
//   WEIR_BENCH_REUSE=1   keep and reuse loaded RocksDB data across runs, for
//                        option experiments only (state_stores.h)
//   WEIR_BENCH_RESULTS   write Google Benchmark's JSON there
//                        (bench/common/run_info.h)
//
// Run: state_bench --benchmark_min_time=2 [--benchmark_filter=ValueUpdate]
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <benchmark/benchmark.h>
#include <rocksdb/perf_context.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/version.h>

#include "bench/backends/state_stores.h"
#include "bench/common/google_benchmark.h"
#include "lib/memory_limit.h"

namespace weir::bench {
namespace {

enum class Op {
  kValueGet,
  kValueUpdate,
  kListAdd,
  kMapPut,
  kMapGet,
  kValueUpdateAhead,
  kValueUpdateSustained
};
constexpr int kNumOps = 7;

constexpr Op kOps[] = {Op::kValueGet,
                       Op::kValueUpdate,
                       Op::kListAdd,
                       Op::kMapPut,
                       Op::kMapGet,
                       Op::kValueUpdateAhead,
                       Op::kValueUpdateSustained};
constexpr StoreKind kKinds[] = {StoreKind::kMemory, StoreKind::kRocksDB,
                                StoreKind::kRawSameOptions,
                                StoreKind::kRawDefaults};
constexpr uint64_t kSeed = 0x2545f4914f6cdd1dULL;

const char* OpName(Op op) {
  switch (op) {
    case Op::kValueGet:
      return "BM_ValueGet";
    case Op::kValueUpdate:
      return "BM_ValueUpdate";
    case Op::kListAdd:
      return "BM_ListAdd";
    case Op::kMapPut:
      return "BM_MapPut";
    case Op::kMapGet:
      return "BM_MapGet";
    case Op::kValueUpdateAhead:
      return "BM_ValueUpdateAhead";
    case Op::kValueUpdateSustained:
      return "BM_ValueUpdateSustained";
  }
  return "?";
}

std::string BenchDir() {
  const char* dir = std::getenv("WEIR_BENCH_DIR");
  return dir != nullptr && *dir != '\0' ? dir : "/tmp/weir-bench";
}

void RemoveDir(const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::weakly_canonical(dir, ec) == "/") return;
  std::filesystem::remove_all(dir, ec);
}

bool EnvFlag(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' && *v != '0';
}

// A loaded store.
struct Fixture {
  std::string dir;
  std::unique_ptr<WeirStore> weir;
  std::unique_ptr<RawStore> raw;
  Status status;  // a failed load, reported by each benchmark of the store
  // Random state per operation. Google Benchmark calls a benchmark several
  // times (to size the run, and per repetition); each call continues the
  // sequence, so that no call finds the keys of an earlier one in the
  // memtable or block cache. Each operation has its own sequence, the same
  // for every store.
  uint64_t rng[kNumOps] = {};

  void Drop() {
    weir.reset();
    raw.reset();
    if (!dir.empty() && !ReuseData()) RemoveDir(dir);
  }
};

using FixtureKey = std::pair<StoreKind, uint64_t>;

std::map<FixtureKey, Fixture>& Fixtures() {
  static std::map<FixtureKey, Fixture> fixtures;
  return fixtures;
}

void DropFixtures() {
  for (auto& [_, f] : Fixtures()) f.Drop();
  Fixtures().clear();
#if defined(__GLIBC__)
  // Give the freed heap of a dropped store back to the kernel. Without it
  // glibc kept the memory store's 10M keys (6.7 GB, observed) while the
  // RocksDB stores ran, and they lost that much page cache.
  malloc_trim(0);
#endif
}

// By default one store is open at a time (the benchmarks of a store run
// together, and a closed store leaves no background work behind). With
// WEIR_BENCH_KEEP_STORES=1 the RocksDB-based stores of one N stay open
// together, for --benchmark_enable_random_interleaving.
Fixture& GetFixture(StoreKind kind, uint64_t n) {
  const FixtureKey key{kind, n};
  auto& all = Fixtures();
  if (auto it = all.find(key); it != all.end()) return it->second;
  const bool keep = EnvFlag("WEIR_BENCH_KEEP_STORES");
  bool drop_others = !keep || kind == StoreKind::kMemory;
  for (const auto& [other, _] : all) {
    drop_others =
        drop_others || other.second != n || other.first == StoreKind::kMemory;
  }
  if (drop_others) DropFixtures();
  Fixture& f = all[key];
  for (int op = 0; op < kNumOps; ++op) {
    f.rng[op] = SplitMix64(kSeed + static_cast<uint64_t>(op));
  }
  f.dir = BenchDir() + "/" + StoreKindName(kind) + "-" + std::to_string(n);
  std::fprintf(stderr, "loading %s with %llu keys into %s\n",
               StoreKindName(kind), static_cast<unsigned long long>(n),
               f.dir.c_str());
  if (kind == StoreKind::kMemory || kind == StoreKind::kRocksDB) {
    Result<std::unique_ptr<WeirStore>> s = WeirStore::Create(kind, f.dir, n);
    f.status = s.status();
    if (s.ok()) f.weir = std::move(*s);
  } else {
    Result<std::unique_ptr<RawStore>> s = RawStore::Create(kind, f.dir, n);
    f.status = s.status();
    if (s.ok()) f.raw = std::move(*s);
  }
  return f;
}

bool PerfContextEnabled() { return EnvFlag("WEIR_BENCH_PERF_CONTEXT"); }

// RocksDB's per-thread perf context of the benchmark thread, as per-op
// counters (ns or counts). It costs clock reads, so it is off by default.
void ReportPerfContext(benchmark::State& state) {
  const rocksdb::PerfContext& p = *rocksdb::get_perf_context();
  const auto avg = [&](const char* name, uint64_t v) {
    state.counters[name] = benchmark::Counter(
        static_cast<double>(v), benchmark::Counter::kAvgIterations);
  };
  avg("memtable_get_ns", p.get_from_memtable_time);
  avg("files_get_ns", p.get_from_output_files_time);
  avg("block_read_ns", p.block_read_time);
  avg("block_reads", p.block_read_count);
  avg("decompress_ns", p.block_decompress_time);
  avg("cache_hits", p.block_cache_hit_count);
  avg("block_seek_ns", p.block_seek_nanos);
  avg("checksum_ns", p.block_checksum_time);
  avg("find_table_ns", p.find_table_nanos);
  avg("block_iter_ns", p.new_table_block_iter_nanos);
  avg("bloom_sst_miss", p.bloom_sst_miss_count);
  avg("write_memtable_ns", p.write_memtable_time);
  avg("write_delay_ns", p.write_delay_time);
  avg("write_other_ns", p.write_pre_and_post_process_time);
}

// xorshift64 for the key index, mapped to [0, n) by a multiply-shift
// (n < 2^32): a few cycles per operation.
template <class Store, Status (Store::*kFn)(uint64_t)>
void Loop(benchmark::State& state, Store& store, uint64_t n, uint64_t* rng) {
  const bool perf = PerfContextEnabled();
  if (perf) {
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableTimeExceptForMutex);
    rocksdb::get_perf_context()->Reset();
  }
  uint64_t x = *rng;
  for (auto _ : state) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    Status s = (store.*kFn)(((x >> 32) * n) >> 32);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  *rng = x;
  if (perf) {
    ReportPerfContext(state);
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  }
  benchmark::DoNotOptimize(store.sink());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// Loop's keys, with each key's index known kAhead operations before its
// own, as the engine's input gate hints its keyed head operator
// (kPrefetchAhead in include/weir/detail/runtime.h): ValueUpdateAhead(i,
// ahead) updates key i and hints key `ahead`.
void AheadLoop(benchmark::State& state, WeirStore& store, uint64_t n,
               uint64_t* rng) {
  constexpr int kAhead = 4;
  uint64_t x = *rng;
  const auto next = [&x, n] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return ((x >> 32) * n) >> 32;
  };
  uint64_t ring[kAhead];
  for (uint64_t& r : ring) r = next();
  int pos = 0;
  for (auto _ : state) {
    const uint64_t i = ring[pos];
    const uint64_t ahead = next();
    ring[pos] = ahead;
    pos = pos + 1 == kAhead ? 0 : pos + 1;
    Status s = store.ValueUpdateAhead(i, ahead);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  *rng = x;
  benchmark::DoNotOptimize(store.sink());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

template <class Store>
void Dispatch(benchmark::State& state, Store& store, Op op, uint64_t n,
              uint64_t* rng) {
  switch (op) {
    case Op::kValueGet:
      return Loop<Store, &Store::ValueGet>(state, store, n, rng);
    case Op::kValueUpdate:
    case Op::kValueUpdateSustained:
      return Loop<Store, &Store::ValueUpdate>(state, store, n, rng);
    case Op::kListAdd:
      return Loop<Store, &Store::ListAdd>(state, store, n, rng);
    case Op::kMapPut:
      return Loop<Store, &Store::MapPut>(state, store, n, rng);
    case Op::kMapGet:
      return Loop<Store, &Store::MapGet>(state, store, n, rng);
    case Op::kValueUpdateAhead:
      if constexpr (std::is_same_v<Store, WeirStore>) {
        return AheadLoop(state, store, n, rng);
      } else {
        state.SkipWithError("only weir's stores take key hints");
      }
  }
}

void Run(benchmark::State& state, StoreKind kind, Op op) {
  const auto n = static_cast<uint64_t>(state.range(0));
  Fixture& f = GetFixture(kind, n);
  if (!f.status.ok()) {
    state.SkipWithError(f.status.ToString().c_str());
    return;
  }
  uint64_t* rng = &f.rng[static_cast<int>(op)];
  if (f.weir) {
    Dispatch(state, *f.weir, op, n, rng);
  } else {
    Dispatch(state, *f.raw, op, n, rng);
  }
}

std::vector<uint64_t> KeyCounts() {
  uint64_t max_keys = 10'000'000;
  if (const char* v = std::getenv("WEIR_BENCH_MAX_KEYS")) {
    max_keys = std::strtoull(v, nullptr, 10);
  }
  std::vector<uint64_t> counts;
  for (uint64_t n : {uint64_t{1'000'000}, uint64_t{10'000'000}}) {
    if (n <= max_keys) counts.push_back(n);
  }
  if (counts.empty() && max_keys > 0) counts.push_back(max_keys);
  return counts;
}

void AddContext() {
  const RocksDBOptions o = BenchRocksDBOptions();
  benchmark::AddCustomContext("rocksdb_version",
                              std::to_string(ROCKSDB_MAJOR) + "." +
                                  std::to_string(ROCKSDB_MINOR) + "." +
                                  std::to_string(ROCKSDB_PATCH));
  benchmark::AddCustomContext("weir_block_cache_mb",
                              std::to_string(o.block_cache_bytes >> 20));
  benchmark::AddCustomContext("weir_write_buffer_mb",
                              std::to_string(o.write_buffer_bytes >> 20));
  benchmark::AddCustomContext("weir_bloom_bits",
                              std::to_string(o.bloom_bits_per_key));
  benchmark::AddCustomContext("weir_block_size", std::to_string(o.block_size));
  benchmark::AddCustomContext("weir_compression",
                              std::to_string(static_cast<int>(o.compression)) +
                                  " (0 auto, 1 none, 2 snappy, 3 lz4, 4 zstd)");
  benchmark::AddCustomContext("weir_pin_index",
                              o.pin_index_and_filter_blocks ? "1" : "0");
  benchmark::AddCustomContext("weir_read_mode",
                              std::to_string(static_cast<int>(o.read_mode)) +
                                  " (0 auto, 1 mmap, 2 pread)");
  benchmark::AddCustomContext("memory_limit_mb",
                              std::to_string(ProcessMemoryLimitBytes() >> 20));
  benchmark::AddCustomContext("bench_dir", BenchDir());
  if (ReuseData()) benchmark::AddCustomContext("reuse", "1");
  if (WarmCacheEnabled()) benchmark::AddCustomContext("warm_cache", "1");
}

int Main(int argc, char** argv) {
  if (!InitGoogleBenchmark(argc, argv, "state_bench")) return 1;
  const std::string dir = BenchDir();
  if (!ReuseData()) RemoveDir(dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "cannot create %s: %s\n", dir.c_str(),
                 ec.message().c_str());
    return 1;
  }
  AddContext();
  // Grouped by (N, store) so that each store is loaded once.
  for (uint64_t n : KeyCounts()) {
    for (StoreKind kind : kKinds) {
      for (Op op : kOps) {
        // Key hints are weir's (KeyedStateStore::PrefetchKey).
        if (op == Op::kValueUpdateAhead &&
            (kind == StoreKind::kRawSameOptions ||
             kind == StoreKind::kRawDefaults)) {
          continue;
        }
        const std::string name =
            std::string(OpName(op)) + "/" + StoreKindName(kind);
        benchmark::internal::Benchmark* b = benchmark::RegisterBenchmark(
            name.c_str(),
            [kind, op](benchmark::State& state) { Run(state, kind, op); });
        b->Arg(static_cast<int64_t>(n))->ArgNames({"keys"});
        if (kind != StoreKind::kMemory) b->UseRealTime();
        // As many updates as keys, whatever the time: every store does the
        // same work, with the flushes and compactions it causes.
        if (op == Op::kValueUpdateSustained) {
          b->Iterations(static_cast<benchmark::IterationCount>(n));
        }
      }
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  DropFixtures();
  if (!ReuseData()) RemoveDir(dir);
  return 0;
}

}  // namespace
}  // namespace weir::bench

int main(int argc, char** argv) { return weir::bench::Main(argc, argv); }
