// scripts/bench risk: the pre-trade path of one order as ExecutionEngine runs it — RiskBook::Check
// with every rule enabled at both scopes (account, then the order's strategy pool), including
// max_daily_loss, which marks every position of the scope at the paper venue's current mid —
// plus the venue's rate-limit check (two buckets, Binance-style weights) and the circuit-breaker
// admission, against a baseline of the same order through a trivial qty > 0 check, same run.
// The account holds kInstruments positions (all marked when a book changed), the strategy pool
// half of them and a few open orders. BM_RiskRulesOnly is the pure rule evaluation
// (RiskEngine::Check) for reference.
#include <cstdint>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "paper_venue.h"
#include "portfolio.h"
#include "rate_limit.h"
#include "risk.h"

namespace tickmesh::execution {
namespace {

constexpr int64_t E8 = 100'000'000;
constexpr int kInstruments = 8;

std::string Symbol(int i) { return "C" + std::to_string(i) + "-USDT"; }

tickmesh::v1::OrderRequest Order() {
  tickmesh::v1::OrderRequest r;
  r.set_client_order_id("bench-1");
  r.set_venue("binance");
  r.set_symbol(Symbol(0));
  r.set_side(tickmesh::v1::SIDE_BUY);
  r.set_type(tickmesh::v1::ORDER_TYPE_LIMIT);
  r.set_price_e8(100 * E8);
  r.set_qty_e8(E8 / 100);
  r.set_strategy("momentum");
  return r;
}

RiskLimits AllRules() {
  return RiskLimits{.max_order_qty_e8 = 1000 * E8,
                    .max_order_notional_e8 = 1'000'000 * E8,
                    .max_position_e8 = 10'000 * E8,
                    .price_band_bps = 500,
                    .max_open_orders = 10'000,
                    .max_daily_loss_e8 = 1'000'000 * E8};
}

// state.range(0) == 1: every order follows a book change (the cached PnL is dropped and every
// position re-marked), the worst case; 0: orders between market updates (the usual case).
void BM_RiskAndRateLimit(benchmark::State& state) {
  const bool invalidate = state.range(0) == 1;
  const tickmesh::v1::OrderRequest req = Order();
  PaperVenue venue({});
  Portfolio account(1'000'000 * E8);
  int64_t clock_ns = 1;
  StrategyLimits limits;
  limits.named = {{"momentum", AllRules()}};
  RiskBook book(AllRules(), limits, 0, [&] { return clock_ns; });
  const MarkFn mark = [&](const std::string& v, const std::string& s) { return venue.Mid(v, s); };
  std::vector<VenueFill> ignored;
  for (int i = 0; i < kInstruments; ++i) {
    tickmesh::v1::MarketEvent ev;
    ev.set_venue("binance");
    ev.set_symbol(Symbol(i));
    ev.set_seq(1);
    auto* bid = ev.mutable_snapshot()->add_bids();
    bid->set_price_e8(100 * E8);
    bid->set_qty_e8(10 * E8);
    auto* ask = ev.mutable_snapshot()->add_asks();
    ask->set_price_e8(100 * E8 + 10);
    ask->set_qty_e8(10 * E8);
    (void)venue.ApplyMarketEvent(ev, &ignored);
    tickmesh::v1::Fill f;
    f.set_fill_id("f" + std::to_string(i));
    f.set_venue("binance");
    f.set_symbol(Symbol(i));
    f.set_side(tickmesh::v1::SIDE_BUY);
    f.set_qty_e8(3 * E8);
    f.set_price_e8(99 * E8);
    (void)account.ApplyFill(f);
    if (i % 2 == 0) (void)book.OnFill(f, "momentum");
  }
  for (int i = 0; i < 4; ++i) {
    tickmesh::v1::Order o;
    o.set_order_id("o-" + std::to_string(i));
    o.set_venue("binance");
    o.set_symbol(Symbol(0));
    o.set_side(tickmesh::v1::SIDE_BUY);
    o.set_strategy("momentum");
    o.set_status(tickmesh::v1::ORDER_STATUS_ACKED);
    o.set_qty_e8(E8 / 2);
    book.OnOrder(o);
  }
  RiskBook::Account acct;
  acct.ctx.position_e8 = account.PositionQty("binance", Symbol(0));
  acct.ctx.open_same_side_e8 = 2 * E8;
  acct.ctx.open_orders = 4;
  acct.ctx.mid_e8 = venue.Mid("binance", Symbol(0));
  acct.portfolio = &account;
  // Capacity so large nothing is ever refused: the check's cost, not a wait, is measured.
  auto specs = ParseRateLimits(
      "binance/orders_10s=token:1e15:10000:order=1;binance/weight_1m=token:1e15:60000:order=1,"
      "cancel=1");
  int64_t now = 1;
  RateLimiter limiter(*specs, [&] { return now; });
  CircuitBreaker breaker({});
  for (auto _ : state) {
    ++now;
    if (invalidate) book.InvalidatePnl();
    const RiskBook::Decision d = book.Check(req, acct, mark);
    const bool allowed = breaker.Allow(now);
    const RateLimiter::Decision r = limiter.TryAcquire(req.venue(), RequestClass::kOrder, now);
    benchmark::DoNotOptimize(d.decision.ok);
    benchmark::DoNotOptimize(allowed);
    benchmark::DoNotOptimize(r.admitted);
  }
  if (!book.Check(req, acct, mark).decision.ok) state.SkipWithError("order rejected");
}
BENCHMARK(BM_RiskAndRateLimit)->Arg(0)->Arg(1);

void BM_RiskRulesOnly(benchmark::State& state) {
  const tickmesh::v1::OrderRequest req = Order();
  RiskEngine risk(AllRules());
  RiskContext ctx;
  ctx.position_e8 = 3 * E8;
  ctx.open_same_side_e8 = 2 * E8;
  ctx.mid_e8 = 100 * E8 + 5;
  ctx.open_orders = 4;
  ctx.daily_pnl_e8 = -5 * E8;
  for (auto _ : state) {
    const RiskDecision d = risk.Check(req, ctx);
    benchmark::DoNotOptimize(d.ok);
  }
}
BENCHMARK(BM_RiskRulesOnly);

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
