// MarketMaking: the "market_making" strategy for one instrument — two-sided quotes around the
// mid in the style of Avellaneda & Stoikov (2008), expressed in basis points of the mid:
//
//   sigma_bps   = volatility of the mid (stddev of mid changes over `vol_window` book updates, or
//                 the ATR of `candle_interval_s` candles when volatility = atr) / mid * 1e4
//   var_bps     = sigma_bps^2 * horizon                     (horizon in volatility samples)
//   q           = inventory_e8 / order_qty_e8               (inventory in clips; from execution's
//                                                            position in the cache, 0 if unknown)
//   reservation = mid * (1 - q * gamma * var_bps * 1e-4)    (skewed away from the inventory)
//   spread_bps  = clamp(gamma * var_bps + (2 / gamma) * ln(1 + gamma / kappa),
//                       min_spread_bps, max_spread_bps)
//   bid, ask    = reservation * (1 -/+ spread_bps / 2 * 1e-4), rounded to the e8 grid
//
// On each top-of-book change (OnBook) it emits a BUY at the bid and a SELL at the ask (target
// quantity order_qty_e8). A side is not quoted when the inventory is at or beyond
// ±max_inventory_e8 on that side, or when its price is not a positive int64 (absurd inputs).
// strength = 1 - max(0, ±inventory) / max_inventory_e8 for the side that would grow the
// position. Skips: kWarmup until the volatility is defined; kUnchanged
// when both quotes moved less than requote_bps since the last quote and the inventory is the
// same; kThrottle inside min_interval_ns; kQuiet in a quiet market. O(1) per update.
#pragma once

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "macd_cross.h"
#include "strategy.h"
#include "tickmesh/indicators/oscillators.h"
#include "tickmesh/indicators/volatility.h"

namespace tickmesh::signal {

struct MarketMakingParams {
  double gamma = 0.1;           // risk aversion (> 0)
  double kappa = 1.5;           // order-arrival intensity (> 0)
  double horizon = 1.0;         // in volatility samples (> 0)
  double min_spread_bps = 2;    // >= 0
  double max_spread_bps = 200;  // >= min_spread_bps
  double requote_bps = 0.5;     // >= 0
  int vol_window = 100;         // book updates (stddev) or candles (ATR period), >= 2
  bool use_atr = false;         // volatility: stddev | atr
  int64_t order_qty_e8 = 1'000'000;
  int64_t max_inventory_e8 = 10'000'000;
  int64_t min_interval_ns = 0;
};

absl::Status ValidateMarketMakingParams(const MarketMakingParams& p, const ParamNamer& name);

// The quote computed from one state; exposed for tests.
struct Quote {
  double mid = 0, sigma_bps = 0, reservation = 0, spread_bps = 0;
  int64_t bid_e8 = 0, ask_e8 = 0;
};
Quote ComputeQuote(const MarketMakingParams& p, double mid, double sigma_price, double q);

class MarketMaking final : public Strategy {
 public:
  explicit MarketMaking(const MarketMakingParams& params);

  void OnBar(const Bar& bar, const Context& ctx, std::vector<Decision>* out) override;
  void OnBook(const Context& ctx, std::vector<Decision>* out) override;
  void Reset() override;

 private:
  MarketMakingParams params_;
  indicators::RollingStats mid_changes_;
  indicators::Atr atr_;
  double last_mid_ = 0;
  int64_t last_bid_e8_ = 0, last_ask_e8_ = 0, last_inventory_e8_ = 0;
  bool quoted_ = false;
  int64_t last_quote_ns_ = 0;
};

}  // namespace tickmesh::signal
