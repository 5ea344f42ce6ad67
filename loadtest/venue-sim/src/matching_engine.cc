#include "matching_engine.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace tickmesh::venue_sim {

const char* OrderStatusName(OrderStatus s) {
  switch (s) {
    case OrderStatus::kNew:
      return "NEW";
    case OrderStatus::kPartiallyFilled:
      return "PARTIALLY_FILLED";
    case OrderStatus::kFilled:
      return "FILLED";
    case OrderStatus::kCanceled:
      return "CANCELED";
    case OrderStatus::kExpired:
      return "EXPIRED";
  }
  return "UNKNOWN";
}

int64_t Notional(int64_t qty_e8, int64_t price_e8) {
  __int128 v = static_cast<__int128>(qty_e8) * price_e8 / 100000000;
  return static_cast<int64_t>(v);
}

int64_t FeeOf(int64_t amount_e8, int64_t bps_e8) {
  if (amount_e8 <= 0 || bps_e8 <= 0) return 0;
  constexpr __int128 kDen = static_cast<__int128>(10'000) * 100'000'000;
  const __int128 v = (static_cast<__int128>(amount_e8) * bps_e8 + kDen - 1) / kDen;
  return static_cast<int64_t>(v);
}

absl::Status MatchingEngine::SetFees(FeeSchedule fees) {
  constexpr int64_t kAll = int64_t{10'000} * 100'000'000;  // 100%
  if (fees.maker_bps_e8 < 0 || fees.taker_bps_e8 < 0 || fees.maker_bps_e8 >= kAll ||
      fees.taker_bps_e8 >= kAll) {
    return absl::InvalidArgumentError("fee rates must be in [0, 10000) bps");
  }
  fees_ = fees;
  return absl::OkStatus();
}

absl::Status MatchingEngine::AddSymbol(SymbolSpec spec) {
  if (books_.contains(spec.symbol)) {
    return absl::InvalidArgumentError(absl::StrCat("duplicate symbol ", spec.symbol));
  }
  std::string name = spec.symbol;
  books_[name].spec = std::move(spec);
  return absl::OkStatus();
}

const SymbolSpec* MatchingEngine::FindSymbol(const std::string& symbol) const {
  auto it = books_.find(symbol);
  return it == books_.end() ? nullptr : &it->second.spec;
}

Balance& MatchingEngine::Bal(const std::string& owner, const std::string& asset) {
  return balances_[owner][asset];
}

void MatchingEngine::Fund(const std::string& owner, const std::string& asset, int64_t amount_e8) {
  Balance& b = Bal(owner, asset);
  b.free_e8 = std::max<int64_t>(0, b.free_e8 + amount_e8);
}

std::map<std::string, Balance> MatchingEngine::Balances(const std::string& owner) const {
  auto it = balances_.find(owner);
  return it == balances_.end() ? std::map<std::string, Balance>{} : it->second;
}

// Quantity the taker could get on `side` within its limit, and its quote cost.
template <class SideMap>
int64_t MatchingEngine::Available(const SideMap& side, const OrderRequest& r,
                                  int64_t* cost_e8) const {
  int64_t got = 0;
  int64_t cost = 0;
  for (const auto& [price, ids] : side) {
    if (r.type == OrderType::kLimit) {
      if (r.side == Side::kBuy && price > r.price_e8) break;
      if (r.side == Side::kSell && price < r.price_e8) break;
    }
    for (uint64_t id : ids) {
      const Order& o = orders_.at(id);
      int64_t left = o.request.qty_e8 - o.filled_e8;
      int64_t take = std::min(left, r.qty_e8 - got);
      got += take;
      cost += Notional(take, price);
      if (got >= r.qty_e8) break;
    }
    if (got >= r.qty_e8) break;
  }
  if (cost_e8 != nullptr) *cost_e8 = cost;
  return got;
}

absl::StatusOr<Order> MatchingEngine::Place(const OrderRequest& request) {
  auto bit = books_.find(request.symbol);
  if (bit == books_.end())
    return absl::NotFoundError(absl::StrCat("unknown symbol ", request.symbol));
  Book& book = bit->second;
  if (request.qty_e8 <= 0) return absl::InvalidArgumentError("quantity must be > 0");
  if (request.type == OrderType::kLimit && request.price_e8 <= 0) {
    return absl::InvalidArgumentError("price must be > 0 for a limit order");
  }
  if (!request.owner.empty() && !request.client_order_id.empty()) {
    const Order* dup = FindByClientId(request.owner, request.client_order_id);
    if (dup != nullptr &&
        (dup->status == OrderStatus::kNew || dup->status == OrderStatus::kPartiallyFilled)) {
      return absl::AlreadyExistsError("duplicate client order id");
    }
  }
  const SymbolSpec& spec = book.spec;
  // Balance checks and reservation.
  if (!request.owner.empty()) {
    if (request.side == Side::kSell) {
      Balance& b = Bal(request.owner, spec.base);
      if (b.free_e8 < request.qty_e8) return absl::FailedPreconditionError("insufficient balance");
    } else if (request.type == OrderType::kLimit) {
      Balance& b = Bal(request.owner, spec.quote);
      const int64_t n = Notional(request.qty_e8, request.price_e8);
      const int64_t fee = fees_.in_quote ? FeeOf(n, fees_.taker_bps_e8) : 0;
      if (b.free_e8 < n + fee) return absl::FailedPreconditionError("insufficient balance");
    } else {
      int64_t cost = 0;
      Available(book.asks, request, &cost);
      const int64_t fee = fees_.in_quote ? FeeOf(cost, fees_.taker_bps_e8) : 0;
      if (Bal(request.owner, spec.quote).free_e8 < cost + fee) {
        return absl::FailedPreconditionError("insufficient balance");
      }
    }
  }
  if (request.tif == TimeInForce::kFok) {
    int64_t got = request.side == Side::kBuy ? Available(book.asks, request, nullptr)
                                             : Available(book.bids, request, nullptr);
    if (got < request.qty_e8) {
      Order o;
      o.id = next_order_id_++;
      o.request = request;
      o.status = OrderStatus::kExpired;
      o.update_ms = request.now_ms;
      orders_[o.id] = o;
      if (!request.owner.empty() && !request.client_order_id.empty()) {
        client_index_[request.owner + '\0' + request.client_order_id] = o.id;
      }
      Retire(o.id);
      return o;
    }
  }
  Order taker;
  taker.id = next_order_id_++;
  taker.request = request;
  taker.update_ms = request.now_ms;
  if (!request.owner.empty()) {
    if (request.side == Side::kSell) {
      Balance& b = Bal(request.owner, spec.base);
      b.free_e8 -= request.qty_e8;
      b.locked_e8 += request.qty_e8;
    } else if (request.type == OrderType::kLimit) {
      Balance& b = Bal(request.owner, spec.quote);
      int64_t n = Notional(request.qty_e8, request.price_e8);
      b.free_e8 -= n;
      b.locked_e8 += n;
    }
  }
  orders_[taker.id] = taker;
  if (!request.owner.empty() && !request.client_order_id.empty()) {
    client_index_[request.owner + '\0' + request.client_order_id] = taker.id;
  }
  Order& t = orders_[taker.id];
  if (request.side == Side::kBuy) {
    MatchAgainst(book, book.asks, t);
  } else {
    MatchAgainst(book, book.bids, t);
  }
  const int64_t left = t.request.qty_e8 - t.filled_e8;
  if (left == 0) {
    t.status = OrderStatus::kFilled;
  } else if (request.type == OrderType::kMarket || request.tif != TimeInForce::kGtc) {
    t.status = OrderStatus::kExpired;
    ReleaseRemainder(book, t);
  } else {
    t.status = t.filled_e8 > 0 ? OrderStatus::kPartiallyFilled : OrderStatus::kNew;
    if (request.side == Side::kBuy) {
      book.bids[request.price_e8].push_back(t.id);
    } else {
      book.asks[request.price_e8].push_back(t.id);
    }
  }
  Order result = t;
  if (result.status == OrderStatus::kFilled || result.status == OrderStatus::kExpired) {
    Retire(result.id);
  }
  return result;
}

void MatchingEngine::Retire(uint64_t id) {
  auto it = orders_.find(id);
  if (it == orders_.end()) return;
  if (it->second.request.owner.empty()) {
    orders_.erase(it);
    return;
  }
  finished_.push_back(id);
  while (finished_.size() > kFinishedKept) {
    auto old = orders_.find(finished_.front());
    finished_.pop_front();
    if (old == orders_.end()) continue;
    auto ci =
        client_index_.find(old->second.request.owner + '\0' + old->second.request.client_order_id);
    if (ci != client_index_.end() && ci->second == old->first) client_index_.erase(ci);
    orders_.erase(old);
  }
}

template <class SideMap>
void MatchingEngine::MatchAgainst(Book& book, SideMap& side, Order& taker) {
  const OrderRequest& r = taker.request;
  while (taker.filled_e8 < r.qty_e8 && !side.empty()) {
    auto level = side.begin();
    const int64_t price = level->first;
    if (r.type == OrderType::kLimit) {
      if (r.side == Side::kBuy && price > r.price_e8) break;
      if (r.side == Side::kSell && price < r.price_e8) break;
    }
    auto& queue = level->second;
    while (!queue.empty() && taker.filled_e8 < r.qty_e8) {
      Order& maker = orders_.at(queue.front());
      int64_t qty = std::min(maker.request.qty_e8 - maker.filled_e8, r.qty_e8 - taker.filled_e8);
      Settle(book, taker, maker, price, qty);
      if (maker.filled_e8 == maker.request.qty_e8) {
        maker.status = OrderStatus::kFilled;
        queue.pop_front();
        Retire(maker.id);
      } else {
        maker.status = OrderStatus::kPartiallyFilled;
      }
    }
    if (queue.empty()) side.erase(level);
  }
}

void MatchingEngine::Settle(Book& book, Order& taker, Order& maker, int64_t price_e8,
                            int64_t qty_e8) {
  const SymbolSpec& spec = book.spec;
  const int64_t quote = Notional(qty_e8, price_e8);
  Fill f;
  f.trade_id = next_trade_id_++;
  f.price_e8 = price_e8;
  f.qty_e8 = qty_e8;
  f.taker_side = taker.request.side;
  f.maker_order_id = maker.id;
  f.maker_owner = maker.request.owner;
  for (Order* o : {&taker, &maker}) {
    o->filled_e8 += qty_e8;
    o->cum_quote_e8 += quote;
    o->update_ms = taker.request.now_ms;
    const std::string& owner = o->request.owner;
    if (owner.empty()) {
      o->fills.push_back(f);
      continue;
    }
    const bool buy = o->request.side == Side::kBuy;
    const int64_t bps = o == &taker ? fees_.taker_bps_e8 : fees_.maker_bps_e8;
    // The fee is in the received asset (buy: base, sell: quote) or always in quote.
    const bool fee_in_quote = fees_.in_quote || !buy;
    const int64_t fee = FeeOf(fee_in_quote ? quote : qty_e8, bps);
    Fill mine = f;
    mine.fee_e8 = fee;
    mine.fee_asset = fee_in_quote ? spec.quote : spec.base;
    o->fee_e8 += fee;
    o->fee_asset = mine.fee_asset;
    o->fills.push_back(std::move(mine));
    Balance& base = Bal(owner, spec.base);
    Balance& q = Bal(owner, spec.quote);
    if (buy) {
      if (o->request.type == OrderType::kLimit) {
        // Reserved at the limit price; pay the fill price, free the difference.
        int64_t reserved = Notional(qty_e8, o->request.price_e8);
        q.locked_e8 -= reserved;
        q.free_e8 += reserved - quote;
      } else {
        q.free_e8 -= quote;
      }
      if (fee_in_quote) {
        q.free_e8 -= fee;
        base.free_e8 += qty_e8;
      } else {
        base.free_e8 += qty_e8 - fee;
      }
    } else {
      base.locked_e8 -= qty_e8;
      q.free_e8 += quote - fee;
    }
  }
  if (on_fill_) on_fill_(spec.symbol, f);
}

void MatchingEngine::ReleaseRemainder(const Book& book, Order& o) {
  const std::string& owner = o.request.owner;
  if (owner.empty()) return;
  const int64_t left = o.request.qty_e8 - o.filled_e8;
  if (o.request.side == Side::kSell) {
    Balance& b = Bal(owner, book.spec.base);
    b.locked_e8 -= left;
    b.free_e8 += left;
  } else if (o.request.type == OrderType::kLimit) {
    Balance& b = Bal(owner, book.spec.quote);
    int64_t n =
        Notional(o.request.qty_e8, o.request.price_e8) - Notional(o.filled_e8, o.request.price_e8);
    b.locked_e8 -= n;
    b.free_e8 += n;
  }
}

absl::StatusOr<Order> MatchingEngine::Cancel(const std::string& owner, const std::string& symbol,
                                             uint64_t id, const std::string& client_order_id,
                                             int64_t now_ms) {
  auto bit = books_.find(symbol);
  if (bit == books_.end()) return absl::NotFoundError(absl::StrCat("unknown symbol ", symbol));
  Book& book = bit->second;
  Order* o = nullptr;
  if (id != 0) {
    auto it = orders_.find(id);
    if (it != orders_.end()) o = &it->second;
  } else {
    o = const_cast<Order*>(FindByClientId(owner, client_order_id));
  }
  if (o == nullptr || o->request.owner != owner || o->request.symbol != symbol ||
      (o->status != OrderStatus::kNew && o->status != OrderStatus::kPartiallyFilled)) {
    return absl::NotFoundError("unknown order");
  }
  auto remove = [&](auto& side) {
    auto lit = side.find(o->request.price_e8);
    if (lit == side.end()) return;
    std::erase(lit->second, o->id);
    if (lit->second.empty()) side.erase(lit);
  };
  if (o->request.side == Side::kBuy) {
    remove(book.bids);
  } else {
    remove(book.asks);
  }
  ReleaseRemainder(book, *o);
  o->status = OrderStatus::kCanceled;
  o->update_ms = now_ms;
  Order result = *o;
  Retire(result.id);
  return result;
}

std::vector<Order> MatchingEngine::OpenOrders(const std::string& owner,
                                              const std::string& symbol) const {
  std::vector<Order> out;
  for (const auto& [id, o] : orders_) {
    if (o.request.owner != owner) continue;
    if (!symbol.empty() && o.request.symbol != symbol) continue;
    if (o.status == OrderStatus::kNew || o.status == OrderStatus::kPartiallyFilled) {
      out.push_back(o);
    }
  }
  std::sort(out.begin(), out.end(), [](const Order& a, const Order& b) { return a.id < b.id; });
  return out;
}

const Order* MatchingEngine::FindOrder(uint64_t id) const {
  auto it = orders_.find(id);
  return it == orders_.end() ? nullptr : &it->second;
}

const Order* MatchingEngine::FindByClientId(const std::string& owner,
                                            const std::string& client_order_id) const {
  if (client_order_id.empty()) return nullptr;
  auto ci = client_index_.find(owner + '\0' + client_order_id);
  if (ci == client_index_.end()) return nullptr;
  return FindOrder(ci->second);
}

namespace {

template <class SideMap>
Levels Aggregate(const SideMap& side, const absl::flat_hash_map<uint64_t, Order>& orders,
                 size_t depth) {
  Levels out;
  for (const auto& [price, ids] : side) {
    int64_t qty = 0;
    for (uint64_t id : ids) {
      const Order& o = orders.at(id);
      qty += o.request.qty_e8 - o.filled_e8;
    }
    if (qty > 0) out.emplace_back(price, qty);
    if (depth != 0 && out.size() >= depth) break;
  }
  return out;
}

}  // namespace

Levels MatchingEngine::Bids(const std::string& symbol, size_t depth) const {
  auto it = books_.find(symbol);
  if (it == books_.end()) return {};
  return Aggregate(it->second.bids, orders_, depth);
}

Levels MatchingEngine::Asks(const std::string& symbol, size_t depth) const {
  auto it = books_.find(symbol);
  if (it == books_.end()) return {};
  return Aggregate(it->second.asks, orders_, depth);
}

int64_t MatchingEngine::LevelQty(const std::string& symbol, Side side, int64_t price_e8) const {
  auto it = books_.find(symbol);
  if (it == books_.end()) return 0;
  auto sum = [&](const auto& m) -> int64_t {
    auto l = m.find(price_e8);
    if (l == m.end()) return 0;
    int64_t q = 0;
    for (uint64_t id : l->second) {
      const Order& o = orders_.at(id);
      q += o.request.qty_e8 - o.filled_e8;
    }
    return q;
  };
  return side == Side::kBuy ? sum(it->second.bids) : sum(it->second.asks);
}

}  // namespace tickmesh::venue_sim
