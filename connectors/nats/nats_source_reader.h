// SPDX-License-Identifier: Apache-2.0
//
// NatsSourceReaderImpl: the work of NatsSourceReader (weir/nats.h). Each
// split of the subtask reads through its own ephemeral pull consumer
// (AckNone, in memory on the server) that starts at the split's next
// stream sequence. The consumer holds no state weir needs: when it is gone
// (the broker restarted, or the connection reconnected) a new one starts
// after the last sequence read.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <string>
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
  struct Split {
    NatsSplit position;
    uint64_t end_sequence = 0;  // bounded: the last sequence to read
    bool exact_end = false;     // end_sequence is the filter's own last
    bool done = false;
    natsSubscription* sub = nullptr;
    uint64_t pending = 0;  // messages after the last one read
    // The consumer's sequence of the last message received; a gap sets
    // lost_delivery and the consumer is made anew.
    uint64_t consumer_sequence = 0;
    bool lost_delivery = false;
    // A fetch may bring more than the poll asked for (see Fetch()): the
    // rest waits here, from index held_next, for the next polls.
    natsMsgList held{};
    int held_next = 0;
  };

  // Creates the split's consumer after its last sequence; errors name the
  // source and the filter.
  Status Subscribe(Split& split);
  // Subscribe() while running: a failure is retried at the next poll for
  // up to NatsOptions::max_outage_ms.
  Status Resubscribe(Split& split);
  void Unsubscribe(Split& split);
  // Fetches messages of `split` into split.held, when none wait there.
  Status Fetch(Split& split);
  // Moves up to `max` held messages of `split` into *batch.
  Status Take(Split& split, int max, std::vector<NatsMessage>* batch);
  // Hands split.held to fetched_, to be freed at the next Next().
  void ReleaseHeld(Split& split);
  void ReleaseFetched();

  NatsSourceOptions options_;
  std::string who_;
  std::unique_ptr<NatsConnection> conn_;
  std::vector<Split> splits_;
  size_t next_split_ = 0;  // round robin over the splits
  uint64_t reconnects_ = 0;
  int64_t failing_since_ms_ = -1;  // steady clock; Resubscribe() failing
  int64_t messages_read_ = 0;
  // The messages the last batch's views point into.
  std::vector<natsMsgList> fetched_;
};

}  // namespace weir::internal
