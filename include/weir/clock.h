// SPDX-License-Identifier: Apache-2.0
//
// Clock: the source of processing time. State TTL and processing-time timers
// read it; tests inject a ManualClock so that they never sleep.
//
// Thread safety: NowMillis() may be called from any thread (RocksDB calls it
// from compaction threads to expire TTL state).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace weir {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual int64_t NowMillis() const = 0;
  // Microseconds since the Unix epoch, for rate limits finer than a
  // millisecond. Default: NowMillis() * 1000.
  virtual int64_t NowMicros() const { return NowMillis() * 1000; }
};

// The wall clock (CLOCK_REALTIME). Shared, never null.
std::shared_ptr<Clock> SystemClock();

// A clock that moves only when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now_ms = 0) : now_ms_(now_ms) {}
  int64_t NowMillis() const override {
    return now_ms_.load(std::memory_order_acquire);
  }
  void SetMillis(int64_t now_ms) {
    now_ms_.store(now_ms, std::memory_order_release);
  }
  void AdvanceMillis(int64_t delta_ms) {
    now_ms_.fetch_add(delta_ms, std::memory_order_acq_rel);
  }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace weir
