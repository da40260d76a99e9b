// SPDX-License-Identifier: Apache-2.0
//
// What the NATS connector tests share: a per-test server fixture, and an
// operator context over a memory backend to drive a source or sink
// function directly (its state restored the way a job restores it).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include <weir/clock.h>
#include <weir/operator.h>

#include "backends/memory/memory_backend.h"
#include "tests/connectors/nats/nats_server.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace weir::natstest {

class NatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NatsServerInstalled()) GTEST_SKIP() << "nats-server is not installed";
    dir_.Create();
    server_ = std::make_unique<NatsServer>(dir_.Sub("nats"));
    ASSERT_OK(server_->Start());
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Stop();
  }

  std::string url() const { return server_->url(); }

  testutil::TestDir dir_;
  std::unique_ptr<NatsServer> server_;
};

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

// Subtask `subtask` of `parallelism` of the operator with uid `uid`.
class FakeContext final : public OperatorContext {
 public:
  FakeContext(KeyedStateBackend* backend, std::string uid, int subtask,
              int parallelism)
      : backend_(backend),
        uid_(std::move(uid)),
        subtask_(subtask),
        parallelism_(parallelism),
        id_(OperatorId::FromUid(uid_)) {}

  const OperatorId& operator_id() const override { return id_; }
  std::string_view name() const override { return uid_; }
  int subtask() const override { return subtask_; }
  int parallelism() const override { return parallelism_; }
  int max_parallelism() const override { return 128; }
  KeyedStateStore& state() override { return *backend_; }
  TimerService& timers() override { return timers_; }
  Clock& clock() override { return clock_; }
  void CountLateRecordDropped() override {}
  void CountRecordSkipped() override { ++skipped; }

  int skipped = 0;

 private:
  KeyedStateBackend* backend_;
  std::string uid_;
  int subtask_;
  int parallelism_;
  OperatorId id_;
  NoTimers timers_;
  ManualClock clock_;
};

inline std::unique_ptr<KeyedStateBackend> NewBackend() {
  Result<std::unique_ptr<KeyedStateBackend>> b =
      NewMemoryBackend(StateBackendOptions{});
  EXPECT_OK(b);
  return b.ok() ? std::move(*b) : nullptr;
}

// The operator list state `name` of `uid` as a restore hands it to every
// new subtask in union mode: the entries of all old subtasks, in order.
inline std::unique_ptr<KeyedStateBackend> UnionOf(
    const std::vector<KeyedStateBackend*>& olds, const std::string& uid,
    const std::string& name) {
  const OperatorId op = OperatorId::FromUid(uid);
  std::vector<std::string> all;
  for (KeyedStateBackend* b : olds) {
    Result<RawOperatorListState*> list =
        b->GetOperatorListState(op, name, OperatorStateMode::kUnion);
    EXPECT_OK(list);
    std::vector<std::string> values;
    EXPECT_OK((*list)->Get(&values));
    all.insert(all.end(), values.begin(), values.end());
  }
  auto merged = NewBackend();
  Result<RawOperatorListState*> list =
      merged->GetOperatorListState(op, name, OperatorStateMode::kUnion);
  EXPECT_OK(list);
  EXPECT_OK((*list)->Update(all));
  return merged;
}

}  // namespace weir::natstest
