// SPDX-License-Identifier: Apache-2.0
//
// Large keyed state for checkpoint_bench, built by bulk ingestion: one
// operator's value state "counter" (ValueState<Counter, CounterSerializer>)
// holding keys 0..N-1, written as sorted SST files with
// rocksdb::SstFileWriter in weir's exact key layout and value encoding and
// ingested into the operator's column family. Loading record by record
// would take hours at 16 GB; ingestion takes minutes.
//
// How, without reaching into the backend: the backend is opened once to
// create the state directory, the operator's column family and the state's
// descriptor, and closed; the same RocksDB is then opened directly (every
// column family, weir's options), the files are ingested, and it is closed
// again. The benchmark then reopens it as a weir backend and reads a
// sample of keys through the typed API (VerifySample).
//
// Key i is 16 bytes: i big-endian, then 8 scrambled bytes (as state_bench's
// keys), so within one key group keys sort by i. Its value is the
// serializer's version byte, an 8-byte count (0 after the load) and 92
// bytes of padding that is about half compressible.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <weir/operator_id.h>
#include <weir/options.h>
#include <weir/result.h>
#include <weir/state.h>

#include "backends/backend.h"

namespace weir::bench {

inline constexpr size_t kKeySize = 16;
inline constexpr size_t kPadSize = 92;
inline constexpr int kMaxParallelism = kDefaultMaxParallelism;
inline constexpr char kStateName[] = "counter";
inline constexpr char kOperatorUid[] = "checkpoint_bench";

inline uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Key i: its index big-endian, then 8 scrambled bytes.
inline std::string_view MakeKey(uint64_t i, std::array<char, kKeySize>* buf) {
  const uint64_t tail = SplitMix64(i);
  for (int b = 0; b < 8; ++b) {
    (*buf)[b] = static_cast<char>(i >> (56 - 8 * b));
    (*buf)[8 + b] = static_cast<char>(tail >> (56 - 8 * b));
  }
  return {buf->data(), buf->size()};
}

// The padding of key i's value: 46 pseudo-random bytes, twice (a view into
// a static buffer).
std::string_view Pad(uint64_t i);

// The value of the state: a count and padding.
struct Counter {
  uint64_t count = 0;
  std::array<char, kPadSize> pad{};
};

struct CounterSerializer {
  static constexpr uint32_t kVersion = 1;
  void Serialize(const Counter& c, std::string* out) const {
    char count[8];
    std::memcpy(count, &c.count, 8);
    out->append(count, 8);
    out->append(c.pad.data(), c.pad.size());
  }
  Status Deserialize(uint32_t, std::string_view in, Counter* out) const {
    if (in.size() != 8 + kPadSize) {
      return Status::Corruption("counter value of wrong size");
    }
    std::memcpy(&out->count, in.data(), 8);
    std::memcpy(out->pad.data(), in.data() + 8, kPadSize);
    return Status::OK();
  }
};

using CounterState = ValueState<Counter, CounterSerializer>;
inline ValueStateDescriptor<Counter, CounterSerializer> CounterDescriptor() {
  return {kStateName};
}

// The key of key i as the backend stores it in the operator's column
// family: [key group][state id][len][key][len][empty namespace].
void StoredKey(uint64_t i, std::string* out);
// The stored value of a Counter{count, Pad(i)}: [version 1][count][pad].
void StoredValue(uint64_t i, uint64_t count, std::string* out);

// A RocksDB of a weir state directory opened directly, with every column
// family and weir's options (internal::ApplyRocksDBOptions), WAL off.
class RawDb {
 public:
  static Result<std::unique_ptr<RawDb>> Open(const std::string& state_dir,
                                             const RocksDBOptions& rocks);
  ~RawDb();
  Status Close();

  rocksdb::DB* db() const { return db_.get(); }
  const std::vector<rocksdb::ColumnFamilyHandle*>& handles() const {
    return handles_;
  }
  // The column family named `name`, or null.
  rocksdb::ColumnFamilyHandle* Find(const std::string& name) const;
  const rocksdb::Options& options() const { return options_; }

 private:
  rocksdb::Options options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

struct LoadStats {
  uint64_t keys = 0;
  uint64_t sst_bytes = 0;  // of the ingested files
  int sst_files = 0;
  double bytes_per_key = 0;  // from the calibration file
  double index_seconds = 0;  // key groups of every key (counting sort)
  double write_seconds = 0;  // SstFileWriter
  double ingest_seconds = 0;
};

// Creates the state directory `state_dir` (empty or absent) holding about
// `target_bytes` of SST files: the value state "counter" of operator
// FromUid(kOperatorUid) with keys 0..N-1, N chosen from a calibration file.
// `scratch_dir` (same file system) holds the files until they are ingested
// (moved, so they cost no extra space).
Result<LoadStats> BulkLoad(const std::string& state_dir,
                           const std::string& scratch_dir,
                           const RocksDBOptions& rocks, uint64_t target_bytes);

// Right after BulkLoad: reads `samples` keys spread over 0..keys-1 (the
// first and the last among them) through the typed `state` and checks
// their count (0) and padding, and that key `keys` (one past the end) is
// absent.
Status VerifySample(KeyedStateBackend& backend, CounterState& state,
                    uint64_t keys, int samples);

}  // namespace weir::bench
