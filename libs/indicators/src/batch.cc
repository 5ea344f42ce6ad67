#include "tickmesh/indicators/batch.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tickmesh/indicators/flow.h"

namespace tickmesh::indicators {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

absl::Status CheckPeriod(const char* name, int period) {
  if (period < 1 || period > 1'000'000) {
    return absl::InvalidArgumentError(absl::StrCat(name, " must be in [1, 1000000], got ", period));
  }
  return absl::OkStatus();
}

absl::Status CheckOut(const char* name, size_t in, std::span<double> out) {
  if (out.size() < in) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " has ", out.size(), " elements, the input ", in));
  }
  return absl::OkStatus();
}

void FillNaN(std::span<double> out, size_t from, size_t to) {
  for (size_t i = from; i < to && i < out.size(); ++i) out[i] = kNaN;
}

// EMA of in[from..n) seeded with the average of in[seed_from..from+period) — i.e. the first output
// is at index seed_end = seed_from + period - 1. Writes out[seed_end..n).
void EmaInto(std::span<const double> in, int period, size_t seed_from, std::span<double> out) {
  const size_t n = in.size();
  const size_t seed_end = seed_from + static_cast<size_t>(period) - 1;
  if (seed_end >= n) return;
  double sum = 0;
  for (size_t i = seed_from; i <= seed_end; ++i) sum += in[i];
  double v = sum / period;
  out[seed_end] = v;
  const double alpha = 2.0 / (period + 1.0);
  for (size_t i = seed_end + 1; i < n; ++i) {
    v += alpha * (in[i] - v);
    out[i] = v;
  }
}

}  // namespace

absl::StatusOr<size_t> SmaBatch(std::span<const double> in, int period, std::span<double> out) {
  if (auto s = CheckPeriod("period", period); !s.ok()) return s;
  if (auto s = CheckOut("out", in.size(), out); !s.ok()) return s;
  const size_t p = static_cast<size_t>(period), n = in.size();
  FillNaN(out, 0, std::min(n, p - 1));
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    sum += in[i];
    if (i >= p) sum -= in[i - p];
    if (i + 1 >= p) out[i] = sum / period;
  }
  return std::min(n, p - 1);
}

absl::StatusOr<size_t> EmaBatch(std::span<const double> in, int period, std::span<double> out) {
  if (auto s = CheckPeriod("period", period); !s.ok()) return s;
  if (auto s = CheckOut("out", in.size(), out); !s.ok()) return s;
  const size_t first = std::min(in.size(), static_cast<size_t>(period) - 1);
  FillNaN(out, 0, first);
  EmaInto(in, period, 0, out);
  return first;
}

absl::StatusOr<size_t> MacdBatch(std::span<const double> in, int fast, int slow, int signal,
                                 std::span<double> line, std::span<double> signal_out,
                                 std::span<double> histogram) {
  if (auto s = CheckPeriod("fast", fast); !s.ok()) return s;
  if (auto s = CheckPeriod("slow", slow); !s.ok()) return s;
  if (auto s = CheckPeriod("signal", signal); !s.ok()) return s;
  if (fast >= slow) return absl::InvalidArgumentError("fast must be < slow");
  for (auto [name, out] : {std::pair<const char*, std::span<double>>{"line", line},
                           {"signal_out", signal_out},
                           {"histogram", histogram}}) {
    if (auto s = CheckOut(name, in.size(), out); !s.ok()) return s;
  }
  const size_t n = in.size();
  const size_t slow_first = static_cast<size_t>(slow) - 1;
  const size_t first = std::min(n, slow_first + static_cast<size_t>(signal) - 1);
  FillNaN(line, 0, first);
  FillNaN(signal_out, 0, first);
  FillNaN(histogram, 0, first);
  if (first >= n) return n;
  // TA-Lib alignment: both EMAs are seeded at index slow - 1, the fast one with the average of
  // the `fast` closes ending there, the slow one with the average of the first `slow`.
  double fast_sum = 0, slow_sum = 0;
  for (size_t i = 0; i <= slow_first; ++i) {
    slow_sum += in[i];
    if (i + static_cast<size_t>(fast) > slow_first) fast_sum += in[i];
  }
  double ema_fast = fast_sum / fast, ema_slow = slow_sum / slow;
  const double af = 2.0 / (fast + 1.0), as = 2.0 / (slow + 1.0), ag = 2.0 / (signal + 1.0);
  // The signal EMA is seeded with the average of the first `signal` lines.
  double line_sum = ema_fast - ema_slow;
  for (size_t i = slow_first + 1; i <= first; ++i) {
    ema_fast += af * (in[i] - ema_fast);
    ema_slow += as * (in[i] - ema_slow);
    line_sum += ema_fast - ema_slow;
  }
  double sig = line_sum / signal;
  line[first] = ema_fast - ema_slow;
  signal_out[first] = sig;
  histogram[first] = line[first] - sig;
  for (size_t i = first + 1; i < n; ++i) {
    ema_fast += af * (in[i] - ema_fast);
    ema_slow += as * (in[i] - ema_slow);
    const double l = ema_fast - ema_slow;
    sig += ag * (l - sig);
    line[i] = l;
    signal_out[i] = sig;
    histogram[i] = l - sig;
  }
  return first;
}

absl::StatusOr<size_t> RsiBatch(std::span<const double> in, int period, std::span<double> out) {
  if (auto s = CheckPeriod("period", period); !s.ok()) return s;
  if (auto s = CheckOut("out", in.size(), out); !s.ok()) return s;
  const size_t p = static_cast<size_t>(period), n = in.size();
  FillNaN(out, 0, std::min(n, p));
  if (n <= p) return n;
  double gain = 0, loss = 0;
  for (size_t i = 1; i <= p; ++i) {
    const double d = in[i] - in[i - 1];
    (d > 0 ? gain : loss) += std::fabs(d);
  }
  gain /= period;
  loss /= period;
  auto rsi = [](double g, double l) { return g + l != 0 ? 100.0 * g / (g + l) : 0.0; };
  out[p] = rsi(gain, loss);
  for (size_t i = p + 1; i < n; ++i) {
    const double d = in[i] - in[i - 1];
    gain = (gain * (period - 1) + (d > 0 ? d : 0.0)) / period;
    loss = (loss * (period - 1) + (d < 0 ? -d : 0.0)) / period;
    out[i] = rsi(gain, loss);
  }
  return p;
}

absl::StatusOr<size_t> AtrBatch(std::span<const double> high, std::span<const double> low,
                                std::span<const double> close, int period, std::span<double> out) {
  if (auto s = CheckPeriod("period", period); !s.ok()) return s;
  if (high.size() != close.size() || low.size() != close.size()) {
    return absl::InvalidArgumentError("high, low and close must have the same length");
  }
  if (auto s = CheckOut("out", close.size(), out); !s.ok()) return s;
  const size_t p = static_cast<size_t>(period), n = close.size();
  FillNaN(out, 0, std::min(n, p));
  if (n <= p) return n;
  auto tr = [&](size_t i) {
    return std::max(high[i] - low[i],
                    std::max(std::fabs(high[i] - close[i - 1]), std::fabs(low[i] - close[i - 1])));
  };
  double atr = 0;
  for (size_t i = 1; i <= p; ++i) atr += tr(i);
  atr /= period;
  out[p] = atr;
  for (size_t i = p + 1; i < n; ++i) {
    atr = (atr * (period - 1) + tr(i)) / period;
    out[i] = atr;
  }
  return p;
}

absl::StatusOr<size_t> StdDevBatch(std::span<const double> in, int period, std::span<double> out) {
  if (auto s = CheckPeriod("period", period); !s.ok()) return s;
  if (auto s = CheckOut("out", in.size(), out); !s.ok()) return s;
  const size_t p = static_cast<size_t>(period), n = in.size();
  FillNaN(out, 0, std::min(n, p - 1));
  // Two-pass per window: O(n * period), but exact; the streaming form is the O(1) one.
  for (size_t i = p - 1; i < n; ++i) {
    double mean = 0;
    for (size_t k = i + 1 - p; k <= i; ++k) mean += in[k];
    mean /= period;
    double ss = 0;
    for (size_t k = i + 1 - p; k <= i; ++k) ss += (in[k] - mean) * (in[k] - mean);
    out[i] = std::sqrt(ss / period);
  }
  return std::min(n, p - 1);
}

absl::StatusOr<size_t> BollingerBatch(std::span<const double> in, int period, double k,
                                      std::span<double> lower, std::span<double> middle,
                                      std::span<double> upper) {
  if (auto s = CheckOut("lower", in.size(), lower); !s.ok()) return s;
  if (auto s = CheckOut("upper", in.size(), upper); !s.ok()) return s;
  auto first = SmaBatch(in, period, middle);
  if (!first.ok()) return first;
  if (auto s = StdDevBatch(in, period, upper); !s.ok()) return s;  // stddev into upper first
  for (size_t i = 0; i < in.size(); ++i) {
    const double sd = upper[i];
    lower[i] = middle[i] - k * sd;
    upper[i] = middle[i] + k * sd;
  }
  return first;
}

absl::StatusOr<size_t> RealizedVolBatch(std::span<const double> prices, int period,
                                        std::span<double> out) {
  if (auto s = CheckPeriod("period", period); !s.ok()) return s;
  if (auto s = CheckOut("out", prices.size(), out); !s.ok()) return s;
  const size_t p = static_cast<size_t>(period), n = prices.size();
  FillNaN(out, 0, n);
  for (size_t i = p; i < n; ++i) {
    double ss = 0;
    for (size_t k = i + 1 - p; k <= i; ++k) {
      if (!(prices[k] > 0 && prices[k - 1] > 0))
        return absl::InvalidArgumentError("prices must be > 0");
      const double r = std::log(prices[k] / prices[k - 1]);
      ss += r * r;
    }
    out[i] = std::sqrt(ss);
  }
  return std::min(n, p);
}

absl::StatusOr<size_t> RollingVwapBatch(std::span<const double> price, std::span<const double> qty,
                                        int window, std::span<double> out) {
  if (auto s = CheckPeriod("window", window); !s.ok()) return s;
  if (price.size() != qty.size()) {
    return absl::InvalidArgumentError("price and qty must have the same length");
  }
  if (auto s = CheckOut("out", price.size(), out); !s.ok()) return s;
  const size_t w = static_cast<size_t>(window), n = price.size();
  FillNaN(out, 0, n);
  size_t first = n;
  for (size_t i = w - 1; i < n; ++i) {
    double pq = 0, q = 0;
    for (size_t k = i + 1 - w; k <= i; ++k) {
      const double qk = qty[k] > 0 ? qty[k] : 0.0;
      pq += price[k] * qk;
      q += qk;
    }
    if (q > 0) {
      out[i] = pq / q;
      first = std::min(first, i);
    }
  }
  return first;
}

absl::StatusOr<size_t> BookImbalanceBatch(std::span<const double> bid_qty,
                                          std::span<const double> ask_qty, std::span<double> out) {
  if (bid_qty.size() != ask_qty.size()) {
    return absl::InvalidArgumentError("bid_qty and ask_qty must have the same length");
  }
  if (auto s = CheckOut("out", bid_qty.size(), out); !s.ok()) return s;
  for (size_t i = 0; i < bid_qty.size(); ++i) out[i] = BookImbalance(bid_qty[i], ask_qty[i]);
  return 0;
}

absl::StatusOr<size_t> MicropriceBatch(std::span<const double> bid, std::span<const double> bid_qty,
                                       std::span<const double> ask, std::span<const double> ask_qty,
                                       std::span<double> out) {
  const size_t n = bid.size();
  if (bid_qty.size() != n || ask.size() != n || ask_qty.size() != n) {
    return absl::InvalidArgumentError("bid, bid_qty, ask and ask_qty must have the same length");
  }
  if (auto s = CheckOut("out", n, out); !s.ok()) return s;
  for (size_t i = 0; i < n; ++i) out[i] = Microprice(bid[i], bid_qty[i], ask[i], ask_qty[i]);
  return 0;
}

}  // namespace tickmesh::indicators
