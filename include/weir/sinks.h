// SPDX-License-Identifier: Apache-2.0
//
// Built-in sinks: DiscardingSink (drops everything), CallbackSink (a
// function of the host's), PrintSink (one line per record on stdout), FileSink
// (part files in a directory, committed when a checkpoint completes or the
// input ends) and CollectSink (into a shared in-memory holder, for tests and
// embedding). docs/sources-and-sinks.md has examples.
//
// Each sink has a Factory() for any parallelism; a sink given to SinkTo() as
// a unique_ptr serves parallelism 1 only (stream.h).
//
// Thread safety: a sink function belongs to one task thread. CollectedRecords
// may be used from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <weir/functions.h>
#include <weir/operator.h>
#include <weir/result.h>
#include <weir/status.h>

namespace weir {

template <class T>
using SinkFactory = std::function<std::unique_ptr<SinkFunction<T>>()>;

template <class T>
using Formatter = std::function<std::string(const T&)>;

template <class T>
concept Streamable = requires(std::ostream& os, const T& value) {
  os << value;
};

// ---------------------------------------------------------------- discard

// Drops every record (Flink's DiscardingSink): for benchmarks and jobs run
// for their state.
template <class T>
class DiscardingSink final : public SinkFunction<T> {
 public:
  static SinkFactory<T> Factory() {
    return []() -> std::unique_ptr<SinkFunction<T>> {
      return std::make_unique<DiscardingSink<T>>();
    };
  }
  Status Invoke(const T& value, int64_t timestamp) override {
    (void)value;
    (void)timestamp;
    return Status::OK();
  }
};

// ---------------------------------------------------------------- callback

// Calls a function of the host's per record, on the sink task's thread, in
// the order the records reach that subtask:
//
//   stream.SinkTo([&](const Total& t) { Publish(t); });   // stream.h
//   stream.SinkTo(CallbackSink<Total>::Factory(fn));
//
// The function returns void, or a Status: a non-OK one fails the job with
// its message. With parallelism > 1 every subtask calls its own copy of the
// function, from its own thread, so a function that shares anything must
// synchronize. A slow function slows the job down (backpressure). It sees
// every record as it arrives: without a two-phase protocol, a restore
// replays the records after the checkpoint, so it may see them again.
template <class T>
class CallbackSink final : public SinkFunction<T> {
 public:
  using Callback = std::function<Status(const T&)>;

  explicit CallbackSink(Callback fn) : fn_(std::move(fn)) {}

  // F: void(const T&) or Status(const T&).
  template <class F>
  static SinkFactory<T> Factory(F fn) {
    Callback callback;
    if constexpr (std::is_same_v<std::invoke_result_t<F&, const T&>, Status>) {
      callback = std::move(fn);
    } else {
      callback = [fn = std::move(fn)](const T& value) mutable {
        fn(value);
        return Status::OK();
      };
    }
    return [callback]() -> std::unique_ptr<SinkFunction<T>> {
      return std::make_unique<CallbackSink<T>>(callback);
    };
  }

  Status Invoke(const T& value, int64_t timestamp) override {
    (void)timestamp;
    return fn_(value);
  }

 private:
  Callback fn_;
};

// ---------------------------------------------------------------- print

namespace internal {
// Writes `line` with one fwrite (stdio's lock keeps lines of concurrent
// subtasks whole). IOError if the stream reports an error.
Status WriteLine(std::FILE* out, std::string_view line);
Status FlushStream(std::FILE* out);
}  // namespace internal

// Writes formatter(record) + '\n' per record to stdout (or `out`), through
// stdio's buffer, as Flink's print() does; when the sink runs with
// parallelism > 1 each line starts with "<subtask + 1>> ". Flushes at the end
// of the input and at Close(). Without a formatter, T must be printable
// with operator<<.
template <class T>
class PrintSink final : public SinkFunction<T> {
 public:
  // clang-format off
  PrintSink() requires Streamable<T> : PrintSink(StreamFormatter()) {}
  // clang-format on
  // `out` is not owned and must outlive the sink. Default: stdout.
  explicit PrintSink(Formatter<T> formatter, std::FILE* out = stdout)
      : formatter_(std::move(formatter)), out_(out) {}

  static SinkFactory<T> Factory(Formatter<T> formatter,
                                std::FILE* out = stdout) {
    return [formatter, out]() -> std::unique_ptr<SinkFunction<T>> {
      return std::make_unique<PrintSink<T>>(formatter, out);
    };
  }

  Status Open(OperatorContext& ctx) override {
    if (ctx.parallelism() > 1) prefix_ = std::to_string(ctx.subtask() + 1);
    if (!prefix_.empty()) prefix_ += "> ";
    return Status::OK();
  }
  Status Invoke(const T& value, int64_t timestamp) override {
    (void)timestamp;
    line_.assign(prefix_);
    line_ += formatter_(value);
    line_ += '\n';
    return internal::WriteLine(out_, line_);
  }
  Status Finish() override { return internal::FlushStream(out_); }
  Status Close() override { return internal::FlushStream(out_); }

 private:
  static Formatter<T> StreamFormatter() {
    return [](const T& value) {
      std::ostringstream os;
      os << value;
      return std::move(os).str();
    };
  }

  Formatter<T> formatter_;
  std::FILE* out_;
  std::string prefix_;
  std::string line_;
};

// ---------------------------------------------------------------- file

namespace internal {

class FileSinkWriter;  // engine/sinks/file_sink_writer.h

// FileSink apart from formatting: the part files of one subtask and their
// two-phase commit, as FileSink below describes. Each method is the
// SinkFunction method of the same name.
class FileSinkOutput {
 public:
  FileSinkOutput(std::string dir, std::string suffix);
  ~FileSinkOutput();
  FileSinkOutput(const FileSinkOutput&) = delete;
  FileSinkOutput& operator=(const FileSinkOutput&) = delete;

  // Creates the directory if missing; after a restore, publishes or
  // removes what the snapshot's run left staged.
  Status Open(OperatorContext& ctx);
  // Appends `data` to the current part file, starting one if none is open.
  Status Append(std::string_view data);
  Status SnapshotState(OperatorContext& ctx, int64_t checkpoint_id);
  Status NotifyCheckpointComplete(int64_t checkpoint_id);
  Status Finish();
  void Close();

  // The part files published, in order (paths in the directory).
  const std::vector<std::string>& committed_paths() const;

 private:
  std::string dir_;
  std::string suffix_;
  std::unique_ptr<FileSinkWriter> writer_;
};

}  // namespace internal

// Writes formatter(record) + '\n' per record into part files in `dir`,
// created if missing (Flink's FileSink with row format), with exactly-once
// output when the job checkpoints: a file becomes visible only when the
// checkpoint that covers its records completes, and a restore commits or
// discards what a killed run left staged. docs/sources-and-sinks.md has the
// full story.
//
// Files of subtask s: ".part-<s>-<n><suffix>.inprogress" while written,
// ".part-<s>-<n><suffix>.pending" once staged, "part-<s>-<n><suffix>" once
// committed. n is the first counter, from the one kept in state, with no
// file of that name in any form, so no run overwrites earlier output.
//
// - SnapshotState(N): the current file (if any record arrived since the
//   last checkpoint) is fsynced and renamed to pending for N; this
//   subtask's entry in the union operator list state "file-sink" records
//   the directory, the next counter and every pending file with its
//   checkpoint. Records after the barrier go into a new file.
// - NotifyCheckpointComplete(N): every file pending for a checkpoint <= N
//   is renamed to its final name and the directory fsynced.
// - Open() after a restore: the snapshot's pending files belong to a
//   completed checkpoint and are published (idempotently; subtask i
//   publishes those of old subtasks j with j % parallelism == i, so any
//   parallelism works); every other hidden file of those subtasks in the
//   directory was written after the snapshot and is deleted. Open() of a
//   fresh start touches no existing file.
// - Finish() (end of input) publishes everything, staged or in progress.
//   Without checkpoints each subtask writes one file, committed here.
// - Close() without Finish() (cancel, failure) leaves the in-progress and
//   pending files hidden, for a restore to discard or publish.
//
// A subtask that received no record writes no file. Writes are buffered
// (64 KiB). One FileSink per directory and suffix.
template <class T>
class FileSink final : public SinkFunction<T> {
 public:
  FileSink(std::string dir, Formatter<T> formatter, std::string suffix = "")
      : output_(std::move(dir), std::move(suffix)),
        formatter_(std::move(formatter)) {}

  static SinkFactory<T> Factory(std::string dir, Formatter<T> formatter,
                                std::string suffix = "") {
    return [dir, formatter, suffix]() -> std::unique_ptr<SinkFunction<T>> {
      return std::make_unique<FileSink<T>>(dir, formatter, suffix);
    };
  }

  Status Open(OperatorContext& ctx) override { return output_.Open(ctx); }
  Status Invoke(const T& value, int64_t timestamp) override {
    (void)timestamp;
    line_ = formatter_(value);
    line_ += '\n';
    return output_.Append(line_);
  }
  Status SnapshotState(OperatorContext& ctx, int64_t checkpoint_id) override {
    return output_.SnapshotState(ctx, checkpoint_id);
  }
  Status NotifyCheckpointComplete(int64_t checkpoint_id) override {
    return output_.NotifyCheckpointComplete(checkpoint_id);
  }
  Status Finish() override { return output_.Finish(); }
  Status Close() override {
    output_.Close();
    return Status::OK();
  }

  // The part files this sink published, in order.
  const std::vector<std::string>& committed_paths() const {
    return output_.committed_paths();
  }

 private:
  internal::FileSinkOutput output_;
  Formatter<T> formatter_;
  std::string line_;
};

// ---------------------------------------------------------------- collect

// The records a CollectSink received, in arrival order (per subtask; the
// order across subtasks is unspecified). Shared by the sinks of all
// subtasks and the thread that reads them; every method is thread-safe.
template <class T>
class CollectedRecords {
 public:
  void Add(T value) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      values_.push_back(std::move(value));
      if (waiters_ == 0) return;
    }
    cv_.notify_all();
  }

  // A copy of the records received so far.
  std::vector<T> values() const {
    std::lock_guard<std::mutex> lock(mu_);
    return values_;
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return values_.size();
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    values_.clear();
  }

  // Blocks until at least `n` records have arrived or `timeout` has passed
  // (wall time); returns whether `n` were reached.
  bool WaitForCount(size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> lock(mu_);
    ++waiters_;
    const bool reached =
        cv_.wait_for(lock, timeout, [&] { return values_.size() >= n; });
    --waiters_;
    return reached;
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable int waiters_ = 0;
  std::vector<T> values_;
};

// Appends every record to a CollectedRecords holder.
//
//   auto out = std::make_shared<CollectedRecords<int>>();
//   stream.SinkTo(CollectSink<int>::Factory(out));
//   ... job->Start(); out->WaitForCount(3, 10s); out->values();
template <class T>
class CollectSink final : public SinkFunction<T> {
 public:
  explicit CollectSink(std::shared_ptr<CollectedRecords<T>> target)
      : target_(std::move(target)) {}

  static SinkFactory<T> Factory(std::shared_ptr<CollectedRecords<T>> target) {
    return [target]() -> std::unique_ptr<SinkFunction<T>> {
      return std::make_unique<CollectSink<T>>(target);
    };
  }

  Status Invoke(const T& value, int64_t timestamp) override {
    (void)timestamp;
    target_->Add(value);
    return Status::OK();
  }

 private:
  std::shared_ptr<CollectedRecords<T>> target_;
};

}  // namespace weir
