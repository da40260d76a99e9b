// SPDX-License-Identifier: Apache-2.0
//
// Built-in sources: a collection (FromElements), a deterministic event
// generator with an optional rate limit, and a text file read line by line
// (optionally followed like `tail -f`). docs/sources-and-sinks.md has
// examples.
//
// Every source here is replayable: it keeps its position (its offset) in the
// operator list state "offset" of its operator, writes it in
// SnapshotState() and continues from it in Open(). The state is a union list
// of one entry per subtask, tagged with the subtask index and the
// parallelism that wrote it; each subtask takes back its own entry. The
// collection and generator sources restore at any parallelism (their
// offsets are splits of a sequence that the new subtasks share out:
// SequencePosition); the file source reads with one subtask.
//
// Thread safety: a source function belongs to one task thread, like every
// function of functions.h. Factories may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <weir/functions.h>
#include <weir/operator.h>
#include <weir/result.h>
#include <weir/serializer.h>
#include <weir/status.h>

namespace weir {

template <class T>
using SourceFactory = std::function<std::unique_ptr<SourceFunction<T>>()>;

namespace internal {

class SequenceCursor;  // engine/sources/sequence_cursor.h

// The position of a sequence source (CollectionSource, GeneratorSource):
// the numbers in [0, end) that this subtask has still to emit, kept as
// splits in the operator list state "offset" (see the top of this file).
class SequencePosition {
 public:
  SequencePosition();
  ~SequencePosition();
  SequencePosition(const SequencePosition&) = delete;
  SequencePosition& operator=(const SequencePosition&) = delete;

  // Takes this subtask's share of the numbers below `end` (-1: unbounded)
  // from ctx's "offset" state: on a fresh start s, s + p, s + 2p, ...; on
  // a restore what the snapshot had left, shared out anew if the
  // parallelism changed. InvalidArgument (naming `source`) if the state's
  // entries are not one per subtask of one parallelism; Corruption if one
  // cannot be decoded.
  Status Open(OperatorContext& ctx, std::string_view source, int64_t end);
  // Bounded and nothing left.
  bool Done() const;
  // The smallest number left, or `end` when done. REQUIRES: not Done() for
  // an unbounded sequence.
  int64_t Peek() const;
  // Returns the smallest number left and moves past it. REQUIRES: !Done().
  int64_t Take();
  // Replaces this subtask's entry of the "offset" state with what is left.
  Status Store(OperatorContext& ctx) const;

 private:
  std::unique_ptr<SequenceCursor> cursor_;
};

}  // namespace internal

// ---------------------------------------------------------------- collection

// Emits the elements of a vector, in order. Subtask s of p emits the
// elements at the indices i with i % p == s, so that every element is
// emitted once whatever the parallelism. Offset: the splits of the indices
// still to emit (SequencePosition), at any parallelism. Records
// carry no timestamp unless the source's WatermarkStrategy assigns one.
//
//   b.AddSource<int>(FromElements<int>({1, 2, 3}), "numbers")
template <class T>
class CollectionSource final : public SourceFunction<T> {
 public:
  explicit CollectionSource(std::vector<T> elements)
      : elements_(std::make_shared<const std::vector<T>>(std::move(elements))) {
  }
  // Shares `elements` (not copied) with other instances.
  explicit CollectionSource(std::shared_ptr<const std::vector<T>> elements)
      : elements_(std::move(elements)) {}

  // A factory for any parallelism; the instances share one copy of the
  // elements.
  static SourceFactory<T> Factory(std::vector<T> elements) {
    auto shared = std::make_shared<const std::vector<T>>(std::move(elements));
    return [shared]() -> std::unique_ptr<SourceFunction<T>> {
      return std::make_unique<CollectionSource<T>>(shared);
    };
  }

  Status Open(OperatorContext& ctx) override {
    return position_.Open(ctx, "CollectionSource",
                          static_cast<int64_t>(elements_->size()));
  }

  Result<SourceStatus> Poll(SourceOutput<T>& out, int max_records) override {
    for (int n = 0; n < max_records && !position_.Done(); ++n) {
      out.Collect((*elements_)[static_cast<size_t>(position_.Take())]);
    }
    return position_.Done() ? SourceStatus::End() : SourceStatus::More();
  }

  Status SnapshotState(OperatorContext& ctx) override {
    return position_.Store(ctx);
  }

  // The smallest index this subtask has still to emit (the size when done).
  int64_t next_index() const { return position_.Peek(); }

 private:
  std::shared_ptr<const std::vector<T>> elements_;
  internal::SequencePosition position_;
};

// Flink's fromElements / fromCollection: a CollectionSource factory.
template <class T>
SourceFactory<T> FromElements(std::vector<T> elements) {
  return CollectionSource<T>::Factory(std::move(elements));
}

// ---------------------------------------------------------------- generator

// One event of GeneratorSource. Every field is a function of the options'
// seed and of `seq` (GeneratorSource::Generate).
struct GeneratedEvent {
  int64_t seq = 0;
  std::string key;
  int64_t value = 0;
  int64_t timestamp = 0;  // event time in ms: seq * ts_step_ms

  auto operator<=>(const GeneratedEvent&) const = default;
};

// Stored as [seq][key length][key][value][timestamp], fixed-width fields.
template <>
struct Serializer<GeneratedEvent> {
  static constexpr uint32_t kVersion = 1;
  void Serialize(const GeneratedEvent& value, std::string* out) const;
  Status Deserialize(uint32_t version, std::string_view in,
                     GeneratedEvent* out) const;
};

struct GeneratorOptions {
  // Keys are "key-0" .. "key-<num_keys - 1>". Default: 1000. Must be >= 1.
  int64_t num_keys = 1000;
  // Records in total, over all subtasks; -1 for an unbounded source.
  // Default: -1.
  int64_t count = -1;
  // Records per second in total, split evenly over the subtasks (each runs
  // a token bucket of rate / p per second that holds at most one second of
  // tokens and starts empty at Open()); 0 for as fast as possible.
  // Processing time comes from the job's clock, so under a ManualClock
  // nothing is emitted until the clock moves. Default: 0.
  double rate = 0;
  // Seeds the keys and values. Default: 0.
  uint64_t seed = 0;
  // Event time step: the event with sequence number seq has timestamp
  // seq * ts_step_ms. Default: 1 (ms).
  int64_t ts_step_ms = 1;
};

// Deterministic events for tests, demos and benchmarks. Subtask s of p
// generates the sequence numbers s, s + p, s + 2p, ... (below `count`), so
// the multiset of events does not depend on the parallelism. For event seq:
//
//   key       = "key-" + (Hash64WithSeed(seq, seed) % num_keys)
//   value     = Hash64WithSeed(seq, ~seed) % 1000
//   timestamp = seq * ts_step_ms
//
// where the hash is XXH3-64 of seq as 8 little-endian bytes. Records are
// emitted with their timestamp; to get watermarks, add the source with a
// WatermarkStrategy, e.g. GeneratorSource::Watermarks() (timestamps ascend
// within a subtask). Offset: the splits of the sequence still to generate
// (SequencePosition), so a restore at another parallelism goes on with
// exactly the events not yet emitted.
class GeneratorSource final : public SourceFunction<GeneratedEvent> {
 public:
  explicit GeneratorSource(GeneratorOptions options);

  // A factory for any parallelism.
  static SourceFactory<GeneratedEvent> Factory(GeneratorOptions options);
  // ForMonotonousTimestamps on GeneratedEvent::timestamp.
  static WatermarkStrategy<GeneratedEvent> Watermarks();
  // The event with sequence number `seq`.
  static GeneratedEvent Generate(const GeneratorOptions& options, int64_t seq);

  // InvalidArgument if the options are out of range (num_keys < 1,
  // count < -1, rate < 0, ts_step_ms < 0).
  Status Open(OperatorContext& ctx) override;
  Result<SourceStatus> Poll(SourceOutput<GeneratedEvent>& out,
                            int max_records) override;
  Status SnapshotState(OperatorContext& ctx) override;

  // The smallest sequence number this subtask has still to generate
  // (`count` when done).
  int64_t next_seq() const { return position_.Peek(); }

 private:
  GeneratorOptions options_;
  const Clock* clock_ = nullptr;
  internal::SequencePosition position_;
  // Token bucket, when options_.rate > 0.
  double rate_per_us_ = 0;  // of this subtask
  double tokens_ = 0;
  double max_tokens_ = 0;
  int64_t last_refill_us_ = 0;
};

// ---------------------------------------------------------------- file

struct FileSourceOptions {
  enum class OnError : uint8_t {
    kFail,  // a parse error fails the job: "<path>:<line>: <message>"
    kSkip,  // count it (records skipped, JobInfo) and go on
  };

  // The file to read. Required.
  std::string path;
  // Keep reading as the file grows (`tail -f`): at its end, wait and look
  // again; a last line without '\n' is held back until it is completed.
  // The source then never ends; cancel the job. Without `follow`, the
  // source ends at the end of the file, and a final line without '\n' is
  // still a record. Truncation and rotation are not detected.
  // Default: false.
  bool follow = false;
  // Default: kFail.
  OnError on_error = OnError::kFail;
  // With `follow`: how long to wait at the end of the file before looking
  // again, in ms. Default: 100.
  int64_t poll_interval_ms = 100;
};

namespace internal {

class LineReader;  // engine/sources/line_reader.h

// FileSource apart from parsing: the file, read line by line, and the
// source's offset (the byte offset of the next unread line and the number
// of lines read) in the operator list state "offset".
class FileSourceReader {
 public:
  FileSourceReader();
  ~FileSourceReader();
  FileSourceReader(const FileSourceReader&) = delete;
  FileSourceReader& operator=(const FileSourceReader&) = delete;

  // Opens options.path at the offset in ctx's state (the start of the file
  // on a fresh start). InvalidArgument if no path is given, at parallelism
  // > 1, or if the state was written at another parallelism; NotFound if
  // the file does not exist; Corruption if the state cannot be decoded.
  Status Open(OperatorContext& ctx, const FileSourceOptions& options);
  // Sets *line to the next line (without its line end) and counts it; false
  // at the end of the file. A last line without '\n' is held back while
  // the options say `follow` (it may still be growing).
  Result<bool> Next(std::string_view* line);
  void Close();
  // Writes the offset into this subtask's entry of the "offset" state.
  Status SnapshotState(OperatorContext& ctx) const;

  // The number of the last line read (lines count from 1).
  int64_t lines_read() const { return line_; }

 private:
  std::unique_ptr<LineReader> reader_;
  bool follow_ = false;
  int64_t line_ = 0;
};

}  // namespace internal

// Reads a text file line by line and turns each line into a record with a
// parser: Result<std::optional<T>>(std::string_view line), where nullopt
// skips the line (a header or a blank line, say) and an error is handled as
// `on_error` says. Lines are numbered from 1.
//
// A file is read by one subtask: add the source with non_parallel = true.
// Open() fails with InvalidArgument at parallelism > 1, and with NotFound
// if the file does not exist.
//
// Offset: the byte offset of the next unread line and the number of lines
// read. A restored source seeks there, so no line is read twice.
//
//   b.AddSource<Trade>(FileSource<Trade>::Create(opts, ParseTrade), "trades",
//                      {}, /*non_parallel=*/true)
template <class T>
class FileSource final : public SourceFunction<T> {
 public:
  using Parser = std::function<Result<std::optional<T>>(std::string_view)>;

  FileSource(FileSourceOptions options, Parser parser)
      : options_(std::move(options)), parser_(std::move(parser)) {}

  static std::unique_ptr<SourceFunction<T>> Create(FileSourceOptions options,
                                                   Parser parser) {
    return std::make_unique<FileSource<T>>(std::move(options),
                                           std::move(parser));
  }

  Status Open(OperatorContext& ctx) override {
    ctx_ = &ctx;
    return reader_.Open(ctx, options_);
  }

  Result<SourceStatus> Poll(SourceOutput<T>& out, int max_records) override {
    std::string_view text;
    for (int n = 0; n < max_records; ++n) {
      Result<bool> got = reader_.Next(&text);
      if (!got.ok()) return got.status();
      if (!*got) {
        if (!options_.follow) return SourceStatus::End();
        return SourceStatus::Waiting(options_.poll_interval_ms);
      }
      Result<std::optional<T>> parsed = parser_(text);
      if (!parsed.ok()) {
        if (options_.on_error == FileSourceOptions::OnError::kFail) {
          return parsed.status().WithContext(options_.path + ":" +
                                             std::to_string(lines_read()));
        }
        ctx_->CountRecordSkipped();
        continue;
      }
      if (parsed->has_value()) out.Collect(std::move(**parsed));
    }
    return SourceStatus::More();
  }

  Status SnapshotState(OperatorContext& ctx) override {
    return reader_.SnapshotState(ctx);
  }

  Status Close() override {
    reader_.Close();
    return Status::OK();
  }

  // Lines read so far (the number of the last line read).
  int64_t lines_read() const { return reader_.lines_read(); }

 private:
  FileSourceOptions options_;
  Parser parser_;
  OperatorContext* ctx_ = nullptr;
  internal::FileSourceReader reader_;
};

}  // namespace weir
