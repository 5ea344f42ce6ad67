// The real ExecutionService in a ServiceHost on 127.0.0.1:0, over real gRPC. Peers (signal,
// market-data, persistence, cache) are not started: execution must serve without them.
#include "execution_grpc.h"

#include <memory>
#include <thread>

#include "gtest/gtest.h"
#include "test_util.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/runtime/server.h"

namespace tickmesh::execution {
namespace {

using testing::E8;
using testing::Req;
namespace v1 = tickmesh::v1;

class ExecutionGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tickmesh::runtime::ServerOptions opts;
    opts.service = "execution";
    opts.grpc_address = "127.0.0.1:0";
    opts.admin_address = "127.0.0.1:0";
    host_ = std::make_unique<tickmesh::runtime::ServiceHost>(opts);
    EngineOptions eo;
    eo.risk.max_order_qty_e8 = 10 * E8;
    engine_ = std::make_unique<ExecutionEngine>(eo, nullptr, nullptr);
    // One new order per minute on venue "limited"; orders may wait 0 ms, cancels 5 s.
    limiter_ = std::make_unique<RateLimiter>(
        *ParseRateLimits("limited/orders=token:1:60000:order=1,cancel=0"), SteadyClock());
    admission_ = std::make_unique<AdmissionQueue>(
        limiter_.get(),
        AdmissionQueue::Options{.order_budget_ns = 0, .cancel_budget_ns = 5'000'000'000});
    admission_->Start();
    grpc_ = std::make_unique<ExecutionGrpc>(engine_.get(), admission_.get());
    host_->AddService(grpc_.get(), "tickmesh.v1.ExecutionService");
    host_->OnDrain([this] { engine_->CloseStreams(); });
    ASSERT_TRUE(host_->Start().ok());
    stub_ = v1::ExecutionService::NewStub(
        tickmesh::runtime::MakeChannel("127.0.0.1:" + std::to_string(host_->grpc_port())));
  }
  void TearDown() override {
    host_->Shutdown();
    admission_->Stop();
    grpc_.reset();
    engine_.reset();
  }

  grpc::Status Submit(const v1::OrderRequest& order, v1::SubmitOrderResponse* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(5)));
    v1::SubmitOrderRequest req;
    *req.mutable_order() = order;
    return stub_->Submit(&ctx, req, resp);
  }

  std::unique_ptr<tickmesh::runtime::ServiceHost> host_;
  std::unique_ptr<ExecutionEngine> engine_;
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<AdmissionQueue> admission_;
  std::unique_ptr<ExecutionGrpc> grpc_;
  std::unique_ptr<v1::ExecutionService::Stub> stub_;
};

TEST_F(ExecutionGrpcTest, SubmitWithoutBookIsRejectedNoMarket) {
  v1::SubmitOrderResponse resp;
  grpc::Status s = Submit(Req("c1", v1::SIDE_BUY, E8), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(), "venue:no_market");

  grpc::ClientContext ctx;
  ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(5)));
  v1::GetOrderRequest get;
  get.mutable_ref()->set_client_order_id("c1");
  v1::GetOrderResponse got;
  ASSERT_TRUE(stub_->GetOrder(&ctx, get, &got).ok());
  EXPECT_EQ(got.order().status(), v1::ORDER_STATUS_REJECTED);
}

TEST_F(ExecutionGrpcTest, RateLimitedSubmitIsResourceExhaustedNamingTheBucket) {
  v1::SubmitOrderResponse resp;
  // The first order takes the venue's only token (and is rejected: no book).
  EXPECT_EQ(Submit(Req("r1", v1::SIDE_BUY, E8, 0, "BTC-USD", "limited"), &resp).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  grpc::Status s = Submit(Req("r2", v1::SIDE_BUY, E8, 0, "BTC-USD", "limited"), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(s.error_message(), "rate_limit:orders");
  // Another venue has no limit; a malformed request is still INVALID_ARGUMENT, not limited.
  EXPECT_EQ(Submit(Req("r3", v1::SIDE_BUY, E8, 0, "BTC-USD", "other"), &resp).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  auto bad = Req("r4", v1::SIDE_UNSPECIFIED, E8, 0, "BTC-USD", "limited");
  EXPECT_EQ(Submit(bad, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ExecutionGrpcTest, MalformedRequestIsInvalidArgumentNamingTheField) {
  v1::SubmitOrderResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(5)));
  grpc::Status missing = stub_->Submit(&ctx, v1::SubmitOrderRequest(), &resp);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(missing.error_message().find("order"), std::string::npos);

  auto bad = Req("c1", v1::SIDE_BUY, E8, 0, "BTCUSD");
  grpc::Status s = Submit(bad, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("symbol must be BASE-QUOTE"), std::string::npos);

  grpc::ClientContext kctx;
  kctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(5)));
  v1::SetKillSwitchRequest no_reason;
  no_reason.set_engaged(true);
  v1::KillSwitchState state;
  EXPECT_EQ(stub_->SetKillSwitch(&kctx, no_reason, &state).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ExecutionGrpcTest, RiskRejectionIsFailedPreconditionWithRule) {
  v1::SubmitOrderResponse resp;
  grpc::Status s = Submit(Req("big", v1::SIDE_BUY, 11 * E8), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(), "risk:max_order_qty");
}

TEST_F(ExecutionGrpcTest, KillSwitchMakesSubmitFailedPrecondition) {
  grpc::ClientContext kctx;
  kctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(5)));
  v1::SetKillSwitchRequest engage;
  engage.set_engaged(true);
  engage.set_reason("grpc test");
  v1::KillSwitchState state;
  ASSERT_TRUE(stub_->SetKillSwitch(&kctx, engage, &state).ok());
  EXPECT_TRUE(state.engaged());
  EXPECT_EQ(state.reason(), "grpc test");

  v1::SubmitOrderResponse resp;
  grpc::Status s = Submit(Req("c1", v1::SIDE_BUY, E8), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(), "risk:kill_switch");
}

TEST_F(ExecutionGrpcTest, StreamOrderEventsDeliversFilteredEvents) {
  grpc::ClientContext ctx;
  ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(10)));
  v1::StreamOrderEventsRequest sreq;
  sreq.add_symbols("ETH-USD");
  auto reader = stub_->StreamOrderEvents(&ctx, sreq);
  // Wait until the subscription is registered before producing events.
  for (int i = 0; i < 500 && engine_->StatusJson()["event_subscribers"].get<size_t>() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(engine_->StatusJson()["event_subscribers"].get<size_t>(), 1u);
  v1::SubmitOrderResponse resp;
  (void)Submit(Req("btc", v1::SIDE_BUY, E8), &resp);                // filtered out
  (void)Submit(Req("eth", v1::SIDE_BUY, E8, 0, "ETH-USD"), &resp);  // delivered
  v1::OrderEventBatch batch;
  ASSERT_TRUE(reader->Read(&batch));
  ASSERT_GE(batch.events_size(), 1);
  for (const auto& e : batch.events()) EXPECT_EQ(e.order().symbol(), "ETH-USD");
  EXPECT_EQ(batch.events(0).type(), v1::ORDER_EVENT_TYPE_NEW);
  EXPECT_EQ(batch.events(0).order().client_order_id(), "eth");
  ctx.TryCancel();
}

TEST_F(ExecutionGrpcTest, ListAndPositionsServeEmptyStateAndRejectBadPages) {
  grpc::ClientContext ctx;
  ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(5)));
  v1::ListOrdersRequest req;
  req.mutable_page()->set_page_token("nope");
  v1::ListOrdersResponse resp;
  EXPECT_EQ(stub_->ListOrders(&ctx, req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  grpc::ClientContext pctx;
  pctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(5)));
  v1::GetPositionsResponse positions;
  ASSERT_TRUE(stub_->GetPositions(&pctx, v1::GetPositionsRequest(), &positions).ok());
  EXPECT_EQ(positions.positions_size(), 0);
}

}  // namespace
}  // namespace tickmesh::execution
