// SPDX-License-Identifier: Apache-2.0
#include "tools/control/job_registry.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "lib/file.h"
#include "tools/control/job_json.h"

namespace weir::tools {

namespace {

constexpr std::string_view kSuffix = ".json";
constexpr int kEntryVersion = 1;
constexpr char kEndedDir[] = "ended";
// An entry is a few hundred bytes; its message at most 4 KiB.
constexpr uint64_t kMaxEntryBytes = 64 << 10;

bool IsEndState(std::string_view state) {
  return state == "FINISHED" || state == "CANCELED" || state == "FAILED" ||
         state == "LOST";
}

// At most `max` bytes of `text`, not cutting a UTF-8 sequence.
std::string Truncate(std::string text, size_t max) {
  if (text.size() <= max) return text;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  text.resize(n);
  return text;
}

nlohmann::json EntryJson(const RegistryEntry& entry) {
  nlohmann::json j{
      {"version", kEntryVersion},
      {"jid", entry.job_id.ToHex()},
      {"name", entry.name},
      {"pid", entry.pid},
      {"rest-address", entry.rest_address},
      {"rest-port", entry.rest_port},
      {"start-time", entry.start_time_ms},
  };
  if (!entry.log_path.empty()) j["log"] = entry.log_path;
  return j;
}

// The job ids of the `<jobid>.json` files in `dir`; IOError if it cannot be
// read.
Result<std::vector<JobId>> EntryIdsIn(const std::string& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    return Status::IOError("cannot read job registry directory " + dir + ": " +
                           ec.message());
  }
  std::vector<JobId> out;
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string file = it->path().filename().string();
    if (file.size() <= kSuffix.size() ||
        file.compare(file.size() - kSuffix.size(), kSuffix.size(), kSuffix) !=
            0) {
      continue;
    }
    Result<JobId> id = JobId::FromHex(
        std::string_view(file).substr(0, file.size() - kSuffix.size()));
    if (id.ok()) out.push_back(*id);
  }
  if (ec) {
    return Status::IOError("cannot read job registry directory " + dir + ": " +
                           ec.message());
  }
  return out;
}

const char* NonEmptyEnv(const char* name) {
  const char* v = std::getenv(name);
  return (v != nullptr && v[0] != '\0') ? v : nullptr;
}

bool ParsePort(std::string_view digits, int* port) {
  if (digits.empty() || digits.size() > 5) return false;
  int n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  if (n < 1 || n > 65535) return false;
  *port = n;
  return true;
}

// False only if the process is known to be gone. EPERM means it exists but
// belongs to someone else: alive.
bool ProcessAlive(int64_t pid) {
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH;
}

std::string ErrnoText(int err) { return std::strerror(err); }

}  // namespace

Result<HostPort> ParseHostPort(std::string_view text) {
  // Not "'" + std::string(text): GCC 12 at -O3 warns -Wrestrict on it.
  std::string quoted = "'";
  quoted += text;
  quoted += "'";
  std::string_view rest = text;
  if (rest.substr(0, 7) == "http://") rest.remove_prefix(7);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  HostPort out;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() ||
        rest[close + 1] != ':') {
      return Status::InvalidArgument(quoted + " is not [ipv6-address]:port");
    }
    out.host = std::string(rest.substr(1, close - 1));
    port = rest.substr(close + 2);
  } else {
    const size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
      return Status::InvalidArgument(
          quoted + " is not host:port (e.g. localhost:8081): no port");
    }
    out.host = std::string(rest.substr(0, colon));
    if (out.host.find(':') != std::string::npos) {
      return Status::InvalidArgument(
          quoted +
          " is not host:port: write an IPv6 address in brackets, "
          "e.g. [::1]:8081");
    }
    port = rest.substr(colon + 1);
  }
  if (out.host.empty()) {
    return Status::InvalidArgument(quoted +
                                   " is not host:port (e.g. localhost:8081): "
                                   "no host");
  }
  if (!ParsePort(port, &out.port)) {
    return Status::InvalidArgument(quoted + " is not host:port: the port '" +
                                   std::string(port) +
                                   "' is not a number in 1..65535");
  }
  return out;
}

std::string DefaultRegistryDir() {
  if (const char* dir = NonEmptyEnv("WEIR_RUNTIME_DIR")) return dir;
  if (const char* xdg = NonEmptyEnv("XDG_RUNTIME_DIR")) {
    return std::string(xdg) + "/weir";
  }
  return "/tmp/weir-" + std::to_string(::geteuid());
}

Result<JobRegistry> JobRegistry::OpenDefault() {
  return Open(DefaultRegistryDir());
}

Result<JobRegistry> JobRegistry::Open(std::string dir) {
  if (dir.empty()) return Status::InvalidArgument("empty registry directory");
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  const std::string parent = std::filesystem::path(dir).parent_path().string();
  if (!parent.empty()) {
    Status s = CreateDirs(parent);
    if (!s.ok()) return s.WithContext("job registry");
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::IOError("cannot create job registry directory " + dir +
                           ": " + ErrnoText(errno));
  }
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) {
    return Status::IOError("cannot stat job registry directory " + dir + ": " +
                           ErrnoText(errno));
  }
  if (S_ISLNK(st.st_mode)) {
    // A link in a shared /tmp could lead anywhere; one the user named in
    // WEIR_RUNTIME_DIR is their choice.
    const char* chosen = NonEmptyEnv("WEIR_RUNTIME_DIR");
    if (chosen == nullptr || dir != chosen) {
      return Status::InvalidArgument("job registry directory " + dir +
                                     " is a symbolic link; refusing it");
    }
    if (::stat(dir.c_str(), &st) != 0) {
      return Status::IOError("cannot stat job registry directory " + dir +
                             ": " + ErrnoText(errno));
    }
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument("job registry path " + dir +
                                   " is not a directory");
  }
  if (st.st_uid != ::geteuid()) {
    return Status::InvalidArgument(
        "job registry directory " + dir + " is owned by uid " +
        std::to_string(st.st_uid) + ", not by you (uid " +
        std::to_string(::geteuid()) +
        "); refusing it. Set WEIR_RUNTIME_DIR "
        "to a directory of your own");
  }
  if ((st.st_mode & 077) != 0 && ::chmod(dir.c_str(), 0700) != 0) {
    return Status::IOError("cannot make job registry directory " + dir +
                           " private (chmod 0700): " + ErrnoText(errno));
  }
  return JobRegistry(std::move(dir));
}

std::string JobRegistry::PathOf(const JobId& id) const {
  return dir_ + "/" + id.ToHex() + std::string(kSuffix);
}

Status JobRegistry::Register(const RegistryEntry& entry) {
  if (entry.job_id.empty()) {
    return Status::InvalidArgument("cannot register a job without an id");
  }
  if (entry.pid <= 0 || entry.pid > INT_MAX) {
    return Status::InvalidArgument("cannot register job " +
                                   entry.job_id.ToHex() + " with pid " +
                                   std::to_string(entry.pid));
  }
  if (entry.rest_port < 1 || entry.rest_port > 65535) {
    return Status::InvalidArgument("cannot register job " +
                                   entry.job_id.ToHex() + " with REST port " +
                                   std::to_string(entry.rest_port));
  }
  return AtomicWriteFile(PathOf(entry.job_id),
                         DumpJson(EntryJson(entry)) + "\n");
}

std::string JobRegistry::EndedPathOf(const JobId& id) const {
  return dir_ + "/" + kEndedDir + "/" + id.ToHex() + std::string(kSuffix);
}

std::string JobRegistry::LogPathOf(const JobId& id) const {
  return dir_ + "/" + id.ToHex() + ".log";
}

Status JobRegistry::RecordEnd(EndedEntry ended) const {
  const RegistryEntry& e = ended.entry;
  if (!IsEndState(ended.state)) {
    return Status::InvalidArgument("cannot record job " + e.job_id.ToHex() +
                                   " as ended in state '" + ended.state + "'");
  }
  if (e.job_id.empty() || e.pid <= 0 || e.pid > INT_MAX || e.rest_port < 1 ||
      e.rest_port > 65535) {
    return Status::InvalidArgument("cannot record the end of job " +
                                   e.job_id.ToHex() + ": bad entry");
  }
  const std::string ended_dir = dir_ + "/" + kEndedDir;
  if (::mkdir(ended_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::IOError("cannot create " + ended_dir + ": " +
                           ErrnoText(errno));
  }
  nlohmann::json j = EntryJson(e);
  j["state"] = ended.state;
  j["end-time"] = ended.end_time_ms;
  j["exit-code"] = ended.exit_code;
  j["message"] = Truncate(std::move(ended.message), kMaxEndedMessageBytes);
  Status s = AtomicWriteFile(EndedPathOf(e.job_id), DumpJson(j) + "\n");
  if (!s.ok()) return s;
  // The running entry of this run only: a resumed run of the same job id
  // may have registered meanwhile.
  Result<RegistryEntry> running = ReadEntry(PathOf(e.job_id), e.job_id);
  if (running.ok() && running->pid == e.pid &&
      running->start_time_ms == e.start_time_ms) {
    Unregister(e.job_id).IgnoreError();
  }
  return Prune(kMaxEndedEntries);
}

void JobRegistry::RecordLost(const RegistryEntry& entry) const {
  EndedEntry recorded;
  if (ReadEntry(EndedPathOf(entry.job_id), entry.job_id, &recorded).ok() &&
      recorded.entry.pid == entry.pid &&
      recorded.entry.start_time_ms == entry.start_time_ms) {
    // It recorded its end and died before removing its running entry.
    Unregister(entry.job_id).IgnoreError();
    return;
  }
  EndedEntry lost;
  lost.entry = entry;
  lost.state = "LOST";
  lost.end_time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  lost.message = "process " + std::to_string(entry.pid) +
                 " is gone and recorded no final state: it was killed "
                 "(SIGKILL, the out-of-memory killer) or crashed";
  // Best effort: if it cannot be written, the running entry stays and the
  // next look tries again.
  RecordEnd(std::move(lost)).IgnoreError();
}

Status JobRegistry::Prune(size_t keep) const {
  Result<std::vector<JobId>> ids = EntryIdsIn(dir_ + "/" + kEndedDir);
  if (!ids.ok()) return Status::OK();  // nothing ended yet
  if (ids->size() <= keep) return Status::OK();
  std::vector<EndedEntry> ended;
  for (const JobId& id : *ids) {
    EndedEntry e;
    if (ReadEntry(EndedPathOf(id), id, &e).ok()) ended.push_back(std::move(e));
  }
  if (ended.size() <= keep) return Status::OK();
  std::sort(ended.begin(), ended.end(),
            [](const EndedEntry& a, const EndedEntry& b) {
              if (a.end_time_ms != b.end_time_ms) {
                return a.end_time_ms < b.end_time_ms;
              }
              return a.entry.job_id < b.entry.job_id;
            });
  for (size_t i = 0; i + keep < ended.size(); ++i) {
    const JobId& id = ended[i].entry.job_id;
    const std::string path = EndedPathOf(id);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Status::IOError("cannot remove " + path + ": " + ErrnoText(errno));
    }
    // The log goes with the job's last ended entry, unless the job runs
    // again (and appends to it).
    if (!std::filesystem::exists(PathOf(id))) {
      ::unlink(LogPathOf(id).c_str());
    }
  }
  return Status::OK();
}

Status JobRegistry::Unregister(const JobId& id) const {
  const std::string path = PathOf(id);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Status::IOError("cannot remove " + path + ": " + ErrnoText(errno));
  }
  return Status::OK();
}

Result<RegistryEntry> JobRegistry::ReadEntry(const std::string& path,
                                             const JobId& id,
                                             EndedEntry* ended) const {
  Result<std::string> text = ReadFileToString(path, kMaxEntryBytes);
  if (!text.ok()) return text.status();
  Result<nlohmann::json> doc = ParseJson(*text);
  if (!doc.ok()) return doc.status().WithContext(path);
  const nlohmann::json& j = *doc;
  const Status bad = Status::Corruption(path + " is not a weir job entry");
  if (!j.is_object()) return bad;
  auto field = [&](const char* key) -> const nlohmann::json* {
    auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
  };
  const nlohmann::json* jid = field("jid");
  const nlohmann::json* name = field("name");
  const nlohmann::json* pid = field("pid");
  const nlohmann::json* address = field("rest-address");
  const nlohmann::json* port = field("rest-port");
  const nlohmann::json* start = field("start-time");
  if (jid == nullptr || !jid->is_string() || name == nullptr ||
      !name->is_string() || pid == nullptr || !pid->is_number_integer() ||
      address == nullptr || !address->is_string() || port == nullptr ||
      !port->is_number_integer() || start == nullptr ||
      !start->is_number_integer()) {
    return bad;
  }
  RegistryEntry e;
  Result<JobId> parsed_id = JobId::FromHex(jid->get<std::string>());
  if (!parsed_id.ok() || *parsed_id != id) return bad;
  e.job_id = *parsed_id;
  e.name = name->get<std::string>();
  e.pid = pid->get<int64_t>();
  e.rest_address = address->get<std::string>();
  const int64_t p = port->get<int64_t>();
  e.start_time_ms = start->get<int64_t>();
  // A pid <= 0 would make kill() signal process groups: never use one.
  if (e.pid <= 0 || e.pid > INT_MAX || p < 1 || p > 65535) return bad;
  e.rest_port = static_cast<int>(p);
  if (const nlohmann::json* log = field("log")) {
    if (!log->is_string()) return bad;
    e.log_path = log->get<std::string>();
  }
  if (ended != nullptr) {
    const nlohmann::json* state = field("state");
    const nlohmann::json* end = field("end-time");
    const nlohmann::json* code = field("exit-code");
    const nlohmann::json* message = field("message");
    if (state == nullptr || !state->is_string() ||
        !IsEndState(state->get<std::string>()) || end == nullptr ||
        !end->is_number_integer() || code == nullptr ||
        !code->is_number_integer() || message == nullptr ||
        !message->is_string()) {
      return bad;
    }
    const int64_t exit_code = code->get<int64_t>();
    if (exit_code < -1 || exit_code > 255) return bad;
    ended->entry = e;
    ended->state = state->get<std::string>();
    ended->end_time_ms = end->get<int64_t>();
    ended->exit_code = static_cast<int>(exit_code);
    ended->message =
        Truncate(message->get<std::string>(), kMaxEndedMessageBytes);
  }
  return e;
}

Result<std::vector<RegistryEntry>> JobRegistry::List() const {
  Result<std::vector<JobId>> ids = EntryIdsIn(dir_);
  if (!ids.ok()) return ids.status();
  std::vector<RegistryEntry> out;
  for (const JobId& id : *ids) {
    Result<RegistryEntry> entry = ReadEntry(PathOf(id), id);
    if (!entry.ok()) continue;
    if (!ProcessAlive(entry->pid)) {
      RecordLost(*entry);
      continue;
    }
    out.push_back(std::move(entry).value());
  }
  std::sort(out.begin(), out.end(),
            [](const RegistryEntry& a, const RegistryEntry& b) {
              if (a.start_time_ms != b.start_time_ms) {
                return a.start_time_ms < b.start_time_ms;
              }
              return a.job_id < b.job_id;
            });
  return out;
}

Result<std::vector<EndedEntry>> JobRegistry::ListEnded() const {
  // Running entries of dead processes become LOST ones.
  Result<std::vector<RegistryEntry>> running = List();
  if (!running.ok()) return running.status();
  Status pruned = Prune(kMaxEndedEntries);
  if (!pruned.ok()) return pruned;
  std::vector<EndedEntry> out;
  Result<std::vector<JobId>> ids = EntryIdsIn(dir_ + "/" + kEndedDir);
  if (!ids.ok()) return out;  // no job ended yet
  for (const JobId& id : *ids) {
    EndedEntry e;
    if (ReadEntry(EndedPathOf(id), id, &e).ok()) out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(),
            [](const EndedEntry& a, const EndedEntry& b) {
              if (a.end_time_ms != b.end_time_ms) {
                return a.end_time_ms < b.end_time_ms;
              }
              return a.entry.job_id < b.entry.job_id;
            });
  return out;
}

Result<RegistryEntry> JobRegistry::Find(const JobId& id) const {
  Result<RegistryEntry> entry = ReadEntry(PathOf(id), id);
  if (entry.ok() && !ProcessAlive(entry->pid)) {
    RecordLost(*entry);
  } else if (entry.ok()) {
    return entry;
  }
  return Status::NotFound("no running job " + id.ToHex() +
                          " on this host (looked in " + dir_ + ")");
}

}  // namespace weir::tools
