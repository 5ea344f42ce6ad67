// Google Benchmark: one full strategy step per tick through SignalEngine::OnBatch (seq check,
// instrument lookup, indicators, decision, Signal construction when one is emitted), for the
// default macd_cross, macd_rsi, and a book step for market_making / book_imbalance. Not a test;
// run through `scripts/bench indicators`.
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "signal_engine.h"
#include "yaml-cpp/yaml.h"

namespace sig = tickmesh::signal;

namespace {

std::vector<int64_t> Walk(size_t n) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> step(0, 2e6);  // 0.02 of a 30 000 price
  std::vector<int64_t> v;
  double x = 30'000e8;
  for (size_t i = 0; i < n; ++i) v.push_back(static_cast<int64_t>(x += step(rng)));
  return v;
}

sig::SignalEngineOptions Options(const char* yaml) {
  sig::SignalEngineOptions o;
  if (yaml != nullptr) {
    auto c = sig::ParseStrategyConfig(YAML::Load(yaml), sig::MacdCrossParams{});
    if (!c.ok()) std::abort();
    o.strategies = *c;
  }
  return o;
}

// One trade per batch, as market-data's hot path sends them under light load.
void RunTrades(benchmark::State& state, const char* yaml) {
  sig::SignalEngine engine(Options(yaml));
  const auto prices = Walk(4096);
  tickmesh::v1::MarketEventBatch batch;
  auto* e = batch.add_events();
  e->set_venue("sim");
  e->set_symbol("BTC-USD");
  e->mutable_trade()->set_qty_e8(1'000'000);
  std::vector<tickmesh::v1::Signal> out;
  uint64_t seq = 0, signals = 0;
  for (auto _ : state) {
    e->set_seq(++seq);
    e->mutable_trade()->set_price_e8(prices[seq & 4095]);
    out.clear();
    engine.OnBatch(batch, static_cast<int64_t>(seq), &out);
    signals += out.size();
  }
  state.counters["signals_per_tick"] =
      benchmark::Counter(static_cast<double>(signals) / static_cast<double>(state.iterations()));
}

void RunBook(benchmark::State& state, const char* yaml) {
  sig::SignalEngine engine(Options(yaml));
  const auto prices = Walk(4096);
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<int64_t> qty(1, 5'00'000'000);
  tickmesh::v1::MarketEventBatch snap;
  auto* s = snap.add_events();
  s->set_venue("sim");
  s->set_symbol("BTC-USD");
  s->set_seq(1);
  for (int i = 0; i < 10; ++i) {
    auto* b = s->mutable_snapshot()->add_bids();
    b->set_price_e8(29'990e8 - i * 1e8);
    b->set_qty_e8(1e8);
    auto* a = s->mutable_snapshot()->add_asks();
    a->set_price_e8(30'010e8 + i * 1e8);
    a->set_qty_e8(1e8);
  }
  std::vector<tickmesh::v1::Signal> out;
  engine.OnBatch(snap, 0, &out);
  tickmesh::v1::MarketEventBatch batch;
  auto* e = batch.add_events();
  e->set_venue("sim");
  e->set_symbol("BTC-USD");
  auto* bid = e->mutable_delta()->add_bids();
  auto* ask = e->mutable_delta()->add_asks();
  uint64_t seq = 1, signals = 0;
  for (auto _ : state) {
    e->set_seq(++seq);
    const int64_t mid = prices[seq & 4095] / 1'000'000 * 1'000'000;
    bid->set_price_e8(mid - 5e8);
    bid->set_qty_e8(qty(rng));
    ask->set_price_e8(mid + 5e8);
    ask->set_qty_e8(qty(rng));
    out.clear();
    engine.OnBatch(batch, static_cast<int64_t>(seq), &out);
    signals += out.size();
  }
  state.counters["signals_per_tick"] =
      benchmark::Counter(static_cast<double>(signals) / static_cast<double>(state.iterations()));
}

void BM_StepMacdCross(benchmark::State& state) { RunTrades(state, nullptr); }
void BM_StepMacdRsi(benchmark::State& state) { RunTrades(state, "strategies: [{type: macd_rsi}]"); }
void BM_StepThreeStrategiesWithEnsemble(benchmark::State& state) {
  RunTrades(state,
            "strategies: [{type: macd_cross}, {type: macd_rsi, params: {fast: 5, slow: 35}},"
            " {id: slow, type: macd_cross, params: {fast: 50, slow: 100}}]\n"
            "ensemble: {enabled: true, threshold: 0.3, adaptation: {enabled: true}}");
}
void BM_StepBookImbalance(benchmark::State& state) {
  RunBook(state, "strategies: [{type: book_imbalance}]");
}
void BM_StepMarketMaking(benchmark::State& state) {
  RunBook(state, "strategies: [{type: market_making}]");
}

}  // namespace

BENCHMARK(BM_StepMacdCross);
BENCHMARK(BM_StepMacdRsi);
BENCHMARK(BM_StepThreeStrategiesWithEnsemble);
BENCHMARK(BM_StepBookImbalance);
BENCHMARK(BM_StepMarketMaking);

BENCHMARK_MAIN();
