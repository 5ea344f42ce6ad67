// Simulated Bybit v5 spot: public WebSocket at "/v5/public/spot" (op subscribe/unsubscribe/ping;
// orderbook.<depth>.<symbol> snapshot/delta with contiguous `u` and a cross sequence `seq`,
// publicTrade, tickers) and REST (GET /v5/market/orderbook; private POST /v5/order/create,
// POST /v5/order/cancel, POST /v5/order/create-batch and /v5/order/cancel-batch (1..10 orders,
// per-order results), GET /v5/order/realtime, GET /v5/account/wallet-balance with the
// X-BAPI-* HMAC-SHA256 headers and recv window), answering with Bybit's
// {"retCode":…,"retMsg":…,"result":…} envelopes. Formats per
// https://bybit-exchange.github.io/docs/v5/intro .
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "market.h"
#include "nlohmann/json.hpp"
#include "port_server.h"
#include "tickmesh/venues/venue.h"
#include "venue_common.h"

namespace tickmesh::venue_sim {

class BybitVenue : public VenueEndpoint {
 public:
  BybitVenue(Market* market, venues::SymbolMap symbols, VenueContext context);

  // Publishes order book deltas (per subscribed depth), trades and tickers for `symbol`.
  void AfterChange(const std::string& symbol);

  const char* name() const override { return "bybit"; }
  RestReply HandleRest(const RestRequest& request) override;
  RestReply RateLimitReply() override;
  bool AcceptsWs(const std::string& target) const override;
  void OnWsOpen(const std::shared_ptr<WsConn>& conn) override;
  void OnWsFrame(const std::shared_ptr<WsConn>& conn, std::string_view frame) override;
  void OnWsClose(uint64_t conn_id) override;
  absl::Status InjectFault(const std::string& kind, int64_t count,
                           const std::string& symbol) override;
  std::string StateJson() const override;

 private:
  struct BookStream {
    Levels bids, asks;  // as last published at this depth
    int64_t u = 1;      // update id of the last message on this stream
  };
  struct SymbolState {
    std::string venue_symbol;         // "BTCUSDT"
    std::map<int, BookStream> books;  // depth -> stream
    int64_t seq = 1000;
    int64_t gap_pending = 0;
    std::vector<Fill> trades;
    int64_t last_price_e8 = 0;
    int64_t volume_e8 = 0;
  };
  struct Session {
    std::weak_ptr<WsConn> conn;
    std::set<std::string> topics;
  };

  std::string BookMessage(const std::string& topic, const char* type, const std::string& vs,
                          const Levels& bids, const Levels& asks, int64_t u, int64_t seq,
                          int64_t ts) const;
  void Broadcast(const std::string& topic, const std::string& frame);
  bool Authenticate(const RestRequest& r, std::string* owner, RestReply* error);
  // One create / cancel (a single request's body or a batch item): code 0 = done.
  struct Outcome {
    int code = 0;
    std::string msg;
    uint64_t order_id = 0;
    std::string link;    // orderLinkId
    std::string symbol;  // venue symbol
    int64_t at_ms = 0;
  };
  Outcome CreateOne(const std::string& owner, const nlohmann::json& order);
  Outcome CancelOne(const std::string& owner, const nlohmann::json& order);
  RestReply Single(const std::string& owner, const std::string& body, bool create);
  RestReply Batch(const std::string& owner, const std::string& body, bool create);
  RestReply Realtime(const std::string& owner, const RestRequest& r);
  RestReply Wallet(const std::string& owner);
  RestReply Orderbook(const RestRequest& r);
  std::string OrderJson(const Order& o) const;
  const std::string* FindSymbol(const std::string& venue_symbol) const;

  Market* market_;
  venues::SymbolMap symbols_;
  VenueContext ctx_;
  std::map<std::string, SymbolState> state_;  // by tickmesh symbol
  std::map<uint64_t, Session> sessions_;
  int64_t malformed_sent_ = 0;
  int64_t gaps_injected_ = 0;
  int64_t create_requests_ = 0;
  int64_t batch_create_requests_ = 0;
  int64_t batch_create_orders_ = 0;
  int64_t batch_cancel_requests_ = 0;
};

}  // namespace tickmesh::venue_sim
