#include "paper_venue.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "gtest/gtest.h"
#include "paper_venue_adapter.h"
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

v1::MarketEvent Print(int64_t price, int64_t qty, v1::Side aggressor) {
  v1::MarketEvent ev;
  ev.set_venue("sim");
  ev.set_symbol("BTC-USD");
  ev.mutable_trade()->set_price_e8(price);
  ev.mutable_trade()->set_qty_e8(qty);
  ev.mutable_trade()->set_aggressor_side(aggressor);
  return ev;
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

// market-data numbers every event of an instrument (book, trade, ticker) in one sequence: a trade
// between two deltas is not a gap, but a skipped number still is.
TEST_F(PaperVenueTest, TradesAndTickersBetweenDeltasAreNotGaps) {
  std::vector<VenueFill> fills;
  v1::MarketEvent trade = Print(101 * E8, E8 / 10, v1::SIDE_BUY);
  trade.set_seq(2);
  ASSERT_TRUE(venue_.ApplyMarketEvent(trade, &fills).ok());
  v1::MarketEvent ticker;
  ticker.set_venue("sim");
  ticker.set_symbol("BTC-USD");
  ticker.set_seq(3);
  ticker.mutable_ticker()->set_last_price_e8(101 * E8);
  ASSERT_TRUE(venue_.ApplyMarketEvent(ticker, &fills).ok());
  ASSERT_TRUE(
      venue_.ApplyMarketEvent(testing::Delta("sim", "BTC-USD", 4, {{99 * E8, 3 * E8}}, {}), &fills)
          .ok());
  ASSERT_TRUE(venue_.Mid("sim", "BTC-USD").has_value());
  trade.set_seq(6);  // 5 never arrived
  EXPECT_EQ(venue_.ApplyMarketEvent(trade, &fills).code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(venue_.Mid("sim", "BTC-USD").has_value());
}

TEST_F(PaperVenueTest, MarksBooksStaleOnDisconnect) {
  EXPECT_TRUE(venue_.Mid("sim", "BTC-USD").has_value());
  venue_.MarkAllStale();
  EXPECT_FALSE(venue_.Mid("sim", "BTC-USD").has_value());
  EXPECT_EQ(venue_.Execute(MakeOrder("o-1", v1::SIDE_BUY, E8)).reject_reason, "venue:no_market");
}

TEST_F(PaperVenueTest, MidFindsExactlyItsInstrumentWhateverTheKeyLength) {
  EXPECT_EQ(venue_.Mid("sim", "BTC-USD"), 100 * E8);
  EXPECT_FALSE(venue_.Mid("sim", "BTC-US").has_value());
  EXPECT_FALSE(venue_.Mid("si", "BTC-USD").has_value());
  EXPECT_FALSE(venue_.Mid("simBTC-USD", "").has_value());
  EXPECT_EQ(venue_.Book("sim", "ETH-USD"), nullptr);
  // Keys that just fit the inline buffer and keys past it (the allocating path).
  const std::string symbol = "ETH-USD";
  for (size_t key_size :
       {PaperVenue::kInlineKeyBytes, PaperVenue::kInlineKeyBytes + 1, size_t{300}}) {
    const std::string venue(key_size - 1 - symbol.size(), 'v');
    std::vector<VenueFill> fills;
    ASSERT_TRUE(
        venue_
            .ApplyMarketEvent(testing::Snapshot(venue, symbol, 1, {{9 * E8, E8}}, {{11 * E8, E8}}),
                              &fills)
            .ok())
        << key_size;
    EXPECT_EQ(venue_.Mid(venue, symbol), 10 * E8) << key_size;
    EXPECT_FALSE(venue_.Mid(venue + "v", symbol).has_value()) << key_size;
    EXPECT_FALSE(venue_.Mid(venue, "ETH-USDT").has_value()) << key_size;
  }
}

// ---- queue position -------------------------------------------------------------------------
// Book from SetUp: bids 99 x 1, 98 x 2; asks 101 x 1, 102 x 2.

class PaperVenueQueueTest : public PaperVenueTest {
 protected:
  std::vector<VenueFill> Apply(const v1::MarketEvent& ev) {
    std::vector<VenueFill> fills;
    EXPECT_TRUE(venue_.ApplyMarketEvent(ev, &fills).ok());
    return fills;
  }
  std::vector<VenueFill> BidLevel(uint64_t seq, int64_t price, int64_t qty) {
    return Apply(testing::Delta("sim", "BTC-USD", seq, {{price, qty}}, {}));
  }
};

TEST_F(PaperVenueQueueTest, RestingOrderJoinsBehindTheDisplayedSizeOfItsLevel) {
  ASSERT_EQ(venue_.Execute(MakeOrder("o-1", v1::SIDE_BUY, E8, 99 * E8)).remainder,
            ExecutionReport::Remainder::kRest);
  EXPECT_EQ(venue_.QueueAhead("o-1"), E8);
  // A new price level: nothing ahead.
  venue_.Execute(MakeOrder("o-2", v1::SIDE_BUY, E8, 99 * E8 + E8 / 2));
  EXPECT_EQ(venue_.QueueAhead("o-2"), 0);
  venue_.Execute(MakeOrder("o-3", v1::SIDE_SELL, E8, 102 * E8));
  EXPECT_EQ(venue_.QueueAhead("o-3"), 2 * E8);
  EXPECT_FALSE(venue_.QueueAhead("o-9").has_value());
}

TEST_F(PaperVenueQueueTest, TradesAtItsLevelConsumeTheQueueThenFillItPartlyAndFully) {
  venue_.Execute(MakeOrder("o-1", v1::SIDE_BUY, 2 * E8, 99 * E8));
  // 0.6 trades at 99: all of it was ahead.
  EXPECT_TRUE(Apply(Print(99 * E8, 60'000'000, v1::SIDE_SELL)).empty());
  EXPECT_EQ(venue_.QueueAhead("o-1"), 40'000'000);
  // 1 more: 0.4 ahead, then 0.6 to the order (partial).
  auto fills = Apply(Print(99 * E8, E8, v1::SIDE_SELL));
  ASSERT_EQ(fills.size(), 1u);
  EXPECT_EQ(fills[0].order_id, "o-1");
  EXPECT_EQ(fills[0].qty_e8, 60'000'000);
  EXPECT_EQ(fills[0].price_e8, 99 * E8);
  EXPECT_EQ(fills[0].liquidity, v1::LIQUIDITY_MAKER);
  EXPECT_EQ(fills[0].fee_asset, "USD");
  EXPECT_EQ(venue_.QueueAhead("o-1"), 0);
  // The rest fills on the next print; the order leaves the book.
  fills = Apply(Print(99 * E8, 5 * E8, v1::SIDE_SELL));
  ASSERT_EQ(fills.size(), 1u);
  EXPECT_EQ(fills[0].qty_e8, 140'000'000);
  EXPECT_EQ(venue_.resting_count(), 0u);
}

TEST_F(PaperVenueQueueTest, DecreasesOfTheLevelAdvanceTheQueueInProportion) {
  venue_.Execute(MakeOrder("o-1", v1::SIDE_BUY, E8, 99 * E8));
  EXPECT_EQ(venue_.QueueAhead("o-1"), E8);
  BidLevel(2, 99 * E8, 3 * E8);  // 2 joined behind
  EXPECT_EQ(venue_.QueueAhead("o-1"), E8);
  BidLevel(3, 99 * E8, 3 * E8 / 2);  // half the level cancelled: half of what is ahead
  EXPECT_EQ(venue_.QueueAhead("o-1"), E8 / 2);
  BidLevel(4, 99 * E8, 0);  // the level is gone: front of the queue, but no fill without a trade
  EXPECT_EQ(venue_.QueueAhead("o-1"), 0);
  EXPECT_EQ(venue_.resting_count(), 1u);
  auto fills = Apply(Print(99 * E8, 30'000'000, v1::SIDE_SELL));
  ASSERT_EQ(fills.size(), 1u);
  EXPECT_EQ(fills[0].qty_e8, 30'000'000);
}

TEST_F(PaperVenueQueueTest, TradedQuantityIsNotCountedAgainWhenTheBookShowsIt) {
  venue_.Execute(MakeOrder("o-1", v1::SIDE_BUY, E8, 99 * E8));
  Apply(Print(99 * E8, E8 / 2, v1::SIDE_SELL));
  EXPECT_EQ(venue_.QueueAhead("o-1"), E8 / 2);
  BidLevel(2, 99 * E8, E8 / 2);  // the update reflecting that trade
  EXPECT_EQ(venue_.QueueAhead("o-1"), E8 / 2);
}

TEST_F(PaperVenueQueueTest, PrintsThroughItsPriceFillItWhateverIsAhead) {
  venue_.Execute(MakeOrder("o-1", v1::SIDE_BUY, E8, 99 * E8));
  auto fills = Apply(Print(98 * E8, 70'000'000, v1::SIDE_SELL));
  ASSERT_EQ(fills.size(), 1u);
  EXPECT_EQ(fills[0].qty_e8, 70'000'000);
  EXPECT_EQ(fills[0].price_e8, 99 * E8);  // at its own limit
  EXPECT_EQ(venue_.QueueAhead("o-1"), 0);
}

TEST_F(PaperVenueQueueTest, PrintsOfTheOtherSideOrAwayFromItsPriceDoNotTouchIt) {
  venue_.Execute(MakeOrder("o-1", v1::SIDE_BUY, E8, 99 * E8));
  EXPECT_TRUE(Apply(Print(99 * E8, 5 * E8, v1::SIDE_BUY)).empty());    // lifts asks
  EXPECT_TRUE(Apply(Print(100 * E8, 5 * E8, v1::SIDE_SELL)).empty());  // above its bid
  EXPECT_EQ(venue_.QueueAhead("o-1"), E8);
  std::vector<VenueFill> fills;
  EXPECT_EQ(venue_.ApplyMarketEvent(Print(0, E8, v1::SIDE_SELL), &fills).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(venue_.ApplyMarketEvent(Print(99 * E8, 0, v1::SIDE_SELL), &fills).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(venue_.QueueAhead("o-1"), E8);
}

TEST_F(PaperVenueQueueTest, OnePrintNeverFillsMoreThanItsQuantityAcrossPaperOrders) {
  venue_.Execute(MakeOrder("o-1", v1::SIDE_BUY, E8, 99 * E8));
  venue_.Execute(MakeOrder("o-2", v1::SIDE_BUY, E8, 99 * E8));
  EXPECT_EQ(venue_.QueueAhead("o-2"), E8);  // paper orders are not in the displayed book
  // 1.5 at 99: 1 was ahead of both; the 0.5 beyond goes to the older order only.
  auto fills = Apply(Print(99 * E8, 3 * E8 / 2, v1::SIDE_SELL));
  ASSERT_EQ(fills.size(), 1u);
  EXPECT_EQ(fills[0].order_id, "o-1");
  EXPECT_EQ(fills[0].qty_e8, E8 / 2);
  EXPECT_EQ(venue_.QueueAhead("o-2"), 0);
  fills = Apply(Print(99 * E8, E8, v1::SIDE_SELL));
  ASSERT_EQ(fills.size(), 2u);
  EXPECT_EQ(fills[0].order_id, "o-1");
  EXPECT_EQ(fills[0].qty_e8, E8 / 2);
  EXPECT_EQ(fills[1].order_id, "o-2");
  EXPECT_EQ(fills[1].qty_e8, E8 / 2);
}

TEST_F(PaperVenueQueueTest, SellQueueAdvancesOnBuyPrints) {
  venue_.Execute(MakeOrder("o-1", v1::SIDE_SELL, E8, 101 * E8));
  EXPECT_EQ(venue_.QueueAhead("o-1"), E8);
  EXPECT_TRUE(Apply(Print(101 * E8, E8, v1::SIDE_BUY)).empty());
  auto fills = Apply(Print(101 * E8, E8 / 4, v1::SIDE_UNSPECIFIED));  // unknown aggressor
  ASSERT_EQ(fills.size(), 1u);
  EXPECT_EQ(fills[0].qty_e8, E8 / 4);
}

TEST_F(PaperVenueQueueTest, RestoredOrderJoinsTheQueueOnceItsBookIsUsable) {
  PaperVenue fresh(PaperVenue::Options{});
  v1::Order o = MakeOrder("o-7", v1::SIDE_BUY, E8, 99 * E8);
  o.set_status(v1::ORDER_STATUS_ACKED);
  ASSERT_TRUE(fresh.RestoreResting(o));
  EXPECT_FALSE(fresh.QueueAhead("o-7").has_value());
  std::vector<VenueFill> fills;
  ASSERT_TRUE(
      fresh
          .ApplyMarketEvent(
              testing::Snapshot("sim", "BTC-USD", 1, {{99 * E8, 4 * E8}}, {{101 * E8, E8}}), &fills)
          .ok());
  EXPECT_EQ(fresh.QueueAhead("o-7"), 4 * E8);
}

// ---- latency model --------------------------------------------------------------------------

TEST(PaperVenueLatency, OrderExecutesAgainstTheBookAsItIsWhenItArrives) {
  PaperVenue venue(PaperVenue::Options{.taker_fee_bps = 0, .ack_latency_ns = 10'000'000});
  std::vector<VenueFill> fills;
  ASSERT_TRUE(
      venue
          .ApplyMarketEvent(
              testing::Snapshot("sim", "BTC-USD", 1, {{99 * E8, E8}}, {{101 * E8, E8}}), &fills)
          .ok());
  ASSERT_TRUE(venue.Send(MakeOrder("o-1", v1::SIDE_BUY, E8), 0).ok());
  ASSERT_TRUE(venue.Send(MakeOrder("o-2", v1::SIDE_BUY, E8), 1'000'000).ok());
  EXPECT_EQ(venue.next_arrival_ns(), 10'000'000);
  // While o-1 travels, the ask moves to 103.
  ASSERT_TRUE(
      venue
          .ApplyMarketEvent(
              testing::Delta("sim", "BTC-USD", 2, {}, {{101 * E8, 0}, {103 * E8, E8}}), &fills)
          .ok());
  EXPECT_TRUE(venue.Arrive(9'999'999).empty());
  auto arrived = venue.Arrive(10'000'000);
  ASSERT_EQ(arrived.size(), 1u);
  EXPECT_EQ(arrived[0].first.order_id(), "o-1");
  ASSERT_EQ(arrived[0].second.fills.size(), 1u);
  EXPECT_EQ(arrived[0].second.fills[0].price_e8, 103 * E8);
  EXPECT_EQ(venue.in_flight_count(), 1u);
  // o-2 is cancelled on its way: it never reaches the book.
  EXPECT_TRUE(venue.CancelInFlight("o-2"));
  EXPECT_FALSE(venue.CancelInFlight("o-2"));
  EXPECT_TRUE(venue.Arrive(100'000'000).empty());
  EXPECT_FALSE(venue.next_arrival_ns().has_value());
}

TEST(PaperVenueLatency, OrdersArriveInTheOrderSentAndInFlightIsBounded) {
  PaperVenue venue(PaperVenue::Options{.ack_latency_ns = 5});
  ASSERT_TRUE(venue.Send(MakeOrder("o-1", v1::SIDE_BUY, E8), 100).ok());
  // Sent later with an earlier clock reading: still arrives after o-1.
  ASSERT_TRUE(venue.Send(MakeOrder("o-2", v1::SIDE_BUY, E8), 50).ok());
  auto arrived = venue.Arrive(105);
  ASSERT_EQ(arrived.size(), 2u);
  EXPECT_EQ(arrived[0].first.order_id(), "o-1");
  EXPECT_EQ(arrived[1].first.order_id(), "o-2");
  EXPECT_EQ(arrived[0].second.reject_reason, "venue:no_market");  // no book
  for (size_t i = 0; i < PaperVenue::kMaxInFlight; ++i) {
    ASSERT_TRUE(venue.Send(MakeOrder("o-x", v1::SIDE_BUY, E8), 0).ok());
  }
  EXPECT_EQ(venue.Send(MakeOrder("o-y", v1::SIDE_BUY, E8), 0).code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(PaperVenueLatency, JitterStaysWithinItsBoundAndNeverReorders) {
  PaperVenue venue(
      PaperVenue::Options{.ack_latency_ns = 1'000, .ack_jitter_ns = 500, .jitter_seed = 7});
  constexpr int kOrders = 200;
  for (int i = 0; i < kOrders; ++i) {
    ASSERT_TRUE(venue.Send(MakeOrder("o-" + std::to_string(i), v1::SIDE_BUY, E8), i * 10).ok());
  }
  // Order i arrives at max(previous arrival, sent + 1000 + draw in [0, 500]).
  int next = 0;
  int64_t last = 0;
  std::set<int64_t> delays;
  while (auto t = venue.next_arrival_ns()) {
    for (auto& [order, report] : venue.Arrive(*t)) {
      ASSERT_EQ(order.order_id(), "o-" + std::to_string(next));  // in the order sent
      const int64_t sent = next * 10;
      EXPECT_GE(*t, sent + 1'000);
      EXPECT_GE(*t, last);
      EXPECT_LE(*t, std::max(last, sent + 1'500)) << "order " << next << " beyond its jitter";
      delays.insert(*t - sent);
      ++next;
    }
    last = *t;
  }
  EXPECT_EQ(next, kOrders);
  EXPECT_GT(delays.size(), 10u);  // the delay does vary
}

// ---- the adapter's latency path (timer thread not started: arrivals taken by hand) ----------

TEST(PaperVenueAdapterLatency, SendsThenAnswersAtArrivalWithTheBookOfThatTime) {
  PaperVenue venue(PaperVenue::Options{.taker_fee_bps = 0, .ack_latency_ns = 1'000});
  int64_t now = 5'000;
  PaperVenueAdapter adapter(&venue, [&now] { return now; });
  ASSERT_TRUE(adapter.delayed());
  std::vector<VenueFill> fills;
  ASSERT_TRUE(
      venue
          .ApplyMarketEvent(
              testing::Snapshot("sim", "BTC-USD", 1, {{99 * E8, E8}}, {{101 * E8, E8}}), &fills)
          .ok());
  ASSERT_TRUE(adapter.Send(MakeOrder("o-1", v1::SIDE_BUY, E8)).ok());
  now = 5'500;
  ASSERT_TRUE(adapter.Send(MakeOrder("o-2", v1::SIDE_SELL, E8, 98 * E8)).ok());
  EXPECT_TRUE(adapter.TakeArrivals().empty());
  ASSERT_TRUE(
      venue
          .ApplyMarketEvent(testing::Delta("sim", "BTC-USD", 2, {{99 * E8, 0}, {97 * E8, E8}},
                                           {{101 * E8, 0}, {104 * E8, E8}}),
                            &fills)
          .ok());
  now = 6'000;  // o-1 arrives; o-2 (due 6 500) does not yet
  auto a = adapter.TakeArrivals();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].first.order_id(), "o-1");
  EXPECT_EQ(a[0].second.status, VenueOrderStatus::kFilled);
  ASSERT_EQ(a[0].second.fills.size(), 1u);
  EXPECT_EQ(a[0].second.fills[0].price_e8, 104 * E8);
  EXPECT_EQ(adapter.in_flight(), 1u);
  now = 6'500;  // o-2: a LIMIT sell at 98 finds the bid at 97 and rests
  a = adapter.TakeArrivals();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].second.status, VenueOrderStatus::kOpen);
  EXPECT_TRUE(a[0].second.fills.empty());
  EXPECT_EQ(venue.resting_count(), 1u);
}

TEST(PaperVenueAdapterLatency, CancelInFlightAnswersCancelledAndTheOrderNeverArrives) {
  PaperVenue venue(PaperVenue::Options{.ack_latency_ns = 1'000});
  int64_t now = 0;
  PaperVenueAdapter adapter(&venue, [&now] { return now; });
  std::vector<VenueFill> fills;
  ASSERT_TRUE(
      venue
          .ApplyMarketEvent(
              testing::Snapshot("sim", "BTC-USD", 1, {{99 * E8, E8}}, {{101 * E8, E8}}), &fills)
          .ok());
  v1::Order o = MakeOrder("o-1", v1::SIDE_BUY, E8, 100 * E8);
  ASSERT_TRUE(adapter.Send(o).ok());
  auto st = adapter.Cancel(o);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->status, VenueOrderStatus::kCancelled);
  EXPECT_EQ(adapter.in_flight(), 0u);
  now = 10'000;
  EXPECT_TRUE(adapter.TakeArrivals().empty());
  EXPECT_EQ(venue.resting_count(), 0u);
}

TEST(PaperVenueAdapterLatency, WithoutLatencyTheAdapterIsNotDelayed) {
  PaperVenue venue(PaperVenue::Options{});
  PaperVenueAdapter adapter(&venue);
  EXPECT_FALSE(adapter.delayed());
  PaperVenue jitter_only(PaperVenue::Options{.ack_jitter_ns = 1});
  EXPECT_TRUE(PaperVenueAdapter(&jitter_only).delayed());
}

// ---- ArrivalTimer -------------------------------------------------------------------------

TEST(ArrivalTimer, CallsBackOnceTheInjectedClockPassesTheEarliestDeadline) {
  std::atomic<int64_t> now{0};
  std::atomic<int> calls{0};
  ArrivalTimer timer([&now] { return now.load(); });
  timer.Start([&calls] { calls.fetch_add(1); });
  timer.ArmAt(2'000);
  timer.ArmAt(1'000);  // the earliest wins
  timer.ArmAt(3'000);  // later: kept behind the earlier one
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(calls.load(), 0);  // the clock has not moved
  now = 1'000;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (calls.load() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(calls.load(), 1);
  // One call served every deadline armed before it: nothing is armed now.
  now = 10'000;
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(calls.load(), 1);
  // Re-armed from the callback's owner (as TakeArrivals does), it fires again.
  timer.ArmAt(9'000);
  while (calls.load() == 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(calls.load(), 2);
  timer.Stop();
  timer.ArmAt(0);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(calls.load(), 2);  // never after Stop
}

TEST(ArrivalTimer, RealClockDeadlineFires) {
  std::atomic<bool> fired{false};
  ArrivalTimer timer(nullptr);
  timer.Start([&fired] { fired = true; });
  timer.ArmAt(timer.now() + 1'000'000);  // 1 ms
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!fired && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(fired);
}

}  // namespace
}  // namespace tickmesh::execution
