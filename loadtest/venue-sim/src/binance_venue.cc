#include "binance_venue.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "tickmesh/venues/decimal.h"
#include "tickmesh/venues/sign.h"

namespace tickmesh::venue_sim {

namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

std::string D8(int64_t v) { return venues::FormatDecimalE8(v, 8); }

RestReply Error(int http, int code, std::string_view msg) {
  return {http, absl::StrCat("{\"code\":", code, ",\"msg\":\"", JsonEscape(msg), "\"}")};
}

RestReply Mandatory(std::string_view param) {
  return Error(400, -1102,
               absl::StrCat("Mandatory parameter '", std::string(param),
                            "' was not sent, was empty/null, or malformed."));
}

RestReply IllegalChars(std::string_view param) {
  return Error(400, -1100,
               absl::StrCat("Illegal characters found in parameter '", std::string(param),
                            "'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'."));
}

void AppendLevels(std::string* out, const Levels& levels) {
  out->push_back('[');
  bool first = true;
  for (const auto& [p, q] : levels) {
    if (!first) out->push_back(',');
    first = false;
    absl::StrAppend(out, "[\"", D8(p), "\",\"", D8(q), "\"]");
  }
  out->push_back(']');
}

const char* SideName(Side s) { return s == Side::kBuy ? "BUY" : "SELL"; }
const char* TypeName(OrderType t) { return t == OrderType::kLimit ? "LIMIT" : "MARKET"; }
const char* TifName(TimeInForce t) {
  switch (t) {
    case TimeInForce::kGtc:
      return "GTC";
    case TimeInForce::kIoc:
      return "IOC";
    case TimeInForce::kFok:
      return "FOK";
  }
  return "GTC";
}

}  // namespace

BinanceVenue::BinanceVenue(Market* market, venues::SymbolMap symbols, VenueContext context)
    : market_(market), symbols_(std::move(symbols)), ctx_(std::move(context)) {
  int64_t start_id = 1000000;
  for (const std::string& s : market_->symbols()) {
    SymbolState& st = state_[s];
    auto vs = symbols_.ToVenueSymbol(venues::Venue::kBinance, s);
    st.venue_symbol = vs.ok() ? *vs : s;
    st.stream_prefix = absl::AsciiStrToLower(st.venue_symbol);
    st.last_update_id = start_id;
    start_id += 1000000;
    st.bids = market_->engine().Bids(s);
    st.asks = market_->engine().Asks(s);
  }
  for (const Account& a : ctx_.accounts) {
    for (const auto& [asset, amount] : ctx_.balances_e8)
      market_->engine().Fund(a.api_key, asset, amount);
  }
  market_->engine().set_on_fill([this](const std::string& symbol, const Fill& f) {
    auto it = state_.find(symbol);
    if (it != state_.end() && it->second.trades.size() < 10000) it->second.trades.push_back(f);
  });
}

int64_t BinanceVenue::last_update_id(const std::string& symbol) const {
  auto it = state_.find(symbol);
  return it == state_.end() ? 0 : it->second.last_update_id;
}

void BinanceVenue::Broadcast(const std::string& stream, const std::string& data) {
  std::string combined;
  for (auto& [id, s] : sessions_) {
    if (!s.streams.contains(stream)) continue;
    auto conn = s.conn.lock();
    if (!conn) continue;
    if (s.combined) {
      if (combined.empty())
        combined = absl::StrCat("{\"stream\":\"", stream, "\",\"data\":", data, "}");
      conn->Send(combined);
    } else {
      conn->Send(data);
    }
  }
}

void BinanceVenue::AfterChange(const std::string& symbol) {
  auto it = state_.find(symbol);
  if (it == state_.end()) return;
  SymbolState& st = it->second;
  const int64_t now = ctx_.now_ms();
  Levels bids = market_->engine().Bids(symbol);
  Levels asks = market_->engine().Asks(symbol);
  Levels db = DiffLevels(st.bids, bids);
  Levels da = DiffLevels(st.asks, asks);
  st.bids = std::move(bids);
  st.asks = std::move(asks);
  if (!db.empty() || !da.empty()) {
    const int64_t first = st.last_update_id + 1 + st.gap_pending;
    st.gap_pending = 0;
    const int64_t last = first + static_cast<int64_t>(db.size() + da.size()) - 1;
    st.last_update_id = last;
    std::string data =
        absl::StrCat("{\"e\":\"depthUpdate\",\"E\":", now, ",\"s\":\"", st.venue_symbol,
                     "\",\"U\":", first, ",\"u\":", last, ",\"b\":");
    AppendLevels(&data, db);
    data += ",\"a\":";
    AppendLevels(&data, da);
    data += "}";
    Broadcast(st.stream_prefix + "@depth", data);
    Broadcast(st.stream_prefix + "@depth@100ms", data);
  }
  for (const Fill& f : st.trades) {
    // "m": is the buyer the market maker? True when the taker sold.
    Broadcast(st.stream_prefix + "@trade",
              absl::StrCat("{\"e\":\"trade\",\"E\":", now, ",\"s\":\"", st.venue_symbol,
                           "\",\"t\":", f.trade_id, ",\"p\":\"", D8(f.price_e8), "\",\"q\":\"",
                           D8(f.qty_e8), "\",\"T\":", now, ",\"m\":",
                           f.taker_side == Side::kSell ? "true" : "false", ",\"M\":true}"));
  }
  st.trades.clear();
  std::pair<int64_t, int64_t> bb = st.bids.empty() ? std::pair<int64_t, int64_t>{0, 0} : st.bids[0];
  std::pair<int64_t, int64_t> ba = st.asks.empty() ? std::pair<int64_t, int64_t>{0, 0} : st.asks[0];
  if (bb != st.best_bid || ba != st.best_ask) {
    st.best_bid = bb;
    st.best_ask = ba;
    Broadcast(st.stream_prefix + "@bookTicker",
              absl::StrCat("{\"u\":", st.last_update_id, ",\"s\":\"", st.venue_symbol,
                           "\",\"b\":\"", D8(bb.first), "\",\"B\":\"", D8(bb.second), "\",\"a\":\"",
                           D8(ba.first), "\",\"A\":\"", D8(ba.second), "\"}"));
  }
}

// ---- WebSocket ----

bool BinanceVenue::AcceptsWs(const std::string& target) const {
  return target.rfind("/stream", 0) == 0 || target.rfind("/ws", 0) == 0;
}

void BinanceVenue::OnWsOpen(const std::shared_ptr<WsConn>& conn) {
  Session s;
  s.conn = conn;
  const std::string& t = conn->target();
  if (t.rfind("/stream", 0) == 0) {
    s.combined = true;
    size_t q = t.find('?');
    if (q != std::string::npos) {
      for (const auto& [k, v] : ParseForm(std::string_view(t).substr(q + 1))) {
        if (k != "streams") continue;
        for (absl::string_view name : absl::StrSplit(v, '/', absl::SkipEmpty())) {
          s.streams.insert(std::string(name));
        }
      }
    }
  } else if (t.size() > 4 && t.rfind("/ws/", 0) == 0) {
    std::string rest = t.substr(4);
    for (absl::string_view name : absl::StrSplit(rest, '/', absl::SkipEmpty())) {
      s.streams.insert(std::string(name));
    }
  }
  sessions_[conn->id()] = std::move(s);
}

void BinanceVenue::OnWsFrame(const std::shared_ptr<WsConn>& conn, std::string_view frame) {
  auto it = sessions_.find(conn->id());
  if (it == sessions_.end()) return;
  nlohmann::json j = nlohmann::json::parse(frame, nullptr, /*allow_exceptions=*/false);
  auto error = [&](int code, std::string_view msg, const nlohmann::json& id) {
    nlohmann::json e = {{"error", {{"code", code}, {"msg", std::string(msg)}}}};
    e["id"] = id;
    conn->Send(e.dump());
  };
  if (j.is_discarded() || !j.is_object()) {
    error(3, "Invalid JSON: expected value at line 1 column 1", nullptr);
    return;
  }
  nlohmann::json id = j.contains("id") ? j["id"] : nlohmann::json(nullptr);
  std::string method = j.value("method", "");
  if (method == "SUBSCRIBE" || method == "UNSUBSCRIBE") {
    if (!j.contains("params") || !j["params"].is_array()) {
      error(2, "Invalid request: missing field `params`", id);
      return;
    }
    for (const auto& p : j["params"]) {
      if (!p.is_string()) continue;
      if (method == "SUBSCRIBE") {
        it->second.streams.insert(p.get<std::string>());
      } else {
        it->second.streams.erase(p.get<std::string>());
      }
    }
    nlohmann::json ok = {{"result", nullptr}};
    ok["id"] = id;
    conn->Send(ok.dump());
  } else if (method == "LIST_SUBSCRIPTIONS") {
    nlohmann::json ok = {{"result", it->second.streams}};
    ok["id"] = id;
    conn->Send(ok.dump());
  } else {
    error(2,
          "Invalid request: unknown variant, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, "
          "`LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`",
          id);
  }
}

void BinanceVenue::OnWsClose(uint64_t conn_id) { sessions_.erase(conn_id); }

absl::Status BinanceVenue::InjectFault(const std::string& kind, int64_t count,
                                       const std::string& symbol) {
  if (kind == "gap") {
    for (auto& [s, st] : state_) {
      if (!symbol.empty() && s != symbol && st.venue_symbol != symbol) continue;
      st.gap_pending += std::max<int64_t>(1, count);
      ++gaps_injected_;
    }
    return absl::OkStatus();
  }
  if (kind == "malformed") {
    static const char* const kBad[] = {
        R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":)",
        "this is not json",
        R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":"x","s":"BTCUSDT","U":"a","u":null,"b":[["1"]],"a":{}}})",
        R"({"stream":"btcusdt@trade","data":{"e":"trade","p":"1e400","q":"-"}})",
        "[]",
    };
    for (int64_t i = 0; i < count; ++i) {
      std::string frame = kBad[i % 5];
      for (auto& [id, s] : sessions_) {
        if (auto c = s.conn.lock()) c->Send(frame);
      }
      ++malformed_sent_;
    }
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("binance: unsupported fault kind '", kind,
                   "' (disconnect, gap, malformed, rate_limit, slow, clear)"));
}

std::string BinanceVenue::StateJson() const {
  std::string out = absl::StrCat("\"malformed_sent\":", malformed_sent_,
                                 ",\"gaps_injected\":", gaps_injected_, ",\"last_update_id\":{");
  bool first = true;
  for (const auto& [s, st] : state_) {
    if (!first) out += ",";
    first = false;
    absl::StrAppend(&out, "\"", st.venue_symbol, "\":", st.last_update_id);
  }
  out += "}";
  return out;
}

// ---- REST ----

RestReply BinanceVenue::RateLimitReply() {
  RestReply r = Error(429, -1003,
                      "Too many requests; current limit of IP(127.0.0.1) is 6000 requests per "
                      "minute. Please use WebSocket Streams for live updates to avoid polling the "
                      "API.");
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

const BinanceVenue::SymbolState* BinanceVenue::Lookup(const std::string& venue_symbol,
                                                      std::string* tickmesh_symbol) const {
  auto s = symbols_.FromVenueSymbol(venues::Venue::kBinance, venue_symbol);
  if (!s.ok()) return nullptr;
  auto it = state_.find(*s);
  if (it == state_.end()) return nullptr;
  *tickmesh_symbol = *s;
  return &it->second;
}

RestReply BinanceVenue::HandleRest(const RestRequest& r) {
  if (r.path == "/sim/fund") {
    RestReply reply = HandleFund(market_->engine(), ctx_.accounts, r);
    return reply;
  }
  if (r.path == "/api/v3/ping") return {200, "{}"};
  if (r.path == "/api/v3/time") return {200, absl::StrCat("{\"serverTime\":", ctx_.now_ms(), "}")};
  if (r.path == "/api/v3/depth" && r.method == "GET") return Depth(r);
  const bool order = r.path == "/api/v3/order";
  const bool open = r.path == "/api/v3/openOrders" && r.method == "GET";
  const bool account = r.path == "/api/v3/account" && r.method == "GET";
  const bool trades = r.path == "/api/v3/myTrades" && r.method == "GET";
  if (!order && !open && !account && !trades) {
    return Error(404, -1000, absl::StrCat("Unknown endpoint ", r.method, " ", r.path));
  }
  std::string owner;
  Params params;
  RestReply error;
  if (!Authenticate(r, &owner, &params, &error)) return error;
  if (order && r.method == "POST") return PlaceOrder(owner, params);
  if (order && r.method == "DELETE") return CancelOrder(owner, params);
  if (order && r.method == "GET") return QueryOrder(owner, params);
  if (open) return OpenOrders(owner, params);
  if (account) return AccountInfo(owner);
  if (trades) return MyTrades(owner, params);
  return Error(405, -1000, "Method not allowed");
}

// GET /api/v3/myTrades?symbol=&orderId= : the trades of one order (the simulator keeps them per
// order, so orderId is required here), oldest first, with each trade's commission.
RestReply BinanceVenue::MyTrades(const std::string& owner, const Params& params) {
  const std::string* sym = FormValue(params, "symbol");
  if (sym == nullptr || sym->empty()) return Mandatory("symbol");
  std::string tm;
  const SymbolState* st = Lookup(*sym, &tm);
  if (st == nullptr) return Error(400, -1121, "Invalid symbol.");
  const std::string* oid = FormValue(params, "orderId");
  if (oid == nullptr) return Mandatory("orderId");
  uint64_t id = 0;
  if (!absl::SimpleAtoi(*oid, &id)) return IllegalChars("orderId");
  const Order* o = market_->engine().FindOrder(id);
  std::string body = "[";
  if (o != nullptr && o->request.owner == owner && o->request.symbol == tm) {
    bool first = true;
    for (const Fill& f : o->fills) {
      if (!first) body += ",";
      first = false;
      const bool buyer = o->request.side == Side::kBuy;
      absl::StrAppend(&body, "{\"symbol\":\"", st->venue_symbol, "\",\"id\":", f.trade_id,
                      ",\"orderId\":", o->id, ",\"orderListId\":-1,\"price\":\"", D8(f.price_e8),
                      "\",\"qty\":\"", D8(f.qty_e8), "\",\"quoteQty\":\"",
                      D8(Notional(f.qty_e8, f.price_e8)), "\",\"commission\":\"", D8(f.fee_e8),
                      "\",\"commissionAsset\":\"", JsonEscape(f.fee_asset),
                      "\",\"time\":", o->update_ms, ",\"isBuyer\":", buyer ? "true" : "false",
                      ",\"isMaker\":", f.maker_order_id == o->id ? "true" : "false",
                      ",\"isBestMatch\":true}");
    }
  }
  body += "]";
  return {200, std::move(body)};
}

RestReply BinanceVenue::Depth(const RestRequest& r) {
  Params params = ParseForm(r.query);
  const std::string* sym = FormValue(params, "symbol");
  if (sym == nullptr || sym->empty()) return Mandatory("symbol");
  std::string tm;
  const SymbolState* st = Lookup(*sym, &tm);
  if (st == nullptr) return Error(400, -1121, "Invalid symbol.");
  int64_t limit = 100;
  if (const std::string* l = FormValue(params, "limit")) {
    if (!absl::SimpleAtoi(*l, &limit) || limit < 1) return IllegalChars("limit");
    limit = std::min<int64_t>(limit, 5000);
  }
  Levels bids(st->bids.begin(), st->bids.begin() + std::min<size_t>(limit, st->bids.size()));
  Levels asks(st->asks.begin(), st->asks.begin() + std::min<size_t>(limit, st->asks.size()));
  std::string body = absl::StrCat("{\"lastUpdateId\":", st->last_update_id, ",\"bids\":");
  AppendLevels(&body, bids);
  body += ",\"asks\":";
  AppendLevels(&body, asks);
  body += "}";
  return {200, std::move(body)};
}

bool BinanceVenue::Authenticate(const RestRequest& r, std::string* owner, Params* params,
                                RestReply* error) {
  const std::string key = r.Header("X-MBX-APIKEY");
  if (key.empty()) {
    *error = Error(401, -2014, "API-key format invalid.");
    return false;
  }
  const Account* account = nullptr;
  for (const Account& a : ctx_.accounts) {
    if (a.api_key == key) account = &a;
  }
  if (account == nullptr) {
    *error = Error(401, -2015, "Invalid API-key, IP, or permissions for action.");
    return false;
  }
  *params = ParseForm(r.query);
  for (auto& kv : ParseForm(r.body)) params->push_back(std::move(kv));
  const std::string* signature = FormValue(*params, "signature");
  if (signature == nullptr || signature->empty()) {
    *error = Mandatory("signature");
    return false;
  }
  const std::string* ts = FormValue(*params, "timestamp");
  int64_t timestamp = 0;
  if (ts == nullptr || !absl::SimpleAtoi(*ts, &timestamp)) {
    *error = Mandatory("timestamp");
    return false;
  }
  // totalParams = query string + request body, as sent, without the signature parameter.
  std::string payload = StripParam(r.query, "signature") + StripParam(r.body, "signature");
  std::string expected = venues::BinanceSignature(account->secret, payload);
  if (!SecureEquals(expected, absl::AsciiStrToLower(*signature))) {
    *error = Error(400, -1022, "Signature for this request is not valid.");
    return false;
  }
  int64_t recv_window = 5000;
  if (const std::string* rw = FormValue(*params, "recvWindow")) {
    if (!absl::SimpleAtoi(*rw, &recv_window) || recv_window <= 0) {
      *error = IllegalChars("recvWindow");
      return false;
    }
    if (recv_window > 60000) {
      *error = Error(400, -1131, "recvWindow must be less than 60000");
      return false;
    }
  }
  const int64_t now = ctx_.now_ms();
  if (timestamp < now - recv_window || timestamp >= now + 1000) {
    *error = Error(400, -1021, "Timestamp for this request is outside of the recvWindow.");
    return false;
  }
  *owner = key;
  return true;
}

std::string BinanceVenue::OrderJson(const Order& o) const {
  auto vs = symbols_.ToVenueSymbol(venues::Venue::kBinance, o.request.symbol);
  const OrderRequest& r = o.request;
  return absl::StrCat(
      "{\"symbol\":\"", vs.ok() ? *vs : r.symbol, "\",\"orderId\":", o.id,
      ",\"orderListId\":-1,\"clientOrderId\":\"", JsonEscape(r.client_order_id), "\",\"price\":\"",
      D8(r.type == OrderType::kLimit ? r.price_e8 : 0), "\",\"origQty\":\"", D8(r.qty_e8),
      "\",\"executedQty\":\"", D8(o.filled_e8), "\",\"cummulativeQuoteQty\":\"", D8(o.cum_quote_e8),
      "\",\"status\":\"", OrderStatusName(o.status), "\",\"timeInForce\":\"", TifName(r.tif),
      "\",\"type\":\"", TypeName(r.type), "\",\"side\":\"", SideName(r.side),
      "\",\"stopPrice\":\"0.00000000\",\"icebergQty\":\"0.00000000\",\"time\":", r.now_ms,
      ",\"updateTime\":", o.update_ms, ",\"isWorking\":true,\"workingTime\":", r.now_ms,
      ",\"origQuoteOrderQty\":\"0.00000000\",\"selfTradePreventionMode\":\"NONE\"}");
}

RestReply BinanceVenue::PlaceOrder(const std::string& owner, const Params& params) {
  const std::string* sym = FormValue(params, "symbol");
  if (sym == nullptr || sym->empty()) return Mandatory("symbol");
  std::string tm;
  const SymbolState* st = Lookup(*sym, &tm);
  if (st == nullptr) return Error(400, -1121, "Invalid symbol.");
  OrderRequest req;
  req.owner = owner;
  req.symbol = tm;
  req.now_ms = ctx_.now_ms();
  const std::string* side = FormValue(params, "side");
  if (side == nullptr || side->empty()) return Mandatory("side");
  if (*side == "BUY") {
    req.side = Side::kBuy;
  } else if (*side == "SELL") {
    req.side = Side::kSell;
  } else {
    return Error(400, -1117, "Invalid side.");
  }
  const std::string* type = FormValue(params, "type");
  if (type == nullptr || type->empty()) return Mandatory("type");
  if (*type == "LIMIT") {
    req.type = OrderType::kLimit;
  } else if (*type == "MARKET") {
    req.type = OrderType::kMarket;
    req.tif = TimeInForce::kIoc;
  } else {
    return Error(400, -1116, "Invalid orderType.");
  }
  if (req.type == OrderType::kLimit) {
    const std::string* tif = FormValue(params, "timeInForce");
    if (tif == nullptr || tif->empty()) return Mandatory("timeInForce");
    if (*tif == "GTC") {
      req.tif = TimeInForce::kGtc;
    } else if (*tif == "IOC") {
      req.tif = TimeInForce::kIoc;
    } else if (*tif == "FOK") {
      req.tif = TimeInForce::kFok;
    } else {
      return Error(400, -1115, "Invalid timeInForce.");
    }
    const std::string* price = FormValue(params, "price");
    if (price == nullptr || price->empty()) return Mandatory("price");
    auto p = venues::ParseDecimalE8(*price);
    if (!p.ok()) return IllegalChars("price");
    if (*p <= 0 || *p % market_->tick_e8() != 0) {
      return Error(400, -1013, "Filter failure: PRICE_FILTER");
    }
    req.price_e8 = *p;
  }
  const std::string* qty = FormValue(params, "quantity");
  if (qty == nullptr || qty->empty()) {
    if (FormValue(params, "quoteOrderQty") != nullptr) {
      return Error(400, -1000, "quoteOrderQty is not supported by the simulator");
    }
    return Mandatory("quantity");
  }
  auto q = venues::ParseDecimalE8(*qty);
  if (!q.ok()) return IllegalChars("quantity");
  if (*q <= 0) return Error(400, -1013, "Filter failure: LOT_SIZE");
  req.qty_e8 = *q;
  if (const std::string* cid = FormValue(params, "newClientOrderId")) {
    req.client_order_id = *cid;
  }
  if (req.client_order_id.empty()) {
    req.client_order_id = absl::StrCat("sim-", ++auto_client_id_);
  }
  std::string resp_type = "FULL";  // the default for LIMIT and MARKET orders
  if (const std::string* rt = FormValue(params, "newOrderRespType")) {
    if (*rt != "ACK" && *rt != "RESULT" && *rt != "FULL") {
      return Error(400, -1177, "Invalid newOrderRespType.");
    }
    resp_type = *rt;
  }
  absl::StatusOr<Order> placed = market_->engine().Place(req);
  if (!placed.ok()) {
    switch (placed.status().code()) {
      case absl::StatusCode::kFailedPrecondition:
        return Error(400, -2010, "Account has insufficient balance for requested action.");
      case absl::StatusCode::kAlreadyExists:
        return Error(400, -2010, "Duplicate order sent.");
      default:
        return Error(400, -1013, std::string(placed.status().message()));
    }
  }
  AfterChange(tm);
  const Order& o = *placed;
  std::string body =
      absl::StrCat("{\"symbol\":\"", st->venue_symbol, "\",\"orderId\":", o.id,
                   ",\"orderListId\":-1,\"clientOrderId\":\"", JsonEscape(req.client_order_id),
                   "\",\"transactTime\":", req.now_ms);
  if (resp_type != "ACK") {
    absl::StrAppend(&body, ",\"price\":\"", D8(req.price_e8), "\",\"origQty\":\"", D8(req.qty_e8),
                    "\",\"executedQty\":\"", D8(o.filled_e8), "\",\"cummulativeQuoteQty\":\"",
                    D8(o.cum_quote_e8), "\",\"status\":\"", OrderStatusName(o.status),
                    "\",\"timeInForce\":\"", TifName(req.tif), "\",\"type\":\"", TypeName(req.type),
                    "\",\"side\":\"", SideName(req.side), "\",\"workingTime\":", req.now_ms,
                    ",\"selfTradePreventionMode\":\"NONE\"");
  }
  if (resp_type == "FULL") {
    const SymbolSpec* spec = market_->engine().FindSymbol(tm);
    body += ",\"fills\":[";
    bool first = true;
    for (const Fill& f : o.fills) {
      if (!first) body += ",";
      first = false;
      absl::StrAppend(
          &body, "{\"price\":\"", D8(f.price_e8), "\",\"qty\":\"", D8(f.qty_e8),
          "\",\"commission\":\"", D8(f.fee_e8), "\",\"commissionAsset\":\"",
          f.fee_asset.empty() ? (req.side == Side::kBuy ? spec->base : spec->quote) : f.fee_asset,
          "\",\"tradeId\":", f.trade_id, "}");
    }
    body += "]";
  }
  body += "}";
  return {200, std::move(body)};
}

RestReply BinanceVenue::CancelOrder(const std::string& owner, const Params& params) {
  const std::string* sym = FormValue(params, "symbol");
  if (sym == nullptr || sym->empty()) return Mandatory("symbol");
  std::string tm;
  const SymbolState* st = Lookup(*sym, &tm);
  if (st == nullptr) return Error(400, -1121, "Invalid symbol.");
  uint64_t id = 0;
  std::string cid;
  if (const std::string* oid = FormValue(params, "orderId")) {
    if (!absl::SimpleAtoi(*oid, &id)) return IllegalChars("orderId");
  }
  if (const std::string* c = FormValue(params, "origClientOrderId")) cid = *c;
  if (id == 0 && cid.empty()) {
    return Error(400, -1102,
                 "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!");
  }
  absl::StatusOr<Order> cancelled = market_->engine().Cancel(owner, tm, id, cid, ctx_.now_ms());
  if (!cancelled.ok()) return Error(400, -2011, "Unknown order sent.");
  AfterChange(tm);
  const Order& o = *cancelled;
  std::string new_cid = absl::StrCat("cancel", o.id);
  if (const std::string* c = FormValue(params, "newClientOrderId")) new_cid = *c;
  return {200, absl::StrCat("{\"symbol\":\"", st->venue_symbol, "\",\"origClientOrderId\":\"",
                            JsonEscape(o.request.client_order_id), "\",\"orderId\":", o.id,
                            ",\"orderListId\":-1,\"clientOrderId\":\"", JsonEscape(new_cid),
                            "\",\"transactTime\":", ctx_.now_ms(), ",\"price\":\"",
                            D8(o.request.price_e8), "\",\"origQty\":\"", D8(o.request.qty_e8),
                            "\",\"executedQty\":\"", D8(o.filled_e8),
                            "\",\"cummulativeQuoteQty\":\"", D8(o.cum_quote_e8),
                            "\",\"status\":\"CANCELED\",\"timeInForce\":\"", TifName(o.request.tif),
                            "\",\"type\":\"", TypeName(o.request.type), "\",\"side\":\"",
                            SideName(o.request.side), "\",\"selfTradePreventionMode\":\"NONE\"}")};
}

RestReply BinanceVenue::QueryOrder(const std::string& owner, const Params& params) {
  const std::string* sym = FormValue(params, "symbol");
  if (sym == nullptr || sym->empty()) return Mandatory("symbol");
  std::string tm;
  if (Lookup(*sym, &tm) == nullptr) return Error(400, -1121, "Invalid symbol.");
  const Order* o = nullptr;
  if (const std::string* oid = FormValue(params, "orderId")) {
    uint64_t id = 0;
    if (!absl::SimpleAtoi(*oid, &id)) return IllegalChars("orderId");
    o = market_->engine().FindOrder(id);
  } else if (const std::string* c = FormValue(params, "origClientOrderId")) {
    o = market_->engine().FindByClientId(owner, *c);
  } else {
    return Error(400, -1102,
                 "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!");
  }
  if (o == nullptr || o->request.owner != owner || o->request.symbol != tm) {
    return Error(400, -2013, "Order does not exist.");
  }
  return {200, OrderJson(*o)};
}

RestReply BinanceVenue::OpenOrders(const std::string& owner, const Params& params) {
  std::string tm;
  if (const std::string* sym = FormValue(params, "symbol")) {
    if (Lookup(*sym, &tm) == nullptr) return Error(400, -1121, "Invalid symbol.");
  }
  std::string body = "[";
  bool first = true;
  for (const Order& o : market_->engine().OpenOrders(owner, tm)) {
    if (!first) body += ",";
    first = false;
    body += OrderJson(o);
  }
  body += "]";
  return {200, std::move(body)};
}

RestReply BinanceVenue::AccountInfo(const std::string& owner) {
  std::string body = absl::StrCat(
      "{\"makerCommission\":0,\"takerCommission\":0,\"buyerCommission\":0,"
      "\"sellerCommission\":0,\"commissionRates\":{\"maker\":\"0.00000000\",\"taker\":"
      "\"0.00000000\",\"buyer\":\"0.00000000\",\"seller\":\"0.00000000\"},\"canTrade\":true,"
      "\"canWithdraw\":true,\"canDeposit\":true,\"brokered\":false,"
      "\"requireSelfTradePrevention\":false,\"preventSor\":false,\"updateTime\":",
      ctx_.now_ms(), ",\"accountType\":\"SPOT\",\"balances\":[");
  bool first = true;
  for (const auto& [asset, b] : market_->engine().Balances(owner)) {
    if (!first) body += ",";
    first = false;
    absl::StrAppend(&body, "{\"asset\":\"", JsonEscape(asset), "\",\"free\":\"", D8(b.free_e8),
                    "\",\"locked\":\"", D8(b.locked_e8), "\"}");
  }
  body += "],\"permissions\":[\"SPOT\"],\"uid\":1}";
  return {200, std::move(body)};
}

}  // namespace tickmesh::venue_sim
