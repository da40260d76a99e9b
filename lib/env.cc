// SPDX-License-Identifier: Apache-2.0
#include "lib/env.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "lib/file.h"

namespace weir {

namespace {

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd)
      : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(std::string_view data) override {
    return WriteAll(fd_, data, path_);
  }
  Status Sync() override {
    if (::fsync(fd_) != 0) return ErrnoStatus("fsync", path_, errno);
    return Status::OK();
  }
  Status Close() override {
    const int fd = fd_;
    fd_ = -1;
    if (fd >= 0 && ::close(fd) != 0) return ErrnoStatus("close", path_, errno);
    return Status::OK();
  }

 private:
  const std::string path_;
  int fd_;
};

class PosixEnv final : public Env {
 public:
  Status NewWritableFile(const std::string& path, bool exclusive,
                         std::unique_ptr<WritableFile>* file) override {
    const int flags =
        O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC);
    const int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) return ErrnoStatus("create", path, errno);
    *file = std::make_unique<PosixWritableFile>(path, fd);
    return Status::OK();
  }
  Status SyncDir(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open directory", path, errno);
    Status s;
    if (::fsync(fd) != 0) s = ErrnoStatus("fsync directory", path, errno);
    ::close(fd);
    return s;
  }
  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoStatus("rename to " + to + " from", from, errno);
    }
    return Status::OK();
  }
  Status Link(const std::string& from, const std::string& to) override {
    if (::link(from.c_str(), to.c_str()) == 0) return Status::OK();
    const int err = errno;
    if (err == EXDEV || err == EPERM || err == EOPNOTSUPP || err == EMLINK ||
        err == ENOSYS) {
      return Status::NotSupported("cannot link " + from + " to " + to);
    }
    return ErrnoStatus("link " + from + " to", to, err);
  }
  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus("remove", path, errno);
    }
    return Status::OK();
  }
  Status RemoveDir(const std::string& path) override {
    if (::rmdir(path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus("remove directory", path, errno);
    }
    return Status::OK();
  }
  Status CreateDir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0755) == 0) return Status::OK();
    const int err = errno;
    struct stat st;
    if (err == EEXIST) {
      if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        return Status::OK();
      }
      return Status::InvalidArgument("cannot create directory " + path +
                                     ": a file is in the way");
    }
    if (err == ENOTDIR) {
      return Status::InvalidArgument("cannot create directory " + path +
                                     ": a file is in the way");
    }
    return ErrnoStatus("create directory", path, err);
  }
};

PosixEnv* Posix() {
  static PosixEnv* env = new PosixEnv;  // never destroyed
  return env;
}

std::atomic<Env*> g_default{nullptr};

}  // namespace

Env* Env::Default() {
  Env* env = g_default.load(std::memory_order_acquire);
  return env != nullptr ? env : Posix();
}

Env* SetDefaultEnvForTesting(Env* env) {
  Env* old = g_default.exchange(env, std::memory_order_acq_rel);
  return old != nullptr ? old : Posix();
}

}  // namespace weir
