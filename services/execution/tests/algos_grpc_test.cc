// Execution algorithms over real gRPC: ExecutionGrpc in a ServiceHost on 127.0.0.1:0 routes
// TWAP / ICEBERG parents to the AlgoRunner attached to its engine; the runner's timer thread
// sends the children through the engine (paper venue on a fixed book).
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "algos_engine.h"
#include "execution_grpc.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/runtime/server.h"

namespace tickmesh::execution {
namespace {

using testing::E8;
using testing::Req;
namespace v1 = tickmesh::v1;

class AlgosGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tickmesh::runtime::ServerOptions opts;
    opts.service = "execution";
    opts.grpc_address = "127.0.0.1:0";
    opts.admin_address = "127.0.0.1:0";
    host_ = std::make_unique<tickmesh::runtime::ServiceHost>(opts);
    engine_ = std::make_unique<ExecutionEngine>(EngineOptions{}, nullptr, nullptr);
    v1::MarketEventBatch batch;
    *batch.add_events() =
        testing::Snapshot("sim", "BTC-USD", 1, {{99 * E8, 10 * E8}}, {{101 * E8, 10 * E8}});
    engine_->OnMarketBatch(batch);
    AlgoRunner::Options ro;
    ro.twap_slice_interval_ns = 50'000'000;
    runner_ = std::make_unique<AlgoRunner>(ro, EngineAlgoHooks(engine_.get(), nullptr, nullptr));
    engine_->SetEventObserver([this](const v1::OrderEventBatch& b) { runner_->OnOrderEvents(b); });
    grpc_ = std::make_unique<ExecutionGrpc>(engine_.get(), nullptr);
    host_->AddService(grpc_.get(), "tickmesh.v1.ExecutionService");
    ASSERT_TRUE(host_->Start().ok());
    stub_ = v1::ExecutionService::NewStub(
        tickmesh::runtime::MakeChannel("127.0.0.1:" + std::to_string(host_->grpc_port())));
  }
  void TearDown() override {
    host_->Shutdown();
    grpc_->SetAlgoRunner(nullptr);
    runner_->Stop();
    engine_->SetEventObserver(nullptr);
    grpc_.reset();
    runner_.reset();
    engine_.reset();
  }
  void StartRunner() {
    grpc_->SetAlgoRunner(runner_.get());
    runner_->Start();
  }

  grpc::Status Submit(const v1::OrderRequest& order, v1::SubmitOrderResponse* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(5)));
    v1::SubmitOrderRequest req;
    *req.mutable_order() = order;
    return stub_->Submit(&ctx, req, resp);
  }
  grpc::Status Get(const std::string& client_id, v1::Order* out) {
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(5)));
    v1::GetOrderRequest req;
    req.mutable_ref()->set_client_order_id(client_id);
    v1::GetOrderResponse resp;
    grpc::Status s = stub_->GetOrder(&ctx, req, &resp);
    *out = resp.order();
    return s;
  }
  // Polls GetOrder until `client_id` reaches `status` (bounded: 5 s).
  v1::Order WaitFor(const std::string& client_id, v1::OrderStatus status) {
    v1::Order o;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Get(client_id, &o).ok() && o.status() == status) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return o;
  }

  std::unique_ptr<tickmesh::runtime::ServiceHost> host_;
  std::unique_ptr<ExecutionEngine> engine_;
  std::unique_ptr<AlgoRunner> runner_;
  std::unique_ptr<ExecutionGrpc> grpc_;
  std::unique_ptr<v1::ExecutionService::Stub> stub_;
};

TEST_F(AlgosGrpcTest, AlgoRequestsAreValidatedAndRefusedWithoutARunner) {
  auto r = Req("t", v1::SIDE_BUY, 3 * E8);
  r.set_algo(v1::EXEC_ALGO_TWAP);
  v1::SubmitOrderResponse resp;
  grpc::Status s = Submit(r, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("order.algo_duration_ms"), std::string::npos);
  r.set_algo_duration_ms(300);
  EXPECT_EQ(Submit(r, &resp).error_code(), grpc::StatusCode::UNIMPLEMENTED);
  auto ice = Req("i", v1::SIDE_BUY, 3 * E8, 100 * E8);
  ice.set_algo(v1::EXEC_ALGO_ICEBERG);
  s = Submit(ice, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("order.display_qty_e8"), std::string::npos);
}

TEST_F(AlgosGrpcTest, TwapParentRunsToFilledAndIsVisibleThroughGetOrder) {
  StartRunner();
  auto r = Req("t", v1::SIDE_BUY, 3 * E8);
  r.set_algo(v1::EXEC_ALGO_TWAP);
  r.set_algo_duration_ms(150);
  v1::SubmitOrderResponse resp;
  ASSERT_TRUE(Submit(r, &resp).ok());
  EXPECT_EQ(resp.order().status(), v1::ORDER_STATUS_ACKED);
  EXPECT_EQ(resp.order().order_id(), "a-1");
  v1::Order parent = WaitFor("t", v1::ORDER_STATUS_FILLED);
  EXPECT_EQ(parent.status(), v1::ORDER_STATUS_FILLED);
  EXPECT_EQ(parent.filled_qty_e8(), 3 * E8);
  EXPECT_EQ(parent.avg_fill_price_e8(), 101 * E8);
  v1::Order child;
  ASSERT_TRUE(Get("t/3", &child).ok());
  EXPECT_EQ(child.status(), v1::ORDER_STATUS_FILLED);
  EXPECT_EQ(child.qty_e8(), E8);
  // Resubmission, as a parent or as an immediate order, returns the parent.
  ASSERT_TRUE(Submit(r, &resp).ok());
  EXPECT_TRUE(resp.duplicate());
  EXPECT_EQ(resp.order().order_id(), "a-1");
  ASSERT_TRUE(Submit(Req("t", v1::SIDE_BUY, E8), &resp).ok());
  EXPECT_TRUE(resp.duplicate());
  EXPECT_EQ(resp.order().order_id(), "a-1");
}

TEST_F(AlgosGrpcTest, CancelOfAnIcebergParentCancelsItsRestingChild) {
  StartRunner();
  auto r = Req("ice", v1::SIDE_BUY, 5 * E8, 98 * E8);
  r.set_algo(v1::EXEC_ALGO_ICEBERG);
  r.set_display_qty_e8(E8);
  v1::SubmitOrderResponse resp;
  ASSERT_TRUE(Submit(r, &resp).ok());
  v1::Order child = WaitFor("ice/1", v1::ORDER_STATUS_ACKED);
  ASSERT_EQ(child.status(), v1::ORDER_STATUS_ACKED);
  EXPECT_EQ(child.qty_e8(), E8);
  grpc::ClientContext ctx;
  ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(5)));
  v1::CancelOrderRequest cancel;
  cancel.mutable_ref()->set_order_id(resp.order().order_id());
  v1::CancelOrderResponse cancelled;
  ASSERT_TRUE(stub_->Cancel(&ctx, cancel, &cancelled).ok());
  EXPECT_EQ(cancelled.order().client_order_id(), "ice");
  // CANCELLED at once unless the child's submission was still being answered.
  EXPECT_EQ(WaitFor("ice", v1::ORDER_STATUS_CANCELLED).status(), v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(WaitFor("ice/1", v1::ORDER_STATUS_CANCELLED).status(), v1::ORDER_STATUS_CANCELLED);
  v1::Order none;
  EXPECT_EQ(Get("ice/2", &none).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(AlgosGrpcTest, ParentsAreListedStreamedAndLinkedToTheirChildren) {
  StartRunner();
  grpc::ClientContext sctx;
  sctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(10)));
  auto reader = stub_->StreamOrderEvents(&sctx, v1::StreamOrderEventsRequest());
  // An immediate order, submitted until its event arrives: the subscription is then in place.
  v1::SubmitOrderResponse resp;
  v1::OrderEventBatch batch;
  ASSERT_TRUE(Submit(Req("warm", v1::SIDE_BUY, E8), &resp).ok());
  ASSERT_TRUE(reader->Read(&batch));

  auto r = Req("tw", v1::SIDE_BUY, 3 * E8);
  r.set_algo(v1::EXEC_ALGO_TWAP);
  r.set_algo_duration_ms(150);
  ASSERT_TRUE(Submit(r, &resp).ok());
  const std::string parent_id = resp.order().order_id();

  // The stream carries the parent's events (ACKED ... FILLED) and its children's, which name it;
  // seq increases by one across both.
  std::vector<v1::OrderEvent> parent_events;
  std::map<std::string, int64_t> child_filled;
  uint64_t last_seq = batch.events(batch.events_size() - 1).seq();
  bool parent_done = false;
  while (!parent_done && reader->Read(&batch)) {
    for (const auto& ev : batch.events()) {
      EXPECT_EQ(ev.seq(), last_seq + 1) << ev.event_id();
      last_seq = ev.seq();
      if (ev.order().order_id() == parent_id) {
        parent_events.push_back(ev);
        parent_done = ev.order().status() == v1::ORDER_STATUS_FILLED;
      } else {
        EXPECT_EQ(ev.order().parent_order_id(), parent_id) << ev.order().client_order_id();
        child_filled[ev.order().order_id()] = ev.order().filled_qty_e8();
      }
    }
  }
  sctx.TryCancel();
  ASSERT_TRUE(parent_done);
  EXPECT_EQ(parent_events.front().type(), v1::ORDER_EVENT_TYPE_ACKED);
  EXPECT_EQ(parent_events.front().order().algo(), v1::EXEC_ALGO_TWAP);
  EXPECT_EQ(parent_events.front().order().algo_duration_ms(), 150u);
  int64_t children_total = 0;
  for (const auto& [id, filled] : child_filled) children_total += filled;
  EXPECT_EQ(children_total, 3 * E8);
  EXPECT_EQ(parent_events.back().order().filled_qty_e8(), 3 * E8);

  // GetOrder by either id.
  v1::Order parent;
  ASSERT_TRUE(Get("tw", &parent).ok());
  EXPECT_EQ(parent.order_id(), parent_id);
  EXPECT_EQ(parent.status(), v1::ORDER_STATUS_FILLED);
  EXPECT_EQ(parent.avg_fill_price_e8(), 101 * E8);
  {
    grpc::ClientContext ctx;
    v1::GetOrderRequest req;
    req.mutable_ref()->set_order_id(parent_id);
    v1::GetOrderResponse got;
    ASSERT_TRUE(stub_->GetOrder(&ctx, req, &got).ok());
    EXPECT_EQ(got.order().client_order_id(), "tw");
  }

  // ListOrders: the parent among the engine's orders, newest first; pages of 2 give the same.
  auto list = [&](uint32_t limit, const std::string& token, v1::ListOrdersResponse* out) {
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(5)));
    v1::ListOrdersRequest req;
    req.mutable_page()->set_limit(limit);
    req.mutable_page()->set_page_token(token);
    return stub_->ListOrders(&ctx, req, out);
  };
  v1::ListOrdersResponse all;
  ASSERT_TRUE(list(0, "", &all).ok());
  ASSERT_EQ(all.orders_size(), static_cast<int>(child_filled.size()) + 2);  // + warm + parent
  EXPECT_TRUE(all.next_page_token().empty());
  int parents = 0;
  for (int i = 0; i < all.orders_size(); ++i) {
    if (all.orders(i).order_id() == parent_id) ++parents;
    if (i > 0) {
      EXPECT_GE(all.orders(i - 1).created_unix_ns(), all.orders(i).created_unix_ns());
    }
  }
  EXPECT_EQ(parents, 1);
  EXPECT_EQ(all.orders(all.orders_size() - 1).client_order_id(), "warm");
  std::vector<std::string> paged;
  std::string token;
  for (int pages = 0; pages < 10; ++pages) {
    v1::ListOrdersResponse page;
    ASSERT_TRUE(list(2, token, &page).ok());
    EXPECT_LE(page.orders_size(), 2);
    for (const auto& o : page.orders()) paged.push_back(o.order_id());
    token = page.next_page_token();
    if (token.empty()) break;
  }
  EXPECT_TRUE(token.empty());
  ASSERT_EQ(paged.size(), static_cast<size_t>(all.orders_size()));
  for (int i = 0; i < all.orders_size(); ++i) EXPECT_EQ(paged[i], all.orders(i).order_id());
  v1::ListOrdersResponse bad;
  EXPECT_EQ(list(2, "m:zz:1", &bad).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // parent_order_id is execution's to set.
  auto forged = Req("forged", v1::SIDE_BUY, E8);
  forged.set_parent_order_id(parent_id);
  grpc::Status s = Submit(forged, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("order.parent_order_id"), std::string::npos);
}

}  // namespace
}  // namespace tickmesh::execution
