// SPDX-License-Identifier: Apache-2.0
//
// The few file operations weir needs outside RocksDB. AtomicWriteFile is the
// commit primitive for metadata: after it returns OK the file holds exactly
// `data` and survives a crash; if it fails or the process dies, the file
// holds its previous content (or does not exist) and only a `*.tmp` sibling
// may be left behind.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <weir/result.h>

namespace weir {

// Writes `data` to `path` + ".tmp", fsyncs it, renames it over `path`, and
// fsyncs the directory. IOError names the path and the failing call.
// `*in_place` (when given) tells whether the rename was done: after an
// error, true means `path` holds `data` but may not survive a crash (the
// directory's fsync failed), so whatever it names must be kept.
Status AtomicWriteFile(const std::string& path, std::string_view data,
                       bool* in_place = nullptr);

// Writes `data` to `path` (created or truncated) without fsync: for files
// whose loss in a crash does not matter (a directory that is rebuilt from
// a checkpoint after a crash anyway). IOError names the path.
Status WriteFileUnsynced(const std::string& path, std::string_view data);

// What ReadFileToString reads at most unless told otherwise.
inline constexpr uint64_t kDefaultMaxReadBytes = 64ull << 20;  // 64 MiB

// Reads a whole regular file of at most `max_bytes` bytes. It never blocks
// on a FIFO and never reads a device: NotFound if `path` does not exist,
// InvalidArgument if it is not a regular file (after following symlinks)
// or holds more than `max_bytes` (the message names the limit), IOError
// for anything else, including a failed allocation.
Result<std::string> ReadFileToString(const std::string& path,
                                     uint64_t max_bytes = kDefaultMaxReadBytes);

// Opens `path` for reading only if it is a regular file (after following
// symlinks), without blocking on a FIFO. The descriptor, or the errors of
// ReadFileToString. `size` receives the file's size when not null.
Result<int> OpenRegularFile(const std::string& path, uint64_t* size = nullptr);

// The size and XXH3-64 of a regular file's content (OpenRegularFile),
// reading at most `max_bytes` + 1 bytes: a longer file shows as size
// max_bytes + 1, and its checksum then means nothing. Pass the size a
// snapshot records, so that a file swapped for a device or a huge file
// costs no more than the real one. IOError naming the path on a read error.
Status ChecksumFile(const std::string& path, uint64_t max_bytes, uint64_t* size,
                    uint64_t* checksum);

// True for a name that is one plain directory entry: not empty, at most
// 255 bytes, no '/', no NUL, not "." or "..". Names read from metadata are
// checked with it before they name anything on disk.
bool IsPlainFileName(std::string_view name);

// OK for a path given as text (a request, a config value, a flag) that can
// name a file: not empty, at most 4096 bytes, valid UTF-8, no NUL or other
// control character. InvalidArgument otherwise, naming `what` ("target
// directory") and the path, quoted. A NUL would cut the path short where
// the operating system reads it.
Status CheckPathText(std::string_view path, std::string_view what);

// `s` for an error message: in single quotes, at most 80 bytes, bytes
// outside printable ASCII (and backslashes) as \xNN.
std::string QuoteForMessage(std::string_view s);

// An error naming `path` and `err` (an errno): NotFound for ENOENT, IOError
// otherwise. `what` is the failing call ("open", "fsync directory").
Status ErrnoStatus(std::string_view what, const std::string& path, int err);

// Writes all of `data` to `fd` at its offset, retrying short writes and
// EINTR. `path` names the file in errors (ErrnoStatus "write").
Status WriteAll(int fd, std::string_view data, const std::string& path);

// Creates `path` and missing parents (mkdir -p). OK if it already is a
// directory; InvalidArgument if it, or a parent, is something else.
Status CreateDirs(const std::string& path);

// CreateDirs, and each directory it creates is made durable (its parent is
// fsynced), so that a crash cannot take away a directory that a snapshot
// was committed into. Through Env::Default().
Status CreateDirsDurably(const std::string& path);

// fsyncs a directory so that entries created in it are durable. Through
// Env::Default(), like AtomicWriteFile.
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

// An exclusive, advisory lock on a file (flock): held until the object is
// destroyed or the process ends, however it ends (the kernel releases it
// on SIGKILL too). The holder's process id is written into the file, so
// that whoever finds it taken can say who holds it.
class FileLock {
 public:
  // Creates `path` if needed and takes the lock without waiting. When
  // another process (or another FileLock in this one) holds it, returns OK
  // with *lock null and *holder_pid the pid written by the holder (0 if
  // unknown). IOError naming the path otherwise.
  static Status TryAcquire(const std::string& path,
                           std::unique_ptr<FileLock>* lock,
                           int64_t* holder_pid);

  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

  const std::string& path() const { return path_; }

 private:
  FileLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  const std::string path_;
  const int fd_;
};

}  // namespace weir
