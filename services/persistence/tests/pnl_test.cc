#include "gtest/gtest.h"
#include "queries.h"
#include "test_records.h"

namespace tickmesh::persistence {
namespace {

using testing::kE8;

v1::SymbolPnl Result(const PnlAccumulator& acc) {
  v1::SymbolPnl out;
  acc.Fill(&out);
  return out;
}

TEST(PnlAccumulator, LongRoundTripRealisesPriceDifference) {
  PnlAccumulator acc;
  acc.Add(v1::SIDE_BUY, 100 * kE8, 2 * kE8, 10);
  acc.Add(v1::SIDE_SELL, 110 * kE8, 2 * kE8, 20);
  auto r = Result(acc);
  EXPECT_EQ(r.realized_pnl_e8(), 20 * kE8);  // 2 units * 10
  EXPECT_EQ(r.fees_e8(), 30);
  EXPECT_EQ(r.bought_qty_e8(), 2 * kE8);
  EXPECT_EQ(r.sold_qty_e8(), 2 * kE8);
  EXPECT_EQ(r.fill_count(), 2u);
}

TEST(PnlAccumulator, UsesAverageCostAcrossEntries) {
  PnlAccumulator acc;
  acc.Add(v1::SIDE_BUY, 100 * kE8, 1 * kE8, 0);
  acc.Add(v1::SIDE_BUY, 200 * kE8, 1 * kE8, 0);   // average 150
  acc.Add(v1::SIDE_SELL, 170 * kE8, 1 * kE8, 0);  // +20
  EXPECT_EQ(Result(acc).realized_pnl_e8(), 20 * kE8);
}

TEST(PnlAccumulator, ShortThenCoverAndFlipThroughFlat) {
  PnlAccumulator acc;
  acc.Add(v1::SIDE_SELL, 100 * kE8, 1 * kE8, 0);  // short 1 @ 100
  acc.Add(v1::SIDE_BUY, 90 * kE8, 3 * kE8, 0);    // cover @ 90 (+10), long 2 @ 90
  acc.Add(v1::SIDE_SELL, 95 * kE8, 2 * kE8, 0);   // +10
  EXPECT_EQ(Result(acc).realized_pnl_e8(), 20 * kE8);
}

TEST(PnlAccumulator, LargeValuesDoNotOverflow) {
  PnlAccumulator acc;
  // 1 000 000 units at 1 000 000: qty_e8 * price_e8 = 1e28, far beyond int64.
  acc.Add(v1::SIDE_BUY, 1000000 * kE8, 1000000 * kE8, 0);
  acc.Add(v1::SIDE_SELL, 1000001 * kE8, 1000000 * kE8, 0);
  EXPECT_EQ(Result(acc).realized_pnl_e8(), 1000000 * kE8);
}

}  // namespace
}  // namespace tickmesh::persistence
