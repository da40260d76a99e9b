// SPDX-License-Identifier: Apache-2.0
//
// IngestKeyGroupRange (rocksdb_ingest.h) on raw RocksDB databases: what it
// moves is exactly the live entries of the key groups asked for, across
// several writer threads and many small files, and a failed check ingests
// nothing.
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/metadata.h>

#include "backends/rocksdb/rocksdb_ingest.h"
#include "lib/coding.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace weir::internal {
namespace {

using testutil::StatusIs;

std::string Key(int key_group, int i) {
  std::string out;
  PutFixed16BE(&out, static_cast<uint16_t>(key_group));
  out += "key-" + std::to_string(i);
  return out;
}

int KeyGroupOf(const std::string& key) {
  return (static_cast<uint8_t>(key[0]) << 8) | static_cast<uint8_t>(key[1]);
}

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Create();
    options_.create_if_missing = true;
    options_.write_buffer_size = 64 << 10;  // several files and levels
    from_ = OpenDb("from");
    to_ = OpenDb("to");
  }
  void TearDown() override {
    from_.reset();
    to_.reset();
  }

  std::unique_ptr<rocksdb::DB> OpenDb(const std::string& sub) {
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(options_, dir_.Sub(sub), &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return std::unique_ptr<rocksdb::DB>(db);
  }

  static std::map<std::string, std::string> Contents(rocksdb::DB* db) {
    std::map<std::string, std::string> out;
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      out[it->key().ToString()] = it->value().ToString();
    }
    EXPECT_TRUE(it->status().ok());
    return out;
  }

  testutil::TestDir dir_;
  rocksdb::Options options_;
  std::unique_ptr<rocksdb::DB> from_;
  std::unique_ptr<rocksdb::DB> to_;
};

TEST_F(IngestTest, MovesExactlyTheLiveEntriesOfTheKeyGroups) {
  const rocksdb::WriteOptions w;
  std::map<std::string, std::string> expected;
  // The target already holds key groups 0-2, and a range deletion over the
  // rest (as a restore clips what it does not keep).
  for (int kg = 0; kg < 3; ++kg) {
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(to_->Put(w, Key(kg, i), "mine").ok());
      expected[Key(kg, i)] = "mine";
    }
  }
  ASSERT_TRUE(
      to_->DeleteRange(w, to_->DefaultColumnFamily(), Key(3, 0), Key(100, 0))
          .ok());
  // The source: key groups 0-9, overwritten and partly deleted, spread
  // over flushed files and the memtable.
  for (int round = 0; round < 3; ++round) {
    for (int kg = 0; kg < 10; ++kg) {
      for (int i = 0; i < 400; ++i) {
        const std::string value =
            "value-" + std::to_string(round) + std::string(40, 'x');
        ASSERT_TRUE(from_->Put(w, Key(kg, i), value).ok());
        if (kg >= 3 && kg <= 8) expected[Key(kg, i)] = value;
        if (round == 2 && i % 7 == 0) {
          ASSERT_TRUE(from_->Delete(w, Key(kg, i)).ok());
          if (kg >= 3 && kg <= 8) expected.erase(Key(kg, i));
        }
      }
    }
    if (round < 2) {
      ASSERT_TRUE(from_->Flush(rocksdb::FlushOptions()).ok());
    }
  }
  ASSERT_TRUE(from_->Put(w, Key(9, 9999), "outside").ok());

  IngestStats stats;
  int checked = 0;
  std::mutex mu;
  ASSERT_OK(IngestKeyGroupRange(
      from_.get(), from_->DefaultColumnFamily(), to_.get(),
      to_->DefaultColumnFamily(), options_, KeyGroupRange{3, 8},
      dir_.Sub("staging"),
      [&](std::string_view key) {
        std::lock_guard<std::mutex> lock(mu);
        ++checked;
        const int kg = KeyGroupOf(std::string(key));
        return kg >= 3 && kg <= 8
                   ? Status::OK()
                   : Status::InvalidArgument("key group " + std::to_string(kg));
      },
      &stats, /*threads=*/4, /*file_bytes=*/4 << 10));
  const std::map<std::string, std::string> got = Contents(to_.get());
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected);
  const uint64_t moved = expected.size() - 3 * 50;
  EXPECT_EQ(stats.entries, moved);
  EXPECT_EQ(checked, static_cast<int>(moved));
  EXPECT_GT(stats.files, 4);  // every thread rolled over to new files
  // The ingested files survive a reopen.
  to_.reset();
  to_ = OpenDb("to");
  EXPECT_TRUE(Contents(to_.get()) == expected);
}

// An ingested file that a checkpoint links before any compaction rewrites
// it is restored by import into another DB: the import must take it, and
// read it with the sequence number the first DB gave it.
TEST_F(IngestTest, IngestedFilesImportIntoAnotherDb) {
  const rocksdb::WriteOptions w;
  options_.disable_auto_compactions = true;
  to_.reset();
  to_ = OpenDb("to2");
  // Older versions of the keys in the target, hidden by a range deletion,
  // so that the ingestion overlaps them and gets a sequence number of its
  // own (not 0 at the bottom level).
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(to_->Put(w, Key(5, i), "old").ok());
  }
  ASSERT_TRUE(to_->Flush(rocksdb::FlushOptions()).ok());
  ASSERT_TRUE(
      to_->DeleteRange(w, to_->DefaultColumnFamily(), Key(3, 0), Key(100, 0))
          .ok());
  // A point key next to the range deletion, as a restore's removal of the
  // cut markers writes: RocksDB 7.8 cannot import a file that holds only
  // range deletions (the ingestion flushes this memtable into one).
  ASSERT_TRUE(to_->Delete(w, "\xff\xffmarker").ok());
  std::map<std::string, std::string> expected;
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(from_->Put(w, Key(5, i), "new" + std::to_string(i)).ok());
    expected[Key(5, i)] = "new" + std::to_string(i);
  }
  IngestStats stats;
  ASSERT_OK(IngestKeyGroupRange(
      from_.get(), from_->DefaultColumnFamily(), to_.get(),
      to_->DefaultColumnFamily(), options_, KeyGroupRange{3, 8},
      dir_.Sub("staging"), [](std::string_view) { return Status::OK(); },
      &stats, /*threads=*/1));
  ASSERT_TRUE(Contents(to_.get()) == expected);

  // What a checkpoint keeps: every live file, linked, with its metadata.
  std::vector<rocksdb::LiveFileMetaData> live;
  to_->GetLiveFilesMetaData(&live);
  bool ingested_seqno = false;
  rocksdb::ExportImportFilesMetaData meta;
  meta.db_comparator_name = options_.comparator->Name();
  const std::string stage = dir_.Sub("stage");
  std::filesystem::create_directories(stage);
  for (const rocksdb::LiveFileMetaData& m : live) {
    ingested_seqno |=
        m.smallest_seqno == m.largest_seqno && m.largest_seqno > 0;
    std::filesystem::create_hard_link(m.directory + "/" + m.relative_filename,
                                      stage + "/" + m.relative_filename);
    rocksdb::LiveFileMetaData copy = m;
    copy.db_path = stage;
    copy.directory = stage;
    meta.files.push_back(copy);
  }
  EXPECT_TRUE(ingested_seqno);
  std::unique_ptr<rocksdb::DB> other = OpenDb("other");
  rocksdb::ColumnFamilyHandle* cf = nullptr;
  rocksdb::ImportColumnFamilyOptions import;
  import.move_files = true;
  rocksdb::Status rs = other->CreateColumnFamilyWithImport(options_, "imported",
                                                           import, meta, &cf);
  ASSERT_TRUE(rs.ok()) << rs.ToString();
  std::map<std::string, std::string> got;
  std::unique_ptr<rocksdb::Iterator> it(
      other->NewIterator(rocksdb::ReadOptions(), cf));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    got[it->key().ToString()] = it->value().ToString();
  }
  EXPECT_TRUE(it->status().ok());
  it.reset();
  EXPECT_TRUE(got == expected) << got.size() << " keys";
  ASSERT_TRUE(other->DestroyColumnFamilyHandle(cf).ok());
}

TEST_F(IngestTest, AFailedCheckIngestsNothing) {
  const rocksdb::WriteOptions w;
  for (int kg = 0; kg < 6; ++kg) {
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(from_->Put(w, Key(kg, i), "v").ok());
    }
  }
  IngestStats stats;
  EXPECT_THAT(IngestKeyGroupRange(
                  from_.get(), from_->DefaultColumnFamily(), to_.get(),
                  to_->DefaultColumnFamily(), options_, KeyGroupRange{0, 5},
                  dir_.Sub("staging"),
                  [&](std::string_view key) {
                    return KeyGroupOf(std::string(key)) == 4
                               ? Status::Corruption("bad key group 4")
                               : Status::OK();
                  },
                  &stats, /*threads=*/3),
              StatusIs(Status::Code::kCorruption));
  EXPECT_TRUE(Contents(to_.get()).empty());
}

}  // namespace
}  // namespace weir::internal
