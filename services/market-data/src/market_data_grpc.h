// MarketDataGrpc: the tickmesh.v1.MarketDataService callback-API wiring over MarketData.
//  - Subscribe: a bounded-queue server stream from MarketData's fan-out (snapshots first).
//  - Publish: client stream; each batch is validated and applied on arrival (Ingest is CPU-only
//    and lock-light, so it runs on the callback thread). The first bad batch ends the stream with
//    its status, message "batch <n> event <m>: <reason>" (n, m from 0); earlier batches stay
//    applied. A clean end returns the counts in PublishAck.
//  - GetBook / GetCandles: unary reads of MarketData.
// Subscribe sends its initial metadata at once, with kStreamMetadataKey set, so a client can tell
// an established stream (even one with no events yet) from a failed call.
// No handler blocks: every reactor finishes from the callback thread that started it.
#pragma once

#include "market_data.h"
#include "tickmesh/v1/market_data.grpc.pb.h"

namespace tickmesh::market_data {

// Initial-metadata key present on every established Subscribe stream.
inline constexpr char kStreamMetadataKey[] = "tickmesh-stream";

class MarketDataGrpc final : public tickmesh::v1::MarketDataService::CallbackService {
 public:
  // `market_data` must outlive the gRPC server.
  explicit MarketDataGrpc(MarketData* market_data) : md_(market_data) {}

  grpc::ServerWriteReactor<tickmesh::v1::MarketEventBatch>* Subscribe(
      grpc::CallbackServerContext* ctx, const tickmesh::v1::SubscribeRequest* request) override;
  grpc::ServerReadReactor<tickmesh::v1::MarketEventBatch>* Publish(
      grpc::CallbackServerContext* ctx, tickmesh::v1::PublishAck* ack) override;
  grpc::ServerUnaryReactor* GetBook(grpc::CallbackServerContext* ctx,
                                    const tickmesh::v1::GetBookRequest* request,
                                    tickmesh::v1::GetBookResponse* response) override;
  grpc::ServerUnaryReactor* GetCandles(grpc::CallbackServerContext* ctx,
                                       const tickmesh::v1::GetCandlesRequest* request,
                                       tickmesh::v1::GetCandlesResponse* response) override;

 private:
  MarketData* md_;
};

// absl::Status -> grpc::Status with the same code and message.
grpc::Status ToGrpc(const absl::Status& status);

}  // namespace tickmesh::market_data
