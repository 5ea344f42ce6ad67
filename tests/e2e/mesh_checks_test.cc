// Run by mesh_e2e.sh against the live mesh: every service answers malformed requests with
// INVALID_ARGUMENT and a reason, changes nothing, and keeps serving; and what the load test drove
// through the mesh is visible through the services' own query APIs.
// Addresses come from TICKMESH_E2E_<SERVICE>_ADDRESS (e.g. TICKMESH_E2E_MARKET_DATA_ADDRESS).
#include <cstdlib>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/v1/cache.grpc.pb.h"
#include "tickmesh/v1/execution.grpc.pb.h"
#include "tickmesh/v1/loadtest.grpc.pb.h"
#include "tickmesh/v1/market_data.grpc.pb.h"
#include "tickmesh/v1/persistence.grpc.pb.h"

namespace tickmesh {
namespace {

using runtime::DeadlineIn;

std::string Address(const char* service) {
  std::string var = std::string("TICKMESH_E2E_") + service + "_ADDRESS";
  const char* v = std::getenv(var.c_str());
  if (v == nullptr) ADD_FAILURE() << var << " is not set (run through mesh_e2e.sh)";
  return v ? v : "127.0.0.1:1";
}

std::shared_ptr<grpc::Channel> Channel(const char* service) {
  return runtime::MakeChannel(Address(service));
}

void ExpectServing(const char* service) {
  auto stub = grpc::health::v1::Health::NewStub(Channel(service));
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineIn(absl::Seconds(2)));
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  ASSERT_TRUE(stub->Check(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING) << service;
}

void ExpectInvalid(const grpc::Status& st, const std::string& reason_part) {
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_NE(st.error_message().find(reason_part), std::string::npos)
      << "reason '" << st.error_message() << "' should mention '" << reason_part << "'";
}

TEST(MeshBadInput, MarketDataRejectsMalformedRequestsAndKeepsServing) {
  auto stub = v1::MarketDataService::NewStub(Channel("MARKET_DATA"));
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(absl::Seconds(5)));
    v1::GetBookRequest req;
    req.set_venue("loadtest");
    v1::GetBookResponse resp;
    ExpectInvalid(stub->GetBook(&ctx, req, &resp), "symbol");
  }
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(absl::Seconds(5)));
    v1::PublishAck ack;
    auto writer = stub->Publish(&ctx, &ack);
    v1::MarketEventBatch batch;
    auto* e = batch.add_events();  // no venue, no symbol, no payload
    e->set_seq(1);
    writer->Write(batch);
    writer->WritesDone();
    grpc::Status st = writer->Finish();
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  }
  ExpectServing("MARKET_DATA");
}

TEST(MeshBadInput, ExecutionRejectsMalformedOrdersAndKeepsServing) {
  auto stub = v1::ExecutionService::NewStub(Channel("EXECUTION"));
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineIn(absl::Seconds(5)));
  v1::SubmitOrderRequest req;
  auto* o = req.mutable_order();
  o->set_client_order_id("e2e-bad-side");
  o->set_venue("loadtest");
  o->set_symbol("LT-USD");
  o->set_side(v1::SIDE_UNSPECIFIED);
  o->set_type(v1::ORDER_TYPE_MARKET);
  o->set_qty_e8(100000000);
  v1::SubmitOrderResponse resp;
  ExpectInvalid(stub->Submit(&ctx, req, &resp), "side");
  ExpectServing("EXECUTION");
}

TEST(MeshBadInput, CacheRejectsBadKeysAndKeepsServing) {
  auto stub = v1::CacheService::NewStub(Channel("CACHE"));
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineIn(absl::Seconds(5)));
  v1::SetRequest req;
  req.set_key("has space");
  req.set_value("v");
  v1::SetResponse resp;
  ExpectInvalid(stub->Set(&ctx, req, &resp), "key");
  ExpectServing("CACHE");
}

TEST(MeshBadInput, PersistenceRejectsMalformedBatchAndWritesNothing) {
  auto stub = v1::PersistenceService::NewStub(Channel("PERSISTENCE"));
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineIn(absl::Seconds(10)));
  auto stream = stub->Append(&ctx);
  v1::AppendRequest req;
  req.set_batch_id(7);
  auto* good = req.add_records()->mutable_fill();
  good->set_fill_id("e2e-must-not-exist");
  good->set_order_id("o-e2e");
  good->set_venue("loadtest");
  good->set_symbol("LT-USD");
  good->set_side(v1::SIDE_BUY);
  good->set_price_e8(100000000);
  good->set_qty_e8(100000000);
  req.add_records()->mutable_fill();  // no ids at all: the whole batch must be rejected
  ASSERT_TRUE(stream->Write(req));
  v1::AppendAck ack;
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.batch_id(), 7u);
  EXPECT_EQ(ack.status_code(), int(grpc::StatusCode::INVALID_ARGUMENT)) << ack.error();
  EXPECT_FALSE(ack.error().empty());
  stream->WritesDone();
  stream->Finish();

  grpc::ClientContext qctx;
  qctx.set_deadline(DeadlineIn(absl::Seconds(5)));
  v1::QueryFillsRequest q;
  q.set_order_id("o-e2e");
  v1::QueryFillsResponse fills;
  ASSERT_TRUE(stub->QueryFills(&qctx, q, &fills).ok());
  EXPECT_EQ(fills.fills_size(), 0) << "a rejected batch must write nothing";
  ExpectServing("PERSISTENCE");
}

TEST(MeshBadInput, LoadTestRejectsUnknownScenario) {
  auto stub = v1::LoadTestService::NewStub(Channel("LOADTEST"));
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineIn(absl::Seconds(5)));
  v1::RunRequest req;
  req.set_scenario("no-such-scenario");
  auto reader = stub->Run(&ctx, req);
  v1::RunProgress p;
  while (reader->Read(&p)) {
  }
  ExpectInvalid(reader->Finish(), "scenario");
  ExpectServing("LOADTEST");
}

TEST(MeshAfterLoad, BookFillsAndBalancesAreQueryable) {
  {
    auto stub = v1::MarketDataService::NewStub(Channel("MARKET_DATA"));
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(absl::Seconds(5)));
    v1::GetBookRequest req;
    req.set_venue("loadtest");
    req.set_symbol("LT-USD");
    v1::GetBookResponse resp;
    ASSERT_TRUE(stub->GetBook(&ctx, req, &resp).ok());
    EXPECT_GT(resp.book().bids_size(), 0);
    EXPECT_GT(resp.book().asks_size(), 0);
    EXPECT_GT(resp.seq(), 0u);
  }
  {
    auto stub = v1::PersistenceService::NewStub(Channel("PERSISTENCE"));
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(absl::Seconds(5)));
    v1::QueryFillsRequest req;
    req.set_symbol("LT-USD");
    req.mutable_page()->set_limit(10);
    v1::QueryFillsResponse resp;
    ASSERT_TRUE(stub->QueryFills(&ctx, req, &resp).ok());
    EXPECT_GT(resp.fills_size(), 0);
  }
  {
    auto stub = v1::CacheService::NewStub(Channel("CACHE"));
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(absl::Seconds(5)));
    v1::GetRequest req;
    req.set_key("balance:loadtest:USD");
    v1::GetResponse resp;
    ASSERT_TRUE(stub->Get(&ctx, req, &resp).ok());
    ASSERT_TRUE(resp.found());
    v1::Balance balance;
    ASSERT_TRUE(balance.ParseFromString(resp.value()));
    EXPECT_EQ(balance.asset(), "USD");
  }
}

}  // namespace
}  // namespace tickmesh
