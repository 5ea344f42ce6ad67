// Restart reconciliation with real processes: tickmesh-persistence (SQLite in a temp dir) and
// tickmesh-execution (paper venue on a --paper_static_book) run as child processes. Orders are
// submitted, execution is SIGKILLed once persistence holds them, restarted, and must answer with
// the same open orders and positions — and hand out new ids that collide with none of the old —
// and a strategy at its max_position must still be held there. ReconcileStrategyLedgers checks
// the per-strategy ledger query against an in-process fake persistence.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "order_manager.h"
#include "process_util.h"
#include "reconcile.h"
#include "test_util.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/testing/child_process.h"
#include "tickmesh/testing/servers.h"
#include "tickmesh/v1/execution.grpc.pb.h"
#include "tickmesh/v1/persistence.grpc.pb.h"

namespace tickmesh::execution {
namespace {

using testing::E8;
using testing::Req;
namespace v1 = tickmesh::v1;

using Child = tickmesh::testing::ChildProcess;

using testing::FreshChannel;

// Polls `cond` every 20 ms for up to `timeout` (20 s by default: processes start slowly on a busy
// machine).
template <typename Cond>
bool WaitFor(Cond cond, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  return tickmesh::testing::WaitFor(cond, timeout, std::chrono::milliseconds(20));
}

class RestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tickmesh::testing::MakeTempDir("exec-restart");
    persistence_addr_ = absl::StrCat("127.0.0.1:", tickmesh::testing::FreePort());
    persistence_ = std::make_unique<Child>(std::vector<std::string>{
        TICKMESH_PERSISTENCE_BIN, "--grpc_address=" + persistence_addr_,
        absl::StrCat("--admin_address=127.0.0.1:", tickmesh::testing::FreePort()),
        "--sqlite_path=" + dir_ + "/tickmesh.db", "--spool_dir=" + dir_ + "/spool",
        "--postgres_url=", "--log_level=warn"});
    pstub_ = v1::PersistenceService::NewStub(FreshChannel(persistence_addr_));
  }

  void StartExecution(const std::vector<std::string>& extra_flags = {}) {
    execution_addr_ = absl::StrCat("127.0.0.1:", tickmesh::testing::FreePort());
    std::vector<std::string> argv{
        TICKMESH_EXECUTION_BIN,
        "--grpc_address=" + execution_addr_,
        absl::StrCat("--admin_address=127.0.0.1:", tickmesh::testing::FreePort()),
        "--persistence_address=" + persistence_addr_,
        "--signal_address=",
        "--market_data_address=",
        "--cache_address=",
        absl::StrCat("--paper_static_book=sim:BTC-USD:", 100 * E8, ":", 101 * E8, ":", 50 * E8),
        "--log_level=warn"};
    argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
    execution_ = std::make_unique<Child>(argv);
    // A new channel per attempt: one refused connect would make a channel wait seconds.
    ASSERT_TRUE(WaitFor([&] { return testing::ExecutionAnswers(execution_addr_, &stub_); }))
        << "execution did not start";
  }

  grpc::Status Submit(const v1::OrderRequest& order, v1::Order* out) {
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(5)));
    v1::SubmitOrderRequest req;
    *req.mutable_order() = order;
    v1::SubmitOrderResponse resp;
    grpc::Status s = stub_->Submit(&ctx, req, &resp);
    *out = resp.order();
    return s;
  }

  absl::StatusOr<v1::Order> GetOrder(const std::string& id) {
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(5)));
    v1::GetOrderRequest req;
    req.mutable_ref()->set_order_id(id);
    v1::GetOrderResponse resp;
    grpc::Status s = stub_->GetOrder(&ctx, req, &resp);
    if (!s.ok()) return absl::UnknownError(s.error_message());
    return resp.order();
  }

  v1::Position Position() {
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(5)));
    v1::GetPositionsRequest req;
    req.set_venue("sim");
    req.set_symbol("BTC-USD");
    v1::GetPositionsResponse resp;
    EXPECT_TRUE(stub_->GetPositions(&ctx, req, &resp).ok());
    return resp.positions_size() == 1 ? resp.positions(0) : v1::Position();
  }

  // The order's persisted version (0 when not stored yet).
  uint64_t PersistedVersion(const std::string& order_id) {
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(2)));
    v1::QueryOrdersRequest req;
    req.set_order_id(order_id);
    v1::QueryOrdersResponse resp;
    if (!pstub_->QueryOrders(&ctx, req, &resp).ok() || resp.orders_size() != 1) return 0;
    return resp.orders(0).version();
  }

  int64_t PersistedPositionQty() {
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(2)));
    v1::QueryPositionsResponse resp;
    if (!pstub_->QueryPositions(&ctx, v1::QueryPositionsRequest(), &resp).ok()) return -1;
    for (const auto& p : resp.positions()) {
      if (p.venue() == "sim" && p.symbol() == "BTC-USD") return p.qty_e8();
    }
    return 0;
  }

  // (strategy, sim, BTC-USD) as persistence aggregates it: {net filled qty, fill count};
  // {-1, -1} on error, {0, 0} when it holds no fill of it.
  std::pair<int64_t, int64_t> PersistedStrategy(const std::string& strategy) {
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(2)));
    v1::QueryStrategyPositionsRequest req;
    req.set_strategy(strategy);
    v1::QueryStrategyPositionsResponse resp;
    if (!pstub_->QueryStrategyPositions(&ctx, req, &resp).ok()) return {-1, -1};
    for (const auto& p : resp.positions()) {
      if (p.venue() == "sim" && p.symbol() == "BTC-USD") {
        return {p.net_qty_e8(), static_cast<int64_t>(p.fill_count())};
      }
    }
    return {0, 0};
  }

  v1::OrderRequest StrategyReq(const std::string& client_id, const std::string& strategy,
                               v1::Side side, int64_t qty) {
    v1::OrderRequest r = Req(client_id, side, qty);
    r.set_strategy(strategy);
    return r;
  }

  std::string dir_, persistence_addr_, execution_addr_;
  std::unique_ptr<Child> persistence_, execution_;
  std::unique_ptr<v1::PersistenceService::Stub> pstub_;
  std::unique_ptr<v1::ExecutionService::Stub> stub_;
};

TEST_F(RestartTest, SigkillAndRestartKeepsOpenOrdersAndPositions) {
  ASSERT_NO_FATAL_FAILURE(StartExecution());
  // A filled market buy (position +2), a resting limit buy, a resting limit sell.
  v1::Order market, bid, ask;
  ASSERT_TRUE(Submit(Req("m1", v1::SIDE_BUY, 2 * E8), &market).ok());
  ASSERT_EQ(market.status(), v1::ORDER_STATUS_FILLED);
  ASSERT_TRUE(Submit(Req("l1", v1::SIDE_BUY, 3 * E8, 99 * E8), &bid).ok());
  ASSERT_EQ(bid.status(), v1::ORDER_STATUS_ACKED);
  ASSERT_TRUE(Submit(Req("l2", v1::SIDE_SELL, E8, 105 * E8), &ask).ok());
  ASSERT_EQ(ask.status(), v1::ORDER_STATUS_ACKED);

  // Un-acked outbox records die with the process (documented); wait until they are durable.
  ASSERT_TRUE(WaitFor([&] {
    return PersistedVersion(ask.order_id()) == ask.version() &&
           PersistedVersion(bid.order_id()) == bid.version() && PersistedPositionQty() == 2 * E8;
  })) << "persistence never held the orders and the position";

  const int status = execution_->Kill(SIGKILL);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ASSERT_NO_FATAL_FAILURE(StartExecution());

  for (const v1::Order* o : {&bid, &ask}) {
    auto got = GetOrder(o->order_id());
    ASSERT_TRUE(got.ok()) << o->order_id() << ": " << got.status();
    EXPECT_EQ(got->status(), v1::ORDER_STATUS_ACKED);
    EXPECT_EQ(got->client_order_id(), o->client_order_id());
    EXPECT_EQ(got->qty_e8(), o->qty_e8());
    EXPECT_EQ(got->version(), o->version());
  }
  const v1::Position pos = Position();
  EXPECT_EQ(pos.qty_e8(), 2 * E8);
  EXPECT_EQ(pos.avg_entry_price_e8(), 101 * E8);

  // Idempotency survives the restart for open orders.
  v1::Order dup;
  ASSERT_TRUE(Submit(Req("l1", v1::SIDE_BUY, 3 * E8, 99 * E8), &dup).ok());
  EXPECT_EQ(dup.order_id(), bid.order_id());

  // New ids never collide with ids of the first process.
  v1::Order next;
  ASSERT_TRUE(Submit(Req("m2", v1::SIDE_BUY, E8), &next).ok());
  EXPECT_EQ(next.status(), v1::ORDER_STATUS_FILLED);
  for (const v1::Order* o : {&market, &bid, &ask}) {
    EXPECT_GT(OrderNumber(next.order_id()), OrderNumber(o->order_id()));
  }
  EXPECT_EQ(Position().qty_e8(), 3 * E8);

  // The restored order is live: cancel works and reaches persistence.
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(5)));
    v1::CancelOrderRequest req;
    req.mutable_ref()->set_order_id(bid.order_id());
    v1::CancelOrderResponse resp;
    ASSERT_TRUE(stub_->Cancel(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.order().status(), v1::ORDER_STATUS_CANCELLED);
  }
  EXPECT_TRUE(WaitFor([&] { return PersistedVersion(bid.order_id()) == bid.version() + 1; }));
  EXPECT_TRUE(WaitFor([&] { return PersistedPositionQty() == 3 * E8; }));

  // A second SIGKILL + restart sees the cancel and the new position.
  execution_->Kill(SIGKILL);
  ASSERT_NO_FATAL_FAILURE(StartExecution());
  auto ask_after = GetOrder(ask.order_id());
  ASSERT_TRUE(ask_after.ok());
  EXPECT_EQ(ask_after->status(), v1::ORDER_STATUS_ACKED);
  EXPECT_EQ(Position().qty_e8(), 3 * E8);
}

TEST_F(RestartTest, StrategyAtMaxPositionStaysThereAcrossSigkillAndRestart) {
  // alpha may hold at most 2; the account and every other strategy are unlimited.
  const std::string config = dir_ + "/risk.yaml";
  {
    std::ofstream out(config);
    out << "strategies:\n  alpha:\n    max_position_e8: " << 2 * E8 << "\n";
  }
  const std::vector<std::string> flags = {"--risk_config=" + config};
  ASSERT_NO_FATAL_FAILURE(StartExecution(flags));
  v1::Order o;
  ASSERT_TRUE(Submit(StrategyReq("a1", "alpha", v1::SIDE_BUY, E8), &o).ok());
  ASSERT_EQ(o.status(), v1::ORDER_STATUS_FILLED);
  ASSERT_TRUE(Submit(StrategyReq("a2", "alpha", v1::SIDE_BUY, E8), &o).ok());
  ASSERT_EQ(o.status(), v1::ORDER_STATUS_FILLED);
  grpc::Status over = Submit(StrategyReq("a3", "alpha", v1::SIDE_BUY, E8), &o);
  ASSERT_EQ(over.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_EQ(over.error_message(), "risk:max_position");
  // Another strategy adds 1 to the account (3 in all), not to alpha.
  ASSERT_TRUE(Submit(StrategyReq("b1", "beta", v1::SIDE_BUY, E8), &o).ok());
  ASSERT_TRUE(WaitFor([&] {
    return PersistedStrategy("alpha").first == 2 * E8 && PersistedPositionQty() == 3 * E8;
  })) << "persistence never held alpha's fills";

  const int status = execution_->Kill(SIGKILL);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ASSERT_NO_FATAL_FAILURE(StartExecution(flags));

  // alpha is still at its limit: one more is refused by alpha's own max_position (the account
  // has none), while beta may still buy and alpha may reduce.
  grpc::Status again = Submit(StrategyReq("a4", "alpha", v1::SIDE_BUY, E8), &o);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(again.error_message(), "risk:max_position");
  EXPECT_TRUE(Submit(StrategyReq("b2", "beta", v1::SIDE_BUY, E8), &o).ok());
  ASSERT_TRUE(Submit(StrategyReq("a5", "alpha", v1::SIDE_SELL, E8), &o).ok());
  EXPECT_EQ(o.status(), v1::ORDER_STATUS_FILLED);
  // Back at 1: one more fits, a second does not.
  EXPECT_TRUE(Submit(StrategyReq("a6", "alpha", v1::SIDE_BUY, E8), &o).ok());
  EXPECT_EQ(Submit(StrategyReq("a7", "alpha", v1::SIDE_BUY, E8), &o).error_message(),
            "risk:max_position");
}

TEST_F(RestartTest, StrategyDailyLossTakenTodayStillCountsAfterSigkillAndRestart) {
  // alpha may lose at most 2 a day. The trading day starts 12 hours from now, so the test never
  // straddles it.
  const int hour = static_cast<int>((absl::ToUnixSeconds(absl::Now()) / 3600 + 12) % 24);
  const std::string config = dir_ + "/risk.yaml";
  {
    std::ofstream out(config);
    out << "day_reset_hour_utc: " << hour
        << "\nstrategies:\n  alpha:\n    max_daily_loss_e8: " << 2 * E8 << "\n";
  }
  const std::vector<std::string> flags = {"--risk_config=" + config};
  ASSERT_NO_FATAL_FAILURE(StartExecution(flags));
  // Three round trips across the 100 / 101 book: -1 realised each, -3 in all.
  v1::Order o;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Submit(StrategyReq(absl::StrCat("b", i), "alpha", v1::SIDE_BUY, E8), &o).ok()) << i;
    ASSERT_EQ(o.status(), v1::ORDER_STATUS_FILLED);
    ASSERT_TRUE(Submit(StrategyReq(absl::StrCat("s", i), "alpha", v1::SIDE_SELL, E8), &o).ok());
    ASSERT_EQ(o.status(), v1::ORDER_STATUS_FILLED);
  }
  ASSERT_EQ(Submit(StrategyReq("b3", "alpha", v1::SIDE_BUY, E8), &o).error_message(),
            "risk:max_daily_loss");
  ASSERT_TRUE(WaitFor([&] { return PersistedStrategy("alpha").second == 6; }))
      << "persistence never held alpha's fills";

  const int status = execution_->Kill(SIGKILL);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ASSERT_NO_FATAL_FAILURE(StartExecution(flags));

  // Today's -3 is rebuilt from the persisted fills: alpha stays blocked, beta does not.
  EXPECT_EQ(Submit(StrategyReq("b4", "alpha", v1::SIDE_BUY, E8), &o).error_message(),
            "risk:max_daily_loss");
  EXPECT_TRUE(Submit(StrategyReq("x1", "beta", v1::SIDE_BUY, E8), &o).ok());
}

// An in-process PersistenceService with no state; QueryStrategyPositions is answered only when
// `strategy_rpc` (else UNIMPLEMENTED, as an older persistence would).
class FakePersistence final : public v1::PersistenceService::Service {
 public:
  explicit FakePersistence(bool strategy_rpc) : strategy_rpc_(strategy_rpc) {}
  grpc::Status QueryOrders(grpc::ServerContext*, const v1::QueryOrdersRequest*,
                           v1::QueryOrdersResponse*) override {
    return grpc::Status::OK;
  }
  grpc::Status QueryPositions(grpc::ServerContext*, const v1::QueryPositionsRequest*,
                              v1::QueryPositionsResponse*) override {
    return grpc::Status::OK;
  }
  grpc::Status QueryBalances(grpc::ServerContext*, const v1::QueryBalancesRequest*,
                             v1::QueryBalancesResponse*) override {
    return grpc::Status::OK;
  }
  grpc::Status QueryStrategyPositions(grpc::ServerContext*,
                                      const v1::QueryStrategyPositionsRequest* req,
                                      v1::QueryStrategyPositionsResponse* resp) override {
    if (!strategy_rpc_) return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no such method");
    from_unix_ns = req->time().from_unix_ns();
    v1::StrategyPosition* p = resp->add_positions();
    p->set_strategy("alpha");
    p->set_venue("sim");
    p->set_symbol("BTC-USD");
    p->set_net_qty_e8(2 * E8);
    p->set_opening_qty_e8(E8);
    p->set_realized_pnl_e8(-3 * E8);
    p->set_avg_entry_price_e8(100 * E8);
    return grpc::Status::OK;
  }
  std::atomic<int64_t> from_unix_ns{0};

 private:
  bool strategy_rpc_;
};

absl::StatusOr<PersistedState> LoadFrom(FakePersistence* fake, int64_t now_unix_ns) {
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(fake);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ReconcileOptions ro;
  ro.persistence_address = absl::StrCat("127.0.0.1:", port);
  ro.timeout = absl::Seconds(10);
  ro.strategy_ledgers = true;
  ro.risk_day_reset_hour_utc = 3;
  ro.now_unix_ns = now_unix_ns;
  auto state = LoadPersistedState(ro);
  server->Shutdown();
  return state;
}

constexpr int64_t kHourNs = 3'600'000'000'000;

TEST(ReconcileStrategyLedgers, ReadsEachStrategysPositionAndTheCurrentTradingDaysFills) {
  FakePersistence fake(true);
  // Day 20000 (days start 03:00 UTC), 05:00: the range starts at 03:00 that day.
  auto state = LoadFrom(&fake, 20000 * 24 * kHourNs + 5 * kHourNs);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(fake.from_unix_ns.load(), 20000 * 24 * kHourNs + 3 * kHourNs);
  ASSERT_TRUE(state->strategy_ledgers.has_value());
  EXPECT_EQ(state->strategy_ledgers->trading_day, 20000);
  ASSERT_EQ(state->strategy_ledgers->seeds.size(), 1u);
  const StrategyLedgerSeed& seed = state->strategy_ledgers->seeds[0];
  EXPECT_EQ(seed.strategy, "alpha");
  EXPECT_EQ(seed.net_qty_e8, 2 * E8);
  EXPECT_EQ(seed.opening_qty_e8, E8);
  EXPECT_EQ(seed.day_realized_pnl_e8, -3 * E8);
  EXPECT_EQ(seed.day_avg_entry_price_e8, 100 * E8);
  // 02:00 still belongs to the day before.
  FakePersistence early(true);
  state = LoadFrom(&early, 20000 * 24 * kHourNs + 2 * kHourNs);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(early.from_unix_ns.load(), 19999 * 24 * kHourNs + 3 * kHourNs);
}

TEST(ReconcileStrategyLedgers, PersistenceWithoutTheQueryLeavesStrategyLedgersAfresh) {
  FakePersistence fake(false);
  auto state = LoadFrom(&fake, 20000 * 24 * kHourNs);
  ASSERT_TRUE(state.ok()) << state.status();  // start-up goes on
  EXPECT_FALSE(state->strategy_ledgers.has_value());
  EXPECT_NE(state->strategy_ledgers_error.find("UNIMPLEMENTED"), std::string::npos)
      << state->strategy_ledgers_error;
}

TEST_F(RestartTest, TwapParentSurvivesSigkillAndCompletesItsQuantity) {
  ASSERT_NO_FATAL_FAILURE(StartExecution());
  // 4 BTC over 6 s: a child per second (the first at once), each a MARKET buy. The margin lets
  // a slow restart on a loaded machine still find time left (else the parent would expire).
  v1::OrderRequest twap = Req("twap-r", v1::SIDE_BUY, 4 * E8);
  twap.set_algo(v1::EXEC_ALGO_TWAP);
  twap.set_algo_duration_ms(6'000);
  v1::Order parent;
  ASSERT_TRUE(Submit(twap, &parent).ok());
  ASSERT_EQ(parent.status(), v1::ORDER_STATUS_ACKED);
  const std::string parent_id = parent.order_id();

  // Kill once persistence holds the parent part-filled by its first child.
  auto persisted = [&]() -> v1::Order {
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(2)));
    v1::QueryOrdersRequest req;
    req.set_order_id(parent_id);
    v1::QueryOrdersResponse resp;
    if (!pstub_->QueryOrders(&ctx, req, &resp).ok() || resp.orders_size() != 1) return {};
    return resp.orders(0);
  };
  ASSERT_TRUE(WaitFor([&] { return persisted().filled_qty_e8() > 0; }))
      << "persistence never held the part-filled parent";
  const v1::Order before = persisted();
  ASSERT_LT(before.filled_qty_e8(), 4 * E8);
  EXPECT_EQ(before.algo_duration_ms(), 6'000u);
  const int status = execution_->Kill(SIGKILL);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ASSERT_NO_FATAL_FAILURE(StartExecution());

  // The restarted process knows the parent (same id, algorithm, quantity) and lists it.
  auto restored = GetOrder(parent_id);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->client_order_id(), "twap-r");
  EXPECT_EQ(restored->algo(), v1::EXEC_ALGO_TWAP);
  EXPECT_EQ(restored->qty_e8(), 4 * E8);
  EXPECT_GE(restored->filled_qty_e8(), before.filled_qty_e8());
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(5)));
    v1::ListOrdersRequest req;
    v1::ListOrdersResponse resp;
    ASSERT_TRUE(stub_->ListOrders(&ctx, req, &resp).ok());
    bool listed = false;
    for (const auto& o : resp.orders()) listed = listed || o.order_id() == parent_id;
    EXPECT_TRUE(listed);
  }
  // Resubmitting the parent is still idempotent.
  v1::Order dup;
  ASSERT_TRUE(Submit(twap, &dup).ok());
  EXPECT_EQ(dup.order_id(), parent_id);

  // It completes with exactly its quantity: the children of both processes add up to 4 BTC.
  ASSERT_TRUE(WaitFor([&] {
    auto o = GetOrder(parent_id);
    return o.ok() && o->status() == v1::ORDER_STATUS_FILLED;
  })) << "the restored TWAP never completed";
  auto done = GetOrder(parent_id);
  EXPECT_EQ(done->filled_qty_e8(), 4 * E8);
  EXPECT_EQ(done->avg_fill_price_e8(), 101 * E8);
  EXPECT_EQ(Position().qty_e8(), 4 * E8);
  EXPECT_TRUE(WaitFor([&] { return persisted().status() == v1::ORDER_STATUS_FILLED; }));
  grpc::ClientContext ctx;
  ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(5)));
  v1::QueryOrdersRequest req;
  req.set_venue("sim");
  req.set_symbol("BTC-USD");
  v1::QueryOrdersResponse resp;
  ASSERT_TRUE(pstub_->QueryOrders(&ctx, req, &resp).ok());
  int64_t children_filled = 0;
  std::set<std::string> child_ids;
  for (const auto& o : resp.orders()) {
    if (o.parent_order_id() != parent_id) continue;
    children_filled += o.filled_qty_e8();
    EXPECT_TRUE(child_ids.insert(o.client_order_id()).second) << o.client_order_id();
  }
  EXPECT_EQ(children_filled, 4 * E8);
  EXPECT_GE(child_ids.size(), 2u);  // children from before and after the restart
}

TEST_F(RestartTest, ExitsWhenPersistenceNeverAnswers) {
  persistence_->Kill(SIGKILL);
  Child exec(std::vector<std::string>{
      TICKMESH_EXECUTION_BIN,
      absl::StrCat("--grpc_address=127.0.0.1:", tickmesh::testing::FreePort()),
      absl::StrCat("--admin_address=127.0.0.1:", tickmesh::testing::FreePort()),
      "--persistence_address=" + persistence_addr_, "--signal_address=", "--market_data_address=",
      "--cache_address=", "--reconcile_timeout_ms=500", "--log_level=error"});
  ASSERT_TRUE(WaitFor([&] { return !exec.running(); }, std::chrono::seconds(15)));
  const int status = exec.exit_status().value_or(-1);
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 1);
}

}  // namespace
}  // namespace tickmesh::execution
