// SPDX-License-Identifier: Apache-2.0
#include "backends/common/key_group_streams.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <system_error>

#include "backends/common/snapshot_files.h"
#include "backends/common/state_registry.h"
#include "lib/coding.h"
#include "lib/compression.h"
#include "lib/file.h"
#include "lib/hash.h"

namespace weir {

namespace {

constexpr std::string_view kStreamMagic = "WKGS";
constexpr std::string_view kOperatorMagic = "WOPS";
constexpr uint32_t kStreamVersion = 1;

int64_t MicrosSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now() - start)
      .count();
}

// Descriptors of an operator with their index by name.
struct DescriptorTable {
  std::vector<RawStateDescriptor> states;
  std::map<std::string, uint32_t, std::less<>> index;
  std::string encoded;  // varint count + length-prefixed descriptors

  explicit DescriptorTable(std::vector<RawStateDescriptor> d)
      : states(std::move(d)) {
    PutVarint32(&encoded, static_cast<uint32_t>(states.size()));
    for (uint32_t i = 0; i < states.size(); ++i) {
      index.emplace(states[i].name, i);
      std::string one;
      internal::EncodeDescriptor(states[i], &one);
      PutLengthPrefixed(&encoded, one);
    }
  }
};

void PutHeader(std::string* out, std::string_view magic, int key_group,
               const OperatorId& op) {
  out->append(magic);
  PutVarint32(out, kStreamVersion);
  if (key_group >= 0) PutVarint32(out, static_cast<uint32_t>(key_group));
  out->append(op.bytes());
}

Status EncodeEntry(const DescriptorTable& table, const StateEntry& e,
                   std::string* out) {
  out->push_back(static_cast<char>(e.kind));
  if (e.kind == StateEntry::Kind::kTimer) {
    out->push_back(static_cast<char>(e.timer_domain));
  } else {
    if (e.state == nullptr) return Status::InvalidArgument("entry of no state");
    auto it = table.index.find(e.state->name);
    if (it == table.index.end()) {
      return Status::Corruption("entry of unregistered state '" +
                                e.state->name + "'");
    }
    PutVarint32(out, it->second);
  }
  PutLengthPrefixed(out, e.key);
  PutLengthPrefixed(out, e.ns);
  if (e.kind == StateEntry::Kind::kMapEntry) PutLengthPrefixed(out, e.user_key);
  if (e.kind != StateEntry::Kind::kTimer) PutLengthPrefixed(out, e.value);
  PutFixed64(out, static_cast<uint64_t>(e.timestamp));
  return Status::OK();
}

Status WriteFileNoSync(const std::string& path, std::string_view data) {
  std::FILE* f = std::fopen(path.c_str(), "wbx");
  if (f == nullptr) {
    return Status::IOError(
        "cannot create " + path + ": " +
        std::error_code(errno, std::generic_category()).message());
  }
  const size_t written = std::fwrite(data.data(), 1, data.size(), f);
  const bool closed = std::fclose(f) == 0;
  if (written != data.size() || !closed) {
    return Status::IOError("cannot write " + path);
  }
  return Status::OK();
}

// One file to write: its description and its uncompressed payload.
struct PendingFile {
  SnapshotFile file;
  std::string payload;
};

class StreamPendingSnapshot final : public PendingSnapshot {
 public:
  StreamPendingSnapshot(BackendSnapshot snapshot,
                        std::vector<PendingFile> files, std::string local_dir,
                        std::shared_ptr<std::atomic<int>> pending,
                        SnapshotStats stats)
      : snapshot_(std::move(snapshot)),
        files_(std::move(files)),
        local_dir_(std::move(local_dir)),
        pending_(std::move(pending)),
        stats_(std::move(stats)) {
    pending_->fetch_add(1);
  }
  ~StreamPendingSnapshot() override { Release(); }

  Result<BackendSnapshot> Complete() override {
    const auto start = std::chrono::steady_clock::now();
    Result<BackendSnapshot> out = Write();
    Release();
    stats_.async_micros = MicrosSince(start);
    return out;
  }

  const SnapshotStats& stats() const override { return stats_; }

 private:
  Result<BackendSnapshot> Write() {
    if (done_) return Status::InvalidArgument("snapshot already completed");
    done_ = true;
    for (PendingFile& p : files_) {
      Result<std::string> compressed = ZstdCompress(p.payload);
      if (!compressed.ok()) return compressed.status();
      std::string().swap(p.payload);
      p.file.local_path =
          (std::filesystem::path(local_dir_) / p.file.name).string();
      Status s = WriteFileNoSync(p.file.local_path, *compressed);
      if (!s.ok()) return s;
      p.file.size = compressed->size();
      p.file.checksum = Hash64(*compressed);
      stats_.bytes += p.file.size;
      ++stats_.files;
      snapshot_.files.push_back(std::move(p.file));
    }
    files_.clear();
    return std::move(snapshot_);
  }

  void Release() {
    if (pending_) pending_->fetch_sub(1);
    pending_.reset();
    files_.clear();
  }

  BackendSnapshot snapshot_;
  std::vector<PendingFile> files_;
  std::string local_dir_;
  std::shared_ptr<std::atomic<int>> pending_;
  SnapshotStats stats_;
  bool done_ = false;
};

// Parsing ------------------------------------------------------------------

Status Malformed(const SnapshotFile& f, std::string_view what) {
  return Status::Corruption("snapshot file " + f.local_path + " (" + f.name +
                            "): " + std::string(what));
}

Status ReadDescriptors(const SnapshotFile& f, std::string_view* in,
                       std::vector<RawStateDescriptor>* out) {
  uint32_t count;
  if (!GetVarint32(in, &count)) return Malformed(f, "truncated descriptors");
  for (uint32_t i = 0; i < count; ++i) {
    std::string_view bytes;
    if (!GetLengthPrefixed(in, &bytes)) {
      return Malformed(f, "truncated descriptor");
    }
    RawStateDescriptor d;
    Status s = internal::DecodeDescriptor(bytes, &d);
    if (!s.ok()) return s.WithContext(f.local_path);
    out->push_back(std::move(d));
  }
  return Status::OK();
}

Status RegisterStates(KeyedStateBackend& backend, const OperatorId& op,
                      const std::vector<RawStateDescriptor>& states) {
  for (const RawStateDescriptor& d : states) {
    Status s;
    switch (internal::FamilyOf(d.type)) {
      case internal::StateFamily::kValue:
        s = backend.GetValueState(op, d).status();
        break;
      case internal::StateFamily::kList:
        s = backend.GetListState(op, d).status();
        break;
      case internal::StateFamily::kMap:
        s = backend.GetMapState(op, d).status();
        break;
    }
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Result<std::string> ReadVerified(const SnapshotFile& f) {
  Result<std::string> raw = ReadFileToString(f.local_path, f.size);
  if (!raw.ok()) {
    if (!raw.status().IsInvalidArgument()) return raw.status();
    // Not a regular file, or longer than recorded.
    return Status::Corruption("snapshot file " + f.local_path + " (" + f.name +
                              "): " + std::string(raw.status().message()));
  }
  if (raw->size() != f.size) {
    return Status::Corruption("snapshot file " + f.local_path + " (" + f.name +
                              "): size mismatch: expected " +
                              std::to_string(f.size) + " bytes, found " +
                              std::to_string(raw->size()));
  }
  const uint64_t sum = Hash64(*raw);
  if (sum != f.checksum) {
    return Status::Corruption("snapshot file " + f.local_path + " (" + f.name +
                              "): checksum mismatch: expected " +
                              std::to_string(f.checksum) + ", computed " +
                              std::to_string(sum));
  }
  Result<std::string> payload = ZstdDecompress(*raw);
  if (!payload.ok()) return payload.status().WithContext(f.local_path);
  return payload;
}

Status ReadHeader(const SnapshotFile& f, std::string_view magic,
                  std::string_view* in, int* key_group, OperatorId* op) {
  if (!in->starts_with(magic)) return Malformed(f, "bad magic");
  in->remove_prefix(magic.size());
  uint32_t version;
  if (!GetVarint32(in, &version)) return Malformed(f, "truncated header");
  if (version != kStreamVersion) {
    return Malformed(f, "unknown stream version " + std::to_string(version));
  }
  if (key_group != nullptr) {
    uint32_t kg;
    if (!GetVarint32(in, &kg)) return Malformed(f, "truncated header");
    *key_group = static_cast<int>(kg);
  }
  if (in->size() < OperatorId::kSize) return Malformed(f, "truncated header");
  *op = OperatorId::FromBytes(in->substr(0, OperatorId::kSize));
  in->remove_prefix(OperatorId::kSize);
  return Status::OK();
}

Status ImportStream(KeyedStateBackend& backend, const SnapshotFile& f) {
  Result<std::string> payload = ReadVerified(f);
  if (!payload.ok()) return payload.status();
  std::string_view in = *payload;
  int kg = -1;
  OperatorId op;
  Status s = ReadHeader(f, kStreamMagic, &in, &kg, &op);
  if (!s.ok()) return s;
  std::vector<RawStateDescriptor> states;
  s = ReadDescriptors(f, &in, &states);
  if (!s.ok()) return s;
  s = RegisterStates(backend, op, states);
  if (!s.ok()) return s;
  while (!in.empty()) {
    StateEntry e;
    const auto kind = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    if (kind > static_cast<uint8_t>(StateEntry::Kind::kTimer)) {
      return Malformed(f, "unknown entry kind");
    }
    e.kind = static_cast<StateEntry::Kind>(kind);
    if (e.kind == StateEntry::Kind::kTimer) {
      if (in.empty() || static_cast<uint8_t>(in[0]) > 1) {
        return Malformed(f, "bad timer domain");
      }
      e.timer_domain = static_cast<TimeDomain>(in[0]);
      in.remove_prefix(1);
    } else {
      uint32_t index;
      if (!GetVarint32(&in, &index) || index >= states.size()) {
        return Malformed(f, "bad state index");
      }
      e.state = &states[index];
    }
    bool ok = GetLengthPrefixed(&in, &e.key) && GetLengthPrefixed(&in, &e.ns);
    if (ok && e.kind == StateEntry::Kind::kMapEntry) {
      ok = GetLengthPrefixed(&in, &e.user_key);
    }
    if (ok && e.kind != StateEntry::Kind::kTimer) {
      ok = GetLengthPrefixed(&in, &e.value);
    }
    uint64_t ts = 0;
    if (!ok || !GetFixed64(&in, &ts)) return Malformed(f, "truncated entry");
    e.timestamp = static_cast<int64_t>(ts);
    if (KeyGroupForKey(e.key, backend.max_parallelism()) != kg) {
      return Malformed(f, "entry of another key group");
    }
    s = backend.ImportEntry(op, e);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Status ImportOperatorFile(
    KeyedStateBackend& backend, const SnapshotFile& f,
    std::map<std::pair<OperatorId, std::string>, bool>* seen_lists) {
  Result<std::string> payload = ReadVerified(f);
  if (!payload.ok()) return payload.status();
  std::string_view in = *payload;
  OperatorId op;
  Status s = ReadHeader(f, kOperatorMagic, &in, nullptr, &op);
  if (!s.ok()) return s;
  std::vector<RawStateDescriptor> states;
  s = ReadDescriptors(f, &in, &states);
  if (!s.ok()) return s;
  s = RegisterStates(backend, op, states);
  if (!s.ok()) return s;
  uint32_t lists;
  if (!GetVarint32(&in, &lists)) return Malformed(f, "truncated lists");
  for (uint32_t i = 0; i < lists; ++i) {
    std::string_view name;
    uint32_t count;
    if (!GetLengthPrefixed(&in, &name) || in.empty()) {
      return Malformed(f, "truncated list");
    }
    const auto mode = static_cast<OperatorStateMode>(in[0]);
    in.remove_prefix(1);
    if (!GetVarint32(&in, &count)) return Malformed(f, "truncated list");
    std::vector<std::string> values;
    for (uint32_t v = 0; v < count; ++v) {
      std::string_view value;
      if (!GetLengthPrefixed(&in, &value)) {
        return Malformed(f, "truncated list");
      }
      values.emplace_back(value);
    }
    Result<RawOperatorListState*> list =
        backend.GetOperatorListState(op, name, mode);
    if (!list.ok()) return list.status();
    bool& seen = (*seen_lists)[{op, std::string(name)}];
    if (seen) {
      for (const std::string& v : values) {
        s = (*list)->Add(v);
        if (!s.ok()) return s;
      }
    } else {
      s = (*list)->Update(values);
      if (!s.ok()) return s;
    }
    seen = true;
  }
  if (!in.empty()) return Malformed(f, "trailing bytes");
  return Status::OK();
}

}  // namespace

namespace internal {

Result<std::unique_ptr<PendingSnapshot>> TakeKeyGroupStreamSnapshot(
    KeyedStateBackend& backend, int64_t checkpoint_id,
    const std::string& local_dir, std::shared_ptr<std::atomic<int>> pending) {
  const auto start = std::chrono::steady_clock::now();
  Status s = CreateDirs(local_dir);
  if (!s.ok()) return s;
  BackendSnapshot snapshot;
  snapshot.format = SnapshotFormat::kKeyGroupStreams;
  snapshot.max_parallelism = backend.max_parallelism();
  snapshot.key_group_range = backend.key_group_range();
  std::vector<PendingFile> files;
  for (const OperatorId& op : backend.Operators()) {
    const std::string hex = op.ToHex();
    DescriptorTable table(backend.States(op));
    PendingFile opfile;
    opfile.file.name = hex + "-operator.zst";
    opfile.file.operator_id = hex;
    opfile.file.key_group = -1;
    PutHeader(&opfile.payload, kOperatorMagic, -1, op);
    opfile.payload.append(table.encoded);
    Result<std::vector<KeyedStateBackend::OperatorStateEntry>> lists =
        backend.OperatorStates(op);
    if (!lists.ok()) return lists.status();
    PutVarint32(&opfile.payload, static_cast<uint32_t>(lists->size()));
    for (const auto& list : *lists) {
      PutLengthPrefixed(&opfile.payload, list.name);
      opfile.payload.push_back(static_cast<char>(list.mode));
      PutVarint32(&opfile.payload, static_cast<uint32_t>(list.values.size()));
      for (const std::string& v : list.values) {
        PutLengthPrefixed(&opfile.payload, v);
      }
    }
    files.push_back(std::move(opfile));

    const KeyGroupRange range = backend.key_group_range();
    for (int kg = range.start; kg <= range.end; ++kg) {
      PendingFile stream;
      PutHeader(&stream.payload, kStreamMagic, kg, op);
      stream.payload.append(table.encoded);
      const size_t header = stream.payload.size();
      s = backend.ForEachEntry(op, kg, [&](const StateEntry& e) {
        return EncodeEntry(table, e, &stream.payload);
      });
      if (!s.ok()) return s;
      if (stream.payload.size() == header) continue;
      char suffix[16];
      std::snprintf(suffix, sizeof(suffix), "-kg%05d.zst", kg);
      stream.file.name = hex + suffix;
      stream.file.operator_id = hex;
      stream.file.key_group = kg;
      files.push_back(std::move(stream));
    }
  }
  SnapshotStats stats;
  stats.checkpoint_id = checkpoint_id;
  stats.sync_micros = MicrosSince(start);
  return std::unique_ptr<PendingSnapshot>(
      std::make_unique<StreamPendingSnapshot>(
          std::move(snapshot), std::move(files), local_dir, std::move(pending),
          std::move(stats)));
}

}  // namespace internal

Status ImportKeyGroupStreams(KeyedStateBackend& backend,
                             const std::vector<BackendSnapshot>& snapshots) {
  // Verify every file before changing anything.
  for (const BackendSnapshot& snap : snapshots) {
    if (snap.format != SnapshotFormat::kKeyGroupStreams) {
      return Status::InvalidArgument("not a key-group stream snapshot");
    }
    if (snap.max_parallelism != backend.max_parallelism()) {
      return Status::InvalidArgument(
          "snapshot has max parallelism " +
          std::to_string(snap.max_parallelism) + ", the backend " +
          std::to_string(backend.max_parallelism()) +
          "; max parallelism is fixed for the life of the state");
    }
    for (const SnapshotFile& f : snap.files) {
      Status s = internal::VerifySnapshotFile(f);
      if (!s.ok()) return s;
    }
  }
  std::map<std::pair<OperatorId, std::string>, bool> seen_lists;
  const KeyGroupRange range = backend.key_group_range();
  for (const BackendSnapshot& snap : snapshots) {
    for (const SnapshotFile& f : snap.files) {
      Status s;
      if (f.key_group < 0) {
        s = ImportOperatorFile(backend, f, &seen_lists);
      } else if (range.Contains(f.key_group)) {
        s = ImportStream(backend, f);
      }
      if (!s.ok()) return s;
    }
  }
  return Status::OK();
}

Status CopyBackendState(KeyedStateBackend& from, KeyedStateBackend& to) {
  const KeyGroupRange range = to.key_group_range();
  for (const OperatorId& op : from.Operators()) {
    Status s = RegisterStates(to, op, from.States(op));
    if (!s.ok()) return s;
    for (int kg = range.start; kg <= range.end; ++kg) {
      if (!from.key_group_range().Contains(kg)) continue;
      s = from.ForEachEntry(
          op, kg, [&](const StateEntry& e) { return to.ImportEntry(op, e); });
      if (!s.ok()) return s;
    }
    Result<std::vector<KeyedStateBackend::OperatorStateEntry>> lists =
        from.OperatorStates(op);
    if (!lists.ok()) return lists.status();
    for (const auto& list : *lists) {
      Result<RawOperatorListState*> target =
          to.GetOperatorListState(op, list.name, list.mode);
      if (!target.ok()) return target.status();
      s = (*target)->Update(list.values);
      if (!s.ok()) return s;
    }
  }
  return Status::OK();
}

}  // namespace weir
