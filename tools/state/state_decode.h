// SPDX-License-Identifier: Apache-2.0
//
// State entries as JSON and CSV, for `weir state dump` and `weir savepoint
// diff`: the bytes of keys, namespaces and values decoded with the
// serializers that YAML jobs use (docs/state-tools.md, "Decoding"), raw
// bytes as hex otherwise.
//
//   keys          a YAML job's key (tools/job/row.h, EncodeKey): the typed
//                 value; else a UTF-8 text; else hex
//   values        the aggregates (count, sum, min, max, avg) and window
//                 accumulators (window-contents) as rows: one value, or an
//                 array; distinct's `seen` as a bool; sessions
//                 (session-windows) as int64 start -> end
//   namespaces    16 bytes under a window's state or timer: {start, end}
//
// Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include <weir/state_reader.h>

namespace weir::tools {

// "value", "list-element", "map-entry", "timer", "operator-list".
std::string_view RecordKindName(StateRecord::Kind kind);

// The operator as shown: its uid, else its id in hex.
std::string OperatorLabel(const StateRecord& record);

// One JSON object for `record`: operator, state, kind, key_group, key (or
// key_hex), window or namespace_hex, user_key (or user_key_hex), value (or
// value_hex), ttl_timestamp (states with TTL), domain and time (timers),
// subtask (operator lists).
nlohmann::json RecordToJson(const StateRecord& record);

// The key as `--key` matches it: the decoded key as text (a YAML job's
// "alice" or "42"), or empty if it does not decode.
std::string KeyText(std::string_view key);

// True if `wanted` names `key`: its text (KeyText), its bytes, or "0x" and
// its bytes in hex.
bool KeyMatches(std::string_view key, std::string_view wanted);

// The CSV header line and one record's line (no newline), same columns:
// operator,state,kind,key_group,key,namespace,user_key,value,timestamp.
// Decoded values as text (arrays and objects as JSON), hex as 0x....
std::string CsvHeader();
std::string RecordToCsv(const StateRecord& record);

// A JSON value as a CSV cell's text: strings as they are, others as JSON.
std::string JsonText(const nlohmann::json& value);

// "0x" and the bytes in lowercase hex.
std::string HexBytes(std::string_view bytes);

}  // namespace weir::tools
