// Streaming dispersion indicators: rolling mean / standard deviation, Bollinger Bands and realised
// volatility. O(1) per update (windowed Welford update, numerically stable), memory bounded by the
// period, no allocation after construction, explicit warm-up (ready()).
//
// Example:
//   tickmesh::indicators::Bollinger bb(20, 2.0);
//   for (double close : closes) {
//     if (auto b = bb.Update(close)) Use(b->lower, b->middle, b->upper);
//   }
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

namespace tickmesh::indicators {

// Mean and standard deviation of the last `period` samples. stddev() is the population standard
// deviation (divide by n, as TA-Lib's TA_STDDEV and TA_BBANDS); sample_stddev() divides by n - 1.
class RollingStats {
 public:
  // `period` >= 1 (smaller values are treated as 1). Allocates the ring once.
  explicit RollingStats(int period)
      : period_(std::max(1, period)), ring_(static_cast<size_t>(period_)) {}

  // Adds a sample; returns ready().
  bool Update(double x) {
    const size_t slot = static_cast<size_t>(count_ % period_);
    if (count_ < period_) {
      ++count_;
      const double delta = x - mean_;
      mean_ += delta / static_cast<double>(count_);
      m2_ += delta * (x - mean_);
    } else {
      const double old = ring_[slot];
      const double old_mean = mean_;
      mean_ += (x - old) / period_;
      m2_ += (x - old) * (x - mean_ + old - old_mean);
      if (m2_ < 0) m2_ = 0;  // rounding
      ++count_;
    }
    ring_[slot] = x;
    return ready();
  }
  bool ready() const { return count_ >= period_; }
  double mean() const { return mean_; }
  // Population variance / standard deviation of the window; meaningful once ready().
  double variance() const { return m2_ / std::min<int64_t>(count_, period_); }
  double stddev() const { return std::sqrt(variance()); }
  // Sample (n - 1) standard deviation; 0 for a window of one.
  double sample_stddev() const {
    const int64_t n = std::min<int64_t>(count_, period_);
    return n > 1 ? std::sqrt(m2_ / static_cast<double>(n - 1)) : 0.0;
  }
  int period() const { return period_; }
  int lookback() const { return period_ - 1; }
  void Reset() {
    count_ = 0;
    mean_ = m2_ = 0;
  }

 private:
  int period_;
  std::vector<double> ring_;
  int64_t count_ = 0;
  double mean_ = 0;
  double m2_ = 0;
};

struct BollingerValue {
  double lower = 0;
  double middle = 0;  // SMA(period)
  double upper = 0;
  double stddev = 0;  // population standard deviation of the window
};

// Bollinger Bands (TA-Lib TA_BBANDS with an SMA): middle = SMA(period), upper/lower = middle ±
// k * population stddev. First value on sample `period`.
class Bollinger {
 public:
  Bollinger(int period, double k) : stats_(period), k_(k) {}

  std::optional<BollingerValue> Update(double x) {
    if (!stats_.Update(x)) return std::nullopt;
    BollingerValue v;
    v.middle = stats_.mean();
    v.stddev = stats_.stddev();
    v.upper = v.middle + k_ * v.stddev;
    v.lower = v.middle - k_ * v.stddev;
    return v;
  }
  bool ready() const { return stats_.ready(); }
  int lookback() const { return stats_.lookback(); }
  void Reset() { stats_.Reset(); }

 private:
  RollingStats stats_;
  double k_;
};

// Realised volatility over the last `period` log returns: sqrt(sum of r_i^2), r_i = ln(p_i /
// p_{i-1}) (not annualised; multiply by sqrt(periods per year) for that). Non-positive prices are
// ignored. First value on price period + 1.
class RealizedVol {
 public:
  explicit RealizedVol(int period)
      : period_(std::max(1, period)), ring_(static_cast<size_t>(period_)) {}

  std::optional<double> Update(double price) {
    if (!(price > 0)) return ready() ? std::optional<double>(value()) : std::nullopt;
    if (prev_ <= 0) {
      prev_ = price;
      return std::nullopt;
    }
    const double r = std::log(price / prev_);
    prev_ = price;
    const size_t slot = static_cast<size_t>(count_ % period_);
    if (count_ >= period_) sum_sq_ -= ring_[slot];
    ring_[slot] = r * r;
    sum_sq_ += r * r;
    if (sum_sq_ < 0) sum_sq_ = 0;
    ++count_;
    if (!ready()) return std::nullopt;
    return value();
  }
  bool ready() const { return count_ >= period_; }
  double value() const { return std::sqrt(sum_sq_); }
  int lookback() const { return period_; }
  void Reset() {
    count_ = 0;
    prev_ = sum_sq_ = 0;
  }

 private:
  int period_;
  std::vector<double> ring_;
  int64_t count_ = 0;
  double prev_ = 0;
  double sum_sq_ = 0;
};

}  // namespace tickmesh::indicators
