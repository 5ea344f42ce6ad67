#include "book_imbalance.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tickmesh/indicators/flow.h"

namespace tickmesh::signal {

absl::Status ValidateBookImbalanceParams(const BookImbalanceParams& p, const ParamNamer& name) {
  auto bad = [&](const char* key, const char* what) {
    return absl::InvalidArgumentError(absl::StrCat(name(key), " ", what));
  };
  if (p.smoothing < 1 || p.smoothing > 100'000) return bad("smoothing", "must be in [1, 100000]");
  if (!(p.entry > 0 && p.entry <= 1)) return bad("entry", "must be in (0, 1]");
  if (!(p.exit >= 0 && p.exit < p.entry)) return bad("exit", "must be in [0, entry)");
  if (p.order_qty_e8 <= 0) return bad("order_qty_e8", "must be > 0");
  if (p.min_interval_ns < 0) return bad("min_signal_interval_ms", "must be >= 0");
  return absl::OkStatus();
}

BookImbalanceMomentum::BookImbalanceMomentum(const BookImbalanceParams& params)
    : params_(params), ema_(params.smoothing) {}

void BookImbalanceMomentum::OnBook(const Context& ctx, std::vector<Decision>* out) {
  const BookTop& b = *ctx.book;
  if (!b.valid) return;
  const double imbalance = indicators::BookImbalance(b.bid_depth, b.ask_depth);
  if (!ema_.Update(imbalance)) return ctx.Skip(SkipReason::kWarmup);
  const double smoothed = ema_.value();
  int next = state_;
  if (smoothed >= params_.entry) {
    next = 1;
  } else if (smoothed <= -params_.entry) {
    next = -1;
  } else if (std::fabs(smoothed) < params_.exit) {
    next = 0;
  }
  if (next == state_) return;
  state_ = next;
  if (next == 0) return;
  if (ctx.quiet) return ctx.Skip(SkipReason::kQuiet);
  if (params_.min_interval_ns > 0 && has_signalled_ &&
      ctx.now_ns - last_signal_ns_ < params_.min_interval_ns) {
    return ctx.Skip(SkipReason::kThrottle);
  }
  has_signalled_ = true;
  last_signal_ns_ = ctx.now_ns;
  const double micro =
      indicators::Microprice(static_cast<double>(b.bid_e8) / kE8, b.bid_qty_e8 / kE8,
                             static_cast<double>(b.ask_e8) / kE8, b.ask_qty_e8 / kE8);
  const double mid = 0.5 * static_cast<double>(b.bid_e8 + b.ask_e8) / kE8;
  Decision& d = out->emplace_back();
  d.side = next > 0 ? tickmesh::v1::SIDE_BUY : tickmesh::v1::SIDE_SELL;
  d.strength = std::min(1.0, std::fabs(smoothed));
  d.target_price_e8 = next > 0 ? b.ask_e8 : b.bid_e8;
  d.target_qty_e8 = params_.order_qty_e8;
  d.reason = absl::StrFormat("book imbalance %+.2f %s %.2f", smoothed,
                             next > 0 ? ">=" : "<=", next > 0 ? params_.entry : -params_.entry);
  d.Add("imbalance", imbalance);
  d.Add("imbalance_ema", smoothed);
  d.Add("microprice", micro);
  d.Add("mid", mid);
  d.Add("spread_bps", mid > 0 ? static_cast<double>(b.ask_e8 - b.bid_e8) / kE8 / mid * 1e4 : 0);
}

void BookImbalanceMomentum::Reset() {
  ema_.Reset();
  state_ = 0;
}

}  // namespace tickmesh::signal
