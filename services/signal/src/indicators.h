// Streaming technical indicators: O(1) time and memory per update, explicit warm-up.
// (A later issue moves these to libs/indicators.) Indicator values are analytics, hence doubles.
//
// Example:
//   Macd macd(12, 26, 9);
//   for (double price : prices) {
//     if (auto v = macd.Update(price)) Use(v->line, v->signal, v->histogram);
//   }
#pragma once

#include <cstdint>
#include <optional>

namespace tickmesh::signal {

// Exponential moving average with smoothing alpha = 2 / (period + 1), seeded with the simple
// average of the first `period` samples (the common TA-Lib convention), so it is defined
// (ready()) from the period-th sample on.
class Ema {
 public:
  // `period` >= 1 (smaller values are treated as 1).
  explicit Ema(int period);

  // Adds a sample; returns ready().
  bool Update(double x);
  bool ready() const { return count_ >= period_; }
  // The current average; only meaningful once ready().
  double value() const { return value_; }
  int period() const { return period_; }
  int64_t count() const { return count_; }
  // Forgets every sample.
  void Reset();

 private:
  int period_;
  double alpha_;
  int64_t count_ = 0;
  double sum_ = 0;  // during warm-up
  double value_ = 0;
};

// One MACD reading.
struct MacdValue {
  double ema_fast = 0;
  double ema_slow = 0;
  double line = 0;       // ema_fast - ema_slow
  double signal = 0;     // EMA(signal_period) of line
  double histogram = 0;  // line - signal
};

// MACD(fast, slow, signal): line = EMA(fast) - EMA(slow) of the price, signal = EMA(signal) of
// the line (fed from the sample where the slow EMA becomes ready), histogram = line - signal.
// Defined from sample slow + signal - 1 on (warmup()).
class Macd {
 public:
  // Requires 0 < fast < slow and signal > 0 (validated by the caller).
  Macd(int fast, int slow, int signal);

  // Adds a price; returns the reading once defined.
  std::optional<MacdValue> Update(double price);
  bool ready() const { return signal_.ready(); }
  // Samples needed before the first reading.
  int warmup() const { return slow_.period() + signal_.period() - 1; }
  int64_t samples() const { return slow_.count(); }
  void Reset();

 private:
  Ema fast_, slow_, signal_;
};

}  // namespace tickmesh::signal
