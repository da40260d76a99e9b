// SPDX-License-Identifier: Apache-2.0
//
// JobRegistry: the jobs of this host, so that `weir cancel <jobid>`,
// `weir savepoint <jobid>`, ... find the REST endpoint of the `weir run`
// that runs a job without being told its port, and `weir list -a` shows how
// the jobs that ended did end.
//
// The registry is a directory ($WEIR_RUNTIME_DIR if set, else
// $XDG_RUNTIME_DIR/weir if XDG_RUNTIME_DIR is set, else /tmp/weir-<uid>),
// created with mode 0700; a directory owned by another user is refused
// (another user could otherwise point the CLI at a port of their choosing).
// It holds, all written atomically:
//
//   <jobid>.json        one per running job: the job id, its name, the pid
//                       of the process, the REST address and port, the start
//                       time, and the log file of a detached job:
//     {"version":1,"jid":"<32 hex>","name":"word count","pid":4242,
//      "rest-address":"127.0.0.1","rest-port":8081,
//      "start-time":1700000000000,"log":"/run/user/1000/weir/<jid>.log"}
//   <jobid>.log         the stdout and stderr of a detached job (appended by
//                       every detached run of that job id)
//   ended/<jobid>.json  the last run of that job id that ended: the entry
//                       above plus "state" (FINISHED, CANCELED, FAILED or
//                       LOST), "end-time", "exit-code" and "message"
//
// A job that ends writes its ended entry, then removes its running one. A
// process that dies without doing so (SIGKILL, a crash) leaves its running
// entry behind: List() and Find() notice that its pid is gone (kill(pid, 0)
// fails with ESRCH) and turn the entry into an ended one with state LOST.
// A pid that was reused by an unrelated process is not detected here; the
// CLI then fails to reach the REST port and says so.
//
// At most kMaxEndedEntries ended entries are kept: when a job ends and when
// the ended entries are listed, the oldest beyond that (by end time) are
// deleted with their log files. Nothing else is ever deleted: only
// `<jobid>.json`, `ended/<jobid>.json` and `<jobid>.log` files whose job id
// the registry read from an entry.
//
// Thread safety: a JobRegistry is a value naming a directory; its methods
// may be called from several threads and processes at once (each file is
// replaced atomically; a concurrent List may or may not see an entry being
// written or removed).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <weir/job_info.h>
#include <weir/result.h>
#include <weir/status.h>

namespace weir::tools {

struct RegistryEntry {
  JobId job_id;
  std::string name;
  int64_t pid = 0;            // the process that runs the job
  std::string rest_address;   // as given to RestServer::Start
  int rest_port = 0;          // 1..65535
  int64_t start_time_ms = 0;  // wall clock, ms since the Unix epoch
  std::string log_path;       // a detached job's log file; empty otherwise
};

// How a run of a job ended.
struct EndedEntry {
  RegistryEntry entry;  // as it was registered
  // "FINISHED", "CANCELED" or "FAILED" (Flink's job states), or "LOST": the
  // process is gone and left no final state (killed, e.g. SIGKILL or the
  // out-of-memory killer, or crashed).
  std::string state;
  int64_t end_time_ms = 0;  // when it ended; for LOST, when that was noticed
  int exit_code = -1;       // of `weir run`; -1 if unknown (LOST)
  // Why it failed, or how it stopped; at most kMaxEndedMessageBytes.
  std::string message;
};

inline constexpr size_t kMaxEndedEntries = 100;
inline constexpr size_t kMaxEndedMessageBytes = 4096;

// A REST endpoint as given to `-m host:port`.
struct HostPort {
  std::string host;  // without brackets for IPv6 ("::1")
  int port = 0;
};

// Parses "host:port", "[ipv6]:port", optionally after "http://" and with a
// trailing '/'. InvalidArgument naming `text` for a missing host or port, a
// port outside 1..65535, or an IPv6 address without brackets.
Result<HostPort> ParseHostPort(std::string_view text);

// The registry directory the environment selects (see above); not created.
std::string DefaultRegistryDir();

class JobRegistry {
 public:
  // Open(DefaultRegistryDir()).
  static Result<JobRegistry> OpenDefault();
  // Uses `dir`, creating it (and missing parents) if needed; `dir` itself
  // gets mode 0700. InvalidArgument if it is not a directory, or is a
  // symbolic link (unless it came from $WEIR_RUNTIME_DIR), or is owned by
  // another user; IOError if it cannot be created.
  static Result<JobRegistry> Open(std::string dir);

  const std::string& dir() const { return dir_; }

  // Writes the entry's file, replacing an entry for the same job.
  // InvalidArgument for an empty job id, a pid <= 0 or a port outside
  // 1..65535; IOError if the file cannot be written.
  Status Register(const RegistryEntry& entry);

  // Removes the job's running entry. OK if there was none.
  Status Unregister(const JobId& id) const;

  // Records how a run ended: writes `ended/<jobid>.json` (replacing the
  // entry of an earlier run of the same job id), removes the running entry
  // of that run (not one a newer process wrote meanwhile) and deletes the
  // oldest ended entries beyond kMaxEndedEntries. InvalidArgument for a
  // state other than FINISHED, CANCELED, FAILED and LOST, or an entry
  // Register() would refuse; IOError if the file cannot be written. A
  // longer message is cut to kMaxEndedMessageBytes.
  Status RecordEnd(EndedEntry ended) const;

  // The entries of live processes, oldest start time first. Skips files
  // that are not `<jobid>.json` or cannot be read or parsed; turns the
  // entries of processes that are gone into LOST ones. IOError if the
  // directory cannot be read.
  Result<std::vector<RegistryEntry>> List() const;

  // The ended entries (after turning entries of dead processes into LOST
  // ones), oldest end time first, at most kMaxEndedEntries: older ones are
  // deleted. An empty list if no job ended yet.
  Result<std::vector<EndedEntry>> ListEnded() const;

  // The job's entry if its process is alive. NotFound "no running job <id>
  // on this host (looked in <dir>)" otherwise.
  Result<RegistryEntry> Find(const JobId& id) const;

  // Where a detached run of the job writes its stdout and stderr:
  // <dir>/<jobid>.log.
  std::string LogPathOf(const JobId& id) const;

 private:
  explicit JobRegistry(std::string dir) : dir_(std::move(dir)) {}

  std::string PathOf(const JobId& id) const;
  std::string EndedPathOf(const JobId& id) const;
  // Reads one file and checks that it is an entry for `id`; `ended` gets
  // its final state if it has one (an ended entry).
  Result<RegistryEntry> ReadEntry(const std::string& path, const JobId& id,
                                  EndedEntry* ended = nullptr) const;
  // The running entry of a process that is gone: recorded as LOST, unless
  // that run recorded its end already.
  void RecordLost(const RegistryEntry& entry) const;
  // Deletes the oldest ended entries beyond `keep`, with their logs.
  Status Prune(size_t keep) const;

  std::string dir_;
};

}  // namespace weir::tools
