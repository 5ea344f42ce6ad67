// Streaming MACD, RSI (Wilder) and ATR (Wilder). O(1) per update, bounded memory, no allocation
// after construction, explicit warm-up (Update returns std::nullopt / ready() is false until the
// TA-Lib lookback has passed). Definitions follow TA-Lib (TA_MACD, TA_RSI, TA_ATR).
//
// Example:
//   tickmesh::indicators::Macd macd(12, 26, 9);
//   for (double close : closes) {
//     if (auto v = macd.Update(close)) Use(v->line, v->signal, v->histogram);
//   }
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>

#include "tickmesh/indicators/moving_average.h"

namespace tickmesh::indicators {

// One MACD reading.
struct MacdValue {
  double ema_fast = 0;
  double ema_slow = 0;
  double line = 0;       // ema_fast - ema_slow
  double signal = 0;     // EMA(signal_period) of line
  double histogram = 0;  // line - signal
};

// MACD(fast, slow, signal) as TA-Lib computes it: both EMAs start on sample `slow` (the fast EMA is
// seeded with the average of the `fast` samples ending there, the slow one with the average of the
// first `slow`), line = EMA(fast) - EMA(slow), signal = EMA(signal) of the line seeded with the
// average of its first `signal` values, histogram = line - signal. The first reading comes on
// sample slow + signal - 1 (lookback() = slow + signal - 2).
class Macd {
 public:
  // Requires 0 < fast < slow and signal > 0 (callers validate; out-of-range values are clamped so
  // the object stays usable).
  Macd(int fast, int slow, int signal)
      : fast_window_(std::max(1, fast)),
        fast_(std::max(1, fast)),
        slow_(std::max(std::max(1, fast) + 1, slow)),
        signal_(std::max(1, signal)) {}

  // Adds a price; returns the reading once defined.
  std::optional<MacdValue> Update(double price) {
    if (!slow_.ready()) {
      fast_window_.Update(price);
      if (!slow_.Update(price)) return std::nullopt;
      fast_.Seed(fast_window_.value());
    } else {
      fast_.Update(price);
      slow_.Update(price);
    }
    last_.ema_fast = fast_.value();
    last_.ema_slow = slow_.value();
    last_.line = last_.ema_fast - last_.ema_slow;
    if (!signal_.Update(last_.line)) return std::nullopt;
    last_.signal = signal_.value();
    last_.histogram = last_.line - last_.signal;
    return last_;
  }
  bool ready() const { return signal_.ready(); }
  // Samples before the first reading (TA-Lib lookback).
  int lookback() const { return slow_.period() + signal_.period() - 2; }
  // Samples needed for the first reading: lookback() + 1.
  int warmup() const { return lookback() + 1; }
  void Reset() {
    fast_window_.Reset();
    fast_.Reset();
    slow_.Reset();
    signal_.Reset();
  }

 private:
  Sma fast_window_;  // the fast EMA's seed window, until the slow EMA is seeded
  Ema fast_, slow_, signal_;
  MacdValue last_;
};

// RSI with Wilder smoothing (TA-Lib TA_RSI): the first average gain/loss is the simple average of
// the first `period` price changes, then avg = (avg * (period - 1) + change) / period.
// RSI = 100 * avg_gain / (avg_gain + avg_loss), 0 when both are zero (as TA-Lib). The first value
// comes on sample period + 1 (lookback() = period).
class Rsi {
 public:
  // `period` >= 1 (smaller values are treated as 1).
  explicit Rsi(int period) : period_(std::max(1, period)) {}

  // Adds a price; returns the RSI in [0, 100] once defined.
  std::optional<double> Update(double price) {
    if (count_ == 0) {
      prev_ = price;
      ++count_;
      return std::nullopt;
    }
    const double change = price - prev_;
    prev_ = price;
    const double gain = change > 0 ? change : 0.0;
    const double loss = change < 0 ? -change : 0.0;
    if (count_ <= period_) {
      avg_gain_ += gain;
      avg_loss_ += loss;
      ++count_;
      if (count_ <= period_) return std::nullopt;
      avg_gain_ /= period_;
      avg_loss_ /= period_;
    } else {
      avg_gain_ = (avg_gain_ * (period_ - 1) + gain) / period_;
      avg_loss_ = (avg_loss_ * (period_ - 1) + loss) / period_;
      ++count_;
    }
    const double total = avg_gain_ + avg_loss_;
    value_ = total != 0 ? 100.0 * avg_gain_ / total : 0.0;
    return value_;
  }
  bool ready() const { return count_ > period_; }
  // The latest RSI; meaningful once ready().
  double value() const { return value_; }
  int period() const { return period_; }
  int lookback() const { return period_; }
  void Reset() {
    count_ = 0;
    prev_ = avg_gain_ = avg_loss_ = value_ = 0;
  }

 private:
  int period_;
  int64_t count_ = 0;
  double prev_ = 0;
  double avg_gain_ = 0;  // a sum during warm-up
  double avg_loss_ = 0;
  double value_ = 0;
};

// ATR with Wilder smoothing (TA-Lib TA_ATR): true range TR = max(high - low, |high - prev_close|,
// |low - prev_close|) from the second bar on; the first ATR is the simple average of the first
// `period` TRs, then atr = (atr * (period - 1) + tr) / period. The first value comes on bar
// period + 1 (lookback() = period).
class Atr {
 public:
  // `period` >= 1 (smaller values are treated as 1).
  explicit Atr(int period) : period_(std::max(1, period)) {}

  // Adds one bar; returns the ATR once defined.
  std::optional<double> Update(double high, double low, double close) {
    if (count_ == 0) {
      prev_close_ = close;
      ++count_;
      return std::nullopt;
    }
    const double tr =
        std::max(high - low, std::max(std::fabs(high - prev_close_), std::fabs(low - prev_close_)));
    prev_close_ = close;
    if (count_ <= period_) {
      value_ += tr;
      ++count_;
      if (count_ <= period_) return std::nullopt;
      value_ /= period_;
    } else {
      value_ = (value_ * (period_ - 1) + tr) / period_;
      ++count_;
    }
    return value_;
  }
  bool ready() const { return count_ > period_; }
  // The latest ATR; meaningful once ready().
  double value() const { return value_; }
  int period() const { return period_; }
  int lookback() const { return period_; }
  void Reset() {
    count_ = 0;
    prev_close_ = value_ = 0;
  }

 private:
  int period_;
  int64_t count_ = 0;
  double prev_close_ = 0;
  double value_ = 0;  // a sum during warm-up
};

}  // namespace tickmesh::indicators
