// CacheLink against the real cache service (L1 tier only, in-process ServiceHost on port 0):
// latest signals are written conflated with their TTL, positions are read back into the
// PositionTable, and a cache that is down degrades without blocking Offer().
#include "cache_link.h"

#include <chrono>
#include <thread>

#include "cache_grpc.h"
#include "cache_service.h"
#include "gtest/gtest.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/runtime/server.h"
#include "tickmesh/testing/servers.h"
#include "tickmesh/v1/execution.pb.h"

namespace tickmesh::signal {
namespace {

template <typename F>
bool WaitFor(F&& done, int seconds = 10) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

class CacheLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cache_.Start();
    runtime::ServerOptions o;
    o.service = "cache";
    o.grpc_address = "127.0.0.1:0";
    o.admin_address = "127.0.0.1:0";
    o.drain_timeout = absl::Milliseconds(200);
    host_ = std::make_unique<runtime::ServiceHost>(o);
    host_->AddService(&grpc_, "tickmesh.v1.CacheService");
    ASSERT_TRUE(host_->Start().ok());
    address_ = "127.0.0.1:" + std::to_string(host_->grpc_port());
    stub_ = tickmesh::v1::CacheService::NewStub(runtime::MakeChannel(address_));
  }
  void TearDown() override {
    host_->Shutdown();
    cache_.Stop();
  }
  tickmesh::v1::GetResponse Get(const std::string& key) {
    grpc::ClientContext ctx;
    ctx.set_deadline(runtime::DeadlineIn(absl::Seconds(5)));
    tickmesh::v1::GetRequest req;
    req.set_key(key);
    tickmesh::v1::GetResponse resp;
    EXPECT_TRUE(stub_->Get(&ctx, req, &resp).ok());
    return resp;
  }

  cache::Cache cache_{cache::CacheOptions{}};
  cache::CacheGrpc grpc_{&cache_};
  std::unique_ptr<runtime::ServiceHost> host_;
  std::string address_;
  std::unique_ptr<tickmesh::v1::CacheService::Stub> stub_;
};

tickmesh::v1::Signal MakeSignal(const std::string& id, tickmesh::v1::Side side) {
  tickmesh::v1::Signal s;
  s.set_signal_id(id);
  s.set_venue("sim");
  s.set_symbol("BTC-USD");
  s.set_side(side);
  s.set_strategy("macd_cross");
  return s;
}

TEST_F(CacheLinkTest, WritesTheLatestSignalPerSymbolWithTtl) {
  CacheLinkOptions o;
  o.address = address_;
  o.signal_ttl_ms = 30'000;
  o.flush_interval = absl::Milliseconds(200);
  std::atomic<int> up{-1};
  CacheLink link(o, nullptr, [&](bool u) { up = u; });
  // Both offered before the first flush: the second replaces the first (conflated).
  link.Offer(MakeSignal("a-1", tickmesh::v1::SIDE_BUY));
  link.Offer(MakeSignal("a-2", tickmesh::v1::SIDE_SELL));
  link.Start();
  ASSERT_TRUE(WaitFor([&] { return link.stats().written >= 1; }));
  auto got = Get("signal:sim:BTC-USD");
  ASSERT_TRUE(got.found());
  tickmesh::v1::Signal s;
  ASSERT_TRUE(s.ParseFromString(got.value()));
  EXPECT_EQ(s.signal_id(), "a-2");
  EXPECT_GT(got.ttl_ms(), 0);
  EXPECT_LE(got.ttl_ms(), 30'000);
  EXPECT_EQ(link.stats().written, 1u);
  EXPECT_EQ(link.stats().conflated, 1u);
  EXPECT_EQ(up.load(), 1);
  link.Stop();
}

TEST_F(CacheLinkTest, ReadsPositionsIntoThePositionTable) {
  tickmesh::v1::Position pos;
  pos.set_venue("sim");
  pos.set_symbol("BTC-USD");
  pos.set_qty_e8(-3'000'000);
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(runtime::DeadlineIn(absl::Seconds(5)));
    tickmesh::v1::SetRequest req;
    req.set_key("position:sim:BTC-USD");
    pos.SerializeToString(req.mutable_value());
    tickmesh::v1::SetResponse resp;
    ASSERT_TRUE(stub_->Set(&ctx, req, &resp).ok());
  }
  PositionTable table;
  auto* btc = table.Register("sim", "BTC-USD");
  auto* eth = table.Register("sim", "ETH-USD");
  EXPECT_EQ(table.Register("sim", "BTC-USD"), btc);
  CacheLinkOptions o;
  o.address = address_;
  o.flush_interval = absl::Milliseconds(10);
  o.position_poll = absl::Milliseconds(20);
  CacheLink link(o, &table, nullptr);
  link.Start();
  ASSERT_TRUE(WaitFor([&] { return btc->known.load(); }));
  EXPECT_EQ(btc->qty_e8.load(), -3'000'000);
  EXPECT_FALSE(eth->known.load());
  EXPECT_EQ(eth->qty_e8.load(), 0);
  link.Stop();
}

TEST(CacheLinkDown, CountsErrorsReportsDownAndBoundsPending) {
  CacheLinkOptions o;
  o.address = "127.0.0.1:" + std::to_string(testing::FreePort());
  o.flush_interval = absl::Milliseconds(10);
  o.rpc_timeout = absl::Milliseconds(200);
  o.max_pending = 2;
  std::atomic<int> up{-1};
  CacheLink link(o, nullptr, [&](bool u) { up = u; });
  link.Start();
  for (int i = 0; i < 1000; ++i) {
    auto s = MakeSignal("x", tickmesh::v1::SIDE_BUY);
    s.set_symbol("S" + std::to_string(i % 5));
    link.Offer(s);
  }
  ASSERT_TRUE(WaitFor([&] { return link.stats().errors >= 1; }));
  EXPECT_EQ(up.load(), 0);
  EXPECT_GT(link.stats().dropped, 0u);  // 5 symbols, room for 2 pending
  link.Stop();
}

}  // namespace
}  // namespace tickmesh::signal
