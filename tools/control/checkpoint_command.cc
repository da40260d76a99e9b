// SPDX-License-Identifier: Apache-2.0
#include "tools/control/checkpoint_command.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "tools/control/rest_client.h"
#include "tools/log/log.h"

namespace weir::tools {

namespace {

int Fail(std::string_view message) {
  log::Error(message);
  return 1;
}

}  // namespace

int CheckpointJob(const std::string& job_id, bool full,
                  const JobLocator& locator) {
  Result<JobId> id = JobId::FromHex(job_id);
  if (!id.ok()) return Fail(id.status().message());
  Result<HostPort> located = LocateJob(*id, locator);
  if (!located.ok()) return Fail(located.status().message());
  const HostPort hp = *located;
  // The trigger waits while the job has as many checkpoints in progress as
  // it may (a slow periodic one), up to the checkpoint timeout (10 min by
  // default): wait as long for the answer.
  Result<int64_t> checkpoint =
      RequestCheckpoint(hp.host, hp.port, *id, full, std::chrono::minutes(11));
  if (!checkpoint.ok()) {
    return Fail("cannot trigger a checkpoint: " +
                std::string(checkpoint.status().message()));
  }
  // The checkpoint ends (completes, fails or times out) by itself; poll its
  // status, quickly at first.
  std::chrono::milliseconds pause{10};
  while (true) {
    Result<CheckpointTriggerStatus> status =
        FetchCheckpointStatus(hp.host, hp.port, *id, *checkpoint);
    if (!status.ok()) {
      return Fail("checkpoint " + std::to_string(*checkpoint) + " of job " +
                  id->ToHex() + ": " + std::string(status.status().message()));
    }
    if (status->done) {
      if (!status->failure.empty()) {
        return Fail("checkpoint " + std::to_string(*checkpoint) + " of job " +
                    id->ToHex() + " failed: " + status->failure);
      }
      std::printf("Checkpoint %lld for job %s completed. Path: %s\n",
                  static_cast<long long>(*checkpoint), id->ToHex().c_str(),
                  status->location.c_str());
      return 0;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(200));
  }
}

}  // namespace weir::tools
