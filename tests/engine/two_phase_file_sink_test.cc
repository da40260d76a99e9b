// SPDX-License-Identifier: Apache-2.0
//
// FileSink's two-phase commit, driven directly: each subtask is a FileSink
// over its own memory backend, checkpoints snapshot the sink and then the
// backend as a task does, a "crash" destroys the sink without Close() or
// Finish(), and a restore opens a new sink over a backend restored from the
// snapshots (RestoreMemoryBackend). The last test kills a run at every step
// (and the recovery run at every step again) and compares the committed
// output with that of a run that never failed.
#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <weir/clock.h>
#include <weir/sinks.h>

#include "backends/memory/memory_backend.h"
#include "backends/restore.h"
#include "engine/sinks/part_files.h"
#include "tests/testutil/fault_env.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace weir {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;
using testing::IsEmpty;
using testutil::StatusIs;

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

class SinkContext final : public OperatorContext {
 public:
  SinkContext(KeyedStateBackend* backend, int subtask, int parallelism)
      : backend_(backend),
        subtask_(subtask),
        parallelism_(parallelism),
        id_(OperatorId::FromUid("file-sink")) {}

  const OperatorId& operator_id() const override { return id_; }
  std::string_view name() const override { return "file-sink"; }
  int subtask() const override { return subtask_; }
  int parallelism() const override { return parallelism_; }
  int max_parallelism() const override { return 128; }
  KeyedStateStore& state() override { return *backend_; }
  TimerService& timers() override { return timers_; }
  Clock& clock() override { return clock_; }
  void CountLateRecordDropped() override {}
  void CountRecordSkipped() override {}

 private:
  KeyedStateBackend* backend_;
  int subtask_;
  int parallelism_;
  OperatorId id_;
  NoTimers timers_;
  ManualClock clock_;
};

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

std::vector<std::string> Hidden(const std::string& dir) {
  std::vector<std::string> names;
  for (std::string& name : ListDir(dir)) {
    if (name[0] == '.') names.push_back(std::move(name));
  }
  return names;
}

std::vector<std::string> Committed(const std::string& dir) {
  std::vector<std::string> names;
  for (std::string& name : ListDir(dir)) {
    if (name[0] != '.') names.push_back(std::move(name));
  }
  return names;
}

// The committed files of `subtask` ("part-<subtask>-<n>.txt") concatenated
// in counter order: what a reader of the directory gets.
std::string CommittedOutput(const std::string& dir, int subtask) {
  const std::string prefix = "part-" + std::to_string(subtask) + "-";
  std::map<int64_t, std::string> by_counter;
  for (const std::string& name : Committed(dir)) {
    if (name.rfind(prefix, 0) != 0) continue;
    const int64_t n = std::stoll(name.substr(prefix.size()));
    by_counter[n] = ReadAll(dir + "/" + name);
  }
  std::string out;
  for (const auto& [n, text] : by_counter) out += text;
  return out;
}

// Every line of every committed file, sorted.
std::vector<std::string> CommittedLines(const std::string& dir) {
  std::vector<std::string> lines;
  for (const std::string& name : Committed(dir)) {
    std::istringstream text(ReadAll(dir + "/" + name));
    for (std::string line; std::getline(text, line);) lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

std::string Record(int subtask, int64_t i) {
  std::string r("s");
  r += std::to_string(subtask);
  r += "-r";
  r += std::to_string(i);
  return r;
}

// Records [from, to) of `subtask`, one per line.
std::string Lines(int subtask, int64_t from, int64_t to) {
  std::string out;
  for (int64_t i = from; i < to; ++i) {
    out += Record(subtask, i);
    out += '\n';
  }
  return out;
}

// One subtask of a FileSink<std::string> writing "<record>\n" into
// `out_dir` with suffix ".txt", over its own memory backend.
class SinkSubtask {
 public:
  SinkSubtask(std::string out_dir, std::string snapshot_dir, int subtask,
              int parallelism, std::unique_ptr<KeyedStateBackend> backend)
      : out_dir_(std::move(out_dir)),
        snapshot_dir_(std::move(snapshot_dir)),
        backend_(std::move(backend)),
        ctx_(backend_.get(), subtask, parallelism) {}

  // A fresh start: an empty backend.
  static std::unique_ptr<SinkSubtask> Fresh(const std::string& out_dir,
                                            const std::string& snapshot_dir,
                                            int subtask, int parallelism) {
    Result<std::unique_ptr<KeyedStateBackend>> b =
        NewMemoryBackend(StateBackendOptions{});
    EXPECT_OK(b);
    if (!b.ok()) return nullptr;
    return std::make_unique<SinkSubtask>(out_dir, snapshot_dir, subtask,
                                         parallelism, std::move(*b));
  }

  // A restore: a backend holding the state of `snapshots` (their operator
  // lists concatenated, as the union redistribution gives them).
  static std::unique_ptr<SinkSubtask> Restored(
      const std::string& out_dir, const std::string& snapshot_dir, int subtask,
      int parallelism, const std::vector<BackendSnapshot>& snapshots) {
    Result<std::unique_ptr<KeyedStateBackend>> b =
        RestoreMemoryBackend(StateBackendOptions{}, snapshots);
    EXPECT_OK(b);
    if (!b.ok()) return nullptr;
    return std::make_unique<SinkSubtask>(out_dir, snapshot_dir, subtask,
                                         parallelism, std::move(*b));
  }

  Status Open() {
    sink_ = std::make_unique<FileSink<std::string>>(
        out_dir_, [](const std::string& s) { return s; }, ".txt");
    return sink_->Open(ctx_);
  }
  Status Write(const std::string& record) {
    return sink_->Invoke(record, kNoTimestamp);
  }
  Status WriteRange(int64_t from, int64_t to) {
    for (int64_t i = from; i < to; ++i) {
      Status s = Write(Record(ctx_.subtask(), i));
      if (!s.ok()) return s;
    }
    return Status::OK();
  }
  // The synchronous phase (the sink's SnapshotState, then the backend's
  // cut) and the asynchronous phase of checkpoint `id`, as a task runs
  // them.
  Result<BackendSnapshot> Checkpoint(int64_t id) {
    Status s = sink_->SnapshotState(ctx_, id);
    if (!s.ok()) return s;
    const std::string local =
        snapshot_dir_ + "/s" + std::to_string(ctx_.subtask()) + "-chk" +
        std::to_string(id) + "-" + std::to_string(++snapshots_taken_);
    Result<std::unique_ptr<PendingSnapshot>> pending =
        backend_->Snapshot(id, local);
    if (!pending.ok()) return pending.status();
    return (*pending)->Complete();
  }
  Status Notify(int64_t id) { return sink_->NotifyCheckpointComplete(id); }
  Status Finish() { return sink_->Finish(); }
  Status Close() { return sink_->Close(); }
  // A killed process: the sink is gone without Close() or Finish().
  void Crash() { sink_.reset(); }

  FileSink<std::string>& sink() { return *sink_; }

 private:
  std::string out_dir_;
  std::string snapshot_dir_;
  std::unique_ptr<KeyedStateBackend> backend_;
  SinkContext ctx_;
  std::unique_ptr<FileSink<std::string>> sink_;
  int snapshots_taken_ = 0;
};

class TwoPhaseFileSinkTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_.Create();
    out_ = dir_.Sub("out");
    snapshots_ = dir_.Sub("snapshots");
  }

  std::unique_ptr<SinkSubtask> Fresh(int subtask = 0, int parallelism = 1) {
    auto t = SinkSubtask::Fresh(out_, snapshots_, subtask, parallelism);
    if (t != nullptr) {
      EXPECT_OK(t->Open());
    }
    return t;
  }
  std::unique_ptr<SinkSubtask> Restore(
      const std::vector<BackendSnapshot>& snapshots, int subtask = 0,
      int parallelism = 1) {
    auto t = SinkSubtask::Restored(out_, snapshots_, subtask, parallelism,
                                   snapshots);
    if (t != nullptr) {
      EXPECT_OK(t->Open());
    }
    return t;
  }

  testutil::TestDir dir_;
  std::string out_;
  std::string snapshots_;
};

// ---------------------------------------------------------------- names

TEST(PartFileNames, ParsesHiddenNamesOfOneSuffixOnly) {
  using internal::ParseHiddenPartName;
  auto p = ParseHiddenPartName(".part-3-17.txt.pending", ".txt");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->subtask, 3);
  EXPECT_EQ(p->counter, 17);
  EXPECT_TRUE(p->pending);
  p = ParseHiddenPartName(".part-0-2.inprogress", "");
  ASSERT_TRUE(p.has_value());
  EXPECT_FALSE(p->pending);
  // A suffix that starts with a digit is not part of the counter.
  p = ParseHiddenPartName(".part-1-51.txt.inprogress", "1.txt");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->counter, 5);
  EXPECT_FALSE(ParseHiddenPartName(".part-1-5.csv.pending", ".txt"));
  EXPECT_FALSE(ParseHiddenPartName(".part-1-5.txt.pending", ""));
  EXPECT_FALSE(ParseHiddenPartName("part-1-5.txt", ".txt"));
  EXPECT_FALSE(ParseHiddenPartName(".part-1.txt.pending", ".txt"));
  EXPECT_FALSE(ParseHiddenPartName(".part-a-5.txt.pending", ".txt"));
  EXPECT_FALSE(ParseHiddenPartName(".part--5.txt.pending", ".txt"));
  EXPECT_FALSE(ParseHiddenPartName(".other-1-5.txt.pending", ".txt"));
}

// ---------------------------------------------------------------- commit

TEST_F(TwoPhaseFileSinkTest, CommitsOnlyTheRecordsBeforeTheBarrier) {
  auto t = Fresh();
  ASSERT_OK(t->WriteRange(0, 3));
  ASSERT_OK(t->Checkpoint(1));
  EXPECT_THAT(ListDir(out_), ElementsAre(".part-0-0.txt.pending"));
  ASSERT_OK(t->WriteRange(3, 5));
  EXPECT_THAT(Committed(out_), IsEmpty());

  ASSERT_OK(t->Notify(1));
  EXPECT_THAT(ListDir(out_),
              ElementsAre(".part-0-1.txt.inprogress", "part-0-0.txt"));
  EXPECT_EQ(ReadAll(out_ + "/part-0-0.txt"), Lines(0, 0, 3));
  EXPECT_THAT(t->sink().committed_paths(), ElementsAre(out_ + "/part-0-0.txt"));

  // A checkpoint without new records stages nothing.
  ASSERT_OK(t->Checkpoint(2));
  ASSERT_OK(t->Checkpoint(3));
  ASSERT_OK(t->Notify(3));
  EXPECT_THAT(ListDir(out_), ElementsAre("part-0-0.txt", "part-0-1.txt"));
  EXPECT_EQ(ReadAll(out_ + "/part-0-1.txt"), Lines(0, 3, 5));
  ASSERT_OK(t->Finish());
  ASSERT_OK(t->Close());
  EXPECT_THAT(ListDir(out_), ElementsAre("part-0-0.txt", "part-0-1.txt"));
}

TEST_F(TwoPhaseFileSinkTest, WithoutCheckpointsOneFileAtTheEnd) {
  auto t = Fresh();
  ASSERT_OK(t->WriteRange(0, 100));
  EXPECT_THAT(ListDir(out_), ElementsAre(".part-0-0.txt.inprogress"));
  ASSERT_OK(t->Finish());
  ASSERT_OK(t->Close());
  EXPECT_THAT(ListDir(out_), ElementsAre("part-0-0.txt"));
  EXPECT_EQ(ReadAll(out_ + "/part-0-0.txt"), Lines(0, 0, 100));
  EXPECT_THAT(t->WriteRange(100, 101),
              StatusIs(Status::Code::kInvalidArgument));
}

TEST_F(TwoPhaseFileSinkTest, AbortedCheckpointIsCommittedByALaterOne) {
  auto t = Fresh();
  ASSERT_OK(t->WriteRange(0, 2));
  ASSERT_OK(t->Checkpoint(3));  // aborted: never notified
  ASSERT_OK(t->WriteRange(2, 4));
  ASSERT_OK(t->Checkpoint(4));
  ASSERT_OK(t->WriteRange(4, 5));
  EXPECT_THAT(Committed(out_), IsEmpty());
  EXPECT_EQ(t->sink().committed_paths().size(), 0u);
  ASSERT_OK(t->Notify(4));
  EXPECT_THAT(ListDir(out_), ElementsAre(".part-0-2.txt.inprogress",
                                         "part-0-0.txt", "part-0-1.txt"));
  EXPECT_EQ(CommittedOutput(out_, 0), Lines(0, 0, 4));
  // A late or repeated notification commits nothing more.
  ASSERT_OK(t->Notify(3));
  ASSERT_OK(t->Notify(4));
  EXPECT_EQ(CommittedOutput(out_, 0), Lines(0, 0, 4));
}

TEST_F(TwoPhaseFileSinkTest, FinishCommitsStagedAndInProgressFiles) {
  auto t = Fresh();
  ASSERT_OK(t->WriteRange(0, 2));
  ASSERT_OK(t->Checkpoint(1));
  ASSERT_OK(t->WriteRange(2, 3));
  ASSERT_OK(t->Checkpoint(2));
  ASSERT_OK(t->WriteRange(3, 6));
  ASSERT_OK(t->Finish());
  ASSERT_OK(t->Close());
  EXPECT_THAT(ListDir(out_),
              ElementsAre("part-0-0.txt", "part-0-1.txt", "part-0-2.txt"));
  EXPECT_EQ(CommittedOutput(out_, 0), Lines(0, 0, 6));
  EXPECT_EQ(t->sink().committed_paths().size(), 3u);
}

// Records beyond the 64 KiB buffer reach the in-progress file before the
// checkpoint; none of them is visible before it completes.
TEST_F(TwoPhaseFileSinkTest, LargeFilesStayHiddenUntilCommitted) {
  auto t = Fresh();
  ASSERT_OK(t->WriteRange(0, 20000));
  EXPECT_GT(std::filesystem::file_size(out_ + "/.part-0-0.txt.inprogress"), 0u);
  ASSERT_OK(t->Checkpoint(1));
  ASSERT_OK(t->WriteRange(20000, 30000));
  EXPECT_THAT(Committed(out_), IsEmpty());
  ASSERT_OK(t->Notify(1));
  EXPECT_EQ(CommittedOutput(out_, 0), Lines(0, 0, 20000));
}

// ---------------------------------------------------------------- restore

TEST_F(TwoPhaseFileSinkTest, RestorePublishesTheCheckpointAndDropsTheRest) {
  BackendSnapshot chk2;
  {
    auto t = Fresh();
    ASSERT_OK(t->WriteRange(0, 3));
    ASSERT_OK(t->Checkpoint(1));
    ASSERT_OK(t->Notify(1));
    ASSERT_OK(t->WriteRange(3, 5));
    ASSERT_OK_AND_ASSIGN(chk2, t->Checkpoint(2));
    ASSERT_OK(t->WriteRange(5, 20000));  // past the buffer
    t->Crash();                          // before checkpoint 2 is notified
  }
  EXPECT_THAT(ListDir(out_),
              ElementsAre(".part-0-1.txt.pending", ".part-0-2.txt.inprogress",
                          "part-0-0.txt"));

  auto t = Restore({chk2});
  EXPECT_THAT(ListDir(out_), ElementsAre("part-0-0.txt", "part-0-1.txt"));
  EXPECT_EQ(CommittedOutput(out_, 0), Lines(0, 0, 5));
  EXPECT_THAT(t->sink().committed_paths(), ElementsAre(out_ + "/part-0-1.txt"));

  // The restored source replays from the checkpoint's offset.
  ASSERT_OK(t->WriteRange(5, 20000));
  ASSERT_OK(t->Checkpoint(3));
  ASSERT_OK(t->Notify(3));
  ASSERT_OK(t->WriteRange(20000, 20010));
  ASSERT_OK(t->Finish());
  EXPECT_THAT(ListDir(out_), ElementsAre("part-0-0.txt", "part-0-1.txt",
                                         "part-0-2.txt", "part-0-3.txt"));
  EXPECT_EQ(CommittedOutput(out_, 0), Lines(0, 0, 20010));
}

// Killed after checkpoint 2 was committed (or while committing it): the
// restore publishes nothing twice.
TEST_F(TwoPhaseFileSinkTest, RestoreAfterCommitIsIdempotent) {
  BackendSnapshot chk2;
  {
    auto t = Fresh();
    ASSERT_OK(t->WriteRange(0, 2));
    ASSERT_OK(t->Checkpoint(1));
    ASSERT_OK(t->WriteRange(2, 4));
    ASSERT_OK_AND_ASSIGN(chk2, t->Checkpoint(2));
    // Killed in the middle of Notify(2): the file of checkpoint 1 is
    // published, that of checkpoint 2 not yet.
    std::filesystem::rename(out_ + "/.part-0-0.txt.pending",
                            out_ + "/part-0-0.txt");
    t->Crash();
  }
  {
    auto t = Restore({chk2});
    EXPECT_THAT(ListDir(out_), ElementsAre("part-0-0.txt", "part-0-1.txt"));
    EXPECT_THAT(t->sink().committed_paths(),
                ElementsAre(out_ + "/part-0-1.txt"));
    ASSERT_OK(t->WriteRange(4, 6));
    t->Crash();  // before any checkpoint of this run
  }
  // Restored from the same checkpoint again: everything is published.
  auto t = Restore({chk2});
  EXPECT_THAT(t->sink().committed_paths(), IsEmpty());
  ASSERT_OK(t->WriteRange(4, 6));
  ASSERT_OK(t->Finish());
  EXPECT_THAT(ListDir(out_),
              ElementsAre("part-0-0.txt", "part-0-1.txt", "part-0-2.txt"));
  EXPECT_EQ(CommittedOutput(out_, 0), Lines(0, 0, 6));
}

// Checkpoint 3 was staged but never completed; the job goes back to 2.
TEST_F(TwoPhaseFileSinkTest, RestoreDropsFilesOfLaterCheckpoints) {
  BackendSnapshot chk2;
  {
    auto t = Fresh();
    ASSERT_OK(t->WriteRange(0, 2));
    ASSERT_OK_AND_ASSIGN(chk2, t->Checkpoint(2));
    ASSERT_OK(t->WriteRange(2, 4));
    ASSERT_OK(t->Checkpoint(3));
    ASSERT_OK(t->WriteRange(4, 5));
    t->Crash();
  }
  EXPECT_THAT(ListDir(out_),
              ElementsAre(".part-0-0.txt.pending", ".part-0-1.txt.pending",
                          ".part-0-2.txt.inprogress"));
  auto t = Restore({chk2});
  EXPECT_THAT(ListDir(out_), ElementsAre("part-0-0.txt"));
  ASSERT_OK(t->WriteRange(2, 5));
  ASSERT_OK(t->Finish());
  EXPECT_THAT(ListDir(out_), ElementsAre("part-0-0.txt", "part-0-1.txt"));
  EXPECT_EQ(CommittedOutput(out_, 0), Lines(0, 0, 5));
}

// Hidden files a snapshot does not name are removed only by a restore; a
// fresh start leaves them (and the files of other sinks) alone.
TEST_F(TwoPhaseFileSinkTest, OnlyARestoreRemovesHiddenFilesItDoesNotName) {
  ASSERT_TRUE(std::filesystem::create_directories(out_));
  for (const char* name :
       {".part-0-0.txt.inprogress", ".part-0-1.txt.pending", "notes",
        ".part-0-7.csv.pending", ".part-0-8.txt.tmp"}) {
    std::ofstream(out_ + "/" + name) << "old\n";
  }
  BackendSnapshot chk1;
  {
    auto t = Fresh();
    ASSERT_OK(t->WriteRange(0, 2));
    ASSERT_OK_AND_ASSIGN(chk1, t->Checkpoint(1));
    t->Crash();
  }
  EXPECT_THAT(ListDir(out_),
              ElementsAre(".part-0-0.txt.inprogress", ".part-0-1.txt.pending",
                          ".part-0-2.txt.pending", ".part-0-7.csv.pending",
                          ".part-0-8.txt.tmp", "notes"));
  auto t = Restore({chk1});
  EXPECT_THAT(ListDir(out_),
              ElementsAre(".part-0-7.csv.pending", ".part-0-8.txt.tmp", "notes",
                          "part-0-2.txt"));
  EXPECT_EQ(ReadAll(out_ + "/part-0-2.txt"), Lines(0, 0, 2));
}

// Each subtask writes its entry into the state; restored at 2 and at 4
// subtasks, subtask i publishes and cleans up after old subtasks j with
// j % parallelism == i.
TEST_F(TwoPhaseFileSinkTest, RestoresAtAnotherParallelism) {
  std::vector<BackendSnapshot> chk1;
  {
    std::vector<std::unique_ptr<SinkSubtask>> run;
    for (int s = 0; s < 3; ++s) run.push_back(Fresh(s, 3));
    for (int s = 0; s < 3; ++s) {
      ASSERT_OK(run[s]->WriteRange(0, 10 * (s + 1)));
      ASSERT_OK_AND_ASSIGN(BackendSnapshot snap, run[s]->Checkpoint(1));
      chk1.push_back(std::move(snap));
      ASSERT_OK(run[s]->WriteRange(10 * (s + 1), 100));
      run[s]->Crash();
    }
  }
  std::vector<std::string> expected;
  for (int s = 0; s < 3; ++s) {
    for (int64_t i = 0; i < 10 * (s + 1); ++i) expected.push_back(Record(s, i));
  }

  // Down to 2: subtask 0 takes old 0 and 2, subtask 1 takes old 1.
  std::vector<BackendSnapshot> chk2;
  {
    auto first = Restore(chk1, 0, 2);
    EXPECT_THAT(ListDir(out_),
                ElementsAre(".part-1-0.txt.pending", ".part-1-1.txt.inprogress",
                            "part-0-0.txt", "part-2-0.txt"));
    auto second = Restore(chk1, 1, 2);
    EXPECT_THAT(ListDir(out_),
                ElementsAre("part-0-0.txt", "part-1-0.txt", "part-2-0.txt"));
    std::vector<std::string> sorted = expected;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(CommittedLines(out_), sorted);

    // The new subtasks write, checkpoint, and die before the commit.
    ASSERT_OK(first->Write("new-0"));
    ASSERT_OK(second->Write("new-1"));
    ASSERT_OK_AND_ASSIGN(BackendSnapshot a, first->Checkpoint(2));
    ASSERT_OK_AND_ASSIGN(BackendSnapshot b, second->Checkpoint(2));
    chk2 = {a, b};
    ASSERT_OK(first->Write("lost-0"));
    first->Crash();
    second->Crash();
  }
  EXPECT_THAT(Hidden(out_),
              ElementsAre(".part-0-1.txt.pending", ".part-0-2.txt.inprogress",
                          ".part-1-1.txt.pending"));

  // Up to 4: the entries of 2 subtasks go to subtasks 0 and 1; 2 and 3
  // have nothing to do but start their own counters.
  std::vector<std::unique_ptr<SinkSubtask>> run;
  for (int s = 0; s < 4; ++s) run.push_back(Restore(chk2, s, 4));
  EXPECT_THAT(Hidden(out_), IsEmpty());
  expected.push_back("new-0");
  expected.push_back("new-1");
  for (int s = 0; s < 4; ++s) {
    ASSERT_OK(run[s]->Write("after-" + std::to_string(s)));
    ASSERT_OK(run[s]->Finish());
    expected.push_back("after-" + std::to_string(s));
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(CommittedLines(out_), expected);
  EXPECT_THAT(Committed(out_),
              ElementsAre("part-0-0.txt", "part-0-1.txt", "part-0-2.txt",
                          "part-1-0.txt", "part-1-1.txt", "part-1-2.txt",
                          "part-2-0.txt", "part-2-1.txt", "part-3-0.txt"));
}

// A state split among subtasks (instead of given whole to each) cannot
// tell files written after the snapshot from another subtask's: refused.
TEST_F(TwoPhaseFileSinkTest, RefusesAStateNotGivenWhole) {
  std::vector<BackendSnapshot> chk1;
  for (int s = 0; s < 2; ++s) {
    auto t = Fresh(s, 2);
    ASSERT_OK(t->WriteRange(0, 1));
    ASSERT_OK_AND_ASSIGN(BackendSnapshot snap, t->Checkpoint(1));
    chk1.push_back(std::move(snap));
    t->Crash();
  }
  auto t = SinkSubtask::Restored(out_, snapshots_, 0, 2, {chk1[0]});
  ASSERT_NE(t, nullptr);
  EXPECT_THAT(t->Open(), StatusIs(Status::Code::kInvalidArgument,
                                  HasSubstr("1 of its 2 subtasks")));
  EXPECT_THAT(Hidden(out_),
              ElementsAre(".part-0-0.txt.pending", ".part-1-0.txt.pending"));
}

// A restore from an old snapshot whose files were published and then
// moved away by a reader has nothing left to commit: not an error.
TEST_F(TwoPhaseFileSinkTest, RestoreToleratesConsumedOutput) {
  BackendSnapshot chk1;
  {
    auto t = Fresh();
    ASSERT_OK(t->WriteRange(0, 2));
    ASSERT_OK_AND_ASSIGN(chk1, t->Checkpoint(1));
    ASSERT_OK(t->Notify(1));
    ASSERT_OK(t->Close());
  }
  std::filesystem::remove(out_ + "/part-0-0.txt");
  auto t = Restore({chk1});
  EXPECT_THAT(ListDir(out_), IsEmpty());
  // But a staged file that vanishes under a running sink is an error.
  ASSERT_OK(t->WriteRange(2, 3));
  ASSERT_OK(t->Checkpoint(2));
  std::filesystem::remove(out_ + "/.part-0-1.txt.pending");
  EXPECT_THAT(t->Notify(2),
              StatusIs(Status::Code::kIOError, HasSubstr("missing")));
}

// ---------------------------------------------------------------- kills

// A job of `parallelism` sink subtasks, each writing records 0..records-1,
// with checkpoints that complete, abort, or complete with one notification
// standing for two. Run() executes one attempt from the latest completed
// checkpoint, killed before a given step.
class KillSimulation {
 public:
  KillSimulation(std::string root, int parallelism, int records)
      : out_(root + "/out"),
        snapshots_(std::move(root) + "/snapshots"),
        parallelism_(parallelism),
        records_(records) {}

  // Runs an attempt; kill_at < 0 runs it to its end (Finish). Returns the
  // number of steps at which it can be killed. With a fault expected, the
  // first step that fails kills the attempt there, as a task failure
  // would.
  int Run(int kill_at) {
    std::vector<std::unique_ptr<SinkSubtask>> subtasks;
    std::vector<int64_t> offset(parallelism_, 0);
    const Checkpoint* restored = LatestComplete();
    for (int s = 0; s < parallelism_; ++s) {
      subtasks.push_back(
          restored == nullptr
              ? SinkSubtask::Fresh(out_, snapshots_, s, parallelism_)
              : SinkSubtask::Restored(out_, snapshots_, s, parallelism_,
                                      restored->snapshots));
      EXPECT_NE(subtasks.back(), nullptr);
      if (subtasks.back() == nullptr) return 0;
      EXPECT_OK(subtasks.back()->Open());
      if (restored != nullptr) offset[s] = restored->offsets[s];
    }
    last_run_restored_ = restored != nullptr;

    const std::vector<Step> steps = Schedule(offset);
    const int killable = static_cast<int>(steps.size()) - parallelism_;
    for (int k = 0; k < static_cast<int>(steps.size()); ++k) {
      if (k == kill_at) {
        for (auto& t : subtasks) t->Crash();
        return killable;
      }
      const Step& step = steps[k];
      SinkSubtask* t =
          step.subtask >= 0 ? subtasks[step.subtask].get() : nullptr;
      Status s;
      switch (step.op) {
        case Op::kWrite:
          s = t->Write(Record(step.subtask, offset[step.subtask]++));
          break;
        case Op::kSnapshot: {
          Result<BackendSnapshot> snap = t->Checkpoint(step.id);
          s = snap.status();
          if (!snap.ok()) break;
          Checkpoint& c = checkpoints_[step.id];
          c.snapshots.resize(parallelism_);
          c.offsets.resize(parallelism_);
          c.snapshots[step.subtask] = std::move(*snap);
          c.offsets[step.subtask] = offset[step.subtask];
          break;
        }
        case Op::kComplete:
          checkpoints_[step.id].complete = true;
          break;
        case Op::kNotify:
          s = t->Notify(step.id);
          break;
        case Op::kFinish:
          s = t->Finish();
          if (s.ok()) s = t->Close();
          break;
      }
      if (!s.ok() && fault_expected_) {
        for (auto& sub : subtasks) sub->Crash();
        return killable;
      }
      EXPECT_OK(s);
      if (!s.ok()) return killable;
    }
    return killable;
  }

  // Whether a step may fail (a FaultEnv is installed).
  void set_fault_expected(bool expected) { fault_expected_ = expected; }

  void ExpectOutputOfAFailureFreeRun() const {
    for (int s = 0; s < parallelism_; ++s) {
      EXPECT_EQ(CommittedOutput(out_, s), Lines(s, 0, records_))
          << "subtask " << s;
    }
    // A restore removes every hidden file; a fresh start after a kill
    // before the first completed checkpoint leaves the killed run's files.
    if (last_run_restored_) {
      EXPECT_THAT(Hidden(out_), IsEmpty());
    }
  }

 private:
  enum class Op { kWrite, kSnapshot, kComplete, kNotify, kFinish };
  struct Step {
    Op op;
    int subtask = -1;
    int64_t id = 0;
  };
  struct Checkpoint {
    std::vector<BackendSnapshot> snapshots;
    std::vector<int64_t> offsets;
    bool complete = false;
  };

  const Checkpoint* LatestComplete() const {
    for (auto it = checkpoints_.rbegin(); it != checkpoints_.rend(); ++it) {
      if (it->second.complete) return &it->second;
    }
    return nullptr;
  }

  // Two records per subtask, then a checkpoint, cycling through: completed
  // and notified; aborted; completed but notified only with the next one;
  // completed and notified after the next one was taken; completed and
  // notified. The last steps finish every subtask.
  std::vector<Step> Schedule(std::vector<int64_t> offset) {
    std::vector<Step> steps;
    std::vector<Step> after_next_snapshot;
    auto some_left = [&] {
      for (int64_t o : offset) {
        if (o < records_) return true;
      }
      return false;
    };
    auto notify_all = [&](std::vector<Step>* out, int64_t id) {
      for (int s = 0; s < parallelism_; ++s) {
        out->push_back({Op::kNotify, s, id});
      }
    };
    for (int round = 0; some_left(); ++round) {
      for (int rep = 0; rep < 2; ++rep) {
        for (int s = 0; s < parallelism_; ++s) {
          if (offset[s] < records_) {
            steps.push_back({Op::kWrite, s, 0});
            ++offset[s];
          }
        }
      }
      const int64_t id = next_id_++;
      for (int s = 0; s < parallelism_; ++s) {
        steps.push_back({Op::kSnapshot, s, id});
      }
      steps.insert(steps.end(), after_next_snapshot.begin(),
                   after_next_snapshot.end());
      after_next_snapshot.clear();
      switch (round % 5) {
        case 1:  // aborted
          break;
        case 2:  // notified with the next one
          steps.push_back({Op::kComplete, -1, id});
          break;
        case 3:
          steps.push_back({Op::kComplete, -1, id});
          notify_all(&after_next_snapshot, id);
          break;
        default:
          steps.push_back({Op::kComplete, -1, id});
          notify_all(&steps, id);
          break;
      }
    }
    steps.insert(steps.end(), after_next_snapshot.begin(),
                 after_next_snapshot.end());
    for (int s = 0; s < parallelism_; ++s) {
      steps.push_back({Op::kFinish, s, 0});
    }
    return steps;
  }

  std::string out_;
  std::string snapshots_;
  int parallelism_;
  int records_;
  int64_t next_id_ = 1;
  std::map<int64_t, Checkpoint> checkpoints_;
  bool last_run_restored_ = false;
  bool fault_expected_ = false;
};

// Kills the first run before each of its steps, and the recovery run
// before each of its steps (every one if `every_second_kill`, else one per
// first kill), and compares the committed output after a last, undisturbed
// run with a failure-free run's. Returns the number of runs simulated.
int KillEverywhere(const testutil::TestDir& dir, bool every_second_kill) {
  constexpr int kParallelism = 2;
  constexpr int kRecords = 11;
  int first_kills = 0;
  {
    KillSimulation reference(dir.Sub("reference"), kParallelism, kRecords);
    first_kills = reference.Run(-1);
    reference.ExpectOutputOfAFailureFreeRun();
  }
  EXPECT_GT(first_kills, 20);
  int runs = 0;
  for (int k1 = 0; k1 <= first_kills; ++k1) {
    const std::string root = dir.Sub("k" + std::to_string(k1));
    int second_kills = 0;
    {
      SCOPED_TRACE("killed at step " + std::to_string(k1));
      KillSimulation once(root, kParallelism, kRecords);
      EXPECT_EQ(once.Run(k1), first_kills);
      second_kills = once.Run(-1);
      once.ExpectOutputOfAFailureFreeRun();
      ++runs;
    }
    for (int k2 = 0; k2 <= second_kills; ++k2) {
      if (!every_second_kill && k2 != (k1 * 7) % (second_kills + 1)) continue;
      SCOPED_TRACE("killed at step " + std::to_string(k1) + ", then " +
                   std::to_string(k2));
      KillSimulation twice(root + "-" + std::to_string(k2), kParallelism,
                           kRecords);
      twice.Run(k1);
      twice.Run(k2);
      twice.Run(-1);
      twice.ExpectOutputOfAFailureFreeRun();
      ++runs;
    }
    if (testing::Test::HasFailure()) break;
  }
  return runs;
}

TEST_F(TwoPhaseFileSinkTest, KilledAtAnyStepTheOutputIsThatOfAFailureFreeRun) {
  EXPECT_GT(KillEverywhere(dir_, false), 40);
}

// A failed create, write, fsync, rename or directory fsync of the sink
// (through a FaultEnv, at every call of a run in turn) fails the attempt
// there; the next attempt, from the latest completed checkpoint, commits
// the output of a failure-free run.
TEST_F(TwoPhaseFileSinkTest, AFailedFileCallAtAnyPointLosesAndRepeatsNothing) {
  int rounds = 0;
  for (int n = 1; n < 500; ++n, ++rounds) {
    SCOPED_TRACE("call " + std::to_string(n) + " fails");
    KillSimulation sim(dir_.Sub("f" + std::to_string(n)), 2, 11);
    testutil::FaultEnv env;
    bool triggered = false;
    {
      testutil::ScopedDefaultEnv installed(&env);
      env.FailNth(n, n % 2 ? EIO : ENOSPC);
      sim.set_fault_expected(true);
      sim.Run(-1);
      triggered = env.triggered();
    }
    sim.set_fault_expected(false);
    sim.Run(-1);
    sim.ExpectOutputOfAFailureFreeRun();
    if (!triggered || HasFailure()) break;
  }
  EXPECT_GT(rounds, 20);
}

// The power goes after every call of a run in turn: what was not fsynced
// is lost (a rename not yet made durable by its directory's fsync is
// undone). The next attempt, from the latest completed checkpoint, commits
// the output of a failure-free run: a checkpoint completes only after its
// part files were made durable under their pending names.
TEST_F(TwoPhaseFileSinkTest, APowerCutAtAnyPointLosesAndRepeatsNothing) {
  int rounds = 0;
  for (int n = 0; n < 500; ++n, ++rounds) {
    SCOPED_TRACE("power cut after call " + std::to_string(n));
    KillSimulation sim(dir_.Sub("p" + std::to_string(n)), 2, 11);
    testutil::FaultEnv env;
    bool triggered = false;
    {
      testutil::ScopedDefaultEnv installed(&env);
      env.CutPowerAfter(n);
      sim.set_fault_expected(true);
      sim.Run(-1);
      triggered = env.triggered();
      env.ApplyPowerCut();
    }
    sim.set_fault_expected(false);
    sim.Run(-1);
    sim.ExpectOutputOfAFailureFreeRun();
    if (!triggered || HasFailure()) break;
  }
  EXPECT_GT(rounds, 20);
}

// Suite `slow` (about 1000 runs, a minute of fsyncs).
TEST_F(TwoPhaseFileSinkTest,
       KilledTwiceAtAnyStepsTheOutputIsThatOfAFailureFreeRun) {
  EXPECT_GT(KillEverywhere(dir_, true), 500);
}

}  // namespace
}  // namespace weir
