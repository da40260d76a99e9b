// SPDX-License-Identifier: Apache-2.0
//
// A task: one subtask of a vertex (a chain of operators), run by one thread
// as an event loop over its mailbox, its input channels (or its source) and
// its processing-time timers. State is touched only from that thread.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <weir/detail/runtime.h>
#include <weir/operator.h>

#include "backends/backend.h"
#include "engine/snapshot_observer.h"

namespace weir::engine {

// Counters of one vertex, summed over its subtasks.
struct VertexCounters {
  std::atomic<int64_t> records_in{0};
  std::atomic<int64_t> records_out{0};
  std::atomic<int64_t> late_records_dropped{0};
  std::atomic<int64_t> records_skipped{0};
  std::atomic<int> running_subtasks{0};
  // The read mode of each subtask's backend as last opened (backends that
  // report one: BackendCapabilities::read_mode).
  std::mutex read_modes_mu;
  std::vector<StateReadMode> read_modes;
  // Connector gauges by subtask (-1: not reported), under gauges_mu.
  std::mutex gauges_mu;
  std::vector<int64_t> pending_records;
  std::vector<int64_t> send_time_us;
};

class Task;

// This operator's timers, kept in the task's backend.
class TaskTimerService final : public TimerService {
 public:
  TaskTimerService(Task* task, OperatorId op) : task_(task), op_(op) {}

  int64_t CurrentProcessingTime() const override;
  int64_t CurrentWatermark() const override { return watermark_; }
  Status RegisterEventTimeTimer(int64_t time, std::string_view ns) override;
  Status RegisterProcessingTimeTimer(int64_t time,
                                     std::string_view ns) override;
  Status DeleteEventTimeTimer(int64_t time, std::string_view ns) override;
  Status DeleteProcessingTimeTimer(int64_t time, std::string_view ns) override;

  int64_t watermark_ = kMinWatermark;
  // Earliest processing-time timer, if known to exist.
  std::optional<int64_t> next_processing_timer_;

 private:
  Task* const task_;
  const OperatorId op_;
};

class Task final : public detail::TaskHooks {
 public:
  struct OperatorSlot final : public OperatorContext {
    Task* task = nullptr;
    const detail::NodeDef* node = nullptr;
    OperatorId id;
    std::unique_ptr<StreamOperator> op;
    std::unique_ptr<OutputBase> output;                // null for sinks
    std::vector<std::unique_ptr<OutputBase>> outputs;  // fanned out
    std::unique_ptr<TaskTimerService> timers_;

    const OperatorId& operator_id() const override { return id; }
    std::string_view name() const override { return node->name; }
    int subtask() const override { return task->subtask_; }
    int parallelism() const override { return task->parallelism_; }
    int max_parallelism() const override { return task->max_parallelism_; }
    KeyedStateStore& state() override { return *task->backend_; }
    TimerService& timers() override { return *timers_; }
    Clock& clock() override { return *task->clock_; }
    void CountLateRecordDropped() override {
      task->counters_->late_records_dropped.fetch_add(
          1, std::memory_order_relaxed);
    }
    void CountRecordSkipped() override {
      task->counters_->records_skipped.fetch_add(1, std::memory_order_relaxed);
    }
    std::function<void()> Waker() override {
      return [w = &task->wakeup_] { w->Notify(); };
    }
    void SetPendingRecords(int64_t records) override {
      SetGauge(&VertexCounters::pending_records, records);
    }
    void SetSendTime(int64_t micros) override {
      SetGauge(&VertexCounters::send_time_us, micros);
    }

   private:
    void SetGauge(std::vector<int64_t> VertexCounters::*gauge, int64_t value) {
      VertexCounters& c = *task->counters_;
      std::lock_guard<std::mutex> lock(c.gauges_mu);
      std::vector<int64_t>& v = c.*gauge;
      const auto i = static_cast<size_t>(task->subtask_);
      if (v.size() <= i) v.resize(i + 1, -1);
      v[i] = value;
    }
  };

  Task(std::string name, int subtask, int parallelism, int max_parallelism,
       std::shared_ptr<Clock> clock, VertexCounters* counters);
  ~Task() override;

  // ---- Wiring, before Start().
  detail::Wakeup* wakeup() { return &wakeup_; }
  std::vector<std::unique_ptr<OperatorSlot>>& slots() { return slots_; }
  void set_backend(std::unique_ptr<KeyedStateBackend> backend) {
    backend_ = std::move(backend);
  }
  void set_input(std::unique_ptr<detail::InputGateBase> gate) {
    gate_ = std::move(gate);
  }
  void AddWriter(std::unique_ptr<detail::WriterBase> writer) {
    writers_.push_back(std::move(writer));
  }
  std::vector<std::unique_ptr<detail::WriterBase>>& writers() {
    return writers_;
  }
  // Called once on the task thread when the task ends, with OK or the
  // failure, and whether the task had been cancelled.
  void set_on_exit(std::function<void(const Status&, bool)> on_exit) {
    on_exit_ = std::move(on_exit);
  }

  void Start();
  // Asks the loop to stop; safe from any thread.
  void Cancel();
  void Join();
  // Runs `action` on the task thread between records; dropped once the
  // task's loop has ended (it finished, failed or was cancelled).
  void Post(std::function<void()> action);
  // Sources: snapshot and send barrier `checkpoint_id` (via Post). With
  // `stop_sources` (stop with savepoint) the source polls no more after
  // the barrier until ResumeSource(); with `drain` it first emits the
  // maximum watermark.
  void TriggerBarrier(int64_t checkpoint_id, bool stop_sources = false,
                      bool drain = false);
  // The stop with savepoint `checkpoint_id` failed: the source polls again.
  void ResumeSource(int64_t checkpoint_id);
  // Tells every operator that checkpoint `checkpoint_id` is complete (via
  // Post); ignored for ids not above the last one notified.
  void NotifyCheckpointComplete(int64_t checkpoint_id);
  // Every operator of the chain finished in the checkpoint the task is
  // restored from: the task opens none of them, ends its outputs at once
  // and finishes (its backend holds the operators' final list states).
  void set_finished_on_restore(bool finished) {
    finished_on_restore_ = finished;
  }
  void set_snapshot_observer(SnapshotObserver* observer, int vertex) {
    observer_ = observer;
    vertex_ = vertex;
  }

  const std::string& name() const { return name_; }
  KeyedStateBackend* backend() { return backend_.get(); }

  // ---- TaskHooks.
  void Fail(Status status) override;
  bool failed() const override { return !failure_.ok(); }
  void DeliverWatermark(int op_index, int64_t watermark) override;
  void SetInputIdle(bool idle) override;
  void OnBarrierAligned(int64_t checkpoint_id) override;
  void CountRecordsIn(int64_t n) override {
    counters_->records_in.fetch_add(n, std::memory_order_relaxed);
  }
  void CountRecordsOut(int64_t n) override {
    counters_->records_out.fetch_add(n, std::memory_order_relaxed);
  }

  // For the timer service.
  Clock& clock() { return *clock_; }

 private:
  friend class TaskTimerService;

  void Run();
  Status RunLoop();
  Status OpenOperators();
  Status FinishOperators();
  // The input ended and the operators finished: each writes its final
  // operator state, then the observer hears of it.
  void ReportFinished();
  void CloseOperators();
  void RunMailbox();
  Status FireProcessingTimers(int64_t now, int64_t* next);
  Status FireTimers(OperatorSlot& slot, TimeDomain domain, int64_t up_to);
  void FlushWriters();
  void PerformCheckpoint(int64_t checkpoint_id);
  // Tells the operators that checkpoint `checkpoint_id` is complete, once.
  void CommitCheckpoint(int64_t checkpoint_id);

  const std::string name_;
  const int subtask_;
  const int parallelism_;
  const int max_parallelism_;
  std::shared_ptr<Clock> clock_;
  VertexCounters* const counters_;

  std::vector<std::unique_ptr<OperatorSlot>> slots_;
  std::unique_ptr<KeyedStateBackend> backend_;
  std::unique_ptr<detail::InputGateBase> gate_;
  std::vector<std::unique_ptr<detail::WriterBase>> writers_;
  std::function<void(const Status&, bool)> on_exit_;

  detail::Wakeup wakeup_;
  std::mutex mailbox_mu_;
  std::deque<std::function<void()>> mailbox_;
  bool loop_ended_ = false;  // guarded by mailbox_mu_: Post() drops actions
  std::atomic<bool> cancelled_{false};
  std::thread thread_;
  Status failure_;
  bool idle_ = false;
  SnapshotObserver* observer_ = nullptr;
  int vertex_ = 0;
  int64_t last_checkpoint_ = 0;
  int64_t last_completed_ = 0;
  std::atomic<int64_t> notified_{
      0};  // the newest id NotifyCheckpointComplete got
  // The stop-with-savepoint barrier after which the source stopped; 0 while
  // it polls.
  int64_t stopped_for_ = 0;
  bool finished_on_restore_ = false;
};

}  // namespace weir::engine
