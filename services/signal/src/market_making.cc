#include "market_making.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tickmesh/indicators/flow.h"

namespace tickmesh::signal {

absl::Status ValidateMarketMakingParams(const MarketMakingParams& p, const ParamNamer& name) {
  auto bad = [&](const char* key, const char* what) {
    return absl::InvalidArgumentError(absl::StrCat(name(key), " ", what));
  };
  if (!(p.gamma > 0 && p.gamma <= 1e6)) return bad("gamma", "must be in (0, 1e6]");
  if (!(p.kappa > 0 && p.kappa <= 1e6)) return bad("kappa", "must be in (0, 1e6]");
  if (!(p.horizon > 0 && p.horizon <= 1e9)) return bad("horizon", "must be in (0, 1e9]");
  if (!(p.min_spread_bps >= 0)) return bad("min_spread_bps", "must be >= 0");
  if (!(p.max_spread_bps >= p.min_spread_bps && p.max_spread_bps <= 10'000)) {
    return bad("max_spread_bps", "must be in [min_spread_bps, 10000]");
  }
  if (!(p.requote_bps >= 0)) return bad("requote_bps", "must be >= 0");
  if (p.vol_window < 2 || p.vol_window > 100'000)
    return bad("vol_window", "must be in [2, 100000]");
  if (p.order_qty_e8 <= 0) return bad("order_qty_e8", "must be > 0");
  if (p.max_inventory_e8 <= 0) return bad("max_inventory_e8", "must be > 0");
  if (p.min_interval_ns < 0) return bad("min_signal_interval_ms", "must be >= 0");
  return absl::OkStatus();
}

Quote ComputeQuote(const MarketMakingParams& p, double mid, double sigma_price, double q) {
  Quote r;
  r.mid = mid;
  r.sigma_bps = mid > 0 ? sigma_price / mid * 1e4 : 0;
  const double var_bps = r.sigma_bps * r.sigma_bps * p.horizon;
  r.reservation = mid * (1 - q * p.gamma * var_bps * 1e-4);
  const double raw = p.gamma * var_bps + (2 / p.gamma) * std::log(1 + p.gamma / p.kappa);
  r.spread_bps = std::clamp(raw, p.min_spread_bps, p.max_spread_bps);
  const double half = r.spread_bps / 2 * 1e-4;
  // Out-of-range inputs (absurd prices or inventories) give 0 = "do not quote this side".
  auto to_e8 = [](double v) -> int64_t {
    return std::isfinite(v) && v > 0 && v < 9e18 ? static_cast<int64_t>(v) : 0;
  };
  r.bid_e8 = to_e8(std::floor(r.reservation * (1 - half) * kE8));
  r.ask_e8 = to_e8(std::ceil(r.reservation * (1 + half) * kE8));
  return r;
}

MarketMaking::MarketMaking(const MarketMakingParams& params)
    : params_(params), mid_changes_(params.vol_window), atr_(params.vol_window) {}

void MarketMaking::OnBar(const Bar& bar, const Context& ctx, std::vector<Decision>* out) {
  if (params_.use_atr) atr_.Update(bar.high, bar.low, bar.close);
}

void MarketMaking::OnBook(const Context& ctx, std::vector<Decision>* out) {
  const BookTop& b = *ctx.book;
  if (!b.valid) return;
  const double mid = 0.5 * static_cast<double>(b.bid_e8 + b.ask_e8) / kE8;
  if (last_mid_ > 0) mid_changes_.Update(mid - last_mid_);
  last_mid_ = mid;
  const bool ready = params_.use_atr ? atr_.ready() : mid_changes_.ready();
  if (!ready) return ctx.Skip(SkipReason::kWarmup);
  if (ctx.quiet) return ctx.Skip(SkipReason::kQuiet);
  const double sigma = params_.use_atr ? atr_.value() : mid_changes_.stddev();
  const int64_t inv = ctx.inventory_e8;
  const double q = static_cast<double>(inv) / static_cast<double>(params_.order_qty_e8);
  const Quote quote = ComputeQuote(params_, mid, sigma, q);
  if (quoted_ && inv == last_inventory_e8_) {
    const double tol = params_.requote_bps * 1e-4 * mid * kE8;
    if (std::fabs(static_cast<double>(quote.bid_e8 - last_bid_e8_)) < tol &&
        std::fabs(static_cast<double>(quote.ask_e8 - last_ask_e8_)) < tol) {
      return ctx.Skip(SkipReason::kUnchanged);
    }
  }
  if (params_.min_interval_ns > 0 && quoted_ &&
      ctx.now_ns - last_quote_ns_ < params_.min_interval_ns) {
    return ctx.Skip(SkipReason::kThrottle);
  }
  quoted_ = true;
  last_quote_ns_ = ctx.now_ns;
  last_bid_e8_ = quote.bid_e8;
  last_ask_e8_ = quote.ask_e8;
  last_inventory_e8_ = inv;
  const double max_inv = static_cast<double>(params_.max_inventory_e8);
  const double imbalance = indicators::BookImbalance(b.bid_depth, b.ask_depth);
  const double micro =
      indicators::Microprice(static_cast<double>(b.bid_e8) / kE8, b.bid_qty_e8 / kE8,
                             static_cast<double>(b.ask_e8) / kE8, b.ask_qty_e8 / kE8);
  auto emit = [&](tickmesh::v1::Side side, int64_t price_e8, double strength) {
    Decision& d = out->emplace_back();
    d.side = side;
    d.strength = std::clamp(strength, 0.0, 1.0);
    d.target_price_e8 = price_e8;
    d.target_qty_e8 = params_.order_qty_e8;
    d.reason = absl::StrFormat("mm %s quote: reservation %.8g spread %.2f bps inventory %.8g",
                               side == tickmesh::v1::SIDE_BUY ? "bid" : "ask", quote.reservation,
                               quote.spread_bps, static_cast<double>(inv) / kE8);
    d.Add("mid", mid);
    d.Add("microprice", micro);
    d.Add("sigma_bps", quote.sigma_bps);
    d.Add("reservation", quote.reservation);
    d.Add("spread_bps", quote.spread_bps);
    d.Add("inventory", static_cast<double>(inv) / kE8);
    d.Add("imbalance", imbalance);
  };
  if (inv < params_.max_inventory_e8 && quote.bid_e8 > 0) {
    emit(tickmesh::v1::SIDE_BUY, quote.bid_e8,
         1 - std::max(0.0, static_cast<double>(inv)) / max_inv);
  }
  if (inv > -params_.max_inventory_e8 && quote.ask_e8 > 0) {
    emit(tickmesh::v1::SIDE_SELL, quote.ask_e8,
         1 - std::max(0.0, -static_cast<double>(inv)) / max_inv);
  }
}

void MarketMaking::Reset() {
  mid_changes_.Reset();
  atr_.Reset();
  last_mid_ = 0;
  quoted_ = false;
}

}  // namespace tickmesh::signal
