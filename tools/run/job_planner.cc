// SPDX-License-Identifier: Apache-2.0
#include "tools/run/job_planner.h"

#include <algorithm>
#include <limits>

#include <weir/nats.h>
#include <weir/nexmark.h>
#include <weir/sinks.h>
#include <weir/sources.h>

#include "tools/job/format.h"

namespace weir::tools {
namespace {

using RowStream = DataStream<Row>;

int64_t AsInt(const Value& v) {
  if (const int64_t* i = std::get_if<int64_t>(&v)) return *i;
  if (const double* d = std::get_if<double>(&v))
    return static_cast<int64_t>(*d);
  return 0;
}

// Applies the file's uid, name and parallelism to the operator.
template <class S>
void Describe(S& s, const OperatorSpec& op, int parallelism) {
  s.Uid(op.uid).Name(op.name).SetParallelism(parallelism);
  if (!op.uid_hash.empty()) s.SetUidHash(op.uid_hash);
}

bool Compare(const Value& a, CompareOp op, const Value& b) {
  const int c = CompareValues(a, b);
  switch (op) {
    case CompareOp::kEq:
      return c == 0;
    case CompareOp::kNe:
      return c != 0;
    case CompareOp::kLt:
      return c < 0;
    case CompareOp::kLe:
      return c <= 0;
    case CompareOp::kGt:
      return c > 0;
    case CompareOp::kGe:
      return c >= 0;
  }
  return false;
}

// Folds `v` into an aggregate of `kind` (count, sum, min, max); `acc` is
// nullopt for the first value.
Value Fold(AggKind kind, const Value* acc, const Value& v) {
  switch (kind) {
    case AggKind::kCount:
      return acc == nullptr ? int64_t{1} : AsInt(*acc) + 1;
    case AggKind::kSum:
    case AggKind::kAvg:
      if (acc == nullptr) return v;
      if (std::holds_alternative<double>(v) ||
          std::holds_alternative<double>(*acc)) {
        return ToDouble(*acc) + ToDouble(v);
      }
      return AsInt(*acc) + AsInt(v);
    case AggKind::kMin:
      return acc == nullptr || CompareValues(v, *acc) < 0 ? v : *acc;
    case AggKind::kMax:
      return acc == nullptr || CompareValues(v, *acc) > 0 ? v : *acc;
  }
  return v;
}

// count, sum, min, max: per record, the key and the aggregate so far.
class RunningAggregate final
    : public KeyedProcessFunction<std::string, Row, Row> {
 public:
  explicit RunningAggregate(AggregateSpec spec) : spec_(std::move(spec)) {}

  Status Open(OperatorContext& ctx) override {
    auto s = GetState(
        ctx.state(), ctx.operator_id(),
        ValueStateDescriptor<Row>{std::string(AggKindName(spec_.agg))});
    if (!s.ok()) return s.status();
    state_.emplace(std::move(*s));
    return Status::OK();
  }
  Status ProcessElement(const Row& row, Context&,
                        Collector<Row>& out) override {
    Result<std::optional<Row>> current = state_->Value();
    if (!current.ok()) return current.status();
    const Value& input = spec_.field_index >= 0 ? row.values[spec_.field_index]
                                                : row.values[spec_.key_index];
    Row next;
    next.values.push_back(
        Fold(spec_.agg, current->has_value() ? &(*current)->values[0] : nullptr,
             input));
    Status s = state_->Update(next);
    if (!s.ok()) return s;
    out.Collect(Row{{row.values[spec_.key_index], next.values[0]}});
    return Status::OK();
  }

 private:
  AggregateSpec spec_;
  std::optional<ValueState<Row>> state_;
};

class Distinct final : public KeyedProcessFunction<std::string, Row, Row> {
 public:
  Status Open(OperatorContext& ctx) override {
    auto s = GetState(ctx.state(), ctx.operator_id(),
                      ValueStateDescriptor<bool>{"seen"});
    if (!s.ok()) return s.status();
    seen_.emplace(std::move(*s));
    return Status::OK();
  }
  Status ProcessElement(const Row& row, Context&,
                        Collector<Row>& out) override {
    Result<std::optional<bool>> seen = seen_->Value();
    if (!seen.ok()) return seen.status();
    if (seen->has_value()) return Status::OK();
    Status s = seen_->Update(true);
    if (!s.ok()) return s;
    out.Collect(row);
    return Status::OK();
  }

 private:
  std::optional<ValueState<bool>> seen_;
};

// Window accumulator rows: [key value, count, aggregate].
AggregateFunction<Row, Row, Row> WindowAggregate(const WindowSpec& spec) {
  const AggKind kind = spec.agg;
  const int key = spec.key_index;
  const int field = spec.field_index;
  AggregateFunction<Row, Row, Row> f;
  f.create_accumulator = [] { return Row{{Value(), int64_t{0}, Value()}}; };
  f.add = [kind, key, field](const Row& in, Row* acc) {
    if (std::holds_alternative<std::monostate>(acc->values[0])) {
      acc->values[0] = in.values[key];
    }
    acc->values[1] = AsInt(acc->values[1]) + 1;
    if (kind == AggKind::kCount) return;
    const Value& v = in.values[field];
    const bool first = std::holds_alternative<std::monostate>(acc->values[2]);
    acc->values[2] = Fold(kind, first ? nullptr : &acc->values[2],
                          kind == AggKind::kAvg ? Value(ToDouble(v)) : v);
  };
  f.merge = [kind](const Row& a, const Row& b) {
    Row out = a;
    if (std::holds_alternative<std::monostate>(out.values[0])) {
      out.values[0] = b.values[0];
    }
    out.values[1] = AsInt(a.values[1]) + AsInt(b.values[1]);
    if (kind != AggKind::kCount &&
        !std::holds_alternative<std::monostate>(b.values[2])) {
      const bool first = std::holds_alternative<std::monostate>(a.values[2]);
      out.values[2] = Fold(kind == AggKind::kAvg ? AggKind::kSum : kind,
                           first ? nullptr : &a.values[2], b.values[2]);
    }
    return out;
  };
  f.get_result = [kind](const Row& acc) {
    Value agg;
    switch (kind) {
      case AggKind::kCount:
        agg = acc.values[1];
        break;
      case AggKind::kAvg:
        agg =
            ToDouble(acc.values[2]) / static_cast<double>(AsInt(acc.values[1]));
        break;
      default:
        agg = acc.values[2];
    }
    return Row{{acc.values[0], agg}};
  };
  return f;
}

WindowAssigner Assigner(const WindowSpec& w) {
  const bool event = w.time == tools::TimeDomain::kEvent;
  switch (w.kind) {
    case WindowKind::kTumbling:
      return event ? WindowAssigner::TumblingEventTime(w.size_ms)
                   : WindowAssigner::TumblingProcessingTime(w.size_ms);
    case WindowKind::kSliding:
      return event
                 ? WindowAssigner::SlidingEventTime(w.size_ms, w.slide_ms)
                 : WindowAssigner::SlidingProcessingTime(w.size_ms, w.slide_ms);
    case WindowKind::kSession:
      return event ? WindowAssigner::EventTimeSession(w.gap_ms)
                   : WindowAssigner::ProcessingTimeSession(w.gap_ms);
  }
  return WindowAssigner::TumblingEventTime(w.size_ms);
}

std::function<std::string(const Row&)> KeyOf(int index) {
  return [index](const Row& r) { return EncodeKey(r.values[index]); };
}

Result<Formatter<Row>> RowFormatter(const std::string& format,
                                    const Schema& schema) {
  Result<std::unique_ptr<RecordFormat>> f = MakeFormat(format, schema);
  if (!f.ok()) return f.status();
  std::shared_ptr<const RecordFormat> shared(std::move(*f));
  return Formatter<Row>([shared](const Row& row) {
    std::string line;
    shared->Format(row, &line);
    return line;
  });
}

[[maybe_unused]] NatsOptions NatsConnection(const NatsConnectionSpec& c) {
  NatsOptions o;
  o.servers = c.servers;
  o.credentials_file = c.credentials;
  o.tls = c.tls;
  o.ca_file = c.tls_ca;
  o.cert_file = c.tls_cert;
  o.key_file = c.tls_key;
  if (c.reconnect_wait_ms) o.reconnect_wait_ms = *c.reconnect_wait_ms;
  if (c.reconnect_wait_max_ms) {
    o.reconnect_wait_max_ms = *c.reconnect_wait_max_ms;
  } else {
    o.reconnect_wait_max_ms =
        std::max(o.reconnect_wait_max_ms, o.reconnect_wait_ms);
  }
  if (c.max_outage_ms) o.max_outage_ms = *c.max_outage_ms;
  return o;
}

// Without the NATS C client, weir knows the types but cannot run them.
[[maybe_unused]] Status NatsMissing(const OperatorSpec& op) {
  return Status::NotSupported("operator type '" + op.type +
                              "' needs a weir built with NATS (meson "
                              "option nats, package libnats-dev)");
}

class Planner {
 public:
  Planner(const JobSpec& spec, const Config& config,
          const PlanOverrides& overrides)
      : spec_(spec), builder_(spec.name) {
    job_parallelism_ = JobParallelism(spec, config, overrides);
    const int max_p =
        spec.max_parallelism > 0
            ? spec.max_parallelism
            : static_cast<int>(
                  config.GetInt("pipeline.max-parallelism").value_or(128));
    builder_.SetParallelism(job_parallelism_).SetMaxParallelism(max_p);
  }

  Result<JobBuilder> Plan() {
    streams_.resize(spec_.operators.size());
    for (size_t i = 0; i < spec_.operators.size(); ++i) {
      const OperatorSpec& op = spec_.operators[i];
      Status s = Add(op, i);
      if (!s.ok()) {
        return s.WithContext(spec_.path + ":" + std::to_string(op.line) +
                             ": operator '" + op.uid + "'");
      }
    }
    return builder_;
  }

 private:
  int ParallelismOf(const OperatorSpec& op) const {
    return op.parallelism > 0 ? op.parallelism : job_parallelism_;
  }

  RowStream Input(const OperatorSpec& op) {
    RowStream in = *streams_[op.inputs[0]];
    if (op.inputs.size() == 1) return in;
    std::vector<RowStream> others;
    for (size_t k = 1; k < op.inputs.size(); ++k) {
      others.push_back(*streams_[op.inputs[k]]);
    }
    return in.Union(others);
  }

  Status Add(const OperatorSpec& op, size_t i) {
    const int p = ParallelismOf(op);
    if (const auto* g = std::get_if<GeneratorSpec>(&op.params)) {
      GeneratorOptions o;
      o.num_keys = g->keys;
      o.count = g->count.value_or(-1);
      o.rate = g->rate;
      o.seed = g->seed;
      o.ts_step_ms = g->ts_step_ms;
      auto events = builder_.AddSource<GeneratedEvent>(
          GeneratorSource::Factory(o), op.name, GeneratorSource::Watermarks());
      Describe(events, op, p);
      streams_[i] = events.Map([](const GeneratedEvent& e) {
        return Row{{e.seq, e.key, e.value, e.timestamp}};
      });
      streams_[i]->Name(op.name + " (rows)").SetParallelism(p);
      return Status::OK();
    }
    if (const auto* n = std::get_if<NexmarkSourceSpec>(&op.params)) {
      AddNexmarkSource(op, *n, i, p);
      return Status::OK();
    }
    if (const auto* f = std::get_if<FileSourceSpec>(&op.params)) {
      return AddFileSource(op, *f, i);
    }
    if (const auto* n = std::get_if<NatsSourceSpec>(&op.params)) {
      return AddNatsSource(op, *n, i);
    }
    if (const auto* n = std::get_if<NatsSinkSpec>(&op.params)) {
      return AddNatsSink(op, *n, p);
    }
    if (const auto* f = std::get_if<FilterSpec>(&op.params)) {
      const int index = f->field_index;
      const CompareOp cmp = f->op;
      const Value value = f->value;
      streams_[i] = Input(op).Filter([index, cmp, value](const Row& r) {
        return Compare(r.values[index], cmp, value);
      });
      Describe(*streams_[i], op, p);
      return Status::OK();
    }
    if (const auto* m = std::get_if<MapSpec>(&op.params)) {
      std::vector<int> indices;
      for (const MapSpec::Item& item : m->fields) {
        indices.push_back(item.source_index);
      }
      streams_[i] = Input(op).Map([indices](const Row& r) {
        Row out;
        out.values.reserve(indices.size());
        for (int k : indices) out.values.push_back(r.values[k]);
        return out;
      });
      Describe(*streams_[i], op, p);
      return Status::OK();
    }
    if (const auto* a = std::get_if<AggregateSpec>(&op.params)) {
      AggregateSpec spec = *a;
      streams_[i] =
          Input(op)
              .KeyBy(KeyOf(a->key_index))
              .Process<Row>(
                  std::function<std::unique_ptr<
                      KeyedProcessFunction<std::string, Row, Row>>()>([spec] {
                    return std::make_unique<RunningAggregate>(spec);
                  }),
                  op.name);
      Describe(*streams_[i], op, p);
      return Status::OK();
    }
    if (const auto* d = std::get_if<DistinctSpec>(&op.params)) {
      streams_[i] =
          Input(op)
              .KeyBy(KeyOf(d->key_index))
              .Process<Row>(std::function<std::unique_ptr<
                                KeyedProcessFunction<std::string, Row, Row>>()>(
                                [] { return std::make_unique<Distinct>(); }),
                            op.name);
      Describe(*streams_[i], op, p);
      return Status::OK();
    }
    if (const auto* w = std::get_if<WindowSpec>(&op.params)) {
      auto windows = Input(op)
                         .KeyBy(KeyOf(w->key_index))
                         .Window(Assigner(*w))
                         .AllowedLateness(w->allowed_lateness_ms)
                         .Aggregate<Row, Row, Serializer<Row>>(
                             WindowAggregate(*w), op.name);
      Describe(windows, op, p);
      streams_[i] = windows.Map([](const WindowResult<std::string, Row>& r) {
        return Row{{r.value.values[0], r.window.start, r.window.end,
                    r.value.values[1]}};
      });
      streams_[i]->Name(op.name + " (rows)").SetParallelism(p);
      return Status::OK();
    }
    if (const auto* f = std::get_if<FileSinkSpec>(&op.params)) {
      Result<Formatter<Row>> fmt = RowFormatter(f->format, op.input_schema);
      if (!fmt.ok()) return fmt.status();
      const std::string suffix = f->format == "json" ? ".json" : ".csv";
      auto sink = Input(op).SinkTo(
          FileSink<Row>::Factory(f->resolved_path, *fmt, suffix));
      Describe(sink, op, p);
      return Status::OK();
    }
    if (const auto* f = std::get_if<StdoutSinkSpec>(&op.params)) {
      Result<Formatter<Row>> fmt = RowFormatter(f->format, op.input_schema);
      if (!fmt.ok()) return fmt.status();
      auto sink = Input(op).SinkTo(PrintSink<Row>::Factory(*fmt));
      Describe(sink, op, p);
      return Status::OK();
    }
    if (std::holds_alternative<NullSinkSpec>(op.params)) {
      auto sink = Input(op).SinkTo(DiscardingSink<Row>::Factory());
      Describe(sink, op, p);
      return Status::OK();
    }
    return Status::InvalidArgument("operator type '" + op.type +
                                   "' cannot be planned");
  }

  // The events of the chosen kind as rows (NexmarkSourceSpec); the others
  // are generated and dropped, so event numbers and times stay those of
  // the whole stream.
  void AddNexmarkSource(const OperatorSpec& op, const NexmarkSourceSpec& spec,
                        size_t i, int p) {
    nexmark::GeneratorOptions o;
    o.count = spec.count.value_or(-1);
    o.rate = spec.rate;
    o.seed = spec.seed;
    o.first_event_rate = spec.first_event_rate;
    o.out_of_order_group_size = spec.out_of_order_group_size;
    auto events = builder_.AddSource<nexmark::Event>(
        nexmark::Source::Factory(o), op.name, nexmark::Source::Watermarks(o));
    Describe(events, op, p);
    const nexmark::Event::Type kind =
        spec.events == "bid"       ? nexmark::Event::Type::kBid
        : spec.events == "auction" ? nexmark::Event::Type::kAuction
                                   : nexmark::Event::Type::kPerson;
    streams_[i] = events.FlatMap<Row>([kind](const nexmark::Event& e,
                                             Collector<Row>& out) {
      if (e.type() != kind) return;
      if (const nexmark::Bid* b = e.bid()) {
        out.Collect(Row{{b->auction, b->bidder, b->price, b->channel, b->url,
                         b->date_time, b->extra}});
      } else if (const nexmark::Auction* a = e.auction()) {
        out.Collect(Row{{a->id, a->item_name, a->description, a->initial_bid,
                         a->reserve, a->date_time, a->expires, a->seller,
                         a->category, a->extra}});
      } else if (const nexmark::Person* pe = e.person()) {
        out.Collect(Row{{pe->id, pe->name, pe->email_address, pe->credit_card,
                         pe->city, pe->state, pe->date_time, pe->extra}});
      }
    });
    streams_[i]->Name(op.name + " (rows)").SetParallelism(p);
  }

  Status AddFileSource(const OperatorSpec& op, const FileSourceSpec& f,
                       size_t i) {
    Result<std::unique_ptr<RecordFormat>> format =
        MakeFormat(f.format, f.schema);
    if (!format.ok()) return format.status();
    std::shared_ptr<const RecordFormat> parser(std::move(*format));
    FileSourceOptions o;
    o.path = f.resolved_path;
    o.follow = f.follow;
    o.on_error = f.on_error == OnError::kSkip
                     ? FileSourceOptions::OnError::kSkip
                     : FileSourceOptions::OnError::kFail;
    WatermarkStrategy<Row> watermarks;
    if (f.timestamp_index >= 0) {
      const int ts = f.timestamp_index;
      watermarks = WatermarkStrategy<Row>::ForBoundedOutOfOrderness(
          f.out_of_orderness_ms,
          [ts](const Row& r) { return AsInt(r.values[ts]); });
      if (f.idle_timeout_ms) {
        watermarks = watermarks.WithIdleness(*f.idle_timeout_ms);
      }
    }
    auto source = builder_.AddSource<Row>(
        std::function<std::unique_ptr<SourceFunction<Row>>()>([o, parser] {
          return FileSource<Row>::Create(o, [parser](std::string_view line) {
            return parser->Parse(line);
          });
        }),
        op.name, watermarks, /*non_parallel=*/true);
    source.Uid(op.uid).Name(op.name);
    if (op.parallelism > 0) source.SetParallelism(op.parallelism);
    if (!op.uid_hash.empty()) source.SetUidHash(op.uid_hash);
    streams_[i] = source;
    return Status::OK();
  }

  Status AddNatsSource(const OperatorSpec& op, const NatsSourceSpec& n,
                       size_t i) {
#if WEIR_WITH_NATS
    Result<std::unique_ptr<RecordFormat>> format =
        MakeFormat(n.format, n.schema);
    if (!format.ok()) return format.status();
    std::shared_ptr<const RecordFormat> parser(std::move(*format));
    NatsSourceOptions o;
    o.connection = NatsConnection(n.connection);
    o.stream = n.stream;
    o.subjects = n.subjects;
    o.bounded = n.bounded;
    o.on_error = n.on_error == OnError::kSkip
                     ? NatsSourceOptions::OnError::kSkip
                     : NatsSourceOptions::OnError::kFail;
    WatermarkStrategy<Row> watermarks;
    if (n.timestamp_index >= 0) {
      const int ts = n.timestamp_index;
      watermarks = WatermarkStrategy<Row>::ForBoundedOutOfOrderness(
          n.out_of_orderness_ms,
          [ts](const Row& r) { return AsInt(r.values[ts]); });
      if (n.idle_timeout_ms) {
        watermarks = watermarks.WithIdleness(*n.idle_timeout_ms);
      }
    }
    auto source = builder_.AddSource<Row>(
        NatsSource<Row>::Factory(
            o,
            [parser](const NatsMessage& m) { return parser->Parse(m.data); }),
        op.name, watermarks);
    Describe(source, op, ParallelismOf(op));
    streams_[i] = source;
    return Status::OK();
#else
    (void)n;
    (void)i;
    return NatsMissing(op);
#endif
  }

  Status AddNatsSink(const OperatorSpec& op, const NatsSinkSpec& n, int p) {
#if WEIR_WITH_NATS
    Result<Formatter<Row>> fmt = RowFormatter(n.format, op.input_schema);
    if (!fmt.ok()) return fmt.status();
    NatsSinkOptions o;
    o.connection = NatsConnection(n.connection);
    o.subject = n.subject;
    o.delivery = n.exactly_once ? NatsSinkOptions::Delivery::kExactlyOnce
                                : NatsSinkOptions::Delivery::kAtLeastOnce;
    if (n.min_duplicate_window_ms) {
      o.min_duplicate_window_ms = *n.min_duplicate_window_ms;
    }
    o.msg_id_prefix = op.uid;
    auto sink = Input(op).SinkTo(NatsSink<Row>::Factory(o, *fmt));
    Describe(sink, op, p);
    return Status::OK();
#else
    (void)n;
    (void)p;
    return NatsMissing(op);
#endif
  }

  const JobSpec& spec_;
  JobBuilder builder_;
  int job_parallelism_ = 1;
  std::vector<std::optional<RowStream>> streams_;
};

}  // namespace

Result<JobBuilder> PlanJob(const JobSpec& spec, const Config& config,
                           const PlanOverrides& overrides) {
  return Planner(spec, config, overrides).Plan();
}

Status RocksDBOptionsFromConfig(const Config& config, RocksDBOptions* r) {
  const auto bytes = [&](const char* key, size_t* out) {
    if (std::optional<int64_t> v = config.GetBytes(key)) {
      *out = static_cast<size_t>(*v);
    }
  };
  const auto integer = [&](const char* key, int* out) {
    if (std::optional<int64_t> v = config.GetInt(key)) {
      *out = static_cast<int>(*v);
    }
  };
  bytes("state.backend.rocksdb.block.cache-size", &r->block_cache_bytes);
  bytes("state.backend.rocksdb.writebuffer.size", &r->write_buffer_bytes);
  integer("state.backend.rocksdb.writebuffer.count",
          &r->max_write_buffer_number);
  bytes("state.backend.rocksdb.block.blocksize", &r->block_size);
  integer("state.backend.rocksdb.bloom-filter.bits-per-key",
          &r->bloom_bits_per_key);
  bytes("state.backend.rocksdb.memory-budget", &r->memory_budget_bytes);
  integer("state.backend.rocksdb.thread.num", &r->max_background_jobs);
  r->ready_db_snapshots =
      config.GetBool("state.backend.rocksdb.ready-db-snapshots")
          .value_or(r->ready_db_snapshots);
  using C = RocksDBOptions::Compression;
  const std::string compression =
      config.GetString("state.backend.rocksdb.compression").value_or("auto");
  if (compression == "auto") {
    r->compression = C::kAuto;
  } else if (compression == "none") {
    r->compression = C::kNone;
  } else if (compression == "snappy") {
    r->compression = C::kSnappy;
  } else if (compression == "lz4") {
    r->compression = C::kLz4;
  } else if (compression == "zstd") {
    r->compression = C::kZstd;
  } else {
    return Status::InvalidArgument(
        "state.backend.rocksdb.compression: unknown '" + compression + "'");
  }
  using M = RocksDBOptions::ReadMode;
  const std::string mode =
      config.GetString("state.backend.rocksdb.read-mode").value_or("auto");
  if (mode == "auto") {
    r->read_mode = M::kAuto;
  } else if (mode == "mmap") {
    r->read_mode = M::kMmap;
  } else if (mode == "pread") {
    r->read_mode = M::kPread;
  } else {
    return Status::InvalidArgument(
        "state.backend.rocksdb.read-mode: unknown '" + mode + "'");
  }
  return Status::OK();
}

int JobParallelism(const JobSpec& spec, const Config& config,
                   const PlanOverrides& overrides) {
  if (overrides.parallelism > 0) return overrides.parallelism;
  if (spec.parallelism > 0) return spec.parallelism;
  return static_cast<int>(config.GetInt("parallelism.default").value_or(1));
}

Result<JobOptions> JobOptionsFromConfig(const Config& config) {
  JobOptions o;
  const std::string backend =
      config.GetString("state.backend.type").value_or("rocksdb");
  if (backend == "rocksdb") {
    o.backend = JobOptions::Backend::kRocksDB;
  } else if (backend == "hashmap") {
    o.backend = JobOptions::Backend::kMemory;
  } else {
    return Status::InvalidArgument(
        "state.backend.type must be rocksdb or "
        "hashmap, got '" +
        backend + "'");
  }
  o.local_dir = config.GetString("state.backend.local-dir").value_or("");
  Status rocks = RocksDBOptionsFromConfig(config, &o.rocksdb);
  if (!rocks.ok()) return rocks;

  CheckpointOptions& c = o.checkpoints;
  c.dir = config.GetString("execution.checkpointing.dir").value_or("");
  c.interval_ms =
      config.GetDurationMs("execution.checkpointing.interval").value_or(0);
  if (c.interval_ms > 0 && c.dir.empty()) {
    return Status::InvalidArgument(
        "execution.checkpointing.interval is set but "
        "execution.checkpointing.dir is not: checkpoints need a directory");
  }
  c.timeout_ms = config.GetDurationMs("execution.checkpointing.timeout")
                     .value_or(c.timeout_ms);
  c.min_pause_ms = config.GetDurationMs("execution.checkpointing.min-pause")
                       .value_or(c.min_pause_ms);
  c.max_concurrent = static_cast<int>(
      config.GetInt("execution.checkpointing.max-concurrent-checkpoints")
          .value_or(c.max_concurrent));
  c.num_retained = static_cast<int>(
      std::min<int64_t>(config.GetInt("execution.checkpointing.num-retained")
                            .value_or(c.num_retained),
                        std::numeric_limits<int>::max()));
  c.incremental = config.GetBool("execution.checkpointing.incremental")
                      .value_or(c.incremental);
  c.savepoint_dir =
      config.GetString("execution.checkpointing.savepoint-dir").value_or("");

  const std::string restart =
      config.GetString("restart-strategy.type").value_or("none");
  if (restart == "fixed-delay" || restart == "fixeddelay") {
    o.restart.attempts = static_cast<int>(
        config.GetInt("restart-strategy.fixed-delay.attempts").value_or(1));
    o.restart.delay_ms =
        config.GetDurationMs("restart-strategy.fixed-delay.delay")
            .value_or(o.restart.delay_ms);
  } else {
    o.restart.attempts = 0;
  }
  return o;
}

}  // namespace weir::tools
