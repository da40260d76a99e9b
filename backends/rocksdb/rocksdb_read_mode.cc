// SPDX-License-Identifier: Apache-2.0
#include "backends/rocksdb/rocksdb_read_mode.h"

#include <atomic>
#include <filesystem>

namespace weir::internal {

namespace {
std::atomic<uint64_t> g_open_state_bytes{0};
}  // namespace

RocksDBOptions ResolveAutoOptions(const RocksDBOptions& o, uint64_t state_bytes,
                                  uint64_t others_bytes,
                                  uint64_t memory_bytes) {
  RocksDBOptions r = o;
  if (r.read_mode == RocksDBOptions::ReadMode::kAuto) {
    const uint64_t budget =
        o.memory_budget_bytes != 0 ? o.memory_budget_bytes : memory_bytes;
    const bool fits = budget == 0 || (state_bytes + others_bytes) <= budget / 2;
    r.read_mode = fits ? RocksDBOptions::ReadMode::kMmap
                       : RocksDBOptions::ReadMode::kPread;
  }
  if (r.compression == RocksDBOptions::Compression::kAuto) {
    r.compression = r.read_mode == RocksDBOptions::ReadMode::kPread
                        ? RocksDBOptions::Compression::kLz4
                        : RocksDBOptions::Compression::kNone;
  }
  return r;
}

uint64_t SstBytesIn(const std::string& db_path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  uint64_t total = 0;
  for (fs::directory_iterator it(db_path, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().extension() != ".sst") continue;
    std::error_code size_ec;
    const uintmax_t size = it->file_size(size_ec);
    if (!size_ec) total += size;
  }
  return total;
}

uint64_t OpenRocksDBStateBytes() {
  return g_open_state_bytes.load(std::memory_order_relaxed);
}

OpenStateShare::OpenStateShare(uint64_t bytes) : bytes_(bytes) {
  g_open_state_bytes.fetch_add(bytes, std::memory_order_relaxed);
}

OpenStateShare& OpenStateShare::operator=(OpenStateShare&& other) noexcept {
  if (this != &other) {
    Release();
    bytes_ = other.bytes_;
    other.bytes_ = 0;
  }
  return *this;
}

void OpenStateShare::Release() {
  if (bytes_ != 0)
    g_open_state_bytes.fetch_sub(bytes_, std::memory_order_relaxed);
  bytes_ = 0;
}

}  // namespace weir::internal
