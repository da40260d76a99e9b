// SPDX-License-Identifier: Apache-2.0
//
// The state directory of a RocksDB backend: `<dir>/WEIR` marks it and
// records the max parallelism; `<dir>/db` holds the RocksDB instance.
#pragma once

#include <string>

#include <weir/status.h>

namespace weir::internal {

constexpr char kStateDirMarker[] = "WEIR";
constexpr char kStateDirDb[] = "db";

// Checks that `dir` may hold state of `max_parallelism` and creates it (and
// its marker) if it does not exist or is empty. Changes nothing on disk when
// it fails: InvalidArgument for a path that is not a directory, a non-empty
// directory without a marker, or another max parallelism; Corruption for a
// marker it cannot read.
//
// `durable`: the marker is written atomically and fsync'd. A restore passes
// false: what it builds is a working directory that nothing reads after a
// crash (weir restores from the checkpoint again, and with the WAL off the
// DB itself is not crash-consistent between flushes).
Status PrepareStateDir(const std::string& dir, int max_parallelism,
                       bool durable = true);

}  // namespace weir::internal
