#include "execution_grpc.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "algos_engine.h"
#include "tickmesh/runtime/clock.h"

namespace tickmesh::execution {
namespace {

grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* ctx, const grpc::Status& status) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

constexpr int kMaxStreamSymbols = 1000;

tickmesh::v1::OrderRef ClientRef(const std::string& client_order_id) {
  tickmesh::v1::OrderRef ref;
  ref.set_client_order_id(client_order_id);
  return ref;
}

// A TWAP / ICEBERG / LIQUIDITY_AWARE parent: validated, then held by the engine's AlgoRunner (no
// venue call, so no rate-limit slot: each child takes its own). A client id already used by an
// immediate order gets that order back, as the engine's idempotency would answer.
grpc::Status SubmitAlgoParent(ExecutionEngine* engine, AlgoRunner* algos,
                              const tickmesh::v1::OrderRequest& order,
                              tickmesh::v1::SubmitOrderResponse* resp) {
  if (auto s = ValidateAlgoParent(order); !s.ok()) return ToGrpc(s);
  if (algos == nullptr) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        absl::StrCat("order.algo: ", tickmesh::v1::ExecAlgo_Name(order.algo()),
                                     " needs the algo runner, which is not running"));
  }
  if (!algos->Get(ClientRef(order.client_order_id())).has_value()) {
    auto existing = engine->GetOrder(ClientRef(order.client_order_id()));
    if (existing.ok()) {
      if (existing->status() == tickmesh::v1::ORDER_STATUS_REJECTED) {
        return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, existing->reject_reason());
      }
      *resp->mutable_order() = std::move(*existing);
      resp->set_duplicate(true);
      return grpc::Status::OK;
    }
    // A new parent: kill switch and max_position with its whole quantity.
    if (auto s = engine->CheckAlgoParent(order); !s.ok()) return ToGrpc(s);
  }
  auto result = algos->Submit(order);
  if (!result.ok()) return ToGrpc(result.status());
  *resp = std::move(*result);
  return grpc::Status::OK;
}

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
  if (!req->order().parent_order_id().empty()) {
    return Done(ctx, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                  "order.parent_order_id: set by execution on algorithm children "
                                  "only"));
  }
  if (AlgoRunner::IsAlgo(req->order())) {
    return Done(ctx, SubmitAlgoParent(engine_, algos_.load(), req->order(), resp));
  }
  // An immediate order reusing a parent's client id gets the parent back (idempotency).
  if (AlgoRunner* algos = algos_.load()) {
    if (auto parent = algos->Get(ClientRef(req->order().client_order_id()))) {
      *resp->mutable_order() = std::move(*parent);
      resp->set_duplicate(true);
      return Done(ctx, grpc::Status::OK);
    }
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
  // A parent of an execution algorithm: the runner stops it and cancels its open child.
  if (AlgoRunner* algos = algos_.load()) {
    if (auto parent = algos->Get(req->ref())) {
      auto cancel = [algos, req, resp]() -> grpc::Status {
        auto result = algos->Cancel(req->ref());
        if (!result.ok()) return ToGrpc(result.status());
        *resp->mutable_order() = std::move(*result);
        return grpc::Status::OK;
      };
      if (admission_ == nullptr) return Done(ctx, cancel());
      auto* reactor = ctx->DefaultReactor();
      admission_->Submit(
          parent->venue(), RequestClass::kCancel, [reactor, cancel] { reactor->Finish(cancel()); },
          [reactor](absl::Status s) { reactor->Finish(ToGrpc(s)); });
      return reactor;
    }
  }
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
  if (AlgoRunner* algos = algos_.load()) {
    if (auto parent = algos->Get(req->ref())) {
      *resp->mutable_order() = std::move(*parent);
      return Done(ctx, grpc::Status::OK);
    }
  }
  auto result = engine_->GetOrder(req->ref());
  if (!result.ok()) return Done(ctx, ToGrpc(result.status()));
  *resp->mutable_order() = std::move(*result);
  return Done(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* ExecutionGrpc::ListOrders(grpc::CallbackServerContext* ctx,
                                                    const tickmesh::v1::ListOrdersRequest* req,
                                                    tickmesh::v1::ListOrdersResponse* resp) {
  // Algo parents are listed with the engine's orders (merged newest first, paged together).
  auto result = ListOrdersWithParents(*engine_, algos_.load(), *req);
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
