// SPDX-License-Identifier: Apache-2.0
#include "engine/sinks/part_files.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "lib/env.h"

namespace weir::internal {

namespace {

constexpr std::string_view kPartPrefix = ".part-";
constexpr std::string_view kInProgressTag = ".inprogress";
constexpr std::string_view kPendingTag = ".pending";

// Parses a non-empty run of decimal digits that fits an int64_t.
std::optional<int64_t> ParseCounter(std::string_view digits) {
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  int64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

bool ConsumeSuffix(std::string_view* s, std::string_view suffix) {
  if (s->size() < suffix.size() ||
      s->substr(s->size() - suffix.size()) != suffix) {
    return false;
  }
  s->remove_suffix(suffix.size());
  return true;
}

}  // namespace

std::string PartFileName(int64_t subtask, int64_t n, std::string_view suffix) {
  std::string name("part-");
  name += std::to_string(subtask);
  name += '-';
  name += std::to_string(n);
  name += suffix;
  return name;
}

std::string InProgressName(std::string_view final_name) {
  std::string name(".");
  name += final_name;
  name += kInProgressTag;
  return name;
}

std::string PendingName(std::string_view final_name) {
  std::string name(".");
  name += final_name;
  name += kPendingTag;
  return name;
}

// The suffix is matched from the end, so that a suffix starting with a
// digit ("1.txt") is not taken for part of the counter.
std::optional<HiddenPartName> ParseHiddenPartName(std::string_view name,
                                                  std::string_view suffix) {
  if (name.substr(0, kPartPrefix.size()) != kPartPrefix) return std::nullopt;
  name.remove_prefix(kPartPrefix.size());
  HiddenPartName out;
  if (ConsumeSuffix(&name, kPendingTag)) {
    out.pending = true;
  } else if (!ConsumeSuffix(&name, kInProgressTag)) {
    return std::nullopt;
  }
  if (!ConsumeSuffix(&name, suffix)) return std::nullopt;
  const size_t dash = name.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const std::optional<int64_t> subtask = ParseCounter(name.substr(0, dash));
  const std::optional<int64_t> counter = ParseCounter(name.substr(dash + 1));
  if (!subtask || !counter) return std::nullopt;
  out.subtask = *subtask;
  out.counter = *counter;
  return out;
}

Status FileSinkError(std::string_view what, const std::string& path, int err) {
  std::string msg("FileSink: ");
  msg += what;
  msg += " ";
  msg += path;
  msg += ": ";
  msg += std::strerror(err);
  return Status::IOError(msg);
}

// An error other than "no such file" (a directory we may not search, say)
// is returned rather than taken for "exists", which would make a counter
// search run forever.
Result<bool> PathExists(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT) return false;
  return FileSinkError("cannot stat", path, errno);
}

Result<std::vector<std::string>> ListDirectory(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return Status::NotFound("FileSink: no " + dir);
    return FileSinkError("cannot list", dir, errno);
  }
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const dirent* e = ::readdir(d);
    if (e == nullptr) break;
    const std::string_view name(e->d_name);
    if (name != "." && name != "..") names.emplace_back(name);
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) return FileSinkError("cannot list", dir, err);
  return names;
}

// Only the subtask that owns a staged file publishes it, so the check and
// the rename do not race with another writer of the same name.
Result<PublishOutcome> PublishPartFile(const std::string& dir,
                                       const StagedPartFile& file) {
  const std::string staged = dir + "/" + file.staged_name;
  const std::string final_path = dir + "/" + file.final_name;
  Result<bool> staged_exists = PathExists(staged);
  if (!staged_exists.ok()) return staged_exists.status();
  Result<bool> final_exists = PathExists(final_path);
  if (!final_exists.ok()) return final_exists.status();
  if (!*staged_exists) {
    return *final_exists ? PublishOutcome::kAlreadyPublished
                         : PublishOutcome::kMissing;
  }
  if (*final_exists) {
    return Status::IOError("FileSink: cannot publish " + staged + ": " +
                           final_path + " exists already");
  }
  Status s = Env::Default()->Rename(staged, final_path);
  if (!s.ok()) return s.WithContext("FileSink");
  return PublishOutcome::kPublished;
}

}  // namespace weir::internal
