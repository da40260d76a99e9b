// SPDX-License-Identifier: Apache-2.0
#include "backends/rocksdb/rocksdb_ingest.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include <rocksdb/sst_file_writer.h>

#include "backends/rocksdb/rocksdb_util.h"
#include "lib/coding.h"
#include "lib/file.h"

namespace weir::internal {

namespace {

std::string KeyGroupKey(int key_group) {
  std::string out;
  PutFixed16BE(&out, static_cast<uint16_t>(key_group));
  return out;
}

std::string Describe(KeyGroupRange r) {
  return "key groups " + std::to_string(r.start) + "-" + std::to_string(r.end);
}

// One slice of the key groups, written by one thread.
struct Part {
  KeyGroupRange range;
  std::vector<std::string> files;
  IngestStats stats;
  Status status;
};

// Writes the entries of `part->range` into SST files named
// `<prefix><n>.sst`.
void WritePart(rocksdb::DB* from, rocksdb::ColumnFamilyHandle* from_cf,
               rocksdb::ColumnFamilyHandle* to_cf,
               const rocksdb::Options& options, const std::string& prefix,
               const std::function<Status(std::string_view)>& check,
               uint64_t file_bytes, Part* part) {
  const std::string lower = KeyGroupKey(part->range.start);
  const std::string upper = KeyGroupKey(part->range.end + 1);
  const rocksdb::Slice lower_slice = ToSlice(lower);
  const rocksdb::Slice upper_slice = ToSlice(upper);
  rocksdb::ReadOptions read;
  read.iterate_lower_bound = &lower_slice;
  read.iterate_upper_bound = &upper_slice;
  // One pass over data nobody reads again: keep the block cache for the
  // running job, read ahead for the scan.
  read.fill_cache = false;
  read.readahead_size = size_t{2} << 20;
  std::unique_ptr<rocksdb::Iterator> it(from->NewIterator(read, from_cf));
  std::unique_ptr<rocksdb::SstFileWriter> writer;
  uint64_t file_entry_bytes = 0;  // keys and values in the open file
  // Contexts are built on failure only: this is once per entry.
  auto failed = [&](const rocksdb::Status& rs, const char* verb) {
    part->status = FromRocks(rs, std::string(verb) + " " + part->files.back());
  };
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    part->status = check(ToView(it->key()));
    if (!part->status.ok()) return;
    if (!writer) {
      part->files.push_back(prefix + std::to_string(part->files.size()) +
                            ".sst");
      writer = std::make_unique<rocksdb::SstFileWriter>(
          rocksdb::EnvOptions(options), options, to_cf);
      rocksdb::Status rs = writer->Open(part->files.back());
      if (!rs.ok()) return failed(rs, "create");
    }
    rocksdb::Status rs = writer->Put(it->key(), it->value());
    if (!rs.ok()) return failed(rs, "write");
    ++part->stats.entries;
    part->stats.bytes += it->key().size() + it->value().size();
    file_entry_bytes += it->key().size() + it->value().size();
    // (SstFileWriter::FileSize() counts only after Finish.)
    if (file_entry_bytes >= file_bytes) {
      file_entry_bytes = 0;
      rs = writer->Finish();
      writer.reset();
      if (!rs.ok()) return failed(rs, "write");
    }
  }
  part->status = FromRocks(it->status(), "read " + Describe(part->range));
  if (part->status.ok() && writer) {
    rocksdb::Status rs = writer->Finish();
    if (!rs.ok()) return failed(rs, "write");
  }
  part->stats.files = static_cast<int>(part->files.size());
}

}  // namespace

int DefaultIngestThreads() {
  return static_cast<int>(
      std::clamp<unsigned>(std::thread::hardware_concurrency(), 1, 4));
}

Status IngestKeyGroupRange(rocksdb::DB* from,
                           rocksdb::ColumnFamilyHandle* from_cf,
                           rocksdb::DB* to, rocksdb::ColumnFamilyHandle* to_cf,
                           const rocksdb::Options& options, KeyGroupRange range,
                           const std::string& staging,
                           const std::function<Status(std::string_view)>& check,
                           IngestStats* stats, int threads,
                           uint64_t file_bytes) {
  if (range.empty()) return Status::OK();
  Status s = CreateDirs(staging);
  if (!s.ok()) return s;
  // Key groups hold about the same number of entries (keys are hashed to
  // them), so equal slices of key groups are about equal work.
  const int n = std::clamp(threads, 1, range.size());
  std::vector<Part> parts(n);
  for (int i = 0; i < n; ++i) {
    parts[i].range.start = range.start + range.size() * i / n;
    parts[i].range.end = range.start + range.size() * (i + 1) / n - 1;
  }
  const std::string cf_name = to_cf->GetName();
  auto prefix = [&](int i) {
    return (std::filesystem::path(staging) /
            (cf_name + "-" + std::to_string(i) + "-"))
        .string();
  };
  std::vector<std::thread> workers;
  for (int i = 1; i < n; ++i) {
    workers.emplace_back(WritePart, from, from_cf, to_cf, std::cref(options),
                         prefix(i), std::cref(check), file_bytes, &parts[i]);
  }
  WritePart(from, from_cf, to_cf, options, prefix(0), check, file_bytes,
            &parts[0]);
  for (std::thread& t : workers) t.join();
  std::vector<std::string> files;
  for (Part& p : parts) {
    if (!p.status.ok()) return p.status;
    files.insert(files.end(), p.files.begin(), p.files.end());
    stats->entries += p.stats.entries;
    stats->bytes += p.stats.bytes;
    stats->files += p.stats.files;
  }
  if (files.empty()) return Status::OK();
  rocksdb::IngestExternalFileOptions ingest;
  ingest.move_files = true;
  // The sequence number RocksDB assigns stays in the MANIFEST only (table
  // readers take it from there). Written into the file, it would make the
  // file unimportable: RocksDB 7.8's CreateColumnFamilyWithImport refuses
  // an external file whose global seqno property differs from the largest
  // seqno of its keys (0), and a snapshot that still holds the file (not
  // yet compacted) is restored by import.
  ingest.write_global_seqno = false;
  return FromRocks(
      to->IngestExternalFile(to_cf, files, ingest),
      "ingest " + Describe(range) + " into column family " + cf_name);
}

}  // namespace weir::internal
