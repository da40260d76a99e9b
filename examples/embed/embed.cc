// SPDX-License-Identifier: Apache-2.0
//
// Embedding weir in a C++ program: a deterministic stream of events, keyed
// by key, counted in tumbling event-time windows of one second, printed.
//
//   build/release/examples/embed/embed [events]
#include <cstdio>
#include <cstdlib>
#include <string>

#include <weir/sinks.h>
#include <weir/sources.h>
#include <weir/stream.h>

int main(int argc, char** argv) {
  weir::GeneratorOptions gen;
  gen.num_keys = 3;
  gen.count = argc > 1 ? std::atoll(argv[1]) : 6000;
  gen.ts_step_ms = 1;  // event time advances 1 ms per event

  weir::JobBuilder b("embedded-counts");
  b.SetParallelism(2);
  b.AddSource<weir::GeneratedEvent>(weir::GeneratorSource::Factory(gen),
                                    "events",
                                    weir::GeneratorSource::Watermarks())
      .Uid("events")
      .KeyBy([](const weir::GeneratedEvent& e) { return e.key; })
      .Window(weir::WindowAssigner::TumblingEventTime(1000))
      .Aggregate(
          weir::AggregateFunction<weir::GeneratedEvent, int64_t, int64_t>{
              [] { return int64_t{0}; },
              [](const weir::GeneratedEvent&, int64_t* n) { ++*n; },
              [](const int64_t& n) { return n; },
              [](const int64_t& a, const int64_t& b) { return a + b; }})
      .Uid("counts-per-second")
      .SinkTo(
          weir::PrintSink<weir::WindowResult<std::string, int64_t>>::Factory(
              [](const weir::WindowResult<std::string, int64_t>& r) {
                return r.key + " [" + std::to_string(r.window.start) + ", " +
                       std::to_string(r.window.end) +
                       "): " + std::to_string(r.value);
              }))
      .SetParallelism(1)
      .Name("print");

  weir::Result<std::unique_ptr<weir::Job>> job = b.Build();
  if (!job.ok()) {
    std::fprintf(stderr, "error: %s\n", job.status().ToString().c_str());
    return 1;
  }
  weir::Status s = (*job)->Start();
  if (s.ok()) s = (*job)->Wait();
  if (!s.ok()) {
    std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
    return 1;
  }
  const weir::JobInfo info = (*job)->Info();
  std::printf("job %s %s:", info.id.ToHex().c_str(),
              std::string(weir::JobStatusName(info.status)).c_str());
  for (const weir::VertexInfo& v : info.vertices) {
    std::printf(" [%s: in %lld, out %lld]", v.name.c_str(),
                static_cast<long long>(v.records_in),
                static_cast<long long>(v.records_out));
  }
  std::printf("\n");
  return 0;
}
