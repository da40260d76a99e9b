// SPDX-License-Identifier: Apache-2.0
//
// NatsSourceReaderImpl: the work of NatsSourceReader (weir/nats.h). The
// subtask reads through one ephemeral push consumer (AckNone, flow
// control, in memory on the server) that streams messages into the
// client's subscription queue ahead of the polls; a poll only takes what
// is there, without waiting on the broker. The consumer's filter is the
// split's when the subtask has one split, and the whole stream when it has
// several (each message then goes to the split whose filter matches its
// subject; the others' are dropped): a server reads a stream much faster
// for one unfiltered consumer than for several filtered ones. It starts
// after the smallest last sequence of the splits and holds no state weir
// needs: when it is gone (the broker restarted, the connection
// reconnected, a delivery was lost) a new one starts the same way.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "connectors/nats/nats_connection.h"
#include "connectors/nats/nats_split_state.h"
#include "weir/nats.h"

namespace weir::internal {

class NatsSourceReaderImpl {
 public:
  NatsSourceReaderImpl() = default;
  ~NatsSourceReaderImpl();
  NatsSourceReaderImpl(const NatsSourceReaderImpl&) = delete;
  NatsSourceReaderImpl& operator=(const NatsSourceReaderImpl&) = delete;

  Status Open(OperatorContext& ctx, const NatsSourceOptions& options);
  Status Next(int max, std::vector<NatsMessage>* batch, bool* ended);
  Status SnapshotState(OperatorContext& ctx) const;
  void Close();

  int64_t messages_read() const { return messages_read_; }
  int64_t lag() const;
  std::vector<std::string> splits() const;

 private:
  // Creates the consumer after the splits' last sequences; errors name the
  // source and the filter.
  Status Subscribe();
  // Subscribe() while running: a failure is retried at the next poll for
  // up to NatsOptions::max_outage_ms.
  Status Resubscribe();
  void Unsubscribe();
  // Bounded, after Subscribe(): ends the source if the new consumer has
  // nothing to deliver.
  void CheckEmpty();
  // Moves up to `max` messages waiting in the subscription into *batch,
  // without waiting for more.
  Status Take(int max, std::vector<NatsMessage>* batch);
  // The split whose filter matches `subject`, or -1.
  int SplitOf(const char* subject);
  // Raises every split's position to scanned_: the consumer's filter
  // covers every split, so each has no message up to it left to read.
  void AdvanceToScanned();
  void ReleaseTaken();

  NatsSourceOptions options_;
  std::string who_;
  std::unique_ptr<NatsConnection> conn_;
  std::vector<NatsSplit> splits_;
  std::unordered_map<std::string, int> split_of_subject_;  // SplitOf() cache
  // The consumer: over filter_ (a split's filter, or ">").
  std::string filter_;
  bool whole_stream_ = false;
  natsSubscription* sub_ = nullptr;
  // The consumer's sequence of the last message taken; a gap sets
  // lost_delivery_ and the consumer is made anew.
  uint64_t consumer_sequence_ = 0;
  bool lost_delivery_ = false;
  // The stream sequence of the last message taken from the queue (for a
  // split or dropped).
  uint64_t scanned_ = 0;
  uint64_t end_sequence_ = 0;  // bounded: the last sequence to read
  bool done_ = false;          // bounded: read to the end
  uint64_t pending_ = 0;       // messages after the last one taken
  uint64_t reconnects_ = 0;
  int64_t failing_since_ms_ = -1;  // steady clock; Resubscribe() failing
  int64_t messages_read_ = 0;
  // The messages the last batch's views point into.
  std::vector<natsMsg*> taken_;
};

}  // namespace weir::internal
