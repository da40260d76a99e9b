// SPDX-License-Identifier: Apache-2.0
//
// NatsSinkWriterImpl: the work of NatsSinkWriter (weir/nats.h). Publishes
// go out asynchronously; the client's acknowledgement handler (on its own
// thread) counts them and keeps the failed ones, which the task thread
// publishes again while the broker is away (under the same message id, so
// the stream drops what it already has) and fails the job on for any
// other cause.
#pragma once

#include <nats/nats.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "connectors/nats/nats_connection.h"
#include "connectors/nats/nats_sink_state.h"
#include "weir/nats.h"

namespace weir::internal {

class NatsSinkWriterImpl {
 public:
  NatsSinkWriterImpl() = default;
  ~NatsSinkWriterImpl();
  NatsSinkWriterImpl(const NatsSinkWriterImpl&) = delete;
  NatsSinkWriterImpl& operator=(const NatsSinkWriterImpl&) = delete;

  Status Open(OperatorContext& ctx, const NatsSinkOptions& options);
  Status Write(std::string_view data);
  Status SnapshotState(OperatorContext& ctx, int64_t checkpoint_id);
  Status NotifyCheckpointComplete(int64_t checkpoint_id);
  Status Finish();
  void Close();

  int64_t records_acked() const;
  int64_t last_flush_latency_us() const;

 private:
  static void OnAck(jsCtx* js, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae,
                    void* closure);

  bool exactly_once() const {
    return options_.delivery == NatsSinkOptions::Delivery::kExactlyOnce;
  }
  // Finds the stream capturing the subject and checks its duplicate window.
  Status CheckStream();
  // Publishes `data` (with `msg_id` unless empty); the acknowledgement is
  // awaited by AwaitAcks().
  Status Publish(std::string_view data, const std::string& msg_id);
  Status PublishMsg(natsMsg* msg);
  // Publishes the batches (exactly-once) under their message ids.
  Status PublishStaged(const std::vector<NatsStagedBatch>& batches);
  // Waits until every publish is acknowledged, publishing failed ones
  // again while the cause is the broker being away.
  Status AwaitAcks();

  NatsSinkOptions options_;
  std::string who_;
  std::string prefix_;
  uint32_t subtask_ = 0;
  std::unique_ptr<NatsConnection> conn_;
  // Exactly-once: records since the last barrier, and staged batches of
  // checkpoints not yet complete, in checkpoint order.
  std::vector<std::string> current_;
  std::vector<NatsStagedBatch> staged_;
  int64_t last_checkpoint_id_ = 0;
  int64_t flush_start_us_ = -1;
  int64_t last_flush_latency_us_ = 0;

  // Shared with OnAck.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int64_t in_flight_ = 0;
  int64_t acked_ = 0;
  std::vector<natsMsg*> failed_;  // owned; to publish again
  std::string fatal_;             // a failure that no retry heals
};

}  // namespace weir::internal
