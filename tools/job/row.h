// SPDX-License-Identifier: Apache-2.0
//
// Rows: the dynamic records that YAML jobs pass between operators. A Schema
// names and types the fields; a Row holds one Value per field, in schema
// order. Values are plain data; all functions here are pure and thread-safe.
//
// Serializer<tools::Row> (below) lets rows be kept in keyed state; EncodeKey
// turns one Value into the bytes of a keyed-state key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <weir/result.h>
#include <weir/serializer.h>
#include <weir/status.h>

namespace weir::tools {

enum class FieldType { kString, kInt64, kDouble, kBool };

// "string", "int64", "double", "bool".
std::string_view FieldTypeName(FieldType type);

// Accepts "string", "int64", "double", "bool", and the aliases "int" and
// "long" (int64) and "float" (double). InvalidArgument lists the known names.
Result<FieldType> ParseFieldType(std::string_view name);

// True for kInt64 and kDouble.
bool IsNumeric(FieldType type);

struct Field {
  std::string name;
  FieldType type = FieldType::kString;

  bool operator==(const Field&) const = default;
};

// "name:type", e.g. "user:string". InvalidArgument if the colon, the name or
// a known type is missing.
Result<Field> ParseFieldSpec(std::string_view spec);

struct Schema {
  std::vector<Field> fields;

  // The index of the field called `name`, or -1 if there is none.
  int IndexOf(std::string_view name) const;
  // "[user:string, amount:int64]".
  std::string ToString() const;
  // "user, amount": for error messages that list the available fields.
  std::string FieldNames() const;

  bool operator==(const Schema&) const = default;
};

// One field's value. std::monostate is a missing value (null); the formats
// never produce it, but operators may.
using Value = std::variant<std::monostate, std::string, int64_t, double, bool>;

struct Row {
  std::vector<Value> values;

  bool operator==(const Row&) const = default;
};

// A total order on values, returning <0, 0 or >0. Numbers compare
// numerically across int64 and double (1 == 1.0); strings compare
// bytewise; false < true. Values of unrelated kinds order by kind: null <
// bool < numbers < strings, so that min/max stay well defined.
int CompareValues(const Value& a, const Value& b);

// The value as text: strings as they are, int64 in decimal, doubles in the
// shortest form that reads back to the same double, bools as "true"/"false",
// null as "".
std::string ValueToString(const Value& value);

// The bytes that identify `value` as a keyed-state key: a one-byte kind tag
// followed by the value (big-endian for numbers). Distinct values, including
// int64 1 and double 1.0, give distinct bytes.
std::string EncodeKey(const Value& value);

// Parses `text` as a value of `type`. Strings are taken as they are; int64
// and double need the whole text to be a number; bools accept true/false
// (any case) and 1/0. InvalidArgument: "'abc' is not an int64".
Result<Value> ParseValueAs(FieldType type, std::string_view text);

// Converts a numeric value to double (int64 or double); 0 for others.
double ToDouble(const Value& value);

}  // namespace weir::tools

namespace weir {

// Rows in state. Version 1: varint32 count, then per value a kind byte
// (0 null, 1 string, 2 int64, 3 double, 4 bool) and its payload: strings
// length-prefixed, int64 and double as 8 bytes, bool as 1 byte.
template <>
struct Serializer<tools::Row> {
  static constexpr uint32_t kVersion = 1;
  void Serialize(const tools::Row& row, std::string* out) const;
  Status Deserialize(uint32_t version, std::string_view in,
                     tools::Row* row) const;
};

}  // namespace weir
