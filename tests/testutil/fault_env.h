// SPDX-License-Identifier: Apache-2.0
//
// FaultEnv: an Env (lib/env.h) over the POSIX one that injects faults, for
// tests of what weir stores when the file system fails or the power goes
// (LevelDB's FaultInjectionTestEnv, reduced):
//
//   FailNth(n, err)     the n-th mutating call from now fails with err
//                       (EIO, ENOSPC) and does nothing; later calls work
//                       (n = 0: none fails)
//   CutPowerAfter(n)    after n more mutating calls the machine is "off":
//                       every later mutating call fails and does nothing
//   ApplyPowerCut(kept) the disk as the machine would find it on reboot:
//                       every file loses what was appended since it was
//                       last fsynced, and every file and directory created,
//                       renamed or linked into place since its directory was
//                       last fsynced is gone, or, with `kept`, still there
//                       (a file system may write a directory entry before
//                       the data: the worse case for a reader of new
//                       files); then the machine is "on" again
//
// Mutating calls are every Env call but Close. Removals are taken as
// durable at once (the worse case for a reader that needs the old files).
// A rename is atomic, as on a journaling file system: until the target's
// directory is fsynced, a power cut undoes it (the file is back under its
// old name if that name was durable, and gone if it was new itself).
//
// Install it with ScopedDefaultEnv while no job runs.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "lib/env.h"

namespace weir::testutil {

class FaultEnv final : public EnvWrapper {
 public:
  FaultEnv();

  void FailNth(int n, int err);
  void CutPowerAfter(int n);
  void ApplyPowerCut(bool keep_new_entries = false);

  // Mutating calls made since the last FailNth/CutPowerAfter.
  int calls() const;
  // Whether the failure of FailNth happened, or the power was cut.
  bool triggered() const;

  Status NewWritableFile(const std::string& path, bool exclusive,
                         std::unique_ptr<WritableFile>* file) override;
  Status SyncDir(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Link(const std::string& from, const std::string& to) override;
  Status RemoveFile(const std::string& path) override;
  Status RemoveDir(const std::string& path) override;
  Status CreateDir(const std::string& path) override;

 private:
  class File;
  struct FileState {
    uint64_t size = 0;
    uint64_t synced = 0;
    bool entry_durable = false;
    // Renamed from this durable name, and not durable under its own yet.
    std::string renamed_from;
  };

  // Counts a mutating call on `path`; the injected error, or OK to go on.
  Status Enter(const std::string& what, const std::string& path);
  void Appended(const std::string& path, uint64_t n);
  void Synced(const std::string& path);

  mutable std::mutex mu_;
  int calls_ = 0;
  int fail_at_ = 0;  // 0: none
  int fail_err_ = 0;
  int cut_after_ = -1;  // -1: none
  bool triggered_ = false;
  bool off_ = false;
  std::map<std::string, FileState> files_;
  std::map<std::string, bool> dirs_;  // created here: is the entry durable
};

// Makes `env` the default Env for its lifetime.
class ScopedDefaultEnv {
 public:
  explicit ScopedDefaultEnv(Env* env) : old_(SetDefaultEnvForTesting(env)) {}
  ~ScopedDefaultEnv() { SetDefaultEnvForTesting(old_); }
  ScopedDefaultEnv(const ScopedDefaultEnv&) = delete;
  ScopedDefaultEnv& operator=(const ScopedDefaultEnv&) = delete;

 private:
  Env* const old_;
};

}  // namespace weir::testutil
