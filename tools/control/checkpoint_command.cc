// SPDX-License-Identifier: Apache-2.0
#include "tools/control/checkpoint_command.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "tools/control/rest_client.h"
#include "tools/control/trigger_ids.h"
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
  // A trigger id of our own: a trigger whose answer was lost is sent again
  // and answers the same checkpoint.
  const std::string trigger_id = NewTriggerId();
  Result<CheckpointTrigger> trigger = Retrying([&] {
    return RequestCheckpoint(hp.host, hp.port, *id, full, trigger_id,
                             std::chrono::minutes(11));
  });
  if (!trigger.ok()) {
    return Fail("cannot trigger a checkpoint: " +
                std::string(trigger.status().message()));
  }
  // "checkpoint N" once the number is known (weir says it at once).
  auto name = [&trigger](int64_t n) {
    if (n <= 0) n = trigger->checkpoint_id;
    return n > 0 ? "checkpoint " + std::to_string(n)
                 : "checkpoint " + trigger->request_id;
  };
  // The checkpoint ends (completes, fails or times out) by itself; poll its
  // status, quickly at first.
  std::chrono::milliseconds pause{10};
  while (true) {
    Result<CheckpointTriggerStatus> status = Retrying([&] {
      return FetchCheckpointStatus(hp.host, hp.port, *id, trigger->request_id);
    });
    if (!status.ok()) {
      return Fail(name(0) + " of job " + id->ToHex() + ": " +
                  std::string(status.status().message()));
    }
    if (status->done) {
      if (!status->failure.empty()) {
        return Fail(name(status->id) + " of job " + id->ToHex() +
                    " failed: " + status->failure);
      }
      std::string done = name(status->id);
      done[0] = 'C';
      std::printf("%s for job %s completed. Path: %s\n", done.c_str(),
                  id->ToHex().c_str(), status->location.c_str());
      return 0;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(200));
  }
}

}  // namespace weir::tools
