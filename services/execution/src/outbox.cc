#include "outbox.h"

#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <utility>

#include "grpcpp/grpcpp.h"
#include "grpcpp/support/client_callback.h"
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
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (unsent_.empty()) oldest_unsent_ = absl::Now();
    for (auto& r : records) unsent_.push_back(std::move(r));
    wake = WriterNeedsWakeLocked();
  }
  if (wake) cv_.notify_all();
}

absl::Time OutboxQueue::DueLocked() const {
  absl::Time due;
  if (unsent_.size() >= options_.max_batch || oldest_unsent_ == absl::InfinitePast()) {
    due = absl::InfinitePast();  // a full batch, or records put back: due now
  } else if (oldest_unsent_ >= last_cut_ && oldest_unsent_ < last_cut_ + options_.linger) {
    // Records keep arriving: cut on the cadence of the previous cut (sooner than their linger).
    due = last_cut_ + options_.linger;
  } else {
    due = oldest_unsent_ + options_.linger;
  }
  return std::max(retry_not_before_, due);
}

bool OutboxQueue::WriterNeedsWakeLocked() const {
  return writer_wake_at_ != absl::InfinitePast() && !unsent_.empty() &&
         inflight_.size() < options_.max_inflight_batches && DueLocked() < writer_wake_at_;
}

std::optional<AppendRequest> OutboxQueue::NextBatch(absl::Time deadline) {
  // A timed wait may end a hair before the instant it was computed for (absl::Now() is not the
  // condition variable's clock): count that as on time instead of waiting again.
  constexpr absl::Duration kSlack = absl::Microseconds(50);
  std::unique_lock<std::mutex> lock(mu_);
  absl::Time now;
  while (true) {
    if (shutdown_) return std::nullopt;
    if (wake_requested_) {
      wake_requested_ = false;
      return std::nullopt;
    }
    now = absl::Now();
    absl::Time wake = deadline;
    if (!unsent_.empty()) {
      if (inflight_.size() < options_.max_inflight_batches) {
        const absl::Time due = DueLocked();
        if (now + kSlack >= due) break;
        wake = std::min(wake, due);
      }
    } else if (now < last_cut_ + options_.linger) {
      // Under load: wake at the next cadence point whatever arrives meanwhile (records arriving
      // until then are due then, so Append need not wake this thread for them).
      wake = std::min(wake, last_cut_ + options_.linger);
    }
    if (now >= deadline) return std::nullopt;
    writer_wake_at_ = wake;
    cv_.wait_for(lock, absl::ToChronoNanoseconds(std::max(wake - now, absl::ZeroDuration())));
    writer_wake_at_ = absl::InfinitePast();
  }
  last_cut_ = now;
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
  bool wake = false, empty = false;
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
    // Only wake the writer if this ack lets a batch go out sooner than it planned (it was held
    // back by max_inflight_batches, or records were put back); a plain OK ack costs no wake-up.
    wake = WriterNeedsWakeLocked();
    empty = unsent_.empty() && inflight_records_ == 0;
  }
  if (wake) cv_.notify_all();
  if (empty) empty_cv_.notify_all();
  return true;
}

void OutboxQueue::OnStreamBroken() {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Re-queue newest batch first at the front so the oldest ends up first.
    for (auto it = inflight_.rbegin(); it != inflight_.rend(); ++it) {
      resent_ += it->second.size();
      RequeueFrontLocked(std::move(it->second));
    }
    inflight_.clear();
    inflight_records_ = 0;
    wake = WriterNeedsWakeLocked();
  }
  if (wake) cv_.notify_all();
}

void OutboxQueue::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
  }
  cv_.notify_all();
  empty_cv_.notify_all();
}

bool OutboxQueue::is_shutdown() const {
  std::lock_guard<std::mutex> lock(mu_);
  return shutdown_;
}

void OutboxQueue::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake_requested_ = true;
  }
  cv_.notify_all();
}

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

namespace {

// The Append call of one stream attempt on gRPC's callback API. Acks are handled on the gRPC
// thread that completed the read (no reader thread to wake). Batches handed over by the sender
// with Write() are written in that order, one write outstanding at a time; the next one is
// started from OnWriteDone. The sender holds the call open (AddHold) until ReleaseSender(), so
// the reactor cannot finish while the sender may still call Write(). The reactor deletes itself
// in OnDone; what the sender waits on lives in `Shared`.
class AppendCall final : public grpc::ClientBidiReactor<AppendRequest, AppendAck> {
 public:
  struct Shared {
    // The attempt is over: the read side ended (persistence closed the stream, the transport
    // failed, or the call was cancelled), so no more acks can come.
    std::atomic<bool> ended{false};
    std::mutex mu;
    std::condition_variable cv;
    bool done ABSL_GUARDED_BY(mu) = false;
    grpc::Status status ABSL_GUARDED_BY(mu);

    // Blocks until the call is over (OnDone ran); returns its final status.
    grpc::Status Await() {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return done; });
      return status;
    }
  };

  AppendCall(OutboxQueue* queue, std::function<void(const AppendAck&)> on_ack,
             std::shared_ptr<Shared> shared)
      : queue_(queue), on_ack_(std::move(on_ack)), shared_(std::move(shared)) {}

  // After the stub's async()->Append(ctx, this).
  void Begin() {
    AddHold();  // released by ReleaseSender()
    StartRead(&ack_);
    StartCall();
  }

  // Sender thread: queues `batch` for writing. After the stream failed the batch is not written;
  // its records stay in flight in the queue until OnStreamBroken() puts them back.
  void Write(AppendRequest batch) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (write_failed_) return;
      if (writing_) {
        pending_.push_back(std::move(batch));  // bounded by max_inflight_batches
        return;
      }
      writing_ = true;
    }
    current_ = std::move(batch);  // owned by whoever set writing_ until OnWriteDone
    StartWrite(&current_);
  }

  // Sender thread, last call: no more Write(); the call may finish (and this object be deleted).
  void ReleaseSender() { RemoveHold(); }

  void OnWriteDone(bool ok) override {
    bool next = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!ok) {
        write_failed_ = true;
        writing_ = false;
        pending_.clear();
      } else if (pending_.empty()) {
        writing_ = false;
      } else {
        current_ = std::move(pending_.front());
        pending_.pop_front();
        next = true;
      }
    }
    // A failed write ends nothing yet: the acks persistence sent before the stream broke may
    // still be unread, and cancelling now would drop them and resend committed records. The
    // read side ends the attempt (OnReadDone(false)); later batches stay in flight until then.
    if (next) StartWrite(&current_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      MarkEnded();  // end of stream or failure; OnDone brings the status
      return;
    }
    on_ack_(ack_);
    ack_.Clear();
    StartRead(&ack_);
  }

  void OnDone(const grpc::Status& status) override {
    std::shared_ptr<Shared> shared = std::move(shared_);
    delete this;
    shared->ended.store(true);
    std::lock_guard<std::mutex> lock(shared->mu);
    shared->status = status;
    shared->done = true;
    shared->cv.notify_all();
  }

 private:
  void MarkEnded() {
    shared_->ended.store(true);
    queue_->Wake();  // the sender stops waiting for a batch and ends this attempt
  }

  OutboxQueue* const queue_;
  const std::function<void(const AppendAck&)> on_ack_;
  std::shared_ptr<Shared> shared_;
  AppendAck ack_;
  std::mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool write_failed_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<AppendRequest> pending_ ABSL_GUARDED_BY(mu_);
  AppendRequest current_;
};

}  // namespace

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

  void HandleAck(const AppendAck& ack) {
    if (!queue_->OnAck(ack)) {
      tickmesh::runtime::WarnOnce("execution-outbox-unknown-ack",
                                  "persistence acked an unknown batch id",
                                  {{"batch_id", ack.batch_id()}});
    }
    ExportMetrics();
  }

  // One stream attempt, on the StreamLoop thread: it cuts batches and hands them to the call
  // (never waiting for a write to complete); acks are handled on gRPC's callback threads.
  grpc::Status RunOnce(grpc::ClientContext& ctx, const std::function<void()>& connected) {
    // Named for per-thread views (top -H, /proc/<pid>/task/*/comm); at most 15 characters.
    pthread_setname_np(pthread_self(), "exec-outbox");
    if (!channel_->WaitForConnected(tickmesh::runtime::DeadlineIn(absl::Milliseconds(500)))) {
      ExportMetrics();
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "persistence not reachable");
    }
    auto shared = std::make_shared<AppendCall::Shared>();
    auto* call = new AppendCall(
        queue_, [this](const AppendAck& ack) { HandleAck(ack); }, shared);
    stub_->async()->Append(&ctx, call);
    call->Begin();
    connected();
    if (on_connected_) on_connected_(true);
    tickmesh::runtime::ResetWarnOnce("execution-outbox-stream");
    while (!shared->ended.load() && !queue_->is_shutdown()) {
      auto batch = queue_->NextBatch(absl::Now() + absl::Milliseconds(100));
      ExportMetrics();
      if (batch) call->Write(std::move(*batch));
    }
    ctx.TryCancel();
    call->ReleaseSender();  // `call` may be gone from here on
    grpc::Status status = shared->Await();
    // No ack can arrive any more: whatever is still in flight goes back to be resent.
    queue_->OnStreamBroken();
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
