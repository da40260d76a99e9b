// SPDX-License-Identifier: Apache-2.0
//
// nexmark_bench: the Nexmark queries (queries.h) per core, as Nexmark
// measures them: the generator runs inside the job, the results go to a
// sink that only counts them, and checkpoints run periodically
// (incremental on RocksDB). Per query and backend it reports the events
// generated, the CPU seconds the whole process used over the run
// (getrusage: every task thread, the checkpoints' threads and RocksDB's),
// events per CPU second, the wall time, and the checkpoints taken.
//
//   nexmark_bench [--queries q0,q1] [--events N] [--backend memory|rocksdb]
//                 [--parallelism P] [--checkpoint-interval-ms MS]
//                 [--json FILE]
//
// Defaults: every query, 10M events, both backends, parallelism 1,
// checkpoints every 10 s. Prints a JSON object on stdout, writes it to
// FILE with --json and, when WEIR_BENCH_RESULTS is set, to
// bench/results/nexmark_bench-<time>-<commit>.json.
#include <stdlib.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench/common/run_info.h"
#include "bench/nexmark/queries.h"
#include "weir/nexmark.h"
#include "weir/stream.h"

namespace weir::bench {
namespace {

namespace fs = std::filesystem;
using nexmark::Event;

struct Settings {
  std::vector<std::string> queries = nexmark::QueryNames();
  int64_t events = 10'000'000;
  std::vector<std::string> backends = {"memory", "rocksdb"};
  int parallelism = 1;
  int64_t checkpoint_interval_ms = 10'000;
  std::string json_path;
};

struct Run {
  std::string query;
  std::string backend;
  int64_t events = 0;
  int64_t outputs = 0;
  double cpu_seconds = 0;
  double wall_seconds = 0;
  CheckpointsInfo checkpoints;
};

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Appends the query to the source's stream and a sink that counts what it
// receives.
template <class T>
void CountInto(DataStream<T> results, std::shared_ptr<std::atomic<int64_t>> n) {
  results.SinkTo([n](const T&) { n->fetch_add(1, std::memory_order_relaxed); })
      .Name("count");
}

Status AddQuery(const std::string& query, DataStream<Event> events,
                std::shared_ptr<std::atomic<int64_t>> n) {
  if (query == "q0") {
    CountInto(nexmark::Q0(events), n);
  } else if (query == "q1") {
    CountInto(nexmark::Q1(events), n);
  } else if (query == "q2") {
    CountInto(nexmark::Q2(events), n);
  } else if (query == "q3") {
    CountInto(nexmark::Q3(events), n);
  } else if (query == "q5") {
    CountInto(nexmark::Q5(events), n);
  } else {
    return Status::InvalidArgument("nexmark_bench: unknown query '" + query +
                                   "'");
  }
  return Status::OK();
}

Result<Run> RunQuery(const Settings& settings, const std::string& query,
                     const std::string& backend, const std::string& dir) {
  nexmark::GeneratorOptions gen;
  gen.count = settings.events;
  JobBuilder b("nexmark-" + query);
  b.SetParallelism(settings.parallelism);
  DataStream<Event> events =
      b.AddSource<Event>(nexmark::Source::Factory(gen), "nexmark",
                         nexmark::Source::Watermarks(gen))
          .Uid("nexmark");
  auto outputs = std::make_shared<std::atomic<int64_t>>(0);
  Status s = AddQuery(query, events, outputs);
  if (!s.ok()) return s;
  JobOptions options;
  options.backend = backend == "rocksdb" ? JobOptions::Backend::kRocksDB
                                         : JobOptions::Backend::kMemory;
  options.local_dir = dir + "/local";
  options.checkpoints.dir = dir + "/checkpoints";
  options.checkpoints.interval_ms = settings.checkpoint_interval_ms;
  options.checkpoints.incremental = true;
  Result<std::unique_ptr<Job>> job = b.Build(options);
  if (!job.ok()) return job.status();
  Run run;
  run.query = query;
  run.backend = backend;
  run.events = settings.events;
  const double cpu0 = CpuSeconds();
  const auto wall0 = std::chrono::steady_clock::now();
  s = (*job)->Start();
  if (s.ok()) s = (*job)->Wait();
  run.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0)
          .count();
  run.cpu_seconds = CpuSeconds() - cpu0;
  if (!s.ok()) return s;
  run.outputs = outputs->load();
  run.checkpoints = (*job)->Checkpoints();
  return run;
}

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

std::string RunJson(const Run& r) {
  std::ostringstream o;
  o << "{\"query\": \"" << r.query << "\", \"backend\": \"" << r.backend
    << "\", \"events\": " << r.events << ", \"outputs\": " << r.outputs
    << ", \"cpu_seconds\": " << Num(r.cpu_seconds)
    << ", \"events_per_core_second\": "
    << Num(r.cpu_seconds > 0 ? static_cast<double>(r.events) / r.cpu_seconds
                             : 0)
    << ", \"wall_seconds\": " << Num(r.wall_seconds)
    << ", \"events_per_second\": "
    << Num(r.wall_seconds > 0 ? static_cast<double>(r.events) / r.wall_seconds
                              : 0)
    << ", \"checkpoints_completed\": " << r.checkpoints.completed
    << ", \"checkpoints_failed\": " << r.checkpoints.failed
    << ", \"checkpoints\": [";
  bool first = true;
  for (const CheckpointStats& c : r.checkpoints.history) {
    if (!first) o << ", ";
    first = false;
    o << "{\"id\": " << c.id << ", \"sync_max_us\": " << c.sync_max_us
      << ", \"async_max_us\": " << c.async_max_us
      << ", \"bytes_uploaded\": " << c.bytes_uploaded
      << ", \"state_size\": " << c.state_size << "}";
  }
  o << "]}";
  return o.str();
}

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

int Usage() {
  std::fprintf(stderr,
               "usage: nexmark_bench [--queries q0,q1,...] [--events N] "
               "[--backend memory|rocksdb] [--parallelism P] "
               "[--checkpoint-interval-ms MS] [--json FILE]\n");
  return 2;
}

int Main(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return Usage();
    const std::string value = argv[++i];
    if (arg == "--queries") {
      settings.queries = SplitCommas(value);
    } else if (arg == "--events") {
      settings.events = std::atoll(value.c_str());
    } else if (arg == "--backend") {
      if (value != "memory" && value != "rocksdb") return Usage();
      settings.backends = {value};
    } else if (arg == "--parallelism") {
      settings.parallelism = std::atoi(value.c_str());
    } else if (arg == "--checkpoint-interval-ms") {
      settings.checkpoint_interval_ms = std::atoll(value.c_str());
    } else if (arg == "--json") {
      settings.json_path = value;
    } else {
      return Usage();
    }
  }
  if (settings.events < 1 || settings.parallelism < 1 ||
      settings.checkpoint_interval_ms < 1 || settings.queries.empty()) {
    return Usage();
  }
  char tmpl[] = "/tmp/weir-nexmark-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::perror("nexmark_bench: mkdtemp");
    return 1;
  }
  const std::string dir = tmpl;
  std::vector<Run> runs;
  int rc = 0;
  for (const std::string& query : settings.queries) {
    for (const std::string& backend : settings.backends) {
      const std::string run_dir = dir + "/" + query + "-" + backend;
      Result<Run> run = RunQuery(settings, query, backend, run_dir);
      std::error_code ec;
      fs::remove_all(run_dir, ec);
      if (!run.ok()) {
        std::fprintf(stderr, "nexmark_bench: %s on %s: %s\n", query.c_str(),
                     backend.c_str(), run.status().ToString().c_str());
        rc = 1;
        continue;
      }
      std::fprintf(stderr,
                   "%s %-7s %lld events: %.2f cpu s, %.0f events/core s, "
                   "%.2f wall s, %lld checkpoints\n",
                   query.c_str(), backend.c_str(),
                   static_cast<long long>(run->events), run->cpu_seconds,
                   static_cast<double>(run->events) / run->cpu_seconds,
                   run->wall_seconds,
                   static_cast<long long>(run->checkpoints.completed));
      runs.push_back(std::move(*run));
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  std::string json =
      "{\"bench\": \"nexmark_bench\", \"commit\": \"" +
      std::string(BuildCommit()) + "\", \"machine\": " + MachineJson() +
      ", \"parallelism\": " + std::to_string(settings.parallelism) +
      ", \"checkpoint_interval_ms\": " +
      std::to_string(settings.checkpoint_interval_ms) + ", \"results\": [";
  for (size_t i = 0; i < runs.size(); ++i) {
    if (i > 0) json += ",\n  ";
    json += RunJson(runs[i]);
  }
  json += "]}\n";
  std::fputs(json.c_str(), stdout);
  for (const std::string& path :
       {settings.json_path, ResultsPath("nexmark_bench")}) {
    if (path.empty()) continue;
    std::ofstream out(path);
    out << json;
    if (!out) {
      std::fprintf(stderr, "nexmark_bench: cannot write %s\n", path.c_str());
      rc = 1;
    }
  }
  return rc;
}

}  // namespace
}  // namespace weir::bench

int main(int argc, char** argv) { return weir::bench::Main(argc, argv); }
