// SPDX-License-Identifier: Apache-2.0
//
// The built-in sources and sinks, in real jobs (JobBuilder, memory backend)
// and, for offsets and rate limits, called directly against a memory
// backend with a manual clock.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <weir/clock.h>
#include <weir/job.h>
#include <weir/sinks.h>
#include <weir/sources.h>
#include <weir/stream.h>

#include "backends/memory/memory_backend.h"
#include "engine/sinks/part_file_writer.h"
#include "engine/sources/line_reader.h"
#include "lib/coding.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace weir {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;
using testutil::StatusIs;
using namespace std::chrono_literals;

constexpr auto kTimeout = 20s;

// ---------------------------------------------------------------- helpers

class NoTimers final : public TimerService {
 public:
  int64_t CurrentProcessingTime() const override { return 0; }
  int64_t CurrentWatermark() const override { return kMinWatermark; }
  Status RegisterEventTimeTimer(int64_t, std::string_view) override {
    return Status::NotSupported("no timers");
  }
  Status RegisterProcessingTimeTimer(int64_t, std::string_view) override {
    return Status::NotSupported("no timers");
  }
  Status DeleteEventTimeTimer(int64_t, std::string_view) override {
    return Status::NotSupported("no timers");
  }
  Status DeleteProcessingTimeTimer(int64_t, std::string_view) override {
    return Status::NotSupported("no timers");
  }
};

// An operator context over a memory backend and a manual clock, so that a
// source function can be driven directly.
class FakeContext final : public OperatorContext {
 public:
  FakeContext(KeyedStateBackend* backend, Clock* clock, int subtask = 0,
              int parallelism = 1)
      : backend_(backend),
        clock_(clock),
        subtask_(subtask),
        parallelism_(parallelism),
        id_(OperatorId::FromUid("source")) {}

  const OperatorId& operator_id() const override { return id_; }
  std::string_view name() const override { return "source"; }
  int subtask() const override { return subtask_; }
  int parallelism() const override { return parallelism_; }
  int max_parallelism() const override { return 128; }
  KeyedStateStore& state() override { return *backend_; }
  TimerService& timers() override { return timers_; }
  Clock& clock() override { return *clock_; }
  void CountLateRecordDropped() override {}
  void CountRecordSkipped() override { ++skipped_; }

  int skipped() const { return skipped_; }

 private:
  KeyedStateBackend* backend_;
  Clock* clock_;
  int subtask_;
  int parallelism_;
  OperatorId id_;
  NoTimers timers_;
  int skipped_ = 0;
};

template <class T>
class VectorOutput final : public SourceOutput<T> {
 public:
  void Collect(T value) override {
    values.push_back(std::move(value));
    timestamps.push_back(kNoTimestamp);
  }
  void CollectWithTimestamp(T value, int64_t timestamp) override {
    values.push_back(std::move(value));
    timestamps.push_back(timestamp);
  }
  std::vector<T> values;
  std::vector<int64_t> timestamps;
};

std::unique_ptr<KeyedStateBackend> NewBackend() {
  Result<std::unique_ptr<KeyedStateBackend>> b =
      NewMemoryBackend(StateBackendOptions{});
  EXPECT_OK(b);
  return b.ok() ? std::move(*b) : nullptr;
}

// Not "v" + std::to_string(i): GCC 12 at -O3 warns -Wrestrict on it.
std::string Prefixed(std::string prefix, int64_t i) {
  prefix += std::to_string(i);
  return prefix;
}

template <class T>
std::vector<T> Sorted(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v;
}

void WriteFile(const std::string& path, std::string_view text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
}

void AppendFile(const std::string& path, std::string_view text) {
  std::ofstream f(path, std::ios::binary | std::ios::app);
  f << text;
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream os;
  os << f.rdbuf();
  return os.str();
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Runs a job to its end and returns Wait()'s status.
Status RunJob(const JobBuilder& b, JobOptions options = {}) {
  Result<std::unique_ptr<Job>> job = b.Build(std::move(options));
  if (!job.ok()) return job.status();
  Status s = (*job)->Start();
  if (!s.ok()) return s;
  return (*job)->Wait();
}

// "<name>,<value>" lines; a header "name,value" and blank lines are skipped.
struct Row {
  std::string name;
  int value = 0;
  auto operator<=>(const Row&) const = default;
};

Result<std::optional<Row>> ParseRow(std::string_view line) {
  if (line.empty() || line == "name,value") return std::optional<Row>();
  const size_t comma = line.find(',');
  if (comma == std::string_view::npos) {
    return Status::InvalidArgument("expected <name>,<value>");
  }
  Row row;
  row.name = std::string(line.substr(0, comma));
  const std::string digits(line.substr(comma + 1));
  if (digits.empty() ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    return Status::InvalidArgument("bad value '" + digits + "'");
  }
  row.value = std::stoi(digits);
  return std::optional<Row>(std::move(row));
}

// ---------------------------------------------------------------- collection

std::vector<int> RunCollection(int parallelism, const std::vector<int>& in) {
  JobBuilder b("collection");
  b.SetParallelism(parallelism);
  auto out = std::make_shared<CollectedRecords<int>>();
  b.AddSource<int>(FromElements<int>(in), "numbers")
      .SinkTo(CollectSink<int>::Factory(out));
  EXPECT_OK(RunJob(b));
  return out->values();
}

TEST(CollectionSource, SameMultisetAtParallelismOneAndThree) {
  std::vector<int> in;
  for (int i = 0; i < 1000; ++i) in.push_back(i % 37);
  const std::vector<int> p1 = RunCollection(1, in);
  EXPECT_EQ(p1, in);  // one subtask keeps the order
  const std::vector<int> p3 = RunCollection(3, in);
  EXPECT_EQ(Sorted(p3), Sorted(in));
}

TEST(CollectionSource, ResumesFromItsOffset) {
  auto backend = NewBackend();
  ManualClock clock;
  FakeContext ctx(backend.get(), &clock, /*subtask=*/1, /*parallelism=*/2);
  std::vector<int> in{0, 1, 2, 3, 4, 5, 6, 7, 8};

  CollectionSource<int> first(in);
  ASSERT_OK(first.Open(ctx));
  VectorOutput<int> out;
  ASSERT_OK(first.Poll(out, 2));
  ASSERT_OK(first.SnapshotState(ctx));
  ASSERT_OK(first.Close());
  EXPECT_THAT(out.values, ElementsAre(1, 3));

  CollectionSource<int> second(in);
  ASSERT_OK(second.Open(ctx));
  Result<SourceStatus> r = second.Poll(out, 100);
  ASSERT_OK(r);
  EXPECT_EQ(r->kind, SourceStatus::Kind::kEnd);
  EXPECT_THAT(out.values, ElementsAre(1, 3, 5, 7));
}

// The "offset" union state as a restore hands it to every new subtask: the
// entries of all old subtasks (each ran with its own backend), in order.
std::unique_ptr<KeyedStateBackend> UnionOf(
    const std::vector<std::unique_ptr<KeyedStateBackend>>& olds,
    std::vector<std::string> extra = {}) {
  const OperatorId op = OperatorId::FromUid("source");
  std::vector<std::string> all;
  for (const auto& b : olds) {
    Result<RawOperatorListState*> list =
        b->GetOperatorListState(op, "offset", OperatorStateMode::kUnion);
    EXPECT_OK(list);
    std::vector<std::string> values;
    EXPECT_OK((*list)->Get(&values));
    all.insert(all.end(), values.begin(), values.end());
  }
  all.insert(all.end(), extra.begin(), extra.end());
  auto merged = NewBackend();
  Result<RawOperatorListState*> list =
      merged->GetOperatorListState(op, "offset", OperatorStateMode::kUnion);
  EXPECT_OK(list);
  EXPECT_OK((*list)->Update(all));
  return merged;
}

// Three old subtasks that got different distances, snapshotted, then the
// rest emitted by 1, 2 and 5 new subtasks: every element comes out once.
TEST(CollectionSource, ResumesAtAnyParallelism) {
  ManualClock clock;
  std::vector<int> in;
  for (int i = 0; i < 100; ++i) in.push_back(i);
  std::vector<std::unique_ptr<KeyedStateBackend>> olds;
  std::vector<int> before;
  const int polled[3] = {5, 0, 20};
  for (int s = 0; s < 3; ++s) {
    olds.push_back(NewBackend());
    FakeContext ctx(olds.back().get(), &clock, s, 3);
    CollectionSource<int> source(in);
    ASSERT_OK(source.Open(ctx));
    VectorOutput<int> out;
    ASSERT_OK(source.Poll(out, polled[s]));
    ASSERT_OK(source.SnapshotState(ctx));
    before.insert(before.end(), out.values.begin(), out.values.end());
  }
  ASSERT_EQ(before.size(), 25u);
  for (int p : {1, 2, 5}) {
    SCOPED_TRACE("parallelism " + std::to_string(p));
    auto restored = UnionOf(olds);
    std::vector<int> all = before;
    for (int s = 0; s < p; ++s) {
      FakeContext ctx(restored.get(), &clock, s, p);
      CollectionSource<int> source(in);
      ASSERT_OK(source.Open(ctx));
      VectorOutput<int> out;
      Result<SourceStatus> r = source.Poll(out, 1000);
      ASSERT_OK(r);
      EXPECT_EQ(r->kind, SourceStatus::Kind::kEnd);
      // Within a subtask, ascending (the splits are merged in order).
      EXPECT_TRUE(std::is_sorted(out.values.begin(), out.values.end()));
      if (p == 5) {
        EXPECT_FALSE(out.values.empty());  // every subtask works
      }
      all.insert(all.end(), out.values.begin(), out.values.end());
    }
    EXPECT_EQ(Sorted(all), in);
  }
}

TEST(CollectionSource, RescalingNeedsOneOffsetPerOldSubtask) {
  ManualClock clock;
  std::vector<std::unique_ptr<KeyedStateBackend>> olds;
  for (int s : {0, 2}) {  // subtask 1 of 3 is missing
    olds.push_back(NewBackend());
    FakeContext ctx(olds.back().get(), &clock, s, 3);
    CollectionSource<int> source(std::vector<int>{1, 2, 3});
    ASSERT_OK(source.Open(ctx));
    ASSERT_OK(source.SnapshotState(ctx));
  }
  auto restored = UnionOf(olds);
  FakeContext p2(restored.get(), &clock, 0, 2);
  CollectionSource<int> source(std::vector<int>{1, 2, 3});
  EXPECT_THAT(source.Open(p2),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("not one entry per subtask")));
}

// Offsets written before sources kept splits (serializer version 1: the
// next index of subtask s of p) restore at another parallelism too.
TEST(CollectionSource, VersionOneOffsetsRescale) {
  ManualClock clock;
  auto v1 = [](uint32_t subtask, uint32_t parallelism, uint64_t next) {
    std::string out(1, '\x01');
    PutFixed32(&out, subtask);
    PutFixed32(&out, parallelism);
    PutFixed64(&out, next);
    PutFixed64(&out, 0);
    return out;
  };
  // Of 0..9 at parallelism 2: subtask 0 emitted 0, 2, 4; subtask 1 emitted 1.
  auto restored = UnionOf({}, {v1(0, 2, 6), v1(1, 2, 3)});
  std::vector<int> in{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  FakeContext ctx(restored.get(), &clock, 0, 1);
  CollectionSource<int> source(in);
  ASSERT_OK(source.Open(ctx));
  VectorOutput<int> out;
  ASSERT_OK(source.Poll(out, 100));
  EXPECT_THAT(out.values, ElementsAre(3, 5, 6, 7, 8, 9));
}

// ---------------------------------------------------------------- generator

std::vector<GeneratedEvent> RunGenerator(int parallelism,
                                         const GeneratorOptions& options) {
  JobBuilder b("generator");
  b.SetParallelism(parallelism);
  auto out = std::make_shared<CollectedRecords<GeneratedEvent>>();
  b.AddSource<GeneratedEvent>(GeneratorSource::Factory(options), "events",
                              GeneratorSource::Watermarks())
      .SinkTo(CollectSink<GeneratedEvent>::Factory(out));
  EXPECT_OK(RunJob(b));
  return Sorted(out->values());
}

TEST(GeneratorSource, DeterministicAcrossRunsAndParallelism) {
  GeneratorOptions options;
  options.count = 5000;
  options.num_keys = 50;
  options.seed = 42;
  options.ts_step_ms = 10;
  const std::vector<GeneratedEvent> p1 = RunGenerator(1, options);
  ASSERT_EQ(p1.size(), 5000u);
  std::map<std::string, int> keys;
  for (int64_t seq = 0; seq < 5000; ++seq) {
    const GeneratedEvent& e = p1[static_cast<size_t>(seq)];
    ASSERT_EQ(e.seq, seq);
    EXPECT_EQ(e, GeneratorSource::Generate(options, seq));
    EXPECT_EQ(e.timestamp, seq * 10);
    EXPECT_GE(e.value, 0);
    EXPECT_LT(e.value, 1000);
    ++keys[e.key];
  }
  EXPECT_EQ(keys.size(), 50u);  // 5000 events hit all 50 keys
  EXPECT_EQ(keys.count("key-0"), 1u);
  EXPECT_EQ(keys.count("key-49"), 1u);

  EXPECT_EQ(RunGenerator(1, options), p1);
  EXPECT_EQ(RunGenerator(2, options), p1);
  EXPECT_EQ(RunGenerator(4, options), p1);

  options.seed = 43;
  EXPECT_NE(RunGenerator(1, options), p1);
}

TEST(GeneratorSource, EmitsTimestampsAndResumesFromItsOffset) {
  auto backend = NewBackend();
  ManualClock clock;
  FakeContext ctx(backend.get(), &clock, 1, 3);
  GeneratorOptions options;
  options.count = 20;
  options.ts_step_ms = 5;

  GeneratorSource first(options);
  ASSERT_OK(first.Open(ctx));
  VectorOutput<GeneratedEvent> out;
  ASSERT_OK(first.Poll(out, 3));
  ASSERT_OK(first.SnapshotState(ctx));
  EXPECT_EQ(first.next_seq(), 10);

  GeneratorSource second(options);
  ASSERT_OK(second.Open(ctx));
  Result<SourceStatus> r = second.Poll(out, 100);
  ASSERT_OK(r);
  EXPECT_EQ(r->kind, SourceStatus::Kind::kEnd);
  std::vector<int64_t> seqs;
  for (const GeneratedEvent& e : out.values) seqs.push_back(e.seq);
  EXPECT_THAT(seqs, ElementsAre(1, 4, 7, 10, 13, 16, 19));
  EXPECT_THAT(out.timestamps, ElementsAre(5, 20, 35, 50, 65, 80, 95));
}

TEST(GeneratorSource, RateLimitFollowsTheClock) {
  auto backend = NewBackend();
  ManualClock clock(1'000'000);
  FakeContext ctx(backend.get(), &clock, 0, 2);
  GeneratorOptions options;
  options.rate = 200;  // in total: 100/s for each of 2 subtasks

  GeneratorSource source(options);
  ASSERT_OK(source.Open(ctx));
  VectorOutput<GeneratedEvent> out;
  for (int i = 0; i < 3; ++i) {
    Result<SourceStatus> r = source.Poll(out, 1000);
    ASSERT_OK(r);
    EXPECT_EQ(r->kind, SourceStatus::Kind::kWaiting);
    EXPECT_EQ(r->wait_us, 10000);  // one token every 10 ms
  }
  EXPECT_TRUE(out.values.empty());

  clock.AdvanceMillis(500);
  ASSERT_OK(source.Poll(out, 1000));
  EXPECT_EQ(out.values.size(), 50u);
  Result<SourceStatus> r = source.Poll(out, 1000);
  ASSERT_OK(r);
  EXPECT_EQ(r->kind, SourceStatus::Kind::kWaiting);
  EXPECT_EQ(out.values.size(), 50u);

  // max_records bounds one poll; the rest of the tokens stay.
  clock.AdvanceMillis(250);
  ASSERT_OK(source.Poll(out, 10));
  EXPECT_EQ(out.values.size(), 60u);
  ASSERT_OK(source.Poll(out, 1000));
  EXPECT_EQ(out.values.size(), 75u);

  // At most one second of tokens is saved up.
  clock.AdvanceMillis(60'000);
  ASSERT_OK(source.Poll(out, 100'000));
  EXPECT_EQ(out.values.size(), 175u);
  EXPECT_EQ(out.values.back().seq, 2 * 174);
}

TEST(GeneratorSource, RateLimitedJobWaitsForTheManualClock) {
  auto clock = std::make_shared<ManualClock>(1'000'000);
  JobOptions options;
  options.clock = clock;
  GeneratorOptions gen;
  gen.rate = 1000;
  JobBuilder b("rate");
  auto out = std::make_shared<CollectedRecords<GeneratedEvent>>();
  b.AddSource<GeneratedEvent>(GeneratorSource::Factory(gen), "events")
      .SinkTo(CollectSink<GeneratedEvent>::Factory(out));
  Result<std::unique_ptr<Job>> job = b.Build(options);
  ASSERT_OK(job);
  ASSERT_OK((*job)->Start());

  // The clock stands still: nothing may come out (a bounded wait that can
  // only fail if records appear).
  EXPECT_FALSE(out->WaitForCount(1, 200ms));
  EXPECT_EQ(out->size(), 0u);

  // Move the clock in small steps until the source, opened at some unknown
  // clock time, emits.
  int64_t advanced = 0;
  while (out->size() == 0 && advanced < 10'000) {
    clock->AdvanceMillis(10);
    advanced += 10;
    out->WaitForCount(1, 50ms);
  }
  ASSERT_GT(out->size(), 0u);
  clock->AdvanceMillis(500);
  advanced += 500;
  EXPECT_TRUE(out->WaitForCount(501, kTimeout));
  (*job)->Cancel();
  EXPECT_THAT((*job)->Wait(), StatusIs(Status::Code::kAborted));
  // Never more than rate * (time the clock moved).
  EXPECT_LE(out->size(), static_cast<size_t>(advanced));
  EXPECT_GE(out->size(), 501u);
}

// ---------------------------------------------------------------- file

class FileSourceTest : public testing::Test {
 protected:
  void SetUp() override { dir_.Create(); }

  std::vector<Row> Run(FileSourceOptions options, Status* status,
                       int64_t* skipped = nullptr) {
    JobBuilder b("file");
    auto out = std::make_shared<CollectedRecords<Row>>();
    b.AddSource<Row>(FileSource<Row>::Create(options, ParseRow), "rows", {},
                     /*non_parallel=*/true)
        .SinkTo(CollectSink<Row>::Factory(out));
    Result<std::unique_ptr<Job>> job = b.Build();
    EXPECT_OK(job);
    if (!job.ok()) return {};
    EXPECT_OK((*job)->Start());
    *status = (*job)->Wait();
    if (skipped != nullptr) {
      *skipped = 0;
      for (const VertexInfo& v : (*job)->Info().vertices) {
        *skipped += v.records_skipped;
      }
    }
    return out->values();
  }

  testutil::TestDir dir_;
};

TEST_F(FileSourceTest, ReadsLinesAndSkipsWhatTheParserSkips) {
  const std::string path = dir_.Sub("rows.csv");
  // A header, a blank line, CRLF, and a last line without '\n'.
  WriteFile(path, "name,value\na,1\n\nb,2\r\nc,3");
  FileSourceOptions options;
  options.path = path;
  Status s;
  const std::vector<Row> rows = Run(options, &s);
  EXPECT_OK(s);
  EXPECT_EQ(rows, (std::vector<Row>{{"a", 1}, {"b", 2}, {"c", 3}}));
}

TEST_F(FileSourceTest, ReadsManyChunks) {
  const std::string path = dir_.Sub("big.csv");
  std::string text;
  std::vector<Row> expected;
  for (int i = 0; i < 30000; ++i) {
    expected.push_back({Prefixed("name-", i), i});
    text += expected.back().name;
    text += Prefixed(",", i);
    text += '\n';
  }
  ASSERT_GT(text.size(), 4 * internal::LineReader::kChunkBytes);
  WriteFile(path, text);
  FileSourceOptions options;
  options.path = path;
  Status s;
  EXPECT_EQ(Run(options, &s), expected);
  EXPECT_OK(s);
}

TEST_F(FileSourceTest, SkipsBadLinesWhenToldTo) {
  const std::string path = dir_.Sub("rows.csv");
  WriteFile(path, "a,1\nbroken\nb,x\nc,3\n");
  FileSourceOptions options;
  options.path = path;
  options.on_error = FileSourceOptions::OnError::kSkip;
  Status s;
  int64_t skipped = 0;
  const std::vector<Row> rows = Run(options, &s, &skipped);
  EXPECT_OK(s);
  EXPECT_EQ(rows, (std::vector<Row>{{"a", 1}, {"c", 3}}));
  EXPECT_EQ(skipped, 2);
}

TEST_F(FileSourceTest, FailsOnABadLineNamingPathAndLine) {
  const std::string path = dir_.Sub("rows.csv");
  WriteFile(path, "name,value\na,1\n\nb,x\nc,3\n");
  FileSourceOptions options;
  options.path = path;
  Status s;
  Run(options, &s);
  EXPECT_THAT(s, StatusIs(Status::Code::kInvalidArgument,
                          HasSubstr(path + ":4: bad value 'x'")));
}

TEST_F(FileSourceTest, MissingFileFailsOpenNamingThePath) {
  FileSourceOptions options;
  options.path = dir_.Sub("nope.csv");
  Status s;
  Run(options, &s);
  EXPECT_THAT(s, StatusIs(Status::Code::kNotFound, HasSubstr(options.path)));
}

TEST_F(FileSourceTest, RequiresParallelismOne) {
  const std::string path = dir_.Sub("rows.csv");
  WriteFile(path, "a,1\n");
  auto backend = NewBackend();
  ManualClock clock;
  FakeContext ctx(backend.get(), &clock, 0, 2);
  FileSourceOptions options;
  options.path = path;
  FileSource<Row> source(options, ParseRow);
  EXPECT_THAT(source.Open(ctx), StatusIs(Status::Code::kInvalidArgument,
                                         HasSubstr("non_parallel")));
}

TEST_F(FileSourceTest, FollowPicksUpAppendedLines) {
  const std::string path = dir_.Sub("log.csv");
  WriteFile(path, "a,1\nb,2\n");
  FileSourceOptions options;
  options.path = path;
  options.follow = true;
  options.poll_interval_ms = 5;
  JobBuilder b("follow");
  auto out = std::make_shared<CollectedRecords<Row>>();
  b.AddSource<Row>(FileSource<Row>::Create(options, ParseRow), "rows", {}, true)
      .SinkTo(CollectSink<Row>::Factory(out));
  Result<std::unique_ptr<Job>> job = b.Build();
  ASSERT_OK(job);
  ASSERT_OK((*job)->Start());
  ASSERT_TRUE(out->WaitForCount(2, kTimeout));

  // A line still being written ("d,4" without '\n') is held back.
  AppendFile(path, "c,3\nd,");
  ASSERT_TRUE(out->WaitForCount(3, kTimeout));
  AppendFile(path, "4\ne,5\n");
  ASSERT_TRUE(out->WaitForCount(5, kTimeout));
  (*job)->Cancel();
  EXPECT_THAT((*job)->Wait(), StatusIs(Status::Code::kAborted));
  EXPECT_EQ(
      out->values(),
      (std::vector<Row>{{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}, {"e", 5}}));
}

TEST_F(FileSourceTest, ResumesFromItsOffsetWithoutDuplicates) {
  const std::string path = dir_.Sub("rows.csv");
  WriteFile(path, "name,value\na,1\nb,2\nc,3\nd,4\ne,5\nf,");
  auto backend = NewBackend();
  ManualClock clock;
  FakeContext ctx(backend.get(), &clock);
  FileSourceOptions options;
  options.path = path;
  options.follow = true;

  VectorOutput<Row> out;
  {
    FileSource<Row> first(options, ParseRow);
    ASSERT_OK(first.Open(ctx));
    ASSERT_OK(first.Poll(out, 3));  // the header and two rows
    ASSERT_OK(first.SnapshotState(ctx));
    EXPECT_EQ(first.lines_read(), 3);
    ASSERT_OK(first.Close());
  }
  EXPECT_EQ(out.values, (std::vector<Row>{{"a", 1}, {"b", 2}}));
  {
    FileSource<Row> second(options, ParseRow);
    ASSERT_OK(second.Open(ctx));
    Result<SourceStatus> r = second.Poll(out, 100);
    ASSERT_OK(r);
    EXPECT_EQ(r->kind, SourceStatus::Kind::kWaiting);  // following
    EXPECT_EQ(second.lines_read(), 6);
    // The partial "f," is not part of the offset.
    ASSERT_OK(second.SnapshotState(ctx));
    ASSERT_OK(second.Close());
  }
  AppendFile(path, "6\n");
  options.follow = false;
  options.on_error = FileSourceOptions::OnError::kFail;
  FileSource<Row> third(options, ParseRow);
  ASSERT_OK(third.Open(ctx));
  Result<SourceStatus> r = third.Poll(out, 100);
  ASSERT_OK(r);
  EXPECT_EQ(r->kind, SourceStatus::Kind::kEnd);
  EXPECT_EQ(third.lines_read(), 7);
  EXPECT_EQ(out.values,
            (std::vector<Row>{
                {"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}, {"e", 5}, {"f", 6}}));
}

TEST_F(FileSourceTest, RefusesAnOffsetPastTheEndOfTheFile) {
  const std::string path = dir_.Sub("rows.csv");
  WriteFile(path, "a,1\nb,2\n");
  auto backend = NewBackend();
  ManualClock clock;
  FakeContext ctx(backend.get(), &clock);
  FileSourceOptions options;
  options.path = path;
  FileSource<Row> first(options, ParseRow);
  ASSERT_OK(first.Open(ctx));
  VectorOutput<Row> out;
  ASSERT_OK(first.Poll(out, 100));
  ASSERT_OK(first.SnapshotState(ctx));
  WriteFile(path, "a\n");  // truncated
  FileSource<Row> second(options, ParseRow);
  EXPECT_THAT(second.Open(ctx),
              StatusIs(Status::Code::kInvalidArgument, HasSubstr(path)));
}

// ---------------------------------------------------------------- sinks

TEST(FileSink, WritesPartFilesAndNeverOverwritesThem) {
  testutil::TestDir dir;
  dir.Create();
  const std::string out_dir = dir.Sub("out/nested");
  std::vector<int> in;
  for (int i = 0; i < 2000; ++i) in.push_back(i);

  auto run = [&] {
    JobBuilder b("file-sink");
    b.SetParallelism(2);
    b.AddSource<int>(FromElements<int>(in), "numbers")
        .SinkTo(FileSink<int>::Factory(
            out_dir, [](const int& v) { return Prefixed("n=", v); }, ".txt"));
    return RunJob(b);
  };
  auto lines_of = [&](const std::vector<std::string>& names) {
    std::vector<std::string> lines;
    for (const std::string& name : names) {
      std::istringstream text(ReadAll(out_dir + "/" + name));
      for (std::string line; std::getline(text, line);) lines.push_back(line);
    }
    return Sorted(lines);
  };
  std::vector<std::string> expected;
  for (int v : in) expected.push_back(Prefixed("n=", v));
  expected = Sorted(expected);

  ASSERT_OK(run());
  EXPECT_THAT(ListDir(out_dir), ElementsAre("part-0-0.txt", "part-1-0.txt"));
  EXPECT_EQ(lines_of({"part-0-0.txt", "part-1-0.txt"}), expected);
  const std::string first = ReadAll(out_dir + "/part-0-0.txt");

  ASSERT_OK(run());
  EXPECT_THAT(ListDir(out_dir), ElementsAre("part-0-0.txt", "part-0-1.txt",
                                            "part-1-0.txt", "part-1-1.txt"));
  EXPECT_EQ(lines_of({"part-0-1.txt", "part-1-1.txt"}), expected);
  EXPECT_EQ(ReadAll(out_dir + "/part-0-0.txt"), first);
}

TEST(FileSink, LeavesTheInProgressFileWhenNotFinished) {
  testutil::TestDir dir;
  dir.Create();
  {
    internal::PartFileWriter w;
    ASSERT_OK(w.Open(dir.path(), 3, ".log"));
    ASSERT_OK(w.Append("x\n"));
    w.Close();
  }
  EXPECT_THAT(ListDir(dir.path()), ElementsAre(".part-3-0.log.inprogress"));
  EXPECT_EQ(ReadAll(dir.Sub(".part-3-0.log.inprogress")), "x\n");
  // The next writer neither reuses nor removes it.
  internal::PartFileWriter w;
  ASSERT_OK(w.Open(dir.path(), 3, ".log"));
  ASSERT_OK(w.Append("y\n"));
  ASSERT_OK(w.Commit());
  EXPECT_EQ(w.committed_path(), dir.Sub("part-3-1.log"));
  EXPECT_THAT(ListDir(dir.path()),
              ElementsAre(".part-3-0.log.inprogress", "part-3-1.log"));
}

TEST(PrintSink, PrefixesTheSubtaskWhenParallel) {
  auto backend = NewBackend();
  ManualClock clock;
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  FakeContext one(backend.get(), &clock, 0, 1);
  FakeContext second_of_two(backend.get(), &clock, 1, 2);
  PrintSink<int> plain([](const int& v) { return std::to_string(v); }, file);
  PrintSink<int> prefixed([](const int& v) { return Prefixed("v", v); }, file);
  ASSERT_OK(plain.Open(one));
  ASSERT_OK(prefixed.Open(second_of_two));
  ASSERT_OK(plain.Invoke(7, kNoTimestamp));
  ASSERT_OK(prefixed.Invoke(8, kNoTimestamp));
  ASSERT_OK(plain.Finish());
  std::rewind(file);
  char buf[64] = {};
  const size_t n = std::fread(buf, 1, sizeof(buf) - 1, file);
  std::fclose(file);
  EXPECT_EQ(std::string(buf, n), "7\n2> v8\n");
}

TEST(PrintSink, DefaultFormatterUsesOperatorShift) {
  JobBuilder b("print");
  b.AddSource<int>(FromElements<int>({1, 2}), "numbers")
      .SinkTo(std::make_unique<PrintSink<int>>());
  testing::internal::CaptureStdout();
  Status s = RunJob(b);
  const std::string printed = testing::internal::GetCapturedStdout();
  EXPECT_OK(s);
  EXPECT_EQ(printed, "1\n2\n");
}

TEST(DiscardingSink, DropsEverything) {
  JobBuilder b("discard");
  b.SetParallelism(2);
  b.AddSource<int>(FromElements<int>({1, 2, 3}), "numbers")
      .SinkTo(DiscardingSink<int>::Factory());
  EXPECT_OK(RunJob(b));
}

TEST(CollectSink, WaitForCountTimesOutWhenShort) {
  auto records = std::make_shared<CollectedRecords<int>>();
  records->Add(1);
  EXPECT_TRUE(records->WaitForCount(1, 0ms));
  EXPECT_FALSE(records->WaitForCount(2, 10ms));
  std::thread producer([records] { records->Add(2); });
  EXPECT_TRUE(records->WaitForCount(2, kTimeout));
  producer.join();
  EXPECT_THAT(records->values(), ElementsAre(1, 2));
}

}  // namespace
}  // namespace weir
