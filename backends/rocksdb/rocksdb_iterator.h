// SPDX-License-Identifier: Apache-2.0
//
// PrefixIterator: a RocksDB iterator over the keys that start with a
// prefix, bounded above so that RocksDB stops at the end of the range
// instead of scanning on.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>

#include "backends/rocksdb/rocksdb_util.h"

namespace weir::internal {

class PrefixIterator {
 public:
  PrefixIterator(rocksdb::DB* db, const rocksdb::ReadOptions& base,
                 rocksdb::ColumnFamilyHandle* cf, std::string_view prefix)
      : prefix_(prefix),
        upper_(PrefixUpperBound(prefix)),
        upper_slice_(upper_) {
    rocksdb::ReadOptions options = base;
    options.iterate_upper_bound = &upper_slice_;
    it_.reset(db->NewIterator(options, cf));
    it_->Seek(prefix_);
  }

  bool Valid() const { return it_->Valid(); }
  void Next() { it_->Next(); }
  rocksdb::Slice key() const { return it_->key(); }
  rocksdb::Slice value() const { return it_->value(); }
  // The key after the prefix.
  std::string_view tail() const {
    return ToView(it_->key()).substr(prefix_.size());
  }
  Status status(std::string_view context) const {
    return FromRocks(it_->status(), context);
  }

 private:
  std::string prefix_;
  std::string upper_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

}  // namespace weir::internal
