// SPDX-License-Identifier: Apache-2.0
//
// engine_bench: throughput and latency of a keyed count job, end to end
// through the engine (docs/performance.md, "A keyed count through the
// engine"):
//
//   GeneratorSource (1M keys) -> KeyBy(key) -> count (KeyedProcessFunction,
//   ValueState<int64_t>, one read-modify-write per record) -> DiscardingSink
//
//   BM_KeyedCount/<backend>/p<n>    a fixed number of events, as fast as
//                                   possible; memory and rocksdb, p = 1, 2
//   BM_KeyedCount/raw_rocksdb_loop  the baseline: one thread generating the
//                                   same keys and doing the same Get + Put
//                                   on a plain rocksdb::DB with weir's
//                                   options, key layout and value bytes
//   BM_KeyedCountLatency/<backend>/p1
//                                   the same job at a fixed input rate; a
//                                   sink measures now - creation time
//
// Every iteration runs one whole job (or loop) on empty state and is timed
// from Start() to the end of Wait() (raw loop: from DB::Open to the end of
// Close(), which flushes as the backend's close does). Process CPU time
// (CLOCK_PROCESS_CPUTIME_ID, every thread of the process, RocksDB's
// background threads included) is measured over the same span, so
// events_per_cpu_s is "events per second per busy core". A summary with the
// engine / raw ratios follows the benchmark output.
//
// Environment: WEIR_BENCH_DIR (default /tmp; data goes to
// $WEIR_BENCH_DIR/weir-engine-bench, removed at start and end),
// WEIR_BENCH_EVENTS (events per throughput run, default 3000000),
// WEIR_BENCH_LATENCY_RATE (events/s, default 100000),
// WEIR_BENCH_LATENCY_SECONDS (default 10), WEIR_BENCH_LATENCY_WARMUP_SECONDS
// (records of the first seconds left out of the percentiles, default 1),
// WEIR_BENCH_RESULTS (bench/common/run_info.h).
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <weir/job.h>
#include <weir/key_group.h>
#include <weir/options.h>
#include <weir/serializer.h>
#include <weir/sinks.h>
#include <weir/sources.h>
#include <weir/state.h>
#include <weir/stream.h>

#include "backends/common/state_registry.h"
#include "backends/rocksdb/rocksdb_backend.h"
#include "bench/common/google_benchmark.h"
#include "lib/coding.h"

namespace weir::bench {
namespace {

using Backend = JobOptions::Backend;

constexpr int64_t kNumKeys = 1'000'000;
constexpr char kCountStateName[] = "count";

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::strtoll(v, nullptr, 10);
}

int64_t ThroughputEvents() { return EnvInt("WEIR_BENCH_EVENTS", 3'000'000); }
int64_t LatencyRate() { return EnvInt("WEIR_BENCH_LATENCY_RATE", 100'000); }
int64_t LatencySeconds() { return EnvInt("WEIR_BENCH_LATENCY_SECONDS", 10); }
int64_t LatencyWarmupSeconds() {
  return EnvInt("WEIR_BENCH_LATENCY_WARMUP_SECONDS", 1);
}

std::filesystem::path BenchDir() {
  const char* v = std::getenv("WEIR_BENCH_DIR");
  const std::filesystem::path base = v != nullptr && *v != '\0' ? v : "/tmp";
  return base / "weir-engine-bench";
}

const char* BackendName(Backend b) {
  return b == Backend::kMemory ? "memory" : "rocksdb";
}

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) +
         static_cast<double>(ts.tv_nsec) * 1e-9;
}

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

GeneratorOptions Generator(int64_t count, double rate) {
  GeneratorOptions g;
  g.num_keys = kNumKeys;
  g.count = count;
  g.rate = rate;
  return g;
}

// What a run measured: wall and process CPU time over the same span.
struct RunResult {
  int64_t events = 0;
  double wall_s = 0;
  double cpu_s = 0;
};

// ---------------------------------------------------------------- the job

// The count function's output: the key's new count, and the input record's
// `seq` and `value` passed through (the latency job stores the creation
// time in `value`).
struct KeyCount {
  int64_t count = 0;
  int64_t seq = 0;
  int64_t value = 0;
};

class CountFunction final
    : public KeyedProcessFunction<std::string, GeneratedEvent, KeyCount> {
 public:
  Status Open(OperatorContext& ctx) override {
    Result<ValueState<int64_t>> state =
        GetState(ctx.state(), ctx.operator_id(),
                 ValueStateDescriptor<int64_t>{kCountStateName});
    if (!state.ok()) return state.status();
    count_.emplace(std::move(*state));
    return Status::OK();
  }

  Status ProcessElement(const GeneratedEvent& event, Context& /*ctx*/,
                        Collector<KeyCount>& out) override {
    Result<std::optional<int64_t>> current = count_->Value();
    if (!current.ok()) return current.status();
    const int64_t next = current->value_or(0) + 1;
    Status s = count_->Update(next);
    if (!s.ok()) return s;
    out.Collect(KeyCount{next, event.seq, event.value});
    return Status::OK();
  }

 private:
  std::optional<ValueState<int64_t>> count_;
};

// GeneratorSource with the wall-clock creation time (steady_clock ns) of
// each event written into its `value`, for the latency sink.
class StampingSource final : public SourceFunction<GeneratedEvent> {
 public:
  explicit StampingSource(GeneratorOptions options) : inner_(options) {}

  Status Open(OperatorContext& ctx) override { return inner_.Open(ctx); }
  Result<SourceStatus> Poll(SourceOutput<GeneratedEvent>& out,
                            int max_records) override {
    stamper_.out = &out;
    return inner_.Poll(stamper_, max_records);
  }
  Status SnapshotState(OperatorContext& ctx) override {
    return inner_.SnapshotState(ctx);
  }
  Status Close() override { return inner_.Close(); }

 private:
  struct Stamper final : SourceOutput<GeneratedEvent> {
    void Collect(GeneratedEvent value) override {
      value.value = SteadyNanos();
      out->Collect(std::move(value));
    }
    void CollectWithTimestamp(GeneratedEvent value,
                              int64_t timestamp) override {
      value.value = SteadyNanos();
      out->CollectWithTimestamp(std::move(value), timestamp);
    }
    SourceOutput<GeneratedEvent>* out = nullptr;
  };

  GeneratorSource inner_;
  Stamper stamper_;
};

// What the sink of one subtask saw, per record in arrival order: its
// sequence number, its creation time (stamped by the source) and its arrival
// time at the sink, steady_clock ns.
struct LatencyLog {
  std::vector<int64_t> seq;
  std::vector<int64_t> created;
  std::vector<int64_t> arrived;
};

class LatencySink final : public SinkFunction<KeyCount> {
 public:
  explicit LatencySink(std::shared_ptr<LatencyLog> log)
      : log_(std::move(log)) {}
  Status Invoke(const KeyCount& record, int64_t /*timestamp*/) override {
    log_->arrived.push_back(SteadyNanos());
    log_->seq.push_back(record.seq);
    log_->created.push_back(record.value);
    return Status::OK();
  }

 private:
  std::shared_ptr<LatencyLog> log_;
};

// Latencies in ns, in arrival order:
//   *created    arrival - creation time;
//   *scheduled  arrival - the time the record was due at the fixed rate:
//               start + seq / rate, where start is the earliest
//               creation - seq / rate over all records (the generator's
//               token bucket never releases a record before it is due).
//               This also counts the time a record waits to be created
//               (the generator releases records once per millisecond, and
//               a source held back by a slow job falls behind its
//               schedule), which `created` cannot see.
void Latencies(const LatencyLog& log, double ns_per_seq,
               std::vector<int64_t>* created, std::vector<int64_t>* scheduled) {
  const size_t n = log.arrived.size();
  auto due = [&](size_t i) {
    return static_cast<int64_t>(static_cast<double>(log.seq[i]) * ns_per_seq);
  };
  int64_t start = std::numeric_limits<int64_t>::max();
  for (size_t i = 0; i < n; ++i) {
    start = std::min(start, log.created[i] - due(i));
  }
  created->resize(n);
  scheduled->resize(n);
  for (size_t i = 0; i < n; ++i) {
    (*created)[i] = log.arrived[i] - log.created[i];
    (*scheduled)[i] = log.arrived[i] - (start + due(i));
  }
}

// WEIR_BENCH_LATENCY_DUMP=<dir>: writes one line per record,
// "<arrival ms since the first record> <latency from creation us> <latency
// from schedule us>", to <dir>/<backend>.txt, for looking at the latency
// over time.
void DumpLatencies(const std::string& name, const LatencyLog& log,
                   const std::vector<int64_t>& created,
                   const std::vector<int64_t>& scheduled) {
  const char* dir = std::getenv("WEIR_BENCH_LATENCY_DUMP");
  if (dir == nullptr || *dir == '\0' || log.arrived.empty()) return;
  const bool memory = name.find("/memory/") != std::string::npos;
  const std::string path =
      std::string(dir) + (memory ? "/memory.txt" : "/rocksdb.txt");
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return;
  for (size_t i = 0; i < log.arrived.size(); ++i) {
    std::fprintf(f, "%.3f %.1f %.1f\n",
                 static_cast<double>(log.arrived[i] - log.arrived[0]) / 1e6,
                 static_cast<double>(created[i]) / 1e3,
                 static_cast<double>(scheduled[i]) / 1e3);
  }
  std::fclose(f);
}

struct Percentiles {
  double p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
};

// Percentiles of `ns` without its first `skip` entries (the warm-up); the
// maximum is over all of them.
Percentiles ComputePercentiles(std::vector<int64_t> ns, size_t skip) {
  Percentiles p;
  if (ns.empty()) return p;
  p.max_us =
      static_cast<double>(*std::max_element(ns.begin(), ns.end())) / 1000.0;
  ns.erase(ns.begin(),
           ns.begin() + static_cast<std::ptrdiff_t>(std::min(skip, ns.size())));
  if (ns.empty()) return p;
  std::sort(ns.begin(), ns.end());
  auto at = [&ns](double q) {
    const auto i = static_cast<size_t>(q * static_cast<double>(ns.size()));
    return static_cast<double>(ns[std::min(i, ns.size() - 1)]) / 1000.0;
  };
  p.p50_us = at(0.50);
  p.p99_us = at(0.99);
  p.p999_us = at(0.999);
  return p;
}

Result<RunResult> RunJob(Backend backend, int parallelism,
                         SourceFactory<GeneratedEvent> source,
                         SinkFactory<KeyCount> sink, int64_t expected) {
  JobBuilder b("keyed-count");
  b.SetParallelism(parallelism);
  b.AddSource<GeneratedEvent>(std::move(source), "generator")
      .Uid("generator")
      .KeyBy([](const GeneratedEvent& e) { return e.key; })
      .Process<KeyCount>(
          []()
              -> std::unique_ptr<
                  KeyedProcessFunction<std::string, GeneratedEvent, KeyCount>> {
            return std::make_unique<CountFunction>();
          },
          "count")
      .Uid("count")
      .SinkTo(std::move(sink))
      .Uid("sink");
  JobOptions options;
  options.backend = backend;
  options.local_dir = (BenchDir() / "jobs").string();
  Result<std::unique_ptr<Job>> job = b.Build(options);
  if (!job.ok()) return job.status();

  const double cpu0 = ProcessCpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  Status s = (*job)->Start();
  if (s.ok()) s = (*job)->Wait();
  const auto t1 = std::chrono::steady_clock::now();
  const double cpu1 = ProcessCpuSeconds();
  if (!s.ok()) return s;

  const JobInfo info = (*job)->Info();
  const int64_t counted =
      info.vertices.size() == 2 ? info.vertices[1].records_in : int64_t{-1};
  if (counted != expected) {
    return Status::Aborted("the count operator saw " + std::to_string(counted) +
                           " records, expected " + std::to_string(expected));
  }
  RunResult r;
  r.events = expected;
  r.wall_s = std::chrono::duration<double>(t1 - t0).count();
  r.cpu_s = cpu1 - cpu0;
  return r;
}

// ---------------------------------------------------------------- raw loop

// The same read-modify-writes without the engine: one thread, the
// generator's keys (GeneratorSource::Generate), weir's key layout
// ([key group][state id][len][key][len][empty namespace]) and value bytes
// ([version 1][int64 big-endian, sign flipped]), in a column family with
// internal::ApplyRocksDBOptions(RocksDBOptions{}), WAL off, as the RocksDB
// backend opens it (without its list merge operator and TTL filter, which a
// value state does not use).
Result<RunResult> RunRawLoop(int64_t events) {
  const std::filesystem::path dir = BenchDir() / "raw";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("cannot create " + dir.string());

  rocksdb::Options options;
  internal::ApplyRocksDBOptions(RocksDBOptions{}, &options);
  options.create_if_missing = true;
  rocksdb::WriteOptions write_options;
  write_options.disableWAL = true;
  const rocksdb::ReadOptions read_options;
  const GeneratorOptions gen = Generator(events, 0);
  const uint32_t state_id = internal::StateIdForName(kCountStateName);
  const Serializer<int64_t> serializer;

  auto rocks_error = [](const rocksdb::Status& rs) {
    return Status::IOError("raw loop: " + rs.ToString());
  };

  const double cpu0 = ProcessCpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  rocksdb::DB* raw_db = nullptr;
  rocksdb::Status rs =
      rocksdb::DB::Open(options, (dir / "db").string(), &raw_db);
  if (!rs.ok()) return rocks_error(rs);
  std::unique_ptr<rocksdb::DB> db(raw_db);
  rocksdb::ColumnFamilyHandle* cf = nullptr;
  rs = db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(options), "count",
                              &cf);
  if (!rs.ok()) return rocks_error(rs);

  std::string key;
  std::string value;
  rocksdb::PinnableSlice pinned;
  int64_t checksum = 0;
  for (int64_t seq = 0; seq < events && rs.ok(); ++seq) {
    const GeneratedEvent e = GeneratorSource::Generate(gen, seq);
    key.clear();
    internal::AppendStateKeyPrefix(
        &key, KeyGroupForKey(e.key, kDefaultMaxParallelism), state_id);
    PutLengthPrefixed(&key, e.key);
    PutLengthPrefixed(&key, std::string_view());
    int64_t count = 0;
    rs = db->Get(read_options, cf, key, &pinned);
    if (rs.ok()) {
      if (pinned.size() != 9 || pinned[0] != 1 ||
          !serializer
               .Deserialize(1, std::string_view(pinned.data() + 1, 8), &count)
               .ok()) {
        return Status::Corruption("raw loop: unexpected stored value");
      }
      pinned.Reset();
    } else if (rs.IsNotFound()) {
      rs = rocksdb::Status::OK();
    } else {
      break;
    }
    ++count;
    value.assign(1, '\1');
    serializer.Serialize(count, &value);
    rs = db->Put(write_options, cf, key, value);
    checksum += count;
  }
  if (rs.ok()) {
    rocksdb::FlushOptions flush;
    flush.wait = true;
    rs = db->Flush(flush, cf);
  }
  rocksdb::Status destroyed = db->DestroyColumnFamilyHandle(cf);
  if (rs.ok()) rs = destroyed;
  rocksdb::Status closed = db->Close();
  if (rs.ok()) rs = closed;
  db.reset();
  const auto t1 = std::chrono::steady_clock::now();
  const double cpu1 = ProcessCpuSeconds();
  std::filesystem::remove_all(dir, ec);
  if (!rs.ok()) return rocks_error(rs);
  benchmark::DoNotOptimize(checksum);

  RunResult r;
  r.events = events;
  r.wall_s = std::chrono::duration<double>(t1 - t0).count();
  r.cpu_s = cpu1 - cpu0;
  return r;
}

// ---------------------------------------------------------------- results

// Every run's throughput figures by benchmark name, for the summary and for
// the ratios against the raw loop.
struct Throughput {
  double events_per_s = 0;
  double events_per_cpu_s = 0;
};
std::map<std::string, std::vector<Throughput>>& Recorded() {
  static auto* recorded = new std::map<std::string, std::vector<Throughput>>;
  return *recorded;
}
struct Latency {
  double p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
  double sched_p50_us = 0, sched_p99_us = 0, sched_p999_us = 0;
};
std::map<std::string, std::vector<Latency>>& RecordedLatency() {
  static auto* recorded = new std::map<std::string, std::vector<Latency>>;
  return *recorded;
}

template <class T, class F>
double Median(const std::vector<T>& runs, F field) {
  std::vector<double> v;
  for (const T& r : runs) v.push_back(field(r));
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  return v.size() % 2 == 1 ? v[v.size() / 2]
                           : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

const char kRawName[] = "BM_KeyedCount/raw_rocksdb_loop";

std::optional<Throughput> RawMedian() {
  auto it = Recorded().find(kRawName);
  if (it == Recorded().end() || it->second.empty()) return std::nullopt;
  return Throughput{
      Median(it->second, [](const Throughput& t) { return t.events_per_s; }),
      Median(it->second,
             [](const Throughput& t) { return t.events_per_cpu_s; })};
}

void SetThroughputCounters(benchmark::State& state, const std::string& name,
                           const RunResult& r, bool compare_to_raw) {
  const Throughput t{static_cast<double>(r.events) / r.wall_s,
                     static_cast<double>(r.events) / r.cpu_s};
  Recorded()[name].push_back(t);
  state.counters["events_per_s"] = t.events_per_s;
  state.counters["events_per_cpu_s"] = t.events_per_cpu_s;
  state.counters["busy_cores"] = r.cpu_s / r.wall_s;
  if (compare_to_raw) {
    if (std::optional<Throughput> raw = RawMedian()) {
      state.counters["vs_raw_cpu"] = t.events_per_cpu_s / raw->events_per_cpu_s;
      state.counters["vs_raw_wall"] = t.events_per_s / raw->events_per_s;
    }
  }
}

void RemoveBenchDir() {
  std::error_code ec;
  std::filesystem::remove_all(BenchDir(), ec);
}

// ---------------------------------------------------------------- benchmarks

void BM_KeyedCount(benchmark::State& state, const std::string& name,
                   Backend backend, int parallelism) {
  const int64_t events = ThroughputEvents();
  RunResult last;
  for (auto _ : state) {
    Result<RunResult> r = RunJob(backend, parallelism,
                                 GeneratorSource::Factory(Generator(events, 0)),
                                 DiscardingSink<KeyCount>::Factory(), events);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      return;
    }
    state.SetIterationTime(r->wall_s);
    last = *r;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * events);
  SetThroughputCounters(state, name, last, backend == Backend::kRocksDB);
}

void BM_RawRocksDBLoop(benchmark::State& state) {
  const int64_t events = ThroughputEvents();
  RunResult last;
  for (auto _ : state) {
    Result<RunResult> r = RunRawLoop(events);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      return;
    }
    state.SetIterationTime(r->wall_s);
    last = *r;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * events);
  SetThroughputCounters(state, kRawName, last, false);
}

void BM_KeyedCountLatency(benchmark::State& state, const std::string& name,
                          Backend backend) {
  const int64_t rate = LatencyRate();
  const int64_t events = rate * LatencySeconds();
  Latency lat;
  RunResult last;
  for (auto _ : state) {
    auto log = std::make_shared<LatencyLog>();
    log->seq.reserve(static_cast<size_t>(events));
    log->created.reserve(static_cast<size_t>(events));
    log->arrived.reserve(static_cast<size_t>(events));
    const GeneratorOptions gen = Generator(events, static_cast<double>(rate));
    Result<RunResult> r = RunJob(
        backend, 1,
        [gen]() -> std::unique_ptr<SourceFunction<GeneratedEvent>> {
          return std::make_unique<StampingSource>(gen);
        },
        [log]() -> std::unique_ptr<SinkFunction<KeyCount>> {
          return std::make_unique<LatencySink>(log);
        },
        events);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      return;
    }
    state.SetIterationTime(r->wall_s);
    last = *r;
    // The first records wait for the start of the job (the count task opens
    // its backend while the source already runs): they are left out of the
    // percentiles (not of the maximum).
    const auto warmup = static_cast<size_t>(rate * LatencyWarmupSeconds());
    if (log->arrived.size() <= warmup) {
      state.SkipWithError("too few latencies recorded");
      return;
    }
    std::vector<int64_t> from_creation, from_schedule;
    Latencies(*log, 1e9 / static_cast<double>(rate), &from_creation,
              &from_schedule);
    DumpLatencies(name, *log, from_creation, from_schedule);
    const Percentiles created =
        ComputePercentiles(std::move(from_creation), warmup);
    const Percentiles scheduled =
        ComputePercentiles(std::move(from_schedule), warmup);
    lat = Latency{created.p50_us,   created.p99_us,   created.p999_us,
                  created.max_us,   scheduled.p50_us, scheduled.p99_us,
                  scheduled.p999_us};
    RecordedLatency()[name].push_back(lat);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * events);
  state.counters["p50_us"] = lat.p50_us;
  state.counters["p99_us"] = lat.p99_us;
  state.counters["p999_us"] = lat.p999_us;
  state.counters["max_us"] = lat.max_us;
  state.counters["sched_p50_us"] = lat.sched_p50_us;
  state.counters["sched_p99_us"] = lat.sched_p99_us;
  state.counters["sched_p999_us"] = lat.sched_p999_us;
  state.counters["events_per_s"] =
      static_cast<double>(last.events) / last.wall_s;
  state.counters["busy_cores"] = last.cpu_s / last.wall_s;
}

void Register() {
  auto throughput = [](Backend backend, int p) {
    const std::string name = std::string("BM_KeyedCount/") +
                             BackendName(backend) + "/p" + std::to_string(p);
    benchmark::RegisterBenchmark(name.c_str(), BM_KeyedCount, name, backend, p)
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  };
  throughput(Backend::kMemory, 1);
  throughput(Backend::kMemory, 2);
  // The baseline runs right before the RocksDB jobs, whose ratios to it
  // are computed in the same run.
  benchmark::RegisterBenchmark(kRawName, BM_RawRocksDBLoop)
      ->Iterations(1)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
  throughput(Backend::kRocksDB, 1);
  throughput(Backend::kRocksDB, 2);
  for (Backend backend : {Backend::kMemory, Backend::kRocksDB}) {
    const std::string name =
        std::string("BM_KeyedCountLatency/") + BackendName(backend) + "/p1";
    benchmark::RegisterBenchmark(name.c_str(), BM_KeyedCountLatency, name,
                                 backend)
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
}

// Medians over repetitions, and weir against the raw RocksDB loop.
void PrintSummary() {
  std::printf(
      "\nSummary (medians over repetitions; per core = per CPU-second "
      "of the whole process)\n");
  for (const auto& [name, runs] : Recorded()) {
    std::printf(
        "  %-34s %10.0f events/s  %10.0f events/cpu-s  (%zu runs)\n",
        name.c_str(),
        Median(runs, [](const Throughput& t) { return t.events_per_s; }),
        Median(runs, [](const Throughput& t) { return t.events_per_cpu_s; }),
        runs.size());
  }
  for (const auto& [name, runs] : RecordedLatency()) {
    std::printf(
        "  %-34s p50 %.0f us  p99 %.0f us  p999 %.0f us  max %.0f us; "
        "from schedule: p50 %.0f us  p99 %.0f us  p999 %.0f us\n",
        name.c_str(), Median(runs, [](const Latency& l) { return l.p50_us; }),
        Median(runs, [](const Latency& l) { return l.p99_us; }),
        Median(runs, [](const Latency& l) { return l.p999_us; }),
        Median(runs, [](const Latency& l) { return l.max_us; }),
        Median(runs, [](const Latency& l) { return l.sched_p50_us; }),
        Median(runs, [](const Latency& l) { return l.sched_p99_us; }),
        Median(runs, [](const Latency& l) { return l.sched_p999_us; }));
  }
  const std::optional<Throughput> raw = RawMedian();
  for (int p : {1, 2}) {
    auto it = Recorded().find("BM_KeyedCount/rocksdb/p" + std::to_string(p));
    if (it == Recorded().end() || !raw) continue;
    const double cpu = Median(
        it->second, [](const Throughput& t) { return t.events_per_cpu_s; });
    const double wall =
        Median(it->second, [](const Throughput& t) { return t.events_per_s; });
    std::printf(
        "  rocksdb p%d / raw loop: per core %.2fx (%.0f / %.0f); wall clock "
        "%.2fx (%.0f / %.0f)\n",
        p, cpu / raw->events_per_cpu_s, cpu, raw->events_per_cpu_s,
        wall / raw->events_per_s, wall, raw->events_per_s);
  }
}

}  // namespace
}  // namespace weir::bench

int main(int argc, char** argv) {
  using namespace weir::bench;
  RemoveBenchDir();
  Register();
  if (!InitGoogleBenchmark(argc, argv, "engine_bench")) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  PrintSummary();
  RemoveBenchDir();
  return 0;
}
