// Google Benchmark: ns per streaming update of each indicator (target <= 20 ns) and batch MACD
// over 1 000 candles. Not a test; run through `scripts/bench indicators`.
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "tickmesh/indicators/batch.h"
#include "tickmesh/indicators/flow.h"
#include "tickmesh/indicators/moving_average.h"
#include "tickmesh/indicators/oscillators.h"
#include "tickmesh/indicators/volatility.h"

namespace ti = tickmesh::indicators;

namespace {

// 4 096 random-walk prices (a power of two so the index wraps with a mask).
const std::vector<double>& Prices() {
  static const std::vector<double> p = [] {
    std::mt19937_64 rng(7);
    std::normal_distribution<double> step(0, 10);
    std::vector<double> v;
    double x = 30'000;
    for (int i = 0; i < 4096; ++i) v.push_back(x = std::max(1.0, x + step(rng)));
    return v;
  }();
  return p;
}

template <typename F>
void RunUpdates(benchmark::State& state, F&& update) {
  const auto& p = Prices();
  size_t i = 0;
  for (auto _ : state) {
    update(p[i & 4095]);
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Sma(benchmark::State& state) {
  ti::Sma x(20);
  RunUpdates(state, [&](double v) {
    x.Update(v);
    benchmark::DoNotOptimize(x.value());
  });
}
void BM_Ema(benchmark::State& state) {
  ti::Ema x(20);
  RunUpdates(state, [&](double v) {
    x.Update(v);
    benchmark::DoNotOptimize(x.value());
  });
}
void BM_Macd(benchmark::State& state) {
  ti::Macd x(12, 26, 9);
  RunUpdates(state, [&](double v) { benchmark::DoNotOptimize(x.Update(v)); });
}
void BM_Rsi(benchmark::State& state) {
  ti::Rsi x(14);
  RunUpdates(state, [&](double v) { benchmark::DoNotOptimize(x.Update(v)); });
}
void BM_Atr(benchmark::State& state) {
  ti::Atr x(14);
  RunUpdates(state, [&](double v) { benchmark::DoNotOptimize(x.Update(v + 5, v - 5, v)); });
}
void BM_Bollinger(benchmark::State& state) {
  ti::Bollinger x(20, 2.0);
  RunUpdates(state, [&](double v) { benchmark::DoNotOptimize(x.Update(v)); });
}
void BM_RollingStdDev(benchmark::State& state) {
  ti::RollingStats x(20);
  RunUpdates(state, [&](double v) {
    x.Update(v);
    benchmark::DoNotOptimize(x.stddev());
  });
}
void BM_RealizedVol(benchmark::State& state) {
  ti::RealizedVol x(30);
  RunUpdates(state, [&](double v) { benchmark::DoNotOptimize(x.Update(v)); });
}
void BM_SessionVwap(benchmark::State& state) {
  ti::SessionVwap x(86'400'000'000'000);
  int64_t t = 0;
  RunUpdates(state, [&](double v) { benchmark::DoNotOptimize(x.Update(v, 0.5, t += 1000)); });
}
void BM_RollingVwap(benchmark::State& state) {
  ti::RollingVwap x(100);
  RunUpdates(state, [&](double v) { benchmark::DoNotOptimize(x.Update(v, 0.5)); });
}
void BM_BookImbalance(benchmark::State& state) {
  RunUpdates(state, [&](double v) { benchmark::DoNotOptimize(ti::BookImbalance(v, 30'000.0)); });
}
void BM_Microprice(benchmark::State& state) {
  RunUpdates(state,
             [&](double v) { benchmark::DoNotOptimize(ti::Microprice(v, 1.5, v + 1, 2.5)); });
}

// Batch MACD(12, 26, 9) over 1 000 closes.
void BM_MacdBatch1000(benchmark::State& state) {
  const auto& p = Prices();
  std::span<const double> in(p.data(), 1000);
  std::vector<double> line(1000), signal(1000), hist(1000);
  for (auto _ : state) {
    auto first = ti::MacdBatch(in, 12, 26, 9, line, signal, hist);
    benchmark::DoNotOptimize(first);
    benchmark::DoNotOptimize(hist.data());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}

// Streaming MACD fed 1 000 closes from a fresh state (what a restarted strategy does).
void BM_MacdStreaming1000(benchmark::State& state) {
  const auto& p = Prices();
  for (auto _ : state) {
    ti::Macd m(12, 26, 9);
    for (int i = 0; i < 1000; ++i) benchmark::DoNotOptimize(m.Update(p[i]));
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}

}  // namespace

BENCHMARK(BM_Sma);
BENCHMARK(BM_Ema);
BENCHMARK(BM_Macd);
BENCHMARK(BM_Rsi);
BENCHMARK(BM_Atr);
BENCHMARK(BM_Bollinger);
BENCHMARK(BM_RollingStdDev);
BENCHMARK(BM_RealizedVol);
BENCHMARK(BM_SessionVwap);
BENCHMARK(BM_RollingVwap);
BENCHMARK(BM_BookImbalance);
BENCHMARK(BM_Microprice);
BENCHMARK(BM_MacdBatch1000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MacdStreaming1000)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
