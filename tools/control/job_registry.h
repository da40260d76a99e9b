// SPDX-License-Identifier: Apache-2.0
//
// JobRegistry: the running jobs of this host, so that `weir cancel <jobid>`,
// `weir savepoint <jobid>`, ... find the REST endpoint of the `weir run`
// that runs a job without being told its port.
//
// The registry is a directory with one file per running job,
// `<jobid>.json` (written atomically), holding the job id, its name, the pid
// of the process, the REST address and port, and the start time:
//
//   {"version":1,"jid":"<32 hex>","name":"word count","pid":4242,
//    "rest-address":"127.0.0.1","rest-port":8081,"start-time":1700000000000}
//
// The directory is $WEIR_RUNTIME_DIR if set, else $XDG_RUNTIME_DIR/weir if
// XDG_RUNTIME_DIR is set, else /tmp/weir-<uid>. It is created with mode
// 0700, and a directory owned by another user is refused (another user
// could otherwise point the CLI at a port of their choosing).
//
// A process that dies without unregistering leaves its file behind; List()
// and Find() notice that its pid is gone (kill(pid, 0) fails with ESRCH) and
// delete the file. A pid that was reused by an unrelated process is not
// detected here; the CLI then fails to reach the REST port and says so.
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
};

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

  // Removes the job's file. OK if there was none.
  Status Unregister(const JobId& id) const;

  // The entries of live processes, oldest start time first. Skips files
  // that are not `<jobid>.json` or cannot be read or parsed; deletes the
  // entries of processes that are gone. IOError if the directory cannot be
  // read.
  Result<std::vector<RegistryEntry>> List() const;

  // The job's entry if its process is alive. NotFound "no running job <id>
  // on this host (looked in <dir>)" otherwise.
  Result<RegistryEntry> Find(const JobId& id) const;

 private:
  explicit JobRegistry(std::string dir) : dir_(std::move(dir)) {}

  std::string PathOf(const JobId& id) const;
  // Reads one file and checks that it is an entry for `id`.
  Result<RegistryEntry> ReadEntry(const std::string& path,
                                  const JobId& id) const;

  std::string dir_;
};

}  // namespace weir::tools
