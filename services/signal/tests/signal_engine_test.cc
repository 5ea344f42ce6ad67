#include "signal_engine.h"

#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "yaml-cpp/yaml.h"

namespace tickmesh::signal {
namespace {

using tickmesh::v1::MarketEvent;
using tickmesh::v1::MarketEventBatch;
using tickmesh::v1::Signal;

constexpr int64_t kE8 = 100'000'000;

std::vector<int64_t> FlatFallRise() {
  std::vector<int64_t> p;
  for (int i = 0; i < 40; ++i) p.push_back(100 * kE8);
  for (int i = 1; i <= 20; ++i) p.push_back(100 * kE8 - i * kE8 / 10);
  for (int i = 1; i <= 30; ++i) p.push_back(98 * kE8 + i * kE8 / 2);
  return p;
}

MarketEvent TradeEvent(uint64_t seq, int64_t price) {
  MarketEvent e;
  e.set_venue("sim");
  e.set_symbol("BTC-USD");
  e.set_seq(seq);
  e.mutable_trade()->set_price_e8(price);
  e.mutable_trade()->set_qty_e8(kE8);
  e.mutable_trace()->set_trace_id(1000 + seq);
  e.mutable_trace()->set_origin_unix_ns(7);
  auto* hop = e.mutable_trace()->add_hops();
  hop->set_service("market-data");
  hop->set_stage("emit");
  hop->set_unix_ns(8);
  return e;
}

// Feeds the series one trade per batch; `skip_at` (if >= 0) skips that seq, creating a gap.
std::vector<Signal> FeedSeries(SignalEngine& engine, const std::vector<int64_t>& prices,
                               int skip_at) {
  std::vector<Signal> out;
  uint64_t seq = 0;
  for (size_t i = 0; i < prices.size(); ++i) {
    ++seq;
    if (static_cast<int>(i) == skip_at) ++seq;
    MarketEventBatch b;
    *b.add_events() = TradeEvent(seq, prices[i]);
    engine.OnBatch(b, 100 + static_cast<int64_t>(i), &out);
  }
  return out;
}

TEST(SignalEngine, CrossoverEmitsOneFullyPopulatedSignal) {
  SignalEngine engine(SignalEngineOptions{});
  auto signals = FeedSeries(engine, FlatFallRise(), -1);
  ASSERT_EQ(signals.size(), 1u);
  const Signal& s = signals[0];
  EXPECT_EQ(s.side(), tickmesh::v1::SIDE_BUY);
  EXPECT_EQ(s.venue(), "sim");
  EXPECT_EQ(s.symbol(), "BTC-USD");
  EXPECT_EQ(s.strategy(), "macd_cross");
  EXPECT_EQ(s.target_qty_e8(), 1'000'000);
  EXPECT_EQ(s.signal_id(), "macd_cross-BTC-USD-1");
  EXPECT_FALSE(s.reason().empty());
  // Target price is the triggering trade's price; market_seq is its seq.
  EXPECT_EQ(s.target_price_e8(), FlatFallRise()[s.market_seq() - 1]);
  std::vector<std::string> names;
  for (auto& v : s.indicators()) names.push_back(v.name());
  EXPECT_EQ(names,
            (std::vector<std::string>{"ema_fast", "ema_slow", "macd", "macd_signal", "macd_hist"}));
  // Trace copied from the trade, with signal's recv stamp appended.
  EXPECT_EQ(s.trace().trace_id(), 1000 + s.market_seq());
  EXPECT_EQ(s.trace().origin_unix_ns(), 7);
  ASSERT_EQ(s.trace().hops_size(), 2);
  EXPECT_EQ(s.trace().hops(1).service(), "signal");
  EXPECT_EQ(s.trace().hops(1).stage(), "recv");
  EXPECT_EQ(engine.stats().trades, FlatFallRise().size());
}

TEST(SignalEngine, SeqGapResetsIndicatorState) {
  SignalEngine control(SignalEngineOptions{});
  ASSERT_EQ(FeedSeries(control, FlatFallRise(), -1).size(), 1u);
  // A gap at trade 50 leaves 40 trades afterwards: MACD defined again only at 34, so the
  // crossing that the control engine saw cannot be observed.
  SignalEngine gapped(SignalEngineOptions{});
  EXPECT_TRUE(FeedSeries(gapped, FlatFallRise(), 50).empty());
  EXPECT_EQ(gapped.stats().gap_resets, 1u);
}

TEST(SignalEngine, NonTradeEventsAdvanceSeqWithoutGap) {
  SignalEngine engine(SignalEngineOptions{});
  std::vector<Signal> out;
  MarketEventBatch b;
  *b.add_events() = TradeEvent(1, 100 * kE8);
  MarketEvent delta;
  delta.set_venue("sim");
  delta.set_symbol("BTC-USD");
  delta.set_seq(2);
  delta.mutable_delta();
  *b.add_events() = delta;
  *b.add_events() = TradeEvent(3, 100 * kE8);
  engine.OnBatch(b, 1, &out);
  EXPECT_EQ(engine.stats().gap_resets, 0u);
  EXPECT_EQ(engine.stats().trades, 2u);
}

TEST(SignalEngine, IgnoresRepeatedSeq) {
  SignalEngine engine(SignalEngineOptions{});
  std::vector<Signal> out;
  MarketEventBatch b;
  *b.add_events() = TradeEvent(5, 100 * kE8);
  *b.add_events() = TradeEvent(5, 100 * kE8);
  *b.add_events() = TradeEvent(4, 100 * kE8);
  engine.OnBatch(b, 1, &out);
  EXPECT_EQ(engine.stats().trades, 1u);
  EXPECT_EQ(engine.stats().stale_events, 2u);
}

TEST(SignalEngine, ResetAllForgetsInstruments) {
  SignalEngine engine(SignalEngineOptions{});
  auto series = FlatFallRise();
  std::vector<int64_t> head(series.begin(), series.begin() + 50);
  FeedSeries(engine, head, -1);
  EXPECT_EQ(engine.stats().symbols, 1u);
  engine.ResetAll("reconnect");
  EXPECT_EQ(engine.stats().symbols, 0u);
  // After the reset seq may restart anywhere without counting a gap.
  std::vector<Signal> out;
  MarketEventBatch b;
  *b.add_events() = TradeEvent(500, 100 * kE8);
  engine.OnBatch(b, 1, &out);
  EXPECT_EQ(engine.stats().gap_resets, 0u);
}

TEST(SignalEngine, MarkEmittedStampsAndRecordsLatestPerSymbolAndStrategy) {
  SignalEngine engine(SignalEngineOptions{});
  auto signals = FeedSeries(engine, FlatFallRise(), -1);
  ASSERT_EQ(signals.size(), 1u);
  engine.MarkEmitted(signals, 12345);
  EXPECT_EQ(signals[0].unix_ns(), 12345);
  ASSERT_EQ(signals[0].trace().hops_size(), 3);
  EXPECT_EQ(signals[0].trace().hops(2).stage(), "emit");
  EXPECT_EQ(signals[0].trace().hops(2).unix_ns(), 12345);
  auto latest = engine.Latest({});
  ASSERT_EQ(latest.size(), 1u);
  EXPECT_EQ(latest[0].signal_id(), signals[0].signal_id());
  EXPECT_TRUE(engine.Latest({"ETH-USD"}).empty());
  EXPECT_EQ(engine.Latest({"BTC-USD"}).size(), 1u);
}

TEST(SignalEngine, BoundsTrackedInstruments) {
  SignalEngineOptions o;
  o.max_symbols = 1;
  SignalEngine engine(o);
  std::vector<Signal> out;
  MarketEventBatch b;
  *b.add_events() = TradeEvent(1, 100 * kE8);
  MarketEvent other = TradeEvent(1, 100 * kE8);
  other.set_symbol("ETH-USD");
  *b.add_events() = other;
  engine.OnBatch(b, 1, &out);
  EXPECT_EQ(engine.stats().symbols, 1u);
  EXPECT_EQ(engine.stats().ignored_symbols, 1u);
  EXPECT_EQ(engine.stats().trades, 1u);
}

}  // namespace
}  // namespace tickmesh::signal

namespace tickmesh::signal {
namespace {

SignalEngineOptions FromYaml(const char* yaml) {
  SignalEngineOptions o;
  auto c = ParseStrategyConfig(YAML::Load(yaml), MacdCrossParams{});
  EXPECT_TRUE(c.ok()) << c.status();
  if (c.ok()) o.strategies = *c;
  return o;
}

MarketEvent BookEvent(uint64_t seq, bool snapshot, int64_t bid, int64_t bid_qty, int64_t ask,
                      int64_t ask_qty) {
  MarketEvent e;
  e.set_venue("sim");
  e.set_symbol("BTC-USD");
  e.set_seq(seq);
  auto* b = snapshot ? e.mutable_snapshot()->add_bids() : e.mutable_delta()->add_bids();
  b->set_price_e8(bid);
  b->set_qty_e8(bid_qty);
  auto* a = snapshot ? e.mutable_snapshot()->add_asks() : e.mutable_delta()->add_asks();
  a->set_price_e8(ask);
  a->set_qty_e8(ask_qty);
  return e;
}

TEST(SignalEngine, StrategiesOnlyRunOnTheirSymbols) {
  SignalEngine engine(FromYaml("strategies: [{type: macd_cross, symbols: ['sim:ETH-USD']}]"));
  EXPECT_TRUE(FeedSeries(engine, FlatFallRise(), -1).empty());  // BTC-USD: no strategy
  EXPECT_EQ(engine.stats().symbols, 1u);                        // but its seq is tracked
}

TEST(SignalEngine, BookImbalanceRunsOnBookUpdatesAndGapInvalidatesTheBook) {
  SignalEngine engine(FromYaml(
      "strategies: [{type: book_imbalance, params: {smoothing: 1, entry: 0.5, exit: 0.1}}]"));
  std::vector<Signal> out;
  MarketEventBatch b;
  *b.add_events() = BookEvent(1, true, 100 * kE8, kE8, 101 * kE8, kE8);
  *b.add_events() = BookEvent(2, false, 100 * kE8, 9 * kE8, 101 * kE8, kE8);  // +0.8
  engine.OnBatch(b, 1, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].strategy(), "book_imbalance");
  EXPECT_EQ(out[0].side(), tickmesh::v1::SIDE_BUY);
  EXPECT_EQ(out[0].target_price_e8(), 101 * kE8);
  EXPECT_EQ(out[0].market_seq(), 2u);
  // After a gap the book is unknown: deltas are ignored until the next snapshot.
  MarketEventBatch gap;
  *gap.add_events() = BookEvent(10, false, 100 * kE8, kE8, 101 * kE8, 9 * kE8);  // would be -0.8
  engine.OnBatch(gap, 2, &out);
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(engine.stats().gap_resets, 1u);
  MarketEventBatch snap;
  *snap.add_events() = BookEvent(11, true, 100 * kE8, kE8, 101 * kE8, 9 * kE8);
  engine.OnBatch(snap, 3, &out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].side(), tickmesh::v1::SIDE_SELL);
}

TEST(SignalEngine, CandleInputAggregatesTradesIntoBars) {
  SignalEngine engine(
      FromYaml("strategies: [{type: macd_cross, input: candle, candle_interval_s: 1}]"));
  std::vector<Signal> out;
  uint64_t seq = 0;
  // Three trades per one-second bar; the bar's close is the series value.
  for (int64_t price : FlatFallRise()) {
    for (int k = 0; k < 3; ++k) {
      MarketEventBatch b;
      MarketEvent e = TradeEvent(++seq, k == 2 ? price : price + (k - 1) * kE8 / 100);
      e.set_exchange_unix_ns(static_cast<int64_t>((seq - 1) / 3) * 1'000'000'000 + k);
      *b.add_events() = e;
      engine.OnBatch(b, static_cast<int64_t>(seq), &out);
    }
  }
  MarketEventBatch last;
  MarketEvent e = TradeEvent(++seq, 100 * kE8);
  e.set_exchange_unix_ns(1'000'000'000'000);  // closes the final bar
  *last.add_events() = e;
  engine.OnBatch(last, static_cast<int64_t>(seq), &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].side(), tickmesh::v1::SIDE_BUY);
  EXPECT_EQ(out[0].strategy(), "macd_cross");
}

TEST(SignalEngine, EnsembleEmitsConsensusAndFeedsTheLatestSink) {
  SignalEngine engine(
      FromYaml("strategies: [{type: macd_cross}, {id: other, type: macd_cross, weight: 0}]\n"
               "ensemble: {enabled: true, threshold: 0.01, emit_components: false}"));
  std::vector<Signal> sunk;
  engine.SetLatestSink([&](const Signal& s) { sunk.push_back(s); });
  auto signals = FeedSeries(engine, FlatFallRise(), -1);
  ASSERT_EQ(signals.size(), 1u);
  EXPECT_EQ(signals[0].strategy(), "ensemble");
  EXPECT_EQ(signals[0].side(), tickmesh::v1::SIDE_BUY);
  EXPECT_TRUE(absl::StrContains(signals[0].reason(), "macd_cross"));
  engine.MarkEmitted(signals, 9);
  ASSERT_EQ(sunk.size(), 1u);
  EXPECT_EQ(sunk[0].signal_id(), signals[0].signal_id());
  EXPECT_EQ(sunk[0].unix_ns(), 9);
}

}  // namespace
}  // namespace tickmesh::signal
