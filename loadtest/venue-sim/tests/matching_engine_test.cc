#include "matching_engine.h"

#include "gtest/gtest.h"

namespace tickmesh::venue_sim {
namespace {

constexpr int64_t kE8 = 100000000;

class MatchingEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(engine_.AddSymbol({"BTC-USDT", "BTC", "USDT"}).ok());
    engine_.Fund("alice", "USDT", 100000 * kE8);
    engine_.Fund("alice", "BTC", 10 * kE8);
    engine_.Fund("bob", "USDT", 100000 * kE8);
    engine_.Fund("bob", "BTC", 10 * kE8);
  }
  absl::StatusOr<Order> Limit(const std::string& owner, Side side, int64_t qty, int64_t price,
                              TimeInForce tif = TimeInForce::kGtc, std::string cid = "") {
    OrderRequest r;
    r.owner = owner;
    r.symbol = "BTC-USDT";
    r.side = side;
    r.type = OrderType::kLimit;
    r.tif = tif;
    r.qty_e8 = qty;
    r.price_e8 = price;
    r.client_order_id = std::move(cid);
    r.now_ms = ++now_;
    return engine_.Place(r);
  }
  absl::StatusOr<Order> Market(const std::string& owner, Side side, int64_t qty) {
    OrderRequest r;
    r.owner = owner;
    r.symbol = "BTC-USDT";
    r.side = side;
    r.type = OrderType::kMarket;
    r.tif = TimeInForce::kIoc;
    r.qty_e8 = qty;
    r.now_ms = ++now_;
    return engine_.Place(r);
  }
  MatchingEngine engine_;
  int64_t now_ = 0;
};

TEST_F(MatchingEngineTest, RestingLimitOrderLocksQuoteAndShowsInBook) {
  auto o = Limit("alice", Side::kBuy, 2 * kE8, 100 * kE8);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->status, OrderStatus::kNew);
  auto bal = engine_.Balances("alice");
  EXPECT_EQ(bal["USDT"].locked_e8, 200 * kE8);
  EXPECT_EQ(bal["USDT"].free_e8, (100000 - 200) * kE8);
  EXPECT_EQ(engine_.Bids("BTC-USDT"), (Levels{{100 * kE8, 2 * kE8}}));
  EXPECT_EQ(engine_.OpenOrders("alice", "").size(), 1u);
}

TEST_F(MatchingEngineTest, MatchesPriceTimePriorityWithPartialFills) {
  auto a1 = Limit("alice", Side::kSell, 1 * kE8, 101 * kE8);  // first at 101
  auto b1 = Limit("bob", Side::kSell, 1 * kE8, 101 * kE8);    // second at 101
  auto a2 = Limit("alice", Side::kSell, 1 * kE8, 100 * kE8);  // better price
  ASSERT_TRUE(a1.ok() && b1.ok() && a2.ok());
  // Buy 2.5 up to 101: fills 1 @100 (a2), 1 @101 (a1, earlier), 0.5 @101 (b1).
  auto t = Limit("bob", Side::kBuy, 25 * kE8 / 10, 101 * kE8);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->status, OrderStatus::kFilled);
  ASSERT_EQ(t->fills.size(), 3u);
  EXPECT_EQ(t->fills[0].price_e8, 100 * kE8);
  EXPECT_EQ(t->fills[0].maker_order_id, a2->id);
  EXPECT_EQ(t->fills[1].maker_order_id, a1->id);
  EXPECT_EQ(t->fills[2].maker_order_id, b1->id);
  EXPECT_EQ(t->fills[2].qty_e8, kE8 / 2);
  EXPECT_EQ(t->cum_quote_e8, 100 * kE8 + 101 * kE8 + 505 * kE8 / 10);
  const Order* rest = engine_.FindOrder(b1->id);
  ASSERT_NE(rest, nullptr);
  EXPECT_EQ(rest->status, OrderStatus::kPartiallyFilled);
  EXPECT_EQ(engine_.Asks("BTC-USDT"), (Levels{{101 * kE8, kE8 / 2}}));
}

TEST_F(MatchingEngineTest, SettlesBalancesOfBothSidesAtMakerPrice) {
  ASSERT_TRUE(Limit("alice", Side::kSell, 1 * kE8, 100 * kE8).ok());
  ASSERT_TRUE(Limit("bob", Side::kBuy, 1 * kE8, 110 * kE8).ok());  // pays 100, not 110
  auto alice = engine_.Balances("alice");
  auto bob = engine_.Balances("bob");
  EXPECT_EQ(alice["BTC"].free_e8, 9 * kE8);
  EXPECT_EQ(alice["BTC"].locked_e8, 0);
  EXPECT_EQ(alice["USDT"].free_e8, 100100 * kE8);
  EXPECT_EQ(bob["BTC"].free_e8, 11 * kE8);
  EXPECT_EQ(bob["USDT"].free_e8, 99900 * kE8);
  EXPECT_EQ(bob["USDT"].locked_e8, 0);
}

TEST_F(MatchingEngineTest, RejectsInsufficientBalanceWithoutChangingAnything) {
  auto o = Limit("alice", Side::kBuy, 2000 * kE8, 100 * kE8);  // needs 200 000 USDT
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), absl::StatusCode::kFailedPrecondition);
  auto s = Limit("alice", Side::kSell, 11 * kE8, 100 * kE8);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(engine_.Bids("BTC-USDT").empty());
  EXPECT_EQ(engine_.Balances("alice")["USDT"].locked_e8, 0);
}

TEST_F(MatchingEngineTest, MarketOrderFillsWhatIsThereAndExpiresRest) {
  ASSERT_TRUE(Limit("alice", Side::kSell, 1 * kE8, 100 * kE8).ok());
  auto m = Market("bob", Side::kBuy, 3 * kE8);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->status, OrderStatus::kExpired);
  EXPECT_EQ(m->filled_e8, 1 * kE8);
  EXPECT_EQ(engine_.Balances("bob")["USDT"].free_e8, 99900 * kE8);
}

TEST_F(MatchingEngineTest, IocAndFokNeverRest) {
  ASSERT_TRUE(Limit("alice", Side::kSell, 1 * kE8, 100 * kE8).ok());
  auto fok = Limit("bob", Side::kBuy, 2 * kE8, 100 * kE8, TimeInForce::kFok);
  ASSERT_TRUE(fok.ok());
  EXPECT_EQ(fok->status, OrderStatus::kExpired);
  EXPECT_EQ(fok->filled_e8, 0);
  EXPECT_EQ(engine_.Asks("BTC-USDT"), (Levels{{100 * kE8, 1 * kE8}}));  // untouched
  auto ioc = Limit("bob", Side::kBuy, 2 * kE8, 100 * kE8, TimeInForce::kIoc);
  ASSERT_TRUE(ioc.ok());
  EXPECT_EQ(ioc->status, OrderStatus::kExpired);
  EXPECT_EQ(ioc->filled_e8, 1 * kE8);
  EXPECT_TRUE(engine_.Bids("BTC-USDT").empty());
  EXPECT_EQ(engine_.Balances("bob")["USDT"].locked_e8, 0);
  EXPECT_EQ(engine_.Balances("bob")["USDT"].free_e8, 99900 * kE8);
}

TEST_F(MatchingEngineTest, CancelReleasesLockAndUnknownIsNotFound) {
  auto o = Limit("alice", Side::kBuy, 1 * kE8, 100 * kE8, TimeInForce::kGtc, "c1");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(engine_.Cancel("bob", "BTC-USDT", o->id, "", 1).status().code(),
            absl::StatusCode::kNotFound);  // not bob's
  auto c = engine_.Cancel("alice", "BTC-USDT", 0, "c1", 2);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->status, OrderStatus::kCanceled);
  EXPECT_EQ(engine_.Balances("alice")["USDT"].locked_e8, 0);
  EXPECT_EQ(engine_.Balances("alice")["USDT"].free_e8, 100000 * kE8);
  EXPECT_TRUE(engine_.Bids("BTC-USDT").empty());
  EXPECT_EQ(engine_.Cancel("alice", "BTC-USDT", o->id, "", 3).status().code(),
            absl::StatusCode::kNotFound);  // already cancelled
  EXPECT_EQ(engine_.Cancel("alice", "BTC-USDT", 999, "", 3).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(MatchingEngineTest, DuplicateOpenClientOrderIdIsRejected) {
  ASSERT_TRUE(Limit("alice", Side::kBuy, 1 * kE8, 100 * kE8, TimeInForce::kGtc, "x").ok());
  EXPECT_EQ(Limit("alice", Side::kBuy, 1 * kE8, 99 * kE8, TimeInForce::kGtc, "x").status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(Limit("bob", Side::kBuy, 1 * kE8, 99 * kE8, TimeInForce::kGtc, "x").ok());
}

TEST_F(MatchingEngineTest, RejectsInvalidParams) {
  EXPECT_EQ(Limit("alice", Side::kBuy, 0, 100 * kE8).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Limit("alice", Side::kBuy, kE8, 0).status().code(), absl::StatusCode::kInvalidArgument);
  OrderRequest r;
  r.symbol = "NOPE-USDT";
  r.qty_e8 = kE8;
  r.price_e8 = kE8;
  EXPECT_EQ(engine_.Place(r).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(MatchingEngineTest, MarketMakerOrdersNeedNoBalanceAndReportFills) {
  int fills = 0;
  engine_.set_on_fill([&](const std::string& s, const Fill& f) {
    EXPECT_EQ(s, "BTC-USDT");
    ++fills;
  });
  ASSERT_TRUE(Limit("", Side::kSell, 5 * kE8, 100 * kE8).ok());
  ASSERT_TRUE(Market("alice", Side::kBuy, 1 * kE8).ok());
  EXPECT_EQ(fills, 1);
  EXPECT_EQ(engine_.Balances("alice")["BTC"].free_e8, 11 * kE8);
  EXPECT_TRUE(engine_.Balances("").empty() || engine_.Balances("")["USDT"].free_e8 == 0);
}

TEST(FeeOf, RoundsUpAndIsZeroWithoutARate) {
  EXPECT_EQ(FeeOf(kE8, 10 * kE8), 100'000);  // 10 bps of 1
  EXPECT_EQ(FeeOf(1, 10 * kE8), 1);          // rounded up
  EXPECT_EQ(FeeOf(kE8, 0), 0);
  EXPECT_EQ(FeeOf(0, 10 * kE8), 0);
}

TEST_F(MatchingEngineTest, FeesInTheReceivedAssetMakerAndTakerRates) {
  ASSERT_FALSE(engine_.SetFees({-1, 0, false}).ok());
  ASSERT_FALSE(engine_.SetFees({0, 10'000 * kE8, false}).ok());
  ASSERT_TRUE(engine_.SetFees({2 * kE8, 10 * kE8, false}).ok());
  ASSERT_TRUE(Limit("alice", Side::kSell, kE8, 100 * kE8).ok());  // maker
  auto taker = Limit("bob", Side::kBuy, kE8, 100 * kE8);          // takes it
  ASSERT_TRUE(taker.ok()) << taker.status();
  ASSERT_EQ(taker->status, OrderStatus::kFilled);
  // Bob bought 1 BTC: 10 bps of it in BTC. Alice sold for 100 USDT: 2 bps of it in USDT.
  EXPECT_EQ(taker->fee_e8, 100'000);
  EXPECT_EQ(taker->fee_asset, "BTC");
  ASSERT_EQ(taker->fills.size(), 1u);
  EXPECT_EQ(taker->fills[0].fee_e8, 100'000);
  auto bob = engine_.Balances("bob");
  EXPECT_EQ(bob["BTC"].free_e8, 11 * kE8 - 100'000);
  EXPECT_EQ(bob["USDT"].free_e8, (100000 - 100) * kE8);
  auto alice = engine_.Balances("alice");
  EXPECT_EQ(alice["USDT"].free_e8, (100000 + 100) * kE8 - 2'000'000);
  EXPECT_EQ(alice["BTC"].free_e8 + alice["BTC"].locked_e8, 9 * kE8);
}

TEST_F(MatchingEngineTest, FeesInQuoteArePaidOnTopForBuys) {
  ASSERT_TRUE(engine_.SetFees({0, 10 * kE8, true}).ok());
  // A buy needs the notional plus the taker fee free: 100000 USDT cannot buy 1000 BTC at 100.
  auto poor = Limit("bob", Side::kBuy, 1000 * kE8, 100 * kE8);
  EXPECT_EQ(poor.status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Limit("alice", Side::kSell, kE8, 100 * kE8).ok());
  auto taker = Limit("bob", Side::kBuy, kE8, 100 * kE8);
  ASSERT_TRUE(taker.ok());
  EXPECT_EQ(taker->fee_e8, 10'000'000);  // 10 bps of 100 USDT
  EXPECT_EQ(taker->fee_asset, "USDT");
  auto bob = engine_.Balances("bob");
  EXPECT_EQ(bob["BTC"].free_e8, 11 * kE8);
  EXPECT_EQ(bob["USDT"].free_e8, (100000 - 100) * kE8 - 10'000'000);
  EXPECT_EQ(bob["USDT"].locked_e8, 0);
}
}  // namespace
}  // namespace tickmesh::venue_sim
