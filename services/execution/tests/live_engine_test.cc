// The engine's asynchronous path to a remote (live) venue, with a fake in-test venue: orders are
// recorded NEW before the venue is called, venue calls run on the worker thread, answers come
// back as events; errors and timeouts trip the breaker; unknown outcomes are resolved with the
// venue; start-up reconciliation of balances and open orders; restart of a NEW live order.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "execution_engine.h"
#include "gtest/gtest.h"
#include "live_venue.h"
#include "test_util.h"

namespace tickmesh::execution {
namespace {

using testing::E8;
using testing::Req;
namespace v1 = tickmesh::v1;

// A remote venue whose answers the test scripts. Thread-safe.
class FakeVenue final : public Venue {
 public:
  explicit FakeVenue(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  bool remote() const override { return true; }

  absl::StatusOr<VenueOrderState> Place(const v1::Order& order) override {
    Note("place", order.order_id());
    std::function<absl::StatusOr<VenueOrderState>(const v1::Order&)> f;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return !hold_place_; });
      f = place_;
    }
    if (f) return f(order);
    VenueOrderState st;  // default: accepted, resting
    st.client_order_id = order.order_id();
    st.venue_order_id = "v-" + order.order_id();
    st.status = VenueOrderStatus::kOpen;
    std::lock_guard<std::mutex> lock(mu_);
    open_[order.order_id()] = st;
    return st;
  }
  absl::StatusOr<VenueOrderState> Cancel(const v1::Order& order) override {
    Note("cancel", order.order_id());
    std::lock_guard<std::mutex> lock(mu_);
    auto it = open_.find(order.order_id());
    if (it == open_.end()) return absl::NotFoundError("fake: unknown order");
    VenueOrderState st = it->second;
    st.status = VenueOrderStatus::kCancelled;
    open_.erase(it);
    closed_[order.order_id()] = st;
    return st;
  }
  absl::StatusOr<VenueOrderState> Query(const v1::Order& order) override {
    Note("query", order.order_id());
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = open_.find(order.order_id()); it != open_.end()) return it->second;
    if (auto it = closed_.find(order.order_id()); it != closed_.end()) return it->second;
    return absl::NotFoundError("fake: no such order");
  }
  absl::StatusOr<std::vector<VenueOrderState>> OpenOrders() override {
    Note("open_orders", "");
    std::lock_guard<std::mutex> lock(mu_);
    if (!open_orders_error_.ok()) return open_orders_error_;
    std::vector<VenueOrderState> out;
    for (const auto& [id, st] : open_) out.push_back(st);
    return out;
  }
  absl::StatusOr<std::vector<VenueAssetBalance>> Balances() override {
    Note("balances", "");
    std::lock_guard<std::mutex> lock(mu_);
    return balances_;
  }

  // Scripting (any thread).
  void SetPlace(std::function<absl::StatusOr<VenueOrderState>(const v1::Order&)> f) {
    std::lock_guard<std::mutex> lock(mu_);
    place_ = std::move(f);
  }
  void HoldPlace(bool hold) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      hold_place_ = hold;
    }
    cv_.notify_all();
  }
  void SetOpen(const std::string& id, VenueOrderState st) {
    std::lock_guard<std::mutex> lock(mu_);
    open_[id] = std::move(st);
  }
  void Close(const std::string& id, VenueOrderState st) {
    std::lock_guard<std::mutex> lock(mu_);
    open_.erase(id);
    closed_[id] = std::move(st);
  }
  void FailOpenOrders(absl::Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    open_orders_error_ = std::move(s);
  }
  void SetBalances(std::vector<VenueAssetBalance> b) {
    std::lock_guard<std::mutex> lock(mu_);
    balances_ = std::move(b);
  }
  int Calls(const std::string& what) const {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const auto& c : calls_) n += c.what == what ? 1 : 0;
    return n;
  }
  bool CalledOnThread(std::thread::id id) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& c : calls_) {
      if (c.thread == id) return true;
    }
    return false;
  }

 private:
  struct CallNote {
    std::string what, order_id;
    std::thread::id thread;
  };
  void Note(const char* what, const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back({what, id, std::this_thread::get_id()});
  }
  const std::string name_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool hold_place_ = false;
  std::function<absl::StatusOr<VenueOrderState>(const v1::Order&)> place_;
  std::map<std::string, VenueOrderState> open_, closed_;
  std::vector<VenueAssetBalance> balances_{{"USD", 500 * E8, 400 * E8}};
  absl::Status open_orders_error_;
  std::vector<CallNote> calls_;
};

bool WaitFor(const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return pred();
}

class LiveEngineTest : public ::testing::Test {
 protected:
  LiveEngineTest() : outbox_(OutboxQueue::Options{}) {}

  void Make(EngineOptions eo = {}, RateLimiter* limiter = nullptr,
            std::vector<v1::Order> restore = {}) {
    eo.risk = RiskLimits{};
    engine_ = std::make_unique<ExecutionEngine>(eo, &outbox_, nullptr);
    engine_->SetEventObserver([this](const v1::OrderEventBatch& b) {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& e : b.events()) events_.push_back(e);
    });
    auto venue = std::make_unique<FakeVenue>("live");
    venue_ = venue.get();
    VenueWorker::Options wo;
    wo.poll_interval_ns = 10'000'000;
    ASSERT_TRUE(engine_->AddRemoteVenue(std::move(venue), limiter, wo).ok());
    if (!restore.empty()) engine_->Restore(restore, {}, {});
    engine_->StartVenues();
  }
  ~LiveEngineTest() override {
    if (engine_) engine_->StopVenues();
  }

  v1::Order Get(const std::string& client_id) {
    v1::OrderRef ref;
    ref.set_client_order_id(client_id);
    auto o = engine_->GetOrder(ref);
    return o.ok() ? *o : v1::Order();
  }
  std::vector<v1::OrderEventType> Types(const std::string& order_id) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<v1::OrderEventType> out;
    for (const auto& e : events_) {
      if (e.order().order_id() == order_id) out.push_back(e.type());
    }
    return out;
  }
  std::vector<v1::Record> DrainOutbox() {
    std::vector<v1::Record> out;
    while (auto b = outbox_.NextBatch(absl::Now() + absl::Milliseconds(20))) {
      for (auto& r : *b->mutable_records()) out.push_back(r);
    }
    return out;
  }

  OutboxQueue outbox_;
  std::unique_ptr<ExecutionEngine> engine_;
  FakeVenue* venue_ = nullptr;
  std::mutex mu_;
  std::vector<v1::OrderEvent> events_;
};

TEST_F(LiveEngineTest, SubmitRecordsNewInOutboxBeforeTheVenueIsCalledOffTheCallerThread) {
  Make();
  venue_->HoldPlace(true);
  auto r = engine_->Submit(Req("c1", v1::SIDE_BUY, E8, 100 * E8, "BTC-USD", "live"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->order().status(), v1::ORDER_STATUS_NEW);
  // The NEW order is in the outbox while the venue call is still blocked.
  ASSERT_TRUE(WaitFor([&] { return venue_->Calls("place") == 1; }));
  bool new_persisted = false;
  for (const auto& rec : DrainOutbox()) {
    if (rec.has_order() && rec.order().order_id() == r->order().order_id() &&
        rec.order().status() == v1::ORDER_STATUS_NEW) {
      new_persisted = true;
    }
  }
  EXPECT_TRUE(new_persisted);
  EXPECT_FALSE(venue_->CalledOnThread(std::this_thread::get_id()));
  venue_->HoldPlace(false);
  ASSERT_TRUE(WaitFor([&] { return Get("c1").status() == v1::ORDER_STATUS_ACKED; }));
  EXPECT_EQ(Get("c1").venue_order_id(), "v-" + r->order().order_id());
  // Idempotent while and after the venue answers.
  auto again = engine_->Submit(Req("c1", v1::SIDE_BUY, E8, 100 * E8, "BTC-USD", "live"));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate());
  EXPECT_EQ(venue_->Calls("place"), 1);
}

TEST_F(LiveEngineTest, FilledAnswerBecomesAckAndFillWithPositionAndVenueAveragePrice) {
  Make();
  venue_->SetPlace([](const v1::Order& o) -> absl::StatusOr<VenueOrderState> {
    VenueOrderState st;
    st.client_order_id = o.order_id();
    st.venue_order_id = "v1";
    st.status = VenueOrderStatus::kFilled;
    st.filled_qty_e8 = o.qty_e8();
    st.avg_price_e8 = 101 * E8;
    return st;
  });
  auto r = engine_->Submit(Req("f1", v1::SIDE_BUY, 2 * E8, 0, "BTC-USD", "live"));
  ASSERT_TRUE(r.ok());
  const std::string id = r->order().order_id();
  ASSERT_TRUE(WaitFor([&] { return Get("f1").status() == v1::ORDER_STATUS_FILLED; }));
  EXPECT_EQ(Get("f1").avg_fill_price_e8(), 101 * E8);
  EXPECT_EQ(Types(id),
            (std::vector<v1::OrderEventType>{v1::ORDER_EVENT_TYPE_NEW, v1::ORDER_EVENT_TYPE_ACKED,
                                             v1::ORDER_EVENT_TYPE_FILL}));
  v1::GetPositionsRequest pr;
  pr.set_venue("live");
  auto pos = engine_->GetPositions(pr);
  ASSERT_EQ(pos.positions_size(), 1);
  EXPECT_EQ(pos.positions(0).qty_e8(), 2 * E8);
}

TEST_F(LiveEngineTest, VenueRejectionIsRecordedWithTheVenuesErrorAndDoesNotTripTheBreaker) {
  EngineOptions eo;
  eo.breaker = {.window = 10,
                .min_calls = 2,
                .failure_ratio = 0.5,
                .open_ns = 60'000'000'000,
                .half_open_probes = 1};
  Make(eo);
  venue_->SetPlace([](const v1::Order&) -> absl::StatusOr<VenueOrderState> {
    return absl::FailedPreconditionError("fake -2010: Account has insufficient balance");
  });
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        engine_->Submit(Req("r" + std::to_string(i), v1::SIDE_BUY, E8, 0, "BTC-USD", "live")).ok());
  }
  ASSERT_TRUE(WaitFor([&] { return Get("r2").status() == v1::ORDER_STATUS_REJECTED; }));
  EXPECT_EQ(Get("r0").reject_reason(),
            "venue:rejected:fake -2010: Account has insufficient balance");
  EXPECT_EQ(engine_->StatusJson()["breakers"]["live"], "closed");
}

TEST_F(LiveEngineTest, ErrorsTripTheBreakerAndUnknownOutcomesAreRejectedOnlyAfterTheGrace) {
  EngineOptions eo;
  eo.breaker = {.window = 10,
                .min_calls = 2,
                .failure_ratio = 0.5,
                .open_ns = 60'000'000'000,
                .half_open_probes = 1};
  eo.unconfirmed_grace_ns = 0;
  Make(eo);
  venue_->SetPlace([](const v1::Order&) -> absl::StatusOr<VenueOrderState> {
    return absl::UnavailableError("fake: connection reset");
  });
  ASSERT_TRUE(engine_->Submit(Req("e1", v1::SIDE_BUY, E8, 0, "BTC-USD", "live")).ok());
  ASSERT_TRUE(engine_->Submit(Req("e2", v1::SIDE_BUY, E8, 0, "BTC-USD", "live")).ok());
  ASSERT_TRUE(WaitFor([&] { return engine_->StatusJson()["breakers"]["live"] == "open"; }));
  auto refused = engine_->Submit(Req("e3", v1::SIDE_BUY, E8, 0, "BTC-USD", "live"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(refused.status().message(), "breaker:live open");
  EXPECT_EQ(Get("e3").order_id(), "");  // nothing recorded
  // The venue never got them: the poll does not list them, the query says not found.
  ASSERT_TRUE(WaitFor([&] { return Get("e1").status() == v1::ORDER_STATUS_REJECTED; }));
  EXPECT_EQ(Get("e1").reject_reason(), "venue:error:fake: connection reset");
  EXPECT_GE(venue_->Calls("query"), 1);
}

TEST_F(LiveEngineTest, TimedOutPlaceThatReachedTheVenueIsAckedNotRejected) {
  EngineOptions eo;
  eo.unconfirmed_grace_ns = 0;
  Make(eo);
  venue_->SetPlace([this](const v1::Order& o) -> absl::StatusOr<VenueOrderState> {
    VenueOrderState st;
    st.client_order_id = o.order_id();
    st.venue_order_id = "late";
    st.status = VenueOrderStatus::kOpen;
    venue_->SetOpen(o.order_id(), st);  // the venue took it; the answer got lost
    return absl::DeadlineExceededError("fake: timeout");
  });
  auto r = engine_->Submit(Req("t1", v1::SIDE_BUY, E8, 100 * E8, "BTC-USD", "live"));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(WaitFor([&] { return Get("t1").status() == v1::ORDER_STATUS_ACKED; }));
  EXPECT_EQ(Get("t1").venue_order_id(), "late");
}

TEST_F(LiveEngineTest, CancelGoesThroughTheWorkerAndCancelledFollowsAsAnEvent) {
  Make();
  auto r = engine_->Submit(Req("k1", v1::SIDE_SELL, E8, 200 * E8, "BTC-USD", "live"));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(WaitFor([&] { return Get("k1").status() == v1::ORDER_STATUS_ACKED; }));
  v1::OrderRef ref;
  ref.set_client_order_id("k1");
  auto c = engine_->Cancel(ref);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->status(), v1::ORDER_STATUS_ACKED);  // as it is; the venue decides
  ASSERT_TRUE(WaitFor([&] { return Get("k1").status() == v1::ORDER_STATUS_CANCELLED; }));
  EXPECT_EQ(venue_->Calls("cancel"), 1);
}

TEST_F(LiveEngineTest, CancelOfAnOrderStillQueuedNeverSendsIt) {
  Make();
  venue_->HoldPlace(true);
  ASSERT_TRUE(engine_->Submit(Req("q1", v1::SIDE_BUY, E8, 100 * E8, "BTC-USD", "live")).ok());
  ASSERT_TRUE(WaitFor([&] { return venue_->Calls("place") == 1; }));  // worker busy with q1
  ASSERT_TRUE(engine_->Submit(Req("q2", v1::SIDE_BUY, E8, 100 * E8, "BTC-USD", "live")).ok());
  v1::OrderRef ref;
  ref.set_client_order_id("q2");
  ASSERT_TRUE(engine_->Cancel(ref).ok());
  venue_->HoldPlace(false);
  ASSERT_TRUE(WaitFor([&] { return Get("q2").status() == v1::ORDER_STATUS_CANCELLED; }));
  ASSERT_TRUE(WaitFor([&] { return Get("q1").status() == v1::ORDER_STATUS_ACKED; }));
  EXPECT_EQ(venue_->Calls("place"), 1);
  EXPECT_EQ(venue_->Calls("cancel"), 0);
}

TEST_F(LiveEngineTest, PollingTurnsCumulativeFillsIntoFillsAndQueriesOrdersThatLeftTheBook) {
  Make();
  auto r = engine_->Submit(Req("p1", v1::SIDE_BUY, 4 * E8, 100 * E8, "BTC-USD", "live"));
  ASSERT_TRUE(r.ok());
  const std::string id = r->order().order_id();
  ASSERT_TRUE(WaitFor([&] { return Get("p1").status() == v1::ORDER_STATUS_ACKED; }));
  VenueOrderState st;
  st.client_order_id = id;
  st.venue_order_id = "v-" + id;
  st.filled_qty_e8 = E8;
  st.avg_price_e8 = 100 * E8;
  venue_->SetOpen(id, st);
  ASSERT_TRUE(WaitFor([&] { return Get("p1").filled_qty_e8() == E8; }));
  EXPECT_EQ(Get("p1").status(), v1::ORDER_STATUS_PARTIALLY_FILLED);
  // Then it fills completely (average 99.5 over 4) and leaves the open orders.
  st.status = VenueOrderStatus::kFilled;
  st.filled_qty_e8 = 4 * E8;
  st.avg_price_e8 = 9'950'000'000;
  venue_->Close(id, st);
  ASSERT_TRUE(WaitFor([&] { return Get("p1").status() == v1::ORDER_STATUS_FILLED; }));
  EXPECT_EQ(Get("p1").avg_fill_price_e8(), 9'950'000'000);
  EXPECT_GE(venue_->Calls("query"), 1);
  // The fills moved execution's USD balance; the venue's figures replace it at the next poll.
  auto usd = [&] {
    v1::GetBalancesRequest br;
    br.set_venue("live");
    const v1::GetBalancesResponse resp = engine_->GetBalances(br);
    for (const auto& x : resp.balances()) {
      if (x.asset() == "USD") return std::make_pair(x.total_e8(), x.available_e8());
    }
    return std::make_pair(int64_t{-1}, int64_t{-1});
  };
  ASSERT_TRUE(WaitFor([&] { return usd() == std::make_pair(500 * E8, 400 * E8); }))
      << usd().first << " " << usd().second;
}

// What LiveVenue::Query now answers for an order cancelled outside execution (the venue's
// single-order lookup, not an inferred fill): CANCELLED with the part that had filled.
TEST_F(LiveEngineTest, OrderCancelledElsewhereEndsCancelledWithTheVenuesPartialFill) {
  Make();
  auto r = engine_->Submit(Req("c1", v1::SIDE_BUY, 4 * E8, 100 * E8, "BTC-USD", "live"));
  ASSERT_TRUE(r.ok());
  const std::string id = r->order().order_id();
  ASSERT_TRUE(WaitFor([&] { return Get("c1").status() == v1::ORDER_STATUS_ACKED; }));
  VenueOrderState st;
  st.client_order_id = id;
  st.venue_order_id = "v-" + id;
  st.status = VenueOrderStatus::kCancelled;
  st.filled_qty_e8 = E8;
  st.avg_price_e8 = 99 * E8;
  venue_->Close(id, st);
  ASSERT_TRUE(WaitFor([&] { return Get("c1").status() == v1::ORDER_STATUS_CANCELLED; }))
      << Get("c1").DebugString();
  EXPECT_EQ(Get("c1").filled_qty_e8(), E8);
  EXPECT_EQ(Get("c1").avg_fill_price_e8(), 99 * E8);
  EXPECT_GE(venue_->Calls("query"), 1);
  EXPECT_EQ(venue_->Calls("cancel"), 0);
}

TEST_F(LiveEngineTest, StartReconciliationReportsForeignOpenOrdersAndAdoptsBalances) {
  Make();
  VenueOrderState foreign;
  foreign.client_order_id = "someone-else";
  foreign.venue_order_id = "x9";
  foreign.symbol = "BTC-USD";
  foreign.qty_e8 = E8;
  venue_->SetOpen("someone-else", foreign);
  venue_->SetBalances({{"BTC", 3 * E8, 3 * E8}, {"USD", 1000 * E8, 900 * E8}});
  // The reconciliation started before the foreign order was scripted; the next poll sees it.
  ASSERT_TRUE(engine_->WaitVenuesReconciled(absl::Seconds(5)).empty());
  ASSERT_TRUE(WaitFor(
      [&] { return engine_->StatusJson()["live_venues"]["live"]["foreign_open_orders"] == 1; }));
  EXPECT_EQ(engine_->StatusJson()["live_venues"]["live"]["reconciled"], true);
  v1::ListOrdersRequest lr;
  EXPECT_EQ(engine_->ListOrders(lr)->orders_size(), 0);  // reported, not adopted
}

TEST_F(LiveEngineTest, RestoredNewLiveOrderIsResolvedWithTheVenueNotRejected) {
  v1::Order o;
  o.set_order_id("o-7");
  o.set_client_order_id("c7");
  o.set_venue("live");
  o.set_symbol("BTC-USD");
  o.set_side(v1::SIDE_BUY);
  o.set_type(v1::ORDER_TYPE_LIMIT);
  o.set_price_e8(100 * E8);
  o.set_qty_e8(E8);
  o.set_status(v1::ORDER_STATUS_NEW);
  o.set_version(1);
  o.set_strategy("test");
  // Sent just before the crash: the venue has it.
  auto venue_state = [] {
    VenueOrderState st;
    st.client_order_id = "o-7";
    st.venue_order_id = "v7";
    return st;
  };
  engine_ = nullptr;
  EngineOptions eo;
  eo.risk = RiskLimits{};
  engine_ = std::make_unique<ExecutionEngine>(eo, &outbox_, nullptr);
  auto venue = std::make_unique<FakeVenue>("live");
  venue_ = venue.get();
  venue_->SetOpen("o-7", venue_state());
  VenueWorker::Options wo;
  wo.poll_interval_ns = 10'000'000;
  ASSERT_TRUE(engine_->AddRemoteVenue(std::move(venue), nullptr, wo).ok());
  auto sum = engine_->Restore({o}, {}, {});
  EXPECT_EQ(sum.open_orders, 1u);
  engine_->StartVenues();
  ASSERT_TRUE(WaitFor([&] { return Get("c7").status() == v1::ORDER_STATUS_ACKED; }));
  EXPECT_EQ(Get("c7").venue_order_id(), "v7");
}

TEST_F(LiveEngineTest, PollsAreChargedToTheVenueRateLimit) {
  auto specs = ParseRateLimits("live/weight=token:1:600000:query=1");
  ASSERT_TRUE(specs.ok());
  RateLimiter limiter(*specs, SteadyClock());
  Make({}, &limiter);
  // One query token for 10 minutes: the start-up open-orders poll takes it, balances must wait.
  ASSERT_TRUE(WaitFor(
      [&] { return engine_->StatusJson()["live_venues"]["live"]["polls_rate_limited"] > 0; }));
  EXPECT_EQ(venue_->Calls("open_orders"), 1);
  EXPECT_EQ(venue_->Calls("balances"), 0);
}

TEST(LiveEngineSetup, RefusesNonRemoteVenuesAndDuplicates) {
  ExecutionEngine engine(EngineOptions{}, nullptr, nullptr);
  PaperVenue paper({});
  EXPECT_EQ(engine.AddRemoteVenue(std::make_unique<PaperVenueAdapter>(&paper), nullptr, {}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(engine.AddRemoteVenue(std::make_unique<FakeVenue>("a"), nullptr, {}).ok());
  EXPECT_EQ(engine.AddRemoteVenue(std::make_unique<FakeVenue>("a"), nullptr, {}).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(engine.IsRemoteVenue("a"));
  EXPECT_FALSE(engine.IsRemoteVenue("sim"));
}

TEST(LiveVenueDefaults, EveryLiveVenueHasAParsableDocumentedRateLimitScheme) {
  for (auto v : {tickmesh::venues::Venue::kBinance, tickmesh::venues::Venue::kKraken,
                 tickmesh::venues::Venue::kBybit}) {
    auto specs = ParseRateLimits(DefaultRateLimits(v));
    ASSERT_TRUE(specs.ok()) << specs.status();
    ASSERT_EQ(specs->size(), 1u);
    EXPECT_EQ(specs->begin()->first, tickmesh::venues::VenueName(v));
  }
}

// Each request spends its endpoint's documented weight of the venue's budget.
int Admitted(const std::string& venue, RequestClass cls, int max = 100'000) {
  auto specs = ParseRateLimits(DefaultRateLimits(*tickmesh::venues::ParseVenue(venue)));
  int64_t now = 0;
  RateLimiter rl(*specs, [&] { return now; });
  int n = 0;
  while (n < max && rl.TryAcquire(venue, cls, now).admitted) ++n;
  return n;
}

TEST(LiveVenueDefaults, BinanceChargesEachEndpointItsRequestWeight) {
  // REQUEST_WEIGHT 6000 / min: GET /api/v3/order 4, openOrders (all symbols) 80, myTrades by
  // orderId 5, account 20.
  EXPECT_EQ(Admitted("binance", RequestClass::kQueryOrder), 1500);
  EXPECT_EQ(Admitted("binance", RequestClass::kOpenOrders), 75);
  EXPECT_EQ(Admitted("binance", RequestClass::kOrderTrades), 1200);
  EXPECT_EQ(Admitted("binance", RequestClass::kBalances), 300);
  // New orders: ORDERS 50 / 10 s is the tighter limit; cancels only spend weight 1.
  EXPECT_EQ(Admitted("binance", RequestClass::kOrder), 50);
  EXPECT_EQ(Admitted("binance", RequestClass::kCancel), 6000);
  // Mixed: one open-orders poll leaves room for (6000 - 80) / 4 order lookups.
  auto specs = ParseRateLimits(DefaultRateLimits(tickmesh::venues::Venue::kBinance));
  int64_t now = 0;
  RateLimiter rl(*specs, [&] { return now; });
  ASSERT_TRUE(rl.TryAcquire("binance", RequestClass::kOpenOrders, now).admitted);
  int lookups = 0;
  while (rl.TryAcquire("binance", RequestClass::kQueryOrder, now).admitted) ++lookups;
  EXPECT_EQ(lookups, 1480);
  EXPECT_EQ(rl.Levels(now)["binance"]["weight_1m"], 6000);
  // 100 weight a second come back: 0.8 s later one more open-orders call fits, not two.
  now += 800'000'000;
  EXPECT_TRUE(rl.TryAcquire("binance", RequestClass::kOpenOrders, now).admitted);
  EXPECT_FALSE(rl.TryAcquire("binance", RequestClass::kOpenOrders, now).admitted);
}

TEST(LiveVenueDefaults, KrakenAndBybitChargeTheirOwnCountersAndEndpoints) {
  // Kraken REST counter 15: queries +1, trade history +2; orders are on the trading counter (60).
  EXPECT_EQ(Admitted("kraken", RequestClass::kQueryOrder), 15);
  EXPECT_EQ(Admitted("kraken", RequestClass::kOrderTrades), 7);
  EXPECT_EQ(Admitted("kraken", RequestClass::kOrder), 60);
  EXPECT_EQ(Admitted("kraken", RequestClass::kCancel), 7);  // +8 each (worst case)
  // Bybit: 50/s on /v5/order/realtime, shared by lookups and open orders; wallet apart.
  auto specs = ParseRateLimits(DefaultRateLimits(tickmesh::venues::Venue::kBybit));
  int64_t now = 0;
  RateLimiter rl(*specs, [&] { return now; });
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(rl.TryAcquire("bybit", RequestClass::kQueryOrder, now).admitted);
    ASSERT_TRUE(rl.TryAcquire("bybit", RequestClass::kOpenOrders, now).admitted);
  }
  auto d = rl.TryAcquire("bybit", RequestClass::kOpenOrders, now);
  EXPECT_FALSE(d.admitted);
  EXPECT_EQ(d.bucket, "realtime_1s");
  EXPECT_TRUE(rl.TryAcquire("bybit", RequestClass::kBalances, now).admitted);
  EXPECT_EQ(Admitted("bybit", RequestClass::kOrder), 20);
}

TEST(LiveVenueStatus, VenueStatesMapOntoTheEnginesView) {
  EXPECT_EQ(LiveVenue::MapStatus(v1::ORDER_STATUS_NEW), VenueOrderStatus::kOpen);
  EXPECT_EQ(LiveVenue::MapStatus(v1::ORDER_STATUS_ACKED), VenueOrderStatus::kOpen);
  EXPECT_EQ(LiveVenue::MapStatus(v1::ORDER_STATUS_PARTIALLY_FILLED), VenueOrderStatus::kOpen);
  EXPECT_EQ(LiveVenue::MapStatus(v1::ORDER_STATUS_FILLED), VenueOrderStatus::kFilled);
  EXPECT_EQ(LiveVenue::MapStatus(v1::ORDER_STATUS_CANCELLED), VenueOrderStatus::kCancelled);
  EXPECT_EQ(LiveVenue::MapStatus(v1::ORDER_STATUS_EXPIRED), VenueOrderStatus::kExpired);
  EXPECT_EQ(LiveVenue::MapStatus(v1::ORDER_STATUS_REJECTED), VenueOrderStatus::kRejected);
}

TEST(VenueWorkerPolling, FailingPollsBackOffInsteadOfSpendingTheRateBudget) {
  auto venue = std::make_unique<FakeVenue>("down");
  FakeVenue* fake = venue.get();
  fake->FailOpenOrders(absl::UnavailableError("fake: down"));
  std::atomic<int> answers{0};
  VenueWorker::Callbacks cb;
  cb.on_answer = [](VenueWorker::Call, const v1::Order&, const absl::StatusOr<VenueOrderState>&,
                    int64_t, bool) {};
  cb.has_open_orders = [] { return true; };
  cb.on_open_orders = [&](const absl::StatusOr<std::vector<VenueOrderState>>&, int64_t) {
    ++answers;
    return std::vector<v1::Order>{};
  };
  cb.on_balances = [](const absl::StatusOr<std::vector<VenueAssetBalance>>&, int64_t) {};
  VenueWorker::Options o;
  o.poll_interval_ns = 1'000'000;  // 1 ms: 300 polls in 300 ms without backoff
  VenueWorker worker(std::move(venue), nullptr, o, std::move(cb));
  worker.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  worker.Stop();
  EXPECT_GE(answers.load(), 2);
  EXPECT_LT(answers.load(), 30);  // doubling intervals: about log2(300) polls
  EXPECT_EQ(fake->Calls("open_orders"), answers.load());
  EXPECT_FALSE(worker.stats().reconciled);
  EXPECT_GE(worker.stats().poll_errors, 2u);
}

// Fees of live fills: the venue's cumulative fee (Kraken `fee`, Bybit `cumExecFee`, Binance
// trades) becomes each derived fill's fee — the part not recorded yet — and the order's total.
TEST_F(LiveEngineTest, CumulativeVenueFeesAreRecordedOnFillsAndTheOrder) {
  Make();
  auto r = engine_->Submit(Req("fee1", v1::SIDE_BUY, 4 * E8, 100 * E8, "BTC-USD", "live"));
  ASSERT_TRUE(r.ok());
  const std::string id = r->order().order_id();
  ASSERT_TRUE(WaitFor([&] { return Get("fee1").status() == v1::ORDER_STATUS_ACKED; }));
  VenueOrderState st;
  st.client_order_id = id;
  st.venue_order_id = "v-" + id;
  st.status = VenueOrderStatus::kOpen;
  st.filled_qty_e8 = E8;
  st.avg_price_e8 = 100 * E8;
  st.fee_e8 = 10'000'000;  // 0.1 USD so far
  st.fee_asset = "USD";
  st.fee_known = true;
  venue_->SetOpen(id, st);
  ASSERT_TRUE(WaitFor([&] { return Get("fee1").filled_qty_e8() == E8; }));
  EXPECT_EQ(Get("fee1").fee_e8(), 10'000'000);
  st.status = VenueOrderStatus::kFilled;
  st.filled_qty_e8 = 4 * E8;
  st.fee_e8 = 40'000'000;  // cumulative
  venue_->Close(id, st);
  ASSERT_TRUE(WaitFor([&] { return Get("fee1").status() == v1::ORDER_STATUS_FILLED; }));
  EXPECT_EQ(Get("fee1").fee_e8(), 40'000'000);
  std::vector<std::pair<int64_t, std::string>> fees;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& e : events_) {
      if (e.type() == v1::ORDER_EVENT_TYPE_FILL && e.order().order_id() == id) {
        fees.emplace_back(e.fill().fee_e8(), e.fill().fee_asset());
      }
    }
  }
  EXPECT_EQ(fees, (std::vector<std::pair<int64_t, std::string>>{{10'000'000, "USD"},
                                                                {30'000'000, "USD"}}));
}

// A venue with batch endpoints for the VenueWorker: batches up to 3 orders of one symbol and
// records every call; refuses orders whose quantity is 7.
class BatchVenue final : public Venue {
 public:
  const std::string& name() const override { return name_; }
  bool remote() const override { return true; }
  size_t max_place_batch() const override { return 3; }
  size_t max_cancel_batch() const override { return 3; }
  std::string BatchKey(const v1::Order& o) const override { return o.symbol(); }
  absl::StatusOr<VenueOrderState> Place(const v1::Order& o) override { return PlaceBatch({o})[0]; }
  absl::StatusOr<VenueOrderState> Cancel(const v1::Order& o) override {
    return CancelBatch({o})[0];
  }
  std::vector<absl::StatusOr<VenueOrderState>> PlaceBatch(
      const std::vector<v1::Order>& orders) override {
    Record("place", orders);
    std::vector<absl::StatusOr<VenueOrderState>> out;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!fail_all_.ok()) return {orders.size(), fail_all_};
    }
    for (const auto& o : orders) {
      if (o.qty_e8() == 7 * E8) {
        out.push_back(absl::FailedPreconditionError("batch: insufficient funds"));
        continue;
      }
      VenueOrderState st;
      st.client_order_id = o.order_id();
      st.venue_order_id = "v-" + o.order_id();
      out.push_back(st);
    }
    return out;
  }
  std::vector<absl::StatusOr<VenueOrderState>> CancelBatch(
      const std::vector<v1::Order>& orders) override {
    Record("cancel", orders);
    std::vector<absl::StatusOr<VenueOrderState>> out;
    for (const auto& o : orders) {
      VenueOrderState st;
      st.client_order_id = o.order_id();
      st.status = VenueOrderStatus::kCancelled;
      out.push_back(st);
    }
    return out;
  }
  absl::StatusOr<VenueOrderState> Query(const v1::Order&) override {
    return absl::NotFoundError("batch: no");
  }
  absl::StatusOr<std::vector<VenueOrderState>> OpenOrders() override {
    return std::vector<VenueOrderState>{};
  }
  absl::StatusOr<std::vector<VenueAssetBalance>> Balances() override {
    return std::vector<VenueAssetBalance>{};
  }
  // Every later request fails as a whole with `s`.
  void FailAll(absl::Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_all_ = std::move(s);
  }
  // "place:a,b" per call, in call order.
  std::vector<std::string> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  void Record(const char* what, const std::vector<v1::Order>& orders) {
    std::string c = std::string(what) + ":";
    for (size_t i = 0; i < orders.size(); ++i) c += (i ? "," : "") + orders[i].order_id();
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back(c);
  }
  const std::string name_ = "batchy";
  mutable std::mutex mu_;
  std::vector<std::string> calls_;
  absl::Status fail_all_;
};

v1::Order WorkerOrder(const std::string& id, const std::string& symbol, int64_t qty_e8 = E8) {
  v1::Order o;
  o.set_order_id(id);
  o.set_symbol(symbol);
  o.set_qty_e8(qty_e8);
  return o;
}

struct WorkerRig {
  explicit WorkerRig(VenueWorker::Options o = {}) {
    auto v = std::make_unique<BatchVenue>();
    venue = v.get();
    VenueWorker::Callbacks cb;
    cb.on_answer = [this](VenueWorker::Call call, const v1::Order& o,
                          const absl::StatusOr<VenueOrderState>& a, int64_t, bool counted) {
      std::lock_guard<std::mutex> lock(mu);
      const std::string key = std::string(VenueWorker::CallName(call)) + ":" + o.order_id();
      answers.emplace(key, a.status());
      if (counted) this->counted.push_back(key);
    };
    cb.has_open_orders = [] { return false; };
    cb.on_open_orders = [](const absl::StatusOr<std::vector<VenueOrderState>>&, int64_t) {
      return std::vector<v1::Order>{};
    };
    cb.on_balances = [](const absl::StatusOr<std::vector<VenueAssetBalance>>&, int64_t) {};
    o.poll_interval_ns = 60'000'000'000;
    worker = std::make_unique<VenueWorker>(std::move(v), nullptr, o, std::move(cb));
  }
  size_t answered() {
    std::lock_guard<std::mutex> lock(mu);
    return answers.size();
  }
  BatchVenue* venue;
  std::unique_ptr<VenueWorker> worker;
  std::mutex mu;
  std::map<std::string, absl::Status> answers;
  std::vector<std::string> counted;  // answers counted for the breaker, in order
};

TEST(VenueWorkerBatching, QueuedOrdersGoOutTogetherPerKeyUpToTheCapEachWithItsOwnAnswer) {
  VenueWorker::Options o;
  o.max_batch = 5;  // the venue's 3 is the tighter cap
  WorkerRig rig(o);
  // Queued before the worker runs (as while a call is in flight): a cancel, then places of two
  // symbols, one of which the venue refuses.
  ASSERT_TRUE(rig.worker->Enqueue(VenueWorker::Call::kCancel, WorkerOrder("c1", "BTC")));
  ASSERT_TRUE(rig.worker->Enqueue(VenueWorker::Call::kPlace, WorkerOrder("p1", "BTC")));
  ASSERT_TRUE(rig.worker->Enqueue(VenueWorker::Call::kPlace, WorkerOrder("p2", "ETH")));
  ASSERT_TRUE(rig.worker->Enqueue(VenueWorker::Call::kPlace, WorkerOrder("p3", "BTC", 7 * E8)));
  ASSERT_TRUE(rig.worker->Enqueue(VenueWorker::Call::kPlace, WorkerOrder("p4", "BTC")));
  ASSERT_TRUE(rig.worker->Enqueue(VenueWorker::Call::kPlace, WorkerOrder("p5", "BTC")));
  ASSERT_TRUE(rig.worker->Enqueue(VenueWorker::Call::kCancel, WorkerOrder("c2", "ETH")));
  ASSERT_TRUE(rig.worker->Enqueue(VenueWorker::Call::kCancel, WorkerOrder("c3", "BTC")));
  rig.worker->Start();
  ASSERT_TRUE(WaitFor([&] { return rig.answered() == 8; }));
  rig.worker->Stop();
  // Cancels first (same key together), then places: BTC up to 3 in queue order, then the rest.
  EXPECT_EQ(rig.venue->calls(),
            (std::vector<std::string>{"cancel:c1,c3", "cancel:c2", "place:p1,p3,p4", "place:p2",
                                      "place:p5"}));
  EXPECT_TRUE(rig.answers.at("place:p1").ok());
  EXPECT_EQ(rig.answers.at("place:p3").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(rig.answers.at("place:p4").ok());
  EXPECT_TRUE(rig.answers.at("place:p5").ok());
  EXPECT_TRUE(rig.answers.at("cancel:c2").ok());
  EXPECT_EQ(rig.worker->stats().batches, 2u);
  EXPECT_EQ(rig.worker->stats().batched_orders, 5u);
}

TEST(VenueWorkerBatching, MaxBatchOneSendsEveryOrderOnItsOwn) {
  VenueWorker::Options o;
  o.max_batch = 1;
  WorkerRig rig(o);
  for (const char* id : {"p1", "p2", "p3"}) {
    ASSERT_TRUE(rig.worker->Enqueue(VenueWorker::Call::kPlace, WorkerOrder(id, "BTC")));
  }
  rig.worker->Start();
  ASSERT_TRUE(WaitFor([&] { return rig.answered() == 3; }));
  rig.worker->Stop();
  EXPECT_EQ(rig.venue->calls(), (std::vector<std::string>{"place:p1", "place:p2", "place:p3"}));
  EXPECT_EQ(rig.worker->stats().batches, 0u);
}

TEST(VenueWorkerBatching, LingerLetsALoneOrderWaitForCompanyUpToTheCap) {
  VenueWorker::Options o;
  o.max_batch = 3;
  o.batch_linger_ns = 10'000'000'000;  // long: the batch fills up before it expires
  WorkerRig rig(o);
  rig.worker->Start();
  ASSERT_TRUE(rig.worker->Enqueue(VenueWorker::Call::kPlace, WorkerOrder("p1", "BTC")));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(rig.venue->calls().empty());  // waiting for company
  // A cancel is not held back by lingering places.
  ASSERT_TRUE(rig.worker->Enqueue(VenueWorker::Call::kCancel, WorkerOrder("c1", "BTC")));
  ASSERT_TRUE(WaitFor([&] { return rig.answered() == 1; }));
  ASSERT_TRUE(rig.worker->Enqueue(VenueWorker::Call::kPlace, WorkerOrder("p2", "BTC")));
  ASSERT_TRUE(rig.worker->Enqueue(VenueWorker::Call::kPlace, WorkerOrder("p3", "BTC")));
  ASSERT_TRUE(WaitFor([&] { return rig.answered() == 4; }));
  rig.worker->Stop();
  EXPECT_EQ(rig.venue->calls(), (std::vector<std::string>{"cancel:c1", "place:p1,p2,p3"}));
}

TEST(VenueWorkerBatching, ABatchThatFailsAsAWholeIsCountedOnceForTheBreaker) {
  VenueWorker::Options o;
  o.max_batch = 3;
  o.batch_linger_ns = 10'000'000'000;  // each batch goes out full
  WorkerRig rig(o);
  // The venue refuses p3 on its own (a per-order verdict): every answer of that batch counts.
  for (const char* id : {"p1", "p2"}) {
    ASSERT_TRUE(rig.worker->Enqueue(VenueWorker::Call::kPlace, WorkerOrder(id, "BTC")));
  }
  ASSERT_TRUE(rig.worker->Enqueue(VenueWorker::Call::kPlace, WorkerOrder("p3", "BTC", 7 * E8)));
  rig.worker->Start();
  ASSERT_TRUE(WaitFor([&] { return rig.answered() == 3; }));
  // The whole request fails: one outcome for the three orders it carried.
  rig.venue->FailAll(absl::UnavailableError("batch: connection reset"));
  for (const char* id : {"q1", "q2", "q3"}) {
    ASSERT_TRUE(rig.worker->Enqueue(VenueWorker::Call::kPlace, WorkerOrder(id, "ETH")));
  }
  ASSERT_TRUE(WaitFor([&] { return rig.answered() == 6; }));
  rig.worker->Stop();
  EXPECT_EQ(rig.venue->calls(), (std::vector<std::string>{"place:p1,p2,p3", "place:q1,q2,q3"}));
  EXPECT_EQ(rig.answers.at("place:q2").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(rig.answers.at("place:q3").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(rig.counted,
            (std::vector<std::string>{"place:p1", "place:p2", "place:p3", "place:q1"}));
}

// A batch venue whose requests all fail as a whole — for the engine's breaker.
class DownBatchVenue final : public Venue {
 public:
  const std::string& name() const override { return name_; }
  bool remote() const override { return true; }
  size_t max_place_batch() const override { return 5; }
  std::string BatchKey(const v1::Order& o) const override { return o.symbol(); }
  absl::StatusOr<VenueOrderState> Place(const v1::Order& o) override { return PlaceBatch({o})[0]; }
  absl::StatusOr<VenueOrderState> Cancel(const v1::Order&) override {
    return absl::UnavailableError("down");
  }
  std::vector<absl::StatusOr<VenueOrderState>> PlaceBatch(
      const std::vector<v1::Order>& orders) override {
    std::unique_lock<std::mutex> lock(mu_);
    sizes_.push_back(orders.size());
    cv_.wait(lock, [&] { return !hold_; });
    // Refused as a whole before any order reached the book (a breaker failure; each order is
    // rejected at once, so no poll has to resolve it).
    return std::vector<absl::StatusOr<VenueOrderState>>(
        orders.size(), absl::PermissionDeniedError("down: invalid signature"));
  }
  absl::StatusOr<VenueOrderState> Query(const v1::Order&) override {
    return absl::UnavailableError("down");
  }
  absl::StatusOr<std::vector<VenueOrderState>> OpenOrders() override {
    return std::vector<VenueOrderState>{};
  }
  absl::StatusOr<std::vector<VenueAssetBalance>> Balances() override {
    return std::vector<VenueAssetBalance>{};
  }
  void Hold(bool hold) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      hold_ = hold;
    }
    cv_.notify_all();
  }
  std::vector<size_t> sizes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sizes_;
  }

 private:
  const std::string name_ = "down";
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  std::vector<size_t> sizes_;  // orders per place request
};

TEST(LiveEngineBreaker, ABatchRequestThatFailsAsAWholeIsOneBreakerFailure) {
  EngineOptions eo;
  eo.risk = RiskLimits{};
  eo.breaker = {.window = 10,
                .min_calls = 3,
                .failure_ratio = 0.5,
                .open_ns = 60'000'000'000,
                .half_open_probes = 1};
  eo.unconfirmed_grace_ns = 60'000'000'000;
  OutboxQueue outbox(OutboxQueue::Options{});
  ExecutionEngine engine(eo, &outbox, nullptr);
  auto v = std::make_unique<DownBatchVenue>();
  DownBatchVenue* venue = v.get();
  VenueWorker::Options wo;
  wo.poll_interval_ns = 60'000'000'000;
  wo.max_batch = 5;
  ASSERT_TRUE(engine.AddRemoteVenue(std::move(v), nullptr, wo).ok());
  engine.StartVenues();
  venue->Hold(true);
  ASSERT_TRUE(engine.Submit(Req("b0", v1::SIDE_BUY, E8, 100 * E8, "BTC-USD", "down")).ok());
  ASSERT_TRUE(WaitFor([&] { return venue->sizes().size() == 1; }));  // b0 in flight
  for (const char* id : {"b1", "b2", "b3", "b4"}) {
    ASSERT_TRUE(engine.Submit(Req(id, v1::SIDE_BUY, E8, 100 * E8, "BTC-USD", "down")).ok());
  }
  venue->Hold(false);
  ASSERT_TRUE(WaitFor([&] { return venue->sizes().size() == 2; }));
  auto status = [&](const std::string& client_id) {
    v1::OrderRef ref;
    ref.set_client_order_id(client_id);
    auto o = engine.GetOrder(ref);
    return o.ok() ? o->status() : v1::ORDER_STATUS_UNSPECIFIED;
  };
  ASSERT_TRUE(WaitFor([&] {
    for (const char* id : {"b0", "b1", "b2", "b3", "b4"}) {
      if (status(id) != v1::ORDER_STATUS_REJECTED) return false;
    }
    return true;
  }));
  EXPECT_EQ(venue->sizes(), (std::vector<size_t>{1, 4}));
  // Two failed requests (b0 alone, then b1..b4 together): below min_calls, still closed — one
  // failure per order would have been five.
  EXPECT_EQ(engine.StatusJson()["breakers"]["down"], "closed");
  // A third failed request opens it.
  ASSERT_TRUE(engine.Submit(Req("b5", v1::SIDE_BUY, E8, 100 * E8, "BTC-USD", "down")).ok());
  ASSERT_TRUE(WaitFor([&] { return engine.StatusJson()["breakers"]["down"] == "open"; }));
  engine.StopVenues();
}

// A venue that charges its own query requests through the worker's gate, as LiveVenue does:
// a lookup is followed by a trades request (a fill's fee).
class GatedVenue final : public Venue {
 public:
  const std::string& name() const override { return name_; }
  bool remote() const override { return true; }
  bool SetRequestGate(RequestGate gate) override {
    gate_ = std::move(gate);
    return true;
  }
  absl::StatusOr<VenueOrderState> Place(const v1::Order&) override {
    return absl::UnimplementedError("gated: no places");
  }
  absl::StatusOr<VenueOrderState> Cancel(const v1::Order&) override {
    return absl::UnimplementedError("gated: no cancels");
  }
  absl::StatusOr<VenueOrderState> Query(const v1::Order& o) override {
    if (absl::Status s = gate_(RequestClass::kQueryOrder); !s.ok()) return s;
    Note("query");
    if (absl::Status s = gate_(RequestClass::kOrderTrades); !s.ok()) return s;
    Note("trades");
    VenueOrderState st;
    st.client_order_id = o.order_id();
    st.status = VenueOrderStatus::kFilled;
    return st;
  }
  absl::StatusOr<std::vector<VenueOrderState>> OpenOrders() override {
    if (absl::Status s = gate_(RequestClass::kOpenOrders); !s.ok()) return s;
    Note("open_orders");
    return std::vector<VenueOrderState>{};
  }
  absl::StatusOr<std::vector<VenueAssetBalance>> Balances() override {
    if (absl::Status s = gate_(RequestClass::kBalances); !s.ok()) return s;
    Note("balances");
    return std::vector<VenueAssetBalance>{};
  }
  std::vector<std::string> sent() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_;
  }

 private:
  void Note(const char* what) {
    std::lock_guard<std::mutex> lock(mu_);
    sent_.push_back(what);
  }
  const std::string name_ = "gated";
  RequestGate gate_;
  mutable std::mutex mu_;
  std::vector<std::string> sent_;  // requests that went out
};

// Worker callbacks that hand back `missing` after the first open-orders poll and note answers.
struct PollRig {
  VenueWorker::Callbacks Callbacks(std::vector<v1::Order> missing) {
    VenueWorker::Callbacks cb;
    cb.on_answer = [this](VenueWorker::Call, const v1::Order& o,
                          const absl::StatusOr<VenueOrderState>& a, int64_t, bool) {
      std::lock_guard<std::mutex> lock(mu);
      answers.emplace_back(o.order_id(), a.status());
    };
    cb.has_open_orders = [] { return true; };
    cb.on_open_orders = [this, missing](const absl::StatusOr<std::vector<VenueOrderState>>&,
                                        int64_t) {
      std::lock_guard<std::mutex> lock(mu);
      return open_polls++ == 0 ? missing : std::vector<v1::Order>{};
    };
    cb.on_balances = [this](const absl::StatusOr<std::vector<VenueAssetBalance>>&, int64_t) {
      std::lock_guard<std::mutex> lock(mu);
      ++balances;
    };
    return cb;
  }
  std::mutex mu;
  std::vector<std::pair<std::string, absl::Status>> answers;
  int open_polls = 0;
  int balances = 0;
};

TEST(VenueWorkerRateLimits, EachPollRequestSpendsItsOwnWeight) {
  // Binance-like weights on a frozen clock: open orders 80, lookups 4, balances 20.
  auto specs = ParseRateLimits(
      "live/weight=token:104:60000:open_orders=80,query_order=4,"
      "balances=20");
  ASSERT_TRUE(specs.ok()) << specs.status();
  int64_t now = 0;
  RateLimiter limiter(*specs, [&] { return now; });
  auto v = std::make_unique<FakeVenue>("live");
  FakeVenue* fake = v.get();
  PollRig rig;
  VenueWorker::Options o;
  o.poll_interval_ns = 3'600'000'000'000;  // the start-up poll only
  o.clock = [] { return int64_t{0}; };
  VenueWorker worker(std::move(v), &limiter, o,
                     rig.Callbacks({WorkerOrder("o1", "BTC"), WorkerOrder("o2", "BTC"),
                                    WorkerOrder("o3", "BTC")}));
  worker.Start();
  // 80 + 3 x 4 = 92 of 104: the balances call (20) has no room.
  ASSERT_TRUE(WaitFor([&] { return worker.stats().polls_rate_limited == 1; }));
  worker.Stop();
  EXPECT_EQ(fake->Calls("open_orders"), 1);
  EXPECT_EQ(fake->Calls("query"), 3);
  EXPECT_EQ(fake->Calls("balances"), 0);
  EXPECT_EQ(limiter.Levels(now)["live"]["weight"], 92);
  EXPECT_EQ(rig.answers.size(), 3u);
  EXPECT_EQ(rig.balances, 0);
  EXPECT_FALSE(worker.stats().reconciled);
}

TEST(VenueWorkerRateLimits, AGatedVenueChargesEveryRequestOnceAndARefusedQueryIsNotAnswered) {
  auto specs = ParseRateLimits(
      "gated/weight=token:95:60000:open_orders=80,query_order=4,"
      "trades=5,balances=20");
  ASSERT_TRUE(specs.ok()) << specs.status();
  int64_t now = 0;
  RateLimiter limiter(*specs, [&] { return now; });
  auto v = std::make_unique<GatedVenue>();
  GatedVenue* venue = v.get();
  PollRig rig;
  VenueWorker::Options o;
  o.poll_interval_ns = 3'600'000'000'000;
  o.clock = [] { return int64_t{0}; };
  VenueWorker worker(std::move(v), &limiter, o,
                     rig.Callbacks({WorkerOrder("o1", "BTC"), WorkerOrder("o2", "BTC"),
                                    WorkerOrder("o3", "BTC")}));
  worker.Start();
  // open orders 80, o1: lookup 4 + trades 5 = 89; o2: lookup 4 (93), its trades (5) refused ->
  // o2 is not answered and o3 waits for the next poll; balances (20) refused.
  ASSERT_TRUE(WaitFor([&] { return worker.stats().polls_rate_limited == 2; }));
  worker.Stop();
  EXPECT_EQ(venue->sent(), (std::vector<std::string>{"open_orders", "query", "trades", "query"}));
  EXPECT_EQ(limiter.Levels(now)["gated"]["weight"], 93);  // charged once, by the venue's gate
  ASSERT_EQ(rig.answers.size(), 1u);
  EXPECT_EQ(rig.answers[0].first, "o1");
  EXPECT_EQ(rig.balances, 0);
  EXPECT_EQ(worker.stats().poll_errors, 0u);  // our own limit is not a venue failure
}
}  // namespace
}  // namespace tickmesh::execution
