// Helpers for tests that run tickmesh-execution (and its peers) as child processes.
#pragma once

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/v1/execution.grpc.pb.h"

namespace tickmesh::execution::testing {

// A channel with its own subchannel pool: it shares no reconnect backoff with other channels, so
// a connect refused while a process is still starting does not delay the next attempt.
inline std::shared_ptr<grpc::Channel> FreshChannel(const std::string& target) {
  tickmesh::runtime::ChannelOptions options;
  options.own_subchannel_pool = true;
  return tickmesh::runtime::MakeChannel(target, options);
}

// One readiness probe of the execution service at `addr`: a new stub on a fresh channel (left in
// *stub) whose GetBalances answers within 200 ms. Poll it with WaitFor.
inline bool ExecutionAnswers(const std::string& addr,
                             std::unique_ptr<tickmesh::v1::ExecutionService::Stub>* stub) {
  *stub = tickmesh::v1::ExecutionService::NewStub(FreshChannel(addr));
  grpc::ClientContext ctx;
  ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Milliseconds(200)));
  tickmesh::v1::GetBalancesResponse resp;
  return (*stub)->GetBalances(&ctx, tickmesh::v1::GetBalancesRequest(), &resp).ok();
}

// The order with this client order id as the execution service at `stub` answers GetOrder within
// 2 s (an empty Order when it does not).
inline tickmesh::v1::Order OrderByClientId(tickmesh::v1::ExecutionService::Stub& stub,
                                           const std::string& client_id) {
  grpc::ClientContext ctx;
  ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(2)));
  tickmesh::v1::GetOrderRequest req;
  req.mutable_ref()->set_client_order_id(client_id);
  tickmesh::v1::GetOrderResponse resp;
  (void)stub.GetOrder(&ctx, req, &resp);
  return resp.order();
}

}  // namespace tickmesh::execution::testing
