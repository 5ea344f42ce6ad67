// MacdCross: the "macd_cross" strategy (and "macd_rsi": the same with an RSI filter) for one
// instrument. Buys when the MACD line crosses above its signal line, sells when it crosses below.
// Input: trade prices (OnTrade) or closes of candles (OnBar), chosen per configured strategy.
//
// Rules:
//  - A crossover is a change of the histogram's sign (line - signal); a zero histogram keeps the
//    previous sign. The first defined reading only sets the sign: no signal without an observed
//    crossing.
//  - Warm-up: no signal before `warmup` inputs (default slow + signal_period) and before the MACD
//    (and the RSI, when the filter is on) is defined. Skipped crossings count as kWarmup.
//  - RSI filter (rsi_period > 0): a BUY is dropped while RSI >= rsi_overbought, a SELL while
//    RSI <= rsi_oversold (counted as kFiltered).
//  - Quiet market (Context::quiet): crossings are skipped (kQuiet), the sign still follows.
//  - Throttle: a crossing less than `min_interval_ns` after the previous signal is skipped
//    (kThrottle); 0 disables it.
//  - strength = min(1, |histogram| / (price * 1e-4)): a histogram of one basis point of the price
//    or more is full conviction.
// O(1) per input; allocates only the reason of an emitted decision.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "strategy.h"
#include "tickmesh/indicators/oscillators.h"

namespace tickmesh::signal {

struct MacdCrossParams {
  int fast = 12;
  int slow = 26;
  int signal_period = 9;
  // Inputs before the first signal; 0 means slow + signal_period.
  int warmup = 0;
  // Size put on every signal (1e8 scale).
  int64_t order_qty_e8 = 1'000'000;
  // Minimum time between two signals of one instrument, ns; 0 = no throttle.
  int64_t min_interval_ns = 0;
  // RSI filter: 0 = off.
  int rsi_period = 0;
  double rsi_overbought = 70;
  double rsi_oversold = 30;
};

// Names a parameter in an error message: "--fast" for flags, "strategies[0].params.fast:" for
// YAML. The message is "<Name(key)> must be > 0".
using ParamNamer = std::function<std::string(const char* key)>;

// INVALID_ARGUMENT naming the parameter for a value out of range.
absl::Status ValidateMacdCrossParams(const MacdCrossParams& p, const ParamNamer& name);

class MacdCross final : public Strategy {
 public:
  // `params` must pass ValidateMacdCrossParams.
  explicit MacdCross(const MacdCrossParams& params);

  void OnTrade(const Tick& tick, const Context& ctx, std::vector<Decision>* out) override;
  void OnBar(const Bar& bar, const Context& ctx, std::vector<Decision>* out) override;
  void Reset() override;

  int64_t inputs() const { return inputs_; }
  // The latest MACD reading, if defined.
  const std::optional<indicators::MacdValue>& last() const { return last_; }

 private:
  void OnPrice(double price, int64_t price_e8, const Context& ctx, std::vector<Decision>* out);

  MacdCrossParams params_;
  int warmup_;
  indicators::Macd macd_;
  indicators::Rsi rsi_;
  int64_t inputs_ = 0;
  int sign_ = 0;  // -1 below, +1 above, 0 unknown
  int64_t last_signal_ns_ = 0;
  bool has_signalled_ = false;
  std::optional<indicators::MacdValue> last_;
};

}  // namespace tickmesh::signal
