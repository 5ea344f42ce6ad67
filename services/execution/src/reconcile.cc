#include "reconcile.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/runtime/log.h"
#include "tickmesh/v1/persistence.grpc.pb.h"

namespace tickmesh::execution {
namespace {

namespace v1 = tickmesh::v1;

bool Retryable(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAVAILABLE ||
         s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

absl::Status ToAbsl(const grpc::Status& s, const char* what) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat("persistence ", what, ": ", s.error_message()));
}

// Calls `call(ctx)` until it succeeds, fails for good, or `deadline` passes.
template <typename Call>
absl::Status WithRetry(absl::Time deadline, const char* what, Call call) {
  tickmesh::runtime::Backoff backoff(absl::Milliseconds(50), absl::Seconds(1));
  while (true) {
    grpc::ClientContext ctx;
    const absl::Time attempt_deadline = std::min(deadline, absl::Now() + absl::Seconds(10));
    ctx.set_deadline(absl::ToChronoTime(attempt_deadline));
    const grpc::Status s = call(&ctx);
    if (s.ok()) return absl::OkStatus();
    if (!Retryable(s)) return ToAbsl(s, what);
    const absl::Duration wait = backoff.Next();
    if (absl::Now() + wait >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("persistence ", what, " not answered in time: ", s.error_message()));
    }
    tickmesh::runtime::WarnOnce("execution-reconcile-retry", "persistence not ready, retrying",
                                {{"query", what}, {"error", s.error_message()}});
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(wait));
  }
}

}  // namespace

absl::StatusOr<PersistedState> LoadPersistedState(const ReconcileOptions& options) {
  const absl::Time deadline = absl::Now() + options.timeout;
  // One channel that retries its connection every <= 250 ms (the default backoff would leave a
  // channel whose first connects were refused — persistence still starting — idle for seconds).
  tickmesh::runtime::ChannelOptions channel_options;
  channel_options.max_reconnect_backoff = absl::Milliseconds(250);
  channel_options.max_receive_message_bytes = 64 << 20;
  auto stub = v1::PersistenceService::NewStub(
      tickmesh::runtime::MakeChannel(options.persistence_address, channel_options));
  PersistedState state;

  v1::QueryOrdersRequest oreq;
  oreq.add_statuses(v1::ORDER_STATUS_NEW);
  oreq.add_statuses(v1::ORDER_STATUS_ACKED);
  oreq.add_statuses(v1::ORDER_STATUS_PARTIALLY_FILLED);
  oreq.mutable_page()->set_limit(options.page_limit);
  while (true) {
    v1::QueryOrdersResponse resp;
    absl::Status s = WithRetry(deadline, "QueryOrders", [&](grpc::ClientContext* ctx) {
      resp.Clear();
      return stub->QueryOrders(ctx, oreq, &resp);
    });
    if (!s.ok()) return s;
    for (auto& o : *resp.mutable_orders()) {
      if (state.open_orders.size() >= options.max_open_orders) {
        return absl::FailedPreconditionError(
            absl::StrCat("persistence holds more than --max_open_orders=", options.max_open_orders,
                         " open orders; raise the flag to restart with all of them"));
      }
      state.open_orders.push_back(std::move(o));
    }
    if (resp.next_page_token().empty() || resp.orders_size() == 0) break;
    if (resp.next_page_token() == oreq.page().page_token()) {
      return absl::InternalError("persistence QueryOrders returned the same page token twice");
    }
    oreq.mutable_page()->set_page_token(resp.next_page_token());
  }

  v1::QueryPositionsResponse presp;
  if (auto s = WithRetry(deadline, "QueryPositions",
                         [&](grpc::ClientContext* ctx) {
                           presp.Clear();
                           return stub->QueryPositions(ctx, v1::QueryPositionsRequest(), &presp);
                         });
      !s.ok()) {
    return s;
  }
  state.positions.assign(presp.positions().begin(), presp.positions().end());

  v1::QueryBalancesResponse bresp;
  if (auto s = WithRetry(deadline, "QueryBalances",
                         [&](grpc::ClientContext* ctx) {
                           bresp.Clear();
                           return stub->QueryBalances(ctx, v1::QueryBalancesRequest(), &bresp);
                         });
      !s.ok()) {
    return s;
  }
  state.balances.assign(bresp.balances().begin(), bresp.balances().end());
  return state;
}

}  // namespace tickmesh::execution
