// SPDX-License-Identifier: Apache-2.0
#include "backends/rocksdb/rocksdb_ready_db.h"

#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <system_error>

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include "backends/common/snapshot_files.h"
#include "backends/rocksdb/rocksdb_util.h"
#include "lib/file.h"

namespace weir::internal {

namespace fs = std::filesystem;

namespace {

constexpr char kScratchDir[] = "ready-db";
constexpr char kStagingDir[] = "ready-staging";
constexpr char kDefaultCopyCf[] = "weir-ready-default";
constexpr char kReadyPrefix[] = "ready-";
constexpr char kManifestPrefix[] = "MANIFEST-";

uint64_t InodeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_ino);
}

// The scratch DB's options: the live DB's table format (so that files open
// as they will in the restored DB), no block cache (nothing read here is
// read again), no compactions (they would rewrite the imported files).
rocksdb::Options ScratchOptions(rocksdb::DB* live) {
  const rocksdb::DBOptions live_db = live->GetDBOptions();
  const rocksdb::ColumnFamilyOptions live_cf =
      live->GetOptions(live->DefaultColumnFamily());
  rocksdb::Options o;
  o.env = live_db.env;
  o.allow_mmap_reads = live_db.allow_mmap_reads;
  o.create_if_missing = true;
  o.error_if_exists = true;
  o.num_levels = live_cf.num_levels;
  o.comparator = live_cf.comparator;
  o.merge_operator = live_cf.merge_operator;
  o.disable_auto_compactions = true;
  o.max_background_jobs = 1;
  const auto* table =
      live_cf.table_factory->GetOptions<rocksdb::BlockBasedTableOptions>();
  if (table != nullptr) {
    rocksdb::BlockBasedTableOptions t = *table;
    t.block_cache = nullptr;
    t.no_block_cache = true;
    o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  }
  return o;
}

// Closes a DB and its handles.
class ScratchDb {
 public:
  ~ScratchDb() { Close().PermitUncheckedError(); }

  rocksdb::Status Close() {
    if (db == nullptr) return rocksdb::Status::OK();
    for (rocksdb::ColumnFamilyHandle* h : handles) {
      db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    }
    handles.clear();
    rocksdb::Status s = db->Close();
    delete db;
    db = nullptr;
    return s;
  }

  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
};

// The scratch DB: every column family at the cut, the default one's
// records copied in and flushed. Then closed.
Status FillScratchDb(rocksdb::DB* live,
                     const std::vector<RocksColumnFamily>& cfs,
                     const std::string& scratch, const std::string& staging,
                     const BackendSnapshot& snapshot) {
  const rocksdb::Options options = ScratchOptions(live);
  const rocksdb::ColumnFamilyOptions cf_options(options);
  ScratchDb s;
  Status st = FromRocks(rocksdb::DB::Open(options, scratch, &s.db),
                        "create scratch DB " + scratch);
  if (!st.ok()) return st;
  std::map<std::string, std::vector<const SnapshotFile*>> by_cf;
  for (const SnapshotFile& f : snapshot.files) {
    by_cf[f.column_family].push_back(&f);
  }
  std::set<std::string> names;
  for (const RocksColumnFamily& cf : cfs) names.insert(cf.name);
  for (const auto& [name, _] : by_cf) names.insert(name);
  for (const std::string& name : names) {
    if (name == rocksdb::kDefaultColumnFamilyName) continue;
    rocksdb::ColumnFamilyHandle* h = nullptr;
    auto it = by_cf.find(name);
    if (it == by_cf.end()) {
      st = FromRocks(s.db->CreateColumnFamily(cf_options, name, &h),
                     "create column family " + name);
    } else {
      st = ImportColumnFamilyFiles(s.db, cf_options, staging, name, it->second,
                                   &h);
    }
    if (!st.ok()) return st;
    s.handles.push_back(h);
  }
  auto defaults = by_cf.find(rocksdb::kDefaultColumnFamilyName);
  if (defaults != by_cf.end()) {
    rocksdb::ColumnFamilyHandle* copy = nullptr;
    st = ImportColumnFamilyFiles(s.db, cf_options, staging, kDefaultCopyCf,
                                 defaults->second, &copy);
    if (!st.ok()) return st;
    rocksdb::WriteBatch batch;
    {
      std::unique_ptr<rocksdb::Iterator> it(
          s.db->NewIterator(rocksdb::ReadOptions(), copy));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        batch.Put(it->key(), it->value()).PermitUncheckedError();
      }
      st = FromRocks(it->status(), "read the default column family");
    }
    rocksdb::WriteOptions write;
    write.disableWAL = true;
    if (st.ok()) {
      st = FromRocks(s.db->Write(write, &batch),
                     "copy the default column family");
    }
    rocksdb::Status dropped = s.db->DropColumnFamily(copy);
    s.db->DestroyColumnFamilyHandle(copy).PermitUncheckedError();
    if (st.ok()) st = FromRocks(dropped, "drop the copied column family");
    if (!st.ok()) return st;
    st = FromRocks(s.db->Flush(rocksdb::FlushOptions()),
                   "flush the default column family");
    if (!st.ok()) return st;
  }
  return FromRocks(s.Close(), "close scratch DB " + scratch);
}

// Moves a file of the scratch DB into the snapshot as a file of its own.
Status AddReadyFile(const std::string& from, const std::string& local_dir,
                    const std::string& db_name, BackendSnapshot* snapshot) {
  SnapshotFile f;
  f.name = kReadyPrefix + db_name;
  f.local_path = (fs::path(local_dir) / f.name).string();
  f.db_name = db_name;
  std::error_code ec;
  fs::rename(from, f.local_path, ec);
  if (ec) {
    return Status::IOError("cannot move " + from + " to " + f.local_path +
                           ": " + ec.message());
  }
  Status s = ChecksumFile(f.local_path, UINT64_MAX, &f.size, &f.checksum);
  if (!s.ok()) return s;
  snapshot->files.push_back(std::move(f));
  return Status::OK();
}

Status Build(rocksdb::DB* live, const std::vector<RocksColumnFamily>& cfs,
             const std::string& local_dir, const std::string& scratch,
             const std::string& staging, BackendSnapshot* snapshot) {
  Status s = FillScratchDb(live, cfs, scratch, staging, *snapshot);
  if (!s.ok()) return s;
  Result<std::string> current =
      ReadFileToString((fs::path(scratch) / "CURRENT").string());
  if (!current.ok()) return current.status();
  std::string manifest = *current;
  while (!manifest.empty() && manifest.back() == '\n') manifest.pop_back();
  if (manifest.rfind(kManifestPrefix, 0) != 0 ||
      manifest.find('/') != std::string::npos) {
    return Status::Corruption("scratch DB " + scratch +
                              " has CURRENT naming '" + manifest + "'");
  }
  std::map<uint64_t, SnapshotFile*> by_inode;
  for (SnapshotFile& f : snapshot->files) {
    const uint64_t inode = InodeOf(f.local_path);
    if (inode != 0) by_inode[inode] = &f;
  }
  std::vector<std::pair<std::string, std::string>> own;  // path, db name
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(scratch, ec)) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() != ".sst") continue;
    auto it = by_inode.find(InodeOf(e.path().string()));
    if (it != by_inode.end()) {
      // The default column family's files went into a column family that
      // was dropped; a link RocksDB has not deleted yet is not in the DB.
      if (it->second->column_family != rocksdb::kDefaultColumnFamilyName) {
        it->second->db_name = name;
      }
    } else {
      own.emplace_back(e.path().string(), name);
    }
  }
  if (ec) {
    return Status::IOError("cannot list " + scratch + ": " + ec.message());
  }
  for (const SnapshotFile& f : snapshot->files) {
    if (!f.column_family.empty() &&
        f.column_family != rocksdb::kDefaultColumnFamilyName &&
        f.db_name.empty()) {
      return Status::IOError("file " + f.name +
                             " is not a hard link in the scratch DB " +
                             scratch);
    }
  }
  for (const auto& [path, name] : own) {
    s = AddReadyFile(path, local_dir, name, snapshot);
    if (!s.ok()) return s;
  }
  s = AddReadyFile((fs::path(scratch) / manifest).string(), local_dir, manifest,
                   snapshot);
  if (!s.ok()) return s;
  uint32_t n = 0;
  for (const SnapshotFile& f : snapshot->files) n += f.db_name.empty() ? 0 : 1;
  snapshot->ready_db_files = n;
  return Status::OK();
}

}  // namespace

Status BuildReadyDb(rocksdb::DB* live,
                    const std::vector<RocksColumnFamily>& cfs,
                    const std::string& local_dir, BackendSnapshot* snapshot) {
  const std::string scratch = (fs::path(local_dir) / kScratchDir).string();
  const std::string staging = (fs::path(local_dir) / kStagingDir).string();
  std::error_code ec;
  fs::remove_all(scratch, ec);
  fs::remove_all(staging, ec);
  const size_t files_before = snapshot->files.size();
  Status s = Build(live, cfs, local_dir, scratch, staging, snapshot);
  fs::remove_all(scratch, ec);
  fs::remove_all(staging, ec);
  if (!s.ok()) {
    for (size_t i = files_before; i < snapshot->files.size(); ++i) {
      fs::remove(snapshot->files[i].local_path, ec);
    }
    snapshot->files.resize(files_before);
    for (SnapshotFile& f : snapshot->files) f.db_name.clear();
    snapshot->ready_db_files = 0;
  }
  return s;
}

bool HasWholeReadyDb(const BackendSnapshot& snapshot) {
  if (snapshot.format != SnapshotFormat::kRocksDBSst ||
      snapshot.ready_db_files == 0) {
    return false;
  }
  uint32_t n = 0;
  bool manifest = false;
  for (const SnapshotFile& f : snapshot.files) {
    if (f.db_name.empty()) continue;
    ++n;
    manifest |= f.db_name.rfind(kManifestPrefix, 0) == 0;
  }
  return manifest && n == snapshot.ready_db_files;
}

Status PlaceReadyDb(const BackendSnapshot& snapshot,
                    const std::string& db_path) {
  Status s = CreateDirs(db_path);
  if (!s.ok()) return s;
  std::string manifest;
  for (const SnapshotFile& f : snapshot.files) {
    if (f.db_name.empty()) continue;
    if (f.db_name.find('/') != std::string::npos || f.db_name == "CURRENT") {
      return Status::Corruption("snapshot file " + f.name +
                                " has the invalid DB name '" + f.db_name + "'");
    }
    const std::string target = (fs::path(db_path) / f.db_name).string();
    if (f.db_name.rfind(kManifestPrefix, 0) == 0) {
      // A copy: the restored DB owns its MANIFEST.
      manifest = f.db_name;
      std::error_code ec;
      fs::copy_file(f.local_path, target, ec);
      if (ec) {
        return Status::IOError("cannot copy " + f.local_path + " to " + target +
                               ": " + ec.message());
      }
      continue;
    }
    s = LinkOrCopyFile(f.local_path, target);
    if (!s.ok()) return s;
  }
  // Not fsync'd: DB::Open writes a new MANIFEST and CURRENT, durably,
  // before it returns, and a restore interrupted before that is redone
  // from the snapshot.
  return WriteFileUnsynced((fs::path(db_path) / "CURRENT").string(),
                           manifest + "\n");
}

}  // namespace weir::internal
