// SPDX-License-Identifier: Apache-2.0
#include "backends/rocksdb/rocksdb_snapshot.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>
#include <set>
#include <system_error>
#include <thread>

#include <rocksdb/db.h>
#include <rocksdb/metadata.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/write_batch.h>

#include "backends/common/backend_options.h"
#include "backends/common/key_group_streams.h"
#include "backends/common/snapshot_files.h"
#include "backends/rocksdb/rocksdb_backend_impl.h"
#include "backends/rocksdb/rocksdb_ready_db.h"
#include "backends/rocksdb/rocksdb_rescale.h"
#include "backends/rocksdb/rocksdb_state_dir.h"
#include "backends/rocksdb/rocksdb_states.h"
#include "backends/rocksdb/rocksdb_util.h"
#include "lib/coding.h"
#include "lib/file.h"

namespace weir {

namespace fs = std::filesystem;

namespace {

using internal::FromRocks;
using internal::RocksColumnFamily;
using internal::RocksSnapshotHub;

std::atomic<bool> force_fallback{false};

// The default column family cannot be imported into; its files go into this
// column family first and its records are copied over.
constexpr char kRestoreDefaultCf[] = "weir-restore-default";
constexpr char kStagingDir[] = "restore-staging";
// A flush that has not finished after this long is reported as an error.
constexpr auto kFlushTimeout = std::chrono::minutes(10);

int64_t MicrosSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now() - start)
      .count();
}

std::string KeyGroupPrefix(int key_group) {
  std::string out;
  PutFixed16BE(&out, static_cast<uint16_t>(key_group));
  return out;
}

class RocksPendingSnapshot final : public PendingSnapshot {
 public:
  RocksPendingSnapshot(std::shared_ptr<RocksSnapshotHub> hub, uint64_t hold,
                       const rocksdb::Snapshot* snapshot,
                       std::vector<RocksColumnFamily> cfs,
                       std::vector<RocksColumnFamily> dirty,
                       uint64_t marker_value, BackendSnapshot description,
                       std::string local_dir, bool ready_db,
                       SnapshotStats stats)
      : hub_(std::move(hub)),
        hold_(hold),
        snapshot_(snapshot),
        cfs_(std::move(cfs)),
        dirty_(std::move(dirty)),
        marker_value_(marker_value),
        description_(std::move(description)),
        local_dir_(std::move(local_dir)),
        ready_db_(ready_db),
        stats_(std::move(stats)) {
    hub_->AddPending();
  }

  ~RocksPendingSnapshot() override { Release(); }

  Result<BackendSnapshot> Complete() override {
    const auto start = std::chrono::steady_clock::now();
    if (done_) return Status::InvalidArgument("snapshot already completed");
    done_ = true;
    if (!hub_->BeginUse()) {
      Release();
      return Status::Aborted(
          "the RocksDB backend was closed before snapshot of checkpoint " +
          std::to_string(stats_.checkpoint_id) + " completed");
    }
    Result<BackendSnapshot> out = Run();
    Release();
    if (out.ok() && ready_db_) {
      // The files are linked: file deletions are back on, and the task
      // writes on. The backend's close waits for this (it is in use).
      const auto ready_start = std::chrono::steady_clock::now();
      Status s = internal::BuildReadyDb(hub_->db(), cfs_, local_dir_, &*out);
      stats_.ready_db_micros = MicrosSince(ready_start);
      stats_.ready_db = s.ok();
      if (!s.ok()) stats_.ready_db_error = s.ToString();
    }
    hub_->EndUse();
    stats_.async_micros = MicrosSince(start);
    return out;
  }

  const SnapshotStats& stats() const override { return stats_; }

 private:
  void Release() {
    if (released_) return;
    released_ = true;
    hub_->ReleaseHold(hold_);
    hub_->RemovePending();
  }

  Status WaitForFlush(rocksdb::DB* db) {
    const auto start = std::chrono::steady_clock::now();
    uint64_t errors_before = 0;
    db->GetIntProperty(rocksdb::DB::Properties::kBackgroundErrors,
                       &errors_before);
    rocksdb::ReadOptions persisted;
    persisted.read_tier = rocksdb::kPersistedTier;
    persisted.fill_cache = false;
    auto pause = std::chrono::microseconds(100);
    for (const RocksColumnFamily& cf : dirty_) {
      for (;;) {
        std::string value;
        rocksdb::Status rs =
            db->Get(persisted, cf.handle,
                    internal::ToSlice(internal::kCutMarkerKey), &value);
        if (!rs.ok() && !rs.IsNotFound()) {
          return FromRocks(rs, "read cut marker of column family " + cf.name);
        }
        std::string_view v = value;
        uint64_t session = 0, found = 0;
        if (rs.ok() && GetFixed64BE(&v, &session) && GetFixed64BE(&v, &found) &&
            session == hub_->session() && found >= marker_value_) {
          break;
        }
        uint64_t errors = 0;
        db->GetIntProperty(rocksdb::DB::Properties::kBackgroundErrors, &errors);
        if (errors > errors_before) {
          return Status::IOError(
              "RocksDB reported a background error while flushing the "
              "memtables of checkpoint " +
              std::to_string(stats_.checkpoint_id));
        }
        if (std::chrono::steady_clock::now() - start > kFlushTimeout) {
          return Status::DeadlineExceeded("the memtable flush of checkpoint " +
                                          std::to_string(stats_.checkpoint_id) +
                                          " did not finish in time");
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::microseconds(5000));
      }
    }
    stats_.flush_wait_micros = MicrosSince(start);
    return Status::OK();
  }

  Status Describe(const std::string& path, SnapshotFile* f) {
    uint64_t size = 0, sum = 0;
    if (!hub_->CachedChecksum(f->name, f->size, &sum)) {
      Status s = ChecksumFile(path, UINT64_MAX, &size, &sum);
      if (!s.ok()) return s;
      if (size != f->size) {
        return Status::IOError("SST file " + path + " has " +
                               std::to_string(size) + " bytes, RocksDB says " +
                               std::to_string(f->size));
      }
      hub_->CacheChecksum(f->name, f->size, sum);
    }
    f->local_path = path;
    f->checksum = sum;
    stats_.bytes += f->size;
    ++stats_.files;
    return Status::OK();
  }

  Status LinkExact(const std::vector<const rocksdb::LiveFileMetaData*>& files) {
    for (const rocksdb::LiveFileMetaData* m : files) {
      SnapshotFile f;
      f.name = m->relative_filename;
      f.size = m->size;
      f.column_family = m->column_family_name;
      f.level = m->level;
      f.smallest_key = m->smallestkey;
      f.largest_key = m->largestkey;
      f.smallest_seqno = m->smallest_seqno;
      f.largest_seqno = m->largest_seqno;
      const std::string target = (fs::path(local_dir_) / f.name).string();
      Status s =
          LinkOrCopyFile((fs::path(m->directory) / f.name).string(), target);
      if (!s.ok()) return s;
      s = Describe(target, &f);
      if (!s.ok()) return s;
      description_.files.push_back(std::move(f));
    }
    return Status::OK();
  }

  // The column family's state at the cut, read through the RocksDB
  // snapshot, as one SST file (none if it is empty).
  Status WriteFallback(rocksdb::DB* db, const RocksColumnFamily& cf) {
    rocksdb::Options options(db->GetDBOptions(), db->GetOptions(cf.handle));
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options, cf.handle);
    SnapshotFile f;
    f.name = "cut-" + std::to_string(description_.sequence_number) + "-" +
             cf.name + ".sst";
    const std::string path = (fs::path(local_dir_) / f.name).string();
    rocksdb::Status rs = writer.Open(path);
    if (!rs.ok()) return FromRocks(rs, "create " + path);
    rocksdb::ReadOptions read;
    read.snapshot = snapshot_;
    read.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read, cf.handle));
    uint64_t entries = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      // The marker is this database's bookkeeping, not state.
      if (it->key() == internal::ToSlice(internal::kCutMarkerKey)) continue;
      rs = writer.Put(it->key(), it->value());
      if (!rs.ok()) return FromRocks(rs, "write " + path);
      ++entries;
    }
    if (!it->status().ok()) {
      return FromRocks(it->status(), "read column family " + cf.name);
    }
    if (entries == 0) {
      std::error_code ec;
      fs::remove(path, ec);
      return Status::OK();
    }
    rocksdb::ExternalSstFileInfo info;
    rs = writer.Finish(&info);
    if (!rs.ok()) return FromRocks(rs, "finish " + path);
    f.size = info.file_size;
    f.column_family = cf.name;
    f.level = options.num_levels - 1;
    f.smallest_key = info.smallest_key;
    f.largest_key = info.largest_key;
    Status s = Describe(path, &f);
    if (!s.ok()) return s;
    description_.files.push_back(std::move(f));
    return Status::OK();
  }

  Result<BackendSnapshot> Run() {
    rocksdb::DB* db = hub_->db();
    Status s = WaitForFlush(db);
    if (!s.ok()) return s;
    std::vector<rocksdb::LiveFileMetaData> live;
    db->GetLiveFilesMetaData(&live);
    const uint64_t cut = description_.sequence_number;
    std::vector<std::vector<const rocksdb::LiveFileMetaData*>> exact;
    for (const RocksColumnFamily& cf : cfs_) {
      std::vector<const rocksdb::LiveFileMetaData*> in;
      bool straddles = false;
      for (const rocksdb::LiveFileMetaData& m : live) {
        if (m.column_family_name != cf.name) continue;
        if (m.largest_seqno <= cut) {
          in.push_back(&m);
        } else if (m.smallest_seqno <= cut) {
          straddles = true;
        }
      }
      if (!straddles && !force_fallback.load()) {
        exact.push_back(std::move(in));
        stats_.exact_column_families.push_back(cf.name);
      } else {
        s = WriteFallback(db, cf);
        if (!s.ok()) return s;
        stats_.fallback_column_families.push_back(cf.name);
      }
    }
    // The files are chosen: the RocksDB snapshot has done its work, and
    // holding it longer only makes more compaction outputs keep their
    // sequence numbers (RocksDB rewrites such bottommost files once the
    // snapshot is gone). Disabled file deletions keep the chosen files.
    hub_->ReleaseRocksSnapshot(hold_);
    for (const auto& files : exact) {
      s = LinkExact(files);
      if (!s.ok()) return s;
    }
    return std::move(description_);
  }

  std::shared_ptr<RocksSnapshotHub> hub_;
  uint64_t hold_;
  const rocksdb::Snapshot* snapshot_;
  std::vector<RocksColumnFamily> cfs_;
  std::vector<RocksColumnFamily> dirty_;
  uint64_t marker_value_;
  BackendSnapshot description_;
  std::string local_dir_;
  bool ready_db_;
  SnapshotStats stats_;
  bool done_ = false;
  bool released_ = false;
};

}  // namespace

namespace internal {

Status ImportColumnFamilyFiles(rocksdb::DB* db,
                               const rocksdb::ColumnFamilyOptions& cf_options,
                               const std::string& staging,
                               const std::string& name,
                               const std::vector<const SnapshotFile*>& files,
                               rocksdb::ColumnFamilyHandle** handle) {
  const std::string dir = (fs::path(staging) / name).string();
  Status s = CreateDirs(dir);
  if (!s.ok()) return s;
  rocksdb::ExportImportFilesMetaData meta;
  meta.db_comparator_name = cf_options.comparator->Name();
  for (const SnapshotFile* f : files) {
    s = LinkOrCopyFile(f->local_path, (fs::path(dir) / f->name).string());
    if (!s.ok()) return s;
    rocksdb::LiveFileMetaData m;
    m.name = "/" + f->name;
    m.relative_filename = f->name;
    m.db_path = dir;
    m.directory = dir;
    m.size = f->size;
    m.column_family_name = f->column_family;
    m.level = f->level;
    m.smallestkey = f->smallest_key;
    m.largestkey = f->largest_key;
    m.smallest_seqno = f->smallest_seqno;
    m.largest_seqno = f->largest_seqno;
    meta.files.push_back(std::move(m));
  }
  rocksdb::ImportColumnFamilyOptions import;
  // Moves the staged links, not the snapshot's files.
  import.move_files = true;
  rocksdb::Status rs =
      db->CreateColumnFamilyWithImport(cf_options, name, import, meta, handle);
  if (!rs.ok()) return FromRocks(rs, "import column family " + name);
  return Status::OK();
}

bool FileMayHoldKeyGroups(const SnapshotFile& f, KeyGroupRange range) {
  if (f.smallest_key.size() < 2 || f.largest_key.size() < 2) return true;
  std::string_view lo = f.smallest_key;
  std::string_view hi = f.largest_key;
  uint16_t first = 0;
  uint16_t last = 0;
  GetFixed16BE(&lo, &first);
  GetFixed16BE(&hi, &last);
  return !(last < range.start || first > range.end);
}

Status ClipColumnFamily(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                        KeyGroupRange range, int max_parallelism) {
  rocksdb::WriteOptions write;
  write.disableWAL = true;
  if (range.start > 0) {
    rocksdb::Status rs = db->DeleteRange(write, cf, ToSlice(KeyGroupPrefix(0)),
                                         ToSlice(KeyGroupPrefix(range.start)));
    if (!rs.ok()) return FromRocks(rs, "clip key groups");
  }
  if (range.end + 1 < max_parallelism) {
    rocksdb::Status rs =
        db->DeleteRange(write, cf, ToSlice(KeyGroupPrefix(range.end + 1)),
                        ToSlice(KeyGroupPrefix(max_parallelism)));
    if (!rs.ok()) return FromRocks(rs, "clip key groups");
  }
  return Status::OK();
}

namespace {

uint64_t NewSessionId() {
  std::random_device random;
  uint64_t id =
      (uint64_t{random()} << 32) ^ random() ^
      static_cast<uint64_t>(
          std::chrono::steady_clock::now().time_since_epoch().count());
  return id == 0 ? 1 : id;
}

}  // namespace

RocksSnapshotHub::RocksSnapshotHub(rocksdb::DB* db)
    : db_(db), session_(NewSessionId()) {}

uint64_t RocksSnapshotHub::AddHold(const rocksdb::Snapshot* snapshot) {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t id = next_id_++;
  holds_.emplace(id, snapshot);
  return id;
}

void RocksSnapshotHub::ReleaseLocked(const rocksdb::Snapshot* snapshot) {
  if (db_ == nullptr) return;
  if (snapshot != nullptr) db_->ReleaseSnapshot(snapshot);
  db_->EnableFileDeletions(/*force=*/false).PermitUncheckedError();
}

void RocksSnapshotHub::ReleaseHold(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = holds_.find(id);
  if (it == holds_.end()) return;
  ReleaseLocked(it->second);
  holds_.erase(it);
}

void RocksSnapshotHub::ReleaseRocksSnapshot(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = holds_.find(id);
  if (it == holds_.end() || it->second == nullptr || db_ == nullptr) return;
  db_->ReleaseSnapshot(it->second);
  it->second = nullptr;
}

bool RocksSnapshotHub::BeginUse() {
  std::lock_guard<std::mutex> lock(mu_);
  if (db_ == nullptr || closing_) return false;
  ++users_;
  return true;
}

void RocksSnapshotHub::EndUse() {
  std::lock_guard<std::mutex> lock(mu_);
  --users_;
  cv_.notify_all();
}

void RocksSnapshotHub::Shutdown() {
  std::unique_lock<std::mutex> lock(mu_);
  closing_ = true;
  cv_.wait(lock, [&] { return users_ == 0; });
  for (const auto& [_, snapshot] : holds_) ReleaseLocked(snapshot);
  holds_.clear();
  db_ = nullptr;
}

bool RocksSnapshotHub::CachedChecksum(const std::string& name, uint64_t size,
                                      uint64_t* checksum) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = checksums_.find(name);
  if (it == checksums_.end() || it->second.first != size) return false;
  *checksum = it->second.second;
  return true;
}

void RocksSnapshotHub::CacheChecksum(const std::string& name, uint64_t size,
                                     uint64_t checksum) {
  std::lock_guard<std::mutex> lock(mu_);
  checksums_[name] = {size, checksum};
}

void ForceRocksDBSnapshotFallbackForTesting(bool force) {
  force_fallback.store(force);
}

Result<std::unique_ptr<PendingSnapshot>> TakeRocksDBSnapshot(
    std::shared_ptr<RocksSnapshotHub> hub, std::vector<RocksColumnFamily> cfs,
    int max_parallelism, KeyGroupRange range, int64_t checkpoint_id,
    const std::string& local_dir, bool ready_db) {
  const auto start = std::chrono::steady_clock::now();
  Status s = CreateDirs(local_dir);
  if (!s.ok()) return s;
  rocksdb::DB* db = hub->db();
  std::vector<RocksColumnFamily> dirty;
  for (const RocksColumnFamily& cf : cfs) {
    uint64_t active = 0, immutable = 0;
    db->GetIntProperty(
        cf.handle, rocksdb::DB::Properties::kNumEntriesActiveMemTable, &active);
    db->GetIntProperty(
        cf.handle, rocksdb::DB::Properties::kNumImmutableMemTable, &immutable);
    if (active > 0 || immutable > 0) dirty.push_back(cf);
  }
  // The marker carries this session's id and a value that only grows
  // within it, so no marker of an older snapshot passes for this one: not
  // one of this session, nor one that restored files brought in (see the
  // header).
  const uint64_t marker_value = db->GetLatestSequenceNumber();
  std::string marker;
  PutFixed64BE(&marker, hub->session());
  PutFixed64BE(&marker, marker_value);
  rocksdb::WriteOptions write;
  write.disableWAL = true;
  for (const RocksColumnFamily& cf : dirty) {
    rocksdb::Status rs =
        db->Put(write, cf.handle, ToSlice(kCutMarkerKey), ToSlice(marker));
    if (!rs.ok()) return FromRocks(rs, "write cut marker");
  }
  const rocksdb::Snapshot* snapshot = db->GetSnapshot();
  rocksdb::Status rs = db->DisableFileDeletions();
  if (!rs.ok()) {
    db->ReleaseSnapshot(snapshot);
    return FromRocks(rs, "disable file deletions");
  }
  const uint64_t hold = hub->AddHold(snapshot);
  if (!dirty.empty()) {
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    for (const RocksColumnFamily& cf : dirty) handles.push_back(cf.handle);
    rocksdb::FlushOptions flush;
    flush.wait = false;
    flush.allow_write_stall = true;
    // With writes stopped (too many unflushed memtables) RocksDB refuses a
    // non-waiting flush; the task's next write would wait for the stall to
    // clear anyway, so the sync phase does.
    const auto stalled_since = std::chrono::steady_clock::now();
    for (;;) {
      rs = db->Flush(flush, handles);
      if (!rs.IsTryAgain() ||
          std::chrono::steady_clock::now() - stalled_since > kFlushTimeout) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!rs.ok()) {
      hub->ReleaseHold(hold);
      return FromRocks(rs, "switch memtables");
    }
  }
  BackendSnapshot description;
  description.format = SnapshotFormat::kRocksDBSst;
  description.max_parallelism = max_parallelism;
  description.key_group_range = range;
  description.sequence_number = snapshot->GetSequenceNumber();
  SnapshotStats stats;
  stats.checkpoint_id = checkpoint_id;
  stats.sync_micros = MicrosSince(start);
  return std::unique_ptr<PendingSnapshot>(
      std::make_unique<RocksPendingSnapshot>(
          std::move(hub), hold, snapshot, std::move(cfs), std::move(dirty),
          marker_value, std::move(description), local_dir, ready_db,
          std::move(stats)));
}

}  // namespace internal

namespace {

// The SST bytes a backend of `target` restored from `snapshots` will hold
// (what its kAuto read mode is chosen for): each snapshot's files, in
// proportion to the share of its key groups that fall in `target`. A
// ready-made DB's MANIFEST is not counted; key-group streams are.
uint64_t ExpectedStateBytes(const std::vector<BackendSnapshot>& snapshots,
                            KeyGroupRange target) {
  uint64_t total = 0;
  for (const BackendSnapshot& snap : snapshots) {
    uint64_t bytes = 0;
    for (const SnapshotFile& f : snap.files) {
      if (snap.format == SnapshotFormat::kKeyGroupStreams ||
          f.name.ends_with(".sst")) {
        bytes += f.size;
      }
    }
    const KeyGroupRange own = snap.key_group_range;
    const int shared =
        std::min(own.end, target.end) - std::max(own.start, target.start) + 1;
    if (own.size() == 0 || shared <= 0) continue;
    total += bytes / static_cast<uint64_t>(own.size()) *
                 static_cast<uint64_t>(shared) +
             bytes % static_cast<uint64_t>(own.size()) *
                 static_cast<uint64_t>(shared) /
                 static_cast<uint64_t>(own.size());
  }
  return total;
}

// The snapshot's ready-made DB laid out in `db_path` and opened.
Result<std::unique_ptr<internal::RocksDBBackend>> RestoreReadyDb(
    const StateBackendOptions& options, const RocksDBOptions& rocksdb_options,
    const std::string& dir, const std::string& db_path,
    const BackendSnapshot& snap, uint64_t expected_bytes) {
  Status s = internal::PrepareStateDir(dir, options.max_parallelism,
                                       /*durable=*/false);
  if (!s.ok()) return s;
  s = internal::PlaceReadyDb(snap, db_path);
  if (!s.ok()) return s;
  Result<std::unique_ptr<internal::RocksDBBackend>> backend =
      internal::OpenRocksDBBackendSized(options, rocksdb_options, dir,
                                        expected_bytes);
  if (!backend.ok()) return backend;
  s = (*backend)->RemoveRestoredCutMarkers();
  if (!s.ok()) return s;
  return backend;
}

}  // namespace

namespace internal {

Result<std::unique_ptr<RocksDBBackend>> RestoreRocksDBBackendImpl(
    const StateBackendOptions& options, const RocksDBOptions& rocksdb_options,
    const std::string& dir, const std::vector<BackendSnapshot>& snapshots,
    RocksDBRestoreReport* report) {
  Result<StateBackendOptions> resolved =
      internal::ResolveBackendOptions(options);
  if (!resolved.ok()) return resolved.status();
  const std::string db_path = (fs::path(dir) / internal::kStateDirDb).string();
  std::error_code ec;
  if (fs::exists(fs::path(db_path) / "CURRENT", ec)) {
    return Status::InvalidArgument("cannot restore into " + dir +
                                   ": it already holds state");
  }
  for (const BackendSnapshot& snap : snapshots) {
    if (snap.format != snapshots.front().format) {
      return Status::InvalidArgument("snapshots of mixed formats");
    }
    if (snap.max_parallelism != resolved->max_parallelism) {
      return Status::InvalidArgument(
          "snapshot has max parallelism " +
          std::to_string(snap.max_parallelism) + ", not " +
          std::to_string(resolved->max_parallelism) +
          "; max parallelism is fixed for the life of the state");
    }
  }
  const uint64_t expected_bytes =
      ExpectedStateBytes(snapshots, resolved->key_group_range);
  if (snapshots.empty() ||
      snapshots.front().format == SnapshotFormat::kKeyGroupStreams) {
    Result<std::unique_ptr<internal::RocksDBBackend>> backend =
        internal::OpenRocksDBBackendSized(*resolved, rocksdb_options, dir,
                                          expected_bytes);
    if (!backend.ok() || snapshots.empty()) return backend;
    Status s = ImportKeyGroupStreams(**backend, snapshots);
    if (!s.ok()) return s;
    return backend;
  }
  for (const BackendSnapshot& each : snapshots) {
    for (const SnapshotFile& f : each.files) {
      Status s = internal::VerifySnapshotFile(f);
      if (!s.ok()) return s;
    }
  }
  if (snapshots.size() > 1) {
    // Rescaling: the key groups of several old tasks.
    Result<std::unique_ptr<internal::RocksDBBackend>> merged =
        internal::RestoreRescaledRocksDBBackend(*resolved, rocksdb_options, dir,
                                                snapshots, expected_bytes);
    if (!merged.ok()) fs::remove_all(db_path, ec);
    return merged;
  }
  const BackendSnapshot& snap = snapshots.front();
  if (snap.key_group_range.start == resolved->key_group_range.start &&
      snap.key_group_range.end == resolved->key_group_range.end &&
      internal::HasWholeReadyDb(snap)) {
    Result<std::unique_ptr<internal::RocksDBBackend>> ready = RestoreReadyDb(
        *resolved, rocksdb_options, dir, db_path, snap, expected_bytes);
    if (ready.ok()) {
      if (report != nullptr) report->ready_db = true;
      return ready;
    }
    // Import instead: the ready-made DB is an optimization.
    if (report != nullptr) report->ready_db_error = ready.status().ToString();
    fs::remove_all(db_path, ec);
  }
  // The backend opens an empty DB once and imports into it: no second DB,
  // no close and reopen, no flush.
  Result<std::unique_ptr<internal::RocksDBBackend>> backend =
      internal::OpenRocksDBBackendSized(*resolved, rocksdb_options, dir,
                                        expected_bytes);
  if (!backend.ok()) return backend;
  const std::string staging = (fs::path(dir) / kStagingDir).string();
  Status s = (*backend)->ImportSnapshot(snap, staging, nullptr);
  fs::remove_all(staging, ec);
  if (!s.ok()) {
    backend->reset();
    fs::remove_all(db_path, ec);
    return s;
  }
  return backend;
}

}  // namespace internal

Result<std::unique_ptr<KeyedStateBackend>> RestoreRocksDBBackend(
    const StateBackendOptions& options, const RocksDBOptions& rocksdb_options,
    const std::string& dir, const std::vector<BackendSnapshot>& snapshots,
    RocksDBRestoreReport* report) {
  Result<std::unique_ptr<internal::RocksDBBackend>> backend =
      internal::RestoreRocksDBBackendImpl(options, rocksdb_options, dir,
                                          snapshots, report);
  if (!backend.ok()) return backend.status();
  return std::unique_ptr<KeyedStateBackend>(std::move(*backend));
}

namespace internal {

// RocksDBBackend's synchronous phase (the class is in
// rocksdb_backend_impl.h).
Result<std::unique_ptr<PendingSnapshot>> RocksDBBackend::Snapshot(
    int64_t checkpoint_id, const std::string& local_dir) {
  if (!db_) return Status::InvalidArgument("the backend is closed");
  std::vector<internal::RocksColumnFamily> cfs{
      {rocksdb::kDefaultColumnFamilyName, default_cf_}};
  for (auto& [op, rop] : ops_) {
    if (rop.cf != nullptr) cfs.push_back({op.ToHex(), rop.cf});
  }
  return internal::TakeRocksDBSnapshot(
      hub_, std::move(cfs), options_.max_parallelism, options_.key_group_range,
      checkpoint_id, local_dir, ready_db_snapshots_);
}

}  // namespace internal

}  // namespace weir
