// SPDX-License-Identifier: Apache-2.0
//
// Verification of a snapshot's files before a restore reads them, for
// snapshots of every format. Thread-safe (touches only the file).
#pragma once

#include <weir/status.h>

#include "backends/snapshot.h"

namespace weir::internal {

// Checks a file's size and XXH3-64 against `file`. Corruption (or IOError
// if it cannot be read) naming the file and the mismatch. A file whose
// inode, size and mtime are still those recorded when its checksum was
// computed (SnapshotFile::verified_*) is not read again.
Status VerifySnapshotFile(const SnapshotFile& file);

}  // namespace weir::internal
