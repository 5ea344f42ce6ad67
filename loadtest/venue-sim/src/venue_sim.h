// VenueSim: the whole simulator in one object — one synthetic market + matching engine per
// simulated venue, each venue on its own loopback port (WebSocket and REST on the same port),
// driven by one io thread. Used by main.cc and, in-process, by tests.
//
// Example:
//   tickmesh::venue_sim::SimOptions o;          // Binance and Kraken on ephemeral ports
//   auto sim = tickmesh::venue_sim::VenueSim::Start(o);
//   int port = (*sim)->port(tickmesh::venues::Venue::kBinance);
//   ... ws://127.0.0.1:<port>/stream?streams=btcusdt@depth@100ms ...
//   (*sim)->Stop();
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "market.h"
#include "port_server.h"
#include "rest_limits.h"
#include "tickmesh/venues/venue.h"
#include "venue_common.h"

namespace tickmesh::venue_sim {

// The account every simulated venue accepts unless told otherwise. The secret is valid base64
// (Kraken decodes it) and is used verbatim as Binance's HMAC key.
inline constexpr char kDefaultApiKey[] = "sim-key";
inline constexpr char kDefaultSecret[] = "dGlja21lc2gtdmVudWUtc2ltLXNlY3JldA==";

struct SimOptions {
  std::string host = "127.0.0.1";
  // Port per venue: 0 = any free port (learn it from port() / the ports file), -1 = venue off.
  int binance_port = 0;
  int kraken_port = 0;
  int bybit_port = 0;
  // Tickmesh symbols simulated on every venue ("BASE-QUOTE").
  std::vector<std::string> symbols = {"BTC-USDT", "ETH-USDT"};
  // Synthetic market-maker actions per second per symbol (each usually changes the book).
  double rate = 20;
  MarketOptions market;
  std::vector<Account> accounts = {{kDefaultApiKey, kDefaultSecret}};
  // Starting balance of every account on every venue.
  std::map<std::string, int64_t> balances_e8 = {{"USDT", 1000000LL * 100000000},
                                                {"USD", 1000000LL * 100000000},
                                                {"BTC", 100LL * 100000000},
                                                {"ETH", 1000LL * 100000000}};
  // Maker / taker fee rates of every venue (in_quote is set per venue: Kraken charges in the
  // quote asset, Binance and Bybit in the received asset). None by default.
  FeeSchedule fees;
  // Faults for the whole run: REST latency, every Nth REST request rate-limited.
  PortFaults faults;
  // The venues' REST rate limits (usage headers always; refusals only when set; rest_limits.h).
  RestLimitOptions limits;
  // Periodic faults on every venue (0 = off): drop all WebSockets, inject a sequence gap
  // (Binance) / dropped book update (Kraken), send one malformed frame to every connection.
  int64_t disconnect_every_ms = 0;
  int64_t gap_every_ms = 0;
  int64_t malformed_every_ms = 0;
};

class VenueSim {
 public:
  // Binds every enabled venue's port and starts the io thread. INVALID_ARGUMENT for bad options
  // (symbols, rate <= 0, no venue enabled), UNAVAILABLE if a port cannot be bound.
  static absl::StatusOr<std::unique_ptr<VenueSim>> Start(SimOptions options);
  ~VenueSim();
  VenueSim(const VenueSim&) = delete;
  VenueSim& operator=(const VenueSim&) = delete;

  // Closes every port and connection and joins the io thread. Idempotent.
  void Stop();

  // Bound port of a venue, or -1 if it is not simulated.
  int port(venues::Venue venue) const;
  // "binance=<port>\nkraken=<port>\n" for enabled venues (the --ports_file content).
  std::string PortsText() const;

  // Runs `fn` on the io thread and waits for it (state is only touched there).
  void RunOnIo(const std::function<void()>& fn);

  // Access for in-process tests; only touch inside RunOnIo.
  Market* market(venues::Venue venue);
  VenueEndpoint* endpoint(venues::Venue venue);

 private:
  VenueSim();
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickmesh::venue_sim
