#include "market.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "tickmesh/venues/venue.h"

namespace tickmesh::venue_sim {

absl::StatusOr<std::unique_ptr<Market>> Market::Create(const std::vector<std::string>& symbols,
                                                       MarketOptions options) {
  if (options.levels < 1 || options.levels > 1000) {
    return absl::InvalidArgumentError("levels must be 1..1000");
  }
  if (options.price_decimals < 0 || options.price_decimals > 8) {
    return absl::InvalidArgumentError("price_decimals must be 0..8");
  }
  std::unique_ptr<Market> m(new Market(std::move(options)));
  m->tick_e8_ = 1;
  for (int i = 0; i < 8 - m->options_.price_decimals; ++i) m->tick_e8_ *= 10;
  for (const std::string& s : symbols) {
    auto parts = venues::SplitSymbol(s);
    if (!parts.ok()) return parts.status();
    absl::Status st = m->engine_.AddSymbol({s, parts->first, parts->second});
    if (!st.ok()) return st;
    m->symbols_.push_back(s);
    MakerState& ms = m->makers_[s];
    auto it = m->options_.start_mid_e8.find(s);
    if (it != m->options_.start_mid_e8.end()) {
      ms.mid_e8 = it->second;
    } else if (parts->first == "BTC") {
      ms.mid_e8 = 30000LL * 100000000;
    } else if (parts->first == "ETH") {
      ms.mid_e8 = 2000LL * 100000000;
    } else {
      ms.mid_e8 = 100LL * 100000000;
    }
    // Levels about 1 bp apart, on the tick grid.
    ms.step_e8 = std::max(m->tick_e8_, (ms.mid_e8 / 10000) / m->tick_e8_ * m->tick_e8_);
    ms.mid_e8 = ms.mid_e8 / m->tick_e8_ * m->tick_e8_;
    m->Requote(s, ms, 0);
  }
  return m;
}

int64_t Market::RandomQty() {
  // 0.001 .. 2.0 units, on a 1e-3 grid (so quantities print with few decimals).
  std::uniform_int_distribution<int64_t> d(1, 2000);
  return d(rng_) * 100000;
}

bool Market::MakerAlive(uint64_t id) const {
  const Order* o = engine_.FindOrder(id);
  return o != nullptr &&
         (o->status == OrderStatus::kNew || o->status == OrderStatus::kPartiallyFilled);
}

void Market::PlaceMaker(const std::string& symbol, MakerState& st, Side side, int64_t price,
                        int64_t now_ms) {
  OrderRequest r;
  r.symbol = symbol;
  r.side = side;
  r.type = OrderType::kLimit;
  r.tif = TimeInForce::kGtc;
  r.qty_e8 = RandomQty();
  r.price_e8 = price;
  r.now_ms = now_ms;
  auto placed = engine_.Place(r);
  if (!placed.ok()) return;
  if (placed->status == OrderStatus::kNew || placed->status == OrderStatus::kPartiallyFilled) {
    (side == Side::kBuy ? st.bid_ids : st.ask_ids)[price] = placed->id;
  }
}

void Market::Requote(const std::string& symbol, MakerState& st, int64_t now_ms) {
  const int n = options_.levels;
  for (Side side : {Side::kBuy, Side::kSell}) {
    auto& ids = side == Side::kBuy ? st.bid_ids : st.ask_ids;
    std::map<int64_t, bool> wanted;
    for (int i = 0; i < n; ++i) {
      int64_t p =
          side == Side::kBuy ? st.mid_e8 - (i + 1) * st.step_e8 : st.mid_e8 + (i + 1) * st.step_e8;
      if (p > 0) wanted[p] = true;
    }
    for (auto it = ids.begin(); it != ids.end();) {
      if (!wanted.contains(it->first) || !MakerAlive(it->second)) {
        if (MakerAlive(it->second)) (void)engine_.Cancel("", symbol, it->second, "", now_ms);
        it = ids.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& [p, unused] : wanted) {
      if (!ids.contains(p)) PlaceMaker(symbol, st, side, p, now_ms);
    }
  }
}

void Market::Step(const std::string& symbol, int64_t now_ms) {
  auto mit = makers_.find(symbol);
  if (mit == makers_.end()) return;
  MakerState& st = mit->second;
  std::uniform_int_distribution<int> pct(0, 99);
  const int r = pct(rng_);
  if (r < 8) {
    // Mid moves one level up or down; the maker requotes around it.
    st.mid_e8 += (pct(rng_) < 50 ? -1 : 1) * st.step_e8;
    if (st.mid_e8 <= st.step_e8 * (options_.levels + 1)) st.mid_e8 += 2 * st.step_e8;
    Requote(symbol, st, now_ms);
  } else if (r < 18) {
    // A small taker order: a public trade at the touch.
    OrderRequest t;
    t.symbol = symbol;
    t.side = pct(rng_) < 50 ? Side::kBuy : Side::kSell;
    t.type = OrderType::kMarket;
    t.tif = TimeInForce::kIoc;
    std::uniform_int_distribution<int64_t> q(1, 200);
    t.qty_e8 = q(rng_) * 100000;
    t.now_ms = now_ms;
    (void)engine_.Place(t);
    Requote(symbol, st, now_ms);  // refill levels the taker emptied
  } else {
    // Replace the quantity of one level (loses time priority, as on a real venue).
    Side side = pct(rng_) < 50 ? Side::kBuy : Side::kSell;
    std::uniform_int_distribution<int> lvl(0, options_.levels - 1);
    int i = lvl(rng_);
    int64_t p =
        side == Side::kBuy ? st.mid_e8 - (i + 1) * st.step_e8 : st.mid_e8 + (i + 1) * st.step_e8;
    if (p <= 0) return;
    auto& ids = side == Side::kBuy ? st.bid_ids : st.ask_ids;
    auto it = ids.find(p);
    if (it != ids.end()) {
      if (MakerAlive(it->second)) (void)engine_.Cancel("", symbol, it->second, "", now_ms);
      ids.erase(it);
    }
    PlaceMaker(symbol, st, side, p, now_ms);
  }
}

}  // namespace tickmesh::venue_sim
