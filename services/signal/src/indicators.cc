#include "indicators.h"

#include <algorithm>

namespace tickmesh::signal {

Ema::Ema(int period) : period_(std::max(1, period)), alpha_(2.0 / (period_ + 1.0)) {}

bool Ema::Update(double x) {
  ++count_;
  if (count_ < period_) {
    sum_ += x;
  } else if (count_ == period_) {
    sum_ += x;
    value_ = sum_ / period_;
  } else {
    value_ += alpha_ * (x - value_);
  }
  return ready();
}

void Ema::Reset() {
  count_ = 0;
  sum_ = 0;
  value_ = 0;
}

Macd::Macd(int fast, int slow, int signal) : fast_(fast), slow_(slow), signal_(signal) {}

std::optional<MacdValue> Macd::Update(double price) {
  fast_.Update(price);
  if (!slow_.Update(price)) return std::nullopt;
  MacdValue v;
  v.ema_fast = fast_.value();
  v.ema_slow = slow_.value();
  v.line = v.ema_fast - v.ema_slow;
  if (!signal_.Update(v.line)) return std::nullopt;
  v.signal = signal_.value();
  v.histogram = v.line - v.signal;
  return v;
}

void Macd::Reset() {
  fast_.Reset();
  slow_.Reset();
  signal_.Reset();
}

}  // namespace tickmesh::signal
