// SPDX-License-Identifier: Apache-2.0
#include "tools/run/state_query.h"

#include <chrono>
#include <variant>

namespace weir::tools {
namespace {

constexpr std::chrono::milliseconds kQueryTimeout{5000};

nlohmann::json ValueToJson(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* b = std::get_if<bool>(&v)) return *b;
  return nullptr;
}

}  // namespace

Result<nlohmann::json> QueryAggregate(Job& job, const JobSpec& spec,
                                      const std::string& uid,
                                      const std::string& key) {
  const int index = spec.IndexOf(uid);
  const AggregateSpec* agg =
      index < 0 ? nullptr
                : std::get_if<AggregateSpec>(&spec.operators[index].params);
  if (agg == nullptr) {
    return Status::NotFound("job " + job.id().ToHex() +
                            " has no aggregate with uid '" + uid +
                            "' (count, sum, min or max)");
  }
  const OperatorSpec& op = spec.operators[index];
  const FieldType key_type = op.input_schema.fields[agg->key_index].type;
  Result<Value> key_value = ParseValueAs(key_type, key);
  if (!key_value.ok()) {
    return key_value.status().WithContext("key of aggregate '" + uid + "'");
  }
  // The key bytes as KeyBy wrote them: Serializer<std::string> of
  // EncodeKey, which is the text itself.
  Result<Row> row = job.QueryValue<Row>(uid, AggKindName(agg->agg),
                                        EncodeKey(*key_value), kQueryTimeout);
  if (!row.ok()) {
    if (row.status().IsNotFound()) {
      return Status::NotFound("aggregate '" + uid + "' has no value for key '" +
                              key + "'");
    }
    return row.status();
  }
  if (row->values.empty()) {
    return Status::Corruption("aggregate '" + uid + "' holds an empty row");
  }
  nlohmann::json out = nlohmann::json::object();
  out["key"] = ValueToJson(*key_value);
  out["value"] = ValueToJson(row->values[0]);
  return out;
}

}  // namespace weir::tools
