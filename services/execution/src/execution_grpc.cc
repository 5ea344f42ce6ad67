#include "execution_grpc.h"

#include <string>

#include "tickmesh/runtime/clock.h"

namespace tickmesh::execution {
namespace {

grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* ctx, const grpc::Status& status) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

constexpr int kMaxStreamSymbols = 1000;

// A writer that ends at once with `status` (for a malformed subscription).
class RejectedWriter : public grpc::ServerWriteReactor<tickmesh::v1::OrderEventBatch> {
 public:
  explicit RejectedWriter(grpc::Status status) { Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

grpc::ServerUnaryReactor* ExecutionGrpc::Submit(grpc::CallbackServerContext* ctx,
                                                const tickmesh::v1::SubmitOrderRequest* req,
                                                tickmesh::v1::SubmitOrderResponse* resp) {
  if (!req->has_order()) {
    return Done(ctx, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "order is required"));
  }
  if (admission_ == nullptr) {
    auto result = engine_->Submit(req->order());
    if (!result.ok()) return Done(ctx, ToGrpc(result.status()));
    *resp = std::move(*result);
    return Done(ctx, grpc::Status::OK);
  }
  // Malformed requests are answered before they take a rate-limit slot.
  if (auto s = ExecutionEngine::ValidateRequest(req->order()); !s.ok()) {
    return Done(ctx, ToGrpc(s));
  }
  auto* reactor = ctx->DefaultReactor();
  const int64_t arrival = tickmesh::runtime::MonotonicNs();
  admission_->Submit(
      req->order().venue(), RequestClass::kOrder,
      [this, reactor, req, resp, arrival] {
        auto result = engine_->Submit(req->order(), arrival);
        if (!result.ok()) {
          reactor->Finish(ToGrpc(result.status()));
          return;
        }
        *resp = std::move(*result);
        reactor->Finish(grpc::Status::OK);
      },
      [reactor](absl::Status s) { reactor->Finish(ToGrpc(s)); });
  return reactor;
}

grpc::ServerUnaryReactor* ExecutionGrpc::Cancel(grpc::CallbackServerContext* ctx,
                                                const tickmesh::v1::CancelOrderRequest* req,
                                                tickmesh::v1::CancelOrderResponse* resp) {
  if (admission_ == nullptr) {
    auto result = engine_->Cancel(req->ref());
    if (!result.ok()) return Done(ctx, ToGrpc(result.status()));
    *resp->mutable_order() = std::move(*result);
    return Done(ctx, grpc::Status::OK);
  }
  // The venue of the order decides the rate limit; unknown refs are answered at once.
  auto order = engine_->GetOrder(req->ref());
  if (!order.ok()) return Done(ctx, ToGrpc(order.status()));
  auto* reactor = ctx->DefaultReactor();
  admission_->Submit(
      order->venue(), RequestClass::kCancel,
      [this, reactor, req, resp] {
        auto result = engine_->Cancel(req->ref());
        if (!result.ok()) {
          reactor->Finish(ToGrpc(result.status()));
          return;
        }
        *resp->mutable_order() = std::move(*result);
        reactor->Finish(grpc::Status::OK);
      },
      [reactor](absl::Status s) { reactor->Finish(ToGrpc(s)); });
  return reactor;
}

grpc::ServerUnaryReactor* ExecutionGrpc::GetOrder(grpc::CallbackServerContext* ctx,
                                                  const tickmesh::v1::GetOrderRequest* req,
                                                  tickmesh::v1::GetOrderResponse* resp) {
  auto result = engine_->GetOrder(req->ref());
  if (!result.ok()) return Done(ctx, ToGrpc(result.status()));
  *resp->mutable_order() = std::move(*result);
  return Done(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* ExecutionGrpc::ListOrders(grpc::CallbackServerContext* ctx,
                                                    const tickmesh::v1::ListOrdersRequest* req,
                                                    tickmesh::v1::ListOrdersResponse* resp) {
  auto result = engine_->ListOrders(*req);
  if (!result.ok()) return Done(ctx, ToGrpc(result.status()));
  *resp = std::move(*result);
  return Done(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* ExecutionGrpc::GetPositions(grpc::CallbackServerContext* ctx,
                                                      const tickmesh::v1::GetPositionsRequest* req,
                                                      tickmesh::v1::GetPositionsResponse* resp) {
  *resp = engine_->GetPositions(*req);
  return Done(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* ExecutionGrpc::GetBalances(grpc::CallbackServerContext* ctx,
                                                     const tickmesh::v1::GetBalancesRequest* req,
                                                     tickmesh::v1::GetBalancesResponse* resp) {
  *resp = engine_->GetBalances(*req);
  return Done(ctx, grpc::Status::OK);
}

grpc::ServerWriteReactor<tickmesh::v1::OrderEventBatch>* ExecutionGrpc::StreamOrderEvents(
    grpc::CallbackServerContext* ctx, const tickmesh::v1::StreamOrderEventsRequest* req) {
  if (req->symbols_size() > kMaxStreamSymbols) {
    return new RejectedWriter(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                           "symbols: at most 1000 symbols per subscription"));
  }
  for (const auto& s : req->symbols()) {
    if (s.empty()) {
      return new RejectedWriter(
          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "symbols: empty symbol"));
    }
  }
  EventFilter filter;
  filter.symbols.insert(req->symbols().begin(), req->symbols().end());
  filter.subscriber = req->subscriber().empty() ? ctx->peer() : req->subscriber();
  return engine_->Subscribe(std::move(filter));
}

grpc::ServerUnaryReactor* ExecutionGrpc::SetKillSwitch(
    grpc::CallbackServerContext* ctx, const tickmesh::v1::SetKillSwitchRequest* req,
    tickmesh::v1::KillSwitchState* resp) {
  auto result = engine_->SetKillSwitch(*req);
  if (!result.ok()) return Done(ctx, ToGrpc(result.status()));
  *resp = std::move(*result);
  return Done(ctx, grpc::Status::OK);
}

}  // namespace tickmesh::execution
