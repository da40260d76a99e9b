// SPDX-License-Identifier: Apache-2.0
//
// Small sources and sinks for the engine's own tests.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <weir/functions.h>
#include <weir/stream.h>

namespace weir::enginetest {

struct Event {
  std::string key;
  int64_t value = 0;
  int64_t time = 0;
  bool operator==(const Event&) const = default;
};

}  // namespace weir::enginetest

template <>
struct weir::Serializer<weir::enginetest::Event> {
  static constexpr uint32_t kVersion = 1;
  void Serialize(const enginetest::Event& e, std::string* out) const {
    Serializer<std::string>().Serialize(e.key, out);
    Serializer<int64_t>().Serialize(e.value, out);
    Serializer<int64_t>().Serialize(e.time, out);
  }
  Status Deserialize(uint32_t, std::string_view in,
                     enginetest::Event* e) const {
    if (in.size() < 16) return Status::Corruption("short event");
    const size_t n = in.size() - 16;
    Status s =
        Serializer<std::string>().Deserialize(1, in.substr(0, n), &e->key);
    if (!s.ok()) return s;
    s = Serializer<int64_t>().Deserialize(1, in.substr(n, 8), &e->value);
    if (!s.ok()) return s;
    return Serializer<int64_t>().Deserialize(1, in.substr(n + 8), &e->time);
  }
};

namespace weir::enginetest {

// Emits `events`; subtask s of p takes every p-th one starting at s.
// `batch` records per poll.
class EventSource final : public SourceFunction<Event> {
 public:
  explicit EventSource(std::shared_ptr<const std::vector<Event>> events,
                       int batch = 64)
      : events_(std::move(events)), batch_(batch) {}

  Status Open(OperatorContext& ctx) override {
    next_ = static_cast<size_t>(ctx.subtask());
    step_ = static_cast<size_t>(ctx.parallelism());
    return Status::OK();
  }
  Result<SourceStatus> Poll(SourceOutput<Event>& out, int max) override {
    for (int i = 0; i < std::min(max, batch_) && next_ < events_->size();
         ++i, next_ += step_) {
      out.Collect((*events_)[next_]);
    }
    if (next_ >= events_->size()) return SourceStatus::End();
    return SourceStatus::More();
  }

 private:
  std::shared_ptr<const std::vector<Event>> events_;
  int batch_;
  size_t next_ = 0;
  size_t step_ = 1;
};

inline std::function<std::unique_ptr<SourceFunction<Event>>()> Events(
    std::vector<Event> events, int batch = 64) {
  auto shared = std::make_shared<const std::vector<Event>>(std::move(events));
  return [shared, batch] {
    return std::unique_ptr<SourceFunction<Event>>(
        std::make_unique<EventSource>(shared, batch));
  };
}

// Never ends; emits `key` records as fast as it may (or `per_poll` a poll).
class EndlessSource final : public SourceFunction<Event> {
 public:
  explicit EndlessSource(std::shared_ptr<std::atomic<int64_t>> emitted)
      : emitted_(std::move(emitted)) {}
  Result<SourceStatus> Poll(SourceOutput<Event>& out, int max) override {
    for (int i = 0; i < max; ++i) {
      out.Collect(Event{"k" + std::to_string(n_ % 10), n_, n_});
      ++n_;
      emitted_->fetch_add(1);
    }
    return SourceStatus::More();
  }

 private:
  std::shared_ptr<std::atomic<int64_t>> emitted_;
  int64_t n_ = 0;
};

// Collects everything, from every subtask.
template <class T>
class Collected {
 public:
  void Add(T v) {
    std::lock_guard<std::mutex> lock(mu_);
    values_.push_back(std::move(v));
    cv_.notify_all();
  }
  std::vector<T> values() const {
    std::lock_guard<std::mutex> lock(mu_);
    return values_;
  }
  bool WaitForSize(size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return values_.size() >= n; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<T> values_;
};

template <class T>
class CollectingSink final : public SinkFunction<T> {
 public:
  explicit CollectingSink(std::shared_ptr<Collected<T>> out)
      : out_(std::move(out)) {}
  Status Invoke(const T& value, int64_t) override {
    out_->Add(value);
    return Status::OK();
  }

 private:
  std::shared_ptr<Collected<T>> out_;
};

template <class T>
std::function<std::unique_ptr<SinkFunction<T>>()> CollectInto(
    std::shared_ptr<Collected<T>> out) {
  return [out] {
    return std::unique_ptr<SinkFunction<T>>(
        std::make_unique<CollectingSink<T>>(out));
  };
}

}  // namespace weir::enginetest
