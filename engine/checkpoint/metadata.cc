// SPDX-License-Identifier: Apache-2.0
#include "engine/checkpoint/metadata.h"

#include <sys/stat.h>

#include <array>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <random>
#include <utility>

#include "lib/coding.h"
#include "lib/file.h"
#include "lib/hash.h"

namespace weir::engine {

namespace {

constexpr std::string_view kMagic = "WEIRMETA";
constexpr std::string_view kTrailingMagic = "WMETAEND";
// magic (8) + version (4) + total length (8).
constexpr size_t kHeaderSize = 20;
// checksum (8) + trailing magic (8).
constexpr size_t kFooterSize = 16;
constexpr size_t kMinFileSize = kHeaderSize + kFooterSize;

// Why the names of `f` cannot be used on disk, or "" if they can. Every
// name and path of a file record names something on disk at restore:
// `name` and `db_name` are files the restore creates, `column_family` a
// directory of its staging area, `path` the stored file.
std::string InvalidFileNames(const StoredFile& stored) {
  const SnapshotFile& f = stored.file;
  auto not_plain = [](const char* field, const std::string& value) {
    return std::string("its ") + field + " " + QuoteForMessage(value) +
           " is not a plain file name";
  };
  if (!IsPlainFileName(f.name)) return not_plain("name", f.name);
  if (!IsValidStoredPath(stored.path)) {
    return "its path " + QuoteForMessage(stored.path) +
           " is not a relative path inside the snapshot's storage";
  }
  // These may be empty.
  const std::pair<const char*, const std::string*> optional[] = {
      {"DB name", &f.db_name},
      {"column family", &f.column_family},
      {"operator id", &f.operator_id}};
  for (const auto& [field, value] : optional) {
    if (!value->empty() && !IsPlainFileName(*value)) {
      return not_plain(field, *value);
    }
  }
  return "";
}

bool IsHex(std::string_view s) {
  return s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// Why the snapshot-wide names of `m` cannot be used, or "".
std::string InvalidHeaderNames(const CheckpointMetadata& m) {
  if (!m.shared_root.empty() && !IsValidStorageRoot(m.shared_root)) {
    return "its shared root " + QuoteForMessage(m.shared_root) +
           " is not an absolute, normalized path";
  }
  if (!m.savepoint_id.empty() &&
      (m.savepoint_id.size() != 32 || !IsHex(m.savepoint_id))) {
    return "its savepoint id " + QuoteForMessage(m.savepoint_id) +
           " is not 32 hex digits";
  }
  if (!m.savepoint_dir.empty() && !IsValidStorageRoot(m.savepoint_dir)) {
    return "its savepoint directory " + QuoteForMessage(m.savepoint_dir) +
           " is not an absolute, normalized path";
  }
  return "";
}

// ---- encoding ----

bool PutNonNegative(std::string* dst, int value) {
  if (value < 0) return false;
  PutVarint32(dst, static_cast<uint32_t>(value));
  return true;
}

// Values that may be -1 (an empty range's end, "no key group") are stored
// plus one.
bool PutFromMinusOne(std::string* dst, int value) {
  if (value < -1 || value == std::numeric_limits<int>::max()) return false;
  PutVarint32(dst, static_cast<uint32_t>(value + 1));
  return true;
}

void PutRecord(std::string* dst, const std::string& record) {
  PutLengthPrefixed(dst, record);
}

Status EncodeFile(const StoredFile& stored, std::string* out) {
  const SnapshotFile& f = stored.file;
  const std::string invalid = InvalidFileNames(stored);
  if (!invalid.empty()) {
    return Status::InvalidArgument("file " + QuoteForMessage(f.name) + ": " +
                                   invalid);
  }
  PutLengthPrefixed(out, f.name);
  PutLengthPrefixed(out, stored.path);
  PutFixed64(out, f.size);
  PutFixed64(out, f.checksum);
  PutLengthPrefixed(out, f.column_family);
  if (!PutNonNegative(out, f.level)) {
    return Status::InvalidArgument("file " + f.name + " has a negative level");
  }
  PutLengthPrefixed(out, f.smallest_key);
  PutLengthPrefixed(out, f.largest_key);
  PutVarint64(out, f.smallest_seqno);
  PutVarint64(out, f.largest_seqno);
  PutLengthPrefixed(out, f.operator_id);
  if (!PutFromMinusOne(out, f.key_group)) {
    return Status::InvalidArgument("file " + f.name +
                                   " has a key group below -1");
  }
  // Appended fields.
  PutVarint64(out, f.verified_inode);
  PutVarint64(out, static_cast<uint64_t>(f.verified_mtime_ns));
  PutLengthPrefixed(out, f.db_name);
  return Status::OK();
}

Status EncodeTask(const TaskSnapshotMetadata& t, std::string* out) {
  const std::string what = "task (vertex " + std::to_string(t.vertex_index) +
                           ", subtask " + std::to_string(t.subtask_index) + ")";
  if (!PutNonNegative(out, t.vertex_index) ||
      !PutNonNegative(out, t.subtask_index)) {
    return Status::InvalidArgument(what + " has a negative index");
  }
  PutVarint32(out, static_cast<uint32_t>(t.operator_ids.size()));
  for (const OperatorId& id : t.operator_ids) out->append(id.bytes());
  if (!PutNonNegative(out, t.key_group_range.start) ||
      !PutFromMinusOne(out, t.key_group_range.end)) {
    return Status::InvalidArgument(what + " has an invalid key-group range");
  }
  out->push_back(static_cast<char>(t.format));
  if (!PutNonNegative(out, t.max_parallelism)) {
    return Status::InvalidArgument(what + " has a negative max parallelism");
  }
  PutVarint64(out, t.sequence_number);
  PutVarint32(out, static_cast<uint32_t>(t.files.size()));
  std::string record;
  for (const StoredFile& f : t.files) {
    record.clear();
    Status s = EncodeFile(f, &record);
    if (!s.ok()) return s.WithContext(what);
    PutRecord(out, record);
  }
  // Appended field: operator list states.
  PutVarint32(out, static_cast<uint32_t>(t.operator_states.size()));
  for (const OperatorStateMetadata& st : t.operator_states) {
    record.clear();
    record.append(st.operator_id.bytes());
    PutLengthPrefixed(&record, st.name);
    record.push_back(static_cast<char>(st.mode));
    PutVarint32(&record, static_cast<uint32_t>(st.values.size()));
    for (const std::string& v : st.values) PutLengthPrefixed(&record, v);
    PutRecord(out, record);
  }
  // Appended field: the ready-made DB's file count.
  PutVarint32(out, t.ready_db_files);
  // Appended field: finished before the cut.
  out->push_back(t.finished ? 1 : 0);
  return Status::OK();
}

// ---- decoding ----

// Consumes fields from the front of one record. Every getter returns false
// when the record ends early or a value is out of range.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool empty() const { return in_.empty(); }
  size_t remaining() const { return in_.size(); }

  bool Bytes(size_t n, std::string_view* out) {
    if (in_.size() < n) return false;
    *out = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool String(std::string* out) {
    std::string_view v;
    if (!GetLengthPrefixed(&in_, &v)) return false;
    out->assign(v);
    return true;
  }
  bool Record(Reader* out) {
    std::string_view v;
    if (!GetLengthPrefixed(&in_, &v)) return false;
    *out = Reader(v);
    return true;
  }
  bool Byte(uint8_t* out) {
    if (in_.empty()) return false;
    *out = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool Varint32(uint32_t* out) { return GetVarint32(&in_, out); }
  bool Varint64(uint64_t* out) { return GetVarint64(&in_, out); }
  bool Fixed64(uint64_t* out) { return GetFixed64(&in_, out); }
  bool NonNegative(int* out) {
    uint32_t v;
    if (!GetVarint32(&in_, &v) || v > uint32_t{INT32_MAX}) return false;
    *out = static_cast<int>(v);
    return true;
  }
  bool FromMinusOne(int* out) {
    uint32_t v;
    if (!GetVarint32(&in_, &v) || v > uint32_t{INT32_MAX}) return false;
    *out = static_cast<int>(v) - 1;
    return true;
  }
  bool Id16(std::array<uint8_t, 16>* out) {
    std::string_view v;
    if (!Bytes(16, &v)) return false;
    for (size_t i = 0; i < 16; ++i) (*out)[i] = static_cast<uint8_t>(v[i]);
    return true;
  }
  // A count of records each at least `min_record_size` bytes long; rejects
  // counts the rest of the input cannot hold, so no loop runs wild.
  bool Count(size_t min_record_size, uint32_t* out) {
    if (!GetVarint32(&in_, out)) return false;
    return uint64_t{*out} * min_record_size <= in_.size();
  }

 private:
  std::string_view in_;
};

// Every record reads its version-1 fields as required. A field added by a
// later version goes at the end of its record and is read only
// `if (!r.empty())`, keeping its default otherwise; whatever is left after
// the known fields was appended by a newer writer and is skipped.

// On failure *why says what is wrong when it is more than malformed bytes.
bool DecodeFile(Reader r, StoredFile* stored, std::string* why) {
  SnapshotFile* f = &stored->file;
  if (!r.String(&f->name) || !r.String(&stored->path) || !r.Fixed64(&f->size) ||
      !r.Fixed64(&f->checksum) || !r.String(&f->column_family) ||
      !r.NonNegative(&f->level) || !r.String(&f->smallest_key) ||
      !r.String(&f->largest_key) || !r.Varint64(&f->smallest_seqno) ||
      !r.Varint64(&f->largest_seqno) || !r.String(&f->operator_id) ||
      !r.FromMinusOne(&f->key_group)) {
    return false;
  }
  if (!r.empty()) {
    uint64_t mtime = 0;
    if (!r.Varint64(&f->verified_inode) || !r.Varint64(&mtime)) return false;
    f->verified_mtime_ns = static_cast<int64_t>(mtime);
  }
  if (!r.empty() && !r.String(&f->db_name)) return false;
  *why = InvalidFileNames(*stored);
  return why->empty();
}

// A byte that is 0 (false) or 1 (true).
bool Flag(Reader* r, bool* out) {
  uint8_t v;
  if (!r->Byte(&v) || v > 1) return false;
  *out = v == 1;
  return true;
}

bool ValidSnapshotFormat(uint8_t v) {
  return v == static_cast<uint8_t>(SnapshotFormat::kRocksDBSst) ||
         v == static_cast<uint8_t>(SnapshotFormat::kKeyGroupStreams);
}

// On failure *why names the malformed file record, if it was one.
bool DecodeTask(Reader r, TaskSnapshotMetadata* t, std::string* why) {
  uint32_t n_ops;
  if (!r.NonNegative(&t->vertex_index) || !r.NonNegative(&t->subtask_index) ||
      !r.Count(OperatorId::kSize, &n_ops)) {
    return false;
  }
  for (uint32_t i = 0; i < n_ops; ++i) {
    std::array<uint8_t, 16> id;
    if (!r.Id16(&id)) return false;
    t->operator_ids.emplace_back(id);
  }
  uint8_t format;
  uint32_t n_files;
  if (!r.NonNegative(&t->key_group_range.start) ||
      !r.FromMinusOne(&t->key_group_range.end) || !r.Byte(&format) ||
      !ValidSnapshotFormat(format) || !r.NonNegative(&t->max_parallelism) ||
      !r.Varint64(&t->sequence_number) || !r.Count(1, &n_files)) {
    return false;
  }
  t->format = static_cast<SnapshotFormat>(format);
  for (uint32_t i = 0; i < n_files; ++i) {
    Reader record("");
    StoredFile f;
    std::string invalid;
    if (!r.Record(&record) || !DecodeFile(record, &f, &invalid)) {
      *why = "file record " + std::to_string(i);
      if (!invalid.empty()) *why += ": " + invalid;
      return false;
    }
    t->files.push_back(std::move(f));
  }
  if (r.empty()) return true;  // written before operator states were kept
  uint32_t n_states;
  if (!r.Count(1, &n_states)) return false;
  for (uint32_t i = 0; i < n_states; ++i) {
    Reader record("");
    OperatorStateMetadata st;
    std::array<uint8_t, 16> id;
    uint32_t n_values;
    if (!r.Record(&record) || !record.Id16(&id) || !record.String(&st.name) ||
        !record.Byte(&st.mode) || (st.mode != 1 && st.mode != 2) ||
        !record.Count(1, &n_values)) {
      return false;
    }
    st.operator_id = OperatorId(id);
    for (uint32_t j = 0; j < n_values; ++j) {
      std::string v;
      if (!record.String(&v)) return false;
      st.values.push_back(std::move(v));
    }
    t->operator_states.push_back(std::move(st));
  }
  if (!r.empty() && !r.Varint32(&t->ready_db_files)) return false;
  if (!r.empty() && !Flag(&r, &t->finished)) return false;
  return true;
}

bool DecodeOperator(Reader r, OperatorMetadata* op) {
  std::array<uint8_t, 16> id;
  if (!r.Id16(&id) || !r.String(&op->uid) || !r.String(&op->name) ||
      !r.NonNegative(&op->parallelism) ||
      !r.NonNegative(&op->max_parallelism)) {
    return false;
  }
  // Appended field.
  if (!r.empty() && !Flag(&r, &op->fully_finished)) return false;
  op->id = OperatorId(id);
  return true;
}

bool DecodeHeaderRecord(Reader r, CheckpointMetadata* m) {
  std::array<uint8_t, 16> job_id;
  uint8_t kind, format;
  uint64_t trigger, completion;
  if (!r.Id16(&job_id) || !r.String(&m->job_name) ||
      !r.Varint64(&m->checkpoint_id) || !r.Byte(&kind) || !r.Byte(&format) ||
      !r.Fixed64(&trigger) || !r.Fixed64(&completion) ||
      !r.String(&m->shared_root)) {
    return false;
  }
  // Appended fields.
  if (!r.empty() && !r.String(&m->savepoint_id)) return false;
  if (!r.empty() && !r.String(&m->savepoint_dir)) return false;
  if (kind != static_cast<uint8_t>(SnapshotKind::kCheckpoint) &&
      kind != static_cast<uint8_t>(SnapshotKind::kSavepoint)) {
    return false;
  }
  if (format != static_cast<uint8_t>(SavepointFormat::kNative) &&
      format != static_cast<uint8_t>(SavepointFormat::kCanonical)) {
    return false;
  }
  m->job_id = JobId(job_id);
  m->kind = static_cast<SnapshotKind>(kind);
  m->savepoint_format = static_cast<SavepointFormat>(format);
  m->trigger_time_ms = static_cast<int64_t>(trigger);
  m->completion_time_ms = static_cast<int64_t>(completion);
  return true;
}

std::array<uint8_t, 16> JobIdBytes(const JobId& id) {
  // JobId exposes hex only; its hex is always 32 valid digits.
  std::string raw;
  const bool ok = FromHex(id.ToHex(), &raw);
  (void)ok;
  std::array<uint8_t, 16> out{};
  for (size_t i = 0; i < out.size() && i < raw.size(); ++i) {
    out[i] = static_cast<uint8_t>(raw[i]);
  }
  return out;
}

}  // namespace

std::string NewSavepointId() {
  // One generator per thread, so that no lock is needed.
  thread_local std::mt19937_64 rng = [] {
    std::random_device rd;
    std::seed_seq seed{rd(), rd(), rd(), rd()};
    return std::mt19937_64(seed);
  }();
  const uint64_t high = rng();
  const uint64_t low = rng();
  char id[33];
  std::snprintf(id, sizeof(id), "%016" PRIx64 "%016" PRIx64, high, low);
  return id;
}

StoredFile ToStoredFile(const SnapshotFile& file, std::string path) {
  StoredFile out{file, std::move(path)};
  out.file.local_path.clear();
  return out;
}

StoredFile Stamped(StoredFile f, const std::optional<FileStamp>& stamp) {
  const bool known = stamp && stamp->inode != 0 && stamp->size == f.file.size;
  f.file.verified_inode = known ? stamp->inode : 0;
  f.file.verified_mtime_ns = known ? stamp->mtime_ns : 0;
  return f;
}

TaskSnapshotMetadata MakeTaskSnapshot(int vertex_index, int subtask_index,
                                      std::vector<OperatorId> operator_ids,
                                      const BackendSnapshot& snapshot,
                                      std::vector<StoredFile> stored) {
  TaskSnapshotMetadata t;
  t.vertex_index = vertex_index;
  t.subtask_index = subtask_index;
  t.operator_ids = std::move(operator_ids);
  t.key_group_range = snapshot.key_group_range;
  t.format = snapshot.format;
  t.max_parallelism = snapshot.max_parallelism;
  t.sequence_number = snapshot.sequence_number;
  t.files = std::move(stored);
  t.ready_db_files = snapshot.ready_db_files;
  return t;
}

BackendSnapshot ToBackendSnapshot(const CheckpointMetadata& metadata,
                                  const std::string& metadata_dir,
                                  const TaskSnapshotMetadata& task) {
  BackendSnapshot out;
  out.format = task.format;
  out.max_parallelism = task.max_parallelism;
  out.key_group_range = task.key_group_range;
  out.sequence_number = task.sequence_number;
  for (const StoredFile& f : task.files) {
    out.files.push_back(f.file);
    out.files.back().local_path = ResolveStoredPath(metadata, metadata_dir, f);
  }
  out.ready_db_files = task.ready_db_files;
  return out;
}

bool IsValidStoredPath(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.size() > kMaxPathBytes) {
    return false;
  }
  while (true) {
    const size_t slash = path.find('/');
    if (!IsPlainFileName(path.substr(0, slash))) return false;
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

bool IsValidStorageRoot(std::string_view path) {
  if (path.size() < 2 || path.front() != '/' || path.back() == '/' ||
      path.size() > kMaxPathBytes) {
    return false;
  }
  return IsValidStoredPath(path.substr(1));
}

Status Encode(const CheckpointMetadata& m, std::string* out) {
  out->clear();
  const std::string invalid = InvalidHeaderNames(m);
  if (!invalid.empty()) return Status::InvalidArgument(invalid);
  out->append(kMagic);
  PutFixed32(out, kMetadataFormatVersion);
  PutFixed64(out, 0);  // total length, filled in below

  std::string record;
  const std::array<uint8_t, 16> job_id = JobIdBytes(m.job_id);
  record.append(reinterpret_cast<const char*>(job_id.data()), job_id.size());
  PutLengthPrefixed(&record, m.job_name);
  PutVarint64(&record, m.checkpoint_id);
  record.push_back(static_cast<char>(m.kind));
  record.push_back(static_cast<char>(m.savepoint_format));
  PutFixed64(&record, static_cast<uint64_t>(m.trigger_time_ms));
  PutFixed64(&record, static_cast<uint64_t>(m.completion_time_ms));
  PutLengthPrefixed(&record, m.shared_root);
  PutLengthPrefixed(&record, m.savepoint_id);
  PutLengthPrefixed(&record, m.savepoint_dir);
  PutRecord(out, record);

  PutVarint32(out, static_cast<uint32_t>(m.operators.size()));
  for (const OperatorMetadata& op : m.operators) {
    record.clear();
    record.append(op.id.bytes());
    PutLengthPrefixed(&record, op.uid);
    PutLengthPrefixed(&record, op.name);
    if (!PutNonNegative(&record, op.parallelism) ||
        !PutNonNegative(&record, op.max_parallelism)) {
      return Status::InvalidArgument("operator " + op.id.ToHex() +
                                     " has a negative parallelism");
    }
    // Appended field.
    record.push_back(op.fully_finished ? 1 : 0);
    PutRecord(out, record);
  }

  PutVarint32(out, static_cast<uint32_t>(m.tasks.size()));
  for (const TaskSnapshotMetadata& t : m.tasks) {
    record.clear();
    Status s = EncodeTask(t, &record);
    if (!s.ok()) return s;
    PutRecord(out, record);
  }

  const uint64_t total = out->size() + kFooterSize;
  std::string length;
  PutFixed64(&length, total);
  out->replace(12, 8, length);
  PutFixed64(out, Hash64(*out));
  out->append(kTrailingMagic);
  return Status::OK();
}

Result<CheckpointMetadata> DecodeMetadata(std::string_view bytes,
                                          std::string_view path_for_messages) {
  const std::string path(path_for_messages);
  const size_t n = bytes.size();
  auto truncated = [&](uint64_t expected) {
    return Status::Corruption(path + " is truncated: " + std::to_string(n) +
                              " bytes, expected at least " +
                              std::to_string(expected));
  };
  auto corrupt = [&](const std::string& why) {
    return Status::Corruption(path + " is corrupt: " + why);
  };

  if (n < kMagic.size()) {
    if (bytes == kMagic.substr(0, n)) return truncated(kMinFileSize);
    return Status::Corruption(path +
                              " is not a weir metadata file (bad magic)");
  }
  if (bytes.substr(0, kMagic.size()) != kMagic) {
    return Status::Corruption(path +
                              " is not a weir metadata file (bad magic)");
  }
  if (n < kHeaderSize) return truncated(kMinFileSize);
  const uint32_t version = DecodeFixed32(bytes.data() + 8);
  const uint64_t length = DecodeFixed64(bytes.data() + 12);

  // The framing (header and footer) is the same in every format version, so
  // integrity is checked before the version is looked at.
  const bool has_footer =
      n >= kMinFileSize &&
      bytes.substr(n - kTrailingMagic.size()) == kTrailingMagic;
  if (!has_footer) {
    if (length > n) return truncated(length);
    if (n < kMinFileSize) return truncated(kMinFileSize);
    return corrupt("the footer's trailing magic is missing");
  }
  const uint64_t stored = DecodeFixed64(bytes.data() + n - kFooterSize);
  const uint64_t computed = Hash64(bytes.substr(0, n - kFooterSize));
  if (stored != computed) {
    return corrupt("checksum mismatch (stored " + Hex64(stored) +
                   ", computed " + Hex64(computed) + ")");
  }
  if (length != n) {
    return corrupt("its header gives a length of " + std::to_string(length) +
                   " bytes, the file has " + std::to_string(n));
  }
  if (version == 0) return corrupt("invalid format version 0");
  if (version > kMetadataFormatVersion) {
    return Status::NotSupported(
        path + " was written by a newer weir: format version " +
        std::to_string(version) + ", this build reads up to " +
        std::to_string(kMetadataFormatVersion));
  }

  Reader body(bytes.substr(kHeaderSize, n - kMinFileSize));
  CheckpointMetadata m;
  Reader record("");
  if (!body.Record(&record) || !DecodeHeaderRecord(record, &m)) {
    return corrupt("malformed checkpoint record");
  }
  const std::string invalid = InvalidHeaderNames(m);
  if (!invalid.empty()) return corrupt(invalid);
  uint32_t count;
  if (!body.Count(1, &count)) return corrupt("malformed operator count");
  for (uint32_t i = 0; i < count; ++i) {
    OperatorMetadata op;
    if (!body.Record(&record) || !DecodeOperator(record, &op)) {
      return corrupt("malformed operator record " + std::to_string(i));
    }
    m.operators.push_back(std::move(op));
  }
  if (!body.Count(1, &count)) return corrupt("malformed task count");
  for (uint32_t i = 0; i < count; ++i) {
    TaskSnapshotMetadata t;
    std::string bad_file;
    if (!body.Record(&record) || !DecodeTask(record, &t, &bad_file)) {
      std::string why = "malformed task record " + std::to_string(i);
      if (!bad_file.empty()) why += " (" + bad_file + ")";
      return corrupt(why);
    }
    m.tasks.push_back(std::move(t));
  }
  // Anything left in the body are sections a newer writer appended.
  return m;
}

std::string MetadataFilePath(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    std::string out = path;
    if (out.empty() || out.back() != '/') out += '/';
    out += kMetadataFileName;
    return out;
  }
  return path;
}

Status WriteMetadataFile(const std::string& dir,
                         const CheckpointMetadata& metadata, bool* in_place) {
  if (in_place != nullptr) *in_place = false;
  std::string bytes;
  Status s = Encode(metadata, &bytes);
  if (!s.ok()) return s.WithContext("cannot write metadata into " + dir);
  s = CreateDirsDurably(dir);
  if (!s.ok()) return s;
  return AtomicWriteFile(dir + "/" + std::string(kMetadataFileName), bytes,
                         in_place);
}

Result<CheckpointMetadata> ReadMetadataFile(const std::string& path) {
  const std::string file = MetadataFilePath(path);
  Result<std::string> bytes = ReadFileToString(file, kMaxMetadataBytes);
  if (!bytes.ok()) {
    if (bytes.status().IsNotFound()) {
      return Status::NotFound("no checkpoint metadata at " + file);
    }
    return bytes.status();
  }
  return DecodeMetadata(*bytes, file);
}

std::string ResolveStoredPath(const CheckpointMetadata& metadata,
                              const std::string& metadata_dir,
                              const StoredFile& file) {
  // Built with append(): GCC 12 at -O3 warns falsely (-Wrestrict) about
  // `a + "/" + b`.
  std::string out;
  if (!metadata.shared_root.empty() && file.path.starts_with("shared/")) {
    out.append(metadata.shared_root);
  } else if (metadata.kind == SnapshotKind::kSavepoint) {
    // A savepoint's own files are inside its directory, which may have been
    // moved or renamed.
    out.append(metadata_dir);
    while (out.size() > 1 && out.back() == '/') out.pop_back();
  } else {
    std::filesystem::path dir(metadata_dir);
    if (!dir.has_filename()) dir = dir.parent_path();  // trailing slash
    out.append(dir.parent_path().string());
    if (out.empty()) out.push_back('.');
  }
  out.push_back('/');
  out.append(file.path);
  return out;
}

std::optional<uint64_t> ParseCheckpointDirName(std::string_view name) {
  if (!name.starts_with("chk-")) return std::nullopt;
  name.remove_prefix(4);
  if (name.empty() || name.size() > 20) return std::nullopt;
  uint64_t id = 0;
  const auto [end, ec] =
      std::from_chars(name.data(), name.data() + name.size(), id);
  if (ec != std::errc() || end != name.data() + name.size()) {
    return std::nullopt;
  }
  return id;
}

}  // namespace weir::engine
