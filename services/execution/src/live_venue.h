// LiveVenue: a real exchange (Binance spot, Kraken spot, Bybit v5) behind the Venue contract —
// libs/venues' OrderApi builds the signed requests and parses the answers, libs/net's RestClient
// sends them over a keep-alive pool. remote() is true: every call does blocking network I/O and
// is only made from the venue's VenueWorker thread.
//
// Ids: the client order id sent to the venue is execution's order id ("o-<n>", unique across
// restarts), so orders are found again by it after a restart and in the venue's open orders.
//
// Fees: Binance FULL place answers carry each fill's commission (applied as fills); Kraken
// (`fee`, quote currency) and Bybit (`cumExecFee`, the received coin) report cumulative fees in
// open orders and lookups (VenueOrderState::fee_e8); fills Binance reports later (open orders,
// GET /api/v3/order carry no fee) get theirs from GET /api/v3/myTrades?orderId= when Query sees
// them — a partial fill seen first in the open orders is recorded without fee and its fee is
// added to the fill Query derives later (the order's total fee is the venue's).
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
//    does not serve the lookup, e.g. a Kraken-compatible API without QueryOrders): taken as
//    FILLED, the remaining quantity at its limit price (MARKET: at the arrival mid; without one
//    the query answers UNIMPLEMENTED and the order stays open).
// Rate limits: with a request gate (SetRequestGate; the VenueWorker sets it) every query request
// is charged before it is sent with its own class — Query: the lookup (kQueryOrder), plus the
// open orders (kOpenOrders) in its last resort and the order's trades (kOrderTrades, Binance
// myTrades) for a new fill's fee; OpenOrders (kOpenOrders); Balances (kBalances). A request the
// gate refuses is not sent and the call answers the gate's RESOURCE_EXHAUSTED (a Query whose
// fee lookup is refused answers that too rather than a fill without its fee: asked again later).
// Places and cancels are charged at admission by the engine, not here.
// Venue reports: with LiveVenueOptions::limiter, every response (error answers included) is read
// for the venue's rate-limit figures (ParseVenueLimits, rate_limit.h) and handed to
// RateLimiter::Observe with the request's class — Binance X-MBX-USED-WEIGHT-* /
// X-MBX-ORDER-COUNT-*, Bybit X-Bapi-Limit-Status / X-Bapi-Limit / X-Bapi-Limit-Reset-Timestamp
// set the synced buckets; a rate-limit refusal (429 / 418, Bybit 10006, Kraken rate errors)
// blocks the affected classes until Retry-After / the reset (or a bounded backoff), counted in
// rate_limit_venue_throttles_total{venue,class}. A request that got no response is only no
// longer outstanding. Malformed rate-limit headers are ignored (warned once per venue).
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
#include "rate_limit.h"
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
  // Venue rate-limit reports go here (see the banner); null = not read. Not owned; outlives the
  // venue.
  RateLimiter* limiter = nullptr;
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
  // Batches through the venue's batch endpoints (Bybit create-batch / cancel-batch up to 10,
  // Kraken AddOrderBatch 2..15 of one pair; Binance: none, max 1). A batch the codec refuses
  // (an invalid order) or smaller than the venue's minimum is sent order by order.
  size_t max_place_batch() const override;
  size_t max_cancel_batch() const override;
  std::string BatchKey(const tickmesh::v1::Order& order) const override;
  std::vector<absl::StatusOr<VenueOrderState>> PlaceBatch(
      const std::vector<tickmesh::v1::Order>& orders) override;
  std::vector<absl::StatusOr<VenueOrderState>> CancelBatch(
      const std::vector<tickmesh::v1::Order>& orders) override;
  // Keeps `gate` (worker thread only) and answers true: see the banner.
  bool SetRequestGate(RequestGate gate) override;

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
  VenueOrderState CancelAnswer(const tickmesh::v1::Order& order,
                               const tickmesh::venues::VenueAck& ack);
  // Binance: the cumulative fee of `st` from the order's trades (myTrades), when they account
  // for all of st.filled_qty_e8 in one fee asset; else st is left as it is (fee unknown). Not OK
  // only when the gate refused the request (nothing sent).
  absl::Status FetchFees(const std::string& symbol, VenueOrderState& st);
  // Charges one request of `cls` through the gate (OK without a gate).
  absl::Status Charge(RequestClass cls);
  // Builds (timed as signing) and sends a request of `cls` (`units` of it: a batch's orders),
  // then hands the venue's rate-limit figures to the limiter.
  absl::StatusOr<tickmesh::net::HttpResponse> Send(
      const absl::StatusOr<tickmesh::net::HttpRequest>& request, int64_t sign_ns, RequestClass cls,
      int units = 1);
  // Reads the rate-limit figures of an answer (or its absence) into the limiter.
  void ObserveLimits(RequestClass cls, int units,
                     const absl::StatusOr<tickmesh::net::HttpResponse>& response);

  const LiveVenueOptions options_;
  const std::string name_;
  const std::unique_ptr<tickmesh::venues::OrderApi> api_;
  const std::unique_ptr<tickmesh::net::RestClient> rest_;
  std::unique_ptr<Metrics> metrics_;
  RequestGate gate_;
};

// Default rate-limit scheme of a venue in --rate_limits syntax (used for live venues without
// their own entry). Documented limits, each request charged its endpoint's cost:
//  - binance: REQUEST_WEIGHT 6000 / minute — POST / DELETE /api/v3/order 1, GET /api/v3/order 4,
//    GET /api/v3/openOrders without symbol 80 (6 for one symbol; polls ask for all symbols),
//    GET /api/v3/myTrades with orderId 5, GET /api/v3/account 20 — and ORDERS 50 / 10 s and
//    160 000 / day (new orders).
//  - kraken: REST API counter (starter tier) max 15, decay 0.33/s: QueryOrders, OpenOrders,
//    Balance +1, trade / ledger history +2; AddOrder / CancelOrder do not touch it. Trading-engine
//    counter max 60, decay 1/s: +1 per add order, cancel up to +8 (order younger than 5 s;
//    charged the worst case).
//  - bybit: per UID and endpoint, spot defaults 20/s /v5/order/create, 20/s /v5/order/cancel,
//    50/s /v5/order/realtime (order lookup and open orders share it), 50/s
//    /v5/account/wallet-balance, 50/s /v5/execution/list; plus 600 requests / 5 s per IP.
// Synced to the venue's reports (BucketSpec::sync): binance weight_1m / orders_10s / orders_1d to
// X-MBX-USED-WEIGHT-1M / X-MBX-ORDER-COUNT-10S / -1D, bybit's per-endpoint buckets to
// X-Bapi-Limit-Status (ip_5s stays a local estimate); kraken reports no usage (local estimate,
// drained on its rate-limit errors).
// Batches: orders are admitted and charged one by one, which is how Bybit's per-UID limits
// (a batch counts its orders) and Kraken's trading counter (+1 per order) count them; Bybit's
// per-IP limit counts one request per batch, so it is over-charged (safe side).
std::string DefaultRateLimits(tickmesh::venues::Venue venue);

}  // namespace tickmesh::execution
