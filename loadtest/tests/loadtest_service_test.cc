// LoadTestService over real gRPC on loopback: request validation, a run streamed to the end, and
// GetReport. The mesh is absent here (its addresses are closed ports), so the run itself must come
// back as a failed report rather than hang or crash.
#include "loadtest_service.h"

#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tickmesh/runtime/server.h"
#include "tickmesh/testing/servers.h"

namespace tickmesh::loadtest {
namespace {

class LoadTestServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Targets t;
    const std::string closed = "127.0.0.1:" + std::to_string(testing::FreePort());
    t.market_data = t.signal = t.execution = t.cache = t.persistence = closed;
    t.admin.clear();
    service_ = std::make_unique<LoadTestServiceImpl>(t, RunOptions{});
    runtime::ServerOptions so;
    so.service = "loadtest";
    so.grpc_address = "127.0.0.1:0";
    so.admin_address = "127.0.0.1:0";
    host_ = std::make_unique<runtime::ServiceHost>(so);
    host_->AddService(service_.get(), "tickmesh.v1.LoadTestService");
    ASSERT_TRUE(host_->Start().ok());
    stub_ = v1::LoadTestService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(host_->grpc_port()), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    service_->Stop();
    host_->Shutdown();
  }

  // Reads the Run stream to its end; returns the final status and the messages.
  grpc::Status RunToEnd(const v1::RunRequest& req, std::vector<v1::RunProgress>* out) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto reader = stub_->Run(&ctx, req);
    v1::RunProgress p;
    while (reader->Read(&p)) out->push_back(p);
    return reader->Finish();
  }

  std::unique_ptr<LoadTestServiceImpl> service_;
  std::unique_ptr<runtime::ServiceHost> host_;
  std::unique_ptr<v1::LoadTestService::Stub> stub_;
};

TEST_F(LoadTestServiceTest, UnknownScenarioIsInvalidArgumentListingTheBuiltIns) {
  v1::RunRequest req;
  req.set_scenario("nope");
  std::vector<v1::RunProgress> msgs;
  grpc::Status st = RunToEnd(req, &msgs);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("ws-flood"), std::string::npos) << st.error_message();
}

TEST_F(LoadTestServiceTest, BadScenarioYamlIsInvalidArgumentNamingTheField) {
  v1::RunRequest req;
  req.set_mode("custom");
  req.set_config_yaml("duration_s: 1\nrate_per_s: 10\noperations: {tick: 1}\nslos: [bad]\n");
  std::vector<v1::RunProgress> msgs;
  grpc::Status st = RunToEnd(req, &msgs);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("config_yaml: slos[0]"), std::string::npos)
      << st.error_message();
}

TEST_F(LoadTestServiceTest, RunAgainstAnAbsentMeshEndsWithAFailedReportKeptForGetReport) {
  v1::RunRequest req;
  req.set_mode("custom");
  req.set_config_yaml(
      "name: tiny\nduration_s: 1\nrate_per_s: 50\noperations: {tick: 1}\ndrain_s: 0\n"
      "slos: [\"tick_to_order.p99<=1000\"]\n");
  std::vector<v1::RunProgress> msgs;
  grpc::Status st = RunToEnd(req, &msgs);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_FALSE(msgs.empty());
  const v1::RunProgress& last = msgs.back();
  EXPECT_EQ(last.phase(), "done");
  EXPECT_FALSE(last.report().passed());
  EXPECT_EQ(last.report().scenario(), "tiny");
  auto report = nlohmann::json::parse(last.report().report_json());
  EXPECT_EQ(report["config"]["operations"]["tick"], 1);
  EXPECT_GT(report["operations"]["publish"]["errors"].get<int>(), 0);

  grpc::ClientContext ctx;
  v1::GetReportRequest get;
  get.set_run_id(last.run_id());
  v1::Report stored;
  ASSERT_TRUE(stub_->GetReport(&ctx, get, &stored).ok());
  EXPECT_EQ(stored.run_id(), last.run_id());

  grpc::ClientContext ctx2;
  get.set_run_id("run-999");
  EXPECT_EQ(stub_->GetReport(&ctx2, get, &stored).error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace tickmesh::loadtest
