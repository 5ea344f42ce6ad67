#include "paper_venue.h"

#include "gtest/gtest.h"
#include "test_util.h"

namespace tickmesh::execution {
namespace {

using testing::E8;
namespace v1 = tickmesh::v1;

v1::Order MakeOrder(const std::string& id, v1::Side side, int64_t qty, int64_t price = 0,
                    v1::TimeInForce tif = v1::TIME_IN_FORCE_UNSPECIFIED) {
  v1::Order o;
  o.set_order_id(id);
  o.set_venue("sim");
  o.set_symbol("BTC-USD");
  o.set_side(side);
  o.set_type(price > 0 ? v1::ORDER_TYPE_LIMIT : v1::ORDER_TYPE_MARKET);
  o.set_time_in_force(tif);
  o.set_price_e8(price);
  o.set_qty_e8(qty);
  return o;
}

class PaperVenueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<VenueFill> fills;
    ASSERT_TRUE(venue_
                    .ApplyMarketEvent(
                        testing::Snapshot("sim", "BTC-USD", 1, {{99 * E8, E8}, {98 * E8, 2 * E8}},
                                          {{101 * E8, E8}, {102 * E8, 2 * E8}}),
                        &fills)
                    .ok());
  }
  PaperVenue venue_{PaperVenue::Options{.taker_fee_bps = 10, .maker_fee_bps = 0}};
};

TEST_F(PaperVenueTest, MarketBuyWalksAsksLevelByLevel) {
  auto r = venue_.Execute(MakeOrder("o-1", v1::SIDE_BUY, 2 * E8));
  ASSERT_TRUE(r.reject_reason.empty());
  ASSERT_EQ(r.fills.size(), 2u);
  EXPECT_EQ(r.fills[0].price_e8, 101 * E8);
  EXPECT_EQ(r.fills[0].qty_e8, E8);
  EXPECT_EQ(r.fills[1].price_e8, 102 * E8);
  EXPECT_EQ(r.fills[1].qty_e8, E8);
  EXPECT_EQ(r.fills[0].liquidity, v1::LIQUIDITY_TAKER);
  // 10 bps of 101 USD = 0.101 USD.
  EXPECT_EQ(r.fills[0].fee_e8, 10'100'000);
  EXPECT_EQ(r.fills[0].fee_asset, "USD");
  EXPECT_EQ(r.remainder, ExecutionReport::Remainder::kNone);
  EXPECT_FALSE(r.venue_order_id.empty());
}

TEST_F(PaperVenueTest, MarketSellHitsBids) {
  auto r = venue_.Execute(MakeOrder("o-1", v1::SIDE_SELL, E8 / 2));
  ASSERT_EQ(r.fills.size(), 1u);
  EXPECT_EQ(r.fills[0].price_e8, 99 * E8);
  EXPECT_EQ(r.fills[0].qty_e8, E8 / 2);
}

TEST_F(PaperVenueTest, MarketOrderBeyondLiquidityFillsPartlyAndCancelsRest) {
  auto r = venue_.Execute(MakeOrder("o-1", v1::SIDE_BUY, 5 * E8));
  ASSERT_EQ(r.fills.size(), 2u);
  EXPECT_EQ(r.fills[0].qty_e8 + r.fills[1].qty_e8, 3 * E8);
  EXPECT_EQ(r.remainder, ExecutionReport::Remainder::kCancel);
  EXPECT_EQ(venue_.resting_count(), 0u);
}

TEST_F(PaperVenueTest, RejectsWithoutMarket) {
  auto o = MakeOrder("o-1", v1::SIDE_BUY, E8);
  o.set_symbol("ETH-USD");
  EXPECT_EQ(venue_.Execute(o).reject_reason, "venue:no_market");
  // A stale book (gap) is no market either.
  std::vector<VenueFill> fills;
  EXPECT_EQ(venue_.ApplyMarketEvent(testing::Delta("sim", "BTC-USD", 5, {}, {}), &fills).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(venue_.Execute(MakeOrder("o-2", v1::SIDE_BUY, E8)).reject_reason, "venue:no_market");
}

TEST_F(PaperVenueTest, LimitOrderTakesMarketablePartAndRestsTheRest) {
  auto r = venue_.Execute(MakeOrder("o-1", v1::SIDE_BUY, 2 * E8, 101 * E8));
  ASSERT_EQ(r.fills.size(), 1u);
  EXPECT_EQ(r.fills[0].price_e8, 101 * E8);
  EXPECT_EQ(r.fills[0].qty_e8, E8);
  EXPECT_EQ(r.remainder, ExecutionReport::Remainder::kRest);
  EXPECT_EQ(venue_.resting_count(), 1u);

  // The ask moves down through the resting price: it fills at its own price as maker.
  std::vector<VenueFill> fills;
  ASSERT_TRUE(
      venue_.ApplyMarketEvent(testing::Delta("sim", "BTC-USD", 2, {}, {{100 * E8, 3 * E8}}), &fills)
          .ok());
  ASSERT_EQ(fills.size(), 1u);
  EXPECT_EQ(fills[0].order_id, "o-1");
  EXPECT_EQ(fills[0].price_e8, 101 * E8);
  EXPECT_EQ(fills[0].qty_e8, E8);
  EXPECT_EQ(fills[0].liquidity, v1::LIQUIDITY_MAKER);
  EXPECT_EQ(fills[0].fee_e8, 0);
  EXPECT_EQ(venue_.resting_count(), 0u);
}

TEST_F(PaperVenueTest, RestingOrdersShareCrossingLiquidityBestPriceFirst) {
  // Asks at 100 and 100.00000001 are above the best bid (99): both rest entirely.
  venue_.Execute(MakeOrder("o-1", v1::SIDE_SELL, 2 * E8, 100 * E8));
  EXPECT_EQ(venue_.resting_count(), 1u);
  venue_.Execute(MakeOrder("o-2", v1::SIDE_SELL, 2 * E8, 100 * E8 + 1));
  std::vector<VenueFill> fills;
  // A bid of 3 at 101 crosses both: o-1 (better price) takes 2, o-2 the last 1.
  ASSERT_TRUE(
      venue_.ApplyMarketEvent(testing::Delta("sim", "BTC-USD", 2, {{101 * E8, 3 * E8}}, {}), &fills)
          .ok());
  ASSERT_EQ(fills.size(), 2u);
  EXPECT_EQ(fills[0].order_id, "o-1");
  EXPECT_EQ(fills[0].qty_e8, 2 * E8);
  EXPECT_EQ(fills[1].order_id, "o-2");
  EXPECT_EQ(fills[1].qty_e8, E8);
  EXPECT_EQ(venue_.resting_count(), 1u);
  EXPECT_TRUE(venue_.CancelResting("o-2"));
  EXPECT_FALSE(venue_.CancelResting("o-2"));
}

TEST_F(PaperVenueTest, FillOrKillExpiresUnlessFullyFillable) {
  auto r = venue_.Execute(MakeOrder("o-1", v1::SIDE_BUY, 2 * E8, 101 * E8, v1::TIME_IN_FORCE_FOK));
  EXPECT_TRUE(r.fills.empty());
  EXPECT_EQ(r.remainder, ExecutionReport::Remainder::kExpire);
  auto ok = venue_.Execute(MakeOrder("o-2", v1::SIDE_BUY, 2 * E8, 102 * E8, v1::TIME_IN_FORCE_FOK));
  EXPECT_EQ(ok.fills.size(), 2u);
  EXPECT_EQ(ok.remainder, ExecutionReport::Remainder::kNone);
}

TEST_F(PaperVenueTest, ImmediateOrCancelLimitDoesNotRest) {
  auto r = venue_.Execute(MakeOrder("o-1", v1::SIDE_BUY, 2 * E8, 101 * E8, v1::TIME_IN_FORCE_IOC));
  EXPECT_EQ(r.fills.size(), 1u);
  EXPECT_EQ(r.remainder, ExecutionReport::Remainder::kCancel);
  EXPECT_EQ(venue_.resting_count(), 0u);
}

TEST_F(PaperVenueTest, MarksBooksStaleOnDisconnect) {
  EXPECT_TRUE(venue_.Mid("sim", "BTC-USD").has_value());
  venue_.MarkAllStale();
  EXPECT_FALSE(venue_.Mid("sim", "BTC-USD").has_value());
  EXPECT_EQ(venue_.Execute(MakeOrder("o-1", v1::SIDE_BUY, E8)).reject_reason, "venue:no_market");
}

}  // namespace
}  // namespace tickmesh::execution
