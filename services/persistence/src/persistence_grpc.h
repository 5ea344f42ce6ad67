// gRPC wiring of tickmesh.v1.PersistenceService (callback API). No I/O happens on a gRPC
// thread: Append hands validated batches to the Writer and sends each ack from the writer's
// callback; queries run on the QueryPool and finish their reactor from there.
//
// Append flow control: a stream keeps at most kMaxInFlightPerStream batches waiting for their
// acks; beyond that it stops reading until an ack frees a slot (back-pressure through HTTP/2
// flow control rather than an unbounded queue). Acks are written in completion order, which is
// submission order (one writer thread, FIFO queue).
#pragma once

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

 private:
  Writer* writer_;
  QueryPool* queries_;
};

}  // namespace tickmesh::persistence
