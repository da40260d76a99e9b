// SPDX-License-Identifier: Apache-2.0
//
// JobSpec: a YAML job file, parsed and validated. ParseJobFile checks every
// key, type, field reference and edge of the operator graph, and computes
// each operator's input and output Schema, so that a JobSpec that comes back
// OK can be built into an engine job without further checks. The format is
// described in docs/job-files.md.
//
// Every error is InvalidArgument (NotFound/IOError when the file cannot be
// read) with one message of the form
//   <path>:<line>:<col>: <message>
// with 1-based line and column, e.g.
//   jobs/sums.yaml:9:12: operator 'totals': unknown field 'amout' (fields:
//   user, amount)
// Nothing here throws: yaml-cpp exceptions are turned into Status.
// The functions are pure and may run on any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <weir/result.h>

#include "tools/job/config.h"
#include "tools/job/row.h"

namespace weir::tools {

// generator (source): output [seq:int64, key:string, value:int64, ts:int64];
// ts is the event time.
struct GeneratorSpec {
  int64_t keys = 1000;           // distinct keys; Default: 1000
  std::optional<int64_t> count;  // records in total; nullopt = unbounded
  double rate = 0;               // records/s in total; 0 = as fast as possible
  uint64_t seed = 0;             // Default: 0
  int64_t ts_step_ms = 1;        // event-time step per record; Default: 1 ms
};

// nexmark-source (source): the Nexmark generator's events of one kind
// (weir/nexmark.h) as rows. Output, by `events`:
//   bid:     [auction, bidder, price:int64, channel, url:string,
//             date_time:int64, extra:string]
//   auction: [id:int64, item_name, description:string, initial_bid,
//             reserve, date_time, expires, seller, category:int64,
//             extra:string]
//   person:  [id:int64, name, email_address, credit_card, city,
//             state:string, date_time:int64, extra:string]
// date_time is the event time.
struct NexmarkSourceSpec {
  std::string events = "bid";    // "bid", "auction" or "person"
  std::optional<int64_t> count;  // events of all kinds; nullopt = unbounded
  double rate = 0;               // events/s in total; 0 = as fast as possible
  uint64_t seed = 0;
  int64_t first_event_rate = 10'000;  // event time: events per second
  int64_t out_of_order_group_size = 1;
};

enum class OnError { kFail, kSkip };

// file-source (source): output = schema.
struct FileSourceSpec {
  std::string path;           // as written in the job file
  std::string resolved_path;  // relative to the job file's directory
  std::string format;         // "csv" or "json"
  Schema schema;
  bool follow = false;  // keep reading a growing file (tail -f)
  OnError on_error = OnError::kFail;
  std::string timestamp;     // int64 field with event time in ms; "" = none
  int timestamp_index = -1;  // its index in schema, -1 if none
  int64_t out_of_orderness_ms = 0;
  std::optional<int64_t> idle_timeout_ms;
};

// How nats-source and nats-sink reach the broker (weir/nats.h NatsOptions).
struct NatsConnectionSpec {
  std::vector<std::string> servers;  // URLs, as written
  std::string credentials;           // resolved path; "" = none
  bool tls = false;                  // a `tls:` block was given
  std::string tls_ca;                // resolved paths; "" = none
  std::string tls_cert;
  std::string tls_key;
  std::optional<int64_t> reconnect_wait_ms;
  std::optional<int64_t> reconnect_wait_max_ms;
  std::optional<int64_t> max_outage_ms;
};

// nats-source (source): a JetStream stream, one split per subject filter.
// Output = schema. The decoding keys are those of file-source.
struct NatsSourceSpec {
  NatsConnectionSpec connection;
  std::string stream;
  std::vector<std::string> subjects;  // empty: the stream's subjects
  bool bounded = false;  // stop at the stream's last message at start
  std::string format;    // "csv" or "json"
  Schema schema;
  OnError on_error = OnError::kFail;
  std::string timestamp;     // int64 field with event time in ms; "" = none
  int timestamp_index = -1;  // its index in schema, -1 if none
  int64_t out_of_orderness_ms = 0;
  std::optional<int64_t> idle_timeout_ms;
};

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe };

// "==", "!=", "<", "<=", ">", ">=".
std::string_view CompareOpName(CompareOp op);

// filter: keeps records where `field op value`. Output = input.
struct FilterSpec {
  std::string field;
  int field_index = -1;
  CompareOp op = CompareOp::kEq;
  Value value;  // of the field's type
};

// map: keeps, reorders and renames fields.
struct MapSpec {
  struct Item {
    std::string name;    // output name
    std::string source;  // input name
    int source_index = -1;
  };
  std::vector<Item> fields;
};

enum class AggKind { kCount, kSum, kMin, kMax, kAvg };

// "count", "sum", "min", "max", "avg".
std::string_view AggKindName(AggKind kind);

// count, sum, min, max: keyed running aggregates; each input record emits
// (key, aggregate so far). Output [<key>, <as>:<type>], where <type> is
// int64 for count and the field's type otherwise.
struct AggregateSpec {
  AggKind agg = AggKind::kCount;  // kCount, kSum, kMin or kMax
  std::string key;
  int key_index = -1;
  std::string field;  // empty for count
  int field_index = -1;
  std::string as;  // output name of the aggregate
};

// distinct: emits a record the first time its key is seen. Output = input.
struct DistinctSpec {
  std::string key;
  int key_index = -1;
};

enum class WindowKind { kTumbling, kSliding, kSession };
enum class TimeDomain { kEvent, kProcessing };

// window: keyed windows with one aggregate. Output
// [<key>, window_start:int64, window_end:int64, <as>:<type>].
struct WindowSpec {
  std::string key;
  int key_index = -1;
  WindowKind kind = WindowKind::kTumbling;
  int64_t size_ms = 0;   // tumbling, sliding
  int64_t slide_ms = 0;  // sliding
  int64_t gap_ms = 0;    // session
  AggKind agg = AggKind::kCount;
  std::string field;  // empty for count
  int field_index = -1;
  TimeDomain time = TimeDomain::kEvent;
  int64_t allowed_lateness_ms = 0;
  std::string as;  // output name of the aggregate
};

// file-sink: a directory of part files.
struct FileSinkSpec {
  std::string path;           // as written
  std::string resolved_path;  // relative to the job file's directory
  std::string format = "csv";
};

// nats-sink: publishes to a subject a JetStream stream captures.
struct NatsSinkSpec {
  NatsConnectionSpec connection;
  std::string subject;
  std::string format = "json";
  bool exactly_once = true;  // delivery: exactly-once | at-least-once
  std::optional<int64_t> min_duplicate_window_ms;
};

struct StdoutSinkSpec {
  std::string format = "csv";
};

struct NullSinkSpec {};

using OperatorParams =
    std::variant<GeneratorSpec, FileSourceSpec, FilterSpec, MapSpec,
                 AggregateSpec, DistinctSpec, WindowSpec, FileSinkSpec,
                 StdoutSinkSpec, NullSinkSpec, NatsSourceSpec, NatsSinkSpec,
                 NexmarkSourceSpec>;

struct OperatorSpec {
  std::string uid;
  std::string name;      // Default: the uid
  std::string type;      // "generator", "file-source", "sum", ...
  int parallelism = 0;   // 0 = unset (the job's)
  std::string uid_hash;  // 32 lower-case hex digits, or "" if unset
  std::vector<std::string> input_uids;
  std::vector<int> inputs;      // indices into JobSpec::operators, all smaller
  Schema input_schema;          // empty for sources
  Schema output_schema;         // empty for sinks
  bool has_event_time = false;  // records carry an event time
  int line = 0;                 // 1-based line of the operator in the file
  OperatorParams params;

  bool is_source() const;
  bool is_sink() const;
};

struct JobSpec {
  std::string name;
  int parallelism = 0;      // 0 = unset (the configuration's default)
  int max_parallelism = 0;  // 0 = unset (the configuration's default)
  std::string path;         // the job file as given (for messages)
  std::string base_dir;     // relative paths in the job resolve against it
  std::vector<OperatorSpec> operators;  // in file order
  // The `config:` block: configuration keys for this job, over the
  // configuration file and under `-D` (tools/job/config.h). Checked.
  std::vector<ConfigSetting> config;

  // The index of the operator with this uid, or -1.
  int IndexOf(std::string_view uid) const;
};

// The operator types ParseJob* knows, in documentation order.
const std::vector<std::string>& KnownOperatorTypes();

// Reads and parses the job file at `path`. Relative paths in the job resolve
// against the file's directory. NotFound/IOError if it cannot be read.
Result<JobSpec> ParseJobFile(const std::string& path);

// Parses YAML text. `display_path` starts error messages; relative paths
// resolve against `base_dir` (may be empty: the current directory).
Result<JobSpec> ParseJobString(std::string_view yaml, std::string display_path,
                               std::string base_dir);

}  // namespace weir::tools
