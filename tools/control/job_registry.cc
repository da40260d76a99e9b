// SPDX-License-Identifier: Apache-2.0
#include "tools/control/job_registry.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
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
  const nlohmann::json j{
      {"version", kEntryVersion},
      {"jid", entry.job_id.ToHex()},
      {"name", entry.name},
      {"pid", entry.pid},
      {"rest-address", entry.rest_address},
      {"rest-port", entry.rest_port},
      {"start-time", entry.start_time_ms},
  };
  return AtomicWriteFile(PathOf(entry.job_id), DumpJson(j) + "\n");
}

Status JobRegistry::Unregister(const JobId& id) const {
  const std::string path = PathOf(id);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Status::IOError("cannot remove " + path + ": " + ErrnoText(errno));
  }
  return Status::OK();
}

Result<RegistryEntry> JobRegistry::ReadEntry(const std::string& path,
                                             const JobId& id) const {
  Result<std::string> text = ReadFileToString(path);
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
  return e;
}

Result<std::vector<RegistryEntry>> JobRegistry::List() const {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir_, ec);
  if (ec) {
    return Status::IOError("cannot read job registry directory " + dir_ + ": " +
                           ec.message());
  }
  std::vector<RegistryEntry> out;
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string file = it->path().filename().string();
    if (file.size() <= kSuffix.size() ||
        file.compare(file.size() - kSuffix.size(), kSuffix.size(), kSuffix) !=
            0) {
      continue;
    }
    Result<JobId> id =
        JobId::FromHex(std::string_view(file).substr(0, file.size() - 5));
    if (!id.ok()) continue;
    Result<RegistryEntry> entry = ReadEntry(it->path().string(), *id);
    if (!entry.ok()) continue;
    if (!ProcessAlive(entry->pid)) {
      // Left behind by a process that died; best effort.
      Unregister(*id).IgnoreError();
      continue;
    }
    out.push_back(std::move(entry).value());
  }
  if (ec) {
    return Status::IOError("cannot read job registry directory " + dir_ + ": " +
                           ec.message());
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

Result<RegistryEntry> JobRegistry::Find(const JobId& id) const {
  Result<RegistryEntry> entry = ReadEntry(PathOf(id), id);
  if (entry.ok() && !ProcessAlive(entry->pid)) {
    Unregister(id).IgnoreError();
  } else if (entry.ok()) {
    return entry;
  }
  return Status::NotFound("no running job " + id.ToHex() +
                          " on this host (looked in " + dir_ + ")");
}

}  // namespace weir::tools
