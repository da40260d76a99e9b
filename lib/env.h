// SPDX-License-Identifier: Apache-2.0
//
// Env: the file-system calls through which weir makes its snapshots,
// savepoint registrations and committed output durable, reduced from
// LevelDB's Env to what weir uses. The POSIX one is the default. Tests put
// another in its place to fail the Nth write, fsync, rename or link, or to
// drop everything not yet fsynced as a power cut would
// (tests/testutil/fault_env.h).
//
// What goes through it: creating, writing and fsyncing files and
// directories, renames, links and removals of the snapshot path (the shared
// store's uploads, `_metadata` commits, savepoint registration and
// disposal) and of the two-phase file sink's part files. Reads do not: a
// read cannot lose what is stored.
//
// Thread safety: every method may be called from any thread; a
// WritableFile is used by one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <weir/status.h>

namespace weir {

// A file being written. Bytes appended reach the file at once (no user
// space buffer), but are durable only after Sync().
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual Status Sync() = 0;
  // Closes the file; the destructor closes it too, ignoring errors.
  virtual Status Close() = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process's Env: POSIX, unless a test installed another.
  static Env* Default();

  // Creates `path` (or truncates it, unless `exclusive`: then an existing
  // file is an error) for writing. Errors name the path.
  virtual Status NewWritableFile(const std::string& path, bool exclusive,
                                 std::unique_ptr<WritableFile>* file) = 0;
  // fsyncs a directory, making the entries created, renamed or removed in
  // it durable.
  virtual Status SyncDir(const std::string& path) = 0;
  // rename(2): atomically replaces `to`.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // link(2). NotSupported when the file system cannot link these two paths
  // (another device, no hard links), so that the caller may copy instead.
  virtual Status Link(const std::string& from, const std::string& to) = 0;
  // unlink(2); OK if `path` does not exist.
  virtual Status RemoveFile(const std::string& path) = 0;
  // rmdir(2) of an empty directory; OK if it does not exist.
  virtual Status RemoveDir(const std::string& path) = 0;
  // mkdir(2) of one directory; OK if it is a directory already.
  // InvalidArgument if something else is in the way.
  virtual Status CreateDir(const std::string& path) = 0;
};

// An Env that forwards every call to another: the base of test Envs.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* target) : target_(target) {}
  Env* target() const { return target_; }

  Status NewWritableFile(const std::string& path, bool exclusive,
                         std::unique_ptr<WritableFile>* file) override {
    return target_->NewWritableFile(path, exclusive, file);
  }
  Status SyncDir(const std::string& path) override {
    return target_->SyncDir(path);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    return target_->Rename(from, to);
  }
  Status Link(const std::string& from, const std::string& to) override {
    return target_->Link(from, to);
  }
  Status RemoveFile(const std::string& path) override {
    return target_->RemoveFile(path);
  }
  Status RemoveDir(const std::string& path) override {
    return target_->RemoveDir(path);
  }
  Status CreateDir(const std::string& path) override {
    return target_->CreateDir(path);
  }

 private:
  Env* const target_;
};

// Makes `env` the process's Env (nullptr: POSIX again) and returns the one
// it replaces. For tests, while no job runs.
Env* SetDefaultEnvForTesting(Env* env);

}  // namespace weir
