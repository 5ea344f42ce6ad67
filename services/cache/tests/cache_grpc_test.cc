// The real CacheService in a ServiceHost on 127.0.0.1:0, driven over real gRPC.
#include "cache_grpc.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "cache_service.h"
#include "grpcpp/grpcpp.h"
#include "tickmesh/runtime/server.h"
#include "tickmesh/testing/servers.h"
#include "tickmesh/v1/cache.grpc.pb.h"

namespace tickmesh::cache {
namespace {

class CacheGrpcTest : public ::testing::Test {
 protected:
  void StartService(CacheOptions options) {
    cache_ = std::make_unique<Cache>(std::move(options));
    grpc_ = std::make_unique<CacheGrpc>(cache_.get());
    runtime::ServerOptions so;
    so.service = "cache";
    so.grpc_address = "127.0.0.1:0";
    so.admin_address = "127.0.0.1:0";
    host_ = std::make_unique<runtime::ServiceHost>(so);
    AttachToHost(cache_.get(), host_.get());
    cache_->Start();
    host_->AddService(grpc_.get(), "tickmesh.v1.CacheService");
    ASSERT_TRUE(host_->Start().ok());
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(host_->grpc_port()),
                                       grpc::InsecureChannelCredentials());
    stub_ = v1::CacheService::NewStub(channel);
  }

  void TearDown() override {
    if (host_) host_->Shutdown();
  }

  std::unique_ptr<grpc::ClientContext> Ctx() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    return ctx;
  }

  std::unique_ptr<Cache> cache_;
  std::unique_ptr<CacheGrpc> grpc_;
  std::unique_ptr<runtime::ServiceHost> host_;
  std::unique_ptr<v1::CacheService::Stub> stub_;
};

TEST_F(CacheGrpcTest, SetThenGetRoundTripsL1Only) {
  StartService(CacheOptions{});
  v1::SetRequest set;
  set.set_key("ticker:binance:BTCUSDT");
  set.set_value(std::string("\x00\xffpayload", 9));
  set.set_ttl_ms(60000);
  v1::SetResponse set_resp;
  ASSERT_TRUE(stub_->Set(Ctx().get(), set, &set_resp).ok());

  v1::GetRequest get;
  get.set_key("ticker:binance:BTCUSDT");
  v1::GetResponse get_resp;
  grpc::Status st = stub_->Get(Ctx().get(), get, &get_resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(get_resp.found());
  EXPECT_EQ(get_resp.value(), std::string("\x00\xffpayload", 9));
  EXPECT_EQ(get_resp.tier(), v1::CACHE_TIER_L1);
  EXPECT_GT(get_resp.ttl_ms(), 0);

  v1::StatsResponse stats;
  ASSERT_TRUE(stub_->Stats(Ctx().get(), v1::StatsRequest(), &stats).ok());
  EXPECT_EQ(stats.breaker(), v1::BREAKER_STATE_DISABLED);
  EXPECT_EQ(stats.l1_entries(), 1u);
  EXPECT_EQ(stats.l1().hits(), 1u);
}

TEST_F(CacheGrpcTest, BadInputIsInvalidArgumentNamingTheField) {
  StartService(CacheOptions{});
  v1::GetRequest get;
  get.set_key("has space");
  v1::GetResponse get_resp;
  grpc::Status st = stub_->Get(Ctx().get(), get, &get_resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("key"), std::string::npos) << st.error_message();

  v1::SetRequest neg;
  neg.set_key("k");
  neg.set_ttl_ms(-5);
  v1::SetResponse set_resp;
  st = stub_->Set(Ctx().get(), neg, &set_resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("ttl_ms"), std::string::npos);

  // One bad entry rejects the whole MSet and writes nothing.
  v1::MSetRequest mset;
  auto* good = mset.add_entries();
  good->set_key("good");
  good->set_value("v");
  mset.add_entries()->set_key("");
  v1::MSetResponse mset_resp;
  st = stub_->MSet(Ctx().get(), mset, &mset_resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("entries[1].key"), std::string::npos) << st.error_message();
  v1::GetRequest g;
  g.set_key("good");
  v1::GetResponse gr;
  ASSERT_TRUE(stub_->Get(Ctx().get(), g, &gr).ok());
  EXPECT_FALSE(gr.found());

  v1::MGetRequest mget;
  for (int i = 0; i < 1001; ++i) mget.add_keys("k");
  v1::MGetResponse mget_resp;
  st = stub_->MGet(Ctx().get(), mget, &mget_resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("keys"), std::string::npos);
}

TEST_F(CacheGrpcTest, WritesThroughToRedisAndDeletes) {
  testing::RedisServer redis;
  ASSERT_TRUE(redis.Start().ok());
  CacheOptions o;
  o.redis = *ParseRedisUrl(redis.url());
  o.redis_pool_size = 2;
  StartService(o);

  v1::MSetRequest mset;
  for (const char* k : {"balance:paper:USDT", "position:paper:BTC-USDT"}) {
    auto* e = mset.add_entries();
    e->set_key(k);
    e->set_value("serialized");
  }
  v1::MSetResponse mset_resp;
  ASSERT_TRUE(stub_->MSet(Ctx().get(), mset, &mset_resp).ok());
  EXPECT_EQ(mset_resp.written(), 2u);
  EXPECT_EQ(redis.Cli("GET balance:paper:USDT"), "serialized");
  EXPECT_EQ(redis.Cli("EXISTS position:paper:BTC-USDT"), "1");

  v1::DeleteRequest del;
  del.set_key("balance:paper:USDT");
  v1::DeleteResponse del_resp;
  ASSERT_TRUE(stub_->Delete(Ctx().get(), del, &del_resp).ok());
  EXPECT_TRUE(del_resp.deleted());
  EXPECT_EQ(redis.Cli("EXISTS balance:paper:USDT"), "0");

  v1::StatsResponse stats;
  ASSERT_TRUE(stub_->Stats(Ctx().get(), v1::StatsRequest(), &stats).ok());
  EXPECT_EQ(stats.breaker(), v1::BREAKER_STATE_CLOSED);
}

}  // namespace
}  // namespace tickmesh::cache
