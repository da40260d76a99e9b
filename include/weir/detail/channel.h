// SPDX-License-Identifier: Apache-2.0
//
// Channels between tasks: bounded, single-producer single-consumer queues of
// batches of stream elements. A full channel blocks its producer
// (backpressure); the consumer is woken through its task's Wakeup, which it
// shares with its other input channels and its mailbox, so one task thread
// waits on all of them at once.
//
// Internal to the engine; included by the typed templates of stream.h.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <limits>
#include <mutex>
#include <utility>
#include <vector>

namespace weir {

// Event time that is not set, and the watermarks at both ends of time.
inline constexpr int64_t kNoTimestamp = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kMinWatermark = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kMaxWatermark = std::numeric_limits<int64_t>::max();

namespace detail {

// Wakes a task thread waiting for input, mailbox actions or cancellation.
class Wakeup {
 public:
  void Notify() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      signaled_ = true;
    }
    cv_.notify_one();
  }
  // Waits until notified or `timeout` passed; clears the signal.
  void Wait(std::chrono::microseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [this] { return signaled_; });
    signaled_ = false;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool signaled_ = false;
};

// What travels through a channel besides records.
enum class ElementKind : uint8_t {
  kRecord,
  kWatermark,  // time = the watermark
  kIdle,       // the producer has no data for a while: ignore its watermark
               // until it sends a record or a watermark again
  kBarrier,    // time = checkpoint id
  kEnd,        // the producer finished; nothing follows
};

template <class T>
struct Element {
  ElementKind kind = ElementKind::kRecord;
  int64_t time = kNoTimestamp;  // record timestamp, watermark or barrier id
  T value{};
};

class ChannelBase {
 public:
  virtual ~ChannelBase() = default;
  // Wakes a blocked producer and makes further pushes fail; used to cancel.
  virtual void Close() = 0;
};

template <class T>
class Channel final : public ChannelBase {
 public:
  using Batch = std::vector<Element<T>>;

  // `capacity`: batches in flight before the producer blocks.
  Channel(size_t capacity, Wakeup* consumer)
      : capacity_(capacity), consumer_(consumer) {}

  // Blocks while the channel is full. Returns false if it was closed (the
  // batch is dropped). Leaves *batch empty, reusing a drained buffer.
  bool Push(Batch* batch) {
    bool was_empty;
    {
      std::unique_lock<std::mutex> lock(mu_);
      not_full_.wait(lock,
                     [this] { return closed_ || queue_.size() < capacity_; });
      if (closed_) {
        batch->clear();
        return false;
      }
      was_empty = queue_.empty();
      queue_.push_back(std::move(*batch));
      if (!free_.empty()) {
        *batch = std::move(free_.back());
        free_.pop_back();
      } else {
        *batch = Batch();
      }
    }
    if (was_empty) consumer_->Notify();
    return true;
  }

  // Takes the oldest batch into *out (whose old buffer is recycled).
  // Returns false if there is none.
  bool TryPop(Batch* out) {
    bool notify;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.empty()) return false;
      out->clear();
      if (out->capacity() > 0 && free_.size() < 2) {
        free_.push_back(std::move(*out));
      }
      *out = std::move(queue_.front());
      queue_.pop_front();
      notify = queue_.size() + 1 == capacity_;
    }
    if (notify) not_full_.notify_one();
    return true;
  }

  void Close() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
    }
    not_full_.notify_all();
  }

 private:
  const size_t capacity_;
  Wakeup* const consumer_;
  std::mutex mu_;
  std::condition_variable not_full_;
  std::deque<Batch> queue_;
  std::vector<Batch> free_;
  bool closed_ = false;
};

}  // namespace detail
}  // namespace weir
