// SPDX-License-Identifier: Apache-2.0
//
// RocksDBBackend: restoring a snapshot into an open, empty backend by
// import (rocksdb_snapshot.h says when this path is taken).
#include <map>
#include <string>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include "backends/rocksdb/rocksdb_backend_impl.h"
#include "backends/rocksdb/rocksdb_iterator.h"
#include "backends/rocksdb/rocksdb_util.h"
#include "lib/coding.h"

namespace weir::internal {

Status RocksDBBackend::ImportSnapshot(const BackendSnapshot& snap,
                                      const std::string& staging,
                                      const KeyGroupRange* keep) {
  if (!db_) return Status::InvalidArgument("the backend is closed");
  if (!ops_.empty()) {
    return Status::InvalidArgument("cannot restore into " + dir_ +
                                   ": it already holds state");
  }
  std::map<std::string, std::vector<const SnapshotFile*>> by_cf;
  for (const SnapshotFile& f : snap.files) {
    // Files only the ready-made DB needs (its MANIFEST, its default
    // column family) have no column family.
    if (f.column_family.empty()) continue;
    by_cf[f.column_family].push_back(&f);
  }
  // Clipped whenever only some key groups are kept, whatever the
  // snapshot's range: its files may hold entries of other key groups
  // (a backend restored from a wider snapshot), hidden by range deletions
  // that an import truncates to the file's point keys.
  const KeyGroupRange kept = keep != nullptr ? *keep : options_.key_group_range;
  const bool clip = kept.start > 0 || kept.end < options_.max_parallelism - 1;
  for (const auto& [cf, files] : by_cf) {
    if (cf == rocksdb::kDefaultColumnFamilyName) {
      Status s = CopyDefaultColumnFamily(files, staging);
      if (!s.ok()) return s;
      continue;
    }
    Result<OperatorId> op = OperatorId::FromHex(cf);
    if (!op.ok()) {
      return Status::Corruption("the snapshot has column family '" + cf +
                                "', which is not an operator id");
    }
    std::vector<const SnapshotFile*> wanted = files;
    if (clip) {
      std::erase_if(wanted, [&](const SnapshotFile* f) {
        return !internal::FileMayHoldKeyGroups(*f, kept);
      });
      // Nothing of the kept key groups: the column family is created
      // below if the operator has registered states.
      if (wanted.empty()) continue;
    }
    RocksOperator& rop = ops_[*op];
    Status s = internal::ImportColumnFamilyFiles(
        db_.get(), OperatorCfOptions(rop), staging, cf, wanted, &rop.cf);
    if (!s.ok()) {
      ops_.Erase(*op);
      return s;
    }
    if (clip) {
      s = internal::ClipColumnFamily(db_.get(), rop.cf, kept,
                                     options_.max_parallelism);
      if (!s.ok()) return s;
    }
  }
  Status s = RemoveCutMarkers();
  if (!s.ok()) return s;
  // Operators with registered states but no files still need their
  // column family.
  std::vector<OperatorId> described;
  {
    PrefixIterator it(db_.get(), ctx_.read_options, default_cf_,
                      std::string(1, kDescriptorTag));
    for (; it.Valid(); it.Next()) {
      std::string_view tail = it.tail();
      if (tail.size() < OperatorId::kSize) {
        return Status::Corruption("malformed record in " + dir_);
      }
      described.push_back(
          OperatorId::FromBytes(tail.substr(0, OperatorId::kSize)));
    }
    s = it.status("read records of " + dir_);
    if (!s.ok()) return s;
  }
  for (const OperatorId& op : described) {
    Result<RocksOperator*> rop = EnsureOperator(op);
    if (!rop.ok()) return rop.status();
  }
  return LoadRecords();
}

Status RocksDBBackend::CopyDefaultColumnFamily(
    const std::vector<const SnapshotFile*>& files, const std::string& staging) {
  static constexpr char kScratch[] = "weir-restore-default";
  rocksdb::ColumnFamilyOptions cf(db_options_);
  cf.merge_operator = merge_operator_;
  rocksdb::ColumnFamilyHandle* scratch = nullptr;
  Status s = internal::ImportColumnFamilyFiles(db_.get(), cf, staging, kScratch,
                                               files, &scratch);
  if (!s.ok()) return s;
  rocksdb::WriteBatch batch;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), scratch));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      batch.Put(default_cf_, it->key(), it->value()).PermitUncheckedError();
    }
    s = FromRocks(it->status(), "read the default column family");
  }
  if (s.ok()) {
    s = FromRocks(db_->Write(ctx_.write_options, &batch),
                  "restore the default column family");
  }
  rocksdb::Status dropped = db_->DropColumnFamily(scratch);
  db_->DestroyColumnFamilyHandle(scratch).PermitUncheckedError();
  if (s.ok()) s = FromRocks(dropped, "drop " + std::string(kScratch));
  return s;
}

Status RocksDBBackend::RemoveCutMarkers() {
  if (!db_) return Status::InvalidArgument("the backend is closed");
  rocksdb::WriteBatch unmark;
  const rocksdb::Slice marker = internal::ToSlice(internal::kCutMarkerKey);
  unmark.Delete(default_cf_, marker).PermitUncheckedError();
  for (auto& [_, rop] : ops_) {
    if (rop.cf != nullptr) unmark.Delete(rop.cf, marker).PermitUncheckedError();
  }
  return FromRocks(db_->Write(ctx_.write_options, &unmark),
                   "remove the snapshot's cut markers");
}

Status RocksDBBackend::ClipToOwnRange() {
  if (!db_) return Status::InvalidArgument("the backend is closed");
  const KeyGroupRange r = options_.key_group_range;
  if (r.start == 0 && r.end == options_.max_parallelism - 1) {
    return Status::OK();
  }
  for (auto& [_, rop] : ops_) {
    if (rop.cf == nullptr) continue;
    Status s = internal::ClipColumnFamily(db_.get(), rop.cf, r,
                                          options_.max_parallelism);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

}  // namespace weir::internal
