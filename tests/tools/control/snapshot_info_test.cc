// SPDX-License-Identifier: Apache-2.0
//
// `weir checkpoint info` / `weir savepoint info`: the info of real
// checkpoints and savepoints (taken by running jobs, on both backends)
// matches the files on disk, and that of built metadata every field; missing
// and damaged files are named and exit 1; bad `_metadata` is one error
// line.
#include "tools/control/snapshot_info.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/checkpoint/metadata.h"
#include "tests/engine/core/test_functions.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"
#include "weir/job.h"
#include "weir/savepoint.h"

namespace weir::tools {
namespace {

using namespace std::chrono_literals;
using enginetest::Event;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

// ---- pure functions ----

TEST(SnapshotInfoFormat, HumanBytes) {
  EXPECT_EQ(HumanBytes(0), "0 B");
  EXPECT_EQ(HumanBytes(1023), "1023 B");
  EXPECT_EQ(HumanBytes(1024), "1.0 KiB");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");
  EXPECT_EQ(HumanBytes(12'897'485), "12.3 MiB");
  EXPECT_EQ(HumanBytes(1024 * 1024 - 1), "1.0 MiB");
  EXPECT_EQ(HumanBytes(5ull << 30), "5.0 GiB");
}

TEST(SnapshotInfoFormat, IsoTimeUtc) {
  EXPECT_EQ(IsoTimeUtc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(IsoTimeUtc(1'700'000'003'250), "2023-11-14T22:13:23.250Z");
  EXPECT_EQ(IsoTimeUtc(-1), "1969-12-31T23:59:59.999Z");
}

OperatorId Op(std::string_view uid) { return OperatorId::FromUid(uid); }

engine::StoredFile File(std::string name, uint64_t size, std::string cf) {
  engine::StoredFile f;
  f.path = "shared/0123456789abcdef-" + name;
  f.file.name = std::move(name);
  f.file.size = size;
  f.file.column_family = std::move(cf);
  return f;
}

engine::OperatorMetadata OpMeta(std::string uid, std::string name,
                                int parallelism) {
  engine::OperatorMetadata op;
  op.id = Op(uid.empty() ? name : uid);
  op.uid = std::move(uid);
  op.name = std::move(name);
  op.parallelism = parallelism;
  op.max_parallelism = 128;
  return op;
}

engine::TaskSnapshotMetadata Task(int vertex, int subtask,
                                  std::vector<OperatorId> ops,
                                  KeyGroupRange range) {
  engine::TaskSnapshotMetadata t;
  t.vertex_index = vertex;
  t.subtask_index = subtask;
  t.operator_ids = std::move(ops);
  t.key_group_range = range;
  t.max_parallelism = 128;
  return t;
}

// A RocksDB checkpoint of source -> map (one subtask) and a keyed `count`
// (two), each task with its operators' column families and the default
// one. Tasks are listed out of subtask order.
engine::CheckpointMetadata RocksMetadata() {
  engine::CheckpointMetadata m;
  m.job_id = JobId(std::array<uint8_t, 16>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                           12, 13, 14, 15, 16});
  m.job_name = "sums";
  m.checkpoint_id = 7;
  m.trigger_time_ms = 1'700'000'003'250;
  m.completion_time_ms = 1'700'000'003'500;
  m.operators = {OpMeta("source", "src", 1), OpMeta("", "double", 1),
                 OpMeta("count", "count", 2)};
  const OperatorId source = m.operators[0].id;
  const OperatorId map = m.operators[1].id;
  const OperatorId count = m.operators[2].id;
  engine::TaskSnapshotMetadata chain =
      Task(0, 0, {source, map}, KeyGroupRange{0, 127});
  chain.files = {File("000010.sst", 100, "default"),
                 File("000011.sst", 200, map.ToHex())};
  engine::TaskSnapshotMetadata count1 =
      Task(1, 1, {count}, KeyGroupRange{64, 127});
  count1.files = {File("000020.sst", 2000, count.ToHex()),
                  File("000021.sst", 30, "default")};
  engine::TaskSnapshotMetadata count0 =
      Task(1, 0, {count}, KeyGroupRange{0, 63});
  count0.files = {File("000030.sst", 1000, count.ToHex()),
                  File("000031.sst", 1500, count.ToHex()),
                  File("000032.sst", 40, "default")};
  m.tasks = {chain, count1, count0};
  return m;
}

TEST(SnapshotInfoBuild, AttributesRocksDBFilesByColumnFamily) {
  const SnapshotInfo info =
      BuildSnapshotInfo(RocksMetadata(), "/ckpt/0102/chk-7/_metadata", 4321);
  EXPECT_EQ(info.state_size, 4870u);
  EXPECT_EQ(info.files, 7);
  EXPECT_EQ(info.shared_root_resolved, "/ckpt/0102");
  EXPECT_EQ(info.referenced.size(), 7u);
  EXPECT_EQ(info.referenced[0].path,
            "/ckpt/0102/shared/0123456789abcdef-000010.sst");
  ASSERT_EQ(info.operators.size(), 3u);

  const OperatorStateInfo& source = info.operators[0];
  EXPECT_EQ(source.uid, "source");
  EXPECT_EQ(source.state_size, 0u);
  EXPECT_EQ(source.files, 0);
  ASSERT_EQ(source.subtasks.size(), 1u);
  EXPECT_EQ(source.subtasks[0].files, 0);

  const OperatorStateInfo& map = info.operators[1];
  EXPECT_EQ(map.uid, "");
  EXPECT_EQ(map.state_size, 200u);
  EXPECT_EQ(map.files, 1);

  const OperatorStateInfo& count = info.operators[2];
  EXPECT_EQ(count.parallelism, 2);
  EXPECT_EQ(count.max_parallelism, 128);
  EXPECT_EQ(count.state_size, 4500u);
  EXPECT_EQ(count.files, 3);
  ASSERT_EQ(count.subtasks.size(), 2u);
  EXPECT_EQ(count.subtasks[0].subtask_index, 0);
  EXPECT_EQ(count.subtasks[0].key_groups, (KeyGroupRange{0, 63}));
  EXPECT_EQ(count.subtasks[0].files, 2);
  EXPECT_EQ(count.subtasks[0].bytes, 2500u);
  EXPECT_EQ(count.subtasks[1].subtask_index, 1);
  EXPECT_EQ(count.subtasks[1].key_groups, (KeyGroupRange{64, 127}));
  EXPECT_EQ(count.subtasks[1].bytes, 2000u);

  // The default column families belong to no single operator.
  ASSERT_EQ(info.task_shared.size(), 3u);
  EXPECT_EQ(info.task_shared[0].operator_names,
            (std::vector<std::string>{"src", "double"}));
  EXPECT_EQ(info.task_shared[0].bytes, 100u);
  EXPECT_EQ(info.task_shared[1].subtask_index, 1);
  EXPECT_EQ(info.task_shared[1].bytes, 30u);
  EXPECT_EQ(info.task_shared[2].bytes, 40u);
}

TEST(SnapshotInfoBuild, AttributesKeyGroupStreamsByOperatorId) {
  engine::CheckpointMetadata m = RocksMetadata();
  m.kind = engine::SnapshotKind::kSavepoint;
  m.savepoint_format = engine::SavepointFormat::kCanonical;
  for (engine::TaskSnapshotMetadata& t : m.tasks) {
    t.format = SnapshotFormat::kKeyGroupStreams;
    for (engine::StoredFile& f : t.files) {
      // Streams of the task's first operator, in the savepoint's folder.
      f.file.operator_id = t.operator_ids.front().ToHex();
      f.file.column_family.clear();
      f.path = "savepoint-010203-abc/" + f.file.name;
    }
  }
  const SnapshotInfo info =
      BuildSnapshotInfo(m, "/sp/savepoint-010203-abc/_metadata", 99);
  // Wherever the engine resolves a savepoint's own files.
  EXPECT_EQ(info.referenced[0].path,
            engine::ResolveStoredPath(m, "/sp/savepoint-010203-abc",
                                      m.tasks[0].files[0]));
  EXPECT_EQ(info.operators[0].state_size, 300u);  // source: both chain files
  EXPECT_EQ(info.operators[1].state_size, 0u);
  EXPECT_EQ(info.operators[2].state_size, 4570u);
  EXPECT_TRUE(info.task_shared.empty());
  const std::string text = FormatSnapshotInfoText(info, nullptr);
  EXPECT_THAT(text, StartsWith("Savepoint 7 of job "
                               "0102030405060708090a0b0c0d0e0f10 (sums)\n"));
  EXPECT_THAT(text, HasSubstr("  format:           canonical\n"));
  EXPECT_THAT(text, Not(HasSubstr("shared by the task's operators")));
  EXPECT_EQ(info.external_files, 0);
  EXPECT_THAT(text,
              HasSubstr("  depends on:       nothing outside its directory\n"));
}

TEST(SnapshotInfoBuild, NativeSavepointResolvesSharedFilesAtItsRoot) {
  engine::CheckpointMetadata m = RocksMetadata();
  m.kind = engine::SnapshotKind::kSavepoint;
  m.shared_root = "/ckpt/0102";
  const SnapshotInfo info =
      BuildSnapshotInfo(m, "/sp/savepoint-010203-abc/_metadata", 99);
  EXPECT_EQ(info.shared_root_resolved, "/ckpt/0102");
  EXPECT_EQ(info.referenced[0].path,
            "/ckpt/0102/shared/0123456789abcdef-000010.sst");
  const json j = SnapshotInfoToJson(info, nullptr);
  EXPECT_EQ(j["kind"], "savepoint");
  EXPECT_EQ(j["format"], "native");
  EXPECT_EQ(j["shared_root"], "/ckpt/0102");
  // Every file is in the job's storage, none in the savepoint's directory.
  EXPECT_EQ(info.external_files, 7);
  EXPECT_EQ(info.external_bytes, 4870u);
  EXPECT_EQ(info.external_dirs, std::vector<std::string>{"/ckpt/0102/shared"});
  EXPECT_EQ(j["external_files"], 7);
  EXPECT_THAT(FormatSnapshotInfoText(info, nullptr),
              HasSubstr("  depends on:       7 files (4.8 KiB) in "
                        "/ckpt/0102/shared; 'weir savepoint export' writes a "
                        "copy that does not\n"));
}

TEST(SnapshotInfoFormat, TextHasEveryField) {
  const SnapshotInfo info =
      BuildSnapshotInfo(RocksMetadata(), "/ckpt/0102/chk-7/_metadata", 4321);
  VerifyResult verify;
  verify.files_checked = 7;
  const std::string text = FormatSnapshotInfoText(info, &verify);
  EXPECT_THAT(text, StartsWith("Checkpoint 7 of job "
                               "0102030405060708090a0b0c0d0e0f10 (sums)\n"));
  EXPECT_THAT(text, HasSubstr("  kind:             checkpoint\n"));
  EXPECT_THAT(text, HasSubstr("  id:               7\n"));
  EXPECT_THAT(text, HasSubstr("  job name:         sums\n"));
  EXPECT_THAT(text,
              HasSubstr("  triggered:        2023-11-14T22:13:23.250Z\n"));
  EXPECT_THAT(text, HasSubstr("  completed:        2023-11-14T22:13:23.500Z "
                              "(250 ms after the trigger)\n"));
  EXPECT_THAT(text, HasSubstr("  format:           native\n"));
  EXPECT_THAT(text, HasSubstr("  shared root:      /ckpt/0102 (the "
                              "checkpoint's parent directory)\n"));
  EXPECT_THAT(text, HasSubstr("  metadata:         /ckpt/0102/chk-7/_metadata "
                              "(4321 bytes)\n"));
  EXPECT_THAT(text, HasSubstr("  state size:       4870 bytes (4.8 KiB) in 7 "
                              "files\n"));
  EXPECT_THAT(text, HasSubstr("\nOperator 'double'\n"
                              "  uid:              (generated)\n"
                              "  operator id:      " +
                              Op("double").ToHex() + "\n"));
  EXPECT_THAT(text, HasSubstr("\nOperator 'count'\n"
                              "  uid:              count\n"));
  EXPECT_THAT(text, HasSubstr("  parallelism:      2\n"
                              "  max parallelism:  128\n"
                              "  state size:       4500 bytes (4.4 KiB)\n"
                              "  files:            3\n"
                              "  subtask 0: key groups 0-63, 2 files, 2.4 "
                              "KiB\n"
                              "  subtask 1: key groups 64-127, 1 file, 2.0 "
                              "KiB\n"));
  EXPECT_THAT(text, HasSubstr("shared by the task's operators"));
  EXPECT_THAT(text, HasSubstr("  task 'src -> double' subtask 0: 1 file, 100 "
                              "bytes (100 B)\n"));
  EXPECT_THAT(text, HasSubstr("\nFiles: 7 checked (sizes), 0 missing, 0 "
                              "damaged\n"));
}

TEST(SnapshotInfoFormat, JsonHasEveryField) {
  const SnapshotInfo info =
      BuildSnapshotInfo(RocksMetadata(), "/ckpt/0102/chk-7/_metadata", 4321);
  VerifyResult verify;
  verify.checksums = true;
  verify.files_checked = 7;
  verify.problems.push_back({FileProblem::Kind::kMissing, "/x", "missing /x"});
  const json j = SnapshotInfoToJson(info, &verify);
  EXPECT_EQ(j["kind"], "checkpoint");
  EXPECT_EQ(j["id"], 7);
  EXPECT_EQ(j["job_id"], "0102030405060708090a0b0c0d0e0f10");
  EXPECT_EQ(j["job_name"], "sums");
  EXPECT_EQ(j["trigger_time"], "2023-11-14T22:13:23.250Z");
  EXPECT_EQ(j["trigger_timestamp"], 1'700'000'003'250);
  EXPECT_EQ(j["completion_time"], "2023-11-14T22:13:23.500Z");
  EXPECT_EQ(j["format"], "native");
  EXPECT_EQ(j["shared_root"], "");
  EXPECT_EQ(j["shared_root_resolved"], "/ckpt/0102");
  EXPECT_EQ(j["metadata_path"], "/ckpt/0102/chk-7/_metadata");
  EXPECT_EQ(j["metadata_size"], 4321);
  EXPECT_EQ(j["state_size"], 4870);
  EXPECT_EQ(j["files"], 7);
  ASSERT_EQ(j["operators"].size(), 3u);
  EXPECT_TRUE(j["operators"][1]["uid"].is_null());
  const json& count = j["operators"][2];
  EXPECT_EQ(count["uid"], "count");
  EXPECT_EQ(count["operator_id"], Op("count").ToHex());
  EXPECT_EQ(count["parallelism"], 2);
  EXPECT_EQ(count["max_parallelism"], 128);
  EXPECT_EQ(count["state_size"], 4500);
  EXPECT_EQ(count["state_size_human"], "4.4 KiB");
  EXPECT_EQ(count["files"], 3);
  EXPECT_EQ(count["subtasks"][1]["subtask"], 1);
  EXPECT_EQ(count["subtasks"][1]["key_groups"]["start"], 64);
  EXPECT_EQ(count["subtasks"][1]["key_groups"]["end"], 127);
  EXPECT_EQ(count["subtasks"][1]["files"], 1);
  EXPECT_EQ(count["subtasks"][1]["state_size"], 2000);
  ASSERT_EQ(j["shared_by_task_operators"].size(), 3u);
  EXPECT_EQ(j["shared_by_task_operators"][0]["state_size"], 100);
  EXPECT_EQ(j["verification"]["checksums"], true);
  EXPECT_EQ(j["verification"]["files_checked"], 7);
  EXPECT_EQ(j["verification"]["problems"][0]["kind"], "missing");
}

// ---- real checkpoints and savepoints ----

constexpr int64_t kRecords = 3000;

// Emits records 0..kRecords-1 (key "k<i % 97>"), then idles until
// cancelled. Its offset is operator state.
class IdleAfterSource final : public SourceFunction<Event> {
 public:
  Status Open(OperatorContext& ctx) override {
    auto state =
        GetOperatorListState<int64_t>(ctx.state(), ctx.operator_id(), "offset");
    if (!state.ok()) return state.status();
    auto v = state->Get();
    if (!v.ok()) return v.status();
    if (!v->empty()) next_ = v->front();
    return Status::OK();
  }
  Result<SourceStatus> Poll(SourceOutput<Event>& out, int max) override {
    for (int i = 0; i < max && next_ < kRecords; ++i, ++next_) {
      out.Collect(Event{"k" + std::to_string(next_ % 97), 1, next_});
    }
    if (next_ >= kRecords) return SourceStatus::WaitingMicros(1000);
    return SourceStatus::More();
  }
  Status SnapshotState(OperatorContext& ctx) override {
    auto state =
        GetOperatorListState<int64_t>(ctx.state(), ctx.operator_id(), "offset");
    if (!state.ok()) return state.status();
    return state->Update({next_});
  }

 private:
  int64_t next_ = 0;
};

class CountPerKey final
    : public KeyedProcessFunction<std::string, Event, Event> {
 public:
  Status Open(OperatorContext& ctx) override {
    auto s = GetState(ctx.state(), ctx.operator_id(),
                      ValueStateDescriptor<int64_t>{"count"});
    if (!s.ok()) return s.status();
    count_.emplace(std::move(*s));
    return Status::OK();
  }
  Status ProcessElement(const Event& e, Context&,
                        Collector<Event>& out) override {
    auto c = count_->Value();
    if (!c.ok()) return c.status();
    const int64_t n = c->value_or(0) + 1;
    Status s = count_->Update(n);
    if (s.ok()) out.Collect(Event{e.key, n, e.time});
    return s;
  }

 private:
  std::optional<ValueState<int64_t>> count_;
};

// "error: <message>" for an ERROR line of tools/log/log.h
// ("<UTC time> ERROR <message>"); anything else as it is.
std::string ErrorMessage(const std::string& line) {
  static const std::regex kErrorLine(
      "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
      "ERROR (.*)");
  std::smatch m;
  if (std::regex_match(line, m, kErrorLine)) return "error: " + m[1].str();
  return line;
}

// stdout, stderr and exit code of SnapshotInfoCommand; the lines of stderr
// as ErrorMessage() shows them.
struct CommandOutput {
  int code = 0;
  std::string out;
  std::string err;
  std::vector<std::string> err_lines;
};

CommandOutput RunInfo(const std::string& path, bool json_output = false,
                      bool verify = false) {
  CommandOutput r;
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  r.code = SnapshotInfoCommand(path, json_output, verify);
  r.out = ::testing::internal::GetCapturedStdout();
  r.err = ::testing::internal::GetCapturedStderr();
  size_t start = 0;
  while (start < r.err.size()) {
    size_t nl = r.err.find('\n', start);
    if (nl == std::string::npos) nl = r.err.size();
    r.err_lines.push_back(ErrorMessage(r.err.substr(start, nl - start)));
    start = nl + 1;
  }
  return r;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

void WriteAll(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

class SnapshotInfoJobTest
    : public ::testing::TestWithParam<JobOptions::Backend> {
 protected:
  void SetUp() override { dir_.Create(); }

  // Runs source (uid "source", 1) -> count (uid "count", 2) -> sink (no
  // uid, 2) until every record went through.
  void StartJob() {
    JobOptions options;
    options.backend = GetParam();
    options.local_dir = dir_.Sub("local");
    options.checkpoints.dir = dir_.Sub("checkpoints");
    options.checkpoints.savepoint_dir = dir_.Sub("savepoints");
    JobBuilder b("counts");
    b.SetParallelism(2);
    b.AddSource<Event>(
         [] {
           return std::unique_ptr<SourceFunction<Event>>(
               std::make_unique<IdleAfterSource>());
         },
         "source")
        .Uid("source")
        .SetParallelism(1)
        .KeyBy([](const Event& e) { return e.key; })
        .Process<Event>([] { return std::make_unique<CountPerKey>(); })
        .Uid("count")
        .SinkTo(enginetest::CollectInto(out_));
    ASSERT_OK_AND_ASSIGN(job_, b.Build(options));
    ASSERT_OK(job_->Start());
    ASSERT_TRUE(out_->WaitForSize(static_cast<size_t>(kRecords), 30s));
  }

  std::string Checkpoint() {
    Result<int64_t> id = job_->TriggerCheckpoint();
    EXPECT_OK(id.status());
    if (!id.ok()) return "";
    Result<CheckpointStats> stats = job_->WaitForCheckpoint(*id, 30s);
    EXPECT_OK(stats.status());
    return stats.ok() ? stats->path : "";
  }

  std::string Savepoint() {
    Result<int64_t> id = job_->TriggerSavepoint(SavepointOptions{});
    EXPECT_OK(id.status());
    if (!id.ok()) return "";
    Result<CheckpointStats> stats = job_->WaitForCheckpoint(*id, 30s);
    EXPECT_OK(stats.status());
    return stats.ok() ? stats->path : "";
  }

  void TearDown() override {
    if (job_ != nullptr) {
      job_->Cancel();
      job_->Wait().IgnoreError();
    }
  }

  std::string root() const {
    return dir_.Sub("checkpoints") + "/" + job_->id().ToHex();
  }

  testutil::TestDir dir_;
  std::shared_ptr<enginetest::Collected<Event>> out_ =
      std::make_shared<enginetest::Collected<Event>>();
  std::unique_ptr<Job> job_;
};

// The sum of the sizes on disk of the files of `hex`, by the backend's own
// naming (RocksDB column family, key-group stream operator id).
uint64_t BytesOnDiskOf(const engine::CheckpointMetadata& m,
                       const std::string& metadata_dir,
                       const std::string& hex) {
  uint64_t sum = 0;
  for (const auto& t : m.tasks) {
    for (const auto& f : t.files) {
      if (f.file.column_family == hex || f.file.operator_id == hex) {
        sum += fs::file_size(engine::ResolveStoredPath(m, metadata_dir, f));
      }
    }
  }
  return sum;
}

TEST_P(SnapshotInfoJobTest, CheckpointInfoMatchesTheFilesOnDisk) {
  ASSERT_NO_FATAL_FAILURE(StartJob());
  const std::string path = Checkpoint();
  ASSERT_FALSE(path.empty());
  ASSERT_OK_AND_ASSIGN(SnapshotInfo info, LoadSnapshotInfo(path));
  ASSERT_OK_AND_ASSIGN(engine::CheckpointMetadata m,
                       engine::ReadMetadataFile(path));
  EXPECT_EQ(info.metadata.kind, engine::SnapshotKind::kCheckpoint);
  EXPECT_EQ(info.metadata.job_id, job_->id());
  EXPECT_EQ(info.metadata_path, path + "/_metadata");
  EXPECT_EQ(info.metadata_size, fs::file_size(path + "/_metadata"));
  EXPECT_EQ(info.shared_root_resolved, root());
  ASSERT_EQ(info.operators.size(), 3u);
  const OperatorStateInfo& count = info.operators[1];
  EXPECT_EQ(count.uid, "count");
  EXPECT_EQ(count.id, OperatorId::FromUid("count"));
  EXPECT_EQ(count.parallelism, 2);
  EXPECT_EQ(count.max_parallelism, 128);
  EXPECT_GT(count.state_size, 0u);
  EXPECT_EQ(count.state_size, BytesOnDiskOf(m, path, count.id.ToHex()));
  ASSERT_EQ(count.subtasks.size(), 2u);
  EXPECT_EQ(count.subtasks[0].key_groups, (KeyGroupRange{0, 63}));
  EXPECT_EQ(count.subtasks[1].key_groups, (KeyGroupRange{64, 127}));
  EXPECT_EQ(count.subtasks[0].bytes + count.subtasks[1].bytes,
            count.state_size);
  EXPECT_EQ(count.subtasks[0].files + count.subtasks[1].files, count.files);
  // Every byte is attributed once: to an operator or to its task.
  uint64_t total = 0;
  uint64_t on_disk = 0;
  for (const OperatorStateInfo& op : info.operators) {
    total += op.state_size;
    EXPECT_EQ(op.state_size, BytesOnDiskOf(m, path, op.id.ToHex()));
  }
  for (const TaskSharedStateInfo& t : info.task_shared) total += t.bytes;
  for (const auto& t : m.tasks) {
    for (const auto& f : t.files) {
      on_disk += fs::file_size(engine::ResolveStoredPath(m, path, f));
    }
  }
  EXPECT_EQ(info.state_size, on_disk);
  EXPECT_EQ(total, on_disk);
  if (GetParam() == JobOptions::Backend::kRocksDB) {
    EXPECT_FALSE(info.task_shared.empty());  // the default column family
  } else {
    EXPECT_TRUE(info.task_shared.empty());        // one file per operator
    EXPECT_GT(info.operators[0].state_size, 0u);  // the source's offset
  }

  const CommandOutput r = RunInfo(path, false, true);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_THAT(r.out, StartsWith("Checkpoint "));
  EXPECT_THAT(r.out, HasSubstr("  job id:           " + job_->id().ToHex()));
  EXPECT_THAT(r.out, HasSubstr("  job name:         counts\n"));
  EXPECT_THAT(r.out, HasSubstr("  uid:              (generated)\n"));
  EXPECT_THAT(r.out, HasSubstr("  state size:       " +
                               std::to_string(count.state_size) + " bytes ("));
  EXPECT_THAT(r.out, HasSubstr("  subtask 1: key groups 64-127, "));
  EXPECT_THAT(r.out, HasSubstr(" checked (sizes and XXH3-64 checksums), 0 "
                               "missing, 0 damaged\n"));
}

TEST_P(SnapshotInfoJobTest, JsonOutputParses) {
  ASSERT_NO_FATAL_FAILURE(StartJob());
  const std::string path = Checkpoint();
  ASSERT_FALSE(path.empty());
  const CommandOutput r = RunInfo(path + "/_metadata", true);
  EXPECT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["kind"], "checkpoint");
  EXPECT_EQ(j["job_id"], job_->id().ToHex());
  EXPECT_EQ(j["job_name"], "counts");
  EXPECT_EQ(j["format"], "native");
  EXPECT_EQ(j["metadata_size"], fs::file_size(path + "/_metadata"));
  ASSERT_EQ(j["operators"].size(), 3u);
  EXPECT_EQ(j["operators"][1]["uid"], "count");
  EXPECT_TRUE(j["operators"][2]["uid"].is_null());
  EXPECT_EQ(j["verification"]["checksums"], false);
  EXPECT_TRUE(j["verification"]["problems"].empty());
}

TEST_P(SnapshotInfoJobTest, SavepointInfo) {
  ASSERT_NO_FATAL_FAILURE(StartJob());
  const std::string path = Savepoint();
  ASSERT_FALSE(path.empty());
  const CommandOutput r = RunInfo(path, true, true);
  EXPECT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["kind"], "savepoint");
  EXPECT_EQ(j["format"], "native");
  if (GetParam() == JobOptions::Backend::kRocksDB) {
    // Native with checkpoint storage: the files stay in its shared/.
    EXPECT_EQ(j["shared_root"], root());
    EXPECT_EQ(j["shared_root_resolved"], root());
  } else {
    EXPECT_EQ(j["shared_root"], "");  // self-contained
  }
  EXPECT_GT(j["operators"][1]["state_size"].get<uint64_t>(), 0u);
  EXPECT_EQ(j["verification"]["files_checked"], j["files"]);
}

TEST_P(SnapshotInfoJobTest, MissingFileIsNamedAndExitsOne) {
  ASSERT_NO_FATAL_FAILURE(StartJob());
  const std::string path = Checkpoint();
  ASSERT_FALSE(path.empty());
  job_->Cancel();
  job_->Wait().IgnoreError();
  ASSERT_OK_AND_ASSIGN(SnapshotInfo info, LoadSnapshotInfo(path));
  ASSERT_FALSE(info.referenced.empty());
  const std::string victim = info.referenced.back().path;
  ASSERT_TRUE(fs::remove(victim));
  const CommandOutput r = RunInfo(path);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, StartsWith("Checkpoint "));  // the info comes first
  EXPECT_THAT(r.out, HasSubstr(", 1 missing, 0 damaged\n"));
  ASSERT_EQ(r.err_lines.size(), 1u) << r.err;
  EXPECT_THAT(r.err_lines[0],
              StartsWith("error: missing file " + victim + " ("));
}

TEST_P(SnapshotInfoJobTest, DamagedFilesAreFoundBySizeAndByChecksum) {
  ASSERT_NO_FATAL_FAILURE(StartJob());
  const std::string path = Checkpoint();
  ASSERT_FALSE(path.empty());
  job_->Cancel();
  job_->Wait().IgnoreError();
  ASSERT_OK_AND_ASSIGN(SnapshotInfo info, LoadSnapshotInfo(path));
  ASSERT_GE(info.referenced.size(), 2u);
  // One file truncated, one with a byte flipped (same size).
  const std::string truncated = info.referenced[0].path;
  const std::string flipped = info.referenced[1].path;
  std::string bytes = ReadAll(truncated);
  ASSERT_FALSE(bytes.empty());
  const size_t truncated_size = bytes.size() / 2;
  fs::remove(truncated);  // a new inode: a hard link may share the old one
  WriteAll(truncated, std::string_view(bytes).substr(0, truncated_size));
  bytes = ReadAll(flipped);
  ASSERT_FALSE(bytes.empty());
  bytes[bytes.size() / 2] ^= 0x5a;
  fs::remove(flipped);
  WriteAll(flipped, bytes);

  CommandOutput r = RunInfo(path);  // sizes only
  EXPECT_EQ(r.code, 1);
  ASSERT_EQ(r.err_lines.size(), 1u) << r.err;
  EXPECT_THAT(r.err_lines[0],
              StartsWith("error: damaged file " + truncated + " ("));
  EXPECT_THAT(r.err_lines[0], HasSubstr(": " + std::to_string(truncated_size) +
                                        " bytes, expected"));

  r = RunInfo(path, false, true);
  EXPECT_EQ(r.code, 1);
  ASSERT_EQ(r.err_lines.size(), 2u) << r.err;
  EXPECT_THAT(r.err_lines[1],
              StartsWith("error: damaged file " + flipped + " ("));
  EXPECT_THAT(r.err_lines[1], HasSubstr("checksum mismatch: expected "));
  EXPECT_THAT(r.out, HasSubstr(", 0 missing, 2 damaged\n"));
}

INSTANTIATE_TEST_SUITE_P(Backends, SnapshotInfoJobTest,
                         ::testing::Values(JobOptions::Backend::kMemory,
                                           JobOptions::Backend::kRocksDB),
                         [](const auto& info) {
                           return info.param == JobOptions::Backend::kMemory
                                      ? std::string("Memory")
                                      : std::string("RocksDB");
                         });

// ---- bad input: one error line, nothing on stdout ----

class SnapshotInfoBadInputTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_.Create(); }

  // A valid `_metadata` in <dir>/chk-7, returned as bytes.
  std::string ValidMetadata() {
    std::string bytes;
    EXPECT_OK(engine::Encode(RocksMetadata(), &bytes));
    return bytes;
  }

  void ExpectOneErrorLine(const std::string& path,
                          const std::string& message_part) {
    for (bool json_output : {false, true}) {
      const CommandOutput r = RunInfo(path, json_output);
      EXPECT_EQ(r.code, 1);
      EXPECT_EQ(r.out, "");
      ASSERT_EQ(r.err_lines.size(), 1u) << r.err;
      EXPECT_THAT(r.err_lines[0], StartsWith("error: "));
      EXPECT_THAT(r.err_lines[0], HasSubstr(message_part));
    }
  }

  testutil::TestDir dir_;
};

TEST_F(SnapshotInfoBadInputTest, PathThatDoesNotExist) {
  ExpectOneErrorLine(dir_.Sub("nope/chk-3"),
                     dir_.Sub("nope/chk-3") + ": no such file or directory");
}

TEST_F(SnapshotInfoBadInputTest, DirectoryWithoutMetadata) {
  fs::create_directories(dir_.Sub("chk-3"));
  WriteAll(dir_.Sub("chk-3/_metadata.tmp"), "partial");
  ExpectOneErrorLine(dir_.Sub("chk-3"),
                     "is not a checkpoint or savepoint: it has no _metadata");
}

TEST_F(SnapshotInfoBadInputTest, TruncatedMetadata) {
  const std::string bytes = ValidMetadata();
  fs::create_directories(dir_.Sub("chk-7"));
  WriteAll(dir_.Sub("chk-7/_metadata"),
           std::string_view(bytes).substr(0, bytes.size() / 2));
  ExpectOneErrorLine(dir_.Sub("chk-7"),
                     dir_.Sub("chk-7/_metadata") + " is truncated");
  WriteAll(dir_.Sub("chk-7/_metadata"), "");
  ExpectOneErrorLine(dir_.Sub("chk-7/_metadata"), "is truncated");
}

TEST_F(SnapshotInfoBadInputTest, RandomBytesAndForeignFiles) {
  fs::create_directories(dir_.Sub("chk-7"));
  std::string random(4096, '\0');
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (char& c : random) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  WriteAll(dir_.Sub("chk-7/_metadata"), random);
  ExpectOneErrorLine(dir_.Sub("chk-7"), "not a weir metadata file");
  WriteAll(dir_.Sub("job.yaml"), "name: sums\n");
  ExpectOneErrorLine(dir_.Sub("job.yaml"), "not a weir metadata file");
  // The right magic, damaged content.
  std::string bytes = ValidMetadata();
  bytes[bytes.size() / 2] ^= 1;
  WriteAll(dir_.Sub("chk-7/_metadata"), bytes);
  ExpectOneErrorLine(dir_.Sub("chk-7"), "checksum mismatch");
}

TEST_F(SnapshotInfoBadInputTest, ValidMetadataWithoutFilesIsMissingEveryFile) {
  ASSERT_OK(engine::WriteMetadataFile(dir_.Sub("chk-7"), RocksMetadata()));
  const CommandOutput r = RunInfo(dir_.Sub("chk-7") + "/");
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr("  metadata:         " + dir_.Sub("chk-7") +
                               "/_metadata ("));
  ASSERT_EQ(r.err_lines.size(), 7u) << r.err;
  EXPECT_THAT(r.err_lines[0],
              StartsWith("error: missing file " + dir_.path() +
                         "/shared/0123456789abcdef-000010.sst (000010.sst, "
                         "task 'src -> double' subtask 0)"));
  EXPECT_THAT(r.err_lines[1],
              HasSubstr("(000011.sst, operator 'double' subtask 0)"));
}

}  // namespace
}  // namespace weir::tools
