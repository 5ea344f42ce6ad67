// The venue simulator's exchange core: one price-time-priority limit order book per symbol,
// shared by the synthetic market maker (owner "") and private orders (owner = API key), with
// balances per API key. Pure and single-threaded: the simulator calls it from its one I/O thread.
//
// Amounts are int64 fixed point at scale 1e8. Fees (FeeSchedule, none by default) are charged
// per fill to private orders: maker or taker rate, in the asset the order receives (Binance and
// Bybit spot) or always in the quote asset (Kraken's default).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tickmesh::venue_sim {

enum class Side { kBuy, kSell };
enum class OrderType { kLimit, kMarket };
enum class TimeInForce { kGtc, kIoc, kFok };
enum class OrderStatus { kNew, kPartiallyFilled, kFilled, kCanceled, kExpired };

const char* OrderStatusName(OrderStatus s);  // Binance spelling: "NEW", "FILLED", ...

struct SymbolSpec {
  std::string symbol;  // tickmesh "BTC-USDT"
  std::string base;    // "BTC"
  std::string quote;   // "USDT"
};

struct OrderRequest {
  std::string owner;  // API key; "" = the simulated market maker (no balances)
  std::string symbol;
  Side side = Side::kBuy;
  OrderType type = OrderType::kLimit;
  TimeInForce tif = TimeInForce::kGtc;
  int64_t qty_e8 = 0;
  int64_t price_e8 = 0;  // limit price; ignored for market orders
  std::string client_order_id;
  int64_t now_ms = 0;
};

struct Fill {
  uint64_t trade_id = 0;
  int64_t price_e8 = 0;
  int64_t qty_e8 = 0;
  Side taker_side = Side::kBuy;
  uint64_t maker_order_id = 0;
  std::string maker_owner;
  // In Order::fills only: the fee this order paid on this fill (0 for the market maker).
  int64_t fee_e8 = 0;
  std::string fee_asset;
};

// Fee rates in basis points at scale 1e8 (7.5 bps = 750'000'000); 0 = no fee.
struct FeeSchedule {
  int64_t maker_bps_e8 = 0;
  int64_t taker_bps_e8 = 0;
  // false: in the asset the order receives (base for buys, quote for sells); true: in the quote
  // asset (a buy then pays the fee on top: placing it needs the notional plus the taker fee free).
  bool in_quote = false;
};

struct Order {
  uint64_t id = 0;
  OrderRequest request;
  int64_t filled_e8 = 0;
  int64_t cum_quote_e8 = 0;  // sum of price*qty over fills
  int64_t fee_e8 = 0;        // fees paid so far (private orders), in fee_asset
  std::string fee_asset;
  OrderStatus status = OrderStatus::kNew;
  int64_t update_ms = 0;
  std::vector<Fill> fills;  // fills in which this order took part (taker or maker)
};

struct Balance {
  int64_t free_e8 = 0;
  int64_t locked_e8 = 0;
};

// Aggregated book side: price -> total quantity, best first.
using Levels = std::vector<std::pair<int64_t, int64_t>>;

class MatchingEngine {
 public:
  // Symbols must be registered before orders; INVALID_ARGUMENT on a duplicate.
  absl::Status AddSymbol(SymbolSpec spec);
  // Fees of later fills. INVALID_ARGUMENT for a negative rate or one of 100% or more.
  absl::Status SetFees(FeeSchedule fees);
  const FeeSchedule& fees() const { return fees_; }
  const SymbolSpec* FindSymbol(const std::string& symbol) const;

  // Credits `amount_e8` (may be negative, never below zero free) to an account's asset.
  void Fund(const std::string& owner, const std::string& asset, int64_t amount_e8);
  // Every asset of an account (empty map for an unknown account).
  std::map<std::string, Balance> Balances(const std::string& owner) const;

  // Places an order and matches it immediately. The returned Order is the final state of the
  // taker after matching (status NEW / PARTIALLY_FILLED if it rests, FILLED, or EXPIRED for an
  // IOC/FOK/market remainder). Errors (nothing changes):
  //   NOT_FOUND unknown symbol; INVALID_ARGUMENT qty/price <= 0 (price for limit orders);
  //   ALREADY_EXISTS an open order of this owner already has the client_order_id;
  //   FAILED_PRECONDITION insufficient balance (limit: qty*price quote for buys, qty base for
  //   sells; market buy: the cost of the fills it would get).
  absl::StatusOr<Order> Place(const OrderRequest& request);

  // Cancels an open order of `owner` by venue id (or, if id == 0, by client order id).
  // NOT_FOUND if there is no such open order. Returns the order in its final state.
  absl::StatusOr<Order> Cancel(const std::string& owner, const std::string& symbol, uint64_t id,
                               const std::string& client_order_id, int64_t now_ms);

  // Open (resting) orders of `owner`; all symbols when symbol is empty. Oldest first.
  std::vector<Order> OpenOrders(const std::string& owner, const std::string& symbol) const;
  // Any order (open or finished) this engine still remembers, or nullptr.
  const Order* FindOrder(uint64_t id) const;
  const Order* FindByClientId(const std::string& owner, const std::string& client_order_id) const;

  // Aggregated levels, best first, at most `depth` per side (0 = all).
  Levels Bids(const std::string& symbol, size_t depth = 0) const;
  Levels Asks(const std::string& symbol, size_t depth = 0) const;

  // Called for every fill (public trade feed).
  void set_on_fill(std::function<void(const std::string& symbol, const Fill&)> f) {
    on_fill_ = std::move(f);
  }

  // Total resting quantity (all owners) at one price, 0 if none.
  int64_t LevelQty(const std::string& symbol, Side side, int64_t price_e8) const;

 private:
  struct Book {
    SymbolSpec spec;
    std::map<int64_t, std::deque<uint64_t>, std::greater<int64_t>> bids;
    std::map<int64_t, std::deque<uint64_t>> asks;
  };

  template <class SideMap>
  int64_t Available(const SideMap& side, const OrderRequest& r, int64_t* cost_e8) const;
  template <class SideMap>
  void MatchAgainst(Book& book, SideMap& side, Order& taker);
  void Settle(Book& book, Order& taker, Order& maker, int64_t price_e8, int64_t qty_e8);
  void ReleaseRemainder(const Book& book, Order& o);
  Balance& Bal(const std::string& owner, const std::string& asset);
  // A finished order: market-maker orders are forgotten at once; private ones are kept (for
  // lookups by id / client id) up to kFinishedKept, oldest forgotten first.
  void Retire(uint64_t id);
  static constexpr size_t kFinishedKept = 10000;

  absl::flat_hash_map<std::string, Book> books_;
  absl::flat_hash_map<uint64_t, Order> orders_;
  absl::flat_hash_map<std::string, std::map<std::string, Balance>> balances_;
  // (owner + '\0' + client order id) -> latest order id with that client id.
  absl::flat_hash_map<std::string, uint64_t> client_index_;
  std::deque<uint64_t> finished_;
  FeeSchedule fees_;
  uint64_t next_order_id_ = 1;
  uint64_t next_trade_id_ = 1;
  std::function<void(const std::string&, const Fill&)> on_fill_;
};

// qty * price / 1e8 without overflow for realistic values (128-bit intermediate), truncated.
int64_t Notional(int64_t qty_e8, int64_t price_e8);
// amount * bps / 10 000, rounded up (venues round fees in their favour); 0 for a 0 rate.
int64_t FeeOf(int64_t amount_e8, int64_t bps_e8);

}  // namespace tickmesh::venue_sim
