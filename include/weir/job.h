// SPDX-License-Identifier: Apache-2.0
//
// A job built by JobBuilder (stream.h): start it, wait for it, cancel it,
// and ask how it is doing. Every method may be called from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <weir/checkpoint.h>
#include <weir/clock.h>
#include <weir/job_info.h>
#include <weir/options.h>
#include <weir/restore_check.h>
#include <weir/result.h>
#include <weir/savepoint.h>
#include <weir/serializer.h>
#include <weir/state.h>
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
  // The job's id. Default: empty, meaning a new random one, or the id of
  // the checkpoint in `restore_from` (so that the job goes on in the same
  // checkpoint directory).
  JobId job_id;
  // Checkpoints (off unless checkpoints.dir is set) and restarts.
  CheckpointOptions checkpoints;
  RestartOptions restart;
  // Start from this checkpoint or savepoint: its directory or its
  // `_metadata`. State is mapped to operators by operator id (the hash of
  // the uid, or of the place in the graph); the max parallelism must be the
  // same. A new operator starts empty. Default: empty, a fresh start.
  //
  // Who owns the snapshot's files after the restore (`claim_mode`).
  std::string restore_from;
  // Who owns the files of `restore_from` (Flink's claim modes;
  // docs/savepoints.md, "Claim modes"):
  //   kNoClaim: the snapshot stays the user's. The job gets a new id and
  //     its own checkpoint directory, and never deletes or changes a file
  //     of the snapshot; its first checkpoint hard-links the restored files
  //     into its own storage (copies them across file systems) and
  //     references none of the snapshot's.
  //   kClaim: the job owns the snapshot. A checkpoint: the job keeps its id
  //     and goes on in its directory, pruning it (and the checkpoint's
  //     files) like its own. A savepoint: the job gets a new id and
  //     disposes of the savepoint (DisposeSavepoint) once its first
  //     checkpoint is complete.
  //   kDefault: kClaim for a checkpoint, kNoClaim for a savepoint.
  enum class ClaimMode : uint8_t { kDefault, kClaim, kNoClaim };
  ClaimMode claim_mode = ClaimMode::kDefault;
  // Skip state of operators the job does not have instead of failing
  // (Flink's --allowNonRestoredState). Default: false.
  bool allow_non_restored_state = false;
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

  // Starts the tasks. FailedPrecondition if started twice, or if another
  // process runs this job on its checkpoint storage (whose LOCK it holds);
  // IOError if a state backend cannot be opened.
  Status Start();
  // Blocks until the job is terminal. OK if it finished; Aborted if it was
  // cancelled; the failure if it failed; FailedPrecondition if it was never
  // started.
  Status Wait();
  // Like Wait() for at most `timeout`; returns false if still running.
  bool WaitFor(std::chrono::milliseconds timeout);
  // Asks the tasks to stop. Returns at once; Wait() for the end.
  void Cancel();
  // Takes a checkpoint now (or as soon as the one in progress ends) and
  // returns its id; WaitForCheckpoint() for the outcome. `full` uploads
  // every file anew. InvalidArgument if checkpointing is off;
  // FailedPrecondition if the job is not running with every task.
  Result<int64_t> TriggerCheckpoint(bool full = false);
  // Waits for checkpoint `id` to complete: its stats, or why it failed
  // (Aborted), or DeadlineExceeded after `timeout`.
  Result<CheckpointStats> WaitForCheckpoint(int64_t id,
                                            std::chrono::milliseconds timeout);
  // Counts and recent history of the job's checkpoints.
  CheckpointsInfo Checkpoints() const;
  // Takes a savepoint (savepoint.h) and returns its id; WaitForCheckpoint()
  // gives its outcome and directory (CheckpointStats::path). With
  // Then::kCancel or kStop the job ends once it is complete, and goes on if
  // it fails. InvalidArgument when no directory is given or configured;
  // FailedPrecondition when the job is not running with every task.
  Result<int64_t> TriggerSavepoint(const SavepointOptions& options);
  // DisposeSavepoint() (savepoint.h) for a savepoint that may reference
  // this job's checkpoint storage, safe while the job checkpoints.
  Status DisposeSavepoint(const std::string& path);

  // What restoring this job from the checkpoint or savepoint at `path`
  // (its directory or `_metadata`) would do, as JobOptions::restore_from
  // with `options` would do it, found from `_metadata` alone: nothing is
  // started, opened or written (restore_check.h). The result lists why the
  // restore would fail, if it would. NotFound or Corruption when `path`
  // holds no readable `_metadata`.
  Result<RestoreCheck> CheckRestore(const std::string& path,
                                    const RestoreCheckOptions& options) const;

  JobStatus status() const;
  JobInfo Info() const;

  // Queryable state (Kafka Streams' interactive queries): reads one key of
  // the keyed value state `state_name` (a value, reducing or aggregating
  // state) of the operator with uid `uid`, consistently with processing.
  // The read runs on the thread of the task that owns the key's key group,
  // between two records, as the operator itself reads; the caller waits for
  // it. `key` is the key serialized as the operator's KeyBy serializes it
  // (Serializer<K>). Returns the stored bytes, [varint serializer
  // version][serialized value] (QueryValue() decodes them). With a TTL of
  // kOnReadAndWrite, the read counts as an access.
  //
  // NotFound if the key has no value; InvalidArgument for an unknown uid or
  // state name, or a state of another kind; FailedPrecondition if the job is
  // not running (or is restarting); DeadlineExceeded after `timeout`.
  Result<std::string> QueryState(std::string_view uid,
                                 std::string_view state_name,
                                 std::string_view key,
                                 std::chrono::milliseconds timeout);
  // QueryState with a typed key and value:
  //   job->QueryValue<int64_t>("counts", "count", std::string("alice"), 1s)
  template <class V, class K, class VS = Serializer<V>,
            class KS = Serializer<K>>
  Result<V> QueryValue(std::string_view uid, std::string_view state_name,
                       const K& key, std::chrono::milliseconds timeout) {
    std::string key_bytes;
    KS().Serialize(key, &key_bytes);
    Result<std::string> bytes = QueryState(uid, state_name, key_bytes, timeout);
    if (!bytes.ok()) return bytes.status();
    V value{};
    Status s = internal::DecodeValue(VS(), state_name, *bytes, &value);
    if (!s.ok()) return s;
    return value;
  }

 private:
  friend class JobTestPeer;  // the engine's internals, for its tests

  std::unique_ptr<Impl> impl_;
};

}  // namespace weir
