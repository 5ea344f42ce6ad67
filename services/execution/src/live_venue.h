// LiveVenue: a real exchange (Binance spot, Kraken spot, Bybit v5) behind the Venue contract —
// libs/venues' OrderApi builds the signed requests and parses the answers, libs/net's RestClient
// sends them over a keep-alive pool. remote() is true: every call does blocking network I/O and
// is only made from the venue's VenueWorker thread.
//
// Ids: the client order id sent to the venue is execution's order id ("o-<n>", unique across
// restarts), so orders are found again by it after a restart and in the venue's open orders.
//
// Order state: REST polling. Place answers carry what the venue says at once (Binance FULL
// responses: status, cumulative fills and average price; Kraken and Bybit: accepted only);
// OpenOrders carries cumulative filled quantities of working orders. Query asks the venue for the
// one order by client order id (OrderApi::QueryOrder: Binance GET /api/v3/order, Kraken
// QueryOrders by cl_ord_id (+ txid when known), Bybit /v5/order/realtime by orderLinkId), open or
// closed — this resolves orders that left the open orders without our cancel (filled, cancelled
// elsewhere, expired) and places whose answer was lost. Transport / rate-limit / auth errors are
// returned as they are (the engine retries; nothing is guessed).
//
// Last resort, only when the lookup answers NOT_FOUND or UNIMPLEMENTED: the open orders are
// checked; a NEW order found nowhere answers NOT_FOUND (never placed). An acknowledged order
// found nowhere is INFERRED (VenueOrderState::inferred, metric venue_inferred_fills_total,
// engine warning; the venue's balances, fetched right after, remain the source of truth):
//  - Binance NOT_FOUND: Binance only drops (archives) CANCELED/EXPIRED orders without trades,
//    so the order is taken as CANCELLED with what was already filled.
//  - Bybit NOT_FOUND (closed longer ago than /v5/order/realtime lists closed orders), Kraken
//    NOT_FOUND (QueryOrders has no order for the cl_ord_id), or UNIMPLEMENTED (an endpoint that
//    does not serve the lookup, e.g. the simulator's Kraken): taken as FILLED, the remaining
//    quantity at its limit price (MARKET: at the arrival mid; without one the query answers
//    UNIMPLEMENTED and the order stays open).
// Metrics (tickmesh_execution_*): venue_rest_seconds{venue,endpoint} (send -> full response),
// venue_rest_errors_total{venue,endpoint,kind} (kind transport | http_4xx | http_5xx),
// venue_sign_seconds{venue} (building + signing one request), venue_inferred_fills_total{venue}
// (inferred states, see above).
// Credentials are held by the OrderApi only and never logged or exported.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tickmesh/net/rest_client.h"
#include "tickmesh/venues/orders.h"
#include "tickmesh/venues/venue.h"
#include "venue.h"

namespace tickmesh::execution {

struct LiveVenueOptions {
  tickmesh::venues::Venue venue = tickmesh::venues::Venue::kBinance;
  // "https://api.binance.com", or the simulator's "http://127.0.0.1:PORT".
  std::string base_url;
  tickmesh::venues::SymbolMap symbols;
  tickmesh::venues::OrderApiOptions api;
  absl::Duration connect_timeout = absl::Seconds(5);
  absl::Duration request_timeout = absl::Seconds(5);
  size_t max_connections = 4;
};

class LiveVenue final : public Venue {
 public:
  // INVALID_ARGUMENT for a bad base URL, empty credentials or an unsupported venue
  // (Hyperliquid: UNIMPLEMENTED). Opens no connection.
  static absl::StatusOr<std::unique_ptr<LiveVenue>> Create(
      LiveVenueOptions options, tickmesh::venues::Credentials credentials);

  ~LiveVenue() override;

  const std::string& name() const override { return name_; }
  bool remote() const override { return true; }
  absl::StatusOr<VenueOrderState> Place(const tickmesh::v1::Order& order) override;
  absl::StatusOr<VenueOrderState> Cancel(const tickmesh::v1::Order& order) override;
  absl::StatusOr<VenueOrderState> Query(const tickmesh::v1::Order& order) override;
  absl::StatusOr<std::vector<VenueOrderState>> OpenOrders() override;
  absl::StatusOr<std::vector<VenueAssetBalance>> Balances() override;

  // The venue's state mapping (exposed for tests): NEW / ACKED / PARTIALLY_FILLED -> kOpen,
  // FILLED -> kFilled, CANCELLED -> kCancelled, EXPIRED -> kExpired, REJECTED -> kRejected.
  static VenueOrderStatus MapStatus(tickmesh::v1::OrderStatus status);

 private:
  struct Metrics;
  LiveVenue(LiveVenueOptions options, std::unique_ptr<tickmesh::venues::OrderApi> api,
            std::unique_ptr<tickmesh::net::RestClient> rest);
  // Query's last resort after the lookup answered `lookup` (NOT_FOUND / UNIMPLEMENTED).
  absl::StatusOr<VenueOrderState> QueryLastResort(const tickmesh::v1::Order& order,
                                                  const absl::Status& lookup);
  // Builds (timed as signing) and sends a request.
  absl::StatusOr<tickmesh::net::HttpResponse> Send(
      const absl::StatusOr<tickmesh::net::HttpRequest>& request, int64_t sign_ns);

  const LiveVenueOptions options_;
  const std::string name_;
  const std::unique_ptr<tickmesh::venues::OrderApi> api_;
  const std::unique_ptr<tickmesh::net::RestClient> rest_;
  std::unique_ptr<Metrics> metrics_;
};

// Default rate-limit scheme of a venue in --rate_limits syntax (used for live venues without
// their own entry). Documented limits:
//  - binance: REQUEST_WEIGHT 6000 / minute (place 1, cancel 1, open orders of all symbols 80 —
//    every poll call is charged that largest weight) and ORDERS 50 / 10 s and 160 000 / day.
//  - kraken: REST API counter (starter tier) max 15, decay 0.33/s, +1 per private query call;
//    trading-engine limit max 60, decay 1/s, +1 per add order, cancel up to +8 (order younger
//    than 5 s; charged the worst case).
//  - bybit: per UID and endpoint, spot defaults 20/s create and 20/s cancel, 50/s for order and
//    wallet queries; plus 600 requests / 5 s per IP.
std::string DefaultRateLimits(tickmesh::venues::Venue venue);

}  // namespace tickmesh::execution
