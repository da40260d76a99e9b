// SPDX-License-Identifier: Apache-2.0
//
// Canonical savepoints (SavepointFormatType::kCanonical): a task's native
// snapshot turned into backend-neutral key-group streams
// (SnapshotFormat::kKeyGroupStreams, backends/common/key_group_streams.h) in
// the asynchronous phase, so that the task thread pauses no longer than for
// a native savepoint.
//
// A RocksDB snapshot is restored into a scratch RocksDB backend (hard links
// plus DB::Open when it carries a ready-made DB), which then writes the
// streams (TakeKeyGroupStreamSnapshot and its Complete(), on the calling
// thread) and is closed. A snapshot that already is key-group streams (the
// memory backend's) is returned as it is.
//
// Thread safety: a plain function; calls on distinct directories may run
// concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <weir/clock.h>
#include <weir/options.h>
#include <weir/result.h>

#include "backends/snapshot.h"

namespace weir::engine {

struct CanonicalConversion {
  // The scratch backend's RocksDB settings (the job's).
  RocksDBOptions rocksdb;
  // Processing time for TTL: entries expired by it are left out, as the
  // memory backend's snapshots leave them out. Null: SystemClock().
  std::shared_ptr<Clock> clock;
};

// The key-group streams of `native`, whose files are at their local_path,
// written into `out_dir` (created). `scratch_dir` (which must not exist)
// holds the scratch backend and is removed, whatever the outcome; so are
// the native snapshot's files (its local_path links), which the streams
// replace. A kKeyGroupStreams snapshot is returned unchanged, its files
// left where they are. Errors: those of the restore (Corruption for a
// damaged file) and of writing the streams (IOError).
Result<BackendSnapshot> ToKeyGroupStreams(const BackendSnapshot& native,
                                          int64_t checkpoint_id,
                                          const CanonicalConversion& options,
                                          const std::string& scratch_dir,
                                          const std::string& out_dir);

}  // namespace weir::engine
