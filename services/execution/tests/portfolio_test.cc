#include "portfolio.h"

#include "gtest/gtest.h"
#include "test_util.h"

namespace tickmesh::execution {
namespace {

using testing::E8;
namespace v1 = tickmesh::v1;

v1::Fill MakeFill(v1::Side side, int64_t price, int64_t qty, int64_t fee = 0,
                  const std::string& symbol = "BTC-USD") {
  v1::Fill f;
  f.set_venue("sim");
  f.set_symbol(symbol);
  f.set_side(side);
  f.set_price_e8(price);
  f.set_qty_e8(qty);
  f.set_fee_e8(fee);
  f.set_fee_asset("USD");
  f.set_unix_ns(1);
  return f;
}

TEST(Portfolio, AddingAveragesEntryPrice) {
  Portfolio p(1000 * E8);
  ASSERT_TRUE(p.ApplyFill(MakeFill(v1::SIDE_BUY, 100 * E8, E8)).ok());
  ASSERT_TRUE(p.ApplyFill(MakeFill(v1::SIDE_BUY, 110 * E8, 3 * E8)).ok());
  auto pos = p.GetPosition("sim", "BTC-USD", 0);
  EXPECT_EQ(pos.qty_e8(), 4 * E8);
  EXPECT_EQ(pos.avg_entry_price_e8(), 10750000000);  // (100 + 330) / 4 = 107.5
  EXPECT_EQ(pos.realized_pnl_e8(), 0);
}

TEST(Portfolio, ReducingRealizesAtAverageCost) {
  Portfolio p(1000 * E8);
  ASSERT_TRUE(p.ApplyFill(MakeFill(v1::SIDE_BUY, 100 * E8, 2 * E8)).ok());
  ASSERT_TRUE(p.ApplyFill(MakeFill(v1::SIDE_SELL, 110 * E8, E8)).ok());
  auto pos = p.GetPosition("sim", "BTC-USD", 0);
  EXPECT_EQ(pos.qty_e8(), E8);
  EXPECT_EQ(pos.avg_entry_price_e8(), 100 * E8);
  EXPECT_EQ(pos.realized_pnl_e8(), 10 * E8);
  // Closing to flat resets the average.
  ASSERT_TRUE(p.ApplyFill(MakeFill(v1::SIDE_SELL, 90 * E8, E8)).ok());
  pos = p.GetPosition("sim", "BTC-USD", 0);
  EXPECT_EQ(pos.qty_e8(), 0);
  EXPECT_EQ(pos.avg_entry_price_e8(), 0);
  EXPECT_EQ(pos.realized_pnl_e8(), 0);  // +10 then -10
}

TEST(Portfolio, FlippingRealizesClosedPartAndOpensRestAtFillPrice) {
  Portfolio p(1000 * E8);
  ASSERT_TRUE(p.ApplyFill(MakeFill(v1::SIDE_BUY, 100 * E8, E8)).ok());
  ASSERT_TRUE(p.ApplyFill(MakeFill(v1::SIDE_SELL, 120 * E8, 3 * E8)).ok());
  auto pos = p.GetPosition("sim", "BTC-USD", 0);
  EXPECT_EQ(pos.qty_e8(), -2 * E8);
  EXPECT_EQ(pos.avg_entry_price_e8(), 120 * E8);
  EXPECT_EQ(pos.realized_pnl_e8(), 20 * E8);
  // Short covered lower: profit.
  ASSERT_TRUE(p.ApplyFill(MakeFill(v1::SIDE_BUY, 110 * E8, E8)).ok());
  pos = p.GetPosition("sim", "BTC-USD", 0);
  EXPECT_EQ(pos.qty_e8(), -E8);
  EXPECT_EQ(pos.realized_pnl_e8(), 30 * E8);
}

TEST(Portfolio, UnrealizedPnlFromMark) {
  Portfolio p(1000 * E8);
  ASSERT_TRUE(p.ApplyFill(MakeFill(v1::SIDE_SELL, 100 * E8, 2 * E8)).ok());
  auto pos = p.GetPosition("sim", "BTC-USD", 95 * E8);
  EXPECT_EQ(pos.mark_price_e8(), 95 * E8);
  EXPECT_EQ(pos.unrealized_pnl_e8(), 10 * E8);
}

TEST(Portfolio, BalancesMoveBaseAndQuoteWithFees) {
  Portfolio p(1000 * E8);
  ASSERT_TRUE(p.ApplyFill(MakeFill(v1::SIDE_BUY, 100 * E8, 2 * E8, E8 / 10)).ok());
  EXPECT_EQ(p.GetBalance("sim", "BTC").total_e8(), 2 * E8);
  EXPECT_EQ(p.GetBalance("sim", "USD").total_e8(), 1000 * E8 - 200 * E8 - E8 / 10);
  ASSERT_TRUE(p.ApplyFill(MakeFill(v1::SIDE_SELL, 150 * E8, E8, E8 / 10)).ok());
  EXPECT_EQ(p.GetBalance("sim", "BTC").total_e8(), E8);
  EXPECT_EQ(p.GetBalance("sim", "USD").total_e8(), 1000 * E8 - 200 * E8 + 150 * E8 - 2 * E8 / 10);
  EXPECT_EQ(p.GetBalance("sim", "USD").available_e8(), p.GetBalance("sim", "USD").total_e8());
  EXPECT_EQ(p.Balances("sim").size(), 2u);
  EXPECT_TRUE(p.Balances("other").empty());
}

TEST(Portfolio, EnsureInstrumentFundsQuoteOnce) {
  Portfolio p(500 * E8);
  ASSERT_TRUE(p.EnsureInstrument("sim", "ETH-USD").ok());
  ASSERT_TRUE(p.ApplyFill(MakeFill(v1::SIDE_BUY, 10 * E8, E8, 0, "ETH-USD")).ok());
  ASSERT_TRUE(p.EnsureInstrument("sim", "BTC-USD").ok());  // USD exists: not re-funded
  EXPECT_EQ(p.GetBalance("sim", "USD").total_e8(), 490 * E8);
  EXPECT_EQ(p.GetBalance("sim", "BTC").total_e8(), 0);
  EXPECT_EQ(p.EnsureInstrument("sim", "BTCUSD").code(), absl::StatusCode::kInvalidArgument);
}

TEST(Portfolio, RejectsMalformedFillsWithoutChange) {
  Portfolio p(1000 * E8);
  EXPECT_EQ(p.ApplyFill(MakeFill(v1::SIDE_BUY, 100 * E8, E8, 0, "BTCUSD")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(p.ApplyFill(MakeFill(v1::SIDE_BUY, 100 * E8, 0)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(p.ApplyFill(MakeFill(v1::SIDE_UNSPECIFIED, 100 * E8, E8)).code(),
            absl::StatusCode::kInvalidArgument);
  auto wrong_fee = MakeFill(v1::SIDE_BUY, 100 * E8, E8, 5);
  wrong_fee.set_fee_asset("BNB");
  EXPECT_EQ(p.ApplyFill(wrong_fee).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(p.position_count(), 0u);
}

TEST(Portfolio, LargeValuesUse128BitProducts) {
  Portfolio p(0);
  // 90 000 units at 1 000 000: price_e8 * qty_e8 (9e26) overflows int64 before the division.
  const int64_t price = 1'000'000 * E8, qty = 90'000 * E8;
  ASSERT_TRUE(p.ApplyFill(MakeFill(v1::SIDE_BUY, price, qty)).ok());
  EXPECT_EQ(p.GetBalance("sim", "USD").total_e8(), -90'000'000'000 * E8);
  EXPECT_EQ(p.GetPosition("sim", "BTC-USD", 0).avg_entry_price_e8(), price);
  // Beyond int64 is refused, not wrapped.
  EXPECT_EQ(p.ApplyFill(MakeFill(v1::SIDE_BUY, INT64_MAX, INT64_MAX)).code(),
            absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace tickmesh::execution
