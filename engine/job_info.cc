// SPDX-License-Identifier: Apache-2.0
#include "weir/job_info.h"

#include <cstring>
#include <random>

#include "lib/hash.h"

namespace weir {

JobId JobId::Generate() {
  std::random_device rd;
  std::array<uint8_t, kSize> bytes;
  for (size_t i = 0; i < kSize; i += 4) {
    const uint32_t r = rd();
    std::memcpy(bytes.data() + i, &r, 4);
  }
  return JobId(bytes);
}

Result<JobId> JobId::FromHex(std::string_view hex) {
  std::string raw;
  if (hex.size() != 2 * kSize || !weir::FromHex(hex, &raw)) {
    return Status::InvalidArgument("a job id is 32 hex digits, got '" +
                                   std::string(hex) + "'");
  }
  std::array<uint8_t, kSize> bytes;
  std::memcpy(bytes.data(), raw.data(), kSize);
  return JobId(bytes);
}

std::string JobId::ToHex() const {
  return weir::ToHex(std::string_view(
      reinterpret_cast<const char*>(bytes_.data()), bytes_.size()));
}

std::string_view JobStatusName(JobStatus status) {
  switch (status) {
    case JobStatus::kCreated:
      return "CREATED";
    case JobStatus::kRunning:
      return "RUNNING";
    case JobStatus::kFinished:
      return "FINISHED";
    case JobStatus::kCanceling:
      return "CANCELLING";
    case JobStatus::kCanceled:
      return "CANCELED";
    case JobStatus::kFailed:
      return "FAILED";
  }
  return "UNKNOWN";
}

std::string_view RestorePhaseName(RestoreInfo::Phase phase) {
  switch (phase) {
    case RestoreInfo::Phase::kNone:
      return "NONE";
    case RestoreInfo::Phase::kRestoring:
      return "RESTORING";
    case RestoreInfo::Phase::kRestored:
      return "RESTORED";
    case RestoreInfo::Phase::kFailed:
      return "FAILED";
  }
  return "UNKNOWN";
}

bool IsTerminal(JobStatus status) {
  return status == JobStatus::kFinished || status == JobStatus::kCanceled ||
         status == JobStatus::kFailed;
}

}  // namespace weir
