// SPDX-License-Identifier: Apache-2.0
//
// Moving a key-group range of one RocksDB column family into another DB's
// column family in bulk: the entries are read in key order, written into
// new SST files (rocksdb::SstFileWriter, with the target's table options)
// and ingested (IngestExternalFile, moving the files). Rescaling uses it to
// merge the snapshots of several old tasks into one task: it writes each
// entry once, sequentially, instead of one Put per entry through memtables,
// flushes and compactions.
//
// RocksDB 7.8 cannot ingest or import the snapshot's own files next to
// another snapshot's (ingestion wants SstFileWriter files; an import takes
// a new column family only), so the entries are rewritten once.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <weir/key_group.h>
#include <weir/status.h>

#include "backends/backend.h"

namespace weir::internal {

struct IngestStats {
  uint64_t entries = 0;
  uint64_t bytes = 0;  // user keys + values
  int files = 0;
};

// One per core, at most 4.
int DefaultIngestThreads();

// Copies the live entries of key groups `range` of `from_cf` (as an
// iterator sees them: merges applied, deletions gone) into SST files under
// `staging` built with `options`, and ingests them into `to_cf` in one
// IngestExternalFile. Entries already in `to_cf` with the same keys are
// shadowed. `threads` threads write equal slices of the key groups at once
// (the scan and the table building are CPU-bound). `check` is called with
// each key first, from any of those threads; a non-OK status stops the copy
// and is returned. SST files roll over after `file_bytes` of keys and values.
// Nothing is ingested unless every file was written; `staging` is left for the
// caller to remove.
Status IngestKeyGroupRange(rocksdb::DB* from,
                           rocksdb::ColumnFamilyHandle* from_cf,
                           rocksdb::DB* to, rocksdb::ColumnFamilyHandle* to_cf,
                           const rocksdb::Options& options, KeyGroupRange range,
                           const std::string& staging,
                           const std::function<Status(std::string_view)>& check,
                           IngestStats* stats,
                           int threads = DefaultIngestThreads(),
                           uint64_t file_bytes = uint64_t{256} << 20);

}  // namespace weir::internal
