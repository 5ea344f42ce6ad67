// One suite, both backends: the unit binary runs it on SQLite, the integration binary on a real
// PostgreSQL (initdb in a temp dir, loopback port, a fresh database per test).
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "postgres_store.h"
#include "queries.h"
#include "sqlite_store.h"
#include "test_records.h"
#ifdef TICKMESH_WITH_POSTGRES
#include "tickmesh/testing/servers.h"
#endif

namespace tickmesh::persistence {
namespace {

using namespace tickmesh::persistence::testing;  // NOLINT

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
#ifdef TICKMESH_WITH_POSTGRES
  static void SetUpTestSuite() {
    pg_ = new tickmesh::testing::PostgresServer();
    absl::Status st = pg_->Start();
    ASSERT_TRUE(st.ok()) << st;
  }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }
  static tickmesh::testing::PostgresServer* pg_;
#endif

  void SetUp() override {
    static std::atomic<int> counter{0};
    [[maybe_unused]] const int n = counter++;
    if (GetParam() == "sqlite") {
      char tmpl[] = "/tmp/tickmesh-store-test-XXXXXX";
      ASSERT_NE(mkdtemp(tmpl), nullptr);
      dir_ = tmpl;
      factory_ = SqliteStoreFactory(dir_ + "/test.db");
    } else {
#ifdef TICKMESH_WITH_POSTGRES
      ASSERT_NE(pg_, nullptr);
      const std::string db = "t" + std::to_string(getpid()) + "_" + std::to_string(n);
      pg_->Psql("CREATE DATABASE " + db);
      factory_ = PostgresStoreFactory(
          "postgresql://postgres@127.0.0.1:" + std::to_string(pg_->port()) + "/" + db);
#endif
    }
    store_ = factory_();
    absl::Status st = store_->Connect();
    ASSERT_TRUE(st.ok()) << st;
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  absl::Status Write(const std::vector<v1::Record>& records) {
    std::vector<const v1::Record*> ptrs;
    for (const auto& r : records) ptrs.push_back(&r);
    return store_->Write(ptrs);
  }
  int64_t Count(const std::string& table) {
    auto rows = store_->Query({"count", "SELECT COUNT(*) FROM " + table, {}});
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? std::get<int64_t>((*rows)[0][0]) : -1;
  }

  std::string dir_;
  StoreFactory factory_;
  std::unique_ptr<Store> store_;
};

#ifdef TICKMESH_WITH_POSTGRES
tickmesh::testing::PostgresServer* StoreTest::pg_ = nullptr;
#endif

TEST_P(StoreTest, MigrationsAreAppliedOnceAndIdempotent) {
  auto other = factory_();
  ASSERT_TRUE(other->Connect().ok());
  auto rows = store_->Query({"m", "SELECT version FROM schema_migrations ORDER BY version", {}});
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(std::get<int64_t>((*rows)[0][0]), 1);
  EXPECT_EQ(std::get<int64_t>((*rows)[1][0]), 2);
}

TEST_P(StoreTest, ResubmittedRecordsAreStoredOnce) {
  std::vector<v1::Record> batch = {
      FillRecord("f1", "o1", "BTC-USD", v1::SIDE_BUY, 100 * kE8, kE8, kT0),
      FillRecord("f2", "o1", "BTC-USD", v1::SIDE_BUY, 101 * kE8, kE8, kT0 + 1),
      SignalRecord("s1", "BTC-USD", "macd", kT0),
      PositionRecord("BTC-USD", kE8, kT0),
      BalanceRecord("USD", 5 * kE8, kT0),
  };
  ASSERT_TRUE(Write(batch).ok());
  ASSERT_TRUE(Write(batch).ok());
  // The same id twice inside one batch is also stored once.
  ASSERT_TRUE(Write({batch[0], batch[0]}).ok());
  EXPECT_EQ(Count("fills"), 2);
  EXPECT_EQ(Count("signals"), 1);
  EXPECT_EQ(Count("positions"), 1);
  EXPECT_EQ(Count("balances"), 1);
}

TEST_P(StoreTest, StoresExactFixedPointMoneyAndTheWholeProto) {
  const int64_t big = INT64_MAX - 7;
  auto fill = FillRecord("f-big", "o1", "BTC-USD", v1::SIDE_SELL, big, big - 1, kT0, -123);
  fill.mutable_fill()->mutable_trace()->add_hops()->set_service("execution");
  ASSERT_TRUE(Write({fill}).ok());
  auto rows = store_->Query(
      {"raw", "SELECT price_e8, qty_e8, fee_e8 FROM fills WHERE fill_id = $1", {"f-big"}});
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(std::get<int64_t>((*rows)[0][0]), big);
  EXPECT_EQ(std::get<int64_t>((*rows)[0][1]), big - 1);
  EXPECT_EQ(std::get<int64_t>((*rows)[0][2]), -123);
  v1::QueryFillsRequest req;
  req.set_order_id("o1");
  auto resp = QueryFills(*store_, req);
  ASSERT_TRUE(resp.ok()) << resp.status();
  ASSERT_EQ(resp->fills_size(), 1);
  EXPECT_EQ(resp->fills(0).SerializeAsString(), fill.fill().SerializeAsString());
}

TEST_P(StoreTest, OrdersKeepTheHighestVersion) {
  ASSERT_TRUE(Write({OrderRecord("o1", "BTC-USD", v1::ORDER_STATUS_ACKED, 2, kT0)}).ok());
  ASSERT_TRUE(Write({OrderRecord("o1", "BTC-USD", v1::ORDER_STATUS_NEW, 1, kT0)}).ok());
  v1::QueryOrdersRequest req;
  req.set_order_id("o1");
  auto resp = QueryOrders(*store_, req);
  ASSERT_TRUE(resp.ok()) << resp.status();
  ASSERT_EQ(resp->orders_size(), 1);
  EXPECT_EQ(resp->orders(0).version(), 2u);
  // Several versions in one batch: the highest wins regardless of order in the batch.
  ASSERT_TRUE(Write({OrderRecord("o1", "BTC-USD", v1::ORDER_STATUS_FILLED, 4, kT0),
                     OrderRecord("o1", "BTC-USD", v1::ORDER_STATUS_PARTIALLY_FILLED, 3, kT0)})
                  .ok());
  resp = QueryOrders(*store_, req);
  ASSERT_TRUE(resp.ok());
  ASSERT_EQ(resp->orders_size(), 1);
  EXPECT_EQ(resp->orders(0).version(), 4u);
  EXPECT_EQ(resp->orders(0).status(), v1::ORDER_STATUS_FILLED);
  EXPECT_EQ(Count("orders"), 1);
}

TEST_P(StoreTest, QueriesOrdersByClientIdSymbolStatusAndTime) {
  ASSERT_TRUE(Write({OrderRecord("o1", "BTC-USD", v1::ORDER_STATUS_NEW, 1, kT0, "alpha"),
                     OrderRecord("o2", "ETH-USD", v1::ORDER_STATUS_FILLED, 1, kT0 + 10),
                     OrderRecord("o3", "BTC-USD", v1::ORDER_STATUS_FILLED, 1, kT0 + 20),
                     OrderRecord("o4", "BTC-USD", v1::ORDER_STATUS_CANCELLED, 1, kT0 + 30)})
                  .ok());
  v1::QueryOrdersRequest by_client;
  by_client.set_client_order_id("alpha");
  auto r = QueryOrders(*store_, by_client);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->orders_size(), 1);
  EXPECT_EQ(r->orders(0).order_id(), "o1");

  v1::QueryOrdersRequest filled_btc;
  filled_btc.set_symbol("BTC-USD");
  filled_btc.add_statuses(v1::ORDER_STATUS_FILLED);
  filled_btc.add_statuses(v1::ORDER_STATUS_CANCELLED);
  r = QueryOrders(*store_, filled_btc);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->orders_size(), 2);
  EXPECT_EQ(r->orders(0).order_id(), "o3");
  EXPECT_EQ(r->orders(1).order_id(), "o4");

  v1::QueryOrdersRequest window;
  window.mutable_created()->set_from_unix_ns(kT0 + 10);
  window.mutable_created()->set_to_unix_ns(kT0 + 30);  // exclusive
  r = QueryOrders(*store_, window);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->orders_size(), 2);
  EXPECT_EQ(r->orders(0).order_id(), "o2");
  EXPECT_EQ(r->orders(1).order_id(), "o3");
}

TEST_P(StoreTest, PaginatesFillsWithKeysetTokensWithoutGapsOrRepeats) {
  std::vector<v1::Record> batch;
  for (int i = 0; i < 250; ++i) {
    // Pairs share a timestamp so the id tie-break is exercised.
    batch.push_back(FillRecord("f" + std::to_string(1000 + i), "o1", "BTC-USD", v1::SIDE_BUY, kE8,
                               kE8, kT0 + i / 2));
  }
  ASSERT_TRUE(Write(batch).ok());
  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  int64_t last_ts = 0;
  do {
    v1::QueryFillsRequest req;
    req.set_symbol("BTC-USD");
    req.mutable_page()->set_limit(100);
    req.mutable_page()->set_page_token(token);
    auto r = QueryFills(*store_, req);
    ASSERT_TRUE(r.ok()) << r.status();
    for (const auto& f : r->fills()) {
      EXPECT_TRUE(seen.insert(f.fill_id()).second) << "repeated " << f.fill_id();
      EXPECT_GE(f.unix_ns(), last_ts);
      last_ts = f.unix_ns();
    }
    token = r->next_page_token();
    ++pages;
    ASSERT_LE(pages, 10);
  } while (!token.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), 250u);
}

TEST_P(StoreTest, RejectsLimitAboveMaximumAndForeignTokens) {
  v1::QueryFillsRequest req;
  req.mutable_page()->set_limit(kMaxPageLimit + 1);
  auto r = QueryFills(*store_, req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("page.limit"), absl::string_view::npos);

  v1::QueryFillsRequest garbage;
  garbage.mutable_page()->set_page_token("!!not-base64!!");
  EXPECT_EQ(QueryFills(*store_, garbage).status().code(), absl::StatusCode::kInvalidArgument);

  // A token from the orders query is not accepted by the fills query.
  std::vector<v1::Record> orders;
  for (int i = 0; i < 3; ++i) {
    orders.push_back(OrderRecord("o" + std::to_string(i), "X", v1::ORDER_STATUS_NEW, 1, kT0 + i));
  }
  ASSERT_TRUE(Write(orders).ok());
  v1::QueryOrdersRequest oq;
  oq.mutable_page()->set_limit(1);
  auto o = QueryOrders(*store_, oq);
  ASSERT_TRUE(o.ok());
  ASSERT_FALSE(o->next_page_token().empty());
  v1::QueryFillsRequest foreign;
  foreign.mutable_page()->set_page_token(o->next_page_token());
  EXPECT_EQ(QueryFills(*store_, foreign).status().code(), absl::StatusCode::kInvalidArgument);

  v1::QueryFillsRequest backwards;
  backwards.mutable_time()->set_from_unix_ns(10);
  backwards.mutable_time()->set_to_unix_ns(5);
  EXPECT_EQ(QueryFills(*store_, backwards).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(StoreTest, ReturnsLatestPositionAndBalancePerKey) {
  ASSERT_TRUE(
      Write({PositionRecord("BTC-USD", 1 * kE8, kT0), PositionRecord("BTC-USD", 3 * kE8, kT0 + 2),
             PositionRecord("BTC-USD", 2 * kE8, kT0 + 1), PositionRecord("ETH-USD", -5 * kE8, kT0),
             BalanceRecord("USD", 10, kT0), BalanceRecord("USD", 7, kT0 + 5),
             BalanceRecord("BTC", 1, kT0)})
          .ok());
  auto p = QueryPositions(*store_, v1::QueryPositionsRequest());
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->positions_size(), 2);
  EXPECT_EQ(p->positions(0).symbol(), "BTC-USD");
  EXPECT_EQ(p->positions(0).qty_e8(), 3 * kE8);
  EXPECT_EQ(p->positions(1).qty_e8(), -5 * kE8);
  v1::QueryPositionsRequest eth;
  eth.set_symbol("ETH-USD");
  p = QueryPositions(*store_, eth);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->positions_size(), 1);

  auto b = QueryBalances(*store_, v1::QueryBalancesRequest());
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(b->balances_size(), 2);
  EXPECT_EQ(b->balances(0).asset(), "BTC");
  EXPECT_EQ(b->balances(1).asset(), "USD");
  EXPECT_EQ(b->balances(1).total_e8(), 7);
}

TEST_P(StoreTest, OpenCandleIsReplacedAndClosedCandleIsFinal) {
  ASSERT_TRUE(Write({CandleRecord("BTC-USD", kT0, 3, false, 101 * kE8)}).ok());
  ASSERT_TRUE(Write({CandleRecord("BTC-USD", kT0, 2, false, 99 * kE8)}).ok());   // older: ignored
  ASSERT_TRUE(Write({CandleRecord("BTC-USD", kT0, 5, true, 105 * kE8)}).ok());   // closes
  ASSERT_TRUE(Write({CandleRecord("BTC-USD", kT0, 9, false, 110 * kE8)}).ok());  // too late
  ASSERT_TRUE(Write({CandleRecord("BTC-USD", kT0 + 60 * 1000000000LL, 1, false, 106 * kE8),
                     CandleRecord("ETH-USD", kT0, 1, false, 100 * kE8)})
                  .ok());
  v1::QueryCandlesRequest req;
  req.set_symbol("BTC-USD");
  req.set_interval_s(60);
  auto r = QueryCandles(*store_, req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->candles_size(), 2);
  EXPECT_EQ(r->candles(0).close_e8(), 105 * kE8);
  EXPECT_TRUE(r->candles(0).closed());
  EXPECT_EQ(r->candles(0).trade_count(), 5u);
  // Paging across all candles, one per page.
  v1::QueryCandlesRequest all;
  all.mutable_page()->set_limit(1);
  int n = 0;
  do {
    auto page = QueryCandles(*store_, all);
    ASSERT_TRUE(page.ok()) << page.status();
    n += page->candles_size();
    all.mutable_page()->set_page_token(page->next_page_token());
    ASSERT_LE(n, 5);
  } while (!all.page().page_token().empty());
  EXPECT_EQ(n, 3);
}

TEST_P(StoreTest, QueriesSignalsByStrategyAndTime) {
  ASSERT_TRUE(Write({SignalRecord("s1", "BTC-USD", "macd", kT0),
                     SignalRecord("s2", "BTC-USD", "rsi", kT0 + 1),
                     SignalRecord("s3", "ETH-USD", "macd", kT0 + 2)})
                  .ok());
  v1::QuerySignalsRequest req;
  req.set_strategy("macd");
  auto r = QuerySignals(*store_, req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->signals_size(), 2);
  EXPECT_EQ(r->signals(0).signal_id(), "s1");
  EXPECT_DOUBLE_EQ(r->signals(0).strength(), 0.5);
  req.mutable_time()->set_from_unix_ns(kT0 + 1);
  r = QuerySignals(*store_, req);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->signals_size(), 1);
  EXPECT_EQ(r->signals(0).signal_id(), "s3");
}

TEST_P(StoreTest, ComputesRealisedPnlPerSymbol) {
  ASSERT_TRUE(
      Write({FillRecord("f1", "o1", "BTC-USD", v1::SIDE_BUY, 100 * kE8, 2 * kE8, kT0, 5),
             FillRecord("f2", "o2", "BTC-USD", v1::SIDE_SELL, 110 * kE8, 1 * kE8, kT0 + 1, 5),
             FillRecord("f3", "o3", "ETH-USD", v1::SIDE_SELL, 50 * kE8, 1 * kE8, kT0),
             FillRecord("f4", "o4", "ETH-USD", v1::SIDE_BUY, 40 * kE8, 1 * kE8, kT0 + 1)})
          .ok());
  auto r = QueryPnl(*store_, v1::QueryPnlRequest());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->symbols_size(), 2);
  EXPECT_EQ(r->symbols(0).symbol(), "BTC-USD");
  EXPECT_EQ(r->symbols(0).realized_pnl_e8(), 10 * kE8);
  EXPECT_EQ(r->symbols(0).fees_e8(), 10);
  EXPECT_EQ(r->symbols(0).fill_count(), 2u);
  EXPECT_EQ(r->symbols(1).symbol(), "ETH-USD");
  EXPECT_EQ(r->symbols(1).realized_pnl_e8(), 10 * kE8);
}

TEST_P(StoreTest, PnlWalksMoreFillsThanOneChunk) {
  std::vector<v1::Record> batch;
  for (int i = 0; i < 6000; ++i) {
    batch.push_back(FillRecord("f" + std::to_string(i), "o", "BTC-USD",
                               i % 2 == 0 ? v1::SIDE_BUY : v1::SIDE_SELL,
                               (i % 2 == 0 ? 100 : 101) * kE8, kE8, kT0 + i));
  }
  ASSERT_TRUE(Write(batch).ok());
  v1::QueryPnlRequest req;
  req.set_symbol("BTC-USD");
  auto r = QueryPnl(*store_, req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->symbols_size(), 1);
  EXPECT_EQ(r->symbols(0).fill_count(), 6000u);
  EXPECT_EQ(r->symbols(0).realized_pnl_e8(), 3000 * kE8);
}

v1::Record StrategyOrder(const std::string& order_id, const std::string& strategy,
                         const std::string& symbol) {
  v1::Record r = OrderRecord(order_id, symbol, v1::ORDER_STATUS_FILLED, 1, kT0);
  r.mutable_order()->set_strategy(strategy);
  return r;
}

TEST_P(StoreTest, StrategyPositionsNetFillsByTheirOrdersStrategy) {
  const int64_t day = kT0 + 100;  // range start: fills before it are the opening position
  ASSERT_TRUE(
      Write({StrategyOrder("oa1", "alpha", "BTC-USD"), StrategyOrder("oa2", "alpha", "ETH-USD"),
             StrategyOrder("ob1", "beta", "BTC-USD"),
             // alpha BTC: long 2 carried in, +1 @130, -3 @120 today: flat.
             FillRecord("f1", "oa1", "BTC-USD", v1::SIDE_BUY, 100 * kE8, 2 * kE8, kT0),
             FillRecord("f2", "oa1", "BTC-USD", v1::SIDE_BUY, 130 * kE8, kE8, day, 3),
             FillRecord("f3", "oa1", "BTC-USD", v1::SIDE_SELL, 120 * kE8, 3 * kE8, day + 1, 4),
             // alpha ETH, all today: +2 @10, +2 @20, -1 @30: long 3 @15, +15 realised.
             FillRecord("f4", "oa2", "ETH-USD", v1::SIDE_BUY, 10 * kE8, 2 * kE8, day + 2),
             FillRecord("f5", "oa2", "ETH-USD", v1::SIDE_BUY, 20 * kE8, 2 * kE8, day + 3),
             FillRecord("f6", "oa2", "ETH-USD", v1::SIDE_SELL, 30 * kE8, kE8, day + 4),
             // beta BTC: short 1 carried in, nothing today.
             FillRecord("f7", "ob1", "BTC-USD", v1::SIDE_SELL, 100 * kE8, kE8, kT0 + 1),
             // A fill whose order is not stored counts under strategy "".
             FillRecord("f8", "o-unknown", "BTC-USD", v1::SIDE_BUY, 100 * kE8, kE8, day)})
          .ok());
  v1::QueryStrategyPositionsRequest req;
  req.mutable_time()->set_from_unix_ns(day);
  auto r = QueryStrategyPositions(*store_, req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->positions_size(), 4);
  const v1::StrategyPosition& unknown = r->positions(0);
  EXPECT_EQ(unknown.strategy(), "");
  EXPECT_EQ(unknown.net_qty_e8(), kE8);
  const v1::StrategyPosition& ab = r->positions(1);
  EXPECT_EQ(ab.strategy(), "alpha");
  EXPECT_EQ(ab.symbol(), "BTC-USD");
  EXPECT_EQ(ab.venue(), "sim");
  EXPECT_EQ(ab.net_qty_e8(), 0);  // listed although flat
  EXPECT_EQ(ab.opening_qty_e8(), 2 * kE8);
  EXPECT_EQ(ab.bought_qty_e8(), kE8);
  EXPECT_EQ(ab.sold_qty_e8(), 3 * kE8);
  EXPECT_EQ(ab.fees_e8(), 7);
  EXPECT_EQ(ab.fill_count(), 2u);
  // Walked from flat: +1 @130 then -3 @120 realises -10 and leaves short 2 @120.
  EXPECT_EQ(ab.realized_pnl_e8(), -10 * kE8);
  EXPECT_EQ(ab.avg_entry_price_e8(), 120 * kE8);
  const v1::StrategyPosition& ae = r->positions(2);
  EXPECT_EQ(ae.symbol(), "ETH-USD");
  EXPECT_EQ(ae.net_qty_e8(), 3 * kE8);
  EXPECT_EQ(ae.opening_qty_e8(), 0);
  EXPECT_EQ(ae.realized_pnl_e8(), 15 * kE8);
  EXPECT_EQ(ae.avg_entry_price_e8(), 15 * kE8);
  EXPECT_EQ(ae.fill_count(), 3u);
  const v1::StrategyPosition& bb = r->positions(3);
  EXPECT_EQ(bb.strategy(), "beta");
  EXPECT_EQ(bb.net_qty_e8(), -kE8);
  EXPECT_EQ(bb.opening_qty_e8(), -kE8);
  EXPECT_EQ(bb.fill_count(), 0u);
  EXPECT_EQ(bb.realized_pnl_e8(), 0);

  // Filters: one strategy; the range end bounds the net quantity too.
  req.set_strategy("alpha");
  req.set_symbol("ETH-USD");
  req.mutable_time()->set_to_unix_ns(day + 4);
  r = QueryStrategyPositions(*store_, req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->positions_size(), 1);
  EXPECT_EQ(r->positions(0).net_qty_e8(), 4 * kE8);
  EXPECT_EQ(r->positions(0).fill_count(), 2u);
  EXPECT_EQ(r->positions(0).realized_pnl_e8(), 0);

  req.mutable_time()->set_to_unix_ns(day - 1);
  req.mutable_time()->set_from_unix_ns(day);
  EXPECT_EQ(QueryStrategyPositions(*store_, req).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(StoreTest, StrategyPnlWalksMoreFillsThanOneChunkWithoutSkippingTies) {
  ASSERT_TRUE(
      Write({StrategyOrder("oa", "alpha", "BTC-USD"), StrategyOrder("ob", "beta", "BTC-USD")})
          .ok());
  std::vector<v1::Record> batch;
  for (int i = 0; i < 6000; ++i) {
    // Two fills share each timestamp (one per strategy), so the 5000-row chunk boundary splits
    // a tie; each strategy alternates buy @100 / sell @101.
    const int k = i / 2;
    char id[16];
    std::snprintf(id, sizeof(id), "f%05d", i);
    batch.push_back(FillRecord(id, i % 2 == 0 ? "oa" : "ob", "BTC-USD",
                               k % 2 == 0 ? v1::SIDE_BUY : v1::SIDE_SELL,
                               (k % 2 == 0 ? 100 : 101) * kE8, kE8, kT0 + (i + 1) / 2));
  }
  ASSERT_TRUE(Write(batch).ok());
  v1::QueryStrategyPositionsRequest req;
  req.mutable_time()->set_from_unix_ns(kT0);
  auto r = QueryStrategyPositions(*store_, req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->positions_size(), 2);
  for (const v1::StrategyPosition& p : r->positions()) {
    EXPECT_EQ(p.fill_count(), 3000u) << p.strategy();
    EXPECT_EQ(p.net_qty_e8(), 0) << p.strategy();
    EXPECT_EQ(p.realized_pnl_e8(), 1500 * kE8) << p.strategy();
  }
}

#ifdef TICKMESH_WITH_POSTGRES
INSTANTIATE_TEST_SUITE_P(Postgres, StoreTest, ::testing::Values("postgres"));
#else
INSTANTIATE_TEST_SUITE_P(Sqlite, StoreTest, ::testing::Values("sqlite"));
#endif

}  // namespace
}  // namespace tickmesh::persistence
