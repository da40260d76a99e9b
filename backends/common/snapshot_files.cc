// SPDX-License-Identifier: Apache-2.0
#include "backends/common/snapshot_files.h"

#include <optional>
#include <string>

#include "lib/file.h"

namespace weir::internal {

Status VerifySnapshotFile(const SnapshotFile& file) {
  // The checksum was computed from this very file (same inode) and nothing
  // has written to it since (same mtime and size): reading it all again
  // would only cost time. RocksDB still checks every block it reads.
  if (file.verified_inode != 0) {
    std::optional<FileStamp> now = StampFile(file.local_path);
    if (now && now->inode == file.verified_inode && now->size == file.size &&
        now->mtime_ns == file.verified_mtime_ns) {
      return Status::OK();
    }
  }
  uint64_t size = 0, sum = 0;
  Status s = weir::ChecksumFile(file.local_path, file.size, &size, &sum);
  if (!s.ok()) {
    return Status::IOError("snapshot file " + file.local_path + " (" +
                           file.name + "): " + std::string(s.message()));
  }
  if (size != file.size) {
    return Status::Corruption("snapshot file " + file.local_path + " (" +
                              file.name + "): size mismatch: expected " +
                              std::to_string(file.size) + " bytes, found " +
                              std::to_string(size));
  }
  if (sum != file.checksum) {
    return Status::Corruption("snapshot file " + file.local_path + " (" +
                              file.name + "): checksum mismatch: expected " +
                              std::to_string(file.checksum) + ", computed " +
                              std::to_string(sum));
  }
  return Status::OK();
}

}  // namespace weir::internal
