// SPDX-License-Identifier: Apache-2.0
#include "tests/testutil/fault_env.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

namespace weir::testutil {

namespace {

namespace fs = std::filesystem;

std::string Normal(const std::string& path) {
  std::string p = fs::path(path).lexically_normal().string();
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

std::string Parent(const std::string& path) {
  const std::string parent = fs::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

uint64_t SizeOf(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

}  // namespace

class FaultEnv::File final : public WritableFile {
 public:
  File(FaultEnv* env, std::string path, std::unique_ptr<WritableFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {}

  Status Append(std::string_view data) override {
    Status s = env_->Enter("write", path_);
    if (s.ok()) s = base_->Append(data);
    if (s.ok()) env_->Appended(path_, data.size());
    return s;
  }
  Status Sync() override {
    Status s = env_->Enter("fsync", path_);
    if (s.ok()) s = base_->Sync();
    if (s.ok()) env_->Synced(path_);
    return s;
  }
  Status Close() override { return base_->Close(); }

 private:
  FaultEnv* const env_;
  const std::string path_;
  std::unique_ptr<WritableFile> base_;
};

FaultEnv::FaultEnv() : EnvWrapper(Env::Default()) {}

void FaultEnv::FailNth(int n, int err) {
  std::lock_guard<std::mutex> lock(mu_);
  calls_ = 0;
  fail_at_ = n;
  fail_err_ = err;
  cut_after_ = -1;
  triggered_ = false;
}

void FaultEnv::CutPowerAfter(int n) {
  std::lock_guard<std::mutex> lock(mu_);
  calls_ = 0;
  fail_at_ = 0;
  cut_after_ = n;
  triggered_ = false;
}

int FaultEnv::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

bool FaultEnv::triggered() const {
  std::lock_guard<std::mutex> lock(mu_);
  return triggered_;
}

Status FaultEnv::Enter(const std::string& what, const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (off_) {
    return Status::IOError(what + " " + path + ": the power is off");
  }
  ++calls_;
  if (cut_after_ >= 0 && calls_ > cut_after_) {
    off_ = true;
    triggered_ = true;
    return Status::IOError(what + " " + path + ": the power is off");
  }
  if (fail_at_ > 0 && calls_ == fail_at_) {
    triggered_ = true;
    return Status::IOError(what + " " + path +
                           " (injected): " + std::strerror(fail_err_));
  }
  return Status::OK();
}

void FaultEnv::Appended(const std::string& path, uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  files_[Normal(path)].size += n;
}

void FaultEnv::Synced(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  FileState& f = files_[Normal(path)];
  f.synced = f.size;
}

Status FaultEnv::NewWritableFile(const std::string& path, bool exclusive,
                                 std::unique_ptr<WritableFile>* file) {
  Status s = Enter("create", path);
  if (!s.ok()) return s;
  const std::string p = Normal(path);
  struct stat st;
  const bool existed = ::stat(p.c_str(), &st) == 0;
  std::unique_ptr<WritableFile> base;
  s = target()->NewWritableFile(path, exclusive, &base);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(p);
    const bool durable =
        existed && (it == files_.end() || it->second.entry_durable);
    files_[p] = FileState{0, 0, durable, ""};
  }
  *file = std::make_unique<File>(this, p, std::move(base));
  return Status::OK();
}

Status FaultEnv::SyncDir(const std::string& path) {
  Status s = Enter("fsync directory", path);
  if (s.ok()) s = target()->SyncDir(path);
  if (!s.ok()) return s;
  const std::string dir = Normal(path);
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [name, f] : files_) {
    if (Parent(name) == dir) f.entry_durable = true;
  }
  for (auto& [name, durable] : dirs_) {
    if (Parent(name) == dir) durable = true;
  }
  return Status::OK();
}

Status FaultEnv::Rename(const std::string& from, const std::string& to) {
  Status s = Enter("rename", from);
  if (s.ok()) s = target()->Rename(from, to);
  if (!s.ok()) return s;
  const std::string f = Normal(from), t = Normal(to);
  std::lock_guard<std::mutex> lock(mu_);
  FileState state;
  auto it = files_.find(f);
  if (it != files_.end()) {
    state = it->second;
    files_.erase(it);
  } else {
    state.size = state.synced = SizeOf(t);
    state.entry_durable = true;  // a file older than this Env
  }
  // A power cut undoes the rename: back to `from` if that name was
  // durable (or to where `from` was renamed from, if it was not yet).
  if (state.entry_durable) state.renamed_from = f;
  state.entry_durable = false;
  files_[t] = state;
  return Status::OK();
}

Status FaultEnv::Link(const std::string& from, const std::string& to) {
  Status s = Enter("link", to);
  if (s.ok()) s = target()->Link(from, to);
  if (!s.ok()) return s;
  const std::string t = Normal(to);
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t size = SizeOf(t);
  // The linked inode's data is whatever its writer made durable: the
  // snapshot's files are complete and synced before they are linked.
  files_[t] = FileState{size, size, false, ""};
  return Status::OK();
}

Status FaultEnv::RemoveFile(const std::string& path) {
  Status s = Enter("remove", path);
  if (s.ok()) s = target()->RemoveFile(path);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  files_.erase(Normal(path));
  return Status::OK();
}

Status FaultEnv::RemoveDir(const std::string& path) {
  Status s = Enter("remove directory", path);
  if (s.ok()) s = target()->RemoveDir(path);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  dirs_.erase(Normal(path));
  return Status::OK();
}

Status FaultEnv::CreateDir(const std::string& path) {
  Status s = Enter("create directory", path);
  if (!s.ok()) return s;
  const std::string p = Normal(path);
  struct stat st;
  const bool existed = ::stat(p.c_str(), &st) == 0;
  s = target()->CreateDir(path);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  if (!existed) dirs_[p] = false;
  return Status::OK();
}

void FaultEnv::ApplyPowerCut(bool keep_new_entries) {
  std::lock_guard<std::mutex> lock(mu_);
  std::error_code ec;
  for (const auto& [dir, durable] : dirs_) {
    if (!durable && !keep_new_entries) fs::remove_all(dir, ec);
  }
  for (const auto& [name, f] : files_) {
    if (!f.entry_durable && !keep_new_entries) {
      if (f.renamed_from.empty() ||
          ::rename(name.c_str(), f.renamed_from.c_str()) != 0) {
        ::unlink(name.c_str());
      }
    } else if (f.synced < SizeOf(name)) {
      if (::truncate(name.c_str(), static_cast<off_t>(f.synced)) != 0) {
        ::unlink(name.c_str());
      }
    }
  }
  files_.clear();
  dirs_.clear();
  off_ = false;
  cut_after_ = -1;
  fail_at_ = 0;
}

}  // namespace weir::testutil
