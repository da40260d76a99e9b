// SPDX-License-Identifier: Apache-2.0
#include "tools/job/job_spec.h"

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace weir::tools {
namespace {

using testing::AllOf;
using testing::HasSubstr;
using testing::StartsWith;
using testutil::StatusIs;

constexpr const char* kSums = R"(name: sums
parallelism: 2
max-parallelism: 128
operators:
  - uid: events
    type: file-source
    path: events.csv            # relative to this file
    format: csv
    schema: [user:string, amount:int64]
  - uid: totals
    type: sum                   # keyed running sum
    key: user
    field: amount               # emits (user, running total) for every input record
  - uid: out
    type: file-sink
    path: out                   # a directory of part files, CSV lines "user,total"
    format: csv
)";

Result<JobSpec> Parse(std::string_view yaml) {
  return ParseJobString(yaml, "jobs/sums.yaml", "jobs");
}

// The status fails with a message that starts "jobs/sums.yaml:<line>:" and
// contains every one of `parts`.
testing::Matcher<Result<JobSpec>> FailsAt(int line,
                                          std::vector<std::string> parts) {
  std::vector<testing::Matcher<std::string>> all = {
      StartsWith("jobs/sums.yaml:" + std::to_string(line) + ":")};
  for (const std::string& part : parts) all.push_back(HasSubstr(part));
  return StatusIs(Status::Code::kInvalidArgument, testing::AllOfArray(all));
}

// A two-operator job: a generator and `op_yaml` (starting on line 5).
std::string WithGenerator(std::string_view op_yaml) {
  return std::string(
             "name: j\n"
             "operators:\n"
             "  - uid: gen\n"
             "    type: generator\n") +
         std::string(op_yaml);
}

TEST(JobSpec, NexmarkSourceHasTheSchemaOfItsEvents) {
  ASSERT_OK_AND_ASSIGN(JobSpec job,
                       Parse("name: n\noperators:\n  - uid: a\n"
                             "    type: nexmark-source\n    events: auction\n"
                             "    count: 100\n    first-event-rate: 1000\n"
                             "    out-of-order-group-size: 10\n"
                             "  - uid: out\n    type: null-sink\n"));
  const OperatorSpec& op = job.operators[0];
  EXPECT_TRUE(op.is_source());
  EXPECT_TRUE(op.has_event_time);
  EXPECT_EQ(op.output_schema.ToString(),
            "[id:int64, item_name:string, description:string, "
            "initial_bid:int64, reserve:int64, date_time:int64, "
            "expires:int64, seller:int64, category:int64, extra:string]");
  const auto& spec = std::get<NexmarkSourceSpec>(op.params);
  EXPECT_EQ(spec.events, "auction");
  EXPECT_EQ(spec.count, 100);
  EXPECT_EQ(spec.first_event_rate, 1000);
  EXPECT_EQ(spec.out_of_order_group_size, 10);
  EXPECT_THAT(Parse("name: n\noperators:\n  - uid: a\n"
                    "    type: nexmark-source\n    events: bids\n"),
              FailsAt(5, {"operator 'a'", "'bids'", "bid|auction|person"}));
  EXPECT_THAT(Parse("name: n\noperators:\n  - uid: a\n"
                    "    type: nexmark-source\n"
                    "    out-of-order-group-size: 1906\n"),
              FailsAt(5, {"operator 'a'", "multiple of 953"}));
}

TEST(JobSpec, ParsesTheSumsExample) {
  ASSERT_OK_AND_ASSIGN(JobSpec job, Parse(kSums));
  EXPECT_EQ(job.name, "sums");
  EXPECT_EQ(job.parallelism, 2);
  EXPECT_EQ(job.max_parallelism, 128);
  ASSERT_EQ(job.operators.size(), 3u);

  const OperatorSpec& events = job.operators[0];
  EXPECT_EQ(events.uid, "events");
  EXPECT_EQ(events.name, "events");
  EXPECT_EQ(events.type, "file-source");
  EXPECT_EQ(events.line, 5);
  EXPECT_TRUE(events.is_source());
  EXPECT_TRUE(events.inputs.empty());
  EXPECT_FALSE(events.has_event_time);
  EXPECT_EQ(events.output_schema.ToString(), "[user:string, amount:int64]");
  const auto& source = std::get<FileSourceSpec>(events.params);
  EXPECT_EQ(source.path, "events.csv");
  EXPECT_EQ(source.resolved_path, "jobs/events.csv");
  EXPECT_EQ(source.format, "csv");
  EXPECT_FALSE(source.follow);
  EXPECT_EQ(source.on_error, OnError::kFail);
  EXPECT_EQ(source.timestamp_index, -1);

  const OperatorSpec& totals = job.operators[1];
  EXPECT_EQ(totals.inputs, std::vector<int>{0});
  EXPECT_EQ(totals.input_uids, std::vector<std::string>{"events"});
  EXPECT_EQ(totals.input_schema, events.output_schema);
  EXPECT_EQ(totals.output_schema.ToString(), "[user:string, amount:int64]");
  const auto& sum = std::get<AggregateSpec>(totals.params);
  EXPECT_EQ(sum.agg, AggKind::kSum);
  EXPECT_EQ(sum.key_index, 0);
  EXPECT_EQ(sum.field_index, 1);
  EXPECT_EQ(sum.as, "amount");

  const OperatorSpec& out = job.operators[2];
  EXPECT_TRUE(out.is_sink());
  EXPECT_EQ(out.inputs, std::vector<int>{1});
  EXPECT_TRUE(out.output_schema.fields.empty());
  const auto& sink = std::get<FileSinkSpec>(out.params);
  EXPECT_EQ(sink.path, "out");
  EXPECT_EQ(sink.resolved_path, "jobs/out");
  EXPECT_EQ(sink.format, "csv");
}

TEST(JobSpec, ParseJobFileResolvesAgainstTheFilesDirectory) {
  testutil::TestDir dir;
  dir.Create();
  const std::string path = dir.Sub("sums.yaml");
  std::ofstream(path) << kSums;
  ASSERT_OK_AND_ASSIGN(JobSpec job, ParseJobFile(path));
  EXPECT_EQ(std::get<FileSourceSpec>(job.operators[0].params).resolved_path,
            dir.Sub("events.csv"));
  EXPECT_EQ(job.path, path);
  EXPECT_EQ(job.base_dir, dir.path());
}

TEST(JobSpec, ConfigBlockSetsConfigurationKeysOfTheJob) {
  ASSERT_OK_AND_ASSIGN(JobSpec spec, Parse("name: j\n"
                                           "config:\n"
                                           "  rest.port: 0\n"
                                           "  state.checkpoints:\n"
                                           "    dir: /var/lib/weir/chk\n"
                                           "operators:\n"
                                           "  - uid: gen\n"
                                           "    type: generator\n"
                                           "  - uid: out\n"
                                           "    type: null-sink\n"));
  ASSERT_EQ(spec.config.size(), 2u);
  EXPECT_EQ(spec.config[0].key, "rest.port");
  EXPECT_EQ(spec.config[0].value, "0");
  EXPECT_EQ(spec.config[0].line, 3);
  EXPECT_EQ(spec.config[1].key, "execution.checkpointing.dir");
  EXPECT_EQ(spec.config[1].value, "/var/lib/weir/chk");
  EXPECT_EQ(spec.config[1].line, 5);
}

TEST(JobSpec, ConfigBlockErrorsNameTheFileAndLine) {
  const std::string ops =
      "operators:\n  - uid: gen\n    type: generator\n"
      "  - uid: out\n    type: null-sink\n";
  EXPECT_THAT(Parse("name: j\nconfig:\n  rest.prot: 0\n" + ops),
              FailsAt(3, {"unknown config key 'rest.prot'", "'rest.port'"}));
  EXPECT_THAT(Parse("name: j\nconfig:\n  rest.port: 99999\n" + ops),
              FailsAt(3, {"out of range"}));
  EXPECT_THAT(Parse("name: j\nconfig: [rest.port]\n" + ops),
              FailsAt(2, {"'config' must be a map"}));
  EXPECT_THAT(
      Parse("name: j\nconfig:\n  rest.port: 1\n  rest:\n    port: 2\n" + ops),
      FailsAt(5, {"'rest.port' is set twice (also on line 3)"}));
}

TEST(JobSpec, MissingFile) {
  EXPECT_THAT(
      ParseJobFile("/nonexistent/job.yaml"),
      StatusIs(Status::Code::kNotFound, HasSubstr("/nonexistent/job.yaml")));
}

TEST(JobSpec, UnknownFieldNamesFieldsAndPosition) {
  std::string yaml = kSums;
  yaml.replace(yaml.find("field: amount"), 13, "field: amout");
  EXPECT_THAT(Parse(yaml),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("jobs/sums.yaml:13:12: operator 'totals': "
                                 "unknown field 'amout' (fields: user, "
                                 "amount)")));
}

TEST(JobSpec, UnknownOperatorType) {
  std::string yaml = kSums;
  yaml.replace(yaml.find("type: sum"), 9, "type: summ");
  EXPECT_THAT(Parse(yaml),
              FailsAt(11, {"unknown operator type 'summ'", "did you mean 'sum'",
                           "known: generator, file-source"}));
}

TEST(JobSpec, UnknownKeyForType) {
  std::string yaml = kSums;
  yaml.replace(yaml.find("field: amount"), 5, "fiel");
  EXPECT_THAT(Parse(yaml),
              FailsAt(13, {"unknown key 'fiel' for operator type 'sum'",
                           "did you mean 'field'"}));
}

TEST(JobSpec, UnknownJobKey) {
  EXPECT_THAT(
      Parse(std::string(kSums) + "paralelism: 3\n"),
      FailsAt(18, {"unknown key 'paralelism'", "did you mean 'parallelism'"}));
}

TEST(JobSpec, MissingRequiredKeys) {
  EXPECT_THAT(Parse("operators: []\n"),
              FailsAt(1, {"missing required key 'name'"}));
  EXPECT_THAT(Parse("name: x\n"),
              FailsAt(1, {"missing required key 'operators'"}));
  EXPECT_THAT(Parse("name: x\noperators: []\n"),
              FailsAt(2, {"'operators' must be a non-empty list"}));
  std::string yaml = kSums;
  yaml.erase(yaml.find("    field: amount"),
             yaml.find("\n", yaml.find("    field: amount")) -
                 yaml.find("    field: amount") + 1);
  EXPECT_THAT(Parse(yaml), FailsAt(10, {"operator 'totals'",
                                        "missing required key 'field'"}));
  EXPECT_THAT(Parse(WithGenerator("  - type: filter\n")),
              FailsAt(5, {"missing required key 'uid'"}));
  EXPECT_THAT(Parse(WithGenerator("  - uid: f\n")),
              FailsAt(5, {"operator 'f'", "missing required key 'type'"}));
}

TEST(JobSpec, BadYamlSyntax) {
  EXPECT_THAT(Parse("name: x\noperators: [\n  - uid: a\n"),
              StatusIs(Status::Code::kInvalidArgument,
                       AllOf(StartsWith("jobs/sums.yaml:"),
                             HasSubstr("invalid YAML"))));
  EXPECT_THAT(Parse("name: x\n  bad: indent\n"),
              StatusIs(Status::Code::kInvalidArgument,
                       AllOf(StartsWith("jobs/sums.yaml:2:"),
                             HasSubstr("invalid YAML"))));
  EXPECT_THAT(Parse(""), FailsAt(1, {"empty"}));
  EXPECT_THAT(Parse("- a\n- b\n"), FailsAt(1, {"must be a map"}));
}

TEST(JobSpec, DuplicateUid) {
  EXPECT_THAT(Parse(WithGenerator("  - uid: gen\n    type: null-sink\n")),
              FailsAt(5, {"two operators have uid 'gen'", "lines 3 and 5"}));
}

TEST(JobSpec, OperatorMustBeAMap) {
  EXPECT_THAT(Parse(WithGenerator("  - just-a-word\n")),
              FailsAt(5, {"an operator must be a map"}));
  EXPECT_THAT(Parse(WithGenerator("  - uid: s\n    type: null-sink\n"
                                  "    inputs:\n")),
              FailsAt(7, {"'inputs' must be a non-empty list of uids"}));
}

TEST(JobSpec, InputsMayBeASingleUid) {
  ASSERT_OK_AND_ASSIGN(JobSpec job,
                       Parse(WithGenerator("  - uid: s\n    type: null-sink\n"
                                           "    inputs: gen\n")));
  EXPECT_EQ(job.operators[1].inputs, std::vector<int>{0});
}

TEST(JobSpec, DuplicateKey) {
  EXPECT_THAT(Parse(WithGenerator("  - uid: s\n    type: null-sink\n"
                                  "    type: null-sink\n")),
              FailsAt(7, {"duplicate key 'type'"}));
}

TEST(JobSpec, InputsUnknownUid) {
  EXPECT_THAT(Parse(WithGenerator("  - uid: s\n    type: null-sink\n"
                                  "    inputs: [gne]\n")),
              FailsAt(7, {"operator 's'", "input 'gne' is not the uid",
                          "did you mean 'gen'"}));
}

TEST(JobSpec, InputsLaterOperator) {
  EXPECT_THAT(Parse(WithGenerator("  - uid: s\n    type: null-sink\n"
                                  "    inputs: [d]\n"
                                  "  - uid: d\n    type: distinct\n"
                                  "    key: key\n")),
              FailsAt(7, {"input 'd' comes later in the file (line 8)"}));
  EXPECT_THAT(Parse(WithGenerator("  - uid: d\n    type: distinct\n"
                                  "    key: key\n    inputs: [d]\n")),
              FailsAt(8, {"cannot read its own output"}));
}

TEST(JobSpec, SourceWithInputs) {
  EXPECT_THAT(
      Parse(WithGenerator("  - uid: g2\n    type: generator\n"
                          "    inputs: [gen]\n")),
      FailsAt(7, {"operator 'g2'", "source (generator)", "takes no 'inputs'"}));
}

TEST(JobSpec, OperatorWithoutInput) {
  EXPECT_THAT(Parse("name: j\noperators:\n  - uid: s\n    type: null-sink\n"),
              FailsAt(3, {"operator 's'", "has no input",
                          "first operator must be a source"}));
  EXPECT_THAT(Parse(WithGenerator("  - uid: s\n    type: null-sink\n"
                                  "  - uid: t\n    type: stdout-sink\n")),
              FailsAt(7, {"operator 't'", "has no input", "'s', is a sink"}));
}

TEST(JobSpec, ReadingFromASink) {
  EXPECT_THAT(Parse(WithGenerator("  - uid: s\n    type: null-sink\n"
                                  "  - uid: t\n    type: stdout-sink\n"
                                  "    inputs: [s]\n")),
              FailsAt(9, {"input 's' is a sink"}));
}

TEST(JobSpec, BranchAndUnion) {
  ASSERT_OK_AND_ASSIGN(
      JobSpec job, Parse(WithGenerator("  - uid: big\n    type: filter\n"
                                       "    field: value\n    op: '>'\n"
                                       "    value: 10\n"
                                       "  - uid: small\n    type: filter\n"
                                       "    inputs: [gen]\n"
                                       "    field: value\n    op: '<='\n"
                                       "    value: 10\n"
                                       "  - uid: both\n    type: stdout-sink\n"
                                       "    inputs: [big, small]\n")));
  ASSERT_EQ(job.operators.size(), 4u);
  EXPECT_EQ(job.operators[2].inputs, std::vector<int>{0});
  EXPECT_EQ(job.operators[3].inputs, (std::vector<int>{1, 2}));
  EXPECT_TRUE(job.operators[3].has_event_time);
  const auto& big = std::get<FilterSpec>(job.operators[1].params);
  EXPECT_EQ(big.op, CompareOp::kGt);
  EXPECT_EQ(big.value, Value(int64_t{10}));
}

TEST(JobSpec, UnionWithDifferentSchemas) {
  EXPECT_THAT(Parse(WithGenerator("  - uid: c\n    type: count\n    key: key\n"
                                  "  - uid: s\n    type: null-sink\n"
                                  "    inputs: [c, gen]\n")),
              FailsAt(10, {"same schema", "'c' gives [key:string, count:int64]",
                           "'gen' gives [seq:int64"}));
}

TEST(JobSpec, GeneratorDefaultsAndKeys) {
  ASSERT_OK_AND_ASSIGN(
      JobSpec job,
      Parse("name: g\noperators:\n  - uid: a\n    type: generator\n"
            "  - uid: b\n    type: generator\n    keys: 5\n    count: 100\n"
            "    rate: 2.5\n    seed: 7\n    ts-step: 1s\n    name: Gen B\n"
            "    parallelism: 3\n"
            "    uid-hash: 0123456789ABCDEF0123456789abcdef\n"));
  const auto& a = std::get<GeneratorSpec>(job.operators[0].params);
  EXPECT_EQ(a.keys, 1000);
  EXPECT_FALSE(a.count.has_value());
  EXPECT_EQ(a.rate, 0);
  EXPECT_EQ(a.ts_step_ms, 1);
  EXPECT_EQ(job.operators[0].output_schema.ToString(),
            "[seq:int64, key:string, value:int64, ts:int64]");
  EXPECT_TRUE(job.operators[0].has_event_time);
  const OperatorSpec& b_op = job.operators[1];
  const auto& b = std::get<GeneratorSpec>(b_op.params);
  EXPECT_EQ(b.keys, 5);
  EXPECT_EQ(b.count, 100);
  EXPECT_EQ(b.rate, 2.5);
  EXPECT_EQ(b.seed, 7u);
  EXPECT_EQ(b.ts_step_ms, 1000);
  EXPECT_EQ(b_op.name, "Gen B");
  EXPECT_EQ(b_op.parallelism, 3);
  EXPECT_EQ(b_op.uid_hash, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(job.parallelism, 0);
  EXPECT_EQ(job.max_parallelism, 0);
}

TEST(JobSpec, BadCommonValues) {
  EXPECT_THAT(Parse(WithGenerator("    uid-hash: abc\n")),
              FailsAt(5, {"'uid-hash' must be 32 hex digits"}));
  EXPECT_THAT(Parse(WithGenerator("    parallelism: 0\n")),
              FailsAt(5, {"'parallelism' must be between 1 and"}));
  EXPECT_THAT(Parse("name: j\nmax-parallelism: 40000\noperators: []\n"),
              FailsAt(2, {"'max-parallelism' must be between 1 and 32768"}));
  EXPECT_THAT(Parse("name: j\nmax-parallelism: 4\nparallelism: 8\n"
                    "operators: []\n"),
              FailsAt(3, {"above 'max-parallelism' 4"}));
  EXPECT_THAT(Parse("name: j\nmax-parallelism: 4\noperators:\n"
                    "  - uid: g\n    type: generator\n    parallelism: 5\n"),
              FailsAt(6, {"above the job's 'max-parallelism' 4"}));
  EXPECT_THAT(Parse(WithGenerator("    keys: lots\n")),
              FailsAt(5, {"'keys' must be an integer, not 'lots'"}));
  EXPECT_THAT(Parse(WithGenerator("    ts-step: 5x\n")),
              FailsAt(5, {"'ts-step'", "invalid duration '5x'"}));
}

TEST(JobSpec, FileSourceOptions) {
  ASSERT_OK_AND_ASSIGN(
      JobSpec job,
      Parse("name: j\noperators:\n  - uid: in\n    type: file-source\n"
            "    path: /data/in.json\n    format: json\n"
            "    schema:\n      - user: string\n      - ts: long\n"
            "      - score: float\n"
            "    follow: true\n    on-error: skip\n    timestamp: ts\n"
            "    out-of-orderness: 5s\n    idle-timeout: 1m\n"));
  const OperatorSpec& in = job.operators[0];
  const auto& spec = std::get<FileSourceSpec>(in.params);
  EXPECT_EQ(spec.resolved_path, "/data/in.json");
  EXPECT_EQ(spec.format, "json");
  EXPECT_EQ(in.output_schema.ToString(),
            "[user:string, ts:int64, score:double]");
  EXPECT_TRUE(spec.follow);
  EXPECT_EQ(spec.on_error, OnError::kSkip);
  EXPECT_EQ(spec.timestamp, "ts");
  EXPECT_EQ(spec.timestamp_index, 1);
  EXPECT_TRUE(in.has_event_time);
  EXPECT_EQ(spec.out_of_orderness_ms, 5000);
  EXPECT_EQ(spec.idle_timeout_ms, 60000);
}

TEST(JobSpec, FileSourceErrors) {
  const std::string head =
      "name: j\noperators:\n  - uid: in\n    type: file-source\n"
      "    path: in.csv\n";
  EXPECT_THAT(Parse(head + "    format: xml\n    schema: [a:int]\n"),
              FailsAt(6, {"'format' must be one of csv|json, not 'xml'"}));
  EXPECT_THAT(Parse(head + "    format: csv\n    schema: [a:integer]\n"),
              FailsAt(7, {"schema: field 'a': unknown type 'integer'"}));
  EXPECT_THAT(Parse(head + "    format: csv\n    schema: [a:int, a:int]\n"),
              FailsAt(7, {"field 'a' appears twice"}));
  EXPECT_THAT(Parse(head + "    format: csv\n    schema: [a:string]\n"
                           "    timestamp: a\n"),
              FailsAt(8, {"timestamp field 'a' must be int64"}));
  EXPECT_THAT(Parse(head + "    format: csv\n    schema: [a:string]\n"
                           "    on-error: ignore\n"),
              FailsAt(8, {"'on-error' must be one of fail|skip"}));
  EXPECT_THAT(Parse(head + "    format: csv\n    schema: [a:string]\n"
                           "    follow: sometimes\n"),
              FailsAt(8, {"'follow' must be true or false"}));
  EXPECT_THAT(Parse(head + "    format: csv\n"),
              FailsAt(3, {"missing required key 'schema'"}));
}

TEST(JobSpec, FilterValueMustMatchFieldType) {
  EXPECT_THAT(Parse(WithGenerator("  - uid: f\n    type: filter\n"
                                  "    field: value\n    op: '>'\n"
                                  "    value: abc\n")),
              FailsAt(9, {"operator 'f'", "'value' for field 'value'",
                          "'abc' is not an int64"}));
  EXPECT_THAT(Parse(WithGenerator("  - uid: f\n    type: filter\n"
                                  "    field: value\n    op: '=~'\n"
                                  "    value: 1\n")),
              FailsAt(8, {"'op' must be one of ==|!=|<|<=|>|>="}));
  ASSERT_OK_AND_ASSIGN(JobSpec job,
                       Parse(WithGenerator("  - uid: f\n    type: filter\n"
                                           "    field: key\n    op: '!='\n"
                                           "    value: k1\n")));
  const auto& filter = std::get<FilterSpec>(job.operators[1].params);
  EXPECT_EQ(filter.op, CompareOp::kNe);
  EXPECT_EQ(filter.value, Value(std::string("k1")));
}

TEST(JobSpec, MapKeepsAndRenames) {
  ASSERT_OK_AND_ASSIGN(
      JobSpec job,
      Parse(WithGenerator("  - uid: m\n    type: map\n"
                          "    fields: [key, {amount: value}]\n")));
  const OperatorSpec& m = job.operators[1];
  EXPECT_EQ(m.output_schema.ToString(), "[key:string, amount:int64]");
  const auto& spec = std::get<MapSpec>(m.params);
  ASSERT_EQ(spec.fields.size(), 2u);
  EXPECT_EQ(spec.fields[1].source, "value");
  EXPECT_EQ(spec.fields[1].source_index, 2);
  EXPECT_THAT(Parse(WithGenerator("  - uid: m\n    type: map\n"
                                  "    fields:\n      - key\n"
                                  "      - amount: valu\n")),
              FailsAt(9, {"unknown field 'valu'"}));
  EXPECT_THAT(Parse(WithGenerator("  - uid: m\n    type: map\n"
                                  "    fields: [key, {key: value}]\n")),
              FailsAt(7, {"two fields named 'key'"}));
}

TEST(JobSpec, AggregateSchemas) {
  ASSERT_OK_AND_ASSIGN(
      JobSpec job,
      Parse(WithGenerator("  - uid: c\n    type: count\n    key: key\n"
                          "  - uid: mx\n    type: max\n    key: key\n"
                          "    field: seq\n    as: top\n    inputs: [gen]\n"
                          "  - uid: d\n    type: distinct\n    key: value\n"
                          "    inputs: [gen]\n")));
  EXPECT_EQ(job.operators[1].output_schema.ToString(),
            "[key:string, count:int64]");
  EXPECT_EQ(job.operators[2].output_schema.ToString(),
            "[key:string, top:int64]");
  EXPECT_EQ(std::get<AggregateSpec>(job.operators[2].params).agg,
            AggKind::kMax);
  EXPECT_EQ(job.operators[3].output_schema, job.operators[0].output_schema);
  EXPECT_EQ(std::get<DistinctSpec>(job.operators[3].params).key_index, 2);
}

TEST(JobSpec, SumNeedsANumber) {
  EXPECT_THAT(
      Parse(WithGenerator("  - uid: s\n    type: sum\n    key: seq\n"
                          "    field: key\n")),
      FailsAt(8, {"sum needs an int64 or double field", "'key' is string"}));
  EXPECT_THAT(Parse(WithGenerator("  - uid: s\n    type: min\n    key: key\n"
                                  "    field: key\n")),
              FailsAt(5, {"two fields named 'key'", "'as'"}));
}

TEST(JobSpec, Windows) {
  ASSERT_OK_AND_ASSIGN(
      JobSpec job,
      Parse(WithGenerator("  - uid: w\n    type: window\n    key: key\n"
                          "    kind: sliding\n    size: 10s\n    slide: 5s\n"
                          "    agg: avg\n    field: value\n"
                          "    allowed-lateness: 1s\n"
                          "  - uid: s\n    type: window\n    key: key\n"
                          "    kind: session\n    gap: 1m\n    agg: count\n"
                          "    time: processing\n    as: n\n"
                          "    inputs: [gen]\n")));
  const OperatorSpec& w = job.operators[1];
  EXPECT_EQ(w.output_schema.ToString(),
            "[key:string, window_start:int64, window_end:int64, avg:double]");
  const auto& spec = std::get<WindowSpec>(w.params);
  EXPECT_EQ(spec.kind, WindowKind::kSliding);
  EXPECT_EQ(spec.size_ms, 10000);
  EXPECT_EQ(spec.slide_ms, 5000);
  EXPECT_EQ(spec.allowed_lateness_ms, 1000);
  EXPECT_EQ(spec.time, TimeDomain::kEvent);
  const auto& session = std::get<WindowSpec>(job.operators[2].params);
  EXPECT_EQ(session.gap_ms, 60000);
  EXPECT_EQ(session.time, TimeDomain::kProcessing);
  EXPECT_EQ(job.operators[2].output_schema.ToString(),
            "[key:string, window_start:int64, window_end:int64, n:int64]");
}

TEST(JobSpec, WindowErrors) {
  EXPECT_THAT(Parse(WithGenerator("  - uid: w\n    type: window\n    key: key\n"
                                  "    kind: tumbling\n    agg: count\n")),
              FailsAt(5, {"missing required key 'size'"}));
  EXPECT_THAT(Parse(WithGenerator("  - uid: w\n    type: window\n    key: key\n"
                                  "    kind: tumbling\n    size: 1s\n"
                                  "    gap: 1s\n    agg: count\n")),
              FailsAt(10, {"'gap' does not apply to tumbling windows"}));
  EXPECT_THAT(Parse(WithGenerator("  - uid: w\n    type: window\n    key: key\n"
                                  "    kind: hopping\n")),
              FailsAt(8, {"'kind' must be one of tumbling|sliding|session"}));
  EXPECT_THAT(Parse(WithGenerator("  - uid: w\n    type: window\n    key: key\n"
                                  "    kind: tumbling\n    size: 1s\n"
                                  "    agg: sum\n")),
              FailsAt(5, {"missing required key 'field'"}));
  EXPECT_THAT(Parse(WithGenerator("  - uid: w\n    type: window\n    key: key\n"
                                  "    kind: tumbling\n    size: 0\n"
                                  "    agg: count\n")),
              FailsAt(9, {"'size' must be greater than 0"}));
}

TEST(JobSpec, EventTimeWindowNeedsEventTime) {
  const std::string head =
      "name: j\noperators:\n  - uid: in\n    type: file-source\n"
      "    path: in.csv\n    format: csv\n    schema: [k:string, t:int64]\n"
      "  - uid: w\n    type: window\n    key: k\n    kind: tumbling\n"
      "    size: 1s\n    agg: count\n";
  EXPECT_THAT(Parse(head),
              FailsAt(8, {"operator 'w'", "event-time window needs event time",
                          "'timestamp'"}));
  EXPECT_OK(Parse(head + "    time: processing\n"));
  std::string with_ts = head;
  with_ts.insert(with_ts.find("  - uid: w"), "    timestamp: t\n");
  EXPECT_OK(Parse(with_ts));
}

TEST(JobSpec, Sinks) {
  ASSERT_OK_AND_ASSIGN(
      JobSpec job, Parse(WithGenerator(
                       "  - uid: a\n    type: stdout-sink\n    format: json\n"
                       "  - uid: b\n    type: null-sink\n    inputs: [gen]\n"
                       "  - uid: c\n    type: file-sink\n    path: /tmp/o\n"
                       "    inputs: [gen]\n")));
  EXPECT_EQ(std::get<StdoutSinkSpec>(job.operators[1].params).format, "json");
  EXPECT_TRUE(std::holds_alternative<NullSinkSpec>(job.operators[2].params));
  const auto& file = std::get<FileSinkSpec>(job.operators[3].params);
  EXPECT_EQ(file.format, "csv");
  EXPECT_EQ(file.resolved_path, "/tmp/o");
  EXPECT_THAT(Parse(WithGenerator("  - uid: c\n    type: file-sink\n")),
              FailsAt(5, {"missing required key 'path'"}));
}

}  // namespace
}  // namespace weir::tools
