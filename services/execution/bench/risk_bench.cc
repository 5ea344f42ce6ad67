// scripts/bench risk: the pre-trade path of one order — RiskEngine::Check (every rule enabled)
// plus the venue's rate-limit check (two buckets, Binance-style weights) and the circuit-breaker
// admission — against a baseline of the same order through a trivial qty > 0 check, same run.
#include <cstdint>
#include <string>

#include "benchmark/benchmark.h"
#include "rate_limit.h"
#include "risk.h"

namespace tickmesh::execution {
namespace {

constexpr int64_t E8 = 100'000'000;

tickmesh::v1::OrderRequest Order() {
  tickmesh::v1::OrderRequest r;
  r.set_client_order_id("bench-1");
  r.set_venue("binance");
  r.set_symbol("BTC-USDT");
  r.set_side(tickmesh::v1::SIDE_BUY);
  r.set_type(tickmesh::v1::ORDER_TYPE_LIMIT);
  r.set_price_e8(100 * E8);
  r.set_qty_e8(E8 / 100);
  return r;
}

void BM_RiskAndRateLimit(benchmark::State& state) {
  const tickmesh::v1::OrderRequest req = Order();
  RiskEngine risk(RiskLimits{.max_order_qty_e8 = 1000 * E8,
                             .max_order_notional_e8 = 1'000'000 * E8,
                             .max_position_e8 = 10'000 * E8,
                             .price_band_bps = 500});
  RiskContext ctx;
  ctx.position_e8 = 3 * E8;
  ctx.open_same_side_e8 = 2 * E8;
  ctx.mid_e8 = 100 * E8 + 5;
  // Capacity so large nothing is ever refused: the check's cost, not a wait, is measured.
  auto specs = ParseRateLimits(
      "binance/orders_10s=token:1e15:10000:order=1;binance/weight_1m=token:1e15:60000:order=1,"
      "cancel=1");
  int64_t now = 1;
  RateLimiter limiter(*specs, [&] { return now; });
  CircuitBreaker breaker({});
  for (auto _ : state) {
    ++now;
    const RiskDecision d = risk.Check(req, ctx);
    const bool allowed = breaker.Allow(now);
    const RateLimiter::Decision r = limiter.TryAcquire(req.venue(), RequestClass::kOrder, now);
    benchmark::DoNotOptimize(d.ok);
    benchmark::DoNotOptimize(allowed);
    benchmark::DoNotOptimize(r.admitted);
  }
}
BENCHMARK(BM_RiskAndRateLimit);

void BM_TrivialQtyCheck(benchmark::State& state) {
  const tickmesh::v1::OrderRequest req = Order();
  for (auto _ : state) {
    benchmark::DoNotOptimize(&req);
    const bool ok = req.qty_e8() > 0;
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_TrivialQtyCheck);

}  // namespace
}  // namespace tickmesh::execution

BENCHMARK_MAIN();
