// SPDX-License-Identifier: Apache-2.0
//
// The checkpoint coordinator on its own: the test plays the one task of a
// job (it takes the snapshot the barrier would) and holds the commit at
// its notification, to stop or suspend the coordinator right then.
#include "engine/checkpoint/coordinator.h"

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>

#include <gtest/gtest.h>

#include "backends/memory/memory_backend.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace weir::engine {
namespace {

using namespace std::chrono_literals;

// A latch the commit's notification waits at, so a test can act while a
// checkpoint is committing.
struct HeldCommit {
  std::mutex mu;
  std::condition_variable cv;
  int64_t notified = 0;  // the id being notified
  bool release = false;

  void Notify(int64_t id) {
    std::unique_lock<std::mutex> lock(mu);
    notified = id;
    cv.notify_all();
    cv.wait(lock, [this] { return release; });
  }
  bool WaitNotified(int64_t id) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, 30s, [&] { return notified == id; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
    cv.notify_all();
  }
};

class CoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Create();
    ASSERT_OK_AND_ASSIGN(backend_, NewMemoryBackend(StateBackendOptions{}));
    CheckpointCoordinator::Config c;
    c.options.dir = dir_.Sub("checkpoints");
    c.job_id = JobId::Generate();
    c.job_name = "held";
    c.tasks.push_back(CheckpointTask{});
    c.local_dir = dir_.Sub("local");
    CheckpointCoordinator::Hooks hooks;
    hooks.trigger = [](int64_t, bool, bool) {};
    hooks.notify_complete = [this](int64_t id) { held_.Notify(id); };
    ASSERT_OK_AND_ASSIGN(coordinator_, CheckpointCoordinator::Create(
                                           std::move(c), std::move(hooks)));
    coordinator_->Start();
  }

  void TearDown() override {
    held_.Release();
    if (coordinator_ != nullptr) coordinator_->Stop();
  }

  // Triggers a checkpoint and acknowledges it as the job's only task; its
  // commit then stops at the notification.
  int64_t TriggerAndHoldCommit() {
    Result<int64_t> id = coordinator_->Trigger(/*full=*/false);
    EXPECT_OK(id.status());
    if (!id.ok()) return -1;
    EXPECT_OK(coordinator_->OnTaskSnapshot(*id, 0, 0, *backend_));
    EXPECT_TRUE(held_.WaitNotified(*id));
    return *id;
  }

  testutil::TestDir dir_;
  std::unique_ptr<KeyedStateBackend> backend_;
  HeldCommit held_;
  std::unique_ptr<CheckpointCoordinator> coordinator_;
};

// Stop() while a checkpoint commits waits for the commit, which completes;
// it once spun forever under the coordinator's lock (a cancelled `weir run`
// that never exited).
TEST_F(CoordinatorTest, StopWhileCommittingWaitsForTheCommit) {
  const int64_t id = TriggerAndHoldCommit();
  ASSERT_GT(id, 0);
  auto stopped = std::async(std::launch::async, [&] { coordinator_->Stop(); });
  EXPECT_EQ(stopped.wait_for(200ms), std::future_status::timeout)
      << "Stop() returned while checkpoint " << id << " was committing";
  held_.Release();
  ASSERT_EQ(stopped.wait_for(30s), std::future_status::ready)
      << "Stop() did not return after the commit ended";
  ASSERT_OK_AND_ASSIGN(CheckpointStats stats, coordinator_->Wait(id, 1s));
  EXPECT_EQ(stats.state, CheckpointState::kCompleted);
  EXPECT_EQ(coordinator_->LatestCompletedPath(),
            stats.path + "/" + std::string(kMetadataFileName));
  EXPECT_TRUE(std::filesystem::exists(coordinator_->LatestCompletedPath()));
  EXPECT_FALSE(coordinator_->Trigger(false).ok());
}

// Suspend() (a restart) lets a committing checkpoint complete before the
// restart reads which checkpoint is the latest.
TEST_F(CoordinatorTest, SuspendWhileCommittingWaitsForTheCommit) {
  const int64_t id = TriggerAndHoldCommit();
  ASSERT_GT(id, 0);
  auto suspended =
      std::async(std::launch::async, [&] { coordinator_->Suspend(); });
  EXPECT_EQ(suspended.wait_for(200ms), std::future_status::timeout);
  held_.Release();
  ASSERT_EQ(suspended.wait_for(30s), std::future_status::ready);
  EXPECT_NE(coordinator_->LatestCompletedPath().find("chk-" +
                                                     std::to_string(id) + "/"),
            std::string::npos)
      << coordinator_->LatestCompletedPath();
  Result<int64_t> refused = coordinator_->Trigger(false);
  EXPECT_FALSE(refused.ok());
  coordinator_->Resume();
  // Checkpoints go on after the restart.
  ASSERT_OK_AND_ASSIGN(int64_t next, coordinator_->Trigger(false));
  ASSERT_OK(coordinator_->OnTaskSnapshot(next, 0, 0, *backend_));
  ASSERT_OK_AND_ASSIGN(CheckpointStats stats, coordinator_->Wait(next, 30s));
  EXPECT_EQ(stats.state, CheckpointState::kCompleted);
}

}  // namespace
}  // namespace weir::engine
