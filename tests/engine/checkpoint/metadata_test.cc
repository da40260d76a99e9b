// SPDX-License-Identifier: Apache-2.0
//
// The `_metadata` format: round trips, the documented byte layout, every
// error a reader can meet, and fuzzing (random bytes, every truncation,
// every bit flip, resealed garbage bodies) that must end in an error and
// never in a crash or an out-of-bounds read (run under ASan/UBSan too).
#include "engine/checkpoint/metadata.h"

#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lib/coding.h"
#include "lib/file.h"
#include "lib/hash.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace weir::engine {
namespace {

using testing::AllOf;
using testing::HasSubstr;
using testutil::StatusIs;

constexpr size_t kHeader = 20;
constexpr size_t kFooter = 16;

StoredFile MakeFile(int seed, std::string path) {
  StoredFile f;
  f.file.name = "0000" + std::to_string(10 + seed) + ".sst";
  f.path = std::move(path);
  f.file.size = 1000003ull * static_cast<uint64_t>(seed + 1);
  f.file.checksum = 0x9e3779b97f4a7c15ull * static_cast<uint64_t>(seed + 3);
  f.file.column_family = seed % 2 ? "default" : std::string(32, 'a' + seed % 6);
  f.file.level = seed % 7;
  f.file.smallest_key = std::string("\x00\x05key", 5) + std::to_string(seed);
  f.file.largest_key = std::string("\x00\x3f\xffzz", 5);
  f.file.smallest_seqno = 100 + static_cast<uint64_t>(seed);
  f.file.largest_seqno = (uint64_t{1} << 56) + static_cast<uint64_t>(seed);
  f.file.operator_id = seed % 3 ? "" : std::string(32, 'f');
  f.file.key_group = seed % 4 == 0 ? -1 : seed * 3;
  if (seed % 2 == 1) {  // the appended stamp, on half of the files
    f.file.verified_inode = 1234567 + static_cast<uint64_t>(seed);
    f.file.verified_mtime_ns = 1'700'000'000'123'456'789 + seed;
  }
  if (seed % 3 == 1) f.file.db_name = "0000" + std::to_string(seed) + ".sst";
  return f;
}

CheckpointMetadata MakeMetadata() {
  CheckpointMetadata m;
  m.job_id = *JobId::FromHex("0123456789abcdef0011223344556677");
  m.job_name = "sums \xe2\x9c\x93";
  m.checkpoint_id = 4294967301ull;  // above 32 bits
  m.kind = SnapshotKind::kSavepoint;
  m.savepoint_format = SavepointFormat::kCanonical;
  m.trigger_time_ms = 1717171717000;
  m.completion_time_ms = -5;  // negative times survive too
  m.shared_root = "/var/lib/weir/checkpoints/0123456789abcdef0011223344556677";
  m.savepoint_id = "00112233445566778899aabbccddeeff";
  m.savepoint_dir = "/var/lib/weir/savepoints/savepoint-012345-abcdefabcdef";
  for (int op_idx = 0; op_idx < 3; ++op_idx) {
    OperatorMetadata op;
    op.id = OperatorId::FromUid("op-" + std::to_string(op_idx));
    op.uid = op_idx == 1 ? "" : "uid-" + std::to_string(op_idx);
    op.name = "Operator " + std::to_string(op_idx);
    op.parallelism = op_idx + 1;
    op.max_parallelism = op_idx == 2 ? 32768 : 128;
    op.fully_finished = op_idx == 1;
    m.operators.push_back(op);
  }
  int seed = 0;
  for (int task_idx = 0; task_idx < 4; ++task_idx) {
    TaskSnapshotMetadata t;
    t.vertex_index = task_idx / 2;
    t.subtask_index = task_idx % 2;
    t.operator_ids = {m.operators[0].id, m.operators[task_idx % 3].id};
    t.key_group_range = task_idx == 3 ? KeyGroupRange{}  // empty
                                      : KeyGroupRange{task_idx * 10, 99};
    t.format = task_idx % 2 ? SnapshotFormat::kKeyGroupStreams
                            : SnapshotFormat::kRocksDBSst;
    t.max_parallelism = 128;
    t.sequence_number = 77777 + static_cast<uint64_t>(task_idx);
    for (int file_idx = 0; file_idx < task_idx + 1; ++file_idx) {
      const std::string path = file_idx % 2 ? "chk-7/x" + std::to_string(seed)
                                            : "shared/f" + std::to_string(seed);
      t.files.push_back(MakeFile(seed++, path));
    }
    for (int st = 0; st < task_idx % 3; ++st) {
      OperatorStateMetadata state;
      state.operator_id = t.operator_ids[0];
      state.name = "state-" + std::to_string(st);
      state.mode = st % 2 ? 2 : 1;
      state.values = {std::string("\x00\x01", 2), "", "offset 17"};
      t.operator_states.push_back(state);
    }
    t.ready_db_files = static_cast<uint32_t>(task_idx % 2 ? 0 : task_idx + 7);
    t.finished = task_idx == 2;
    m.tasks.push_back(t);
  }
  return m;
}

std::string EncodeOrDie(const CheckpointMetadata& m) {
  std::string out;
  Status s = Encode(m, &out);
  EXPECT_OK(s);
  return out;
}

// Rewrites the length field and the checksum of a file whose body a test
// changed, as a (newer or buggy) writer would have sealed it.
std::string Reseal(std::string bytes) {
  std::string length;
  PutFixed64(&length, bytes.size());
  bytes.replace(12, 8, length);
  std::string checksum;
  PutFixed64(&checksum,
             Hash64(std::string_view(bytes).substr(0, bytes.size() - kFooter)));
  bytes.replace(bytes.size() - kFooter, 8, checksum);
  return bytes;
}

TEST(Metadata, RoundTripAllFields) {
  const CheckpointMetadata m = MakeMetadata();
  const std::string bytes = EncodeOrDie(m);
  EXPECT_THAT(DecodeMetadata(bytes, "/x/_metadata"), testutil::IsOkAndHolds(m));

  CheckpointMetadata checkpoint = m;
  checkpoint.kind = SnapshotKind::kCheckpoint;
  checkpoint.savepoint_format = SavepointFormat::kNative;
  checkpoint.shared_root.clear();
  EXPECT_THAT(DecodeMetadata(EncodeOrDie(checkpoint), "/x/_metadata"),
              testutil::IsOkAndHolds(checkpoint));

  const CheckpointMetadata empty;
  EXPECT_THAT(DecodeMetadata(EncodeOrDie(empty), "/x/_metadata"),
              testutil::IsOkAndHolds(empty));
}

TEST(Metadata, EncodingIsDeterministic) {
  EXPECT_EQ(EncodeOrDie(MakeMetadata()), EncodeOrDie(MakeMetadata()));
}

// The byte layout of docs/checkpoint-format.md, field by field, for a small
// checkpoint. A change here is a format change: it needs a new version or
// fields appended at the end of a record.
TEST(Metadata, ByteLayoutMatchesTheDocumentation) {
  CheckpointMetadata m;
  m.job_id = *JobId::FromHex("000102030405060708090a0b0c0d0e0f");
  m.job_name = "j";
  m.checkpoint_id = 7;
  m.trigger_time_ms = 1;
  m.completion_time_ms = 2;
  OperatorMetadata op;
  op.id = OperatorId::FromUid("u");
  op.uid = "u";
  op.name = "n";
  op.parallelism = 2;
  op.max_parallelism = 128;
  m.operators.push_back(op);
  TaskSnapshotMetadata t;
  t.vertex_index = 0;
  t.subtask_index = 1;
  t.operator_ids = {op.id};
  t.key_group_range = {64, 127};
  t.max_parallelism = 128;
  t.sequence_number = 300;
  StoredFile f;
  f.file.name = "9.sst";
  f.path = "shared/a-9.sst";
  f.file.size = 4096;
  f.file.checksum = 0x1122334455667788ull;
  f.file.column_family = "default";
  f.file.level = 6;
  f.file.smallest_key = "a";
  f.file.largest_key = "b";
  f.file.smallest_seqno = 1;
  f.file.largest_seqno = 299;
  f.file.key_group = -1;
  f.file.verified_inode = 300;
  f.file.verified_mtime_ns = 5;
  f.file.db_name = "000009.sst";
  t.files.push_back(f);
  t.ready_db_files = 2;
  m.tasks.push_back(t);

  std::string want = "WEIRMETA";
  PutFixed32(&want, 1);
  PutFixed64(&want, 0);  // length, patched below
  std::string rec;
  std::string raw_job;
  ASSERT_TRUE(FromHex("000102030405060708090a0b0c0d0e0f", &raw_job));
  rec += raw_job;
  PutLengthPrefixed(&rec, "j");
  PutVarint64(&rec, 7);
  rec.push_back(1);  // checkpoint
  rec.push_back(1);  // native
  PutFixed64(&rec, 1);
  PutFixed64(&rec, 2);
  PutLengthPrefixed(&rec, "");  // shared root
  PutLengthPrefixed(&rec, "");  // savepoint id (appended to version 1)
  PutLengthPrefixed(&rec, "");  // savepoint directory (appended next)
  PutLengthPrefixed(&want, rec);
  PutVarint32(&want, 1);
  rec.clear();
  rec += op.id.bytes();
  PutLengthPrefixed(&rec, "u");
  PutLengthPrefixed(&rec, "n");
  PutVarint32(&rec, 2);
  PutVarint32(&rec, 128);
  rec.push_back(0);  // fully finished (appended to version 1)
  PutLengthPrefixed(&want, rec);
  PutVarint32(&want, 1);
  std::string file;
  PutLengthPrefixed(&file, "9.sst");
  PutLengthPrefixed(&file, "shared/a-9.sst");
  PutFixed64(&file, 4096);
  PutFixed64(&file, 0x1122334455667788ull);
  PutLengthPrefixed(&file, "default");
  PutVarint32(&file, 6);
  PutLengthPrefixed(&file, "a");
  PutLengthPrefixed(&file, "b");
  PutVarint64(&file, 1);
  PutVarint64(&file, 299);
  PutLengthPrefixed(&file, "");
  PutVarint32(&file, 0);    // key group -1, stored plus one
  PutVarint64(&file, 300);  // verified inode (appended to version 1)
  PutVarint64(&file, 5);    // verified mtime, ns
  PutLengthPrefixed(&file, "000009.sst");  // name in the ready-made DB
  rec.clear();
  PutVarint32(&rec, 0);
  PutVarint32(&rec, 1);
  PutVarint32(&rec, 1);
  rec += op.id.bytes();
  PutVarint32(&rec, 64);
  PutVarint32(&rec, 128);  // end 127, stored plus one
  rec.push_back(1);        // RocksDB SST
  PutVarint32(&rec, 128);
  PutVarint64(&rec, 300);
  PutVarint32(&rec, 1);
  PutLengthPrefixed(&rec, file);
  PutVarint32(&rec, 0);  // operator states (appended to version 1)
  PutVarint32(&rec, 2);  // files of the ready-made DB (appended next)
  rec.push_back(0);      // finished (appended next)
  PutLengthPrefixed(&want, rec);
  want += std::string(kFooter - 8, '\0');
  want += "WMETAEND";
  want = Reseal(want);

  EXPECT_EQ(ToHex(EncodeOrDie(m)), ToHex(want));
}

// Forward compatibility: a newer writer appends fields to records and
// sections to the body; this reader skips them.
TEST(Metadata, SkipsFieldsAndSectionsAppendedByANewerWriter) {
  CheckpointMetadata m;
  m.job_name = "job";
  m.checkpoint_id = 3;
  OperatorMetadata op;
  op.id = OperatorId::FromUid("a");
  op.name = "a";
  op.parallelism = 1;
  op.max_parallelism = 128;
  m.operators.push_back(op);
  TaskSnapshotMetadata t;
  t.operator_ids = {op.id};
  t.key_group_range = {0, 127};
  t.max_parallelism = 128;
  t.files.push_back(MakeFile(1, "shared/x"));
  m.tasks.push_back(t);
  const std::string plain = EncodeOrDie(m);

  // Re-frame every record with 5 extra bytes at its end.
  std::string_view in(plain);
  in = in.substr(kHeader, in.size() - kHeader - kFooter);
  const std::string extra = "\x01\x02\x03\x04\x05";
  std::string out = plain.substr(0, kHeader);
  std::string_view record;
  ASSERT_TRUE(GetLengthPrefixed(&in, &record));
  PutLengthPrefixed(&out, std::string(record) + extra);
  uint32_t count;
  ASSERT_TRUE(GetVarint32(&in, &count));
  PutVarint32(&out, count);
  ASSERT_TRUE(GetLengthPrefixed(&in, &record));
  PutLengthPrefixed(&out, std::string(record) + extra);
  ASSERT_TRUE(GetVarint32(&in, &count));
  PutVarint32(&out, count);
  ASSERT_TRUE(GetLengthPrefixed(&in, &record));
  // The task record ends with its file list, operator states and ready-made
  // DB's file count; a new field follows them, and
  // the file record itself grows too.
  std::string task(record);
  std::string_view task_view(task);
  // vertex, subtask, operator count: 1 byte each; one operator id: 16;
  // kg start 0: 1; kg end plus one (128): 2; format: 1; maxP (128): 2;
  // seqno 0: 1; file count: 1.
  const size_t files_at = 1 + 1 + 1 + 16 + 1 + 2 + 1 + 2 + 1 + 1;
  std::string_view files_view = task_view.substr(files_at);
  std::string_view file_record;
  ASSERT_TRUE(GetLengthPrefixed(&files_view, &file_record));
  // No operator states, no ready-made DB, not finished.
  ASSERT_EQ(files_view, std::string_view("\0\0\0", 3));
  std::string new_task(task_view.substr(0, files_at));
  PutLengthPrefixed(&new_task, std::string(file_record) + extra);
  new_task.append(3, '\0');
  new_task += extra;
  PutLengthPrefixed(&out, new_task);
  ASSERT_TRUE(in.empty());
  out += "a whole new section";
  out += plain.substr(plain.size() - kFooter);
  out = Reseal(out);

  ASSERT_NE(out, plain);
  EXPECT_THAT(DecodeMetadata(out, "/x/_metadata"), testutil::IsOkAndHolds(m));
}

// Backward compatibility: a file written before operators and tasks were
// marked finished (their records end before the flag) reads as not
// finished; a flag other than 0 or 1 is malformed.
TEST(Metadata, ReadsRecordsWrittenBeforeTheFinishedFlags) {
  CheckpointMetadata m;
  m.job_name = "job";
  OperatorMetadata op;
  op.id = OperatorId::FromUid("a");
  op.name = "a";
  op.parallelism = 1;
  op.max_parallelism = 128;
  op.fully_finished = true;
  m.operators.push_back(op);
  TaskSnapshotMetadata t;
  t.operator_ids = {op.id};
  t.key_group_range = {0, 127};
  t.max_parallelism = 128;
  t.finished = true;
  m.tasks.push_back(t);
  const std::string plain = EncodeOrDie(m);

  // Re-frame the operator and task records without their last byte (the
  // flag), or with the flag `flag`.
  auto reframe = [&](std::optional<char> flag) {
    std::string_view in(plain);
    in = in.substr(kHeader, in.size() - kHeader - kFooter);
    std::string out = plain.substr(0, kHeader);
    std::string_view record;
    EXPECT_TRUE(GetLengthPrefixed(&in, &record));
    PutLengthPrefixed(&out, record);
    for (int section = 0; section < 2; ++section) {
      uint32_t count;
      EXPECT_TRUE(GetVarint32(&in, &count));
      PutVarint32(&out, count);
      EXPECT_TRUE(GetLengthPrefixed(&in, &record));
      EXPECT_EQ(record.back(), '\x01');
      std::string cut(record.substr(0, record.size() - 1));
      if (flag) cut.push_back(*flag);
      PutLengthPrefixed(&out, cut);
    }
    out += plain.substr(plain.size() - kFooter);
    return Reseal(out);
  };
  CheckpointMetadata older = m;
  older.operators[0].fully_finished = false;
  older.tasks[0].finished = false;
  EXPECT_THAT(DecodeMetadata(reframe(std::nullopt), "/x/_metadata"),
              testutil::IsOkAndHolds(older));
  EXPECT_THAT(DecodeMetadata(reframe('\x01'), "/x/_metadata"),
              testutil::IsOkAndHolds(m));
  EXPECT_THAT(DecodeMetadata(reframe('\x02'), "/x/_metadata"),
              StatusIs(Status::Code::kCorruption));
}

TEST(Metadata, EmptyFileIsTruncated) {
  EXPECT_THAT(DecodeMetadata("", "/c/chk-1/_metadata"),
              StatusIs(Status::Code::kCorruption,
                       "/c/chk-1/_metadata is truncated: 0 bytes, expected at "
                       "least 36"));
}

TEST(Metadata, TruncatedFileSaysHowLongItShouldBe) {
  const std::string bytes = EncodeOrDie(MakeMetadata());
  const std::string cut = bytes.substr(0, bytes.size() / 2);
  EXPECT_THAT(
      DecodeMetadata(cut, "/c/chk-2/_metadata"),
      StatusIs(
          Status::Code::kCorruption,
          "/c/chk-2/_metadata is truncated: " + std::to_string(cut.size()) +
              " bytes, expected at least " + std::to_string(bytes.size())));
  EXPECT_THAT(DecodeMetadata(bytes.substr(0, 5), "/m"),
              StatusIs(Status::Code::kCorruption,
                       HasSubstr("/m is truncated: 5 bytes")));
}

TEST(Metadata, ForeignFileHasBadMagic) {
  const std::string msg =
      "/tmp/x/_metadata is not a weir metadata file (bad magic)";
  EXPECT_THAT(DecodeMetadata("{\"checkpoint\": 7, \"operators\": []}",
                             "/tmp/x/_metadata"),
              StatusIs(Status::Code::kCorruption, msg));
  // Flink's magic number 0x4960672d, then a version.
  EXPECT_THAT(
      DecodeMetadata(std::string("\x49\x60\x67\x2d\x00\x00\x00\x03", 8) +
                         std::string(100, '\0'),
                     "/tmp/x/_metadata"),
      StatusIs(Status::Code::kCorruption, msg));
  EXPECT_THAT(DecodeMetadata("XY", "/tmp/x/_metadata"),
              StatusIs(Status::Code::kCorruption, msg));
}

TEST(Metadata, ChecksumMismatch) {
  std::string bytes = EncodeOrDie(MakeMetadata());
  bytes[kHeader + 20] ^= 0x40;
  EXPECT_THAT(DecodeMetadata(bytes, "/c/chk-3/_metadata"),
              StatusIs(Status::Code::kCorruption,
                       AllOf(HasSubstr("/c/chk-3/_metadata is corrupt: "
                                       "checksum mismatch (stored 0x"),
                             HasSubstr(", computed 0x"))));
}

TEST(Metadata, MissingFooterIsCorrupt) {
  std::string bytes = EncodeOrDie(MakeMetadata());
  bytes.back() ^= 1;
  EXPECT_THAT(
      DecodeMetadata(bytes, "/m"),
      StatusIs(Status::Code::kCorruption,
               HasSubstr("/m is corrupt: the footer's trailing magic")));
}

TEST(Metadata, NewerVersionIsNotSupported) {
  std::string bytes = EncodeOrDie(MakeMetadata());
  std::string version;
  PutFixed32(&version, 9);
  bytes.replace(8, 4, version);
  bytes = Reseal(bytes);
  EXPECT_THAT(DecodeMetadata(bytes, "/c/chk-4/_metadata"),
              StatusIs(Status::Code::kNotSupported,
                       "/c/chk-4/_metadata was written by a newer weir: format "
                       "version 9, this build reads up to 1"));
  PutFixed32(&version, 0);
  bytes.replace(8, 4, std::string_view(version).substr(4));
  EXPECT_THAT(DecodeMetadata(Reseal(bytes), "/m"),
              StatusIs(Status::Code::kCorruption,
                       HasSubstr("invalid format version 0")));
}

TEST(Metadata, MalformedBodyNamesTheRecord) {
  std::string bytes = EncodeOrDie(MakeMetadata());
  // Cut the body after the checkpoint record and the operators, keeping
  // a valid frame: the task count promises records that are not there.
  std::string_view body(bytes);
  body = body.substr(kHeader);
  std::string_view rec;
  ASSERT_TRUE(GetLengthPrefixed(&body, &rec));
  uint32_t count;
  ASSERT_TRUE(GetVarint32(&body, &count));
  for (uint32_t i = 0; i < count; ++i)
    ASSERT_TRUE(GetLengthPrefixed(&body, &rec));
  const size_t tasks_at = bytes.size() - body.size();
  std::string cut = bytes.substr(0, tasks_at);
  PutVarint32(&cut, 2);
  PutLengthPrefixed(&cut, "\x01");  // a task record of one byte
  cut += bytes.substr(bytes.size() - kFooter);
  EXPECT_THAT(DecodeMetadata(Reseal(cut), "/m"),
              StatusIs(Status::Code::kCorruption,
                       "/m is corrupt: malformed task record 0"));
}

TEST(Metadata, EncodeRejectsPathsOutsideTheStorage) {
  for (const std::string path :
       {"", "/abs/file", "../x", "shared/../../etc/passwd", "shared//x", "./x",
        "shared/"}) {
    CheckpointMetadata m;
    TaskSnapshotMetadata t;
    t.files.push_back(MakeFile(0, path));
    m.tasks.push_back(t);
    std::string out;
    EXPECT_THAT(Encode(m, &out), StatusIs(Status::Code::kInvalidArgument))
        << path;
  }
  EXPECT_TRUE(IsValidStoredPath("shared/abc-000012.sst"));
  EXPECT_TRUE(IsValidStoredPath("chk-7/a.zst"));
}

TEST(Metadata, DecodeRejectsPathsOutsideTheStorage) {
  CheckpointMetadata m;
  TaskSnapshotMetadata t;
  t.files.push_back(MakeFile(0, "shared/aaaaa/x"));
  m.tasks.push_back(t);
  std::string bytes = EncodeOrDie(m);
  // Same length: "shared/aaaaa/x" -> "shared/../../x".
  const size_t at = bytes.find("shared/aaaaa/x");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, 14, "shared/../../x");
  EXPECT_THAT(DecodeMetadata(Reseal(bytes), "/m"),
              StatusIs(Status::Code::kCorruption,
                       "/m is corrupt: malformed task record 0 (file record "
                       "0: its path 'shared/../../x' is not a relative path "
                       "inside the snapshot's storage)"));
}

// `bytes` with `from` replaced by `to` (of the same length, so that no
// length prefix changes) wherever it occurs, resealed: what a forged or
// damaged file that passes the checksum looks like.
std::string Forge(std::string bytes, const std::string& from,
                  const std::string& to) {
  EXPECT_EQ(from.size(), to.size());
  size_t replaced = 0;
  for (size_t at = bytes.find(from); at != std::string::npos;
       at = bytes.find(from, at + to.size())) {
    bytes.replace(at, from.size(), to);
    ++replaced;
  }
  EXPECT_GT(replaced, 0u) << from;
  return Reseal(bytes);
}

// Every name of a file record names something on disk when a snapshot is
// restored (a link in the staging area, a file of the ready-made DB, a
// staging folder per column family): one that is not a plain file name
// would reach outside the restore's directory, so decoding refuses it.
TEST(Metadata, DecodeRefusesNamesThatAreNotPlainFileNames) {
  CheckpointMetadata m;
  TaskSnapshotMetadata t;
  StoredFile f = MakeFile(0, "shared/0123-000010.sst");
  f.file.name = "NNNNNNNNNN";
  f.file.db_name = "DDDDDDDDDD";
  f.file.column_family = "CCCCCCCCCC";
  f.file.operator_id = "OOOOOOOOOO";
  t.files.push_back(f);
  m.tasks.push_back(t);
  const std::string bytes = EncodeOrDie(m);
  const struct {
    const char* placeholder;
    std::string forged;
    const char* field;
  } cases[] = {
      {"NNNNNNNNNN", "/tmp/evil1", "name '/tmp/evil1'"},
      {"NNNNNNNNNN", "../../../x", "name '../../../x'"},
      {"NNNNNNNNNN", "sub/dir/xx", "name 'sub/dir/xx'"},
      {"NNNNNNNNNN", std::string("a\0/etc/pwd", 10), "name 'a\\x00/etc/pwd'"},
      {"DDDDDDDDDD", "/etc/xxxxx", "DB name '/etc/xxxxx'"},
      {"DDDDDDDDDD", "../CURRENT", "DB name '../CURRENT'"},
      {"CCCCCCCCCC", "../../../c", "column family '../../../c'"},
      {"OOOOOOOOOO", "../../../o", "operator id '../../../o'"},
  };
  for (const auto& c : cases) {
    Result<CheckpointMetadata> r =
        DecodeMetadata(Forge(bytes, c.placeholder, c.forged), "/m");
    ASSERT_FALSE(r.ok()) << c.field;
    EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
    EXPECT_THAT(std::string(r.status().message()),
                HasSubstr("file record 0: its "))
        << r.status().ToString();
    EXPECT_THAT(std::string(r.status().message()),
                HasSubstr("is not a plain file name"))
        << r.status().ToString();
  }
  // And Encode refuses to write them in the first place.
  for (const auto& c : cases) {
    CheckpointMetadata bad = m;
    StoredFile& bf = bad.tasks[0].files[0];
    std::string* field = c.placeholder[0] == 'N'   ? &bf.file.name
                         : c.placeholder[0] == 'D' ? &bf.file.db_name
                         : c.placeholder[0] == 'C' ? &bf.file.column_family
                                                   : &bf.file.operator_id;
    *field = c.forged;
    std::string out;
    EXPECT_THAT(Encode(bad, &out), StatusIs(Status::Code::kInvalidArgument))
        << c.field;
  }
}

// Both places that name a savepoint (the coordinator's commit and the
// store's CommitSavepoint) take their id from here: one Encode accepts.
TEST(Metadata, NewSavepointIdsAre32HexDigitsAndDiffer) {
  const std::string a = NewSavepointId();
  const std::string b = NewSavepointId();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos) << a;
  EXPECT_NE(a, b);
  CheckpointMetadata m;
  m.kind = SnapshotKind::kSavepoint;
  m.savepoint_id = a;
  ASSERT_OK_AND_ASSIGN(CheckpointMetadata read,
                       DecodeMetadata(EncodeOrDie(m), "/m"));
  EXPECT_EQ(read.savepoint_id, a);
}

TEST(Metadata, DecodeRefusesAForgedSharedRootOrSavepointId) {
  CheckpointMetadata m;
  m.kind = SnapshotKind::kSavepoint;
  m.shared_root = "/srv/weir/checkpoints/job";
  m.savepoint_id = "0123456789abcdef0123456789abcdef";
  m.savepoint_dir = "/srv/weir/savepoints/sp-1";
  const std::string bytes = EncodeOrDie(m);
  EXPECT_THAT(
      DecodeMetadata(Forge(bytes, "/srv/weir/checkpoints/job",
                           "srv/weir/checkpoints/job/"),
                     "/m"),
      StatusIs(Status::Code::kCorruption, HasSubstr("its shared root")));
  EXPECT_THAT(DecodeMetadata(Forge(bytes, "/srv/weir/checkpoints/job",
                                   "/srv/weir/../../../../etc"),
                             "/m"),
              StatusIs(Status::Code::kCorruption, HasSubstr("shared root")));
  EXPECT_THAT(DecodeMetadata(Forge(bytes, "0123456789abcdef0123456789abcdef",
                                   "../../../../../../../../../../xx"),
                             "/m"),
              StatusIs(Status::Code::kCorruption, HasSubstr("savepoint id")));
  EXPECT_THAT(
      DecodeMetadata(Forge(bytes, "/srv/weir/savepoints/sp-1",
                           "/srv/weir/savepoints/../."),
                     "/m"),
      StatusIs(Status::Code::kCorruption, HasSubstr("savepoint directory")));
}

TEST(Metadata, WriteAndReadFileOrDirectory) {
  testutil::TestDir dir;
  dir.Create();
  const CheckpointMetadata m = MakeMetadata();
  const std::string chk = dir.Sub("job/chk-7");
  ASSERT_OK(WriteMetadataFile(chk, m));
  EXPECT_THAT(ReadMetadataFile(chk), testutil::IsOkAndHolds(m));
  EXPECT_THAT(ReadMetadataFile(chk + "/"), testutil::IsOkAndHolds(m));
  EXPECT_THAT(ReadMetadataFile(chk + "/_metadata"), testutil::IsOkAndHolds(m));
  EXPECT_FALSE(std::filesystem::exists(chk + "/_metadata.tmp"));

  EXPECT_THAT(ReadMetadataFile(dir.Sub("job/chk-8")),
              StatusIs(Status::Code::kNotFound,
                       "no checkpoint metadata at " + dir.Sub("job/chk-8")));
  ASSERT_OK(CreateDirs(dir.Sub("job/chk-9")));
  EXPECT_THAT(ReadMetadataFile(dir.Sub("job/chk-9")),
              StatusIs(Status::Code::kNotFound,
                       HasSubstr(dir.Sub("job/chk-9/_metadata"))));
  ASSERT_OK(AtomicWriteFile(dir.Sub("job/chk-9/_metadata"), "garbage!"));
  EXPECT_THAT(ReadMetadataFile(dir.Sub("job/chk-9")),
              StatusIs(Status::Code::kCorruption,
                       dir.Sub("job/chk-9/_metadata") +
                           " is not a weir metadata file (bad magic)"));
}

TEST(Metadata, ResolvesPathsAgainstTheStorageRoot) {
  CheckpointMetadata m;
  StoredFile shared;
  shared.path = "shared/x.sst";
  StoredFile own;
  own.path = "chk-7/y.zst";
  EXPECT_EQ(ResolveStoredPath(m, "/c/job/chk-7", shared),
            "/c/job/shared/x.sst");
  EXPECT_EQ(ResolveStoredPath(m, "/c/job/chk-7/", own), "/c/job/chk-7/y.zst");
  // A savepoint's own files resolve inside its directory, wherever it was
  // moved; shared/ ones against the checkpoint storage it references.
  m.kind = SnapshotKind::kSavepoint;
  m.shared_root = "/c/job";
  own.path = "0-1/y.zst";
  EXPECT_EQ(ResolveStoredPath(m, "/s/savepoint-abc", shared),
            "/c/job/shared/x.sst");
  EXPECT_EQ(ResolveStoredPath(m, "/s/savepoint-abc", own),
            "/s/savepoint-abc/0-1/y.zst");
  EXPECT_EQ(ResolveStoredPath(m, "/moved/sp/", own), "/moved/sp/0-1/y.zst");
  m.shared_root.clear();
  EXPECT_EQ(ResolveStoredPath(m, "/moved/sp", own), "/moved/sp/0-1/y.zst");
}

// ---- fuzzing: only errors, never a crash ----

TEST(MetadataFuzz, EveryTruncationIsAnError) {
  const std::string bytes = EncodeOrDie(MakeMetadata());
  for (size_t n = 0; n < bytes.size(); ++n) {
    // A copy of exactly n bytes, so ASan sees any read past the end.
    const std::string cut = bytes.substr(0, n);
    Result<CheckpointMetadata> r = DecodeMetadata(cut, "/m");
    ASSERT_FALSE(r.ok()) << "truncated to " << n;
    EXPECT_THAT(r, StatusIs(Status::Code::kCorruption,
                            HasSubstr("/m is truncated: " + std::to_string(n))))
        << n;
  }
}

TEST(MetadataFuzz, EveryBitFlipIsAnError) {
  const std::string bytes = EncodeOrDie(MakeMetadata());
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    std::string flipped = bytes;
    flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
    Result<CheckpointMetadata> r = DecodeMetadata(flipped, "/m");
    ASSERT_FALSE(r.ok()) << "bit " << bit << " flipped";
    ASSERT_THAT(r.status().message(), HasSubstr("/m")) << bit;
  }
}

TEST(MetadataFuzz, RandomBytesAreAnError) {
  std::mt19937_64 rng(20240601);
  for (int round = 0; round < 20000; ++round) {
    const size_t n = rng() % 300;
    std::string bytes(n, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    // Half of the inputs get past the magic check.
    if (round % 2 && n >= 8) bytes.replace(0, 8, "WEIRMETA");
    EXPECT_FALSE(DecodeMetadata(bytes, "/m").ok()) << round;
  }
}

// The checksum keeps garbage away from the record parser; these inputs
// carry a valid frame around garbage, or around a valid body with random
// edits, so the parser itself meets them. They may decode or fail, but
// never crash.
TEST(MetadataFuzz, ResealedGarbageNeverCrashes) {
  std::mt19937_64 rng(7);
  const std::string valid = EncodeOrDie(MakeMetadata());
  int decoded = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string bytes;
    if (round % 2) {
      const size_t n = rng() % 200;
      bytes = valid.substr(0, kHeader);
      for (size_t i = 0; i < n; ++i) bytes.push_back(static_cast<char>(rng()));
      bytes += valid.substr(valid.size() - kFooter);
    } else {
      bytes = valid;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits; ++e) {
        const size_t body = bytes.size() - kHeader - kFooter;
        const size_t at = kHeader + rng() % body;
        switch (rng() % 3) {
          case 0:
            bytes[at] = static_cast<char>(rng());
            break;
          case 1:
            bytes.erase(at, 1 + rng() % 8);
            break;
          default:
            bytes.insert(at, 1 + rng() % 8, static_cast<char>(rng()));
        }
        if (bytes.size() < kHeader + kFooter + 1) break;
      }
    }
    Result<CheckpointMetadata> r = DecodeMetadata(Reseal(bytes), "/m");
    if (r.ok()) ++decoded;
  }
  // Sanity: the harness does reach the parser with valid frames.
  RecordProperty("decoded", decoded);
}

}  // namespace
}  // namespace weir::engine
