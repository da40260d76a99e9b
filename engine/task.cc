// SPDX-License-Identifier: Apache-2.0
#include "engine/task.h"

#include <algorithm>
#include <chrono>
#include <exception>

namespace weir::engine {
namespace {

// Upper bound of one wait of an idle task. Processing time may be a
// ManualClock that moves without waking anyone, so waits stay short.
constexpr int64_t kMaxWaitMicros = 5'000;
// Elements a task handles per turn of its loop before it flushes its
// outputs and looks at its mailbox and timers again.
constexpr int kElementsPerTurn = 1024;

}  // namespace

// ---------------------------------------------------------------- timers

int64_t TaskTimerService::CurrentProcessingTime() const {
  return task_->clock().NowMillis();
}

Status TaskTimerService::RegisterEventTimeTimer(int64_t time,
                                                std::string_view ns) {
  return task_->backend_->RegisterTimer(op_, TimeDomain::kEventTime, time, ns);
}

Status TaskTimerService::RegisterProcessingTimeTimer(int64_t time,
                                                     std::string_view ns) {
  Status s = task_->backend_->RegisterTimer(op_, TimeDomain::kProcessingTime,
                                            time, ns);
  if (s.ok() && (!next_processing_timer_ || time < *next_processing_timer_)) {
    next_processing_timer_ = time;
  }
  return s;
}

Status TaskTimerService::DeleteEventTimeTimer(int64_t time,
                                              std::string_view ns) {
  return task_->backend_->DeleteTimer(op_, TimeDomain::kEventTime, time, ns);
}

Status TaskTimerService::DeleteProcessingTimeTimer(int64_t time,
                                                   std::string_view ns) {
  // The cached earliest time may now be early; firing finds nothing then.
  return task_->backend_->DeleteTimer(op_, TimeDomain::kProcessingTime, time,
                                      ns);
}

// ---------------------------------------------------------------- task

Task::Task(std::string name, int subtask, int parallelism, int max_parallelism,
           std::shared_ptr<Clock> clock, VertexCounters* counters)
    : name_(std::move(name)),
      subtask_(subtask),
      parallelism_(parallelism),
      max_parallelism_(max_parallelism),
      clock_(std::move(clock)),
      counters_(counters) {}

Task::~Task() {
  Cancel();
  Join();
}

void Task::Start() {
  counters_->running_subtasks.fetch_add(1);
  thread_ = std::thread([this] { Run(); });
}

void Task::Cancel() {
  cancelled_.store(true, std::memory_order_release);
  wakeup_.Notify();
}

void Task::Join() {
  if (thread_.joinable()) thread_.join();
}

void Task::Post(std::function<void()> action) {
  {
    std::lock_guard<std::mutex> lock(mailbox_mu_);
    // Nothing would run it: a finished task stays in the job, and every
    // checkpoint would otherwise leave its barrier and notification here.
    if (loop_ended_) return;
    mailbox_.push_back(std::move(action));
  }
  wakeup_.Notify();
}

void Task::Fail(Status status) {
  if (failure_.ok()) failure_ = std::move(status);
}

void Task::DeliverWatermark(int op_index, int64_t watermark) {
  OperatorSlot& slot = *slots_[op_index];
  if (watermark <= slot.timers_->watermark_) return;
  slot.timers_->watermark_ = watermark;
  if (slot.node->keyed) {
    Status s = FireTimers(slot, TimeDomain::kEventTime, watermark);
    if (!s.ok()) return Fail(std::move(s));
  }
  Status s = slot.op->ProcessWatermark(watermark);
  if (!s.ok()) Fail(std::move(s));
}

void Task::SetInputIdle(bool idle) {
  if (idle == idle_) return;
  idle_ = idle;
  if (idle) {
    for (auto& w : writers_) w->EmitControl(detail::ElementKind::kIdle, 0);
  }
}

void Task::OnBarrierAligned(int64_t checkpoint_id) {
  PerformCheckpoint(checkpoint_id);
}

void Task::TriggerBarrier(int64_t checkpoint_id, bool stop_sources,
                          bool drain) {
  Post([this, checkpoint_id, stop_sources, drain] {
    auto* source = slots_.front()->node->is_source
                       ? static_cast<SourceOperatorBase*>(slots_[0]->op.get())
                       : nullptr;
    if (drain && source != nullptr && !failed() &&
        checkpoint_id > last_checkpoint_) {
      source->EmitMaxWatermark();
    }
    PerformCheckpoint(checkpoint_id);
    if (stop_sources && source != nullptr &&
        last_checkpoint_ == checkpoint_id) {
      stopped_for_ = checkpoint_id;
    }
  });
}

void Task::ResumeSource(int64_t checkpoint_id) {
  Post([this, checkpoint_id] {
    if (stopped_for_ == checkpoint_id) stopped_for_ = 0;
  });
}

void Task::NotifyCheckpointComplete(int64_t checkpoint_id) {
  // Also noted outside the mailbox: a task cancelled before its mailbox
  // runs still commits a completed checkpoint on its way out (Run()).
  int64_t seen = notified_.load();
  while (seen < checkpoint_id &&
         !notified_.compare_exchange_weak(seen, checkpoint_id)) {
  }
  Post([this, checkpoint_id] { CommitCheckpoint(checkpoint_id); });
}

void Task::CommitCheckpoint(int64_t checkpoint_id) {
  if (checkpoint_id <= last_completed_ || failed() || finished_on_restore_) {
    return;
  }
  last_completed_ = checkpoint_id;
  for (auto& slot : slots_) {
    if (slot->op == nullptr) continue;
    Status s = slot->op->NotifyCheckpointComplete(checkpoint_id);
    if (!s.ok()) {
      return Fail(s.WithContext("commit of checkpoint " +
                                std::to_string(checkpoint_id) + " in '" +
                                slot->node->name + "'"));
    }
  }
}

// The synchronous phase: operator state, then the backend's cut, then the
// barrier downstream. Records wait only for this.
void Task::PerformCheckpoint(int64_t checkpoint_id) {
  if (checkpoint_id <= last_checkpoint_ || failed()) return;
  last_checkpoint_ = checkpoint_id;
  for (auto& slot : slots_) {
    Status s = slot->op->SnapshotState(checkpoint_id);
    if (!s.ok()) {
      return Fail(s.WithContext("snapshot of '" + slot->node->name + "'"));
    }
  }
  if (observer_ != nullptr) {
    Status s =
        observer_->OnTaskSnapshot(checkpoint_id, vertex_, subtask_, *backend_);
    if (!s.ok()) return Fail(std::move(s));
  }
  for (auto& w : writers_) {
    w->EmitControl(detail::ElementKind::kBarrier, checkpoint_id);
  }
}

Status Task::FireTimers(OperatorSlot& slot, TimeDomain domain, int64_t up_to) {
  for (;;) {
    Result<std::optional<Timer>> timer =
        backend_->PopTimer(slot.id, domain, up_to);
    if (!timer.ok()) return timer.status();
    if (!timer->has_value()) return Status::OK();
    Status s = backend_->SetCurrentKey((*timer)->key);
    if (!s.ok()) return s;
    s = slot.op->OnTimer(domain, (*timer)->timestamp, (*timer)->ns);
    if (!s.ok()) return s;
    if (failed()) return Status::OK();
  }
}

Status Task::FireProcessingTimers(int64_t now, int64_t* next) {
  for (auto& slot_ptr : slots_) {
    OperatorSlot& slot = *slot_ptr;
    TaskTimerService& t = *slot.timers_;
    if (!t.next_processing_timer_) continue;
    if (*t.next_processing_timer_ <= now) {
      Status s = FireTimers(slot, TimeDomain::kProcessingTime, now);
      if (!s.ok()) return s;
      Result<std::optional<int64_t>> n =
          backend_->NextTimerTimestamp(slot.id, TimeDomain::kProcessingTime);
      if (!n.ok()) return n.status();
      t.next_processing_timer_ = *n;
    }
    if (t.next_processing_timer_) {
      *next = std::min(*next, *t.next_processing_timer_);
    }
  }
  return Status::OK();
}

void Task::RunMailbox() {
  std::deque<std::function<void()>> actions;
  {
    std::lock_guard<std::mutex> lock(mailbox_mu_);
    actions.swap(mailbox_);
  }
  for (auto& action : actions) action();
}

void Task::FlushWriters() {
  for (auto& w : writers_) w->Flush();
}

Status Task::OpenOperators() {
  // Sinks first, so that an operator's outputs are open before it emits.
  for (auto it = slots_.rbegin(); it != slots_.rend(); ++it) {
    OperatorSlot& slot = **it;
    Status s = slot.op->Open(slot);
    if (!s.ok()) return s.WithContext("opening '" + slot.node->name + "'");
    if (slot.node->keyed) {
      Result<std::optional<int64_t>> n =
          backend_->NextTimerTimestamp(slot.id, TimeDomain::kProcessingTime);
      if (!n.ok()) return n.status();
      slot.timers_->next_processing_timer_ = *n;
    }
  }
  return Status::OK();
}

Status Task::FinishOperators() {
  for (auto& slot : slots_) {
    Status s = slot->op->Finish();
    if (!s.ok()) return s;
    if (failed()) return failure_;
  }
  for (auto& w : writers_) w->EmitControl(detail::ElementKind::kEnd, 0);
  FlushWriters();
  return Status::OK();
}

void Task::CloseOperators() {
  if (finished_on_restore_) return;  // none was opened
  for (auto& slot : slots_) {
    if (slot->op == nullptr) continue;
    Status s = slot->op->Close();
    if (!s.ok()) Fail(std::move(s));
  }
}

void Task::ReportFinished() {
  if (!finished_on_restore_) {
    for (auto& slot : slots_) {
      Status s = slot->op->SnapshotState(kFinalSnapshotId);
      if (!s.ok()) {
        return Fail(
            s.WithContext("final snapshot of '" + slot->node->name + "'"));
      }
    }
  }
  if (observer_ != nullptr) {
    observer_->OnTaskFinished(vertex_, subtask_, *backend_);
  }
}

Status Task::RunLoop() {
  if (finished_on_restore_) {
    // Nothing to run: what the operators had to emit went downstream
    // before the checkpoint that finished them.
    for (auto& w : writers_) w->EmitControl(detail::ElementKind::kEnd, 0);
    FlushWriters();
    return Status::OK();
  }
  Status s = OpenOperators();
  if (!s.ok()) return s;
  auto* source = slots_.front()->node->is_source
                     ? static_cast<SourceOperatorBase*>(slots_[0]->op.get())
                     : nullptr;
  for (;;) {
    if (cancelled_.load(std::memory_order_acquire)) {
      return Status::Aborted("task " + name_ + " was cancelled");
    }
    RunMailbox();
    const int64_t now = clock_->NowMillis();
    int64_t next_timer = kMaxWatermark;
    s = FireProcessingTimers(now, &next_timer);
    if (!s.ok()) return s;

    bool progressed = false;
    bool ended = false;
    int64_t wait_micros = kMaxWaitMicros;
    if (source != nullptr && stopped_for_ != 0) {
      // Stopped for a savepoint: only the mailbox (its outcome) matters.
    } else if (source != nullptr) {
      Result<SourceStatus> r = source->Poll(kElementsPerTurn);
      if (!r.ok()) return r.status();
      if (source->idle() != idle_) SetInputIdle(source->idle());
      switch (r->kind) {
        case SourceStatus::Kind::kMore:
          progressed = true;
          break;
        case SourceStatus::Kind::kWaiting:
          wait_micros = std::clamp<int64_t>(r->wait_us, 0, kMaxWaitMicros);
          break;
        case SourceStatus::Kind::kEnd:
          ended = true;
          break;
      }
    } else {
      switch (gate_->ProcessAvailable(kElementsPerTurn)) {
        case detail::InputGateBase::Progress::kProcessed:
          progressed = true;
          break;
        case detail::InputGateBase::Progress::kNothing:
          break;
        case detail::InputGateBase::Progress::kEnded:
          ended = true;
          break;
      }
    }
    if (failed()) return failure_;
    if (ended) return FinishOperators();
    FlushWriters();
    if (!progressed) {
      if (next_timer != kMaxWatermark) {
        wait_micros = std::min(wait_micros, (next_timer - now) * 1000);
      }
      if (wait_micros > 0) {
        wakeup_.Wait(std::chrono::microseconds(wait_micros));
      }
    }
  }
}

void Task::Run() {
  Status s;
  try {
    s = RunLoop();
  } catch (const std::exception& e) {
    s = Status::Aborted(std::string("a user function threw: ") + e.what());
  } catch (...) {
    s = Status::Aborted("a user function threw a non-standard exception");
  }
  if (s.ok() && failed()) s = failure_;
  {
    std::lock_guard<std::mutex> lock(mailbox_mu_);
    loop_ended_ = true;
  }
  if (s.ok()) {
    try {
      ReportFinished();
    } catch (...) {
      Fail(Status::Aborted("a user function threw in its final snapshot"));
    }
    if (failed()) s = failure_;
  }
  // Cancelled (a stop or cancel with savepoint cancels right after the
  // savepoint completes): the side effects of a completed checkpoint are
  // still committed, whether or not the mailbox got to it.
  if (cancelled_.load(std::memory_order_acquire) && !failed()) {
    try {
      CommitCheckpoint(notified_.load());
    } catch (...) {
      Fail(Status::Aborted("a user function threw while committing"));
    }
  }
  try {
    CloseOperators();
  } catch (...) {
    Fail(Status::Aborted("a user function threw while closing"));
  }
  if (s.ok() && failed()) s = failure_;
  // Operators may hold state handles: drop them, then close the backend
  // (RocksDB flushes here) before the job may remove its directory.
  for (auto& slot : slots_) slot->op.reset();
  backend_.reset();
  const bool cancelled = cancelled_.load(std::memory_order_acquire);
  if (!s.ok() && !cancelled) s = s.WithContext("task " + name_);
  counters_->running_subtasks.fetch_sub(1);
  if (on_exit_) on_exit_(s, cancelled);
}

}  // namespace weir::engine
