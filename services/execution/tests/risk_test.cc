#include "risk.h"

#include "gtest/gtest.h"
#include "test_util.h"

namespace tickmesh::execution {
namespace {

using testing::E8;
using testing::Req;
namespace v1 = tickmesh::v1;

RiskEngine Engine() {
  return RiskEngine(RiskLimits{.max_order_qty_e8 = 10 * E8,
                               .max_order_notional_e8 = 1000 * E8,
                               .max_position_e8 = 20 * E8,
                               .price_band_bps = 100});
}

RiskContext WithMid(int64_t mid) {
  RiskContext c;
  c.mid_e8 = mid;
  return c;
}

TEST(RiskEngine, AcceptsOrderWithinEveryLimit) {
  auto d = Engine().Check(Req("a", v1::SIDE_BUY, 5 * E8, 100 * E8), WithMid(100 * E8));
  EXPECT_TRUE(d.ok) << d.rule;
  EXPECT_EQ(d.reason(), "");
}

TEST(RiskEngine, RejectsEverythingWhenKillSwitchEngaged) {
  RiskContext c = WithMid(100 * E8);
  c.kill_switch_engaged = true;
  EXPECT_EQ(Engine().Check(Req("a", v1::SIDE_BUY, E8), c).reason(), "risk:kill_switch");
}

TEST(RiskEngine, RejectsNonPositiveQty) {
  EXPECT_EQ(Engine().Check(Req("a", v1::SIDE_BUY, 0), WithMid(E8)).rule, "qty");
  EXPECT_EQ(Engine().Check(Req("a", v1::SIDE_BUY, -5), WithMid(E8)).rule, "qty");
}

TEST(RiskEngine, RejectsOrderAboveMaxQty) {
  EXPECT_EQ(Engine().Check(Req("a", v1::SIDE_BUY, 10 * E8 + 1), WithMid(E8)).rule, "max_order_qty");
  EXPECT_TRUE(Engine().Check(Req("a", v1::SIDE_BUY, 10 * E8), WithMid(E8)).ok);
}

TEST(RiskEngine, RejectsOrderAboveMaxNotional) {
  // Market: 9 * 150 = 1350 > 1000 at the mid.
  EXPECT_EQ(Engine().Check(Req("a", v1::SIDE_BUY, 9 * E8), WithMid(150 * E8)).rule,
            "max_order_notional");
  // Limit: uses the limit price (within the band of the mid).
  EXPECT_EQ(Engine().Check(Req("a", v1::SIDE_SELL, 9 * E8, 150 * E8), WithMid(150 * E8)).rule,
            "max_order_notional");
  EXPECT_TRUE(Engine().Check(Req("a", v1::SIDE_BUY, 9 * E8), WithMid(100 * E8)).ok);
  // A market order without a mid cannot be valued: left to the venue (no_market).
  EXPECT_TRUE(Engine().Check(Req("a", v1::SIDE_BUY, 9 * E8), RiskContext{}).ok);
}

TEST(RiskEngine, RejectsLimitPriceOutsideBand) {
  // Band 100 bps of mid 100: [99, 101].
  EXPECT_EQ(Engine().Check(Req("a", v1::SIDE_BUY, E8, 102 * E8), WithMid(100 * E8)).rule,
            "price_band");
  EXPECT_EQ(Engine().Check(Req("a", v1::SIDE_SELL, E8, 98 * E8), WithMid(100 * E8)).rule,
            "price_band");
  EXPECT_TRUE(Engine().Check(Req("a", v1::SIDE_BUY, E8, 101 * E8), WithMid(100 * E8)).ok);
  // Market orders have no price to band.
  EXPECT_TRUE(Engine().Check(Req("a", v1::SIDE_BUY, E8), WithMid(100 * E8)).ok);
}

TEST(RiskEngine, RejectsWhenPositionWouldExceedMax) {
  RiskContext c = WithMid(E8);
  c.position_e8 = 15 * E8;
  EXPECT_EQ(Engine().Check(Req("a", v1::SIDE_BUY, 6 * E8), c).rule, "max_position");
  EXPECT_TRUE(Engine().Check(Req("a", v1::SIDE_BUY, 5 * E8), c).ok);
  // Open buys count against the limit.
  c.open_same_side_e8 = 3 * E8;
  EXPECT_EQ(Engine().Check(Req("a", v1::SIDE_BUY, 5 * E8), c).rule, "max_position");
  // Shorts too.
  RiskContext s = WithMid(E8);
  s.position_e8 = -15 * E8;
  EXPECT_EQ(Engine().Check(Req("a", v1::SIDE_SELL, 6 * E8), s).rule, "max_position");
  // Reducing is always allowed, even from beyond the limit.
  RiskContext over = WithMid(E8);
  over.position_e8 = 30 * E8;
  EXPECT_TRUE(Engine().Check(Req("a", v1::SIDE_SELL, 5 * E8), over).ok);
}

TEST(RiskEngine, ZeroLimitsDisableRules) {
  RiskEngine off(RiskLimits{});
  EXPECT_TRUE(off.Check(Req("a", v1::SIDE_BUY, INT64_MAX, INT64_MAX), WithMid(E8)).ok);
}

TEST(RiskEngine, OverflowingNotionalIsRejected) {
  EXPECT_EQ(RiskEngine(RiskLimits{.max_order_notional_e8 = INT64_MAX})
                .Check(Req("a", v1::SIDE_BUY, INT64_MAX, INT64_MAX), RiskContext{})
                .rule,
            "max_order_notional");
}

}  // namespace
}  // namespace tickmesh::execution
