// SPDX-License-Identifier: Apache-2.0
//
// The start of a Google Benchmark program of weir's.
#pragma once

#include <string>

namespace weir::bench {

// benchmark::Initialize() with the program's arguments, plus
// --benchmark_out=ResultsPath(bench) and --benchmark_out_format=json
// unless WEIR_BENCH_RESULTS is unset or the arguments name an output
// already (run_info.h); then the commit and the CPU model go into the
// results' context. False, after printing why, if an argument is unknown.
bool InitGoogleBenchmark(int argc, char** argv, const std::string& bench);

}  // namespace weir::bench
