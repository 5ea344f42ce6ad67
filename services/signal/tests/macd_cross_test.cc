#include "macd_cross.h"

#include <vector>

#include "gtest/gtest.h"

namespace tickmesh::signal {
namespace {

constexpr int64_t kE8 = 100'000'000;

// 40 flat trades, 20 falling, then `rise` rising steeply: one upward crossover during the rise.
std::vector<int64_t> FlatFallRise(int rise = 30) {
  std::vector<int64_t> p;
  for (int i = 0; i < 40; ++i) p.push_back(100 * kE8);
  for (int i = 1; i <= 20; ++i) p.push_back(100 * kE8 - i * kE8 / 10);
  for (int i = 1; i <= rise; ++i) p.push_back(98 * kE8 + i * kE8 / 2);
  return p;
}

TEST(MacdCross, OneUpwardCrossoverEmitsExactlyOneBuy) {
  MacdCross strategy(MacdCrossConfig{});
  std::vector<MacdDecision> decisions;
  for (int64_t price : FlatFallRise()) {
    if (auto d = strategy.OnTrade(price, 0)) decisions.push_back(*d);
  }
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0].side, tickmesh::v1::SIDE_BUY);
  EXPECT_EQ(decisions[0].reason, "macd crossed above signal");
  EXPECT_GT(decisions[0].macd.histogram, 0);
  EXPECT_GT(decisions[0].strength, 0);
  EXPECT_LE(decisions[0].strength, 1);
}

TEST(MacdCross, DownwardCrossoverEmitsSell) {
  MacdCross strategy(MacdCrossConfig{});
  std::vector<MacdDecision> decisions;
  // Mirror image: flat, rising, then falling steeply.
  for (int64_t price : FlatFallRise()) {
    if (auto d = strategy.OnTrade(200 * kE8 - price, 0)) decisions.push_back(*d);
  }
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0].side, tickmesh::v1::SIDE_SELL);
}

TEST(MacdCross, StrengthIsHistogramPerBasisPointCappedAtOne) {
  MacdCross strategy(MacdCrossConfig{});
  std::optional<MacdDecision> d;
  int64_t last = 0;
  for (int64_t price : FlatFallRise()) {
    if (auto x = strategy.OnTrade(price, 0)) {
      d = x;
      last = price;
    }
  }
  ASSERT_TRUE(d.has_value());
  const double price = static_cast<double>(last) / kE8;
  EXPECT_DOUBLE_EQ(d->strength, std::min(1.0, std::abs(d->macd.histogram) / (price * 1e-4)));
}

TEST(MacdCross, NoSignalBeforeWarmup) {
  MacdCrossConfig c;
  c.warmup = 1000;
  MacdCross strategy(c);
  for (int64_t price : FlatFallRise()) EXPECT_FALSE(strategy.OnTrade(price, 0).has_value());
  EXPECT_EQ(strategy.skipped_warmup(), 1u);
}

TEST(MacdCross, ThrottleSkipsCrossingsInsideMinInterval) {
  MacdCrossConfig c;
  c.min_interval_ns = 1'000'000'000;
  MacdCross strategy(c);
  int signals = 0;
  // Two full cycles, all at the same timestamp: the second crossing is throttled.
  auto series = FlatFallRise();
  for (int64_t price : series) signals += strategy.OnTrade(price, 5).has_value();
  for (int i = 1; i <= 40; ++i) signals += strategy.OnTrade(113 * kE8 - i * kE8, 5).has_value();
  EXPECT_EQ(signals, 1);
  EXPECT_GE(strategy.skipped_throttle(), 1u);
}

TEST(MacdCross, ResetRestartsWarmup) {
  MacdCross strategy(MacdCrossConfig{});
  auto series = FlatFallRise();
  for (size_t i = 0; i < 50; ++i) strategy.OnTrade(series[i], 0);
  strategy.Reset();
  EXPECT_EQ(strategy.trades(), 0);
  EXPECT_FALSE(strategy.last().has_value());
  int signals = 0;
  for (size_t i = 50; i < series.size(); ++i) signals += strategy.OnTrade(series[i], 0).has_value();
  EXPECT_EQ(signals, 0) << "40 trades after the reset: MACD defined at 34, no crossing observed";
}

TEST(MacdCrossConfig, ValidationNamesTheFlag) {
  MacdCrossConfig c;
  c.fast = 26;
  EXPECT_NE(ValidateMacdCrossConfig(c).message().find("--fast"), absl::string_view::npos);
  c = MacdCrossConfig{};
  c.signal_period = 0;
  EXPECT_NE(ValidateMacdCrossConfig(c).message().find("--signal_period"), absl::string_view::npos);
  c = MacdCrossConfig{};
  c.slow = -1;
  EXPECT_NE(ValidateMacdCrossConfig(c).message().find("--slow"), absl::string_view::npos);
  EXPECT_TRUE(ValidateMacdCrossConfig(MacdCrossConfig{}).ok());
}

}  // namespace
}  // namespace tickmesh::signal
