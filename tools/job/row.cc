// SPDX-License-Identifier: Apache-2.0
#include "tools/job/row.h"

#include <bit>
#include <cctype>
#include <charconv>
#include <cmath>
#include <system_error>

#include "lib/coding.h"
#include "tools/job/text.h"

namespace weir::tools {

std::string_view FieldTypeName(FieldType type) {
  switch (type) {
    case FieldType::kString:
      return "string";
    case FieldType::kInt64:
      return "int64";
    case FieldType::kDouble:
      return "double";
    case FieldType::kBool:
      return "bool";
  }
  return "?";
}

Result<FieldType> ParseFieldType(std::string_view name) {
  if (name == "string") return FieldType::kString;
  if (name == "int64" || name == "int" || name == "long") {
    return FieldType::kInt64;
  }
  if (name == "double" || name == "float") return FieldType::kDouble;
  if (name == "bool") return FieldType::kBool;
  return Status::InvalidArgument("unknown type '" + std::string(name) +
                                 "' (known: string, int64, double, bool)");
}

bool IsNumeric(FieldType type) {
  return type == FieldType::kInt64 || type == FieldType::kDouble;
}

Result<Field> ParseFieldSpec(std::string_view spec) {
  const size_t colon = spec.find(':');
  if (colon == std::string_view::npos) {
    return Status::InvalidArgument("field '" + std::string(spec) +
                                   "' needs a type, as in 'name:string'");
  }
  std::string_view name = spec.substr(0, colon);
  std::string_view type = spec.substr(colon + 1);
  while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
  while (!type.empty() && type.front() == ' ') type.remove_prefix(1);
  if (name.empty()) {
    return Status::InvalidArgument("field '" + std::string(spec) +
                                   "' has no name");
  }
  Result<FieldType> parsed = ParseFieldType(type);
  if (!parsed.ok()) {
    return Status::InvalidArgument("field '" + std::string(name) + "': " +
                                   std::string(parsed.status().message()));
  }
  return Field{std::string(name), *parsed};
}

int Schema::IndexOf(std::string_view name) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::string Schema::ToString() const {
  std::string out = "[";
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ", ";
    out += fields[i].name;
    out += ':';
    out += FieldTypeName(fields[i].type);
  }
  out += ']';
  return out;
}

std::string Schema::FieldNames() const {
  std::vector<std::string> names;
  names.reserve(fields.size());
  for (const Field& field : fields) names.push_back(field.name);
  return Join(names);
}

namespace {

// Kind ranks for CompareValues across unrelated kinds.
int KindRank(const Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return 0;
  if (std::holds_alternative<bool>(v)) return 1;
  if (std::holds_alternative<int64_t>(v) || std::holds_alternative<double>(v)) {
    return 2;
  }
  return 3;
}

template <class T>
int ThreeWay(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

enum class Kind : char {
  kNull = 0,
  kString = 1,
  kInt64 = 2,
  kDouble = 3,
  kBool = 4
};

}  // namespace

int CompareValues(const Value& a, const Value& b) {
  const int rank_a = KindRank(a);
  const int rank_b = KindRank(b);
  if (rank_a != rank_b) return ThreeWay(rank_a, rank_b);
  switch (rank_a) {
    case 0:
      return 0;
    case 1:
      return ThreeWay(std::get<bool>(a), std::get<bool>(b));
    case 2:
      if (std::holds_alternative<int64_t>(a) &&
          std::holds_alternative<int64_t>(b)) {
        return ThreeWay(std::get<int64_t>(a), std::get<int64_t>(b));
      }
      return ThreeWay(ToDouble(a), ToDouble(b));
    default:
      return ThreeWay(std::get<std::string>(a), std::get<std::string>(b));
  }
}

double ToDouble(const Value& value) {
  if (const int64_t* i = std::get_if<int64_t>(&value)) {
    return static_cast<double>(*i);
  }
  if (const double* d = std::get_if<double>(&value)) return *d;
  return 0;
}

std::string ValueToString(const Value& value) {
  if (const std::string* s = std::get_if<std::string>(&value)) return *s;
  if (const int64_t* i = std::get_if<int64_t>(&value)) {
    return std::to_string(*i);
  }
  if (const double* d = std::get_if<double>(&value)) {
    char buf[64];
    auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), *d);
    if (ec != std::errc()) return "nan";
    return std::string(buf, ptr);
  }
  if (const bool* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  return "";
}

std::string EncodeKey(const Value& value) {
  std::string out;
  if (const std::string* s = std::get_if<std::string>(&value)) {
    out.push_back(static_cast<char>(Kind::kString));
    out += *s;
  } else if (const int64_t* i = std::get_if<int64_t>(&value)) {
    out.push_back(static_cast<char>(Kind::kInt64));
    Serializer<int64_t>().Serialize(*i, &out);
  } else if (const double* d = std::get_if<double>(&value)) {
    out.push_back(static_cast<char>(Kind::kDouble));
    Serializer<double>().Serialize(*d, &out);
  } else if (const bool* b = std::get_if<bool>(&value)) {
    out.push_back(static_cast<char>(Kind::kBool));
    out.push_back(*b ? '\1' : '\0');
  } else {
    out.push_back(static_cast<char>(Kind::kNull));
  }
  return out;
}

Result<Value> ParseValueAs(FieldType type, std::string_view text) {
  switch (type) {
    case FieldType::kString:
      return Value(std::string(text));
    case FieldType::kInt64:
      if (std::optional<int64_t> i = ParseInt64(text)) return Value(*i);
      break;
    case FieldType::kDouble:
      if (std::optional<double> d = ParseDouble(text)) return Value(*d);
      break;
    case FieldType::kBool:
      if (text == "1") return Value(true);
      if (text == "0") return Value(false);
      if (EqualsIgnoreCase(text, "true")) return Value(true);
      if (EqualsIgnoreCase(text, "false")) return Value(false);
      break;
  }
  return Status::InvalidArgument("'" + std::string(text) + "' is not " +
                                 (type == FieldType::kInt64 ? "an " : "a ") +
                                 std::string(FieldTypeName(type)));
}

}  // namespace weir::tools

namespace weir {

void Serializer<tools::Row>::Serialize(const tools::Row& row,
                                       std::string* out) const {
  PutVarint32(out, static_cast<uint32_t>(row.values.size()));
  for (const tools::Value& value : row.values) {
    if (const std::string* s = std::get_if<std::string>(&value)) {
      out->push_back(1);
      PutLengthPrefixed(out, *s);
    } else if (const int64_t* i = std::get_if<int64_t>(&value)) {
      out->push_back(2);
      PutFixed64BE(out, static_cast<uint64_t>(*i));
    } else if (const double* d = std::get_if<double>(&value)) {
      out->push_back(3);
      PutFixed64BE(out, std::bit_cast<uint64_t>(*d));
    } else if (const bool* b = std::get_if<bool>(&value)) {
      out->push_back(4);
      out->push_back(*b ? '\1' : '\0');
    } else {
      out->push_back(0);
    }
  }
}

Status Serializer<tools::Row>::Deserialize(uint32_t version,
                                           std::string_view in,
                                           tools::Row* row) const {
  if (version != 1) {
    return Status::NotSupported("row serializer version " +
                                std::to_string(version) + " is unknown");
  }
  const Status truncated = Status::Corruption("truncated row");
  uint32_t count = 0;
  if (!GetVarint32(&in, &count)) return truncated;
  // Every value takes at least one byte: refuse absurd counts before
  // reserving.
  if (count > in.size()) return truncated;
  row->values.clear();
  row->values.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    if (in.empty()) return truncated;
    const char kind = in[0];
    in.remove_prefix(1);
    switch (kind) {
      case 0:
        row->values.emplace_back(std::monostate());
        break;
      case 1: {
        std::string_view s;
        if (!GetLengthPrefixed(&in, &s)) return truncated;
        row->values.emplace_back(std::string(s));
        break;
      }
      case 2: {
        uint64_t bits = 0;
        if (!GetFixed64BE(&in, &bits)) return truncated;
        row->values.emplace_back(static_cast<int64_t>(bits));
        break;
      }
      case 3: {
        uint64_t bits = 0;
        if (!GetFixed64BE(&in, &bits)) return truncated;
        row->values.emplace_back(std::bit_cast<double>(bits));
        break;
      }
      case 4:
        if (in.empty()) return truncated;
        row->values.emplace_back(in[0] != 0);
        in.remove_prefix(1);
        break;
      default:
        return Status::Corruption("row value has unknown kind " +
                                  std::to_string(static_cast<int>(kind)));
    }
  }
  if (!in.empty()) return Status::Corruption("trailing bytes after row");
  return Status::OK();
}

}  // namespace weir
