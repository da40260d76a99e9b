// SPDX-License-Identifier: Apache-2.0
//
// nats_bench: a weir job from NATS JetStream to NATS JetStream against a
// plain loop of the same C client, in one run against one local
// `nats-server -js` that the program starts itself (free loopback port,
// temporary store directory) and stops at the end.
//
// Records are "<key>,<value>,<timestamp ns>" on an input stream partitioned
// over K subjects (in.<key % K>). Each run reads all M records and writes
// one output message per input, the key's running sum, to a fresh output
// stream with a duplicate window:
//
//   - plain: per subject a pull consumer (AckNone), fetches of 256 messages
//     round robin over the subjects (NatsSource takes up to 256 per poll), a
//     running sum in a hash map, an async JetStream publish per record with
//     at most 4096 unacknowledged (as NatsSink), then the wait for every
//     ack;
//   - weir exactly-once and weir at-least-once: NatsSource (bounded) ->
//     KeyBy -> running sum (RocksDB state, a checkpoint every second) ->
//     NatsSink, parallelism 1; from Start() to the job's end.
//
// Then the latency each adds: per mode a job (or the plain loop) on an
// empty stream, records published at a low rate with their publish time
// in the payload, and a core subscriber on the output subject taking now -
// timestamp for every output message (p50/p99/max).
//
// Prints a JSON object on stdout; writes it to --json FILE, and to
// bench/results/nats_bench-<time>-<commit>.json when WEIR_BENCH_RESULTS is
// set.
//
//   nats_bench [--records M] [--subjects K] [--json FILE]
//              [--latency-rate R] [--latency-seconds S] [--limit S]
//
// --limit: the longest a weir throughput run may take (default 120 s); a
// run that takes longer is cancelled and reports the records it output.
#include <nats/nats.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bench/common/run_info.h"
#include "connectors/nats/nats_connection.h"
#include "tests/connectors/nats/nats_server.h"
#include "weir/job.h"
#include "weir/nats.h"
#include "weir/serializer.h"
#include "weir/stream.h"

namespace weir::bench {

// One input record, and the running sum the job emits for its key.
struct Rec {
  int64_t key = 0;
  int64_t value = 0;
  int64_t ts_ns = 0;  // publish time (steady clock); 0 in throughput runs
};

}  // namespace weir::bench

namespace weir {

// The reduce state: three big-endian integers.
template <>
struct Serializer<bench::Rec> {
  static constexpr uint32_t kVersion = 1;
  void Serialize(const bench::Rec& r, std::string* out) const {
    Serializer<int64_t> i;
    i.Serialize(r.key, out);
    i.Serialize(r.value, out);
    i.Serialize(r.ts_ns, out);
  }
  Status Deserialize(uint32_t version, std::string_view in,
                     bench::Rec* r) const {
    if (in.size() != 24) {
      return Status::Corruption("nats_bench: a sum of " +
                                std::to_string(in.size()) + " bytes");
    }
    Serializer<int64_t> i;
    Status s = i.Deserialize(version, in.substr(0, 8), &r->key);
    if (s.ok()) s = i.Deserialize(version, in.substr(8, 8), &r->value);
    if (s.ok()) s = i.Deserialize(version, in.substr(16, 8), &r->ts_ns);
    return s;
  }
};

}  // namespace weir

namespace weir::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int64_t kKeys = 10000;
constexpr int kFetchBatch = 256;     // NatsSourceOptions::fetch_batch
constexpr int kMaxPending = 4096;    // NatsSinkOptions::max_pending
constexpr int64_t kFetchWaitMs = 5;  // a fetch that finds nothing waits
constexpr int64_t kCheckpointMs = 1000;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             SteadyClock::now().time_since_epoch())
      .count();
}

std::string Format(const Rec& r) {
  char buf[80];
  const int n = std::snprintf(
      buf, sizeof(buf), "%lld,%lld,%lld", static_cast<long long>(r.key),
      static_cast<long long>(r.value), static_cast<long long>(r.ts_ns));
  return std::string(buf, static_cast<size_t>(n));
}

bool Parse(std::string_view data, Rec* r) {
  const char* p = data.data();
  const char* end = p + data.size();
  int64_t* fields[3] = {&r->key, &r->value, &r->ts_ns};
  for (int i = 0; i < 3; ++i) {
    auto [next, ec] = std::from_chars(p, end, *fields[i]);
    if (ec != std::errc()) return false;
    p = next;
    if (i < 2) {
      if (p == end || *p != ',') return false;
      ++p;
    }
  }
  return p == end;
}

Result<std::optional<Rec>> ParseMessage(const NatsMessage& m) {
  Rec r;
  if (!Parse(m.data, &r)) {
    return Status::InvalidArgument("not <key>,<value>,<timestamp>");
  }
  return std::optional<Rec>(r);
}

// A connection and JetStream context with the sink's async-publish limit.
struct Client {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  ~Client() {
    if (js != nullptr) jsCtx_Destroy(js);
    if (nc != nullptr) natsConnection_Destroy(nc);
  }
  Status Connect(const std::string& url) {
    natsStatus s = natsConnection_ConnectTo(&nc, url.c_str());
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.PublishAsync.MaxPending = kMaxPending;
    if (s == NATS_OK) s = natsConnection_JetStream(&js, nc, &jo);
    if (s != NATS_OK)
      return Status::IOError(
          weir::internal::NatsErrorText("nats_bench client", s));
    return Status::OK();
  }
  Status AwaitAcks() {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 60000;
    natsStatus s = js_PublishAsyncComplete(js, &po);
    if (s != NATS_OK)
      return Status::IOError(weir::internal::NatsErrorText("publish acks", s));
    return Status::OK();
  }
};

std::string Subject(const std::string& prefix, int64_t key, int subjects) {
  return prefix + "." + std::to_string(key % subjects);
}

// Deletes `name` if it exists and creates it anew.
Status FreshStream(const std::string& url, const natstest::StreamSpec& spec) {
  {
    Client c;
    Status st = c.Connect(url);
    if (!st.ok()) return st;
    js_DeleteStream(c.js, spec.name.c_str(), nullptr, nullptr);
  }
  return natstest::CreateStream(url, spec);
}

// Publishes records i in [0, n) asynchronously: key i * 7919 % kKeys,
// value 1.
Status PrePublish(const std::string& url, int64_t n, int subjects) {
  Client c;
  Status st = c.Connect(url);
  if (!st.ok()) return st;
  std::vector<std::string> names;
  for (int k = 0; k < subjects; ++k)
    names.push_back(Subject("in", k, subjects));
  for (int64_t i = 0; i < n; ++i) {
    const Rec r{(i * 7919) % kKeys, 1, 0};
    const std::string data = Format(r);
    natsStatus s = js_PublishAsync(
        c.js, names[static_cast<size_t>(r.key % subjects)].c_str(), data.data(),
        static_cast<int>(data.size()), nullptr);
    if (s != NATS_OK)
      return Status::IOError(weir::internal::NatsErrorText("pre-publish", s));
  }
  return c.AwaitAcks();
}

// The baseline: reads `n` records of `stream` (subjects <in>.0 ..) and
// publishes each key's running sum to `out_subject`; stops early when
// `stop` is set. Returns the records processed.
Result<int64_t> PlainLoop(const std::string& url, const std::string& stream,
                          const std::string& in, int subjects,
                          const std::string& out_subject, int64_t n,
                          const std::atomic<bool>* stop) {
  Client c;
  Status st = c.Connect(url);
  if (!st.ok()) return st;
  std::vector<natsSubscription*> subs;
  auto unsubscribe = [&subs] {
    for (natsSubscription* s : subs) {
      natsSubscription_Unsubscribe(s);
      natsSubscription_Destroy(s);
    }
  };
  for (int k = 0; k < subjects; ++k) {
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream.c_str();
    so.Config.DeliverPolicy = js_DeliverAll;
    so.Config.AckPolicy = js_AckNone;
    so.Config.MemoryStorage = true;
    natsSubscription* sub = nullptr;
    const std::string filter = Subject(in, k, subjects);
    natsStatus s = js_PullSubscribe(&sub, c.js, filter.c_str(), nullptr,
                                    nullptr, &so, nullptr);
    if (s != NATS_OK) {
      unsubscribe();
      return Status::IOError(
          weir::internal::NatsErrorText("plain loop: subscribe " + filter, s));
    }
    subs.push_back(sub);
  }
  std::unordered_map<int64_t, Rec> sums;
  int64_t done = 0;
  size_t next = 0;
  while (done < n && (stop == nullptr || !stop->load())) {
    jsFetchRequest req;
    jsFetchRequest_Init(&req);
    req.Batch = kFetchBatch;
    req.NoWait = true;
    req.Expires = kFetchWaitMs * 1000000;
    natsMsgList list{};
    // libnats 3.4.1's fetch writes past its array when more than half the
    // batch already waits in the subscription (messages of an earlier fetch
    // that gave up): ask for enough that they are at most a quarter.
    int waiting = 0;
    int waiting_bytes = 0;
    if (natsSubscription_GetPending(subs[next], &waiting, &waiting_bytes) ==
            NATS_OK &&
        waiting > 0) {
      req.Batch =
          std::max<int64_t>(req.Batch, 4 * (int64_t{waiting} + kFetchBatch));
    }
    natsStatus s = natsSubscription_FetchRequest(&list, subs[next], &req);
    next = (next + 1) % subs.size();
    if (s == NATS_NOT_FOUND || s == NATS_TIMEOUT) {
      natsMsgList_Destroy(&list);
      continue;
    }
    if (s != NATS_OK) {
      natsMsgList_Destroy(&list);
      unsubscribe();
      return Status::IOError(
          weir::internal::NatsErrorText("plain loop: fetch", s));
    }
    for (int i = 0; i < list.Count; ++i) {
      Rec r;
      std::string_view data(
          natsMsg_GetData(list.Msgs[i]),
          static_cast<size_t>(natsMsg_GetDataLength(list.Msgs[i])));
      if (!Parse(data, &r)) {
        natsMsgList_Destroy(&list);
        unsubscribe();
        return Status::Corruption("plain loop: bad record");
      }
      Rec& sum = sums[r.key];
      sum.key = r.key;
      sum.value += r.value;
      sum.ts_ns = r.ts_ns;
      const std::string out = Format(sum);
      s = js_PublishAsync(c.js, out_subject.c_str(), out.data(),
                          static_cast<int>(out.size()), nullptr);
      if (s != NATS_OK) {
        natsMsgList_Destroy(&list);
        unsubscribe();
        return Status::IOError(
            weir::internal::NatsErrorText("plain loop: publish", s));
      }
      ++done;
    }
    natsMsgList_Destroy(&list);
  }
  st = c.AwaitAcks();
  unsubscribe();
  if (!st.ok()) return st;
  return done;
}

JobBuilder SumJob(const std::string& url, const std::string& stream,
                  const std::string& out_subject, bool bounded,
                  NatsSinkOptions::Delivery delivery,
                  const std::string& id_prefix) {
  NatsSourceOptions source;
  source.connection.servers = {url};
  source.stream = stream;
  source.bounded = bounded;
  NatsSinkOptions sink;
  sink.connection.servers = {url};
  sink.subject = out_subject;
  sink.delivery = delivery;
  sink.msg_id_prefix = id_prefix;
  JobBuilder b("nats-bench");
  b.SetParallelism(1);
  b.AddSource<Rec>(NatsSource<Rec>::Factory(source, ParseMessage), "in")
      .Uid("in")
      .KeyBy([](const Rec& r) { return r.key; })
      .Reduce(
          [](const Rec& a, const Rec& b) {
            return Rec{a.key, a.value + b.value, b.ts_ns};
          },
          "sum")
      .Uid("sum")
      .SinkTo(NatsSink<Rec>::Factory(sink, Format))
      .Name("out")
      .Uid("out");
  return b;
}

JobOptions Options(const std::string& dir) {
  std::filesystem::remove_all(dir);
  JobOptions o;
  o.backend = JobOptions::Backend::kRocksDB;
  o.local_dir = dir + "/local";
  o.checkpoints.dir = dir + "/checkpoints";
  o.checkpoints.interval_ms = kCheckpointMs;
  return o;
}

struct Throughput {
  int64_t records = 0;
  int64_t output = 0;  // messages in the output stream afterwards
  double seconds = 0;
  double rate = 0;
  int64_t checkpoints = 0;
  std::string error;
};

std::string Escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch == '\n' ? ' ' : ch;
  }
  return out;
}

std::string Json(const Throughput& t) {
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "{\"records\": %lld, \"output_messages\": %lld, "
                "\"seconds\": %.3f, \"records_per_s\": %.0f, "
                "\"checkpoints_completed\": %lld",
                static_cast<long long>(t.records),
                static_cast<long long>(t.output), t.seconds, t.rate,
                static_cast<long long>(t.checkpoints));
  std::string out = buf;
  if (!t.error.empty()) out += ", \"error\": \"" + Escape(t.error) + "\"";
  return out + "}";
}

void Finish(Throughput* t, const std::string& url, int64_t start_ns) {
  t->seconds = static_cast<double>(NowNs() - start_ns) / 1e9;
  t->rate = static_cast<double>(t->records) / t->seconds;
  Result<uint64_t> out = natstest::StreamCount(url, "OUT");
  if (out.ok()) t->output = static_cast<int64_t>(*out);
}

Throughput RunPlain(const std::string& url, int64_t n, int subjects) {
  Throughput t;
  if (Status s = FreshStream(url, {"OUT", {"out"}, 300000}); !s.ok()) {
    t.error = s.ToString();
    return t;
  }
  const int64_t start = NowNs();
  Result<int64_t> done =
      PlainLoop(url, "IN", "in", subjects, "out", n, nullptr);
  if (!done.ok()) t.error = done.status().ToString();
  t.records = done.ok() ? *done : 0;
  Finish(&t, url, start);
  return t;
}

Throughput RunWeir(const std::string& url, int64_t n,
                   NatsSinkOptions::Delivery delivery, const std::string& dir,
                   const std::string& id_prefix, double limit_seconds) {
  Throughput t;
  if (Status s = FreshStream(url, {"OUT", {"out"}, 300000}); !s.ok()) {
    t.error = s.ToString();
    return t;
  }
  const int64_t start = NowNs();
  Result<std::unique_ptr<Job>> job =
      SumJob(url, "IN", "out", true, delivery, id_prefix).Build(Options(dir));
  if (!job.ok()) {
    t.error = job.status().ToString();
    return t;
  }
  Status s = (*job)->Start();
  bool ended = true;
  if (s.ok()) {
    ended = (*job)->WaitFor(
        std::chrono::milliseconds(static_cast<int64_t>(limit_seconds * 1000)));
    if (!ended) (*job)->Cancel();
    s = (*job)->Wait();
  }
  t.records = n;
  if (!ended) {
    t.error = "did not finish in " + std::to_string(limit_seconds) +
              " s (--limit); records: the output messages by then";
  } else if (!s.ok()) {
    t.error = s.ToString();
  }
  Finish(&t, url, start);
  if (!ended) {
    t.records = t.output;
    t.rate = static_cast<double>(t.records) / t.seconds;
  }
  t.checkpoints = (*job)->Checkpoints().completed;
  job->reset();
  std::filesystem::remove_all(dir);
  return t;
}

struct Latency {
  int64_t published = 0;
  int64_t received = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  std::string error;
};

std::string Json(const Latency& l) {
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "{\"published\": %lld, \"received\": %lld, \"p50_ms\": %.2f, "
                "\"p99_ms\": %.2f, \"max_ms\": %.2f",
                static_cast<long long>(l.published),
                static_cast<long long>(l.received), l.p50_ms, l.p99_ms,
                l.max_ms);
  std::string out = buf;
  if (!l.error.empty()) out += ", \"error\": \"" + Escape(l.error) + "\"";
  return out + "}";
}

// What the output subscriber collects: publish-to-visible latencies of
// records with a timestamp (the warm-up records have none).
struct Collected {
  std::mutex mu;
  std::vector<double> ms;
  std::atomic<int64_t> messages{0};
};

void OnOutput(natsConnection*, natsSubscription*, natsMsg* msg, void* arg) {
  const int64_t now = NowNs();
  auto* c = static_cast<Collected*>(arg);
  Rec r;
  if (Parse(std::string_view(natsMsg_GetData(msg),
                             static_cast<size_t>(natsMsg_GetDataLength(msg))),
            &r) &&
      r.ts_ns > 0) {
    std::lock_guard<std::mutex> lock(c->mu);
    c->ms.push_back(static_cast<double>(now - r.ts_ns) / 1e6);
  }
  c->messages.fetch_add(1);
  natsMsg_Destroy(msg);
}

// One latency phase: `mode` is "plain", "exactly-once" or "at-least-once".
// A fresh LAT stream and LATOUT stream; the processor starts; warm-up
// records until one comes out; then `rate` records/s for `seconds`.
Latency RunLatency(const std::string& url, const std::string& mode,
                   int subjects, double rate, double seconds,
                   const std::string& dir) {
  Latency l;
  Status st = FreshStream(url, {"LAT", {"lat.*"}, 120000});
  if (st.ok()) st = FreshStream(url, {"LATOUT", {"latout"}, 300000});
  Client sub_client;
  if (st.ok()) st = sub_client.Connect(url);
  if (!st.ok()) {
    l.error = st.ToString();
    return l;
  }
  Collected collected;
  natsSubscription* sub = nullptr;
  natsStatus ns = natsConnection_Subscribe(&sub, sub_client.nc, "latout",
                                           OnOutput, &collected);
  if (ns == NATS_OK) {
    natsSubscription_SetPendingLimits(sub, -1, -1);
    ns = natsConnection_Flush(sub_client.nc);
  }
  if (ns != NATS_OK) {
    l.error = weir::internal::NatsErrorText("subscribe", ns);
    return l;
  }

  std::unique_ptr<Job> job;
  std::atomic<bool> stop{false};
  std::thread plain;
  Status plain_status;
  if (mode == "plain") {
    plain = std::thread([&] {
      Result<int64_t> r =
          PlainLoop(url, "LAT", "lat", subjects, "latout", INT64_MAX, &stop);
      if (!r.ok()) plain_status = r.status();
    });
  } else {
    const auto delivery = mode == "exactly-once"
                              ? NatsSinkOptions::Delivery::kExactlyOnce
                              : NatsSinkOptions::Delivery::kAtLeastOnce;
    Result<std::unique_ptr<Job>> built =
        SumJob(url, "LAT", "latout", false, delivery, "lat-" + mode)
            .Build(Options(dir));
    if (built.ok()) {
      job = std::move(*built);
      st = job->Start();
    } else {
      st = built.status();
    }
  }

  Client pub;
  if (st.ok()) st = pub.Connect(url);
  auto publish = [&](int64_t i, int64_t ts) -> Status {
    const Rec r{(i * 7919) % kKeys, 1, ts};
    const std::string data = Format(r);
    const std::string subject = Subject("lat", r.key, subjects);
    natsStatus s = js_PublishAsync(pub.js, subject.c_str(), data.data(),
                                   static_cast<int>(data.size()), nullptr);
    return s == NATS_OK ? Status::OK()
                        : Status::IOError(weir::internal::NatsErrorText(
                              "latency publish", s));
  };
  // Warm-up: until the processor's output shows (consumers and the sink
  // are open), at most 30 s.
  int64_t i = 0;
  const auto warm_deadline = SteadyClock::now() + 30s;
  while (st.ok() && collected.messages.load() == 0) {
    if (SteadyClock::now() > warm_deadline) {
      st = Status::DeadlineExceeded("no output within 30 s of the start");
      break;
    }
    st = publish(i++, 0);
    std::this_thread::sleep_for(50ms);
  }
  if (st.ok()) {
    const int64_t warm = i;
    const int64_t start = NowNs();
    const auto total = static_cast<int64_t>(rate * seconds);
    const double interval_ns = 1e9 / rate;
    for (int64_t k = 0; k < total && st.ok(); ++k) {
      const int64_t slot =
          start + static_cast<int64_t>(static_cast<double>(k) * interval_ns);
      while (NowNs() < slot) std::this_thread::sleep_for(50us);
      st = publish(warm + k, NowNs());
    }
    l.published = total;
    if (st.ok()) st = pub.AwaitAcks();
    // Until every record came out (exactly-once: a checkpoint or two), at
    // most 30 s.
    const auto drain = SteadyClock::now() + 30s;
    while (SteadyClock::now() < drain) {
      {
        std::lock_guard<std::mutex> lock(collected.mu);
        if (static_cast<int64_t>(collected.ms.size()) >= total) break;
      }
      std::this_thread::sleep_for(10ms);
    }
  }
  if (!st.ok()) l.error = st.ToString();
  if (job != nullptr) {
    job->Cancel();
    job->Wait().IgnoreError();
    job.reset();
  }
  stop.store(true);
  if (plain.joinable()) plain.join();
  if (!plain_status.ok() && l.error.empty()) l.error = plain_status.ToString();
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  std::filesystem::remove_all(dir);
  std::vector<double> v;
  {
    std::lock_guard<std::mutex> lock(collected.mu);
    v = collected.ms;
  }
  l.received = static_cast<int64_t>(v.size());
  if (!v.empty()) {
    std::sort(v.begin(), v.end());
    auto at = [&v](double q) {
      return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
    };
    l.p50_ms = at(0.5);
    l.p99_ms = at(0.99);
    l.max_ms = v.back();
  }
  return l;
}

}  // namespace
}  // namespace weir::bench

int main(int argc, char** argv) {
  using namespace weir;
  using namespace weir::bench;
  int64_t records = 1'000'000;
  int subjects = 4;
  std::string json_path;
  double latency_rate = 2000;
  double latency_seconds = 5;
  double limit_seconds = 120;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--records" && i + 1 < argc) {
      records = std::atoll(argv[++i]);
    } else if (arg == "--subjects" && i + 1 < argc) {
      subjects = std::atoi(argv[++i]);
    } else if (arg == "--json" && i + 1 < argc) {
      json_path = argv[++i];
    } else if (arg == "--latency-rate" && i + 1 < argc) {
      latency_rate = std::atof(argv[++i]);
    } else if (arg == "--limit" && i + 1 < argc) {
      limit_seconds = std::atof(argv[++i]);
    } else if (arg == "--latency-seconds" && i + 1 < argc) {
      latency_seconds = std::atof(argv[++i]);
    } else {
      std::fprintf(
          stderr,
          "usage: nats_bench [--records M] [--subjects K] [--json "
          "FILE] [--latency-rate R] [--latency-seconds S] [--limit S]\n");
      return 2;
    }
  }
  if (records < 1 || subjects < 1 || latency_rate <= 0 ||
      latency_seconds <= 0 || limit_seconds <= 0) {
    std::fprintf(stderr,
                 "nats_bench: --records, --subjects, --latency-rate "
                 "and --latency-seconds must be positive\n");
    return 2;
  }
  if (!natstest::NatsServerInstalled()) {
    std::fprintf(stderr, "nats_bench: nats-server is not on the PATH\n");
    return 1;
  }
  const char* tmp = std::getenv("TMPDIR");
  const std::string dir = std::string(tmp != nullptr ? tmp : "/tmp") +
                          "/weir-nats-bench-" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  natstest::NatsServer server(dir + "/nats");
  if (Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "nats_bench: %s\n", s.ToString().c_str());
    return 1;
  }
  const std::string url = server.url();
  std::vector<std::string> in_subjects;
  for (int k = 0; k < subjects; ++k)
    in_subjects.push_back(Subject("in", k, subjects));
  Status s = natstest::CreateStream(url, {"IN", in_subjects, 120000});
  std::fprintf(stderr, "nats_bench: publishing %lld records over %d subjects\n",
               static_cast<long long>(records), subjects);
  const int64_t pub_start = NowNs();
  if (s.ok()) s = PrePublish(url, records, subjects);
  const double pub_seconds = static_cast<double>(NowNs() - pub_start) / 1e9;
  if (!s.ok()) {
    std::fprintf(stderr, "nats_bench: %s\n", s.ToString().c_str());
    server.Stop();
    std::filesystem::remove_all(dir);
    return 1;
  }
  std::fprintf(stderr, "nats_bench: plain loop\n");
  const Throughput plain = RunPlain(url, records, subjects);
  std::fprintf(stderr, "nats_bench: weir exactly-once\n");
  const Throughput eo =
      RunWeir(url, records, NatsSinkOptions::Delivery::kExactlyOnce,
              dir + "/job", "tput-eo", limit_seconds);
  std::fprintf(stderr, "nats_bench: weir at-least-once\n");
  const Throughput alo =
      RunWeir(url, records, NatsSinkOptions::Delivery::kAtLeastOnce,
              dir + "/job", "tput-alo", limit_seconds);
  std::vector<std::pair<std::string, Latency>> latencies;
  for (const char* mode : {"plain", "exactly-once", "at-least-once"}) {
    std::fprintf(stderr, "nats_bench: latency, %s\n", mode);
    latencies.emplace_back(mode, RunLatency(url, mode, subjects, latency_rate,
                                            latency_seconds, dir + "/job"));
  }
  server.Stop();
  std::filesystem::remove_all(dir);

  auto ratio = [&plain](const Throughput& t) {
    return plain.rate > 0 ? t.rate / plain.rate : 0.0;
  };
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                ", \"records\": %lld, \"subjects\": %d, \"keys\": %lld, "
                "\"fetch_batch\": %d, \"max_pending\": %d, "
                "\"checkpoint_interval_ms\": %lld, \"parallelism\": 1, "
                "\"limit_seconds\": %.0f, \"prepublish_seconds\": %.3f",
                static_cast<long long>(records), subjects,
                static_cast<long long>(kKeys), kFetchBatch, kMaxPending,
                static_cast<long long>(kCheckpointMs), limit_seconds,
                pub_seconds);
  std::string json = "{\"bench\": \"nats_bench\", \"commit\": \"" +
                     std::string(BuildCommit()) +
                     "\", \"machine\": " + MachineJson() + buf +
                     ", \"throughput\": {\"plain\": " + Json(plain) +
                     ", \"weir_exactly_once\": " + Json(eo) +
                     ", \"weir_at_least_once\": " + Json(alo) + "}";
  std::snprintf(buf, sizeof(buf),
                ", \"ratio_weir_to_plain\": {\"exactly_once\": %.3f, "
                "\"at_least_once\": %.3f}",
                ratio(eo), ratio(alo));
  json += buf;
  std::snprintf(buf, sizeof(buf),
                ", \"latency\": {\"rate\": %.0f, \"seconds\": %.1f",
                latency_rate, latency_seconds);
  json += buf;
  for (const auto& [mode, l] : latencies) {
    json += ", \"" + mode + "\": " + Json(l);
  }
  json += "}}\n";
  std::fputs(json.c_str(), stdout);
  if (!json_path.empty()) std::ofstream(json_path) << json;
  const std::string path = ResultsPath("nats_bench");
  if (!path.empty()) {
    std::ofstream(path) << json;
    std::fprintf(stderr, "nats_bench: wrote %s\n", path.c_str());
  }
  const bool failed =
      !plain.error.empty() || !eo.error.empty() || !alo.error.empty();
  return failed ? 1 : 0;
}
