// SPDX-License-Identifier: Apache-2.0
//
// The few file operations weir needs outside RocksDB. AtomicWriteFile is the
// commit primitive for metadata: after it returns OK the file holds exactly
// `data` and survives a crash; if it fails or the process dies, the file
// holds its previous content (or does not exist) and only a `*.tmp` sibling
// may be left behind.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <weir/result.h>

namespace weir {

// Writes `data` to `path` + ".tmp", fsyncs it, renames it over `path`, and
// fsyncs the directory. IOError names the path and the failing call.
Status AtomicWriteFile(const std::string& path, std::string_view data);

// Writes `data` to `path` (created or truncated) without fsync: for files
// whose loss in a crash does not matter (a directory that is rebuilt from
// a checkpoint after a crash anyway). IOError names the path.
Status WriteFileUnsynced(const std::string& path, std::string_view data);

// Reads a whole file. NotFound if it does not exist, IOError otherwise.
Result<std::string> ReadFileToString(const std::string& path);

// Creates `path` and missing parents (mkdir -p). OK if it already is a
// directory; InvalidArgument if it, or a parent, is something else.
Status CreateDirs(const std::string& path);

// fsyncs a directory so that entries created in it are durable.
Status SyncDir(const std::string& path);

// Hard-links `from` to `to`, or copies it when they are on different file
// systems (or the file system has no hard links). IOError names both paths.
Status LinkOrCopyFile(const std::string& from, const std::string& to);

// What identifies a file's content cheaply: inode number, size and
// modification time. Writing to a file changes its mtime; hard-linking or
// renaming it does not.
struct FileStamp {
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;  // since the Unix epoch

  bool operator==(const FileStamp&) const = default;
};

// The stamp of `path` (following symlinks); nullopt if it cannot be
// stat'ed.
std::optional<FileStamp> StampFile(const std::string& path);

}  // namespace weir
