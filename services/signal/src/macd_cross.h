// MacdCross: the "macd_cross" strategy for one instrument. Buys when the MACD line crosses above
// its signal line, sells when it crosses below.
//
// Rules:
//  - A crossover is a change of the histogram's sign (line - signal); a zero histogram keeps the
//    previous sign. The first defined reading only sets the sign: no signal without an observed
//    crossing.
//  - Warm-up: no signal before `warmup` trades (default slow + signal_period = 35) and before the
//    MACD is defined (slow + signal_period - 1 trades).
//  - Throttle: a crossing less than `min_interval_ns` after the previous signal of this instrument
//    is skipped (counted); 0 disables the throttle.
//  - strength = min(1, |histogram| / (price * 1e-4)): a histogram worth one basis point of the
//    price (or more) is full conviction; linear below.
// O(1) per trade, no allocation except the reason string of an emitted decision.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "indicators.h"
#include "tickmesh/v1/common.pb.h"

namespace tickmesh::signal {

struct MacdCrossConfig {
  int fast = 12;
  int slow = 26;
  int signal_period = 9;
  // Trades before the first signal; 0 means slow + signal_period.
  int warmup = 0;
  // Size put on every signal (1e8 scale).
  int64_t order_qty_e8 = 1'000'000;
  // Minimum time between two signals of one instrument, ns; 0 = no throttle.
  int64_t min_interval_ns = 0;
};

// INVALID_ARGUMENT naming the flag ("--fast", "--slow", "--signal_period", "--warmup",
// "--order_qty_e8", "--min_signal_interval_ms") for a value out of range.
absl::Status ValidateMacdCrossConfig(const MacdCrossConfig& config);

struct MacdDecision {
  tickmesh::v1::Side side = tickmesh::v1::SIDE_UNSPECIFIED;
  double strength = 0;
  std::string reason;
  MacdValue macd;
};

class MacdCross {
 public:
  static constexpr const char* kName = "macd_cross";

  // `config` must pass ValidateMacdCrossConfig.
  explicit MacdCross(const MacdCrossConfig& config);

  // Feeds one trade at `price_e8` observed at `now_ns`; returns a decision on a crossover.
  std::optional<MacdDecision> OnTrade(int64_t price_e8, int64_t now_ns);

  // Forgets all indicator state (after a sequence gap or a reconnect); warm-up starts again.
  void Reset();

  int64_t trades() const { return trades_; }
  uint64_t skipped_warmup() const { return skipped_warmup_; }
  uint64_t skipped_throttle() const { return skipped_throttle_; }
  // The latest reading, if defined.
  const std::optional<MacdValue>& last() const { return last_; }

 private:
  MacdCrossConfig config_;
  int warmup_;
  Macd macd_;
  int64_t trades_ = 0;
  int sign_ = 0;  // -1 below, +1 above, 0 unknown
  int64_t last_signal_ns_ = 0;
  bool has_signalled_ = false;
  std::optional<MacdValue> last_;
  uint64_t skipped_warmup_ = 0;
  uint64_t skipped_throttle_ = 0;
};

}  // namespace tickmesh::signal
