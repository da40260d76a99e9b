// SPDX-License-Identifier: Apache-2.0
#include "backends/rocksdb/rocksdb_ingest.h"

#include <filesystem>
#include <memory>
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

}  // namespace

Status IngestKeyGroupRange(rocksdb::DB* from,
                           rocksdb::ColumnFamilyHandle* from_cf,
                           rocksdb::DB* to, rocksdb::ColumnFamilyHandle* to_cf,
                           const rocksdb::Options& options, KeyGroupRange range,
                           const std::string& staging,
                           const std::function<Status(std::string_view)>& check,
                           IngestStats* stats, uint64_t file_bytes) {
  if (range.empty()) return Status::OK();
  Status s = CreateDirs(staging);
  if (!s.ok()) return s;
  const std::string lower = KeyGroupKey(range.start);
  const std::string upper = KeyGroupKey(range.end + 1);
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

  const std::string cf_name = to_cf->GetName();
  std::vector<std::string> files;
  std::unique_ptr<rocksdb::SstFileWriter> writer;
  auto finish = [&]() -> Status {
    rocksdb::Status rs = writer->Finish();
    writer.reset();
    return FromRocks(rs, "write " + files.back());
  };
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view key = ToView(it->key());
    s = check(key);
    if (!s.ok()) return s;
    if (!writer) {
      files.push_back((std::filesystem::path(staging) /
                       (cf_name + "-" + std::to_string(files.size()) + ".sst"))
                          .string());
      writer = std::make_unique<rocksdb::SstFileWriter>(
          rocksdb::EnvOptions(options), options, to_cf);
      s = FromRocks(writer->Open(files.back()), "create " + files.back());
      if (!s.ok()) return s;
    }
    s = FromRocks(writer->Put(it->key(), it->value()), "write " + files.back());
    if (!s.ok()) return s;
    ++stats->entries;
    stats->bytes += it->key().size() + it->value().size();
    if (writer->FileSize() >= file_bytes) {
      s = finish();
      if (!s.ok()) return s;
    }
  }
  s = FromRocks(it->status(), "read key groups " + std::to_string(range.start) +
                                  "-" + std::to_string(range.end));
  if (!s.ok()) return s;
  if (writer) {
    s = finish();
    if (!s.ok()) return s;
  }
  if (files.empty()) return Status::OK();
  stats->files += static_cast<int>(files.size());
  rocksdb::IngestExternalFileOptions ingest;
  ingest.move_files = true;
  return FromRocks(to->IngestExternalFile(to_cf, files, ingest),
                   "ingest key groups " + std::to_string(range.start) + "-" +
                       std::to_string(range.end) + " into column family " +
                       cf_name);
}

}  // namespace weir::internal
