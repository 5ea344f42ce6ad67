#include "macd_cross.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace tickmesh::signal {
namespace {

constexpr int64_t kE8i = 100'000'000;

// 40 flat trades, 20 falling, then `rise` rising steeply: one upward crossover during the rise.
std::vector<int64_t> FlatFallRise(int rise = 30) {
  std::vector<int64_t> p;
  for (int i = 0; i < 40; ++i) p.push_back(100 * kE8i);
  for (int i = 1; i <= 20; ++i) p.push_back(100 * kE8i - i * kE8i / 10);
  for (int i = 1; i <= rise; ++i) p.push_back(98 * kE8i + i * kE8i / 2);
  return p;
}

struct CountingSkips : SkipSink {
  int counts[kSkipReasons] = {};
  void Skipped(SkipReason r) override { ++counts[static_cast<int>(r)]; }
  int operator[](SkipReason r) const { return counts[static_cast<int>(r)]; }
};

std::vector<Decision> Feed(MacdCross& s, const std::vector<int64_t>& prices, int64_t now = 0,
                           SkipSink* skips = nullptr, bool quiet = false) {
  std::vector<Decision> out;
  BookTop top;
  Context ctx;
  ctx.book = &top;
  ctx.now_ns = now;
  ctx.skips = skips;
  ctx.quiet = quiet;
  for (int64_t p : prices) s.OnTrade(Tick{p, kE8i}, ctx, &out);
  return out;
}

TEST(MacdCross, OneUpwardCrossoverEmitsExactlyOneBuy) {
  MacdCross strategy(MacdCrossParams{});
  auto decisions = Feed(strategy, FlatFallRise());
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0].side, tickmesh::v1::SIDE_BUY);
  EXPECT_EQ(decisions[0].reason, "macd crossed above signal");
  EXPECT_GT(decisions[0].strength, 0);
  EXPECT_LE(decisions[0].strength, 1);
  ASSERT_EQ(decisions[0].indicator_count, 5);
  EXPECT_STREQ(decisions[0].indicators[4].name, "macd_hist");
  EXPECT_GT(decisions[0].indicators[4].value, 0);
  EXPECT_EQ(decisions[0].target_qty_e8, 1'000'000);
}

TEST(MacdCross, DownwardCrossoverEmitsSell) {
  MacdCross strategy(MacdCrossParams{});
  std::vector<int64_t> mirror;
  for (int64_t p : FlatFallRise()) mirror.push_back(200 * kE8i - p);
  auto decisions = Feed(strategy, mirror);
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0].side, tickmesh::v1::SIDE_SELL);
}

TEST(MacdCross, StrengthIsHistogramPerBasisPointCappedAtOne) {
  MacdCross strategy(MacdCrossParams{});
  auto d = Feed(strategy, FlatFallRise());
  ASSERT_EQ(d.size(), 1u);
  const double price = static_cast<double>(d[0].target_price_e8) / kE8i;
  EXPECT_DOUBLE_EQ(d[0].strength,
                   std::min(1.0, std::abs(d[0].indicators[4].value) / (price * 1e-4)));
}

TEST(MacdCross, NoSignalBeforeWarmupAndTheSkipIsCounted) {
  MacdCrossParams c;
  c.warmup = 1000;
  MacdCross strategy(c);
  CountingSkips skips;
  EXPECT_TRUE(Feed(strategy, FlatFallRise(), 0, &skips).empty());
  EXPECT_EQ(skips[SkipReason::kWarmup], 1);
}

TEST(MacdCross, QuietMarketSkipsTheCrossing) {
  MacdCross strategy(MacdCrossParams{});
  CountingSkips skips;
  EXPECT_TRUE(Feed(strategy, FlatFallRise(), 0, &skips, /*quiet=*/true).empty());
  EXPECT_EQ(skips[SkipReason::kQuiet], 1);
}

TEST(MacdCross, ThrottleSkipsCrossingsInsideMinInterval) {
  MacdCrossParams c;
  c.min_interval_ns = 1'000'000'000;
  MacdCross strategy(c);
  CountingSkips skips;
  auto series = FlatFallRise();
  for (int i = 1; i <= 40; ++i) series.push_back(113 * kE8i - i * kE8i);
  EXPECT_EQ(Feed(strategy, series, 5, &skips).size(), 1u);
  EXPECT_GE(skips[SkipReason::kThrottle], 1);
}

TEST(MacdCross, RsiFilterVetoesABuyWhenOverbought) {
  // At the crossover of this series RSI(14) is ~50.8: an overbought level of 50 vetoes the BUY.
  MacdCrossParams c;
  c.rsi_period = 14;
  c.rsi_overbought = 50;
  MacdCross filtered(c);
  CountingSkips skips;
  EXPECT_TRUE(Feed(filtered, FlatFallRise(), 0, &skips).empty());
  EXPECT_EQ(skips[SkipReason::kFiltered], 1);
  // With the threshold out of reach the same series signals, and carries the RSI.
  c.rsi_overbought = 100;
  MacdCross loose(c);
  auto d = Feed(loose, FlatFallRise());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_STREQ(d[0].indicators[5].name, "rsi");
  EXPECT_GT(d[0].indicators[5].value, 50);
  EXPECT_LT(d[0].indicators[5].value, 100);
}

TEST(MacdCross, CandleInputUsesCloses) {
  MacdCross strategy(MacdCrossParams{});
  std::vector<Decision> out;
  BookTop top;
  Context ctx;
  ctx.book = &top;
  for (int64_t p : FlatFallRise()) {
    Bar b;
    b.close = static_cast<double>(p) / kE8i;
    b.high = b.low = b.open = b.close;
    strategy.OnBar(b, ctx, &out);
  }
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].side, tickmesh::v1::SIDE_BUY);
}

TEST(MacdCross, ResetRestartsWarmup) {
  MacdCross strategy(MacdCrossParams{});
  auto series = FlatFallRise();
  Feed(strategy, std::vector<int64_t>(series.begin(), series.begin() + 50));
  strategy.Reset();
  EXPECT_EQ(strategy.inputs(), 0);
  EXPECT_FALSE(strategy.last().has_value());
  EXPECT_TRUE(Feed(strategy, std::vector<int64_t>(series.begin() + 50, series.end())).empty())
      << "40 trades after the reset: MACD defined at 34, no crossing observed";
}

TEST(MacdCrossParams, ValidationNamesTheParameter) {
  auto flag = [](const char* k) { return absl::StrCat("--", k); };
  MacdCrossParams c;
  c.fast = 26;
  EXPECT_NE(ValidateMacdCrossParams(c, flag).message().find("--fast"), absl::string_view::npos);
  c = MacdCrossParams{};
  c.signal_period = 0;
  EXPECT_EQ(ValidateMacdCrossParams(c, flag).message(), "--signal_period must be > 0");
  c = MacdCrossParams{};
  c.slow = -1;
  EXPECT_NE(ValidateMacdCrossParams(c, flag).message().find("--slow"), absl::string_view::npos);
  EXPECT_TRUE(ValidateMacdCrossParams(MacdCrossParams{}, flag).ok());
}

}  // namespace
}  // namespace tickmesh::signal
