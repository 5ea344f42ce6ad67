#include "persistence_grpc.h"

#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "google/protobuf/arena.h"
#include "metrics.h"
#include "queries.h"
#include "validate.h"

namespace tickmesh::persistence {
namespace {

grpc::Status ToGrpc(const absl::Status& st) {
  return grpc::Status(static_cast<grpc::StatusCode>(st.code()), std::string(st.message()));
}

template <typename Req, typename Resp, typename Fn>
grpc::ServerUnaryReactor* RunQuery(QueryPool* pool, grpc::CallbackServerContext* context,
                                   const char* name, const Req* request, Resp* response, Fn fn) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const bool queued = pool->Submit(name, [reactor, request, response, fn](Store& store) {
    absl::StatusOr<Resp> result = fn(store, *request);
    if (!result.ok()) {
      reactor->Finish(ToGrpc(result.status()));
      return;
    }
    *response = std::move(*result);
    reactor->Finish(grpc::Status::OK);
  });
  if (!queued) {
    reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "query queue full or service stopping; retry later"));
  }
  return reactor;
}

}  // namespace

// One Append stream. Lifetime: deletes itself in OnDone, which gRPC calls only after Finish;
// Finish is called only once no writer callback can still reach this object (in_flight_ == 0).
class PersistenceGrpc::AppendReactor final
    : public grpc::ServerBidiReactor<v1::AppendRequest, v1::AppendAck> {
 public:
  // Registers with `service` unless it is draining, in which case the stream is refused.
  explicit AppendReactor(PersistenceGrpc* service) : service_(service) {
    bool refused = false;
    {
      std::lock_guard<std::mutex> streams(service_->streams_mu_);
      refused = service_->draining_;
      if (!refused) service_->streams_.insert(this);
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (refused) {
      finished_ = true;
      Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, kShuttingDown));
      return;
    }
    StartReadLocked();
  }

  // Stop reading; finish once every batch already read is acked. Called with streams_mu_ held.
  void BeginDrain() {
    std::lock_guard<std::mutex> lock(mu_);
    draining_ = true;
    MaybeFinishLocked();
  }

  void OnReadDone(bool ok) override {
    std::unique_lock<std::mutex> lock(mu_);
    reading_ = false;
    if (!ok) {
      reads_done_ = true;
      MaybeFinishLocked();
      return;
    }
    if (finished_) return;  // drained while this read was pending: never acked, never written
    // The batch shares ownership of its arena, which the writer releases after the ack.
    std::shared_ptr<const v1::AppendRequest> batch(next_, next_->request);
    next_.reset();
    absl::Status st = ValidateAppendRequest(*batch);
    if (st.ok()) {
      ++in_flight_;
      // Submit never calls back synchronously, so holding mu_ here cannot deadlock.
      st = service_->writer_->Submit(batch, [this](const v1::AppendAck& ack) { OnAck(ack); });
      if (!st.ok()) --in_flight_;
    } else {
      Metrics().batches_rejected_invalid->Increment();
    }
    if (!st.ok()) {
      v1::AppendAck ack;
      ack.set_batch_id(batch->batch_id());
      ack.set_records(static_cast<uint32_t>(batch->records_size()));
      ack.set_status_code(static_cast<int32_t>(st.code()));
      ack.set_error(std::string(st.message()));
      acks_.push_back(std::move(ack));
      MaybeWriteLocked();
    }
    MaybeReadLocked();
    MaybeFinishLocked();
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    writing_ = false;
    if (!ok) {
      broken_ = true;  // the client is gone; acks can no longer be delivered
      acks_.clear();
    }
    MaybeWriteLocked();
    MaybeFinishLocked();
  }

  void OnCancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    broken_ = true;
    acks_.clear();
    if (!reading_) reads_done_ = true;
    MaybeFinishLocked();
  }

  void OnDone() override {
    // Finish may have been called by a thread that still holds mu_; wait for it to let go.
    { std::lock_guard<std::mutex> lock(mu_); }
    service_->Unregister(this);
    delete this;
  }

 private:
  static constexpr const char* kShuttingDown =
      "persistence is shutting down; resubmit unacknowledged batches elsewhere or later";

  void OnAck(const v1::AppendAck& ack) {
    std::lock_guard<std::mutex> lock(mu_);
    --in_flight_;
    if (!broken_) {
      acks_.push_back(ack);
      MaybeWriteLocked();
    }
    MaybeReadLocked();
    MaybeFinishLocked();
  }

  void MaybeReadLocked() {
    if (reading_ || reads_done_ || finished_ || draining_) return;
    if (broken_) {
      reads_done_ = true;
      return;
    }
    if (in_flight_ >= kMaxInFlightPerStream) return;
    StartReadLocked();
  }

  // Each batch is parsed into its own arena: one allocation per block instead of one per
  // string and submessage, and one free when the writer drops the batch after its ack.
  void StartReadLocked() {
    google::protobuf::ArenaOptions options;
    options.start_block_size = 16 * 1024;
    options.max_block_size = 1024 * 1024;
    next_ = std::make_shared<ArenaBatch>(options);
    reading_ = true;
    StartRead(next_->request);
  }

  void MaybeWriteLocked() {
    if (writing_ || broken_ || acks_.empty() || finished_) return;
    writing_ = true;
    current_ = std::move(acks_.front());
    acks_.pop_front();
    StartWrite(&current_);
  }

  void MaybeFinishLocked() {
    if (finished_ || in_flight_ > 0 || writing_) return;
    if (!reads_done_ && !draining_) return;
    if (!broken_ && !acks_.empty()) return;
    finished_ = true;
    // Draining with the client still sending: tell it to go elsewhere. A read may still be
    // pending; gRPC completes it with ok=false (or with a batch, which is then dropped unacked).
    Finish(reads_done_ ? grpc::Status::OK
                       : grpc::Status(grpc::StatusCode::UNAVAILABLE, kShuttingDown));
  }

  struct ArenaBatch {
    explicit ArenaBatch(const google::protobuf::ArenaOptions& options)
        : arena(options),
          request(google::protobuf::Arena::CreateMessage<v1::AppendRequest>(&arena)) {}
    google::protobuf::Arena arena;
    v1::AppendRequest* request;
  };

  PersistenceGrpc* service_;
  std::mutex mu_;
  std::shared_ptr<ArenaBatch> next_;  // the message the pending read fills
  v1::AppendAck current_;
  std::deque<v1::AppendAck> acks_;
  int in_flight_ = 0;
  bool reading_ = false;
  bool reads_done_ = false;
  bool writing_ = false;
  bool broken_ = false;
  bool draining_ = false;
  bool finished_ = false;
};

void PersistenceGrpc::Drain() {
  std::lock_guard<std::mutex> lock(streams_mu_);
  draining_ = true;
  for (AppendReactor* stream : streams_) stream->BeginDrain();
}

void PersistenceGrpc::Unregister(AppendReactor* stream) {
  {
    std::lock_guard<std::mutex> lock(streams_mu_);
    streams_.erase(stream);
  }
  streams_cv_.notify_all();
}

bool PersistenceGrpc::AwaitDrained(absl::Duration timeout, absl::Duration linger) {
  bool drained = false;
  {
    std::unique_lock<std::mutex> lock(streams_mu_);
    drained = streams_cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                                   [&] { return streams_.empty(); });
  }
  std::this_thread::sleep_for(absl::ToChronoNanoseconds(linger));
  return drained;
}

size_t PersistenceGrpc::open_streams() const {
  std::lock_guard<std::mutex> lock(streams_mu_);
  return streams_.size();
}

grpc::ServerBidiReactor<v1::AppendRequest, v1::AppendAck>* PersistenceGrpc::Append(
    grpc::CallbackServerContext* context) {
  return new AppendReactor(this);
}

grpc::ServerUnaryReactor* PersistenceGrpc::QueryOrders(grpc::CallbackServerContext* c,
                                                       const v1::QueryOrdersRequest* req,
                                                       v1::QueryOrdersResponse* resp) {
  return RunQuery(queries_, c, "orders", req, resp, persistence::QueryOrders);
}
grpc::ServerUnaryReactor* PersistenceGrpc::QueryFills(grpc::CallbackServerContext* c,
                                                      const v1::QueryFillsRequest* req,
                                                      v1::QueryFillsResponse* resp) {
  return RunQuery(queries_, c, "fills", req, resp, persistence::QueryFills);
}
grpc::ServerUnaryReactor* PersistenceGrpc::QueryPositions(grpc::CallbackServerContext* c,
                                                          const v1::QueryPositionsRequest* req,
                                                          v1::QueryPositionsResponse* resp) {
  return RunQuery(queries_, c, "positions", req, resp, persistence::QueryPositions);
}
grpc::ServerUnaryReactor* PersistenceGrpc::QueryBalances(grpc::CallbackServerContext* c,
                                                         const v1::QueryBalancesRequest* req,
                                                         v1::QueryBalancesResponse* resp) {
  return RunQuery(queries_, c, "balances", req, resp, persistence::QueryBalances);
}
grpc::ServerUnaryReactor* PersistenceGrpc::QueryCandles(grpc::CallbackServerContext* c,
                                                        const v1::QueryCandlesRequest* req,
                                                        v1::QueryCandlesResponse* resp) {
  return RunQuery(queries_, c, "candles", req, resp, persistence::QueryCandles);
}
grpc::ServerUnaryReactor* PersistenceGrpc::QuerySignals(grpc::CallbackServerContext* c,
                                                        const v1::QuerySignalsRequest* req,
                                                        v1::QuerySignalsResponse* resp) {
  return RunQuery(queries_, c, "signals", req, resp, persistence::QuerySignals);
}
grpc::ServerUnaryReactor* PersistenceGrpc::QueryPnl(grpc::CallbackServerContext* c,
                                                    const v1::QueryPnlRequest* req,
                                                    v1::QueryPnlResponse* resp) {
  return RunQuery(queries_, c, "pnl", req, resp, persistence::QueryPnl);
}

grpc::ServerUnaryReactor* PersistenceGrpc::QueryStrategyPositions(
    grpc::CallbackServerContext* c, const v1::QueryStrategyPositionsRequest* req,
    v1::QueryStrategyPositionsResponse* resp) {
  return RunQuery(queries_, c, "strategy_positions", req, resp,
                  persistence::QueryStrategyPositions);
}

}  // namespace tickmesh::persistence
