// SPDX-License-Identifier: Apache-2.0
//
// FileSink's two-phase commit and its recovery. The operator state
// "file-sink" is a union list with one entry per subtask that names its
// directory and staged files in full, so that after a restore at any
// parallelism every subtask sees every file of the snapshot: a subtask
// publishes the files of the old subtasks that fall to it and can tell the
// hidden files the snapshot does not name (written after it) from those it
// does.
#include "engine/sinks/file_sink_writer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/sinks/part_files.h"
#include "lib/coding.h"
#include "lib/file.h"
#include "weir/state.h"

namespace weir::internal {

namespace {

constexpr std::string_view kStateName = "file-sink";

struct SinkEntry {
  uint32_t subtask = 0;
  uint32_t parallelism = 0;
  int64_t next_counter = 0;
  std::string dir;
  std::vector<StagedPartFile> staged;
};

// [subtask fixed32][parallelism fixed32][next counter fixed64][dir]
// [staged count varint32] then per staged file:
// [checkpoint id fixed64][staged name][final name]; strings are
// length-prefixed.
struct SinkEntrySerializer {
  static constexpr uint32_t kVersion = 1;
  void Serialize(const SinkEntry& e, std::string* out) const {
    PutFixed32(out, e.subtask);
    PutFixed32(out, e.parallelism);
    PutFixed64(out, static_cast<uint64_t>(e.next_counter));
    PutLengthPrefixed(out, e.dir);
    PutVarint32(out, static_cast<uint32_t>(e.staged.size()));
    for (const StagedPartFile& f : e.staged) {
      PutFixed64(out, static_cast<uint64_t>(f.checkpoint_id));
      PutLengthPrefixed(out, f.staged_name);
      PutLengthPrefixed(out, f.final_name);
    }
  }
  Status Deserialize(uint32_t, std::string_view in, SinkEntry* e) const {
    const Status bad = Status::Corruption("FileSink state entry is malformed");
    uint64_t counter = 0;
    std::string_view dir;
    uint32_t count = 0;
    if (!GetFixed32(&in, &e->subtask) || !GetFixed32(&in, &e->parallelism) ||
        !GetFixed64(&in, &counter) || !GetLengthPrefixed(&in, &dir) ||
        !GetVarint32(&in, &count)) {
      return bad;
    }
    e->next_counter = static_cast<int64_t>(counter);
    e->dir = std::string(dir);
    e->staged.clear();
    for (uint32_t i = 0; i < count; ++i) {
      uint64_t checkpoint = 0;
      std::string_view staged;
      std::string_view final_name;
      if (!GetFixed64(&in, &checkpoint) || !GetLengthPrefixed(&in, &staged) ||
          !GetLengthPrefixed(&in, &final_name)) {
        return bad;
      }
      e->staged.push_back({static_cast<int64_t>(checkpoint),
                           std::string(staged), std::string(final_name)});
    }
    if (!in.empty()) return bad;
    return Status::OK();
  }
};

using SinkState = OperatorListState<SinkEntry, SinkEntrySerializer>;

Result<SinkState> OpenSinkState(OperatorContext& ctx) {
  return GetOperatorListState<SinkEntry, SinkEntrySerializer>(
      ctx.state(), ctx.operator_id(), kStateName, OperatorStateMode::kUnion);
}

// A directory by identity, so that "out", "out/" and "./out" are one.
using DirId = std::pair<dev_t, ino_t>;

Result<std::optional<DirId>> IdentifyDir(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::optional<DirId>();
    return FileSinkError("cannot stat", dir, errno);
  }
  return std::optional<DirId>(DirId(st.st_dev, st.st_ino));
}

std::string Describe(OperatorContext& ctx) {
  return "FileSink '" + std::string(ctx.name()) + "'";
}

// The entries must be one per subtask of one parallelism: with fewer, the
// state was split instead of given whole, and a hidden file that another
// subtask's entry names could be taken for one written after the snapshot.
Status CheckComplete(OperatorContext& ctx,
                     const std::vector<SinkEntry>& entries) {
  const uint32_t parallelism = entries.front().parallelism;
  std::set<uint32_t> subtasks;
  for (const SinkEntry& e : entries) {
    if (e.parallelism != parallelism || e.subtask >= parallelism) {
      return Status::InvalidArgument(
          Describe(ctx) + ": the restored state mixes entries of parallelism " +
          std::to_string(parallelism) + " and " +
          std::to_string(e.parallelism) + " (subtask " +
          std::to_string(e.subtask) + ")");
    }
    subtasks.insert(e.subtask);
  }
  if (subtasks.size() != parallelism) {
    return Status::InvalidArgument(
        Describe(ctx) + ": the restored state has entries of " +
        std::to_string(subtasks.size()) + " of its " +
        std::to_string(parallelism) +
        " subtasks; it must be given whole (union) to every subtask");
  }
  return Status::OK();
}

}  // namespace

Status FileSinkWriter::Open(OperatorContext& ctx, std::string dir,
                            std::string suffix) {
  dir_ = dir;
  suffix_ = suffix;
  Status s = writer_.Open(std::move(dir), ctx.subtask(), std::move(suffix));
  if (!s.ok()) return s;
  return Recover(ctx);
}

Status FileSinkWriter::Recover(OperatorContext& ctx) {
  Result<SinkState> state = OpenSinkState(ctx);
  if (!state.ok()) return state.status();
  Result<std::vector<SinkEntry>> entries = state->Get();
  if (!entries.ok()) return entries.status();
  if (entries->empty()) return Status::OK();  // a fresh start
  Status s = CheckComplete(ctx, *entries);
  if (!s.ok()) return s;

  const auto parallelism = static_cast<uint32_t>(ctx.parallelism());
  const auto subtask = static_cast<uint32_t>(ctx.subtask());
  auto mine = [&](int64_t old_subtask) {
    return static_cast<uint32_t>(old_subtask) % parallelism == subtask;
  };

  // Publish the staged files of the old subtasks that fall to this one:
  // their checkpoint completed, since only completed ones are restored.
  // The state may hold an old subtask's entry twice; publishing is
  // idempotent.
  std::set<std::string> synced;
  for (const SinkEntry& e : *entries) {
    if (e.subtask == subtask) writer_.set_next_counter(e.next_counter);
    if (!mine(e.subtask)) continue;
    for (const StagedPartFile& f : e.staged) {
      // kMissing: published and then moved away by a reader of an old
      // snapshot's output; there is nothing left to commit.
      Result<PublishOutcome> outcome = PublishPartFile(e.dir, f);
      if (!outcome.ok()) return outcome.status().WithContext(Describe(ctx));
      if (*outcome == PublishOutcome::kPublished) {
        committed_paths_.push_back(e.dir + "/" + f.final_name);
        synced.insert(e.dir);
      }
    }
  }
  for (const std::string& d : synced) {
    s = SyncDir(d);
    if (!s.ok()) return s.WithContext(Describe(ctx));
  }

  // Remove this subtask's share of the hidden files the snapshot does not
  // name, in its directory and in every directory the snapshot wrote to.
  std::set<std::tuple<dev_t, ino_t, std::string>> named;
  std::set<DirId> seen;
  std::vector<std::string> dirs{dir_};
  for (const SinkEntry& e : *entries) {
    dirs.push_back(e.dir);
    Result<std::optional<DirId>> id = IdentifyDir(e.dir);
    if (!id.ok()) return id.status();
    if (!id->has_value()) continue;
    for (const StagedPartFile& f : e.staged) {
      named.emplace((*id)->first, (*id)->second, f.staged_name);
    }
  }
  for (const std::string& d : dirs) {
    Result<std::optional<DirId>> id = IdentifyDir(d);
    if (!id.ok()) return id.status();
    if (!id->has_value() || !seen.insert(**id).second) continue;
    Result<std::vector<std::string>> names = ListDirectory(d);
    if (!names.ok()) return names.status();
    bool removed = false;
    for (const std::string& name : *names) {
      const std::optional<HiddenPartName> part =
          ParseHiddenPartName(name, suffix_);
      if (!part || !mine(part->subtask)) continue;
      if (named.count({(*id)->first, (*id)->second, name}) > 0) continue;
      const std::string path = d + "/" + name;
      s = Env::Default()->RemoveFile(path);
      if (!s.ok()) return s.WithContext(Describe(ctx));
      removed = true;
    }
    if (removed) {
      s = SyncDir(d);
      if (!s.ok()) return s.WithContext(Describe(ctx));
    }
  }

  // Keep this subtask's entry only: the others' files are dealt with.
  SinkEntry own;
  own.subtask = subtask;
  own.parallelism = parallelism;
  own.next_counter = writer_.next_counter();
  own.dir = dir_;
  return state->Update({own});
}

Status FileSinkWriter::SnapshotState(OperatorContext& ctx,
                                     int64_t checkpoint_id) {
  Result<std::optional<StagedPartFile>> staged = writer_.Stage();
  if (!staged.ok()) return staged.status();
  if (staged->has_value()) {
    (*staged)->checkpoint_id = checkpoint_id;
    staged_.push_back(std::move(**staged));
  }
  Result<SinkState> state = OpenSinkState(ctx);
  if (!state.ok()) return state.status();
  SinkEntry own;
  own.subtask = static_cast<uint32_t>(ctx.subtask());
  own.parallelism = static_cast<uint32_t>(ctx.parallelism());
  own.next_counter = writer_.next_counter();
  own.dir = dir_;
  own.staged = staged_;
  return state->Update({own});
}

Status FileSinkWriter::NotifyCheckpointComplete(int64_t checkpoint_id) {
  size_t count = 0;
  while (count < staged_.size() &&
         staged_[count].checkpoint_id <= checkpoint_id) {
    ++count;
  }
  return PublishStaged(count);
}

Status FileSinkWriter::PublishStaged(size_t count) {
  if (count == 0) return Status::OK();
  Status s;
  size_t done = 0;
  for (; done < count; ++done) {
    const StagedPartFile& f = staged_[done];
    Result<PublishOutcome> outcome = PublishPartFile(dir_, f);
    if (!outcome.ok()) {
      s = outcome.status();
      break;
    }
    if (*outcome == PublishOutcome::kMissing) {
      s = Status::IOError("FileSink: the staged part file " + dir_ + "/" +
                          f.staged_name + " of checkpoint " +
                          std::to_string(f.checkpoint_id) + " is missing");
      break;
    }
    committed_paths_.push_back(dir_ + "/" + f.final_name);
  }
  staged_.erase(staged_.begin(), staged_.begin() + static_cast<long>(done));
  if (!s.ok()) return s;
  s = SyncDir(dir_);
  if (!s.ok()) return s.WithContext("FileSink");
  return Status::OK();
}

Status FileSinkWriter::Finish() {
  Status s = PublishStaged(staged_.size());
  if (!s.ok()) return s;
  const bool had_file = !writer_.committed_path().empty();
  s = writer_.Commit();
  if (!s.ok()) return s;
  if (!had_file && !writer_.committed_path().empty()) {
    committed_paths_.push_back(writer_.committed_path());
  }
  return Status::OK();
}

}  // namespace weir::internal
