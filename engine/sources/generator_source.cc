// SPDX-License-Identifier: Apache-2.0
#include <algorithm>
#include <cmath>
#include <string>

#include "lib/coding.h"
#include "lib/hash.h"
#include "weir/sources.h"

namespace weir {

void Serializer<GeneratedEvent>::Serialize(const GeneratedEvent& e,
                                           std::string* out) const {
  PutFixed64(out, static_cast<uint64_t>(e.seq));
  PutLengthPrefixed(out, e.key);
  PutFixed64(out, static_cast<uint64_t>(e.value));
  PutFixed64(out, static_cast<uint64_t>(e.timestamp));
}

Status Serializer<GeneratedEvent>::Deserialize(uint32_t, std::string_view in,
                                               GeneratedEvent* e) const {
  uint64_t seq = 0;
  std::string_view key;
  uint64_t value = 0;
  uint64_t timestamp = 0;
  if (!GetFixed64(&in, &seq) || !GetLengthPrefixed(&in, &key) ||
      !GetFixed64(&in, &value) || !GetFixed64(&in, &timestamp) || !in.empty()) {
    return Status::Corruption("GeneratedEvent: malformed bytes");
  }
  e->seq = static_cast<int64_t>(seq);
  e->key.assign(key);
  e->value = static_cast<int64_t>(value);
  e->timestamp = static_cast<int64_t>(timestamp);
  return Status::OK();
}

GeneratorSource::GeneratorSource(GeneratorOptions options)
    : options_(options) {}

SourceFactory<GeneratedEvent> GeneratorSource::Factory(
    GeneratorOptions options) {
  return [options]() -> std::unique_ptr<SourceFunction<GeneratedEvent>> {
    return std::make_unique<GeneratorSource>(options);
  };
}

WatermarkStrategy<GeneratedEvent> GeneratorSource::Watermarks() {
  return WatermarkStrategy<GeneratedEvent>::ForMonotonousTimestamps(
      [](const GeneratedEvent& e) { return e.timestamp; });
}

GeneratedEvent GeneratorSource::Generate(const GeneratorOptions& options,
                                         int64_t seq) {
  std::string bytes;
  PutFixed64(&bytes, static_cast<uint64_t>(seq));
  const uint64_t num_keys =
      static_cast<uint64_t>(std::max<int64_t>(options.num_keys, 1));
  GeneratedEvent e;
  e.seq = seq;
  e.key =
      "key-" + std::to_string(Hash64WithSeed(bytes, options.seed) % num_keys);
  e.value = static_cast<int64_t>(Hash64WithSeed(bytes, ~options.seed) % 1000);
  e.timestamp = seq * options.ts_step_ms;
  return e;
}

Status GeneratorSource::Open(OperatorContext& ctx) {
  if (options_.num_keys < 1 || options_.count < -1 || options_.rate < 0 ||
      !std::isfinite(options_.rate) || options_.ts_step_ms < 0) {
    return Status::InvalidArgument(
        "GeneratorSource: num_keys must be >= 1, count >= -1, rate >= 0 and "
        "ts_step_ms >= 0");
  }
  clock_ = &ctx.clock();
  Status s = position_.Open(ctx, "GeneratorSource", options_.count);
  if (!s.ok()) return s;
  if (options_.rate > 0) {
    rate_per_us_ = options_.rate / static_cast<double>(ctx.parallelism()) / 1e6;
    // Guava's SmoothBursty: at most one second of permits saved up, so a
    // stall (backpressure, a paused clock) is not followed by a long burst.
    max_tokens_ = std::max(1.0, rate_per_us_ * 1e6);
    tokens_ = 0;
    last_refill_us_ = clock_->NowMicros();
  }
  return Status::OK();
}

Result<SourceStatus> GeneratorSource::Poll(SourceOutput<GeneratedEvent>& out,
                                           int max_records) {
  if (position_.Done()) return SourceStatus::End();
  int64_t allowed = max_records;
  if (options_.rate > 0) {
    // Tokens accrue per microsecond (of the injected clock), so a rate is
    // kept smoothly, not as one burst per millisecond.
    const int64_t now = clock_->NowMicros();
    if (now > last_refill_us_) {
      tokens_ = std::min(
          max_tokens_,
          tokens_ + static_cast<double>(now - last_refill_us_) * rate_per_us_);
      last_refill_us_ = now;
    }
    if (tokens_ < 1.0) {
      const double wait = std::ceil((1.0 - tokens_) / rate_per_us_);
      return SourceStatus::WaitingMicros(
          std::clamp<int64_t>(static_cast<int64_t>(wait), 1, 1'000'000));
    }
    allowed = std::min<int64_t>(allowed, static_cast<int64_t>(tokens_));
  }
  int64_t emitted = 0;
  for (; emitted < allowed && !position_.Done(); ++emitted) {
    GeneratedEvent e = Generate(options_, position_.Take());
    const int64_t ts = e.timestamp;
    out.CollectWithTimestamp(std::move(e), ts);
  }
  if (options_.rate > 0) tokens_ -= static_cast<double>(emitted);
  return position_.Done() ? SourceStatus::End() : SourceStatus::More();
}

Status GeneratorSource::SnapshotState(OperatorContext& ctx) {
  return position_.Store(ctx);
}

}  // namespace weir
