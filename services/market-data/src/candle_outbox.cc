#include "candle_outbox.h"

#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tickmesh/runtime/log.h"
#include "tickmesh/runtime/metrics.h"

namespace tickmesh::market_data {
namespace {

const std::string& Prefix() {
  static const std::string* p = new std::string(runtime::MetricPrefix("market-data"));
  return *p;
}

bool Retryable(int code) {
  switch (static_cast<grpc::StatusCode>(code)) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return true;
    default:
      return false;
  }
}

}  // namespace

CandleOutbox::CandleOutbox(CandleOutboxOptions options)
    : options_(std::move(options)),
      stub_(tickmesh::v1::PersistenceService::NewStub(runtime::MakeChannel(options_.address))),
      acked_counter_(runtime::CounterFamily(Prefix() + "persistence_candles_acked_total",
                                            "Closed candles acknowledged durable by persistence")
                         .Add({})),
      dropped_counter_(
          runtime::CounterFamily(Prefix() + "persistence_dropped_total",
                                 "Closed candles dropped because the persistence outbox was full")
              .Add({})),
      rejected_counter_(runtime::CounterFamily(
                            Prefix() + "persistence_rejected_total",
                            "Closed candles rejected by persistence with a non-retryable error")
                            .Add({})),
      backlog_gauge_(runtime::GaugeFamily(Prefix() + "persistence_backlog",
                                          "Closed candles pending or unacknowledged")
                         .Add({})) {}

CandleOutbox::~CandleOutbox() { Stop(); }

void CandleOutbox::Start() {
  if (loop_) return;
  loop_ = std::make_unique<runtime::StreamLoop>(
      "market-data", "persistence",
      [this](grpc::ClientContext& ctx, const std::function<void()>& connected) {
        return RunStream(ctx, connected);
      });
  loop_->Start();
}

void CandleOutbox::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (loop_) loop_->Stop();
}

bool CandleOutbox::Drain(absl::Duration timeout) {
  if (!connected()) return backlog() == 0;  // nothing would move: do not hold up shutdown
  absl::MutexLock lock(&mu_);
  auto empty = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return pending_.empty() && unacked_.empty();
  };
  return mu_.AwaitWithTimeout(absl::Condition(&empty), timeout);
}

void CandleOutbox::OnCandleClosed(const tickmesh::v1::Candle& candle) {
  absl::MutexLock lock(&mu_);
  if (pending_.size() + unacked_records_ >= options_.capacity) {
    ++dropped_;
    dropped_counter_.Increment();
    runtime::WarnOnce("md-candle-outbox-full", "candle outbox full; dropping the oldest candles",
                      {{"capacity", static_cast<uint64_t>(options_.capacity)}});
    if (pending_.empty()) return;  // everything held is in flight: drop the new one
    pending_.pop_front();
  }
  *pending_.emplace_back().mutable_candle() = candle;
  backlog_gauge_.Set(static_cast<double>(pending_.size() + unacked_records_));
}

bool CandleOutbox::connected() const { return loop_ != nullptr && loop_->connected(); }

size_t CandleOutbox::backlog() const {
  absl::MutexLock lock(&mu_);
  return pending_.size() + unacked_records_;
}

void CandleOutbox::RequeueUnackedLocked() {
  for (auto it = unacked_.rbegin(); it != unacked_.rend(); ++it) {
    resent_ += it->records.size();
    for (auto r = it->records.rbegin(); r != it->records.rend(); ++r) {
      pending_.push_front(std::move(*r));
    }
  }
  unacked_.clear();
  unacked_records_ = 0;
}

grpc::Status CandleOutbox::RunStream(grpc::ClientContext& ctx,
                                     const std::function<void()>& connected) {
  auto stream = stub_->Append(&ctx);
  {
    absl::MutexLock lock(&mu_);
    stream_broken_ = false;
    RequeueUnackedLocked();  // leftovers of a broken stream go out first
  }
  std::thread writer([&] {
    tickmesh::v1::AppendRequest request;
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stop_ || stream_broken_ ||
                 (!pending_.empty() && unacked_.size() < options_.window);
        };
        mu_.Await(absl::Condition(&ready));
        if (stop_ || stream_broken_) break;
        Batch& batch = unacked_.emplace_back();
        batch.id = next_batch_id_++;
        while (!pending_.empty() &&
               batch.records.size() < static_cast<size_t>(options_.max_batch)) {
          batch.records.push_back(std::move(pending_.front()));
          pending_.pop_front();
        }
        unacked_records_ += batch.records.size();
        request.Clear();
        request.set_batch_id(batch.id);
        for (const auto& r : batch.records) *request.add_records() = r;
      }
      if (!stream->Write(request)) {
        absl::MutexLock lock(&mu_);
        stream_broken_ = true;
        break;
      }
    }
  });
  tickmesh::v1::AppendAck ack;
  bool first = true;
  while (stream->Read(&ack)) {
    if (first) {
      first = false;
      connected();
      runtime::ResetWarnOnce("md-persistence-down");
    }
    absl::MutexLock lock(&mu_);
    auto it = unacked_.begin();
    while (it != unacked_.end() && it->id != ack.batch_id()) ++it;
    if (it == unacked_.end()) continue;  // not ours any more (requeued); ignore
    const size_t n = it->records.size();
    unacked_records_ -= n;
    if (ack.status_code() == 0) {
      acked_ += n;
      acked_counter_.Increment(static_cast<double>(n));
    } else if (Retryable(ack.status_code())) {
      for (auto r = it->records.rbegin(); r != it->records.rend(); ++r) {
        pending_.push_front(std::move(*r));
      }
      resent_ += n;
    } else {
      rejected_ += n;
      rejected_counter_.Increment(static_cast<double>(n));
      runtime::WarnOnce(
          "md-persistence-rejected", "persistence rejected a candle batch",
          {{"code", static_cast<int64_t>(ack.status_code())}, {"error", ack.error()}});
    }
    unacked_.erase(it);
    backlog_gauge_.Set(static_cast<double>(pending_.size() + unacked_records_));
  }
  {
    absl::MutexLock lock(&mu_);
    stream_broken_ = true;
  }
  // Read failed, so the call is over (or cancelled by Stop): a Write in progress fails promptly
  // and the writer wakes on stream_broken_.
  writer.join();
  grpc::Status status = stream->Finish();
  absl::MutexLock lock(&mu_);
  RequeueUnackedLocked();
  if (!stop_) {
    runtime::WarnOnce("md-persistence-down",
                      "persistence stream down; closed candles kept in the outbox and resent",
                      {{"peer", options_.address},
                       {"code", static_cast<int64_t>(status.error_code())},
                       {"error", status.error_message()}});
  }
  return status;
}

}  // namespace tickmesh::market_data
