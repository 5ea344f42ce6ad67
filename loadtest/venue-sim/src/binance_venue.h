// Simulated Binance spot: WebSocket market streams (combined "/stream?streams=..." and raw
// "/ws/<stream>", plus the SUBSCRIBE/UNSUBSCRIBE methods) with depthUpdate (U/u), trade and
// bookTicker events; REST GET /api/v3/depth (lastUpdateId), the SIGNED order endpoints
// (POST/DELETE/GET /api/v3/order, GET /api/v3/openOrders, GET /api/v3/account,
// GET /api/v3/myTrades by orderId, FULL fills with their commissions) with
// X-MBX-APIKEY + HMAC-SHA256 signature and recvWindow checks, and Binance's error bodies.
// Formats per https://developers.binance.com/docs/binance-spot-api-docs .
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "market.h"
#include "port_server.h"
#include "tickmesh/venues/venue.h"
#include "venue_common.h"

namespace tickmesh::venue_sim {

class BinanceVenue : public VenueEndpoint {
 public:
  BinanceVenue(Market* market, venues::SymbolMap symbols, VenueContext context);

  // Publishes what changed in `symbol`'s book (depth diff with the next update ids), the trades
  // buffered since the last call, and the best bid/ask if it moved. Call after every mutation.
  void AfterChange(const std::string& symbol);

  const char* name() const override { return "binance"; }
  RestReply HandleRest(const RestRequest& request) override;
  RestReply RateLimitReply() override;
  bool AcceptsWs(const std::string& target) const override;
  void OnWsOpen(const std::shared_ptr<WsConn>& conn) override;
  void OnWsFrame(const std::shared_ptr<WsConn>& conn, std::string_view frame) override;
  void OnWsClose(uint64_t conn_id) override;
  absl::Status InjectFault(const std::string& kind, int64_t count,
                           const std::string& symbol) override;
  std::string StateJson() const override;

  // The last update id published for a tickmesh symbol (tests).
  int64_t last_update_id(const std::string& symbol) const;

 private:
  struct SymbolState {
    std::string venue_symbol;   // "BTCUSDT"
    std::string stream_prefix;  // "btcusdt"
    int64_t last_update_id = 0;
    int64_t gap_pending = 0;
    Levels bids, asks;  // as last published
    std::vector<Fill> trades;
    std::pair<int64_t, int64_t> best_bid{0, 0}, best_ask{0, 0};
  };
  struct Session {
    std::weak_ptr<WsConn> conn;
    bool combined = false;
    std::set<std::string> streams;
  };

  void Broadcast(const std::string& stream, const std::string& data);
  RestReply Depth(const RestRequest& r);
  // Checks API key, signature and timestamp; on success fills `owner` and `params`.
  bool Authenticate(const RestRequest& r, std::string* owner,
                    std::vector<std::pair<std::string, std::string>>* params, RestReply* error);
  RestReply PlaceOrder(const std::string& owner,
                       const std::vector<std::pair<std::string, std::string>>& params);
  RestReply CancelOrder(const std::string& owner,
                        const std::vector<std::pair<std::string, std::string>>& params);
  RestReply QueryOrder(const std::string& owner,
                       const std::vector<std::pair<std::string, std::string>>& params);
  RestReply OpenOrders(const std::string& owner,
                       const std::vector<std::pair<std::string, std::string>>& params);
  RestReply AccountInfo(const std::string& owner);
  RestReply MyTrades(const std::string& owner,
                     const std::vector<std::pair<std::string, std::string>>& params);
  std::string OrderJson(const Order& o) const;
  const SymbolState* Lookup(const std::string& venue_symbol, std::string* tickmesh_symbol) const;

  Market* market_;
  venues::SymbolMap symbols_;
  VenueContext ctx_;
  std::map<std::string, SymbolState> state_;  // by tickmesh symbol
  std::map<uint64_t, Session> sessions_;
  int64_t malformed_sent_ = 0;
  int64_t gaps_injected_ = 0;
  uint64_t auto_client_id_ = 0;
};

}  // namespace tickmesh::venue_sim
