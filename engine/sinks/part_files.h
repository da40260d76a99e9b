// SPDX-License-Identifier: Apache-2.0
//
// File names and file operations of FileSink's part files, shared by
// PartFileWriter (writing and staging) and FileSinkWriter (committing and
// recovering). A subtask's file with counter n goes through three names in
// its directory:
//
//   .part-<subtask>-<n><suffix>.inprogress   being written
//   .part-<subtask>-<n><suffix>.pending      staged for a checkpoint
//   part-<subtask>-<n><suffix>               committed (visible)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/sinks/part_file_writer.h"
#include "weir/result.h"

namespace weir::internal {

// "part-<subtask>-<n><suffix>".
std::string PartFileName(int64_t subtask, int64_t n, std::string_view suffix);
// "." + final_name + ".inprogress" / ".pending".
std::string InProgressName(std::string_view final_name);
std::string PendingName(std::string_view final_name);

// A hidden (in-progress or pending) part file name taken apart.
struct HiddenPartName {
  int64_t subtask = 0;
  int64_t counter = 0;
  bool pending = false;
};
// Parses `name` as a hidden part file name with exactly `suffix`; nullopt if
// it is anything else (a committed file, another suffix, a stranger).
std::optional<HiddenPartName> ParseHiddenPartName(std::string_view name,
                                                  std::string_view suffix);

// IOError "FileSink: <what> <path>: <strerror(err)>".
Status FileSinkError(std::string_view what, const std::string& path, int err);

// True if `path` exists (lstat). IOError for errors other than ENOENT.
Result<bool> PathExists(const std::string& path);

// The names in `dir` (without "." and ".."), unsorted. NotFound if `dir`
// does not exist; IOError otherwise.
Result<std::vector<std::string>> ListDirectory(const std::string& dir);

enum class PublishOutcome : uint8_t {
  kPublished,         // renamed now
  kAlreadyPublished,  // the staged file is gone and the final one exists
  kMissing,           // neither exists
};
// Renames `dir`/staged_name to `dir`/final_name. Idempotent: a file
// published before is reported, not an error. Does not fsync the directory.
// IOError if both names exist (the rename would overwrite a committed file)
// or the rename fails.
Result<PublishOutcome> PublishPartFile(const std::string& dir,
                                       const StagedPartFile& file);

}  // namespace weir::internal
