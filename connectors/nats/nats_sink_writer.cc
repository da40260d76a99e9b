// SPDX-License-Identifier: Apache-2.0
#include "connectors/nats/nats_sink_writer.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace weir::internal {

namespace {

using std::chrono::milliseconds;

int64_t SteadyNowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Failures that a broker away (or just back) explains; the message is
// published again.
bool Retryable(natsStatus s) {
  return s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS ||
         s == NATS_CONNECTION_DISCONNECTED || s == NATS_INSUFFICIENT_BUFFER ||
         s == NATS_STALE_CONNECTION;
}

// NATS subject matching: tokens split by '.', "*" matches one token, ">"
// the rest (one or more).
bool SubjectMatches(std::string_view pattern, std::string_view subject) {
  for (;;) {
    const size_t pd = pattern.find('.');
    const size_t sd = subject.find('.');
    const std::string_view pt = pattern.substr(0, pd);
    const std::string_view st = subject.substr(0, sd);
    if (pt == ">") return !subject.empty();
    if (pt != "*" && pt != st) return false;
    if (pd == std::string_view::npos || sd == std::string_view::npos) {
      return pd == std::string_view::npos && sd == std::string_view::npos;
    }
    pattern.remove_prefix(pd + 1);
    subject.remove_prefix(sd + 1);
  }
}

}  // namespace

NatsSinkWriterImpl::~NatsSinkWriterImpl() { Close(); }

void NatsSinkWriterImpl::OnAck(jsCtx* js, natsMsg* msg, jsPubAck* pa,
                               jsPubAckErr* pae, void* closure) {
  (void)js;
  auto* self = static_cast<NatsSinkWriterImpl*>(closure);
  {
    std::lock_guard<std::mutex> lock(self->mu_);
    --self->in_flight_;
    if (pa != nullptr) {
      ++self->acked_;
    } else if (pae != nullptr && pae->ErrCode == 0 && Retryable(pae->Err)) {
      self->failed_.push_back(msg);
      msg = nullptr;
    } else if (pae != nullptr && self->fatal_.empty()) {
      self->fatal_ = NatsErrorText(
          "publishing to subject '" + self->options_.subject + "' failed",
          pae->Err, pae->ErrCode);
      if (pae->ErrText != nullptr) {
        self->fatal_ += std::string(": ") + pae->ErrText;
      }
    }
  }
  self->cv_.notify_all();
  natsMsg_Destroy(msg);
}

Status NatsSinkWriterImpl::Open(OperatorContext& ctx,
                                const NatsSinkOptions& options) {
  options_ = options;
  who_ = "NATS sink '" + std::string(ctx.name()) + "'";
  if (options.subject.empty()) {
    return Status::InvalidArgument(who_ + ": no subject given");
  }
  if (options.max_pending < 1 || options.min_duplicate_window_ms < 0) {
    return Status::InvalidArgument(
        who_ + ": max_pending must be >= 1 and min_duplicate_window_ms >= 0");
  }
  prefix_ = options.msg_id_prefix.empty() ? ctx.operator_id().ToHex()
                                          : options.msg_id_prefix;
  subtask_ = static_cast<uint32_t>(ctx.subtask());
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = options.max_pending;
  jo.PublishAsync.AckHandler = &NatsSinkWriterImpl::OnAck;
  jo.PublishAsync.AckHandlerClosure = this;
  Result<std::unique_ptr<NatsConnection>> conn =
      NatsConnection::Connect(options.connection, who_, &jo);
  if (!conn.ok()) return conn.status();
  conn_ = std::move(*conn);
  Status s = CheckStream();
  if (!s.ok()) return s;
  if (!exactly_once()) return Status::OK();
  // The restored snapshot's checkpoint completed: what it held goes out
  // now (again, maybe; the stream drops the repeats by message id).
  Result<std::vector<NatsStagedBatch>> restored = LoadNatsStaged(ctx);
  if (!restored.ok()) return restored.status().WithContext(who_);
  std::vector<NatsStagedBatch> mine;
  const auto p = static_cast<uint32_t>(ctx.parallelism());
  for (NatsStagedBatch& b : *restored) {
    last_checkpoint_id_ = std::max(last_checkpoint_id_, b.checkpoint_id);
    if (b.subtask % p == subtask_) mine.push_back(std::move(b));
  }
  s = PublishStaged(mine);
  if (!s.ok()) return s;
  return AwaitAcks();
}

Status NatsSinkWriterImpl::CheckStream() {
  jsStreamInfoList* list = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_Streams(&list, conn_->js(), nullptr, &jerr);
  if (s != NATS_OK && s != NATS_NOT_FOUND) {
    return Status::IOError(
        NatsErrorText(who_ + ": cannot list the streams", s, jerr));
  }
  std::string stream;
  int64_t window_ns = 0;
  for (int i = 0; list != nullptr && i < list->Count && stream.empty(); ++i) {
    const jsStreamConfig* config = list->List[i]->Config;
    for (int j = 0; j < config->SubjectsLen; ++j) {
      if (SubjectMatches(config->Subjects[j], options_.subject)) {
        stream = config->Name;
        window_ns = config->Duplicates;
        break;
      }
    }
  }
  if (list != nullptr) jsStreamInfoList_Destroy(list);
  if (stream.empty()) {
    return Status::NotFound(who_ + ": no stream captures subject '" +
                            options_.subject + "' on " +
                            ServerList(options_.connection));
  }
  const int64_t window_ms = window_ns / 1000000;
  if (exactly_once() && window_ms < options_.min_duplicate_window_ms) {
    return Status::FailedPrecondition(
        who_ + ": stream '" + stream + "' keeps message ids for " +
        std::to_string(window_ms) + " ms (its duplicate window), less than " +
        "the " + std::to_string(options_.min_duplicate_window_ms) +
        " ms exactly-once delivery needs (min_duplicate_window_ms): raise "
        "the stream's duplicate window above the longest restart");
  }
  return Status::OK();
}

Status NatsSinkWriterImpl::PublishMsg(natsMsg* msg) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++in_flight_;
  }
  if (flush_start_us_ < 0) flush_start_us_ = SteadyNowUs();
  const int64_t give_up_us =
      SteadyNowUs() + (options_.connection.max_outage_ms +
                       options_.connection.request_timeout_ms) *
                          1000;
  for (;;) {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = options_.connection.request_timeout_ms;
    const natsStatus s = js_PublishMsgAsync(conn_->js(), &msg, &po);
    if (s == NATS_OK) return Status::OK();
    Status st;
    if (!Retryable(s)) {
      st = Status::IOError(NatsErrorText(
          who_ + ": cannot publish to subject '" + options_.subject + "'", s));
    } else if (SteadyNowUs() > give_up_us) {
      st = Status::IOError(who_ + ": NATS accepted no publish for " +
                           std::to_string(give_up_us / 1000) + " ms");
    } else {
      st = conn_->CheckOutage();
    }
    if (!st.ok()) {
      natsMsg_Destroy(msg);
      std::lock_guard<std::mutex> lock(mu_);
      --in_flight_;
      return st;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
}

Status NatsSinkWriterImpl::Publish(std::string_view data,
                                   const std::string& msg_id) {
  natsMsg* msg = nullptr;
  natsStatus s = natsMsg_Create(&msg, options_.subject.c_str(), nullptr,
                                data.data(), static_cast<int>(data.size()));
  if (s == NATS_OK && !msg_id.empty()) {
    s = natsMsgHeader_Set(msg, "Nats-Msg-Id", msg_id.c_str());
  }
  if (s != NATS_OK) {
    natsMsg_Destroy(msg);
    return Status::IOError(NatsErrorText(who_ + ": cannot make a message", s));
  }
  return PublishMsg(msg);
}

Status NatsSinkWriterImpl::PublishStaged(
    const std::vector<NatsStagedBatch>& batches) {
  for (const NatsStagedBatch& b : batches) {
    for (size_t i = 0; i < b.records.size(); ++i) {
      Status s = Publish(b.records[i],
                         NatsMsgId(prefix_, b.subtask, b.checkpoint_id, i));
      if (!s.ok()) return s;
    }
  }
  return Status::OK();
}

Status NatsSinkWriterImpl::AwaitAcks() {
  const int64_t limit_us = (options_.connection.max_outage_ms +
                            options_.connection.request_timeout_ms) *
                           1000;
  int64_t last_progress_us = SteadyNowUs();
  int64_t last_retry_us = 0;
  int64_t seen_acked = -1;
  for (;;) {
    std::vector<natsMsg*> retry;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, milliseconds(20), [&] {
        return (in_flight_ == 0 && failed_.empty()) || !fatal_.empty();
      });
      if (!fatal_.empty()) return Status::IOError(who_ + ": " + fatal_);
      const int64_t now = SteadyNowUs();
      if (acked_ != seen_acked) {
        seen_acked = acked_;
        last_progress_us = now;
      }
      if (in_flight_ == 0 && failed_.empty()) break;
      // Publish the failed ones again once the broker is back, at most
      // every 100 ms (JetStream may need a moment after a restart).
      if (!failed_.empty() && conn_->connected() &&
          now - last_retry_us >= 100000) {
        retry.swap(failed_);
        last_retry_us = now;
      }
    }
    for (size_t i = 0; i < retry.size(); ++i) {
      Status s = PublishMsg(retry[i]);
      if (!s.ok()) {
        for (size_t j = i + 1; j < retry.size(); ++j) {
          natsMsg_Destroy(retry[j]);
        }
        return s;
      }
    }
    Status s = conn_->CheckOutage();
    if (!s.ok()) return s;
    if (SteadyNowUs() - last_progress_us > limit_us) {
      return Status::IOError(who_ + ": no publish acknowledgement from NATS (" +
                             ServerList(options_.connection) + ") for " +
                             std::to_string(limit_us / 1000) + " ms");
    }
  }
  if (flush_start_us_ >= 0) {
    last_flush_latency_us_ = SteadyNowUs() - flush_start_us_;
    flush_start_us_ = -1;
  }
  return Status::OK();
}

Status NatsSinkWriterImpl::Write(std::string_view data) {
  if (exactly_once()) {
    current_.emplace_back(data);
    return Status::OK();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!fatal_.empty()) return Status::IOError(who_ + ": " + fatal_);
  }
  return Publish(data, "");
}

Status NatsSinkWriterImpl::SnapshotState(OperatorContext& ctx,
                                         int64_t checkpoint_id) {
  last_checkpoint_id_ = std::max(last_checkpoint_id_, checkpoint_id);
  if (!exactly_once()) return AwaitAcks();
  if (!current_.empty()) {
    staged_.push_back({subtask_, checkpoint_id, std::move(current_)});
    current_.clear();
  }
  return StoreNatsStaged(ctx, staged_);
}

Status NatsSinkWriterImpl::NotifyCheckpointComplete(int64_t checkpoint_id) {
  if (!exactly_once()) return Status::OK();
  auto first_later = std::find_if(
      staged_.begin(), staged_.end(),
      [&](const auto& b) { return b.checkpoint_id > checkpoint_id; });
  if (first_later == staged_.begin()) return Status::OK();
  std::vector<NatsStagedBatch> ready(std::make_move_iterator(staged_.begin()),
                                     std::make_move_iterator(first_later));
  staged_.erase(staged_.begin(), first_later);
  Status s = PublishStaged(ready);
  if (!s.ok()) return s;
  return AwaitAcks();
}

Status NatsSinkWriterImpl::Finish() {
  if (exactly_once()) {
    // The end of the input: what came after the last barrier goes out
    // under the next checkpoint id, with everything still staged.
    if (!current_.empty()) {
      staged_.push_back(
          {subtask_, last_checkpoint_id_ + 1, std::move(current_)});
      current_.clear();
    }
    Status s = PublishStaged(staged_);
    if (!s.ok()) return s;
    staged_.clear();
  }
  return AwaitAcks();
}

void NatsSinkWriterImpl::Close() {
  // Closing the connection first ends the acknowledgement callbacks.
  conn_.reset();
  std::lock_guard<std::mutex> lock(mu_);
  for (natsMsg* msg : failed_) natsMsg_Destroy(msg);
  failed_.clear();
}

int64_t NatsSinkWriterImpl::records_acked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return acked_;
}

int64_t NatsSinkWriterImpl::last_flush_latency_us() const {
  return last_flush_latency_us_;
}

// ---------------------------------------------------------------- facade

NatsSinkWriter::NatsSinkWriter()
    : impl_(std::make_unique<NatsSinkWriterImpl>()) {}
NatsSinkWriter::~NatsSinkWriter() = default;

Status NatsSinkWriter::Open(OperatorContext& ctx,
                            const NatsSinkOptions& options) {
  return impl_->Open(ctx, options);
}
Status NatsSinkWriter::Write(std::string_view data) {
  return impl_->Write(data);
}
Status NatsSinkWriter::SnapshotState(OperatorContext& ctx,
                                     int64_t checkpoint_id) {
  return impl_->SnapshotState(ctx, checkpoint_id);
}
Status NatsSinkWriter::NotifyCheckpointComplete(int64_t checkpoint_id) {
  return impl_->NotifyCheckpointComplete(checkpoint_id);
}
Status NatsSinkWriter::Finish() { return impl_->Finish(); }
void NatsSinkWriter::Close() { impl_->Close(); }
int64_t NatsSinkWriter::records_acked() const { return impl_->records_acked(); }
int64_t NatsSinkWriter::last_flush_latency_us() const {
  return impl_->last_flush_latency_us();
}

}  // namespace weir::internal
