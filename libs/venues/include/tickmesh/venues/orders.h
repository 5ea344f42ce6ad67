// OrderApi: one venue's private REST order API as pure codecs — builds signed net::HttpRequests
// (with the venue's documented authentication) and parses net::HttpResponses into tickmesh
// values and absl errors. No I/O: execution's live adapters send the requests with
// net::RestClient; the venue simulator verifies them with sign.h.
//
// Supported: Binance spot (/api/v3, HMAC-SHA256 query signature + X-MBX-APIKEY), Kraken spot
// (/0/private, API-Key + API-Sign, strictly increasing nonce), Bybit v5 (/v5, X-BAPI-* headers,
// HMAC-SHA256, recv window). Hyperliquid orders are not supported (market data only; see README).
//
// Error mapping for every Parse* (the message always starts with the venue name and carries the
// venue's own code and text, e.g. "binance -2010: Account has insufficient balance for requested
// action."):
//   HTTP 429 / 418, Kraken "EAPI:Rate limit exceeded" / "EOrder:Rate limit exceeded",
//   Bybit retCode 10006 / 10018              -> RESOURCE_EXHAUSTED
//   HTTP 5xx, Kraken "EService:*", Binance -1001/-1007 (unknown execution status / timeout)
//                                            -> UNAVAILABLE (the order's fate is unknown:
//                                            reconcile)
//   bad key / signature / permissions        -> PERMISSION_DENIED
//   unknown order (cancel of a gone order, query of an order the venue does not know or no
//   longer keeps)                            -> NOT_FOUND
//   a method the endpoint does not serve (Kraken "EGeneral:Unknown method")
//                                            -> UNIMPLEMENTED
//   insufficient funds, invalid order        -> FAILED_PRECONDITION / INVALID_ARGUMENT
//   a body we cannot parse                   -> INTERNAL
// Thread-safety: builders and parsers may be called from several threads at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tickmesh/net/http.h"
#include "tickmesh/v1/common.pb.h"
#include "tickmesh/v1/execution.pb.h"
#include "tickmesh/venues/venue.h"

namespace tickmesh::venues {

// API credentials. Never log, print or export them; there is deliberately no operator<< or
// DebugString. `secret` is as the venue issues it (Kraken: base64).
struct Credentials {
  std::string api_key;
  std::string secret;
};

// Loads credentials for `venue`: from env TICKMESH_<VENUE>_API_KEY and TICKMESH_<VENUE>_API_SECRET
// (VENUE upper case) when both are set; else from `secrets_file` when non-empty, which is either
//   KEY=VALUE lines (same names as the env vars; '#' comments, blank lines, optional quotes), or
//   YAML: `binance: {api_key: ..., api_secret: ...}` (or the flat env-var names as keys).
// The file must be a regular file not readable/writable by group or others (mode 0600/0400):
// PERMISSION_DENIED otherwise (the message names the file and mode, never its content).
// NOT_FOUND when neither source has both values; INVALID_ARGUMENT for an unparsable file or an
// empty value. Errors never contain a key or secret.
absl::StatusOr<Credentials> LoadCredentials(Venue venue, const std::string& secrets_file);

// Strictly increasing nonces in microseconds since the unix epoch: max(now_us, last + 1). Time
// based, so it keeps increasing across restarts (as Kraken requires per API key). Thread-safe,
// lock-free.
class NonceSource {
 public:
  // `now_unix_us` defaults to the wall clock; tests inject a fixed clock.
  explicit NonceSource(std::function<int64_t()> now_unix_us = nullptr);
  int64_t Next();

 private:
  std::function<int64_t()> now_us_;
  std::atomic<int64_t> last_{0};
};

// What to place. Symbol is a configured tickmesh symbol.
struct OrderParams {
  std::string symbol;
  tickmesh::v1::Side side = tickmesh::v1::SIDE_UNSPECIFIED;
  tickmesh::v1::OrderType type = tickmesh::v1::ORDER_TYPE_LIMIT;
  // UNSPECIFIED = GTC for LIMIT, IOC for MARKET. Kraken has no FOK (INVALID_ARGUMENT).
  tickmesh::v1::TimeInForce time_in_force = tickmesh::v1::TIME_IN_FORCE_UNSPECIFIED;
  int64_t qty_e8 = 0;    // > 0
  int64_t price_e8 = 0;  // > 0 for LIMIT, ignored for MARKET
  // Caller-chosen id sent to the venue (Binance newClientOrderId, Kraken cl_ord_id, Bybit
  // orderLinkId); 1..36 chars of [A-Za-z0-9_-]. Cancels refer to it.
  std::string client_order_id;
};

struct VenueFill {
  std::string trade_id;
  int64_t price_e8 = 0;
  int64_t qty_e8 = 0;
  int64_t fee_e8 = 0;
  std::string fee_asset;
};

// A venue's answer to a place or cancel.
struct VenueAck {
  std::string venue_order_id;
  std::string client_order_id;  // when the venue echoes it
  // ACKED (accepted by the venue, no fill yet) / PARTIALLY_FILLED / FILLED / CANCELLED / EXPIRED
  // (venue rejections are errors, not acks). Venues whose place answer carries no fill state
  // (Kraken, Bybit) report ACKED; a successful cancel reports CANCELLED (Bybit cancels are
  // asynchronous: the venue accepted the cancel request).
  tickmesh::v1::OrderStatus status = tickmesh::v1::ORDER_STATUS_ACKED;
  int64_t filled_qty_e8 = 0;
  int64_t avg_price_e8 = 0;      // 0 until filled
  std::vector<VenueFill> fills;  // Binance FULL responses only (each with its commission)
  // Cumulative fee the venue charged for filled_qty_e8, when the answer says (fee_known):
  // Kraken QueryOrders `fee` (quote currency; base with the `fcib` flag), Bybit `cumExecFee`
  // (spot: the coin the order receives — base for buys, quote for sells), Binance FULL `fills`
  // commissions when they are all in one asset. fee_known false: the answer has no fee.
  int64_t fee_e8 = 0;
  std::string fee_asset;
  bool fee_known = false;
};

// One open order as the venue reports it.
struct VenueOrder {
  std::string venue_order_id;
  std::string client_order_id;
  std::string symbol;  // tickmesh symbol; orders on unconfigured symbols are skipped
  tickmesh::v1::Side side = tickmesh::v1::SIDE_UNSPECIFIED;
  tickmesh::v1::OrderType type = tickmesh::v1::ORDER_TYPE_UNSPECIFIED;
  tickmesh::v1::OrderStatus status = tickmesh::v1::ORDER_STATUS_ACKED;  // or PARTIALLY_FILLED
  int64_t price_e8 = 0;
  int64_t qty_e8 = 0;
  int64_t filled_qty_e8 = 0;
  int64_t created_unix_ns = 0;
  // Cumulative fee for filled_qty_e8 as in VenueAck (Kraken `fee`, Bybit `cumExecFee`; Binance's
  // open orders carry none: fee_known false).
  int64_t fee_e8 = 0;
  std::string fee_asset;
  bool fee_known = false;
};

// One order of a batch cancel.
struct CancelRef {
  std::string symbol;           // tickmesh symbol
  std::string client_order_id;  // as PlaceOrder sent it
};

struct VenueBalance {
  std::string asset;  // common ticker ("BTC", "USD", "USDT"); Kraken's legacy codes normalised
  int64_t total_e8 = 0;
  int64_t available_e8 = 0;  // total minus what open orders hold (== total when unknown)
};

struct OrderApiOptions {
  // Binance recvWindow / Bybit X-BAPI-RECV-WINDOW, ms.
  int64_t recv_window_ms = 5000;
  // Bybit category for orders and open orders: spot | linear.
  std::string bybit_category = "spot";
  // Bybit wallet-balance accountType.
  std::string bybit_account_type = "UNIFIED";
  // Clock for timestamps (Binance/Bybit), unix ms; nullptr = wall clock. Tests inject one.
  std::function<int64_t()> now_unix_ms;
  // Kraken nonces; nullptr = a private time-based NonceSource. Share one per API key when several
  // OrderApi instances use the same key.
  std::shared_ptr<NonceSource> nonce;
};

class OrderApi {
 public:
  virtual ~OrderApi() = default;
  virtual Venue venue() const = 0;

  // Signed request builders (endpoint names: "place_order", "cancel_order", "open_orders",
  // "balances", "query_order"). INVALID_ARGUMENT for invalid params (unknown symbol, qty <= 0,
  // limit without price, bad client_order_id, unsupported time in force). Allocate only the
  // request.
  virtual absl::StatusOr<net::HttpRequest> PlaceOrder(const OrderParams& params) const = 0;
  virtual absl::StatusOr<net::HttpRequest> CancelOrder(std::string_view symbol,
                                                       std::string_view client_order_id) const = 0;
  virtual absl::StatusOr<net::HttpRequest> OpenOrders() const = 0;
  virtual absl::StatusOr<net::HttpRequest> Balances() const = 0;
  // One order's current state, open or closed, looked up by the client order id PlaceOrder sent
  // (endpoint "query_order"):
  //  - Binance: signed GET /api/v3/order?symbol=&origClientOrderId= (works for closed orders;
  //    the venue may archive cancelled/expired orders without fills after 90 days).
  //  - Kraken: POST /0/private/QueryOrders with cl_ord_id=<id>&trades=true (cl_ord_id is what
  //    AddOrder sends; `venue_order_id`, when known, is sent as txid too, which narrows the
  //    lookup to that order).
  //  - Bybit: GET /v5/order/realtime?category=&symbol=&orderLinkId= (open orders and recently
  //    closed ones; an order closed long enough ago is no longer listed -> NOT_FOUND).
  // INVALID_ARGUMENT for an unknown symbol or a bad client_order_id.
  virtual absl::StatusOr<net::HttpRequest> QueryOrder(
      std::string_view symbol, std::string_view client_order_id,
      std::string_view venue_order_id = {}) const = 0;

  // Response parsers; see the error mapping above.
  virtual absl::StatusOr<VenueAck> ParsePlace(const net::HttpResponse& response) const = 0;
  virtual absl::StatusOr<VenueAck> ParseCancel(const net::HttpResponse& response) const = 0;
  virtual absl::StatusOr<std::vector<VenueOrder>> ParseOpenOrders(
      const net::HttpResponse& response) const = 0;
  virtual absl::StatusOr<std::vector<VenueBalance>> ParseBalances(
      const net::HttpResponse& response) const = 0;
  // The answer to QueryOrder: status (ACKED / PARTIALLY_FILLED for working orders, FILLED,
  // CANCELLED (a cancelled order may have partial fills: see filled_qty_e8), EXPIRED, REJECTED —
  // a query reports a rejected order as a status, not as an error), cumulative filled_qty_e8 and
  // avg_price_e8 (from the venue's cumulative quote amount, or its average price), venue and
  // client order ids. `fills` stays empty (none of the three venues returns per-fill quantities
  // here; Kraken's trade ids alone say nothing about amounts). NOT_FOUND when the venue does not
  // know the order (Binance -2013, Kraken empty result / "EOrder:Unknown order", Bybit empty
  // list), plus the common error mapping above.
  virtual absl::StatusOr<VenueAck> ParseQueryOrder(const net::HttpResponse& response) const = 0;

  // ---- Batches, where the venue has batch endpoints ----
  // How many orders one PlaceOrders request may carry: Binance spot has no batch place endpoint
  // (max 1: PlaceOrders answers UNIMPLEMENTED); Kraken AddOrderBatch 2..15 orders, all on one
  // pair; Bybit /v5/order/create-batch 1..10 (spot and linear). A caller with fewer than
  // min_place_batch() orders uses PlaceOrder.
  virtual size_t max_place_batch() const { return 1; }
  virtual size_t min_place_batch() const { return 1; }
  // Orders with different keys never share a PlaceOrders request (Kraken: the pair; else "").
  virtual std::string PlaceBatchKey(const OrderParams& /*params*/) const { return {}; }
  // How many orders one CancelOrders request may carry: Bybit /v5/order/cancel-batch 10 (any
  // symbols); 1 elsewhere (CancelOrders UNIMPLEMENTED).
  virtual size_t max_cancel_batch() const { return 1; }
  // Signed batch requests (endpoints "place_batch", "cancel_batch"). INVALID_ARGUMENT for an
  // invalid order (naming its index), a count outside the venue's range or mixed batch keys;
  // UNIMPLEMENTED where the venue has no batch endpoint.
  virtual absl::StatusOr<net::HttpRequest> PlaceOrders(
      const std::vector<OrderParams>& orders) const;
  virtual absl::StatusOr<net::HttpRequest> CancelOrders(const std::vector<CancelRef>& orders) const;
  // Batch answers: one result per order, in request order (`client_order_ids` as sent). A
  // per-order refusal is that order's error (common mapping: "bybit 170131: Insufficient
  // balance." -> FAILED_PRECONDITION; a batch cancel of an unknown order -> NOT_FOUND) and does
  // not touch the others. The outer error is the whole request's (rate limit, signature, 5xx,
  // Kraken's whole-batch validation failure); INTERNAL when the answer's orders do not match the
  // request (count or echoed ids) — the orders' fates are then unknown.
  virtual absl::StatusOr<std::vector<absl::StatusOr<VenueAck>>> ParsePlaceBatch(
      const net::HttpResponse& response, const std::vector<std::string>& client_order_ids) const;
  virtual absl::StatusOr<std::vector<absl::StatusOr<VenueAck>>> ParseCancelBatch(
      const net::HttpResponse& response, const std::vector<std::string>& client_order_ids) const;

  // ---- Trades of one order (fees of fills found by polling) ----
  // Binance: signed GET /api/v3/myTrades?symbol=&orderId=<venue order id> (endpoint
  // "order_trades", weight 5 with orderId); the answer's trades carry price, qty, commission and
  // commissionAsset. UNIMPLEMENTED elsewhere (Kraken and Bybit report cumulative fees in the
  // order itself). INVALID_ARGUMENT for an unknown symbol or a non-numeric order id.
  virtual absl::StatusOr<net::HttpRequest> OrderTrades(std::string_view symbol,
                                                       std::string_view venue_order_id) const;
  virtual absl::StatusOr<std::vector<VenueFill>> ParseOrderTrades(
      const net::HttpResponse& response) const;
};

// The order API for `venue`. UNIMPLEMENTED for Hyperliquid; INVALID_ARGUMENT for empty
// credentials (Kraken: a secret that is not base64) or unsupported options.
absl::StatusOr<std::unique_ptr<OrderApi>> MakeOrderApi(Venue venue, const SymbolMap& symbols,
                                                       Credentials credentials,
                                                       OrderApiOptions options = {});

}  // namespace tickmesh::venues
