#include "order_manager.h"

#include <set>
#include <utility>

#include "gtest/gtest.h"
#include "test_util.h"

namespace tickmesh::execution {
namespace {

using testing::E8;
using testing::Req;
using tickmesh::v1::OrderEvent;
using tickmesh::v1::OrderStatus;
namespace v1 = tickmesh::v1;

class OrderManagerTest : public ::testing::Test {
 protected:
  std::string Create(const std::string& client_id, int64_t qty = 2 * E8) {
    auto r = om_.Create(Req(client_id, v1::SIDE_BUY, qty), v1::Trace(), 1000, 0, 0, 0, &events_);
    EXPECT_TRUE(r.ok()) << r.status();
    return r->record->order.order_id();
  }
  OrderManager om_{OrderManager::Options{}};
  std::vector<OrderEvent> events_;
};

TEST(OrderStateMachine, AllowsExactlyTheDocumentedTransitions) {
  const std::set<std::pair<OrderStatus, OrderStatus>> legal = {
      {v1::ORDER_STATUS_NEW, v1::ORDER_STATUS_ACKED},
      {v1::ORDER_STATUS_NEW, v1::ORDER_STATUS_REJECTED},
      {v1::ORDER_STATUS_NEW, v1::ORDER_STATUS_CANCELLED},
      {v1::ORDER_STATUS_ACKED, v1::ORDER_STATUS_PARTIALLY_FILLED},
      {v1::ORDER_STATUS_ACKED, v1::ORDER_STATUS_FILLED},
      {v1::ORDER_STATUS_ACKED, v1::ORDER_STATUS_CANCELLED},
      {v1::ORDER_STATUS_ACKED, v1::ORDER_STATUS_EXPIRED},
      {v1::ORDER_STATUS_PARTIALLY_FILLED, v1::ORDER_STATUS_PARTIALLY_FILLED},
      {v1::ORDER_STATUS_PARTIALLY_FILLED, v1::ORDER_STATUS_FILLED},
      {v1::ORDER_STATUS_PARTIALLY_FILLED, v1::ORDER_STATUS_CANCELLED},
      {v1::ORDER_STATUS_PARTIALLY_FILLED, v1::ORDER_STATUS_EXPIRED},
  };
  int checked = 0;
  for (int from = v1::OrderStatus_MIN; from <= v1::OrderStatus_MAX; ++from) {
    for (int to = v1::OrderStatus_MIN; to <= v1::OrderStatus_MAX; ++to) {
      auto f = static_cast<OrderStatus>(from), t = static_cast<OrderStatus>(to);
      const bool expected = legal.count({f, t}) != 0;
      absl::Status s = OrderManager::CheckTransition(f, t);
      EXPECT_EQ(s.ok(), expected) << v1::OrderStatus_Name(f) << " -> " << v1::OrderStatus_Name(t);
      if (!expected) {
        EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 64);
}

TEST_F(OrderManagerTest, FullLifecycleEmitsOneEventPerChange) {
  const std::string id = Create("c1");
  EXPECT_EQ(id, "o-1");
  ASSERT_TRUE(om_.Ack(id, "p-1", 2000, &events_).ok());
  auto f1 = om_.ApplyFill(id, 100 * E8, E8, 10, "USD", v1::LIQUIDITY_TAKER, 3000, &events_);
  ASSERT_TRUE(f1.ok()) << f1.status();
  EXPECT_EQ(f1->fill_id(), "f-1");
  EXPECT_EQ(om_.Find(id)->order.status(), v1::ORDER_STATUS_PARTIALLY_FILLED);
  auto f2 = om_.ApplyFill(id, 102 * E8, E8, 10, "USD", v1::LIQUIDITY_TAKER, 4000, &events_);
  ASSERT_TRUE(f2.ok());
  EXPECT_EQ(f2->fill_id(), "f-2");
  const auto& o = om_.Find(id)->order;
  EXPECT_EQ(o.status(), v1::ORDER_STATUS_FILLED);
  EXPECT_EQ(o.filled_qty_e8(), 2 * E8);
  EXPECT_EQ(o.avg_fill_price_e8(), 101 * E8);
  EXPECT_EQ(o.fee_e8(), 20);
  EXPECT_EQ(o.version(), 4u);

  ASSERT_EQ(events_.size(), 4u);
  const v1::OrderEventType types[] = {v1::ORDER_EVENT_TYPE_NEW, v1::ORDER_EVENT_TYPE_ACKED,
                                      v1::ORDER_EVENT_TYPE_FILL, v1::ORDER_EVENT_TYPE_FILL};
  for (size_t i = 0; i < events_.size(); ++i) {
    EXPECT_EQ(events_[i].type(), types[i]);
    EXPECT_EQ(events_[i].seq(), i + 1);
    EXPECT_EQ(events_[i].event_id(), "o-1:" + std::to_string(i + 1));
  }
  EXPECT_EQ(events_[2].fill().fill_id(), "f-1");
  // The fill's trace carries the venue_ack stamp.
  ASSERT_EQ(events_[2].trace().hops_size(), 1);
  EXPECT_EQ(events_[2].trace().hops(0).stage(), "venue_ack");
  EXPECT_DOUBLE_EQ(events_[3].quality().fill_rate(), 1.0);
}

TEST_F(OrderManagerTest, TerminalOrdersKeepNoTraceButTheirEventsCarryIt) {
  v1::Trace trace;
  auto* hop = trace.add_hops();
  hop->set_service("execution");
  hop->set_stage("recv");
  auto created = om_.Create(Req("c1", v1::SIDE_BUY, E8), trace, 1000, 0, 0, 0, &events_);
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string id = created->record->order.order_id();
  ASSERT_TRUE(om_.Ack(id, "p-1", 2000, &events_).ok());
  EXPECT_EQ(om_.Find(id)->trace.hops_size(), 1);  // open: later events still need it
  ASSERT_TRUE(om_.ApplyFill(id, 100 * E8, E8, 0, "USD", v1::LIQUIDITY_TAKER, 3000, &events_).ok());
  EXPECT_EQ(om_.Find(id)->order.status(), v1::ORDER_STATUS_FILLED);
  EXPECT_EQ(om_.Find(id)->trace.hops_size(), 0);
  // The final event still carries the order's trace plus the fill's venue_ack stamp.
  ASSERT_EQ(events_.back().trace().hops_size(), 2);
  EXPECT_EQ(events_.back().trace().hops(0).stage(), "recv");
  EXPECT_EQ(events_.back().trace().hops(1).stage(), "venue_ack");
}

TEST_F(OrderManagerTest, RefusesIllegalTransitionsWithoutChange) {
  const std::string id = Create("c1");
  // Fill before ack.
  EXPECT_EQ(
      om_.ApplyFill(id, 100 * E8, E8, 0, "USD", v1::LIQUIDITY_TAKER, 1, &events_).status().code(),
      absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(om_.Expire(id, 1, &events_).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(om_.Ack(id, "p", 1, &events_).ok());
  EXPECT_EQ(om_.Ack(id, "p", 1, &events_).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(om_.Reject(id, "x", 1, &events_).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(om_.Cancel(id, 1, &events_).ok());
  const size_t n_events = events_.size();
  const uint64_t version = om_.Find(id)->order.version();
  EXPECT_EQ(om_.Cancel(id, 1, &events_).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      om_.ApplyFill(id, 100 * E8, E8, 0, "USD", v1::LIQUIDITY_TAKER, 1, &events_).status().code(),
      absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(events_.size(), n_events);
  EXPECT_EQ(om_.Find(id)->order.version(), version);
  EXPECT_EQ(om_.Find(id)->order.status(), v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(om_.Cancel("o-999", 1, &events_).code(), absl::StatusCode::kNotFound);
}

TEST_F(OrderManagerTest, RefusesOverfillAndBadPrices) {
  const std::string id = Create("c1", E8);
  ASSERT_TRUE(om_.Ack(id, "p", 1, &events_).ok());
  EXPECT_EQ(om_.ApplyFill(id, 100 * E8, 2 * E8, 0, "USD", v1::LIQUIDITY_TAKER, 1, &events_)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(om_.ApplyFill(id, 0, E8, 0, "USD", v1::LIQUIDITY_TAKER, 1, &events_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(om_.Find(id)->order.filled_qty_e8(), 0);
}

TEST_F(OrderManagerTest, SameClientOrderIdReturnsExistingOrder) {
  const std::string id = Create("same");
  const size_t n = events_.size();
  auto again = om_.Create(Req("same", v1::SIDE_SELL, 7 * E8), v1::Trace(), 5, 0, 0, 0, &events_);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->record->order.order_id(), id);
  EXPECT_EQ(again->record->order.side(), v1::SIDE_BUY);
  EXPECT_EQ(events_.size(), n);
  EXPECT_EQ(om_.FindByClientId("same")->order.order_id(), id);
}

TEST(OrderManager, RefusesBeyondMaxOpenOrders) {
  OrderManager om({.max_open_orders = 2, .terminal_retention = 10});
  std::vector<OrderEvent> ev;
  ASSERT_TRUE(om.Create(Req("a", v1::SIDE_BUY, E8), {}, 1, 0, 0, 0, &ev).ok());
  ASSERT_TRUE(om.Create(Req("b", v1::SIDE_BUY, E8), {}, 1, 0, 0, 0, &ev).ok());
  EXPECT_EQ(om.Create(Req("c", v1::SIDE_BUY, E8), {}, 1, 0, 0, 0, &ev).status().code(),
            absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(om.Cancel("o-1", 1, &ev).ok());
  EXPECT_TRUE(om.Create(Req("c", v1::SIDE_BUY, E8), {}, 1, 0, 0, 0, &ev).ok());
}

TEST(OrderManager, ForgetsOldestTerminalOrdersBeyondRetention) {
  OrderManager om({.max_open_orders = 10, .terminal_retention = 2});
  std::vector<OrderEvent> ev;
  for (const char* c : {"a", "b", "c"}) {
    auto r = om.Create(Req(c, v1::SIDE_BUY, E8), {}, 1, 0, 0, 0, &ev);
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(om.Reject(r->record->order.order_id(), "x", 1, &ev).ok());
  }
  EXPECT_EQ(om.Find("o-1"), nullptr);
  EXPECT_EQ(om.FindByClientId("a"), nullptr);
  EXPECT_NE(om.Find("o-3"), nullptr);
  EXPECT_EQ(om.retained_count(), 2u);
  EXPECT_EQ(om.CountsByStatus().at(v1::ORDER_STATUS_REJECTED), 2u);
}

TEST(OrderManager, ListsNewestFirstWithPagesAndFilters) {
  OrderManager om({});
  std::vector<OrderEvent> ev;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(om.Create(Req("c" + std::to_string(i), v1::SIDE_BUY, E8, 0,
                              i % 2 == 0 ? "BTC-USD" : "ETH-USD"),
                          {}, 1, 0, 0, 0, &ev)
                    .ok());
  }
  OrderQuery q;
  q.limit = 2;
  auto p1 = om.List(q);
  ASSERT_EQ(p1.orders.size(), 2u);
  EXPECT_EQ(p1.orders[0].order_id(), "o-5");
  EXPECT_EQ(p1.orders[1].order_id(), "o-4");
  q.before = p1.next_before;
  auto p2 = om.List(q);
  ASSERT_EQ(p2.orders.size(), 2u);
  EXPECT_EQ(p2.orders[0].order_id(), "o-3");
  q.before = p2.next_before;
  auto p3 = om.List(q);
  ASSERT_EQ(p3.orders.size(), 1u);
  EXPECT_EQ(p3.next_before, 0u);

  OrderQuery eth;
  eth.symbol = "ETH-USD";
  auto pe = om.List(eth);
  ASSERT_EQ(pe.orders.size(), 2u);
  EXPECT_EQ(pe.orders[0].order_id(), "o-4");
}

TEST(OrderManager, TracksOpenRemainingPerSide) {
  OrderManager om({});
  std::vector<OrderEvent> ev;
  ASSERT_TRUE(om.Create(Req("a", v1::SIDE_BUY, 3 * E8), {}, 1, 0, 0, 0, &ev).ok());
  ASSERT_TRUE(om.Ack("o-1", "p", 1, &ev).ok());
  EXPECT_EQ(om.OpenRemaining("sim", "BTC-USD", v1::SIDE_BUY), 3 * E8);
  ASSERT_TRUE(om.ApplyFill("o-1", E8, E8, 0, "USD", v1::LIQUIDITY_TAKER, 1, &ev).ok());
  EXPECT_EQ(om.OpenRemaining("sim", "BTC-USD", v1::SIDE_BUY), 2 * E8);
  ASSERT_TRUE(om.Cancel("o-1", 1, &ev).ok());
  EXPECT_EQ(om.OpenRemaining("sim", "BTC-USD", v1::SIDE_BUY), 0);
  EXPECT_EQ(om.OpenRemaining("sim", "BTC-USD", v1::SIDE_SELL), 0);
}

}  // namespace
}  // namespace tickmesh::execution

namespace tickmesh::execution {
namespace {

TEST(ComputeQuality, SlippageIsSignedForTheSideAndScoreClamped) {
  namespace v1 = tickmesh::v1;
  v1::Order o;
  o.set_side(v1::SIDE_BUY);
  o.set_qty_e8(100);
  o.set_filled_qty_e8(50);
  o.set_arrival_mid_e8(10'000);
  o.set_avg_fill_price_e8(10'010);  // buy 10 bps above the mid: worse
  o.set_created_unix_ns(1'000);
  o.set_updated_unix_ns(9'000);
  auto q = ComputeQuality(o, 4'000);
  EXPECT_NEAR(q.slippage_bps(), 10.0, 1e-9);
  EXPECT_DOUBLE_EQ(q.fill_rate(), 0.5);
  EXPECT_EQ(q.time_to_fill_ns(), 3'000);  // to the last fill, not to the later cancel
  EXPECT_NEAR(q.score(), 40.0, 1e-9);
  o.set_side(v1::SIDE_SELL);  // sell 10 bps above the mid: better, no penalty
  q = ComputeQuality(o);
  EXPECT_NEAR(q.slippage_bps(), -10.0, 1e-9);
  EXPECT_NEAR(q.score(), 50.0, 1e-9);
  EXPECT_EQ(q.time_to_fill_ns(), 8'000);
  o.set_side(v1::SIDE_BUY);
  o.set_avg_fill_price_e8(20'000);  // 10 000 bps worse: score floors at 0
  EXPECT_DOUBLE_EQ(ComputeQuality(o).score(), 0.0);
  o.set_filled_qty_e8(0);
  o.set_avg_fill_price_e8(0);
  q = ComputeQuality(o);
  EXPECT_EQ(q.time_to_fill_ns(), 0);
  EXPECT_DOUBLE_EQ(q.slippage_bps(), 0.0);
}

}  // namespace
}  // namespace tickmesh::execution
