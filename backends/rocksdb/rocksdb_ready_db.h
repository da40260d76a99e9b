// SPDX-License-Identifier: Apache-2.0
//
// The ready-made DB of a RocksDB snapshot: restore as link + DB::Open.
//
// Importing a snapshot (CreateColumnFamilyWithImport per operator) opens
// every SST file one after the other, twice, and writes a MANIFEST record per
// column family; DB::Open of the same files opens them on
// max_file_opening_threads threads. So the asynchronous phase of a snapshot
// does the import once, into a scratch DB next to the snapshot's files, and
// keeps that DB's MANIFEST with the snapshot:
//
//   1. open an empty scratch DB (no block cache, no compactions) and import
//      each operator's files as its column family (hard links of the
//      snapshot's files, so nothing is copied); create the column families
//      that have no files; copy the default column family's records in and
//      flush them;
//   2. close it; each SST file of the scratch DB is a hard link of one of
//      the snapshot's files (matched by inode), whose db_name becomes the
//      scratch DB's name for it ("000012.sst");
//   3. the MANIFEST and the flushed default column family join the
//      snapshot as files of their own ("ready-MANIFEST-000005",
//      "ready-000014.sst"), with an empty column_family (import skips
//      them).
//
// A restore at the same key-group range, with every file of the ready-made
// DB present (none left out by -n), hard-links each file to its db_name,
// copies the MANIFEST, writes CURRENT and opens the DB: the same work as
// DB::Open of a RocksDB checkpoint. Otherwise it imports, as before.
//
// The MANIFEST holds no options: the restored DB is opened with the
// backend's own. It records the files, their levels, key ranges and
// sequence numbers, which are those of the snapshot's files.
#pragma once

#include <string>
#include <vector>

#include <weir/status.h>

#include "backends/rocksdb/rocksdb_snapshot.h"
#include "backends/snapshot.h"

namespace rocksdb {
class DB;
}

namespace weir::internal {

// Builds the ready-made DB of `snapshot`, whose files are in `local_dir`,
// with the live DB's table format and merge operator; `cfs` are the column
// families at the cut. On success sets the files' db_name, appends the new
// files and sets ready_db_files. On failure leaves `snapshot` as it was
// (the snapshot stays restorable by import) and removes what it wrote.
Status BuildReadyDb(rocksdb::DB* live,
                    const std::vector<RocksColumnFamily>& cfs,
                    const std::string& local_dir, BackendSnapshot* snapshot);

// Whether every file of the snapshot's ready-made DB is in `snapshot`.
bool HasWholeReadyDb(const BackendSnapshot& snapshot);

// Lays the ready-made DB out in `db_path` (created; must hold no DB):
// hard links (or copies across file systems) of the SST files, a copy of
// the MANIFEST, and CURRENT. REQUIRES: HasWholeReadyDb(snapshot).
Status PlaceReadyDb(const BackendSnapshot& snapshot,
                    const std::string& db_path);

}  // namespace weir::internal
