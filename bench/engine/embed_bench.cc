// SPDX-License-Identifier: Apache-2.0
//
// embed_bench: the embedding API under load. A host thread pushes records
// into a PushSource at a fixed rate; a keyed sum (the state backend under
// test) passes them to a callback sink, which measures push-to-callback
// latency. Checkpoints run every second. Per backend (memory, RocksDB):
//
//   - push-to-callback p50/p99/p999 at 10k and 100k records/s, and at 90%
//     of the highest rate the job sustains unthrottled;
//   - durable-acknowledgement latency (push to OnDurable), every 64th record;
//   - QueryState latency from another thread while the job runs at 100k/s.
//
// Latencies are wall-clock, in microseconds. push_to_callback runs from
// the Push() call to the callback; schedule_to_callback from the record's
// slot in the pusher's schedule, so it adds the pusher's own lateness (a
// host thread that was not running when the record was due). A paced
// pusher sleeps until its next record is due, as a host thread would, and
// pushes every record due when it wakes: spinning would take a core from
// the job. Prints a JSON object on stdout and, when WEIR_BENCH_RESULTS is
// set, writes it to bench/results/embed_bench-<time>-<commit>.json.
//
//   embed_bench [--seconds N] [--backend memory|rocksdb] [--rate R]
//
// --rate R: only a run at R records/s with queries, per backend.
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/common/run_info.h"
#include "weir/push_source.h"
#include "weir/stream.h"

namespace weir::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr int64_t kKeys = 10000;

struct Rec {
  int64_t key = 0;
  int64_t value = 0;
  int64_t slot_ns = 0;  // when the pusher was due to push it
  int64_t push_ns = 0;  // when the pusher called Push()
};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             SteadyClock::now().time_since_epoch())
      .count();
}

class SumPerKey final : public KeyedProcessFunction<int64_t, Rec, Rec> {
 public:
  Status Open(OperatorContext& ctx) override {
    auto s = GetState(ctx.state(), ctx.operator_id(),
                      ValueStateDescriptor<int64_t>{"sum"});
    if (!s.ok()) return s.status();
    sum_.emplace(std::move(*s));
    return Status::OK();
  }
  Status ProcessElement(const Rec& r, Context&, Collector<Rec>& out) override {
    Result<std::optional<int64_t>> v = sum_->Value();
    if (!v.ok()) return v.status();
    Status s = sum_->Update(v->value_or(0) + r.value);
    if (!s.ok()) return s;
    out.Collect(r);
    return Status::OK();
  }

 private:
  std::optional<ValueState<int64_t>> sum_;
};

struct Percentiles {
  size_t n = 0;
  double p50 = 0, p99 = 0, p999 = 0, max = 0;
};

Percentiles Summarize(std::vector<double> v) {
  Percentiles p;
  p.n = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&v](double q) {
    return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
  };
  p.p50 = at(0.50);
  p.p99 = at(0.99);
  p.p999 = at(0.999);
  p.max = v.back();
  return p;
}

std::string Json(const Percentiles& p) {
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "{\"n\": %zu, \"p50_us\": %.1f, \"p99_us\": %.1f, "
                "\"p999_us\": %.1f, \"max_us\": %.1f}",
                p.n, p.p50, p.p99, p.p999, p.max);
  return buf;
}

struct RunResult {
  double target_rate = 0;  // 0: unthrottled
  double achieved_rate = 0;
  Percentiles callback;
  Percentiles scheduled;
  Percentiles durable;
  Percentiles query;
  int64_t checkpoints = 0;
  std::string error;
};

// One job for `seconds`, pushing at `rate` records/s (0: as fast as the
// queue takes them); with `query`, another thread queries a random key
// every 200 us.
RunResult RunOnce(JobOptions::Backend backend, double rate, double seconds,
                  bool query, const std::string& dir) {
  RunResult result;
  result.target_rate = rate;
  std::filesystem::remove_all(dir);
  auto source = PushSource<Rec>::Create({.name = "bench", .capacity = 65536});
  // Latencies of records after a 1 s warm-up; the sink has one subtask.
  std::vector<double> callback_us;
  std::vector<double> scheduled_us;
  callback_us.reserve(static_cast<size_t>((rate > 0 ? rate : 2e6) * seconds));
  scheduled_us.reserve(callback_us.capacity());
  std::atomic<int64_t> received{0};
  std::atomic<int64_t> measure_from_ns{0};
  JobBuilder b("embed-bench");
  b.AddSource(source, "pushed")
      .Uid("pushed")
      .KeyBy([](const Rec& r) { return r.key; })
      .Process<Rec>(std::function<
                    std::unique_ptr<KeyedProcessFunction<int64_t, Rec, Rec>>()>(
          [] { return std::make_unique<SumPerKey>(); }))
      .Uid("sums")
      .SinkTo([&](const Rec& r) {
        const int64_t now = NowNs();
        if (r.slot_ns >= measure_from_ns.load(std::memory_order_relaxed)) {
          callback_us.push_back(static_cast<double>(now - r.push_ns) / 1e3);
          scheduled_us.push_back(static_cast<double>(now - r.slot_ns) / 1e3);
        }
        received.fetch_add(1, std::memory_order_relaxed);
      });
  JobOptions options;
  options.backend = backend;
  options.local_dir = dir + "/local";
  options.checkpoints.dir = dir + "/checkpoints";
  options.checkpoints.interval_ms = 1000;
  Result<std::unique_ptr<Job>> job = b.Build(options);
  if (!job.ok()) {
    result.error = job.status().ToString();
    return result;
  }
  if (Status s = (*job)->Start(); !s.ok()) {
    result.error = s.ToString();
    return result;
  }
  if (Status s = source->WaitReady(std::chrono::seconds(30)); !s.ok()) {
    result.error = s.ToString();
    return result;
  }

  std::mutex durable_mu;
  std::vector<double> durable_us;
  std::atomic<bool> stop_query{false};
  std::vector<double> query_us;
  std::thread querier;
  if (query) {
    querier = std::thread([&] {
      uint64_t x = 88172645463325252ull;
      while (!stop_query.load()) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const int64_t key = static_cast<int64_t>(x % kKeys);
        const int64_t t0 = NowNs();
        Result<int64_t> v = (*job)->QueryValue<int64_t>(
            "sums", "sum", key, std::chrono::seconds(5));
        const int64_t t1 = NowNs();
        if (v.ok() || v.status().IsNotFound()) {
          if (t0 >= measure_from_ns.load()) {
            query_us.push_back(static_cast<double>(t1 - t0) / 1e3);
          }
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
  }

  const int64_t start = NowNs();
  measure_from_ns.store(start + 1'000'000'000);
  const int64_t end = start + static_cast<int64_t>(seconds * 1e9);
  int64_t pushed = 0;
  const double interval_ns = rate > 0 ? 1e9 / rate : 0;
  // Sleeps end close to their deadline (the default slack is 50 us).
  prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
  for (;;) {
    int64_t slot = NowNs();
    if (rate > 0) {
      slot = start +
             static_cast<int64_t>(static_cast<double>(pushed) * interval_ns);
      if (slot > NowNs()) {
        std::this_thread::sleep_until(
            SteadyClock::time_point(std::chrono::nanoseconds(slot)));
      }
    }
    if (slot >= end) break;
    Rec r{static_cast<int64_t>((pushed * 7919) % kKeys), 1, slot, NowNs()};
    Result<int64_t> pos = source->Push(r);
    if (!pos.ok()) {
      result.error = pos.status().ToString();
      break;
    }
    if (pushed % 64 == 0 && slot >= start + 1'000'000'000) {
      source->OnDurable(*pos, [&durable_mu, &durable_us,
                               pushed_at = r.push_ns](const Status& s) {
        if (!s.ok()) return;
        const int64_t now = NowNs();
        std::lock_guard<std::mutex> lock(durable_mu);
        durable_us.push_back(static_cast<double>(now - pushed_at) / 1e3);
      });
    }
    ++pushed;
  }
  // Let the last records through and the next checkpoint complete.
  const auto drain = SteadyClock::now() + std::chrono::seconds(10);
  while (received.load() < pushed && SteadyClock::now() < drain) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const int64_t done = NowNs();
  stop_query.store(true);
  if (querier.joinable()) querier.join();
  source->WaitDurable(source->last_position(), std::chrono::seconds(5))
      .IgnoreError();
  result.achieved_rate = static_cast<double>(received.load()) /
                         (static_cast<double>(done - start) / 1e9);
  result.checkpoints = (*job)->Checkpoints().completed;
  (*job)->Cancel();
  (*job)->Wait().IgnoreError();
  job->reset();
  result.callback = Summarize(std::move(callback_us));
  result.scheduled = Summarize(std::move(scheduled_us));
  {
    std::lock_guard<std::mutex> lock(durable_mu);
    result.durable = Summarize(durable_us);
  }
  result.query = Summarize(std::move(query_us));
  std::filesystem::remove_all(dir);
  return result;
}

std::string Json(const RunResult& r) {
  std::string out =
      "{\"target_rate\": " + std::to_string(r.target_rate) +
      ", \"achieved_rate\": " + std::to_string(r.achieved_rate) +
      ", \"checkpoints_completed\": " + std::to_string(r.checkpoints) +
      ", \"push_to_callback\": " + Json(r.callback) +
      ", \"schedule_to_callback\": " + Json(r.scheduled) +
      ", \"durable_ack\": " + Json(r.durable);
  if (r.query.n > 0) out += ", \"query\": " + Json(r.query);
  if (!r.error.empty()) out += ", \"error\": \"" + r.error + "\"";
  return out + "}";
}

}  // namespace
}  // namespace weir::bench

int main(int argc, char** argv) {
  using namespace weir;
  using namespace weir::bench;
  double seconds = 10;
  double only_rate = 0;
  std::vector<JobOptions::Backend> backends = {JobOptions::Backend::kMemory,
                                               JobOptions::Backend::kRocksDB};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (arg == "--rate" && i + 1 < argc) {
      only_rate = std::atof(argv[++i]);
    } else if (arg == "--backend" && i + 1 < argc) {
      const std::string name = argv[++i];
      backends = {name == "rocksdb" ? JobOptions::Backend::kRocksDB
                                    : JobOptions::Backend::kMemory};
    } else {
      std::fprintf(stderr,
                   "usage: embed_bench [--seconds N] [--backend "
                   "memory|rocksdb] [--rate R]\n");
      return 2;
    }
  }
  if (seconds < 2) seconds = 2;  // 1 s warm-up, then measurements
  const char* tmp = std::getenv("TMPDIR");
  const std::string dir = std::string(tmp != nullptr ? tmp : "/tmp") +
                          "/weir-embed-bench-" + std::to_string(getpid());
  std::string json = "{\"bench\": \"embed_bench\", \"commit\": \"" +
                     std::string(BuildCommit()) +
                     "\", \"machine\": " + MachineJson() +
                     ", \"seconds\": " + std::to_string(seconds) +
                     ", \"checkpoint_interval_ms\": 1000, \"results\": {";
  bool first_backend = true;
  for (JobOptions::Backend backend : backends) {
    const char* name =
        backend == JobOptions::Backend::kMemory ? "memory" : "rocksdb";
    std::fprintf(stderr, "embed_bench: %s\n", name);
    if (!first_backend) json += ", ";
    first_backend = false;
    if (only_rate > 0) {
      RunResult r = RunOnce(backend, only_rate, seconds, true, dir);
      json += std::string("\"") + name +
              "\": {\"rate_with_queries\": " + Json(r) + "}";
      continue;
    }
    RunResult r10k = RunOnce(backend, 10'000, seconds, false, dir);
    RunResult r100k = RunOnce(backend, 100'000, seconds, true, dir);
    RunResult unthrottled = RunOnce(backend, 0, seconds, false, dir);
    RunResult sustained =
        RunOnce(backend, 0.9 * unthrottled.achieved_rate, seconds, false, dir);
    json += std::string("\"") + name + "\": {\"rate_10k\": " + Json(r10k) +
            ", \"rate_100k_with_queries\": " + Json(r100k) +
            ", \"unthrottled\": " + Json(unthrottled) +
            ", \"rate_90pct_of_max\": " + Json(sustained) + "}";
  }
  json += "}}\n";
  std::fputs(json.c_str(), stdout);
  const std::string path = ResultsPath("embed_bench");
  if (!path.empty()) {
    std::ofstream(path) << json;
    std::fprintf(stderr, "embed_bench: wrote %s\n", path.c_str());
  }
  return 0;
}
