// ServiceHost with a real gRPC server and admin HTTP on port 0: health transitions, interceptor
// metrics, admin endpoints, stream drain on shutdown.
#include "tickmesh/runtime/server.h"

#include <httplib.h>

#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/runtime/metrics.h"
#include "tickmesh/runtime/stream.h"
#include "tickmesh/v1/market_data.grpc.pb.h"

namespace tickmesh::runtime {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using tickmesh::v1::MarketEventBatch;

// A minimal market-data-shaped service: GetBook validates its input; Subscribe streams from a
// FanOut.
class TestService final : public tickmesh::v1::MarketDataService::CallbackService {
 public:
  grpc::ServerUnaryReactor* GetBook(grpc::CallbackServerContext* ctx,
                                    const tickmesh::v1::GetBookRequest* req,
                                    tickmesh::v1::GetBookResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    if (req->symbol().empty()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "symbol is required"));
    } else {
      resp->set_symbol(req->symbol());
      reactor->Finish(grpc::Status::OK);
    }
    return reactor;
  }
  grpc::ServerWriteReactor<MarketEventBatch>* Subscribe(
      grpc::CallbackServerContext* ctx, const tickmesh::v1::SubscribeRequest* req) override {
    return fanout.Add(0, 16);
  }
  FanOut<MarketEventBatch, int> fanout;
};

class ServiceHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.service = "runtime-test";
    options.grpc_address = "127.0.0.1:0";
    options.admin_address = "127.0.0.1:0";
    options.drain_timeout = absl::Seconds(2);
    host_ = std::make_unique<ServiceHost>(options);
    host_->AddService(&service_, "tickmesh.v1.MarketDataService");
    host_->OnDrain([this] { service_.fanout.CloseAll(grpc::Status::OK); });
    ASSERT_TRUE(host_->Start().ok());
    channel_ = MakeChannel("127.0.0.1:" + std::to_string(host_->grpc_port()));
    health_ = grpc::health::v1::Health::NewStub(channel_);
    http_ = std::make_unique<httplib::Client>("127.0.0.1", host_->admin_port());
  }

  HealthCheckResponse::ServingStatus Health(const std::string& service) {
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(absl::Seconds(2)));
    HealthCheckRequest req;
    req.set_service(service);
    HealthCheckResponse resp;
    grpc::Status st = health_->Check(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.status();
  }

  TestService service_;
  std::unique_ptr<ServiceHost> host_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
  std::unique_ptr<httplib::Client> http_;
};

TEST_F(ServiceHostTest, ServesHealthForServerAndEachService) {
  EXPECT_EQ(Health(""), HealthCheckResponse::SERVING);
  EXPECT_EQ(Health("tickmesh.v1.MarketDataService"), HealthCheckResponse::SERVING);
}

TEST_F(ServiceHostTest, RequiredDependencyDownMeansNotServingAndNotReady) {
  host_->AddDependency("database", /*required=*/true);
  EXPECT_EQ(Health("tickmesh.v1.MarketDataService"), HealthCheckResponse::NOT_SERVING);
  auto res = http_->Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_NE(res->body.find("database"), std::string::npos);

  host_->SetDependencyUp("database", true);
  EXPECT_EQ(Health("tickmesh.v1.MarketDataService"), HealthCheckResponse::SERVING);
  res = http_->Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(ServiceHostTest, OptionalDependencyDownIsDegradedButServing) {
  host_->AddDependency("redis", /*required=*/false);
  EXPECT_EQ(Health(""), HealthCheckResponse::SERVING);
  auto res = http_->Get("/status");
  ASSERT_TRUE(res);
  auto j = nlohmann::json::parse(res->body);
  EXPECT_TRUE(j["degraded"].get<bool>());
  EXPECT_FALSE(j["dependencies"]["redis"]["up"].get<bool>());
  EXPECT_EQ(j["service"], "runtime-test");
}

TEST_F(ServiceHostTest, InterceptorCountsRequestsAndErrorsByCode) {
  auto stub = tickmesh::v1::MarketDataService::NewStub(channel_);
  for (const char* symbol : {"BTC-USD", ""}) {
    grpc::ClientContext ctx;
    tickmesh::v1::GetBookRequest req;
    req.set_symbol(symbol);
    tickmesh::v1::GetBookResponse resp;
    grpc::Status st = stub->GetBook(&ctx, req, &resp);
    EXPECT_EQ(st.ok(), *symbol != '\0');
    if (!st.ok()) {
      EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    }
  }
  auto res = http_->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  const std::string& text = res->body;
  EXPECT_NE(text.find("tickmesh_runtime_test_grpc_requests_total{method=\"/tickmesh.v1."
                      "MarketDataService/GetBook\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("tickmesh_runtime_test_grpc_errors_total{code=\"INVALID_ARGUMENT\",method="
                      "\"/tickmesh.v1.MarketDataService/GetBook\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("tickmesh_runtime_test_grpc_request_duration_seconds_bucket"),
            std::string::npos);
  EXPECT_NE(text.find("process_resident_memory_bytes"), std::string::npos);
  auto healthz = http_->Get("/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 200);
}

TEST_F(ServiceHostTest, ShutdownDrainsOpenStreamsWithinTheDeadline) {
  auto stub = tickmesh::v1::MarketDataService::NewStub(channel_);
  grpc::ClientContext ctx;
  tickmesh::v1::SubscribeRequest req;
  auto reader = stub->Subscribe(&ctx, req);
  // Wait until the subscriber is registered, then publish one batch.
  for (int i = 0; i < 200 && service_.fanout.size() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(service_.fanout.size(), 1u);
  service_.fanout.Publish([](const int&, MarketEventBatch* b) {
    b->add_events()->set_symbol("BTC-USD");
    return true;
  });
  MarketEventBatch batch;
  ASSERT_TRUE(reader->Read(&batch));
  EXPECT_EQ(batch.events(0).symbol(), "BTC-USD");

  auto start = std::chrono::steady_clock::now();
  std::thread stopper([&] { host_->Shutdown(); });
  EXPECT_FALSE(reader->Read(&batch));  // the drain hook ends the stream
  EXPECT_TRUE(reader->Finish().ok());
  stopper.join();
  EXPECT_FALSE(host_->serving());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(ServiceHost, StartFailsNamingAnAddressInUse) {
  ServerOptions a;
  a.service = "runtime-test";
  a.grpc_address = "127.0.0.1:0";
  a.admin_address = "127.0.0.1:0";
  ServiceHost first(a);
  ASSERT_TRUE(first.Start().ok());
  ServerOptions b = a;
  b.admin_address = "127.0.0.1:" + std::to_string(first.admin_port());
  ServiceHost second(b);
  absl::Status s = second.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("--admin_address"), std::string::npos) << s;

  ServerOptions c = a;
  c.grpc_address = "127.0.0.1:" + std::to_string(first.grpc_port());
  ServiceHost third(c);
  s = third.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("--grpc_address"), std::string::npos) << s;
}

TEST(ServiceHost, StartRejectsMalformedAddress) {
  ServerOptions a;
  a.service = "runtime-test";
  a.grpc_address = "not-an-address";
  ServiceHost host(a);
  absl::Status s = host.Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--grpc_address"), std::string::npos);
}

}  // namespace
}  // namespace tickmesh::runtime
