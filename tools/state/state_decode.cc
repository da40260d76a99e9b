// SPDX-License-Identifier: Apache-2.0
#include "tools/state/state_decode.h"

#include <bit>
#include <optional>

#include <weir/serializer.h>

#include "tools/job/row.h"

namespace weir::tools {
namespace {

using json = nlohmann::json;

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int more = 0;
    if (c < 0x80) {
      more = 0;
    } else if ((c >> 5) == 0x6 && c >= 0xc2) {
      more = 1;
    } else if ((c >> 4) == 0xe) {
      more = 2;
    } else if ((c >> 3) == 0x1e && c <= 0xf4) {
      more = 3;
    } else {
      return false;
    }
    if (i + more >= s.size()) return false;
    for (int k = 1; k <= more; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    }
    i += 1 + more;
  }
  return true;
}

// Text a person reads as text: valid UTF-8 without control characters.
bool Printable(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return ValidUtf8(s);
}

int64_t Int64BE(std::string_view in) {
  int64_t v = 0;
  (void)Serializer<int64_t>().Deserialize(1, in, &v);
  return v;
}

json FromValue(const Value& v) {
  if (const std::string* s = std::get_if<std::string>(&v)) {
    return ValidUtf8(*s) ? json(*s) : json(HexBytes(*s));
  }
  if (const int64_t* i = std::get_if<int64_t>(&v)) return *i;
  if (const double* d = std::get_if<double>(&v)) return *d;
  if (const bool* b = std::get_if<bool>(&v)) return *b;
  return nullptr;
}

// A YAML job's key (EncodeKey): a kind tag and the value.
std::optional<json> DecodeKey(std::string_view key) {
  if (key.empty()) return std::nullopt;
  const std::string_view rest = key.substr(1);
  switch (key[0]) {
    case 1:
      if (ValidUtf8(rest)) return json(std::string(rest));
      break;
    case 2:
      if (rest.size() == 8) return json(Int64BE(rest));
      break;
    case 3:
      if (rest.size() == 8) {
        double d = 0;
        if (Serializer<double>().Deserialize(1, rest, &d).ok()) return json(d);
      }
      break;
    case 4:
      if (rest.size() == 1 && (rest[0] == 0 || rest[0] == 1)) {
        return json(rest[0] == 1);
      }
      break;
    default:
      break;
  }
  if (Printable(key)) return json(std::string(key));
  return std::nullopt;
}

// The payload of a stored value of serializer version 1 (a one-byte
// header), or nullopt for another version.
std::optional<std::string_view> Version1Payload(std::string_view stored) {
  if (stored.empty() || stored[0] != 1) return std::nullopt;
  return stored.substr(1);
}

std::optional<json> DecodeRow(std::string_view payload) {
  Row row;
  if (!Serializer<Row>().Deserialize(1, payload, &row).ok()) {
    return std::nullopt;
  }
  if (row.values.size() == 1) return FromValue(row.values[0]);
  json a = json::array();
  for (const Value& v : row.values) a.push_back(FromValue(v));
  return a;
}

bool IsRowState(std::string_view name) {
  return name == "count" || name == "sum" || name == "min" || name == "max" ||
         name == "avg" || name == "window-contents";
}

std::optional<json> DecodeValue(const StateRecord& r) {
  if (r.kind == StateRecord::Kind::kTimer ||
      r.kind == StateRecord::Kind::kOperatorListElement) {
    return std::nullopt;
  }
  std::optional<std::string_view> payload = Version1Payload(r.value);
  if (!payload) return std::nullopt;
  if (IsRowState(r.state_name)) return DecodeRow(*payload);
  if (r.state_name == "seen" && payload->size() == 1) {
    return json((*payload)[0] != 0);
  }
  if (r.state_name == "session-windows" && payload->size() == 8) {
    return json(Int64BE(*payload));
  }
  return std::nullopt;
}

bool IsWindowed(const StateRecord& r) {
  return r.kind == StateRecord::Kind::kTimer ||
         r.state_name == "window-contents";
}

std::optional<json> DecodeWindow(const StateRecord& r) {
  if (r.ns.size() != 16 || !IsWindowed(r)) return std::nullopt;
  return json{{"start", Int64BE(r.ns.substr(0, 8))},
              {"end", Int64BE(r.ns.substr(8))}};
}

std::optional<json> DecodeUserKey(const StateRecord& r) {
  if (r.state_name == "session-windows" && r.user_key.size() == 8) {
    return json(Int64BE(r.user_key));
  }
  if (Printable(r.user_key)) return json(std::string(r.user_key));
  return std::nullopt;
}

std::string CsvCell(std::string_view text) {
  if (text.find_first_of(",\"\n\r") == std::string_view::npos) {
    return std::string(text);
  }
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string HexBytes(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "0x";
  out.reserve(2 + 2 * bytes.size());
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  return out;
}

std::string_view RecordKindName(StateRecord::Kind kind) {
  switch (kind) {
    case StateRecord::Kind::kValue:
      return "value";
    case StateRecord::Kind::kListElement:
      return "list-element";
    case StateRecord::Kind::kMapEntry:
      return "map-entry";
    case StateRecord::Kind::kTimer:
      return "timer";
    case StateRecord::Kind::kOperatorListElement:
      return "operator-list";
  }
  return "?";
}

std::string OperatorLabel(const StateRecord& record) {
  return record.uid.empty() ? record.operator_id.ToHex()
                            : std::string(record.uid);
}

json RecordToJson(const StateRecord& r) {
  json j;
  j["operator"] = OperatorLabel(r);
  if (r.kind != StateRecord::Kind::kTimer) {
    j["state"] = std::string(r.state_name);
  }
  j["kind"] = std::string(RecordKindName(r.kind));
  if (r.kind == StateRecord::Kind::kOperatorListElement) {
    j["subtask"] = r.subtask_index;
    j["value_hex"] = HexBytes(r.value);
    return j;
  }
  j["key_group"] = r.key_group;
  if (std::optional<json> k = DecodeKey(r.key)) {
    j["key"] = *k;
  } else {
    j["key_hex"] = HexBytes(r.key);
  }
  if (!r.ns.empty()) {
    if (std::optional<json> w = DecodeWindow(r)) {
      j["window"] = *w;
    } else {
      j["namespace_hex"] = HexBytes(r.ns);
    }
  }
  if (r.kind == StateRecord::Kind::kTimer) {
    j["domain"] = r.timer_domain == TimeDomain::kEventTime ? "event-time"
                                                           : "processing-time";
    j["time"] = r.timestamp;
    return j;
  }
  if (r.kind == StateRecord::Kind::kMapEntry) {
    if (std::optional<json> uk = DecodeUserKey(r)) {
      j["user_key"] = *uk;
    } else {
      j["user_key_hex"] = HexBytes(r.user_key);
    }
  }
  if (std::optional<json> v = DecodeValue(r)) {
    j["value"] = *v;
  } else {
    j["value_hex"] = HexBytes(r.value);
  }
  if (r.descriptor != nullptr && r.descriptor->ttl.enabled()) {
    j["ttl_timestamp"] = r.timestamp;
  }
  return j;
}

std::string KeyText(std::string_view key) {
  std::optional<json> k = DecodeKey(key);
  return k ? JsonText(*k) : std::string();
}

bool KeyMatches(std::string_view key, std::string_view wanted) {
  if (key == wanted) return true;
  if (wanted.starts_with("0x") && HexBytes(key) == wanted) return true;
  std::optional<json> k = DecodeKey(key);
  return k && JsonText(*k) == wanted;
}

std::string JsonText(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string CsvHeader() {
  return "operator,state,kind,key_group,key,namespace,user_key,value,"
         "timestamp";
}

std::string RecordToCsv(const StateRecord& r) {
  const json j = RecordToJson(r);
  auto cell = [&](std::initializer_list<const char*> names) {
    for (const char* n : names) {
      if (j.contains(n)) return CsvCell(JsonText(j[n]));
    }
    return std::string();
  };
  std::string line =
      cell({"operator"}) + "," + cell({"state"}) + "," + cell({"kind"}) + "," +
      (r.kind == StateRecord::Kind::kOperatorListElement
           ? std::string()
           : std::to_string(r.key_group)) +
      "," + cell({"key", "key_hex"}) + "," + cell({"window", "namespace_hex"}) +
      "," + cell({"user_key", "user_key_hex"}) + "," +
      cell({"value", "value_hex"}) + ",";
  if (r.kind == StateRecord::Kind::kTimer ||
      (r.descriptor != nullptr && r.descriptor->ttl.enabled())) {
    line += std::to_string(r.timestamp);
  }
  return line;
}

}  // namespace weir::tools
