#include "macd_cross.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tickmesh::signal {

const char* SkipReasonName(SkipReason r) {
  switch (r) {
    case SkipReason::kWarmup:
      return "warmup";
    case SkipReason::kThrottle:
      return "throttle";
    case SkipReason::kQuiet:
      return "quiet";
    case SkipReason::kUnchanged:
      return "unchanged";
    case SkipReason::kFiltered:
      return "filtered";
  }
  return "unknown";
}

absl::Status ValidateMacdCrossParams(const MacdCrossParams& p, const ParamNamer& name) {
  auto bad = [&](const char* key, const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(name(key), " ", what));
  };
  if (p.fast <= 0) return bad("fast", "must be > 0");
  if (p.slow <= 0) return bad("slow", "must be > 0");
  if (p.signal_period <= 0) return bad("signal_period", "must be > 0");
  if (p.fast >= p.slow) {
    return bad("fast", absl::StrCat("(", p.fast, ") must be < slow (", p.slow, ")"));
  }
  if (p.slow > 100'000) return bad("slow", "must be <= 100000");
  if (p.signal_period > 100'000) return bad("signal_period", "must be <= 100000");
  if (p.warmup < 0) return bad("warmup", "must be >= 0");
  if (p.order_qty_e8 <= 0) return bad("order_qty_e8", "must be > 0");
  if (p.min_interval_ns < 0) return bad("min_signal_interval_ms", "must be >= 0");
  if (p.rsi_period < 0 || p.rsi_period > 100'000)
    return bad("rsi_period", "must be in [0, 100000]");
  if (!(p.rsi_oversold >= 0 && p.rsi_oversold < p.rsi_overbought && p.rsi_overbought <= 100)) {
    return bad("rsi_overbought", "must satisfy 0 <= rsi_oversold < rsi_overbought <= 100");
  }
  return absl::OkStatus();
}

MacdCross::MacdCross(const MacdCrossParams& params)
    : params_(params),
      warmup_(params.warmup > 0 ? params.warmup : params.slow + params.signal_period),
      macd_(params.fast, params.slow, params.signal_period),
      rsi_(std::max(1, params.rsi_period)) {}

void MacdCross::OnTrade(const Tick& tick, const Context& ctx, std::vector<Decision>* out) {
  OnPrice(static_cast<double>(tick.price_e8) / kE8, tick.price_e8, ctx, out);
}

void MacdCross::OnBar(const Bar& bar, const Context& ctx, std::vector<Decision>* out) {
  OnPrice(bar.close, std::llround(bar.close * kE8), ctx, out);
}

void MacdCross::OnPrice(double price, int64_t price_e8, const Context& ctx,
                        std::vector<Decision>* out) {
  ++inputs_;
  last_ = macd_.Update(price);
  const bool rsi_on = params_.rsi_period > 0;
  if (rsi_on) rsi_.Update(price);
  if (!last_) return;
  const double hist = last_->histogram;
  const int sign = hist > 0 ? 1 : (hist < 0 ? -1 : 0);
  if (sign == 0 || sign == sign_) return;
  const int previous = sign_;
  sign_ = sign;
  if (previous == 0) return;  // first defined reading: no crossing seen yet
  if (inputs_ < warmup_ || (rsi_on && !rsi_.ready())) return ctx.Skip(SkipReason::kWarmup);
  if (ctx.quiet) return ctx.Skip(SkipReason::kQuiet);
  if (rsi_on && ((sign > 0 && rsi_.value() >= params_.rsi_overbought) ||
                 (sign < 0 && rsi_.value() <= params_.rsi_oversold))) {
    return ctx.Skip(SkipReason::kFiltered);
  }
  if (params_.min_interval_ns > 0 && has_signalled_ &&
      ctx.now_ns - last_signal_ns_ < params_.min_interval_ns) {
    return ctx.Skip(SkipReason::kThrottle);
  }
  has_signalled_ = true;
  last_signal_ns_ = ctx.now_ns;
  Decision& d = out->emplace_back();
  d.side = sign > 0 ? tickmesh::v1::SIDE_BUY : tickmesh::v1::SIDE_SELL;
  d.strength = price > 0 ? std::min(1.0, std::fabs(hist) / (price * 1e-4)) : 0.0;
  d.target_price_e8 = price_e8;
  d.target_qty_e8 = params_.order_qty_e8;
  d.reason = sign > 0 ? "macd crossed above signal" : "macd crossed below signal";
  if (rsi_on) absl::StrAppendFormat(&d.reason, ", rsi %.1f", rsi_.value());
  d.Add("ema_fast", last_->ema_fast);
  d.Add("ema_slow", last_->ema_slow);
  d.Add("macd", last_->line);
  d.Add("macd_signal", last_->signal);
  d.Add("macd_hist", last_->histogram);
  if (rsi_on) d.Add("rsi", rsi_.value());
}

void MacdCross::Reset() {
  macd_.Reset();
  rsi_.Reset();
  inputs_ = 0;
  sign_ = 0;
  last_.reset();
  // The throttle is about what was sent downstream, so it survives a reset.
}

}  // namespace tickmesh::signal
