#include "risk.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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

TEST(RiskEngine, RejectsWhenOpenOrdersReachMax) {
  RiskLimits l{.max_open_orders = 3};
  RiskContext c = WithMid(E8);
  c.open_orders = 2;
  EXPECT_TRUE(RiskEngine::Check(l, Req("a", v1::SIDE_BUY, E8), c).ok);
  c.open_orders = 3;
  EXPECT_EQ(RiskEngine::Check(l, Req("a", v1::SIDE_BUY, E8), c).reason(), "risk:max_open_orders");
  // Reducing orders are orders too.
  c.position_e8 = 5 * E8;
  EXPECT_EQ(RiskEngine::Check(l, Req("a", v1::SIDE_SELL, E8), c).rule, "max_open_orders");
}

TEST(RiskEngine, RejectsNewExposureOnceDailyLossExceedsMax) {
  RiskLimits l{.max_daily_loss_e8 = 100 * E8};
  RiskContext c = WithMid(E8);
  c.position_e8 = 10 * E8;
  c.daily_pnl_e8 = -100 * E8;  // at the limit: still allowed
  EXPECT_TRUE(RiskEngine::Check(l, Req("a", v1::SIDE_BUY, E8), c).ok);
  c.daily_pnl_e8 = -100 * E8 - 1;
  EXPECT_EQ(RiskEngine::Check(l, Req("a", v1::SIDE_BUY, E8), c).reason(), "risk:max_daily_loss");
  // Flat: every order adds exposure.
  c.position_e8 = 0;
  EXPECT_EQ(RiskEngine::Check(l, Req("a", v1::SIDE_SELL, E8), c).rule, "max_daily_loss");
  // Unknown PnL: the rule cannot be evaluated and is skipped.
  c.daily_pnl_e8.reset();
  EXPECT_TRUE(RiskEngine::Check(l, Req("a", v1::SIDE_BUY, E8), c).ok);
}

TEST(RiskEngine, LetsPositionReducingOrdersThroughPastDailyLoss) {
  RiskLimits l{.max_daily_loss_e8 = 100 * E8};
  RiskContext longs = WithMid(E8);
  longs.position_e8 = 10 * E8;
  longs.daily_pnl_e8 = -500 * E8;
  EXPECT_TRUE(RiskEngine::Check(l, Req("a", v1::SIDE_SELL, 4 * E8), longs).ok);
  EXPECT_TRUE(RiskEngine::Check(l, Req("a", v1::SIDE_SELL, 10 * E8), longs).ok);  // to flat
  // Crossing through zero opens new exposure.
  EXPECT_EQ(RiskEngine::Check(l, Req("a", v1::SIDE_SELL, 11 * E8), longs).rule, "max_daily_loss");
  // Open sells count: 8 open + 4 would cross.
  longs.open_same_side_e8 = 8 * E8;
  EXPECT_EQ(RiskEngine::Check(l, Req("a", v1::SIDE_SELL, 4 * E8), longs).rule, "max_daily_loss");
  RiskContext shorts = WithMid(E8);
  shorts.position_e8 = -10 * E8;
  shorts.daily_pnl_e8 = -500 * E8;
  EXPECT_TRUE(RiskEngine::Check(l, Req("a", v1::SIDE_BUY, 3 * E8), shorts).ok);
  EXPECT_EQ(RiskEngine::Check(l, Req("a", v1::SIDE_SELL, E8), shorts).rule, "max_daily_loss");
}

TEST(TradingDay, StartsAtTheResetHourUtc) {
  constexpr int64_t kHour = 3'600'000'000'000;
  constexpr int64_t kDay = 24 * kHour;
  const int64_t day100 = 100 * kDay;  // 00:00 UTC of day 100
  EXPECT_EQ(TradingDay(day100, 0), 100);
  EXPECT_EQ(TradingDay(day100 - 1, 0), 99);
  // Days starting at 08:00 UTC: 07:59:59 still belongs to the day before.
  EXPECT_EQ(TradingDay(day100 + 8 * kHour - 1, 8), 99);
  EXPECT_EQ(TradingDay(day100 + 8 * kHour, 8), 100);
  // Before the epoch, floor not truncation.
  EXPECT_EQ(TradingDay(-1, 0), -1);
}

// RiskBook over a hand-driven clock, portfolio and marks.
class RiskBookTest : public ::testing::Test {
 protected:
  static constexpr int64_t kDay = 24 * 3'600'000'000'000;

  RiskBook Make(RiskLimits account, StrategyLimits strategies) {
    return RiskBook(account, std::move(strategies), 0, [this] { return now_; });
  }
  // A book change: new mid, cached PnL dropped (the engine invalidates on every market batch).
  void SetMid(RiskBook& book, std::optional<int64_t> mid) {
    mid_ = mid;
    book.InvalidatePnl();
  }
  MarkFn Mark() {
    return [this](const std::string&, const std::string&) { return mid_; };
  }
  RiskBook::Decision Check(RiskBook& book, const std::string& strategy, v1::Side side, int64_t qty,
                           int64_t price = 0) {
    v1::OrderRequest r = Req("c", side, qty, price);
    r.set_strategy(strategy);
    RiskBook::Account a;
    a.ctx.mid_e8 = mid_;
    a.ctx.position_e8 = account_.PositionQty("sim", "BTC-USD");
    a.portfolio = &account_;
    return book.Check(r, a, Mark());
  }
  // A fill of `strategy`, applied as the engine does: roll, account, strategy.
  void Fill(RiskBook& book, const std::string& strategy, v1::Side side, int64_t qty,
            int64_t price) {
    v1::Fill f;
    f.set_fill_id("f" + std::to_string(++fills_));
    f.set_venue("sim");
    f.set_symbol("BTC-USD");
    f.set_side(side);
    f.set_qty_e8(qty);
    f.set_price_e8(price);
    book.RollDay(account_, Mark());
    ASSERT_TRUE(account_.ApplyFill(f).ok());
    book.InvalidatePnl();  // as the engine does after every account fill
    ASSERT_TRUE(book.OnFill(f, strategy).ok());
  }
  static v1::Order Open(const std::string& id, const std::string& strategy, v1::OrderStatus status,
                        int64_t qty, int64_t filled = 0) {
    v1::Order o;
    o.set_order_id(id);
    o.set_venue("sim");
    o.set_symbol("BTC-USD");
    o.set_side(v1::SIDE_BUY);
    o.set_strategy(strategy);
    o.set_status(status);
    o.set_qty_e8(qty);
    o.set_filled_qty_e8(filled);
    return o;
  }

  int64_t now_ = 100 * kDay + 1;
  std::optional<int64_t> mid_ = 100 * E8;
  Portfolio account_{0};
  int fills_ = 0;
};

TEST_F(RiskBookTest, NamesPoolsByConfiguredStrategyElseOther) {
  RiskBook book = Make({}, StrategyLimits{.named = {{"alpha", RiskLimits{}}}});
  EXPECT_EQ(book.Pool("alpha"), "alpha");
  EXPECT_EQ(book.Pool("beta"), "other");
  EXPECT_NE(book.PoolLimits("alpha"), nullptr);
  EXPECT_EQ(book.PoolLimits("other"), nullptr);  // no default block
}

TEST_F(RiskBookTest, StrategyLimitsBindOnlyThatStrategy) {
  RiskBook book =
      Make({}, StrategyLimits{.named = {{"alpha", RiskLimits{.max_order_qty_e8 = E8}}}});
  auto a = Check(book, "alpha", v1::SIDE_BUY, 2 * E8);
  EXPECT_EQ(a.decision.reason(), "risk:max_order_qty");
  EXPECT_STREQ(a.scope, "strategy");
  EXPECT_EQ(*a.pool, "alpha");
  auto b = Check(book, "beta", v1::SIDE_BUY, 2 * E8);
  EXPECT_TRUE(b.decision.ok);
  EXPECT_EQ(*b.pool, "other");
}

TEST_F(RiskBookTest, AccountLimitsAreCheckedFirstAndNamedAccount) {
  RiskBook book = Make(RiskLimits{.max_order_qty_e8 = E8},
                       StrategyLimits{.named = {{"alpha", RiskLimits{.max_order_qty_e8 = E8}}}});
  auto d = Check(book, "alpha", v1::SIDE_BUY, 2 * E8);
  EXPECT_EQ(d.decision.rule, "max_order_qty");
  EXPECT_STREQ(d.scope, "account");
}

TEST_F(RiskBookTest, DefaultLimitsPoolEveryUnnamedStrategy) {
  RiskBook book = Make({}, StrategyLimits{.default_limits = RiskLimits{.max_open_orders = 2}});
  book.OnOrder(Open("o-1", "beta", v1::ORDER_STATUS_ACKED, E8));
  book.OnOrder(Open("o-2", "gamma", v1::ORDER_STATUS_NEW, E8));
  EXPECT_EQ(book.PoolOpenOrders("other"), 2);
  // Both count against one pool: a third unnamed strategy is refused too.
  EXPECT_EQ(Check(book, "delta", v1::SIDE_BUY, E8).decision.rule, "max_open_orders");
}

TEST_F(RiskBookTest, TracksOpenOrdersThroughTheirLifecycle) {
  RiskBook book =
      Make({}, StrategyLimits{.named = {{"alpha", RiskLimits{.max_position_e8 = 10 * E8}}}});
  book.OnOrder(Open("o-1", "alpha", v1::ORDER_STATUS_NEW, 6 * E8));
  book.OnOrder(Open("o-1", "alpha", v1::ORDER_STATUS_ACKED, 6 * E8));  // same order, no double
  EXPECT_EQ(book.PoolOpenOrders("alpha"), 1);
  // 6 open buys + 5 = 11 > 10.
  EXPECT_EQ(Check(book, "alpha", v1::SIDE_BUY, 5 * E8).decision.rule, "max_position");
  book.OnOrder(Open("o-1", "alpha", v1::ORDER_STATUS_PARTIALLY_FILLED, 6 * E8, 2 * E8));
  Fill(book, "alpha", v1::SIDE_BUY, 2 * E8, 100 * E8);
  EXPECT_EQ(book.PoolPosition("alpha", "sim", "BTC-USD"), 2 * E8);
  // 2 held + 4 open + 5 = 11 still; 4 fits.
  EXPECT_EQ(Check(book, "alpha", v1::SIDE_BUY, 5 * E8).decision.rule, "max_position");
  EXPECT_TRUE(Check(book, "alpha", v1::SIDE_BUY, 4 * E8).decision.ok);
  book.OnOrder(Open("o-1", "alpha", v1::ORDER_STATUS_CANCELLED, 6 * E8, 2 * E8));
  EXPECT_EQ(book.PoolOpenOrders("alpha"), 0);
  EXPECT_TRUE(Check(book, "alpha", v1::SIDE_BUY, 8 * E8).decision.ok);
  // Orders of strategies without limits are not tracked.
  book.OnOrder(Open("o-2", "beta", v1::ORDER_STATUS_ACKED, E8));
  EXPECT_EQ(book.PoolOpenOrders("other"), 0);
}

TEST_F(RiskBookTest, DailyLossCountsRealisedAndUnrealisedAndRollsOverAtMidnight) {
  RiskBook book = Make(RiskLimits{.max_daily_loss_e8 = 50 * E8}, {});
  Fill(book, "alpha", v1::SIDE_BUY, 10 * E8, 100 * E8);
  EXPECT_EQ(book.AccountDailyPnl(account_, Mark()), 0);
  SetMid(book, 96 * E8);  // unrealised -40: within the limit
  EXPECT_TRUE(Check(book, "alpha", v1::SIDE_BUY, E8).decision.ok);
  SetMid(book, 94 * E8);  // unrealised -60
  EXPECT_EQ(Check(book, "alpha", v1::SIDE_BUY, E8).decision.reason(), "risk:max_daily_loss");
  EXPECT_TRUE(Check(book, "alpha", v1::SIDE_SELL, 5 * E8).decision.ok);  // reducing
  // Selling half realises -30; the rest still loses -30: -60 in all.
  Fill(book, "alpha", v1::SIDE_SELL, 5 * E8, 94 * E8);
  EXPECT_EQ(book.AccountDailyPnl(account_, Mark()), -60 * E8);
  // Without a usable book the last mid still marks the position.
  SetMid(book, std::nullopt);
  EXPECT_EQ(book.AccountDailyPnl(account_, Mark()), -60 * E8);
  SetMid(book, 94 * E8);
  // The next trading day starts from the PnL at its first check.
  now_ = 101 * kDay;
  EXPECT_TRUE(Check(book, "alpha", v1::SIDE_BUY, E8).decision.ok);
  EXPECT_EQ(book.day(), 101);
  EXPECT_EQ(book.AccountDailyPnl(account_, Mark()), 0);
  SetMid(book, 84 * E8);  // -50 on the 5 held: at the limit
  EXPECT_TRUE(Check(book, "alpha", v1::SIDE_BUY, E8).decision.ok);
  SetMid(book, 83 * E8);
  EXPECT_EQ(Check(book, "alpha", v1::SIDE_BUY, E8).decision.rule, "max_daily_loss");
  // A clock stepping back does not re-open the previous day.
  now_ = 100 * kDay + 5;
  EXPECT_EQ(Check(book, "alpha", v1::SIDE_BUY, E8).decision.rule, "max_daily_loss");
  EXPECT_EQ(book.day(), 101);
}

TEST_F(RiskBookTest, StrategyDailyLossUsesOnlyThatStrategysFills) {
  RiskBook book =
      Make({}, StrategyLimits{.named = {{"alpha", RiskLimits{.max_daily_loss_e8 = 10 * E8}},
                                        {"beta", RiskLimits{.max_daily_loss_e8 = 10 * E8}}}});
  Fill(book, "alpha", v1::SIDE_BUY, 10 * E8, 100 * E8);
  Fill(book, "beta", v1::SIDE_SELL, 10 * E8, 100 * E8);
  SetMid(book, 98 * E8);  // alpha -20, beta +20, account flat
  EXPECT_EQ(book.PoolDailyPnl("alpha", Mark()), -20 * E8);
  EXPECT_EQ(book.PoolDailyPnl("beta", Mark()), 20 * E8);
  EXPECT_EQ(Check(book, "alpha", v1::SIDE_BUY, E8).decision.rule, "max_daily_loss");
  EXPECT_TRUE(Check(book, "alpha", v1::SIDE_SELL, E8).decision.ok);
  EXPECT_TRUE(Check(book, "beta", v1::SIDE_SELL, E8).decision.ok);
}

TEST_F(RiskBookTest, KeepsPnlCachedUntilInvalidated) {
  RiskBook book = Make(RiskLimits{.max_daily_loss_e8 = 50 * E8}, {});
  Fill(book, "alpha", v1::SIDE_BUY, 10 * E8, 100 * E8);
  EXPECT_EQ(book.AccountDailyPnl(account_, Mark()), 0);
  mid_ = 90 * E8;  // the owner has not said a mark changed
  EXPECT_EQ(book.AccountDailyPnl(account_, Mark()), 0);
  book.InvalidatePnl();
  EXPECT_EQ(book.AccountDailyPnl(account_, Mark()), -100 * E8);
}

TEST_F(RiskBookTest, StoredBaselineOfTodayIsUsedAfterARestart) {
  // Before the restart: day 100 began at PnL 0, then a loss of 30 was realised.
  RiskBook book = Make(RiskLimits{.max_daily_loss_e8 = 20 * E8}, {});
  std::vector<std::pair<int64_t, int64_t>> rolls;
  book.SetOnRoll([&](int64_t day, int64_t baseline) { rolls.emplace_back(day, baseline); });
  book.SeedAccountBaseline(100, 10 * E8);  // stored when day 100 began
  Fill(book, "alpha", v1::SIDE_BUY, 10 * E8, 100 * E8);
  Fill(book, "alpha", v1::SIDE_SELL, 10 * E8, 98 * E8);  // realised -20
  EXPECT_TRUE(rolls.empty());                            // the seed was used, nothing stored
  EXPECT_EQ(book.AccountDailyPnl(account_, Mark()), -30 * E8);
  EXPECT_EQ(Check(book, "alpha", v1::SIDE_BUY, E8).decision.rule, "max_daily_loss");
  // The restored positions replace the portfolio: the seed still applies to the same day.
  book.ResetDay();
  EXPECT_EQ(Check(book, "alpha", v1::SIDE_BUY, E8).decision.rule, "max_daily_loss");
  // Next day: a fresh baseline, stored.
  now_ = 101 * kDay;
  EXPECT_TRUE(Check(book, "alpha", v1::SIDE_BUY, E8).decision.ok);
  ASSERT_EQ(rolls.size(), 1u);
  EXPECT_EQ(rolls[0], std::make_pair(int64_t{101}, -20 * E8));
}

TEST_F(RiskBookTest, SeedOfAnotherDayIsIgnored) {
  RiskBook book = Make(RiskLimits{.max_daily_loss_e8 = 20 * E8}, {});
  book.SeedAccountBaseline(99, 1'000 * E8);
  EXPECT_TRUE(Check(book, "alpha", v1::SIDE_BUY, E8).decision.ok);
  EXPECT_EQ(book.AccountDailyPnl(account_, Mark()), 0);
}

StrategyLedgerSeed Seed(const std::string& strategy, int64_t net, int64_t opening,
                        int64_t day_realized, int64_t day_entry) {
  StrategyLedgerSeed s;
  s.strategy = strategy;
  s.venue = "sim";
  s.symbol = "BTC-USD";
  s.net_qty_e8 = net;
  s.opening_qty_e8 = opening;
  s.day_realized_pnl_e8 = day_realized;
  s.day_avg_entry_price_e8 = day_entry;
  return s;
}

TEST_F(RiskBookTest, SeededStrategyPositionCountsAgainstMaxPositionAfterRestart) {
  RiskBook book =
      Make({}, StrategyLimits{.named = {{"alpha", RiskLimits{.max_position_e8 = 5 * E8}}}});
  const RiskBook::SeedSummary sum = book.SeedStrategyLedgers(
      100, {Seed("alpha", 5 * E8, 0, 0, 100 * E8), Seed("beta", 9 * E8, 0, 0, 100 * E8)}, account_);
  EXPECT_EQ(sum.positions, 1u);  // beta has no pool
  EXPECT_EQ(book.PoolPosition("alpha", "sim", "BTC-USD"), 5 * E8);
  auto d = Check(book, "alpha", v1::SIDE_BUY, E8);
  EXPECT_EQ(d.decision.reason(), "risk:max_position");
  EXPECT_STREQ(d.scope, "strategy");
  EXPECT_TRUE(Check(book, "alpha", v1::SIDE_SELL, E8).decision.ok);
  EXPECT_TRUE(Check(book, "beta", v1::SIDE_BUY, E8).decision.ok);
}

TEST_F(RiskBookTest, SeededDayThatStartedFlatCountsTodaysRealisedAndUnrealisedSinceEntry) {
  RiskBook book =
      Make({}, StrategyLimits{.named = {{"alpha", RiskLimits{.max_daily_loss_e8 = 20 * E8}}}});
  // Today before the restart: -15 realised, then long 2 @100 still open.
  book.SeedStrategyLedgers(100, {Seed("alpha", 2 * E8, 0, -15 * E8, 100 * E8)}, account_);
  SetMid(book, 98 * E8);  // -4 unrealised: -19 today
  EXPECT_TRUE(Check(book, "alpha", v1::SIDE_BUY, E8).decision.ok);
  EXPECT_EQ(book.PoolDailyPnl("alpha", Mark()), -19 * E8);
  SetMid(book, 97 * E8);  // -21
  EXPECT_EQ(Check(book, "alpha", v1::SIDE_BUY, E8).decision.reason(), "risk:max_daily_loss");
  // The next day starts from the PnL at its first check.
  now_ = 101 * kDay;
  EXPECT_TRUE(Check(book, "alpha", v1::SIDE_BUY, E8).decision.ok);
  EXPECT_EQ(book.PoolDailyPnl("alpha", Mark()), 0);
}

TEST_F(RiskBookTest, SeededPositionCarriedIntoTheDayCountsFromTheFirstRoll) {
  RiskBook book =
      Make({}, StrategyLimits{.named = {{"alpha", RiskLimits{.max_daily_loss_e8 = 20 * E8}}}});
  v1::Position held;
  held.set_venue("sim");
  held.set_symbol("BTC-USD");
  held.set_qty_e8(3 * E8);
  held.set_avg_entry_price_e8(90 * E8);
  ASSERT_TRUE(account_.RestorePosition(held).ok());
  // Long 3 carried in; the day's walk from flat (+50) does not describe it and is not used.
  book.SeedStrategyLedgers(100, {Seed("alpha", 3 * E8, 3 * E8, 50 * E8, 0)}, account_);
  EXPECT_TRUE(Check(book, "alpha", v1::SIDE_BUY, E8).decision.ok);  // first roll at mid 100
  EXPECT_EQ(book.PoolDailyPnl("alpha", Mark()), 0);
  SetMid(book, 93 * E8);  // -21 since the restart
  EXPECT_EQ(book.PoolDailyPnl("alpha", Mark()), -21 * E8);
  EXPECT_EQ(Check(book, "alpha", v1::SIDE_BUY, E8).decision.rule, "max_daily_loss");
  // The entry price is the account's: selling at 93 realises (93 - 90) * 1.
  Fill(book, "alpha", v1::SIDE_SELL, E8, 93 * E8);
  EXPECT_EQ(book.PoolDailyPnl("alpha", Mark()), -21 * E8);
}

TEST_F(RiskBookTest, UnknownEntryPriceOfASeededPositionIsTakenFromTheFirstMark) {
  RiskBook book =
      Make({}, StrategyLimits{.named = {{"alpha", RiskLimits{.max_daily_loss_e8 = 20 * E8}}}});
  // Carried in, the account flat (another strategy holds the opposite), no fill today.
  book.SeedStrategyLedgers(100, {Seed("alpha", 2 * E8, 2 * E8, 0, 0)}, account_);
  SetMid(book, std::nullopt);
  EXPECT_TRUE(Check(book, "alpha", v1::SIDE_BUY, E8).decision.ok);
  EXPECT_EQ(book.PoolDailyPnl("alpha", Mark()), 0);  // not marked: no made-up PnL
  SetMid(book, 100 * E8);
  EXPECT_EQ(book.PoolDailyPnl("alpha", Mark()), 0);  // entry taken at 100
  SetMid(book, 90 * E8);
  EXPECT_EQ(book.PoolDailyPnl("alpha", Mark()), -20 * E8);
}

TEST_F(RiskBookTest, SeedsOfSeveralUnnamedStrategiesSumInTheOtherPool) {
  RiskBook book = Make({}, StrategyLimits{.default_limits = RiskLimits{.max_position_e8 = E8}});
  // beta long 2 @100 (+5 realised today), gamma short 1 @110: net +1.
  book.SeedStrategyLedgers(
      100, {Seed("beta", 2 * E8, 0, 5 * E8, 100 * E8), Seed("gamma", -E8, 0, 0, 110 * E8)},
      account_);
  EXPECT_EQ(book.PoolPosition("other", "sim", "BTC-USD"), E8);
  EXPECT_EQ(Check(book, "delta", v1::SIDE_BUY, E8).decision.rule, "max_position");
  // Realised + unrealised equals the legs' sum at any mark: 5 + 2(m-100) - (m-110) = m - 85.
  SetMid(book, 100 * E8);
  EXPECT_EQ(book.PoolDailyPnl("other", Mark()), 15 * E8);
  SetMid(book, 120 * E8);
  EXPECT_EQ(book.PoolDailyPnl("other", Mark()), 35 * E8);
}

TEST_F(RiskBookTest, SeedsOfAnotherDayOnlyRestorePositions) {
  RiskBook book =
      Make({}, StrategyLimits{.named = {{"alpha", RiskLimits{.max_daily_loss_e8 = 20 * E8}}}});
  book.SeedStrategyLedgers(99, {Seed("alpha", 2 * E8, 0, -50 * E8, 100 * E8)}, account_);
  // Day 100 began after the seeds' day: its baseline is the PnL at its first check.
  EXPECT_TRUE(Check(book, "alpha", v1::SIDE_BUY, E8).decision.ok);
  EXPECT_EQ(book.PoolDailyPnl("alpha", Mark()), 0);
  EXPECT_EQ(book.PoolPosition("alpha", "sim", "BTC-USD"), 2 * E8);
}

}  // namespace
}  // namespace tickmesh::execution
