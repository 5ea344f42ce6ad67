// gRPC wiring of tickmesh.v1.PersistenceService (callback API). No I/O happens on a gRPC
// thread: Append hands validated batches to the Writer and sends each ack from the writer's
// callback; queries run on the QueryPool and finish their reactor from there.
//
// Append flow control: a stream keeps at most kMaxInFlightPerStream batches waiting for their
// acks; beyond that it stops reading until an ack frees a slot (back-pressure through HTTP/2
// flow control rather than an unbounded queue). Acks are written in completion order, which is
// submission order (one writer thread, FIFO queue).
//
// Drain (SIGTERM, through ServiceHost::OnDrain): every open Append stream stops reading, waits
// until each batch it already read is durable and acked, then ends with UNAVAILABLE ("shutting
// down"), or OK if the client had already half-closed. New Append streams are refused with
// UNAVAILABLE. Nothing is acked that is not durable, and a batch read but not yet acked when a
// stream is cut (client gone, drain deadline) is still made durable by the writer.
#pragma once

#include <condition_variable>
#include <mutex>
#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "query_pool.h"
#include "tickmesh/v1/persistence.grpc.pb.h"
#include "writer.h"

namespace tickmesh::persistence {

inline constexpr int kMaxInFlightPerStream = 16;

class PersistenceGrpc final : public v1::PersistenceService::CallbackService {
 public:
  // Both must outlive the gRPC server.
  PersistenceGrpc(Writer* writer, QueryPool* queries) : writer_(writer), queries_(queries) {}

  grpc::ServerBidiReactor<v1::AppendRequest, v1::AppendAck>* Append(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* QueryOrders(grpc::CallbackServerContext* context,
                                        const v1::QueryOrdersRequest* request,
                                        v1::QueryOrdersResponse* response) override;
  grpc::ServerUnaryReactor* QueryFills(grpc::CallbackServerContext* context,
                                       const v1::QueryFillsRequest* request,
                                       v1::QueryFillsResponse* response) override;
  grpc::ServerUnaryReactor* QueryPositions(grpc::CallbackServerContext* context,
                                           const v1::QueryPositionsRequest* request,
                                           v1::QueryPositionsResponse* response) override;
  grpc::ServerUnaryReactor* QueryBalances(grpc::CallbackServerContext* context,
                                          const v1::QueryBalancesRequest* request,
                                          v1::QueryBalancesResponse* response) override;
  grpc::ServerUnaryReactor* QueryCandles(grpc::CallbackServerContext* context,
                                         const v1::QueryCandlesRequest* request,
                                         v1::QueryCandlesResponse* response) override;
  grpc::ServerUnaryReactor* QuerySignals(grpc::CallbackServerContext* context,
                                         const v1::QuerySignalsRequest* request,
                                         v1::QuerySignalsResponse* response) override;
  grpc::ServerUnaryReactor* QueryPnl(grpc::CallbackServerContext* context,
                                     const v1::QueryPnlRequest* request,
                                     v1::QueryPnlResponse* response) override;
  grpc::ServerUnaryReactor* QueryStrategyPositions(
      grpc::CallbackServerContext* context, const v1::QueryStrategyPositionsRequest* request,
      v1::QueryStrategyPositionsResponse* response) override;

  // Starts the drain described above and returns at once (thread-safe, idempotent). The gRPC
  // server's Shutdown then waits for the streams to finish.
  void Drain();

  // Blocks (not on a gRPC thread) until every Append stream has finished or `timeout` passed,
  // then lingers `linger` so the transport delivers the final statuses and reads what clients
  // sent meanwhile; closing a socket with unread input resets the connection, and the client would
  // see "connection reset" instead of the drain status. True if every stream finished.
  bool AwaitDrained(absl::Duration timeout, absl::Duration linger);

  // Open Append streams (for tests and /status).
  size_t open_streams() const;

  class AppendReactor;

 private:
  friend class AppendReactor;
  void Unregister(AppendReactor* stream);

  Writer* writer_;
  QueryPool* queries_;
  mutable std::mutex streams_mu_;       // ordered before AppendReactor::mu_
  std::condition_variable streams_cv_;  // signalled when a stream unregisters
  std::set<AppendReactor*> streams_ ABSL_GUARDED_BY(streams_mu_);
  bool draining_ ABSL_GUARDED_BY(streams_mu_) = false;
};

}  // namespace tickmesh::persistence
