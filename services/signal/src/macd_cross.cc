#include "macd_cross.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace tickmesh::signal {

absl::Status ValidateMacdCrossConfig(const MacdCrossConfig& c) {
  if (c.fast <= 0) return absl::InvalidArgumentError("--fast must be > 0");
  if (c.slow <= 0) return absl::InvalidArgumentError("--slow must be > 0");
  if (c.signal_period <= 0) return absl::InvalidArgumentError("--signal_period must be > 0");
  if (c.fast >= c.slow) {
    return absl::InvalidArgumentError(
        absl::StrCat("--fast (", c.fast, ") must be < --slow (", c.slow, ")"));
  }
  if (c.slow > 100'000 || c.signal_period > 100'000) {
    return absl::InvalidArgumentError("--slow and --signal_period must be <= 100000");
  }
  if (c.warmup < 0) return absl::InvalidArgumentError("--warmup must be >= 0");
  if (c.order_qty_e8 <= 0) return absl::InvalidArgumentError("--order_qty_e8 must be > 0");
  if (c.min_interval_ns < 0) {
    return absl::InvalidArgumentError("--min_signal_interval_ms must be >= 0");
  }
  return absl::OkStatus();
}

MacdCross::MacdCross(const MacdCrossConfig& config)
    : config_(config),
      warmup_(config.warmup > 0 ? config.warmup : config.slow + config.signal_period),
      macd_(config.fast, config.slow, config.signal_period) {}

std::optional<MacdDecision> MacdCross::OnTrade(int64_t price_e8, int64_t now_ns) {
  const double price = static_cast<double>(price_e8) * 1e-8;
  ++trades_;
  last_ = macd_.Update(price);
  if (!last_) return std::nullopt;
  const double hist = last_->histogram;
  const int sign = hist > 0 ? 1 : (hist < 0 ? -1 : 0);
  if (sign == 0 || sign == sign_) return std::nullopt;
  const int previous = sign_;
  sign_ = sign;
  if (previous == 0) return std::nullopt;  // first defined reading: no crossing seen yet
  if (trades_ < warmup_) {
    ++skipped_warmup_;
    return std::nullopt;
  }
  if (config_.min_interval_ns > 0 && has_signalled_ &&
      now_ns - last_signal_ns_ < config_.min_interval_ns) {
    ++skipped_throttle_;
    return std::nullopt;
  }
  has_signalled_ = true;
  last_signal_ns_ = now_ns;
  MacdDecision d;
  d.side = sign > 0 ? tickmesh::v1::SIDE_BUY : tickmesh::v1::SIDE_SELL;
  d.strength = price > 0 ? std::min(1.0, std::fabs(hist) / (price * 1e-4)) : 0.0;
  d.reason = sign > 0 ? "macd crossed above signal" : "macd crossed below signal";
  d.macd = *last_;
  return d;
}

void MacdCross::Reset() {
  macd_.Reset();
  trades_ = 0;
  sign_ = 0;
  last_.reset();
  // The throttle is about what was sent downstream, so it survives a reset.
}

}  // namespace tickmesh::signal
