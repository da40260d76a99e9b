// SPDX-License-Identifier: Apache-2.0
#include "tools/state/diff_command.h"

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include <weir/state_reader.h>

#include "lib/coding.h"
#include "tools/log/log.h"
#include "tools/state/state_decode.h"

namespace weir::tools {
namespace {

using json = nlohmann::json;

struct Entry {
  std::string value;  // as stored; lists: all elements, length-prefixed
  json shown_key;     // key, window, map key, timer as printed
  json shown_value;   // the value(s) as printed
};

struct StateData {
  std::map<std::string, Entry> entries;  // by identity (EntryId)
  uint64_t bytes = 0;
};

struct OperatorData {
  std::string label;  // uid, or id in hex
  std::map<std::string, StateData> states;
};

using Snapshot = std::map<OperatorId, OperatorData>;

std::string StateLabel(const StateRecord& r) {
  if (r.kind == StateRecord::Kind::kTimer) {
    return r.timer_domain == TimeDomain::kEventTime
               ? "timers (event time)"
               : "timers (processing time)";
  }
  return std::string(r.state_name);
}

// What identifies an entry within its state.
std::string EntryId(const StateRecord& r) {
  std::string id;
  PutLengthPrefixed(&id, r.key);
  PutLengthPrefixed(&id, r.ns);
  PutLengthPrefixed(&id, r.user_key);
  if (r.kind == StateRecord::Kind::kTimer) {
    PutFixed64BE(&id, static_cast<uint64_t>(r.timestamp));
  }
  return id;
}

Result<Snapshot> Load(const std::string& path) {
  Result<std::unique_ptr<SavepointReader>> reader = SavepointReader::Open(path);
  if (!reader.ok()) return reader.status();
  Snapshot snap;
  for (const SavepointReader::Operator& op : (*reader)->operators()) {
    snap[op.id].label = op.uid.empty() ? op.id.ToHex() : op.uid;
  }
  Status s = (*reader)->Read({}, [&](const StateRecord& r) {
    StateData& st = snap[r.operator_id].states[StateLabel(r)];
    st.bytes += r.key.size() + r.ns.size() + r.user_key.size() + r.value.size();
    Entry& e = st.entries[EntryId(r)];
    const json j = RecordToJson(r);
    if (e.shown_key.is_null()) {
      json k = json::object();
      for (const char* f : {"key", "key_hex", "window", "namespace_hex",
                            "user_key", "user_key_hex", "domain", "time"}) {
        if (j.contains(f)) k[f] = j[f];
      }
      if (r.kind == StateRecord::Kind::kOperatorListElement) {
        k = "(operator list)";
      }
      e.shown_key = k;
    }
    const json v = j.contains("value")       ? j["value"]
                   : j.contains("value_hex") ? j["value_hex"]
                                             : json();
    const bool many = r.kind == StateRecord::Kind::kListElement ||
                      r.kind == StateRecord::Kind::kOperatorListElement;
    if (many) {
      PutLengthPrefixed(&e.value, r.value);
      if (!e.shown_value.is_array()) e.shown_value = json::array();
      e.shown_value.push_back(v);
    } else {
      e.value.assign(r.value.data(), r.value.size());
      e.shown_value = v;
    }
    return Status::OK();
  });
  if (!s.ok()) return s;
  return snap;
}

// A value as printed; a key that is only a key (no window, map key or
// timer) as that key alone.
std::string Text(const json& j) {
  if (j.is_object() && j.size() == 1) {
    if (j.contains("key")) return JsonText(j["key"]);
    if (j.contains("key_hex")) return JsonText(j["key_hex"]);
  }
  return JsonText(j);
}

size_t EntryCount(const OperatorData& op) {
  size_t n = 0;
  for (const auto& [name, st] : op.states) n += st.entries.size();
  return n;
}

}  // namespace

int SavepointDiffCommand(const std::string& a_path, const std::string& b_path,
                         bool keys, bool as_json) {
  Result<Snapshot> a = Load(a_path);
  if (!a.ok()) {
    log::Error(a.status().message());
    return 2;
  }
  Result<Snapshot> b = Load(b_path);
  if (!b.ok()) {
    log::Error(b.status().message());
    return 2;
  }
  static const OperatorData kNone;
  std::set<OperatorId> ids;
  for (const auto& [id, op] : *a) ids.insert(id);
  for (const auto& [id, op] : *b) ids.insert(id);

  json out = json::array();
  std::string text;
  bool different = false;
  for (const OperatorId& id : ids) {
    const bool in_a = a->contains(id);
    const bool in_b = b->contains(id);
    const OperatorData& oa = in_a ? a->at(id) : kNone;
    const OperatorData& ob = in_b ? b->at(id) : kNone;
    const std::string label = in_a ? oa.label : ob.label;
    json jo = {{"operator", label}, {"id", id.ToHex()}};
    if (!in_a || !in_b) {
      different = true;
      const OperatorData& there = in_a ? oa : ob;
      jo["change"] = in_a ? "removed" : "added";
      jo["states"] = there.states.size();
      jo["entries"] = EntryCount(there);
      text += "operator " + label + ": " + (in_a ? "removed" : "added") + " (" +
              std::to_string(there.states.size()) + " states, " +
              std::to_string(EntryCount(there)) + " entries)\n";
      out.push_back(jo);
      continue;
    }
    std::set<std::string> names;
    for (const auto& [n, st] : oa.states) names.insert(n);
    for (const auto& [n, st] : ob.states) names.insert(n);
    json states = json::array();
    std::string op_text;
    for (const std::string& name : names) {
      static const StateData kEmpty;
      const bool sa = oa.states.contains(name);
      const bool sb = ob.states.contains(name);
      const StateData& da = sa ? oa.states.at(name) : kEmpty;
      const StateData& db = sb ? ob.states.at(name) : kEmpty;
      json js = {{"state", name}};
      size_t added = 0, removed = 0, changed = 0;
      json changes = json::array();
      std::string key_text;
      auto it_a = da.entries.begin();
      auto it_b = db.entries.begin();
      while (it_a != da.entries.end() || it_b != db.entries.end()) {
        const bool take_a =
            it_b == db.entries.end() ||
            (it_a != da.entries.end() && it_a->first < it_b->first);
        const bool take_b =
            it_a == da.entries.end() ||
            (it_b != db.entries.end() && it_b->first < it_a->first);
        if (take_a) {
          ++removed;
          if (keys) {
            changes.push_back({{"change", "removed"},
                               {"key", it_a->second.shown_key},
                               {"old", it_a->second.shown_value}});
            key_text += "    - " + Text(it_a->second.shown_key) + ": " +
                        Text(it_a->second.shown_value) + "\n";
          }
          ++it_a;
        } else if (take_b) {
          ++added;
          if (keys) {
            changes.push_back({{"change", "added"},
                               {"key", it_b->second.shown_key},
                               {"new", it_b->second.shown_value}});
            key_text += "    + " + Text(it_b->second.shown_key) + ": " +
                        Text(it_b->second.shown_value) + "\n";
          }
          ++it_b;
        } else {
          if (it_a->second.value != it_b->second.value) {
            ++changed;
            if (keys) {
              changes.push_back({{"change", "changed"},
                                 {"key", it_a->second.shown_key},
                                 {"old", it_a->second.shown_value},
                                 {"new", it_b->second.shown_value}});
              key_text += "    ~ " + Text(it_a->second.shown_key) + ": " +
                          Text(it_a->second.shown_value) + " -> " +
                          Text(it_b->second.shown_value) + "\n";
            }
          }
          ++it_a;
          ++it_b;
        }
      }
      if (sa && sb && added + removed + changed == 0) continue;
      const char* change = !sa ? "added" : !sb ? "removed" : "changed";
      js["change"] = change;
      js["entries_added"] = added;
      js["entries_removed"] = removed;
      js["entries_changed"] = changed;
      js["bytes_before"] = da.bytes;
      js["bytes_after"] = db.bytes;
      if (keys) js["keys"] = changes;
      states.push_back(js);
      op_text += "  state " + name + ": " + change + "; " +
                 std::to_string(added) + " added, " + std::to_string(removed) +
                 " removed, " + std::to_string(changed) + " changed; " +
                 std::to_string(da.bytes) + " -> " + std::to_string(db.bytes) +
                 " bytes\n" + key_text;
    }
    if (states.empty()) continue;
    different = true;
    jo["change"] = "changed";
    jo["states"] = states;
    out.push_back(jo);
    text += "operator " + label + ": changed\n" + op_text;
  }
  const std::string printed =
      as_json ? json{{"equal", !different}, {"operators", out}}.dump(
                    2, ' ', false, json::error_handler_t::replace) +
                    "\n"
              : text;
  std::fwrite(printed.data(), 1, printed.size(), stdout);
  if (std::fflush(stdout) != 0) return 2;
  return different ? 1 : 0;
}

}  // namespace weir::tools
