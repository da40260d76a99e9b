// SPDX-License-Identifier: Apache-2.0
//
// Small helpers shared by checkpoint_bench and savepoint_bench: clocks,
// this thread's CPU time and context switches, the environment settings,
// the machine's load, a key permutation, and a fatal-error exit. Plain
// functions; nothing here is shared between threads.
#pragma once

#include <sys/resource.h>
#include <time.h>

#include <cstdint>
#include <string>
#include <vector>

#include <weir/status.h>

namespace weir::bench {

// CLOCK_MONOTONIC in ns.
int64_t NowNs();
// Sleeps until CLOCK_MONOTONIC reaches `t` ns.
void SleepUntilNs(int64_t t);
// `clock` (a CPU-time clock) in ns.
int64_t CpuNs(clockid_t clock);
// Wall-clock ms since the Unix epoch.
int64_t WallMillis();
// /proc/loadavg, one line.
std::string LoadAverage();
// "2026-11-24 07:38:00 UTC".
std::string UtcNow();

// Prints "<program>: <what>: <status>" to stderr and exits with 1.
[[noreturn]] void Die(const std::string& what, const Status& s);

// Environment variable `name`, or `fallback` when unset or empty.
std::string Env(const char* name, const char* fallback);
double EnvDouble(const char* name, double fallback);
// The non-empty items of a comma-separated list.
std::vector<std::string> Split(const std::string& s);

inline double MiB(uint64_t bytes) {
  return static_cast<double>(bytes) / (1 << 20);
}
// The median (mean of the middle two for an even count); 0 if empty.
double Median(std::vector<double> v);

// This thread's CPU time and context switches: where a pause went (on the
// CPU, blocked in a system call, or preempted).
struct ThreadUsage {
  int64_t cpu_ns = 0;
  int64_t voluntary = 0;    // blocked (I/O, a lock, a sleep)
  int64_t involuntary = 0;  // preempted

  static ThreadUsage Now();
  ThreadUsage operator-(const ThreadUsage& o) const {
    return {cpu_ns - o.cpu_ns, voluntary - o.voluntary,
            involuntary - o.involuntary};
  }
};

// The j-th update goes to key (a * (j mod n) + b) mod n: a permutation of
// 0..n-1 (gcd(a, n) = 1), so consecutive updates hit distinct keys spread
// over the key space. a, j mod n and n are < 2^32, so nothing overflows.
class KeySequence {
 public:
  explicit KeySequence(uint64_t n);
  uint64_t Next() { return (a_ * (j_++ % n_) + b_) % n_; }
  uint64_t updates() const { return j_; }

 private:
  uint64_t n_, a_ = 1, b_ = 0, j_ = 0;
};

}  // namespace weir::bench
