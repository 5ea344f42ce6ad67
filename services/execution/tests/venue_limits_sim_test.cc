// Venue rate-limit reports end to end against the real tickmesh-venue-sim (a child process on
// loopback): the simulator sends the venues' usage headers and refuses past its configured
// limits; execution's limiter follows them.
//  - VenueLimitsSimTest drives LiveVenue with a RateLimiter directly: weight spent at the venue
//    by another client (reported in X-MBX-USED-WEIGHT-*) and Bybit's X-Bapi-Limit* hold
//    requests back before the venue would refuse them.
//  - VenueProcessTest runs the real tickmesh-execution: HTTP 429 with Retry-After on order
//    placement pauses new orders; they resume afterwards and every acknowledged order reaches
//    the venue exactly once; used weight reported by the venue makes orders wait for the next
//    interval instead of being sent into a 429.

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "live_venue.h"
#include "nlohmann/json.hpp"
#include "process_util.h"
#include "rate_limit.h"
#include "test_util.h"
#include "tickmesh/net/rest_client.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/runtime/clock.h"
#include "tickmesh/testing/child_process.h"
#include "tickmesh/testing/servers.h"
#include "tickmesh/v1/execution.grpc.pb.h"
#include "tickmesh/venues/decimal.h"
#include "tickmesh/venues/orders.h"
#include "tickmesh/venues/venue.h"

namespace tickmesh::execution {
namespace {

using testing::E8;
namespace v1 = tickmesh::v1;
namespace venues = tickmesh::venues;
namespace net = tickmesh::net;
using Child = tickmesh::testing::ChildProcess;
using tickmesh::testing::WaitFor;

constexpr char kSimKey[] = "sim-key";
constexpr char kSimSecret[] = "dGlja21lc2gtdmVudWUtc2ltLXNlY3JldA==";
constexpr char kSymbol[] = "BTC-USDT";

// A simulator process with `flags`; its ports by venue.
class Sim {
 public:
  explicit Sim(std::vector<std::string> flags) {
    dir_ = tickmesh::testing::MakeTempDir("exec-limits-sim");
    const std::string ports = dir_ + "/ports";
    std::vector<std::string> argv = {TICKMESH_VENUE_SIM_BIN, "--ports_file=" + ports,
                                     "--symbols=BTC-USDT", "--rate=20", "--log_level=warn"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    child_ = std::make_unique<Child>(argv);
    WaitFor([&] {
      std::ifstream in(ports);
      std::string line;
      while (std::getline(in, line)) {
        std::vector<std::string> kv = absl::StrSplit(line, '=');
        int port = 0;
        if (kv.size() == 2 && absl::SimpleAtoi(kv[1], &port)) ports_[kv[0]] = port;
      }
      return !ports_.empty();
    });
  }
  std::string url(const std::string& venue) const {
    auto it = ports_.find(venue);
    return absl::StrCat("http://127.0.0.1:", it == ports_.end() ? 0 : it->second);
  }
  // One REST call to the simulator.
  absl::StatusOr<net::HttpResponse> Call(const std::string& venue, const std::string& method,
                                         const std::string& target) {
    net::RestOptions o;
    o.base_url = url(venue);
    auto client = net::RestClient::Create(o);
    if (!client.ok()) return client.status();
    net::HttpRequest r;
    r.method = method;
    r.target = target;
    return (*client)->Do(r);
  }
  // Requests the simulator refused for its rate limits (its configured ones, not faults).
  int64_t LimitRefusals(const std::string& venue) {
    auto resp = Call(venue, "GET", "/sim/state");
    if (!resp.ok()) return -1;
    nlohmann::json j = nlohmann::json::parse(resp->body, nullptr, false);
    return j.is_object() && j.contains("limit_refusals") ? j["limit_refusals"].get<int64_t>() : -1;
  }

 private:
  std::string dir_;
  std::unique_ptr<Child> child_;
  std::map<std::string, int> ports_;
};

std::unique_ptr<LiveVenue> MakeLive(venues::Venue venue, const std::string& url,
                                    RateLimiter* limiter) {
  LiveVenueOptions o;
  o.venue = venue;
  o.base_url = url;
  auto map = venues::SymbolMap::Create({kSymbol});
  EXPECT_TRUE(map.ok());
  o.symbols = *map;
  o.limiter = limiter;
  auto live = LiveVenue::Create(std::move(o), venues::Credentials{kSimKey, kSimSecret});
  EXPECT_TRUE(live.ok()) << live.status();
  if (!live.ok()) return nullptr;
  return std::move(*live);
}

// Installs the gate charging `venue`'s buckets (what VenueWorker does for a live venue).
void Gate(LiveVenue* live, RateLimiter* limiter, const std::string& venue) {
  live->SetRequestGate([limiter, venue](RequestClass cls) {
    RateLimiter::Decision d = limiter->TryAcquire(venue, cls, limiter->now());
    return d.admitted ? absl::OkStatus()
                      : absl::ResourceExhaustedError(absl::StrCat("rate_limit:", d.bucket));
  });
}

TEST(VenueLimitsSimTest, WeightSpentByAnotherClientHoldsBackRequestsBeforeTheVenueRefuses) {
  // The simulator allows 1000 weight per day (one interval for the whole test); another client
  // of the same IP spends 750 of it.
  Sim sim({"--binance_port=0", "--kraken_port=-1", "--bybit_port=-1", "--binance_weight_limit=1000",
           "--binance_weight_interval=1D"});
  for (int i = 0; i < 3; ++i) {
    auto r = sim.Call("binance", "GET", "/api/v3/depth?symbol=BTCUSDT&limit=5000");  // 250 each
    ASSERT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
  }
  auto limits = ParseRateLimits(
      "binance/weight_1d=token:1000:86400000:order=1,cancel=1,query_order=4,open_orders=80,"
      "trades=5,balances=20:X-MBX-USED-WEIGHT-1D");
  ASSERT_TRUE(limits.ok()) << limits.status();
  RateLimiter limiter(*limits, SteadyClock());
  auto live = MakeLive(venues::Venue::kBinance, sim.url("binance"), &limiter);
  ASSERT_NE(live, nullptr);
  Gate(live.get(), &limiter, "binance");

  ASSERT_TRUE(live->Balances().ok());
  // The local estimate alone would say 20; the venue said 770 (750 + the balances' 20).
  EXPECT_NEAR(limiter.Levels(limiter.now())["binance"]["weight_1d"], 770, 1e-6);
  // Open orders cost 80: two fit (930), the third would pass 1000 and is not sent.
  int sent = 0;
  absl::Status refused;
  for (int i = 0; i < 5 && refused.ok(); ++i) {
    auto open = live->OpenOrders();
    if (open.ok()) {
      ++sent;
    } else {
      refused = open.status();
    }
  }
  EXPECT_EQ(sent, 2);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.message(), "rate_limit:weight_1d");
  // Nothing was fired into the venue's limit.
  EXPECT_EQ(sim.LimitRefusals("binance"), 0);
  EXPECT_TRUE(limiter.Throttles(limiter.now()).empty());
}

TEST(VenueLimitsSimTest, BybitReportedEndpointLimitReplacesTheConfiguredOne) {
  // The venue allows 5 requests per second per endpoint; execution's default scheme says 50/s for
  // the realtime endpoint. After the first answer the venue's limit applies.
  Sim sim({"--binance_port=-1", "--kraken_port=-1", "--bybit_port=0", "--bybit_limit_per_s=5"});
  auto limits = ParseRateLimits(DefaultRateLimits(venues::Venue::kBybit));
  ASSERT_TRUE(limits.ok()) << limits.status();
  RateLimiter limiter(*limits, SteadyClock());
  auto live = MakeLive(venues::Venue::kBybit, sim.url("bybit"), &limiter);
  ASSERT_NE(live, nullptr);
  Gate(live.get(), &limiter, "bybit");
  int sent = 0, held = 0;
  for (int i = 0; i < 20 && held == 0; ++i) {
    auto open = live->OpenOrders();
    if (open.ok()) {
      ++sent;
    } else {
      ASSERT_EQ(open.status().code(), absl::StatusCode::kResourceExhausted) << open.status();
      EXPECT_EQ(open.status().message(), "rate_limit:realtime_1s");
      ++held;
    }
  }
  EXPECT_EQ(held, 1) << "the venue's limit of 5/s never held a request back";
  EXPECT_GE(sent, 5);
  EXPECT_EQ(sim.LimitRefusals("bybit"), 0);  // never refused with 10006
}

TEST(VenueLimitsSimTest, VenueRefusalBlocksTheClassUntilRetryAfter) {
  // No limit configured at the simulator; a fault answers the next request with Binance's 429
  // (-1003, Retry-After: 1).
  Sim sim({"--binance_port=0", "--kraken_port=-1", "--bybit_port=-1"});
  auto limits = ParseRateLimits(DefaultRateLimits(venues::Venue::kBinance));
  ASSERT_TRUE(limits.ok());
  RateLimiter limiter(*limits, SteadyClock());
  auto live = MakeLive(venues::Venue::kBinance, sim.url("binance"), &limiter);
  ASSERT_NE(live, nullptr);
  Gate(live.get(), &limiter, "binance");
  auto fault = sim.Call("binance", "POST", "/sim/fault?kind=rate_limit&count=1");
  ASSERT_TRUE(fault.ok() && fault->status == 200);
  const int64_t t0 = limiter.now();
  auto first = live->Balances();
  EXPECT_EQ(first.status().code(), absl::StatusCode::kResourceExhausted);
  // Every class is paused for the Retry-After second (the IP's weight); nothing is sent.
  const int64_t until = limiter.BlockedUntil("binance", RequestClass::kOrder, limiter.now());
  EXPECT_GE(until - t0, 1'000'000'000 - 50'000'000);
  EXPECT_LE(until - t0, 2'000'000'000);
  auto paused = live->OpenOrders();
  EXPECT_EQ(paused.status().message(), "rate_limit:venue_throttle");
  ASSERT_TRUE(WaitFor([&] { return limiter.now() >= until; }, std::chrono::seconds(5)));
  EXPECT_TRUE(live->Balances().ok());
}

TEST(VenueLimitsSimTest, KrakenRateErrorDrainsItsCounterAndPausesTheQueryClasses) {
  Sim sim({"--binance_port=-1", "--kraken_port=0", "--bybit_port=-1"});
  auto limits = ParseRateLimits(DefaultRateLimits(venues::Venue::kKraken));
  ASSERT_TRUE(limits.ok());
  RateLimiter limiter(*limits, SteadyClock());
  auto live = MakeLive(venues::Venue::kKraken, sim.url("kraken"), &limiter);
  ASSERT_NE(live, nullptr);
  Gate(live.get(), &limiter, "kraken");
  auto fault = sim.Call("kraken", "POST", "/sim/fault?kind=rate_limit&count=1");
  ASSERT_TRUE(fault.ok() && fault->status == 200);
  auto first = live->Balances();  // EAPI:Rate limit exceeded
  EXPECT_EQ(first.status().code(), absl::StatusCode::kResourceExhausted);
  // No usage headers: the REST counter is taken as full, the query classes paused (backoff);
  // the trading counter and new orders are untouched.
  EXPECT_NEAR(limiter.Levels(limiter.now())["kraken"]["api_counter"], 15, 0.1);
  auto throttles = limiter.Throttles(limiter.now())["kraken"];
  EXPECT_EQ(throttles.count("balances"), 1u);
  EXPECT_EQ(throttles.count("open_orders"), 1u);
  EXPECT_EQ(throttles.count("order"), 0u);
  EXPECT_TRUE(limiter.TryAcquire("kraken", RequestClass::kOrder, limiter.now()).admitted);
  EXPECT_EQ(live->OpenOrders().status().code(), absl::StatusCode::kResourceExhausted);
}

// --- The real execution process ---

class VenueProcessTest : public ::testing::Test {
 protected:
  // A simulator with `sim_flags` and tickmesh-execution trading binance on it with `exec_flags`.
  void Start(std::vector<std::string> sim_flags, std::vector<std::string> exec_flags) {
    sim_flags.insert(sim_flags.begin(),
                     {"--binance_port=0", "--kraken_port=-1", "--bybit_port=-1"});
    sim_ = std::make_unique<Sim>(sim_flags);
    addr_ = absl::StrCat("127.0.0.1:", tickmesh::testing::FreePort());
    admin_port_ = tickmesh::testing::FreePort();
    std::vector<std::string> argv = {
        TICKMESH_EXECUTION_BIN, "--grpc_address=" + addr_,
        absl::StrCat("--admin_address=127.0.0.1:", admin_port_), "--persistence_address=",
        "--signal_address=", "--market_data_address=", "--cache_address=", "--live_venues=binance",
        "--binance_rest_url=" + sim_->url("binance"), std::string("--live_symbols=") + kSymbol,
        // Polls rarely: what the tests provoke lands on the order placements.
        "--live_poll_interval_ms=5000", "--live_balance_interval_ms=60000",
        "--live_reconcile_timeout_ms=3000", "--rate_limit_order_wait_ms=10000", "--log_level=warn"};
    argv.insert(argv.end(), exec_flags.begin(), exec_flags.end());
    execution_ = std::make_unique<Child>(
        argv, tickmesh::testing::ChildOptions{
                  .extra_env = {"TICKMESH_BINANCE_API_KEY=" + std::string(kSimKey),
                                "TICKMESH_BINANCE_API_SECRET=" + std::string(kSimSecret)}});
    ASSERT_TRUE(WaitFor([&] { return testing::ExecutionAnswers(addr_, &stub_); }))
        << "execution did not start";
  }

  // Submits a resting buy; returns execution's order id (the client order id at the venue).
  std::string SubmitResting(const std::string& client_id, int64_t bid) {
    v1::OrderRequest r;
    r.set_client_order_id(client_id);
    r.set_venue("binance");
    r.set_symbol(kSymbol);
    r.set_side(v1::SIDE_BUY);
    r.set_type(v1::ORDER_TYPE_LIMIT);
    r.set_time_in_force(v1::TIME_IN_FORCE_GTC);
    r.set_qty_e8(E8 / 100);
    r.set_price_e8(bid / 2 / 1'000'000 * 1'000'000);  // rests
    r.set_strategy("limits-test");
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(15)));
    v1::SubmitOrderRequest req;
    *req.mutable_order() = r;
    v1::SubmitOrderResponse resp;
    grpc::Status s = stub_->Submit(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << client_id << ": " << s.error_message();  // acknowledged
    return s.ok() ? resp.order().order_id() : "";
  }

  // Every order ACKED by execution, and each at the venue exactly once, nothing else open there.
  void ExpectEachAtTheVenueOnce(const std::map<std::string, std::string>& order_ids) {
    ASSERT_TRUE(WaitFor(
        [&] {
          for (const auto& [cid, id] : order_ids) {
            if (Get(cid).status() != v1::ORDER_STATUS_ACKED) return false;
          }
          return true;
        },
        std::chrono::seconds(15)))
        << Get(order_ids.begin()->first).DebugString();
    auto limits = ParseRateLimits(DefaultRateLimits(venues::Venue::kBinance));
    ASSERT_TRUE(limits.ok());
    RateLimiter limiter(*limits, SteadyClock());
    auto live = MakeLive(venues::Venue::kBinance, sim_->url("binance"), &limiter);
    ASSERT_NE(live, nullptr);
    auto open = live->OpenOrders();
    ASSERT_TRUE(open.ok()) << open.status();
    std::map<std::string, int> at_venue;
    for (const auto& o : *open) ++at_venue[o.client_order_id];
    EXPECT_EQ(open->size(), order_ids.size());
    for (const auto& [cid, id] : order_ids) EXPECT_EQ(at_venue[id], 1) << cid << " " << id;
  }

  std::string Admin(const std::string& path) {
    net::RestOptions o;
    o.base_url = absl::StrCat("http://127.0.0.1:", admin_port_);
    auto client = net::RestClient::Create(o);
    if (!client.ok()) return "";
    net::HttpRequest r;
    r.target = path;
    auto resp = (*client)->Do(r);
    return resp.ok() ? resp->body : "";
  }

  // Sum of the metric's samples whose labels include `labels`.
  double Metric(const std::string& name, const std::string& labels) {
    double sum = 0;
    for (absl::string_view line : absl::StrSplit(Admin("/metrics"), '\n')) {
      if (!absl::StartsWith(line, name + "{") || !absl::StrContains(line, labels)) continue;
      double v = 0;
      if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &v)) sum += v;
    }
    return sum;
  }

  v1::Order Get(const std::string& client_id) {
    return testing::OrderByClientId(*stub_, client_id);
  }

  int64_t BestBid() {
    auto r = sim_->Call("binance", "GET", "/api/v3/depth?symbol=BTCUSDT&limit=5");
    if (!r.ok() || r->status != 200) return 0;
    nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
    if (!j.contains("bids") || j["bids"].empty()) return 0;
    auto v = venues::ParseDecimalE8(j["bids"][0][0].get<std::string>());
    return v.ok() ? *v : 0;
  }

  std::unique_ptr<Sim> sim_;
  std::string addr_;
  int admin_port_ = 0;
  std::unique_ptr<Child> execution_;
  std::unique_ptr<v1::ExecutionService::Stub> stub_;
};

TEST_F(VenueProcessTest, OrdersPausedBy429ResumeAfterRetryAfterEachReachingTheVenueOnce) {
  Start({}, {});
  const int64_t bid = BestBid();
  ASSERT_GT(bid, 0);
  // The next two venue requests are answered 429 -1003 with Retry-After: 1.
  auto fault = sim_->Call("binance", "POST", "/sim/fault?kind=rate_limit&count=2");
  ASSERT_TRUE(fault.ok() && fault->status == 200);
  std::map<std::string, std::string> order_ids;  // client id -> execution's order id (at venue)
  for (int i = 0; i < 8; ++i) {
    const std::string cid = absl::StrCat("thr-", i);
    order_ids[cid] = SubmitResting(cid, bid);
  }
  // None rejected for the 429s: each acknowledged by the venue, there exactly once.
  ExpectEachAtTheVenueOnce(order_ids);
  // Both refusals were counted (normally both on placements: the polls are 5 s apart).
  EXPECT_GE(Metric("tickmesh_execution_rate_limit_venue_throttles_total",
                   "class=\"order\",venue=\"binance\""),
            1);
  EXPECT_GE(Metric("tickmesh_execution_rate_limit_venue_throttles_total", "venue=\"binance\""), 2);
}

TEST_F(VenueProcessTest, UsedWeightReportedByTheVenueQueuesOrdersInsteadOfFiringIntoA429) {
  // The venue allows 400 weight per 2 s interval; execution is configured with the same limit
  // and follows X-MBX-USED-WEIGHT-2S.
  Start({"--binance_weight_limit=400", "--binance_weight_interval=2S"},
        {"--rate_limits=binance/weight_2s=token:400:2000:order=1,cancel=1,query_order=4,"
         "open_orders=80,trades=5,balances=20:X-MBX-USED-WEIGHT-2S"});
  const int64_t bid = BestBid();
  ASSERT_GT(bid, 0);
  // At the start of an interval, another client of the IP spends 345 of it (250 + 50 + 25 +
  // 4 x 5), leaving room for 50 to 55 orders at weight 1 (BestBid's depth request, 5, may fall
  // in the same interval).
  ASSERT_TRUE(WaitFor([] { return tickmesh::runtime::NowUnixNs() / 1'000'000 % 2000 < 100; },
                      std::chrono::seconds(5), std::chrono::milliseconds(1)));
  for (const char* limit : {"5000", "1000", "500", "100", "100", "100", "100"}) {
    auto r =
        sim_->Call("binance", "GET", absl::StrCat("/api/v3/depth?symbol=BTCUSDT&limit=", limit));
    ASSERT_TRUE(r.ok() && r->status == 200);
  }
  // 80 orders: the first answers report the other client's weight; the rest wait in the
  // admission queue for the next interval instead of being sent into a 429.
  std::map<std::string, std::string> order_ids;
  for (int i = 0; i < 80; ++i) {
    const std::string cid = absl::StrCat("w-", i);
    order_ids[cid] = SubmitResting(cid, bid);
  }
  ExpectEachAtTheVenueOnce(order_ids);
  EXPECT_EQ(sim_->LimitRefusals("binance"), 0);  // the venue never had to refuse
  EXPECT_EQ(Metric("tickmesh_execution_rate_limit_venue_throttles_total", "venue=\"binance\""), 0);
  // Some orders had to wait for the venue's interval to end.
  EXPECT_GE(Metric("tickmesh_execution_rate_limit_waits_total",
                   "bucket=\"weight_2s\",result=\"admitted\""),
            1);
}

}  // namespace
}  // namespace tickmesh::execution
