// market-data's optional peers against the real services: tickmesh-cache (backed by a real
// redis-server fixture) and tickmesh-persistence (SQLite in a temp dir) run as child processes;
// the MarketData logic with its TickerCacheWriter and CandleOutbox runs in the test.
// (peer_writers_test.cc covers the writers' edge cases against stand-in servers.)
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "candle_outbox.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "market_data.h"
#include "ticker_cache_writer.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/testing/child_process.h"
#include "tickmesh/testing/servers.h"
#include "tickmesh/v1/cache.grpc.pb.h"
#include "tickmesh/v1/persistence.grpc.pb.h"

namespace tickmesh::market_data {
namespace {

namespace v1 = tickmesh::v1;
using Child = tickmesh::testing::ChildProcess;
using tickmesh::testing::WaitFor;

constexpr int64_t kE8 = 100'000'000;
constexpr int64_t kBase = 1'700'000'000'000'000'000;  // a whole second, unix ns
constexpr int64_t kSecond = 1'000'000'000;

std::string LocalAddress() { return absl::StrCat("127.0.0.1:", tickmesh::testing::FreePort()); }

// A channel with its own subchannel pool, so a refused connect earlier shares no backoff.
std::shared_ptr<grpc::Channel> FreshChannel(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

v1::MarketEvent Snapshot(uint64_t seq, int64_t bid, int64_t ask) {
  v1::MarketEvent e;
  e.set_venue("sim");
  e.set_symbol("BTC-USD");
  e.set_seq(seq);
  auto* b = e.mutable_snapshot()->add_bids();
  b->set_price_e8(bid);
  b->set_qty_e8(2 * kE8);
  auto* a = e.mutable_snapshot()->add_asks();
  a->set_price_e8(ask);
  a->set_qty_e8(3 * kE8);
  return e;
}

v1::MarketEvent Trade(uint64_t seq, int64_t unix_ns, int64_t price, int64_t qty) {
  v1::MarketEvent e;
  e.set_venue("sim");
  e.set_symbol("BTC-USD");
  e.set_seq(seq);
  e.set_exchange_unix_ns(unix_ns);
  e.mutable_trade()->set_price_e8(price);
  e.mutable_trade()->set_qty_e8(qty);
  return e;
}

absl::Status Ingest(MarketData& md, v1::MarketEvent e) {
  v1::MarketEventBatch b;
  *b.add_events() = std::move(e);
  return md.Ingest(b, "test");
}

class PeerProcessesTest : public ::testing::Test {
 protected:
  void StartCache() {
    ASSERT_TRUE(redis_.Start().ok());
    cache_addr_ = LocalAddress();
    cache_ = std::make_unique<Child>(std::vector<std::string>{
        TICKMESH_CACHE_BIN, "--grpc_address=" + cache_addr_, "--admin_address=" + LocalAddress(),
        "--redis_url=" + redis_.url(), "--log_level=warn"});
    ASSERT_TRUE(cache_->started());
    ASSERT_TRUE(WaitFor([&] {
      cache_stub_ = v1::CacheService::NewStub(FreshChannel(cache_addr_));
      grpc::ClientContext ctx;
      ctx.set_deadline(runtime::DeadlineIn(absl::Milliseconds(200)));
      v1::GetRequest req;
      req.set_key("probe");
      v1::GetResponse resp;
      return cache_stub_->Get(&ctx, req, &resp).ok();
    })) << "tickmesh-cache did not start";
  }

  void StartPersistence() {
    if (dir_.empty()) {
      dir_ = tickmesh::testing::MakeTempDir("md-peers");
      persistence_addr_ = LocalAddress();
    }
    persistence_ = std::make_unique<Child>(std::vector<std::string>{
        TICKMESH_PERSISTENCE_BIN, "--grpc_address=" + persistence_addr_,
        "--admin_address=" + LocalAddress(), "--sqlite_path=" + dir_ + "/tickmesh.db",
        "--spool_dir=" + dir_ + "/spool", "--postgres_url=", "--log_level=warn"});
    ASSERT_TRUE(persistence_->started());
    ASSERT_TRUE(WaitFor([&] {
      persistence_stub_ = v1::PersistenceService::NewStub(FreshChannel(persistence_addr_));
      return QueryCandles().ok();
    })) << "tickmesh-persistence did not start";
  }

  absl::StatusOr<std::vector<v1::Candle>> QueryCandles() {
    grpc::ClientContext ctx;
    ctx.set_deadline(runtime::DeadlineIn(absl::Milliseconds(500)));
    v1::QueryCandlesRequest req;
    req.set_venue("sim");
    req.set_symbol("BTC-USD");
    req.set_interval_s(1);
    v1::QueryCandlesResponse resp;
    grpc::Status s = persistence_stub_->QueryCandles(&ctx, req, &resp);
    if (!s.ok()) return absl::UnavailableError(s.error_message());
    return std::vector<v1::Candle>(resp.candles().begin(), resp.candles().end());
  }

  tickmesh::testing::RedisServer redis_;
  std::string cache_addr_, persistence_addr_, dir_;
  std::unique_ptr<Child> cache_, persistence_;
  std::unique_ptr<v1::CacheService::Stub> cache_stub_;
  std::unique_ptr<v1::PersistenceService::Stub> persistence_stub_;
};

TEST_F(PeerProcessesTest, LatestTickerReachesRedisThroughTheCacheWithA100msTtlAndExpires) {
  ASSERT_NO_FATAL_FAILURE(StartCache());
  MarketData md(MarketDataOptions{});
  TickerCacheWriter writer(TickerCacheOptions{cache_addr_});
  md.AddObserver(&writer);
  writer.Start();
  // The ticker lives 100 ms, so keep the book moving (a fresh snapshot every 5 ms) while looking.
  std::atomic<bool> feeding{true};
  std::atomic<uint64_t> seq{0};
  std::thread feeder([&] {
    while (feeding.load()) {
      const uint64_t s = ++seq;
      ASSERT_TRUE(Ingest(md, Snapshot(s, 60'000 * kE8, 60'001 * kE8)).ok());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  const std::string key = "ticker:sim:BTC-USD";
  int64_t pttl = -3;
  const bool in_redis =
      WaitFor([&] { return absl::SimpleAtoi(redis_.Cli("PTTL " + key), &pttl) && pttl > 0; });
  v1::GetResponse got;
  const bool via_cache = WaitFor([&] {
    grpc::ClientContext ctx;
    ctx.set_deadline(runtime::DeadlineIn(absl::Milliseconds(500)));
    v1::GetRequest req;
    req.set_key(key);
    return cache_stub_->Get(&ctx, req, &got).ok() && got.found();
  });
  feeding = false;
  feeder.join();
  ASSERT_TRUE(in_redis) << "redis never held " << key;
  EXPECT_LE(pttl, 100) << "TTL set in Redis is the 100 ms ticker TTL";
  ASSERT_TRUE(via_cache);
  v1::Ticker ticker;
  ASSERT_TRUE(ticker.ParseFromString(got.value()));
  EXPECT_EQ(ticker.bid_price_e8(), 60'000 * kE8);
  EXPECT_EQ(ticker.bid_qty_e8(), 2 * kE8);
  EXPECT_EQ(ticker.ask_price_e8(), 60'001 * kE8);
  EXPECT_EQ(ticker.ask_qty_e8(), 3 * kE8);
  EXPECT_GT(writer.written(), 0u);
  EXPECT_EQ(writer.errors(), 0u);
  EXPECT_TRUE(writer.up());
  // Nothing moves any more: Redis drops the stale ticker by itself.
  EXPECT_TRUE(WaitFor([&] { return redis_.Cli("EXISTS " + key) == "0"; }, std::chrono::seconds(3)))
      << "a ticker nobody refreshes must expire";
  writer.Stop();
}

TEST_F(PeerProcessesTest, ClosedCandlesLandInSqliteAndOnesClosedWhilePersistenceIsDownFollow) {
  ASSERT_NO_FATAL_FAILURE(StartPersistence());
  MarketDataOptions mo;
  mo.candle_intervals_s = {1};
  MarketData md(mo);
  CandleOutbox outbox(CandleOutboxOptions{persistence_addr_});
  md.AddObserver(&outbox);
  outbox.Start();
  // Bar 0: three trades; a trade in bar 1 closes it.
  ASSERT_TRUE(Ingest(md, Trade(1, kBase + 100'000'000, 100 * kE8, 1 * kE8)).ok());
  ASSERT_TRUE(Ingest(md, Trade(2, kBase + 300'000'000, 105 * kE8, 2 * kE8)).ok());
  ASSERT_TRUE(Ingest(md, Trade(3, kBase + 900'000'000, 98 * kE8, 1 * kE8)).ok());
  ASSERT_TRUE(Ingest(md, Trade(4, kBase + kSecond + 1, 99 * kE8, 1 * kE8)).ok());
  ASSERT_TRUE(WaitFor([&] { return outbox.acked() == 1; })) << outbox.acked();
  auto stored = QueryCandles();
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_EQ(stored->size(), 1u);
  const v1::Candle& c0 = (*stored)[0];
  EXPECT_EQ(c0.open_unix_ns(), kBase);
  EXPECT_EQ(c0.open_e8(), 100 * kE8);
  EXPECT_EQ(c0.high_e8(), 105 * kE8);
  EXPECT_EQ(c0.low_e8(), 98 * kE8);
  EXPECT_EQ(c0.close_e8(), 98 * kE8);
  EXPECT_EQ(c0.volume_e8(), 4 * kE8);
  EXPECT_EQ(c0.trade_count(), 3u);

  // Persistence crashes; bars 1 and 2 close meanwhile; it comes back on the same database.
  persistence_->Kill(SIGKILL);
  ASSERT_TRUE(Ingest(md, Trade(5, kBase + 2 * kSecond, 101 * kE8, 1 * kE8)).ok());
  ASSERT_TRUE(Ingest(md, Trade(6, kBase + 3 * kSecond, 102 * kE8, 1 * kE8)).ok());
  EXPECT_EQ(outbox.acked(), 1u);
  ASSERT_NO_FATAL_FAILURE(StartPersistence());
  ASSERT_TRUE(WaitFor([&] { return outbox.acked() == 3; }, std::chrono::seconds(15)))
      << "acked " << outbox.acked() << ", backlog " << outbox.backlog();
  EXPECT_EQ(outbox.dropped(), 0u);
  stored = QueryCandles();
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_EQ(stored->size(), 3u) << "no candle lost or duplicated across the crash";
  for (const v1::Candle& c : *stored) {
    EXPECT_TRUE(c.closed());
    EXPECT_EQ(c.interval_s(), 1u);
  }
  std::vector<int64_t> closes;
  for (const v1::Candle& c : *stored) closes.push_back(c.close_e8());
  // Ascending by open time: bar 0 (closed at 98), bar 1 (99), bar 2 (101).
  EXPECT_EQ(closes, (std::vector<int64_t>{98 * kE8, 99 * kE8, 101 * kE8}));
  outbox.Stop();
}

}  // namespace
}  // namespace tickmesh::market_data
