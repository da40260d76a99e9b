// SPDX-License-Identifier: Apache-2.0
//
// A source and a sink for NATS JetStream streams, on the NATS C client
// (libnats). Present in libweir when it was built with NATS (meson option
// `nats`). docs/sources-and-sinks.md has examples.
//
// NatsSource reads one stream, one split per subject filter, through one
// ephemeral push consumer per subtask that streams messages to the client
// ahead of the polls. Its position is the last stream sequence read of
// each split, kept in the union operator list state "offset" (one entry
// per split: the filter and the sequence); a restore resumes each split at
// the next sequence, at any parallelism (split i goes to subtask i % p).
// No durable consumer is needed: the position lives in weir's checkpoint.
//
// NatsSink publishes to one subject. With Delivery::kExactlyOnce (the
// default) records are held in the sink's checkpointed operator state
// until their checkpoint completes and are then published with a
// `Nats-Msg-Id` header "<prefix>-<subtask>-<checkpoint>-<index>", so that a
// publish repeated after a crash is dropped by the stream's duplicate
// window. The window must exceed the longest restart; the sink refuses to
// start against a stream whose window is shorter than
// NatsSinkOptions::min_duplicate_window_ms. With kAtLeastOnce records are
// published as they arrive and every checkpoint waits for their
// acknowledgements.
//
// Both reconnect with backoff when the broker goes away; a broker away for
// longer than NatsOptions::max_outage_ms fails the job (and the restart
// strategy takes over). Credentials never appear in error messages.
//
// Thread safety: a source or sink function belongs to one task thread.
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
#include <weir/sinks.h>
#include <weir/sources.h>
#include <weir/status.h>

namespace weir {

// How to reach the broker, as NATS users write it.
struct NatsOptions {
  // Server URLs, e.g. "nats://127.0.0.1:4222" or "tls://host:4222"; the
  // client picks one and fails over to the others. Required. A URL may
  // carry user:password@, which is never shown in messages.
  std::vector<std::string> servers;
  // A NATS credentials file (JWT and NKey seed, `.creds`). Default: none.
  std::string credentials_file;
  // TLS: on when any of these is set or a URL starts with tls://.
  // ca_file: the CA certificates that sign the server's certificate (PEM);
  // cert_file and key_file: this client's certificate chain and key (PEM),
  // for servers that verify clients. Default: none.
  bool tls = false;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // How long a connection attempt may take, in ms. Default: 2000.
  int64_t connect_timeout_ms = 2000;
  // Reconnect backoff: the wait before attempt n is
  // min(reconnect_wait_ms * 2^(n-1), reconnect_wait_max_ms), in ms.
  // Defaults: 100 and 2000.
  int64_t reconnect_wait_ms = 100;
  int64_t reconnect_wait_max_ms = 2000;
  // A broker that stays unreachable for longer than this fails the job, in
  // ms. Default: 60000.
  int64_t max_outage_ms = 60000;
  // How long a JetStream API request (stream info, consumer creation) and
  // a publish acknowledgement may take, in ms. Default: 5000.
  int64_t request_timeout_ms = 5000;
};

struct NatsSourceOptions {
  enum class OnError : uint8_t {
    kFail,  // a message that does not parse fails the job
    kSkip,  // count it (records skipped, JobInfo) and go on
  };

  NatsOptions connection;
  // The stream to read. Required.
  std::string stream;
  // One split per subject filter ("orders.0", "orders.*"). Default: empty,
  // meaning the stream's own subjects.
  std::vector<std::string> subjects;
  // Default: kFail.
  OnError on_error = OnError::kFail;
  // Stop at the stream's last sequence as it was when the source opened
  // (per split: once every message up to it has been read); the source
  // then ends. Default: false (read forever).
  bool bounded = false;
  // The most messages one poll takes from the client's queue. Default: 256.
  int fetch_batch = 256;
  // When no message was waiting, wait this long before looking again, in
  // ms. Default: 10.
  int64_t poll_interval_ms = 10;
};

// One message as the parser sees it. The views live until the parser
// returns.
struct NatsMessage {
  std::string_view subject;
  std::string_view data;
  uint64_t sequence = 0;  // in the stream
  int64_t timestamp = 0;  // when the stream stored it, ms since the epoch
};

namespace internal {

class NatsSourceReaderImpl;  // connectors/nats/nats_source_reader.h

// NatsSource apart from parsing: the connection, the consumer of this
// subtask's splits, and the "offset" state.
class NatsSourceReader {
 public:
  NatsSourceReader();
  ~NatsSourceReader();
  NatsSourceReader(const NatsSourceReader&) = delete;
  NatsSourceReader& operator=(const NatsSourceReader&) = delete;

  // Connects, checks the stream, takes this subtask's splits (restoring
  // their positions from ctx's "offset" state) and creates their
  // consumers. Errors name the source (ctx.name()) and the cause:
  // InvalidArgument for bad options, NotFound for an unknown stream,
  // IOError when the broker cannot be reached or refuses the credentials.
  Status Open(OperatorContext& ctx, const NatsSourceOptions& options);
  // Fills *batch with up to `max` messages (their views live until the next
  // call). Sets *ended when a bounded source has read every split to its
  // end. An empty batch without *ended: nothing available now.
  Status Next(int max, std::vector<NatsMessage>* batch, bool* ended);
  // Replaces this subtask's entries of the "offset" state.
  Status SnapshotState(OperatorContext& ctx) const;
  void Close();

  // Messages read since Open(), and the messages still in the stream
  // after the last one read (of this subtask's consumer, as the broker
  // reported with that message): the consumer lag.
  int64_t messages_read() const;
  int64_t lag() const;
  // This subtask's subject filters.
  std::vector<std::string> splits() const;

 private:
  std::unique_ptr<NatsSourceReaderImpl> impl_;
};

}  // namespace internal

// Reads a JetStream stream (see the top of this file) and turns each
// message into a record with a parser: Result<std::optional<T>>(message),
// where nullopt skips the message and an error is handled as `on_error`
// says. Records carry no timestamp unless the source's WatermarkStrategy
// assigns one.
//
//   b.AddSource<Order>(NatsSource<Order>::Factory(opts, ParseOrder), "orders")
template <class T>
class NatsSource final : public SourceFunction<T> {
 public:
  using Parser = std::function<Result<std::optional<T>>(const NatsMessage&)>;

  NatsSource(NatsSourceOptions options, Parser parser)
      : options_(std::move(options)), parser_(std::move(parser)) {}

  static SourceFactory<T> Factory(NatsSourceOptions options, Parser parser) {
    return [options, parser]() -> std::unique_ptr<SourceFunction<T>> {
      return std::make_unique<NatsSource<T>>(options, parser);
    };
  }

  Status Open(OperatorContext& ctx) override {
    ctx_ = &ctx;
    return reader_.Open(ctx, options_);
  }

  Result<SourceStatus> Poll(SourceOutput<T>& out, int max_records) override {
    bool ended = false;
    Status s = reader_.Next(max_records, &batch_, &ended);
    if (!s.ok()) return s;
    for (const NatsMessage& m : batch_) {
      Result<std::optional<T>> parsed = parser_(m);
      if (!parsed.ok()) {
        if (options_.on_error == NatsSourceOptions::OnError::kFail) {
          return parsed.status().WithContext(
              "NATS source '" + std::string(ctx_->name()) + "': message " +
              std::to_string(m.sequence) + " of stream " + options_.stream);
        }
        ctx_->CountRecordSkipped();
        continue;
      }
      if (parsed->has_value()) out.Collect(std::move(**parsed));
    }
    if (const int64_t lag = reader_.lag(); lag != reported_lag_) {
      ctx_->SetPendingRecords(lag);
      reported_lag_ = lag;
    }
    if (!batch_.empty()) return SourceStatus::More();
    if (ended) return SourceStatus::End();
    return SourceStatus::Waiting(options_.poll_interval_ms);
  }

  Status SnapshotState(OperatorContext& ctx) override {
    return reader_.SnapshotState(ctx);
  }

  Status Close() override {
    reader_.Close();
    return Status::OK();
  }

  int64_t messages_read() const { return reader_.messages_read(); }
  int64_t lag() const { return reader_.lag(); }

 private:
  NatsSourceOptions options_;
  Parser parser_;
  OperatorContext* ctx_ = nullptr;
  internal::NatsSourceReader reader_;
  std::vector<NatsMessage> batch_;
  int64_t reported_lag_ = -1;
};

// A parser for NatsSource<std::string>: the message's bytes.
inline Result<std::optional<std::string>> NatsRawBytes(const NatsMessage& m) {
  return std::optional<std::string>(std::string(m.data));
}

// ---------------------------------------------------------------- sink

struct NatsSinkOptions {
  enum class Delivery : uint8_t {
    kExactlyOnce,  // held until the checkpoint completes, then published
    kAtLeastOnce,  // published at once, acknowledged at every checkpoint
  };

  NatsOptions connection;
  // The subject to publish to; a stream must capture it. Required.
  std::string subject;
  // Default: kExactlyOnce.
  Delivery delivery = Delivery::kExactlyOnce;
  // Exactly-once: the stream capturing `subject` must keep message ids for
  // at least this long (its duplicate window), in ms; it must exceed the
  // longest time between a checkpoint and the restore that republishes its
  // records. Default: 120000 (2 minutes).
  int64_t min_duplicate_window_ms = 120000;
  // The first part of every message id. Default: empty, meaning the sink's
  // operator id (32 hex digits, stable for a uid).
  std::string msg_id_prefix;
  // Publishes awaiting their acknowledgement at one time, per subtask.
  // Default: 4096.
  int max_pending = 4096;
};

namespace internal {

class NatsSinkWriterImpl;  // connectors/nats/nats_sink_writer.h

// NatsSink apart from formatting. Each method is the SinkFunction method of
// the same name; Write takes one formatted record.
class NatsSinkWriter {
 public:
  NatsSinkWriter();
  ~NatsSinkWriter();
  NatsSinkWriter(const NatsSinkWriter&) = delete;
  NatsSinkWriter& operator=(const NatsSinkWriter&) = delete;

  // Connects, finds the stream capturing the subject (NotFound if none),
  // checks its duplicate window (exactly-once; FailedPrecondition if too
  // short), and after a restore publishes the records the snapshot held
  // and waits for their acknowledgements.
  Status Open(OperatorContext& ctx, const NatsSinkOptions& options);
  Status Write(std::string_view data);
  Status SnapshotState(OperatorContext& ctx, int64_t checkpoint_id);
  Status NotifyCheckpointComplete(int64_t checkpoint_id);
  Status Finish();
  void Close();

  // Records acknowledged by the stream (repeats it dropped included), and
  // how long the last flush took from its first publish to its last
  // acknowledgement, in microseconds (exactly-once: a completed
  // checkpoint's records; at-least-once: a checkpoint's wait).
  int64_t records_acked() const;
  int64_t last_flush_latency_us() const;

 private:
  std::unique_ptr<NatsSinkWriterImpl> impl_;
};

}  // namespace internal

// Publishes formatter(record) per record to a subject of a JetStream
// stream (see the top of this file).
//
//   stream.SinkTo(NatsSink<Total>::Factory(opts, FormatTotal)).Uid("out")
template <class T>
class NatsSink final : public SinkFunction<T> {
 public:
  NatsSink(NatsSinkOptions options, Formatter<T> formatter)
      : options_(std::move(options)), formatter_(std::move(formatter)) {}

  static SinkFactory<T> Factory(NatsSinkOptions options,
                                Formatter<T> formatter) {
    return [options, formatter]() -> std::unique_ptr<SinkFunction<T>> {
      return std::make_unique<NatsSink<T>>(options, formatter);
    };
  }

  Status Open(OperatorContext& ctx) override {
    ctx_ = &ctx;
    return ReportSendTime(writer_.Open(ctx, options_));
  }
  Status Invoke(const T& value, int64_t timestamp) override {
    (void)timestamp;
    return writer_.Write(formatter_(value));
  }
  Status SnapshotState(OperatorContext& ctx, int64_t checkpoint_id) override {
    return ReportSendTime(writer_.SnapshotState(ctx, checkpoint_id));
  }
  Status NotifyCheckpointComplete(int64_t checkpoint_id) override {
    return ReportSendTime(writer_.NotifyCheckpointComplete(checkpoint_id));
  }
  Status Finish() override { return ReportSendTime(writer_.Finish()); }
  Status Close() override {
    writer_.Close();
    return Status::OK();
  }

  int64_t records_acked() const { return writer_.records_acked(); }
  int64_t last_flush_latency_us() const {
    return writer_.last_flush_latency_us();
  }

 private:
  // The publish acknowledgement latency as the job's send-time gauge.
  Status ReportSendTime(Status s) {
    const int64_t us = writer_.last_flush_latency_us();
    if (ctx_ != nullptr && us > 0 && us != reported_us_) {
      ctx_->SetSendTime(us);
      reported_us_ = us;
    }
    return s;
  }

  NatsSinkOptions options_;
  Formatter<T> formatter_;
  OperatorContext* ctx_ = nullptr;
  internal::NatsSinkWriter writer_;
  int64_t reported_us_ = 0;
};

}  // namespace weir
