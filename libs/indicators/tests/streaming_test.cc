// Streaming indicators against published worked examples and hand-computed values.
#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "tickmesh/indicators/flow.h"
#include "tickmesh/indicators/moving_average.h"
#include "tickmesh/indicators/oscillators.h"
#include "tickmesh/indicators/volatility.h"

namespace tickmesh::indicators {
namespace {

// StockCharts ChartSchool "Moving Averages" worked example (10-day SMA / EMA).
const std::vector<double> kMaCloses = {22.27, 22.19, 22.08, 22.17, 22.18, 22.13, 22.23, 22.43,
                                       22.24, 22.29, 22.15, 22.39, 22.38, 22.61, 23.36, 24.05,
                                       23.75, 23.83, 23.95, 23.63, 23.82, 23.87, 23.65, 23.19,
                                       23.10, 23.33, 22.68, 23.10, 22.40, 22.17};
const std::vector<double> kPublishedEma10 = {22.22, 22.21, 22.24, 22.27, 22.33, 22.52, 22.80,
                                             22.97, 23.13, 23.28, 23.34, 23.43, 23.51, 23.54,
                                             23.47, 23.40, 23.39, 23.26, 23.23, 23.08, 22.92};
const std::vector<double> kPublishedSma10 = {22.22, 22.21, 22.23, 22.26, 22.31, 22.42, 22.61,
                                             22.77, 22.91, 23.08, 23.21, 23.38, 23.53, 23.65,
                                             23.71, 23.69, 23.61, 23.51, 23.43, 23.28, 23.13};

// StockCharts ChartSchool "RSI" worked example (14 periods, Wilder smoothing).
const std::vector<double> kRsiCloses = {
    44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08, 45.89,
    46.03, 45.61, 46.28, 46.28, 46.00, 46.03, 46.41, 46.22, 45.64, 46.21, 46.25,
    45.71, 46.45, 45.78, 45.35, 44.03, 44.18, 44.22, 44.57, 43.42, 42.66, 43.13};
const std::vector<double> kPublishedRsi14 = {70.46, 66.25, 66.48, 69.35, 66.29, 57.92, 62.88,
                                             63.21, 56.01, 62.34, 54.67, 50.39, 40.02, 41.49,
                                             41.90, 45.50, 37.32, 33.09, 37.79};

TEST(Sma, MatchesPublishedWorkedExample) {
  Sma sma(10);
  std::vector<double> got;
  for (double c : kMaCloses) {
    if (sma.Update(c)) got.push_back(sma.value());
  }
  ASSERT_EQ(got.size(), kPublishedSma10.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], kPublishedSma10[i], 0.01) << i;
}

TEST(Ema, MatchesPublishedWorkedExample) {
  Ema ema(10);
  std::vector<double> got;
  for (double c : kMaCloses) {
    if (ema.Update(c)) got.push_back(ema.value());
  }
  ASSERT_EQ(got.size(), kPublishedEma10.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], kPublishedEma10[i], 0.01) << i;
}

TEST(Ema, SeedsWithSimpleAverageThenSmoothsWithAlpha) {
  Ema ema(3);  // alpha = 0.5
  EXPECT_FALSE(ema.Update(1));
  EXPECT_FALSE(ema.Update(2));
  EXPECT_TRUE(ema.Update(3));
  EXPECT_DOUBLE_EQ(ema.value(), 2.0);
  ema.Update(4);
  EXPECT_DOUBLE_EQ(ema.value(), 3.0);
  ema.Reset();
  EXPECT_FALSE(ema.ready());
}

TEST(Rsi, MatchesPublishedWorkedExample) {
  Rsi rsi(14);
  std::vector<double> got;
  for (size_t i = 0; i < kRsiCloses.size(); ++i) {
    auto v = rsi.Update(kRsiCloses[i]);
    EXPECT_EQ(v.has_value(), i >= 14) << "first RSI on sample period + 1; i=" << i;
    if (v) got.push_back(*v);
  }
  ASSERT_EQ(got.size(), kPublishedRsi14.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], kPublishedRsi14[i], 0.006) << i;
}

TEST(Rsi, FlatSeriesIsZeroLikeTaLibAndAllGainsIsHundred) {
  Rsi flat(3), up(3);
  std::optional<double> f, u;
  for (int i = 0; i < 6; ++i) {
    f = flat.Update(10);
    u = up.Update(10 + i);
  }
  EXPECT_EQ(*f, 0.0);
  EXPECT_EQ(*u, 100.0);
}

TEST(Macd, FollowsTaLibAlignmentOfTheFastEma) {
  // fast 2, slow 4, signal 2. The slow EMA is seeded on sample 4 with avg(1,2,3,4) = 2.5; the fast
  // EMA is seeded there too, with avg(3,4) = 3.5 (not with avg(1,2) evolved), line = 1.
  Macd macd(2, 4, 2);
  EXPECT_EQ(macd.lookback(), 4);
  for (double x : {1.0, 2.0, 3.0, 4.0}) EXPECT_FALSE(macd.Update(x).has_value());
  // Sample 5 = 8: fast = 3.5 + 2/3 * 4.5 = 6.5; slow = 2.5 + 0.4 * 5.5 = 4.7; line = 1.8;
  // signal = avg(1, 1.8) = 1.4; histogram = 0.4.
  auto v = macd.Update(8);
  ASSERT_TRUE(v.has_value());
  EXPECT_NEAR(v->ema_fast, 6.5, 1e-12);
  EXPECT_NEAR(v->ema_slow, 4.7, 1e-12);
  EXPECT_NEAR(v->line, 1.8, 1e-12);
  EXPECT_NEAR(v->signal, 1.4, 1e-12);
  EXPECT_NEAR(v->histogram, 0.4, 1e-12);
}

TEST(Macd, DefaultParametersNeedThirtyFourSamples) {
  Macd macd(12, 26, 9);
  for (int i = 1; i < 34; ++i) ASSERT_FALSE(macd.Update(100 + i).has_value()) << i;
  EXPECT_TRUE(macd.Update(200).has_value());
  macd.Reset();
  EXPECT_FALSE(macd.Update(1).has_value());
}

TEST(Atr, MatchesHandComputedWilderValues) {
  Atr atr(2);
  EXPECT_FALSE(atr.Update(10, 8, 9).has_value());
  EXPECT_FALSE(atr.Update(11, 9, 10).has_value());  // TR = max(2, 2, 0) = 2
  auto v = atr.Update(10.5, 10, 10.2);              // TR = max(0.5, 0.5, 0) = 0.5
  ASSERT_TRUE(v.has_value());
  EXPECT_NEAR(*v, 1.25, 1e-12);  // (2 + 0.5) / 2
  v = atr.Update(14, 13, 13.5);  // TR = max(1, 3.8, 2.8) = 3.8 (gap up)
  EXPECT_NEAR(*v, (1.25 * 1 + 3.8) / 2, 1e-12);
}

TEST(Bollinger, UsesPopulationStandardDeviation) {
  Bollinger bb(4, 2.0);
  for (double x : {2.0, 4.0, 4.0}) EXPECT_FALSE(bb.Update(x).has_value());
  auto v = bb.Update(6);  // mean 4, population variance (4 + 0 + 0 + 4) / 4 = 2
  ASSERT_TRUE(v.has_value());
  EXPECT_NEAR(v->middle, 4.0, 1e-12);
  EXPECT_NEAR(v->stddev, std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(v->upper, 4 + 2 * std::sqrt(2.0), 1e-12);
  v = bb.Update(8);  // window 4,4,6,8: mean 5.5, variance (2.25+2.25+0.25+6.25)/4 = 2.75
  EXPECT_NEAR(v->middle, 5.5, 1e-12);
  EXPECT_NEAR(v->stddev, std::sqrt(2.75), 1e-12);
}

TEST(RollingStats, SampleStdDevDividesByNMinusOne) {
  RollingStats s(3);
  for (double x : {1.0, 2.0, 3.0}) s.Update(x);
  EXPECT_NEAR(s.sample_stddev(), 1.0, 1e-12);
  EXPECT_NEAR(s.stddev(), std::sqrt(2.0 / 3), 1e-12);
}

TEST(RealizedVol, IsRootSumOfSquaredLogReturns) {
  RealizedVol rv(2);
  EXPECT_FALSE(rv.Update(100).has_value());
  EXPECT_FALSE(rv.Update(110).has_value());
  auto v = rv.Update(99);
  ASSERT_TRUE(v.has_value());
  const double r1 = std::log(1.1), r2 = std::log(0.9);
  EXPECT_NEAR(*v, std::sqrt(r1 * r1 + r2 * r2), 1e-12);
  EXPECT_NEAR(*rv.Update(99), std::sqrt(r2 * r2), 1e-12);  // r1 left the window
}

TEST(SessionVwap, RestartsAtSessionBoundary) {
  SessionVwap vwap(1000);
  EXPECT_FALSE(vwap.ready());
  vwap.Update(10, 1, 100);
  EXPECT_NEAR(*vwap.Update(20, 3, 900), 17.5, 1e-12);  // (10 + 60) / 4
  EXPECT_NEAR(*vwap.Update(30, 1, 1000), 30, 1e-12);   // new session
  EXPECT_NEAR(*vwap.Update(40, 0, 1001), 30, 1e-12);   // zero quantity ignored
}

TEST(RollingVwap, CoversTheLastWindowTrades) {
  RollingVwap vwap(2);
  EXPECT_FALSE(vwap.Update(10, 1).has_value());
  EXPECT_NEAR(*vwap.Update(20, 1), 15, 1e-12);
  EXPECT_NEAR(*vwap.Update(40, 3), 35, 1e-12);  // (20 + 120) / 4
}

TEST(Book, ImbalanceAndMicroprice) {
  EXPECT_DOUBLE_EQ(BookImbalance(3, 1), 0.5);
  EXPECT_DOUBLE_EQ(BookImbalance(0, 0), 0.0);
  EXPECT_DOUBLE_EQ(BookImbalance(-5, 5), -1.0);
  // More bid quantity: the microprice leans towards the ask.
  EXPECT_DOUBLE_EQ(Microprice(100, 3, 101, 1), (100 * 1 + 101 * 3) / 4.0);
  EXPECT_DOUBLE_EQ(Microprice(100, 0, 102, 0), 101);
}

}  // namespace
}  // namespace tickmesh::indicators
