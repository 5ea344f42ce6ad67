// The simulator in-process (and once as a spawned process) driven by the real tickmesh::net
// WsClient and RestClient on loopback.
#include "venue_sim.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "binance_venue.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tickmesh/net/rest_client.h"
#include "tickmesh/net/ws_client.h"
#include "tickmesh/venues/decimal.h"
#include "tickmesh/venues/feed.h"
#include "tickmesh/venues/orders.h"
#include "tickmesh/venues/sign.h"

namespace tickmesh::venue_sim {
namespace {

using venues::Venue;
namespace v1 = tickmesh::v1;

bool WaitFor(const std::function<bool()>& pred, int ms = 5000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Collects WebSocket frames.
struct Frames {
  std::mutex mu;
  std::vector<std::string> all;
  void Add(std::string_view f) {
    std::lock_guard<std::mutex> l(mu);
    all.emplace_back(f);
  }
  std::vector<std::string> Snapshot() {
    std::lock_guard<std::mutex> l(mu);
    return all;
  }
};

std::unique_ptr<net::WsClient> Connect(const std::string& url, Frames* frames,
                                       std::vector<std::string> subscribe = {}) {
  net::WsOptions o;
  o.url = url;
  o.name = "test";
  o.backoff_initial = absl::Milliseconds(20);
  o.backoff_max = absl::Milliseconds(100);
  net::WsHandlers h;
  h.on_open = [subscribe] { return subscribe; };
  h.on_frame = [frames](std::string_view f, int64_t) { frames->Add(f); };
  auto ws = std::make_unique<net::WsClient>(o, h);
  EXPECT_TRUE(ws->Start().ok());
  return ws;
}

std::unique_ptr<net::RestClient> Rest(int port) {
  net::RestOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(port);
  o.name = "test";
  auto c = net::RestClient::Create(o);
  EXPECT_TRUE(c.ok());
  return *std::move(c);
}

net::HttpRequest Get(std::string target) {
  net::HttpRequest r;
  r.target = std::move(target);
  return r;
}

net::HttpRequest Fault(const std::string& query) {
  net::HttpRequest r;
  r.method = "POST";
  r.target = "/sim/fault?" + query;
  return r;
}

// A SIGNED Binance request exactly as the docs describe: HMAC-SHA256 of the query string.
net::HttpRequest BinanceSigned(const std::string& method, const std::string& path,
                               std::string params, const std::string& secret = kDefaultSecret) {
  params += "&timestamp=" + std::to_string(NowMs());
  net::HttpRequest r;
  r.method = method;
  r.target = path + "?" + params + "&signature=" + venues::BinanceSignature(secret, params);
  r.headers = {{"X-MBX-APIKEY", kDefaultApiKey}};
  return r;
}

struct DepthEvent {
  int64_t U = 0, u = 0;
  std::vector<std::pair<int64_t, int64_t>> b, a;
};

std::vector<DepthEvent> DepthEvents(const std::vector<std::string>& frames) {
  std::vector<DepthEvent> out;
  for (const auto& f : frames) {
    auto j = nlohmann::json::parse(f, nullptr, false);
    if (j.is_discarded() || !j.contains("data")) continue;
    const auto& d = j["data"];
    if (d.value("e", "") != "depthUpdate") continue;
    DepthEvent e;
    e.U = d["U"].get<int64_t>();
    e.u = d["u"].get<int64_t>();
    for (const auto& l : d["b"]) {
      e.b.emplace_back(*venues::ParseDecimalE8(l[0].get<std::string>()),
                       *venues::ParseDecimalE8(l[1].get<std::string>()));
    }
    for (const auto& l : d["a"]) {
      e.a.emplace_back(*venues::ParseDecimalE8(l[0].get<std::string>()),
                       *venues::ParseDecimalE8(l[1].get<std::string>()));
    }
    out.push_back(std::move(e));
  }
  return out;
}

SimOptions Fast(bool binance, bool kraken, bool bybit = false) {
  SimOptions o;
  o.binance_port = binance ? 0 : -1;
  o.kraken_port = kraken ? 0 : -1;
  o.bybit_port = bybit ? 0 : -1;
  o.rate = 200;
  return o;
}

TEST(VenueSimBinance, DepthStreamSequencesChainAndRebuildTheVenueBook) {
  auto sim = VenueSim::Start(Fast(true, false));
  ASSERT_TRUE(sim.ok()) << sim.status();
  const int port = (*sim)->port(Venue::kBinance);
  Frames frames;
  auto ws = Connect("ws://127.0.0.1:" + std::to_string(port) +
                        "/stream?streams=btcusdt@depth@100ms/btcusdt@trade/btcusdt@bookTicker",
                    &frames);
  ASSERT_TRUE(WaitFor([&] { return DepthEvents(frames.Snapshot()).size() >= 5; }));
  // Snapshot over REST, as the Binance book-sync procedure prescribes.
  auto rest = Rest(port);
  auto snap = rest->Do(Get("/api/v3/depth?symbol=BTCUSDT&limit=1000"));
  ASSERT_TRUE(snap.ok()) << snap.status();
  ASSERT_EQ(snap->status, 200) << snap->body;
  auto sj = nlohmann::json::parse(snap->body);
  const int64_t last_update_id = sj["lastUpdateId"].get<int64_t>();
  std::map<int64_t, int64_t, std::greater<int64_t>> bids;
  std::map<int64_t, int64_t> asks;
  for (const auto& l : sj["bids"]) {
    bids[*venues::ParseDecimalE8(l[0].get<std::string>())] =
        *venues::ParseDecimalE8(l[1].get<std::string>());
  }
  for (const auto& l : sj["asks"]) {
    asks[*venues::ParseDecimalE8(l[0].get<std::string>())] =
        *venues::ParseDecimalE8(l[1].get<std::string>());
  }
  // The venue's state at some later point, taken on the simulator's own thread.
  Levels want_bids, want_asks;
  int64_t want_u = 0;
  ASSERT_TRUE(WaitFor([&] {
    return !DepthEvents(frames.Snapshot()).empty() &&
           DepthEvents(frames.Snapshot()).back().u > last_update_id;
  }));
  (*sim)->RunOnIo([&] {
    auto* b = static_cast<BinanceVenue*>((*sim)->endpoint(Venue::kBinance));
    want_u = b->last_update_id("BTC-USDT");
    want_bids = (*sim)->market(Venue::kBinance)->engine().Bids("BTC-USDT");
    want_asks = (*sim)->market(Venue::kBinance)->engine().Asks("BTC-USDT");
  });
  ASSERT_TRUE(WaitFor([&] {
    auto ev = DepthEvents(frames.Snapshot());
    return !ev.empty() && ev.back().u >= want_u;
  }));
  auto events = DepthEvents(frames.Snapshot());
  // Consecutive events chain: U == previous u + 1.
  for (size_t i = 1; i < events.size(); ++i) {
    ASSERT_EQ(events[i].U, events[i - 1].u + 1) << "event " << i;
    ASSERT_LE(events[i].U, events[i].u);
  }
  // Apply: drop u <= lastUpdateId; the first applied has U <= lastUpdateId+1 <= u.
  bool first = true;
  for (const DepthEvent& e : events) {
    if (e.u <= last_update_id) continue;
    if (e.U > want_u) break;
    if (first) {
      ASSERT_LE(e.U, last_update_id + 1);
      ASSERT_GE(e.u, last_update_id + 1);
      first = false;
    }
    for (auto [p, q] : e.b) {
      if (q == 0)
        bids.erase(p);
      else
        bids[p] = q;
    }
    for (auto [p, q] : e.a) {
      if (q == 0)
        asks.erase(p);
      else
        asks[p] = q;
    }
    if (e.u == want_u) break;
  }
  EXPECT_EQ(Levels(bids.begin(), bids.end()), want_bids);
  EXPECT_EQ(Levels(asks.begin(), asks.end()), want_asks);
  bool saw_ticker = false;
  for (const auto& f : frames.Snapshot()) saw_ticker |= f.find("@bookTicker") != std::string::npos;
  EXPECT_TRUE(saw_ticker);
  ws->Stop();
}

TEST(VenueSimBinance, InjectedGapIsVisibleAsSequenceJump) {
  auto sim = VenueSim::Start(Fast(true, false));
  ASSERT_TRUE(sim.ok()) << sim.status();
  const int port = (*sim)->port(Venue::kBinance);
  Frames frames;
  auto ws = Connect("ws://127.0.0.1:" + std::to_string(port) + "/ws/btcusdt@depth", &frames);
  ASSERT_TRUE(WaitFor([&] { return frames.Snapshot().size() >= 3; }));
  auto rest = Rest(port);
  auto r = rest->Do(Fault("kind=gap&count=7&symbol=BTCUSDT"));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  // Raw stream frames are the event itself; re-wrap to reuse the parser.
  auto events = [&] {
    std::vector<std::string> wrapped;
    for (const auto& f : frames.Snapshot()) wrapped.push_back("{\"data\":" + f + "}");
    return DepthEvents(wrapped);
  };
  ASSERT_TRUE(WaitFor([&] {
    auto ev = events();
    for (size_t i = 1; i < ev.size(); ++i) {
      if (ev[i].U != ev[i - 1].u + 1) return true;
    }
    return false;
  }));
  auto ev = events();
  int jumps = 0;
  for (size_t i = 1; i < ev.size(); ++i) {
    if (ev[i].U != ev[i - 1].u + 1) {
      ++jumps;
      EXPECT_EQ(ev[i].U, ev[i - 1].u + 1 + 7);
    }
  }
  EXPECT_EQ(jumps, 1);
  ws->Stop();
}

TEST(VenueSimBinance, SignedOrderAcceptedWithRightKeyAndRejectedWithVenueErrors) {
  auto sim = VenueSim::Start(Fast(true, false));
  ASSERT_TRUE(sim.ok()) << sim.status();
  auto rest = Rest((*sim)->port(Venue::kBinance));
  // A resting limit order far below the market.
  auto placed = rest->Do(
      BinanceSigned("POST", "/api/v3/order",
                    "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.5&price=1000.00"
                    "&newClientOrderId=cid-1"));
  ASSERT_TRUE(placed.ok());
  ASSERT_EQ(placed->status, 200) << placed->body;
  auto pj = nlohmann::json::parse(placed->body);
  EXPECT_EQ(pj["status"], "NEW");
  EXPECT_EQ(pj["clientOrderId"], "cid-1");
  EXPECT_EQ(pj["origQty"], "0.50000000");
  const int64_t order_id = pj["orderId"].get<int64_t>();

  auto open = rest->Do(BinanceSigned("GET", "/api/v3/openOrders", "symbol=BTCUSDT"));
  ASSERT_TRUE(open.ok());
  auto oj = nlohmann::json::parse(open->body);
  ASSERT_EQ(oj.size(), 1u) << open->body;
  EXPECT_EQ(oj[0]["orderId"].get<int64_t>(), order_id);

  auto account = rest->Do(BinanceSigned("GET", "/api/v3/account", "omitZeroBalances=false"));
  ASSERT_TRUE(account.ok());
  auto aj = nlohmann::json::parse(account->body);
  bool locked_ok = false;
  for (const auto& b : aj["balances"]) {
    if (b["asset"] == "USDT") locked_ok = b["locked"] == "500.00000000";
  }
  EXPECT_TRUE(locked_ok) << account->body;

  // A market buy fills against the synthetic book.
  auto market = rest->Do(
      BinanceSigned("POST", "/api/v3/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.001"));
  ASSERT_TRUE(market.ok());
  ASSERT_EQ(market->status, 200) << market->body;
  auto mj = nlohmann::json::parse(market->body);
  EXPECT_EQ(mj["status"], "FILLED");
  EXPECT_FALSE(mj["fills"].empty());

  auto cancel =
      rest->Do(BinanceSigned("DELETE", "/api/v3/order", "symbol=BTCUSDT&origClientOrderId=cid-1"));
  ASSERT_TRUE(cancel.ok());
  ASSERT_EQ(cancel->status, 200) << cancel->body;
  EXPECT_EQ(nlohmann::json::parse(cancel->body)["status"], "CANCELED");

  // Venue errors, bodies as Binance documents them.
  auto again =
      rest->Do(BinanceSigned("DELETE", "/api/v3/order", "symbol=BTCUSDT&origClientOrderId=cid-1"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 400);
  EXPECT_EQ(again->body, R"({"code":-2011,"msg":"Unknown order sent."})");

  auto bad_sig = rest->Do(
      BinanceSigned("POST", "/api/v3/order",
                    "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.5&price=1000.00",
                    "not-the-secret"));
  ASSERT_TRUE(bad_sig.ok());
  EXPECT_EQ(bad_sig->status, 400);
  EXPECT_EQ(bad_sig->body, R"({"code":-1022,"msg":"Signature for this request is not valid."})");

  auto poor = rest->Do(BinanceSigned(
      "POST", "/api/v3/order",
      "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1000&price=29000.00"));
  ASSERT_TRUE(poor.ok());
  EXPECT_EQ(poor->status, 400);
  EXPECT_EQ(nlohmann::json::parse(poor->body)["code"], -2010);

  auto missing = rest->Do(
      BinanceSigned("POST", "/api/v3/order", "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1"));
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(nlohmann::json::parse(missing->body)["code"], -1102);

  net::HttpRequest no_key = BinanceSigned("GET", "/api/v3/openOrders", "symbol=BTCUSDT");
  no_key.headers = {{"X-MBX-APIKEY", "someone-else"}};
  auto unknown_key = rest->Do(no_key);
  ASSERT_TRUE(unknown_key.ok());
  EXPECT_EQ(unknown_key->status, 401);
  EXPECT_EQ(nlohmann::json::parse(unknown_key->body)["code"], -2015);
}

TEST(VenueSimBinance, RateLimitFaultAnswers429ThenRecovers) {
  auto sim = VenueSim::Start(Fast(true, false));
  ASSERT_TRUE(sim.ok()) << sim.status();
  auto rest = Rest((*sim)->port(Venue::kBinance));
  auto f = rest->Do(Fault("kind=rate_limit&count=2"));
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(f->status, 200) << f->body;
  for (int i = 0; i < 2; ++i) {
    auto r = rest->Do(Get("/api/v3/depth?symbol=BTCUSDT&limit=5"));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 429);
    EXPECT_EQ(nlohmann::json::parse(r->body)["code"], -1003);
  }
  auto ok = rest->Do(Get("/api/v3/depth?symbol=BTCUSDT&limit=5"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
  auto bad = rest->Do(Fault("kind=earthquake"));
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 400);
}

TEST(VenueSimBinance, SlowFaultDelaysResponsesPastClientTimeout) {
  auto sim = VenueSim::Start(Fast(true, false));
  ASSERT_TRUE(sim.ok()) << sim.status();
  const int port = (*sim)->port(Venue::kBinance);
  auto control = Rest(port);
  ASSERT_EQ(control->Do(Fault("kind=slow&ms=1500"))->status, 200);
  net::RestOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(port);
  o.read_timeout = absl::Milliseconds(300);
  auto client = *net::RestClient::Create(o);
  auto r = client->Do(Get("/api/v3/ping"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  ASSERT_EQ(control->Do(Fault("kind=clear"))->status, 200);
  auto fast = client->Do(Get("/api/v3/ping"));
  ASSERT_TRUE(fast.ok()) << fast.status();
  EXPECT_EQ(fast->status, 200);
}

// ---- Kraken ----

// Pulls {"price":X,"qty":Y} pairs out of a Kraken v2 book side, keeping the number text.
std::vector<venues::KrakenChecksumLevel> LevelsOf(const std::string& frame,
                                                  const std::string& key) {
  std::vector<venues::KrakenChecksumLevel> out;
  size_t start = frame.find("\"" + key + "\":[");
  if (start == std::string::npos) return out;
  size_t end = frame.find(']', start);
  size_t pos = start;
  while (true) {
    size_t p = frame.find("\"price\":", pos);
    if (p == std::string::npos || p > end) break;
    p += 8;
    size_t pe = frame.find(',', p);
    size_t q = frame.find("\"qty\":", pe) + 6;
    size_t qe = frame.find('}', q);
    venues::KrakenChecksumLevel l;
    l.price_e8 = *venues::ParseDecimalE8(frame.substr(p, pe - p), &l.price_decimals);
    l.qty_e8 = *venues::ParseDecimalE8(frame.substr(q, qe - q), &l.qty_decimals);
    out.push_back(l);
    pos = qe;
  }
  return out;
}

// Maintains a Kraken v2 book from snapshot/update frames and checks every checksum.
struct KrakenBook {
  std::map<int64_t, venues::KrakenChecksumLevel, std::greater<int64_t>> bids;
  std::map<int64_t, venues::KrakenChecksumLevel> asks;
  int checked = 0;
  int mismatches = 0;
  int snapshots = 0;
  void Apply(const std::string& frame, int depth) {
    if (frame.find("\"channel\":\"book\"") == std::string::npos) return;
    if (frame.find("\"type\":\"snapshot\"") != std::string::npos) {
      bids.clear();
      asks.clear();
      ++snapshots;
    }
    for (auto& l : LevelsOf(frame, "bids")) {
      if (l.qty_e8 == 0)
        bids.erase(l.price_e8);
      else
        bids[l.price_e8] = l;
    }
    for (auto& l : LevelsOf(frame, "asks")) {
      if (l.qty_e8 == 0)
        asks.erase(l.price_e8);
      else
        asks[l.price_e8] = l;
    }
    while (static_cast<int>(bids.size()) > depth) bids.erase(std::prev(bids.end()));
    while (static_cast<int>(asks.size()) > depth) asks.erase(std::prev(asks.end()));
    std::vector<venues::KrakenChecksumLevel> b, a;
    for (auto& [p, l] : bids) b.push_back(l);
    for (auto& [p, l] : asks) a.push_back(l);
    size_t c = frame.find("\"checksum\":");
    if (c == std::string::npos) return;
    uint32_t want = static_cast<uint32_t>(std::stoul(frame.substr(c + 11)));
    ++checked;
    if (venues::KrakenBookChecksum(a, b) != want) ++mismatches;
  }
};

TEST(VenueSimKraken, BookChecksumsVerifyAndCorruptionIsDetected) {
  auto sim = VenueSim::Start(Fast(false, true));
  ASSERT_TRUE(sim.ok()) << sim.status();
  const int port = (*sim)->port(Venue::kKraken);
  Frames frames;
  auto ws = Connect("ws://127.0.0.1:" + std::to_string(port) + "/v2", &frames,
                    {R"({"method":"subscribe","params":{"channel":"book","symbol":["BTC/USDT"],)"
                     R"("depth":10},"req_id":7})",
                     R"({"method":"subscribe","params":{"channel":"trade","symbol":["BTC/USDT"]}})",
                     R"({"method":"ping","req_id":9})"});
  ASSERT_TRUE(WaitFor([&] {
    KrakenBook book;
    for (const auto& f : frames.Snapshot()) book.Apply(f, 10);
    return book.checked >= 30;
  }));
  {
    KrakenBook book;
    auto all = frames.Snapshot();
    for (const auto& f : all) book.Apply(f, 10);
    EXPECT_EQ(book.mismatches, 0);
    EXPECT_EQ(book.snapshots, 1);
    ASSERT_FALSE(all.empty());
    EXPECT_NE(all[0].find("\"channel\":\"status\""), std::string::npos) << all[0];
    bool ack = false, pong = false;
    for (const auto& f : all) {
      ack |= f.find("\"method\":\"subscribe\"") != std::string::npos &&
             f.find("\"success\":true") != std::string::npos &&
             f.find("\"req_id\":7") != std::string::npos;
      pong |= f.find("\"method\":\"pong\",\"req_id\":9") != std::string::npos;
    }
    EXPECT_TRUE(ack);
    EXPECT_TRUE(pong);
  }
  auto rest = Rest(port);
  ASSERT_EQ(rest->Do(Fault("kind=checksum&count=1"))->status, 200);
  ASSERT_TRUE(WaitFor([&] {
    KrakenBook book;
    for (const auto& f : frames.Snapshot()) book.Apply(f, 10);
    return book.mismatches >= 1;
  }));
  KrakenBook book;
  for (const auto& f : frames.Snapshot()) book.Apply(f, 10);
  EXPECT_EQ(book.mismatches, 1);  // exactly the corrupted one
  ws->Stop();
}

TEST(VenueSimKraken, DisconnectFaultDropsConnectionAndClientResubscribes) {
  auto sim = VenueSim::Start(Fast(false, true));
  ASSERT_TRUE(sim.ok()) << sim.status();
  const int port = (*sim)->port(Venue::kKraken);
  Frames frames;
  auto ws =
      Connect("ws://127.0.0.1:" + std::to_string(port) + "/v2", &frames,
              {R"({"method":"subscribe","params":{"channel":"book","symbol":["ETH/USDT"]}})"});
  auto snapshots = [&] {
    int n = 0;
    for (const auto& f : frames.Snapshot())
      n += f.find("\"type\":\"snapshot\"") != std::string::npos;
    return n;
  };
  ASSERT_TRUE(WaitFor([&] { return snapshots() == 1; }));
  auto rest = Rest(port);
  auto r = rest->Do(Fault("kind=disconnect"));
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->body.find("\"affected\":1"), std::string::npos) << r->body;
  ASSERT_TRUE(WaitFor([&] { return snapshots() == 2; }));
  EXPECT_EQ(ws->Stats().reconnects, 1u);
  ws->Stop();
}

// Kraken private REST: API-Sign over path + SHA256(nonce + body), strictly increasing nonces.
net::HttpRequest KrakenPrivate(const std::string& method, const std::string& body_wo_nonce,
                               uint64_t nonce, const std::string& secret = kDefaultSecret) {
  net::HttpRequest r;
  r.method = "POST";
  r.target = "/0/private/" + method;
  r.body = "nonce=" + std::to_string(nonce) + (body_wo_nonce.empty() ? "" : "&" + body_wo_nonce);
  r.content_type = "application/x-www-form-urlencoded";
  auto sign = venues::KrakenSignature(secret, r.target, std::to_string(nonce), r.body);
  r.headers = {{"API-Key", kDefaultApiKey}, {"API-Sign", sign.ok() ? *sign : "x"}};
  return r;
}

TEST(VenueSimKraken, SignedOrderRoundTripAndVenueErrors) {
  auto sim = VenueSim::Start(Fast(false, true));
  ASSERT_TRUE(sim.ok()) << sim.status();
  auto rest = Rest((*sim)->port(Venue::kKraken));
  uint64_t nonce = static_cast<uint64_t>(NowMs()) * 1000;
  auto add = rest->Do(KrakenPrivate(
      "AddOrder", "ordertype=limit&type=buy&volume=0.25&pair=XBTUSDT&price=1000.00&cl_ord_id=k-1",
      ++nonce));
  ASSERT_TRUE(add.ok());
  auto aj = nlohmann::json::parse(add->body);
  ASSERT_TRUE(aj["error"].empty()) << add->body;
  const std::string txid = aj["result"]["txid"][0].get<std::string>();
  EXPECT_EQ(aj["result"]["descr"]["order"], "buy 0.25000000 XBTUSDT @ limit 1000.00");

  auto open = rest->Do(KrakenPrivate("OpenOrders", "", ++nonce));
  ASSERT_TRUE(open.ok());
  auto oj = nlohmann::json::parse(open->body);
  ASSERT_TRUE(oj["result"]["open"].contains(txid)) << open->body;
  EXPECT_EQ(oj["result"]["open"][txid]["vol"], "0.25000000");

  auto bal = rest->Do(KrakenPrivate("Balance", "", ++nonce));
  ASSERT_TRUE(bal.ok());
  auto bj = nlohmann::json::parse(bal->body);
  EXPECT_EQ(bj["result"]["XXBT"], "100.00000000") << bal->body;

  auto cancel = rest->Do(KrakenPrivate("CancelOrder", "txid=" + txid, ++nonce));
  ASSERT_TRUE(cancel.ok());
  EXPECT_EQ(cancel->body, R"({"error":[],"result":{"count":1}})");

  auto unknown = rest->Do(KrakenPrivate("CancelOrder", "txid=" + txid, ++nonce));
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->body, R"({"error":["EOrder:Unknown order"]})");

  auto bad_sig = rest->Do(KrakenPrivate("Balance", "", ++nonce, "b3RoZXItc2VjcmV0"));
  ASSERT_TRUE(bad_sig.ok());
  EXPECT_EQ(bad_sig->body, R"({"error":["EAPI:Invalid signature"]})");

  auto replay = rest->Do(KrakenPrivate("Balance", "", nonce - 3));
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->body, R"({"error":["EAPI:Invalid nonce"]})");

  auto poor = rest->Do(KrakenPrivate(
      "AddOrder", "ordertype=limit&type=sell&volume=5000&pair=XBTUSDT&price=30000.00", ++nonce));
  ASSERT_TRUE(poor.ok());
  EXPECT_EQ(poor->body, R"({"error":["EOrder:Insufficient funds"]})");

  auto bad_pair = rest->Do(KrakenPrivate(
      "AddOrder", "ordertype=limit&type=buy&volume=1&pair=NOPEUSD&price=1.00", ++nonce));
  ASSERT_TRUE(bad_pair.ok());
  EXPECT_EQ(bad_pair->body, R"({"error":["EQuery:Unknown asset pair"]})");

  ASSERT_EQ(rest->Do(Fault("kind=rate_limit&count=1"))->status, 200);
  auto limited = rest->Do(KrakenPrivate("Balance", "", ++nonce));
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->body, R"({"error":["EAPI:Rate limit exceeded"]})");
}

TEST(VenueSimKraken, MalformedFaultSendsFramesThatAreNotValidBookMessages) {
  auto sim = VenueSim::Start(Fast(false, true));
  ASSERT_TRUE(sim.ok()) << sim.status();
  const int port = (*sim)->port(Venue::kKraken);
  Frames frames;
  auto ws = Connect("ws://127.0.0.1:" + std::to_string(port) + "/v2", &frames);
  ASSERT_TRUE(WaitFor([&] { return !frames.Snapshot().empty(); }));  // status frame
  auto rest = Rest(port);
  ASSERT_EQ(rest->Do(Fault("kind=malformed&count=3"))->status, 200);
  ASSERT_TRUE(WaitFor([&] { return frames.Snapshot().size() >= 4; }));
  int invalid = 0;
  for (const auto& f : frames.Snapshot()) {
    auto j = nlohmann::json::parse(f, nullptr, false);
    if (j.is_discarded()) ++invalid;
  }
  EXPECT_GE(invalid, 2);  // the truncated one and "not json"
  ws->Stop();
}

// ---- Bybit ----

struct BybitBookMsg {
  std::string type;
  int64_t u = 0;
  int64_t seq = 0;
};

std::vector<BybitBookMsg> BybitBook(const std::vector<std::string>& frames) {
  std::vector<BybitBookMsg> out;
  for (const auto& f : frames) {
    auto j = nlohmann::json::parse(f, nullptr, false);
    if (j.is_discarded() || !j.contains("topic") || j["topic"] != "orderbook.50.BTCUSDT") continue;
    out.push_back({j["type"].get<std::string>(), j["data"]["u"].get<int64_t>(),
                   j["data"]["seq"].get<int64_t>()});
  }
  return out;
}

TEST(VenueSimBybit, OrderbookUpdateIdsChainAndGapIsVisible) {
  auto sim = VenueSim::Start(Fast(false, false, true));
  ASSERT_TRUE(sim.ok()) << sim.status();
  const int port = (*sim)->port(Venue::kBybit);
  Frames frames;
  auto ws = Connect(
      "ws://127.0.0.1:" + std::to_string(port) + "/v5/public/spot", &frames,
      {R"({"op":"subscribe","args":["orderbook.50.BTCUSDT","publicTrade.BTCUSDT"],"req_id":"r1"})",
       R"({"op":"ping","req_id":"p1"})"});
  ASSERT_TRUE(WaitFor([&] { return BybitBook(frames.Snapshot()).size() >= 6; }));
  auto rest = Rest(port);
  ASSERT_EQ(rest->Do(Fault("kind=gap&count=4"))->status, 200);
  ASSERT_TRUE(WaitFor([&] {
    auto m = BybitBook(frames.Snapshot());
    for (size_t i = 1; i < m.size(); ++i) {
      if (m[i].u != m[i - 1].u + 1) return true;
    }
    return false;
  }));
  auto m = BybitBook(frames.Snapshot());
  ASSERT_EQ(m[0].type, "snapshot");
  int jumps = 0;
  for (size_t i = 1; i < m.size(); ++i) {
    EXPECT_EQ(m[i].type, "delta");
    EXPECT_GT(m[i].seq, m[i - 1].seq);
    if (m[i].u != m[i - 1].u + 1) {
      ++jumps;
      EXPECT_EQ(m[i].u, m[i - 1].u + 1 + 4);
    }
  }
  EXPECT_EQ(jumps, 1);
  bool ack = false, pong = false;
  for (const auto& f : frames.Snapshot()) {
    ack |= f.find(R"("success":true,"ret_msg":"subscribe")") != std::string::npos;
    pong |= f.find(R"("ret_msg":"pong")") != std::string::npos;
  }
  EXPECT_TRUE(ack);
  EXPECT_TRUE(pong);
  ws->Stop();
}

// Bybit v5 private request: X-BAPI-SIGN = hex HMAC-SHA256(timestamp + key + recv_window + body).
net::HttpRequest BybitPost(const std::string& path, const std::string& body,
                           const std::string& secret = kDefaultSecret) {
  const int64_t ts = NowMs();
  net::HttpRequest r;
  r.method = "POST";
  r.target = path;
  r.body = body;
  r.content_type = "application/json";
  r.headers = {{"X-BAPI-API-KEY", kDefaultApiKey},
               {"X-BAPI-TIMESTAMP", std::to_string(ts)},
               {"X-BAPI-RECV-WINDOW", "5000"},
               {"X-BAPI-SIGN", venues::BybitSignature(secret, ts, kDefaultApiKey, 5000, body)}};
  return r;
}

net::HttpRequest BybitGet(const std::string& path, const std::string& query) {
  const int64_t ts = NowMs();
  net::HttpRequest r;
  r.target = path + "?" + query;
  r.headers = {
      {"X-BAPI-API-KEY", kDefaultApiKey},
      {"X-BAPI-TIMESTAMP", std::to_string(ts)},
      {"X-BAPI-RECV-WINDOW", "5000"},
      {"X-BAPI-SIGN", venues::BybitSignature(kDefaultSecret, ts, kDefaultApiKey, 5000, query)}};
  return r;
}

TEST(VenueSimBybit, SignedOrderRoundTripAndVenueErrors) {
  auto sim = VenueSim::Start(Fast(false, false, true));
  ASSERT_TRUE(sim.ok()) << sim.status();
  auto rest = Rest((*sim)->port(Venue::kBybit));
  auto created = rest->Do(BybitPost(
      "/v5/order/create",
      R"({"category":"spot","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.1","price":"1000.00","timeInForce":"GTC","orderLinkId":"b-1"})"));
  ASSERT_TRUE(created.ok());
  auto cj = nlohmann::json::parse(created->body);
  ASSERT_EQ(cj["retCode"], 0) << created->body;
  EXPECT_EQ(cj["result"]["orderLinkId"], "b-1");

  auto open = rest->Do(BybitGet("/v5/order/realtime", "category=spot&symbol=BTCUSDT"));
  ASSERT_TRUE(open.ok());
  auto oj = nlohmann::json::parse(open->body);
  ASSERT_EQ(oj["result"]["list"].size(), 1u) << open->body;
  EXPECT_EQ(oj["result"]["list"][0]["orderStatus"], "New");

  auto wallet = rest->Do(BybitGet("/v5/account/wallet-balance", "accountType=UNIFIED"));
  ASSERT_TRUE(wallet.ok());
  EXPECT_EQ(nlohmann::json::parse(wallet->body)["retCode"], 0) << wallet->body;

  auto cancel = rest->Do(BybitPost(
      "/v5/order/cancel", R"({"category":"spot","symbol":"BTCUSDT","orderLinkId":"b-1"})"));
  ASSERT_TRUE(cancel.ok());
  EXPECT_EQ(nlohmann::json::parse(cancel->body)["retCode"], 0) << cancel->body;
  auto again = rest->Do(BybitPost("/v5/order/cancel",
                                  R"({"category":"spot","symbol":"BTCUSDT","orderLinkId":"b-1"})"));
  EXPECT_EQ(nlohmann::json::parse(again->body)["retCode"], 170213) << again->body;

  auto bad_sig = rest->Do(BybitPost(
      "/v5/order/create",
      R"({"category":"spot","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"10"})",
      "wrong-secret"));
  EXPECT_EQ(nlohmann::json::parse(bad_sig->body)["retCode"], 10004) << bad_sig->body;

  auto market = rest->Do(BybitPost(
      "/v5/order/create",
      R"({"category":"spot","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"100"})"));
  EXPECT_EQ(nlohmann::json::parse(market->body)["retCode"], 0) << market->body;

  auto poor = rest->Do(BybitPost(
      "/v5/order/create",
      R"({"category":"spot","symbol":"BTCUSDT","side":"Sell","orderType":"Limit","qty":"5000","price":"30000.00"})"));
  EXPECT_EQ(nlohmann::json::parse(poor->body)["retCode"], 170131) << poor->body;

  ASSERT_EQ(rest->Do(Fault("kind=rate_limit&count=1"))->status, 200);
  auto limited = rest->Do(BybitGet("/v5/order/realtime", "category=spot"));
  EXPECT_EQ(nlohmann::json::parse(limited->body)["retCode"], 10006) << limited->body;
}

// The real libs/venues Bybit codecs (what market-data and execution use) against the simulator.
TEST(VenueSimBybit, VenueCodecsSyncBooksResyncAfterGapAndRoundTripOrders) {
  auto sim = VenueSim::Start(Fast(false, false, true));
  ASSERT_TRUE(sim.ok()) << sim.status();
  const int port = (*sim)->port(Venue::kBybit);
  auto symbols = venues::SymbolMap::Create({"BTC-USDT", "ETH-USDT"});
  ASSERT_TRUE(symbols.ok());
  auto codec = venues::MakeFeedCodec(Venue::kBybit, *symbols);
  ASSERT_TRUE(codec.ok()) << codec.status();
  std::mutex mu;
  venues::FeedStats stats;
  int64_t events = 0;
  std::atomic<net::WsClient*> client{nullptr};
  net::WsOptions o;
  o.url = "ws://127.0.0.1:" + std::to_string(port) + (*codec)->ConnectTarget();
  o.app_ping_frame = (*codec)->PingFrame();
  net::WsHandlers h;
  h.on_open = [&] { return (*codec)->SubscribeFrames(); };
  h.on_frame = [&](std::string_view f, int64_t recv_ns) {
    std::vector<v1::MarketEvent> out;
    absl::Status s = (*codec)->Decode(f, recv_ns, &out);
    if (s.code() == absl::StatusCode::kDataLoss) {
      for (const auto& sym : {"BTC-USDT", "ETH-USDT"}) {
        for (auto& frame : (*codec)->ResyncFrames(sym)) client.load()->Send(frame);
      }
    }
    std::lock_guard<std::mutex> l(mu);
    stats = (*codec)->stats();
    events += static_cast<int64_t>(out.size());
  };
  h.on_disconnect = [&](const absl::Status&) { (*codec)->Reset(); };
  net::WsClient ws(o, h);
  client = &ws;
  ASSERT_TRUE(ws.Start().ok());
  auto snap = [&] {
    std::lock_guard<std::mutex> l(mu);
    return stats;
  };
  ASSERT_TRUE(WaitFor([&] { return snap().frames >= 20; }));
  EXPECT_EQ(snap().parse_errors, 0u);
  EXPECT_EQ(snap().gaps, 0u);
  EXPECT_GE(snap().snapshots, 2u);  // one per symbol
  auto rest = Rest(port);
  ASSERT_EQ(rest->Do(Fault("kind=gap&count=3&symbol=BTCUSDT"))->status, 200);
  ASSERT_TRUE(WaitFor([&] { return snap().gaps >= 1 && snap().resyncs >= 1; }));
  EXPECT_EQ(snap().parse_errors, 0u);
  ws.Stop();

  venues::Credentials creds{kDefaultApiKey, kDefaultSecret};
  auto api = venues::MakeOrderApi(Venue::kBybit, *symbols, creds);
  ASSERT_TRUE(api.ok()) << api.status();
  venues::OrderParams p;
  p.symbol = "BTC-USDT";
  p.side = v1::SIDE_BUY;
  p.type = v1::ORDER_TYPE_LIMIT;
  p.qty_e8 = 10000000;              // 0.1
  p.price_e8 = 1000LL * 100000000;  // far below the market: rests
  p.client_order_id = "codec-1";
  auto place = (*api)->PlaceOrder(p);
  ASSERT_TRUE(place.ok()) << place.status();
  auto placed = rest->Do(*place);
  ASSERT_TRUE(placed.ok());
  auto ack = (*api)->ParsePlace(*placed);
  ASSERT_TRUE(ack.ok()) << ack.status() << " " << placed->body;
  EXPECT_FALSE(ack->venue_order_id.empty());
  auto open_req = (*api)->OpenOrders();
  ASSERT_TRUE(open_req.ok());
  auto open = (*api)->ParseOpenOrders(*rest->Do(*open_req));
  ASSERT_TRUE(open.ok()) << open.status();
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ((*open)[0].client_order_id, "codec-1");
  EXPECT_EQ((*open)[0].qty_e8, 10000000);
  auto bal_req = (*api)->Balances();
  ASSERT_TRUE(bal_req.ok());
  auto bal = (*api)->ParseBalances(*rest->Do(*bal_req));
  ASSERT_TRUE(bal.ok()) << bal.status();
  bool usdt = false;
  for (const auto& b : *bal) {
    if (b.asset == "USDT") {
      usdt = true;
      EXPECT_EQ(b.total_e8, 1000000LL * 100000000);
      EXPECT_EQ(b.available_e8, 1000000LL * 100000000 - 100LL * 100000000);
    }
  }
  EXPECT_TRUE(usdt);
  auto cancel_req = (*api)->CancelOrder("BTC-USDT", "codec-1");
  ASSERT_TRUE(cancel_req.ok());
  auto cancelled = (*api)->ParseCancel(*rest->Do(*cancel_req));
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  auto again = (*api)->ParseCancel(*rest->Do(*(*api)->CancelOrder("BTC-USDT", "codec-1")));
  EXPECT_FALSE(again.ok());
  auto bad_api = venues::MakeOrderApi(Venue::kBybit, *symbols, {kDefaultApiKey, "wrong"});
  ASSERT_TRUE(bad_api.ok());
  auto rejected = (*bad_api)->ParsePlace(*rest->Do(*(*bad_api)->PlaceOrder(p)));
  EXPECT_FALSE(rejected.ok());
}

TEST(VenueSim, HostileInputGetsErrorsAndChangesNothing) {
  auto sim = VenueSim::Start(Fast(true, true, true));
  ASSERT_TRUE(sim.ok()) << sim.status();
  struct Target {
    Venue venue;
    std::string path;
  };
  for (const Target& t : {Target{Venue::kBinance, "/ws"}, Target{Venue::kKraken, "/v2"},
                          Target{Venue::kBybit, "/v5/public/spot"}}) {
    Frames frames;
    auto ws =
        Connect("ws://127.0.0.1:" + std::to_string((*sim)->port(t.venue)) + t.path, &frames,
                {"", "{", "[1,2]", "null", R"({"method":7,"op":[],"params":"x","args":{}})",
                 R"({"method":"subscribe","params":{"channel":"book","symbol":[1],"depth":"x"}})",
                 R"({"op":"subscribe","args":["orderbook.7.BTCUSDT","x.y.z.w"]})",
                 std::string(100000, '{')});
    ASSERT_TRUE(WaitFor([&] { return frames.Snapshot().size() >= 3; })) << t.path;
    EXPECT_EQ(ws->Stats().reconnects, 0u) << t.path;
    ws->Stop();
    auto rest = Rest((*sim)->port(t.venue));
    for (const char* target : {"/api/v3/order?%%%%=&&&=", "/0/private/AddOrder", "/v5/order/create",
                               "/api/v3/depth?symbol=%ZZ&limit=-1",
                               "/0/public/Depth?pair=", "/v5/market/orderbook?symbol=&limit=x"}) {
      net::HttpRequest r;
      r.method = "POST";
      r.target = target;
      r.body = "nonce=abc&{\"category\":[]}";
      r.headers = {{"X-MBX-APIKEY", "k"}, {"API-Key", "k"}, {"X-BAPI-API-KEY", "k"}};
      auto resp = rest->Do(r);
      ASSERT_TRUE(resp.ok()) << target << " " << resp.status();
      EXPECT_LT(resp->status, 500) << target << " " << resp->body;
    }
    auto ping = rest->Do(Get("/sim/state"));
    ASSERT_TRUE(ping.ok());
    EXPECT_EQ(ping->status, 200);
  }
}

// ---- The binary ----

TEST(VenueSimBinary, WritesPortsFileServesAndExitsCleanlyOnSigterm) {
  char dir_template[] = "/tmp/venue-sim-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string ports_file = std::string(dir_template) + "/ports";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string flag = "--ports_file=" + ports_file;
    execl(VENUE_SIM_BINARY, VENUE_SIM_BINARY, flag.c_str(), "--kraken_port=-1", "--bybit_port=-1",
          "--log_level=warn", static_cast<char*>(nullptr));
    _exit(127);
  }
  std::string text;
  ASSERT_TRUE(WaitFor([&] {
    std::ifstream f(ports_file);
    std::stringstream ss;
    ss << f.rdbuf();
    text = ss.str();
    return !text.empty();
  }));
  ASSERT_EQ(text.rfind("binance=", 0), 0u) << text;
  EXPECT_EQ(text.find("kraken="), std::string::npos);
  const int port = std::stoi(text.substr(8));
  auto rest = Rest(port);
  auto ping = rest->Do(Get("/api/v3/ping"));
  ASSERT_TRUE(ping.ok()) << ping.status();
  EXPECT_EQ(ping->status, 200);
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// ---- Batch endpoints, QueryOrders and fees, through libs/venues' own codecs ----

std::unique_ptr<venues::OrderApi> Api(Venue venue, const std::string& secret = kDefaultSecret) {
  auto map = venues::SymbolMap::Create({"BTC-USDT", "ETH-USDT"});
  EXPECT_TRUE(map.ok());
  auto api = venues::MakeOrderApi(venue, *map, {kDefaultApiKey, secret});
  EXPECT_TRUE(api.ok()) << api.status();
  return std::move(*api);
}

venues::OrderParams Buy(const std::string& id, int64_t qty_e8, int64_t price_e8,
                        const std::string& symbol = "BTC-USDT") {
  venues::OrderParams p;
  p.symbol = symbol;
  p.side = v1::SIDE_BUY;
  p.type = v1::ORDER_TYPE_LIMIT;
  p.qty_e8 = qty_e8;
  p.price_e8 = price_e8;
  p.client_order_id = id;
  return p;
}

constexpr int64_t kE8 = 100'000'000;

nlohmann::json SimState(net::RestClient& rest) {
  auto st = rest.Do(Get("/sim/state"));
  EXPECT_TRUE(st.ok());
  return st.ok() ? nlohmann::json::parse(st->body, nullptr, false) : nlohmann::json();
}

// The venue counters ("create_batch_requests", ...) wherever /sim/state nests them.
int64_t Counter(const nlohmann::json& j, const std::string& name) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (k == name && v.is_number()) return v.get<int64_t>();
      if (int64_t n = Counter(v, name); n >= 0) return n;
    }
  }
  return -1;
}

TEST(VenueSimBybit, BatchCreateAndCancelAnswerEachOrderOnItsOwn) {
  auto sim = VenueSim::Start(Fast(false, false, true));
  ASSERT_TRUE(sim.ok()) << sim.status();
  auto rest = Rest((*sim)->port(Venue::kBybit));
  auto api = Api(Venue::kBybit);
  // Two resting buys and a sell the account cannot cover (100 BTC): one request.
  auto sell = Buy("bb-3", 5000 * kE8, 30'000 * kE8);
  sell.side = v1::SIDE_SELL;
  std::vector<venues::OrderParams> orders = {Buy("bb-1", kE8 / 10, 1000 * kE8),
                                             Buy("bb-2", kE8 / 10, 1001 * kE8), sell};
  auto req = api->PlaceOrders(orders);
  ASSERT_TRUE(req.ok()) << req.status();
  auto resp = rest->Do(*req);
  ASSERT_TRUE(resp.ok()) << resp.status();
  auto placed = api->ParsePlaceBatch(*resp, {"bb-1", "bb-2", "bb-3"});
  ASSERT_TRUE(placed.ok()) << placed.status() << " " << resp->body;
  ASSERT_EQ(placed->size(), 3u);
  ASSERT_TRUE((*placed)[0].ok()) << (*placed)[0].status();
  ASSERT_TRUE((*placed)[1].ok()) << (*placed)[1].status();
  EXPECT_NE((*placed)[0]->venue_order_id, (*placed)[1]->venue_order_id);
  EXPECT_EQ((*placed)[2].status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*placed)[2].status().message(), "bybit 170131: Insufficient balance.");
  nlohmann::json st = SimState(*rest);
  EXPECT_EQ(Counter(st, "create_batch_requests"), 1) << st.dump();
  EXPECT_EQ(Counter(st, "create_batch_orders"), 3) << st.dump();
  EXPECT_EQ(Counter(st, "create_requests"), 0) << st.dump();
  auto open = rest->Do(*api->OpenOrders());
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(api->ParseOpenOrders(*open)->size(), 2u);
  // Batch cancel: both resting orders and one the venue does not know.
  auto creq = api->CancelOrders({{"BTC-USDT", "bb-1"}, {"BTC-USDT", "nope"}, {"BTC-USDT", "bb-2"}});
  ASSERT_TRUE(creq.ok()) << creq.status();
  auto cresp = rest->Do(*creq);
  ASSERT_TRUE(cresp.ok());
  auto cancelled = api->ParseCancelBatch(*cresp, {"bb-1", "nope", "bb-2"});
  ASSERT_TRUE(cancelled.ok()) << cancelled.status() << " " << cresp->body;
  EXPECT_TRUE((*cancelled)[0].ok());
  EXPECT_EQ((*cancelled)[1].status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE((*cancelled)[2].ok());
  EXPECT_TRUE(api->ParseOpenOrders(*rest->Do(*api->OpenOrders()))->empty());
  // More than 10 orders is the venue's params error, and nothing is placed.
  std::string body = R"({"category":"spot","request":[)";
  for (int i = 0; i < 11; ++i) {
    body += absl::StrCat(i ? "," : "", R"({"symbol":"BTCUSDT","side":"Buy","orderType":"Limit",)",
                         R"("qty":"0.1","price":"1000.00","orderLinkId":"x)", i, "\"}");
  }
  body += "]}";
  auto eleven = rest->Do(BybitPost("/v5/order/create-batch", body));
  ASSERT_TRUE(eleven.ok());
  EXPECT_EQ(nlohmann::json::parse(eleven->body)["retCode"], 10001) << eleven->body;
  EXPECT_TRUE(api->ParseOpenOrders(*rest->Do(*api->OpenOrders()))->empty());
  // A batch signed with the wrong secret is refused as a whole.
  auto bad = Api(Venue::kBybit, "wrong-secret")->PlaceOrders({Buy("bb-9", kE8, 1000 * kE8)});
  auto bad_resp = rest->Do(*bad);
  EXPECT_EQ(api->ParsePlaceBatch(*bad_resp, {"bb-9"}).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(VenueSimKraken, AddOrderBatchValidatesTheWholeBatchThenPlacesEachOrder) {
  auto sim = VenueSim::Start(Fast(false, true));
  ASSERT_TRUE(sim.ok()) << sim.status();
  auto rest = Rest((*sim)->port(Venue::kKraken));
  auto api = Api(Venue::kKraken);
  auto sell = Buy("kb-3", 5000 * kE8, 30'000 * kE8);
  sell.side = v1::SIDE_SELL;
  auto req = api->PlaceOrders(
      {Buy("kb-1", kE8 / 10, 1000 * kE8), Buy("kb-2", kE8 / 10, 1001 * kE8), sell});
  ASSERT_TRUE(req.ok()) << req.status();
  auto resp = rest->Do(*req);
  ASSERT_TRUE(resp.ok());
  auto placed = api->ParsePlaceBatch(*resp, {"kb-1", "kb-2", "kb-3"});
  ASSERT_TRUE(placed.ok()) << placed.status() << " " << resp->body;
  ASSERT_TRUE((*placed)[0].ok()) << (*placed)[0].status();
  ASSERT_TRUE((*placed)[1].ok()) << (*placed)[1].status();
  EXPECT_EQ((*placed)[2].status().message(), "kraken EOrder:Insufficient funds");
  nlohmann::json st = SimState(*rest);
  EXPECT_EQ(Counter(st, "add_order_batch_requests"), 1) << st.dump();
  EXPECT_EQ(Counter(st, "add_order_batch_orders"), 3) << st.dump();
  // QueryOrders by cl_ord_id (and txid) finds the order, open then cancelled.
  auto q = rest->Do(*api->QueryOrder("BTC-USDT", "kb-1"));
  ASSERT_TRUE(q.ok());
  auto open = api->ParseQueryOrder(*q);
  ASSERT_TRUE(open.ok()) << open.status() << " " << q->body;
  EXPECT_EQ(open->status, v1::ORDER_STATUS_ACKED);
  EXPECT_EQ(open->venue_order_id, (*placed)[0]->venue_order_id);
  EXPECT_EQ(open->client_order_id, "kb-1");
  ASSERT_TRUE(api->ParseCancel(*rest->Do(*api->CancelOrder("BTC-USDT", "kb-1"))).ok());
  auto gone = api->ParseQueryOrder(
      *rest->Do(*api->QueryOrder("BTC-USDT", "kb-1", (*placed)[0]->venue_order_id)));
  ASSERT_TRUE(gone.ok()) << gone.status();
  EXPECT_EQ(gone->status, v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(api->ParseQueryOrder(*rest->Do(*api->QueryOrder("BTC-USDT", "never"))).status().code(),
            absl::StatusCode::kNotFound);
  // One invalid order (price off the tick) refuses the whole batch: nothing more is placed.
  auto req2 = api->PlaceOrders({Buy("kb-4", kE8 / 10, 1000 * kE8), Buy("kb-5", kE8 / 10, 100'000)});
  ASSERT_TRUE(req2.ok());
  auto refused = api->ParsePlaceBatch(*rest->Do(*req2), {"kb-4", "kb-5"});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
  EXPECT_EQ(api->ParseOpenOrders(*rest->Do(*api->OpenOrders()))->size(), 1u);  // kb-2 only
  // The JSON body is signed like the form bodies: a wrong secret is refused.
  auto bad = Api(Venue::kKraken, "b3RoZXItc2VjcmV0")
                 ->PlaceOrders({Buy("kb-6", kE8, 1000 * kE8), Buy("kb-7", kE8, 1000 * kE8)});
  EXPECT_EQ(api->ParsePlaceBatch(*rest->Do(*bad), {"kb-6", "kb-7"}).status().code(),
            absl::StatusCode::kPermissionDenied);
}

// A marketable buy of 0.01 BTC on each venue with a 10 bps taker fee: each venue reports the fee
// in its own format and the balances pay it.
TEST(VenueSim, FeesAreChargedAndReportedInEachVenuesFormat) {
  SimOptions o = Fast(true, true, true);
  o.fees.taker_bps_e8 = 10 * kE8;
  o.fees.maker_bps_e8 = 2 * kE8;
  auto sim = VenueSim::Start(o);
  ASSERT_TRUE(sim.ok()) << sim.status();
  for (Venue venue : {Venue::kBinance, Venue::kKraken, Venue::kBybit}) {
    SCOPED_TRACE(venues::VenueName(venue));
    auto rest = Rest((*sim)->port(venue));
    auto api = Api(venue);
    int64_t ask = 0;
    (*sim)->RunOnIo([&] { ask = (*sim)->market(venue)->engine().Asks("BTC-USDT", 1)[0].first; });
    ASSERT_GT(ask, 0);
    const int64_t price = (ask + ask / 50) / 1'000'000 * 1'000'000;
    auto placed = api->ParsePlace(*rest->Do(*api->PlaceOrder(Buy("fee-1", kE8 / 100, price))));
    ASSERT_TRUE(placed.ok()) << placed.status();
    auto q = api->ParseQueryOrder(*rest->Do(*api->QueryOrder("BTC-USDT", "fee-1")));
    ASSERT_TRUE(q.ok()) << q.status();
    ASSERT_EQ(q->status, v1::ORDER_STATUS_FILLED);
    const int64_t notional =
        static_cast<int64_t>(static_cast<__int128>(q->avg_price_e8) * q->filled_qty_e8 / kE8);
    auto balances = api->ParseBalances(*rest->Do(*api->Balances()));
    ASSERT_TRUE(balances.ok()) << balances.status();
    std::map<std::string, int64_t> total;
    for (const auto& b : *balances) total[b.asset] = b.total_e8;
    int64_t fee = 0;
    if (venue == Venue::kBinance) {
      // FULL answer: each fill's commission, in the received asset (BTC).
      ASSERT_TRUE(placed->fee_known);
      EXPECT_EQ(placed->fee_asset, "BTC");
      fee = placed->fee_e8;
      EXPECT_NEAR(fee, kE8 / 100 / 1000, placed->fills.size());  // 10 bps, rounded up per fill
      // myTrades reports the same commissions.
      auto trades =
          api->ParseOrderTrades(*rest->Do(*api->OrderTrades("BTC-USDT", placed->venue_order_id)));
      ASSERT_TRUE(trades.ok()) << trades.status();
      int64_t sum = 0;
      for (const auto& t : *trades) sum += t.fee_e8;
      EXPECT_EQ(sum, fee);
      EXPECT_EQ(total["BTC"], 100 * kE8 + kE8 / 100 - fee);
    } else if (venue == Venue::kBybit) {
      // cumExecFee, in the received coin.
      ASSERT_TRUE(q->fee_known);
      EXPECT_EQ(q->fee_asset, "BTC");
      fee = q->fee_e8;
      EXPECT_NEAR(fee, kE8 / 100 / 1000, 20);
      EXPECT_EQ(total["BTC"], 100 * kE8 + kE8 / 100 - fee);
    } else {
      // QueryOrders `fee`, in the quote currency.
      ASSERT_TRUE(q->fee_known);
      EXPECT_EQ(q->fee_asset, "USDT");
      fee = q->fee_e8;
      EXPECT_NEAR(fee, notional / 1000, 20);
      EXPECT_EQ(total["BTC"], 100 * kE8 + kE8 / 100);
      EXPECT_NEAR(total["USDT"], 1'000'000 * kE8 - notional - fee, 20);
    }
    EXPECT_GT(fee, 0);
  }
}
}  // namespace
}  // namespace tickmesh::venue_sim
