#include "queries.h"

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace tickmesh::persistence {
namespace {

constexpr char kSep = '\x1f';

// Accumulates WHERE conditions and $n parameters.
class SqlBuilder {
 public:
  // Separate overloads (no by-value variant) keep GCC 12's -Wmaybe-uninitialized quiet.
  std::string Param(int64_t v) {
    params_.emplace_back(std::in_place_type<int64_t>, v);
    return absl::StrCat("$", params_.size());
  }
  std::string Param(const std::string& v) {
    params_.emplace_back(std::in_place_type<std::string>, v);
    return absl::StrCat("$", params_.size());
  }
  void Where(std::string condition) { conditions_.push_back(std::move(condition)); }
  void WhereEq(absl::string_view column, const std::string& value) {
    if (!value.empty()) Where(absl::StrCat(column, " = ", Param(value)));
  }
  void WhereTime(absl::string_view column, const v1::TimeRange& range) {
    if (range.from_unix_ns() != 0) Where(absl::StrCat(column, " >= ", Param(range.from_unix_ns())));
    if (range.to_unix_ns() != 0) Where(absl::StrCat(column, " < ", Param(range.to_unix_ns())));
  }
  std::string WhereClause() const {
    return conditions_.empty() ? "" : " WHERE " + absl::StrJoin(conditions_, " AND ");
  }
  SqlQuery Build(std::string name, std::string sql) {
    return SqlQuery{std::move(name), std::move(sql), std::move(params_)};
  }

 private:
  std::vector<std::string> conditions_;
  std::vector<SqlValue> params_;
};

absl::Status CheckRange(absl::string_view field, const v1::TimeRange& r) {
  if (r.from_unix_ns() < 0 || r.to_unix_ns() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": bounds must be >= 0"));
  }
  if (r.to_unix_ns() != 0 && r.from_unix_ns() > r.to_unix_ns()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".to_unix_ns: before from_unix_ns (",
                                                   r.to_unix_ns(), " < ", r.from_unix_ns(), ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> Limit(const v1::PageRequest& page) {
  if (page.limit() > kMaxPageLimit) {
    return absl::InvalidArgumentError(
        absl::StrCat("page.limit: ", page.limit(), " above the maximum ", kMaxPageLimit));
  }
  return page.limit() == 0 ? kDefaultPageLimit : page.limit();
}

// A keyset cursor: the query kind plus the sort key of the last row returned, as text parts.
std::string EncodeToken(absl::string_view kind, const std::vector<std::string>& key) {
  std::string raw(kind);
  for (const std::string& k : key) absl::StrAppend(&raw, std::string(1, kSep), k);
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<std::vector<std::string>> DecodeToken(absl::string_view kind,
                                                     const std::string& token, size_t parts) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) {
    return absl::InvalidArgumentError("page.page_token: malformed");
  }
  std::vector<std::string> fields = absl::StrSplit(raw, kSep);
  if (fields.size() != parts + 1 || fields[0] != kind) {
    return absl::InvalidArgumentError("page.page_token: not a token of this query");
  }
  fields.erase(fields.begin());
  return fields;
}

absl::StatusOr<int64_t> TokenInt(const std::string& s) {
  int64_t v = 0;
  if (!absl::SimpleAtoi(s, &v)) return absl::InvalidArgumentError("page.page_token: malformed");
  return v;
}

std::string Text(const SqlValue& v) {
  if (std::holds_alternative<std::string>(v)) return std::get<std::string>(v);
  if (std::holds_alternative<int64_t>(v)) return std::to_string(std::get<int64_t>(v));
  return "";
}

int64_t Int(const SqlValue& v) {
  return std::holds_alternative<int64_t>(v) ? std::get<int64_t>(v) : 0;
}

template <typename Msg>
absl::Status Decode(const SqlValue& body, absl::string_view table, Msg* out) {
  if (!std::holds_alternative<std::string>(body) ||
      !out->ParseFromString(std::get<std::string>(body))) {
    return absl::InternalError(absl::StrCat("a stored ", table, " row does not decode"));
  }
  return absl::OkStatus();
}

// Runs a paged query whose rows are (sort key columns..., body); appends decoded messages via
// `add` and returns the next page token ("" when there are no more rows).
template <typename Msg, typename AddFn>
absl::StatusOr<std::string> RunPaged(Store& store, SqlQuery query, absl::string_view kind,
                                     absl::string_view table, size_t key_columns, uint32_t limit,
                                     AddFn add) {
  auto rows = store.Query(query);
  if (!rows.ok()) return rows.status();
  const size_t n = std::min<size_t>(rows->size(), limit);
  for (size_t i = 0; i < n; ++i) {
    Msg msg;
    absl::Status st = Decode((*rows)[i][key_columns], table, &msg);
    if (!st.ok()) return st;
    add(std::move(msg));
  }
  if (rows->size() <= limit) return std::string();
  std::vector<std::string> key;
  for (size_t c = 0; c < key_columns; ++c) key.push_back(Text((*rows)[n - 1][c]));
  return EncodeToken(kind, key);
}

}  // namespace

absl::StatusOr<v1::QueryOrdersResponse> QueryOrders(Store& store,
                                                    const v1::QueryOrdersRequest& req) {
  auto limit = Limit(req.page());
  if (!limit.ok()) return limit.status();
  absl::Status st = CheckRange("created", req.created());
  if (!st.ok()) return st;
  if (req.statuses_size() > 16) return absl::InvalidArgumentError("statuses: more than 16");
  SqlBuilder b;
  b.WhereEq("order_id", req.order_id());
  b.WhereEq("client_order_id", req.client_order_id());
  b.WhereEq("venue", req.venue());
  b.WhereEq("symbol", req.symbol());
  if (req.statuses_size() > 0) {
    std::vector<std::string> ps;
    for (int s : req.statuses()) ps.push_back(b.Param(static_cast<int64_t>(s)));
    b.Where(absl::StrCat("status IN (", absl::StrJoin(ps, ", "), ")"));
  }
  b.WhereTime("created_unix_ns", req.created());
  if (!req.page().page_token().empty()) {
    auto key = DecodeToken("o", req.page().page_token(), 2);
    if (!key.ok()) return key.status();
    auto ts = TokenInt((*key)[0]);
    if (!ts.ok()) return ts.status();
    b.Where(absl::StrCat("(created_unix_ns > ", b.Param(*ts), " OR (created_unix_ns = ",
                         b.Param(*ts), " AND order_id > ", b.Param((*key)[1]), "))"));
  }
  const std::string where = b.WhereClause();
  const std::string lim = b.Param(static_cast<int64_t>(*limit) + 1);
  SqlQuery q =
      b.Build("orders", absl::StrCat("SELECT created_unix_ns, order_id, body FROM orders", where,
                                     " ORDER BY created_unix_ns, order_id LIMIT ", lim));
  v1::QueryOrdersResponse resp;
  auto token = RunPaged<v1::Order>(store, std::move(q), "o", "orders", 2, *limit,
                                   [&](v1::Order&& m) { *resp.add_orders() = std::move(m); });
  if (!token.ok()) return token.status();
  resp.set_next_page_token(*token);
  return resp;
}

absl::StatusOr<v1::QueryFillsResponse> QueryFills(Store& store, const v1::QueryFillsRequest& req) {
  auto limit = Limit(req.page());
  if (!limit.ok()) return limit.status();
  absl::Status st = CheckRange("time", req.time());
  if (!st.ok()) return st;
  SqlBuilder b;
  b.WhereEq("order_id", req.order_id());
  b.WhereEq("venue", req.venue());
  b.WhereEq("symbol", req.symbol());
  b.WhereTime("unix_ns", req.time());
  if (!req.page().page_token().empty()) {
    auto key = DecodeToken("f", req.page().page_token(), 2);
    if (!key.ok()) return key.status();
    auto ts = TokenInt((*key)[0]);
    if (!ts.ok()) return ts.status();
    b.Where(absl::StrCat("(unix_ns > ", b.Param(*ts), " OR (unix_ns = ", b.Param(*ts),
                         " AND fill_id > ", b.Param((*key)[1]), "))"));
  }
  const std::string where = b.WhereClause();
  const std::string lim = b.Param(static_cast<int64_t>(*limit) + 1);
  SqlQuery q = b.Build("fills", absl::StrCat("SELECT unix_ns, fill_id, body FROM fills", where,
                                             " ORDER BY unix_ns, fill_id LIMIT ", lim));
  v1::QueryFillsResponse resp;
  auto token = RunPaged<v1::Fill>(store, std::move(q), "f", "fills", 2, *limit,
                                  [&](v1::Fill&& m) { *resp.add_fills() = std::move(m); });
  if (!token.ok()) return token.status();
  resp.set_next_page_token(*token);
  return resp;
}

absl::StatusOr<v1::QuerySignalsResponse> QuerySignals(Store& store,
                                                      const v1::QuerySignalsRequest& req) {
  auto limit = Limit(req.page());
  if (!limit.ok()) return limit.status();
  absl::Status st = CheckRange("time", req.time());
  if (!st.ok()) return st;
  SqlBuilder b;
  b.WhereEq("symbol", req.symbol());
  b.WhereEq("strategy", req.strategy());
  b.WhereTime("unix_ns", req.time());
  if (!req.page().page_token().empty()) {
    auto key = DecodeToken("s", req.page().page_token(), 2);
    if (!key.ok()) return key.status();
    auto ts = TokenInt((*key)[0]);
    if (!ts.ok()) return ts.status();
    b.Where(absl::StrCat("(unix_ns > ", b.Param(*ts), " OR (unix_ns = ", b.Param(*ts),
                         " AND signal_id > ", b.Param((*key)[1]), "))"));
  }
  const std::string where = b.WhereClause();
  const std::string lim = b.Param(static_cast<int64_t>(*limit) + 1);
  SqlQuery q = b.Build("signals", absl::StrCat("SELECT unix_ns, signal_id, body FROM signals",
                                               where, " ORDER BY unix_ns, signal_id LIMIT ", lim));
  v1::QuerySignalsResponse resp;
  auto token = RunPaged<v1::Signal>(store, std::move(q), "s", "signals", 2, *limit,
                                    [&](v1::Signal&& m) { *resp.add_signals() = std::move(m); });
  if (!token.ok()) return token.status();
  resp.set_next_page_token(*token);
  return resp;
}

absl::StatusOr<v1::QueryCandlesResponse> QueryCandles(Store& store,
                                                      const v1::QueryCandlesRequest& req) {
  auto limit = Limit(req.page());
  if (!limit.ok()) return limit.status();
  absl::Status st = CheckRange("time", req.time());
  if (!st.ok()) return st;
  SqlBuilder b;
  b.WhereEq("venue", req.venue());
  b.WhereEq("symbol", req.symbol());
  if (req.interval_s() != 0) {
    b.Where(absl::StrCat("interval_s = ", b.Param(static_cast<int64_t>(req.interval_s()))));
  }
  b.WhereTime("open_unix_ns", req.time());
  if (!req.page().page_token().empty()) {
    auto key = DecodeToken("c", req.page().page_token(), 4);
    if (!key.ok()) return key.status();
    auto ts = TokenInt((*key)[0]);
    if (!ts.ok()) return ts.status();
    auto iv = TokenInt((*key)[3]);
    if (!iv.ok()) return iv.status();
    // (open, venue, symbol, interval) > cursor, spelled out so both dialects plan it alike.
    const std::string t = b.Param(*ts), v = b.Param((*key)[1]), s = b.Param((*key)[2]),
                      i = b.Param(*iv);
    b.Where(absl::StrCat("(open_unix_ns > ", t, " OR (open_unix_ns = ", t, " AND (venue > ", v,
                         " OR (venue = ", v, " AND (symbol > ", s, " OR (symbol = ", s,
                         " AND interval_s > ", i, "))))))"));
  }
  const std::string where = b.WhereClause();
  const std::string lim = b.Param(static_cast<int64_t>(*limit) + 1);
  SqlQuery q =
      b.Build("candles",
              absl::StrCat("SELECT open_unix_ns, venue, symbol, interval_s, body FROM candles",
                           where, " ORDER BY open_unix_ns, venue, symbol, interval_s LIMIT ", lim));
  v1::QueryCandlesResponse resp;
  auto token = RunPaged<v1::Candle>(store, std::move(q), "c", "candles", 4, *limit,
                                    [&](v1::Candle&& m) { *resp.add_candles() = std::move(m); });
  if (!token.ok()) return token.status();
  resp.set_next_page_token(*token);
  return resp;
}

absl::StatusOr<v1::QueryPositionsResponse> QueryPositions(Store& store,
                                                          const v1::QueryPositionsRequest& req) {
  SqlBuilder b;
  b.WhereEq("p.venue", req.venue());
  b.WhereEq("p.symbol", req.symbol());
  b.Where(
      "p.updated_unix_ns = (SELECT MAX(q.updated_unix_ns) FROM positions q WHERE q.venue = "
      "p.venue AND q.symbol = p.symbol)");
  const std::string where = b.WhereClause();
  const std::string lim = b.Param(static_cast<int64_t>(kMaxPageLimit));
  auto rows =
      store.Query(b.Build("positions", absl::StrCat("SELECT p.body FROM positions p", where,
                                                    " ORDER BY p.venue, p.symbol LIMIT ", lim)));
  if (!rows.ok()) return rows.status();
  v1::QueryPositionsResponse resp;
  for (const SqlRow& row : *rows) {
    absl::Status st = Decode(row[0], "positions", resp.add_positions());
    if (!st.ok()) return st;
  }
  return resp;
}

absl::StatusOr<v1::QueryBalancesResponse> QueryBalances(Store& store,
                                                        const v1::QueryBalancesRequest& req) {
  SqlBuilder b;
  b.WhereEq("p.venue", req.venue());
  b.Where(
      "p.updated_unix_ns = (SELECT MAX(q.updated_unix_ns) FROM balances q WHERE q.venue = "
      "p.venue AND q.asset = p.asset)");
  const std::string where = b.WhereClause();
  const std::string lim = b.Param(static_cast<int64_t>(kMaxPageLimit));
  auto rows =
      store.Query(b.Build("balances", absl::StrCat("SELECT p.body FROM balances p", where,
                                                   " ORDER BY p.venue, p.asset LIMIT ", lim)));
  if (!rows.ok()) return rows.status();
  v1::QueryBalancesResponse resp;
  for (const SqlRow& row : *rows) {
    absl::Status st = Decode(row[0], "balances", resp.add_balances());
    if (!st.ok()) return st;
  }
  return resp;
}

void PnlAccumulator::Add(v1::Side side, int64_t price_e8, int64_t qty_e8, int64_t fee_e8) {
  ++count_;
  fees_e8_ += fee_e8;
  const __int128 p = price_e8, q = qty_e8;
  // Signed quantity this fill adds to the position.
  const __int128 delta = side == v1::SIDE_BUY ? q : -q;
  if (side == v1::SIDE_BUY) {
    bought_e8_ += qty_e8;
  } else {
    sold_e8_ += qty_e8;
  }
  const bool extends = position_e8_ == 0 || (position_e8_ > 0) == (delta > 0);
  if (extends) {
    // Opening or adding: the cost basis grows.
    cost_e16_ += p * q;
    position_e8_ += delta;
    return;
  }
  const __int128 open = position_e8_ > 0 ? position_e8_ : -position_e8_;
  const __int128 close = q < open ? q : open;
  // cost * close / open without overflowing: cost can be ~1e28, close ~1e14.
  const __int128 removed_cost =
      close == open ? cost_e16_ : (cost_e16_ / open) * close + (cost_e16_ % open) * close / open;
  // Long closed by a sell earns price - cost; short closed by a buy earns cost - price.
  realized_e16_ += position_e8_ > 0 ? p * close - removed_cost : removed_cost - p * close;
  cost_e16_ -= removed_cost;
  position_e8_ += position_e8_ > 0 ? -close : close;
  const __int128 rest = q - close;
  if (rest > 0) {  // flipped through flat: the remainder opens a new position at this price
    cost_e16_ = p * rest;
    position_e8_ = delta > 0 ? rest : -rest;
  } else if (position_e8_ == 0) {
    cost_e16_ = 0;
  }
}

int64_t PnlAccumulator::position_e8() const {
  if (position_e8_ > INT64_MAX) return INT64_MAX;
  if (position_e8_ < INT64_MIN) return INT64_MIN;
  return static_cast<int64_t>(position_e8_);
}

int64_t PnlAccumulator::avg_entry_price_e8() const {
  if (position_e8_ == 0) return 0;
  const __int128 avg = cost_e16_ / (position_e8_ > 0 ? position_e8_ : -position_e8_);
  return avg > INT64_MAX ? INT64_MAX : avg < 0 ? 0 : static_cast<int64_t>(avg);
}

void PnlAccumulator::Fill(v1::SymbolPnl* out) const {
  out->set_realized_pnl_e8(static_cast<int64_t>(realized_e16_ / 100000000));
  out->set_fees_e8(fees_e8_);
  out->set_bought_qty_e8(bought_e8_);
  out->set_sold_qty_e8(sold_e8_);
  out->set_fill_count(count_);
}

absl::StatusOr<v1::QueryPnlResponse> QueryPnl(Store& store, const v1::QueryPnlRequest& req) {
  absl::Status st = CheckRange("time", req.time());
  if (!st.ok()) return st;
  constexpr int64_t kChunk = 5000;
  v1::QueryPnlResponse resp;
  PnlAccumulator acc;
  std::string cur_venue, cur_symbol;
  bool have = false;
  auto flush = [&] {
    if (!have) return;
    v1::SymbolPnl* s = resp.add_symbols();
    s->set_venue(cur_venue);
    s->set_symbol(cur_symbol);
    acc.Fill(s);
  };
  // Walk the fills in (venue, symbol, time, id) order in bounded chunks (keyset paging), so
  // memory stays flat however many fills there are.
  std::vector<std::string> after;  // venue, symbol, fill_id of the last row seen
  int64_t after_ts = 0;
  while (true) {
    SqlBuilder b;
    b.WhereEq("venue", req.venue());
    b.WhereEq("symbol", req.symbol());
    b.WhereTime("unix_ns", req.time());
    if (!after.empty()) {
      const std::string v = b.Param(after[0]), s = b.Param(after[1]);
      const std::string t = b.Param(after_ts);
      const std::string id = b.Param(after[2]);
      b.Where(absl::StrCat("(venue > ", v, " OR (venue = ", v, " AND (symbol > ", s,
                           " OR (symbol = ", s, " AND (unix_ns > ", t, " OR (unix_ns = ", t,
                           " AND fill_id > ", id, "))))))"));
    }
    const std::string where = b.WhereClause();
    const std::string lim = b.Param(kChunk);
    auto rows = store.Query(b.Build(
        "pnl", absl::StrCat("SELECT venue, symbol, unix_ns, fill_id, side, price_e8, qty_e8, "
                            "fee_e8 FROM fills",
                            where, " ORDER BY venue, symbol, unix_ns, fill_id LIMIT ", lim)));
    if (!rows.ok()) return rows.status();
    for (const SqlRow& row : *rows) {
      const std::string venue = Text(row[0]), symbol = Text(row[1]);
      if (!have || venue != cur_venue || symbol != cur_symbol) {
        flush();
        acc = PnlAccumulator();
        cur_venue = venue;
        cur_symbol = symbol;
        have = true;
      }
      acc.Add(static_cast<v1::Side>(Int(row[4])), Int(row[5]), Int(row[6]), Int(row[7]));
    }
    if (rows->size() < static_cast<size_t>(kChunk)) break;
    const SqlRow& last = rows->back();
    after = {Text(last[0]), Text(last[1]), Text(last[3])};
    after_ts = Int(last[2]);
  }
  flush();
  return resp;
}

absl::StatusOr<v1::QueryStrategyPositionsResponse> QueryStrategyPositions(
    Store& store, const v1::QueryStrategyPositionsRequest& req) {
  absl::Status st = CheckRange("time", req.time());
  if (!st.ok()) return st;
  const std::string buy = std::to_string(static_cast<int>(v1::SIDE_BUY));
  const std::string sell = std::to_string(static_cast<int>(v1::SIDE_SELL));
  const std::string signed_qty =
      absl::StrCat("CASE WHEN f.side = ", buy, " THEN f.qty_e8 WHEN f.side = ", sell,
                   " THEN -f.qty_e8 ELSE 0 END");
  const std::string strategy = "COALESCE(o.strategy, '')";
  const std::string from = "fills f LEFT JOIN orders o ON o.order_id = f.order_id";
  auto filter = [&](SqlBuilder& b) {
    // On the column itself (a fill without a stored order has strategy "", never asked for by
    // name), so the orders_strategy index can drive the join.
    b.WhereEq("o.strategy", req.strategy());
    b.WhereEq("f.venue", req.venue());
    b.WhereEq("f.symbol", req.symbol());
  };

  // Net and opening quantities: one aggregate in the database over every fill before `to`.
  v1::QueryStrategyPositionsResponse resp;
  {
    SqlBuilder b;
    const std::string range_from = b.Param(req.time().from_unix_ns());
    filter(b);
    if (req.time().to_unix_ns() != 0) {
      b.Where(absl::StrCat("f.unix_ns < ", b.Param(req.time().to_unix_ns())));
    }
    const std::string where = b.WhereClause();
    const std::string lim = b.Param(static_cast<int64_t>(kMaxPageLimit) + 1);
    auto rows = store.Query(
        b.Build("strategy_positions",
                absl::StrCat("SELECT ", strategy, ", f.venue, f.symbol, CAST(SUM(", signed_qty,
                             ") AS BIGINT), CAST(SUM(CASE WHEN f.unix_ns < ", range_from, " THEN ",
                             signed_qty, " ELSE 0 END) AS BIGINT) FROM ", from, where, " GROUP BY ",
                             strategy, ", f.venue, f.symbol ORDER BY 1, 2, 3 LIMIT ", lim)));
    if (!rows.ok()) return rows.status();
    if (rows->size() > kMaxPageLimit) {
      return absl::OutOfRangeError(absl::StrCat(
          "more than ", kMaxPageLimit,
          " (strategy, venue, symbol) with fills; filter by strategy, venue or symbol"));
    }
    for (const SqlRow& row : *rows) {
      v1::StrategyPosition* p = resp.add_positions();
      p->set_strategy(Text(row[0]));
      p->set_venue(Text(row[1]));
      p->set_symbol(Text(row[2]));
      p->set_net_qty_e8(Int(row[3]));
      p->set_opening_qty_e8(Int(row[4]));
    }
  }
  if (resp.positions_size() == 0) return resp;

  // Range fields: walk the range's fills in (unix_ns, fill_id) order, the fills_time index, in
  // bounded chunks; one accumulator per group (no more groups than the aggregate found).
  std::map<std::tuple<std::string, std::string, std::string>, PnlAccumulator> acc;
  constexpr int64_t kChunk = 5000;
  int64_t after_ts = 0;
  std::string after_id;
  bool first = true;
  while (true) {
    SqlBuilder b;
    filter(b);
    b.WhereTime("f.unix_ns", req.time());
    if (!first) {
      const std::string t = b.Param(after_ts);
      b.Where(absl::StrCat("(f.unix_ns > ", t, " OR (f.unix_ns = ", t, " AND f.fill_id > ",
                           b.Param(after_id), "))"));
    }
    const std::string where = b.WhereClause();
    const std::string lim = b.Param(kChunk);
    auto rows = store.Query(
        b.Build("strategy_pnl",
                absl::StrCat("SELECT f.unix_ns, f.fill_id, ", strategy,
                             ", f.venue, f.symbol, f.side, f.price_e8, f.qty_e8, f.fee_e8 FROM ",
                             from, where, " ORDER BY f.unix_ns, f.fill_id LIMIT ", lim)));
    if (!rows.ok()) return rows.status();
    for (const SqlRow& row : *rows) {
      acc[{Text(row[2]), Text(row[3]), Text(row[4])}].Add(static_cast<v1::Side>(Int(row[5])),
                                                          Int(row[6]), Int(row[7]), Int(row[8]));
    }
    if (rows->size() < static_cast<size_t>(kChunk)) break;
    after_ts = Int(rows->back()[0]);
    after_id = Text(rows->back()[1]);
    first = false;
  }
  for (v1::StrategyPosition& p : *resp.mutable_positions()) {
    auto it = acc.find({p.strategy(), p.venue(), p.symbol()});
    if (it == acc.end()) continue;
    v1::SymbolPnl pnl;
    it->second.Fill(&pnl);
    p.set_realized_pnl_e8(pnl.realized_pnl_e8());
    p.set_fees_e8(pnl.fees_e8());
    p.set_bought_qty_e8(pnl.bought_qty_e8());
    p.set_sold_qty_e8(pnl.sold_qty_e8());
    p.set_fill_count(pnl.fill_count());
    p.set_avg_entry_price_e8(it->second.avg_entry_price_e8());
  }
  return resp;
}

}  // namespace tickmesh::persistence
