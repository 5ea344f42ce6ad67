#include "execution_engine.h"

#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "test_util.h"
#include "tickmesh/runtime/metrics.h"

namespace tickmesh::execution {
namespace {

using testing::E8;
using testing::Req;
namespace v1 = tickmesh::v1;

class ExecutionEngineTest : public ::testing::Test {
 protected:
  ExecutionEngineTest() : outbox_(OutboxQueue::Options{}) { Make(DefaultOptions()); }

  static EngineOptions DefaultOptions() {
    EngineOptions o;
    o.risk = RiskLimits{.max_order_qty_e8 = 100 * E8,
                        .max_order_notional_e8 = 6'000 * E8,
                        .max_position_e8 = 50 * E8,
                        .price_band_bps = 500};
    o.venue = PaperVenue::Options{.taker_fee_bps = 10, .maker_fee_bps = 0};
    o.initial_quote_e8 = 1'000'000 * E8;
    return o;
  }

  void Make(EngineOptions options, OutboxQueue* outbox = nullptr) {
    engine_ =
        std::make_unique<ExecutionEngine>(options, outbox != nullptr ? outbox : &outbox_,
                                          [this](std::string k, std::string v) { cache_[k] = v; });
    engine_->SetEventObserver([this](const v1::OrderEventBatch& b) {
      for (const auto& e : b.events()) events_.push_back(e);
    });
  }

  void Book(uint64_t seq = 1) {
    v1::MarketEventBatch batch;
    *batch.add_events() =
        testing::Snapshot("sim", "BTC-USD", seq, {{99 * E8, E8}, {98 * E8, 2 * E8}},
                          {{101 * E8, E8}, {102 * E8, 2 * E8}});
    engine_->OnMarketBatch(batch);
  }

  // Records currently in the outbox, drained by cutting batches (left in flight).
  std::vector<v1::Record> DrainOutbox() {
    std::vector<v1::Record> out;
    while (auto b = outbox_.NextBatch(absl::Now() + absl::Milliseconds(50))) {
      for (auto& r : *b->mutable_records()) out.push_back(r);
    }
    return out;
  }

  OutboxQueue outbox_;
  std::unique_ptr<ExecutionEngine> engine_;
  std::vector<v1::OrderEvent> events_;
  std::map<std::string, std::string> cache_;
};

TEST_F(ExecutionEngineTest, SubmitWithoutBookIsRejectedNoMarketAndRecorded) {
  auto r = engine_->Submit(Req("c1", v1::SIDE_BUY, E8));
  ASSERT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), "venue:no_market");
  v1::OrderRef ref;
  ref.set_client_order_id("c1");
  auto o = engine_->GetOrder(ref);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->status(), v1::ORDER_STATUS_REJECTED);
  EXPECT_EQ(o->reject_reason(), "venue:no_market");
  ASSERT_EQ(events_.size(), 2u);
  EXPECT_EQ(events_[1].type(), v1::ORDER_EVENT_TYPE_REJECTED);
  EXPECT_EQ(DrainOutbox().size(), 4u);  // (order + event) x 2
}

TEST_F(ExecutionEngineTest, MarketBuyWalksBookAndUpdatesPortfolio) {
  Book();
  v1::OrderRequest req = Req("c1", v1::SIDE_BUY, 3 * E8 / 2);
  req.mutable_trace()->set_trace_id(42);
  auto r = engine_->Submit(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->duplicate());
  const v1::Order& o = r->order();
  EXPECT_EQ(o.status(), v1::ORDER_STATUS_FILLED);
  EXPECT_EQ(o.filled_qty_e8(), 3 * E8 / 2);
  // (101 * 1 + 102 * 0.5) / 1.5 = 101.333...
  EXPECT_EQ(o.avg_fill_price_e8(), 10133333333);
  EXPECT_EQ(o.arrival_mid_e8(), 100 * E8);
  EXPECT_EQ(o.fee_e8(), 10'100'000 + 5'100'000);

  ASSERT_EQ(events_.size(), 4u);
  EXPECT_EQ(events_[0].type(), v1::ORDER_EVENT_TYPE_NEW);
  EXPECT_EQ(events_[1].type(), v1::ORDER_EVENT_TYPE_ACKED);
  EXPECT_EQ(events_[2].type(), v1::ORDER_EVENT_TYPE_FILL);
  EXPECT_EQ(events_[3].type(), v1::ORDER_EVENT_TYPE_FILL);
  for (size_t i = 1; i < events_.size(); ++i) EXPECT_EQ(events_[i].seq(), events_[i - 1].seq() + 1);
  // Fill trace: the request's trace + recv, venue_ack, emit.
  const v1::Trace& t = events_[2].trace();
  EXPECT_EQ(t.trace_id(), 42u);
  ASSERT_EQ(t.hops_size(), 3);
  EXPECT_EQ(t.hops(0).stage(), "recv");
  EXPECT_EQ(t.hops(1).stage(), "venue_ack");
  EXPECT_EQ(t.hops(2).stage(), "emit");
  EXPECT_EQ(t.hops(2).service(), "execution");

  v1::GetPositionsRequest pr;
  auto pos = engine_->GetPositions(pr);
  ASSERT_EQ(pos.positions_size(), 1);
  EXPECT_EQ(pos.positions(0).qty_e8(), 3 * E8 / 2);
  EXPECT_EQ(pos.positions(0).mark_price_e8(), 100 * E8);
  auto bal = engine_->GetBalances(v1::GetBalancesRequest());
  std::map<std::string, int64_t> totals;
  for (const auto& b : bal.balances()) totals[b.asset()] = b.total_e8();
  EXPECT_EQ(totals["BTC"], 3 * E8 / 2);
  EXPECT_EQ(totals["USD"], 1'000'000 * E8 - 152 * E8 - 15'200'000);

  // Outbox: (order + event) for NEW, ACKED; (order + event + fill) per fill.
  auto records = DrainOutbox();
  // order+event for NEW and ACKED, order+event+fill per fill, then the position and both
  // balances after the fills.
  EXPECT_EQ(records.size(), 2u + 2u + 3u + 3u + 3u);
  int fills = 0;
  for (const auto& rec : records) fills += rec.has_fill();
  EXPECT_EQ(fills, 2);
  // Cache: both balances and the position, as protobuf bytes.
  ASSERT_TRUE(cache_.count("balance:sim:BTC"));
  ASSERT_TRUE(cache_.count("balance:sim:USD"));
  ASSERT_TRUE(cache_.count("position:sim:BTC-USD"));
  v1::Position cached;
  ASSERT_TRUE(cached.ParseFromString(cache_["position:sim:BTC-USD"]));
  EXPECT_EQ(cached.qty_e8(), 3 * E8 / 2);
}

TEST_F(ExecutionEngineTest, PartialMarketFillCancelsTheRest) {
  Book();
  auto r = engine_->Submit(Req("c1", v1::SIDE_SELL, 5 * E8));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->order().status(), v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(r->order().filled_qty_e8(), 3 * E8);
  EXPECT_EQ(events_.back().type(), v1::ORDER_EVENT_TYPE_CANCELLED);
}

TEST_F(ExecutionEngineTest, SameClientOrderIdIsIdempotent) {
  Book();
  auto first = engine_->Submit(Req("c1", v1::SIDE_BUY, E8 / 2));
  ASSERT_TRUE(first.ok());
  const size_t n = events_.size();
  auto again = engine_->Submit(Req("c1", v1::SIDE_BUY, E8 / 2));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate());
  EXPECT_EQ(again->order().order_id(), first->order().order_id());
  EXPECT_EQ(events_.size(), n);
  EXPECT_EQ(engine_->GetPositions({}).positions(0).qty_e8(), E8 / 2);
  // A rejected order answers its rejection again.
  auto rej = engine_->Submit(Req("big", v1::SIDE_BUY, 1000 * E8));
  auto rej2 = engine_->Submit(Req("big", v1::SIDE_BUY, 1000 * E8));
  EXPECT_EQ(rej.status(), rej2.status());
  EXPECT_EQ(rej2.status().message(), "risk:max_order_qty");
}

TEST_F(ExecutionEngineTest, RiskRejectionIsRecordedWithReason) {
  Book();
  struct Case {
    v1::OrderRequest req;
    std::string reason;
  };
  std::vector<Case> cases = {
      {Req("q", v1::SIDE_BUY, 0), "risk:qty"},
      {Req("mq", v1::SIDE_BUY, 101 * E8), "risk:max_order_qty"},
      {Req("band", v1::SIDE_BUY, E8, 110 * E8), "risk:price_band"},
      {Req("notional", v1::SIDE_BUY, 99 * E8, 101 * E8 + 1), "risk:max_order_notional"},
      {Req("pos", v1::SIDE_BUY, 51 * E8, 100 * E8), "risk:max_position"},
  };
  for (const auto& c : cases) {
    auto r = engine_->Submit(c.req);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << c.reason;
    EXPECT_EQ(r.status().message(), c.reason);
    v1::OrderRef ref;
    ref.set_client_order_id(c.req.client_order_id());
    auto o = engine_->GetOrder(ref);
    ASSERT_TRUE(o.ok());
    EXPECT_EQ(o->status(), v1::ORDER_STATUS_REJECTED);
    EXPECT_EQ(o->reject_reason(), c.reason);
  }
}

TEST_F(ExecutionEngineTest, MalformedRequestsNameTheFieldAndRecordNothing) {
  auto expect_invalid = [&](v1::OrderRequest req, const std::string& field) {
    auto r = engine_->Submit(req);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_NE(r.status().message().find(field), std::string::npos) << r.status();
  };
  auto base = Req("c", v1::SIDE_BUY, E8);
  auto r = base;
  r.set_client_order_id("");
  expect_invalid(r, "order.client_order_id");
  r = base;
  r.set_symbol("BTCUSD");
  expect_invalid(r, "symbol must be BASE-QUOTE");
  r = base;
  r.set_side(v1::SIDE_UNSPECIFIED);
  expect_invalid(r, "order.side");
  r = base;
  r.set_type(v1::ORDER_TYPE_LIMIT);
  r.set_price_e8(0);
  expect_invalid(r, "order.price_e8");
  r = base;
  r.set_venue("");
  expect_invalid(r, "order.venue");
  r = base;
  r.set_algo(v1::EXEC_ALGO_TWAP);
  EXPECT_EQ(engine_->Submit(r).status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_TRUE(events_.empty());
  EXPECT_TRUE(engine_->ListOrders({})->orders().empty());
}

TEST_F(ExecutionEngineTest, KillSwitchCancelsOpenOrdersAndRejectsNewOnes) {
  Book();
  auto resting = engine_->Submit(Req("rest", v1::SIDE_BUY, E8, 98 * E8));
  ASSERT_TRUE(resting.ok());
  EXPECT_EQ(resting->order().status(), v1::ORDER_STATUS_ACKED);

  v1::SetKillSwitchRequest no_reason;
  no_reason.set_engaged(true);
  EXPECT_EQ(engine_->SetKillSwitch(no_reason).status().code(), absl::StatusCode::kInvalidArgument);

  v1::SetKillSwitchRequest engage;
  engage.set_engaged(true);
  engage.set_reason("test halt");
  auto state = engine_->SetKillSwitch(engage);
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(state->engaged());
  EXPECT_EQ(state->cancelled_orders(), 1u);
  v1::OrderRef ref;
  ref.set_order_id(resting->order().order_id());
  EXPECT_EQ(engine_->GetOrder(ref)->status(), v1::ORDER_STATUS_CANCELLED);

  auto blocked = engine_->Submit(Req("after", v1::SIDE_BUY, E8));
  EXPECT_EQ(blocked.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(blocked.status().message(), "risk:kill_switch");
  EXPECT_TRUE(engine_->StatusJson()["kill_switch"]["engaged"].get<bool>());

  v1::SetKillSwitchRequest release;
  release.set_engaged(false);
  ASSERT_TRUE(engine_->SetKillSwitch(release).ok());
  EXPECT_TRUE(engine_->Submit(Req("later", v1::SIDE_BUY, E8)).ok());
}

TEST_F(ExecutionEngineTest, RestingLimitFillsWhenBookCrossesIt) {
  Book();
  auto r = engine_->Submit(Req("lim", v1::SIDE_BUY, 2 * E8, 100 * E8));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->order().status(), v1::ORDER_STATUS_ACKED);
  v1::MarketEventBatch batch;
  *batch.add_events() = testing::Delta("sim", "BTC-USD", 2, {}, {{100 * E8, E8}});
  engine_->OnMarketBatch(batch);
  v1::OrderRef ref;
  ref.set_client_order_id("lim");
  auto o = engine_->GetOrder(ref);
  EXPECT_EQ(o->status(), v1::ORDER_STATUS_PARTIALLY_FILLED);
  EXPECT_EQ(o->filled_qty_e8(), E8);
  EXPECT_EQ(events_.back().fill().liquidity(), v1::LIQUIDITY_MAKER);
  auto cancelled = engine_->Cancel(ref);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->status(), v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(engine_->Cancel(ref).status().code(), absl::StatusCode::kFailedPrecondition);
  v1::OrderRef unknown;
  unknown.set_order_id("o-404");
  EXPECT_EQ(engine_->Cancel(unknown).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine_->Cancel(v1::OrderRef()).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ExecutionEngineTest, FullOutboxRefusesNewOrders) {
  OutboxQueue::Options o;
  o.max_records = 3;
  OutboxQueue small(o);
  Make(DefaultOptions(), &small);
  Book();
  ASSERT_TRUE(engine_->Submit(Req("a", v1::SIDE_BUY, E8 / 10)).ok());  // 7 records: over
  auto r = engine_->Submit(Req("b", v1::SIDE_BUY, E8 / 10));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(r.status().message(), "outbox full");
  v1::OrderRef ref;
  ref.set_client_order_id("b");
  EXPECT_EQ(engine_->GetOrder(ref).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ExecutionEngineTest, SignalsBecomeMarketOrdersWithTheirTrace) {
  Book();
  v1::SignalBatch batch;
  v1::Signal* s = batch.add_signals();
  s->set_signal_id("macd-BTC-USD-7");
  s->set_venue("sim");
  s->set_symbol("BTC-USD");
  s->set_side(v1::SIDE_SELL);
  s->set_target_qty_e8(E8 / 2);
  s->set_strategy("macd");
  s->mutable_trace()->set_trace_id(7);
  auto* hop = s->mutable_trace()->add_hops();
  hop->set_service("signal");
  hop->set_stage("emit");
  v1::Signal* bad = batch.add_signals();
  bad->set_signal_id("bad");
  bad->set_symbol("nodash");
  engine_->OnSignalBatch(batch);
  engine_->OnSignalBatch(batch);  // replayed: idempotent

  v1::OrderRef ref;
  ref.set_client_order_id("sig-macd-BTC-USD-7");
  auto o = engine_->GetOrder(ref);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->type(), v1::ORDER_TYPE_MARKET);
  EXPECT_EQ(o->strategy(), "macd");
  EXPECT_EQ(o->status(), v1::ORDER_STATUS_FILLED);
  EXPECT_EQ(engine_->ListOrders({})->orders_size(), 1);
  const v1::Trace& t = events_.front().trace();
  EXPECT_EQ(t.trace_id(), 7u);
  ASSERT_GE(t.hops_size(), 2);
  EXPECT_EQ(t.hops(0).service(), "signal");
  EXPECT_EQ(t.hops(1).service(), "execution");
  EXPECT_EQ(t.hops(1).stage(), "recv");
  EXPECT_EQ(engine_->StatusJson()["invalid_signals"].get<uint64_t>(), 2u);
}

TEST_F(ExecutionEngineTest, ListOrdersPagesNewestFirstAndRejectsBadTokens) {
  for (int i = 0; i < 3; ++i) (void)engine_->Submit(Req("c" + std::to_string(i), v1::SIDE_BUY, E8));
  v1::ListOrdersRequest req;
  req.mutable_page()->set_limit(2);
  auto p1 = engine_->ListOrders(req);
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->orders_size(), 2);
  EXPECT_EQ(p1->orders(0).client_order_id(), "c2");
  ASSERT_FALSE(p1->next_page_token().empty());
  req.mutable_page()->set_page_token(p1->next_page_token());
  auto p2 = engine_->ListOrders(req);
  ASSERT_EQ(p2->orders_size(), 1);
  EXPECT_EQ(p2->orders(0).client_order_id(), "c0");
  EXPECT_TRUE(p2->next_page_token().empty());
  req.mutable_page()->set_page_token("garbage");
  EXPECT_EQ(engine_->ListOrders(req).status().code(), absl::StatusCode::kInvalidArgument);
  req.mutable_page()->set_page_token("");
  req.mutable_page()->set_limit(10'001);
  EXPECT_EQ(engine_->ListOrders(req).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ExecutionEngineTest, BooksGoStaleWhenMarketDataDisconnects) {
  Book();
  engine_->OnMarketDataDisconnected();
  EXPECT_EQ(engine_->Submit(Req("c", v1::SIDE_BUY, E8)).status().message(), "venue:no_market");
  Book(10);
  EXPECT_TRUE(engine_->Submit(Req("d", v1::SIDE_BUY, E8)).ok());
}

TEST_F(ExecutionEngineTest, StatusReportsCountsAndOutboxDepth) {
  Book();
  ASSERT_TRUE(engine_->Submit(Req("a", v1::SIDE_BUY, E8)).ok());
  (void)engine_->Submit(Req("b", v1::SIDE_BUY, 0));
  auto j = engine_->StatusJson();
  EXPECT_EQ(j["orders_by_status"]["filled"].get<size_t>(), 1u);
  EXPECT_EQ(j["orders_by_status"]["rejected"].get<size_t>(), 1u);
  EXPECT_EQ(j["positions"].get<size_t>(), 1u);
  EXPECT_GT(j["outbox_depth"].get<size_t>(), 0u);
}

}  // namespace
}  // namespace tickmesh::execution

namespace tickmesh::execution {
namespace {

using testing::E8;
namespace v1 = tickmesh::v1;

v1::Order OpenOrder(const std::string& id, const std::string& client_id, v1::OrderStatus status,
                    v1::OrderType type, int64_t price_e8, int64_t qty_e8, int64_t filled_e8) {
  v1::Order o;
  o.set_order_id(id);
  o.set_client_order_id(client_id);
  o.set_venue("sim");
  o.set_symbol("BTC-USD");
  o.set_side(v1::SIDE_BUY);
  o.set_type(type);
  o.set_price_e8(price_e8);
  o.set_qty_e8(qty_e8);
  o.set_filled_qty_e8(filled_e8);
  o.set_status(status);
  o.set_version(3);
  o.set_strategy("s");
  return o;
}

TEST(ExecutionEngineRestore, AdoptsOpenOrdersPositionsAndBalancesAndNumbersPastThem) {
  OutboxQueue outbox(OutboxQueue::Options{});
  EngineOptions eo;
  eo.risk.max_position_e8 = 0;
  eo.venue.maker_fee_bps = 0;
  ExecutionEngine engine(eo, &outbox, nullptr);
  std::vector<v1::OrderEvent> events;
  engine.SetEventObserver([&](const v1::OrderEventBatch& b) {
    for (const auto& e : b.events()) events.push_back(e);
  });

  v1::Balance usd;
  usd.set_venue("sim");
  usd.set_asset("USD");
  usd.set_total_e8(777 * E8);
  usd.set_updated_unix_ns(10);
  v1::Balance btc = usd;
  btc.set_asset("BTC");
  btc.set_total_e8(2 * E8);
  v1::Position pos;
  pos.set_venue("sim");
  pos.set_symbol("BTC-USD");
  pos.set_qty_e8(2 * E8);
  pos.set_avg_entry_price_e8(100 * E8);
  pos.set_realized_pnl_e8(5 * E8);
  pos.set_updated_unix_ns(11);
  const std::vector<v1::Order> orders = {
      OpenOrder("o-40", "rest", v1::ORDER_STATUS_PARTIALLY_FILLED, v1::ORDER_TYPE_LIMIT, 99 * E8,
                3 * E8, E8),
      OpenOrder("o-41", "mkt", v1::ORDER_STATUS_ACKED, v1::ORDER_TYPE_MARKET, 0, E8, 0),
      OpenOrder("o-42", "new", v1::ORDER_STATUS_NEW, v1::ORDER_TYPE_LIMIT, 99 * E8, E8, 0),
      OpenOrder("bad", "bad", v1::ORDER_STATUS_ACKED, v1::ORDER_TYPE_LIMIT, 99 * E8, E8, 0),
  };
  const auto sum = engine.Restore(orders, {pos}, {usd, btc});
  EXPECT_EQ(sum.open_orders, 1u);
  EXPECT_EQ(sum.closed_orders, 2u);
  EXPECT_EQ(sum.positions, 1u);
  EXPECT_EQ(sum.balances, 2u);
  EXPECT_EQ(sum.skipped, 1u);

  v1::OrderRef ref;
  ref.set_order_id("o-40");
  auto rest = engine.GetOrder(ref);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->status(), v1::ORDER_STATUS_PARTIALLY_FILLED);
  EXPECT_EQ(rest->version(), 3u);
  ref.set_order_id("o-41");
  EXPECT_EQ(engine.GetOrder(ref)->status(), v1::ORDER_STATUS_CANCELLED);
  ref.set_order_id("o-42");
  EXPECT_EQ(engine.GetOrder(ref)->status(), v1::ORDER_STATUS_REJECTED);
  EXPECT_EQ(engine.GetOrder(ref)->reject_reason(), "venue:unconfirmed_at_restart");
  ASSERT_EQ(events.size(), 2u);  // the two closings only; adopting emits nothing

  v1::GetPositionsResponse p = engine.GetPositions(v1::GetPositionsRequest());
  ASSERT_EQ(p.positions_size(), 1);
  EXPECT_EQ(p.positions(0).qty_e8(), 2 * E8);
  EXPECT_EQ(p.positions(0).realized_pnl_e8(), 5 * E8);
  v1::GetBalancesResponse b = engine.GetBalances(v1::GetBalancesRequest());
  std::map<std::string, int64_t> bal;
  for (const auto& x : b.balances()) bal[x.asset()] = x.total_e8();
  EXPECT_EQ(bal["USD"], 777 * E8);
  EXPECT_EQ(bal["BTC"], 2 * E8);

  // The restored resting order is on the paper book: a crossing ask fills its remaining 2.
  v1::MarketEventBatch batch;
  *batch.add_events() =
      testing::Snapshot("sim", "BTC-USD", 1, {{97 * E8, 5 * E8}}, {{98 * E8, 5 * E8}});
  engine.OnMarketBatch(batch);
  ref.set_order_id("o-40");
  EXPECT_EQ(engine.GetOrder(ref)->status(), v1::ORDER_STATUS_FILLED);
  EXPECT_EQ(engine.GetPositions(v1::GetPositionsRequest()).positions(0).qty_e8(), 4 * E8);

  // New orders are numbered past the restored ones; a restored client id stays idempotent.
  auto next = engine.Submit(testing::Req("later", v1::SIDE_BUY, E8));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_GT(OrderNumber(next->order().order_id()), 42u);
  auto dup = engine.Submit(testing::Req("rest", v1::SIDE_BUY, E8, 99 * E8));
  ASSERT_TRUE(dup.ok());
  EXPECT_TRUE(dup->duplicate());
  EXPECT_EQ(dup->order().order_id(), "o-40");
}

TEST(ExecutionEngineRestore, FillsAlsoPersistPositionAndBalancesWithIncreasingTimestamps) {
  OutboxQueue outbox(OutboxQueue::Options{});
  ExecutionEngine engine(EngineOptions{}, &outbox, nullptr);
  v1::MarketEventBatch batch;
  *batch.add_events() = testing::Snapshot("sim", "BTC-USD", 1, {{99 * E8, 5 * E8}},
                                          {{101 * E8, E8}, {102 * E8, 5 * E8}});
  engine.OnMarketBatch(batch);
  ASSERT_TRUE(engine.Submit(testing::Req("a", v1::SIDE_BUY, 2 * E8)).ok());  // two fills
  std::vector<v1::Record> records;
  while (auto b = outbox.NextBatch(absl::Now() + absl::Milliseconds(50))) {
    for (auto& r : *b->mutable_records()) records.push_back(r);
  }
  int positions = 0, balances = 0;
  int64_t last_ns = 0;
  for (const auto& r : records) {
    int64_t ns = 0;
    if (r.has_position()) {
      ++positions;
      EXPECT_EQ(r.position().qty_e8(), 2 * E8);  // state after both fills, written once
      ns = r.position().updated_unix_ns();
    } else if (r.has_balance()) {
      ++balances;
      ns = r.balance().updated_unix_ns();
    } else {
      continue;
    }
    EXPECT_GT(ns, last_ns);
    last_ns = ns;
  }
  EXPECT_EQ(positions, 1);
  EXPECT_EQ(balances, 2);
}

}  // namespace
}  // namespace tickmesh::execution

namespace tickmesh::execution {
namespace {

TEST(ExecutionEngineBreaker, SlowVenueCallsOpenTheBreakerAndSubmitIsUnavailable) {
  EngineOptions eo;
  eo.venue_timeout_ns = -1;  // every venue call counts as a timeout
  eo.breaker = {.window = 10,
                .min_calls = 3,
                .failure_ratio = 0.5,
                .open_ns = 60'000'000'000,
                .half_open_probes = 1};
  ExecutionEngine engine(eo, nullptr, nullptr);
  v1::MarketEventBatch batch;
  *batch.add_events() =
      testing::Snapshot("sim", "BTC-USD", 1, {{99 * E8, 50 * E8}}, {{101 * E8, 50 * E8}});
  engine.OnMarketBatch(batch);
  for (int i = 0; i < 3; ++i) {
    auto r = engine.Submit(testing::Req("b" + std::to_string(i), v1::SIDE_BUY, E8 / 10));
    ASSERT_TRUE(r.ok()) << r.status();  // the calls themselves are answered
  }
  auto refused = engine.Submit(testing::Req("b9", v1::SIDE_BUY, E8 / 10));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(refused.status().message(), "breaker:sim open");
  v1::OrderRef ref;
  ref.set_client_order_id("b9");
  EXPECT_EQ(engine.GetOrder(ref).status().code(), absl::StatusCode::kNotFound);  // not recorded
  EXPECT_EQ(engine.StatusJson()["breakers"]["sim"], "open");
  // Other venues are not affected.
  auto other = engine.Submit(testing::Req("x1", v1::SIDE_BUY, E8, 0, "BTC-USD", "other"));
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);  // no market there
}

// The retention gauges the load tester's soak reads (loadtest/README.md, "Why the soak waits for
// the caps"): terminal orders kept, and the cap they stop at.
TEST_F(ExecutionEngineTest, TerminalOrderRetentionIsExportedAsGaugesAndStopsAtTheCap) {
  EngineOptions options = DefaultOptions();
  options.orders.terminal_retention = 2;
  Make(options);
  Book();
  auto metrics = [] { return tickmesh::runtime::SerializeMetrics(); };
  EXPECT_NE(metrics().find("tickmesh_execution_terminal_orders_retention_limit 2\n"),
            std::string::npos);
  ASSERT_TRUE(engine_->Submit(Req("r1", v1::SIDE_BUY, E8 / 10)).ok());
  EXPECT_NE(metrics().find("tickmesh_execution_terminal_orders_retained 1\n"), std::string::npos);
  ASSERT_TRUE(engine_->Submit(Req("r2", v1::SIDE_BUY, E8 / 10)).ok());
  ASSERT_TRUE(engine_->Submit(Req("r3", v1::SIDE_BUY, E8 / 10)).ok());
  EXPECT_NE(metrics().find("tickmesh_execution_terminal_orders_retained 2\n"), std::string::npos)
      << metrics();
}

}  // namespace
}  // namespace tickmesh::execution
