// Record builders shared by the persistence tests.
#pragma once

#include <string>

#include "tickmesh/v1/persistence.pb.h"

namespace tickmesh::persistence::testing {

inline constexpr int64_t kE8 = 100000000;
inline constexpr int64_t kT0 = 1700000000000000000;  // a fixed base time, unix ns

inline v1::Record FillRecord(const std::string& fill_id, const std::string& order_id,
                             const std::string& symbol, v1::Side side, int64_t price_e8,
                             int64_t qty_e8, int64_t unix_ns, int64_t fee_e8 = 0,
                             const std::string& venue = "sim") {
  v1::Record r;
  v1::Fill* f = r.mutable_fill();
  f->set_fill_id(fill_id);
  f->set_order_id(order_id);
  f->set_client_order_id("c-" + order_id);
  f->set_venue(venue);
  f->set_symbol(symbol);
  f->set_side(side);
  f->set_price_e8(price_e8);
  f->set_qty_e8(qty_e8);
  f->set_fee_e8(fee_e8);
  f->set_fee_asset("USD");
  f->set_liquidity(v1::LIQUIDITY_TAKER);
  f->set_unix_ns(unix_ns);
  f->mutable_trace()->set_trace_id(42);
  return r;
}

inline v1::Record OrderRecord(const std::string& order_id, const std::string& symbol,
                              v1::OrderStatus status, uint64_t version, int64_t created_unix_ns,
                              const std::string& client_order_id = "") {
  v1::Record r;
  v1::Order* o = r.mutable_order();
  o->set_order_id(order_id);
  o->set_client_order_id(client_order_id.empty() ? "c-" + order_id : client_order_id);
  o->set_venue("sim");
  o->set_symbol(symbol);
  o->set_side(v1::SIDE_BUY);
  o->set_type(v1::ORDER_TYPE_LIMIT);
  o->set_price_e8(100 * kE8);
  o->set_qty_e8(2 * kE8);
  o->set_filled_qty_e8(status == v1::ORDER_STATUS_FILLED ? 2 * kE8 : 0);
  o->set_status(status);
  o->set_strategy("macd");
  o->set_created_unix_ns(created_unix_ns);
  o->set_updated_unix_ns(created_unix_ns + static_cast<int64_t>(version));
  o->set_version(version);
  return r;
}

inline v1::Record PositionRecord(const std::string& symbol, int64_t qty_e8, int64_t updated) {
  v1::Record r;
  v1::Position* p = r.mutable_position();
  p->set_venue("sim");
  p->set_symbol(symbol);
  p->set_qty_e8(qty_e8);
  p->set_avg_entry_price_e8(100 * kE8);
  p->set_updated_unix_ns(updated);
  return r;
}

inline v1::Record BalanceRecord(const std::string& asset, int64_t total_e8, int64_t updated) {
  v1::Record r;
  v1::Balance* b = r.mutable_balance();
  b->set_venue("sim");
  b->set_asset(asset);
  b->set_total_e8(total_e8);
  b->set_available_e8(total_e8);
  b->set_updated_unix_ns(updated);
  return r;
}

inline v1::Record CandleRecord(const std::string& symbol, int64_t open_unix_ns, uint32_t trades,
                               bool closed, int64_t close_e8) {
  v1::Record r;
  v1::Candle* c = r.mutable_candle();
  c->set_venue("sim");
  c->set_symbol(symbol);
  c->set_interval_s(60);
  c->set_open_unix_ns(open_unix_ns);
  c->set_open_e8(100 * kE8);
  c->set_high_e8(120 * kE8);
  c->set_low_e8(90 * kE8);
  c->set_close_e8(close_e8);
  c->set_volume_e8(trades * kE8);
  c->set_trade_count(trades);
  c->set_closed(closed);
  return r;
}

inline v1::Record SignalRecord(const std::string& id, const std::string& symbol,
                               const std::string& strategy, int64_t unix_ns) {
  v1::Record r;
  v1::Signal* s = r.mutable_signal();
  s->set_signal_id(id);
  s->set_venue("sim");
  s->set_symbol(symbol);
  s->set_side(v1::SIDE_BUY);
  s->set_strength(0.5);
  s->set_strategy(strategy);
  s->set_reason("test");
  s->set_unix_ns(unix_ns);
  return r;
}

}  // namespace tickmesh::persistence::testing
