// SPDX-License-Identifier: Apache-2.0
#include "tools/state/sizes_command.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include <weir/state_reader.h>

#include "tools/log/log.h"
#include "tools/state/state_decode.h"

namespace weir::tools {
namespace {

using json = nlohmann::json;

struct Count {
  uint64_t entries = 0;
  uint64_t bytes = 0;
};

struct OperatorSizes {
  Count total;
  std::map<std::string, Count> states;  // by shown name
  std::vector<Count> key_groups;        // by key group
};

std::string HumanBytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

// The name a record's state is listed under.
std::string StateLabel(const StateRecord& r) {
  switch (r.kind) {
    case StateRecord::Kind::kTimer:
      return r.timer_domain == TimeDomain::kEventTime
                 ? "timers (event time)"
                 : "timers (processing time)";
    case StateRecord::Kind::kOperatorListElement:
      return std::string(r.state_name) + " (operator list)";
    default:
      return std::string(r.state_name);
  }
}

// Bytes per key group as one line of block characters, at most 64 wide
// (each a run of key groups; its height the run's largest).
std::string Histogram(const std::vector<Count>& kgs) {
  static const char* kBlocks[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  if (kgs.empty()) return "";
  const size_t width = std::min<size_t>(64, kgs.size());
  std::vector<uint64_t> cols(width, 0);
  for (size_t kg = 0; kg < kgs.size(); ++kg) {
    uint64_t& c = cols[kg * width / kgs.size()];
    c = std::max(c, kgs[kg].bytes);
  }
  const uint64_t top = *std::max_element(cols.begin(), cols.end());
  std::string out;
  for (uint64_t c : cols) {
    // Empty key groups blank; the others 1 to 8 eighths of the largest.
    out += kBlocks[c == 0 ? 0 : 1 + static_cast<int>(c * 7 / top)];
  }
  return out;
}

struct Spread {
  int with_state = 0;
  uint64_t min = 0, median = 0, max = 0;
  int max_key_group = -1;
};

Spread SpreadOf(const std::vector<Count>& kgs) {
  Spread s;
  if (kgs.empty()) return s;
  std::vector<uint64_t> b;
  for (size_t kg = 0; kg < kgs.size(); ++kg) {
    b.push_back(kgs[kg].bytes);
    if (kgs[kg].entries > 0) ++s.with_state;
    if (s.max_key_group < 0 || kgs[kg].bytes > s.max) {
      s.max = kgs[kg].bytes;
      s.max_key_group = static_cast<int>(kg);
    }
  }
  std::sort(b.begin(), b.end());
  s.min = b.front();
  s.median = b[b.size() / 2];
  return s;
}

}  // namespace

int StateSizesCommand(const std::string& path, bool as_json) {
  Result<std::unique_ptr<SavepointReader>> reader = SavepointReader::Open(path);
  if (!reader.ok()) {
    log::Error(reader.status().message());
    return 1;
  }
  SavepointReader& r = **reader;
  const int max_parallelism = std::max(1, r.max_parallelism());
  std::map<OperatorId, OperatorSizes> sizes;
  Status s = r.Read({}, [&](const StateRecord& rec) {
    const uint64_t bytes =
        rec.key.size() + rec.ns.size() + rec.user_key.size() + rec.value.size();
    OperatorSizes& op = sizes[rec.operator_id];
    op.total.entries++;
    op.total.bytes += bytes;
    Count& st = op.states[StateLabel(rec)];
    st.entries++;
    st.bytes += bytes;
    if (rec.key_group >= 0 && rec.key_group < max_parallelism) {
      op.key_groups.resize(max_parallelism);
      op.key_groups[rec.key_group].entries++;
      op.key_groups[rec.key_group].bytes += bytes;
    }
    return Status::OK();
  });
  if (!s.ok()) {
    log::Error(s.message());
    return 1;
  }

  json out;
  out["path"] = r.metadata_path();
  out["kind"] = std::string(r.kind());
  out["max_parallelism"] = r.max_parallelism();
  out["operators"] = json::array();
  std::string text = "State sizes of " + std::string(r.kind()) + " " +
                     r.metadata_path() + " (" +
                     std::to_string(r.max_parallelism()) + " key groups)\n";
  for (const SavepointReader::Operator& op : r.operators()) {
    const OperatorSizes& os = sizes[op.id];
    json j;
    j["id"] = op.id.ToHex();
    j["uid"] = op.uid;
    j["name"] = op.name;
    j["entries"] = os.total.entries;
    j["bytes"] = os.total.bytes;
    uint64_t file_bytes = 0;
    int shared_files = 0;
    json files = json::array();
    for (const SavepointReader::File& f : r.files()) {
      if (f.operator_id != op.id) continue;
      file_bytes += f.size;
      shared_files += f.shared ? 1 : 0;
      files.push_back({{"path", f.path},
                       {"size", f.size},
                       {"subtask", f.subtask_index},
                       {"shared", f.shared}});
    }
    j["file_bytes"] = file_bytes;
    j["files"] = files;
    j["states"] = json::array();
    for (const auto& [name, c] : os.states) {
      j["states"].push_back(
          {{"name", name}, {"entries", c.entries}, {"bytes", c.bytes}});
    }
    std::vector<Count> kgs = os.key_groups;
    if (!kgs.empty()) {
      const Spread sp = SpreadOf(kgs);
      json bytes = json::array();
      for (const Count& c : kgs) bytes.push_back(c.bytes);
      j["key_groups"] = {
          {"with_state", sp.with_state},       {"min_bytes", sp.min},
          {"median_bytes", sp.median},         {"max_bytes", sp.max},
          {"max_key_group", sp.max_key_group}, {"bytes", bytes}};
    }
    out["operators"].push_back(j);

    if (os.total.entries == 0 && files.empty()) continue;
    text += "Operator " + op.name +
            (op.uid.empty() ? "" : " (uid: " + op.uid + ")") + "\n";
    text += "  state:        " + std::to_string(os.total.entries) +
            " entries, " + std::to_string(os.total.bytes) + " bytes (" +
            HumanBytes(os.total.bytes) + ")\n";
    for (const auto& [name, c] : os.states) {
      text += "    " + name + ": " + std::to_string(c.entries) + " entries, " +
              std::to_string(c.bytes) + " bytes\n";
    }
    if (!kgs.empty()) {
      const Spread sp = SpreadOf(kgs);
      text += "  key groups:   " + std::to_string(sp.with_state) + " of " +
              std::to_string(kgs.size()) +
              " hold state; bytes per key group: min " +
              std::to_string(sp.min) + ", median " + std::to_string(sp.median) +
              ", max " + std::to_string(sp.max) + " (key group " +
              std::to_string(sp.max_key_group) + ")\n";
      text += "                |" + Histogram(kgs) + "|\n";
    }
    text += "  files:        " + std::to_string(files.size()) + ", " +
            HumanBytes(file_bytes) +
            (shared_files > 0 ? ", " + std::to_string(shared_files) +
                                    " of them in a shared/ folder"
                              : std::string()) +
            "\n";
    for (const json& f : files) {
      text += "    " + f["path"].get<std::string>() + " (" +
              HumanBytes(f["size"].get<uint64_t>()) + ")\n";
    }
  }
  json task_files = json::array();
  for (const SavepointReader::File& f : r.files()) {
    if (f.operator_id) continue;
    task_files.push_back({{"path", f.path},
                          {"size", f.size},
                          {"subtask", f.subtask_index},
                          {"vertex", f.vertex_index},
                          {"shared", f.shared}});
  }
  out["task_files"] = task_files;
  if (!task_files.empty()) {
    text += "Files of whole tasks (state descriptors, operator lists):\n";
    for (const json& f : task_files) {
      text += "    " + f["path"].get<std::string>() + " (" +
              HumanBytes(f["size"].get<uint64_t>()) + ")\n";
    }
  }
  const std::string printed =
      as_json ? out.dump(2, ' ', false, json::error_handler_t::replace) + "\n"
              : text;
  std::fwrite(printed.data(), 1, printed.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace weir::tools
