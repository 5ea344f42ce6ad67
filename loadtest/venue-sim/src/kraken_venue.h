// Simulated Kraken spot: WebSocket v2 at "/v2" (status, subscribe/unsubscribe acks, book
// snapshot/update with the CRC32 checksum, trade, ticker, heartbeat, ping/pong) and REST
// (/0/public/Time, /0/public/Depth, and the private POST /0/private/AddOrder, AddOrderBatch
// (JSON body), CancelOrder, OpenOrders, QueryOrders, Balance with API-Key / API-Sign and strictly
// increasing nonces; fees charged in the quote currency), answering with
// Kraken's {"error":[...],"result":...} envelopes. Formats per https://docs.kraken.com/api/ .
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "market.h"
#include "port_server.h"
#include "tickmesh/venues/venue.h"
#include "venue_common.h"

namespace tickmesh::venue_sim {

class KrakenVenue : public VenueEndpoint {
 public:
  KrakenVenue(Market* market, venues::SymbolMap symbols, VenueContext context);

  // Publishes book updates (per subscribed depth, with checksum), trades and ticker for
  // `symbol`. Call after every mutation of its book.
  void AfterChange(const std::string& symbol);
  // Sends {"channel":"heartbeat"} to every connection with a subscription (call once a second).
  void Heartbeat();

  const char* name() const override { return "kraken"; }
  RestReply HandleRest(const RestRequest& request) override;
  RestReply RateLimitReply() override;
  bool AcceptsWs(const std::string& target) const override;
  void OnWsOpen(const std::shared_ptr<WsConn>& conn) override;
  void OnWsFrame(const std::shared_ptr<WsConn>& conn, std::string_view frame) override;
  void OnWsClose(uint64_t conn_id) override;
  absl::Status InjectFault(const std::string& kind, int64_t count,
                           const std::string& symbol) override;
  std::string StateJson() const override;

  // Kraken-style transaction id for an order id, and back (0 if not one of ours).
  static std::string TxId(uint64_t order_id);
  static uint64_t OrderIdFromTxId(std::string_view txid);

 private:
  struct SymbolState {
    std::string ws_symbol;                           // "BTC/USD"
    std::string rest_pair;                           // "XBTUSD"
    std::map<int, std::pair<Levels, Levels>> views;  // depth -> (bids, asks) as last published
    std::vector<Fill> trades;
    int64_t drop_pending = 0;     // fault "gap": book updates not sent
    int64_t corrupt_pending = 0;  // fault "checksum": book updates with a wrong checksum
    int64_t last_price_e8 = 0;
    int64_t volume_e8 = 0;
    std::pair<int64_t, int64_t> best_bid{0, 0}, best_ask{0, 0};
  };
  struct Session {
    std::weak_ptr<WsConn> conn;
    std::map<std::string, int> book;  // tickmesh symbol -> depth
    std::set<std::string> trade;
    std::set<std::string> ticker;
  };

  std::string BookLevels(const Levels& levels) const;
  uint32_t Checksum(const std::string& symbol) const;
  std::string TickerData(const std::string& symbol, const SymbolState& st) const;
  void Subscribe(Session& s, const std::shared_ptr<WsConn>& conn, bool subscribe,
                 const std::string& channel, const std::vector<std::string>& symbols, int depth,
                 bool snapshot, const std::string& req_id);
  RestReply Private(const RestRequest& r, const std::string& method);
  // Validates one order's parameters (AddOrder form / an AddOrderBatch item); the error reply,
  // or nullopt with `req` and `descr` filled.
  std::optional<RestReply> ParseOrder(const std::string& owner,
                                      const std::vector<std::pair<std::string, std::string>>& form,
                                      OrderRequest* req, std::string* descr);
  RestReply AddOrder(const std::string& owner,
                     const std::vector<std::pair<std::string, std::string>>& form);
  // AddOrderBatch: JSON {"nonce","pair","orders":[…], "validate"}; 2..15 orders of one pair;
  // all validated first (one invalid order refuses the batch), then placed one by one (a funding
  // failure refuses that order only).
  RestReply AddOrderBatch(const std::string& owner, const std::string& body);
  RestReply QueryOrders(const std::string& owner,
                        const std::vector<std::pair<std::string, std::string>>& form);
  // Kraken's order info object (OpenOrders / QueryOrders) of one private order.
  std::string OrderInfo(const Order& o, bool with_trades) const;
  RestReply CancelOrder(const std::string& owner,
                        const std::vector<std::pair<std::string, std::string>>& form);
  RestReply OpenOrders(const std::string& owner);
  RestReply Balance(const std::string& owner);
  RestReply Depth(const RestRequest& r);
  const std::string* FindSymbol(const std::string& any_name) const;

  Market* market_;
  venues::SymbolMap symbols_;
  VenueContext ctx_;
  std::map<std::string, SymbolState> state_;  // by tickmesh symbol
  std::map<uint64_t, Session> sessions_;
  std::map<std::string, uint64_t> last_nonce_;  // per API key
  int64_t malformed_sent_ = 0;
  int64_t gaps_injected_ = 0;
  int64_t checksums_corrupted_ = 0;
  int64_t add_order_requests_ = 0;
  int64_t batch_requests_ = 0;
  int64_t batch_orders_ = 0;
  uint64_t connection_id_ = 8628615390848610000ULL;
};

}  // namespace tickmesh::venue_sim
