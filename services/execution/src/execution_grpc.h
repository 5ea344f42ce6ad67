// gRPC wiring of ExecutionService (callback API) over an ExecutionEngine. Every handler does
// in-memory work only (the engine never does network I/O under its lock) and finishes its reactor
// inline — except Submit and Cancel that a venue rate limit makes wait: those wait in the
// AdmissionQueue (never on the callback thread) and are finished from its dispatcher thread.
// StreamOrderEvents returns a bounded QueuedWriter from the engine's fan-out.
#pragma once

#include <atomic>

#include "algos_runner.h"
#include "execution_engine.h"
#include "tickmesh/v1/execution.grpc.pb.h"

namespace tickmesh::execution {

// Maps an absl::Status to a grpc::Status with the same code and message.
grpc::Status ToGrpc(const absl::Status& status);

class ExecutionGrpc final : public tickmesh::v1::ExecutionService::CallbackService {
 public:
  // `engine` (and `admission`, if not null: venue rate limits for Submit and Cancel) must
  // outlive the gRPC server.
  explicit ExecutionGrpc(ExecutionEngine* engine, AdmissionQueue* admission = nullptr)
      : engine_(engine), admission_(admission) {}

  // The runner of TWAP / ICEBERG / LIQUIDITY_AWARE parents (null: such requests are answered
  // UNIMPLEMENTED — before it starts and from the drain on). Thread-safe; set null before the
  // runner is destroyed.
  void SetAlgoRunner(AlgoRunner* runner) { algos_.store(runner); }

  grpc::ServerUnaryReactor* Submit(grpc::CallbackServerContext* ctx,
                                   const tickmesh::v1::SubmitOrderRequest* req,
                                   tickmesh::v1::SubmitOrderResponse* resp) override;
  grpc::ServerUnaryReactor* Cancel(grpc::CallbackServerContext* ctx,
                                   const tickmesh::v1::CancelOrderRequest* req,
                                   tickmesh::v1::CancelOrderResponse* resp) override;
  grpc::ServerUnaryReactor* GetOrder(grpc::CallbackServerContext* ctx,
                                     const tickmesh::v1::GetOrderRequest* req,
                                     tickmesh::v1::GetOrderResponse* resp) override;
  grpc::ServerUnaryReactor* ListOrders(grpc::CallbackServerContext* ctx,
                                       const tickmesh::v1::ListOrdersRequest* req,
                                       tickmesh::v1::ListOrdersResponse* resp) override;
  grpc::ServerUnaryReactor* GetPositions(grpc::CallbackServerContext* ctx,
                                         const tickmesh::v1::GetPositionsRequest* req,
                                         tickmesh::v1::GetPositionsResponse* resp) override;
  grpc::ServerUnaryReactor* GetBalances(grpc::CallbackServerContext* ctx,
                                        const tickmesh::v1::GetBalancesRequest* req,
                                        tickmesh::v1::GetBalancesResponse* resp) override;
  grpc::ServerWriteReactor<tickmesh::v1::OrderEventBatch>* StreamOrderEvents(
      grpc::CallbackServerContext* ctx, const tickmesh::v1::StreamOrderEventsRequest* req) override;
  grpc::ServerUnaryReactor* SetKillSwitch(grpc::CallbackServerContext* ctx,
                                          const tickmesh::v1::SetKillSwitchRequest* req,
                                          tickmesh::v1::KillSwitchState* resp) override;

 private:
  ExecutionEngine* engine_;
  AdmissionQueue* admission_;
  std::atomic<AlgoRunner*> algos_{nullptr};
};

}  // namespace tickmesh::execution
