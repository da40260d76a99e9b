// SPDX-License-Identifier: Apache-2.0
//
// The job that checkpoint and savepoint tests run: a gated source of
// records 0..total-1 (key "k<i % 31>", its offset in operator state), a
// map that tests can block or fail, and a keyed count per key.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/engine/core/test_functions.h"
#include "weir/sinks.h"

namespace weir::enginetest {

using namespace std::chrono_literals;

inline constexpr int kKeys = 31;

// Emits records 0..total-1 (key "k<i % 31>"), but never beyond the shared
// gate: the test opens it step by step. Its offset is operator state,
// restored in Open().
struct Gate {
  std::atomic<int64_t> open{0};
};

class GatedSource final : public SourceFunction<Event> {
 public:
  GatedSource(int64_t total, std::shared_ptr<Gate> gate)
      : total_(total), gate_(std::move(gate)) {}
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
    const int64_t limit = std::min(total_, gate_->open.load());
    for (int i = 0; i < std::min(max, 16) && next_ < limit; ++i, ++next_) {
      out.Collect(Event{"k" + std::to_string(next_ % kKeys), 1, next_});
    }
    if (next_ >= total_) return SourceStatus::End();
    if (next_ >= limit) return SourceStatus::WaitingMicros(200);
    return SourceStatus::More();
  }
  Status SnapshotState(OperatorContext& ctx) override {
    auto state =
        GetOperatorListState<int64_t>(ctx.state(), ctx.operator_id(), "offset");
    if (!state.ok()) return state.status();
    return state->Update({next_});
  }

 private:
  int64_t total_;
  std::shared_ptr<Gate> gate_;
  int64_t next_ = 0;
};

// Counts per key in keyed state and emits (key, count).
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

// Test hooks into the running job's functions.
struct Hooks {
  std::atomic<int64_t> fail_at{-1};         // fail once at this record
  std::atomic<int64_t> always_fail_at{-1};  // fail each time at this one
  std::atomic<bool> block{false};           // the map waits while set
  std::atomic<bool> blocked{false};         // the map is waiting now
};

struct Harness {
  std::shared_ptr<Gate> gate = std::make_shared<Gate>();
  std::shared_ptr<Collected<Event>> out = std::make_shared<Collected<Event>>();
  std::shared_ptr<Hooks> hooks = std::make_shared<Hooks>();
};

// `count_uid` names the keyed count (another uid: another operator);
// `parallelism` is the count's and the sink's.
inline JobBuilder CountJob(const Harness& run, int64_t total,
                           const std::string& count_uid = "count",
                           int parallelism = 2) {
  JobBuilder b("counts");
  b.SetParallelism(parallelism);
  auto gate = run.gate;
  auto hooks = run.hooks;
  b.AddSource<Event>(
       [gate, total] {
         return std::unique_ptr<SourceFunction<Event>>(
             std::make_unique<GatedSource>(total, gate));
       },
       "source")
      .Uid("source")
      .SetParallelism(1)
      .Map([hooks](const Event& e) -> Result<Event> {
        while (hooks->block.load()) {
          hooks->blocked.store(true);
          std::this_thread::sleep_for(1ms);
        }
        hooks->blocked.store(false);
        if (e.time == hooks->always_fail_at.load()) {
          return Status::IOError("injected failure at record " +
                                 std::to_string(e.time));
        }
        int64_t at = hooks->fail_at.load();
        if (at >= 0 && e.time == at &&
            hooks->fail_at.compare_exchange_strong(at, -1)) {
          return Status::IOError("injected failure at record " +
                                 std::to_string(at));
        }
        return e;
      })
      .Uid("check")
      .SetParallelism(1)
      .KeyBy([](const Event& e) { return e.key; })
      .Process<Event>([] { return std::make_unique<CountPerKey>(); })
      .Uid(count_uid)
      .SinkTo(CollectInto(run.out));
  return b;
}

// The gated source, a keyed count, and the two-phase file sink into
// `out_dir` ("key,count" lines), at parallelism 2 (the source at 1).
inline JobBuilder CountToFilesJob(const Harness& h, int64_t total,
                                  const std::string& out_dir) {
  JobBuilder b("counts");
  b.SetParallelism(2);
  auto gate = h.gate;
  b.AddSource<Event>(
       [gate, total] {
         return std::unique_ptr<SourceFunction<Event>>(
             std::make_unique<GatedSource>(total, gate));
       },
       "source")
      .Uid("source")
      .SetParallelism(1)
      .KeyBy([](const Event& e) { return e.key; })
      .Process<Event>([] { return std::make_unique<CountPerKey>(); })
      .Uid("count")
      .SinkTo(FileSink<Event>::Factory(
          out_dir,
          [](const Event& e) { return e.key + "," + std::to_string(e.value); }))
      .Uid("files");
  return b;
}

inline std::set<std::string> ListDir(const std::string& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    names.insert(it->path().filename().string());
  }
  return names;
}

// The lines of the published (not staged, not in-progress) files of a file
// sink's directory.
inline std::multiset<std::string> PublishedLines(const std::string& dir) {
  std::multiset<std::string> lines;
  for (const std::string& name : ListDir(dir)) {
    if (name.starts_with(".")) continue;  // staged or in progress
    std::ifstream in(dir + "/" + name);
    for (std::string line; std::getline(in, line);) lines.insert(line);
  }
  return lines;
}

// The final count per key: the largest count emitted for it.
inline std::map<std::string, int64_t> FinalCounts(
    const std::vector<Event>& out) {
  std::map<std::string, int64_t> m;
  for (const Event& e : out) m[e.key] = std::max(m[e.key], e.value);
  return m;
}

inline std::map<std::string, int64_t> ExpectedCounts(int64_t total) {
  std::map<std::string, int64_t> m;
  for (int64_t i = 0; i < total; ++i) ++m["k" + std::to_string(i % kKeys)];
  return m;
}

inline void OpenGateAndWait(const Harness& run, int64_t n) {
  run.gate->open.store(n);
  ASSERT_TRUE(run.out->WaitForSize(static_cast<size_t>(n), 30s));
}

// Runs CountJob(run, total) to record `at` and takes a savepoint with `sp`;
// returns its stats and leaves the job, still running unless `sp` says
// otherwise, in *job.
inline CheckpointStats RunCountJobToSavepoint(Harness& run,
                                              const JobOptions& options,
                                              int64_t total, int64_t at,
                                              const SavepointOptions& sp,
                                              std::unique_ptr<Job>* job) {
  auto built = CountJob(run, total).Build(options);
  EXPECT_TRUE(built.ok()) << built.status().ToString();
  if (!built.ok()) return {};
  *job = std::move(*built);
  Status started = (*job)->Start();
  EXPECT_TRUE(started.ok()) << started.ToString();
  OpenGateAndWait(run, at);
  Result<int64_t> id = (*job)->TriggerSavepoint(sp);
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  if (!id.ok()) return {};
  Result<CheckpointStats> stats = (*job)->WaitForCheckpoint(*id, 60s);
  EXPECT_TRUE(stats.ok()) << stats.status().ToString();
  return stats.ok() ? *stats : CheckpointStats{};
}

}  // namespace weir::enginetest
