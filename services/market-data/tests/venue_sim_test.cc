// Venue connectors against the real venue simulator: tickmesh-venue-sim runs as a child process
// (Binance spot + Kraken WS v2 wire formats on loopback, ports from its --ports_file); the
// VenueConnector (real codecs, WebSocket and REST clients) feeds the real MarketData logic.
// Faults are injected through the simulator's control endpoint (POST /sim/fault). The last tests
// run the tickmesh-market-data process itself against the simulator.
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "market_data.h"
#include "nlohmann/json.hpp"
#include "tickmesh/net/rest_client.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/testing/child_process.h"
#include "tickmesh/testing/servers.h"
#include "tickmesh/v1/market_data.grpc.pb.h"
#include "tickmesh/venues/decimal.h"
#include "tickmesh/venues/venue.h"
#include "venue_connector.h"

namespace tickmesh::market_data {
namespace {

namespace v1 = tickmesh::v1;
using Child = tickmesh::testing::ChildProcess;
using tickmesh::testing::WaitFor;
using venues::Venue;

const std::vector<std::string> kSymbols = {"BTC-USDT", "ETH-USDT"};
using Levels = std::vector<std::pair<int64_t, int64_t>>;

// A running tickmesh-venue-sim with both venues on free ports.
class Simulator {
 public:
  Simulator() {
    dir_ = tickmesh::testing::MakeTempDir("md-venue-sim");
    ports_file_ = dir_ + "/ports";
    child_ = std::make_unique<Child>(
        std::vector<std::string>{TICKMESH_VENUE_SIM_BIN, "--binance_port=0", "--kraken_port=0",
                                 "--ports_file=" + ports_file_, "--symbols=BTC-USDT,ETH-USDT",
                                 "--rate=20", "--log_level=warn"});
  }
  // Waits for the ports file; false if the simulator did not come up.
  bool WaitReady() {
    return WaitFor([&] {
      std::ifstream in(ports_file_);
      std::string line;
      std::map<std::string, int> ports;
      while (std::getline(in, line)) {
        std::pair<std::string, std::string> kv = absl::StrSplit(line, '=');
        int port = 0;
        if (absl::SimpleAtoi(kv.second, &port) && port > 0) ports[kv.first] = port;
      }
      if (ports.size() < 2) return false;
      ports_ = ports;
      return true;
    });
  }
  int port(Venue v) const { return ports_.at(std::string(venues::VenueName(v))); }
  std::string origin(Venue v, const char* scheme) const {
    return absl::StrCat(scheme, "://127.0.0.1:", port(v));
  }
  // One REST call to the simulated venue (public endpoints and /sim controls).
  absl::StatusOr<net::HttpResponse> Do(Venue v, const std::string& method,
                                       const std::string& target) {
    auto& client = clients_[v];
    if (client == nullptr) {
      net::RestOptions o;
      o.base_url = origin(v, "http");
      auto c = net::RestClient::Create(o);
      if (!c.ok()) return c.status();
      client = std::move(*c);
    }
    net::HttpRequest r;
    r.method = method;
    r.target = target;
    r.endpoint = "test";
    return client->Do(r);
  }
  // POST /sim/fault?<query>; true when the simulator accepted it.
  bool Fault(Venue v, const std::string& query) {
    auto r = Do(v, "POST", "/sim/fault?" + query);
    return r.ok() && r->status == 200;
  }

 private:
  std::string dir_, ports_file_;
  std::unique_ptr<Child> child_;
  std::map<std::string, int> ports_;
  std::map<Venue, std::unique_ptr<net::RestClient>> clients_;
};

// Parses [["price","qty",...], ...] (Binance and Kraken REST depth rows).
Levels ParseRows(const nlohmann::json& rows, size_t n) {
  Levels out;
  for (const auto& row : rows) {
    if (out.size() == n) break;
    auto p = venues::ParseDecimalE8(row.at(0).get<std::string>());
    auto q = venues::ParseDecimalE8(row.at(1).get<std::string>());
    if (!p.ok() || !q.ok()) return {};
    out.emplace_back(*p, *q);
  }
  return out;
}

// The top `n` levels a side of the venue's own book, from its public REST depth endpoint.
std::pair<Levels, Levels> VenueDepth(Simulator& sim, Venue v, const std::string& symbol, size_t n) {
  try {
    if (v == Venue::kBinance) {
      auto vs = venues::DefaultVenueSymbol(v, symbol);
      auto r = sim.Do(v, "GET", absl::StrCat("/api/v3/depth?symbol=", *vs, "&limit=", n));
      if (!r.ok() || r->status != 200) return {};
      auto j = nlohmann::json::parse(r->body);
      return {ParseRows(j.at("bids"), n), ParseRows(j.at("asks"), n)};
    }
    auto pair = venues::KrakenRestPair(symbol);
    auto r = sim.Do(v, "GET", absl::StrCat("/0/public/Depth?pair=", *pair, "&count=", n));
    if (!r.ok() || r->status != 200) return {};
    auto j = nlohmann::json::parse(r->body);
    const auto& book = j.at("result").begin().value();
    return {ParseRows(book.at("bids"), n), ParseRows(book.at("asks"), n)};
  } catch (const std::exception&) {
    return {};
  }
}

std::pair<Levels, Levels> Sides(const v1::BookSnapshot& b, size_t n) {
  Levels bids, asks;
  for (const auto& l : b.bids()) {
    if (bids.size() < n) bids.emplace_back(l.price_e8(), l.qty_e8());
  }
  for (const auto& l : b.asks()) {
    if (asks.size() < n) asks.emplace_back(l.price_e8(), l.qty_e8());
  }
  return {bids, asks};
}

// What the sink saw, for ordering and normalisation checks.
struct Seen {
  std::string venue, symbol;
  uint64_t seq = 0;
  v1::MarketEvent::PayloadCase kind = v1::MarketEvent::PAYLOAD_NOT_SET;
  std::string malformed;  // why the event breaks the promises (prices, timestamps, trace); "" = ok
};

bool WellFormed(const v1::MarketEvent& e);

std::string Malformed(const v1::MarketEvent& e) {
  if (WellFormed(e)) return "";
  return e.ShortDebugString().substr(0, 300);
}

bool WellFormed(const v1::MarketEvent& e) {
  if (e.receive_unix_ns() <= 0 || e.trace().trace_id() == 0 || e.trace().origin_unix_ns() <= 0) {
    return false;
  }
  auto levels_ok = [](const auto& side, bool allow_zero) {
    for (const auto& l : side) {
      if (l.price_e8() <= 0 || l.qty_e8() < 0 || (!allow_zero && l.qty_e8() == 0)) return false;
    }
    return true;
  };
  switch (e.payload_case()) {
    case v1::MarketEvent::kSnapshot:
      return levels_ok(e.snapshot().bids(), false) && levels_ok(e.snapshot().asks(), false) &&
             e.snapshot().bids_size() > 0 && e.snapshot().asks_size() > 0;
    case v1::MarketEvent::kDelta:
      return levels_ok(e.delta().bids(), true) && levels_ok(e.delta().asks(), true);
    case v1::MarketEvent::kTrade:
      return e.trade().price_e8() > 0 && e.trade().qty_e8() > 0;
    case v1::MarketEvent::kTicker:
      return e.ticker().bid_price_e8() > 0 && e.ticker().ask_price_e8() > 0;
    default:
      return false;
  }
}

class VenueSimTest : public ::testing::TestWithParam<Venue> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sim_.WaitReady()) << "tickmesh-venue-sim did not start";
    VenueConnectorOptions o;
    o.venue = GetParam();
    o.ws_url = sim_.origin(o.venue, "ws");
    if (o.venue == Venue::kBinance) o.rest_url = sim_.origin(o.venue, "http");
    o.symbols = kSymbols;
    o.stale_after = absl::Seconds(2);
    o.reconnect_min = absl::Milliseconds(50);
    o.reconnect_max = absl::Milliseconds(500);
    o.snapshot_retry_min = absl::Milliseconds(50);
    o.snapshot_retry_max = absl::Milliseconds(500);
    auto c = VenueConnector::Create(o);
    ASSERT_TRUE(c.ok()) << c.status();
    connector_ = std::move(*c);
    ASSERT_TRUE(connector_->Start([this](v1::MarketEventBatch& b) { return Sink(b); }).ok());
  }
  void TearDown() override {
    if (connector_) connector_->Stop();
  }

  absl::Status Sink(v1::MarketEventBatch& batch) {
    absl::Status s = md_.Ingest(batch, "test");
    absl::MutexLock lock(&mu_);
    if (!s.ok()) {
      ++rejected_;
      return s;
    }
    for (const v1::MarketEvent& e : batch.events()) {
      seen_.push_back({e.venue(), e.symbol(), e.seq(), e.payload_case(), Malformed(e)});
    }
    return s;
  }

  size_t Mark() {
    absl::MutexLock lock(&mu_);
    return seen_.size();
  }
  // A snapshot of `symbol` was ingested after position `mark`.
  bool SnapshotSince(size_t mark, const std::string& symbol) {
    absl::MutexLock lock(&mu_);
    for (size_t i = mark; i < seen_.size(); ++i) {
      if (seen_[i].symbol == symbol && seen_[i].kind == v1::MarketEvent::kSnapshot) return true;
    }
    return false;
  }
  bool TradeSeen() {
    absl::MutexLock lock(&mu_);
    for (const Seen& s : seen_) {
      if (s.kind == v1::MarketEvent::kTrade) return true;
    }
    return false;
  }
  // Levels compared per side: the Binance simulator quotes 20; Kraken is subscribed at depth 10.
  size_t CompareDepth() const { return GetParam() == Venue::kBinance ? 20 : 10; }

  // market-data's book of `symbol` equals the venue's own (its REST depth) — polled, because
  // both move; a match within a few seconds proves the sync procedure keeps them equal.
  bool BookMatchesVenue(const std::string& symbol) {
    const size_t n = CompareDepth();
    return WaitFor([&] {
      v1::GetBookRequest req;
      req.set_venue(std::string(venues::VenueName(GetParam())));
      req.set_symbol(symbol);
      req.set_depth(static_cast<uint32_t>(n));
      auto before = VenueDepth(sim_, GetParam(), symbol, n);
      auto ours = md_.GetBook(req);
      auto after = VenueDepth(sim_, GetParam(), symbol, n);
      if (!ours.ok() || before.first.empty() || before != after) return false;
      return Sides(ours->book(), n) == before;
    });
  }

  // Every accepted event: the venue's name, a configured symbol, well formed; per symbol seqs
  // strictly +1 and the first book event a snapshot.
  void ExpectOrderedAndNormalised() {
    absl::MutexLock lock(&mu_);
    EXPECT_EQ(rejected_, 0u);
    std::map<std::string, uint64_t> last;
    std::set<std::string> booked;
    const std::string venue(venues::VenueName(GetParam()));
    for (size_t i = 0; i < seen_.size(); ++i) {
      const Seen& s = seen_[i];
      ASSERT_EQ(s.venue, venue) << i;
      ASSERT_TRUE(s.symbol == kSymbols[0] || s.symbol == kSymbols[1]) << s.symbol;
      ASSERT_EQ(s.malformed, "") << "event " << i << " of " << s.symbol;
      uint64_t& prev = last[s.symbol];
      ASSERT_EQ(s.seq, prev + 1) << "event " << i << " of " << s.symbol;
      prev = s.seq;
      if (s.kind == v1::MarketEvent::kSnapshot) booked.insert(s.symbol);
      if (s.kind == v1::MarketEvent::kDelta) {
        ASSERT_TRUE(booked.count(s.symbol)) << "delta before the first snapshot of " << s.symbol;
      }
    }
  }

  void WaitSynced() {
    ASSERT_TRUE(WaitFor([&] { return connector_->healthy(); })) << connector_->StatusJson();
    for (const std::string& s : kSymbols) {
      ASSERT_TRUE(BookMatchesVenue(s)) << s << " " << connector_->StatusJson();
    }
  }

  Simulator sim_;
  MarketData md_{MarketDataOptions{}};
  std::unique_ptr<VenueConnector> connector_;
  absl::Mutex mu_;
  std::vector<Seen> seen_ ABSL_GUARDED_BY(mu_);
  uint64_t rejected_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST_P(VenueSimTest, BooksAndTradesArriveNormalisedAndMatchTheVenue) {
  ASSERT_NO_FATAL_FAILURE(WaitSynced());
  EXPECT_TRUE(WaitFor([&] { return TradeSeen(); })) << "no trade within 10 s";
  ExpectOrderedAndNormalised();
  const VenueConnector::Stats s = connector_->stats();
  EXPECT_EQ(s.state, "open");
  EXPECT_EQ(s.connects, 1u);
  EXPECT_GT(s.frames, 0u);
  EXPECT_GT(s.events, 0u);
  EXPECT_EQ(s.parse_errors, 0u);
  EXPECT_EQ(s.gaps, 0u);
  EXPECT_EQ(s.batches_rejected, 0u);
  EXPECT_EQ(md_.stats().gaps, 0u);
  EXPECT_EQ(md_.stats().crossed, 0u);
  if (GetParam() == Venue::kBinance) {
    EXPECT_GE(s.snapshots_fetched, 2u) << "one REST snapshot per symbol";
  }
}

TEST_P(VenueSimTest, ReconnectsResubscribesAndRecoversBooksAfterTheSimulatorDropsTheConnection) {
  ASSERT_NO_FATAL_FAILURE(WaitSynced());
  const size_t mark = Mark();
  ASSERT_TRUE(sim_.Fault(GetParam(), "kind=disconnect"));
  ASSERT_TRUE(WaitFor([&] { return connector_->stats().connects >= 2; }))
      << connector_->StatusJson();
  for (const std::string& s : kSymbols) {
    EXPECT_TRUE(WaitFor([&] { return SnapshotSince(mark, s); }))
        << "the book of " << s << " restarts from a fresh snapshot";
  }
  ASSERT_NO_FATAL_FAILURE(WaitSynced());
  ExpectOrderedAndNormalised();
  const VenueConnector::Stats s = connector_->stats();
  EXPECT_EQ(s.reconnects, s.connects - 1);
  EXPECT_EQ(s.batches_rejected, 0u);
  EXPECT_FALSE(s.last_error.empty()) << "the disconnect reason is kept for /status";
}

TEST_P(VenueSimTest, ResyncsABookAfterAnInjectedGap) {
  ASSERT_NO_FATAL_FAILURE(WaitSynced());
  const VenueConnector::Stats before = connector_->stats();
  const size_t mark = Mark();
  ASSERT_TRUE(sim_.Fault(GetParam(), "kind=gap&symbol=BTC-USDT"));
  ASSERT_TRUE(WaitFor([&] {
    const VenueConnector::Stats now = connector_->stats();
    return now.gaps > before.gaps && now.resyncs > before.resyncs;
  })) << connector_->StatusJson();
  EXPECT_TRUE(WaitFor([&] { return SnapshotSince(mark, "BTC-USDT"); }))
      << "the broken book is re-established by a snapshot";
  ASSERT_NO_FATAL_FAILURE(WaitSynced());
  ExpectOrderedAndNormalised();  // contiguous seqs: no partial book ever reached market-data
  const VenueConnector::Stats after = connector_->stats();
  EXPECT_EQ(after.connects, before.connects) << "resynced without reconnecting";
  EXPECT_EQ(md_.stats().gaps, 0u);
  if (GetParam() == Venue::kBinance) {
    EXPECT_GT(after.snapshots_fetched, before.snapshots_fetched) << "by a REST snapshot";
  }
}

TEST_P(VenueSimTest, MalformedFramesAreCountedAndSkipped) {
  ASSERT_NO_FATAL_FAILURE(WaitSynced());
  const VenueConnector::Stats before = connector_->stats();
  ASSERT_TRUE(sim_.Fault(GetParam(), "kind=malformed&count=5"));
  ASSERT_TRUE(WaitFor([&] { return connector_->stats().parse_errors >= before.parse_errors + 5; }))
      << connector_->StatusJson();
  ASSERT_NO_FATAL_FAILURE(WaitSynced());  // the feed goes on, books still equal the venue's
  ExpectOrderedAndNormalised();
  const VenueConnector::Stats after = connector_->stats();
  EXPECT_EQ(after.parse_errors, before.parse_errors + 5);
  EXPECT_EQ(after.connects, before.connects);
  EXPECT_EQ(after.gaps, before.gaps);
  EXPECT_TRUE(connector_->healthy());
}

// Venues that sync books by REST snapshot (Binance).
class RestSnapshotVenueTest : public VenueSimTest {};

TEST_P(RestSnapshotVenueTest, RateLimitedSnapshotsAreCountedAndRetriedUntilBooksRecover) {
  ASSERT_NO_FATAL_FAILURE(WaitSynced());
  const VenueConnector::Stats before = connector_->stats();
  // The next 3 REST requests get Binance's 429; the reconnect then needs 2 fresh snapshots.
  ASSERT_TRUE(sim_.Fault(GetParam(), "kind=rate_limit&count=3"));
  ASSERT_TRUE(sim_.Fault(GetParam(), "kind=disconnect"));
  ASSERT_TRUE(WaitFor([&] {
    const VenueConnector::Stats now = connector_->stats();
    return now.snapshot_errors >= before.snapshot_errors + 3 &&
           now.snapshots_fetched >= before.snapshots_fetched + 2;
  })) << connector_->StatusJson();
  ASSERT_NO_FATAL_FAILURE(WaitSynced());
  ExpectOrderedAndNormalised();
  EXPECT_EQ(connector_->stats().snapshots_pending, 0u);
}

INSTANTIATE_TEST_SUITE_P(Venues, RestSnapshotVenueTest, ::testing::Values(Venue::kBinance),
                         [](const auto& info) {
                           return std::string(venues::VenueName(info.param));
                         });
INSTANTIATE_TEST_SUITE_P(Venues, VenueSimTest, ::testing::Values(Venue::kBinance, Venue::kKraken),
                         [](const auto& info) {
                           return std::string(venues::VenueName(info.param));
                         });

// The service process: --venues selects both connectors, GetBook serves their books, /status
// shows each venue's connection.
TEST(MarketDataServiceWithVenueSim, ServesVenueBooksAndReportsVenuesInStatus) {
  Simulator sim;
  ASSERT_TRUE(sim.WaitReady());
  const std::string grpc_addr = absl::StrCat("127.0.0.1:", tickmesh::testing::FreePort());
  const int admin_port = tickmesh::testing::FreePort();
  Child md({TICKMESH_MARKET_DATA_BIN, "--grpc_address=" + grpc_addr,
            absl::StrCat("--admin_address=127.0.0.1:", admin_port), "--synthetic_rate=0",
            "--venues=binance,kraken", "--binance_ws_url=" + sim.origin(Venue::kBinance, "ws"),
            "--binance_rest_url=" + sim.origin(Venue::kBinance, "http"),
            "--kraken_ws_url=" + sim.origin(Venue::kKraken, "ws"),
            "--binance_symbols=BTC-USDT,ETH-USDT", "--kraken_symbols=BTC-USDT,ETH-USDT",
            "--drain_timeout_ms=1000", "--log_level=warn"});
  ASSERT_TRUE(md.started());
  for (const char* venue : {"binance", "kraken"}) {
    EXPECT_TRUE(WaitFor([&] {
      // A fresh channel per attempt with its own subchannel pool: no shared reconnect backoff.
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      auto stub = v1::MarketDataService::NewStub(
          grpc::CreateCustomChannel(grpc_addr, grpc::InsecureChannelCredentials(), args));
      grpc::ClientContext ctx;
      ctx.set_deadline(runtime::DeadlineIn(absl::Milliseconds(300)));
      v1::GetBookRequest req;
      req.set_venue(venue);
      req.set_symbol("ETH-USDT");
      v1::GetBookResponse resp;
      return stub->GetBook(&ctx, req, &resp).ok() && resp.book().bids_size() > 0 &&
             resp.book().asks_size() > 0;
    })) << venue;
  }
  net::RestOptions ro;
  ro.base_url = absl::StrCat("http://127.0.0.1:", admin_port);
  auto admin = net::RestClient::Create(ro);
  ASSERT_TRUE(admin.ok());
  nlohmann::json venues_status;
  EXPECT_TRUE(WaitFor([&] {
    net::HttpRequest r;
    r.target = "/status";
    auto resp = (*admin)->Do(r);
    if (!resp.ok() || resp->status != 200) return false;
    auto j = nlohmann::json::parse(resp->body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.contains("details")) return false;
    venues_status = j["details"].value("venues", nlohmann::json::object());
    return venues_status.contains("binance") && venues_status.contains("kraken") &&
           venues_status["binance"].value("healthy", false) &&
           venues_status["kraken"].value("healthy", false);
  })) << venues_status.dump();
  EXPECT_EQ(venues_status["binance"].value("state", ""), "open");
  EXPECT_EQ(venues_status["kraken"].value("state", ""), "open");
  admin->reset();  // close the keep-alive admin connection, which the drain would wait out
  const int status = md.Kill(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "clean drain, status " << status;
}

TEST(MarketDataServiceWithVenueSim, BadVenueFlagExitsTwoNamingTheFlag) {
  const std::string err = tickmesh::testing::MakeTempDir("md-venue-flag") + "/stderr";
  Child md({TICKMESH_MARKET_DATA_BIN, "--grpc_address=127.0.0.1:0", "--admin_address=127.0.0.1:0",
            "--venues=binance", "--binance_ws_url=http://127.0.0.1:1"},
           {.stderr_path = err});
  const int status = md.WaitExit(std::chrono::seconds(10)).value_or(-1);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 2);
  std::ifstream in(err);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("--binance_ws_url"), std::string::npos) << text.str();
}

}  // namespace
}  // namespace tickmesh::market_data
