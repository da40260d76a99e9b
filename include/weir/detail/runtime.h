// SPDX-License-Identifier: Apache-2.0
//
// The typed glue between the job builder's templates and the engine's
// untyped runtime (engine/): how records of a type T cross a chain (a
// function call), a fan-out (copies) and a channel (batches), and how a
// task reads its input channels. The engine sees only the base classes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <weir/detail/channel.h>
#include <weir/key_group.h>
#include <weir/operator.h>

namespace weir::detail {

// What typed code calls back into its task.
class TaskHooks {
 public:
  virtual ~TaskHooks() = default;
  // Records the first failure; the task stops after the current element.
  virtual void Fail(Status status) = 0;
  virtual bool failed() const = 0;
  // Fires the event-time timers of operator `op_index` (in the task's
  // chain) up to `watermark`, then passes the watermark to the operator.
  virtual void DeliverWatermark(int op_index, int64_t watermark) = 0;
  // The task's inputs all went idle, or one became active again.
  virtual void SetInputIdle(bool idle) = 0;
  // Barrier `checkpoint_id` has arrived on every open input channel
  // (aligned): the task snapshots its state and forwards the barrier.
  virtual void OnBarrierAligned(int64_t checkpoint_id) = 0;
  virtual void CountRecordsIn(int64_t n) = 0;
  virtual void CountRecordsOut(int64_t n) = 0;
};

// The producer end of one channel, as the task sees it.
class WriterBase {
 public:
  virtual ~WriterBase() = default;
  // Pushes the buffered batch; blocks while the channel is full.
  virtual void Flush() = 0;
  virtual void EmitControl(ElementKind kind, int64_t time) = 0;
};

template <class T>
class ChannelWriter final : public WriterBase {
 public:
  ChannelWriter(Channel<T>* channel, size_t batch_size, TaskHooks* hooks)
      : channel_(channel), batch_size_(batch_size), hooks_(hooks) {
    batch_.reserve(batch_size);
  }

  void Write(T&& value, int64_t timestamp) {
    Element<T>& e = batch_.emplace_back();
    e.time = timestamp;
    e.value = std::move(value);
    ++records_;
    if (batch_.size() >= batch_size_) Flush();
  }
  void EmitControl(ElementKind kind, int64_t time) override {
    Element<T>& e = batch_.emplace_back();
    e.kind = kind;
    e.time = time;
    if (batch_.size() >= batch_size_) Flush();
  }
  void Flush() override {
    if (batch_.empty()) return;
    if (records_ > 0) hooks_->CountRecordsOut(records_);
    records_ = 0;
    channel_->Push(&batch_);
    if (batch_.capacity() < batch_size_) batch_.reserve(batch_size_);
  }

 private:
  Channel<T>* const channel_;
  const size_t batch_size_;
  TaskHooks* const hooks_;
  typename Channel<T>::Batch batch_;
  int64_t records_ = 0;
};

enum class Partitioning : uint8_t {
  kForward,    // subtask i to subtask i (equal parallelism)
  kRebalance,  // round robin
  kKeyGroups,  // by the key group of the record's key
};

// Sends each record to one of the writers of a network edge.
template <class T>
class PartitionedOutput final : public Output<T> {
 public:
  // `key_bytes`: the serialized key of a record (kKeyGroups only).
  PartitionedOutput(Partitioning partitioning,
                    std::vector<ChannelWriter<T>*> writers, int subtask,
                    int max_parallelism,
                    std::function<std::string(const T&)> key_bytes)
      : partitioning_(partitioning),
        writers_(std::move(writers)),
        next_(subtask),
        max_parallelism_(max_parallelism),
        key_bytes_(std::move(key_bytes)) {}

  void Collect(T&& value, int64_t timestamp) override {
    size_t target = 0;
    const size_t n = writers_.size();
    switch (partitioning_) {
      case Partitioning::kForward:
        target = 0;
        break;
      case Partitioning::kRebalance:
        target = static_cast<size_t>(next_++) % n;
        break;
      case Partitioning::kKeyGroups: {
        const int kg = KeyGroupForKey(key_bytes_(value), max_parallelism_);
        target = static_cast<size_t>(
            SubtaskForKeyGroup(max_parallelism_, static_cast<int>(n), kg));
        break;
      }
    }
    writers_[target]->Write(std::move(value), timestamp);
  }
  void EmitWatermark(int64_t watermark) override {
    for (ChannelWriter<T>* w : writers_) {
      w->EmitControl(ElementKind::kWatermark, watermark);
    }
  }

 private:
  const Partitioning partitioning_;
  const std::vector<ChannelWriter<T>*> writers_;
  int64_t next_;
  const int max_parallelism_;
  const std::function<std::string(const T&)> key_bytes_;
};

// Calls the next operator of the chain.
template <class T>
class ChainedOutput final : public Output<T> {
 public:
  ChainedOutput(OneInputOperator<T>* next, int next_index, TaskHooks* hooks)
      : next_(next), next_index_(next_index), hooks_(hooks) {}

  void Collect(T&& value, int64_t timestamp) override {
    Status s = next_->ProcessElement(value, timestamp);
    if (!s.ok()) hooks_->Fail(std::move(s));
  }
  void EmitWatermark(int64_t watermark) override {
    hooks_->DeliverWatermark(next_index_, watermark);
  }

 private:
  OneInputOperator<T>* const next_;
  const int next_index_;
  TaskHooks* const hooks_;
};

// Several outputs: records are copied to all but the last.
template <class T>
class FanOutOutput final : public Output<T> {
 public:
  explicit FanOutOutput(std::vector<Output<T>*> outputs)
      : outputs_(std::move(outputs)) {}

  void Collect(T&& value, int64_t timestamp) override {
    for (size_t i = 0; i + 1 < outputs_.size(); ++i) {
      T copy(value);
      outputs_[i]->Collect(std::move(copy), timestamp);
    }
    outputs_.back()->Collect(std::move(value), timestamp);
  }
  void EmitWatermark(int64_t watermark) override {
    for (Output<T>* o : outputs_) o->EmitWatermark(watermark);
  }

 private:
  const std::vector<Output<T>*> outputs_;
};

// Reads a task's input channels and drives the head operator.
class InputGateBase {
 public:
  enum class Progress : uint8_t { kProcessed, kNothing, kEnded };
  virtual ~InputGateBase() = default;
  // Processes up to about `max_elements` elements that are available.
  virtual Progress ProcessAvailable(int max_elements) = 0;
};

template <class T>
class InputGate final : public InputGateBase {
 public:
  InputGate(std::vector<Channel<T>*> channels, OneInputOperator<T>* head,
            TaskHooks* hooks)
      : channels_(std::move(channels)),
        state_(channels_.size()),
        head_(head),
        hooks_(hooks),
        open_(channels_.size()) {}

  Progress ProcessAvailable(int max_elements) override {
    int processed = 0;
    while (processed < max_elements) {
      if (pos_ == batch_.size() && (open_ == 0 || !NextBatch())) break;
      Element<T>& e = batch_[pos_++];
      ++processed;
      ChannelState& ch = state_[current_];
      switch (e.kind) {
        case ElementKind::kRecord: {
          ++records_;
          // Let a keyed head start reading the state of the record
          // kPrefetchAhead places on while it processes this one.
          if (const size_t ahead = pos_ - 1 + kPrefetchAhead;
              ahead < batch_.size() &&
              batch_[ahead].kind == ElementKind::kRecord) {
            head_->Prefetch(batch_[ahead].value);
          }
          if (ch.idle) SetActive(ch);
          Status s = head_->ProcessElement(e.value, e.time);
          if (!s.ok()) hooks_->Fail(std::move(s));
          break;
        }
        case ElementKind::kWatermark:
          if (ch.idle) SetActive(ch);
          if (e.time > ch.watermark) {
            ch.watermark = e.time;
            if (e.time >= combined_) ch.aligned = true;
            UpdateWatermark();
          }
          break;
        case ElementKind::kIdle:
          ch.idle = true;
          UpdateWatermark();
          break;
        case ElementKind::kBarrier:
          OnBarrier(e.time);
          break;
        case ElementKind::kEnd:
          ch.ended = true;
          --open_;
          UpdateWatermark();
          // A finished channel no longer holds a barrier back.
          if (aligning_) MaybeAligned();
          break;
      }
      if (hooks_->failed()) break;
    }
    if (records_ > 0) hooks_->CountRecordsIn(records_);
    records_ = 0;
    if (processed > 0 && !(open_ == 0 && pos_ == batch_.size())) {
      return Progress::kProcessed;
    }
    return open_ == 0 && pos_ == batch_.size() ? Progress::kEnded
                                               : Progress::kNothing;
  }

 private:
  struct ChannelState {
    int64_t watermark = kMinWatermark;
    bool idle = false;
    // Delivered the barrier being aligned: read nothing more from it until
    // the others have. What followed the barrier in its batch waits here.
    bool blocked = false;
    typename Channel<T>::Batch held;
    size_t held_pos = 0;
    // An idle channel that came back counts for the combined watermark
    // only once its own watermark has caught up with it.
    bool aligned = true;
    bool ended = false;
  };

  bool NextBatch() {
    for (size_t i = 0; i < channels_.size(); ++i) {
      const size_t c = (current_ + 1 + i) % channels_.size();
      ChannelState& ch = state_[c];
      if (ch.ended || ch.blocked) continue;
      if (ch.held_pos < ch.held.size()) {
        // Resume a batch cut short by a barrier.
        batch_.swap(ch.held);
        pos_ = ch.held_pos;
        ch.held.clear();
        ch.held_pos = 0;
        current_ = c;
        HintBatchStart();
        return true;
      }
      if (channels_[c]->TryPop(&batch_)) {
        current_ = c;
        pos_ = 0;
        HintBatchStart();
        return true;
      }
    }
    return false;
  }

  // The records the per-record hint (kPrefetchAhead places on) does not
  // reach: the first ones of a batch.
  void HintBatchStart() {
    const size_t end = std::min(batch_.size(), pos_ + kPrefetchAhead);
    for (size_t i = pos_; i < end; ++i) {
      if (batch_[i].kind == ElementKind::kRecord) {
        head_->Prefetch(batch_[i].value);
      }
    }
  }

  // Aligned barriers (Chandy-Lamport): the first barrier N blocks its
  // channel; when every open channel has delivered N, the task snapshots
  // and all channels are read again.
  void OnBarrier(int64_t id) {
    ChannelState& ch = state_[current_];
    if (!aligning_ || id > aligning_id_) {
      if (aligning_) {
        // A newer barrier overtook an unfinished alignment: give up the
        // old checkpoint (its coordinator will time it out).
        Unblock();
      }
      aligning_ = true;
      aligning_id_ = id;
    } else if (id < aligning_id_) {
      return;  // a barrier of an abandoned checkpoint
    }
    ch.blocked = true;
    // Keep the rest of this batch for later.
    ch.held.assign(std::make_move_iterator(batch_.begin() + pos_),
                   std::make_move_iterator(batch_.end()));
    ch.held_pos = 0;
    pos_ = batch_.size();
    MaybeAligned();
  }

  void MaybeAligned() {
    for (const ChannelState& c : state_) {
      if (!c.ended && !c.blocked) return;
    }
    const int64_t id = aligning_id_;
    Unblock();
    hooks_->OnBarrierAligned(id);
  }

  void Unblock() {
    aligning_ = false;
    for (ChannelState& c : state_) c.blocked = false;
  }

  void SetActive(ChannelState& ch) {
    ch.idle = false;
    ch.aligned = ch.watermark >= combined_;
    if (all_idle_) {
      all_idle_ = false;
      hooks_->SetInputIdle(false);
    }
  }

  void UpdateWatermark() {
    int64_t min_wm = kMaxWatermark;
    bool any_active = false;
    for (const ChannelState& ch : state_) {
      if (ch.ended) continue;
      if (ch.idle || !ch.aligned) continue;
      any_active = true;
      if (ch.watermark < min_wm) min_wm = ch.watermark;
    }
    const bool all_idle = !any_active && open_ > 0;
    if (all_idle) {
      // Flink's StatusWatermarkValve: when the last active channel goes
      // idle, event time moves to the highest watermark of any channel.
      int64_t max_wm = kMinWatermark;
      for (const ChannelState& ch : state_) {
        if (!ch.ended && ch.watermark > max_wm) max_wm = ch.watermark;
      }
      if (max_wm > combined_) {
        combined_ = max_wm;
        hooks_->DeliverWatermark(0, combined_);
      }
    }
    if (all_idle != all_idle_) {
      all_idle_ = all_idle;
      hooks_->SetInputIdle(all_idle);
    }
    if (all_idle) return;
    if (min_wm > combined_) {
      combined_ = min_wm;
      hooks_->DeliverWatermark(0, combined_);
    }
  }

  const std::vector<Channel<T>*> channels_;
  std::vector<ChannelState> state_;
  OneInputOperator<T>* const head_;
  TaskHooks* const hooks_;
  size_t open_;
  // How many records ahead the head operator gets its Prefetch hint: far
  // enough for a DRAM read (150 to 300 ns in a VM, with the TLB miss) to
  // finish during the records in between, near enough that the hinted
  // cache lines are still there (state_bench, BM_ValueUpdateAhead: 2 and
  // 4 ahead gave 11.6M and 13.6M updates/s at 1M keys, 5.4M and 6.0M at
  // 10M).
  static constexpr size_t kPrefetchAhead = 4;

  typename Channel<T>::Batch batch_;
  size_t pos_ = 0;
  size_t current_ = 0;
  int64_t combined_ = kMinWatermark;
  bool all_idle_ = false;
  bool aligning_ = false;
  int64_t aligning_id_ = 0;
  int64_t records_ = 0;
};

// Everything the engine needs to do with records of one type.
class StreamTypeOps {
 public:
  virtual ~StreamTypeOps() = default;
  virtual std::unique_ptr<ChannelBase> MakeChannel(size_t capacity,
                                                   Wakeup* consumer) const = 0;
  virtual std::unique_ptr<WriterBase> MakeWriter(ChannelBase* channel,
                                                 size_t batch_size,
                                                 TaskHooks* hooks) const = 0;
  virtual std::unique_ptr<OutputBase> MakeChainedOutput(
      StreamOperator* next, int next_index, TaskHooks* hooks) const = 0;
  virtual std::unique_ptr<OutputBase> MakeFanOut(
      const std::vector<OutputBase*>& outputs) const = 0;
  virtual std::unique_ptr<InputGateBase> MakeInputGate(
      const std::vector<ChannelBase*>& channels, StreamOperator* head,
      TaskHooks* hooks) const = 0;
};

template <class T>
class StreamTypeOpsFor final : public StreamTypeOps {
 public:
  std::unique_ptr<ChannelBase> MakeChannel(size_t capacity,
                                           Wakeup* consumer) const override {
    return std::make_unique<Channel<T>>(capacity, consumer);
  }
  std::unique_ptr<WriterBase> MakeWriter(ChannelBase* channel,
                                         size_t batch_size,
                                         TaskHooks* hooks) const override {
    return std::make_unique<ChannelWriter<T>>(static_cast<Channel<T>*>(channel),
                                              batch_size, hooks);
  }
  std::unique_ptr<OutputBase> MakeChainedOutput(
      StreamOperator* next, int next_index, TaskHooks* hooks) const override {
    return std::make_unique<ChainedOutput<T>>(
        static_cast<OneInputOperator<T>*>(next), next_index, hooks);
  }
  std::unique_ptr<OutputBase> MakeFanOut(
      const std::vector<OutputBase*>& outputs) const override {
    std::vector<Output<T>*> typed;
    for (OutputBase* o : outputs) typed.push_back(static_cast<Output<T>*>(o));
    return std::make_unique<FanOutOutput<T>>(std::move(typed));
  }
  std::unique_ptr<InputGateBase> MakeInputGate(
      const std::vector<ChannelBase*>& channels, StreamOperator* head,
      TaskHooks* hooks) const override {
    std::vector<Channel<T>*> typed;
    for (ChannelBase* c : channels)
      typed.push_back(static_cast<Channel<T>*>(c));
    return std::make_unique<InputGate<T>>(
        std::move(typed), static_cast<OneInputOperator<T>*>(head), hooks);
  }
};

// An edge of the job graph, from the upstream node `source`.
struct EdgeDef {
  int source = -1;
  Partitioning partitioning = Partitioning::kForward;
  // Builds the network output of one upstream subtask over the writers of
  // its channels, one per downstream subtask.
  std::function<std::unique_ptr<OutputBase>(Partitioning partitioning,
                                            std::vector<WriterBase*> writers,
                                            int subtask, int max_parallelism)>
      make_network_output;
};

// A node of the job graph: one operator, untyped.
struct NodeDef {
  int index = -1;
  std::string name;
  std::string uid;
  std::string uid_hash;       // 32 hex digits, or empty
  int parallelism = 0;        // 0: the job's default
  bool non_parallel = false;  // runs with parallelism 1 only
  // Built from a single function object: one subtask only.
  bool single_instance = false;
  bool is_source = false;
  bool is_sink = false;
  bool keyed = false;          // has keyed state and timers
  bool chain_to_input = true;  // may be chained to its input
  std::vector<EdgeDef> inputs;
  // Called once per subtask; null if no more instances can be made.
  std::function<std::unique_ptr<StreamOperator>()> make_operator;
  // Called once when the job is over (not between restarts), with what
  // Job::Wait() returns; null for most nodes (push sources use it).
  std::function<void(const Status&)> on_job_end;
  // Record types of its output (null for sinks) and input (null for
  // sources).
  std::shared_ptr<const StreamTypeOps> output_type;
  std::shared_ptr<const StreamTypeOps> input_type;
};

template <class T>
std::shared_ptr<const StreamTypeOps> TypeOpsFor() {
  static const auto ops = std::make_shared<const StreamTypeOpsFor<T>>();
  return ops;
}

template <class T>
std::function<std::unique_ptr<OutputBase>(Partitioning,
                                          std::vector<WriterBase*>, int, int)>
MakeNetworkOutputFactory(std::function<std::string(const T&)> key_bytes) {
  return [key_bytes](Partitioning partitioning,
                     std::vector<WriterBase*> writers, int subtask,
                     int max_parallelism) {
    std::vector<ChannelWriter<T>*> typed;
    for (WriterBase* w : writers) {
      typed.push_back(static_cast<ChannelWriter<T>*>(w));
    }
    return std::unique_ptr<OutputBase>(std::make_unique<PartitionedOutput<T>>(
        partitioning, std::move(typed), subtask, max_parallelism, key_bytes));
  };
}

}  // namespace weir::detail
