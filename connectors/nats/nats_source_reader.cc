// SPDX-License-Identifier: Apache-2.0
#include "connectors/nats/nats_source_reader.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace weir::internal {

namespace {

constexpr int64_t kNanosPerMs = 1000 * 1000;
// How long a fetch that finds no message waits, in ms.
constexpr int64_t kFetchWaitMs = 5;

int64_t SteadyNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

NatsSourceReaderImpl::~NatsSourceReaderImpl() { Close(); }

Status NatsSourceReaderImpl::Open(OperatorContext& ctx,
                                  const NatsSourceOptions& options) {
  options_ = options;
  who_ = "NATS source '" + std::string(ctx.name()) + "'";
  if (options.stream.empty()) {
    return Status::InvalidArgument(who_ + ": no stream given");
  }
  if (options.fetch_batch < 1 || options.poll_interval_ms < 0) {
    return Status::InvalidArgument(
        who_ + ": fetch_batch must be >= 1 and poll_interval_ms >= 0");
  }
  std::set<std::string> seen;
  for (const std::string& f : options.subjects) {
    if (f.empty() || !seen.insert(f).second) {
      return Status::InvalidArgument(who_ + ": subject filter '" + f +
                                     "' is empty or given twice");
    }
  }
  Result<std::unique_ptr<NatsConnection>> conn =
      NatsConnection::Connect(options.connection, who_);
  if (!conn.ok()) return conn.status();
  conn_ = std::move(*conn);
  reconnects_ = conn_->reconnects();

  jsStreamInfo* info = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, conn_->js(), options.stream.c_str(),
                                  nullptr, &jerr);
  if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
    return Status::NotFound(who_ + ": stream '" + options.stream +
                            "' not found on " + ServerList(options.connection));
  }
  if (s != NATS_OK) {
    return Status::IOError(NatsErrorText(
        who_ + ": cannot read the info of stream '" + options.stream + "'", s,
        jerr));
  }
  std::vector<std::string> filters = options.subjects;
  if (filters.empty()) {
    for (int i = 0; i < info->Config->SubjectsLen; ++i) {
      filters.emplace_back(info->Config->Subjects[i]);
    }
  }
  const uint64_t last_sequence = info->State.LastSeq;
  jsStreamInfo_Destroy(info);
  if (filters.empty()) {
    return Status::InvalidArgument(who_ + ": stream '" + options.stream +
                                   "' has no subjects to read");
  }

  Result<std::vector<NatsSplit>> restored = LoadNatsSplits(ctx);
  if (!restored.ok()) return restored.status().WithContext(who_);
  for (NatsSplit& position :
       AssignNatsSplits(filters, *restored, ctx.subtask(), ctx.parallelism())) {
    Split split;
    split.position = std::move(position);
    split.end_sequence = last_sequence;
    split.done =
        options.bounded && split.position.last_sequence >= split.end_sequence;
    splits_.push_back(std::move(split));
  }
  for (Split& split : splits_) {
    if (split.done) continue;
    Status st = Subscribe(split);
    if (!st.ok()) return st;
  }
  return Status::OK();
}

Status NatsSourceReaderImpl::Subscribe(Split& split) {
  // A new consumer numbers its deliveries from 1 again.
  split.consumer_sequence = 0;
  split.lost_delivery = false;
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = options_.stream.c_str();
  if (split.position.last_sequence == 0) {
    so.Config.DeliverPolicy = js_DeliverAll;
  } else {
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = split.position.last_sequence + 1;
  }
  so.Config.AckPolicy = js_AckNone;
  so.Config.MemoryStorage = true;
  // A consumer orphaned by a crash goes away by itself.
  so.Config.InactiveThreshold =
      std::max<int64_t>(options_.connection.max_outage_ms, 60000) * kNanosPerMs;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s =
      js_PullSubscribe(&split.sub, conn_->js(), split.position.filter.c_str(),
                       nullptr, nullptr, &so, &jerr);
  if (s == NATS_OK) return Status::OK();
  split.sub = nullptr;
  if (jerr == JSStreamNotFoundErr) {
    return Status::NotFound(who_ + ": stream '" + options_.stream +
                            "' not found on " +
                            ServerList(options_.connection));
  }
  return Status::IOError(NatsErrorText(
      who_ + ": cannot read subject filter '" + split.position.filter +
          "' of stream '" + options_.stream + "'",
      s, jerr));
}

Status NatsSourceReaderImpl::Resubscribe(Split& split) {
  Status s = Subscribe(split);
  if (s.ok()) {
    failing_since_ms_ = -1;
    return s;
  }
  // The broker is away, or just back and not ready yet: try again at the
  // next poll, for as long as an outage may last.
  const int64_t now = SteadyNowMs();
  if (failing_since_ms_ < 0) failing_since_ms_ = now;
  if (now - failing_since_ms_ > options_.connection.max_outage_ms) return s;
  return conn_->CheckOutage();
}

void NatsSourceReaderImpl::Unsubscribe(Split& split) {
  // Held messages not taken yet are read again by the next consumer, which
  // starts after the last sequence taken.
  ReleaseHeld(split);
  if (split.sub == nullptr) return;
  // Deleting the consumer needs the broker; without it the consumer goes
  // by its inactivity threshold.
  if (conn_->connected()) natsSubscription_Unsubscribe(split.sub);
  natsSubscription_Destroy(split.sub);
  split.sub = nullptr;
}

void NatsSourceReaderImpl::ReleaseHeld(Split& split) {
  if (split.held.Msgs != nullptr || split.held.Count > 0) {
    fetched_.push_back(split.held);
  }
  split.held = natsMsgList{};
  split.held_next = 0;
}

void NatsSourceReaderImpl::ReleaseFetched() {
  for (natsMsgList& list : fetched_) natsMsgList_Destroy(&list);
  fetched_.clear();
}

Status NatsSourceReaderImpl::Next(int max, std::vector<NatsMessage>* batch,
                                  bool* ended) {
  ReleaseFetched();
  batch->clear();
  *ended = false;
  Status st = conn_->CheckOutage();
  if (!st.ok()) return st;
  if (!conn_->connected()) return Status::OK();
  const uint64_t reconnects = conn_->reconnects();
  if (reconnects != reconnects_) {
    // The consumers lived in the broker's memory: start them anew.
    for (Split& split : splits_) Unsubscribe(split);
    reconnects_ = reconnects;
  }
  bool all_done = true;
  for (size_t n = 0; n < splits_.size(); ++n) {
    Split& split = splits_[(next_split_ + n) % splits_.size()];
    if (split.done) continue;
    all_done = false;
    if (static_cast<int>(batch->size()) >= max) continue;
    if (split.sub == nullptr) {
      st = Resubscribe(split);
      if (!st.ok()) return st;
      if (split.sub == nullptr) continue;
    }
    if (split.held_next >= split.held.Count) {
      ReleaseHeld(split);
      st = Fetch(split);
      if (!st.ok()) return st;
    }
    st = Take(split, max - static_cast<int>(batch->size()), batch);
    if (!st.ok()) return st;
  }
  if (!splits_.empty()) next_split_ = (next_split_ + 1) % splits_.size();
  *ended = all_done && options_.bounded;
  return Status::OK();
}

Status NatsSourceReaderImpl::Fetch(Split& split) {
  jsFetchRequest req;
  jsFetchRequest_Init(&req);
  req.Batch = options_.fetch_batch;
  req.NoWait = true;
  // The server holds a request that finds nothing for up to Expires; keep
  // it short, as the task thread waits (and barriers with it).
  req.Expires = kFetchWaitMs * kNanosPerMs;
  // Messages of an earlier fetch that gave up wait in the subscription.
  // libnats 3.4.1's fetch takes them first, then asks the server for the
  // batch minus those and loops until its count equals that difference:
  // with more than half a batch already waiting it never does, and writes
  // past its array. Ask for enough that the waiting ones are at most a
  // quarter of the batch (messages still arriving are at most one earlier
  // batch). What the poll did not ask for waits in split.held.
  int waiting = 0;
  int waiting_bytes = 0;
  if (natsSubscription_GetPending(split.sub, &waiting, &waiting_bytes) ==
          NATS_OK &&
      waiting > 0) {
    req.Batch = std::max<int64_t>(
        req.Batch, 4 * (static_cast<int64_t>(waiting) + options_.fetch_batch));
  }
  natsMsgList list{};
  natsStatus s = natsSubscription_FetchRequest(&list, split.sub, &req);
  if (s == NATS_NOT_FOUND || s == NATS_TIMEOUT) {
    natsMsgList_Destroy(&list);
    // Nothing now. A bounded split that does not know its last message
    // asks the consumer whether it is drained: nothing pending, and nothing
    // delivered that has not arrived (a 404 alone is not proof: a new
    // consumer may answer it before it has looked at the stream).
    bool drained = false;
    if (options_.bounded && !split.exact_end) {
      jsConsumerInfo* info = nullptr;
      if (natsSubscription_GetConsumerInfo(&info, split.sub, nullptr,
                                           nullptr) == NATS_OK) {
        drained = info->NumPending == 0 &&
                  info->Delivered.Consumer == split.consumer_sequence;
        jsConsumerInfo_Destroy(info);
      }
    }
    // No message now: nothing pending as far as the consumer knows.
    split.pending = 0;
    if (drained && options_.bounded) {
      split.done = true;
      Unsubscribe(split);
    }
    return Status::OK();
  }
  if (s != NATS_OK) {
    natsMsgList_Destroy(&list);
    // No answer or no consumer: start a new one at the next poll.
    Unsubscribe(split);
    return conn_->connected() ? Status::OK() : conn_->CheckOutage();
  }
  split.held = list;
  split.held_next = 0;
  return Status::OK();
}

Status NatsSourceReaderImpl::Take(Split& split, int max,
                                  std::vector<NatsMessage>* batch) {
  int taken = 0;
  for (; split.held_next < split.held.Count && taken < max && !split.done;
       ++split.held_next) {
    natsMsg* msg = split.held.Msgs[split.held_next];
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg) != NATS_OK) {
      return Status::Corruption(who_ + ": a message of stream '" +
                                options_.stream +
                                "' has no JetStream metadata");
    }
    const uint64_t seq = meta->Sequence.Stream;
    const uint64_t consumer_seq = meta->Sequence.Consumer;
    const uint64_t pending = meta->NumPending;
    const int64_t ts_ns = meta->Timestamp;
    jsMsgMetaData_Destroy(meta);
    // The consumer numbers its deliveries 1, 2, ...: a gap means messages
    // went to a fetch that had given up (AckNone does not redeliver). Start
    // a new consumer after the last sequence read.
    if (consumer_seq != split.consumer_sequence + 1) {
      split.lost_delivery = true;
      break;
    }
    split.consumer_sequence = consumer_seq;
    if (seq <= split.position.last_sequence) continue;  // read already
    if (options_.bounded && seq > split.end_sequence) {
      split.done = true;
      break;
    }
    NatsMessage m;
    m.subject = natsMsg_GetSubject(msg);
    m.data = std::string_view(natsMsg_GetData(msg),
                              static_cast<size_t>(natsMsg_GetDataLength(msg)));
    m.sequence = seq;
    m.timestamp = ts_ns / kNanosPerMs;
    batch->push_back(m);
    ++taken;
    split.position.last_sequence = seq;
    split.pending = pending;
    ++messages_read_;
    if (options_.bounded && (seq >= split.end_sequence || pending == 0)) {
      split.done = true;
    }
  }
  if (split.done || split.lost_delivery) Unsubscribe(split);
  return Status::OK();
}

Status NatsSourceReaderImpl::SnapshotState(OperatorContext& ctx) const {
  std::vector<NatsSplit> positions;
  for (const Split& split : splits_) positions.push_back(split.position);
  return StoreNatsSplits(ctx, positions);
}

void NatsSourceReaderImpl::Close() {
  if (conn_ != nullptr) {
    for (Split& split : splits_) Unsubscribe(split);
  }
  for (Split& split : splits_) ReleaseHeld(split);
  ReleaseFetched();
  conn_.reset();
}

int64_t NatsSourceReaderImpl::lag() const {
  int64_t lag = 0;
  for (const Split& split : splits_) {
    if (!split.done) lag += static_cast<int64_t>(split.pending);
  }
  return lag;
}

std::vector<std::string> NatsSourceReaderImpl::splits() const {
  std::vector<std::string> filters;
  for (const Split& split : splits_) filters.push_back(split.position.filter);
  return filters;
}

// ---------------------------------------------------------------- facade

NatsSourceReader::NatsSourceReader()
    : impl_(std::make_unique<NatsSourceReaderImpl>()) {}
NatsSourceReader::~NatsSourceReader() = default;

Status NatsSourceReader::Open(OperatorContext& ctx,
                              const NatsSourceOptions& options) {
  return impl_->Open(ctx, options);
}
Status NatsSourceReader::Next(int max, std::vector<NatsMessage>* batch,
                              bool* ended) {
  return impl_->Next(max, batch, ended);
}
Status NatsSourceReader::SnapshotState(OperatorContext& ctx) const {
  return impl_->SnapshotState(ctx);
}
void NatsSourceReader::Close() { impl_->Close(); }
int64_t NatsSourceReader::messages_read() const {
  return impl_->messages_read();
}
int64_t NatsSourceReader::lag() const { return impl_->lag(); }
std::vector<std::string> NatsSourceReader::splits() const {
  return impl_->splits();
}

}  // namespace weir::internal
