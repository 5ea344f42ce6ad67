// Live venue adapters end to end: the real tickmesh-venue-sim (Binance spot + Kraken wire formats,
// signature checks, matching engine) and the real tickmesh-execution with --live_venues pointing
// at it, as child processes on loopback. For each venue the simulator serves: an order round trip
// (place -> ack -> fill -> position and the venue's balances), a cancel, bad credentials (the
// venue's error in the rejection), and the start-up reconciliation (an order placed at the venue
// by someone else is reported, balances come from the venue). LiveVenueQuerySimTest drives
// LiveVenue directly (Binance, Kraken, Bybit): Query resolves orders by the venue's lookup.

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "live_venue.h"
#include "nlohmann/json.hpp"
#include "process_util.h"
#include "test_util.h"
#include "tickmesh/net/rest_client.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/testing/child_process.h"
#include "tickmesh/testing/servers.h"
#include "tickmesh/v1/execution.grpc.pb.h"
#include "tickmesh/venues/decimal.h"
#include "tickmesh/venues/orders.h"
#include "tickmesh/venues/venue.h"
#include "venue_worker.h"

namespace tickmesh::execution {
namespace {

using testing::E8;
namespace v1 = tickmesh::v1;
namespace venues = tickmesh::venues;
namespace net = tickmesh::net;

// The simulator's built-in account (loadtest/venue-sim/src/venue_sim.h).
constexpr char kSimKey[] = "sim-key";
constexpr char kSimSecret[] = "dGlja21lc2gtdmVudWUtc2ltLXNlY3JldA==";
constexpr char kSymbol[] = "BTC-USDT";

using Child = tickmesh::testing::ChildProcess;
using tickmesh::testing::WaitFor;

std::string VenueEnv(const std::string& venue) {
  std::string up = venue;
  for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return up;
}

// One simulator per test suite: the ports it bound.
class SimProcess {
 public:
  SimProcess() {
    dir_ = tickmesh::testing::MakeTempDir("exec-live-sim");
    const std::string ports = dir_ + "/ports";
    child_ = std::make_unique<Child>(
        std::vector<std::string>{TICKMESH_VENUE_SIM_BIN, "--binance_port=0", "--kraken_port=0",
                                 "--ports_file=" + ports, "--symbols=BTC-USDT", "--rate=20",
                                 "--taker_fee_bps=10", "--maker_fee_bps=2", "--log_level=warn"});
    WaitFor([&] {
      std::ifstream in(ports);
      std::string line;
      while (std::getline(in, line)) {
        std::vector<std::string> kv = absl::StrSplit(line, '=');
        int port = 0;
        if (kv.size() == 2 && absl::SimpleAtoi(kv[1], &port)) ports_[kv[0]] = port;
      }
      return ports_.size() >= 2;
    });
  }
  int port(const std::string& venue) const {
    auto it = ports_.find(venue);
    return it == ports_.end() ? 0 : it->second;
  }
  std::string url(const std::string& venue) const {
    return absl::StrCat("http://127.0.0.1:", port(venue));
  }

 private:
  std::string dir_;
  std::unique_ptr<Child> child_;
  std::map<std::string, int> ports_;
};

SimProcess* sim = nullptr;

// Owns the simulator for the whole test program (stopped after the last test).
class SimEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { sim = new SimProcess(); }
  void TearDown() override {
    delete sim;
    sim = nullptr;
  }
};
const auto* const sim_environment = ::testing::AddGlobalTestEnvironment(new SimEnvironment);

class LiveVenueSimTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    venue_ = GetParam();
    ASSERT_GT(sim->port(venue_), 0) << "the simulator did not serve " << venue_;
  }

  void StartExecution(const std::string& secret = kSimSecret) {
    addr_ = absl::StrCat("127.0.0.1:", tickmesh::testing::FreePort());
    admin_port_ = tickmesh::testing::FreePort();
    const std::string v = venue_;
    execution_ = std::make_unique<Child>(
        std::vector<std::string>{
            TICKMESH_EXECUTION_BIN, "--grpc_address=" + addr_,
            absl::StrCat("--admin_address=127.0.0.1:", admin_port_), "--persistence_address=",
            "--signal_address=", "--market_data_address=", "--cache_address=", "--live_venues=" + v,
            "--" + v + "_rest_url=" + sim->url(v), std::string("--live_symbols=") + kSymbol,
            "--live_poll_interval_ms=50", "--live_balance_interval_ms=200",
            "--live_reconcile_timeout_ms=3000", "--log_level=warn"},
        tickmesh::testing::ChildOptions{
            .extra_env = {"TICKMESH_" + VenueEnv(v) + "_API_KEY=" + kSimKey,
                          "TICKMESH_" + VenueEnv(v) + "_API_SECRET=" + secret}});
    ASSERT_TRUE(WaitFor([&] { return testing::ExecutionAnswers(addr_, &stub_); }))
        << "execution did not start";
  }

  v1::OrderRequest Order(const std::string& client_id, v1::Side side, int64_t qty_e8,
                         int64_t price_e8) {
    v1::OrderRequest r;
    r.set_client_order_id(client_id);
    r.set_venue(venue_);
    r.set_symbol(kSymbol);
    r.set_side(side);
    r.set_type(v1::ORDER_TYPE_LIMIT);
    r.set_time_in_force(v1::TIME_IN_FORCE_GTC);
    r.set_qty_e8(qty_e8);
    r.set_price_e8(price_e8);
    r.set_strategy("live-test");
    return r;
  }

  grpc::Status Submit(const v1::OrderRequest& order, v1::Order* out) {
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(5)));
    v1::SubmitOrderRequest req;
    *req.mutable_order() = order;
    v1::SubmitOrderResponse resp;
    grpc::Status s = stub_->Submit(&ctx, req, &resp);
    if (out != nullptr) *out = resp.order();
    return s;
  }

  v1::Order Get(const std::string& client_id) {
    return testing::OrderByClientId(*stub_, client_id);
  }

  std::map<std::string, v1::Balance> Balances() {
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(2)));
    v1::GetBalancesRequest req;
    req.set_venue(venue_);
    v1::GetBalancesResponse resp;
    (void)stub_->GetBalances(&ctx, req, &resp);
    std::map<std::string, v1::Balance> out;
    for (const auto& b : resp.balances()) out[b.asset()] = b;
    return out;
  }

  nlohmann::json Status() {
    net::RestOptions o;
    o.base_url = absl::StrCat("http://127.0.0.1:", admin_port_);
    auto client = net::RestClient::Create(o);
    if (!client.ok()) return {};
    net::HttpRequest r;
    r.target = "/status";
    auto resp = (*client)->Do(r);
    if (!resp.ok() || resp->status != 200) return nlohmann::json::object();
    nlohmann::json j = nlohmann::json::parse(resp->body, nullptr, false);
    if (!j.is_object() || !j.contains("details")) return nlohmann::json::object();
    return j["details"];
  }

  // Best bid / ask of the simulated market from the venue's public depth endpoint.
  std::pair<int64_t, int64_t> Touch() {
    net::RestOptions o;
    o.base_url = sim->url(venue_);
    auto client = net::RestClient::Create(o);
    EXPECT_TRUE(client.ok());
    net::HttpRequest r;
    r.target = venue_ == "binance" ? "/api/v3/depth?symbol=BTCUSDT&limit=5"
                                   : "/0/public/Depth?pair=XBTUSDT&count=5";
    auto resp = (*client)->Do(r);
    EXPECT_TRUE(resp.ok() && resp->status == 200) << (resp.ok() ? resp->body : "");
    if (!resp.ok()) return {0, 0};
    nlohmann::json j = nlohmann::json::parse(resp->body, nullptr, false);
    nlohmann::json book = j;
    if (venue_ == "kraken" && j.contains("result")) book = j["result"].begin().value();
    auto px = [](const nlohmann::json& side) -> int64_t {
      if (!side.is_array() || side.empty()) return 0;
      auto v = venues::ParseDecimalE8(side[0][0].get<std::string>());
      return v.ok() ? *v : 0;
    };
    return {px(book["bids"]), px(book["asks"])};
  }

  std::string venue_;
  std::string addr_;
  int admin_port_ = 0;
  std::unique_ptr<Child> execution_;
  std::unique_ptr<v1::ExecutionService::Stub> stub_;
};

TEST_P(LiveVenueSimTest, OrderRoundTripPlaceAckFillPositionAndVenueBalances) {
  StartExecution();
  ASSERT_TRUE(WaitFor([&] { return Balances().count("USDT") == 1; }))
      << "no balances reconciled from the venue";
  const int64_t btc_before = Balances()["BTC"].total_e8();
  const auto [bid, ask] = Touch();
  ASSERT_GT(ask, 0);
  // Marketable: 2% through the best ask.
  const int64_t price = ask + ask / 50;
  v1::Order placed;
  grpc::Status s = Submit(Order("rt-1", v1::SIDE_BUY, E8 / 100, price), &placed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(placed.status(), v1::ORDER_STATUS_NEW);  // the venue answers asynchronously
  ASSERT_TRUE(WaitFor([&] { return Get("rt-1").status() == v1::ORDER_STATUS_FILLED; }))
      << Get("rt-1").DebugString();
  const v1::Order filled = Get("rt-1");
  EXPECT_FALSE(filled.venue_order_id().empty());
  EXPECT_EQ(filled.filled_qty_e8(), E8 / 100);
  EXPECT_GT(filled.avg_fill_price_e8(), 0);
  EXPECT_LE(filled.avg_fill_price_e8(), price);
  // The venue's fee (10 bps taker) is recorded on the order: Binance's FULL answer gives each
  // fill's commission in BTC; Kraken's QueryOrders its cumulative fee in USDT.
  EXPECT_GT(filled.fee_e8(), 0) << filled.DebugString();
  if (venue_ == "binance") {
    EXPECT_NEAR(filled.fee_e8(), E8 / 100 / 1000, 5);
    // The venue's balance (source of truth) shows the bought BTC less the fee execution recorded.
    ASSERT_TRUE(WaitFor([&] {
      return Balances()["BTC"].total_e8() == btc_before + E8 / 100 - filled.fee_e8();
    })) << Balances()["BTC"].DebugString();
  } else {
    const int64_t notional =
        static_cast<int64_t>(static_cast<__int128>(filled.avg_fill_price_e8()) * E8 / 100 / E8);
    EXPECT_NEAR(filled.fee_e8(), notional / 1000, 5);
    ASSERT_TRUE(WaitFor([&] { return Balances()["BTC"].total_e8() == btc_before + E8 / 100; }))
        << Balances()["BTC"].DebugString();
  }
}

TEST_P(LiveVenueSimTest, CancelOfARestingOrderEndsCancelledAtTheVenue) {
  StartExecution();
  const auto [bid, ask] = Touch();
  ASSERT_GT(bid, 0);
  v1::Order placed;
  ASSERT_TRUE(Submit(Order("cx-1", v1::SIDE_BUY, E8 / 100, bid / 2), &placed).ok());
  ASSERT_TRUE(WaitFor([&] { return Get("cx-1").status() == v1::ORDER_STATUS_ACKED; }))
      << Get("cx-1").DebugString();
  grpc::ClientContext ctx;
  v1::CancelOrderRequest req;
  req.mutable_ref()->set_client_order_id("cx-1");
  v1::CancelOrderResponse resp;
  ASSERT_TRUE(stub_->Cancel(&ctx, req, &resp).ok());
  ASSERT_TRUE(WaitFor([&] { return Get("cx-1").status() == v1::ORDER_STATUS_CANCELLED; }))
      << Get("cx-1").DebugString();
  const nlohmann::json st = Status();
  ASSERT_TRUE(st.contains("live_venues"));
  EXPECT_EQ(st["live_venues"][venue_]["open_orders"], 0);
}

TEST_P(LiveVenueSimTest, BadCredentialsRejectTheOrderWithTheVenuesError) {
  // Valid base64 (Kraken needs it), but not the account's secret: signatures do not verify.
  StartExecution("d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA==");
  const auto [bid, ask] = Touch();
  grpc::Status s = Submit(Order("bad-1", v1::SIDE_BUY, E8 / 100, bid / 2), nullptr);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(WaitFor([&] { return Get("bad-1").status() == v1::ORDER_STATUS_REJECTED; }))
      << Get("bad-1").DebugString();
  const std::string reason = Get("bad-1").reject_reason();
  EXPECT_EQ(reason.rfind("venue:error:" + venue_, 0), 0u) << reason;
  const nlohmann::json st = Status();
  EXPECT_EQ(st["live_venues"][venue_]["reconciled"], false);
}

TEST_P(LiveVenueSimTest, StartReconciliationReportsForeignOrdersAndTakesTheVenuesBalances) {
  // Someone else's resting order at the venue, placed before execution starts.
  auto symbols = venues::SymbolMap::Create({kSymbol});
  ASSERT_TRUE(symbols.ok());
  auto v = venues::ParseVenue(venue_);
  ASSERT_TRUE(v.ok());
  auto api = venues::MakeOrderApi(*v, *symbols, venues::Credentials{kSimKey, kSimSecret});
  ASSERT_TRUE(api.ok()) << api.status();
  net::RestOptions o;
  o.base_url = sim->url(venue_);
  auto rest = net::RestClient::Create(o);
  ASSERT_TRUE(rest.ok());
  const auto [bid, ask] = Touch();
  venues::OrderParams p;
  p.symbol = kSymbol;
  p.side = v1::SIDE_BUY;
  p.type = v1::ORDER_TYPE_LIMIT;
  p.qty_e8 = E8 / 100;
  p.price_e8 = bid / 3;
  p.client_order_id = "foreign-" + venue_;
  auto req = (*api)->PlaceOrder(p);
  ASSERT_TRUE(req.ok()) << req.status();
  auto resp = (*rest)->Do(*req);
  ASSERT_TRUE(resp.ok());
  ASSERT_TRUE((*api)->ParsePlace(*resp).ok()) << resp->body;

  StartExecution();
  const nlohmann::json st = Status();
  ASSERT_TRUE(st.contains("live_venues")) << st.dump();
  EXPECT_EQ(st["live_venues"][venue_]["reconciled"], true) << st.dump();
  EXPECT_GE(st["live_venues"][venue_]["foreign_open_orders"].get<int>(), 1) << st.dump();
  // Reported, not adopted.
  grpc::ClientContext ctx;
  v1::ListOrdersRequest lr;
  v1::ListOrdersResponse lresp;
  ASSERT_TRUE(stub_->ListOrders(&ctx, lr, &lresp).ok());
  EXPECT_EQ(lresp.orders_size(), 0);
  // Balances are the venue's, served before the first order.
  auto b = Balances();
  ASSERT_EQ(b.count("USDT"), 1u);
  EXPECT_GT(b["USDT"].total_e8(), 0);
  if (venue_ == "binance") {  // Binance reports free vs locked: the foreign order holds funds
    EXPECT_LT(b["USDT"].available_e8(), b["USDT"].total_e8());
  }
  // Clean up for the other tests of this venue.
  auto cancel = (*api)->CancelOrder(kSymbol, p.client_order_id);
  ASSERT_TRUE(cancel.ok());
  (void)(*rest)->Do(*cancel);
}

INSTANTIATE_TEST_SUITE_P(SimVenues, LiveVenueSimTest, ::testing::Values("binance", "kraken"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// LiveVenue itself against the simulator: Query resolves orders by the venue's single-order
// lookup (OrderApi::QueryOrder) instead of inferring — Binance GET /api/v3/order, Kraken
// QueryOrders by cl_ord_id (+ txid), Bybit GET /v5/order/realtime by orderLinkId.
class LiveVenueQuerySimTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    venue_ = GetParam();
    ASSERT_GT(sim->port(venue_), 0) << "the simulator did not serve " << venue_;
    LiveVenueOptions o;
    auto v = venues::ParseVenue(venue_);
    ASSERT_TRUE(v.ok());
    o.venue = *v;
    o.base_url = sim->url(venue_);
    auto map = venues::SymbolMap::Create({kSymbol});
    ASSERT_TRUE(map.ok());
    o.symbols = *map;
    auto live = LiveVenue::Create(std::move(o), venues::Credentials{kSimKey, kSimSecret});
    ASSERT_TRUE(live.ok()) << live.status();
    live_ = std::move(*live);
  }

  // Best bid at the venue, from its public REST book.
  int64_t BestBid() {
    net::RestOptions o;
    o.base_url = sim->url(venue_);
    auto client = net::RestClient::Create(o);
    EXPECT_TRUE(client.ok());
    net::HttpRequest r;
    if (venue_ == "binance") r.target = "/api/v3/depth?symbol=BTCUSDT&limit=5";
    if (venue_ == "kraken") r.target = "/0/public/Depth?pair=XBTUSDT&count=5";
    if (venue_ == "bybit") r.target = "/v5/market/orderbook?category=spot&symbol=BTCUSDT&limit=5";
    auto resp = (*client)->Do(r);
    EXPECT_TRUE(resp.ok() && resp->status == 200) << (resp.ok() ? resp->body : "");
    if (!resp.ok()) return 0;
    nlohmann::json j = nlohmann::json::parse(resp->body, nullptr, false);
    nlohmann::json bids;
    if (venue_ == "binance") bids = j["bids"];
    if (venue_ == "kraken" && j.contains("result")) bids = j["result"].begin().value()["bids"];
    if (venue_ == "bybit" && j.contains("result")) bids = j["result"]["b"];
    if (!bids.is_array() || bids.empty()) return 0;
    auto v = venues::ParseDecimalE8(bids[0][0].get<std::string>());
    return v.ok() ? *v : 0;
  }

  // A resting buy at half the best bid (on the 0.01 tick), as execution would hold it.
  v1::Order RestingBuy(const std::string& id) {
    const int64_t bid = BestBid();
    EXPECT_GT(bid, 0);
    v1::Order o;
    o.set_order_id(absl::StrCat(id, "-", venue_, "-", ::getpid()));
    o.set_venue(venue_);
    o.set_symbol(kSymbol);
    o.set_side(v1::SIDE_BUY);
    o.set_type(v1::ORDER_TYPE_LIMIT);
    o.set_time_in_force(v1::TIME_IN_FORCE_GTC);
    o.set_qty_e8(E8 / 100);
    o.set_price_e8(bid / 2 / 1'000'000 * 1'000'000);
    o.set_status(v1::ORDER_STATUS_NEW);
    return o;
  }

  std::string venue_;
  std::unique_ptr<LiveVenue> live_;
};

TEST_P(LiveVenueQuerySimTest, OrderCancelledElsewhereIsReportedCancelledNotInferredFilled) {
  v1::Order order = RestingBuy("q-cxl");
  auto placed = live_->Place(order);
  ASSERT_TRUE(placed.ok()) << placed.status();
  ASSERT_EQ(placed->status, VenueOrderStatus::kOpen);
  order.set_status(v1::ORDER_STATUS_ACKED);
  order.set_venue_order_id(placed->venue_order_id);

  auto working = live_->Query(order);
  ASSERT_TRUE(working.ok()) << working.status();
  EXPECT_EQ(working->status, VenueOrderStatus::kOpen);
  EXPECT_FALSE(working->inferred);
  EXPECT_EQ(working->filled_qty_e8, 0);

  // Cancelled behind execution's back (another session, the venue's UI): the order leaves the
  // open orders without execution's own cancel being recorded.
  auto cancelled = live_->Cancel(order);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();

  auto after = live_->Query(order);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_FALSE(after->inferred);
  EXPECT_EQ(after->status, VenueOrderStatus::kCancelled);
  EXPECT_EQ(after->filled_qty_e8, 0);
  EXPECT_TRUE(after->fills.empty());
  EXPECT_EQ(after->venue_order_id, placed->venue_order_id);
}

TEST_P(LiveVenueQuerySimTest, PlaceWhoseAnswerWasLostIsFoundByItsClientOrderId) {
  v1::Order order = RestingBuy("q-lost");
  ASSERT_TRUE(live_->Place(order).ok());
  // Execution still holds it as NEW (the answer never arrived) and knows no venue order id.
  auto found = live_->Query(order);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->status, VenueOrderStatus::kOpen);
  EXPECT_FALSE(found->inferred);
  EXPECT_FALSE(found->venue_order_id.empty());
  EXPECT_EQ(found->client_order_id, order.order_id());
  ASSERT_TRUE(live_->Cancel(order).ok());
}

TEST_P(LiveVenueQuerySimTest, OrderThatNeverReachedTheVenueIsNotFound) {
  v1::Order order = RestingBuy("q-never");
  auto q = live_->Query(order);
  EXPECT_EQ(q.status().code(), absl::StatusCode::kNotFound) << q.status();
}

TEST_P(LiveVenueQuerySimTest, MarketableOrderThatFilledIsReportedFilledByTheVenueAckedOrNot) {
  v1::Order order = RestingBuy("q-fill");
  // Place well through the best ask so it fills at once; then ask as if only the ack was seen.
  const int64_t bid = BestBid();
  order.set_price_e8((bid + bid / 20) / 1'000'000 * 1'000'000);
  auto placed = live_->Place(order);
  ASSERT_TRUE(placed.ok()) << placed.status();
  // As if the place answer was lost: execution still holds it NEW.
  auto lost = live_->Query(order);
  ASSERT_TRUE(lost.ok()) << lost.status();
  EXPECT_EQ(lost->status, VenueOrderStatus::kFilled);
  EXPECT_EQ(lost->filled_qty_e8, E8 / 100);
  EXPECT_FALSE(lost->inferred);
  // The venue's cumulative fee comes with it (Binance: from the order's trades).
  EXPECT_TRUE(lost->fee_known);
  EXPECT_GT(lost->fee_e8, 0);
  EXPECT_EQ(lost->fee_asset, venue_ == "kraken" ? "USDT" : "BTC");
  order.set_status(v1::ORDER_STATUS_ACKED);
  order.set_venue_order_id(placed->venue_order_id);
  auto q = live_->Query(order);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->status, VenueOrderStatus::kFilled);
  EXPECT_EQ(q->filled_qty_e8, E8 / 100);
  EXPECT_FALSE(q->inferred);
  EXPECT_GT(q->avg_price_e8, 0);
  EXPECT_LE(q->avg_price_e8, order.price_e8());
}

// Rate limits: with a gate, every query request LiveVenue sends is charged first with its own
// class — the lookup, Binance's myTrades for a new fill's fee, the open orders of the last
// resort, balances — and a refused request is not sent: the call answers the refusal.
TEST_P(LiveVenueQuerySimTest, EveryQueryRequestIsChargedThroughTheGateWithItsOwnClass) {
  std::vector<std::string> charged;
  RequestClass refuse = RequestClass::kOrder;  // places are never charged here: refuses nothing
  ASSERT_TRUE(live_->SetRequestGate([&](RequestClass cls) -> absl::Status {
    charged.push_back(RequestClassName(cls));
    if (cls == refuse) return absl::ResourceExhaustedError("rate_limit:weight");
    return absl::OkStatus();
  }));
  v1::Order order = RestingBuy("q-gate");
  const int64_t bid = BestBid();
  order.set_price_e8((bid + bid / 20) / 1'000'000 * 1'000'000);  // fills at once
  ASSERT_TRUE(live_->Place(order).ok());
  EXPECT_TRUE(charged.empty());  // charged at admission by the engine, not here

  // Binance: the lookup (weight 4) does not carry the fee; the order's trades (5) do.
  refuse = RequestClass::kOrderTrades;
  auto q = live_->Query(order);
  const bool binance = venue_ == "binance";
  if (binance) {
    EXPECT_EQ(charged, (std::vector<std::string>{"query_order", "trades"}));
    EXPECT_EQ(q.status().code(), absl::StatusCode::kResourceExhausted) << q.status();
    EXPECT_EQ(q.status().message(), "rate_limit:weight");
  } else {
    EXPECT_EQ(charged, (std::vector<std::string>{"query_order"}));  // fee in the order
    EXPECT_TRUE(q.ok()) << q.status();
  }
  charged.clear();
  refuse = RequestClass::kOrder;
  q = live_->Query(order);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_TRUE(q->fee_known);
  EXPECT_EQ(charged, binance ? (std::vector<std::string>{"query_order", "trades"})
                             : (std::vector<std::string>{"query_order"}));

  // Not found by the lookup: the last resort's open orders are charged too.
  charged.clear();
  v1::Order never = RestingBuy("q-gate-never");
  EXPECT_EQ(live_->Query(never).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(charged, (std::vector<std::string>{"query_order", "open_orders"}));

  charged.clear();
  ASSERT_TRUE(live_->OpenOrders().ok());
  ASSERT_TRUE(live_->Balances().ok());
  EXPECT_EQ(charged, (std::vector<std::string>{"open_orders", "balances"}));

  // A refused lookup is not sent: the refusal is the answer.
  charged.clear();
  refuse = RequestClass::kQueryOrder;
  EXPECT_EQ(live_->Query(never).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(charged, (std::vector<std::string>{"query_order"}));
}

// Batching: a burst of new orders queued on the VenueWorker goes out in batch requests (counted
// at the simulator), and each order gets its own answer — the one the venue refuses is the only
// one rejected.
class LiveBatchSimTest : public LiveVenueQuerySimTest {
 protected:
  // The venue counter `name` in the simulator's /sim/state.
  int64_t SimCounter(const std::string& name) {
    net::RestOptions o;
    o.base_url = sim->url(venue_);
    auto client = net::RestClient::Create(o);
    if (!client.ok()) return -1;
    net::HttpRequest r;
    r.target = "/sim/state";
    auto resp = (*client)->Do(r);
    if (!resp.ok()) return -1;
    const std::string needle = "\"" + name + "\":";
    const size_t at = resp->body.find(needle);
    int64_t v = -1;
    if (at == std::string::npos) return -1;
    const std::string rest = resp->body.substr(at + needle.size(), 20);
    (void)absl::SimpleAtoi(rest.substr(0, rest.find_first_not_of("0123456789")), &v);
    return v;
  }
};

TEST_P(LiveBatchSimTest, BurstOfOrdersGoesOutInBatchesWithPerOrderAnswers) {
  const std::string batches =
      venue_ == "bybit" ? "create_batch_requests" : "add_order_batch_requests";
  const std::string batched = venue_ == "bybit" ? "create_batch_orders" : "add_order_batch_orders";
  const std::string singles = venue_ == "bybit" ? "create_requests" : "add_order_requests";
  const int64_t batches0 = SimCounter(batches), batched0 = SimCounter(batched),
                singles0 = SimCounter(singles);
  ASSERT_GE(batches0, 0);
  std::mutex mu;
  std::map<std::string, absl::StatusOr<VenueOrderState>> answers;
  VenueWorker::Callbacks cb;
  cb.on_answer = [&](VenueWorker::Call call, const v1::Order& o,
                     const absl::StatusOr<VenueOrderState>& a, int64_t, bool) {
    if (call != VenueWorker::Call::kPlace) return;
    std::lock_guard<std::mutex> lock(mu);
    answers.emplace(o.order_id(), a);
  };
  cb.has_open_orders = [] { return false; };
  cb.on_open_orders = [](const absl::StatusOr<std::vector<VenueOrderState>>&, int64_t) {
    return std::vector<v1::Order>{};
  };
  cb.on_balances = [](const absl::StatusOr<std::vector<VenueAssetBalance>>&, int64_t) {};
  VenueWorker::Options wo;
  wo.max_batch = 5;
  VenueWorker worker(std::move(live_), nullptr, wo, std::move(cb));
  // Seven new orders arrive before the worker gets to them (as during an in-flight call): the
  // fourth sells more BTC than the account holds.
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    v1::Order o = RestingBuy(absl::StrCat("b", i));
    if (i == 3) {
      o.set_side(v1::SIDE_SELL);
      o.set_qty_e8(1'000'000 * E8);
      o.set_price_e8(o.price_e8() * 4);
    }
    ids.push_back(o.order_id());
    ASSERT_TRUE(worker.Enqueue(VenueWorker::Call::kPlace, o));
  }
  worker.Start();
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu);
    return answers.size() == ids.size();
  }));
  // 5 + 2: two batch requests, no single-order request.
  EXPECT_EQ(SimCounter(batches) - batches0, 2);
  EXPECT_EQ(SimCounter(batched) - batched0, 7);
  EXPECT_EQ(SimCounter(singles) - singles0, 0);
  EXPECT_EQ(worker.stats().batches, 2u);
  EXPECT_EQ(worker.stats().batched_orders, 7u);
  std::set<std::string> venue_ids;
  for (int i = 0; i < 7; ++i) {
    const auto& a = answers.at(ids[i]);
    if (i == 3) {
      EXPECT_EQ(a.status().code(), absl::StatusCode::kFailedPrecondition) << a.status();
      continue;
    }
    ASSERT_TRUE(a.ok()) << ids[i] << ": " << a.status();
    EXPECT_EQ(a->status, VenueOrderStatus::kOpen);
    EXPECT_EQ(a->client_order_id, ids[i]);
    venue_ids.insert(a->venue_order_id);
  }
  EXPECT_EQ(venue_ids.size(), 6u);  // each order its own venue id
  worker.Stop();
  // Clean up the resting orders (the other tests look at open orders).
  LiveVenueOptions o;
  o.venue = *venues::ParseVenue(venue_);
  o.base_url = sim->url(venue_);
  o.symbols = *venues::SymbolMap::Create({kSymbol});
  auto cleaner = LiveVenue::Create(std::move(o), venues::Credentials{kSimKey, kSimSecret});
  ASSERT_TRUE(cleaner.ok());
  std::vector<v1::Order> open;
  for (int i = 0; i < 7; ++i) {
    if (i == 3) continue;
    v1::Order c;
    c.set_order_id(ids[i]);
    c.set_symbol(kSymbol);
    c.set_venue(venue_);
    open.push_back(c);
  }
  for (const auto& a : (*cleaner)->CancelBatch(open)) EXPECT_TRUE(a.ok()) << a.status();
}

INSTANTIATE_TEST_SUITE_P(BatchVenues, LiveBatchSimTest, ::testing::Values("bybit", "kraken"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

INSTANTIATE_TEST_SUITE_P(SimVenues, LiveVenueQuerySimTest,
                         ::testing::Values("binance", "kraken", "bybit"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace tickmesh::execution
