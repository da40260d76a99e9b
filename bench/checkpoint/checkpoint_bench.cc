// SPDX-License-Identifier: Apache-2.0
//
// checkpoint_bench: incremental checkpoints of large RocksDB state while
// records keep flowing (docs/performance.md, "Checkpoints").
//
// For each state size (WEIR_BENCH_STATE_GB, default "1,4"):
//
//   1. Bulk load (bulk_load.h): about that many bytes of SST files of one
//      operator's ValueState<Counter> (N keys, 16-byte keys, 101-byte
//      values) are written with SstFileWriter in weir's layout and ingested
//      into the operator's column family; the backend is reopened and a
//      sample of keys is read back through the typed API.
//   2. One "task" thread (this one) applies records at a fixed rate
//      (WEIR_BENCH_RATE, default 20000/s): record s is due at
//      start + s / rate; it does SetCurrentKey + Value() + Update() (a
//      read-modify-write of the count) and its latency is completion - due,
//      so a stall delays every record behind it. Keys follow a fixed
//      permutation of 0..N-1 (i = (a*j + b) mod N for the j-th update), so
//      every interval of N/100 records updates 1% of the keys, each once,
//      and no key twice in the run.
//   3. Warm-up: one interval of records, then a first (full) checkpoint.
//   4. Phases (WEIR_BENCH_PHASES, default "none,ckpt,none,ckpt,none",
//      interleaved against drift in the machine's load), continuing the
//      same schedule: "none" runs K intervals (WEIR_BENCH_CHECKPOINTS,
//      default 4) without checkpoints; "ckpt" takes a catch-up checkpoint
//      at its start and then one after each interval of N/100 records (K
//      more), and runs on until the last one has completed. A checkpoint
//      is what the engine does: the sync phase (KeyedStateBackend::Snapshot)
//      on the task thread, timed; on a background thread
//      PendingSnapshot::Complete, SharedFileStore::Upload, CommitCheckpoint
//      (`_metadata`) and Prune(1), timed. At most one is in flight: a
//      checkpoint due while the previous one still runs waits for it.
//   5. Baseline on the same DB (the backend closed, the DB opened directly
//      with weir's options): WEIR_BENCH_BASELINE_RUNS (default 5) times,
//      an interval of the same updates at the same rate, then
//      Flush(wait = true) + Checkpoint::CreateCheckpoint, timed: the
//      synchronous way, as Flink's RocksDB backend flushes in its sync
//      phase.
//
//      The baseline runs alternate with replays of the steps of weir's
//      sync phase on the raw DB, each step timed (where the pause goes).
//
// Per checkpoint: the sync pause (wall time, and the task thread's CPU time
// and context switches in it, which tell preemption from work), the async
// phase (and its parts), files and bytes uploaded and referenced, the
// `_metadata` size, and the bytes of SST files new since the previous
// checkpoint (its file list against the previous one's). Per phase: record
// latency p50/p99/p999/max, and the records whose processing took over
// 5 ms with the disk reads and context switches behind them. Then the
// summary (sync pause against the raw baseline, upload against new SST
// bytes, p99 with against without checkpoints) and the whole run as JSON on
// stdout, with the commit and the machine; also written to WEIR_BENCH_JSON,
// or else into $WEIR_BENCH_RESULTS (bench/common/run_info.h).
//
// Environment: WEIR_BENCH_DIR (default /tmp; data in
// $WEIR_BENCH_DIR/weir-checkpoint-bench, removed at start and after each
// size unless WEIR_BENCH_KEEP=1), WEIR_BENCH_STATE_GB (GiB of SST files,
// comma-separated, fractions allowed), WEIR_BENCH_RATE,
// WEIR_BENCH_CHECKPOINTS, WEIR_BENCH_UPDATE_PERCENT (default 1),
// WEIR_BENCH_PHASES, WEIR_BENCH_BASELINE_RUNS, WEIR_BENCH_JSON,
// WEIR_BENCH_RESULTS,
// WEIR_BENCH_LATENCY_DUMP (a directory: latency per 100 ms and checkpoint
// times, as TSV), WEIR_BENCH_TASK_SCHED=fifo (the task thread at SCHED_FIFO
// priority 1, so that other processes on a shared machine cannot preempt
// it) and WEIR_BENCH_TASK_NICE.
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/utilities/checkpoint.h>

#include <weir/job_info.h>
#include <weir/options.h>
#include <weir/state.h>

#include "backends/backend.h"
#include "backends/rocksdb/rocksdb_backend.h"
#include "backends/rocksdb/rocksdb_snapshot.h"
#include "backends/rocksdb/rocksdb_util.h"
#include "bench/checkpoint/bench_util.h"
#include "bench/checkpoint/bulk_load.h"
#include "bench/common/run_info.h"
#include "engine/checkpoint/coordinator.h"
#include "engine/checkpoint/metadata.h"
#include "engine/checkpoint/shared_store.h"
#include "lib/coding.h"

namespace weir::bench {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------- basics

// The task thread's scheduling: a nice value (WEIR_BENCH_TASK_NICE) or
// SCHED_FIFO priority 1 (WEIR_BENCH_TASK_SCHED=fifo), which keeps other
// processes on a shared machine from preempting it; 0 / false restore the
// default.
void SetTaskScheduling(int nice, bool fifo) {
  sched_param param{};
  param.sched_priority = fifo ? 1 : 0;
  if (pthread_setschedparam(pthread_self(), fifo ? SCHED_FIFO : SCHED_OTHER,
                            &param) != 0) {
    std::fprintf(stderr, "checkpoint_bench: SCHED_FIFO refused\n");
    std::exit(1);
  }
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice) != 0) {
    std::fprintf(stderr, "checkpoint_bench: setpriority(%d) failed\n", nice);
    std::exit(1);
  }
}

struct Config {
  std::vector<double> sizes_gb;
  std::string dir;
  int64_t rate = 20000;
  int checkpoints = 4;
  double update_percent = 1.0;
  int baseline_runs = 5;
  std::vector<std::string> phases;
  bool keep = false;
  std::string json_path;
  int verify_samples = 2000;
  int task_nice = 0;
  bool task_fifo = false;
  std::string dump_dir;
};

Config ReadConfig() {
  Config c;
  for (const std::string& s : Split(Env("WEIR_BENCH_STATE_GB", "1,4"))) {
    c.sizes_gb.push_back(std::strtod(s.c_str(), nullptr));
  }
  c.dir = Env("WEIR_BENCH_DIR", "/tmp") + "/weir-checkpoint-bench";
  c.rate = static_cast<int64_t>(EnvDouble("WEIR_BENCH_RATE", 20000));
  c.checkpoints = static_cast<int>(EnvDouble("WEIR_BENCH_CHECKPOINTS", 4));
  c.update_percent = EnvDouble("WEIR_BENCH_UPDATE_PERCENT", 1.0);
  c.baseline_runs = static_cast<int>(EnvDouble("WEIR_BENCH_BASELINE_RUNS", 5));
  c.phases = Split(Env("WEIR_BENCH_PHASES", "none,ckpt,none,ckpt,none"));
  c.keep = EnvDouble("WEIR_BENCH_KEEP", 0) != 0;
  c.json_path = Env("WEIR_BENCH_JSON", "");
  c.task_nice = static_cast<int>(EnvDouble("WEIR_BENCH_TASK_NICE", 0));
  c.dump_dir = Env("WEIR_BENCH_LATENCY_DUMP", "");
  c.task_fifo = Env("WEIR_BENCH_TASK_SCHED", "other") == "fifo";
  return c;
}

// ---------------------------------------------------------------- latency

struct Percentiles {
  uint64_t records = 0;
  double p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
  double records_per_s = 0;  // delivered over the phase
};

// Latencies of one phase in units of 100 ns (saturating at 429 s; the max
// is exact).
class Latencies {
 public:
  void Add(int64_t ns) {
    ns = std::max<int64_t>(ns, 0);
    max_ns_ = std::max(max_ns_, ns);
    units_.push_back(static_cast<uint32_t>(std::min<int64_t>(
        (ns + 50) / 100, std::numeric_limits<uint32_t>::max())));
  }
  void Append(const Latencies& other) {
    units_.insert(units_.end(), other.units_.begin(), other.units_.end());
    max_ns_ = std::max(max_ns_, other.max_ns_);
    wall_ns_ += other.wall_ns_;
  }
  void set_wall_ns(int64_t ns) { wall_ns_ = ns; }
  void set_first_seq(uint64_t seq) { first_seq_ = seq; }
  uint64_t first_seq() const { return first_seq_; }
  // In units of 100 ns.
  const std::vector<uint32_t>& units() const { return units_; }

  Percentiles Summarize() const {
    Percentiles p;
    p.records = units_.size();
    if (units_.empty()) return p;
    std::vector<uint32_t> sorted = units_;
    auto at = [&](double q) {
      size_t k = static_cast<size_t>(std::ceil(q * sorted.size()));
      k = std::clamp<size_t>(k, 1, sorted.size()) - 1;
      std::nth_element(sorted.begin(), sorted.begin() + k, sorted.end());
      return sorted[k] / 10.0;
    };
    p.p50_us = at(0.50);
    p.p99_us = at(0.99);
    p.p999_us = at(0.999);
    p.max_us = max_ns_ / 1000.0;
    if (wall_ns_ > 0) p.records_per_s = units_.size() * 1e9 / wall_ns_;
    return p;
  }

 private:
  std::vector<uint32_t> units_;
  int64_t max_ns_ = 0;
  int64_t wall_ns_ = 0;
  uint64_t first_seq_ = 0;  // schedule index of the first record
};

// ---------------------------------------------------------------- checkpoints

struct CheckpointRecord {
  int64_t id = 0;
  std::string kind;              // full, catch-up, incremental
  double sync_us = 0;            // wall time of Snapshot() on the task thread
  double sync_backend_us = 0;    // SnapshotStats::sync_micros
  double sync_cpu_us = 0;        // the task thread's CPU time in Snapshot()
  int64_t sync_voluntary = 0;    // context switches in Snapshot(): blocked
  int64_t sync_involuntary = 0;  // preempted
  double sync_at_s = 0;          // when the sync phase started, on the schedule
  double async_end_s = 0;        // when Prune returned, on the schedule
  double trigger_delay_ms = 0;   // waited for the previous checkpoint
  double async_ms = 0;           // Complete through Prune
  double complete_ms = 0;
  double flush_wait_ms = 0;
  double upload_ms = 0;
  double commit_ms = 0;
  double prune_ms = 0;
  uint64_t files = 0;
  uint64_t files_uploaded = 0;
  uint64_t files_referenced = 0;
  uint64_t bytes_uploaded = 0;
  uint64_t bytes_referenced = 0;
  uint64_t new_sst_files = 0;
  uint64_t new_sst_bytes = 0;
  uint64_t metadata_bytes = 0;
  int fallback_cfs = 0;
  uint64_t pruned_files = 0;
  std::string error;

  double ratio() const {
    if (new_sst_bytes == 0) return bytes_uploaded == 0 ? 1.0 : INFINITY;
    return static_cast<double>(bytes_uploaded) /
           static_cast<double>(new_sst_bytes);
  }
};

// The background half of a checkpoint, as the engine's coordinator does it:
// Complete, Upload, remove the local folder, CommitCheckpoint, Prune.
class CheckpointWorker {
 public:
  CheckpointWorker(engine::SharedFileStore* store, OperatorId op)
      : store_(store), op_(op), job_(JobId::Generate()) {
    thread_ = std::thread([this] { Run(); });
  }
  ~CheckpointWorker() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  bool busy() const { return busy_.load(std::memory_order_acquire); }

  void Submit(CheckpointRecord record, std::unique_ptr<PendingSnapshot> p,
              std::string local_dir) {
    busy_.store(true, std::memory_order_release);
    {
      std::lock_guard<std::mutex> lock(mu_);
      job_queue_.push_back({std::move(record), std::move(p),
                            std::move(local_dir), WallMillis(), NowNs()});
    }
    cv_.notify_all();
  }

  void WaitIdle() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return job_queue_.empty() && !running_; });
  }

  std::vector<CheckpointRecord> TakeRecords() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(done_, {});
  }

 private:
  struct Job {
    CheckpointRecord record;
    std::unique_ptr<PendingSnapshot> pending;
    std::string local_dir;
    int64_t trigger_ms;
    int64_t submitted_ns;
  };

  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !job_queue_.empty(); });
      if (job_queue_.empty()) return;
      Job job = std::move(job_queue_.front());
      job_queue_.pop_front();
      running_ = true;
      lock.unlock();
      Process(job);
      lock.lock();
      done_.push_back(std::move(job.record));
      running_ = false;
      if (job_queue_.empty()) busy_.store(false, std::memory_order_release);
      cv_.notify_all();
    }
  }

  void Process(Job& job) {
    CheckpointRecord& r = job.record;
    const int64_t t0 = NowNs();
    Result<BackendSnapshot> snap = job.pending->Complete();
    const int64_t t1 = NowNs();
    const SnapshotStats stats = job.pending->stats();
    job.pending.reset();
    r.complete_ms = (t1 - t0) / 1e6;
    r.flush_wait_ms = stats.flush_wait_micros / 1e3;
    r.fallback_cfs = static_cast<int>(stats.fallback_column_families.size());
    if (!snap.ok()) {
      r.error = "Complete: " + snap.status().ToString();
      return;
    }
    Result<engine::UploadResult> up =
        store_->Upload(static_cast<uint64_t>(r.id), snap->files);
    const int64_t t2 = NowNs();
    std::error_code ec;
    fs::remove_all(job.local_dir, ec);
    if (!up.ok()) {
      r.error = "Upload: " + up.status().ToString();
      return;
    }
    r.upload_ms = (t2 - t1) / 1e6;
    r.files = snap->files.size();
    r.files_uploaded = static_cast<uint64_t>(up->files_uploaded);
    r.files_referenced = static_cast<uint64_t>(up->files_referenced);
    r.bytes_uploaded = up->bytes_uploaded;
    r.bytes_referenced = up->bytes_referenced;

    // SST files new since the previous checkpoint: RocksDB file names are
    // unique within the DB, so a name not in the previous file list is a
    // file written since (a flush or a compaction output). A file written
    // by the fallback path (the whole column family at the cut) is not
    // counted: it is not a file of the DB.
    std::set<std::string> names;
    for (const SnapshotFile& f : snap->files) {
      const std::string name = f.column_family + "/" + f.name;
      names.insert(name);
      if (prev_names_.count(name) == 0 && f.name.rfind("cut-", 0) != 0) {
        ++r.new_sst_files;
        r.new_sst_bytes += f.size;
      }
    }
    prev_names_ = std::move(names);

    engine::CheckpointMetadata meta;
    meta.job_id = job_;
    meta.job_name = "checkpoint_bench";
    meta.checkpoint_id = static_cast<uint64_t>(r.id);
    meta.kind = engine::SnapshotKind::kCheckpoint;
    meta.trigger_time_ms = job.trigger_ms;
    meta.completion_time_ms = WallMillis();
    meta.operators.push_back(
        {op_, kOperatorUid, "counter", 1, kMaxParallelism});
    meta.tasks.push_back(
        engine::MakeTaskSnapshot(0, 0, {op_}, *snap, std::move(up->files)));
    Status s = store_->CommitCheckpoint(meta);
    const int64_t t3 = NowNs();
    if (!s.ok()) {
      r.error = "CommitCheckpoint: " + s.ToString();
      return;
    }
    r.commit_ms = (t3 - t2) / 1e6;
    r.metadata_bytes =
        fs::file_size(store_->CheckpointDir(static_cast<uint64_t>(r.id)) + "/" +
                          std::string(engine::kMetadataFileName),
                      ec);
    Result<engine::DeletionResult> pruned = store_->Prune(1);
    const int64_t t4 = NowNs();
    if (!pruned.ok()) {
      r.error = "Prune: " + pruned.status().ToString();
      return;
    }
    r.pruned_files = static_cast<uint64_t>(pruned->files_removed);
    r.prune_ms = (t4 - t3) / 1e6;
    r.async_ms = (t4 - t0) / 1e6;
    r.async_end_s =
        r.sync_at_s + (t4 - job.submitted_ns) / 1e9 + r.sync_us / 1e6;
  }

  engine::SharedFileStore* store_;
  const OperatorId op_;
  const JobId job_;
  std::set<std::string> prev_names_;  // of the previous checkpoint

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> job_queue_;
  std::vector<CheckpointRecord> done_;
  bool running_ = false;
  bool stop_ = false;
  std::atomic<bool> busy_{false};
  std::thread thread_;
};

// ---------------------------------------------------------------- task

// A record whose own processing (SetCurrentKey + Value + Update, not the
// wait before it) took longer than kSlowRecordNs, with what the task
// thread's getrusage saw since the previous record: blocks read from the
// disk (ru_inblock: a page-cache miss), voluntary switches (blocked; one is
// the sleep before the record) and involuntary ones (preempted).
constexpr int64_t kSlowRecordNs = 5'000'000;
struct SlowRecord {
  std::string phase;
  double at_s = 0;  // on the schedule
  double apply_ms = 0;
  int64_t inblock = 0;
  int64_t voluntary = 0;
  int64_t involuntary = 0;
};

struct PhaseResult {
  std::string name;
  Latencies latencies;
  Percentiles summary;
  double seconds = 0;
  ThreadUsage task;          // the task thread
  double process_cpu_s = 0;  // every thread: task, worker, RocksDB's
};

class Task {
 public:
  Task(KeyedStateBackend* backend, CounterState* state, KeySequence* keys,
       CheckpointWorker* worker, const Config& config, uint64_t interval,
       std::string local_root)
      : backend_(backend),
        state_(state),
        keys_(keys),
        worker_(worker),
        config_(config),
        interval_(interval),
        period_ns_(1e9 / static_cast<double>(config.rate)),
        local_root_(std::move(local_root)) {}

  double period_ns() const { return period_ns_; }

  // Restarts the schedule: record 0 is due now.
  void StartSchedule() {
    start_ns_ = NowNs();
    seq_ = 0;
    getrusage(RUSAGE_THREAD, &last_);
  }

  std::vector<SlowRecord> TakeSlowRecords() { return std::exchange(slow_, {}); }

  // Runs `records` records (plus, with checkpoints, until the last one has
  // completed), recording their latencies.
  void RunPhase(uint64_t records, bool checkpoints, Latencies* out,
                const std::string& phase = "warm-up") {
    const int want = checkpoints ? config_.checkpoints + 1 : 0;
    int taken = 0;
    uint64_t done = 0, since_last = 0;
    int64_t due_since = -1;
    const int64_t phase_start = NowNs();
    if (out != nullptr) out->set_first_seq(seq_);
    for (;;) {
      if (taken < want && (taken == 0 || since_last >= interval_)) {
        if (due_since < 0) due_since = NowNs();
        if (!worker_->busy()) {
          TakeCheckpoint(taken == 0 ? "catch-up" : "incremental",
                         (NowNs() - due_since) / 1e6);
          ++taken;
          since_last = 0;
          due_since = -1;
        }
      }
      if (done >= records && taken == want && !worker_->busy()) break;
      const int64_t due = Due(seq_);
      if (due > NowNs()) SleepUntilNs(due);
      const int64_t begin = NowNs();
      Apply();
      const int64_t end = NowNs();
      rusage ru;
      getrusage(RUSAGE_THREAD, &ru);
      if (end - begin > kSlowRecordNs) {
        slow_.push_back({phase, (begin - start_ns_) / 1e9, (end - begin) / 1e6,
                         ru.ru_inblock - last_.ru_inblock,
                         ru.ru_nvcsw - last_.ru_nvcsw,
                         ru.ru_nivcsw - last_.ru_nivcsw});
      }
      last_ = ru;
      if (out != nullptr) out->Add(end - due);
      ++seq_;
      ++done;
      ++since_last;
    }
    if (out != nullptr) out->set_wall_ns(NowNs() - phase_start);
  }

  // The sync phase on this thread; the rest goes to the worker.
  void TakeCheckpoint(const std::string& kind, double trigger_delay_ms) {
    CheckpointRecord r;
    r.id = next_id_++;
    r.kind = kind;
    r.trigger_delay_ms = trigger_delay_ms;
    const std::string dir = local_root_ + "/chk-" + std::to_string(r.id);
    const ThreadUsage u0 = ThreadUsage::Now();
    const int64_t t0 = NowNs();
    r.sync_at_s = (t0 - start_ns_) / 1e9;
    Result<std::unique_ptr<PendingSnapshot>> p = backend_->Snapshot(r.id, dir);
    const int64_t t1 = NowNs();
    const ThreadUsage used = ThreadUsage::Now() - u0;
    if (!p.ok()) Die("Snapshot", p.status());
    r.sync_us = (t1 - t0) / 1e3;
    r.sync_cpu_us = used.cpu_ns / 1e3;
    r.sync_voluntary = used.voluntary;
    r.sync_involuntary = used.involuntary;
    r.sync_backend_us = static_cast<double>((*p)->stats().sync_micros);
    worker_->Submit(std::move(r), std::move(*p), dir);
  }

 private:
  int64_t Due(uint64_t seq) const {
    return start_ns_ +
           static_cast<int64_t>(static_cast<double>(seq) * period_ns_);
  }

  void Apply() {
    const uint64_t i = keys_->Next();
    Status s = backend_->SetCurrentKey(MakeKey(i, &key_));
    if (!s.ok()) Die("SetCurrentKey", s);
    Result<std::optional<Counter>> v = state_->Value();
    if (!v.ok()) Die("Value", v.status());
    if (!v->has_value()) {
      Die("Value", Status::Corruption("key " + std::to_string(i) + " missing"));
    }
    ++(*v)->count;
    s = state_->Update(**v);
    if (!s.ok()) Die("Update", s);
  }

  KeyedStateBackend* backend_;
  CounterState* state_;
  KeySequence* keys_;
  CheckpointWorker* worker_;
  const Config& config_;
  const uint64_t interval_;
  const double period_ns_;
  const std::string local_root_;
  int64_t start_ns_ = 0;
  uint64_t seq_ = 0;
  int64_t next_id_ = 1;
  std::array<char, kKeySize> key_{};
  rusage last_{};
  std::vector<SlowRecord> slow_;
};

// ---------------------------------------------------------------- baseline

struct BaselineRun {
  uint64_t updates = 0;
  double flush_ms = 0;       // Flush(wait = true) of every column family
  double checkpoint_ms = 0;  // Checkpoint::CreateCheckpoint
  double total_ms = 0;       // the synchronous pause: both
  uint64_t checkpoint_bytes = 0;
  uint64_t checkpoint_files = 0;
};

// The steps of weir's sync phase (backends/rocksdb/rocksdb_snapshot.cc,
// TakeRocksDBSnapshot), replayed one by one on the raw DB and timed, to
// show where the pause goes. A replica: the pause itself is measured on
// the backend above.
struct SyncStepsRun {
  double mkdir_us = 0;       // CreateDirs(local_dir)
  double properties_us = 0;  // two GetIntProperty per column family
  double marker_us = 0;      // Put of the cut marker
  double snapshot_us = 0;    // GetSnapshot
  double disable_us = 0;     // DisableFileDeletions
  double flush_us = 0;       // Flush(wait = false, allow_write_stall)
  double total_us = 0;
  double cpu_us = 0;
  int64_t involuntary = 0;
};

SyncStepsRun ReplaySyncSteps(
    rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& cfs,
    const std::string& local_dir) {
  SyncStepsRun r;
  const ThreadUsage u0 = ThreadUsage::Now();
  int64_t t = NowNs();
  auto lap = [&](double* out) {
    const int64_t now = NowNs();
    *out = (now - t) / 1e3;
    t = now;
  };
  const int64_t start = t;
  std::error_code ec;
  fs::create_directories(local_dir, ec);
  lap(&r.mkdir_us);
  std::vector<rocksdb::ColumnFamilyHandle*> dirty;
  for (rocksdb::ColumnFamilyHandle* cf : cfs) {
    uint64_t active = 0, immutable = 0;
    db->GetIntProperty(cf, rocksdb::DB::Properties::kNumEntriesActiveMemTable,
                       &active);
    db->GetIntProperty(cf, rocksdb::DB::Properties::kNumImmutableMemTable,
                       &immutable);
    if (active > 0 || immutable > 0) dirty.push_back(cf);
  }
  lap(&r.properties_us);
  std::string marker;
  PutFixed64BE(&marker, db->GetLatestSequenceNumber());
  rocksdb::WriteOptions write;
  write.disableWAL = true;
  for (rocksdb::ColumnFamilyHandle* cf : dirty) {
    db->Put(write, cf, internal::ToSlice(internal::kCutMarkerKey), marker)
        .PermitUncheckedError();
  }
  lap(&r.marker_us);
  const rocksdb::Snapshot* snapshot = db->GetSnapshot();
  lap(&r.snapshot_us);
  rocksdb::Status rs = db->DisableFileDeletions();
  lap(&r.disable_us);
  rocksdb::FlushOptions flush;
  flush.wait = false;
  flush.allow_write_stall = true;
  if (rs.ok() && !dirty.empty()) rs = db->Flush(flush, dirty);
  lap(&r.flush_us);
  r.total_us = (t - start) / 1e3;
  const ThreadUsage used = ThreadUsage::Now() - u0;
  r.cpu_us = used.cpu_ns / 1e3;
  r.involuntary = used.involuntary;
  if (!rs.ok()) Die("replayed sync steps", Status::IOError(rs.ToString()));
  // The asynchronous side, untimed: wait for the flush, release.
  flush.wait = true;
  rs = db->Flush(flush, cfs);
  db->ReleaseSnapshot(snapshot);
  if (rs.ok()) rs = db->EnableFileDeletions(/*force=*/false);
  if (!rs.ok()) Die("replayed sync steps", Status::IOError(rs.ToString()));
  fs::remove_all(local_dir, ec);
  return r;
}

// The same updates, on the same DB opened directly, then RocksDB's own
// synchronous checkpoint; alternating with the same updates followed by
// the replayed steps of weir's sync phase (into `steps`).
std::vector<BaselineRun> RunBaseline(const std::string& state_dir,
                                     const std::string& checkpoint_root,
                                     const RocksDBOptions& rocks,
                                     KeySequence* keys, uint64_t interval,
                                     const Config& config,
                                     std::vector<SyncStepsRun>* steps) {
  Result<std::unique_ptr<RawDb>> raw = RawDb::Open(state_dir, rocks);
  if (!raw.ok()) Die("open the DB for the baseline", raw.status());
  rocksdb::DB* db = (*raw)->db();
  rocksdb::ColumnFamilyHandle* cf =
      (*raw)->Find(OperatorId::FromUid(kOperatorUid).ToHex());
  if (cf == nullptr) Die("baseline", Status::NotFound("no column family"));
  rocksdb::WriteOptions write;
  write.disableWAL = true;
  rocksdb::ReadOptions read;
  rocksdb::PinnableSlice pinned;
  std::string key, value;
  const double period_ns = 1e9 / static_cast<double>(config.rate);
  std::vector<BaselineRun> runs;
  std::error_code ec;
  fs::create_directories(checkpoint_root, ec);
  auto apply_updates = [&](uint64_t* updates) {
    const int64_t start = NowNs();
    for (uint64_t k = 0; k < interval; ++k) {
      const int64_t due =
          start + static_cast<int64_t>(static_cast<double>(k) * period_ns);
      if (due > NowNs()) SleepUntilNs(due);
      StoredKey(keys->Next(), &key);
      rocksdb::Status rs = db->Get(read, cf, key, &pinned);
      if (!rs.ok() || pinned.size() != 1 + 8 + kPadSize) {
        Die("baseline read", Status::IOError(rs.ToString()));
      }
      value.assign(pinned.data(), pinned.size());
      pinned.Reset();
      uint64_t count;
      std::memcpy(&count, value.data() + 1, 8);
      ++count;
      std::memcpy(value.data() + 1, &count, 8);
      rs = db->Put(write, cf, key, value);
      if (!rs.ok()) Die("baseline write", Status::IOError(rs.ToString()));
      ++*updates;
    }
  };
  for (int run = 0; run < config.baseline_runs; ++run) {
    BaselineRun r;
    apply_updates(&r.updates);
    const std::string dir = checkpoint_root + "/raw-" + std::to_string(run);
    const int64_t t0 = NowNs();
    rocksdb::FlushOptions flush;
    flush.wait = true;
    rocksdb::Status rs = db->Flush(flush, (*raw)->handles());
    const int64_t t1 = NowNs();
    rocksdb::Checkpoint* checkpoint = nullptr;
    if (rs.ok()) rs = rocksdb::Checkpoint::Create(db, &checkpoint);
    std::unique_ptr<rocksdb::Checkpoint> owned(checkpoint);
    if (rs.ok()) rs = checkpoint->CreateCheckpoint(dir);
    const int64_t t2 = NowNs();
    if (!rs.ok()) Die("baseline checkpoint", Status::IOError(rs.ToString()));
    r.flush_ms = (t1 - t0) / 1e6;
    r.checkpoint_ms = (t2 - t1) / 1e6;
    r.total_ms = (t2 - t0) / 1e6;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.path().extension() == ".sst") {
        ++r.checkpoint_files;
        r.checkpoint_bytes += e.file_size(ec);
      }
    }
    fs::remove_all(dir, ec);
    std::fprintf(stderr,
                 "  baseline %d: flush %.1f ms + CreateCheckpoint %.1f ms\n",
                 run, r.flush_ms, r.checkpoint_ms);
    runs.push_back(r);

    uint64_t updates = 0;
    apply_updates(&updates);
    steps->push_back(
        ReplaySyncSteps(db, (*raw)->handles(),
                        checkpoint_root + "/steps-" + std::to_string(run)));
    const SyncStepsRun& st = steps->back();
    std::fprintf(stderr,
                 "  sync steps %d: mkdir %.0f, properties %.0f, marker %.0f, "
                 "snapshot %.0f, disable deletions %.0f, flush(no wait) %.0f; "
                 "total %.0f us (CPU %.0f us)\n",
                 run, st.mkdir_us, st.properties_us, st.marker_us,
                 st.snapshot_us, st.disable_us, st.flush_us, st.total_us,
                 st.cpu_us);
  }
  Status s = (*raw)->Close();
  if (!s.ok()) Die("close the baseline DB", s);
  return runs;
}

// ---------------------------------------------------------------- one size

struct SizeResult {
  double gb = 0;
  std::string started, loadavg_start, loadavg_end;
  LoadStats load;
  double verify_seconds = 0;
  uint64_t interval = 0;
  std::vector<CheckpointRecord> checkpoints;
  std::vector<PhaseResult> phases;
  Percentiles none, ckpt;
  std::vector<BaselineRun> baseline;
  std::vector<SyncStepsRun> steps;
  std::vector<SlowRecord> slow;
  uint64_t updates = 0;
};

// WEIR_BENCH_LATENCY_DUMP: per 100 ms of the schedule (by due time), the
// phase, records, mean and max latency; and each checkpoint's sync start,
// sync pause and async end on the same time axis.
void DumpLatencies(const std::string& dir, const std::string& name,
                   const std::vector<PhaseResult>& phases,
                   const std::vector<CheckpointRecord>& checkpoints,
                   double period_ns) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::ofstream out(dir + "/latency-" + name + ".tsv");
  out << "window_s\tphase\trecords\tmean_us\tmax_us\n";
  for (const PhaseResult& p : phases) {
    const std::vector<uint32_t>& units = p.latencies.units();
    int64_t window = -1;
    uint64_t count = 0;
    double sum = 0, max = 0;
    auto flush = [&] {
      if (count == 0) return;
      out << window / 10.0 << "\t" << p.name << "\t" << count << "\t"
          << sum / count / 10 << "\t" << max / 10 << "\n";
    };
    for (size_t k = 0; k < units.size(); ++k) {
      const double due_s =
          static_cast<double>(p.latencies.first_seq() + k) * period_ns / 1e9;
      const auto w = static_cast<int64_t>(due_s * 10);
      if (w != window) {
        flush();
        window = w;
        count = 0;
        sum = max = 0;
      }
      ++count;
      sum += units[k];
      max = std::max<double>(max, units[k]);
    }
    flush();
  }
  std::ofstream ck(dir + "/checkpoints-" + name + ".tsv");
  ck << "id\tkind\tsync_at_s\tsync_us\tasync_end_s\n";
  for (const CheckpointRecord& c : checkpoints) {
    ck << c.id << "\t" << c.kind << "\t" << c.sync_at_s << "\t" << c.sync_us
       << "\t" << c.async_end_s << "\n";
  }
}

SizeResult RunSize(const Config& config, double gb) {
  SizeResult res;
  res.gb = gb;
  res.started = UtcNow();
  res.loadavg_start = LoadAverage();
  char name[32];
  std::snprintf(name, sizeof(name), "%ggb", gb);
  const std::string root = config.dir + "/" + name;
  const std::string state_dir = root + "/state";
  std::error_code ec;
  fs::remove_all(root, ec);
  fs::create_directories(root, ec);
  const RocksDBOptions rocks;  // weir's defaults

  std::fprintf(stderr, "== %g GiB: bulk load\n", gb);
  Result<LoadStats> load =
      BulkLoad(state_dir, root + "/ingest", rocks,
               static_cast<uint64_t>(gb * static_cast<double>(1ull << 30)));
  if (!load.ok()) Die("bulk load", load.status());
  res.load = *load;
  std::fprintf(stderr,
               "  %llu keys, %.0f MiB in %d files (%.1f B/key); index %.1f s, "
               "write %.1f s, ingest %.1f s\n",
               static_cast<unsigned long long>(load->keys),
               MiB(load->sst_bytes), load->sst_files, load->bytes_per_key,
               load->index_seconds, load->write_seconds, load->ingest_seconds);

  StateBackendOptions options;
  options.max_parallelism = kMaxParallelism;
  Result<std::unique_ptr<KeyedStateBackend>> backend =
      OpenRocksDBBackend(options, rocks, state_dir);
  if (!backend.ok()) Die("open the backend", backend.status());
  const OperatorId op = OperatorId::FromUid(kOperatorUid);
  Result<CounterState> state = GetState(**backend, op, CounterDescriptor());
  if (!state.ok()) Die("GetState", state.status());
  const int64_t v0 = NowNs();
  Status s = VerifySample(**backend, *state, load->keys, config.verify_samples);
  if (!s.ok()) Die("verify the bulk load", s);
  res.verify_seconds = (NowNs() - v0) / 1e9;
  std::fprintf(stderr, "  verified %d keys through ValueState in %.2f s\n",
               config.verify_samples, res.verify_seconds);

  Result<std::unique_ptr<engine::SharedFileStore>> store =
      engine::SharedFileStore::Open(
          root + "/checkpoints/job",
          engine::CheckpointCoordinator::StoreOptions());
  if (!store.ok()) Die("open the checkpoint storage", store.status());

  res.interval = std::max<uint64_t>(
      1, static_cast<uint64_t>(static_cast<double>(load->keys) *
                               config.update_percent / 100.0));
  KeySequence keys(load->keys);
  {
    CheckpointWorker worker(store->get(), op);
    Task task(backend->get(), &*state, &keys, &worker, config, res.interval,
              root + "/local");
    std::fprintf(stderr,
                 "  warm-up: %llu records at %lld/s, then a full checkpoint\n",
                 static_cast<unsigned long long>(res.interval),
                 static_cast<long long>(config.rate));
    // Threads inherit the nice value of the thread that creates them: set
    // it after the backend's and the worker's threads exist.
    SetTaskScheduling(config.task_nice, config.task_fifo);
    task.StartSchedule();
    task.RunPhase(res.interval, false, nullptr);
    task.TakeCheckpoint("full", 0);
    worker.WaitIdle();
    task.StartSchedule();
    for (const std::string& phase : config.phases) {
      const bool ckpt = phase == "ckpt";
      std::fprintf(stderr, "  phase %s: %d intervals of %llu records\n",
                   phase.c_str(), config.checkpoints,
                   static_cast<unsigned long long>(res.interval));
      PhaseResult p;
      p.name = phase;
      const int64_t t0 = NowNs();
      const int64_t cpu0 = CpuNs(CLOCK_PROCESS_CPUTIME_ID);
      const ThreadUsage u0 = ThreadUsage::Now();
      task.RunPhase(res.interval * static_cast<uint64_t>(config.checkpoints),
                    ckpt, &p.latencies, phase);
      p.task = ThreadUsage::Now() - u0;
      p.process_cpu_s = (CpuNs(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / 1e9;
      p.seconds = (NowNs() - t0) / 1e9;
      p.summary = p.latencies.Summarize();
      std::fprintf(stderr,
                   "    %.1f s, p50 %.0f us, p99 %.0f us, p999 %.0f us, max "
                   "%.0f us; task thread %.2f CPU-s (%.1f us/record), "
                   "process %.2f CPU-s\n",
                   p.seconds, p.summary.p50_us, p.summary.p99_us,
                   p.summary.p999_us, p.summary.max_us, p.task.cpu_ns / 1e9,
                   p.task.cpu_ns / 1e3 / static_cast<double>(p.summary.records),
                   p.process_cpu_s);
      res.phases.push_back(std::move(p));
    }
    worker.WaitIdle();
    res.checkpoints = worker.TakeRecords();
    res.slow = task.TakeSlowRecords();
    SetTaskScheduling(0, false);
  }
  Latencies none, ckpt;
  for (const PhaseResult& p : res.phases) {
    (p.name == "ckpt" ? ckpt : none).Append(p.latencies);
  }
  res.none = none.Summarize();
  res.ckpt = ckpt.Summarize();
  if (!config.dump_dir.empty()) {
    DumpLatencies(config.dump_dir, name, res.phases, res.checkpoints,
                  1e9 / static_cast<double>(config.rate));
  }
  for (PhaseResult& p : res.phases) p.latencies = Latencies();
  for (const CheckpointRecord& r : res.checkpoints) {
    if (!r.error.empty()) {
      Die("checkpoint " + std::to_string(r.id), Status::IOError(r.error));
    }
  }

  backend->reset();  // closes (flushes) the backend; `state` is dead now
  std::fprintf(stderr, "  baseline: %d runs\n", config.baseline_runs);
  res.baseline = RunBaseline(state_dir, root + "/raw-checkpoints", rocks, &keys,
                             res.interval, config, &res.steps);
  res.updates = keys.updates();
  res.loadavg_end = LoadAverage();
  store->reset();
  if (!config.keep) fs::remove_all(root, ec);
  return res;
}

// ---------------------------------------------------------------- report

// The figures docs/performance.md reports for a size.
struct Summary {
  double sync_p50_us = 0, sync_max_us = 0;
  double sync_cpu_p50_us = 0, sync_cpu_max_us = 0;
  int64_t sync_preempted = 0;  // sync phases with an involuntary switch
  double raw_p50_ms = 0, raw_min_ms = 0;
  double raw_over_sync_p50 = 0, raw_min_over_sync_max = 0;
  double worst_ratio = 0;
  double p99_ratio = 0;
};

Summary Summarize(const SizeResult& r) {
  Summary v;
  // The sync pause of every checkpoint, the first (full) one included; the
  // upload ratio of the incremental ones.
  std::vector<double> sync, sync_cpu, raw;
  for (const CheckpointRecord& c : r.checkpoints) {
    sync.push_back(c.sync_us);
    sync_cpu.push_back(c.sync_cpu_us);
    v.sync_max_us = std::max(v.sync_max_us, c.sync_us);
    v.sync_cpu_max_us = std::max(v.sync_cpu_max_us, c.sync_cpu_us);
    if (c.sync_involuntary > 0) ++v.sync_preempted;
    if (c.kind != "full") v.worst_ratio = std::max(v.worst_ratio, c.ratio());
  }
  v.sync_cpu_p50_us = Median(sync_cpu);
  for (const BaselineRun& b : r.baseline) raw.push_back(b.total_ms);
  v.sync_p50_us = Median(sync);
  v.raw_p50_ms = Median(raw);
  v.raw_min_ms = raw.empty() ? 0 : *std::min_element(raw.begin(), raw.end());
  if (v.sync_p50_us > 0)
    v.raw_over_sync_p50 = v.raw_p50_ms * 1e3 / v.sync_p50_us;
  if (v.sync_max_us > 0) {
    v.raw_min_over_sync_max = v.raw_min_ms * 1e3 / v.sync_max_us;
  }
  v.p99_ratio = r.none.p99_us > 0 ? r.ckpt.p99_us / r.none.p99_us : 0;
  return v;
}

void PrintSize(const Config& config, const SizeResult& r) {
  std::printf(
      "\n== state %g GiB: %llu keys, %.0f MiB in %d SST files (%.1f B/key), "
      "started %s\n",
      r.gb, static_cast<unsigned long long>(r.load.keys), MiB(r.load.sst_bytes),
      r.load.sst_files, r.load.bytes_per_key, r.started.c_str());
  std::printf(
      "   bulk load: index %.1f s, SstFileWriter %.1f s, ingest %.2f s; "
      "verify %.2f s\n",
      r.load.index_seconds, r.load.write_seconds, r.load.ingest_seconds,
      r.verify_seconds);
  std::printf(
      "   %lld records/s, checkpoint every %llu records (%.2f%% of the keys, "
      "%.1f s); loadavg start: %s; end: %s\n",
      static_cast<long long>(config.rate),
      static_cast<unsigned long long>(r.interval), config.update_percent,
      static_cast<double>(r.interval) / static_cast<double>(config.rate),
      r.loadavg_start.c_str(), r.loadavg_end.c_str());
  std::printf(
      "  id kind         sync_us  cpu_us cs_v/i delay_ms async_ms flush_ms "
      "upload_ms files up_files ref_files up_MiB  new_MiB ratio  meta_B "
      "fallback\n");
  for (const CheckpointRecord& c : r.checkpoints) {
    std::printf(
        "  %2lld %-11s %8.0f %7.0f %2lld/%-2lld %9.1f %8.1f %8.1f %9.1f %5llu "
        "%8llu %9llu %6.1f %8.1f %5.3f %7llu %d\n",
        static_cast<long long>(c.id), c.kind.c_str(), c.sync_us, c.sync_cpu_us,
        static_cast<long long>(c.sync_voluntary),
        static_cast<long long>(c.sync_involuntary), c.trigger_delay_ms,
        c.async_ms, c.flush_wait_ms, c.upload_ms,
        static_cast<unsigned long long>(c.files),
        static_cast<unsigned long long>(c.files_uploaded),
        static_cast<unsigned long long>(c.files_referenced),
        MiB(c.bytes_uploaded), MiB(c.new_sst_bytes), c.ratio(),
        static_cast<unsigned long long>(c.metadata_bytes), c.fallback_cfs);
  }
  std::printf(
      "  baseline (raw RocksDB, same DB): run flush_ms checkpoint_ms "
      "total_ms\n");
  for (size_t i = 0; i < r.baseline.size(); ++i) {
    const BaselineRun& b = r.baseline[i];
    std::printf("    %zu %8.1f %8.1f %8.1f\n", i, b.flush_ms, b.checkpoint_ms,
                b.total_ms);
  }
  std::printf(
      "  replayed sync steps on the raw DB (us): mkdir properties "
      "marker snapshot disable_deletions flush(no wait) total cpu\n");
  for (const SyncStepsRun& st : r.steps) {
    std::printf("    %6.0f %6.0f %6.0f %6.0f %6.0f %6.0f %6.0f %6.0f\n",
                st.mkdir_us, st.properties_us, st.marker_us, st.snapshot_us,
                st.disable_us, st.flush_us, st.total_us, st.cpu_us);
  }
  std::printf(
      "  record latency (us): phase      records  rec/s     p50     "
      "p99    p999      max  task_cpu_s preempted process_cpu_s\n");
  for (const PhaseResult& p : r.phases) {
    std::printf(
        "    %-8s %10llu %7.0f %7.0f %7.0f %7.0f %8.0f %10.2f %9lld "
        "%10.2f\n",
        p.name.c_str(), static_cast<unsigned long long>(p.summary.records),
        p.summary.records_per_s, p.summary.p50_us, p.summary.p99_us,
        p.summary.p999_us, p.summary.max_us, p.task.cpu_ns / 1e9,
        static_cast<long long>(p.task.involuntary), p.process_cpu_s);
  }
  for (const auto& [label, q] :
       {std::pair<const char*, const Percentiles*>{"without", &r.none},
        {"with", &r.ckpt}}) {
    std::printf("    %-8s %10llu %7.0f %7.0f %7.0f %7.0f %8.0f\n", label,
                static_cast<unsigned long long>(q->records), q->records_per_s,
                q->p50_us, q->p99_us, q->p999_us, q->max_us);
  }
  std::printf(
      "  slow records (processing > %lld ms): phase count "
      "with_disk_reads preempted sum_ms max_ms\n",
      static_cast<long long>(kSlowRecordNs / 1'000'000));
  for (const char* phase : {"warm-up", "none", "ckpt"}) {
    int count = 0, disk = 0, preempted = 0;
    double sum = 0, max = 0;
    for (const SlowRecord& sr : r.slow) {
      if (sr.phase != phase) continue;
      ++count;
      if (sr.inblock > 0) ++disk;
      if (sr.involuntary > 0) ++preempted;
      sum += sr.apply_ms;
      max = std::max(max, sr.apply_ms);
    }
    std::printf("    %-8s %5d %5d %5d %9.1f %7.1f\n", phase, count, disk,
                preempted, sum, max);
  }
  const Summary v = Summarize(r);
  std::printf(
      "  sync pause: p50 %.0f us, max %.0f us; raw p50 %.1f ms = "
      "%.0fx the p50 (raw min / weir max = %.0fx)\n"
      "    (task thread CPU in the sync phase: p50 %.0f us, max %.0f us; %lld "
      "of %zu sync phases were preempted)\n",
      v.sync_p50_us, v.sync_max_us, v.raw_p50_ms, v.raw_over_sync_p50,
      v.raw_min_over_sync_max, v.sync_cpu_p50_us, v.sync_cpu_max_us,
      static_cast<long long>(v.sync_preempted), r.checkpoints.size());
  std::printf("  upload / new SST bytes: worst %.3fx\n", v.worst_ratio);
  std::printf(
      "  record p99 with / without checkpoints: %.0f / %.0f us = %.2fx\n",
      r.ckpt.p99_us, r.none.p99_us, v.p99_ratio);
  std::fflush(stdout);
}

void JsonPercentiles(std::ostream& o, const Percentiles& p) {
  o << "{\"records\":" << p.records << ",\"records_per_s\":" << p.records_per_s
    << ",\"p50_us\":" << p.p50_us << ",\"p99_us\":" << p.p99_us
    << ",\"p999_us\":" << p.p999_us << ",\"max_us\":" << p.max_us << "}";
}

std::string Json(const Config& config, const std::vector<SizeResult>& all) {
  std::ostringstream o;
  o << "{\"bench\":\"checkpoint_bench\",\"commit\":\"" << BuildCommit()
    << "\",\"machine\":" << MachineJson() << ",\"rate\":" << config.rate
    << ",\"update_percent\":" << config.update_percent << ",\"sizes\":[";
  for (size_t k = 0; k < all.size(); ++k) {
    const SizeResult& r = all[k];
    const Summary v = Summarize(r);
    if (k > 0) o << ",";
    o << "{\"gib\":" << r.gb << ",\"started\":\"" << r.started
      << "\",\"loadavg_start\":\"" << r.loadavg_start << "\",\"loadavg_end\":\""
      << r.loadavg_end << "\",\"keys\":" << r.load.keys
      << ",\"sst_bytes\":" << r.load.sst_bytes
      << ",\"sst_files\":" << r.load.sst_files
      << ",\"load_seconds\":" << r.load.write_seconds
      << ",\"ingest_seconds\":" << r.load.ingest_seconds
      << ",\"interval_records\":" << r.interval << ",\"checkpoints\":[";
    for (size_t i = 0; i < r.checkpoints.size(); ++i) {
      const CheckpointRecord& c = r.checkpoints[i];
      if (i > 0) o << ",";
      o << "{\"id\":" << c.id << ",\"kind\":\"" << c.kind
        << "\",\"sync_us\":" << c.sync_us
        << ",\"sync_backend_us\":" << c.sync_backend_us
        << ",\"sync_cpu_us\":" << c.sync_cpu_us
        << ",\"sync_voluntary_switches\":" << c.sync_voluntary
        << ",\"sync_involuntary_switches\":" << c.sync_involuntary
        << ",\"trigger_delay_ms\":" << c.trigger_delay_ms
        << ",\"async_ms\":" << c.async_ms
        << ",\"complete_ms\":" << c.complete_ms
        << ",\"flush_wait_ms\":" << c.flush_wait_ms
        << ",\"upload_ms\":" << c.upload_ms << ",\"commit_ms\":" << c.commit_ms
        << ",\"prune_ms\":" << c.prune_ms << ",\"files\":" << c.files
        << ",\"files_uploaded\":" << c.files_uploaded
        << ",\"files_referenced\":" << c.files_referenced
        << ",\"bytes_uploaded\":" << c.bytes_uploaded
        << ",\"bytes_referenced\":" << c.bytes_referenced
        << ",\"new_sst_files\":" << c.new_sst_files
        << ",\"new_sst_bytes\":" << c.new_sst_bytes
        << ",\"metadata_bytes\":" << c.metadata_bytes
        << ",\"fallback_column_families\":" << c.fallback_cfs
        << ",\"pruned_files\":" << c.pruned_files << "}";
    }
    o << "],\"baseline\":[";
    for (size_t i = 0; i < r.baseline.size(); ++i) {
      const BaselineRun& b = r.baseline[i];
      if (i > 0) o << ",";
      o << "{\"flush_ms\":" << b.flush_ms
        << ",\"checkpoint_ms\":" << b.checkpoint_ms
        << ",\"total_ms\":" << b.total_ms
        << ",\"checkpoint_sst_files\":" << b.checkpoint_files
        << ",\"checkpoint_sst_bytes\":" << b.checkpoint_bytes << "}";
    }
    o << "],\"slow_records\":[";
    for (size_t i = 0; i < r.slow.size(); ++i) {
      const SlowRecord& sr = r.slow[i];
      if (i > 0) o << ",";
      o << "{\"phase\":\"" << sr.phase << "\",\"at_s\":" << sr.at_s
        << ",\"apply_ms\":" << sr.apply_ms << ",\"inblock\":" << sr.inblock
        << ",\"voluntary\":" << sr.voluntary
        << ",\"involuntary\":" << sr.involuntary << "}";
    }
    o << "],\"sync_steps\":[";
    for (size_t i = 0; i < r.steps.size(); ++i) {
      const SyncStepsRun& st = r.steps[i];
      if (i > 0) o << ",";
      o << "{\"mkdir_us\":" << st.mkdir_us
        << ",\"properties_us\":" << st.properties_us
        << ",\"marker_us\":" << st.marker_us
        << ",\"snapshot_us\":" << st.snapshot_us
        << ",\"disable_deletions_us\":" << st.disable_us
        << ",\"flush_no_wait_us\":" << st.flush_us
        << ",\"total_us\":" << st.total_us << ",\"cpu_us\":" << st.cpu_us
        << ",\"involuntary_switches\":" << st.involuntary << "}";
    }
    o << "],\"phases\":[";
    for (size_t i = 0; i < r.phases.size(); ++i) {
      if (i > 0) o << ",";
      const PhaseResult& p = r.phases[i];
      o << "{\"name\":\"" << p.name << "\",\"seconds\":" << p.seconds
        << ",\"task_cpu_s\":" << p.task.cpu_ns / 1e9
        << ",\"task_voluntary_switches\":" << p.task.voluntary
        << ",\"task_involuntary_switches\":" << p.task.involuntary
        << ",\"process_cpu_s\":" << p.process_cpu_s << ",\"latency\":";
      JsonPercentiles(o, r.phases[i].summary);
      o << "}";
    }
    o << "],\"latency_without\":";
    JsonPercentiles(o, r.none);
    o << ",\"latency_with\":";
    JsonPercentiles(o, r.ckpt);
    o << ",\"summary\":{\"sync_p50_us\":" << v.sync_p50_us
      << ",\"sync_max_us\":" << v.sync_max_us
      << ",\"sync_cpu_p50_us\":" << v.sync_cpu_p50_us
      << ",\"sync_cpu_max_us\":" << v.sync_cpu_max_us
      << ",\"sync_preempted\":" << v.sync_preempted
      << ",\"raw_p50_ms\":" << v.raw_p50_ms
      << ",\"raw_over_sync_p50\":" << v.raw_over_sync_p50
      << ",\"worst_upload_ratio\":" << v.worst_ratio
      << ",\"p99_ratio\":" << v.p99_ratio << "}}";
  }
  o << "]}";
  return o.str();
}

}  // namespace
}  // namespace weir::bench

int main() {
  using namespace weir::bench;
  // Records are due every few tens of microseconds; the default 50 us timer
  // slack would add up to that much to every sleep.
  prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
  const Config config = ReadConfig();
  std::error_code ec;
  std::filesystem::remove_all(config.dir, ec);
  std::printf("checkpoint_bench: sizes");
  for (double gb : config.sizes_gb) std::printf(" %g", gb);
  std::printf(" GiB, %lld records/s, %d checkpoints per ckpt phase, phases",
              static_cast<long long>(config.rate), config.checkpoints);
  for (const std::string& p : config.phases) std::printf(" %s", p.c_str());
  std::printf(", task thread %s nice %d, data in %s\n",
              config.task_fifo ? "SCHED_FIFO" : "SCHED_OTHER", config.task_nice,
              config.dir.c_str());
  // Named when the run starts.
  const std::string path = config.json_path.empty()
                               ? ResultsPath("checkpoint_bench")
                               : config.json_path;
  std::vector<SizeResult> all;
  for (double gb : config.sizes_gb) {
    all.push_back(RunSize(config, gb));
    PrintSize(config, all.back());
  }
  if (!config.keep) std::filesystem::remove_all(config.dir, ec);
  const std::string json = Json(config, all);
  std::printf("\n%s\n", json.c_str());
  if (!path.empty()) {
    std::ofstream out(path);
    out << json << "\n";
    std::printf("results: %s\n", path.c_str());
  }
  return 0;
}
