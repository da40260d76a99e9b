// SPDX-License-Identifier: Apache-2.0
//
// A job built by JobBuilder (stream.h): start it, wait for it, cancel it,
// and ask how it is doing. Every method may be called from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <weir/clock.h>
#include <weir/job_info.h>
#include <weir/options.h>
#include <weir/status.h>

namespace weir {

struct JobOptions {
  enum class Backend : uint8_t { kMemory, kRocksDB };

  // Where keyed state lives while the job runs. Default: kMemory.
  Backend backend = Backend::kMemory;
  // RocksDB working directories go under <local_dir>/job-<jobid>/ and are
  // removed when the job ends. Default: empty, meaning $TMPDIR/weir (or
  // /tmp/weir).
  std::string local_dir;
  RocksDBOptions rocksdb;
  // Processing time: timers, TTL, idleness, source rates. Default: null,
  // meaning SystemClock(). Tests pass a ManualClock.
  std::shared_ptr<Clock> clock;
  // Records per batch sent over a channel, and batches a channel holds
  // before its producer blocks (backpressure). Defaults: 256 and 8.
  int batch_size = 256;
  int channel_capacity = 8;
  // The job's id. Default: empty, meaning a new random one.
  JobId job_id;
};

class Job {
 public:
  struct Impl;
  explicit Job(std::unique_ptr<Impl> impl);
  ~Job();  // cancels the job if it is still running, and waits for it
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;

  const JobId& id() const;
  const std::string& name() const;

  // Starts the tasks. FailedPrecondition-like InvalidArgument if started
  // twice; IOError if a state backend cannot be opened.
  Status Start();
  // Blocks until the job is terminal. OK if it finished; Aborted if it was
  // cancelled; the failure if it failed.
  Status Wait();
  // Like Wait() for at most `timeout`; returns false if still running.
  bool WaitFor(std::chrono::milliseconds timeout);
  // Asks the tasks to stop. Returns at once; Wait() for the end.
  void Cancel();

  JobStatus status() const;
  JobInfo Info() const;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace weir
