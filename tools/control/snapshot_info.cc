// SPDX-License-Identifier: Apache-2.0
#include "tools/control/snapshot_info.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>
#include <utility>

#include "lib/file.h"
#include "lib/hash.h"
#include "tools/log/log.h"

namespace weir::tools {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

std::string KindName(engine::SnapshotKind kind) {
  switch (kind) {
    case engine::SnapshotKind::kCheckpoint:
      return "checkpoint";
    case engine::SnapshotKind::kSavepoint:
      return "savepoint";
  }
  return "unknown (" + std::to_string(static_cast<int>(kind)) + ")";
}

std::string FormatName(const engine::CheckpointMetadata& m) {
  // Checkpoints are native whatever the byte says.
  if (m.kind == engine::SnapshotKind::kCheckpoint) return "native";
  switch (m.savepoint_format) {
    case engine::SavepointFormat::kNative:
      return "native";
    case engine::SavepointFormat::kCanonical:
      return "canonical";
  }
  return "unknown (" + std::to_string(static_cast<int>(m.savepoint_format)) +
         ")";
}

std::string BackendFormatName(SnapshotFormat format) {
  switch (format) {
    case SnapshotFormat::kRocksDBSst:
      return "rocksdb-sst";
    case SnapshotFormat::kKeyGroupStreams:
      return "key-group-streams";
  }
  return "unknown (" + std::to_string(static_cast<int>(format)) + ")";
}

std::string KeyGroupsText(const KeyGroupRange& range) {
  if (range.empty()) return "none";
  return std::to_string(range.start) + "-" + std::to_string(range.end);
}

std::string FilesText(int n) {
  return std::to_string(n) + (n == 1 ? " file" : " files");
}

// How an operator is named in one line: its uid, else its name, else its id.
std::string OperatorLabel(const OperatorStateInfo& op) {
  if (!op.uid.empty()) return "'" + op.uid + "'";
  if (!op.name.empty()) return "'" + op.name + "'";
  return op.id.ToHex();
}

std::string ChainLabel(const TaskSharedStateInfo& task) {
  std::string out;
  for (size_t i = 0; i < task.operator_names.size(); ++i) {
    if (i > 0) out += " -> ";
    out += task.operator_names[i];
  }
  return out.empty() ? "vertex " + std::to_string(task.vertex_index) : out;
}

// The operator a file holds the state of, as a hex id; empty for none.
std::string FileOperatorHex(SnapshotFormat format, const SnapshotFile& file) {
  if (format == SnapshotFormat::kKeyGroupStreams) return file.operator_id;
  if (file.column_family == "default") return "";
  return file.column_family;
}

uint64_t FileSize(const std::string& path, int* error) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    *error = errno;
    return 0;
  }
  *error = S_ISREG(st.st_mode) ? 0 : -1;
  return static_cast<uint64_t>(st.st_size);
}

}  // namespace

std::string HumanBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB",
                                           "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  // Round first, so that 1048575 bytes reads "1.0 MiB", not "1024.0 KiB".
  while (value >= 1024 - 0.05 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f %s", value, kUnits[unit]);
  return buf;
}

std::string IsoTimeUtc(int64_t ms_since_epoch) {
  int64_t seconds = ms_since_epoch / 1000;
  int64_t millis = ms_since_epoch % 1000;
  if (millis < 0) {
    millis += 1000;
    --seconds;
  }
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (::gmtime_r(&t, &tm) == nullptr) {
    return std::to_string(ms_since_epoch) + " ms";
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(millis));
  return buf;
}

SnapshotInfo BuildSnapshotInfo(const engine::CheckpointMetadata& metadata,
                               const std::string& metadata_path,
                               uint64_t metadata_size) {
  SnapshotInfo info;
  info.metadata_path = metadata_path;
  info.metadata_size = metadata_size;
  info.metadata = metadata;
  const std::string metadata_dir =
      fs::path(metadata_path).parent_path().string();
  {
    // Where a "shared/..." path goes, without its "/shared/x".
    engine::StoredFile probe;
    probe.path = "shared/x";
    std::string resolved =
        engine::ResolveStoredPath(metadata, metadata_dir, probe);
    resolved.resize(resolved.size() - probe.path.size() - 1);
    info.shared_root_resolved = resolved;
  }

  std::map<std::string, size_t> op_by_hex;
  for (const engine::OperatorMetadata& m : metadata.operators) {
    OperatorStateInfo op;
    op.id = m.id;
    op.uid = m.uid;
    op.name = m.name;
    op.parallelism = m.parallelism;
    op.max_parallelism = m.max_parallelism;
    op_by_hex.emplace(m.id.ToHex(), info.operators.size());
    info.operators.push_back(std::move(op));
  }
  // An operator a task names that the operator list lacks (a malformed
  // file): listed too, so that no state goes unreported.
  auto find_or_add = [&](const std::string& hex, const OperatorId& id) {
    auto it = op_by_hex.find(hex);
    if (it != op_by_hex.end()) return it->second;
    OperatorStateInfo op;
    op.id = id;
    op_by_hex.emplace(hex, info.operators.size());
    info.operators.push_back(std::move(op));
    return info.operators.size() - 1;
  };
  // Per operator, (vertex, subtask) -> index into its subtasks.
  std::map<size_t, std::map<std::pair<int, int>, size_t>> subtask_index;
  auto subtask_of = [&](size_t op_idx, const engine::TaskSnapshotMetadata& t) {
    auto& by_task = subtask_index[op_idx];
    const std::pair<int, int> key{t.vertex_index, t.subtask_index};
    auto it = by_task.find(key);
    if (it != by_task.end()) return it->second;
    SubtaskStateInfo s;
    s.subtask_index = t.subtask_index;
    s.vertex_index = t.vertex_index;
    s.key_groups = t.key_group_range;
    auto& subtasks = info.operators[op_idx].subtasks;
    by_task.emplace(key, subtasks.size());
    subtasks.push_back(s);
    return subtasks.size() - 1;
  };

  std::set<std::string> seen_paths;
  std::set<std::string> external_dirs;
  for (const engine::TaskSnapshotMetadata& task : metadata.tasks) {
    for (const OperatorId& id : task.operator_ids) {
      subtask_of(find_or_add(id.ToHex(), id), task);
    }
    TaskSharedStateInfo shared;
    shared.vertex_index = task.vertex_index;
    shared.subtask_index = task.subtask_index;
    shared.operator_ids = task.operator_ids;
    for (const OperatorId& id : task.operator_ids) {
      const OperatorStateInfo& op = info.operators[op_by_hex.at(id.ToHex())];
      shared.operator_names.push_back(!op.name.empty()  ? op.name
                                      : !op.uid.empty() ? op.uid
                                                        : id.ToHex());
    }
    for (const engine::StoredFile& stored : task.files) {
      const SnapshotFile& file = stored.file;
      info.state_size += file.size;
      ++info.files;
      std::string owner;
      const std::string hex = FileOperatorHex(task.format, file);
      auto it = hex.empty() ? op_by_hex.end() : op_by_hex.find(hex);
      if (it != op_by_hex.end()) {
        OperatorStateInfo& op = info.operators[it->second];
        SubtaskStateInfo& s = op.subtasks[subtask_of(it->second, task)];
        op.state_size += file.size;
        ++op.files;
        s.bytes += file.size;
        ++s.files;
        owner = "operator " + OperatorLabel(op) + " subtask " +
                std::to_string(task.subtask_index);
      } else {
        shared.bytes += file.size;
        ++shared.files;
        owner = "task '" + ChainLabel(shared) + "' subtask " +
                std::to_string(task.subtask_index);
      }
      ReferencedFile ref;
      ref.path = engine::ResolveStoredPath(metadata, metadata_dir, stored);
      ref.name = file.name;
      ref.size = file.size;
      ref.checksum = file.checksum;
      ref.owner = std::move(owner);
      // The store references a file by identity, so two tasks may name
      // the same one: check it once.
      if (seen_paths.insert(ref.path).second) {
        if (!ref.path.starts_with(metadata_dir + "/")) {
          ++info.external_files;
          info.external_bytes += ref.size;
          external_dirs.insert(fs::path(ref.path).parent_path().string());
        }
        info.referenced.push_back(std::move(ref));
      }
    }
    if (shared.files > 0) info.task_shared.push_back(std::move(shared));
  }
  info.external_dirs.assign(external_dirs.begin(), external_dirs.end());
  std::set<std::string> formats;
  for (const engine::TaskSnapshotMetadata& task : metadata.tasks) {
    if (formats.insert(BackendFormatName(task.format)).second) {
      if (!info.backend_format.empty()) info.backend_format += ", ";
      info.backend_format += BackendFormatName(task.format);
    }
  }
  for (OperatorStateInfo& op : info.operators) {
    std::stable_sort(op.subtasks.begin(), op.subtasks.end(),
                     [](const SubtaskStateInfo& a, const SubtaskStateInfo& b) {
                       return a.subtask_index < b.subtask_index;
                     });
  }
  return info;
}

Result<SnapshotInfo> LoadSnapshotInfo(const std::string& path) {
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  if (ec) return Status::IOError(path + ": " + ec.message());
  abs = abs.lexically_normal();
  if (!abs.has_filename()) abs = abs.parent_path();  // a trailing slash
  struct stat st;
  if (::stat(abs.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return Status::NotFound(path + ": no such file or directory");
    }
    return Status::IOError(path + ": " + std::strerror(err));
  }
  std::string shown = path;  // how messages name the metadata file
  if (S_ISDIR(st.st_mode)) {
    abs /= engine::kMetadataFileName;
    if (!shown.empty() && shown.back() != '/') shown += '/';
    shown += engine::kMetadataFileName;
    if (::stat(abs.c_str(), &st) != 0 && errno == ENOENT) {
      return Status::NotFound(
          path +
          " is not a checkpoint or savepoint: it has no _metadata file (a "
          "chk-N directory without one is a checkpoint that did not "
          "complete)");
    }
  }
  Result<std::string> bytes = ReadFileToString(abs.string());
  if (!bytes.ok()) {
    if (bytes.status().IsNotFound()) {
      return Status::NotFound(shown + ": no such file or directory");
    }
    return Status::IOError("cannot read " + shown + ": " +
                           std::string(bytes.status().message()));
  }
  Result<engine::CheckpointMetadata> metadata =
      engine::DecodeMetadata(*bytes, shown);
  if (!metadata.ok()) return metadata.status();
  return BuildSnapshotInfo(*metadata, abs.string(), bytes->size());
}

VerifyResult VerifySnapshotFiles(const SnapshotInfo& info, bool checksums) {
  VerifyResult result;
  result.checksums = checksums;
  for (const ReferencedFile& file : info.referenced) {
    ++result.files_checked;
    const std::string what =
        file.path + " (" + file.name + ", " + file.owner + ")";
    int error = 0;
    const uint64_t size = FileSize(file.path, &error);
    if (error == ENOENT || error == ENOTDIR) {
      result.problems.push_back({FileProblem::Kind::kMissing, file.path,
                                 "missing file " + what + ": " +
                                     std::to_string(file.size) +
                                     " bytes expected"});
      continue;
    }
    if (error != 0) {
      result.problems.push_back(
          {FileProblem::Kind::kDamaged, file.path,
           "damaged file " + what + ": " +
               (error < 0 ? std::string("not a regular file")
                          : std::string(std::strerror(error)))});
      continue;
    }
    if (size != file.size) {
      result.problems.push_back(
          {FileProblem::Kind::kDamaged, file.path,
           "damaged file " + what + ": " + std::to_string(size) +
               " bytes, expected " + std::to_string(file.size)});
      continue;
    }
    result.bytes_checked += size;
    if (!checksums) continue;
    uint64_t computed = 0, read = 0;
    Status s = ChecksumFile(file.path, file.size, &read, &computed);
    if (!s.ok()) {
      result.problems.push_back(
          {FileProblem::Kind::kDamaged, file.path,
           "damaged file " + what + ": " + std::string(s.message())});
    } else if (read != file.size || computed != file.checksum) {
      result.problems.push_back({FileProblem::Kind::kDamaged, file.path,
                                 "damaged file " + what +
                                     ": checksum mismatch: expected " +
                                     std::to_string(file.checksum) +
                                     ", computed " + std::to_string(computed)});
    }
  }
  return result;
}

std::string FormatSnapshotInfoText(const SnapshotInfo& info,
                                   const VerifyResult* verify) {
  const engine::CheckpointMetadata& m = info.metadata;
  std::string out;
  auto line = [&out](std::string_view label, const std::string& value) {
    out += "  ";
    out += label;
    out += ':';
    out.append(label.size() < 17 ? 17 - label.size() : 1, ' ');
    out += value;
    out += '\n';
  };
  const bool savepoint = m.kind == engine::SnapshotKind::kSavepoint;
  out += (savepoint ? "Savepoint " : "Checkpoint ") +
         std::to_string(m.checkpoint_id) + " of job " + m.job_id.ToHex() +
         (m.job_name.empty() ? "" : " (" + m.job_name + ")") + "\n";
  line("kind", KindName(m.kind));
  line("id", std::to_string(m.checkpoint_id));
  line("job id", m.job_id.ToHex());
  line("job name", m.job_name);
  line("triggered", IsoTimeUtc(m.trigger_time_ms));
  line("completed",
       IsoTimeUtc(m.completion_time_ms) + " (" +
           std::to_string(m.completion_time_ms - m.trigger_time_ms) +
           " ms after the trigger)");
  line("format", FormatName(m));
  line("state files",
       info.backend_format.empty() ? "none" : info.backend_format);
  {
    // Where ResolveStoredPath sends shared/ paths, said in words.
    const fs::path dir = fs::path(info.metadata_path).parent_path();
    std::string where = " (recorded in the metadata)";
    if (m.shared_root.empty()) {
      const std::string kind_name = savepoint ? "savepoint" : "checkpoint";
      if (info.shared_root_resolved == dir.string()) {
        where = " (the " + kind_name + "'s own directory)";
      } else if (info.shared_root_resolved == dir.parent_path().string()) {
        where = " (the " + kind_name + "'s parent directory)";
      } else {
        where = "";
      }
    }
    line("shared root", info.shared_root_resolved + where);
  }
  if (info.external_files == 0) {
    line("depends on", "nothing outside its directory");
  } else {
    std::string dirs;
    for (const std::string& d : info.external_dirs) {
      dirs += (dirs.empty() ? "" : ", ") + d;
    }
    line("depends on",
         FilesText(info.external_files) + " (" +
             HumanBytes(info.external_bytes) + ") in " + dirs +
             (savepoint ? "; 'weir savepoint export' writes a copy that "
                          "does not"
                        : ""));
  }
  line("metadata", info.metadata_path + " (" +
                       std::to_string(info.metadata_size) + " bytes)");
  line("state size", std::to_string(info.state_size) + " bytes (" +
                         HumanBytes(info.state_size) + ") in " +
                         FilesText(info.files));
  for (const OperatorStateInfo& op : info.operators) {
    out += "\nOperator " +
           (op.name.empty() ? OperatorLabel(op) : "'" + op.name + "'") + "\n";
    line("uid", op.uid.empty() ? "(generated)" : op.uid);
    line("operator id", op.id.ToHex());
    line("parallelism", std::to_string(op.parallelism));
    line("max parallelism", std::to_string(op.max_parallelism));
    line("state size", std::to_string(op.state_size) + " bytes (" +
                           HumanBytes(op.state_size) + ")");
    line("files", std::to_string(op.files));
    for (const SubtaskStateInfo& s : op.subtasks) {
      out += "  subtask " + std::to_string(s.subtask_index) + ": key groups " +
             KeyGroupsText(s.key_groups) + ", " + FilesText(s.files) + ", " +
             HumanBytes(s.bytes) + "\n";
    }
  }
  if (!info.task_shared.empty()) {
    out +=
        "\nState shared by the task's operators (files of no single "
        "operator: state descriptors and operator list states)\n";
    for (const TaskSharedStateInfo& t : info.task_shared) {
      out += "  task '" + ChainLabel(t) + "' subtask " +
             std::to_string(t.subtask_index) + ": " + FilesText(t.files) +
             ", " + std::to_string(t.bytes) + " bytes (" + HumanBytes(t.bytes) +
             ")\n";
    }
  }
  if (verify != nullptr) {
    int missing = 0;
    int damaged = 0;
    for (const FileProblem& p : verify->problems) {
      (p.kind == FileProblem::Kind::kMissing ? missing : damaged)++;
    }
    out += "\nFiles: " + std::to_string(verify->files_checked) + " checked (" +
           (verify->checksums ? "sizes and XXH3-64 checksums" : "sizes") +
           "), " + std::to_string(missing) + " missing, " +
           std::to_string(damaged) + " damaged\n";
  }
  return out;
}

json SnapshotInfoToJson(const SnapshotInfo& info, const VerifyResult* verify) {
  const engine::CheckpointMetadata& m = info.metadata;
  json j = json::object();
  j["kind"] = KindName(m.kind);
  j["id"] = m.checkpoint_id;
  j["job_id"] = m.job_id.ToHex();
  j["job_name"] = m.job_name;
  j["trigger_time"] = IsoTimeUtc(m.trigger_time_ms);
  j["trigger_timestamp"] = m.trigger_time_ms;
  j["completion_time"] = IsoTimeUtc(m.completion_time_ms);
  j["completion_timestamp"] = m.completion_time_ms;
  j["format"] = FormatName(m);
  j["backend_format"] = info.backend_format;
  j["shared_root"] = m.shared_root;
  j["shared_root_resolved"] = info.shared_root_resolved;
  j["external_files"] = info.external_files;
  j["external_bytes"] = info.external_bytes;
  j["external_dirs"] = info.external_dirs;
  j["metadata_path"] = info.metadata_path;
  j["metadata_size"] = info.metadata_size;
  j["state_size"] = info.state_size;
  j["state_size_human"] = HumanBytes(info.state_size);
  j["files"] = info.files;
  json ops = json::array();
  for (const OperatorStateInfo& op : info.operators) {
    json o = json::object();
    o["uid"] = op.uid.empty() ? json(nullptr) : json(op.uid);
    o["name"] = op.name;
    o["operator_id"] = op.id.ToHex();
    o["parallelism"] = op.parallelism;
    o["max_parallelism"] = op.max_parallelism;
    o["state_size"] = op.state_size;
    o["state_size_human"] = HumanBytes(op.state_size);
    o["files"] = op.files;
    json subtasks = json::array();
    for (const SubtaskStateInfo& s : op.subtasks) {
      json st = json::object();
      st["subtask"] = s.subtask_index;
      st["vertex"] = s.vertex_index;
      st["key_groups"] =
          s.key_groups.empty()
              ? json(nullptr)
              : json{{"start", s.key_groups.start}, {"end", s.key_groups.end}};
      st["files"] = s.files;
      st["state_size"] = s.bytes;
      st["state_size_human"] = HumanBytes(s.bytes);
      subtasks.push_back(std::move(st));
    }
    o["subtasks"] = std::move(subtasks);
    ops.push_back(std::move(o));
  }
  j["operators"] = std::move(ops);
  json shared = json::array();
  for (const TaskSharedStateInfo& t : info.task_shared) {
    json ids = json::array();
    for (const OperatorId& id : t.operator_ids) ids.push_back(id.ToHex());
    shared.push_back({{"vertex", t.vertex_index},
                      {"subtask", t.subtask_index},
                      {"operator_ids", std::move(ids)},
                      {"operators", t.operator_names},
                      {"files", t.files},
                      {"state_size", t.bytes},
                      {"state_size_human", HumanBytes(t.bytes)}});
  }
  j["shared_by_task_operators"] = std::move(shared);
  if (verify != nullptr) {
    json problems = json::array();
    for (const FileProblem& p : verify->problems) {
      problems.push_back(
          {{"kind",
            p.kind == FileProblem::Kind::kMissing ? "missing" : "damaged"},
           {"path", p.path},
           {"message", p.message}});
    }
    j["verification"] = {{"checksums", verify->checksums},
                         {"files_checked", verify->files_checked},
                         {"problems", std::move(problems)}};
  }
  return j;
}

int SnapshotInfoCommand(const std::string& path, bool json_output,
                        bool verify) {
  Result<SnapshotInfo> info = LoadSnapshotInfo(path);
  if (!info.ok()) {
    log::Error(info.status().message());
    return 1;
  }
  const VerifyResult result = VerifySnapshotFiles(*info, verify);
  if (json_output) {
    std::printf("%s\n", SnapshotInfoToJson(*info, &result)
                            .dump(2, ' ', false, json::error_handler_t::replace)
                            .c_str());
  } else {
    std::fputs(FormatSnapshotInfoText(*info, &result).c_str(), stdout);
  }
  std::fflush(stdout);
  for (const FileProblem& p : result.problems) {
    log::Error(p.message);
  }
  return result.problems.empty() ? 0 : 1;
}

}  // namespace weir::tools
