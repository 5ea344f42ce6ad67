#include "load_shape.h"

#include <cmath>

#include "gtest/gtest.h"

namespace tickmesh::loadtest {
namespace {

TEST(LoadShape, ConstantStageSpacesEventsEvenly) {
  auto shape = LoadShape::Create({{2, 1000, 1000}});
  ASSERT_TRUE(shape.ok()) << shape.status();
  EXPECT_EQ(shape->TotalEvents(), 2000u);
  EXPECT_DOUBLE_EQ(shape->TimeOfEvent(0), 0);
  EXPECT_NEAR(shape->TimeOfEvent(1), 0.001, 1e-12);
  EXPECT_NEAR(shape->TimeOfEvent(1999), 1.999, 1e-9);
  EXPECT_DOUBLE_EQ(shape->CountAt(1.5), 1500);
  EXPECT_DOUBLE_EQ(shape->RateAt(0.3), 1000);
}

TEST(LoadShape, LinearRampCountsTheIntegralOfTheRate) {
  // 0 -> 1000/s over 10 s: 5 000 events; by t the count is 50 t^2.
  auto shape = LoadShape::Create({{10, 0, 1000}});
  ASSERT_TRUE(shape.ok());
  EXPECT_EQ(shape->TotalEvents(), 5000u);
  EXPECT_DOUBLE_EQ(shape->CountAt(2), 200);
  EXPECT_DOUBLE_EQ(shape->RateAt(2.5), 250);
  // Event k falls due at sqrt(k / 50).
  for (uint64_t k : {1u, 50u, 200u, 1250u, 4999u}) {
    EXPECT_NEAR(shape->TimeOfEvent(k), std::sqrt(double(k) / 50), 1e-9) << k;
  }
}

TEST(LoadShape, DownRampAndStagesChainWithoutGapsOrOverlap) {
  // 1 s at 100/s, then 100 -> 300/s over 2 s (400 events), then 300 -> 0 over 1 s (150).
  auto shape = LoadShape::Create({{1, 100, 100}, {2, 100, 300}, {1, 300, 0}});
  ASSERT_TRUE(shape.ok());
  EXPECT_DOUBLE_EQ(shape->duration_s(), 4);
  EXPECT_EQ(shape->TotalEvents(), 100u + 400u + 150u);
  EXPECT_EQ(shape->StageAt(0.5), 0);
  EXPECT_EQ(shape->StageAt(1.0), 1);
  EXPECT_EQ(shape->StageAt(3.5), 2);
  EXPECT_NEAR(shape->TimeOfEvent(100), 1.0, 1e-12);  // first event of the ramp
  EXPECT_NEAR(shape->TimeOfEvent(500), 3.0, 1e-9);   // first event of the down ramp
  // TimeOfEvent inverts CountAt everywhere and is strictly increasing.
  double previous = -1;
  for (uint64_t k = 0; k < shape->TotalEvents(); ++k) {
    const double t = shape->TimeOfEvent(k);
    ASSERT_GT(t, previous) << k;
    ASSERT_NEAR(shape->CountAt(t), double(k), 1e-6) << k;
    previous = t;
  }
  EXPECT_DOUBLE_EQ(shape->RateAt(4.0), 0);  // after the end
}

TEST(LoadShape, ZeroRateStageIsAPause) {
  auto shape = LoadShape::Create({{1, 10, 10}, {2, 0, 0}, {1, 10, 10}});
  ASSERT_TRUE(shape.ok());
  EXPECT_EQ(shape->TotalEvents(), 20u);
  EXPECT_NEAR(shape->TimeOfEvent(9), 0.9, 1e-12);
  EXPECT_NEAR(shape->TimeOfEvent(10), 3.0, 1e-12);  // skips the pause
}

TEST(LoadShape, RejectsInvalidStagesNamingTheField) {
  EXPECT_EQ(LoadShape::Create({}).status().message(), "stages: at least one stage is required");
  auto neg = LoadShape::Create({{1, 10, 10}, {1, -5, 10}});
  EXPECT_FALSE(neg.ok());
  EXPECT_NE(std::string(neg.status().message()).find("stages[1].from_per_s"), std::string::npos);
  auto zero = LoadShape::Create({{0, 10, 10}});
  EXPECT_NE(std::string(zero.status().message()).find("stages[0].duration_s"), std::string::npos);
}

}  // namespace
}  // namespace tickmesh::loadtest
