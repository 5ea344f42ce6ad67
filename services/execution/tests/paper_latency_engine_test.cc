// The paper venue's latency model through the real ExecutionEngine: orders go in flight, the
// adapter's timer thread delivers them to the matching engine when the injected clock says they
// arrive, and the answers come back as order events (the path live venues' answers take).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "execution_engine.h"
#include "gtest/gtest.h"
#include "test_util.h"

namespace tickmesh::execution {
namespace {

using testing::E8;
using testing::Req;
namespace v1 = tickmesh::v1;

constexpr int64_t kLatencyNs = 5'000'000;  // on the injected clock

class PaperLatencyEngineTest : public ::testing::Test {
 protected:
  PaperLatencyEngineTest() : outbox_(OutboxQueue::Options{}) { Make(0); }

  void Make(int64_t jitter_ns) {
    if (engine_) engine_->SetEventObserver(nullptr);
    engine_.reset();
    EngineOptions o;
    o.risk = RiskLimits{.max_order_qty_e8 = 100 * E8,
                        .max_order_notional_e8 = 0,
                        .max_position_e8 = 0,
                        .price_band_bps = 0};
    o.venue = PaperVenue::Options{
        .taker_fee_bps = 0, .ack_latency_ns = kLatencyNs, .ack_jitter_ns = jitter_ns};
    o.paper_clock = [this] { return now_.load(); };
    engine_ = std::make_unique<ExecutionEngine>(o, &outbox_, nullptr);
    engine_->SetEventObserver([this](const v1::OrderEventBatch& b) {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& e : b.events()) events_.push_back(e);
      cv_.notify_all();
    });
  }
  ~PaperLatencyEngineTest() override {
    engine_->SetEventObserver(nullptr);
    engine_.reset();  // stops the timer thread before the clock and the event list go
  }

  void Apply(const v1::MarketEvent& ev) {
    v1::MarketEventBatch batch;
    *batch.add_events() = ev;
    engine_->OnMarketBatch(batch);
  }

  // Waits (bounded) until an event of `type` for `order_id` was published; returns it.
  std::optional<v1::OrderEvent> WaitFor(const std::string& order_id, v1::OrderEventType type) {
    std::unique_lock<std::mutex> lock(mu_);
    std::optional<v1::OrderEvent> found;
    cv_.wait_for(lock, std::chrono::seconds(5), [&] {
      for (const auto& e : events_) {
        if (e.order().order_id() == order_id && e.type() == type) {
          found = e;
          return true;
        }
      }
      return false;
    });
    return found;
  }

  std::vector<v1::OrderEvent> Events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }

  std::atomic<int64_t> now_{1'000'000'000};
  OutboxQueue outbox_;
  std::unique_ptr<ExecutionEngine> engine_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<v1::OrderEvent> events_;
};

TEST_F(PaperLatencyEngineTest, OrderSentWhileTheBookMovesFillsAtThePriceWhenItArrives) {
  Apply(testing::Snapshot("sim", "BTC-USD", 1, {{99 * E8, E8}}, {{101 * E8, E8}}));
  auto r = engine_->Submit(Req("c1", v1::SIDE_BUY, E8));
  ASSERT_TRUE(r.ok()) << r.status();
  // The answer is not there yet: the order is on its way.
  EXPECT_EQ(r->order().status(), v1::ORDER_STATUS_NEW);
  EXPECT_EQ(engine_->StatusJson()["paper_in_flight"], 1);
  // While it travels, the ask moves from 101 to 103.
  Apply(testing::Delta("sim", "BTC-USD", 2, {}, {{101 * E8, 0}, {103 * E8, E8}}));
  // Real time passes but the injected clock does not: the order has not arrived.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  v1::OrderRef ref;
  ref.set_client_order_id("c1");
  EXPECT_EQ(engine_->GetOrder(ref)->status(), v1::ORDER_STATUS_NEW);
  now_ += kLatencyNs;
  auto fill = WaitFor(r->order().order_id(), v1::ORDER_EVENT_TYPE_FILL);
  ASSERT_TRUE(fill.has_value());
  EXPECT_EQ(fill->fill().price_e8(), 103 * E8);
  EXPECT_EQ(fill->fill().qty_e8(), E8);
  EXPECT_EQ(fill->order().status(), v1::ORDER_STATUS_FILLED);
  // Acked by the venue first, as for a live venue's answer, with a paper venue id.
  auto ack = WaitFor(r->order().order_id(), v1::ORDER_EVENT_TYPE_ACKED);
  ASSERT_TRUE(ack.has_value());
  EXPECT_LT(ack->seq(), fill->seq());
  EXPECT_EQ(ack->order().venue_order_id().rfind("p-", 0), 0u);
  EXPECT_EQ(engine_->StatusJson()["paper_in_flight"], 0);
}

TEST_F(PaperLatencyEngineTest, OrderCancelledInFlightNeverReachesTheBook) {
  Apply(testing::Snapshot("sim", "BTC-USD", 1, {{99 * E8, E8}}, {{101 * E8, E8}}));
  // A LIMIT buy at the ask would fill on arrival.
  auto r = engine_->Submit(Req("c1", v1::SIDE_BUY, E8, 101 * E8));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->order().status(), v1::ORDER_STATUS_NEW);
  v1::OrderRef ref;
  ref.set_order_id(r->order().order_id());
  auto c = engine_->Cancel(ref);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->status(), v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(engine_->StatusJson()["paper_in_flight"], 0);
  // A second order sent after it does arrive: the timer still runs, and only it reaches the book.
  auto r2 = engine_->Submit(Req("c2", v1::SIDE_BUY, E8));
  ASSERT_TRUE(r2.ok()) << r2.status();
  now_ += kLatencyNs;
  ASSERT_TRUE(WaitFor(r2->order().order_id(), v1::ORDER_EVENT_TYPE_FILL).has_value());
  for (const auto& e : Events()) {
    if (e.order().order_id() != r->order().order_id()) continue;
    EXPECT_NE(e.type(), v1::ORDER_EVENT_TYPE_FILL);
    EXPECT_NE(e.type(), v1::ORDER_EVENT_TYPE_ACKED);
  }
  EXPECT_EQ(engine_->StatusJson()["resting_orders"], 0);
  EXPECT_EQ(engine_->GetOrder(ref)->status(), v1::ORDER_STATUS_CANCELLED);
}

TEST_F(PaperLatencyEngineTest, OrdersReachTheBookInTheOrderSentEvenWithJitter) {
  Make(/*jitter_ns=*/4'000'000);
  Apply(testing::Snapshot("sim", "BTC-USD", 1, {{99 * E8, 5 * E8}}, {{101 * E8, 5 * E8}}));
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto r = engine_->Submit(Req("c" + std::to_string(i), v1::SIDE_BUY, E8));
    ASSERT_TRUE(r.ok()) << r.status();
    ids.push_back(r->order().order_id());
    now_ += 1'000'000;  // sent 1 ms apart; each may take 5..9 ms
  }
  now_ += 20'000'000;
  for (const auto& id : ids) ASSERT_TRUE(WaitFor(id, v1::ORDER_EVENT_TYPE_FILL).has_value()) << id;
  std::vector<std::string> acked;
  for (const auto& e : Events()) {
    if (e.type() == v1::ORDER_EVENT_TYPE_ACKED) acked.push_back(e.order().order_id());
  }
  EXPECT_EQ(acked, ids);
}

TEST_F(PaperLatencyEngineTest, NoMarketOnArrivalComesBackAsRejection) {
  auto r = engine_->Submit(Req("c1", v1::SIDE_BUY, E8));
  ASSERT_TRUE(r.ok()) << r.status();  // the venue has not answered yet
  EXPECT_EQ(r->order().status(), v1::ORDER_STATUS_NEW);
  now_ += kLatencyNs;
  auto rej = WaitFor(r->order().order_id(), v1::ORDER_EVENT_TYPE_REJECTED);
  ASSERT_TRUE(rej.has_value());
  EXPECT_EQ(rej->order().reject_reason(), "venue:no_market");
  // Idempotency then answers as for an immediate rejection.
  EXPECT_EQ(engine_->Submit(Req("c1", v1::SIDE_BUY, E8)).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(PaperLatencyEngineTest, KillSwitchCancelsOrdersInFlight) {
  Apply(testing::Snapshot("sim", "BTC-USD", 1, {{99 * E8, E8}}, {{101 * E8, E8}}));
  auto r = engine_->Submit(Req("c1", v1::SIDE_BUY, E8));
  ASSERT_TRUE(r.ok()) << r.status();
  v1::SetKillSwitchRequest k;
  k.set_engaged(true);
  k.set_reason("test");
  ASSERT_TRUE(engine_->SetKillSwitch(k).ok());
  EXPECT_EQ(engine_->StatusJson()["paper_in_flight"], 0);
  now_ += kLatencyNs;
  v1::OrderRef ref;
  ref.set_order_id(r->order().order_id());
  EXPECT_EQ(engine_->GetOrder(ref)->status(), v1::ORDER_STATUS_CANCELLED);
}

}  // namespace
}  // namespace tickmesh::execution
