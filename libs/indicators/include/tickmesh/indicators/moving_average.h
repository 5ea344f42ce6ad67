// Streaming moving averages: SMA and EMA. O(1) time per update, memory bounded by the period,
// no allocation after construction. Warm-up is explicit: ready() is false (and value() is not
// meaningful) until `period` samples have been seen. Conventions follow TA-Lib (TA_SMA, TA_EMA
// with the default compatibility: the EMA is seeded with the SMA of its first `period` samples).
//
// Example:
//   tickmesh::indicators::Ema ema(20);
//   for (double close : closes) {
//     if (ema.Update(close)) Use(ema.value());
//   }
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace tickmesh::indicators {

// Simple moving average of the last `period` samples (ring buffer + running sum).
class Sma {
 public:
  // `period` >= 1 (smaller values are treated as 1). Allocates the ring once.
  explicit Sma(int period) : period_(std::max(1, period)), ring_(static_cast<size_t>(period_)) {}

  // Adds a sample; returns ready().
  bool Update(double x) {
    const size_t slot = static_cast<size_t>(count_ % period_);
    if (count_ >= period_) sum_ -= ring_[slot];
    ring_[slot] = x;
    sum_ += x;
    ++count_;
    return ready();
  }
  bool ready() const { return count_ >= period_; }
  // Mean of the last `period` samples; meaningful once ready().
  double value() const { return sum_ / period_; }
  int period() const { return period_; }
  int64_t count() const { return count_; }
  // Samples before the first value (TA-Lib lookback): period - 1.
  int lookback() const { return period_ - 1; }
  // Forgets every sample (keeps the allocation).
  void Reset() {
    count_ = 0;
    sum_ = 0;
  }

 private:
  int period_;
  std::vector<double> ring_;
  int64_t count_ = 0;
  double sum_ = 0;
};

// Exponential moving average, alpha = 2 / (period + 1), seeded with the simple average of the first
// `period` samples, so defined from the period-th sample on.
class Ema {
 public:
  // `period` >= 1 (smaller values are treated as 1).
  explicit Ema(int period) : period_(std::max(1, period)), alpha_(2.0 / (period_ + 1.0)) {}

  // Adds a sample; returns ready().
  bool Update(double x) {
    if (count_ >= period_) {
      value_ += alpha_ * (x - value_);
    } else {
      sum_ += x;
      if (count_ + 1 == period_) value_ = sum_ / period_;
    }
    ++count_;
    return ready();
  }
  // Starts the average at `seed` as if `period` samples had been seen (used by MACD, whose fast
  // EMA TA-Lib seeds from a window that ends where the slow EMA's seed ends).
  void Seed(double seed) {
    value_ = seed;
    count_ = period_;
    sum_ = 0;
  }
  bool ready() const { return count_ >= period_; }
  // The current average; meaningful once ready().
  double value() const { return value_; }
  int period() const { return period_; }
  double alpha() const { return alpha_; }
  int64_t count() const { return count_; }
  // Samples before the first value: period - 1.
  int lookback() const { return period_ - 1; }
  // Forgets every sample.
  void Reset() {
    count_ = 0;
    sum_ = 0;
    value_ = 0;
  }

 private:
  int period_;
  double alpha_;
  int64_t count_ = 0;
  double sum_ = 0;  // during warm-up
  double value_ = 0;
};

}  // namespace tickmesh::indicators
