// SPDX-License-Identifier: Apache-2.0
#include "tools/job/job_spec.h"

#include <algorithm>
#include <cctype>
#include <exception>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <utility>
#include <yaml-cpp/yaml.h>

#include "lib/file.h"
#include "tools/job/format.h"
#include "tools/job/text.h"

namespace weir::tools {

std::string_view CompareOpName(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "==";
    case CompareOp::kNe:
      return "!=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
  }
  return "?";
}

std::string_view AggKindName(AggKind kind) {
  switch (kind) {
    case AggKind::kCount:
      return "count";
    case AggKind::kSum:
      return "sum";
    case AggKind::kMin:
      return "min";
    case AggKind::kMax:
      return "max";
    case AggKind::kAvg:
      return "avg";
  }
  return "?";
}

bool OperatorSpec::is_source() const {
  return std::holds_alternative<GeneratorSpec>(params) ||
         std::holds_alternative<NexmarkSourceSpec>(params) ||
         std::holds_alternative<FileSourceSpec>(params) ||
         std::holds_alternative<NatsSourceSpec>(params);
}

bool OperatorSpec::is_sink() const {
  return std::holds_alternative<FileSinkSpec>(params) ||
         std::holds_alternative<NatsSinkSpec>(params) ||
         std::holds_alternative<StdoutSinkSpec>(params) ||
         std::holds_alternative<NullSinkSpec>(params);
}

int JobSpec::IndexOf(std::string_view uid) const {
  for (size_t i = 0; i < operators.size(); ++i) {
    if (operators[i].uid == uid) return static_cast<int>(i);
  }
  return -1;
}

namespace {

// Keys every operator accepts, and the type-specific ones.
const std::vector<std::string> kCommonKeys = {
    "uid", "type", "name", "parallelism", "uid-hash", "inputs"};

const std::map<std::string, std::vector<std::string>>& TypeKeys() {
  static const auto* keys = new std::map<std::string, std::vector<std::string>>{
      {"generator", {"keys", "count", "rate", "seed", "ts-step"}},
      {"nexmark-source",
       {"events", "count", "rate", "seed", "first-event-rate",
        "out-of-order-group-size"}},
      {"file-source",
       {"path", "format", "schema", "follow", "on-error", "timestamp",
        "out-of-orderness", "idle-timeout"}},
      {"filter", {"field", "op", "value"}},
      {"map", {"fields"}},
      {"count", {"key", "as"}},
      {"sum", {"key", "field", "as"}},
      {"min", {"key", "field", "as"}},
      {"max", {"key", "field", "as"}},
      {"distinct", {"key"}},
      {"window",
       {"key", "kind", "size", "slide", "gap", "agg", "field", "time",
        "allowed-lateness", "as"}},
      {"file-sink", {"path", "format"}},
      {"nats-source",
       {"servers", "stream", "subjects", "bounded", "format", "schema",
        "on-error", "timestamp", "out-of-orderness", "idle-timeout",
        "credentials", "tls", "reconnect-wait", "reconnect-wait-max",
        "max-outage"}},
      {"nats-sink",
       {"servers", "subject", "format", "delivery", "min-duplicate-window",
        "credentials", "tls", "reconnect-wait", "reconnect-wait-max",
        "max-outage"}},
      {"stdout-sink", {"format"}},
      {"null-sink", {}},
  };
  return *keys;
}

const std::vector<std::string> kJobKeys = {
    "name", "parallelism", "max-parallelism", "config", "operators"};

constexpr int64_t kMaxMaxParallelism = 32768;

bool IsSourceType(std::string_view type) {
  return type == "generator" || type == "nexmark-source" ||
         type == "file-source" || type == "nats-source";
}
bool IsSinkType(std::string_view type) {
  return type == "file-sink" || type == "stdout-sink" || type == "null-sink" ||
         type == "nats-sink";
}

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// One `key: value` of a YAML map, with the key's position.
struct Entry {
  std::string key;
  YAML::Mark key_mark;
  YAML::Node value;
};

// Turns a YAML document into a JobSpec. Every method that can fail returns
// a Status whose message already has the "path:line:col: " prefix.
class JobParser {
 public:
  JobParser(std::string path, std::string base_dir)
      : path_(std::move(path)), base_dir_(std::move(base_dir)) {}

  Result<JobSpec> Parse(std::string_view yaml);

 private:
  // --- errors and positions
  Status ErrorAt(const YAML::Mark& mark, const std::string& msg) const {
    std::string out = path_;
    if (mark.line >= 0) {
      out += ":" + std::to_string(mark.line + 1) + ":" +
             std::to_string(mark.column + 1);
    }
    return Status::InvalidArgument(out + ": " + prefix_ + msg);
  }
  // The value's own position, or its key's when the value has none (null).
  Status ErrorAt(const Entry& e, const std::string& msg) const {
    YAML::Mark mark = e.value.Mark();
    if (mark.line < 0 || e.value.IsNull()) mark = e.key_mark;
    return ErrorAt(mark, msg);
  }

  // --- maps
  Status ReadMap(const YAML::Node& node, const YAML::Mark& where,
                 const std::string& what, std::vector<Entry>* out) const;
  static const Entry* Find(const std::vector<Entry>& entries,
                           std::string_view key) {
    for (const Entry& e : entries) {
      if (e.key == key) return &e;
    }
    return nullptr;
  }
  Status CheckKeys(const std::vector<Entry>& entries,
                   const std::vector<std::string>& allowed,
                   const std::string& context) const;
  Status Require(const std::vector<Entry>& entries, std::string_view key,
                 const YAML::Mark& where, const Entry** out) const;

  // --- scalars
  Status GetString(const Entry& e, std::string* out) const;
  Status GetInt(const Entry& e, int64_t min, int64_t max, int64_t* out) const;
  Status GetDouble(const Entry& e, double min, double* out) const;
  Status GetBool(const Entry& e, bool* out) const;
  Status GetDuration(const Entry& e, int64_t* out) const;
  Status GetChoice(const Entry& e, const std::vector<std::string>& choices,
                   std::string* out) const;
  Status GetStrings(const Entry& e, std::vector<std::string>* out) const;
  Status GetFormat(const Entry* e, std::string* out) const;
  Status GetField(const Entry& e, const Schema& schema, std::string* name,
                  int* index) const;
  std::string ResolvePath(const std::string& path) const;

  // --- operators
  Status ParseCommon(const std::vector<Entry>& entries, OperatorSpec* op) const;
  Status ResolveInputs(const std::vector<Entry>& entries,
                       const YAML::Mark& mark, size_t index,
                       JobSpec* job) const;
  Status ParseParams(const std::vector<Entry>& entries, const YAML::Mark& mark,
                     OperatorSpec* op) const;
  Status ParseNexmarkSource(const std::vector<Entry>& entries,
                            OperatorSpec* op) const;
  // The keys both generators take: `count`, `rate` and `seed`.
  Status ParseCountRateSeed(const std::vector<Entry>& entries,
                            std::optional<int64_t>* count, double* rate,
                            uint64_t* seed) const;
  Status ParseGenerator(const std::vector<Entry>& entries,
                        OperatorSpec* op) const;
  Status ParseFileSource(const std::vector<Entry>& entries,
                         const YAML::Mark& mark, OperatorSpec* op) const;
  // The decoding keys of file-source and nats-source: format, schema,
  // on-error, timestamp, out-of-orderness, idle-timeout.
  template <class Spec>
  Status ParseDecoding(const std::vector<Entry>& entries,
                       const YAML::Mark& mark, Spec* spec) const;
  Status ParseNatsConnection(const std::vector<Entry>& entries,
                             const YAML::Mark& mark,
                             NatsConnectionSpec* spec) const;
  Status ParseNatsSource(const std::vector<Entry>& entries,
                         const YAML::Mark& mark, OperatorSpec* op) const;
  Status ParseNatsSink(const std::vector<Entry>& entries,
                       const YAML::Mark& mark, OperatorSpec* op) const;
  Status ParseFilter(const std::vector<Entry>& entries, const YAML::Mark& mark,
                     OperatorSpec* op) const;
  Status ParseMap(const std::vector<Entry>& entries, const YAML::Mark& mark,
                  OperatorSpec* op) const;
  Status ParseAggregate(const std::vector<Entry>& entries,
                        const YAML::Mark& mark, OperatorSpec* op) const;
  Status ParseDistinct(const std::vector<Entry>& entries,
                       const YAML::Mark& mark, OperatorSpec* op) const;
  Status ParseWindow(const std::vector<Entry>& entries, const YAML::Mark& mark,
                     OperatorSpec* op) const;
  Status ParseSink(const std::vector<Entry>& entries, const YAML::Mark& mark,
                   OperatorSpec* op) const;
  Status CheckUniqueNames(const Schema& schema, const YAML::Mark& mark,
                          std::string_view hint) const;

  std::string path_;
  std::string base_dir_;
  std::string prefix_;  // "operator 'x': " while inside an operator
};

Status JobParser::ReadMap(const YAML::Node& node, const YAML::Mark& where,
                          const std::string& what,
                          std::vector<Entry>* out) const {
  if (!node.IsMap()) {
    YAML::Mark mark = node.Mark();
    if (mark.line < 0 || node.IsNull()) mark = where;
    return ErrorAt(mark, what + " must be a map of 'key: value'");
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    // Copies: `it->` points into a temporary proxy.
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      return ErrorAt(key.Mark(), "keys of " + what + " must be plain words");
    }
    if (Find(*out, key.Scalar()) != nullptr) {
      return ErrorAt(key.Mark(), "duplicate key " + Quote(key.Scalar()));
    }
    out->push_back(Entry{key.Scalar(), key.Mark(), it->second});
  }
  return Status::OK();
}

Status JobParser::CheckKeys(const std::vector<Entry>& entries,
                            const std::vector<std::string>& allowed,
                            const std::string& context) const {
  for (const Entry& e : entries) {
    if (std::find(allowed.begin(), allowed.end(), e.key) != allowed.end()) {
      continue;
    }
    std::string msg = "unknown key " + Quote(e.key) + context;
    if (std::optional<std::string> near = ClosestMatch(e.key, allowed)) {
      msg += " (did you mean " + Quote(*near) + "?)";
    } else {
      msg += " (known: " + Join(allowed) + ")";
    }
    return ErrorAt(e.key_mark, msg);
  }
  return Status::OK();
}

Status JobParser::Require(const std::vector<Entry>& entries,
                          std::string_view key, const YAML::Mark& where,
                          const Entry** out) const {
  *out = Find(entries, key);
  if (*out == nullptr) {
    return ErrorAt(where, "missing required key " + Quote(key));
  }
  return Status::OK();
}

Status JobParser::GetString(const Entry& e, std::string* out) const {
  if (e.value.IsNull() || !e.value.IsScalar()) {
    return ErrorAt(e, Quote(e.key) + " needs a single value");
  }
  *out = e.value.Scalar();
  return Status::OK();
}

Status JobParser::GetInt(const Entry& e, int64_t min, int64_t max,
                         int64_t* out) const {
  std::string text;
  Status s = GetString(e, &text);
  if (!s.ok()) return s;
  std::optional<int64_t> value = ParseInt64(text);
  if (!value) {
    return ErrorAt(e, Quote(e.key) + " must be an integer, not " + Quote(text));
  }
  if (*value < min || *value > max) {
    std::string range =
        max == std::numeric_limits<int64_t>::max()
            ? "at least " + std::to_string(min)
            : "between " + std::to_string(min) + " and " + std::to_string(max);
    return ErrorAt(e, Quote(e.key) + " must be " + range + ", not " + text);
  }
  *out = *value;
  return Status::OK();
}

Status JobParser::GetDouble(const Entry& e, double min, double* out) const {
  std::string text;
  Status s = GetString(e, &text);
  if (!s.ok()) return s;
  std::optional<double> value = ParseDouble(text);
  if (!value || !(*value >= min)) {
    return ErrorAt(e, Quote(e.key) + " must be a number of at least " +
                          ValueToString(Value(min)) + ", not " + Quote(text));
  }
  *out = *value;
  return Status::OK();
}

Status JobParser::GetBool(const Entry& e, bool* out) const {
  std::string text;
  Status s = GetString(e, &text);
  if (!s.ok()) return s;
  std::optional<bool> value = ParseBool(text);
  if (!value) {
    return ErrorAt(e,
                   Quote(e.key) + " must be true or false, not " + Quote(text));
  }
  *out = *value;
  return Status::OK();
}

Status JobParser::GetDuration(const Entry& e, int64_t* out) const {
  std::string text;
  Status s = GetString(e, &text);
  if (!s.ok()) return s;
  Result<int64_t> ms = ParseDurationMs(text);
  if (!ms.ok()) {
    return ErrorAt(e, Quote(e.key) + ": " + std::string(ms.status().message()));
  }
  *out = *ms;
  return Status::OK();
}

Status JobParser::GetChoice(const Entry& e,
                            const std::vector<std::string>& choices,
                            std::string* out) const {
  Status s = GetString(e, out);
  if (!s.ok()) return s;
  if (std::find(choices.begin(), choices.end(), *out) == choices.end()) {
    return ErrorAt(e, Quote(e.key) + " must be one of " + Join(choices, "|") +
                          ", not " + Quote(*out));
  }
  return Status::OK();
}

Status JobParser::GetFormat(const Entry* e, std::string* out) const {
  if (e == nullptr) return Status::OK();  // keep the default
  return GetChoice(*e, {"csv", "json"}, out);
}

Status JobParser::GetField(const Entry& e, const Schema& schema,
                           std::string* name, int* index) const {
  Status s = GetString(e, name);
  if (!s.ok()) return s;
  *index = schema.IndexOf(*name);
  if (*index < 0) {
    return ErrorAt(e, "unknown field " + Quote(*name) +
                          " (fields: " + schema.FieldNames() + ")");
  }
  return Status::OK();
}

std::string JobParser::ResolvePath(const std::string& path) const {
  std::filesystem::path p(path);
  if (p.is_absolute() || base_dir_.empty()) return p.lexically_normal();
  return (std::filesystem::path(base_dir_) / p).lexically_normal();
}

Status JobParser::CheckUniqueNames(const Schema& schema, const YAML::Mark& mark,
                                   std::string_view hint) const {
  std::set<std::string> seen;
  for (const Field& field : schema.fields) {
    if (!seen.insert(field.name).second) {
      return ErrorAt(mark, "output would have two fields named " +
                               Quote(field.name) + std::string(hint));
    }
  }
  return Status::OK();
}

Result<JobSpec> JobParser::Parse(std::string_view yaml) {
  YAML::Node root = YAML::Load(std::string(yaml));
  const YAML::Mark start;  // line 0, column 0
  if (!root.IsDefined() || root.IsNull()) {
    return ErrorAt(start, "the job file is empty");
  }
  std::vector<Entry> top;
  Status s = ReadMap(root, start, "a job file", &top);
  if (s.ok()) s = CheckKeys(top, kJobKeys, "");
  if (!s.ok()) return s;

  JobSpec job;
  job.path = path_;
  job.base_dir = base_dir_;
  const Entry* e = nullptr;
  s = Require(top, "name", start, &e);
  if (s.ok()) s = GetString(*e, &job.name);
  if (s.ok() && job.name.empty()) s = ErrorAt(*e, "'name' is empty");
  if (!s.ok()) return s;
  int64_t number = 0;
  if (const Entry* p = Find(top, "max-parallelism")) {
    s = GetInt(*p, 1, kMaxMaxParallelism, &number);
    if (!s.ok()) return s;
    job.max_parallelism = static_cast<int>(number);
  }
  if (const Entry* p = Find(top, "parallelism")) {
    s = GetInt(*p, 1, kMaxMaxParallelism, &number);
    if (!s.ok()) return s;
    if (job.max_parallelism > 0 && number > job.max_parallelism) {
      return ErrorAt(*p, "'parallelism' " + std::to_string(number) +
                             " is above 'max-parallelism' " +
                             std::to_string(job.max_parallelism));
    }
    job.parallelism = static_cast<int>(number);
  }

  if (const Entry* c = Find(top, "config")) {
    if (!c->value.IsMap()) {
      return ErrorAt(*c,
                     "'config' must be a map of configuration keys "
                     "(docs/configuration.md)");
    }
    Result<std::vector<ConfigSetting>> settings =
        ConfigSettingsFromYaml(c->value, path_);
    if (!settings.ok()) return settings.status();
    job.config = std::move(settings).value();
  }

  const Entry* ops_entry = nullptr;
  s = Require(top, "operators", start, &ops_entry);
  if (!s.ok()) return s;
  const YAML::Node& ops = ops_entry->value;
  if (!ops.IsSequence() || ops.size() == 0) {
    return ErrorAt(*ops_entry,
                   "'operators' must be a non-empty list of operators");
  }

  // Pass 1: uid, type and common keys of every operator, so that `inputs`
  // can tell an unknown uid from a later one.
  std::vector<std::vector<Entry>> entries(ops.size());
  std::vector<YAML::Mark> marks(ops.size());
  std::map<std::string, size_t> uid_index;
  for (size_t i = 0; i < ops.size(); ++i) {
    const YAML::Node& node = ops[i];
    marks[i] = node.Mark().line >= 0 ? node.Mark() : ops_entry->key_mark;
    prefix_.clear();
    s = ReadMap(node, marks[i], "an operator", &entries[i]);
    if (!s.ok()) return s;
    OperatorSpec op;
    op.line = marks[i].line + 1;
    const Entry* uid = nullptr;
    s = Require(entries[i], "uid", marks[i], &uid);
    if (s.ok()) s = GetString(*uid, &op.uid);
    if (s.ok() && op.uid.empty()) s = ErrorAt(*uid, "'uid' is empty");
    if (!s.ok()) return s;
    if (auto [it, fresh] = uid_index.emplace(op.uid, i); !fresh) {
      return ErrorAt(*uid, "two operators have uid " + Quote(op.uid) +
                               " (lines " +
                               std::to_string(job.operators[it->second].line) +
                               " and " + std::to_string(op.line) + ")");
    }
    prefix_ = "operator " + Quote(op.uid) + ": ";
    const Entry* type = nullptr;
    s = Require(entries[i], "type", marks[i], &type);
    if (s.ok()) s = GetString(*type, &op.type);
    if (!s.ok()) return s;
    auto keys = TypeKeys().find(op.type);
    if (keys == TypeKeys().end()) {
      const std::vector<std::string>& known = KnownOperatorTypes();
      std::string msg = "unknown operator type " + Quote(op.type);
      if (std::optional<std::string> near = ClosestMatch(op.type, known)) {
        msg += " (did you mean " + Quote(*near) + "?)";
      }
      return ErrorAt(*type, msg + " (known: " + Join(known) + ")");
    }
    std::vector<std::string> allowed = kCommonKeys;
    allowed.insert(allowed.end(), keys->second.begin(), keys->second.end());
    s = CheckKeys(entries[i], allowed, " for operator type " + Quote(op.type));
    if (s.ok()) s = ParseCommon(entries[i], &op);
    if (!s.ok()) return s;
    if (op.parallelism > 0 && job.max_parallelism > 0 &&
        op.parallelism > job.max_parallelism) {
      return ErrorAt(*Find(entries[i], "parallelism"),
                     "'parallelism' " + std::to_string(op.parallelism) +
                         " is above the job's 'max-parallelism' " +
                         std::to_string(job.max_parallelism));
    }
    // A placeholder with the right source/sink kind until pass 2.
    if (op.type == "generator") op.params = GeneratorSpec();
    if (op.type == "nexmark-source") op.params = NexmarkSourceSpec();
    if (op.type == "file-source") op.params = FileSourceSpec();
    if (op.type == "nats-source") op.params = NatsSourceSpec();
    if (IsSinkType(op.type)) op.params = NullSinkSpec();
    job.operators.push_back(std::move(op));
  }

  // Pass 2, in file order: inputs, then the type's keys against the input
  // schema.
  for (size_t i = 0; i < job.operators.size(); ++i) {
    OperatorSpec& op = job.operators[i];
    prefix_ = "operator " + Quote(op.uid) + ": ";
    s = ResolveInputs(entries[i], marks[i], i, &job);
    if (s.ok()) s = ParseParams(entries[i], marks[i], &op);
    if (!s.ok()) return s;
  }
  return job;
}

Status JobParser::ParseCommon(const std::vector<Entry>& entries,
                              OperatorSpec* op) const {
  Status s;
  op->name = op->uid;
  if (const Entry* e = Find(entries, "name")) {
    s = GetString(*e, &op->name);
    if (!s.ok()) return s;
  }
  if (const Entry* e = Find(entries, "parallelism")) {
    int64_t p = 0;
    s = GetInt(*e, 1, kMaxMaxParallelism, &p);
    if (!s.ok()) return s;
    op->parallelism = static_cast<int>(p);
  }
  if (const Entry* e = Find(entries, "uid-hash")) {
    s = GetString(*e, &op->uid_hash);
    if (!s.ok()) return s;
    bool hex = op->uid_hash.size() == 32;
    for (char& c : op->uid_hash) {
      hex = hex && std::isxdigit(static_cast<unsigned char>(c));
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (!hex) {
      return ErrorAt(*e, "'uid-hash' must be 32 hex digits, not " +
                             Quote(e->value.Scalar()));
    }
  }
  if (const Entry* e = Find(entries, "inputs")) {
    if (e->value.IsScalar()) {
      op->input_uids.push_back(e->value.Scalar());
    } else if (e->value.IsSequence() && e->value.size() > 0) {
      for (const YAML::Node& item : e->value) {
        if (!item.IsScalar()) {
          return ErrorAt(item.Mark(), "'inputs' must be a list of uids");
        }
        op->input_uids.push_back(item.Scalar());
      }
    } else {
      return ErrorAt(*e, "'inputs' must be a non-empty list of uids");
    }
  }
  return Status::OK();
}

Status JobParser::ResolveInputs(const std::vector<Entry>& entries,
                                const YAML::Mark& op_mark, size_t index,
                                JobSpec* job) const {
  OperatorSpec& op = job->operators[index];
  const Entry* inputs = Find(entries, "inputs");
  if (IsSourceType(op.type)) {
    if (inputs != nullptr) {
      return ErrorAt(inputs->key_mark,
                     "a source (" + op.type + ") takes no 'inputs'");
    }
    // file-source and nats-source: see their parsers.
    op.has_event_time = op.type == "generator" || op.type == "nexmark-source";
    return Status::OK();
  }
  if (inputs == nullptr) {
    const YAML::Mark& here = op_mark;
    if (index == 0) {
      return ErrorAt(here,
                     "has no input: the first operator must be a source "
                     "(generator, nexmark-source, file-source, nats-source)");
    }
    const OperatorSpec& prev = job->operators[index - 1];
    if (IsSinkType(prev.type)) {
      return ErrorAt(here, "has no input: the operator before it, " +
                               Quote(prev.uid) + ", is a sink (" + prev.type +
                               "); name the input with 'inputs: [uid]'");
    }
    op.input_uids = {prev.uid};
  }
  std::set<int> seen;
  for (size_t k = 0; k < op.input_uids.size(); ++k) {
    const std::string& uid = op.input_uids[k];
    YAML::Mark mark = op_mark;
    if (inputs != nullptr) {
      mark = inputs->value.IsSequence() ? inputs->value[k].Mark()
                                        : inputs->value.Mark();
    }
    const int from = job->IndexOf(uid);
    if (from < 0) {
      std::vector<std::string> uids;
      for (const OperatorSpec& other : job->operators)
        uids.push_back(other.uid);
      std::string msg =
          "input " + Quote(uid) + " is not the uid of any operator";
      if (std::optional<std::string> near = ClosestMatch(uid, uids)) {
        msg += " (did you mean " + Quote(*near) + "?)";
      }
      return ErrorAt(mark, msg);
    }
    if (from == static_cast<int>(index)) {
      return ErrorAt(mark, "an operator cannot read its own output");
    }
    if (from > static_cast<int>(index)) {
      return ErrorAt(mark,
                     "input " + Quote(uid) + " comes later in the file (line " +
                         std::to_string(job->operators[from].line) +
                         "); operators read only from operators above them");
    }
    const OperatorSpec& in = job->operators[from];
    if (IsSinkType(in.type)) {
      return ErrorAt(mark, "input " + Quote(uid) + " is a sink (" + in.type +
                               ") and has no output");
    }
    if (!seen.insert(from).second) {
      return ErrorAt(mark, "input " + Quote(uid) + " is listed twice");
    }
    if (k == 0) {
      op.input_schema = in.output_schema;
      op.has_event_time = in.has_event_time;
    } else {
      if (in.output_schema != op.input_schema) {
        return ErrorAt(mark, "inputs of a union must have the same schema: " +
                                 Quote(op.input_uids[0]) + " gives " +
                                 op.input_schema.ToString() + " but " +
                                 Quote(uid) + " gives " +
                                 in.output_schema.ToString());
      }
      op.has_event_time = op.has_event_time && in.has_event_time;
    }
    op.inputs.push_back(from);
  }
  return Status::OK();
}

Status JobParser::ParseParams(const std::vector<Entry>& entries,
                              const YAML::Mark& mark, OperatorSpec* op) const {
  const std::string& type = op->type;
  if (type == "generator") return ParseGenerator(entries, op);
  if (type == "nexmark-source") return ParseNexmarkSource(entries, op);
  if (type == "file-source") return ParseFileSource(entries, mark, op);
  if (type == "nats-source") return ParseNatsSource(entries, mark, op);
  if (type == "nats-sink") return ParseNatsSink(entries, mark, op);
  if (type == "filter") return ParseFilter(entries, mark, op);
  if (type == "map") return ParseMap(entries, mark, op);
  if (type == "count" || type == "sum" || type == "min" || type == "max") {
    return ParseAggregate(entries, mark, op);
  }
  if (type == "distinct") return ParseDistinct(entries, mark, op);
  if (type == "window") return ParseWindow(entries, mark, op);
  return ParseSink(entries, mark, op);
}

Status JobParser::ParseCountRateSeed(const std::vector<Entry>& entries,
                                     std::optional<int64_t>* count,
                                     double* rate, uint64_t* seed) const {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  Status s;
  int64_t number = 0;
  if (const Entry* e = Find(entries, "count")) {
    s = GetInt(*e, 0, kMax, &number);
    if (!s.ok()) return s;
    *count = number;
  }
  if (const Entry* e = Find(entries, "rate")) {
    s = GetDouble(*e, 0, rate);
    if (!s.ok()) return s;
  }
  if (const Entry* e = Find(entries, "seed")) {
    s = GetInt(*e, 0, kMax, &number);
    if (!s.ok()) return s;
    *seed = static_cast<uint64_t>(number);
  }
  return Status::OK();
}

Status JobParser::ParseGenerator(const std::vector<Entry>& entries,
                                 OperatorSpec* op) const {
  GeneratorSpec spec;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  Status s;
  if (const Entry* e = Find(entries, "keys")) {
    s = GetInt(*e, 1, kMax, &spec.keys);
    if (!s.ok()) return s;
  }
  s = ParseCountRateSeed(entries, &spec.count, &spec.rate, &spec.seed);
  if (!s.ok()) return s;
  if (const Entry* e = Find(entries, "ts-step")) {
    s = GetDuration(*e, &spec.ts_step_ms);
    if (!s.ok()) return s;
  }
  op->output_schema.fields = {{"seq", FieldType::kInt64},
                              {"key", FieldType::kString},
                              {"value", FieldType::kInt64},
                              {"ts", FieldType::kInt64}};
  op->params = spec;
  return Status::OK();
}

Status JobParser::ParseNexmarkSource(const std::vector<Entry>& entries,
                                     OperatorSpec* op) const {
  NexmarkSourceSpec spec;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  Status s;
  if (const Entry* e = Find(entries, "events")) {
    s = GetChoice(*e, {"bid", "auction", "person"}, &spec.events);
    if (!s.ok()) return s;
  }
  s = ParseCountRateSeed(entries, &spec.count, &spec.rate, &spec.seed);
  if (!s.ok()) return s;
  if (const Entry* e = Find(entries, "first-event-rate")) {
    s = GetInt(*e, 1, kMax, &spec.first_event_rate);
    if (!s.ok()) return s;
  }
  if (const Entry* e = Find(entries, "out-of-order-group-size")) {
    s = GetInt(*e, 1, kMax, &spec.out_of_order_group_size);
    if (!s.ok()) return s;
    if (spec.out_of_order_group_size % 953 == 0) {
      return ErrorAt(*e,
                     "'out-of-order-group-size' must not be a multiple of 953");
    }
  }
  using F = FieldType;
  if (spec.events == "bid") {
    op->output_schema.fields = {
        {"auction", F::kInt64}, {"bidder", F::kInt64},
        {"price", F::kInt64},   {"channel", F::kString},
        {"url", F::kString},    {"date_time", F::kInt64},
        {"extra", F::kString}};
  } else if (spec.events == "auction") {
    op->output_schema.fields = {
        {"id", F::kInt64},           {"item_name", F::kString},
        {"description", F::kString}, {"initial_bid", F::kInt64},
        {"reserve", F::kInt64},      {"date_time", F::kInt64},
        {"expires", F::kInt64},      {"seller", F::kInt64},
        {"category", F::kInt64},     {"extra", F::kString}};
  } else {
    op->output_schema.fields = {{"id", F::kInt64},
                                {"name", F::kString},
                                {"email_address", F::kString},
                                {"credit_card", F::kString},
                                {"city", F::kString},
                                {"state", F::kString},
                                {"date_time", F::kInt64},
                                {"extra", F::kString}};
  }
  op->params = spec;
  return Status::OK();
}

Status JobParser::ParseFileSource(const std::vector<Entry>& entries,
                                  const YAML::Mark& mark,
                                  OperatorSpec* op) const {
  FileSourceSpec spec;
  const Entry* e = nullptr;
  Status s = Require(entries, "path", mark, &e);
  if (s.ok()) s = GetString(*e, &spec.path);
  if (s.ok() && spec.path.empty()) s = ErrorAt(*e, "'path' is empty");
  if (!s.ok()) return s;
  spec.resolved_path = ResolvePath(spec.path);
  s = ParseDecoding(entries, mark, &spec);
  if (!s.ok()) return s;
  if (const Entry* f = Find(entries, "follow")) {
    s = GetBool(*f, &spec.follow);
    if (!s.ok()) return s;
  }
  op->has_event_time = spec.timestamp_index >= 0;
  op->output_schema = spec.schema;
  op->params = std::move(spec);
  return Status::OK();
}

template <class Spec>
Status JobParser::ParseDecoding(const std::vector<Entry>& entries,
                                const YAML::Mark& mark, Spec* out) const {
  Spec& spec = *out;
  const Entry* e = nullptr;
  Status s;
  s = Require(entries, "format", mark, &e);
  if (s.ok()) s = GetFormat(e, &spec.format);
  if (!s.ok()) return s;

  s = Require(entries, "schema", mark, &e);
  if (!s.ok()) return s;
  if (!e->value.IsSequence() || e->value.size() == 0) {
    return ErrorAt(*e, "'schema' must be a non-empty list of name:type");
  }
  for (const YAML::Node& item : e->value) {
    Result<Field> field = Status::InvalidArgument("");
    if (item.IsScalar()) {
      field = ParseFieldSpec(item.Scalar());
    } else if (item.IsMap() && item.size() == 1 &&
               item.begin()->second.IsScalar()) {
      // `- user: string` reads as a one-entry map.
      field = ParseFieldSpec(item.begin()->first.Scalar() + ":" +
                             item.begin()->second.Scalar());
    } else {
      return ErrorAt(item.Mark(), "'schema' items must be name:type");
    }
    if (!field.ok()) {
      return ErrorAt(item.Mark(),
                     "schema: " + std::string(field.status().message()));
    }
    if (spec.schema.IndexOf(field->name) >= 0) {
      return ErrorAt(item.Mark(),
                     "schema: field " + Quote(field->name) + " appears twice");
    }
    spec.schema.fields.push_back(*field);
  }
  if (const Entry* f = Find(entries, "on-error")) {
    std::string choice;
    s = GetChoice(*f, {"fail", "skip"}, &choice);
    if (!s.ok()) return s;
    spec.on_error = choice == "skip" ? OnError::kSkip : OnError::kFail;
  }
  if (const Entry* f = Find(entries, "timestamp")) {
    s = GetField(*f, spec.schema, &spec.timestamp, &spec.timestamp_index);
    if (!s.ok()) return s;
    if (spec.schema.fields[spec.timestamp_index].type != FieldType::kInt64) {
      return ErrorAt(*f,
                     "timestamp field " + Quote(spec.timestamp) +
                         " must be int64 (milliseconds), not " +
                         std::string(FieldTypeName(
                             spec.schema.fields[spec.timestamp_index].type)));
    }
  }
  if (const Entry* f = Find(entries, "out-of-orderness")) {
    s = GetDuration(*f, &spec.out_of_orderness_ms);
    if (!s.ok()) return s;
  }
  if (const Entry* f = Find(entries, "idle-timeout")) {
    int64_t ms = 0;
    s = GetDuration(*f, &ms);
    if (!s.ok()) return s;
    spec.idle_timeout_ms = ms;
  }
  return Status::OK();
}

// A string or a non-empty list of strings.
Status JobParser::GetStrings(const Entry& e,
                             std::vector<std::string>* out) const {
  out->clear();
  if (e.value.IsScalar() && !e.value.Scalar().empty()) {
    out->push_back(e.value.Scalar());
    return Status::OK();
  }
  if (e.value.IsSequence() && e.value.size() > 0) {
    for (const YAML::Node& item : e.value) {
      if (!item.IsScalar() || item.Scalar().empty()) {
        return ErrorAt(item.Mark(), Quote(e.key) + " items must be strings");
      }
      out->push_back(item.Scalar());
    }
    return Status::OK();
  }
  return ErrorAt(e, Quote(e.key) + " must be a string or a non-empty list");
}

Status JobParser::ParseNatsConnection(const std::vector<Entry>& entries,
                                      const YAML::Mark& mark,
                                      NatsConnectionSpec* spec) const {
  const Entry* e = nullptr;
  Status s = Require(entries, "servers", mark, &e);
  if (s.ok()) s = GetStrings(*e, &spec->servers);
  if (!s.ok()) return s;
  for (const std::string& url : spec->servers) {
    if (url.find("://") == std::string::npos) {
      // Never quote the URL: it may hold a password.
      return ErrorAt(*e,
                     "'servers' must be URLs such as "
                     "nats://127.0.0.1:4222");
    }
  }
  if (const Entry* f = Find(entries, "credentials")) {
    s = GetString(*f, &spec->credentials);
    if (!s.ok()) return s;
    spec->credentials = ResolvePath(spec->credentials);
  }
  if (const Entry* f = Find(entries, "tls")) {
    std::vector<Entry> tls;
    s = ReadMap(f->value, f->key_mark, "'tls'", &tls);
    if (s.ok())
      s = CheckKeys(tls, {"ca-file", "cert-file", "key-file"}, " in 'tls'");
    if (!s.ok()) return s;
    spec->tls = true;
    const std::pair<const char*, std::string*> files[] = {
        {"ca-file", &spec->tls_ca},
        {"cert-file", &spec->tls_cert},
        {"key-file", &spec->tls_key}};
    for (const auto& [key, path] : files) {
      if (const Entry* t = Find(tls, key)) {
        s = GetString(*t, path);
        if (!s.ok()) return s;
        *path = ResolvePath(*path);
      }
    }
    if (spec->tls_cert.empty() != spec->tls_key.empty()) {
      return ErrorAt(*f,
                     "'tls' needs both 'cert-file' and 'key-file', or "
                     "neither");
    }
  }
  const std::pair<const char*, std::optional<int64_t>*> durations[] = {
      {"reconnect-wait", &spec->reconnect_wait_ms},
      {"reconnect-wait-max", &spec->reconnect_wait_max_ms},
      {"max-outage", &spec->max_outage_ms}};
  for (const auto& [key, value] : durations) {
    if (const Entry* f = Find(entries, key)) {
      int64_t ms = 0;
      s = GetDuration(*f, &ms);
      if (!s.ok()) return s;
      *value = ms;
    }
  }
  return Status::OK();
}

Status JobParser::ParseNatsSource(const std::vector<Entry>& entries,
                                  const YAML::Mark& mark,
                                  OperatorSpec* op) const {
  NatsSourceSpec spec;
  Status s = ParseNatsConnection(entries, mark, &spec.connection);
  if (!s.ok()) return s;
  const Entry* e = nullptr;
  s = Require(entries, "stream", mark, &e);
  if (s.ok()) s = GetString(*e, &spec.stream);
  if (s.ok() && spec.stream.empty()) s = ErrorAt(*e, "'stream' is empty");
  if (!s.ok()) return s;
  if (const Entry* f = Find(entries, "subjects")) {
    s = GetStrings(*f, &spec.subjects);
    if (!s.ok()) return s;
    std::set<std::string> seen;
    for (const std::string& subject : spec.subjects) {
      if (!seen.insert(subject).second) {
        return ErrorAt(*f, "subject " + Quote(subject) + " is listed twice");
      }
    }
  }
  if (const Entry* f = Find(entries, "bounded")) {
    s = GetBool(*f, &spec.bounded);
    if (!s.ok()) return s;
  }
  s = ParseDecoding(entries, mark, &spec);
  if (!s.ok()) return s;
  op->has_event_time = spec.timestamp_index >= 0;
  op->output_schema = spec.schema;
  op->params = std::move(spec);
  return Status::OK();
}

Status JobParser::ParseNatsSink(const std::vector<Entry>& entries,
                                const YAML::Mark& mark,
                                OperatorSpec* op) const {
  NatsSinkSpec spec;
  Status s = ParseNatsConnection(entries, mark, &spec.connection);
  if (!s.ok()) return s;
  const Entry* e = nullptr;
  s = Require(entries, "subject", mark, &e);
  if (s.ok()) s = GetString(*e, &spec.subject);
  if (s.ok() && spec.subject.empty()) s = ErrorAt(*e, "'subject' is empty");
  if (s.ok()) s = GetFormat(Find(entries, "format"), &spec.format);
  if (!s.ok()) return s;
  if (const Entry* f = Find(entries, "delivery")) {
    std::string choice;
    s = GetChoice(*f, {"exactly-once", "at-least-once"}, &choice);
    if (!s.ok()) return s;
    spec.exactly_once = choice == "exactly-once";
  }
  if (const Entry* f = Find(entries, "min-duplicate-window")) {
    int64_t ms = 0;
    s = GetDuration(*f, &ms);
    if (!s.ok()) return s;
    spec.min_duplicate_window_ms = ms;
  }
  op->params = std::move(spec);
  return Status::OK();
}

Status JobParser::ParseFilter(const std::vector<Entry>& entries,
                              const YAML::Mark& mark, OperatorSpec* op) const {
  FilterSpec spec;
  const Entry* e = nullptr;
  Status s = Require(entries, "field", mark, &e);
  if (s.ok())
    s = GetField(*e, op->input_schema, &spec.field, &spec.field_index);
  if (!s.ok()) return s;
  s = Require(entries, "op", mark, &e);
  std::string op_name;
  if (s.ok()) s = GetChoice(*e, {"==", "!=", "<", "<=", ">", ">="}, &op_name);
  if (!s.ok()) return s;
  static const std::map<std::string, CompareOp> kOps = {
      {"==", CompareOp::kEq}, {"!=", CompareOp::kNe}, {"<", CompareOp::kLt},
      {"<=", CompareOp::kLe}, {">", CompareOp::kGt},  {">=", CompareOp::kGe}};
  spec.op = kOps.at(op_name);
  s = Require(entries, "value", mark, &e);
  std::string text;
  if (s.ok()) s = GetString(*e, &text);
  if (!s.ok()) return s;
  const FieldType type = op->input_schema.fields[spec.field_index].type;
  Result<Value> value = ParseValueAs(type, text);
  if (!value.ok()) {
    return ErrorAt(*e, "'value' for field " + Quote(spec.field) + ": " +
                           std::string(value.status().message()));
  }
  spec.value = std::move(value).value();
  op->output_schema = op->input_schema;
  op->params = std::move(spec);
  return Status::OK();
}

Status JobParser::ParseMap(const std::vector<Entry>& entries,
                           const YAML::Mark& mark, OperatorSpec* op) const {
  MapSpec spec;
  const Entry* e = nullptr;
  Status s = Require(entries, "fields", mark, &e);
  if (!s.ok()) return s;
  if (!e->value.IsSequence() || e->value.size() == 0) {
    return ErrorAt(*e,
                   "'fields' must be a non-empty list of field names or "
                   "{new_name: old_name}");
  }
  for (const YAML::Node& item : e->value) {
    MapSpec::Item out;
    YAML::Mark source_mark = item.Mark();
    if (item.IsScalar()) {
      out.name = out.source = item.Scalar();
    } else if (item.IsMap() && item.size() == 1 &&
               item.begin()->first.IsScalar() &&
               item.begin()->second.IsScalar()) {
      out.name = item.begin()->first.Scalar();
      out.source = item.begin()->second.Scalar();
      source_mark = item.begin()->second.Mark();
    } else {
      return ErrorAt(item.Mark(),
                     "'fields' items must be a field name or "
                     "{new_name: old_name}");
    }
    out.source_index = op->input_schema.IndexOf(out.source);
    if (out.source_index < 0) {
      return ErrorAt(source_mark,
                     "unknown field " + Quote(out.source) +
                         " (fields: " + op->input_schema.FieldNames() + ")");
    }
    op->output_schema.fields.push_back(
        {out.name, op->input_schema.fields[out.source_index].type});
    spec.fields.push_back(std::move(out));
  }
  s = CheckUniqueNames(op->output_schema, e->value.Mark(), "");
  if (!s.ok()) return s;
  op->params = std::move(spec);
  return Status::OK();
}

Status JobParser::ParseAggregate(const std::vector<Entry>& entries,
                                 const YAML::Mark& mark,
                                 OperatorSpec* op) const {
  AggregateSpec spec;
  static const std::map<std::string, AggKind> kKinds = {
      {"count", AggKind::kCount},
      {"sum", AggKind::kSum},
      {"min", AggKind::kMin},
      {"max", AggKind::kMax}};
  spec.agg = kKinds.at(op->type);
  const Entry* e = nullptr;
  Status s = Require(entries, "key", mark, &e);
  if (s.ok()) s = GetField(*e, op->input_schema, &spec.key, &spec.key_index);
  if (!s.ok()) return s;
  FieldType out_type = FieldType::kInt64;
  spec.as = "count";
  if (spec.agg != AggKind::kCount) {
    s = Require(entries, "field", mark, &e);
    if (s.ok()) {
      s = GetField(*e, op->input_schema, &spec.field, &spec.field_index);
    }
    if (!s.ok()) return s;
    out_type = op->input_schema.fields[spec.field_index].type;
    if (spec.agg == AggKind::kSum && !IsNumeric(out_type)) {
      return ErrorAt(*e, "sum needs an int64 or double field; " +
                             Quote(spec.field) + " is " +
                             std::string(FieldTypeName(out_type)));
    }
    spec.as = spec.field;
  }
  if (const Entry* as = Find(entries, "as")) {
    s = GetString(*as, &spec.as);
    if (s.ok() && spec.as.empty()) s = ErrorAt(*as, "'as' is empty");
    if (!s.ok()) return s;
  }
  op->output_schema.fields = {op->input_schema.fields[spec.key_index],
                              {spec.as, out_type}};
  s = CheckUniqueNames(op->output_schema, mark, "; name the result with 'as'");
  if (!s.ok()) return s;
  op->params = std::move(spec);
  return Status::OK();
}

Status JobParser::ParseDistinct(const std::vector<Entry>& entries,
                                const YAML::Mark& mark,
                                OperatorSpec* op) const {
  DistinctSpec spec;
  const Entry* e = nullptr;
  Status s = Require(entries, "key", mark, &e);
  if (s.ok()) s = GetField(*e, op->input_schema, &spec.key, &spec.key_index);
  if (!s.ok()) return s;
  op->output_schema = op->input_schema;
  op->params = std::move(spec);
  return Status::OK();
}

Status JobParser::ParseWindow(const std::vector<Entry>& entries,
                              const YAML::Mark& mark, OperatorSpec* op) const {
  WindowSpec spec;
  const Entry* e = nullptr;
  Status s = Require(entries, "key", mark, &e);
  if (s.ok()) s = GetField(*e, op->input_schema, &spec.key, &spec.key_index);
  if (!s.ok()) return s;

  std::string kind;
  s = Require(entries, "kind", mark, &e);
  if (s.ok()) s = GetChoice(*e, {"tumbling", "sliding", "session"}, &kind);
  if (!s.ok()) return s;
  spec.kind = kind == "tumbling"  ? WindowKind::kTumbling
              : kind == "sliding" ? WindowKind::kSliding
                                  : WindowKind::kSession;
  // Which of size/slide/gap each kind needs; the others are refused so that
  // a misplaced key does not pass silently.
  struct Need {
    const char* key;
    bool needed;
    int64_t* out;
  };
  const Need needs[] = {
      {"size", spec.kind != WindowKind::kSession, &spec.size_ms},
      {"slide", spec.kind == WindowKind::kSliding, &spec.slide_ms},
      {"gap", spec.kind == WindowKind::kSession, &spec.gap_ms},
  };
  for (const Need& need : needs) {
    const Entry* n = Find(entries, need.key);
    if (!need.needed) {
      if (n != nullptr) {
        return ErrorAt(n->key_mark, Quote(need.key) + " does not apply to " +
                                        kind + " windows");
      }
      continue;
    }
    s = Require(entries, need.key, mark, &n);
    if (s.ok()) s = GetDuration(*n, need.out);
    if (s.ok() && *need.out <= 0) {
      s = ErrorAt(*n, Quote(need.key) + " must be greater than 0");
    }
    if (!s.ok()) return s;
  }

  std::string agg;
  s = Require(entries, "agg", mark, &e);
  if (s.ok()) s = GetChoice(*e, {"count", "sum", "min", "max", "avg"}, &agg);
  if (!s.ok()) return s;
  static const std::map<std::string, AggKind> kKinds = {
      {"count", AggKind::kCount},
      {"sum", AggKind::kSum},
      {"min", AggKind::kMin},
      {"max", AggKind::kMax},
      {"avg", AggKind::kAvg}};
  spec.agg = kKinds.at(agg);
  FieldType out_type = FieldType::kInt64;
  if (spec.agg == AggKind::kCount) {
    if (const Entry* f = Find(entries, "field")) {
      return ErrorAt(f->key_mark, "'field' does not apply to agg count");
    }
  } else {
    s = Require(entries, "field", mark, &e);
    if (s.ok()) {
      s = GetField(*e, op->input_schema, &spec.field, &spec.field_index);
    }
    if (!s.ok()) return s;
    const FieldType type = op->input_schema.fields[spec.field_index].type;
    if ((spec.agg == AggKind::kSum || spec.agg == AggKind::kAvg) &&
        !IsNumeric(type)) {
      return ErrorAt(*e, agg + " needs an int64 or double field; " +
                             Quote(spec.field) + " is " +
                             std::string(FieldTypeName(type)));
    }
    out_type = spec.agg == AggKind::kAvg ? FieldType::kDouble : type;
  }
  if (const Entry* t = Find(entries, "time")) {
    std::string time;
    s = GetChoice(*t, {"event", "processing"}, &time);
    if (!s.ok()) return s;
    spec.time = time == "event" ? TimeDomain::kEvent : TimeDomain::kProcessing;
  }
  if (spec.time == TimeDomain::kEvent && !op->has_event_time) {
    const Entry* t = Find(entries, "time");
    return ErrorAt(t != nullptr ? t->value.Mark() : mark,
                   "an event-time window needs event time from upstream: a "
                   "generator, or a file-source with 'timestamp' (or set "
                   "'time: processing')");
  }
  if (const Entry* l = Find(entries, "allowed-lateness")) {
    s = GetDuration(*l, &spec.allowed_lateness_ms);
    if (!s.ok()) return s;
  }
  spec.as = agg;
  if (const Entry* as = Find(entries, "as")) {
    s = GetString(*as, &spec.as);
    if (s.ok() && spec.as.empty()) s = ErrorAt(*as, "'as' is empty");
    if (!s.ok()) return s;
  }
  op->output_schema.fields = {op->input_schema.fields[spec.key_index],
                              {"window_start", FieldType::kInt64},
                              {"window_end", FieldType::kInt64},
                              {spec.as, out_type}};
  s = CheckUniqueNames(op->output_schema, mark, "; name the result with 'as'");
  if (!s.ok()) return s;
  op->params = std::move(spec);
  return Status::OK();
}

Status JobParser::ParseSink(const std::vector<Entry>& entries,
                            const YAML::Mark& mark, OperatorSpec* op) const {
  Status s;
  if (op->type == "file-sink") {
    FileSinkSpec spec;
    const Entry* e = nullptr;
    s = Require(entries, "path", mark, &e);
    if (s.ok()) s = GetString(*e, &spec.path);
    if (s.ok() && spec.path.empty()) s = ErrorAt(*e, "'path' is empty");
    if (s.ok()) s = GetFormat(Find(entries, "format"), &spec.format);
    if (!s.ok()) return s;
    spec.resolved_path = ResolvePath(spec.path);
    op->params = std::move(spec);
  } else if (op->type == "stdout-sink") {
    StdoutSinkSpec spec;
    s = GetFormat(Find(entries, "format"), &spec.format);
    if (!s.ok()) return s;
    op->params = std::move(spec);
  } else {
    op->params = NullSinkSpec();
  }
  return Status::OK();
}

}  // namespace

const std::vector<std::string>& KnownOperatorTypes() {
  static const auto* types = new std::vector<std::string>{
      "generator",   "file-source", "nats-source", "filter",
      "map",         "count",       "sum",         "min",
      "max",         "distinct",    "window",      "file-sink",
      "stdout-sink", "null-sink",   "nats-sink",   "nexmark-source"};
  return *types;
}

Result<JobSpec> ParseJobString(std::string_view yaml, std::string display_path,
                               std::string base_dir) {
  JobParser parser(display_path, std::move(base_dir));
  try {
    return parser.Parse(yaml);
  } catch (const YAML::Exception& e) {
    std::string where = display_path;
    if (e.mark.line >= 0) {
      where += ":" + std::to_string(e.mark.line + 1) + ":" +
               std::to_string(e.mark.column + 1);
    }
    return Status::InvalidArgument(where + ": invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(display_path + ": " + e.what());
  }
}

Result<JobSpec> ParseJobFile(const std::string& path) {
  Result<std::string> text = ReadFileToString(path);
  if (!text.ok()) {
    return text.status().WithContext("cannot read job file " + path);
  }
  std::string base_dir = std::filesystem::path(path).parent_path().string();
  return ParseJobString(*text, path, std::move(base_dir));
}

}  // namespace weir::tools
