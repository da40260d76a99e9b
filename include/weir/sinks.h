// SPDX-License-Identifier: Apache-2.0
//
// Built-in sinks: DiscardingSink (drops everything), PrintSink (one line per
// record on stdout), FileSink (part files in a directory, made visible when
// the input ends) and CollectSink (into a shared in-memory holder, for tests
// and embedding). docs/sources-and-sinks.md has examples.
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
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <weir/functions.h>
#include <weir/operator.h>
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

// One subtask's part file of a FileSink. The file is created on the first
// Append() as "<dir>/.part-<subtask>-<n><suffix>.inprogress", n being the
// first counter for which neither that name nor "part-<subtask>-<n><suffix>"
// exists (created with O_EXCL, so concurrent writers never share one);
// Append() buffers up to kBufferBytes before a write(). Commit() flushes,
// fsyncs and renames it to "<dir>/part-<subtask>-<n><suffix>", then fsyncs
// the directory.
class PartFileWriter {
 public:
  static constexpr size_t kBufferBytes = size_t{64} << 10;

  PartFileWriter() = default;
  ~PartFileWriter();  // Close()
  PartFileWriter(const PartFileWriter&) = delete;
  PartFileWriter& operator=(const PartFileWriter&) = delete;

  // Creates `dir` (and parents) if missing. IOError or InvalidArgument
  // (not a directory) naming the path.
  Status Open(std::string dir, int subtask, std::string suffix);
  // IOError naming the file if it cannot be created or written.
  Status Append(std::string_view data);
  // Makes the part file visible. OK and nothing happens if nothing was
  // appended. After Commit(), Append() starts no new file: the writer is
  // done.
  Status Commit();
  // Writes out the buffer (best effort) and closes the file without
  // renaming it: an in-progress file stays behind.
  void Close();

  // The committed file's path; empty before Commit() or if nothing was
  // written.
  const std::string& committed_path() const { return committed_path_; }

 private:
  Status CreateFile();
  Status FlushBuffer();

  std::string dir_;
  std::string suffix_;
  int subtask_ = 0;
  int fd_ = -1;
  std::string in_progress_path_;
  std::string final_path_;
  std::string committed_path_;
  std::string buf_;
  bool done_ = false;
};

}  // namespace internal

// Writes formatter(record) + '\n' per record into part files in `dir`,
// created if missing (Flink's FileSink with row format, without rolling).
// Each subtask writes one file per run: ".part-<subtask>-<n><suffix>
// .inprogress" while the job runs, fsynced and renamed to
// "part-<subtask>-<n><suffix>" when its input ends, where n is the first
// counter with no existing part file of that subtask, so a rerun never
// overwrites earlier output. A subtask that received no record writes no
// file. If the job is cancelled or fails, the in-progress file stays behind
// with what was written so far and is never renamed (a later run neither
// reuses nor removes it). Writes are buffered (64 KiB).
template <class T>
class FileSink final : public SinkFunction<T> {
 public:
  FileSink(std::string dir, Formatter<T> formatter, std::string suffix = "")
      : dir_(std::move(dir)),
        suffix_(std::move(suffix)),
        formatter_(std::move(formatter)) {}

  static SinkFactory<T> Factory(std::string dir, Formatter<T> formatter,
                                std::string suffix = "") {
    return [dir, formatter, suffix]() -> std::unique_ptr<SinkFunction<T>> {
      return std::make_unique<FileSink<T>>(dir, formatter, suffix);
    };
  }

  Status Open(OperatorContext& ctx) override {
    return writer_.Open(dir_, ctx.subtask(), suffix_);
  }
  Status Invoke(const T& value, int64_t timestamp) override {
    (void)timestamp;
    line_ = formatter_(value);
    line_ += '\n';
    return writer_.Append(line_);
  }
  Status Finish() override { return writer_.Commit(); }
  Status Close() override {
    writer_.Close();
    return Status::OK();
  }

  // The part file written, once the input has ended; empty before.
  const std::string& committed_path() const { return writer_.committed_path(); }

 private:
  std::string dir_;
  std::string suffix_;
  Formatter<T> formatter_;
  internal::PartFileWriter writer_;
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
