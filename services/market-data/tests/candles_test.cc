#include "candles.h"

#include <vector>

#include "gtest/gtest.h"

namespace tickmesh::market_data {
namespace {

constexpr int64_t kSec = 1'000'000'000;

TEST(CandleSeries, AggregatesOhlcvWithinInterval) {
  CandleSeries s(60, 10);
  ASSERT_TRUE(s.AddTrade(120 * kSec + 1, 100, 5));
  ASSERT_TRUE(s.AddTrade(130 * kSec, 110, 1));
  ASSERT_TRUE(s.AddTrade(150 * kSec, 90, 2));
  ASSERT_TRUE(s.AddTrade(179 * kSec, 95, 3));
  std::vector<tickmesh::v1::Candle> out;
  s.Query(0, 0, 10, /*now=*/170 * kSec, "sim", "BTC-USD", &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].open_unix_ns(), 120 * kSec);
  EXPECT_EQ(out[0].open_e8(), 100);
  EXPECT_EQ(out[0].high_e8(), 110);
  EXPECT_EQ(out[0].low_e8(), 90);
  EXPECT_EQ(out[0].close_e8(), 95);
  EXPECT_EQ(out[0].volume_e8(), 11);
  EXPECT_EQ(out[0].trade_count(), 4u);
  EXPECT_EQ(out[0].interval_s(), 60u);
  EXPECT_EQ(out[0].symbol(), "BTC-USD");
  EXPECT_FALSE(out[0].closed());
}

TEST(CandleSeries, ClosesBarWhenTradeFallsInLaterIntervalAndReportsAscending) {
  CandleSeries s(1, 10);
  ASSERT_TRUE(s.AddTrade(1 * kSec, 10, 1));
  ASSERT_TRUE(s.AddTrade(3 * kSec + 5, 20, 1));  // 2 s had no trades: no bar
  ASSERT_TRUE(s.AddTrade(4 * kSec, 30, 1));
  std::vector<tickmesh::v1::Candle> out;
  s.Query(0, 0, 10, 4 * kSec + 1, "v", "s", &out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].open_unix_ns(), 1 * kSec);
  EXPECT_EQ(out[1].open_unix_ns(), 3 * kSec);
  EXPECT_EQ(out[2].open_unix_ns(), 4 * kSec);
  EXPECT_TRUE(out[0].closed());
  EXPECT_TRUE(out[1].closed());
  EXPECT_FALSE(out[2].closed());
}

TEST(CandleSeries, OpenBarReportedClosedOnceItsIntervalHasPassed) {
  CandleSeries s(1, 10);
  ASSERT_TRUE(s.AddTrade(1 * kSec, 10, 1));
  std::vector<tickmesh::v1::Candle> out;
  s.Query(0, 0, 10, 2 * kSec, "v", "s", &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].closed());
}

TEST(CandleSeries, RejectsLateTradeWithoutChangingBars) {
  CandleSeries s(1, 10);
  ASSERT_TRUE(s.AddTrade(5 * kSec, 10, 1));
  EXPECT_FALSE(s.AddTrade(4 * kSec, 1000, 1));
  EXPECT_EQ(s.late_trades(), 1u);
  std::vector<tickmesh::v1::Candle> out;
  s.Query(0, 0, 10, 5 * kSec, "v", "s", &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].high_e8(), 10);
}

TEST(CandleSeries, HistoryIsBoundedAndLimitKeepsMostRecent) {
  CandleSeries s(1, 3);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(s.AddTrade(i * kSec, 100 + i, 1));
  EXPECT_EQ(s.closed_bars(), 3u);
  std::vector<tickmesh::v1::Candle> out;
  s.Query(0, 0, 2, 10 * kSec, "v", "s", &out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].open_unix_ns(), 8 * kSec);
  EXPECT_EQ(out[1].open_unix_ns(), 9 * kSec);
}

TEST(CandleSeries, QueryHonoursTimeRange) {
  CandleSeries s(1, 100);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(s.AddTrade(i * kSec, 100 + i, 1));
  std::vector<tickmesh::v1::Candle> out;
  s.Query(3 * kSec, 6 * kSec, 100, 10 * kSec, "v", "s", &out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].open_unix_ns(), 3 * kSec);
  EXPECT_EQ(out[2].open_unix_ns(), 5 * kSec);
}

TEST(CandleSet, FeedsEveryInterval) {
  CandleSet set({1, 60}, 10);
  EXPECT_EQ(set.AddTrade(61 * kSec, 100, 1), 0);
  EXPECT_EQ(set.AddTrade(62 * kSec, 101, 1), 0);
  ASSERT_NE(set.Find(1), nullptr);
  ASSERT_NE(set.Find(60), nullptr);
  EXPECT_EQ(set.Find(300), nullptr);
  EXPECT_EQ(set.Find(1)->closed_bars(), 1u);
  EXPECT_EQ(set.Find(60)->closed_bars(), 0u);
}

}  // namespace
}  // namespace tickmesh::market_data
