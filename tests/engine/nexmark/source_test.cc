// SPDX-License-Identifier: Apache-2.0
//
// The Nexmark source in jobs: at any parallelism it emits the events of
// event numbers 0 .. count-1, each once; checkpointed at one parallelism
// and restored at another, it goes on with exactly the events not emitted
// before the cut.
#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"
#include "weir/clock.h"
#include "weir/nexmark.h"
#include "weir/stream.h"

namespace weir::nexmark {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Every field of an event, as one string to sort and compare.
std::string Fingerprint(const Event& e) {
  std::string s = std::to_string(static_cast<int>(e.type())) + "|" +
                  std::to_string(e.timestamp()) + "|";
  if (const Person* p = e.person()) {
    s += std::to_string(p->id) + p->name + p->email_address + p->credit_card +
         p->city + p->state + p->extra;
  } else if (const Auction* a = e.auction()) {
    s += std::to_string(a->id) + "|" + std::to_string(a->seller) + "|" +
         std::to_string(a->category) + "|" + std::to_string(a->initial_bid) +
         "|" + std::to_string(a->reserve) + "|" + std::to_string(a->expires) +
         a->item_name + a->description + a->extra;
  } else {
    const Bid* b = e.bid();
    s += std::to_string(b->auction) + "|" + std::to_string(b->bidder) + "|" +
         std::to_string(b->price) + b->channel + b->url + b->extra;
  }
  return s;
}

std::vector<std::string> Expected(const GeneratorOptions& o) {
  std::vector<std::string> out;
  for (int64_t n = 0; n < o.count; ++n)
    out.push_back(Fingerprint(Generate(o, n)));
  std::sort(out.begin(), out.end());
  return out;
}

// What each sink subtask received, and how much of it before the first
// checkpoint's barrier.
struct Received {
  std::mutex mu;
  std::map<int, std::vector<std::string>> events;  // by subtask
  std::map<int, size_t> at_cut;
  std::vector<std::string> BeforeCut() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::string> out;
    for (const auto& [subtask, v] : events) {
      const size_t n = at_cut.count(subtask) ? at_cut[subtask] : v.size();
      out.insert(out.end(), v.begin(), v.begin() + static_cast<long>(n));
    }
    return out;
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu);
    size_t n = 0;
    for (const auto& [_, v] : events) n += v.size();
    return n;
  }
};

class ReceivingSink final : public SinkFunction<Event> {
 public:
  explicit ReceivingSink(std::shared_ptr<Received> out)
      : out_(std::move(out)) {}
  Status Open(OperatorContext& ctx) override {
    subtask_ = ctx.subtask();
    return Status::OK();
  }
  Status Invoke(const Event& e, int64_t timestamp) override {
    if (timestamp != e.timestamp()) {
      return Status::Corruption("record timestamp is not the event time");
    }
    std::lock_guard<std::mutex> lock(out_->mu);
    out_->events[subtask_].push_back(Fingerprint(e));
    return Status::OK();
  }
  Status SnapshotState(OperatorContext&, int64_t) override {
    std::lock_guard<std::mutex> lock(out_->mu);
    out_->at_cut.try_emplace(subtask_, out_->events[subtask_].size());
    return Status::OK();
  }

 private:
  std::shared_ptr<Received> out_;
  int subtask_ = 0;
};

JobBuilder Build(const GeneratorOptions& o, int parallelism,
                 std::shared_ptr<Received> out) {
  JobBuilder b("nexmark");
  b.SetParallelism(parallelism);
  b.AddSource<Event>(Source::Factory(o), "nexmark", Source::Watermarks(o))
      .Uid("nexmark")
      .SinkTo([out]() -> std::unique_ptr<SinkFunction<Event>> {
        return std::make_unique<ReceivingSink>(out);
      });
  return b;
}

class NexmarkSourceTest : public ::testing::TestWithParam<JobOptions::Backend> {
 protected:
  void SetUp() override { dir_.Create(); }
  JobOptions Options() const {
    JobOptions o;
    o.backend = GetParam();
    o.local_dir = dir_.Sub("local");
    o.checkpoints.dir = dir_.Sub("checkpoints");
    return o;
  }
  testutil::TestDir dir_;
};

TEST_P(NexmarkSourceTest, SameEventsAtAnyParallelism) {
  GeneratorOptions o;
  o.count = 5000;
  o.seed = 3;
  o.out_of_order_group_size = 7;
  const std::vector<std::string> expected = Expected(o);
  for (int parallelism : {1, 3}) {
    SCOPED_TRACE("parallelism " + std::to_string(parallelism));
    auto out = std::make_shared<Received>();
    JobOptions options = Options();
    options.local_dir = dir_.Sub("local-" + std::to_string(parallelism));
    ASSERT_OK_AND_ASSIGN(auto job, Build(o, parallelism, out).Build(options));
    ASSERT_OK(job->Start());
    ASSERT_OK(job->Wait());
    std::vector<std::string> got = out->BeforeCut();
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, expected);
  }
}

// Rate-limited at parallelism 2 under a manual clock, checkpointed after
// some events, restored at 1, 3 and 5 subtasks: with the events received
// before the cut, every event comes out exactly once.
TEST_P(NexmarkSourceTest, RestoreAtAnotherParallelismContinuesExactly) {
  GeneratorOptions o;
  o.count = 3000;
  o.seed = 11;
  o.rate = 1000;
  auto clock = std::make_shared<ManualClock>(1'000'000);
  JobOptions options = Options();
  options.clock = clock;
  auto first = std::make_shared<Received>();
  ASSERT_OK_AND_ASSIGN(auto job, Build(o, 2, first).Build(options));
  ASSERT_OK(job->Start());
  for (int i = 0; i < 2000 && first->size() < 300; ++i) {
    clock->AdvanceMillis(5);
    std::this_thread::sleep_for(2ms);
  }
  ASSERT_GE(first->size(), 300u);
  ASSERT_OK_AND_ASSIGN(int64_t id, job->TriggerCheckpoint());
  ASSERT_OK_AND_ASSIGN(CheckpointStats stats, job->WaitForCheckpoint(id, 30s));
  ASSERT_EQ(stats.state, CheckpointState::kCompleted);
  job->Cancel();
  EXPECT_TRUE(job->Wait().IsAborted());
  const std::vector<std::string> before = first->BeforeCut();
  ASSERT_GE(before.size(), 300u);
  ASSERT_LT(before.size(), static_cast<size_t>(o.count));
  const std::vector<std::string> expected = Expected(o);

  const std::string root = fs::path(stats.path).parent_path().string();
  for (int parallelism : {1, 3, 5}) {
    SCOPED_TRACE("parallelism " + std::to_string(parallelism));
    // Each restored job claims the directory it restores from: a copy each.
    const std::string copy = dir_.Sub("copy-" + std::to_string(parallelism));
    fs::create_directories(copy);
    fs::copy(root, copy + "/" + fs::path(root).filename().string(),
             fs::copy_options::recursive);
    JobOptions resumed_options = Options();
    resumed_options.checkpoints.dir = copy;
    resumed_options.local_dir =
        dir_.Sub("local-" + std::to_string(parallelism));
    resumed_options.restore_from = copy + "/" +
                                   fs::path(root).filename().string() + "/" +
                                   fs::path(stats.path).filename().string();
    GeneratorOptions unthrottled = o;
    unthrottled.rate = 0;
    auto out = std::make_shared<Received>();
    ASSERT_OK_AND_ASSIGN(
        auto resumed,
        Build(unthrottled, parallelism, out).Build(resumed_options));
    ASSERT_OK(resumed->Start());
    ASSERT_OK(resumed->Wait());
    std::vector<std::string> all = before;
    const std::vector<std::string> after = out->BeforeCut();
    all.insert(all.end(), after.begin(), after.end());
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, expected);
  }
}

TEST_P(NexmarkSourceTest, BadOptionsFailTheJobNamingTheSource) {
  GeneratorOptions o;
  o.count = 10;
  o.hot_bidders_ratio = 0;
  auto out = std::make_shared<Received>();
  ASSERT_OK_AND_ASSIGN(auto job, Build(o, 1, out).Build(Options()));
  ASSERT_OK(job->Start());
  const Status s = job->Wait();
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.ToString().find("Nexmark source"), std::string::npos)
      << s.ToString();
}

INSTANTIATE_TEST_SUITE_P(Backends, NexmarkSourceTest,
                         ::testing::Values(JobOptions::Backend::kMemory,
                                           JobOptions::Backend::kRocksDB),
                         [](const auto& info) {
                           return info.param == JobOptions::Backend::kMemory
                                      ? std::string("memory")
                                      : std::string("rocksdb");
                         });

}  // namespace
}  // namespace weir::nexmark
