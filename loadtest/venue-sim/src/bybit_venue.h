// Simulated Bybit v5 spot: public WebSocket at "/v5/public/spot" (op subscribe/unsubscribe/ping;
// orderbook.<depth>.<symbol> snapshot/delta with contiguous `u` and a cross sequence `seq`,
// publicTrade, tickers) and REST (GET /v5/market/orderbook; private POST /v5/order/create,
// POST /v5/order/cancel, GET /v5/order/realtime, GET /v5/account/wallet-balance with the
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
  RestReply Create(const std::string& owner, const std::string& body);
  RestReply Cancel(const std::string& owner, const std::string& body);
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
};

}  // namespace tickmesh::venue_sim
