// Batch forms agree with the streaming forms on random data (to 1e-9), align their warm-up, and
// reject bad arguments.
#include "tickmesh/indicators/batch.h"

#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "tickmesh/indicators/flow.h"
#include "tickmesh/indicators/moving_average.h"
#include "tickmesh/indicators/oscillators.h"
#include "tickmesh/indicators/volatility.h"

namespace tickmesh::indicators {
namespace {

constexpr double kTol = 1e-9;

struct Series {
  std::vector<double> close, high, low, qty;
};

// A random walk around 30 000 (BTC-like), 2 000 samples, fixed seed.
Series RandomSeries(size_t n = 2000, uint64_t seed = 42) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> step(0, 15);
  std::uniform_real_distribution<double> range(0, 20), q(0, 2);
  Series s;
  double p = 30'000;
  for (size_t i = 0; i < n; ++i) {
    p = std::max(1.0, p + step(rng));
    s.close.push_back(p);
    s.high.push_back(p + range(rng));
    s.low.push_back(p - range(rng));
    s.qty.push_back(q(rng));
  }
  return s;
}

// Compares a streaming run (std::nullopt during warm-up) with a batch output (NaN there).
void ExpectSame(const std::vector<std::optional<double>>& streaming,
                const std::vector<double>& batch, size_t first, const char* what) {
  ASSERT_EQ(streaming.size(), batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    if (i < first) {
      ASSERT_FALSE(streaming[i].has_value()) << what << " defined early at " << i;
      ASSERT_TRUE(std::isnan(batch[i])) << what << " batch defined early at " << i;
    } else {
      ASSERT_TRUE(streaming[i].has_value()) << what << " undefined at " << i;
      ASSERT_NEAR(*streaming[i], batch[i], kTol * std::max(1.0, std::fabs(batch[i])))
          << what << " at " << i;
    }
  }
}

TEST(Batch, SmaEmaStdDevMatchStreaming) {
  const Series s = RandomSeries();
  const size_t n = s.close.size();
  std::vector<double> out(n);
  Sma sma(20);
  Ema ema(20);
  RollingStats sd(20);
  std::vector<std::optional<double>> a, b, c;
  for (double x : s.close) {
    a.push_back(sma.Update(x) ? std::optional<double>(sma.value()) : std::nullopt);
    b.push_back(ema.Update(x) ? std::optional<double>(ema.value()) : std::nullopt);
    c.push_back(sd.Update(x) ? std::optional<double>(sd.stddev()) : std::nullopt);
  }
  auto first = SmaBatch(s.close, 20, out);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, 19u);
  ExpectSame(a, out, *first, "sma");
  first = EmaBatch(s.close, 20, out);
  ASSERT_TRUE(first.ok());
  ExpectSame(b, out, *first, "ema");
  first = StdDevBatch(s.close, 20, out);
  ASSERT_TRUE(first.ok());
  // The O(1) windowed update accumulates rounding differently from the two-pass batch; on
  // prices ~3e4 with stddev ~50 the difference stays far below 1e-9 relative to the price.
  for (size_t i = *first; i < n; ++i) ASSERT_NEAR(*c[i], out[i], 1e-9 * s.close[i]) << i;
}

TEST(Batch, MacdMatchesStreaming) {
  const Series s = RandomSeries();
  const size_t n = s.close.size();
  std::vector<double> line(n), signal(n), hist(n);
  auto first = MacdBatch(s.close, 12, 26, 9, line, signal, hist);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, 33u);
  Macd macd(12, 26, 9);
  std::vector<std::optional<double>> l, g, h;
  for (double x : s.close) {
    auto v = macd.Update(x);
    l.push_back(v ? std::optional<double>(v->line) : std::nullopt);
    g.push_back(v ? std::optional<double>(v->signal) : std::nullopt);
    h.push_back(v ? std::optional<double>(v->histogram) : std::nullopt);
  }
  ExpectSame(l, line, *first, "macd line");
  ExpectSame(g, signal, *first, "macd signal");
  ExpectSame(h, hist, *first, "macd histogram");
}

TEST(Batch, RsiAtrMatchStreaming) {
  const Series s = RandomSeries();
  const size_t n = s.close.size();
  std::vector<double> out(n);
  Rsi rsi(14);
  Atr atr(14);
  std::vector<std::optional<double>> r, a;
  for (size_t i = 0; i < n; ++i) {
    r.push_back(rsi.Update(s.close[i]));
    a.push_back(atr.Update(s.high[i], s.low[i], s.close[i]));
  }
  auto first = RsiBatch(s.close, 14, out);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, 14u);
  ExpectSame(r, out, *first, "rsi");
  first = AtrBatch(s.high, s.low, s.close, 14, out);
  ASSERT_TRUE(first.ok());
  ExpectSame(a, out, *first, "atr");
}

TEST(Batch, BollingerRealizedVolVwapBookMatchStreaming) {
  const Series s = RandomSeries();
  const size_t n = s.close.size();
  std::vector<double> lo(n), mid(n), up(n), out(n);
  auto first = BollingerBatch(s.close, 20, 2.0, lo, mid, up);
  ASSERT_TRUE(first.ok());
  Bollinger bb(20, 2.0);
  for (size_t i = 0; i < n; ++i) {
    auto v = bb.Update(s.close[i]);
    ASSERT_EQ(v.has_value(), i >= *first) << i;
    if (v) {
      ASSERT_NEAR(v->middle, mid[i], kTol * mid[i]) << i;
      ASSERT_NEAR(v->upper, up[i], kTol * up[i]) << i;
      ASSERT_NEAR(v->lower, lo[i], kTol * lo[i]) << i;
    }
  }
  RealizedVol rv(30);
  std::vector<std::optional<double>> r;
  for (double x : s.close) r.push_back(rv.Update(x));
  first = RealizedVolBatch(s.close, 30, out);
  ASSERT_TRUE(first.ok());
  ExpectSame(r, out, *first, "realized vol");
  RollingVwap vwap(50);
  std::vector<std::optional<double>> w;
  for (size_t i = 0; i < n; ++i) w.push_back(vwap.Update(s.close[i], s.qty[i]));
  first = RollingVwapBatch(s.close, s.qty, 50, out);
  ASSERT_TRUE(first.ok());
  ExpectSame(w, out, *first, "rolling vwap");
  ASSERT_TRUE(BookImbalanceBatch(s.high, s.qty, out).ok());
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], BookImbalance(s.high[i], s.qty[i]));
  ASSERT_TRUE(MicropriceBatch(s.low, s.qty, s.high, s.qty, out).ok());
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(out[i], Microprice(s.low[i], s.qty[i], s.high[i], s.qty[i]));
  }
}

TEST(Batch, ShortInputIsAllNaN) {
  std::vector<double> in = {1, 2, 3}, line(3), sig(3), hist(3);
  auto first = MacdBatch(in, 12, 26, 9, line, sig, hist);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, 3u);
  for (double v : hist) EXPECT_TRUE(std::isnan(v));
}

TEST(Batch, RejectsBadArgumentsNamingThem) {
  std::vector<double> in(10, 1.0), out(10), small(5);
  EXPECT_NE(SmaBatch(in, 0, out).status().message().find("period"), absl::string_view::npos);
  EXPECT_NE(EmaBatch(in, 3, small).status().message().find("out"), absl::string_view::npos);
  std::vector<double> a(10), b(10), c(10);
  EXPECT_NE(MacdBatch(in, 26, 12, 9, a, b, c).status().message().find("fast"),
            absl::string_view::npos);
  EXPECT_FALSE(AtrBatch(in, small, in, 3, out).ok());
}

}  // namespace
}  // namespace tickmesh::indicators
