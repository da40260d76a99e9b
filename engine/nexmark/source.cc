// SPDX-License-Identifier: Apache-2.0
#include <algorithm>
#include <cmath>
#include <memory>

#include "weir/nexmark.h"

namespace weir::nexmark {

Source::Source(GeneratorOptions options) : options_(options) {}

SourceFactory<Event> Source::Factory(GeneratorOptions options) {
  return [options]() -> std::unique_ptr<SourceFunction<Event>> {
    return std::make_unique<Source>(options);
  };
}

WatermarkStrategy<Event> Source::Watermarks(const GeneratorOptions& options) {
  // Within a subtask event numbers ascend, and an event's time is at most
  // one group's span before that of an event emitted earlier.
  const int64_t group = std::max<int64_t>(options.out_of_order_group_size, 1);
  const int64_t span = group == 1 ? 0
                                  : TimestampOfEventNumber(options, group) -
                                        TimestampOfEventNumber(options, 0) + 1;
  return WatermarkStrategy<Event>::ForBoundedOutOfOrderness(
      span, [](const Event& e) { return e.timestamp(); });
}

Status Source::Open(OperatorContext& ctx) {
  Status s = Validate(options_);
  if (!s.ok()) return s;
  clock_ = &ctx.clock();
  s = position_.Open(ctx, "Nexmark source", options_.count);
  if (!s.ok()) return s;
  if (options_.rate > 0) {
    rate_per_us_ = options_.rate / static_cast<double>(ctx.parallelism()) / 1e6;
    // As GeneratorSource: at most one second of tokens saved up.
    max_tokens_ = std::max(1.0, rate_per_us_ * 1e6);
    tokens_ = 0;
    last_refill_us_ = clock_->NowMicros();
  }
  return Status::OK();
}

Result<SourceStatus> Source::Poll(SourceOutput<Event>& out, int max_records) {
  if (position_.Done()) return SourceStatus::End();
  int64_t allowed = max_records;
  if (options_.rate > 0) {
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
    Event e = Generate(options_, position_.Take());
    const int64_t ts = e.timestamp();
    out.CollectWithTimestamp(std::move(e), ts);
  }
  if (options_.rate > 0) tokens_ -= static_cast<double>(emitted);
  return position_.Done() ? SourceStatus::End() : SourceStatus::More();
}

Status Source::SnapshotState(OperatorContext& ctx) {
  return position_.Store(ctx);
}

}  // namespace weir::nexmark
