// SPDX-License-Identifier: Apache-2.0
//
// What RocksDBOptions' kAuto read mode and compression stand for. The
// choice is made when a backend is opened or restored, from the size of
// its SST files (with those of the other RocksDB backends open in the
// process) against the memory the process may use: memory-mapped reads of
// uncompressed blocks while the files fit in half of it, pread and LZ4
// above (docs/rocksdb-options.md, "Read mode").
#pragma once

#include <cstdint>
#include <string>

#include <weir/options.h>
#include <weir/result.h>

#include "backends/backend.h"

namespace weir::internal {

// `o` with kAuto read mode and compression replaced by what they mean for a
// backend of `state_bytes` of SST files while other open backends hold
// `others_bytes` and the process may use `memory_bytes` (0: unknown, which
// keeps memory maps). A read mode that is set keeps its value; a kAuto
// compression follows the read mode.
RocksDBOptions ResolveAutoOptions(const RocksDBOptions& o, uint64_t state_bytes,
                                  uint64_t others_bytes, uint64_t memory_bytes);

// Total size of the *.sst files directly in `db_path` (0 if none or if it
// does not exist).
uint64_t SstBytesIn(const std::string& db_path);

// SST bytes of the RocksDB backends open in this process, as each counted
// them when it was opened. A backend holds one OpenStateShare while open.
uint64_t OpenRocksDBStateBytes();

class OpenStateShare {
 public:
  OpenStateShare() = default;
  explicit OpenStateShare(uint64_t bytes);
  OpenStateShare(const OpenStateShare&) = delete;
  OpenStateShare& operator=(const OpenStateShare&) = delete;
  OpenStateShare(OpenStateShare&& other) noexcept : bytes_(other.bytes_) {
    other.bytes_ = 0;
  }
  OpenStateShare& operator=(OpenStateShare&& other) noexcept;
  ~OpenStateShare() { Release(); }

  void Release();

 private:
  uint64_t bytes_ = 0;
};

}  // namespace weir::internal
