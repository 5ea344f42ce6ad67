// market_making and book_imbalance on scripted books.
#include <cmath>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "book_imbalance.h"
#include "gtest/gtest.h"
#include "market_making.h"

namespace tickmesh::signal {
namespace {

constexpr int64_t kE8i = 100'000'000;

BookTop Top(double bid, double ask, double bid_qty = 1, double ask_qty = 1) {
  BookTop t;
  t.valid = true;
  t.bid_e8 = std::llround(bid * kE8i);
  t.ask_e8 = std::llround(ask * kE8i);
  t.bid_qty_e8 = std::llround(bid_qty * kE8i);
  t.ask_qty_e8 = std::llround(ask_qty * kE8i);
  t.bid_depth = bid_qty;
  t.ask_depth = ask_qty;
  return t;
}

struct CountingSkips : SkipSink {
  int counts[kSkipReasons] = {};
  void Skipped(SkipReason r) override { ++counts[static_cast<int>(r)]; }
  int operator[](SkipReason r) const { return counts[static_cast<int>(r)]; }
};

TEST(MarketMakingQuote, FlatInventoryQuotesSymmetricallyAroundMid) {
  MarketMakingParams p;
  p.gamma = 0.1;
  p.kappa = 1.5;
  p.min_spread_bps = 0;
  // sigma 0.05 on a mid of 100 = 5 bps; var = 25 bps^2; spread = 0.1 * 25 + 20 * ln(1 + 0.1/1.5).
  Quote q = ComputeQuote(p, 100, 0.05, 0);
  EXPECT_NEAR(q.sigma_bps, 5, 1e-9);
  EXPECT_NEAR(q.reservation, 100, 1e-12);
  const double spread = 0.1 * 25 + 20 * std::log(1 + 0.1 / 1.5);
  EXPECT_NEAR(q.spread_bps, spread, 1e-9);
  EXPECT_NEAR(static_cast<double>(q.bid_e8) / kE8i, 100 * (1 - spread / 2 * 1e-4), 1e-8);
  EXPECT_NEAR(static_cast<double>(q.ask_e8) / kE8i, 100 * (1 + spread / 2 * 1e-4), 1e-8);
}

TEST(MarketMakingQuote, LongInventorySkewsQuotesDown) {
  MarketMakingParams p;
  Quote flat = ComputeQuote(p, 100, 0.05, 0);
  Quote longq = ComputeQuote(p, 100, 0.05, 3);  // three clips long
  // reservation = mid * (1 - q * gamma * var_bps * 1e-4) = 100 * (1 - 3 * 0.1 * 25e-4)
  EXPECT_NEAR(longq.reservation, 100 * (1 - 3 * 0.1 * 25 * 1e-4), 1e-12);
  EXPECT_LT(longq.bid_e8, flat.bid_e8);
  EXPECT_LT(longq.ask_e8, flat.ask_e8);
  EXPECT_GT(ComputeQuote(p, 100, 0.05, -3).ask_e8, flat.ask_e8);
}

TEST(MarketMakingQuote, SpreadIsClampedToConfiguredBand) {
  MarketMakingParams p;
  p.min_spread_bps = 50;
  p.max_spread_bps = 60;
  EXPECT_DOUBLE_EQ(ComputeQuote(p, 100, 0.0, 0).spread_bps, 50);
  EXPECT_DOUBLE_EQ(ComputeQuote(p, 100, 10.0, 0).spread_bps, 60);
}

TEST(MarketMakingQuote, AbsurdInputsGiveNoQuoteInsteadOfOverflow) {
  MarketMakingParams p;
  EXPECT_EQ(ComputeQuote(p, 1e12, 0.05, 0).ask_e8, 0);  // 1e20 does not fit an int64 e8 price
  EXPECT_EQ(ComputeQuote(p, 100, 5, 1e9).bid_e8, 0);    // reservation far below zero
}

class MarketMakingTest : public ::testing::Test {
 protected:
  MarketMakingTest() {
    p_.vol_window = 4;
    p_.requote_bps = 0.5;
    p_.max_inventory_e8 = 5 * p_.order_qty_e8;
  }
  // Feeds a mid that alternates by ±0.01 around 100 (a defined, non-zero volatility).
  std::vector<Decision> Step(MarketMaking& mm, int i, int64_t inventory_e8 = 0) {
    top_ = Top(99.99 + (i % 2) * 0.01, 100.01 + (i % 2) * 0.01);
    Context ctx;
    ctx.book = &top_;
    ctx.skips = &skips_;
    ctx.inventory_e8 = inventory_e8;
    ctx.inventory_known = true;
    std::vector<Decision> out;
    mm.OnBook(ctx, &out);
    return out;
  }
  MarketMakingParams p_;
  BookTop top_;
  CountingSkips skips_;
};

TEST_F(MarketMakingTest, WarmsUpThenQuotesBothSidesThenSkipsUnchangedQuotes) {
  MarketMaking mm(p_);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(Step(mm, i).empty()) << i;
  EXPECT_EQ(skips_[SkipReason::kWarmup], 4);
  auto quotes = Step(mm, 4);
  ASSERT_EQ(quotes.size(), 2u);
  EXPECT_EQ(quotes[0].side, tickmesh::v1::SIDE_BUY);
  EXPECT_EQ(quotes[1].side, tickmesh::v1::SIDE_SELL);
  EXPECT_LT(quotes[0].target_price_e8, quotes[1].target_price_e8);
  EXPECT_TRUE(absl::StrContains(quotes[0].reason, "mm bid quote"));
  // Back at the same mid, with nearly the same volatility: both quotes move by far less than
  // requote_bps, so no requote.
  auto next = Step(mm, 6);  // same mid as step 4
  EXPECT_TRUE(next.empty());
  EXPECT_EQ(skips_[SkipReason::kUnchanged], 1);
  // A change of inventory requotes even at the same mid.
  EXPECT_EQ(Step(mm, 8, p_.order_qty_e8).size(), 2u);
}

TEST_F(MarketMakingTest, StopsQuotingTheSideThatWouldExceedMaxInventory) {
  MarketMaking mm(p_);
  for (int i = 0; i < 4; ++i) Step(mm, i);
  auto quotes = Step(mm, 4, p_.max_inventory_e8);
  ASSERT_EQ(quotes.size(), 1u);
  EXPECT_EQ(quotes[0].side, tickmesh::v1::SIDE_SELL);
  EXPECT_DOUBLE_EQ(quotes[0].strength, 1.0);
}

TEST(BookImbalanceMomentum, EntersOnceAndSignalsOnlyOnStateChange) {
  BookImbalanceParams p;
  p.smoothing = 2;
  p.entry = 0.5;
  p.exit = 0.2;
  BookImbalanceMomentum s(p);
  CountingSkips skips;
  std::vector<Decision> out;
  auto feed = [&](double bid_qty, double ask_qty) {
    BookTop t = Top(100, 100.02, bid_qty, ask_qty);
    Context ctx;
    ctx.book = &t;
    ctx.skips = &skips;
    s.OnBook(ctx, &out);
  };
  feed(1, 1);  // warm-up
  EXPECT_EQ(skips[SkipReason::kWarmup], 1);
  feed(1, 1);                              // imbalance 0
  for (int i = 0; i < 5; ++i) feed(9, 1);  // imbalance 0.8: enters +1 once
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].side, tickmesh::v1::SIDE_BUY);
  EXPECT_EQ(out[0].target_price_e8, 10'002'000'000);  // buys at the ask
  EXPECT_GE(out[0].strength, 0.5);
  for (int i = 0; i < 5; ++i) feed(1, 1);  // back to neutral: no signal
  for (int i = 0; i < 5; ++i) feed(1, 9);  // -0.8: one SELL at the bid
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].side, tickmesh::v1::SIDE_SELL);
  EXPECT_EQ(out[1].target_price_e8, 10'000'000'000);
}

TEST(StrategyParams, ValidationNamesTheKey) {
  auto name = [](const char* k) { return absl::StrCat("x.", k, ":"); };
  MarketMakingParams mm;
  mm.gamma = 0;
  EXPECT_EQ(ValidateMarketMakingParams(mm, name).message(), "x.gamma: must be in (0, 1e6]");
  BookImbalanceParams bi;
  bi.exit = 0.9;
  EXPECT_EQ(ValidateBookImbalanceParams(bi, name).message(), "x.exit: must be in [0, entry)");
}

}  // namespace
}  // namespace tickmesh::signal
