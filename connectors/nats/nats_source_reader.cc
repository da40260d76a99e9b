// SPDX-License-Identifier: Apache-2.0
#include "connectors/nats/nats_source_reader.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weir::internal {

namespace {

constexpr int64_t kNanosPerMs = 1000 * 1000;
// The server sends an idle heartbeat this often while it has nothing to
// deliver; the client answers a flow-control request that a heartbeat
// repeats (the consumer stalled). The server wants both or neither.
constexpr int64_t kHeartbeatMs = 5000;

// Whether NATS subject `subject` matches `filter` ("*": one token, ">":
// the rest, at least one token).
bool SubjectMatches(std::string_view filter, std::string_view subject) {
  for (;;) {
    const size_t fdot = filter.find('.');
    const size_t sdot = subject.find('.');
    const std::string_view ftok = filter.substr(0, fdot);
    const std::string_view stok = subject.substr(0, sdot);
    if (ftok == ">") return !subject.empty();
    if (ftok != "*" && ftok != stok) return false;
    if (fdot == std::string_view::npos || sdot == std::string_view::npos) {
      return fdot == sdot;
    }
    filter.remove_prefix(fdot + 1);
    subject.remove_prefix(sdot + 1);
  }
}

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
  splits_ =
      AssignNatsSplits(filters, *restored, ctx.subtask(), ctx.parallelism());
  if (splits_.empty()) {
    done_ = options.bounded;
    return Status::OK();
  }
  whole_stream_ = splits_.size() > 1;
  filter_ = whole_stream_ ? ">" : splits_[0].filter;
  end_sequence_ = last_sequence;
  uint64_t first = UINT64_MAX;
  for (const NatsSplit& split : splits_) {
    first = std::min(first, split.last_sequence);
  }
  scanned_ = first;
  done_ = options.bounded && first >= end_sequence_;
  if (done_) return Status::OK();
  return Subscribe();
}

Status NatsSourceReaderImpl::Subscribe() {
  AdvanceToScanned();
  uint64_t first = UINT64_MAX;
  for (const NatsSplit& split : splits_) {
    first = std::min(first, split.last_sequence);
  }
  scanned_ = first;
  // A new consumer numbers its deliveries from 1 again.
  consumer_sequence_ = 0;
  lost_delivery_ = false;
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = options_.stream.c_str();
  if (first == 0) {
    so.Config.DeliverPolicy = js_DeliverAll;
  } else {
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = first + 1;
  }
  so.Config.AckPolicy = js_AckNone;
  so.Config.MemoryStorage = true;
  // The server stops sending when the client has not caught up with its
  // flow-control requests: the subscription's queue stays bounded.
  so.Config.FlowControl = true;
  so.Config.Heartbeat = kHeartbeatMs * kNanosPerMs;
  // A consumer orphaned by a crash goes away by itself.
  so.Config.InactiveThreshold =
      std::max<int64_t>(options_.connection.max_outage_ms, 60000) * kNanosPerMs;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_SubscribeSync(&sub_, conn_->js(), filter_.c_str(), nullptr,
                                  &so, &jerr);
  if (s == NATS_OK) {
    if (options_.bounded) CheckEmpty();
    return Status::OK();
  }
  sub_ = nullptr;
  if (jerr == JSStreamNotFoundErr) {
    return Status::NotFound(who_ + ": stream '" + options_.stream +
                            "' not found on " +
                            ServerList(options_.connection));
  }
  return Status::IOError(
      NatsErrorText(who_ + ": cannot read " +
                        (whole_stream_ ? std::string("the subjects")
                                       : "subject filter '" + filter_ + "'") +
                        " of stream '" + options_.stream + "'",
                    s, jerr));
}

Status NatsSourceReaderImpl::Resubscribe() {
  Status s = Subscribe();
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

void NatsSourceReaderImpl::Unsubscribe() {
  // Messages in the subscription's queue not taken yet go with it; the
  // next consumer starts after the last sequence taken.
  if (sub_ == nullptr) return;
  // Deleting the consumer needs the broker; without it the consumer goes
  // by its inactivity threshold.
  if (conn_->connected()) natsSubscription_Unsubscribe(sub_);
  natsSubscription_Destroy(sub_);
  sub_ = nullptr;
}

void NatsSourceReaderImpl::CheckEmpty() {
  // A bounded source ends with the message that has nothing pending after
  // it, or with the first one past the end; a consumer with nothing left
  // to deliver sends neither, which its info tells: nothing pending and
  // nothing delivered. (Asked once per consumer, never per poll: the
  // broker may count a filtered consumer's pending messages by scanning.)
  jsConsumerInfo* info = nullptr;
  natsStatus s =
      natsSubscription_GetConsumerInfo(&info, sub_, nullptr, nullptr);
  if (s != NATS_OK) {
    // Unknown: make the consumer anew at the next poll and ask again.
    Unsubscribe();
    return;
  }
  if (info->NumPending == 0 && info->Delivered.Consumer == 0) {
    done_ = true;
    pending_ = 0;
    Unsubscribe();
  }
  jsConsumerInfo_Destroy(info);
}

void NatsSourceReaderImpl::AdvanceToScanned() {
  for (NatsSplit& split : splits_) {
    split.last_sequence = std::max(split.last_sequence, scanned_);
  }
}

int NatsSourceReaderImpl::SplitOf(const char* subject) {
  if (!whole_stream_) return 0;
  auto it = split_of_subject_.find(subject);
  if (it != split_of_subject_.end()) return it->second;
  int found = -1;
  for (size_t i = 0; i < splits_.size() && found < 0; ++i) {
    if (SubjectMatches(splits_[i].filter, subject)) found = static_cast<int>(i);
  }
  // Bounded by the stream's subjects; a stream with very many of them is
  // read without the cache.
  if (split_of_subject_.size() < 65536)
    split_of_subject_.emplace(subject, found);
  return found;
}

void NatsSourceReaderImpl::ReleaseTaken() {
  for (natsMsg* msg : taken_) natsMsg_Destroy(msg);
  taken_.clear();
}

Status NatsSourceReaderImpl::Next(int max, std::vector<NatsMessage>* batch,
                                  bool* ended) {
  ReleaseTaken();
  batch->clear();
  *ended = false;
  if (done_ || splits_.empty()) {
    *ended = options_.bounded;
    return Status::OK();
  }
  Status st = conn_->CheckOutage();
  if (!st.ok()) return st;
  if (!conn_->connected()) return Status::OK();
  const uint64_t reconnects = conn_->reconnects();
  if (reconnects != reconnects_) {
    // The consumer lived in the broker's memory, and deliveries during the
    // outage are lost: start it anew.
    Unsubscribe();
    reconnects_ = reconnects;
  }
  if (sub_ == nullptr) {
    st = Resubscribe();
    if (!st.ok() || sub_ == nullptr) return st;
  }
  return Take(std::min(options_.fetch_batch, max), batch);
}

Status NatsSourceReaderImpl::Take(int max, std::vector<NatsMessage>* batch) {
  int taken = 0;
  while (taken < max && !done_) {
    natsMsg* msg = nullptr;
    // A zero timeout takes a waiting message or returns NATS_TIMEOUT.
    natsStatus s = natsSubscription_NextMsg(&msg, sub_, 0);
    if (s == NATS_TIMEOUT) break;  // nothing waits now
    if (s == NATS_SLOW_CONSUMER || s == NATS_MISMATCH) {
      // The queue overflowed and dropped messages, or a heartbeat showed a
      // delivery that never arrived.
      lost_delivery_ = true;
      break;
    }
    if (s != NATS_OK) {
      // The subscription or the connection is closed: start a new
      // consumer at the next poll.
      Unsubscribe();
      return conn_->connected() ? Status::OK() : conn_->CheckOutage();
    }
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg) != NATS_OK) {
      natsMsg_Destroy(msg);
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
    // were lost on the way (AckNone does not redeliver). Start a new
    // consumer after the last sequence taken.
    if (consumer_seq != consumer_sequence_ + 1) {
      natsMsg_Destroy(msg);
      lost_delivery_ = true;
      break;
    }
    consumer_sequence_ = consumer_seq;
    if (options_.bounded && seq > end_sequence_) {
      natsMsg_Destroy(msg);
      done_ = true;
      break;
    }
    // NumPending: the consumer's messages after this one when it was sent.
    if (options_.bounded && (seq >= end_sequence_ || pending == 0)) {
      done_ = true;
    }
    scanned_ = std::max(scanned_, seq);
    pending_ = pending;
    const char* subject = natsMsg_GetSubject(msg);
    const int i = SplitOf(subject);
    if (i < 0 || seq <= splits_[i].last_sequence) {
      // Another subtask's, or read already (a new consumer starts after
      // the smallest position).
      natsMsg_Destroy(msg);
      continue;
    }
    taken_.push_back(msg);
    NatsMessage m;
    m.subject = subject;
    m.data = std::string_view(natsMsg_GetData(msg),
                              static_cast<size_t>(natsMsg_GetDataLength(msg)));
    m.sequence = seq;
    m.timestamp = ts_ns / kNanosPerMs;
    batch->push_back(m);
    ++taken;
    splits_[i].last_sequence = seq;
    ++messages_read_;
  }
  if (done_ || lost_delivery_) {
    AdvanceToScanned();
    Unsubscribe();
  }
  return Status::OK();
}

Status NatsSourceReaderImpl::SnapshotState(OperatorContext& ctx) const {
  std::vector<NatsSplit> positions = splits_;
  for (NatsSplit& split : positions) {
    split.last_sequence = std::max(split.last_sequence, scanned_);
  }
  return StoreNatsSplits(ctx, positions);
}

void NatsSourceReaderImpl::Close() {
  ReleaseTaken();
  if (conn_ != nullptr) Unsubscribe();
  conn_.reset();
}

int64_t NatsSourceReaderImpl::lag() const {
  return done_ ? 0 : static_cast<int64_t>(pending_);
}

std::vector<std::string> NatsSourceReaderImpl::splits() const {
  std::vector<std::string> filters;
  for (const NatsSplit& split : splits_) filters.push_back(split.filter);
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
