#include "persistence_grpc.h"

#include <deque>
#include <memory>
#include <mutex>

#include "metrics.h"
#include "queries.h"
#include "validate.h"

namespace tickmesh::persistence {
namespace {

grpc::Status ToGrpc(const absl::Status& st) {
  return grpc::Status(static_cast<grpc::StatusCode>(st.code()), std::string(st.message()));
}

// One Append stream. Lifetime: deletes itself in OnDone, which gRPC calls only after Finish;
// Finish is called only once no writer callback can still reach this object (in_flight_ == 0).
class AppendReactor final : public grpc::ServerBidiReactor<v1::AppendRequest, v1::AppendAck> {
 public:
  explicit AppendReactor(Writer* writer) : writer_(writer) {
    std::lock_guard<std::mutex> lock(mu_);
    reading_ = true;
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    std::unique_lock<std::mutex> lock(mu_);
    reading_ = false;
    if (!ok) {
      reads_done_ = true;
      MaybeFinishLocked();
      return;
    }
    auto batch = std::make_shared<v1::AppendRequest>();
    batch->Swap(&request_);
    absl::Status st = ValidateAppendRequest(*batch);
    if (st.ok()) {
      ++in_flight_;
      // Submit never calls back synchronously, so holding mu_ here cannot deadlock.
      st = writer_->Submit(batch, [this](const v1::AppendAck& ack) { OnAck(ack); });
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
    delete this;
  }

 private:
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
    if (reading_ || reads_done_ || finished_) return;
    if (broken_) {
      reads_done_ = true;
      return;
    }
    if (in_flight_ >= kMaxInFlightPerStream) return;
    reading_ = true;
    StartRead(&request_);
  }

  void MaybeWriteLocked() {
    if (writing_ || broken_ || acks_.empty() || finished_) return;
    writing_ = true;
    current_ = std::move(acks_.front());
    acks_.pop_front();
    StartWrite(&current_);
  }

  void MaybeFinishLocked() {
    if (finished_ || in_flight_ > 0 || writing_ || !reads_done_) return;
    if (!broken_ && !acks_.empty()) return;
    finished_ = true;
    Finish(grpc::Status::OK);
  }

  Writer* writer_;
  std::mutex mu_;
  v1::AppendRequest request_;
  v1::AppendAck current_;
  std::deque<v1::AppendAck> acks_;
  int in_flight_ = 0;
  bool reading_ = false;
  bool reads_done_ = false;
  bool writing_ = false;
  bool broken_ = false;
  bool finished_ = false;
};

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

grpc::ServerBidiReactor<v1::AppendRequest, v1::AppendAck>* PersistenceGrpc::Append(
    grpc::CallbackServerContext* context) {
  return new AppendReactor(writer_);
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

}  // namespace tickmesh::persistence
