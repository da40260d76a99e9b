// SPDX-License-Identifier: Apache-2.0
#include "backends/rocksdb/rocksdb_state_dir.h"

#include <charconv>
#include <filesystem>
#include <system_error>

#include "lib/file.h"

namespace weir::internal {

namespace {

constexpr std::string_view kMarkerHeader = "weir state directory\nformat 1\n";
constexpr std::string_view kMaxParallelismKey = "max-parallelism ";

std::string MarkerContent(int max_parallelism) {
  return std::string(kMarkerHeader) + std::string(kMaxParallelismKey) +
         std::to_string(max_parallelism) + "\n";
}

Status ParseMarker(const std::string& path, std::string_view content,
                   int* max_parallelism) {
  const Status bad = Status::Corruption(
      path +
      " is not a valid weir state marker (expected \"weir state "
      "directory\", a format and a max parallelism)");
  if (!content.starts_with(kMarkerHeader)) return bad;
  content.remove_prefix(kMarkerHeader.size());
  if (!content.starts_with(kMaxParallelismKey)) return bad;
  content.remove_prefix(kMaxParallelismKey.size());
  const char* end = content.data() + content.size();
  auto [ptr, ec] = std::from_chars(content.data(), end, *max_parallelism);
  if (ec != std::errc() || ptr == content.data() || ptr == end ||
      *ptr != '\n') {
    return bad;
  }
  return Status::OK();
}

}  // namespace

Status PrepareStateDir(const std::string& dir, int max_parallelism,
                       bool durable) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return Status::IOError("cannot access state directory " + dir + ": " +
                           ec.message());
  }
  const std::string marker = (fs::path(dir) / kStateDirMarker).string();
  if (fs::exists(st)) {
    if (!fs::is_directory(st)) {
      return Status::InvalidArgument("state directory " + dir +
                                     " is not a directory");
    }
    if (fs::exists(marker, ec)) {
      Result<std::string> content = ReadFileToString(marker);
      if (!content.ok()) return content.status();
      int stored = 0;
      Status s = ParseMarker(marker, *content, &stored);
      if (!s.ok()) return s;
      if (stored != max_parallelism) {
        return Status::InvalidArgument(
            "state directory " + dir + " was created with max parallelism " +
            std::to_string(stored) + ", not " +
            std::to_string(max_parallelism) +
            "; max parallelism is fixed for the life of the state");
      }
      return Status::OK();
    }
    if (!fs::is_empty(dir, ec)) {
      return Status::InvalidArgument(
          dir + " is not a weir state directory: it is not empty and has no " +
          kStateDirMarker + " file");
    }
  } else {
    Status s = CreateDirs(dir);
    if (!s.ok()) return s;
  }
  return durable ? AtomicWriteFile(marker, MarkerContent(max_parallelism))
                 : WriteFileUnsynced(marker, MarkerContent(max_parallelism));
}

}  // namespace weir::internal
