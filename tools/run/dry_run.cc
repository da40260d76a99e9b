// SPDX-License-Identifier: Apache-2.0
#include "tools/run/dry_run.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "tools/log/log.h"

namespace weir::tools {
namespace {

std::string Bytes(uint64_t n) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int unit = 0;
  while (v >= 1024 && unit < 4) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), unit == 0 ? "%.0f %s" : "%.1f %s", v,
                kUnits[unit]);
  return buf;
}

std::string Range(KeyGroupRange r) {
  if (r.empty()) return "none";
  return std::to_string(r.start) + "-" + std::to_string(r.end);
}

std::string Describe(const RestoreCheck::Operator& op) {
  if (op.uid.empty()) return "'" + op.name + "' (no uid, id " + op.id + ")";
  std::string s = "uid '" + op.uid + "' (";
  if (!op.name.empty() && op.name != op.uid) s += "'" + op.name + "', ";
  return s + "id " + op.id + ")";
}

void PrintText(const RestoreCheck& c) {
  std::string out = "Restore check of " + c.metadata_path + " (" +
                    (c.savepoint ? "savepoint" : "checkpoint") +
                    (c.canonical ? ", canonical" : "") + ")\n";
  out += "max parallelism: " + std::to_string(c.snapshot_max_parallelism) +
         " in the snapshot, " + std::to_string(c.job_max_parallelism) +
         " in the job\n";
  out += "operators:\n";
  for (const RestoreCheck::Operator& op : c.operators) {
    char fate[16];
    std::snprintf(fate, sizeof(fate), "%-13s", FateName(op.fate));
    out += std::string("  ") + fate + " " + Describe(op);
    std::string details;
    if (op.in_snapshot && op.in_job &&
        op.old_parallelism != op.new_parallelism) {
      details += "parallelism " + std::to_string(op.old_parallelism) + " -> " +
                 std::to_string(op.new_parallelism);
    }
    if (op.keyed_state || op.list_state) {
      if (!details.empty()) details += ", ";
      details += op.keyed_state && op.list_state ? "keyed and list state"
                 : op.keyed_state                ? "keyed state"
                                                 : "list state";
      if (op.bytes > 0) details += " " + Bytes(op.bytes);
    }
    if (!details.empty()) out += ": " + details;
    out += "\n";
    if (!op.suggested_uid_hash.empty()) {
      out += "      its uid changed? `uid-hash: " + op.suggested_uid_hash +
             "` on this operator adopts the state of the snapshot's "
             "operator with that id\n";
    }
  }
  if (!c.tasks.empty()) out += "tasks:\n";
  for (const RestoreCheck::Task& t : c.tasks) {
    out += "  '" + t.vertex + "' " + std::to_string(t.subtask + 1) + "/" +
           std::to_string(t.parallelism) + ": key groups " +
           Range(t.key_groups);
    if (t.finished) {
      out += ", finished (not run again)\n";
      continue;
    }
    if (t.sources.empty()) {
      out += ", no state\n";
      continue;
    }
    out += std::string(", ") + MethodName(t.method) + " " + Bytes(t.bytes) +
           " from";
    for (size_t i = 0; i < t.sources.size(); ++i) {
      const RestoreCheck::Source& s = t.sources[i];
      out += (i == 0 ? " " : ", ") + std::string("old vertex ") +
             std::to_string(s.old_vertex) + " subtask " +
             std::to_string(s.old_subtask + 1) + " (had " +
             Range(s.old_key_groups) + ", gives " + Range(s.key_groups) + ")";
    }
    out += "\n";
  }
  out += "bytes: " + Bytes(c.bytes_linked) + " linked, " +
         Bytes(c.bytes_rewritten) +
         " rewritten or read; estimated restore time (cold cache): " +
         std::to_string(c.estimated_ms) + " ms\n";
  out += c.ok() ? "OK: the restore would succeed as is.\n"
                : "FAILED: the restore would fail (" +
                      std::to_string(c.problems.size()) + " problem" +
                      (c.problems.size() == 1 ? "" : "s") + ").\n";
  std::fputs(out.c_str(), stdout);
}

nlohmann::json Json(KeyGroupRange r) {
  return nlohmann::json::array({r.start, r.end});
}

void PrintJson(const RestoreCheck& c) {
  nlohmann::json j;
  j["metadata"] = c.metadata_path;
  j["kind"] = c.savepoint ? "savepoint" : "checkpoint";
  j["canonical"] = c.canonical;
  j["snapshotMaxParallelism"] = c.snapshot_max_parallelism;
  j["jobMaxParallelism"] = c.job_max_parallelism;
  j["operators"] = nlohmann::json::array();
  for (const RestoreCheck::Operator& op : c.operators) {
    nlohmann::json o;
    o["id"] = op.id;
    o["uid"] = op.uid;
    o["name"] = op.name;
    o["fate"] = FateName(op.fate);
    o["inSnapshot"] = op.in_snapshot;
    o["inJob"] = op.in_job;
    o["keyedState"] = op.keyed_state;
    o["listState"] = op.list_state;
    o["oldParallelism"] = op.old_parallelism;
    o["newParallelism"] = op.new_parallelism;
    o["bytes"] = op.bytes;
    if (!op.suggested_uid_hash.empty()) {
      o["suggestedUidHash"] = op.suggested_uid_hash;
    }
    j["operators"].push_back(std::move(o));
  }
  j["tasks"] = nlohmann::json::array();
  for (const RestoreCheck::Task& t : c.tasks) {
    nlohmann::json o;
    o["vertex"] = t.vertex;
    o["subtask"] = t.subtask;
    o["parallelism"] = t.parallelism;
    o["keyGroups"] = Json(t.key_groups);
    o["finished"] = t.finished;
    o["method"] = MethodName(t.method);
    o["files"] = t.files;
    o["bytes"] = t.bytes;
    o["sources"] = nlohmann::json::array();
    for (const RestoreCheck::Source& s : t.sources) {
      o["sources"].push_back({{"oldVertex", s.old_vertex},
                              {"oldSubtask", s.old_subtask},
                              {"oldKeyGroups", Json(s.old_key_groups)},
                              {"keyGroups", Json(s.key_groups)},
                              {"bytes", s.bytes}});
    }
    j["tasks"].push_back(std::move(o));
  }
  j["bytesLinked"] = c.bytes_linked;
  j["bytesRewritten"] = c.bytes_rewritten;
  j["estimatedMs"] = c.estimated_ms;
  j["ok"] = c.ok();
  j["problems"] = c.problems;
  std::puts(j.dump(2).c_str());
}

}  // namespace

int PrintRestoreCheck(const Job& job, const std::string& path,
                      bool allow_non_restored_state, bool json) {
  RestoreCheckOptions options;
  options.allow_non_restored_state = allow_non_restored_state;
  Result<RestoreCheck> check = job.CheckRestore(path, options);
  if (!check.ok()) {
    log::Error(check.status().message());
    return 1;
  }
  if (json) {
    PrintJson(*check);
  } else {
    PrintText(*check);
  }
  std::fflush(stdout);
  for (const std::string& p : check->problems) log::Error(p);
  return check->ok() ? 0 : 1;
}

}  // namespace weir::tools
