// Execution algorithms: the pure scheduling functions (algos.h) and the AlgoRunner's child orders
// (algos_runner.h) with an injected clock and fake engine hooks.
#include "algos.h"

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "algos_runner.h"
#include "gtest/gtest.h"
#include "test_util.h"

namespace tickmesh::execution {
namespace {

using testing::E8;
namespace v1 = tickmesh::v1;

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kS = 1'000'000'000;

v1::BookSnapshot Book(const testing::Levels& bids, const testing::Levels& asks) {
  return testing::Snapshot("sim", "BTC-USD", 1, bids, asks).snapshot();
}

// ---- pure functions -------------------------------------------------------------------------

TEST(PlanTwap, OneSlicePerIntervalRoundedUpAndCapped) {
  EXPECT_EQ(PlanTwap(10 * E8, 10 * kS, kS, 1000).slices, 10);
  EXPECT_EQ(PlanTwap(10 * E8, 10 * kS + 1, kS, 1000).slices, 11);
  EXPECT_EQ(PlanTwap(10 * E8, 10 * kS, kS, 4).slices, 4);
  // Never more slices than e8 units to share.
  EXPECT_EQ(PlanTwap(3, 10 * kS, kS, 1000).slices, 3);
  EXPECT_EQ(PlanTwap(10 * E8, 500 * kMs, kS, 1000).slices, 1);
  EXPECT_EQ(PlanTwap(10 * E8, 0, kS, 1000).slices, 1);
}

TEST(TwapSchedule, CumulativeTargetsAndOffsetsAreEvenAndEndExactly) {
  EXPECT_EQ(TwapCumulativeTarget(10, 3, 0), 3);
  EXPECT_EQ(TwapCumulativeTarget(10, 3, 1), 6);
  EXPECT_EQ(TwapCumulativeTarget(10, 3, 2), 10);
  EXPECT_EQ(TwapCumulativeTarget(10, 3, 7), 10);
  EXPECT_EQ(TwapSliceOffsetNs(9 * kS, 3, 0), 0);
  EXPECT_EQ(TwapSliceOffsetNs(9 * kS, 3, 1), 3 * kS);
  EXPECT_EQ(TwapSliceOffsetNs(9 * kS, 3, 2), 6 * kS);
}

TEST(IcebergChildQty, ShowsAtMostTheDisplaySize) {
  EXPECT_EQ(IcebergChildQty(5 * E8, 2 * E8), 2 * E8);
  EXPECT_EQ(IcebergChildQty(E8, 2 * E8), E8);
  EXPECT_EQ(IcebergChildQty(0, 2 * E8), 0);
}

TEST(SizeForImpact, TakesWholeLevelsWithinTheLimitAndPartOfTheFirstBeyond) {
  // Mid 100. 2 bps -> the VWAP may reach 100.02.
  auto book =
      Book({{9'999 * E8 / 100, 5 * E8}},
           {{10'001 * E8 / 100, E8}, {10'002 * E8 / 100, 2 * E8}, {10'005 * E8 / 100, 5 * E8}});
  auto s = SizeForImpact(v1::SIDE_BUY, book, 2, 0, 100 * E8);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->mid_e8, 100 * E8);
  // 1 @ 100.01 + 2 @ 100.02 cost 300.05 for 3; x more @ 100.05 keeps VWAP <= 100.02 while
  // 300.05 + 100.05 x <= 100.02 (3 + x), i.e. x <= 0.01 / 0.03.
  EXPECT_EQ(s->qty_e8, 3 * E8 + 33'333'333);
  EXPECT_EQ(s->worst_price_e8, 10'005 * E8 / 100);
  EXPECT_LE(s->impact_bps, 2);
  // One unit more would break the limit: VWAP * 1e4 > mid * 10 002.
  const __int128 cost = static_cast<__int128>(10'001 * E8 / 100) * E8 +
                        static_cast<__int128>(10'002 * E8 / 100) * 2 * E8 +
                        static_cast<__int128>(10'005 * E8 / 100) * (33'333'333 + 1);
  EXPECT_GT(cost * 10'000, static_cast<__int128>(100 * E8) * 10'002 * (s->qty_e8 + 1));
}

TEST(SizeForImpact, SellWalksBidsAndRespectsMaxQtyAndLimitPrice) {
  auto book =
      Book({{9'999 * E8 / 100, E8}, {9'990 * E8 / 100, 10 * E8}}, {{10'001 * E8 / 100, E8}});
  // 20 bps: VWAP >= 99.80; both levels are above it.
  auto all = SizeForImpact(v1::SIDE_SELL, book, 20, 0, 100 * E8);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->qty_e8, 11 * E8);
  EXPECT_EQ(all->worst_price_e8, 9'990 * E8 / 100);
  auto capped = SizeForImpact(v1::SIDE_SELL, book, 20, 0, E8 / 2);
  ASSERT_TRUE(capped.has_value());
  EXPECT_EQ(capped->qty_e8, E8 / 2);
  EXPECT_EQ(capped->worst_price_e8, 9'999 * E8 / 100);
  // A sell limit at 99.95 never reaches the 99.90 level.
  auto limited = SizeForImpact(v1::SIDE_SELL, book, 20, 9'995 * E8 / 100, 100 * E8);
  ASSERT_TRUE(limited.has_value());
  EXPECT_EQ(limited->qty_e8, E8);
}

TEST(SizeForImpact, NothingWhenSpreadTooWideOneSidedOrEmpty) {
  // Mid 100, best ask 101 is 100 bps away: a 10 bps limit allows nothing.
  EXPECT_FALSE(SizeForImpact(v1::SIDE_BUY, Book({{99 * E8, E8}}, {{101 * E8, E8}}), 10, 0, E8));
  EXPECT_FALSE(SizeForImpact(v1::SIDE_BUY, Book({}, {{101 * E8, E8}}), 500, 0, E8));
  EXPECT_FALSE(SizeForImpact(v1::SIDE_BUY, Book({{99 * E8, E8}}, {{101 * E8, E8}}), 500, 0, 0));
}

TEST(SizeForImpact, MalformedLevelsEndTheWalk) {
  // Asks out of best-first order and a zero quantity level: only the first level counts.
  auto book = Book({{99 * E8, E8}}, {{101 * E8, E8}, {100 * E8, 5 * E8}});
  auto s = SizeForImpact(v1::SIDE_BUY, book, 5'000, 0, 100 * E8);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->qty_e8, E8);
  auto zero = Book({{99 * E8, E8}}, {{101 * E8, E8}, {102 * E8, 0}, {103 * E8, 5 * E8}});
  EXPECT_EQ(SizeForImpact(v1::SIDE_BUY, zero, 5'000, 0, 100 * E8)->qty_e8, E8);
  // Extreme prices do not overflow: the walk stops instead.
  auto huge = Book({{INT64_MAX / 4, INT64_MAX / 2}},
                   {{INT64_MAX / 2, INT64_MAX / 2}, {INT64_MAX - 1, INT64_MAX / 2}});
  auto h = SizeForImpact(v1::SIDE_BUY, huge, 10'000, 0, INT64_MAX);
  if (h) {
    EXPECT_GT(h->qty_e8, 0);
  }
}

// ---- AlgoRunner -----------------------------------------------------------------------------

// Fake engine: records children, answers them with `answer`, feeds events back like the engine's
// observer does (synchronously, before Submit returns).
class AlgoRunnerTest : public ::testing::Test {
 protected:
  using Answer = std::function<absl::StatusOr<v1::Order>(const v1::OrderRequest&)>;

  void Make(AlgoRunner::Options options = {}) {
    AlgoRunner::Hooks h;
    h.submit = [this](v1::OrderRequest child, AlgoRunner::Hooks::Done done) {
      children_.push_back(child);
      if (hold_) {
        held_.push_back(std::move(done));
        return;
      }
      auto o = answer_(child);
      if (o.ok()) {
        Emit(*o);
        v1::SubmitOrderResponse r;
        *r.mutable_order() = *o;
        done(r);
      } else {
        done(o.status());
      }
    };
    h.cancel = [this](const std::string& id) -> absl::Status {
      cancels_.push_back(id);
      if (auto it = open_.find(id); it != open_.end()) {
        v1::Order o = it->second;
        o.set_status(v1::ORDER_STATUS_CANCELLED);
        o.set_version(o.version() + 1);
        Emit(o);
        return absl::OkStatus();
      }
      return absl::FailedPreconditionError("terminal");
    };
    h.book = [this](const std::string&, const std::string&) { return book_; };
    h.parent_event = [this](v1::OrderEvent ev) { parent_events_.push_back(std::move(ev)); };
    h.mono_now_ns = [this] { return now_.load(); };
    h.unix_now_ns = [this] { return 1'700'000'000 * kS + now_.load(); };
    runner_ = std::make_unique<AlgoRunner>(options, std::move(h));
  }

  // An order for `child` as the engine would report it.
  static v1::Order State(const v1::OrderRequest& child, v1::OrderStatus status, int64_t filled,
                         int64_t price = 100 * E8, uint64_t version = 2) {
    v1::Order o;
    o.set_order_id("o-" + child.client_order_id());
    o.set_client_order_id(child.client_order_id());
    o.set_symbol(child.symbol());
    o.set_qty_e8(child.qty_e8());
    o.set_status(status);
    o.set_filled_qty_e8(filled);
    o.set_avg_fill_price_e8(filled > 0 ? price : 0);
    o.set_fee_e8(filled > 0 ? 1 : 0);
    o.set_version(version);
    return o;
  }

  void Emit(const v1::Order& o) {
    if (o.status() == v1::ORDER_STATUS_ACKED || o.status() == v1::ORDER_STATUS_PARTIALLY_FILLED) {
      open_[o.client_order_id()] = o;
    } else {
      open_.erase(o.client_order_id());
    }
    v1::OrderEventBatch b;
    *b.add_events()->mutable_order() = o;
    runner_->OnOrderEvents(b);
  }

  // Fills an open (resting) child completely.
  void FillOpen(const std::string& id, int64_t price = 100 * E8) {
    v1::Order o = open_.at(id);
    o.set_status(v1::ORDER_STATUS_FILLED);
    o.set_filled_qty_e8(o.qty_e8());
    o.set_avg_fill_price_e8(price);
    o.set_fee_e8(1);
    o.set_version(o.version() + 1);
    Emit(o);
  }

  v1::Order Parent(const std::string& cid = "p") {
    v1::OrderRef ref;
    ref.set_client_order_id(cid);
    return *runner_->Get(ref);
  }

  void At(int64_t t) {
    now_ = t;
    runner_->RunDue();
  }

  static v1::OrderRequest Twap(int64_t qty, uint32_t duration_ms, int64_t price = 0) {
    auto r = testing::Req("p", v1::SIDE_BUY, qty, price);
    r.set_algo(v1::EXEC_ALGO_TWAP);
    r.set_algo_duration_ms(duration_ms);
    return r;
  }
  static v1::OrderRequest Iceberg(int64_t qty, int64_t display, uint32_t duration_ms = 0) {
    auto r = testing::Req("p", v1::SIDE_BUY, qty, 100 * E8);
    r.set_algo(v1::EXEC_ALGO_ICEBERG);
    r.set_display_qty_e8(display);
    r.set_algo_duration_ms(duration_ms);
    return r;
  }

  std::atomic<int64_t> now_{0};
  Answer answer_ = [](const v1::OrderRequest& c) {
    return State(c, v1::ORDER_STATUS_FILLED, c.qty_e8());
  };
  bool hold_ = false;
  std::vector<AlgoRunner::Hooks::Done> held_;
  std::optional<v1::BookSnapshot> book_;
  std::vector<v1::OrderRequest> children_;
  std::vector<std::string> cancels_;
  std::map<std::string, v1::Order> open_;
  std::vector<v1::OrderEvent> parent_events_;
  std::unique_ptr<AlgoRunner> runner_;
};

TEST_F(AlgoRunnerTest, TwapSendsEqualSlicesAtTheirTimes) {
  Make();
  auto resp = runner_->Submit(Twap(10 * E8, 10'000));
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->order().status(), v1::ORDER_STATUS_ACKED);
  EXPECT_EQ(resp->order().order_id(), "a-1");
  EXPECT_EQ(resp->order().algo(), v1::EXEC_ALGO_TWAP);
  EXPECT_TRUE(children_.empty());  // nothing on the caller's thread

  At(0);
  ASSERT_EQ(children_.size(), 1u);
  EXPECT_EQ(children_[0].client_order_id(), "p/1");
  EXPECT_EQ(children_[0].qty_e8(), E8);
  EXPECT_EQ(children_[0].type(), v1::ORDER_TYPE_MARKET);
  EXPECT_EQ(children_[0].algo(), v1::EXEC_ALGO_IMMEDIATE);
  EXPECT_EQ(children_[0].strategy(), "test");
  At(999 * kMs);
  EXPECT_EQ(children_.size(), 1u);
  for (int i = 1; i < 10; ++i) At(i * kS);
  ASSERT_EQ(children_.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(children_[i].client_order_id(), "p/" + std::to_string(i + 1));
    EXPECT_EQ(children_[i].qty_e8(), E8);
  }
  auto p = Parent();
  EXPECT_EQ(p.status(), v1::ORDER_STATUS_FILLED);
  EXPECT_EQ(p.filled_qty_e8(), 10 * E8);
  EXPECT_EQ(p.avg_fill_price_e8(), 100 * E8);
  EXPECT_EQ(p.fee_e8(), 10);
  EXPECT_EQ(runner_->active_count(), 0u);
  At(20 * kS);
  EXPECT_EQ(children_.size(), 10u);
}

TEST_F(AlgoRunnerTest, TwapCatchesUpAnUnfilledSliceAndLimitParentSendsLimitIoc) {
  Make();
  // First child fills half (IOC remainder cancelled), the rest fill completely.
  answer_ = [this](const v1::OrderRequest& c) {
    return children_.size() == 1 ? State(c, v1::ORDER_STATUS_CANCELLED, c.qty_e8() / 2)
                                 : State(c, v1::ORDER_STATUS_FILLED, c.qty_e8());
  };
  ASSERT_TRUE(runner_->Submit(Twap(4 * E8, 4'000, 101 * E8)).ok());
  At(0);
  EXPECT_EQ(Parent().status(), v1::ORDER_STATUS_PARTIALLY_FILLED);
  EXPECT_EQ(Parent().filled_qty_e8(), E8 / 2);
  At(kS);
  ASSERT_EQ(children_.size(), 2u);
  EXPECT_EQ(children_[1].qty_e8(), 2 * E8 - E8 / 2);
  EXPECT_EQ(children_[1].type(), v1::ORDER_TYPE_LIMIT);
  EXPECT_EQ(children_[1].price_e8(), 101 * E8);
  EXPECT_EQ(children_[1].time_in_force(), v1::TIME_IN_FORCE_IOC);
  At(2 * kS);
  At(3 * kS);
  EXPECT_EQ(Parent().status(), v1::ORDER_STATUS_FILLED);
  EXPECT_EQ(Parent().filled_qty_e8(), 4 * E8);
}

TEST_F(AlgoRunnerTest, TwapMergesOverdueSlicesIntoOneChild) {
  Make();
  ASSERT_TRUE(runner_->Submit(Twap(10 * E8, 10'000)).ok());
  At(0);
  At(5'500 * kMs);  // slices 1..5 are all due: one child for the target of slice 5
  ASSERT_EQ(children_.size(), 2u);
  EXPECT_EQ(children_[1].qty_e8(), 5 * E8);
  At(6 * kS);
  ASSERT_EQ(children_.size(), 3u);
  EXPECT_EQ(children_[2].qty_e8(), E8);
  EXPECT_EQ(Parent().filled_qty_e8(), 7 * E8);
}

TEST_F(AlgoRunnerTest, TwapExpiresAfterItsLastSliceWhenNotFilled) {
  Make();
  answer_ = [](const v1::OrderRequest& c) { return State(c, v1::ORDER_STATUS_CANCELLED, 0); };
  ASSERT_TRUE(runner_->Submit(Twap(2 * E8, 2'000)).ok());
  At(0);
  EXPECT_EQ(Parent().status(), v1::ORDER_STATUS_ACKED);
  At(kS);
  ASSERT_EQ(children_.size(), 2u);
  EXPECT_EQ(children_[1].qty_e8(), 2 * E8);  // catch-up of slice 1 plus slice 2
  EXPECT_EQ(Parent().status(), v1::ORDER_STATUS_EXPIRED);
  EXPECT_EQ(Parent().filled_qty_e8(), 0);
}

TEST_F(AlgoRunnerTest, IcebergShowsTheDisplaySizeAndRefillsWhenAChildFills) {
  Make();
  answer_ = [](const v1::OrderRequest& c) { return State(c, v1::ORDER_STATUS_ACKED, 0); };
  ASSERT_TRUE(runner_->Submit(Iceberg(5 * E8, 2 * E8)).ok());
  At(0);
  ASSERT_EQ(children_.size(), 1u);
  EXPECT_EQ(children_[0].qty_e8(), 2 * E8);
  EXPECT_EQ(children_[0].type(), v1::ORDER_TYPE_LIMIT);
  EXPECT_EQ(children_[0].time_in_force(), v1::TIME_IN_FORCE_GTC);
  EXPECT_EQ(children_[0].price_e8(), 100 * E8);
  At(10 * kS);
  EXPECT_EQ(children_.size(), 1u);  // never two children shown at once

  // A partial fill does not refill.
  v1::Order partial = open_.at("p/1");
  partial.set_status(v1::ORDER_STATUS_PARTIALLY_FILLED);
  partial.set_filled_qty_e8(E8);
  partial.set_avg_fill_price_e8(100 * E8);
  partial.set_version(3);
  Emit(partial);
  At(11 * kS);
  EXPECT_EQ(children_.size(), 1u);
  EXPECT_EQ(Parent().filled_qty_e8(), E8);
  EXPECT_EQ(Parent().status(), v1::ORDER_STATUS_PARTIALLY_FILLED);

  FillOpen("p/1");
  At(11 * kS);
  ASSERT_EQ(children_.size(), 2u);
  EXPECT_EQ(children_[1].client_order_id(), "p/2");
  EXPECT_EQ(children_[1].qty_e8(), 2 * E8);
  FillOpen("p/2", 98 * E8);
  At(11 * kS);
  ASSERT_EQ(children_.size(), 3u);
  EXPECT_EQ(children_[2].qty_e8(), E8);  // what remains
  FillOpen("p/3");
  At(12 * kS);
  EXPECT_EQ(children_.size(), 3u);
  auto p = Parent();
  EXPECT_EQ(p.status(), v1::ORDER_STATUS_FILLED);
  EXPECT_EQ(p.filled_qty_e8(), 5 * E8);
  EXPECT_EQ(p.avg_fill_price_e8(), (100 * 3 + 98 * 2) * E8 / 5);
}

TEST_F(AlgoRunnerTest, IcebergExpiresAtItsDurationCancellingTheShownChild) {
  Make();
  answer_ = [](const v1::OrderRequest& c) { return State(c, v1::ORDER_STATUS_ACKED, 0); };
  ASSERT_TRUE(runner_->Submit(Iceberg(5 * E8, 2 * E8, 3'000)).ok());
  At(0);
  FillOpen("p/1");
  At(kS);
  ASSERT_EQ(children_.size(), 2u);
  At(3 * kS - 1);
  EXPECT_TRUE(cancels_.empty());
  At(3 * kS);
  ASSERT_EQ(cancels_.size(), 1u);
  EXPECT_EQ(cancels_[0], "p/2");
  auto p = Parent();
  EXPECT_EQ(p.status(), v1::ORDER_STATUS_EXPIRED);
  EXPECT_EQ(p.filled_qty_e8(), 2 * E8);
}

TEST_F(AlgoRunnerTest, CancelOfTheParentCancelsItsOpenChildAndStopsScheduling) {
  Make();
  answer_ = [](const v1::OrderRequest& c) { return State(c, v1::ORDER_STATUS_ACKED, 0); };
  ASSERT_TRUE(runner_->Submit(Iceberg(5 * E8, 2 * E8)).ok());
  At(0);
  v1::OrderRef ref;
  ref.set_order_id("a-1");
  auto cancelled = runner_->Cancel(ref);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->status(), v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(cancels_, std::vector<std::string>{"p/1"});
  At(5 * kS);
  EXPECT_EQ(children_.size(), 1u);
  EXPECT_EQ(runner_->Cancel(ref).status().code(), absl::StatusCode::kFailedPrecondition);
  v1::OrderRef unknown;
  unknown.set_client_order_id("nope");
  EXPECT_EQ(runner_->Cancel(unknown).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(runner_->Get(unknown).has_value());
}

TEST_F(AlgoRunnerTest, CancelWhileAChildIsInFlightCancelsItOnceAnswered) {
  Make();
  hold_ = true;
  ASSERT_TRUE(runner_->Submit(Iceberg(5 * E8, 2 * E8)).ok());
  At(0);
  ASSERT_EQ(held_.size(), 1u);
  v1::OrderRef ref;
  ref.set_client_order_id("p");
  auto c = runner_->Cancel(ref);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->status(), v1::ORDER_STATUS_ACKED);  // the child is still on its way
  EXPECT_TRUE(cancels_.empty());
  // The engine answers: the child rests. The runner cancels it on its thread.
  v1::Order acked = State(children_[0], v1::ORDER_STATUS_ACKED, 0);
  Emit(acked);
  v1::SubmitOrderResponse r;
  *r.mutable_order() = acked;
  held_[0](r);
  At(0);
  EXPECT_EQ(cancels_, std::vector<std::string>{"p/1"});
  EXPECT_EQ(Parent().status(), v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(children_.size(), 1u);
}

TEST_F(AlgoRunnerTest, RiskRejectionOfAChildStopsTheParent) {
  Make();
  answer_ = [](const v1::OrderRequest&) -> absl::StatusOr<v1::Order> {
    return absl::FailedPreconditionError("risk:max_position");
  };
  ASSERT_TRUE(runner_->Submit(Twap(10 * E8, 10'000)).ok());
  At(0);
  auto p = Parent();
  EXPECT_EQ(p.status(), v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(p.reject_reason(), "risk:max_position");
  At(5 * kS);
  EXPECT_EQ(children_.size(), 1u);
}

TEST_F(AlgoRunnerTest, TransientRefusalsAreRetriedWithNewChildIdsThenStopTheParent) {
  AlgoRunner::Options o;
  o.retry_interval_ns = 500 * kMs;
  o.max_consecutive_refusals = 2;
  Make(o);
  answer_ = [](const v1::OrderRequest&) -> absl::StatusOr<v1::Order> {
    return absl::ResourceExhaustedError("rate_limit:orders");
  };
  ASSERT_TRUE(runner_->Submit(Iceberg(5 * E8, 2 * E8)).ok());
  At(0);
  At(499 * kMs);
  EXPECT_EQ(children_.size(), 1u);
  At(500 * kMs);
  ASSERT_EQ(children_.size(), 2u);
  EXPECT_EQ(children_[1].client_order_id(), "p/2");
  EXPECT_EQ(Parent().status(), v1::ORDER_STATUS_ACKED);
  At(kS);
  ASSERT_EQ(children_.size(), 3u);
  EXPECT_EQ(Parent().status(), v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(Parent().reject_reason(), "rate_limit:orders");
}

TEST_F(AlgoRunnerTest, TransientRefusalResetsAfterASuccess) {
  AlgoRunner::Options o;
  o.retry_interval_ns = 100 * kMs;
  o.max_consecutive_refusals = 1;
  Make(o);
  answer_ = [this](const v1::OrderRequest& c) -> absl::StatusOr<v1::Order> {
    if (children_.size() % 2 == 1) return absl::UnavailableError("breaker:sim open");
    return State(c, v1::ORDER_STATUS_FILLED, c.qty_e8());
  };
  ASSERT_TRUE(runner_->Submit(Iceberg(4 * E8, 2 * E8)).ok());
  for (int i = 0; i < 10; ++i) At(i * 100 * kMs);
  EXPECT_EQ(Parent().status(), v1::ORDER_STATUS_FILLED);
  EXPECT_EQ(children_.size(), 4u);
}

TEST_F(AlgoRunnerTest, IcebergStopsWhenItsChildIsCancelledBySomeoneElse) {
  Make();
  answer_ = [](const v1::OrderRequest& c) { return State(c, v1::ORDER_STATUS_ACKED, 0); };
  ASSERT_TRUE(runner_->Submit(Iceberg(5 * E8, 2 * E8)).ok());
  At(0);
  v1::Order o = open_.at("p/1");
  o.set_status(v1::ORDER_STATUS_CANCELLED);  // e.g. the kill switch
  o.set_version(3);
  Emit(o);
  At(kS);
  EXPECT_EQ(children_.size(), 1u);
  EXPECT_EQ(Parent().status(), v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(Parent().reject_reason(), "child_cancelled");
}

TEST_F(AlgoRunnerTest, StaleEventsDoNotUndoNewerChildState) {
  Make();
  answer_ = [](const v1::OrderRequest& c) { return State(c, v1::ORDER_STATUS_ACKED, 0, 0, 2); };
  ASSERT_TRUE(runner_->Submit(Iceberg(5 * E8, 2 * E8)).ok());
  At(0);
  v1::Order newer = open_.at("p/1");
  newer.set_status(v1::ORDER_STATUS_PARTIALLY_FILLED);
  newer.set_filled_qty_e8(E8);
  newer.set_avg_fill_price_e8(100 * E8);
  newer.set_version(5);
  Emit(newer);
  v1::Order older = newer;
  older.set_filled_qty_e8(0);
  older.set_version(4);
  Emit(older);
  EXPECT_EQ(Parent().filled_qty_e8(), E8);
}

TEST_F(AlgoRunnerTest, LiquidityAwareSizesEachChildFromTheBook) {
  AlgoRunner::Options o;
  o.liquidity_interval_ns = kS;
  Make(o);
  book_ = Book({{9'999 * E8 / 100, 5 * E8}},
               {{10'001 * E8 / 100, E8}, {10'002 * E8 / 100, 2 * E8}, {10'005 * E8 / 100, 5 * E8}});
  auto r = testing::Req("p", v1::SIDE_BUY, 10 * E8);
  r.set_algo(v1::EXEC_ALGO_LIQUIDITY_AWARE);
  r.set_max_impact_bps(2);
  r.set_algo_duration_ms(10'000);
  ASSERT_TRUE(runner_->Submit(r).ok());
  At(0);
  ASSERT_EQ(children_.size(), 1u);
  EXPECT_EQ(children_[0].qty_e8(), 3 * E8 + 33'333'333);
  EXPECT_EQ(children_[0].type(), v1::ORDER_TYPE_LIMIT);
  EXPECT_EQ(children_[0].time_in_force(), v1::TIME_IN_FORCE_IOC);
  EXPECT_EQ(children_[0].price_e8(), 10'005 * E8 / 100);
  // Next child one interval later, capped by what remains.
  At(kS - 1);
  EXPECT_EQ(children_.size(), 1u);
  At(kS);
  ASSERT_EQ(children_.size(), 2u);
  EXPECT_EQ(children_[1].qty_e8(), 3 * E8 + 33'333'333);
  // The book thins out (spread too wide for 2 bps): nothing is sent.
  book_ = Book({{99 * E8, 5 * E8}}, {{101 * E8, 5 * E8}});
  At(2 * kS);
  At(3 * kS);
  EXPECT_EQ(children_.size(), 2u);
  book_ = std::nullopt;
  At(4 * kS);
  EXPECT_EQ(children_.size(), 2u);
  book_ = Book({{9'999 * E8 / 100, 5 * E8}}, {{10'001 * E8 / 100, 50 * E8}});
  At(5 * kS);
  ASSERT_EQ(children_.size(), 3u);
  EXPECT_EQ(children_[2].qty_e8(), 10 * E8 - 2 * (3 * E8 + 33'333'333));
  EXPECT_EQ(Parent().status(), v1::ORDER_STATUS_FILLED);
}

TEST_F(AlgoRunnerTest, LiquidityAwareExpiresAtItsDuration) {
  Make();
  book_ = Book({{99 * E8, 5 * E8}}, {{101 * E8, 5 * E8}});  // too wide for 5 bps
  auto r = testing::Req("p", v1::SIDE_SELL, 10 * E8);
  r.set_algo(v1::EXEC_ALGO_LIQUIDITY_AWARE);
  r.set_max_impact_bps(5);
  r.set_algo_duration_ms(2'000);
  ASSERT_TRUE(runner_->Submit(r).ok());
  At(0);
  At(kS);
  EXPECT_EQ(Parent().status(), v1::ORDER_STATUS_ACKED);
  At(2 * kS);
  EXPECT_TRUE(children_.empty());
  EXPECT_EQ(Parent().status(), v1::ORDER_STATUS_EXPIRED);
}

TEST_F(AlgoRunnerTest, ResubmittingAParentIsIdempotentAndActiveParentsAreBounded) {
  AlgoRunner::Options o;
  o.max_active_parents = 1;
  Make(o);
  auto first = runner_->Submit(Twap(2 * E8, 2'000));
  ASSERT_TRUE(first.ok());
  auto again = runner_->Submit(Twap(2 * E8, 2'000));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate());
  EXPECT_EQ(again->order().order_id(), first->order().order_id());
  auto other = Twap(2 * E8, 2'000);
  other.set_client_order_id("q");
  EXPECT_EQ(runner_->Submit(other).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(runner_->Submit(testing::Req("x", v1::SIDE_BUY, E8)).status().code(),
            absl::StatusCode::kInvalidArgument);
  At(0);
  At(kS);
  EXPECT_EQ(Parent().status(), v1::ORDER_STATUS_FILLED);
  // Finished parents no longer count; their ids stay idempotent.
  EXPECT_TRUE(runner_->Submit(other).ok());
  EXPECT_TRUE(runner_->Submit(Twap(2 * E8, 2'000))->duplicate());
  EXPECT_EQ(runner_->List(10).size(), 2u);
  EXPECT_EQ(runner_->List(10)[0].client_order_id(), "q");
}

TEST_F(AlgoRunnerTest, ParentChangesAreEmittedAsEventsWithIncreasingVersions) {
  Make();
  ASSERT_TRUE(runner_->Submit(Twap(2 * E8, 2'000)).ok());
  At(0);
  At(kS);
  ASSERT_GE(parent_events_.size(), 3u);
  EXPECT_EQ(parent_events_.front().type(), v1::ORDER_EVENT_TYPE_ACKED);
  EXPECT_EQ(parent_events_.front().event_id(), "a-1:1");
  EXPECT_EQ(parent_events_.back().order().status(), v1::ORDER_STATUS_FILLED);
  for (size_t i = 1; i < parent_events_.size(); ++i) {
    EXPECT_EQ(parent_events_[i].order().version(), parent_events_[i - 1].order().version() + 1);
    EXPECT_EQ(parent_events_[i].seq(), parent_events_[i - 1].seq() + 1);
  }
}

TEST(AlgoRunnerThread, TimerThreadRunsAParentToCompletion) {
  std::mutex mu;
  std::vector<std::string> ids;
  AlgoRunner::Options o;
  o.twap_slice_interval_ns = 20 * kMs;
  AlgoRunner* runner_ptr = nullptr;
  AlgoRunner::Hooks h;
  h.submit = [&](v1::OrderRequest c, AlgoRunner::Hooks::Done done) {
    {
      std::lock_guard<std::mutex> lock(mu);
      ids.push_back(c.client_order_id());
    }
    v1::SubmitOrderResponse r;
    r.mutable_order()->set_client_order_id(c.client_order_id());
    r.mutable_order()->set_status(v1::ORDER_STATUS_FILLED);
    r.mutable_order()->set_filled_qty_e8(c.qty_e8());
    r.mutable_order()->set_avg_fill_price_e8(100 * E8);
    r.mutable_order()->set_version(3);
    done(r);
  };
  h.cancel = [](const std::string&) { return absl::OkStatus(); };
  AlgoRunner runner(o, h);
  runner_ptr = &runner;
  runner.Start();
  auto r = testing::Req("p", v1::SIDE_BUY, 5 * E8);
  r.set_algo(v1::EXEC_ALGO_TWAP);
  r.set_algo_duration_ms(100);
  ASSERT_TRUE(runner.Submit(r).ok());
  v1::OrderRef ref;
  ref.set_client_order_id("p");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (runner_ptr->Get(ref)->status() != v1::ORDER_STATUS_FILLED &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(runner.Get(ref)->status(), v1::ORDER_STATUS_FILLED);
  EXPECT_EQ(runner.Get(ref)->filled_qty_e8(), 5 * E8);
  runner.Stop();
  std::lock_guard<std::mutex> lock(mu);
  // Five slices on time; fewer when a loaded machine let slices fall due together (merged).
  EXPECT_GE(ids.size(), 1u);
  EXPECT_LE(ids.size(), 5u);
}

// ---- parents as orders: aggregation, listing, cancel, restart --------------------------------

namespace restore_test {

constexpr int64_t kUnix0 = 1'700'000'000 * kS;  // the fixture's unix clock at mono 0

// A parent as persistence holds it (what Submit made of `r`, after `version` changes).
v1::Order Persisted(const v1::OrderRequest& r, const std::string& order_id, int64_t filled,
                    uint64_t version, int64_t created = kUnix0) {
  v1::Order o;
  o.set_order_id(order_id);
  o.set_client_order_id(r.client_order_id());
  o.set_venue(r.venue());
  o.set_symbol(r.symbol());
  o.set_side(r.side());
  o.set_type(r.type());
  o.set_price_e8(r.type() == v1::ORDER_TYPE_LIMIT ? r.price_e8() : 0);
  o.set_qty_e8(r.qty_e8());
  o.set_strategy(r.strategy());
  o.set_algo(r.algo());
  o.set_algo_duration_ms(r.algo_duration_ms());
  o.set_display_qty_e8(r.display_qty_e8());
  o.set_max_impact_bps(r.max_impact_bps());
  o.set_status(filled > 0 ? v1::ORDER_STATUS_PARTIALLY_FILLED : v1::ORDER_STATUS_ACKED);
  o.set_filled_qty_e8(filled);
  o.set_created_unix_ns(created);
  o.set_version(version);
  return o;
}

// A child of parent `parent_id` as persisted.
v1::Order ChildOrder(const std::string& client_id, const std::string& parent_id, int64_t qty,
                     int64_t filled, v1::OrderStatus status, int64_t price = 100 * E8) {
  v1::Order o;
  o.set_order_id("o-" + client_id);
  o.set_client_order_id(client_id);
  o.set_parent_order_id(parent_id);
  o.set_symbol("BTC-USD");
  o.set_qty_e8(qty);
  o.set_filled_qty_e8(filled);
  o.set_avg_fill_price_e8(filled > 0 ? price : 0);
  o.set_fee_e8(filled > 0 ? 1 : 0);
  o.set_status(status);
  o.set_version(3);
  return o;
}

}  // namespace restore_test

TEST_F(AlgoRunnerTest, ParentAggregatesChildFillsCarriesItsParametersAndLinksChildren) {
  Make();
  // Children fill at different prices: the parent's average is their volume-weighted average.
  answer_ = [this](const v1::OrderRequest& c) {
    return State(c, v1::ORDER_STATUS_FILLED, c.qty_e8(),
                 children_.size() == 1 ? 100 * E8 : 103 * E8);
  };
  auto resp = runner_->Submit(Twap(2 * E8, 2'000));
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->order().algo_duration_ms(), 2'000u);
  EXPECT_EQ(resp->order().created_unix_ns(), restore_test::kUnix0);
  At(0);
  ASSERT_EQ(children_.size(), 1u);
  EXPECT_EQ(children_[0].parent_order_id(), "a-1");
  v1::Order p = Parent();
  EXPECT_EQ(p.status(), v1::ORDER_STATUS_PARTIALLY_FILLED);
  EXPECT_EQ(p.filled_qty_e8(), E8);
  EXPECT_EQ(p.avg_fill_price_e8(), 100 * E8);
  At(kS);
  p = Parent();
  EXPECT_EQ(p.status(), v1::ORDER_STATUS_FILLED);
  EXPECT_EQ(p.filled_qty_e8(), 2 * E8);
  EXPECT_EQ(p.avg_fill_price_e8(), 10'150'000'000);  // (100 + 103) / 2
  EXPECT_EQ(p.fee_e8(), 2);
}

TEST_F(AlgoRunnerTest, ListFiltersByInstrumentAndStatusAndPagesNewestFirst) {
  Make();
  auto a = Iceberg(3 * E8, E8);
  a.set_client_order_id("pa");
  auto b = Iceberg(3 * E8, E8);
  b.set_client_order_id("pb");
  b.set_symbol("ETH-USD");
  auto c = Iceberg(3 * E8, E8);
  c.set_client_order_id("pc");
  for (const auto& r : {a, b, c}) ASSERT_TRUE(runner_->Submit(r).ok());
  v1::OrderRef ref;
  ref.set_client_order_id("pc");
  ASSERT_TRUE(runner_->Cancel(ref).ok());

  AlgoRunner::ParentQuery q;
  auto all = runner_->List(q);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].order_id(), "a-3");
  EXPECT_EQ(all[2].order_id(), "a-1");
  q.symbol = "BTC-USD";
  q.statuses = {v1::ORDER_STATUS_ACKED};
  auto open_btc = runner_->List(q);
  ASSERT_EQ(open_btc.size(), 1u);
  EXPECT_EQ(open_btc[0].client_order_id(), "pa");
  AlgoRunner::ParentQuery page;
  page.limit = 1;
  page.before = 3;  // numbers below 3
  auto second = runner_->List(page);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].order_id(), "a-2");
}

TEST_F(AlgoRunnerTest, RestoredTwapIsReplannedOverItsRemainingDuration) {
  Make();
  auto r = Twap(4 * E8, 4'000);
  // Persisted: one child filled 1 of 4; the parent row was written before that fill arrived.
  AlgoRunner::RestoredParent rp;
  rp.parent = restore_test::Persisted(r, "a-7", 0, 2);
  rp.children = {restore_test::ChildOrder("p/1", "a-7", E8, E8, v1::ORDER_STATUS_FILLED)};
  now_ = 0;
  // Execution was down for 2 s of the 4: 3 remain over 2 s (1 s slices -> two of 1.5).
  Make();
  now_ = 2 * kS;
  auto sum = runner_->Restore({rp});
  EXPECT_EQ(sum.resumed, 1u);
  EXPECT_EQ(sum.ended, 0u);
  v1::Order p = Parent();
  EXPECT_EQ(p.order_id(), "a-7");
  EXPECT_EQ(p.filled_qty_e8(), E8);  // recomputed from the children
  EXPECT_EQ(p.status(), v1::ORDER_STATUS_PARTIALLY_FILLED);
  EXPECT_EQ(p.version(), 3u);  // the persisted version, plus the fill it had missed
  At(2 * kS);
  ASSERT_EQ(children_.size(), 1u);
  EXPECT_EQ(children_[0].client_order_id(), "p/2");  // numbered past the restored child
  EXPECT_EQ(children_[0].parent_order_id(), "a-7");
  EXPECT_EQ(children_[0].qty_e8(), 3 * E8 / 2);
  At(2 * kS + 999 * kMs);
  EXPECT_EQ(children_.size(), 1u);
  At(3 * kS);
  ASSERT_EQ(children_.size(), 2u);
  EXPECT_EQ(children_[1].qty_e8(), 3 * E8 / 2);
  EXPECT_EQ(Parent().status(), v1::ORDER_STATUS_FILLED);
  EXPECT_EQ(Parent().filled_qty_e8(), 4 * E8);
  // A new parent is numbered past the restored one, and the restored id is idempotent.
  auto again = runner_->Submit(r);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate());
  auto other = r;
  other.set_client_order_id("q");
  EXPECT_EQ(runner_->Submit(other)->order().order_id(), "a-8");
}

TEST_F(AlgoRunnerTest, RestoredIcebergAdoptsItsRestingChildAndCancelStopsIt) {
  Make();
  auto r = Iceberg(3 * E8, E8);
  AlgoRunner::RestoredParent rp;
  rp.parent = restore_test::Persisted(r, "a-2", E8, 4);
  rp.children = {restore_test::ChildOrder("p/1", "a-2", E8, E8, v1::ORDER_STATUS_FILLED),
                 restore_test::ChildOrder("p/2", "a-2", E8, 0, v1::ORDER_STATUS_ACKED)};
  open_["p/2"] = rp.children[1];
  answer_ = [](const v1::OrderRequest& c) { return State(c, v1::ORDER_STATUS_ACKED, 0); };
  auto sum = runner_->Restore({rp});
  EXPECT_EQ(sum.resumed, 1u);
  At(0);
  EXPECT_TRUE(children_.empty());  // the resting child is followed, not replaced
  FillOpen("p/2");
  At(kMs);
  ASSERT_EQ(children_.size(), 1u);
  EXPECT_EQ(children_[0].client_order_id(), "p/3");
  EXPECT_EQ(Parent().filled_qty_e8(), 2 * E8);
  // Cancel of the restored parent cancels its open child and ends it.
  v1::OrderRef ref;
  ref.set_order_id("a-2");
  auto cancelled = runner_->Cancel(ref);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->status(), v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(cancels_, std::vector<std::string>{"p/3"});
  EXPECT_EQ(cancelled->filled_qty_e8(), 2 * E8);
  At(2 * kS);
  EXPECT_EQ(children_.size(), 1u);
}

TEST_F(AlgoRunnerTest, RestoreEndsParentsThatCannotResumeAndCancelsTheirOpenChildren) {
  Make();
  now_ = 10 * kS;
  // A TWAP whose deadline passed while execution was down.
  auto late = Twap(4 * E8, 4'000);
  late.set_client_order_id("late");
  AlgoRunner::RestoredParent rp_late;
  rp_late.parent = restore_test::Persisted(late, "a-1", 0, 1);
  // An iceberg written without its algorithm parameters (an older version) with a resting child.
  auto old = Iceberg(3 * E8, E8);
  old.set_client_order_id("old");
  AlgoRunner::RestoredParent rp_old;
  rp_old.parent = restore_test::Persisted(old, "a-2", 0, 1);
  rp_old.parent.clear_display_qty_e8();
  rp_old.children = {restore_test::ChildOrder("old/1", "a-2", E8, 0, v1::ORDER_STATUS_ACKED)};
  open_["old/1"] = rp_old.children[0];
  // An iceberg whose children could not all be read.
  auto unknown = Iceberg(3 * E8, E8);
  unknown.set_client_order_id("unknown");
  AlgoRunner::RestoredParent rp_unknown;
  rp_unknown.parent = restore_test::Persisted(unknown, "a-3", 0, 1);
  rp_unknown.children_complete = false;
  // An open child whose parent ended.
  v1::Order orphan = restore_test::ChildOrder("gone/4", "a-0", E8, 0, v1::ORDER_STATUS_ACKED);
  open_["gone/4"] = orphan;

  auto sum = runner_->Restore({rp_late, rp_old, rp_unknown}, {orphan});
  EXPECT_EQ(sum.resumed, 0u);
  EXPECT_EQ(sum.ended, 3u);
  EXPECT_EQ(sum.cancelled_orphans, std::vector<std::string>{"gone/4"});
  At(10 * kS);  // the timer thread's pass: cancels the open child, ends its parent
  v1::OrderRef ref;
  ref.set_client_order_id("late");
  EXPECT_EQ(runner_->Get(ref)->status(), v1::ORDER_STATUS_EXPIRED);
  EXPECT_EQ(runner_->Get(ref)->reject_reason(), "algo:deadline_passed_at_restart");
  ref.set_client_order_id("old");
  EXPECT_EQ(runner_->Get(ref)->status(), v1::ORDER_STATUS_CANCELLED);
  EXPECT_NE(runner_->Get(ref)->reject_reason().find("algo:not_resumable: order.display_qty_e8"),
            std::string::npos)
      << runner_->Get(ref)->reject_reason();
  ref.set_client_order_id("unknown");
  EXPECT_EQ(runner_->Get(ref)->reject_reason(), "algo:not_resumable: children not all found");
  EXPECT_TRUE(children_.empty());
  EXPECT_EQ(open_.size(), 0u);  // "old/1" and the orphan were cancelled
  EXPECT_EQ(runner_->active_count(), 0u);
  // Every end was emitted, so persistence records it.
  size_t ends = 0;
  for (const auto& ev : parent_events_) {
    if (ev.order().status() == v1::ORDER_STATUS_EXPIRED ||
        ev.order().status() == v1::ORDER_STATUS_CANCELLED) {
      ++ends;
    }
  }
  EXPECT_EQ(ends, 3u);
}

}  // namespace
}  // namespace tickmesh::execution
