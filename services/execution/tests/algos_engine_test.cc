// Execution algorithms through the real ExecutionEngine and paper venue: every child is an engine
// order (risk, breaker, events), the runner follows them through the engine's event observer.
// Also the algorithm fields of ExecutionEngine::ValidateRequest.
#include "algos_engine.h"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "algos_runner.h"
#include "execution_engine.h"
#include "gtest/gtest.h"
#include "test_util.h"

namespace tickmesh::execution {
namespace {

using testing::E8;
namespace v1 = tickmesh::v1;

constexpr int64_t kS = 1'000'000'000;

class AlgosEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions o;
    o.risk = RiskLimits{.max_order_qty_e8 = 100 * E8,
                        .max_order_notional_e8 = 1'000'000 * E8,
                        .max_position_e8 = 50 * E8,
                        .price_band_bps = 500};
    o.venue = PaperVenue::Options{.taker_fee_bps = 10, .maker_fee_bps = 0};
    engine_ = std::make_unique<ExecutionEngine>(o, nullptr, nullptr);
    ApplyBook(testing::Snapshot("sim", "BTC-USD", 1, {{99 * E8, 10 * E8}},
                                {{101 * E8, 2 * E8}, {102 * E8, 10 * E8}}));
    AlgoRunner::Hooks hooks = EngineAlgoHooks(
        engine_.get(), nullptr,
        [this](const std::string&, const std::string&) -> std::optional<v1::BookSnapshot> {
          return book_;
        });
    hooks.mono_now_ns = [this] { return now_.load(); };
    runner_ = std::make_unique<AlgoRunner>(AlgoRunner::Options{}, hooks);
    engine_->SetEventObserver([this](const v1::OrderEventBatch& b) { runner_->OnOrderEvents(b); });
  }
  void TearDown() override { engine_->SetEventObserver(nullptr); }

  // The engine's book and the test's copy for the runner's `book` hook (the engine exposes no
  // book snapshot yet, see README "Not there yet").
  void ApplyBook(const v1::MarketEvent& ev) {
    v1::MarketEventBatch batch;
    *batch.add_events() = ev;
    engine_->OnMarketBatch(batch);
    if (ev.has_snapshot()) book_ = ev.snapshot();
  }

  v1::Order Order(const std::string& client_id) {
    v1::OrderRef ref;
    ref.set_client_order_id(client_id);
    if (auto p = runner_->Get(ref)) return *p;
    return *engine_->GetOrder(ref);
  }

  void At(int64_t t) {
    now_ = t;
    runner_->RunDue();
  }

  std::atomic<int64_t> now_{0};
  std::optional<v1::BookSnapshot> book_;
  std::unique_ptr<ExecutionEngine> engine_;
  std::unique_ptr<AlgoRunner> runner_;
};

TEST_F(AlgosEngineTest, TwapChildrenAreEngineOrdersThatFillOnThePaperVenue) {
  auto r = testing::Req("twap-1", v1::SIDE_BUY, 3 * E8);
  r.set_algo(v1::EXEC_ALGO_TWAP);
  r.set_algo_duration_ms(3'000);
  ASSERT_TRUE(ValidateAlgoParent(r).ok());
  ASSERT_TRUE(runner_->Submit(r).ok());
  At(0);
  At(kS);
  At(2 * kS);
  for (int i = 1; i <= 3; ++i) {
    v1::Order child = Order("twap-1/" + std::to_string(i));
    EXPECT_EQ(child.status(), v1::ORDER_STATUS_FILLED) << i;
    EXPECT_EQ(child.qty_e8(), E8);
    EXPECT_EQ(child.order_id().rfind("o-", 0), 0u);
  }
  v1::Order parent = Order("twap-1");
  EXPECT_EQ(parent.status(), v1::ORDER_STATUS_FILLED);
  EXPECT_EQ(parent.filled_qty_e8(), 3 * E8);
  // 2 @ 101 then 1 @ 102 (the book is not depleted by paper fills, so each child takes 101).
  EXPECT_EQ(parent.avg_fill_price_e8(), 101 * E8);
  auto positions = engine_->GetPositions({});
  ASSERT_EQ(positions.positions_size(), 1);
  EXPECT_EQ(positions.positions(0).qty_e8(), 3 * E8);
}

TEST_F(AlgosEngineTest, IcebergRestsOnThePaperVenueRefillsAndCancels) {
  auto r = testing::Req("ice-1", v1::SIDE_BUY, 5 * E8, 100 * E8);
  r.set_algo(v1::EXEC_ALGO_ICEBERG);
  r.set_display_qty_e8(2 * E8);
  ASSERT_TRUE(ValidateAlgoParent(r).ok());
  ASSERT_TRUE(runner_->Submit(r).ok());
  At(0);
  EXPECT_EQ(Order("ice-1/1").status(), v1::ORDER_STATUS_ACKED);
  // The ask comes down through 100: the shown child fills as maker, the next one is shown.
  ApplyBook(testing::Delta("sim", "BTC-USD", 2, {}, {{100 * E8, 2 * E8}}));
  EXPECT_EQ(Order("ice-1/1").status(), v1::ORDER_STATUS_FILLED);
  EXPECT_EQ(Order("ice-1").filled_qty_e8(), 2 * E8);
  ApplyBook(testing::Delta("sim", "BTC-USD", 3, {}, {{100 * E8, 0}}));
  At(kS);
  EXPECT_EQ(Order("ice-1/2").status(), v1::ORDER_STATUS_ACKED);
  EXPECT_EQ(Order("ice-1/2").qty_e8(), 2 * E8);
  // Cancel of the parent cancels the resting child in the engine.
  v1::OrderRef ref;
  ref.set_client_order_id("ice-1");
  auto cancelled = runner_->Cancel(ref);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->status(), v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(cancelled->filled_qty_e8(), 2 * E8);
  EXPECT_EQ(Order("ice-1/2").status(), v1::ORDER_STATUS_CANCELLED);
  At(2 * kS);
  v1::OrderRef child3;
  child3.set_client_order_id("ice-1/3");
  EXPECT_FALSE(engine_->GetOrder(child3).ok());
}

TEST_F(AlgosEngineTest, KillSwitchStopsAParent) {
  auto r = testing::Req("ice-2", v1::SIDE_BUY, 5 * E8, 100 * E8);
  r.set_algo(v1::EXEC_ALGO_ICEBERG);
  r.set_display_qty_e8(E8);
  ASSERT_TRUE(runner_->Submit(r).ok());
  At(0);
  v1::SetKillSwitchRequest kill;
  kill.set_engaged(true);
  kill.set_reason("test");
  ASSERT_TRUE(engine_->SetKillSwitch(kill).ok());
  EXPECT_EQ(Order("ice-2/1").status(), v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(Order("ice-2").status(), v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(Order("ice-2").reject_reason(), "child_cancelled");
}

TEST_F(AlgosEngineTest, ChildRejectedByRiskStopsTheParent) {
  auto r = testing::Req("twap-2", v1::SIDE_BUY, 200 * E8);  // slices of 100 > max_position 50
  r.set_algo(v1::EXEC_ALGO_TWAP);
  r.set_algo_duration_ms(2'000);
  ASSERT_TRUE(runner_->Submit(r).ok());
  At(0);
  EXPECT_EQ(Order("twap-2/1").status(), v1::ORDER_STATUS_REJECTED);
  v1::Order parent = Order("twap-2");
  EXPECT_EQ(parent.status(), v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(parent.reject_reason(), "risk:max_position");
}

TEST_F(AlgosEngineTest, LiquidityAwareChildStaysWithinTheImpactLimit) {
  // Mid 100 (99 / 101): 150 bps allows a VWAP up to 101.5 -> 2 @ 101 + x @ 102 with
  // 202 + 102 x <= 101.5 (2 + x) -> x <= 2.
  auto r = testing::Req("liq-1", v1::SIDE_BUY, 10 * E8);
  r.set_algo(v1::EXEC_ALGO_LIQUIDITY_AWARE);
  r.set_max_impact_bps(150);
  r.set_algo_duration_ms(1'000);
  ASSERT_TRUE(ValidateAlgoParent(r).ok());
  ASSERT_TRUE(runner_->Submit(r).ok());
  At(0);
  v1::Order child = Order("liq-1/1");
  EXPECT_EQ(child.qty_e8(), 4 * E8);
  EXPECT_EQ(child.status(), v1::ORDER_STATUS_FILLED);
  EXPECT_EQ(child.avg_fill_price_e8(), (2 * 101 + 2 * 102) * E8 / 4);
  At(kS);
  v1::Order parent = Order("liq-1");
  EXPECT_EQ(parent.status(), v1::ORDER_STATUS_EXPIRED);
  EXPECT_EQ(parent.filled_qty_e8(), 4 * E8);
}

TEST(ValidateAlgoRequest, NamesTheFieldOfEachAlgorithm) {
  auto base = testing::Req("p", v1::SIDE_BUY, E8, 100 * E8);
  auto check = [&](auto mutate, const std::string& field) {
    v1::OrderRequest r = base;
    mutate(r);
    absl::Status s = AlgoRunner::IsAlgo(r) || r.algo() != v1::EXEC_ALGO_UNSPECIFIED
                         ? ValidateAlgoParent(r)
                         : ExecutionEngine::ValidateRequest(r);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_NE(s.message().find(field), std::string::npos) << s;
  };
  check([](v1::OrderRequest& r) { r.set_algo(v1::EXEC_ALGO_TWAP); }, "order.algo_duration_ms");
  check(
      [](v1::OrderRequest& r) {
        r.set_algo(v1::EXEC_ALGO_TWAP);
        r.set_algo_duration_ms(86'400'001);
      },
      "order.algo_duration_ms");
  check(
      [](v1::OrderRequest& r) {
        r.set_algo(v1::EXEC_ALGO_ICEBERG);
        r.set_display_qty_e8(0);
      },
      "order.display_qty_e8");
  check(
      [](v1::OrderRequest& r) {
        r.set_algo(v1::EXEC_ALGO_ICEBERG);
        r.set_display_qty_e8(2 * E8);  // more than qty
      },
      "order.display_qty_e8");
  check(
      [](v1::OrderRequest& r) {
        r.set_algo(v1::EXEC_ALGO_ICEBERG);
        r.set_display_qty_e8(E8 / 2);
        r.set_type(v1::ORDER_TYPE_MARKET);
        r.set_price_e8(0);
      },
      "order.type");
  check(
      [](v1::OrderRequest& r) {
        r.set_algo(v1::EXEC_ALGO_LIQUIDITY_AWARE);
        r.set_algo_duration_ms(1'000);
      },
      "order.max_impact_bps");
  check(
      [](v1::OrderRequest& r) {
        r.set_algo(v1::EXEC_ALGO_LIQUIDITY_AWARE);
        r.set_algo_duration_ms(1'000);
        r.set_max_impact_bps(10'001);
      },
      "order.max_impact_bps");
  check([](v1::OrderRequest& r) { r.set_display_qty_e8(E8 / 2); }, "order.display_qty_e8");
  check([](v1::OrderRequest& r) { r.set_max_impact_bps(5); }, "order.max_impact_bps");
  check([](v1::OrderRequest& r) { r.set_algo_duration_ms(5); }, "order.algo_duration_ms");
  check(
      [](v1::OrderRequest& r) {
        r.set_algo(v1::EXEC_ALGO_TWAP);
        r.set_algo_duration_ms(1'000);
        r.set_time_in_force(v1::TIME_IN_FORCE_IOC);
      },
      "order.time_in_force");
  check(
      [](v1::OrderRequest& r) {
        r.set_algo(v1::EXEC_ALGO_TWAP);
        r.set_algo_duration_ms(1'000);
        r.set_qty_e8(0);
      },
      "order.qty_e8");
  check(
      [](v1::OrderRequest& r) {
        r.set_algo(v1::EXEC_ALGO_TWAP);
        r.set_algo_duration_ms(1'000);
        r.set_client_order_id(std::string(121, 'c'));
      },
      "order.client_order_id");
  check([](v1::OrderRequest& r) { r.set_algo(static_cast<v1::ExecAlgo>(99)); }, "order.algo");

  // The rest of the request is checked as for an immediate order.
  check(
      [](v1::OrderRequest& r) {
        r.set_algo(v1::EXEC_ALGO_ICEBERG);
        r.set_display_qty_e8(E8 / 2);
        r.set_symbol("BTCUSD");
      },
      "order.symbol");

  v1::OrderRequest ok = base;
  ok.set_algo(v1::EXEC_ALGO_ICEBERG);
  ok.set_display_qty_e8(E8 / 4);
  EXPECT_TRUE(ValidateAlgoParent(ok).ok());
  ok.set_algo_duration_ms(60'000);
  EXPECT_TRUE(ValidateAlgoParent(ok).ok());
  // The engine itself never places a parent as an immediate order.
  EXPECT_EQ(ExecutionEngine::ValidateRequest(ok).code(), absl::StatusCode::kUnimplemented);
  v1::OrderRequest twap = base;
  twap.set_algo(v1::EXEC_ALGO_TWAP);
  twap.set_algo_duration_ms(1'000);
  EXPECT_TRUE(ValidateAlgoParent(twap).ok());
  EXPECT_EQ(ExecutionEngine::ValidateRequest(twap).code(), absl::StatusCode::kUnimplemented);
}

TEST_F(AlgosEngineTest, ListOrdersWithParentsMergesNewestFirstAndPagesBothSources) {
  // Engine orders and parents interleaved in time: e1, ice-a (+ its child), e2, ice-b (+ child).
  auto iceberg = [](const std::string& id) {
    auto r = testing::Req(id, v1::SIDE_BUY, 3 * E8, 98 * E8);
    r.set_algo(v1::EXEC_ALGO_ICEBERG);
    r.set_display_qty_e8(E8);
    return r;
  };
  ASSERT_TRUE(engine_->Submit(testing::Req("e1", v1::SIDE_BUY, E8)).ok());
  ASSERT_TRUE(runner_->Submit(iceberg("ice-a")).ok());
  At(0);
  ASSERT_TRUE(engine_->Submit(testing::Req("e2", v1::SIDE_BUY, E8)).ok());
  ASSERT_TRUE(runner_->Submit(iceberg("ice-b")).ok());
  At(1);
  v1::ListOrdersRequest req;
  auto all = ListOrdersWithParents(*engine_, runner_.get(), req);
  ASSERT_TRUE(all.ok()) << all.status();
  std::vector<std::string> ids;
  for (const auto& o : all->orders()) ids.push_back(o.client_order_id());
  EXPECT_EQ(ids, (std::vector<std::string>{"ice-b/1", "ice-b", "e2", "ice-a/1", "ice-a", "e1"}));
  EXPECT_TRUE(all->next_page_token().empty());
  // Every page size gives the same sequence.
  for (uint32_t limit : {1u, 2u, 4u}) {
    std::vector<std::string> paged;
    req.mutable_page()->set_limit(limit);
    req.mutable_page()->clear_page_token();
    for (int pages = 0; pages < 10; ++pages) {
      auto page = ListOrdersWithParents(*engine_, runner_.get(), req);
      ASSERT_TRUE(page.ok()) << page.status();
      EXPECT_LE(page->orders_size(), static_cast<int>(limit));
      for (const auto& o : page->orders()) paged.push_back(o.client_order_id());
      if (page->next_page_token().empty()) break;
      req.mutable_page()->set_page_token(page->next_page_token());
    }
    EXPECT_EQ(paged, ids) << "limit " << limit;
  }
  // Filters apply to both: the open orders are the two parents and their resting children.
  v1::ListOrdersRequest open;
  open.add_statuses(v1::ORDER_STATUS_ACKED);
  auto acked = ListOrdersWithParents(*engine_, runner_.get(), open);
  ASSERT_TRUE(acked.ok());
  ASSERT_EQ(acked->orders_size(), 4);
  EXPECT_EQ(acked->orders(1).algo(), v1::EXEC_ALGO_ICEBERG);
  EXPECT_EQ(acked->orders(0).parent_order_id(), acked->orders(1).order_id());
  // Engine errors and foreign tokens.
  v1::ListOrdersRequest bad;
  bad.mutable_page()->set_limit(10'001);
  EXPECT_EQ(ListOrdersWithParents(*engine_, runner_.get(), bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad.mutable_page()->set_limit(1);
  bad.mutable_page()->set_page_token("17");
  EXPECT_EQ(ListOrdersWithParents(*engine_, runner_.get(), bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Without a runner the engine's listing is unchanged.
  auto plain = ListOrdersWithParents(*engine_, nullptr, v1::ListOrdersRequest());
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->orders_size(), 4);
}

TEST_F(AlgosEngineTest, ParentEventsShareTheEngineEventPath) {
  std::vector<v1::OrderEvent> seen;
  engine_->SetEventObserver([this, &seen](const v1::OrderEventBatch& b) {
    for (const auto& ev : b.events()) seen.push_back(ev);
    runner_->OnOrderEvents(b);
  });
  auto r = testing::Req("tw", v1::SIDE_BUY, 2 * E8);
  r.set_algo(v1::EXEC_ALGO_TWAP);
  r.set_algo_duration_ms(2'000);
  ASSERT_TRUE(runner_->Submit(r).ok());
  At(0);
  At(kS);
  ASSERT_EQ(Order("tw").status(), v1::ORDER_STATUS_FILLED);
  int parent_events = 0;
  for (size_t i = 0; i < seen.size(); ++i) {
    if (i > 0) {
      EXPECT_EQ(seen[i].seq(), seen[i - 1].seq() + 1);
    }
    if (seen[i].order().client_order_id() == "tw") {
      ++parent_events;
      EXPECT_FALSE(seen[i].has_fill());
      ASSERT_GT(seen[i].trace().hops_size(), 0);  // stamped {execution, emit} like the engine's
    } else {
      EXPECT_EQ(seen[i].order().parent_order_id(), Order("tw").order_id());
    }
  }
  EXPECT_GE(parent_events, 3);  // ACKED, fills, FILLED
  engine_->SetEventObserver(nullptr);
}

TEST_F(AlgosEngineTest, WholeParentPreCheckAppliesMaxPositionAndTheKillSwitch) {
  // max_position is 50: a parent of 60 is refused although each of its children would pass.
  auto twap = testing::Req("big", v1::SIDE_BUY, 60 * E8);
  twap.set_algo(v1::EXEC_ALGO_TWAP);
  twap.set_algo_duration_ms(60'000);
  absl::Status s = engine_->CheckAlgoParent(twap);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "risk:max_position");
  twap.set_qty_e8(50 * E8);
  EXPECT_TRUE(engine_->CheckAlgoParent(twap).ok());
  // Open same-side orders count: a resting buy of 5 leaves room for 45.
  ASSERT_TRUE(engine_->Submit(testing::Req("rest", v1::SIDE_BUY, 5 * E8, 98 * E8)).ok());
  EXPECT_EQ(engine_->CheckAlgoParent(twap).message(), "risk:max_position");
  twap.set_qty_e8(45 * E8);
  EXPECT_TRUE(engine_->CheckAlgoParent(twap).ok());
  v1::SetKillSwitchRequest kill;
  kill.set_engaged(true);
  kill.set_reason("test");
  ASSERT_TRUE(engine_->SetKillSwitch(kill).ok());
  EXPECT_EQ(engine_->CheckAlgoParent(twap).message(), "risk:kill_switch");
}

}  // namespace
}  // namespace tickmesh::execution
