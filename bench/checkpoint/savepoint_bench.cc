// SPDX-License-Identifier: Apache-2.0
//
// savepoint_bench: native savepoints of large RocksDB state, and restoring
// from them against raw RocksDB opening the same files (docs/performance.md,
// "Savepoints and restore").
//
// For each state size (WEIR_BENCH_STATE_GB, default "1,4"):
//
//   1. Bulk load (bulk_load.h) as checkpoint_bench does; the backend is
//      reopened and a sample of keys is read back through the typed API.
//      One burst of updates (WEIR_BENCH_UPDATE_PERCENT of the keys, default
//      0.2, read-modify-write through ValueState, as fast as it goes) leaves
//      data in the memtables; then one full checkpoint goes into a
//      SharedFileStore, as the job would have taken before the savepoint.
//   2. WEIR_BENCH_SAVEPOINTS (default 3) native savepoints, each after
//      another burst, taken as the coordinator takes them
//      (engine/checkpoint/coordinator.cc): the target directory is created
//      and a savepoint-<6 hex of the job id>-<12 random hex> name drawn;
//      on the task thread (this one) the operator list states are read and
//      KeyedStateBackend::Snapshot runs; on a background thread
//      PendingSnapshot::Complete, SharedFileStore::Upload (incremental:
//      files already in shared/ are only referenced), removal of the local
//      folder, MakeTaskSnapshot, SharedFileStore::CommitSavepoint and
//      Abort(id). Timed from the trigger until `_metadata` is written, and
//      by phase. The task thread waits for the background thread (it
//      processes no records meanwhile). Reported: the `_metadata` size,
//      bytes uploaded and referenced, and the bytes of SST files new since
//      the previous snapshot.
//   3. Restore. The backend is closed (it flushes); the DB is opened
//      directly and one RocksDB checkpoint (Checkpoint::CreateCheckpoint,
//      hard links) is made per raw run, then it is closed. For each cache
//      mode (WEIR_BENCH_RESTORE_CACHE, default "warm,cold"), runs alternate
//      (WEIR_BENCH_RESTORE_RUNS times, default 5; weir and raw take turns
//      going first):
//        weir:  LoadRestoreSource + CheckRestorable + SnapshotsForTask from
//               the last savepoint, RestoreRocksDBBackend into a fresh
//               directory with the same key-group range (the same
//               parallelism), GetState, and one key read back and checked;
//               it must restore from the snapshot's ready-made DB;
//        raw:   rocksdb::DB::Open of a fresh RocksDB checkpoint of the same
//               DB with weir's options (internal::ApplyRocksDBOptions) and
//               every column family, and the same key read with Get;
//        import: the same as weir with the ready-made DB left out of the
//               snapshot, so that RestoreRocksDBBackend imports every
//               column family (the restore of weir before the ready-made
//               DB; not in the ratio);
//        rescale: scaling out to two tasks: both restored at once (two
//               threads), each from SnapshotsForTask of half the key
//               groups, by import of its own key groups; the probe read
//               from its owner (not in the ratio);
//        scale_in: once per cache mode after the series, two tasks made
//               as `rescale` makes them and snapshotted (not timed), then
//               one task of all key groups restored from both snapshots.
//      "warm": every file of the savepoint is read once before the series;
//      "cold": before every run, every file under the benchmark's
//      directory is dropped from the page cache (posix_fadvise
//      POSIX_FADV_DONTNEED; the savepoint's, the DB's and the RocksDB
//      checkpoints' files are hard links of the same inodes). Disk blocks
//      read during each run (getrusage ru_inblock of the process) are
//      reported.
//   4. Offline reads of the last savepoint, WEIR_BENCH_READ_RUNS times
//      (default 3) per cache mode of WEIR_BENCH_READ_CACHE (default
//      "warm"), the side that goes first alternating:
//        scan:   a plain RocksDB read: DB::OpenForReadOnly of a RocksDB
//                checkpoint (hard links) of the same DB with weir's options
//                and every column family, and one iterator over the
//                operator's column family;
//        reader: SavepointReader::Open and Read of every entry (what
//                `weir state dump` walks: the restore into scratch space
//                on the same file system, then key group by key group),
//                the reader destroyed;
//        dump:   `weir state dump PATH` (JSON lines) through the command's
//                code, stdout to /dev/null (WEIR_BENCH_DUMP=0 skips it).
//      Rates are the savepoint's state bytes per second of wall time.
//   5. The dry run (`weir run --dry-run -s`): Job::CheckRestore of the
//      savepoint for a job with its operator, WEIR_BENCH_DRY_RUNS times
//      (default 5), the first after the page cache is dropped.
//
// The summary per size: the largest `_metadata` scaled linearly to 10 GiB
// of state, and restore against raw DB::Open (the median over runs of weir
// / raw, run k against run k). A table and one line of JSON per size on
// stdout; at the end, one JSON file of all sizes with the commit and the
// machine, written to WEIR_BENCH_JSON, or else into $WEIR_BENCH_RESULTS
// (bench/common/run_info.h).
//
// Environment: WEIR_BENCH_DIR (default /tmp; data in
// $WEIR_BENCH_DIR/weir-savepoint-bench, removed at start and after each
// size unless WEIR_BENCH_KEEP=1), WEIR_BENCH_STATE_GB,
// WEIR_BENCH_UPDATE_PERCENT, WEIR_BENCH_SAVEPOINTS,
// WEIR_BENCH_RESTORE_RUNS, WEIR_BENCH_RESTORE_CACHE, WEIR_BENCH_READ_RUNS,
// WEIR_BENCH_READ_CACHE, WEIR_BENCH_DUMP, WEIR_BENCH_DRY_RUNS,
// WEIR_BENCH_JSON, WEIR_BENCH_RESULTS,
// WEIR_BENCH_SCALE_IN (default 1; 0 skips the one 2->1 restore per cache
// mode, which rewrites half the state into new SST files).
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <weir/job.h>
#include <weir/job_info.h>
#include <weir/key_group.h>
#include <weir/options.h>
#include <weir/restore_check.h>
#include <weir/sinks.h>
#include <weir/sources.h>
#include <weir/state.h>
#include <weir/state_reader.h>
#include <weir/stream.h>

#include "backends/backend.h"
#include "backends/rocksdb/rocksdb_backend.h"
#include "backends/rocksdb/rocksdb_snapshot.h"
#include "backends/rocksdb/rocksdb_state_dir.h"
#include "backends/rocksdb/rocksdb_states.h"
#include "backends/rocksdb/rocksdb_util.h"
#include "bench/checkpoint/bench_util.h"
#include "bench/checkpoint/bulk_load.h"
#include "bench/common/run_info.h"
#include "engine/checkpoint/coordinator.h"
#include "engine/checkpoint/metadata.h"
#include "engine/checkpoint/restore.h"
#include "engine/checkpoint/shared_store.h"
#include "tools/state/dump_command.h"

namespace weir::bench {
namespace {

namespace fs = std::filesystem;

struct Config {
  std::vector<double> sizes_gb;
  std::string dir;
  double update_percent = 0.2;
  int savepoints = 3;
  int restore_runs = 5;
  std::vector<std::string> cache_modes;
  bool keep = false;
  std::string json_path;
  int verify_samples = 500;
  bool scale_in = true;  // WEIR_BENCH_SCALE_IN=0 skips the 2->1 restore
  int read_runs = 3;     // offline reads of the savepoint per side
  std::vector<std::string> read_cache_modes;
  bool dump = true;  // WEIR_BENCH_DUMP=0 skips `weir state dump`
  int dry_runs = 5;  // Job::CheckRestore calls
};

Config ReadConfig() {
  Config c;
  for (const std::string& s : Split(Env("WEIR_BENCH_STATE_GB", "1,4"))) {
    c.sizes_gb.push_back(std::strtod(s.c_str(), nullptr));
  }
  c.dir = Env("WEIR_BENCH_DIR", "/tmp") + "/weir-savepoint-bench";
  c.update_percent = EnvDouble("WEIR_BENCH_UPDATE_PERCENT", 0.2);
  c.savepoints = static_cast<int>(EnvDouble("WEIR_BENCH_SAVEPOINTS", 3));
  c.restore_runs = static_cast<int>(EnvDouble("WEIR_BENCH_RESTORE_RUNS", 5));
  c.scale_in = EnvDouble("WEIR_BENCH_SCALE_IN", 1) != 0;
  c.cache_modes = Split(Env("WEIR_BENCH_RESTORE_CACHE", "warm,cold"));
  for (const std::string& m : c.cache_modes) {
    if (m != "warm" && m != "cold") {
      Die("WEIR_BENCH_RESTORE_CACHE",
          Status::InvalidArgument("'" + m + "' is neither warm nor cold"));
    }
  }
  c.read_runs = static_cast<int>(EnvDouble("WEIR_BENCH_READ_RUNS", 3));
  c.read_cache_modes = Split(Env("WEIR_BENCH_READ_CACHE", "warm"));
  for (const std::string& m : c.read_cache_modes) {
    if (m != "warm" && m != "cold") {
      Die("WEIR_BENCH_READ_CACHE",
          Status::InvalidArgument("'" + m + "' is neither warm nor cold"));
    }
  }
  c.dump = EnvDouble("WEIR_BENCH_DUMP", 1) != 0;
  c.dry_runs = static_cast<int>(EnvDouble("WEIR_BENCH_DRY_RUNS", 5));
  c.keep = EnvDouble("WEIR_BENCH_KEEP", 0) != 0;
  c.json_path = Env("WEIR_BENCH_JSON", "");
  return c;
}

// ---------------------------------------------------------------- page cache

// Disk blocks (512 bytes) read by this process so far, every thread.
int64_t InBlocks() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_inblock;
}

double BlocksMiB(int64_t blocks) {
  return static_cast<double>(blocks) * 512 / (1 << 20);
}

// Drops every regular file under `dir` from the page cache. Clean pages
// only (SST files are synced when written) and pages no process maps.
void EvictTree(const std::string& dir) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const int fd = open(it->path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
  }
}

// Reads `paths` once (into the page cache); returns the bytes read.
uint64_t WarmFiles(const std::vector<std::string>& paths) {
  std::vector<char> buf(1 << 20);
  uint64_t total = 0;
  for (const std::string& p : paths) {
    const int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) Die("warm " + p, Status::IOError(std::strerror(errno)));
    for (;;) {
      const ssize_t n = read(fd, buf.data(), buf.size());
      if (n <= 0) break;
      total += static_cast<uint64_t>(n);
    }
    close(fd);
  }
  return total;
}

// ---------------------------------------------------------------- updates

// Read-modify-write of `n` keys of the permutation, back to back.
double Burst(KeyedStateBackend& backend, CounterState& state, KeySequence* keys,
             uint64_t n) {
  std::array<char, kKeySize> buf{};
  const int64_t t0 = NowNs();
  for (uint64_t k = 0; k < n; ++k) {
    const uint64_t i = keys->Next();
    Status s = backend.SetCurrentKey(MakeKey(i, &buf));
    if (!s.ok()) Die("SetCurrentKey", s);
    Result<std::optional<Counter>> v = state.Value();
    if (!v.ok()) Die("Value", v.status());
    if (!v->has_value()) {
      Die("Value", Status::Corruption("key " + std::to_string(i) + " missing"));
    }
    ++(*v)->count;
    s = state.Update(**v);
    if (!s.ok()) Die("Update", s);
  }
  return (NowNs() - t0) / 1e9;
}

// Key `probe` read back through a (restored) backend: present, count
// `count`, its padding intact.
Status CheckProbe(KeyedStateBackend& backend, uint64_t probe, uint64_t count) {
  Result<CounterState> state =
      GetState(backend, OperatorId::FromUid(kOperatorUid), CounterDescriptor());
  if (!state.ok()) return state.status();
  std::array<char, kKeySize> buf{};
  Status s = backend.SetCurrentKey(MakeKey(probe, &buf));
  if (!s.ok()) return s;
  Result<std::optional<Counter>> v = state->Value();
  if (!v.ok()) return v.status();
  const std::string_view pad = Pad(probe);
  if (!v->has_value() || (*v)->count != count ||
      std::string_view((*v)->pad.data(), kPadSize) != pad) {
    return Status::Corruption("key " + std::to_string(probe) +
                              " did not read back");
  }
  return Status::OK();
}

// ---------------------------------------------------------------- snapshots

struct SnapshotRecord {
  int64_t id = 0;
  std::string kind;        // checkpoint, savepoint
  std::string dir;         // chk-N or the savepoint directory
  double total_ms = 0;     // trigger until `_metadata` is written
  double trigger_ms = 0;   // target directory and name
  double sync_us = 0;      // operator states + Snapshot(), task thread
  double sync_cpu_us = 0;  // the task thread's CPU time in it
  double complete_ms = 0;  // PendingSnapshot::Complete
  double ready_db_ms = 0;  // of it: building the ready-made DB
  double flush_wait_ms = 0;
  double upload_ms = 0;  // Upload + removal of the local folder
  double commit_ms = 0;  // CommitCheckpoint / CommitSavepoint + Abort
  uint64_t files = 0;
  uint64_t state_bytes = 0;  // sum of the file sizes
  uint64_t files_uploaded = 0;
  uint64_t files_referenced = 0;
  uint64_t bytes_uploaded = 0;
  uint64_t bytes_referenced = 0;
  uint64_t new_sst_files = 0;
  uint64_t new_sst_bytes = 0;
  uint64_t metadata_bytes = 0;
  int fallback_cfs = 0;
};

// Checkpoints and native savepoints of one task, as the coordinator takes
// them.
class Snapshotter {
 public:
  Snapshotter(engine::SharedFileStore* store, OperatorId op,
              std::string local_root, std::string savepoint_root)
      : store_(store),
        op_(op),
        job_(JobId::Generate()),
        local_root_(std::move(local_root)),
        savepoint_root_(std::move(savepoint_root)),
        rng_(std::random_device{}()) {}

  SnapshotRecord Take(KeyedStateBackend& backend, bool savepoint) {
    SnapshotRecord r;
    r.id = next_id_++;
    r.kind = savepoint ? "savepoint" : "checkpoint";
    const int64_t trigger_wall_ms = WallMillis();
    const int64_t t0 = NowNs();
    if (savepoint) {
      // TriggerSavepoint: the target directory, then a name not taken.
      std::error_code ec;
      fs::create_directories(savepoint_root_, ec);
      if (ec) Die("create " + savepoint_root_, Status::IOError(ec.message()));
      for (;;) {
        static constexpr char kHex[] = "0123456789abcdef";
        std::string name = "savepoint-" + job_.ToHex().substr(0, 6) + "-";
        for (int i = 0; i < 12; ++i) name.push_back(kHex[rng_() % 16]);
        r.dir = savepoint_root_ + "/" + name;
        if (!fs::exists(r.dir, ec)) break;
      }
    }
    const int64_t t1 = NowNs();
    // The task thread: operator list states, then the sync phase.
    const std::string chk_dir = local_root_ + "/chk-" + std::to_string(r.id);
    const std::string local_dir = chk_dir + "/0-0";
    const ThreadUsage u0 = ThreadUsage::Now();
    std::vector<engine::OperatorStateMetadata> op_states;
    Result<std::vector<KeyedStateBackend::OperatorStateEntry>> states =
        backend.OperatorStates(op_);
    if (!states.ok()) Die("OperatorStates", states.status());
    for (auto& e : *states) {
      op_states.push_back(
          {op_, e.name, static_cast<uint8_t>(e.mode), std::move(e.values)});
    }
    Result<std::unique_ptr<PendingSnapshot>> pending =
        backend.Snapshot(r.id, local_dir);
    const int64_t t2 = NowNs();
    if (!pending.ok()) Die("Snapshot", pending.status());
    r.sync_cpu_us = (ThreadUsage::Now() - u0).cpu_ns / 1e3;
    r.trigger_ms = (t1 - t0) / 1e6;
    r.sync_us = (t2 - t1) / 1e3;
    // The coordinator's background work.
    std::thread worker([&] {
      Async(&r, std::move(*pending), local_dir, chk_dir, std::move(op_states),
            trigger_wall_ms);
    });
    worker.join();
    r.total_ms = (NowNs() - t0) / 1e6;
    return r;
  }

 private:
  void Async(SnapshotRecord* r, std::unique_ptr<PendingSnapshot> pending,
             const std::string& local_dir, const std::string& chk_dir,
             std::vector<engine::OperatorStateMetadata> op_states,
             int64_t trigger_wall_ms) {
    const int64_t t0 = NowNs();
    Result<BackendSnapshot> snap = pending->Complete();
    const int64_t t1 = NowNs();
    const SnapshotStats stats = pending->stats();
    pending.reset();
    if (!snap.ok()) Die("Complete", snap.status());
    r->complete_ms = (t1 - t0) / 1e6;
    r->flush_wait_ms = stats.flush_wait_micros / 1e3;
    r->fallback_cfs = static_cast<int>(stats.fallback_column_families.size());
    r->ready_db_ms = static_cast<double>(stats.ready_db_micros) / 1e3;
    if (!stats.ready_db) {
      Die("ready-made DB", Status::Aborted(stats.ready_db_error));
    }
    Result<engine::UploadResult> up =
        store_->Upload(static_cast<uint64_t>(r->id), snap->files,
                       engine::UploadMode::kIncremental);
    if (!up.ok()) Die("Upload", up.status());
    std::error_code ec;
    fs::remove_all(local_dir, ec);
    const int64_t t2 = NowNs();
    r->upload_ms = (t2 - t1) / 1e6;
    r->files = snap->files.size();
    r->files_uploaded = static_cast<uint64_t>(up->files_uploaded);
    r->files_referenced = static_cast<uint64_t>(up->files_referenced);
    r->bytes_uploaded = up->bytes_uploaded;
    r->bytes_referenced = up->bytes_referenced;
    // New SST files: names not in the previous snapshot's list (RocksDB
    // file names are unique within the DB); fallback files do not count.
    std::set<std::string> names;
    for (const SnapshotFile& f : snap->files) {
      r->state_bytes += f.size;
      const std::string name = f.column_family + "/" + f.name;
      names.insert(name);
      if (prev_names_.count(name) == 0 && f.name.rfind("cut-", 0) != 0) {
        ++r->new_sst_files;
        r->new_sst_bytes += f.size;
      }
    }
    prev_names_ = std::move(names);

    engine::CheckpointMetadata meta;
    meta.job_id = job_;
    meta.job_name = "savepoint_bench";
    meta.checkpoint_id = static_cast<uint64_t>(r->id);
    meta.kind = r->kind == "savepoint" ? engine::SnapshotKind::kSavepoint
                                       : engine::SnapshotKind::kCheckpoint;
    meta.trigger_time_ms = trigger_wall_ms;
    meta.completion_time_ms = WallMillis();
    meta.operators.push_back(
        {op_, kOperatorUid, "counter", 1, kMaxParallelism});
    meta.tasks.push_back(
        engine::MakeTaskSnapshot(0, 0, {op_}, *snap, std::move(up->files)));
    meta.tasks.back().operator_states = std::move(op_states);
    Status s;
    if (meta.kind == engine::SnapshotKind::kSavepoint) {
      s = store_->CommitSavepoint(meta, r->dir);
      if (!s.ok()) Die("CommitSavepoint", s);
      // Files uploaded for it but not named by it (none, normally).
      store_->Abort(static_cast<uint64_t>(r->id)).IgnoreError();
    } else {
      s = store_->CommitCheckpoint(meta);
      if (!s.ok()) Die("CommitCheckpoint", s);
      r->dir = store_->CheckpointDir(static_cast<uint64_t>(r->id));
    }
    fs::remove(chk_dir, ec);
    r->commit_ms = (NowNs() - t2) / 1e6;
    r->metadata_bytes = fs::file_size(
        r->dir + "/" + std::string(engine::kMetadataFileName), ec);
  }

  engine::SharedFileStore* store_;
  const OperatorId op_;
  const JobId job_;
  const std::string local_root_;
  const std::string savepoint_root_;
  std::mt19937_64 rng_;
  int64_t next_id_ = 1;
  std::set<std::string> prev_names_;  // of the previous snapshot
};

// ---------------------------------------------------------------- restore

struct RestoreRun {
  std::string side;  // weir, import, raw
  std::string cache;
  double load_ms = 0;  // weir: LoadRestoreSource + CheckRestorable +
                       // SnapshotsForTask
  double open_ms = 0;  // RestoreRocksDBBackend / DB::Open
  double read_ms = 0;  // GetState + one key / Get of one key
  double total_ms = 0;
  double disk_mib = 0;   // read from the disk during the run
  double close_ms = 0;   // not in total_ms
  double reopen_ms = 0;  // weir: OpenRocksDBBackend of the restored
                         // directory afterwards; not in total_ms
};

// The snapshot of the task, as the job hands it to the backend.
std::vector<BackendSnapshot> SnapshotsOf(const std::string& savepoint_dir,
                                         const OperatorId& op) {
  Result<engine::RestoreSource> source =
      engine::LoadRestoreSource(savepoint_dir);
  if (!source.ok()) Die("LoadRestoreSource", source.status());
  Status s = engine::CheckRestorable(*source, {op}, kMaxParallelism);
  if (!s.ok()) Die("CheckRestorable", s);
  return engine::SnapshotsForTask(*source, {op},
                                  KeyGroupRange::All(kMaxParallelism));
}

StateBackendOptions BackendOptions() {
  StateBackendOptions options;
  options.max_parallelism = kMaxParallelism;
  options.key_group_range = KeyGroupRange::All(kMaxParallelism);
  return options;
}

// `snapshot` without its ready-made DB: restore imports it.
void DropReadyDb(BackendSnapshot* snapshot) {
  std::erase_if(snapshot->files,
                [](const SnapshotFile& f) { return f.column_family.empty(); });
  for (SnapshotFile& f : snapshot->files) f.db_name.clear();
  snapshot->ready_db_files = 0;
}

// `import`: with the ready-made DB left out.
RestoreRun RunWeir(const std::string& savepoint_dir, const std::string& dir,
                   const RocksDBOptions& rocks, uint64_t probe, bool import) {
  RestoreRun r;
  r.side = import ? "import" : "weir";
  const OperatorId op = OperatorId::FromUid(kOperatorUid);
  const int64_t in0 = InBlocks();
  const int64_t t0 = NowNs();
  std::vector<BackendSnapshot> snaps = SnapshotsOf(savepoint_dir, op);
  if (import) {
    for (BackendSnapshot& snap : snaps) DropReadyDb(&snap);
  }
  const int64_t t1 = NowNs();
  RocksDBRestoreReport report;
  Result<std::unique_ptr<KeyedStateBackend>> backend =
      RestoreRocksDBBackend(BackendOptions(), rocks, dir, snaps, &report);
  if (!backend.ok()) Die("RestoreRocksDBBackend", backend.status());
  if (report.ready_db == import) {
    Die("RestoreRocksDBBackend",
        Status::Aborted(import ? "restored from a ready-made DB"
                               : "did not restore from the ready-made DB: " +
                                     report.ready_db_error));
  }
  const int64_t t2 = NowNs();
  Status s = CheckProbe(**backend, probe, 1);
  if (!s.ok()) Die("read back after the restore", s);
  const int64_t t3 = NowNs();
  r.disk_mib = BlocksMiB(InBlocks() - in0);
  r.load_ms = (t1 - t0) / 1e6;
  r.open_ms = (t2 - t1) / 1e6;
  r.read_ms = (t3 - t2) / 1e6;
  r.total_ms = (t3 - t0) / 1e6;
  backend->reset();
  const int64_t t4 = NowNs();
  r.close_ms = (t4 - t3) / 1e6;
  backend = OpenRocksDBBackend(BackendOptions(), rocks, dir);
  if (!backend.ok()) Die("reopen the restored backend", backend.status());
  r.reopen_ms = (NowNs() - t4) / 1e6;
  backend->reset();
  return r;
}

// Rescaling out, from the savepoint's one task to two: both new tasks
// restore at once (two threads, as a job's two tasks do), each from
// SnapshotsForTask of its half of the key groups, so by import of its own
// key groups (a ready-made DB fits only the same range). Timed until both
// are restored and the probe key is read back from the task that owns it.
RestoreRun RunRescale(const std::string& savepoint_dir, const std::string& dir,
                      const RocksDBOptions& rocks, uint64_t probe) {
  RestoreRun r;
  r.side = "rescale";
  const OperatorId op = OperatorId::FromUid(kOperatorUid);
  const int64_t in0 = InBlocks();
  const int64_t t0 = NowNs();
  Result<engine::RestoreSource> source =
      engine::LoadRestoreSource(savepoint_dir);
  if (!source.ok()) Die("LoadRestoreSource", source.status());
  Status s = engine::CheckRestorable(*source, {op}, kMaxParallelism);
  if (!s.ok()) Die("CheckRestorable", s);
  constexpr int kTasks = 2;
  std::vector<std::vector<BackendSnapshot>> snaps(kTasks);
  std::vector<StateBackendOptions> options(kTasks, BackendOptions());
  for (int i = 0; i < kTasks; ++i) {
    options[i].key_group_range =
        KeyGroupRangeForSubtask(kMaxParallelism, kTasks, i);
    snaps[i] =
        engine::SnapshotsForTask(*source, {op}, options[i].key_group_range);
  }
  const int64_t t1 = NowNs();
  std::vector<std::unique_ptr<KeyedStateBackend>> backends(kTasks);
  std::vector<Status> status(kTasks);
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < kTasks; ++i) {
      threads.emplace_back([&, i] {
        Result<std::unique_ptr<KeyedStateBackend>> b = RestoreRocksDBBackend(
            options[i], rocks, dir + "/task-" + std::to_string(i), snaps[i]);
        if (b.ok()) {
          backends[i] = std::move(*b);
        } else {
          status[i] = b.status();
        }
      });
    }
    for (std::thread& t : threads) t.join();
  }
  for (const Status& each : status) {
    if (!each.ok()) Die("RestoreRocksDBBackend (rescale)", each);
  }
  const int64_t t2 = NowNs();
  std::array<char, kKeySize> buf{};
  const int kg = KeyGroupForKey(MakeKey(probe, &buf), kMaxParallelism);
  const int owner = SubtaskForKeyGroup(kMaxParallelism, kTasks, kg);
  s = CheckProbe(*backends[owner], probe, 1);
  if (!s.ok()) Die("read back after the rescale", s);
  const int64_t t3 = NowNs();
  r.disk_mib = BlocksMiB(InBlocks() - in0);
  r.load_ms = (t1 - t0) / 1e6;
  r.open_ms = (t2 - t1) / 1e6;
  r.read_ms = (t3 - t2) / 1e6;
  r.total_ms = (t3 - t0) / 1e6;
  backends.clear();
  r.close_ms = (NowNs() - t3) / 1e6;
  return r;
}

// Rescaling in, from two tasks to one. The two tasks are made as
// RunRescale makes them (not timed), each snapshotted (as a checkpoint
// would), and then one task of all key groups is restored from both
// snapshots: the snapshot with more of its key groups is imported, the
// other's entries are copied key by key (docs/state-backends.md,
// "Rescaling"). Timed from the restore call until the probe is read back.
// `evict_root`: if not empty, the page cache is dropped for every file
// under it after the setup (the "cold" mode).
RestoreRun RunScaleIn(const std::string& savepoint_dir, const std::string& dir,
                      const RocksDBOptions& rocks, uint64_t probe,
                      const std::string& evict_root) {
  RestoreRun r;
  r.side = "scale_in";
  const OperatorId op = OperatorId::FromUid(kOperatorUid);
  Result<engine::RestoreSource> source =
      engine::LoadRestoreSource(savepoint_dir);
  if (!source.ok()) Die("LoadRestoreSource", source.status());
  constexpr int kTasks = 2;
  std::vector<BackendSnapshot> halves;
  for (int i = 0; i < kTasks; ++i) {
    StateBackendOptions options = BackendOptions();
    options.key_group_range =
        KeyGroupRangeForSubtask(kMaxParallelism, kTasks, i);
    const std::string task_dir = dir + "/old-task-" + std::to_string(i);
    Result<std::unique_ptr<KeyedStateBackend>> b = RestoreRocksDBBackend(
        options, rocks, task_dir,
        engine::SnapshotsForTask(*source, {op}, options.key_group_range));
    if (!b.ok()) Die("RestoreRocksDBBackend (scale-in setup)", b.status());
    Result<std::unique_ptr<PendingSnapshot>> pending =
        (*b)->Snapshot(1, dir + "/old-snapshot-" + std::to_string(i));
    if (!pending.ok()) Die("Snapshot (scale-in setup)", pending.status());
    Result<BackendSnapshot> snap = (*pending)->Complete();
    if (!snap.ok()) Die("Complete (scale-in setup)", snap.status());
    halves.push_back(std::move(*snap));
  }
  if (!evict_root.empty()) EvictTree(evict_root);
  const int64_t in0 = InBlocks();
  const int64_t t0 = NowNs();
  Result<std::unique_ptr<KeyedStateBackend>> merged =
      RestoreRocksDBBackend(BackendOptions(), rocks, dir + "/new-task", halves);
  if (!merged.ok()) Die("RestoreRocksDBBackend (scale-in)", merged.status());
  const int64_t t1 = NowNs();
  Status s = CheckProbe(**merged, probe, 1);
  if (!s.ok()) Die("read back after the scale-in", s);
  const int64_t t2 = NowNs();
  r.disk_mib = BlocksMiB(InBlocks() - in0);
  r.open_ms = (t1 - t0) / 1e6;
  r.read_ms = (t2 - t1) / 1e6;
  r.total_ms = (t2 - t0) / 1e6;
  merged->reset();
  r.close_ms = (NowNs() - t2) / 1e6;
  return r;
}

RestoreRun RunRaw(const std::string& checkpoint_dir,
                  const RocksDBOptions& rocks, uint64_t probe) {
  RestoreRun r;
  r.side = "raw";
  const int64_t in0 = InBlocks();
  const int64_t t0 = NowNs();
  // RawDb::Open: ListColumnFamilies, then DB::Open with every one.
  Result<std::unique_ptr<RawDb>> raw = RawDb::Open(checkpoint_dir, rocks);
  if (!raw.ok()) Die("open the RocksDB checkpoint", raw.status());
  const int64_t t1 = NowNs();
  rocksdb::ColumnFamilyHandle* cf =
      (*raw)->Find(OperatorId::FromUid(kOperatorUid).ToHex());
  if (cf == nullptr) Die("raw open", Status::NotFound("no column family"));
  std::string key, expected;
  rocksdb::PinnableSlice value;
  StoredKey(probe, &key);
  StoredValue(probe, 1, &expected);
  rocksdb::Status rs =
      (*raw)->db()->Get(rocksdb::ReadOptions(), cf, key, &value);
  if (!rs.ok() || internal::ToView(value) != expected) {
    Die("read back from the RocksDB checkpoint",
        Status::Corruption("key " + std::to_string(probe) + ": " +
                           rs.ToString()));
  }
  const int64_t t2 = NowNs();
  r.disk_mib = BlocksMiB(InBlocks() - in0);
  r.open_ms = (t1 - t0) / 1e6;
  r.read_ms = (t2 - t1) / 1e6;
  r.total_ms = (t2 - t0) / 1e6;
  value.Reset();
  Status s = (*raw)->Close();
  if (!s.ok()) Die("close the RocksDB checkpoint", s);
  r.close_ms = (NowNs() - t2) / 1e6;
  return r;
}

// ---------------------------------------------------------------- reading

// One offline read of the whole savepoint (`weir state dump`) or its
// baseline. Throughput is the savepoint's state bytes (its files' sizes)
// over the wall time, for every side, so that the ratio of two rates is
// the inverse ratio of their times.
struct ReadRun {
  std::string side;  // scan, reader, dump
  std::string cache;
  double open_ms = 0;   // scan: DB::OpenForReadOnly; reader: Open()
  double first_ms = 0;  // until the first entry (reader: the restore into
                        // scratch space, then the first seek)
  double total_ms = 0;  // until the last entry, the reader destroyed
  uint64_t entries = 0;
  uint64_t bytes = 0;  // keys and values as the visitor saw them
  double disk_mib = 0;
};

// The baseline: RocksDB opened read-only on a RocksDB checkpoint (hard
// links) of the state's DB, with weir's options and every column family,
// and one iterator over the operator's column family from first to last,
// each key and value touched.
ReadRun RunScan(const std::string& checkpoint_dir,
                const RocksDBOptions& rocks) {
  ReadRun r;
  r.side = "scan";
  const int64_t in0 = InBlocks();
  const int64_t t0 = NowNs();
  rocksdb::Options options;
  internal::ApplyRocksDBOptions(rocks, &options);
  const std::string path = checkpoint_dir + "/db";
  std::vector<std::string> names;
  rocksdb::Status rs = rocksdb::DB::ListColumnFamilies(
      rocksdb::DBOptions(options), path, &names);
  if (!rs.ok()) Die("scan", internal::FromRocks(rs, path));
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions(options));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rs = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(options), path,
                                    descriptors, &handles, &raw);
  if (!rs.ok()) Die("scan", internal::FromRocks(rs, "open " + path));
  std::unique_ptr<rocksdb::DB> db(raw);
  const int64_t t1 = NowNs();
  rocksdb::ColumnFamilyHandle* cf = nullptr;
  const std::string cf_name = OperatorId::FromUid(kOperatorUid).ToHex();
  for (rocksdb::ColumnFamilyHandle* h : handles) {
    if (h->GetName() == cf_name) cf = h;
  }
  if (cf == nullptr) Die("scan", Status::NotFound("no column family"));
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions(), cf));
    uint64_t sum = 0;  // a byte of each, so that nothing is optimized out
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (r.entries == 0) r.first_ms = (NowNs() - t0) / 1e6;
      const rocksdb::Slice k = it->key();
      const rocksdb::Slice v = it->value();
      ++r.entries;
      r.bytes += k.size() + v.size();
      sum += static_cast<uint8_t>(k[k.size() - 1]) +
             static_cast<uint8_t>(v.size() > 0 ? v[v.size() - 1] : 0);
    }
    if (!it->status().ok())
      Die("scan", internal::FromRocks(it->status(), path));
    if (sum == 1) std::fprintf(stderr, " ");
  }
  for (rocksdb::ColumnFamilyHandle* h : handles) {
    db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  db->Close().PermitUncheckedError();
  db.reset();
  r.open_ms = (t1 - t0) / 1e6;
  r.total_ms = (NowNs() - t0) / 1e6;
  r.disk_mib = BlocksMiB(InBlocks() - in0);
  return r;
}

// SavepointReader (what `weir state dump` walks): Open, Read of every
// entry with a visitor that touches each key and value, and the reader
// destroyed (its scratch directory removed). Scratch space under
// `scratch_parent`, on the savepoint's file system, so that the restore
// links the files rather than copying them.
ReadRun RunReader(const std::string& savepoint_dir,
                  const std::string& scratch_parent) {
  ReadRun r;
  r.side = "reader";
  const int64_t in0 = InBlocks();
  const int64_t t0 = NowNs();
  SavepointReaderOptions options;
  options.scratch_parent = scratch_parent;
  {
    Result<std::unique_ptr<SavepointReader>> reader =
        SavepointReader::Open(savepoint_dir, options);
    if (!reader.ok()) Die("SavepointReader::Open", reader.status());
    r.open_ms = (NowNs() - t0) / 1e6;
    uint64_t sum = 0;
    Status s = (*reader)->Read({}, [&](const StateRecord& rec) {
      if (r.entries == 0) r.first_ms = (NowNs() - t0) / 1e6;
      ++r.entries;
      r.bytes += rec.key.size() + rec.value.size();
      sum += static_cast<uint8_t>(rec.key.empty() ? 0 : rec.key.back()) +
             static_cast<uint8_t>(rec.value.empty() ? 0 : rec.value.back());
      return Status::OK();
    });
    if (!s.ok()) Die("SavepointReader::Read", s);
    if (sum == 1) std::fprintf(stderr, " ");
  }
  r.total_ms = (NowNs() - t0) / 1e6;
  r.disk_mib = BlocksMiB(InBlocks() - in0);
  return r;
}

// `weir state dump PATH` (JSON lines) through the command's own code,
// stdout sent to /dev/null. Its scratch space is the default ($TMPDIR).
ReadRun RunDump(const std::string& savepoint_dir) {
  ReadRun r;
  r.side = "dump";
  std::fflush(stdout);
  const int saved = dup(STDOUT_FILENO);
  const int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (saved < 0 || null < 0 || dup2(null, STDOUT_FILENO) < 0) {
    Die("dump", Status::IOError(std::strerror(errno)));
  }
  close(null);
  const int64_t in0 = InBlocks();
  const int64_t t0 = NowNs();
  tools::DumpArgs args;
  args.path = savepoint_dir;
  const int rc = tools::StateDumpCommand(args);
  r.total_ms = (NowNs() - t0) / 1e6;
  r.disk_mib = BlocksMiB(InBlocks() - in0);
  std::fflush(stdout);
  dup2(saved, STDOUT_FILENO);
  close(saved);
  if (rc != 0)
    Die("weir state dump",
        Status::Aborted("exit status " + std::to_string(rc)));
  return r;
}

// The job of the savepoint for Job::CheckRestore: a source, the keyed
// operator with the savepoint's uid (its state), a sink; RocksDB state.
std::unique_ptr<Job> DryRunJob(const std::string& local_dir) {
  JobBuilder b("savepoint_bench");
  b.SetMaxParallelism(kMaxParallelism);
  b.AddSource<std::string>(std::make_unique<CollectionSource<std::string>>(
                               std::vector<std::string>{}),
                           "keys")
      .Uid("keys")
      .KeyBy([](const std::string& k) { return k; })
      .Reduce([](const std::string& a, const std::string&) { return a; },
              "counter")
      .Uid(kOperatorUid)
      .SinkTo(std::make_unique<DiscardingSink<std::string>>())
      .Name("discard");
  JobOptions options;
  options.backend = JobOptions::Backend::kRocksDB;
  options.local_dir = local_dir;
  Result<std::unique_ptr<Job>> job = b.Build(options);
  if (!job.ok()) Die("build the dry-run job", job.status());
  return std::move(*job);
}

struct DryRun {
  std::vector<double> ms;  // each call of Job::CheckRestore
  uint64_t bytes_linked = 0;
  int64_t estimated_ms = 0;
};

// `weir run --dry-run -s`: Job::CheckRestore of the savepoint, `runs`
// times (the first with a cold `_metadata` if `cold`), each checked to
// predict a link restore of the operator.
DryRun RunDryRun(const std::string& savepoint_dir, const std::string& root,
                 int runs, bool cold) {
  DryRun d;
  std::unique_ptr<Job> job = DryRunJob(root + "/dry-run-local");
  for (int k = 0; k < runs; ++k) {
    if (cold && k == 0) EvictTree(root);
    const int64_t t0 = NowNs();
    Result<RestoreCheck> c = job->CheckRestore(savepoint_dir, {});
    d.ms.push_back((NowNs() - t0) / 1e6);
    if (!c.ok()) Die("CheckRestore", c.status());
    if (!c->ok()) Die("CheckRestore", Status::Aborted(c->problems.front()));
    bool restored = false;
    for (const RestoreCheck::Operator& op : c->operators) {
      restored = restored || (op.uid == kOperatorUid &&
                              op.fate == RestoreCheck::Fate::kRestored);
    }
    const bool linked = std::any_of(
        c->tasks.begin(), c->tasks.end(), [](const RestoreCheck::Task& t) {
          return t.method == RestoreCheck::Method::kLink;
        });
    if (!restored || !linked) {
      Die("CheckRestore",
          Status::Aborted("did not predict a link restore of the operator"));
    }
    d.bytes_linked = c->bytes_linked;
    d.estimated_ms = c->estimated_ms;
  }
  return d;
}

// ---------------------------------------------------------------- one size

struct SizeResult {
  double gb = 0;
  std::string started, loadavg_start, loadavg_end;
  LoadStats load;
  double verify_seconds = 0;
  uint64_t burst = 0;  // updates per burst
  std::vector<double> burst_seconds;
  std::vector<SnapshotRecord> snapshots;  // the checkpoint, then savepoints
  uint64_t savepoint_files = 0, savepoint_bytes = 0;
  uint64_t raw_files = 0, raw_bytes = 0;       // SST files of a raw checkpoint
  std::map<std::string, double> warm_seconds;  // cache mode -> warming
  std::vector<RestoreRun> restores;
  std::vector<ReadRun> reads;
  DryRun dry_run;
};

// The figures docs/performance.md reports for a size.
struct Summary {
  double savepoint_p50_ms = 0, savepoint_max_ms = 0;
  uint64_t metadata_max = 0;
  double metadata_per_10gib = 0;
};

// The same for the restores of one cache mode.
struct RestoreSummary {
  double weir_p50_ms = 0, raw_p50_ms = 0;
  double import_p50_ms = 0;   // weir without the ready-made DB
  double rescale_p50_ms = 0;  // one task to two, both restored at once
  double scale_in_ms = 0;     // two tasks to one (one run)
  double ratio_p50 = 0;       // median of weir run k / raw run k
  double ratio_of_p50s = 0;   // weir p50 / raw p50
  int runs = 0;
};

Summary Summarize(const SizeResult& r) {
  Summary v;
  std::vector<double> total;
  for (const SnapshotRecord& s : r.snapshots) {
    if (s.kind != "savepoint") continue;
    total.push_back(s.total_ms);
    v.savepoint_max_ms = std::max(v.savepoint_max_ms, s.total_ms);
    v.metadata_max = std::max(v.metadata_max, s.metadata_bytes);
  }
  v.savepoint_p50_ms = Median(total);
  const double gib =
      static_cast<double>(r.load.sst_bytes) / static_cast<double>(1ull << 30);
  if (gib > 0) {
    v.metadata_per_10gib = static_cast<double>(v.metadata_max) * 10 / gib;
  }
  return v;
}

RestoreSummary SummarizeRestore(const SizeResult& r, const std::string& cache) {
  RestoreSummary v;
  std::vector<double> weir, raw, imported, rescaled, ratio;
  for (const RestoreRun& run : r.restores) {
    if (run.cache != cache) continue;
    if (run.side == "weir") weir.push_back(run.total_ms);
    if (run.side == "raw") raw.push_back(run.total_ms);
    if (run.side == "import") imported.push_back(run.total_ms);
    if (run.side == "rescale") rescaled.push_back(run.total_ms);
    if (run.side == "scale_in") v.scale_in_ms = run.total_ms;
  }
  for (size_t k = 0; k < std::min(weir.size(), raw.size()); ++k) {
    if (raw[k] > 0) ratio.push_back(weir[k] / raw[k]);
  }
  v.runs = static_cast<int>(ratio.size());
  v.weir_p50_ms = Median(weir);
  v.raw_p50_ms = Median(raw);
  v.import_p50_ms = Median(imported);
  v.rescale_p50_ms = Median(rescaled);
  v.ratio_p50 = Median(ratio);
  if (v.raw_p50_ms > 0) v.ratio_of_p50s = v.weir_p50_ms / v.raw_p50_ms;
  return v;
}

// The offline reads of one cache mode: medians, rates in MiB/s of the
// savepoint's state bytes, and the reader against the scan.
struct ReadSummary {
  double scan_p50_ms = 0, reader_p50_ms = 0, dump_p50_ms = 0;
  double reader_first_p50_ms = 0;  // the restore into scratch space
  double scan_mib_s = 0, reader_mib_s = 0, dump_mib_s = 0;
  double ratio_p50 = 0;       // median of scan run k / reader run k
  double dump_ratio_p50 = 0;  // the same for the dump
  uint64_t entries = 0;
  int runs = 0;
};

ReadSummary SummarizeReads(const SizeResult& r, const std::string& cache) {
  ReadSummary v;
  std::vector<double> scan, reader, dump, first, ratio, dump_ratio;
  for (const ReadRun& run : r.reads) {
    if (run.cache != cache) continue;
    if (run.side == "scan") scan.push_back(run.total_ms);
    if (run.side == "reader") {
      reader.push_back(run.total_ms);
      first.push_back(run.first_ms);
      v.entries = run.entries;
    }
    if (run.side == "dump") dump.push_back(run.total_ms);
  }
  for (size_t k = 0; k < std::min(scan.size(), reader.size()); ++k) {
    if (reader[k] > 0) ratio.push_back(scan[k] / reader[k]);
  }
  for (size_t k = 0; k < std::min(scan.size(), dump.size()); ++k) {
    if (dump[k] > 0) dump_ratio.push_back(scan[k] / dump[k]);
  }
  v.runs = static_cast<int>(ratio.size());
  v.scan_p50_ms = Median(scan);
  v.reader_p50_ms = Median(reader);
  v.dump_p50_ms = Median(dump);
  v.reader_first_p50_ms = Median(first);
  auto rate = [&](double ms) {
    return ms > 0 ? MiB(r.savepoint_bytes) / (ms / 1e3) : 0.0;
  };
  v.scan_mib_s = rate(v.scan_p50_ms);
  v.reader_mib_s = rate(v.reader_p50_ms);
  v.dump_mib_s = rate(v.dump_p50_ms);
  v.ratio_p50 = Median(ratio);
  v.dump_ratio_p50 = Median(dump_ratio);
  return v;
}

// The dry run: the first call (cold `_metadata`) and the median of the
// others.
std::pair<double, double> SummarizeDryRun(const DryRun& d) {
  if (d.ms.empty()) return {0, 0};
  std::vector<double> rest(d.ms.begin() + 1, d.ms.end());
  return {d.ms.front(), rest.empty() ? d.ms.front() : Median(rest)};
}

// The SST files under `dir` (not recursive): count and bytes.
std::pair<uint64_t, uint64_t> SstFiles(const std::string& dir) {
  uint64_t files = 0, bytes = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".sst") {
      ++files;
      bytes += e.file_size(ec);
    }
  }
  return {files, bytes};
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
  // weir's defaults, ready-made DB included (set explicitly: its restore is
  // what this benchmark measures against raw DB::Open and the import).
  RocksDBOptions rocks;
  rocks.ready_db_snapshots = true;
  const OperatorId op = OperatorId::FromUid(kOperatorUid);

  std::fprintf(stderr, "== %g GiB: bulk load\n", gb);
  Result<LoadStats> load =
      BulkLoad(state_dir, root + "/ingest", rocks,
               static_cast<uint64_t>(gb * static_cast<double>(1ull << 30)));
  if (!load.ok()) Die("bulk load", load.status());
  res.load = *load;
  std::fprintf(stderr,
               "  %llu keys, %.0f MiB in %d files; write %.1f s, ingest "
               "%.1f s\n",
               static_cast<unsigned long long>(load->keys),
               MiB(load->sst_bytes), load->sst_files, load->write_seconds,
               load->ingest_seconds);

  Result<std::unique_ptr<KeyedStateBackend>> backend =
      OpenRocksDBBackend(BackendOptions(), rocks, state_dir);
  if (!backend.ok()) Die("open the backend", backend.status());
  Result<CounterState> state = GetState(**backend, op, CounterDescriptor());
  if (!state.ok()) Die("GetState", state.status());
  const int64_t v0 = NowNs();
  Status s = VerifySample(**backend, *state, load->keys, config.verify_samples);
  if (!s.ok()) Die("verify the bulk load", s);
  res.verify_seconds = (NowNs() - v0) / 1e9;

  Result<std::unique_ptr<engine::SharedFileStore>> store =
      engine::SharedFileStore::Open(
          root + "/checkpoints/job",
          engine::CheckpointCoordinator::StoreOptions());
  if (!store.ok()) Die("open the checkpoint storage", store.status());
  res.burst = std::max<uint64_t>(
      1, static_cast<uint64_t>(static_cast<double>(load->keys) *
                               config.update_percent / 100.0));
  if (res.burst * static_cast<uint64_t>(config.savepoints + 1) >= load->keys) {
    Die("WEIR_BENCH_UPDATE_PERCENT",
        Status::InvalidArgument("the bursts would update a key twice"));
  }
  KeySequence keys(load->keys);
  // The first key updated: its count is 1 at every savepoint.
  const uint64_t probe = KeySequence(load->keys).Next();
  {
    Snapshotter snapshotter(store->get(), op, root + "/local",
                            root + "/savepoints");
    std::fprintf(stderr, "  %llu updates, then a full checkpoint\n",
                 static_cast<unsigned long long>(res.burst));
    res.burst_seconds.push_back(Burst(**backend, *state, &keys, res.burst));
    res.snapshots.push_back(snapshotter.Take(**backend, false));
    for (int k = 0; k < config.savepoints; ++k) {
      res.burst_seconds.push_back(Burst(**backend, *state, &keys, res.burst));
      res.snapshots.push_back(snapshotter.Take(**backend, true));
      const SnapshotRecord& sp = res.snapshots.back();
      std::fprintf(stderr,
                   "  savepoint %lld: %.1f ms (sync %.0f us, upload %.1f ms), "
                   "_metadata %llu B\n",
                   static_cast<long long>(sp.id), sp.total_ms, sp.sync_us,
                   sp.upload_ms,
                   static_cast<unsigned long long>(sp.metadata_bytes));
    }
  }
  const std::string savepoint_dir = res.snapshots.back().dir;
  res.savepoint_files = res.snapshots.back().files;
  res.savepoint_bytes = res.snapshots.back().state_bytes;

  // Raw checkpoints of the same DB, one per raw run.
  backend->reset();  // closes (flushes) the backend; `state` is dead now
  const std::string raw_root = root + "/raw";
  std::vector<std::string> raw_dirs;
  {
    Result<std::unique_ptr<RawDb>> raw = RawDb::Open(state_dir, rocks);
    if (!raw.ok()) Die("open the DB for the baseline", raw.status());
    for (const std::string& cache : config.cache_modes) {
      for (int k = 0; k < config.restore_runs; ++k) {
        const std::string dir =
            raw_root + "/" + cache + "-" + std::to_string(k);
        fs::create_directories(dir, ec);
        rocksdb::Checkpoint* checkpoint = nullptr;
        rocksdb::Status rs =
            rocksdb::Checkpoint::Create((*raw)->db(), &checkpoint);
        std::unique_ptr<rocksdb::Checkpoint> owned(checkpoint);
        if (rs.ok()) rs = checkpoint->CreateCheckpoint(dir + "/db");
        if (!rs.ok()) Die("CreateCheckpoint", internal::FromRocks(rs, dir));
        raw_dirs.push_back(dir);
      }
    }
    // One more, read by every scan of the savepoint's reads (read-only).
    fs::create_directories(raw_root + "/scan", ec);
    rocksdb::Checkpoint* checkpoint = nullptr;
    rocksdb::Status rs = rocksdb::Checkpoint::Create((*raw)->db(), &checkpoint);
    std::unique_ptr<rocksdb::Checkpoint> owned(checkpoint);
    if (rs.ok()) rs = checkpoint->CreateCheckpoint(raw_root + "/scan/db");
    if (!rs.ok()) Die("CreateCheckpoint", internal::FromRocks(rs, raw_root));
    s = (*raw)->Close();
    if (!s.ok()) Die("close the baseline DB", s);
  }
  std::tie(res.raw_files, res.raw_bytes) = SstFiles(raw_dirs.front() + "/db");

  // The savepoint's files, for warming.
  std::vector<std::string> savepoint_paths;
  for (const BackendSnapshot& snap : SnapshotsOf(savepoint_dir, op)) {
    for (const SnapshotFile& f : snap.files) {
      savepoint_paths.push_back(f.local_path);
    }
  }
  size_t raw_next = 0;
  for (const std::string& cache : config.cache_modes) {
    const bool cold = cache == "cold";
    if (!cold) {
      const int64_t w0 = NowNs();
      WarmFiles(savepoint_paths);
      res.warm_seconds[cache] = (NowNs() - w0) / 1e9;
    }
    for (int k = 0; k < config.restore_runs; ++k) {
      const std::string tag = cache + "-" + std::to_string(k);
      // The side that goes first alternates (run k against run k), so
      // that neither always meets what the other left in the caches.
      RestoreRun w, r;
      auto weir = [&] {
        if (cold) EvictTree(root);
        w = RunWeir(savepoint_dir, root + "/restore/weir-" + tag, rocks, probe,
                    /*import=*/false);
        w.cache = cache;
        fs::remove_all(root + "/restore/weir-" + tag, ec);
      };
      auto raw = [&] {
        if (cold) EvictTree(root);
        r = RunRaw(raw_dirs[raw_next], rocks, probe);
        r.cache = cache;
        fs::remove_all(raw_dirs[raw_next++], ec);
      };
      if (k % 2 == 0) {
        weir();
        raw();
      } else {
        raw();
        weir();
      }
      if (cold) EvictTree(root);
      RestoreRun im = RunWeir(savepoint_dir, root + "/restore/import-" + tag,
                              rocks, probe, /*import=*/true);
      im.cache = cache;
      fs::remove_all(root + "/restore/import-" + tag, ec);
      if (cold) EvictTree(root);
      RestoreRun rs = RunRescale(
          savepoint_dir, root + "/restore/rescale-" + tag, rocks, probe);
      rs.cache = cache;
      fs::remove_all(root + "/restore/rescale-" + tag, ec);
      std::fprintf(stderr,
                   "  restore %s %d: weir %.1f ms (%.1f MiB from disk), raw "
                   "%.1f ms (%.1f MiB), import %.1f ms (%.1f MiB), rescale "
                   "1->2 %.1f ms (%.1f MiB)\n",
                   cache.c_str(), k, w.total_ms, w.disk_mib, r.total_ms,
                   r.disk_mib, im.total_ms, im.disk_mib, rs.total_ms,
                   rs.disk_mib);
      res.restores.push_back(w);
      res.restores.push_back(r);
      res.restores.push_back(im);
      res.restores.push_back(rs);
    }
    if (config.scale_in) {
      // Once per cache mode: it copies half the state key by key.
      const std::string in_dir = root + "/restore/scale-in-" + cache;
      RestoreRun in = RunScaleIn(savepoint_dir, in_dir, rocks, probe,
                                 cold ? root : std::string());
      in.cache = cache;
      fs::remove_all(in_dir, ec);
      std::fprintf(stderr, "  restore %s: scale-in 2->1 %.1f ms (%.1f MiB)\n",
                   cache.c_str(), in.total_ms, in.disk_mib);
      res.restores.push_back(in);
    }
  }
  // Offline reads of the savepoint (`weir state dump`) against a plain
  // scan of the same data; the side that goes first alternates.
  fs::create_directories(root + "/scratch", ec);
  if (ec) Die("create " + root + "/scratch", Status::IOError(ec.message()));
  for (const std::string& cache : config.read_cache_modes) {
    const bool cold = cache == "cold";
    if (!cold) WarmFiles(savepoint_paths);
    for (int k = 0; k < config.read_runs; ++k) {
      ReadRun scan, reader;
      auto do_scan = [&] {
        if (cold) EvictTree(root);
        scan = RunScan(raw_root + "/scan", rocks);
        scan.cache = cache;
      };
      auto do_reader = [&] {
        if (cold) EvictTree(root);
        reader = RunReader(savepoint_dir, root + "/scratch");
        reader.cache = cache;
      };
      if (k % 2 == 0) {
        do_scan();
        do_reader();
      } else {
        do_reader();
        do_scan();
      }
      // The scan sees every record of the column family (one more than
      // the keys here), the reader only the state's entries.
      if (reader.entries != res.load.keys || scan.entries < res.load.keys) {
        Die("read the savepoint",
            Status::Corruption(
                "the reader saw " + std::to_string(reader.entries) +
                " entries, the scan " + std::to_string(scan.entries) + ", of " +
                std::to_string(res.load.keys) + " keys"));
      }
      res.reads.push_back(scan);
      res.reads.push_back(reader);
      std::fprintf(stderr,
                   "  read %s %d: scan %.1f ms, reader %.1f ms (first entry "
                   "at %.1f ms), %llu entries",
                   cache.c_str(), k, scan.total_ms, reader.total_ms,
                   reader.first_ms,
                   static_cast<unsigned long long>(reader.entries));
      if (config.dump) {
        if (cold) EvictTree(root);
        ReadRun dump = RunDump(savepoint_dir);
        dump.cache = cache;
        res.reads.push_back(dump);
        std::fprintf(stderr, ", dump %.1f ms", dump.total_ms);
      }
      std::fprintf(stderr, "\n");
    }
  }
  if (config.dry_runs > 0) {
    res.dry_run = RunDryRun(savepoint_dir, root, config.dry_runs,
                            /*cold=*/true);
    const auto [first, p50] = SummarizeDryRun(res.dry_run);
    std::fprintf(stderr, "  dry run: first %.2f ms, then p50 %.2f ms\n", first,
                 p50);
  }
  res.loadavg_end = LoadAverage();
  store->reset();
  if (!config.keep) fs::remove_all(root, ec);
  return res;
}

// ---------------------------------------------------------------- report

void PrintSize(const Config& config, const SizeResult& r) {
  std::printf(
      "\n== state %g GiB: %llu keys, %.0f MiB in %d SST files, started %s\n",
      r.gb, static_cast<unsigned long long>(r.load.keys), MiB(r.load.sst_bytes),
      r.load.sst_files, r.started.c_str());
  std::printf(
      "   bulk load: SstFileWriter %.1f s, ingest %.2f s; verify %.2f s; "
      "loadavg start: %s; end: %s\n",
      r.load.write_seconds, r.load.ingest_seconds, r.verify_seconds,
      r.loadavg_start.c_str(), r.loadavg_end.c_str());
  std::printf("   %llu updates (%.2f%% of the keys) before each snapshot, in",
              static_cast<unsigned long long>(r.burst), config.update_percent);
  for (double s : r.burst_seconds) std::printf(" %.2f", s);
  std::printf(" s\n");
  std::printf(
      "  id kind       total_ms trig_ms sync_us cpu_us compl_ms (ready) "
      "flush_ms "
      "upload_ms commit_ms files up_files ref_files  up_MiB  ref_MiB "
      "new_MiB meta_B fallback\n");
  for (const SnapshotRecord& c : r.snapshots) {
    std::printf(
        "  %2lld %-10s %8.1f %7.2f %7.0f %6.0f %8.1f (%5.1f) %8.1f %9.1f %9.1f "
        "%5llu "
        "%8llu %9llu %7.1f %8.1f %7.1f %6llu %d\n",
        static_cast<long long>(c.id), c.kind.c_str(), c.total_ms, c.trigger_ms,
        c.sync_us, c.sync_cpu_us, c.complete_ms, c.ready_db_ms, c.flush_wait_ms,
        c.upload_ms, c.commit_ms, static_cast<unsigned long long>(c.files),
        static_cast<unsigned long long>(c.files_uploaded),
        static_cast<unsigned long long>(c.files_referenced),
        MiB(c.bytes_uploaded), MiB(c.bytes_referenced), MiB(c.new_sst_bytes),
        static_cast<unsigned long long>(c.metadata_bytes), c.fallback_cfs);
  }
  std::printf(
      "  restore from the last savepoint (%llu files, %.1f MiB) vs DB::Open "
      "of a RocksDB checkpoint of the same DB (%llu SST files, %.1f MiB)\n",
      static_cast<unsigned long long>(r.savepoint_files),
      MiB(r.savepoint_bytes), static_cast<unsigned long long>(r.raw_files),
      MiB(r.raw_bytes));
  std::printf(
      "    cache side  load_ms    open_ms  read_ms   total_ms  disk_MiB "
      "close_ms reopen_ms\n");
  for (const RestoreRun& run : r.restores) {
    std::printf("    %-5s %-4s %8.2f %10.1f %8.2f %10.1f %9.1f %8.1f %9.1f\n",
                run.cache.c_str(), run.side.c_str(), run.load_ms, run.open_ms,
                run.read_ms, run.total_ms, run.disk_mib, run.close_ms,
                run.reopen_ms);
  }
  for (const auto& [cache, seconds] : r.warm_seconds) {
    std::printf(
        "  (%s: the savepoint's files were read once in %.2f s first)\n",
        cache.c_str(), seconds);
  }
  const Summary v = Summarize(r);
  std::printf(
      "  savepoint trigger->complete: median %.1f ms, max %.1f ms (%d "
      "savepoints)\n",
      v.savepoint_p50_ms, v.savepoint_max_ms, config.savepoints);
  std::printf(
      "  _metadata: max %llu B at %.2f GiB = %.0f B per 10 GiB\n",
      static_cast<unsigned long long>(v.metadata_max),
      static_cast<double>(r.load.sst_bytes) / static_cast<double>(1ull << 30),
      v.metadata_per_10gib);
  for (const std::string& cache : config.cache_modes) {
    const RestoreSummary rv = SummarizeRestore(r, cache);
    std::printf(
        "  restore (%s): weir p50 %.1f ms, raw p50 %.1f ms, median ratio "
        "%.2fx (ratio of medians %.2fx, %d pairs); by import (no ready-made "
        "DB) p50 %.1f ms; rescaled 1->2 p50 %.1f ms; 2->1 %.1f ms\n",
        cache.c_str(), rv.weir_p50_ms, rv.raw_p50_ms, rv.ratio_p50,
        rv.ratio_of_p50s, rv.runs, rv.import_p50_ms, rv.rescale_p50_ms,
        rv.scale_in_ms);
  }
  for (const std::string& cache : config.read_cache_modes) {
    const ReadSummary rv = SummarizeReads(r, cache);
    std::printf(
        "  read (%s), %llu entries, %.1f MiB: scan p50 %.1f ms (%.0f MiB/s), "
        "SavepointReader p50 %.1f ms (%.0f MiB/s; first entry at %.1f ms), "
        "reader/scan rate %.2fx (median of %d pairs); weir state dump p50 "
        "%.1f ms (%.0f MiB/s, %.2fx)\n",
        cache.c_str(), static_cast<unsigned long long>(rv.entries),
        MiB(r.savepoint_bytes), rv.scan_p50_ms, rv.scan_mib_s, rv.reader_p50_ms,
        rv.reader_mib_s, rv.reader_first_p50_ms, rv.ratio_p50, rv.runs,
        rv.dump_p50_ms, rv.dump_mib_s, rv.dump_ratio_p50);
  }
  if (!r.dry_run.ms.empty()) {
    const auto [first, p50] = SummarizeDryRun(r.dry_run);
    std::printf(
        "  dry run (Job::CheckRestore): first %.2f ms (cold _metadata), then "
        "p50 %.2f ms; predicts %.1f MiB linked, ~%lld ms\n",
        first, p50, MiB(r.dry_run.bytes_linked),
        static_cast<long long>(r.dry_run.estimated_ms));
  }
  std::fflush(stdout);
}

std::string Json(const Config& config, const SizeResult& r) {
  const Summary v = Summarize(r);
  std::ostringstream o;
  o << "{\"gib\":" << r.gb << ",\"started\":\"" << r.started
    << "\",\"loadavg_start\":\"" << r.loadavg_start << "\",\"loadavg_end\":\""
    << r.loadavg_end << "\",\"keys\":" << r.load.keys
    << ",\"sst_bytes\":" << r.load.sst_bytes
    << ",\"sst_files\":" << r.load.sst_files
    << ",\"updates_per_burst\":" << r.burst << ",\"snapshots\":[";
  for (size_t i = 0; i < r.snapshots.size(); ++i) {
    const SnapshotRecord& c = r.snapshots[i];
    if (i > 0) o << ",";
    o << "{\"id\":" << c.id << ",\"kind\":\"" << c.kind
      << "\",\"total_ms\":" << c.total_ms << ",\"trigger_ms\":" << c.trigger_ms
      << ",\"sync_us\":" << c.sync_us << ",\"sync_cpu_us\":" << c.sync_cpu_us
      << ",\"complete_ms\":" << c.complete_ms
      << ",\"ready_db_ms\":" << c.ready_db_ms
      << ",\"flush_wait_ms\":" << c.flush_wait_ms
      << ",\"upload_ms\":" << c.upload_ms << ",\"commit_ms\":" << c.commit_ms
      << ",\"files\":" << c.files << ",\"state_bytes\":" << c.state_bytes
      << ",\"files_uploaded\":" << c.files_uploaded
      << ",\"files_referenced\":" << c.files_referenced
      << ",\"bytes_uploaded\":" << c.bytes_uploaded
      << ",\"bytes_referenced\":" << c.bytes_referenced
      << ",\"new_sst_bytes\":" << c.new_sst_bytes
      << ",\"metadata_bytes\":" << c.metadata_bytes
      << ",\"fallback_column_families\":" << c.fallback_cfs << "}";
  }
  o << "],\"restore\":[";
  for (size_t i = 0; i < r.restores.size(); ++i) {
    const RestoreRun& run = r.restores[i];
    if (i > 0) o << ",";
    o << "{\"side\":\"" << run.side << "\",\"cache\":\"" << run.cache
      << "\",\"load_ms\":" << run.load_ms << ",\"open_ms\":" << run.open_ms
      << ",\"read_ms\":" << run.read_ms << ",\"total_ms\":" << run.total_ms
      << ",\"disk_mib\":" << run.disk_mib << ",\"close_ms\":" << run.close_ms
      << ",\"reopen_ms\":" << run.reopen_ms << "}";
  }
  o << "],\"reads\":[";
  for (size_t i = 0; i < r.reads.size(); ++i) {
    const ReadRun& run = r.reads[i];
    if (i > 0) o << ",";
    o << "{\"side\":\"" << run.side << "\",\"cache\":\"" << run.cache
      << "\",\"open_ms\":" << run.open_ms << ",\"first_ms\":" << run.first_ms
      << ",\"total_ms\":" << run.total_ms << ",\"entries\":" << run.entries
      << ",\"bytes\":" << run.bytes << ",\"disk_mib\":" << run.disk_mib << "}";
  }
  o << "],\"dry_run_ms\":[";
  for (size_t i = 0; i < r.dry_run.ms.size(); ++i) {
    o << (i > 0 ? "," : "") << r.dry_run.ms[i];
  }
  o << "],\"summary\":{\"savepoint_p50_ms\":" << v.savepoint_p50_ms
    << ",\"savepoint_max_ms\":" << v.savepoint_max_ms
    << ",\"metadata_max_bytes\":" << v.metadata_max
    << ",\"metadata_per_10gib\":" << v.metadata_per_10gib;
  for (const std::string& cache : config.cache_modes) {
    const RestoreSummary rv = SummarizeRestore(r, cache);
    o << ",\"restore_" << cache << "\":{\"weir_p50_ms\":" << rv.weir_p50_ms
      << ",\"raw_p50_ms\":" << rv.raw_p50_ms
      << ",\"import_p50_ms\":" << rv.import_p50_ms
      << ",\"rescale_p50_ms\":" << rv.rescale_p50_ms
      << ",\"scale_in_ms\":" << rv.scale_in_ms
      << ",\"ratio_p50\":" << rv.ratio_p50
      << ",\"ratio_of_p50s\":" << rv.ratio_of_p50s << "}";
  }
  for (const std::string& cache : config.read_cache_modes) {
    const ReadSummary rv = SummarizeReads(r, cache);
    o << ",\"read_" << cache << "\":{\"savepoint_bytes\":" << r.savepoint_bytes
      << ",\"entries\":" << rv.entries << ",\"scan_p50_ms\":" << rv.scan_p50_ms
      << ",\"reader_p50_ms\":" << rv.reader_p50_ms
      << ",\"reader_first_p50_ms\":" << rv.reader_first_p50_ms
      << ",\"dump_p50_ms\":" << rv.dump_p50_ms
      << ",\"scan_mib_s\":" << rv.scan_mib_s
      << ",\"reader_mib_s\":" << rv.reader_mib_s
      << ",\"dump_mib_s\":" << rv.dump_mib_s
      << ",\"reader_vs_scan\":" << rv.ratio_p50
      << ",\"dump_vs_scan\":" << rv.dump_ratio_p50 << "}";
  }
  if (!r.dry_run.ms.empty()) {
    const auto [first, p50] = SummarizeDryRun(r.dry_run);
    o << ",\"dry_run\":{\"first_ms\":" << first << ",\"p50_ms\":" << p50
      << ",\"bytes_linked\":" << r.dry_run.bytes_linked
      << ",\"estimated_ms\":" << r.dry_run.estimated_ms << "}";
  }
  o << "}}";
  return o.str();
}

}  // namespace
}  // namespace weir::bench

int main() {
  using namespace weir::bench;
  const Config config = ReadConfig();
  std::error_code ec;
  std::filesystem::remove_all(config.dir, ec);
  std::printf("savepoint_bench: sizes");
  for (double gb : config.sizes_gb) std::printf(" %g", gb);
  std::printf(
      " GiB, %d savepoints, %.2f%% of the keys updated before each, %d "
      "restore runs per side and cache mode (",
      config.savepoints, config.update_percent, config.restore_runs);
  for (size_t i = 0; i < config.cache_modes.size(); ++i) {
    std::printf("%s%s", i > 0 ? "," : "", config.cache_modes[i].c_str());
  }
  std::printf("), data in %s\n", config.dir.c_str());
  // Named when the run starts.
  const std::string path = config.json_path.empty()
                               ? ResultsPath("savepoint_bench")
                               : config.json_path;
  std::string sizes;
  for (double gb : config.sizes_gb) {
    const SizeResult r = RunSize(config, gb);
    PrintSize(config, r);
    const std::string json = Json(config, r);
    std::printf("%s\n", json.c_str());
    std::fflush(stdout);
    sizes += (sizes.empty() ? "" : ",") + json;
  }
  if (!config.keep) std::filesystem::remove_all(config.dir, ec);
  if (!path.empty()) {
    std::ofstream out(path);
    out << "{\"bench\":\"savepoint_bench\",\"commit\":\"" << BuildCommit()
        << "\",\"machine\":" << MachineJson() << ",\"sizes\":[" << sizes
        << "]}\n";
    std::printf("results: %s\n", path.c_str());
  }
  return 0;
}
