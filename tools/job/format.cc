// SPDX-License-Identifier: Apache-2.0
#include "tools/job/format.h"

#include <cctype>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

namespace weir::tools {

namespace {

bool IsBlank(std::string_view line) {
  for (char c : line) {
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string_view TrimSpaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

Status FieldError(const Field& field, const Status& s) {
  return Status::InvalidArgument("field '" + field.name +
                                 "': " + std::string(s.message()));
}

class CsvFormat final : public RecordFormat {
 public:
  explicit CsvFormat(Schema schema) : schema_(std::move(schema)) {}

  std::string_view name() const override { return "csv"; }

  Result<std::optional<Row>> Parse(std::string_view line) const override {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (IsBlank(line)) return std::optional<Row>();
    std::vector<std::string> fields;
    Status s = Split(line, &fields);
    if (!s.ok()) return s;
    if (fields.size() != schema_.fields.size()) {
      return Status::InvalidArgument(
          "expected " + std::to_string(schema_.fields.size()) + " field" +
          (schema_.fields.size() == 1 ? "" : "s") + " (" +
          schema_.FieldNames() + "), got " + std::to_string(fields.size()));
    }
    Row row;
    row.values.reserve(fields.size());
    for (size_t i = 0; i < fields.size(); ++i) {
      const Field& field = schema_.fields[i];
      std::string_view text = fields[i];
      if (field.type != FieldType::kString) text = TrimSpaces(text);
      Result<Value> value = ParseValueAs(field.type, text);
      if (!value.ok()) return FieldError(field, value.status());
      row.values.push_back(std::move(value).value());
    }
    return std::optional<Row>(std::move(row));
  }

  void Format(const Row& row, std::string* out) const override {
    for (size_t i = 0; i < row.values.size(); ++i) {
      if (i > 0) out->push_back(',');
      const std::string text = ValueToString(row.values[i]);
      // A lone empty string would read back as a blank line: quote it.
      const bool quote =
          text.find_first_of(",\"\r\n") != std::string::npos ||
          (row.values.size() == 1 &&
           std::holds_alternative<std::string>(row.values[i]) && IsBlank(text));
      if (!quote) {
        out->append(text);
        continue;
      }
      out->push_back('"');
      for (char c : text) {
        if (c == '"') out->push_back('"');
        out->push_back(c);
      }
      out->push_back('"');
    }
  }

  bool IsComplete(std::string_view text) const override {
    // Outside a quoted field every quote opens one; inside, "" is an escaped
    // quote and a lone quote closes it. Counting quotes is enough.
    size_t quotes = 0;
    for (char c : text) quotes += c == '"' ? 1 : 0;
    return quotes % 2 == 0;
  }

 private:
  static Status Split(std::string_view line, std::vector<std::string>* out) {
    size_t pos = 0;
    while (true) {
      std::string field;
      if (pos < line.size() && line[pos] == '"') {
        ++pos;
        bool closed = false;
        while (pos < line.size()) {
          if (line[pos] == '"') {
            if (pos + 1 < line.size() && line[pos + 1] == '"') {
              field.push_back('"');
              pos += 2;
              continue;
            }
            ++pos;
            closed = true;
            break;
          }
          field.push_back(line[pos++]);
        }
        if (!closed) {
          return Status::InvalidArgument("field " +
                                         std::to_string(out->size() + 1) +
                                         ": quoted field is not closed");
        }
        if (pos < line.size() && line[pos] != ',') {
          return Status::InvalidArgument(
              "field " + std::to_string(out->size() + 1) +
              ": unexpected character after closing quote");
        }
      } else {
        const size_t comma = line.find(',', pos);
        const size_t end =
            comma == std::string_view::npos ? line.size() : comma;
        field.assign(line.substr(pos, end - pos));
        pos = end;
      }
      out->push_back(std::move(field));
      if (pos >= line.size()) return Status::OK();
      ++pos;  // the comma
    }
  }

  Schema schema_;
};

using Json = nlohmann::ordered_json;

class JsonFormat final : public RecordFormat {
 public:
  explicit JsonFormat(Schema schema) : schema_(std::move(schema)) {}

  std::string_view name() const override { return "json"; }

  Result<std::optional<Row>> Parse(std::string_view line) const override {
    if (IsBlank(line)) return std::optional<Row>();
    Json object;
    try {
      object = Json::parse(line);
    } catch (const Json::exception& e) {
      std::string what = e.what();
      // Drop nlohmann's "[json.exception.parse_error.101] " tag.
      if (size_t tag_end = what.find("] "); tag_end != std::string::npos) {
        what.erase(0, tag_end + 2);
      }
      return Status::InvalidArgument("invalid JSON: " + what);
    }
    if (!object.is_object()) {
      return Status::InvalidArgument(
          std::string("expected a JSON object, got ") + object.type_name());
    }
    Row row;
    row.values.reserve(schema_.fields.size());
    for (const Field& field : schema_.fields) {
      auto it = object.find(field.name);
      if (it == object.end()) {
        return Status::InvalidArgument("missing field '" + field.name + "'");
      }
      Result<Value> value = Convert(field, *it);
      if (!value.ok()) return value.status();
      row.values.push_back(std::move(value).value());
    }
    return std::optional<Row>(std::move(row));
  }

  void Format(const Row& row, std::string* out) const override {
    Json object = Json::object();
    for (size_t i = 0; i < row.values.size() && i < schema_.fields.size();
         ++i) {
      const Value& value = row.values[i];
      Json& slot = object[schema_.fields[i].name];
      if (const std::string* s = std::get_if<std::string>(&value)) {
        slot = *s;
      } else if (const int64_t* n = std::get_if<int64_t>(&value)) {
        slot = *n;
      } else if (const double* d = std::get_if<double>(&value)) {
        slot = *d;
      } else if (const bool* b = std::get_if<bool>(&value)) {
        slot = *b;
      }
    }
    // replace: invalid UTF-8 in a string becomes U+FFFD instead of throwing.
    out->append(object.dump(-1, ' ', false, Json::error_handler_t::replace));
  }

  bool IsComplete(std::string_view) const override { return true; }

 private:
  static Result<Value> Convert(const Field& field, const Json& json) {
    auto bad = [&]() {
      return Status::InvalidArgument(
          "field '" + field.name +
          "': " + json.dump(-1, ' ', false, Json::error_handler_t::replace) +
          " is not " + (field.type == FieldType::kInt64 ? "an " : "a ") +
          std::string(FieldTypeName(field.type)));
    };
    if (json.is_null()) {
      return Status::InvalidArgument("field '" + field.name + "' is null");
    }
    switch (field.type) {
      case FieldType::kString:
        if (!json.is_string()) return bad();
        return Value(json.get<std::string>());
      case FieldType::kInt64:
        if (json.is_number_unsigned()) {
          const uint64_t u = json.get<uint64_t>();
          if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
            return bad();
          }
          return Value(static_cast<int64_t>(u));
        }
        if (!json.is_number_integer()) return bad();
        return Value(json.get<int64_t>());
      case FieldType::kDouble:
        if (!json.is_number()) return bad();
        return Value(json.get<double>());
      case FieldType::kBool:
        if (!json.is_boolean()) return bad();
        return Value(json.get<bool>());
    }
    return bad();
  }

  Schema schema_;
};

}  // namespace

bool IsKnownFormat(std::string_view name) {
  return name == "csv" || name == "json";
}

Result<std::unique_ptr<RecordFormat>> MakeFormat(std::string_view name,
                                                 const Schema& schema) {
  if (name == "csv") {
    return std::unique_ptr<RecordFormat>(std::make_unique<CsvFormat>(schema));
  }
  if (name == "json") {
    return std::unique_ptr<RecordFormat>(std::make_unique<JsonFormat>(schema));
  }
  return Status::InvalidArgument("unknown format '" + std::string(name) +
                                 "' (known: csv, json)");
}

}  // namespace weir::tools
