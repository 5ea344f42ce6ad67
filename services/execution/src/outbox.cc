#include "outbox.h"

#include <thread>
#include <utility>

#include "grpcpp/grpcpp.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/runtime/log.h"
#include "tickmesh/runtime/metrics.h"

namespace tickmesh::execution {

using tickmesh::v1::AppendAck;
using tickmesh::v1::AppendRequest;
using tickmesh::v1::Record;

OutboxQueue::OutboxQueue(Options options) : options_(options) {}

bool OutboxQueue::HasRoom() const {
  std::lock_guard<std::mutex> lock(mu_);
  return unsent_.size() + inflight_records_ < options_.max_records;
}

void OutboxQueue::Append(std::vector<Record> records) {
  if (records.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (unsent_.empty()) oldest_unsent_ = absl::Now();
    for (auto& r : records) unsent_.push_back(std::move(r));
  }
  cv_.notify_all();
}

std::optional<AppendRequest> OutboxQueue::NextBatch(absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (shutdown_) return std::nullopt;
    const absl::Time now = absl::Now();
    absl::Time wake = deadline;
    if (!unsent_.empty() && inflight_.size() < options_.max_inflight_batches) {
      const absl::Time due = std::max(retry_not_before_, unsent_.size() >= options_.max_batch
                                                             ? absl::InfinitePast()
                                                             : oldest_unsent_ + options_.linger);
      if (now >= due) break;
      wake = std::min(wake, due);
    }
    if (now >= deadline) return std::nullopt;
    cv_.wait_for(lock, absl::ToChronoNanoseconds(std::max(wake - now, absl::ZeroDuration())));
  }
  AppendRequest req;
  const uint64_t id = next_batch_id_++;
  req.set_batch_id(id);
  std::vector<Record>& kept = inflight_[id];
  const size_t n = std::min(options_.max_batch, unsent_.size());
  kept.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    *req.add_records() = unsent_.front();
    kept.push_back(std::move(unsent_.front()));
    unsent_.pop_front();
  }
  inflight_records_ += n;
  // What is left is due right away if it was already waiting long enough; otherwise its linger
  // continues from the same start.
  return req;
}

void OutboxQueue::RequeueFrontLocked(std::vector<Record> records) {
  for (auto it = records.rbegin(); it != records.rend(); ++it) unsent_.push_front(std::move(*it));
  oldest_unsent_ = absl::InfinitePast();
}

bool OutboxQueue::OnAck(const AppendAck& ack) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = inflight_.find(ack.batch_id());
    if (it == inflight_.end()) return false;
    std::vector<Record> records = std::move(it->second);
    inflight_.erase(it);
    inflight_records_ -= records.size();
    if (ack.status_code() == 0) {
      acked_ += records.size();
    } else if (ack.status_code() == static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT)) {
      invalid_dropped_ += records.size();
      tickmesh::runtime::LogError("persistence rejected an outbox batch as invalid; dropped",
                                  {{"batch_id", ack.batch_id()},
                                   {"records", static_cast<uint64_t>(records.size())},
                                   {"error", ack.error()}});
    } else {
      ++failed_acks_;
      resent_ += records.size();
      RequeueFrontLocked(std::move(records));
      retry_not_before_ = absl::Now() + options_.retry_pause;
    }
  }
  cv_.notify_all();
  empty_cv_.notify_all();
  return true;
}

void OutboxQueue::OnStreamBroken() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Re-queue newest batch first at the front so the oldest ends up first.
    for (auto it = inflight_.rbegin(); it != inflight_.rend(); ++it) {
      resent_ += it->second.size();
      RequeueFrontLocked(std::move(it->second));
    }
    inflight_.clear();
    inflight_records_ = 0;
  }
  cv_.notify_all();
}

void OutboxQueue::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
  }
  cv_.notify_all();
  empty_cv_.notify_all();
}

void OutboxQueue::Wake() { cv_.notify_all(); }

bool OutboxQueue::WaitUntilEmpty(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return empty_cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                            [&] { return unsent_.empty() && inflight_records_ == 0; });
}

size_t OutboxQueue::depth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return unsent_.size() + inflight_records_;
}
size_t OutboxQueue::unsent() const {
  std::lock_guard<std::mutex> lock(mu_);
  return unsent_.size();
}
size_t OutboxQueue::inflight_batches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return inflight_.size();
}
uint64_t OutboxQueue::acked_total() const {
  std::lock_guard<std::mutex> lock(mu_);
  return acked_;
}
uint64_t OutboxQueue::resent_total() const {
  std::lock_guard<std::mutex> lock(mu_);
  return resent_;
}
uint64_t OutboxQueue::failed_acks_total() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_acks_;
}
uint64_t OutboxQueue::invalid_dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return invalid_dropped_;
}

// ---------------------------------------------------------------------------------------------

class OutboxWriter::Impl {
 public:
  Impl(OutboxQueue* queue, const std::string& address, std::function<void(bool)> on_connected)
      : queue_(queue),
        channel_(tickmesh::runtime::MakeChannel(address)),
        stub_(tickmesh::v1::PersistenceService::NewStub(channel_)),
        on_connected_(std::move(on_connected)),
        depth_(tickmesh::runtime::GaugeFamily(
                   tickmesh::runtime::MetricPrefix("execution") + "outbox_depth",
                   "Records waiting for a persistence ack (unsent + in flight)")
                   .Add({})),
        acked_(tickmesh::runtime::CounterFamily(
                   tickmesh::runtime::MetricPrefix("execution") + "outbox_acked_total",
                   "Records acknowledged as durable by persistence")
                   .Add({})),
        resent_(tickmesh::runtime::CounterFamily(
                    tickmesh::runtime::MetricPrefix("execution") + "outbox_resent_total",
                    "Records queued again after a failed ack or a broken stream")
                    .Add({})),
        failed_(tickmesh::runtime::CounterFamily(
                    tickmesh::runtime::MetricPrefix("execution") + "outbox_failed_acks_total",
                    "Batches persistence answered with an error")
                    .Add({})),
        loop_("execution", "persistence",
              [this](grpc::ClientContext& ctx, const std::function<void()>& connected) {
                return RunOnce(ctx, connected);
              }) {}

  void Start() { loop_.Start(); }

  void Stop(absl::Duration flush_timeout) {
    std::call_once(stop_once_, [&] {
      if (!queue_->WaitUntilEmpty(flush_timeout)) {
        tickmesh::runtime::LogWarn("outbox not empty at shutdown; records not persisted",
                                   {{"records", static_cast<uint64_t>(queue_->depth())}});
      }
      queue_->Shutdown();
      loop_.Stop();
      ExportMetrics();
    });
  }

 private:
  void ExportMetrics() {
    std::lock_guard<std::mutex> lock(metrics_mu_);
    depth_.Set(static_cast<double>(queue_->depth()));
    const uint64_t acked = queue_->acked_total();
    const uint64_t resent = queue_->resent_total();
    const uint64_t failed = queue_->failed_acks_total();
    acked_.Increment(static_cast<double>(acked - last_acked_));
    resent_.Increment(static_cast<double>(resent - last_resent_));
    failed_.Increment(static_cast<double>(failed - last_failed_));
    last_acked_ = acked;
    last_resent_ = resent;
    last_failed_ = failed;
  }

  grpc::Status RunOnce(grpc::ClientContext& ctx, const std::function<void()>& connected) {
    if (!channel_->WaitForConnected(tickmesh::runtime::DeadlineIn(absl::Milliseconds(500)))) {
      ExportMetrics();
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "persistence not reachable");
    }
    auto stream = stub_->Append(&ctx);
    connected();
    if (on_connected_) on_connected_(true);
    tickmesh::runtime::ResetWarnOnce("execution-outbox-stream");
    std::atomic<bool> done{false};
    std::thread writer([&] {
      while (!done.load()) {
        auto batch = queue_->NextBatch(absl::Now() + absl::Milliseconds(100));
        ExportMetrics();
        if (!batch) continue;
        if (!stream->Write(*batch)) break;  // the read side sees the end too
      }
    });
    AppendAck ack;
    while (stream->Read(&ack)) {
      if (!queue_->OnAck(ack)) {
        tickmesh::runtime::WarnOnce("execution-outbox-unknown-ack",
                                    "persistence acked an unknown batch id",
                                    {{"batch_id", ack.batch_id()}});
      }
      ExportMetrics();
    }
    done.store(true);
    ctx.TryCancel();
    queue_->Wake();
    writer.join();
    queue_->OnStreamBroken();
    grpc::Status status = stream->Finish();
    if (on_connected_) on_connected_(false);
    tickmesh::runtime::WarnOnce("execution-outbox-stream", "persistence append stream ended",
                                {{"code", static_cast<int>(status.error_code())},
                                 {"error", status.error_message()},
                                 {"unacked_records", static_cast<uint64_t>(queue_->depth())}});
    ExportMetrics();
    return status;
  }

  OutboxQueue* queue_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<tickmesh::v1::PersistenceService::Stub> stub_;
  std::function<void(bool)> on_connected_;
  std::mutex metrics_mu_;
  prometheus::Gauge& depth_;
  prometheus::Counter& acked_;
  prometheus::Counter& resent_;
  prometheus::Counter& failed_;
  uint64_t last_acked_ = 0, last_resent_ = 0, last_failed_ = 0;
  std::once_flag stop_once_;
  tickmesh::runtime::StreamLoop loop_;  // last: its thread uses the members above
};

OutboxWriter::OutboxWriter(OutboxQueue* queue, const std::string& persistence_address,
                           std::function<void(bool)> on_connected)
    : impl_(std::make_unique<Impl>(queue, persistence_address, std::move(on_connected))) {}

OutboxWriter::~OutboxWriter() { Stop(absl::ZeroDuration()); }

void OutboxWriter::Start() { impl_->Start(); }

void OutboxWriter::Stop(absl::Duration flush_timeout) { impl_->Stop(flush_timeout); }

}  // namespace tickmesh::execution
