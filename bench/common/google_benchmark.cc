// SPDX-License-Identifier: Apache-2.0
#include "bench/common/google_benchmark.h"

#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/common/run_info.h"

namespace weir::bench {

bool InitGoogleBenchmark(int argc, char** argv, const std::string& bench) {
  // Initialize() keeps pointers into the arguments: they live as long as
  // the process.
  static std::vector<std::string> args;
  static std::vector<char*> pointers;
  args.assign(argv, argv + argc);
  bool has_out = false;
  for (const std::string& a : args) {
    if (a.rfind("--benchmark_out=", 0) == 0) has_out = true;
  }
  const std::string path = has_out ? "" : ResultsPath(bench);
  if (!path.empty()) {
    args.push_back("--benchmark_out=" + path);
    args.push_back("--benchmark_out_format=json");
  }
  pointers.clear();
  for (std::string& a : args) pointers.push_back(a.data());
  int count = static_cast<int>(pointers.size());
  benchmark::Initialize(&count, pointers.data());
  if (benchmark::ReportUnrecognizedArguments(count, pointers.data())) {
    return false;
  }
  benchmark::AddCustomContext("commit", BuildCommit());
  benchmark::AddCustomContext("cpu_model", CpuModel());
  return true;
}

}  // namespace weir::bench
