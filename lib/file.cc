// SPDX-License-Identifier: Apache-2.0
#include "lib/file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <new>
#include <system_error>
#include <vector>

#include "lib/env.h"
#include "lib/hash.h"

namespace weir {

Status ErrnoStatus(std::string_view what, const std::string& path, int err) {
  std::string msg(what);
  msg += " ";
  msg += path;
  msg += ": ";
  msg += std::strerror(err);
  if (err == ENOENT) return Status::NotFound(msg);
  return Status::IOError(msg);
}

namespace {

std::string ParentDir(const std::string& path) {
  std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

}  // namespace

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

Status SyncDir(const std::string& path) {
  return Env::Default()->SyncDir(path);
}

Status WriteFileUnsynced(const std::string& path, std::string_view data) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("create", path, errno);
  Status s = WriteAll(fd, data, path);
  if (::close(fd) != 0 && s.ok()) s = ErrnoStatus("close", path, errno);
  return s;
}

Status AtomicWriteFile(const std::string& path, std::string_view data,
                       bool* in_place) {
  if (in_place != nullptr) *in_place = false;
  Env* env = Env::Default();
  const std::string tmp = path + ".tmp";
  std::unique_ptr<WritableFile> file;
  Status s = env->NewWritableFile(tmp, /*exclusive=*/false, &file);
  if (!s.ok()) return s;
  s = file->Append(data);
  if (s.ok()) s = file->Sync();
  const Status closed = file->Close();
  if (s.ok()) s = closed;
  if (s.ok()) s = env->Rename(tmp, path);
  if (!s.ok()) {
    env->RemoveFile(tmp).IgnoreError();
    return s;
  }
  if (in_place != nullptr) *in_place = true;
  return env->SyncDir(ParentDir(path));
}

Result<int> OpenRegularFile(const std::string& path, uint64_t* size) {
  // O_NONBLOCK: opening a FIFO that no one writes to would wait forever.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoStatus("stat", path, err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument(path + " is not a regular file");
  }
  // Reads of a regular file never block; clear the flag anyway.
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  if (size != nullptr) *size = static_cast<uint64_t>(st.st_size);
  return fd;
}

Result<std::string> ReadFileToString(const std::string& path,
                                     uint64_t max_bytes) {
  uint64_t size = 0;
  Result<int> opened = OpenRegularFile(path, &size);
  if (!opened.ok()) return opened.status();
  const int fd = *opened;
  auto too_large = [&] {
    return Status::InvalidArgument(path + " is larger than " +
                                   std::to_string(max_bytes) +
                                   " bytes, the most weir reads of it");
  };
  if (size > max_bytes) {
    ::close(fd);
    return too_large();
  }
  std::string out;
  Status s;
  try {
    // Files in /proc and /sys say size 0 and still have content: the loop
    // below is bounded by max_bytes, not by the size.
    out.reserve(static_cast<size_t>(size));
    char buf[64 * 1024];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n < 0) {
        if (errno == EINTR) continue;
        s = ErrnoStatus("read", path, errno);
        break;
      }
      if (n == 0) break;
      if (out.size() + static_cast<size_t>(n) > max_bytes) {
        s = too_large();
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
  } catch (const std::bad_alloc&) {
    s = Status::IOError("out of memory reading " + path);
  }
  ::close(fd);
  if (!s.ok()) return s;
  return out;
}

std::string QuoteForMessage(std::string_view s) {
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < 80; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c > 0x7e || c == '\\') {
      char buf[5];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (s.size() > 80) out += "...";
  return out + "'";
}

namespace {

// The length of the UTF-8 sequence at the front of `s`, or 0 if it is not
// a valid one (overlong forms and surrogates included).
size_t Utf8SequenceLength(std::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = byte(0);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if ((c & 0xe0) == 0xc0) {
    n = 2;
    cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3;
    cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((byte(i) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i) & 0x3f);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  return n;
}

}  // namespace

Status CheckPathText(std::string_view path, std::string_view what) {
  const std::string name(what);
  if (path.empty()) return Status::InvalidArgument(name + " is empty");
  if (path.size() > 4096) {
    return Status::InvalidArgument(name + " " + QuoteForMessage(path) +
                                   " is longer than 4096 bytes");
  }
  for (size_t i = 0; i < path.size();) {
    const unsigned char c = static_cast<unsigned char>(path[i]);
    if (c < 0x20 || c == 0x7f) {
      return Status::InvalidArgument(
          name + " " + QuoteForMessage(path) + " holds " +
          (c == 0 ? std::string("a NUL byte") : "a control character") +
          ", which no path may hold");
    }
    const size_t n = Utf8SequenceLength(path.substr(i));
    if (n == 0) {
      return Status::InvalidArgument(name + " " + QuoteForMessage(path) +
                                     " is not valid UTF-8");
    }
    i += n;
  }
  return Status::OK();
}

Status ChecksumFile(const std::string& path, uint64_t max_bytes, uint64_t* size,
                    uint64_t* checksum) {
  Result<int> opened = OpenRegularFile(path);
  if (!opened.ok()) return opened.status();
  const int fd = *opened;
  const uint64_t limit = max_bytes == UINT64_MAX ? UINT64_MAX : max_bytes + 1;
  Hash64Stream hash;
  std::vector<char> buf(1 << 20);
  uint64_t total = 0;
  Status s;
  while (total < limit) {
    const size_t want =
        static_cast<size_t>(std::min<uint64_t>(buf.size(), limit - total));
    const ssize_t n = ::read(fd, buf.data(), want);
    if (n < 0) {
      if (errno == EINTR) continue;
      s = ErrnoStatus("read", path, errno);
      break;
    }
    if (n == 0) break;
    hash.Update(std::string_view(buf.data(), static_cast<size_t>(n)));
    total += static_cast<uint64_t>(n);
  }
  ::close(fd);
  if (!s.ok()) return s;
  *size = total;
  *checksum = hash.Digest();
  return Status::OK();
}

bool IsPlainFileName(std::string_view name) {
  return !name.empty() && name.size() <= 255 && name != "." && name != ".." &&
         name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

Status CreateDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    if (ec == std::errc::file_exists || ec == std::errc::not_a_directory) {
      return Status::InvalidArgument("cannot create directory " + path +
                                     ": a file is in the way");
    }
    return Status::IOError("cannot create directory " + path + ": " +
                           ec.message());
  }
  if (!std::filesystem::is_directory(path, ec)) {
    return Status::InvalidArgument(path + " exists and is not a directory");
  }
  return Status::OK();
}

Status CreateDirsDurably(const std::string& path) {
  std::string dir = path;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir.empty()) {
    return Status::InvalidArgument("cannot create a directory without a name");
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::OK();
    return Status::InvalidArgument("cannot create directory " + path +
                                   ": a file is in the way");
  }
  const std::string parent = std::filesystem::path(dir).parent_path().string();
  if (!parent.empty() && parent != dir) {
    Status s = CreateDirsDurably(parent);
    if (!s.ok()) return s;
  }
  Env* env = Env::Default();
  Status s = env->CreateDir(dir);
  if (s.ok()) s = env->SyncDir(parent.empty() ? "." : parent);
  return s;
}

std::optional<FileStamp> StampFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  FileStamp out;
  out.inode = static_cast<uint64_t>(st.st_ino);
  out.size = static_cast<uint64_t>(st.st_size);
  out.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                 st.st_mtim.tv_nsec;
  return out;
}

Status LinkOrCopyFile(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_hard_link(from, to, ec);
  if (!ec) return Status::OK();
  if (ec != std::errc::cross_device_link &&
      ec != std::errc::operation_not_permitted &&
      ec != std::errc::operation_not_supported) {
    return Status::IOError("cannot link " + from + " to " + to + ": " +
                           ec.message());
  }
  fs::copy_file(from, to, ec);
  if (ec) {
    return Status::IOError("cannot copy " + from + " to " + to + ": " +
                           ec.message());
  }
  return Status::OK();
}

Status FileLock::TryAcquire(const std::string& path,
                            std::unique_ptr<FileLock>* lock,
                            int64_t* holder_pid) {
  lock->reset();
  *holder_pid = 0;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("open lock file", path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::IOError("lock file " + path + " is not a regular file");
  }
  int rc;
  do {
    rc = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    if (err != EWOULDBLOCK) {
      ::close(fd);
      return ErrnoStatus("lock", path, err);
    }
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    ::close(fd);
    if (n > 0) {
      int64_t pid = 0;
      const auto [end, ec] = std::from_chars(buf, buf + n, pid);
      if (ec == std::errc() && pid > 0) *holder_pid = pid;
    }
    return Status::OK();
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) !=
                                     static_cast<ssize_t>(pid.size())) {
    const int err = errno;
    ::close(fd);
    return ErrnoStatus("write lock file", path, err);
  }
  lock->reset(new FileLock(path, fd));
  return Status::OK();
}

FileLock::~FileLock() { ::close(fd_); }

}  // namespace weir
