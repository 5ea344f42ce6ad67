// BookImbalance: the "book_imbalance" momentum strategy for one instrument. On each top-of-book
// change it computes the order-book imbalance (bid_depth - ask_depth) / (bid_depth + ask_depth)
// over the engine's top `levels` levels, smooths it with an EMA of `smoothing` updates, and
// enters a state: +1 when the smoothed imbalance reaches +entry, -1 at -entry, 0 when it comes
// back inside ±exit (hysteresis, exit < entry). A signal is emitted on entering +1 (BUY at the
// best ask: buyers are pressing) or -1 (SELL at the best bid); returning to 0 emits nothing.
// strength = min(1, |smoothed imbalance|). Skips: kWarmup until the EMA is defined, kQuiet,
// kThrottle inside min_interval_ns (the state still changes). O(1) per update.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "macd_cross.h"
#include "strategy.h"
#include "tickmesh/indicators/moving_average.h"

namespace tickmesh::signal {

struct BookImbalanceParams {
  int smoothing = 10;  // EMA period over book updates, >= 1
  double entry = 0.6;  // (0, 1]
  double exit = 0.2;   // [0, entry)
  int64_t order_qty_e8 = 1'000'000;
  int64_t min_interval_ns = 0;
};

absl::Status ValidateBookImbalanceParams(const BookImbalanceParams& p, const ParamNamer& name);

class BookImbalanceMomentum final : public Strategy {
 public:
  explicit BookImbalanceMomentum(const BookImbalanceParams& params);

  void OnBook(const Context& ctx, std::vector<Decision>* out) override;
  void Reset() override;

  int state() const { return state_; }

 private:
  BookImbalanceParams params_;
  indicators::Ema ema_;
  int state_ = 0;
  bool has_signalled_ = false;
  int64_t last_signal_ns_ = 0;
};

}  // namespace tickmesh::signal
