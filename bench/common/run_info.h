// SPDX-License-Identifier: Apache-2.0
//
// What a benchmark result file records about its run: the commit the
// binary was built from and the machine it ran on, and where the file goes
// (bench/results/ when the benchmark runs through Meson).
#pragma once

#include <string>

namespace weir::bench {

// The commit the binary was built from: 12 hex digits of its hash, with
// "-dirty" if the tree had uncommitted changes; "unknown" outside a git
// checkout.
const char* BuildCommit();

// A JSON object: host name, kernel, CPU model, online CPUs, memory, load
// average at the call, and the time (UTC).
std::string MachineJson();

// The CPU model from /proc/cpuinfo; empty if unknown.
std::string CpuModel();

// "<$WEIR_BENCH_RESULTS>/<bench>-<UTC yyyymmddThhmmssZ>-<BuildCommit()>.json"
// (creating the directory), or empty if WEIR_BENCH_RESULTS is unset.
std::string ResultsPath(const std::string& bench);

}  // namespace weir::bench
