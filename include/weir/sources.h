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
// LoadSequenceSplits); the file source reads with one subtask.
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

// A source subtask's position. What the fields mean is up to the source:
// CollectionSource and GeneratorSource keep the next index or sequence
// number in `position`; FileSource keeps the byte offset of the next unread
// line in `position` and the number of lines read in `line`.
struct SourceOffset {
  int64_t position = 0;
  int64_t line = 0;
};

// This subtask's offset from the operator list state "offset" of
// ctx.operator_id(), or nullopt if nothing was stored (a fresh start).
// InvalidArgument (naming `source`) if the state was written at another
// parallelism; Corruption if an entry cannot be decoded.
Result<std::optional<SourceOffset>> LoadSourceOffset(OperatorContext& ctx,
                                                     std::string_view source);
// Replaces this subtask's entry of the "offset" state with `offset`.
Status StoreSourceOffset(OperatorContext& ctx, const SourceOffset& offset);

// What is left of a sequence source (CollectionSource, GeneratorSource):
// the numbers next, next + stride, next + 2 * stride, ... below the end.
struct SequenceSplit {
  int64_t next = 0;
  int64_t stride = 1;
  bool operator==(const SequenceSplit&) const = default;
};

// The splits this subtask of a sequence source emits, from the "offset"
// state. `end` is the first number not emitted, or -1 if unbounded; splits
// at or past it are dropped.
//  - A fresh start: {subtask, parallelism}.
//  - A restore at the snapshot's parallelism: this subtask's own splits.
//  - A restore at another parallelism: every old subtask's splits, in the
//    order of the old subtasks; if there are fewer (count) than the new
//    parallelism p, each is cut once into k = ceil(p / count) splits
//    (next + r * stride, k * stride), r < k; then split i goes to subtask
//    i % p.
//    Every subtask computes the same list from the union state, so every
//    number still to come is emitted once, by one subtask.
// InvalidArgument (naming `source`) if the entries are not one per subtask
// of one parallelism; Corruption if an entry cannot be decoded.
Result<std::vector<SequenceSplit>> LoadSequenceSplits(OperatorContext& ctx,
                                                      std::string_view source,
                                                      int64_t end);
// Replaces this subtask's entry of the "offset" state with `splits`.
Status StoreSequenceSplits(OperatorContext& ctx,
                           const std::vector<SequenceSplit>& splits);

// Walks a subtask's splits in ascending order of their numbers (so that
// timestamps derived from them ascend within the subtask).
class SequenceCursor {
 public:
  void Reset(std::vector<SequenceSplit> splits, int64_t end) {
    splits_ = std::move(splits);
    end_ = end;
    std::erase_if(splits_, [&](const SequenceSplit& s) { return Past(s); });
  }
  // Bounded and nothing left.
  bool Done() const { return splits_.empty(); }
  // The smallest number left, or `end` when done. REQUIRES: not Done() for
  // an unbounded cursor.
  int64_t Peek() const { return Done() ? end_ : splits_[Min()].next; }
  // Returns the smallest number left and moves past it. REQUIRES: !Done().
  int64_t Take() {
    const size_t i = Min();
    const int64_t n = splits_[i].next;
    splits_[i].next += splits_[i].stride;
    if (Past(splits_[i])) splits_.erase(splits_.begin() + i);
    return n;
  }
  const std::vector<SequenceSplit>& splits() const { return splits_; }

 private:
  bool Past(const SequenceSplit& s) const {
    return end_ >= 0 && s.next >= end_;
  }
  size_t Min() const {
    size_t m = 0;
    for (size_t i = 1; i < splits_.size(); ++i) {
      if (splits_[i].next < splits_[m].next) m = i;
    }
    return m;
  }

  std::vector<SequenceSplit> splits_;
  int64_t end_ = -1;
};

}  // namespace internal

// ---------------------------------------------------------------- collection

// Emits the elements of a vector, in order. Subtask s of p emits the
// elements at the indices i with i % p == s, so that every element is
// emitted once whatever the parallelism. Offset: the splits of the indices
// still to emit (LoadSequenceSplits), at any parallelism. Records
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
    const auto size = static_cast<int64_t>(elements_->size());
    Result<std::vector<internal::SequenceSplit>> splits =
        internal::LoadSequenceSplits(ctx, "CollectionSource", size);
    if (!splits.ok()) return splits.status();
    cursor_.Reset(std::move(*splits), size);
    return Status::OK();
  }

  Result<SourceStatus> Poll(SourceOutput<T>& out, int max_records) override {
    for (int n = 0; n < max_records && !cursor_.Done(); ++n) {
      out.Collect((*elements_)[static_cast<size_t>(cursor_.Take())]);
    }
    return cursor_.Done() ? SourceStatus::End() : SourceStatus::More();
  }

  Status SnapshotState(OperatorContext& ctx) override {
    return internal::StoreSequenceSplits(ctx, cursor_.splits());
  }

  // The smallest index this subtask has still to emit (the size when done).
  int64_t next_index() const { return cursor_.Peek(); }

 private:
  std::shared_ptr<const std::vector<T>> elements_;
  internal::SequenceCursor cursor_;
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
// (LoadSequenceSplits), so a restore at another parallelism goes on with
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
  int64_t next_seq() const { return cursor_.Peek(); }

 private:
  GeneratorOptions options_;
  const Clock* clock_ = nullptr;
  internal::SequenceCursor cursor_;
  // Token bucket, when options_.rate > 0.
  double rate_per_us_ = 0;  // of this subtask
  double tokens_ = 0;
  double max_tokens_ = 0;
  int64_t last_refill_us_ = 0;
};

// ---------------------------------------------------------------- file

namespace internal {

// Reads a file line by line, in chunks of kChunkBytes (one read() per chunk,
// not per line). The file may grow between calls: at its current end,
// Next() reports no line and a later call reads what was appended.
class LineReader {
 public:
  static constexpr size_t kChunkBytes = size_t{64} << 10;

  LineReader() = default;
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Opens `path` and seeks to byte `position` (the start of a line).
  // NotFound if the file does not exist, InvalidArgument if `position` is
  // past its end, IOError otherwise; every message names the path.
  Status Open(const std::string& path, int64_t position);
  void Close();

  // Sets *line to the next line without its '\n' (and without a '\r' right
  // before it) and returns true; *line is valid until the next call. At the
  // end of the file returns false. A last line that has no '\n' yet is held
  // back (it may still be growing) unless `take_unterminated`.
  Result<bool> Next(bool take_unterminated, std::string_view* line);

  // Byte offset of the first byte of the next line Next() returns.
  int64_t position() const { return position_; }

 private:
  // Appends up to kChunkBytes to the buffer; false at the end of the file.
  Result<bool> Fill();

  int fd_ = -1;
  std::string path_;
  std::string buf_;
  size_t begin_ = 0;  // first unread byte in buf_
  size_t scan_ = 0;   // bytes before this in buf_ hold no '\n'
  int64_t position_ = 0;
};

}  // namespace internal

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
    if (options_.path.empty()) {
      return Status::InvalidArgument("FileSource: no path given");
    }
    if (ctx.parallelism() != 1) {
      return Status::InvalidArgument(
          "FileSource of " + options_.path +
          " reads one file with one subtask: add it with non_parallel = "
          "true (parallelism is " +
          std::to_string(ctx.parallelism()) + ")");
    }
    Result<std::optional<internal::SourceOffset>> offset =
        internal::LoadSourceOffset(ctx, "FileSource");
    if (!offset.ok()) return offset.status();
    int64_t position = 0;
    if (offset->has_value()) {
      position = (*offset)->position;
      line_ = (*offset)->line;
    }
    return reader_.Open(options_.path, position);
  }

  Result<SourceStatus> Poll(SourceOutput<T>& out, int max_records) override {
    std::string_view text;
    for (int n = 0; n < max_records; ++n) {
      Result<bool> got = reader_.Next(!options_.follow, &text);
      if (!got.ok()) return got.status();
      if (!*got) {
        if (!options_.follow) return SourceStatus::End();
        return SourceStatus::Waiting(options_.poll_interval_ms);
      }
      ++line_;
      Result<std::optional<T>> parsed = parser_(text);
      if (!parsed.ok()) {
        if (options_.on_error == FileSourceOptions::OnError::kFail) {
          return parsed.status().WithContext(options_.path + ":" +
                                             std::to_string(line_));
        }
        ctx_->CountRecordSkipped();
        continue;
      }
      if (parsed->has_value()) out.Collect(std::move(**parsed));
    }
    return SourceStatus::More();
  }

  Status SnapshotState(OperatorContext& ctx) override {
    return internal::StoreSourceOffset(ctx, {reader_.position(), line_});
  }

  Status Close() override {
    reader_.Close();
    return Status::OK();
  }

  // Lines read so far (the number of the last line read).
  int64_t lines_read() const { return line_; }

 private:
  FileSourceOptions options_;
  Parser parser_;
  OperatorContext* ctx_ = nullptr;
  internal::LineReader reader_;
  int64_t line_ = 0;
};

}  // namespace weir
