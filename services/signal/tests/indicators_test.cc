#include "indicators.h"

#include "gtest/gtest.h"

namespace tickmesh::signal {
namespace {

TEST(Ema, SeedsWithSimpleAverageThenSmoothsWithAlpha) {
  Ema ema(3);  // alpha = 2 / (3 + 1) = 0.5
  EXPECT_FALSE(ema.Update(1));
  EXPECT_FALSE(ema.Update(2));
  EXPECT_TRUE(ema.Update(3));
  EXPECT_DOUBLE_EQ(ema.value(), 2.0);  // (1 + 2 + 3) / 3
  ema.Update(4);
  EXPECT_DOUBLE_EQ(ema.value(), 3.0);  // 2 + 0.5 * (4 - 2)
  ema.Update(10);
  EXPECT_DOUBLE_EQ(ema.value(), 6.5);  // 3 + 0.5 * (10 - 3)
}

TEST(Ema, ResetStartsWarmUpAgain) {
  Ema ema(2);
  ema.Update(5);
  ema.Update(7);
  ASSERT_TRUE(ema.ready());
  ema.Reset();
  EXPECT_FALSE(ema.ready());
  EXPECT_FALSE(ema.Update(1));
  EXPECT_TRUE(ema.Update(3));
  EXPECT_DOUBLE_EQ(ema.value(), 2.0);
}

TEST(Macd, MatchesHandComputedValues) {
  // fast EMA(2): alpha 2/3; slow EMA(3): alpha 1/2; signal EMA(2): alpha 2/3.
  Macd macd(2, 3, 2);
  EXPECT_EQ(macd.warmup(), 4);
  EXPECT_FALSE(macd.Update(1).has_value());
  EXPECT_FALSE(macd.Update(2).has_value());
  // fast = 1.5 + 2/3 * (3 - 1.5) = 2.5; slow = 2; line = 0.5; signal not yet defined.
  EXPECT_FALSE(macd.Update(3).has_value());
  // fast = 2.5 + 2/3 * 1.5 = 3.5; slow = 2 + 0.5 * 2 = 3; line = 0.5; signal = avg(0.5, 0.5).
  auto v = macd.Update(4);
  ASSERT_TRUE(v.has_value());
  EXPECT_NEAR(v->ema_fast, 3.5, 1e-12);
  EXPECT_NEAR(v->ema_slow, 3.0, 1e-12);
  EXPECT_NEAR(v->line, 0.5, 1e-12);
  EXPECT_NEAR(v->signal, 0.5, 1e-12);
  EXPECT_NEAR(v->histogram, 0.0, 1e-12);
  // fast = 3.5 + 2/3 * (2 - 3.5) = 2.5; slow = 3 + 0.5 * (2 - 3) = 2.5; line = 0;
  // signal = 0.5 + 2/3 * (0 - 0.5) = 1/6; histogram = -1/6.
  v = macd.Update(2);
  ASSERT_TRUE(v.has_value());
  EXPECT_NEAR(v->ema_fast, 2.5, 1e-12);
  EXPECT_NEAR(v->ema_slow, 2.5, 1e-12);
  EXPECT_NEAR(v->line, 0.0, 1e-12);
  EXPECT_NEAR(v->signal, 1.0 / 6, 1e-12);
  EXPECT_NEAR(v->histogram, -1.0 / 6, 1e-12);
}

TEST(Macd, DefaultParametersNeedThirtyFourSamples) {
  Macd macd(12, 26, 9);
  for (int i = 1; i < 34; ++i) ASSERT_FALSE(macd.Update(100 + i).has_value()) << i;
  EXPECT_TRUE(macd.Update(200).has_value());
}

}  // namespace
}  // namespace tickmesh::signal
