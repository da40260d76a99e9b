// SPDX-License-Identifier: Apache-2.0
#include "bench/checkpoint/bulk_load.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include <rocksdb/sst_file_writer.h>

#include <weir/key_group.h>

#include "backends/common/state_registry.h"
#include "backends/rocksdb/rocksdb_backend.h"
#include "backends/rocksdb/rocksdb_state_dir.h"
#include "lib/coding.h"

namespace weir::bench {

namespace fs = std::filesystem;

namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::OK();
  return Status::IOError(what + ": " + s.ToString());
}

// The SST files hold the keys of one key group after another; a file is
// closed once it reaches the column family's target file size, so the
// ingested state looks like a compacted bottom level.
class SstSequence {
 public:
  SstSequence(const rocksdb::Options& options, rocksdb::ColumnFamilyHandle* cf,
              std::string dir, uint64_t file_bytes)
      : options_(options),
        cf_(cf),
        dir_(std::move(dir)),
        file_bytes_(file_bytes) {}

  Status Put(const std::string& key, const std::string& value) {
    if (writer_ && writer_->FileSize() >= file_bytes_) {
      Status s = Finish();
      if (!s.ok()) return s;
    }
    if (!writer_) {
      writer_ = std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(),
                                                         options_, cf_);
      char name[32];
      std::snprintf(name, sizeof(name), "bulk-%06d.sst",
                    static_cast<int>(paths_.size()));
      paths_.push_back((fs::path(dir_) / name).string());
      Status s =
          FromRocks(writer_->Open(paths_.back()), "create " + paths_.back());
      if (!s.ok()) return s;
    }
    return FromRocks(writer_->Put(key, value), "write " + paths_.back());
  }

  Status Finish() {
    if (!writer_) return Status::OK();
    rocksdb::ExternalSstFileInfo info;
    Status s = FromRocks(writer_->Finish(&info), "finish " + paths_.back());
    writer_.reset();
    if (!s.ok()) return s;
    bytes_ += info.file_size;
    entries_ += info.num_entries;
    return Status::OK();
  }

  const std::vector<std::string>& paths() const { return paths_; }
  uint64_t bytes() const { return bytes_; }
  uint64_t entries() const { return entries_; }

 private:
  const rocksdb::Options& options_;
  rocksdb::ColumnFamilyHandle* cf_;
  std::string dir_;
  uint64_t file_bytes_;
  std::unique_ptr<rocksdb::SstFileWriter> writer_;
  std::vector<std::string> paths_;
  uint64_t bytes_ = 0;
  uint64_t entries_ = 0;
};

int KeyGroupOf(uint64_t i) {
  std::array<char, kKeySize> buf;
  return KeyGroupForKey(MakeKey(i, &buf), kMaxParallelism);
}

}  // namespace

std::string_view Pad(uint64_t i) {
  static const std::string buffer = [] {
    std::string b;
    uint64_t x = 7;
    while (b.size() < (size_t{1} << 20)) {
      std::string half;
      for (int j = 0; j < 46; ++j) {
        x = SplitMix64(x);
        half.push_back(static_cast<char>(' ' + x % 95));
      }
      b += half;
      b += half;
    }
    return b;
  }();
  return std::string_view(buffer).substr(
      SplitMix64(i ^ 0x5bd1e995) % (buffer.size() - kPadSize), kPadSize);
}

void StoredKey(uint64_t i, std::string* out) {
  static const uint32_t state_id = internal::StateIdForName(kStateName);
  std::array<char, kKeySize> buf;
  const std::string_view key = MakeKey(i, &buf);
  out->clear();
  internal::AppendStateKeyPrefix(out, KeyGroupForKey(key, kMaxParallelism),
                                 state_id);
  PutLengthPrefixed(out, key);
  PutLengthPrefixed(out, std::string_view());
}

void StoredValue(uint64_t i, uint64_t count, std::string* out) {
  Counter c;
  c.count = count;
  const std::string_view pad = Pad(i);
  std::memcpy(c.pad.data(), pad.data(), kPadSize);
  out->clear();
  internal::PutVersion(CounterSerializer::kVersion, out);
  CounterSerializer().Serialize(c, out);
}

// ---------------------------------------------------------------- RawDb

Result<std::unique_ptr<RawDb>> RawDb::Open(const std::string& state_dir,
                                           const RocksDBOptions& rocks) {
  auto raw = std::make_unique<RawDb>();
  internal::ApplyRocksDBOptions(rocks, &raw->options_);
  const std::string path =
      (fs::path(state_dir) / internal::kStateDirDb).string();
  std::vector<std::string> names;
  rocksdb::Status rs = rocksdb::DB::ListColumnFamilies(
      rocksdb::DBOptions(raw->options_), path, &names);
  if (!rs.ok()) return FromRocks(rs, "list column families of " + path);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions(raw->options_));
  }
  rocksdb::DB* db = nullptr;
  rs = rocksdb::DB::Open(rocksdb::DBOptions(raw->options_), path, descriptors,
                         &raw->handles_, &db);
  if (!rs.ok()) return FromRocks(rs, "open " + path);
  raw->db_.reset(db);
  return raw;
}

RawDb::~RawDb() { Close().IgnoreError(); }

Status RawDb::Close() {
  if (!db_) return Status::OK();
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  handles_.clear();
  rocksdb::Status rs = db_->Close();
  db_.reset();
  return FromRocks(rs, "close RocksDB");
}

rocksdb::ColumnFamilyHandle* RawDb::Find(const std::string& name) const {
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    if (h->GetName() == name) return h;
  }
  return nullptr;
}

// ---------------------------------------------------------------- load

Result<LoadStats> BulkLoad(const std::string& state_dir,
                           const std::string& scratch_dir,
                           const RocksDBOptions& rocks, uint64_t target_bytes) {
  LoadStats stats;
  const OperatorId op = OperatorId::FromUid(kOperatorUid);
  // 1. The state directory, the column family and the descriptor, made by
  //    the backend itself.
  {
    StateBackendOptions options;
    options.max_parallelism = kMaxParallelism;
    Result<std::unique_ptr<KeyedStateBackend>> backend =
        OpenRocksDBBackend(options, rocks, state_dir);
    if (!backend.ok()) return backend.status();
    Result<CounterState> state = GetState(**backend, op, CounterDescriptor());
    if (!state.ok()) return state.status();
  }
  Result<std::unique_ptr<RawDb>> raw = RawDb::Open(state_dir, rocks);
  if (!raw.ok()) return raw.status();
  rocksdb::ColumnFamilyHandle* cf = (*raw)->Find(op.ToHex());
  if (cf == nullptr) {
    return Status::Corruption("the backend made no column family " +
                              op.ToHex());
  }
  std::error_code ec;
  fs::create_directories(scratch_dir, ec);
  if (ec) return Status::IOError("create " + scratch_dir + ": " + ec.message());
  const rocksdb::Options& options = (*raw)->options();
  const uint64_t file_bytes = options.target_file_size_base;

  // 2. Calibration: the keys of key group 0 among the first 12.8M (about
  //    100k), written as one file, give the bytes per key.
  std::string key, value;
  {
    SstSequence calib(options, cf, scratch_dir + "/calibration", ~uint64_t{0});
    fs::create_directories(scratch_dir + "/calibration", ec);
    for (uint64_t i = 0; i < 12'800'000; ++i) {
      if (KeyGroupOf(i) != 0) continue;
      StoredKey(i, &key);
      StoredValue(i, 0, &value);
      Status s = calib.Put(key, value);
      if (!s.ok()) return s;
    }
    Status s = calib.Finish();
    if (!s.ok()) return s;
    stats.bytes_per_key = static_cast<double>(calib.bytes()) /
                          static_cast<double>(calib.entries());
    fs::remove_all(scratch_dir + "/calibration", ec);
  }
  stats.keys = static_cast<uint64_t>(static_cast<double>(target_bytes) /
                                     stats.bytes_per_key);
  if (stats.keys >= (uint64_t{1} << 32)) {
    return Status::InvalidArgument("state too large for 32-bit key indexes");
  }
  const uint64_t n = stats.keys;

  // 3. Keys in stored order: by key group, then by index (a counting sort).
  auto t0 = std::chrono::steady_clock::now();
  std::vector<uint8_t> groups(n);
  std::array<uint64_t, kMaxParallelism + 1> start{};
  for (uint64_t i = 0; i < n; ++i) {
    groups[i] = static_cast<uint8_t>(KeyGroupOf(i));
    ++start[groups[i] + 1];
  }
  for (int g = 0; g < kMaxParallelism; ++g) start[g + 1] += start[g];
  std::vector<uint32_t> order(n);
  {
    std::array<uint64_t, kMaxParallelism + 1> next = start;
    for (uint64_t i = 0; i < n; ++i) {
      order[next[groups[i]]++] = static_cast<uint32_t>(i);
    }
  }
  groups = std::vector<uint8_t>();
  stats.index_seconds = SecondsSince(t0);

  // 4. The files.
  t0 = std::chrono::steady_clock::now();
  SstSequence files(options, cf, scratch_dir, file_bytes);
  for (uint64_t k = 0; k < n; ++k) {
    const uint64_t i = order[k];
    StoredKey(i, &key);
    StoredValue(i, 0, &value);
    Status s = files.Put(key, value);
    if (!s.ok()) return s;
    if ((k + 1) % (n / 8 + 1) == 0) {
      std::fprintf(stderr, "  bulk load: %llu/%llu keys written, %.0f s\n",
                   static_cast<unsigned long long>(k + 1),
                   static_cast<unsigned long long>(n), SecondsSince(t0));
    }
  }
  Status s = files.Finish();
  if (!s.ok()) return s;
  order = std::vector<uint32_t>();
  stats.write_seconds = SecondsSince(t0);
  stats.sst_bytes = files.bytes();
  stats.sst_files = static_cast<int>(files.paths().size());

  // 5. Ingestion: the column family is empty, so the files go to the
  //    bottom level, with sequence number 0.
  t0 = std::chrono::steady_clock::now();
  rocksdb::IngestExternalFileOptions ingest;
  ingest.move_files = true;
  s = FromRocks((*raw)->db()->IngestExternalFile(cf, files.paths(), ingest),
                "ingest into column family " + op.ToHex());
  if (!s.ok()) return s;
  stats.ingest_seconds = SecondsSince(t0);
  s = (*raw)->Close();
  if (!s.ok()) return s;
  fs::remove_all(scratch_dir, ec);
  return stats;
}

Status VerifySample(KeyedStateBackend& backend, CounterState& state,
                    uint64_t keys, int samples) {
  std::array<char, kKeySize> buf;
  for (int k = 0; k < samples; ++k) {
    const uint64_t i =
        k == 0 ? 0
               : (k == samples - 1 ? keys - 1 : SplitMix64(k + 12345) % keys);
    Status s = backend.SetCurrentKey(MakeKey(i, &buf));
    if (!s.ok()) return s;
    Result<std::optional<Counter>> v = state.Value();
    if (!v.ok()) return v.status();
    if (!v->has_value()) {
      return Status::Corruption("key " + std::to_string(i) +
                                " is missing after the bulk load");
    }
    if ((*v)->count != 0 ||
        std::string_view((*v)->pad.data(), kPadSize) != Pad(i)) {
      return Status::Corruption("key " + std::to_string(i) +
                                " has the wrong value after the bulk load");
    }
  }
  Status s = backend.SetCurrentKey(MakeKey(keys, &buf));
  if (!s.ok()) return s;
  Result<std::optional<Counter>> v = state.Value();
  if (!v.ok()) return v.status();
  if (v->has_value()) {
    return Status::Corruption("key " + std::to_string(keys) +
                              " exists but was never loaded");
  }
  return Status::OK();
}

}  // namespace weir::bench
