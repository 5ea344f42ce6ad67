#include "schema.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace tickmesh::persistence {
namespace {

// Version 1, written once with {BYTES} standing for bytea (PostgreSQL) or BLOB (SQLite).
const char* const kV1[] = {
    R"(CREATE TABLE IF NOT EXISTS orders (
  order_id TEXT PRIMARY KEY,
  client_order_id TEXT NOT NULL,
  venue TEXT NOT NULL,
  symbol TEXT NOT NULL,
  side INTEGER NOT NULL,
  order_type INTEGER NOT NULL,
  status INTEGER NOT NULL,
  price_e8 BIGINT NOT NULL,
  qty_e8 BIGINT NOT NULL,
  filled_qty_e8 BIGINT NOT NULL,
  avg_fill_price_e8 BIGINT NOT NULL,
  fee_e8 BIGINT NOT NULL,
  strategy TEXT NOT NULL,
  created_unix_ns BIGINT NOT NULL,
  updated_unix_ns BIGINT NOT NULL,
  version BIGINT NOT NULL,
  body {BYTES} NOT NULL))",
    "CREATE INDEX IF NOT EXISTS orders_client_order_id ON orders (client_order_id)",
    "CREATE INDEX IF NOT EXISTS orders_created ON orders (created_unix_ns, order_id)",
    "CREATE INDEX IF NOT EXISTS orders_symbol_created ON orders (symbol, created_unix_ns)",
    "CREATE INDEX IF NOT EXISTS orders_status_created ON orders (status, created_unix_ns)",
    R"(CREATE TABLE IF NOT EXISTS order_events (
  event_id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  event_type INTEGER NOT NULL,
  unix_ns BIGINT NOT NULL,
  body {BYTES} NOT NULL))",
    "CREATE INDEX IF NOT EXISTS order_events_order ON order_events (order_id, unix_ns)",
    R"(CREATE TABLE IF NOT EXISTS fills (
  fill_id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL,
  client_order_id TEXT NOT NULL,
  venue TEXT NOT NULL,
  symbol TEXT NOT NULL,
  side INTEGER NOT NULL,
  price_e8 BIGINT NOT NULL,
  qty_e8 BIGINT NOT NULL,
  fee_e8 BIGINT NOT NULL,
  fee_asset TEXT NOT NULL,
  liquidity INTEGER NOT NULL,
  unix_ns BIGINT NOT NULL,
  body {BYTES} NOT NULL))",
    "CREATE INDEX IF NOT EXISTS fills_order ON fills (order_id)",
    "CREATE INDEX IF NOT EXISTS fills_time ON fills (unix_ns, fill_id)",
    "CREATE INDEX IF NOT EXISTS fills_symbol_time ON fills (symbol, unix_ns)",
    "CREATE INDEX IF NOT EXISTS fills_venue_symbol_time ON fills (venue, symbol, unix_ns)",
    R"(CREATE TABLE IF NOT EXISTS positions (
  venue TEXT NOT NULL,
  symbol TEXT NOT NULL,
  updated_unix_ns BIGINT NOT NULL,
  qty_e8 BIGINT NOT NULL,
  avg_entry_price_e8 BIGINT NOT NULL,
  realized_pnl_e8 BIGINT NOT NULL,
  unrealized_pnl_e8 BIGINT NOT NULL,
  mark_price_e8 BIGINT NOT NULL,
  body {BYTES} NOT NULL,
  PRIMARY KEY (venue, symbol, updated_unix_ns)))",
    R"(CREATE TABLE IF NOT EXISTS balances (
  venue TEXT NOT NULL,
  asset TEXT NOT NULL,
  updated_unix_ns BIGINT NOT NULL,
  total_e8 BIGINT NOT NULL,
  available_e8 BIGINT NOT NULL,
  body {BYTES} NOT NULL,
  PRIMARY KEY (venue, asset, updated_unix_ns)))",
    R"(CREATE TABLE IF NOT EXISTS signals (
  signal_id TEXT PRIMARY KEY,
  venue TEXT NOT NULL,
  symbol TEXT NOT NULL,
  strategy TEXT NOT NULL,
  side INTEGER NOT NULL,
  unix_ns BIGINT NOT NULL,
  body {BYTES} NOT NULL))",
    "CREATE INDEX IF NOT EXISTS signals_time ON signals (unix_ns, signal_id)",
    "CREATE INDEX IF NOT EXISTS signals_symbol_time ON signals (symbol, unix_ns)",
    "CREATE INDEX IF NOT EXISTS signals_strategy_time ON signals (strategy, unix_ns)",
    R"(CREATE TABLE IF NOT EXISTS candles (
  venue TEXT NOT NULL,
  symbol TEXT NOT NULL,
  interval_s BIGINT NOT NULL,
  open_unix_ns BIGINT NOT NULL,
  open_e8 BIGINT NOT NULL,
  high_e8 BIGINT NOT NULL,
  low_e8 BIGINT NOT NULL,
  close_e8 BIGINT NOT NULL,
  volume_e8 BIGINT NOT NULL,
  trade_count BIGINT NOT NULL,
  closed INTEGER NOT NULL,
  body {BYTES} NOT NULL,
  PRIMARY KEY (venue, symbol, interval_s, open_unix_ns)))",
    "CREATE INDEX IF NOT EXISTS candles_time ON candles (open_unix_ns)",
};

std::vector<Migration> Build(Dialect d) {
  const char* bytes = d == Dialect::kPostgres ? "BYTEA" : "BLOB";
  Migration v1{1, "initial schema", {}};
  for (const char* s : kV1) v1.statements.push_back(absl::StrReplaceAll(s, {{"{BYTES}", bytes}}));
  // Version 2: orders by strategy, for QueryStrategyPositions filtered by strategy (the orders of
  // one strategy, then their fills through fills_order).
  Migration v2{2,
               "orders by strategy",
               {"CREATE INDEX IF NOT EXISTS orders_strategy ON orders (strategy, order_id)"}};
  return {v1, v2};
}

std::vector<TableSpec> BuildSpecs() {
  return {
      {"orders",
       {"order_id", "client_order_id", "venue", "symbol", "side", "order_type", "status",
        "price_e8", "qty_e8", "filled_qty_e8", "avg_fill_price_e8", "fee_e8", "strategy",
        "created_unix_ns", "updated_unix_ns", "version", "body"},
       {"order_id"},
       ConflictRule::kHigherVersion},
      {"order_events",
       {"event_id", "order_id", "seq", "event_type", "unix_ns", "body"},
       {"event_id"},
       ConflictRule::kIgnore},
      {"fills",
       {"fill_id", "order_id", "client_order_id", "venue", "symbol", "side", "price_e8", "qty_e8",
        "fee_e8", "fee_asset", "liquidity", "unix_ns", "body"},
       {"fill_id"},
       ConflictRule::kIgnore},
      {"positions",
       {"venue", "symbol", "updated_unix_ns", "qty_e8", "avg_entry_price_e8", "realized_pnl_e8",
        "unrealized_pnl_e8", "mark_price_e8", "body"},
       {"venue", "symbol", "updated_unix_ns"},
       ConflictRule::kIgnore},
      {"balances",
       {"venue", "asset", "updated_unix_ns", "total_e8", "available_e8", "body"},
       {"venue", "asset", "updated_unix_ns"},
       ConflictRule::kIgnore},
      {"signals",
       {"signal_id", "venue", "symbol", "strategy", "side", "unix_ns", "body"},
       {"signal_id"},
       ConflictRule::kIgnore},
      {"candles",
       {"venue", "symbol", "interval_s", "open_unix_ns", "open_e8", "high_e8", "low_e8", "close_e8",
        "volume_e8", "trade_count", "closed", "body"},
       {"venue", "symbol", "interval_s", "open_unix_ns"},
       ConflictRule::kCandle},
  };
}

const std::vector<TableSpec>& Specs() {
  static const std::vector<TableSpec>* specs = new std::vector<TableSpec>(BuildSpecs());
  return *specs;
}

int64_t I(int64_t v) { return v; }
int64_t U(uint64_t v) { return static_cast<int64_t>(v); }

}  // namespace

const std::vector<Migration>& Migrations(Dialect dialect) {
  static const std::vector<Migration>* pg = new std::vector<Migration>(Build(Dialect::kPostgres));
  static const std::vector<Migration>* lite = new std::vector<Migration>(Build(Dialect::kSqlite));
  return dialect == Dialect::kPostgres ? *pg : *lite;
}

const TableSpec& TableFor(v1::Record::KindCase kind) {
  switch (kind) {
    case v1::Record::kOrder:
      return Specs()[0];
    case v1::Record::kOrderEvent:
      return Specs()[1];
    case v1::Record::kFill:
      return Specs()[2];
    case v1::Record::kPosition:
      return Specs()[3];
    case v1::Record::kBalance:
      return Specs()[4];
    case v1::Record::kSignal:
      return Specs()[5];
    case v1::Record::kCandle:
    case v1::Record::KIND_NOT_SET:
      break;
  }
  return Specs()[6];
}

const std::vector<const TableSpec*>& AllTables() {
  static const std::vector<const TableSpec*>* all = [] {
    auto* v = new std::vector<const TableSpec*>();
    for (const TableSpec& s : Specs()) v->push_back(&s);
    return v;
  }();
  return *all;
}

SqlRow RowFor(const v1::Record& r) {
  switch (r.kind_case()) {
    case v1::Record::kOrder: {
      const v1::Order& o = r.order();
      return {o.order_id(),
              o.client_order_id(),
              o.venue(),
              o.symbol(),
              I(o.side()),
              I(o.type()),
              I(o.status()),
              I(o.price_e8()),
              I(o.qty_e8()),
              I(o.filled_qty_e8()),
              I(o.avg_fill_price_e8()),
              I(o.fee_e8()),
              o.strategy(),
              I(o.created_unix_ns()),
              I(o.updated_unix_ns()),
              U(o.version()),
              o.SerializeAsString()};
    }
    case v1::Record::kOrderEvent: {
      const v1::OrderEvent& e = r.order_event();
      return {e.event_id(), e.order().order_id(), U(e.seq()),
              I(e.type()),  I(e.unix_ns()),       e.SerializeAsString()};
    }
    case v1::Record::kFill: {
      const v1::Fill& f = r.fill();
      return {f.fill_id(),      f.order_id(),    f.client_order_id(),  f.venue(),     f.symbol(),
              I(f.side()),      I(f.price_e8()), I(f.qty_e8()),        I(f.fee_e8()), f.fee_asset(),
              I(f.liquidity()), I(f.unix_ns()),  f.SerializeAsString()};
    }
    case v1::Record::kPosition: {
      const v1::Position& p = r.position();
      return {p.venue(),
              p.symbol(),
              I(p.updated_unix_ns()),
              I(p.qty_e8()),
              I(p.avg_entry_price_e8()),
              I(p.realized_pnl_e8()),
              I(p.unrealized_pnl_e8()),
              I(p.mark_price_e8()),
              p.SerializeAsString()};
    }
    case v1::Record::kBalance: {
      const v1::Balance& b = r.balance();
      return {b.venue(),       b.asset(),           I(b.updated_unix_ns()),
              I(b.total_e8()), I(b.available_e8()), b.SerializeAsString()};
    }
    case v1::Record::kSignal: {
      const v1::Signal& s = r.signal();
      return {s.signal_id(), s.venue(),      s.symbol(),           s.strategy(),
              I(s.side()),   I(s.unix_ns()), s.SerializeAsString()};
    }
    case v1::Record::kCandle: {
      const v1::Candle& c = r.candle();
      return {c.venue(),        c.symbol(),         I(c.interval_s()),     I(c.open_unix_ns()),
              I(c.open_e8()),   I(c.high_e8()),     I(c.low_e8()),         I(c.close_e8()),
              I(c.volume_e8()), I(c.trade_count()), I(c.closed() ? 1 : 0), c.SerializeAsString()};
    }
    case v1::Record::KIND_NOT_SET:
      break;
  }
  return {};
}

std::string KeyFor(const v1::Record& r) {
  const char sep = '\x1f';
  switch (r.kind_case()) {
    case v1::Record::kOrder:
      return r.order().order_id();
    case v1::Record::kOrderEvent:
      return r.order_event().event_id();
    case v1::Record::kFill:
      return r.fill().fill_id();
    case v1::Record::kPosition:
      return absl::StrCat(r.position().venue(), std::string(1, sep), r.position().symbol(),
                          std::string(1, sep), r.position().updated_unix_ns());
    case v1::Record::kBalance:
      return absl::StrCat(r.balance().venue(), std::string(1, sep), r.balance().asset(),
                          std::string(1, sep), r.balance().updated_unix_ns());
    case v1::Record::kSignal:
      return r.signal().signal_id();
    case v1::Record::kCandle:
      return absl::StrCat(r.candle().venue(), std::string(1, sep), r.candle().symbol(),
                          std::string(1, sep), r.candle().interval_s(), std::string(1, sep),
                          r.candle().open_unix_ns());
    case v1::Record::KIND_NOT_SET:
      break;
  }
  return "";
}

bool Supersedes(const v1::Record& a, const v1::Record& b) {
  switch (TableFor(a.kind_case()).conflict) {
    case ConflictRule::kIgnore:
      return false;
    case ConflictRule::kHigherVersion:
      return a.order().version() > b.order().version();
    case ConflictRule::kCandle:
      return !b.candle().closed() &&
             (a.candle().closed() || a.candle().trade_count() >= b.candle().trade_count());
  }
  return false;
}

std::string UpsertSql(const TableSpec& spec, absl::string_view source) {
  std::string sql = absl::StrCat("INSERT INTO ", spec.table, " (",
                                 absl::StrJoin(spec.columns, ", "), ") ", source);
  if (spec.conflict == ConflictRule::kIgnore) return sql + " ON CONFLICT DO NOTHING";
  std::vector<std::string> sets;
  for (const std::string& c : spec.columns) {
    bool is_key = false;
    for (const std::string& k : spec.key) is_key |= (k == c);
    if (!is_key) sets.push_back(absl::StrCat(c, " = excluded.", c));
  }
  absl::StrAppend(&sql, " ON CONFLICT (", absl::StrJoin(spec.key, ", "), ") DO UPDATE SET ",
                  absl::StrJoin(sets, ", "), " WHERE ");
  if (spec.conflict == ConflictRule::kHigherVersion) {
    absl::StrAppend(&sql, "excluded.version > ", spec.table, ".version");
  } else {
    absl::StrAppend(&sql, spec.table,
                    ".closed = 0 AND (excluded.closed = 1 OR excluded.trade_count >= ", spec.table,
                    ".trade_count)");
  }
  return sql;
}

}  // namespace tickmesh::persistence
