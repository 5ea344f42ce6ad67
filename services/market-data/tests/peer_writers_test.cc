// TickerCacheWriter and CandleOutbox against fake CacheService / PersistenceService servers
// (real gRPC on 127.0.0.1:0).
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <tuple>

#include "absl/synchronization/mutex.h"
#include "candle_outbox.h"
#include "gtest/gtest.h"
#include "market_data.h"
#include "ticker_cache_writer.h"
#include "tickmesh/runtime/server.h"
#include "tickmesh/testing/servers.h"

namespace tickmesh::market_data {
namespace {

using tickmesh::v1::MarketEvent;
using tickmesh::v1::MarketEventBatch;

// Polls `pred` for up to 10 s.
template <typename Pred>
bool Eventually(Pred pred) {
  for (int i = 0; i < 1000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

runtime::ServerOptions LocalOptions(const std::string& name) {
  runtime::ServerOptions so;
  so.service = name;
  so.grpc_address = "127.0.0.1:0";
  so.admin_address = "127.0.0.1:0";
  so.drain_timeout = absl::Milliseconds(200);
  return so;
}

// Records MSet entries; can hold requests until released.
class FakeCache final : public tickmesh::v1::CacheService::CallbackService {
 public:
  grpc::ServerUnaryReactor* MSet(grpc::CallbackServerContext* ctx,
                                 const tickmesh::v1::MSetRequest* request,
                                 tickmesh::v1::MSetResponse* response) override {
    {
      absl::MutexLock lock(&mu);
      ++calls;
      // Blocking here is a test device (holds the writer's request in flight), not service code.
      mu.Await(absl::Condition(&released));
      for (const auto& e : request->entries()) {
        values[e.key()] = e.value();
        ttl_ms = e.ttl_ms();
        ++entries;
      }
    }
    response->set_written(static_cast<uint32_t>(request->entries_size()));
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  absl::Mutex mu;
  bool released ABSL_GUARDED_BY(mu) = true;
  int calls ABSL_GUARDED_BY(mu) = 0;
  int entries ABSL_GUARDED_BY(mu) = 0;
  int64_t ttl_ms ABSL_GUARDED_BY(mu) = 0;
  std::map<std::string, std::string> values ABSL_GUARDED_BY(mu);
};

// Acks every Append batch; the first `break_streams` streams are ended with UNAVAILABLE after
// their first batch, without acking it.
class FakePersistence final : public tickmesh::v1::PersistenceService::CallbackService {
 public:
  using Key = std::tuple<std::string, std::string, uint32_t, int64_t>;
  grpc::ServerBidiReactor<tickmesh::v1::AppendRequest, tickmesh::v1::AppendAck>* Append(
      grpc::CallbackServerContext*) override {
    class Reactor
        : public grpc::ServerBidiReactor<tickmesh::v1::AppendRequest, tickmesh::v1::AppendAck> {
     public:
      explicit Reactor(FakePersistence* p) : p_(p) {
        absl::MutexLock lock(&p_->mu);
        break_after_first_ = p_->break_streams > 0;
        if (break_after_first_) --p_->break_streams;
        StartRead(&req_);
      }
      void OnReadDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status::OK);
          return;
        }
        if (break_after_first_) {
          Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "injected failure"));
          return;
        }
        {
          absl::MutexLock lock(&p_->mu);
          for (const auto& r : req_.records()) {
            const auto& c = r.candle();
            p_->stored[{c.venue(), c.symbol(), c.interval_s(), c.open_unix_ns()}] = c.close_e8();
            ++p_->records_received;
          }
        }
        ack_.Clear();
        ack_.set_batch_id(req_.batch_id());
        ack_.set_records(static_cast<uint32_t>(req_.records_size()));
        ack_.set_durability(tickmesh::v1::DURABILITY_DATABASE);
        StartWrite(&ack_);
      }
      void OnWriteDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status::CANCELLED);
          return;
        }
        StartRead(&req_);
      }
      void OnDone() override { delete this; }

     private:
      FakePersistence* p_;
      bool break_after_first_ = false;
      tickmesh::v1::AppendRequest req_;
      tickmesh::v1::AppendAck ack_;
    };
    return new Reactor(this);
  }
  absl::Mutex mu;
  int break_streams ABSL_GUARDED_BY(mu) = 0;
  int records_received ABSL_GUARDED_BY(mu) = 0;
  std::map<Key, int64_t> stored ABSL_GUARDED_BY(mu);
};

MarketEvent Delta(uint64_t seq, int64_t bid, int64_t ask) {
  MarketEvent e;
  e.set_venue("sim");
  e.set_symbol("BTC-USD");
  e.set_seq(seq);
  auto* b = e.mutable_delta()->add_bids();
  b->set_price_e8(bid);
  b->set_qty_e8(7);
  auto* a = e.mutable_delta()->add_asks();
  a->set_price_e8(ask);
  a->set_qty_e8(9);
  return e;
}

MarketEvent Trade(uint64_t seq, int64_t unix_ns, int64_t price) {
  MarketEvent e;
  e.set_venue("sim");
  e.set_symbol("BTC-USD");
  e.set_seq(seq);
  e.set_exchange_unix_ns(unix_ns);
  e.mutable_trade()->set_price_e8(price);
  e.mutable_trade()->set_qty_e8(1);
  return e;
}

void Ingest(MarketData& md, MarketEvent e) {
  MarketEventBatch b;
  *b.add_events() = std::move(e);
  ASSERT_TRUE(md.Ingest(b, "test").ok());
}

TEST(TickerCacheWriter, WritesTheLatestTickerConflatingWhileAWriteIsInFlight) {
  FakeCache cache;
  runtime::ServiceHost host(LocalOptions("cache"));
  host.AddService(&cache, "tickmesh.v1.CacheService");
  ASSERT_TRUE(host.Start().ok());
  TickerCacheWriter writer(TickerCacheOptions{"127.0.0.1:" + std::to_string(host.grpc_port())});
  MarketData md(MarketDataOptions{});
  md.AddObserver(&writer);
  writer.Start();
  {
    absl::MutexLock lock(&cache.mu);
    cache.released = false;
  }
  Ingest(md, Delta(1, 100, 500));
  ASSERT_TRUE(Eventually([&] {
    absl::MutexLock lock(&cache.mu);
    return cache.calls == 1;
  })) << "the first write is in flight";
  for (uint64_t seq = 2; seq <= 100; ++seq) Ingest(md, Delta(seq, 100 + seq, 600));
  Ingest(md, Trade(101, 1'000'000'000, 250));
  {
    absl::MutexLock lock(&cache.mu);
    cache.released = true;
  }
  ASSERT_TRUE(Eventually([&] { return writer.written() >= 2; }));
  writer.Stop();
  EXPECT_EQ(writer.conflated(), 99u) << "100 updates after the first became one write";
  EXPECT_TRUE(writer.up());
  absl::MutexLock lock(&cache.mu);
  EXPECT_EQ(cache.calls, 2);
  EXPECT_EQ(cache.ttl_ms, 100);
  ASSERT_EQ(cache.values.count("ticker:sim:BTC-USD"), 1u);
  tickmesh::v1::Ticker ticker;
  ASSERT_TRUE(ticker.ParseFromString(cache.values["ticker:sim:BTC-USD"]));
  // Each delta added a better bid; the book keeps the old levels below it.
  EXPECT_EQ(ticker.bid_price_e8(), 200);
  EXPECT_EQ(ticker.bid_qty_e8(), 7);
  EXPECT_EQ(ticker.ask_price_e8(), 500) << "ask 500 from seq 1 is still the best ask";
  EXPECT_EQ(ticker.ask_qty_e8(), 9);
  EXPECT_EQ(ticker.last_price_e8(), 250);
  host.Shutdown();
}

TEST(TickerCacheWriter, DownCacheIsCountedAndNeverBlocksIngest) {
  TickerCacheWriter writer(TickerCacheOptions{"127.0.0.1:" + std::to_string(testing::FreePort())});
  MarketData md(MarketDataOptions{});
  md.AddObserver(&writer);
  writer.Start();
  for (uint64_t seq = 1; seq <= 200; ++seq) Ingest(md, Delta(seq, 100, 200 + seq));
  EXPECT_EQ(md.stats().events_accepted, 200u);
  ASSERT_TRUE(Eventually([&] { return writer.errors() >= 1; }));
  EXPECT_FALSE(writer.up());
  writer.Stop();
}

TEST(CandleOutbox, AppendsClosedCandlesAndResendsUnackedAfterABrokenStream) {
  FakePersistence persistence;
  {
    absl::MutexLock lock(&persistence.mu);
    persistence.break_streams = 1;
  }
  runtime::ServiceHost host(LocalOptions("persistence"));
  host.AddService(&persistence, "tickmesh.v1.PersistenceService");
  ASSERT_TRUE(host.Start().ok());
  CandleOutboxOptions o{"127.0.0.1:" + std::to_string(host.grpc_port())};
  o.max_batch = 3;
  CandleOutbox outbox(o);
  MarketDataOptions mo;
  mo.candle_intervals_s = {1};
  MarketData md(mo);
  md.AddObserver(&outbox);
  // 11 trades one second apart: bars 0..9 close (the 11th trade's bar stays open).
  constexpr int64_t kBase = 1'700'000'000'000'000'000;
  for (int k = 0; k <= 10; ++k) {
    Ingest(md, Trade(static_cast<uint64_t>(k + 1), kBase + k * 1'000'000'000LL, 1000 + k));
  }
  EXPECT_EQ(outbox.backlog(), 10u) << "queued while the stream is not started";
  outbox.Start();
  ASSERT_TRUE(Eventually([&] { return outbox.acked() == 10; })) << outbox.acked();
  EXPECT_TRUE(outbox.Drain(absl::Seconds(1)));
  EXPECT_GT(outbox.resent(), 0u) << "the batch of the broken stream was resent";
  EXPECT_EQ(outbox.dropped(), 0u);
  outbox.Stop();
  absl::MutexLock lock(&persistence.mu);
  ASSERT_EQ(persistence.stored.size(), 10u);
  int k = 0;
  for (const auto& [key, close] : persistence.stored) {
    EXPECT_EQ(std::get<3>(key), kBase + k * 1'000'000'000LL);
    EXPECT_EQ(std::get<2>(key), 1u);
    EXPECT_EQ(close, 1000 + k);
    ++k;
  }
  host.Shutdown();
}

TEST(CandleOutbox, FullOutboxDropsTheOldestAndCountsIt) {
  CandleOutboxOptions o{"127.0.0.1:" + std::to_string(testing::FreePort())};
  o.capacity = 4;
  CandleOutbox outbox(o);  // not started: nothing leaves
  tickmesh::v1::Candle c;
  for (int i = 0; i < 6; ++i) {
    c.set_open_unix_ns(i);
    outbox.OnCandleClosed(c);
  }
  EXPECT_EQ(outbox.backlog(), 4u);
  EXPECT_EQ(outbox.dropped(), 2u);
}

}  // namespace
}  // namespace tickmesh::market_data
