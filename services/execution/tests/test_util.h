// Builders shared by execution tests.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tickmesh/v1/execution.pb.h"
#include "tickmesh/v1/market_data.pb.h"

namespace tickmesh::execution::testing {

inline constexpr int64_t E8 = 100'000'000;

using Levels = std::vector<std::pair<int64_t, int64_t>>;  // (price_e8, qty_e8)

inline tickmesh::v1::MarketEvent Snapshot(const std::string& venue, const std::string& symbol,
                                          uint64_t seq, const Levels& bids, const Levels& asks) {
  tickmesh::v1::MarketEvent ev;
  ev.set_venue(venue);
  ev.set_symbol(symbol);
  ev.set_seq(seq);
  auto* s = ev.mutable_snapshot();
  for (auto [p, q] : bids) {
    auto* l = s->add_bids();
    l->set_price_e8(p);
    l->set_qty_e8(q);
  }
  for (auto [p, q] : asks) {
    auto* l = s->add_asks();
    l->set_price_e8(p);
    l->set_qty_e8(q);
  }
  return ev;
}

inline tickmesh::v1::MarketEvent Delta(const std::string& venue, const std::string& symbol,
                                       uint64_t seq, const Levels& bids, const Levels& asks) {
  tickmesh::v1::MarketEvent ev = Snapshot(venue, symbol, seq, bids, asks);
  tickmesh::v1::BookDelta d;
  *d.mutable_bids() = ev.snapshot().bids();
  *d.mutable_asks() = ev.snapshot().asks();
  *ev.mutable_delta() = d;
  return ev;
}

inline tickmesh::v1::OrderRequest Req(const std::string& client_id, tickmesh::v1::Side side,
                                      int64_t qty_e8, int64_t price_e8 = 0,
                                      const std::string& symbol = "BTC-USD",
                                      const std::string& venue = "sim") {
  tickmesh::v1::OrderRequest r;
  r.set_client_order_id(client_id);
  r.set_venue(venue);
  r.set_symbol(symbol);
  r.set_side(side);
  r.set_type(price_e8 > 0 ? tickmesh::v1::ORDER_TYPE_LIMIT : tickmesh::v1::ORDER_TYPE_MARKET);
  r.set_price_e8(price_e8);
  r.set_qty_e8(qty_e8);
  r.set_strategy("test");
  return r;
}

}  // namespace tickmesh::execution::testing
