#include "synthetic_feed.h"

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "gtest/gtest.h"
#include "tickmesh/book/order_book.h"

namespace tickmesh::market_data {
namespace {

using tickmesh::v1::MarketEvent;

// Everything but timestamps and trace ids, which depend on the clock.
std::string Fingerprint(MarketEvent e) {
  e.clear_exchange_unix_ns();
  e.clear_receive_unix_ns();
  e.clear_trace();
  return e.SerializeAsString();
}

SyntheticOptions Options(uint64_t seed) {
  SyntheticOptions o;
  o.symbols = {"BTC-USD", "ETH-USD", "XYZ-USD"};
  o.seed = seed;
  o.jump_probability = 0.05;
  o.regime_switch_probability = 0.05;
  return o;
}

TEST(SyntheticGenerator, SameSeedProducesSameMarket) {
  SyntheticGenerator a(Options(42)), b(Options(42));
  MarketEvent ea, eb;
  for (int i = 0; i < 5000; ++i) {
    const size_t sym = static_cast<size_t>(i % 3);
    a.Next(sym, 1000 + i, &ea);
    b.Next(sym, 999'999 + i, &eb);  // different clock: must not matter
    ASSERT_EQ(Fingerprint(ea), Fingerprint(eb)) << "event " << i;
  }
}

TEST(SyntheticGenerator, DifferentSeedsProduceDifferentMarkets) {
  SyntheticGenerator a(Options(1)), b(Options(2));
  MarketEvent ea, eb;
  int differing = 0;
  for (int i = 0; i < 200; ++i) {
    a.Next(0, 0, &ea);
    b.Next(0, 0, &eb);
    differing += Fingerprint(ea) != Fingerprint(eb);
  }
  EXPECT_GT(differing, 100);
}

TEST(SyntheticGenerator, SnapshotFirstThenValidUncrossedDeltasAndTradesWithConsecutiveSeq) {
  SyntheticGenerator g(Options(7));
  book::OrderBook book(1000);
  MarketEvent e;
  int trades = 0, deltas = 0;
  for (int i = 0; i < 20000; ++i) {
    g.Next(1, 5, &e);
    ASSERT_EQ(e.seq(), static_cast<uint64_t>(i + 1));
    ASSERT_EQ(e.venue(), "sim");
    ASSERT_EQ(e.symbol(), "ETH-USD");
    ASSERT_NE(e.trace().trace_id(), 0u);
    if (i == 0) {
      ASSERT_TRUE(e.has_snapshot());
      ASSERT_TRUE(book.ApplySnapshot(e.snapshot()).ok());
    } else if (e.has_delta()) {
      ++deltas;
      ASSERT_TRUE(book.ApplyDelta(e.delta()).ok()) << i;
    } else {
      ASSERT_TRUE(e.has_trade());
      ++trades;
      ASSERT_GT(e.trade().price_e8(), 0);
      ASSERT_GT(e.trade().qty_e8(), 0);
      // Trades print at the touch.
      const auto touch =
          e.trade().aggressor_side() == tickmesh::v1::SIDE_BUY ? book.BestAsk() : book.BestBid();
      ASSERT_TRUE(touch.has_value());
      ASSERT_EQ(e.trade().price_e8(), touch->price_e8);
    }
    ASSERT_FALSE(book.crossed()) << "event " << i;
    ASSERT_EQ(book.bid_levels(), 20u);
    ASSERT_EQ(book.ask_levels(), 20u);
  }
  EXPECT_GT(trades, 4000);
  EXPECT_GT(deltas, 10000);
}

TEST(SyntheticFeed, EmitsBatchesAtConfiguredRateUntilStopped) {
  SyntheticOptions o = Options(3);
  SyntheticFeed feed(o, /*rate_per_symbol=*/1000);
  std::atomic<int> events{0};
  std::map<std::string, uint64_t> last_seq;
  std::mutex mu;
  bool seq_ok = true;
  ASSERT_TRUE(feed.Start([&](tickmesh::v1::MarketEventBatch& b) {
                    std::lock_guard<std::mutex> lock(mu);
                    for (auto& e : b.events()) {
                      if (e.seq() != last_seq[e.symbol()] + 1) seq_ok = false;
                      last_seq[e.symbol()] = e.seq();
                    }
                    events += b.events_size();
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_TRUE(feed.healthy());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (events.load() < 300 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  feed.Stop();
  EXPECT_FALSE(feed.healthy());
  const int after_stop = events.load();
  EXPECT_GE(after_stop, 300);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(events.load(), after_stop) << "no events after Stop()";
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_TRUE(seq_ok);
  EXPECT_EQ(last_seq.size(), 3u);
}

}  // namespace
}  // namespace tickmesh::market_data
