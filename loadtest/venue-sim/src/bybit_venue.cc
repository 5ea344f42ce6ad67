#include "bybit_venue.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "tickmesh/venues/decimal.h"
#include "tickmesh/venues/sign.h"

namespace tickmesh::venue_sim {

namespace {

RestReply Envelope(int ret_code, std::string_view msg, std::string_view result_json, int64_t now) {
  return {200, absl::StrCat("{\"retCode\":", ret_code, ",\"retMsg\":\"", JsonEscape(msg),
                            "\",\"result\":", std::string(result_json),
                            ",\"retExtInfo\":{},\"time\":", now, "}")};
}

std::string Qty(int64_t v) { return venues::FormatDecimalE8(v); }

template <class Outcome>
Outcome FailAs(int code, std::string msg) {
  Outcome o;
  o.code = code;
  o.msg = std::move(msg);
  return o;
}

bool ValidDepth(int d) { return d == 1 || d == 50 || d == 200 || d == 1000; }

std::string StatusName(const Order& o) {
  switch (o.status) {
    case OrderStatus::kNew:
      return "New";
    case OrderStatus::kPartiallyFilled:
      return "PartiallyFilled";
    case OrderStatus::kFilled:
      return "Filled";
    case OrderStatus::kCanceled:
    case OrderStatus::kExpired:
      return o.filled_e8 > 0 ? "PartiallyFilledCanceled" : "Cancelled";
  }
  return "New";
}

}  // namespace

BybitVenue::BybitVenue(Market* market, venues::SymbolMap symbols, VenueContext context)
    : market_(market), symbols_(std::move(symbols)), ctx_(std::move(context)) {
  for (const std::string& s : market_->symbols()) {
    auto vs = symbols_.ToVenueSymbol(venues::Venue::kBybit, s);
    state_[s].venue_symbol = vs.ok() ? *vs : s;
  }
  for (const Account& a : ctx_.accounts) {
    for (const auto& [asset, amount] : ctx_.balances_e8) {
      market_->engine().Fund(a.api_key, asset, amount);
    }
  }
  market_->engine().set_on_fill([this](const std::string& symbol, const Fill& f) {
    auto it = state_.find(symbol);
    if (it == state_.end()) return;
    if (it->second.trades.size() < 10000) it->second.trades.push_back(f);
    it->second.last_price_e8 = f.price_e8;
    it->second.volume_e8 += f.qty_e8;
  });
}

const std::string* BybitVenue::FindSymbol(const std::string& venue_symbol) const {
  auto s = symbols_.FromVenueSymbol(venues::Venue::kBybit, venue_symbol);
  if (!s.ok()) return nullptr;
  auto it = state_.find(*s);
  return it == state_.end() ? nullptr : &it->first;
}

std::string BybitVenue::BookMessage(const std::string& topic, const char* type,
                                    const std::string& vs, const Levels& bids, const Levels& asks,
                                    int64_t u, int64_t seq, int64_t ts) const {
  const int pd = market_->options().price_decimals;
  auto side = [&](const Levels& ls) {
    std::string out = "[";
    bool first = true;
    for (const auto& [p, q] : ls) {
      if (!first) out += ",";
      first = false;
      absl::StrAppend(&out, "[\"", venues::FormatDecimalE8(p, pd), "\",\"", Qty(q), "\"]");
    }
    return out + "]";
  };
  return absl::StrCat("{\"topic\":\"", topic, "\",\"type\":\"", type, "\",\"ts\":", ts,
                      ",\"data\":{\"s\":\"", vs, "\",\"b\":", side(bids), ",\"a\":", side(asks),
                      ",\"u\":", u, ",\"seq\":", seq, "},\"cts\":", ts, "}");
}

void BybitVenue::Broadcast(const std::string& topic, const std::string& frame) {
  for (auto& [id, s] : sessions_) {
    if (!s.topics.contains(topic)) continue;
    if (auto c = s.conn.lock()) c->Send(frame);
  }
}

void BybitVenue::AfterChange(const std::string& symbol) {
  auto it = state_.find(symbol);
  if (it == state_.end()) return;
  SymbolState& st = it->second;
  const int64_t now = ctx_.now_ms();
  bool seq_bumped = false;
  for (auto& [depth, book] : st.books) {
    Levels bids = market_->engine().Bids(symbol, depth);
    Levels asks = market_->engine().Asks(symbol, depth);
    Levels db = DiffLevels(book.bids, bids);
    Levels da = DiffLevels(book.asks, asks);
    book.bids = std::move(bids);
    book.asks = std::move(asks);
    if (db.empty() && da.empty()) continue;
    if (!seq_bumped) {
      ++st.seq;
      seq_bumped = true;
    }
    book.u += 1 + st.gap_pending;
    const std::string topic = absl::StrCat("orderbook.", depth, ".", st.venue_symbol);
    Broadcast(topic, BookMessage(topic, "delta", st.venue_symbol, db, da, book.u, st.seq, now));
  }
  if (seq_bumped) st.gap_pending = 0;
  if (!st.trades.empty()) {
    const int pd = market_->options().price_decimals;
    std::string data;
    for (const Fill& f : st.trades) {
      if (!data.empty()) data += ",";
      absl::StrAppend(&data, "{\"T\":", now, ",\"s\":\"", st.venue_symbol, "\",\"S\":\"",
                      f.taker_side == Side::kBuy ? "Buy" : "Sell", "\",\"v\":\"", Qty(f.qty_e8),
                      "\",\"p\":\"", venues::FormatDecimalE8(f.price_e8, pd),
                      "\",\"L\":\"ZeroPlusTick\",\"i\":\"", f.trade_id, "\",\"BT\":false}");
    }
    const std::string topic = "publicTrade." + st.venue_symbol;
    Broadcast(topic, absl::StrCat("{\"topic\":\"", topic, "\",\"type\":\"snapshot\",\"ts\":", now,
                                  ",\"data\":[", data, "]}"));
    const std::string last = venues::FormatDecimalE8(st.last_price_e8, pd);
    const std::string ticker = "tickers." + st.venue_symbol;
    Broadcast(ticker,
              absl::StrCat("{\"topic\":\"", ticker, "\",\"ts\":", now,
                           ",\"type\":\"snapshot\",\"cs\":", st.seq, ",\"data\":{\"symbol\":\"",
                           st.venue_symbol, "\",\"lastPrice\":\"", last, "\",\"highPrice24h\":\"",
                           last, "\",\"lowPrice24h\":\"", last, "\",\"prevPrice24h\":\"", last,
                           "\",\"volume24h\":\"", Qty(st.volume_e8),
                           "\",\"turnover24h\":\"0\",\"price24hPcnt\":\"0\",\"usdIndexPrice\":\"",
                           last, "\"}}"));
    st.trades.clear();
  }
}

// ---- WebSocket ----

bool BybitVenue::AcceptsWs(const std::string& target) const {
  return target == "/v5/public/spot" || target.rfind("/v5/public/spot?", 0) == 0;
}

void BybitVenue::OnWsOpen(const std::shared_ptr<WsConn>& conn) {
  Session s;
  s.conn = conn;
  sessions_[conn->id()] = std::move(s);
}

void BybitVenue::OnWsFrame(const std::shared_ptr<WsConn>& conn, std::string_view frame) {
  auto it = sessions_.find(conn->id());
  if (it == sessions_.end()) return;
  const std::string conn_id = absl::StrCat("sim-", conn->id());
  nlohmann::json j = nlohmann::json::parse(frame, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    conn->Send(absl::StrCat("{\"success\":false,\"ret_msg\":\"Invalid JSON\",\"conn_id\":\"",
                            conn_id, "\",\"op\":\"\"}"));
    return;
  }
  const std::string op = j.contains("op") && j["op"].is_string() ? j["op"].get<std::string>() : "";
  const std::string req_id =
      j.contains("req_id") && j["req_id"].is_string() ? j["req_id"].get<std::string>() : "";
  auto reply = [&](bool ok, std::string_view msg) {
    conn->Send(
        absl::StrCat("{\"success\":", ok ? "true" : "false", ",\"ret_msg\":\"", JsonEscape(msg),
                     "\",\"conn_id\":\"", conn_id, "\"",
                     req_id.empty() ? "" : absl::StrCat(",\"req_id\":\"", JsonEscape(req_id), "\""),
                     ",\"op\":\"", JsonEscape(op), "\"}"));
  };
  if (op == "ping") {
    reply(true, "pong");
    return;
  }
  if (op != "subscribe" && op != "unsubscribe") {
    reply(false, absl::StrCat("unknown op: ", op));
    return;
  }
  if (!j.contains("args") || !j["args"].is_array()) {
    reply(false, "args is required");
    return;
  }
  std::vector<std::string> topics;
  for (const auto& a : j["args"]) {
    if (!a.is_string()) continue;
    const std::string topic = a.get<std::string>();
    std::vector<std::string> parts = absl::StrSplit(topic, '.');
    bool ok = false;
    if (parts.size() == 3 && parts[0] == "orderbook") {
      int depth = 0;
      ok = absl::SimpleAtoi(parts[1], &depth) && ValidDepth(depth) && FindSymbol(parts[2]);
    } else if (parts.size() == 2 && (parts[0] == "publicTrade" || parts[0] == "tickers")) {
      ok = FindSymbol(parts[1]) != nullptr;
    }
    if (!ok) {
      reply(false, absl::StrCat("Invalid topic: ", topic));
      return;
    }
    topics.push_back(topic);
  }
  Session& s = it->second;
  if (op == "unsubscribe") {
    for (const auto& t : topics) s.topics.erase(t);
    reply(true, "");
    return;
  }
  reply(true, "subscribe");
  const int64_t now = ctx_.now_ms();
  for (const auto& topic : topics) {
    s.topics.insert(topic);
    std::vector<std::string> parts = absl::StrSplit(topic, '.');
    if (parts[0] != "orderbook") continue;
    int depth = std::stoi(parts[1]);
    const std::string& tm = *FindSymbol(parts[2]);
    SymbolState& st = state_[tm];
    auto [bit, created] = st.books.try_emplace(depth);
    BookStream& book = bit->second;
    if (created) {
      book.bids = market_->engine().Bids(tm, depth);
      book.asks = market_->engine().Asks(tm, depth);
    }
    conn->Send(
        BookMessage(topic, "snapshot", st.venue_symbol, book.bids, book.asks, book.u, st.seq, now));
  }
}

void BybitVenue::OnWsClose(uint64_t conn_id) { sessions_.erase(conn_id); }

absl::Status BybitVenue::InjectFault(const std::string& kind, int64_t count,
                                     const std::string& symbol) {
  if (kind == "gap") {
    for (auto& [tm, st] : state_) {
      if (!symbol.empty() && symbol != tm && symbol != st.venue_symbol) continue;
      st.gap_pending += std::max<int64_t>(1, count);
      ++gaps_injected_;
    }
    return absl::OkStatus();
  }
  if (kind == "malformed") {
    static const char* const kBad[] = {
        R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT","b":[[)",
        "not json",
        R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":"x","data":{"s":"BTCUSDT","b":[["x"]],"a":{},"u":"y"}})",
        R"({"topic":"publicTrade.BTCUSDT","type":"snapshot","data":{}})",
        R"({"topic":"","data":null})",
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
      absl::StrCat("bybit: unsupported fault kind '", kind,
                   "' (disconnect, gap, malformed, rate_limit, slow, clear)"));
}

std::string BybitVenue::StateJson() const {
  return absl::StrCat("\"malformed_sent\":", malformed_sent_, ",\"gaps_injected\":", gaps_injected_,
                      ",\"create_requests\":", create_requests_,
                      ",\"create_batch_requests\":", batch_create_requests_,
                      ",\"create_batch_orders\":", batch_create_orders_,
                      ",\"cancel_batch_requests\":", batch_cancel_requests_);
}

// ---- REST ----

RestReply BybitVenue::RateLimitReply() {
  return Envelope(10006, "Too many visits!", "{}", ctx_.now_ms());
}

RestReply BybitVenue::HandleRest(const RestRequest& r) {
  if (r.path == "/sim/fund") return HandleFund(market_->engine(), ctx_.accounts, r);
  if (r.path == "/v5/market/time") {
    int64_t now = ctx_.now_ms();
    return Envelope(
        0, "OK",
        absl::StrCat("{\"timeSecond\":\"", now / 1000, "\",\"timeNano\":\"", now * 1000000, "\"}"),
        now);
  }
  if (r.path == "/v5/market/orderbook" && r.method == "GET") return Orderbook(r);
  const bool create = r.path == "/v5/order/create" && r.method == "POST";
  const bool cancel = r.path == "/v5/order/cancel" && r.method == "POST";
  const bool create_batch = r.path == "/v5/order/create-batch" && r.method == "POST";
  const bool cancel_batch = r.path == "/v5/order/cancel-batch" && r.method == "POST";
  const bool realtime = r.path == "/v5/order/realtime" && r.method == "GET";
  const bool wallet = r.path == "/v5/account/wallet-balance" && r.method == "GET";
  if (!create && !cancel && !create_batch && !cancel_batch && !realtime && !wallet) {
    return {404, absl::StrCat("{\"retCode\":404,\"retMsg\":\"Not Found\",\"result\":{},"
                              "\"retExtInfo\":{},\"time\":",
                              ctx_.now_ms(), "}")};
  }
  std::string owner;
  RestReply error;
  if (!Authenticate(r, &owner, &error)) return error;
  if (create || cancel) return Single(owner, r.body, create);
  if (create_batch || cancel_batch) return Batch(owner, r.body, create_batch);
  if (realtime) return Realtime(owner, r);
  return Wallet(owner);
}

RestReply BybitVenue::Orderbook(const RestRequest& r) {
  const int64_t now = ctx_.now_ms();
  auto form = ParseForm(r.query);
  const std::string* sym = FormValue(form, "symbol");
  const std::string* tm = sym == nullptr ? nullptr : FindSymbol(*sym);
  if (tm == nullptr) return Envelope(10001, "params error: symbol invalid", "{}", now);
  int64_t limit = 1;
  if (const std::string* l = FormValue(form, "limit")) {
    if (!absl::SimpleAtoi(*l, &limit) || limit < 1 || limit > 200) {
      return Envelope(10001, "params error: limit invalid", "{}", now);
    }
  }
  const SymbolState& st = state_.at(*tm);
  std::string msg = BookMessage("", "snapshot", st.venue_symbol, market_->engine().Bids(*tm, limit),
                                market_->engine().Asks(*tm, limit), 0, st.seq, now);
  // Reuse the WS body: {"s":…,"b":…,"a":…,"u":0,"seq":…}
  size_t d = msg.find("\"data\":");
  size_t e = msg.rfind(",\"cts\"");
  std::string data = msg.substr(d + 7, e - d - 7);
  data.insert(data.size() - 1, absl::StrCat(",\"ts\":", now, ",\"cts\":", now));
  return Envelope(0, "OK", data, now);
}

bool BybitVenue::Authenticate(const RestRequest& r, std::string* owner, RestReply* error) {
  const int64_t now = ctx_.now_ms();
  const std::string key = r.Header("X-BAPI-API-KEY");
  const Account* account = nullptr;
  for (const Account& a : ctx_.accounts) {
    if (!key.empty() && a.api_key == key) account = &a;
  }
  if (account == nullptr) {
    *error = Envelope(10003, "API key is invalid.", "{}", now);
    return false;
  }
  int64_t ts = 0;
  int64_t recv_window = 5000;
  if (!absl::SimpleAtoi(r.Header("X-BAPI-TIMESTAMP"), &ts)) {
    *error = Envelope(10002, "invalid request, please check your timestamp", "{}", now);
    return false;
  }
  const std::string rw = r.Header("X-BAPI-RECV-WINDOW");
  if (!rw.empty() && (!absl::SimpleAtoi(rw, &recv_window) || recv_window <= 0)) {
    *error = Envelope(10001, "params error: recv_window invalid", "{}", now);
    return false;
  }
  const std::string& payload = r.method == "GET" ? r.query : r.body;
  const std::string expected =
      venues::BybitSignature(account->secret, ts, key, recv_window, payload);
  if (!SecureEquals(expected, r.Header("X-BAPI-SIGN"))) {
    *error =
        Envelope(10004, "Error sign, please check your signature generation algorithm.", "{}", now);
    return false;
  }
  if (ts < now - recv_window || ts >= now + 1000) {
    *error =
        Envelope(10002,
                 absl::StrCat("invalid request, please check your server timestamp or "
                              "recv_window param. req_timestamp[",
                              ts, "],server_timestamp[", now, "],recv_window[", recv_window, "]"),
                 "{}", now);
    return false;
  }
  *owner = key;
  return true;
}

BybitVenue::Outcome BybitVenue::CreateOne(const std::string& owner, const nlohmann::json& j) {
  const auto Fail = FailAs<Outcome>;
  const int64_t now = ctx_.now_ms();
  if (!j.is_object()) return Fail(10001, "params error: order is not a JSON object");
  auto str = [&](const char* k) -> std::string {
    return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : "";
  };
  const std::string* tm = FindSymbol(str("symbol"));
  if (tm == nullptr) return Fail(10001, "params error: symbol invalid");
  OrderRequest req;
  req.owner = owner;
  req.symbol = *tm;
  req.now_ms = now;
  const std::string side = str("side");
  if (side == "Buy") {
    req.side = Side::kBuy;
  } else if (side == "Sell") {
    req.side = Side::kSell;
  } else {
    return Fail(10001, "params error: side invalid");
  }
  const std::string type = str("orderType");
  if (type == "Limit") {
    req.type = OrderType::kLimit;
  } else if (type == "Market") {
    req.type = OrderType::kMarket;
    req.tif = TimeInForce::kIoc;
  } else {
    return Fail(10001, "params error: orderType invalid");
  }
  auto qty = venues::ParseDecimalE8(str("qty"));
  if (!qty.ok() || *qty <= 0) return Fail(10001, "params error: qty invalid");
  req.qty_e8 = *qty;
  if (req.type == OrderType::kMarket && req.side == Side::kBuy && str("marketUnit") != "baseCoin") {
    // Spot market buys are sized in the quote coin by default: convert by walking the asks.
    int64_t quote_left = *qty, base = 0;
    for (const auto& [p, q] : market_->engine().Asks(*tm)) {
      int64_t cost = Notional(q, p);
      if (cost >= quote_left) {
        base += static_cast<int64_t>(static_cast<__int128>(quote_left) * 100000000 / p);
        quote_left = 0;
        break;
      }
      base += q;
      quote_left -= cost;
    }
    if (base <= 0) return Fail(170131, "Insufficient liquidity.");
    req.qty_e8 = base;
  }
  if (req.type == OrderType::kLimit) {
    auto price = venues::ParseDecimalE8(str("price"));
    if (!price.ok() || *price <= 0 || *price % market_->tick_e8() != 0) {
      return Fail(10001, "params error: price invalid");
    }
    req.price_e8 = *price;
    const std::string tif = str("timeInForce");
    if (tif.empty() || tif == "GTC") {
      req.tif = TimeInForce::kGtc;
    } else if (tif == "IOC") {
      req.tif = TimeInForce::kIoc;
    } else if (tif == "FOK") {
      req.tif = TimeInForce::kFok;
    } else {
      return Fail(10001, "params error: timeInForce not supported by the simulator");
    }
  }
  req.client_order_id = str("orderLinkId");
  absl::StatusOr<Order> placed = market_->engine().Place(req);
  if (!placed.ok()) {
    if (placed.status().code() == absl::StatusCode::kFailedPrecondition) {
      return Fail(170131, "Insufficient balance.");
    }
    if (placed.status().code() == absl::StatusCode::kAlreadyExists) {
      return Fail(170141, "Duplicate clientOrderId.");
    }
    return Fail(10001, absl::StrCat("params error: ", placed.status().message()));
  }
  AfterChange(*tm);
  return {0, "OK", placed->id, req.client_order_id, state_.at(*tm).venue_symbol, now};
}

BybitVenue::Outcome BybitVenue::CancelOne(const std::string& owner, const nlohmann::json& j) {
  const auto Fail = FailAs<Outcome>;
  const int64_t now = ctx_.now_ms();
  if (!j.is_object()) return Fail(10001, "params error: order is not a JSON object");
  auto str = [&](const char* k) -> std::string {
    return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : "";
  };
  const std::string* tm = FindSymbol(str("symbol"));
  if (tm == nullptr) return Fail(10001, "params error: symbol invalid");
  uint64_t id = 0;
  const std::string oid = str("orderId");
  const std::string link = str("orderLinkId");
  if (!oid.empty() && !absl::SimpleAtoi(oid, &id)) {
    return Fail(170213, "Order does not exist.");
  }
  if (id == 0 && link.empty()) {
    return Fail(10001, "params error: orderId or orderLinkId is required");
  }
  auto c = market_->engine().Cancel(owner, *tm, id, link, now);
  if (!c.ok()) return Fail(170213, "Order does not exist.");
  AfterChange(*tm);
  return {0, "OK", c->id, c->request.client_order_id, state_.at(*tm).venue_symbol, now};
}

RestReply BybitVenue::Single(const std::string& owner, const std::string& body, bool create) {
  const int64_t now = ctx_.now_ms();
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Envelope(10001, "params error: body is not a JSON object", "{}", now);
  }
  if (create) ++create_requests_;
  if (create && (!j.contains("category") || j["category"] != "spot")) {
    return Envelope(10001, "params error: category must be spot", "{}", now);
  }
  Outcome out = create ? CreateOne(owner, j) : CancelOne(owner, j);
  if (out.code != 0) return Envelope(out.code, out.msg, "{}", now);
  return Envelope(0, "OK",
                  absl::StrCat("{\"orderId\":\"", out.order_id, "\",\"orderLinkId\":\"",
                               JsonEscape(out.link), "\"}"),
                  now);
}

// /v5/order/create-batch and /v5/order/cancel-batch: {"category":"spot","request":[…]} of 1..10
// orders, each processed on its own; result.list and retExtInfo.list in request order (a
// refused order: code != 0 and an empty orderId).
RestReply BybitVenue::Batch(const std::string& owner, const std::string& body, bool create) {
  const int64_t now = ctx_.now_ms();
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Envelope(10001, "params error: body is not a JSON object", "{}", now);
  }
  if (!j.contains("category") || j["category"] != "spot") {
    return Envelope(10001, "params error: category must be spot", "{}", now);
  }
  if (!j.contains("request") || !j["request"].is_array() || j["request"].empty() ||
      j["request"].size() > 10) {
    return Envelope(10001, "params error: request must list 1..10 orders", "{}", now);
  }
  if (create) {
    ++batch_create_requests_;
    batch_create_orders_ += static_cast<int64_t>(j["request"].size());
  } else {
    ++batch_cancel_requests_;
  }
  std::string list = "[", codes = "[";
  bool first = true;
  for (const auto& item : j["request"]) {
    Outcome out = create ? CreateOne(owner, item) : CancelOne(owner, item);
    if (out.link.empty() && item.is_object() && item.contains("orderLinkId") &&
        item["orderLinkId"].is_string()) {
      out.link = item["orderLinkId"].get<std::string>();
    }
    if (out.symbol.empty() && item.is_object() && item.contains("symbol") &&
        item["symbol"].is_string()) {
      out.symbol = item["symbol"].get<std::string>();
    }
    if (!first) {
      list += ",";
      codes += ",";
    }
    first = false;
    absl::StrAppend(&list, "{\"category\":\"spot\",\"symbol\":\"", JsonEscape(out.symbol),
                    "\",\"orderId\":\"", out.code == 0 ? absl::StrCat(out.order_id) : "",
                    "\",\"orderLinkId\":\"", JsonEscape(out.link), "\"",
                    create ? absl::StrCat(",\"createAt\":\"",
                                          out.code == 0 ? absl::StrCat(out.at_ms) : "", "\"")
                           : "",
                    "}");
    absl::StrAppend(&codes, "{\"code\":", out.code, ",\"msg\":\"", JsonEscape(out.msg), "\"}");
  }
  list += "]";
  codes += "]";
  return {200, absl::StrCat("{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"list\":", list,
                            "},\"retExtInfo\":{\"list\":", codes, "},\"time\":", now, "}")};
}

std::string BybitVenue::OrderJson(const Order& o) const {
  const OrderRequest& r = o.request;
  const int pd = market_->options().price_decimals;
  const std::string& vs = state_.at(r.symbol).venue_symbol;
  int64_t avg =
      o.filled_e8 > 0
          ? static_cast<int64_t>(static_cast<__int128>(o.cum_quote_e8) * 100000000 / o.filled_e8)
          : 0;
  const int64_t leaves =
      (o.status == OrderStatus::kNew || o.status == OrderStatus::kPartiallyFilled)
          ? r.qty_e8 - o.filled_e8
          : 0;
  const char* tif = r.tif == TimeInForce::kGtc ? "GTC" : r.tif == TimeInForce::kIoc ? "IOC" : "FOK";
  return absl::StrCat(
      "{\"orderId\":\"", o.id, "\",\"orderLinkId\":\"", JsonEscape(r.client_order_id),
      "\",\"blockTradeId\":\"\",\"symbol\":\"", vs, "\",\"price\":\"",
      r.type == OrderType::kLimit ? venues::FormatDecimalE8(r.price_e8, pd) : std::string("0"),
      "\",\"qty\":\"", Qty(r.qty_e8), "\",\"side\":\"", r.side == Side::kBuy ? "Buy" : "Sell",
      "\",\"isLeverage\":\"0\",\"positionIdx\":0,\"orderStatus\":\"", StatusName(o),
      "\",\"cancelType\":\"UNKNOWN\",\"rejectReason\":\"EC_NoError\",\"avgPrice\":\"",
      venues::FormatDecimalE8(avg, pd), "\",\"leavesQty\":\"", Qty(leaves), "\",\"leavesValue\":\"",
      Qty(Notional(leaves, r.price_e8)), "\",\"cumExecQty\":\"", Qty(o.filled_e8),
      "\",\"cumExecValue\":\"", Qty(o.cum_quote_e8), "\",\"cumExecFee\":\"", Qty(o.fee_e8),
      "\",\"timeInForce\":\"", tif, "\",\"orderType\":\"",
      r.type == OrderType::kLimit ? "Limit" : "Market",
      "\",\"stopOrderType\":\"\",\"orderIv\":\"\",\"triggerPrice\":\"0\",\"createdTime\":\"",
      r.now_ms, "\",\"updatedTime\":\"", o.update_ms, "\"}");
}

RestReply BybitVenue::Realtime(const std::string& owner, const RestRequest& r) {
  const int64_t now = ctx_.now_ms();
  auto form = ParseForm(r.query);
  std::string tm;
  if (const std::string* sym = FormValue(form, "symbol")) {
    const std::string* t = FindSymbol(*sym);
    if (t == nullptr) return Envelope(10001, "params error: symbol invalid", "{}", now);
    tm = *t;
  }
  std::vector<Order> orders;
  const std::string* oid = FormValue(form, "orderId");
  const std::string* link = FormValue(form, "orderLinkId");
  if (oid != nullptr || link != nullptr) {
    const Order* o = nullptr;
    uint64_t id = 0;
    if (oid != nullptr && absl::SimpleAtoi(*oid, &id)) o = market_->engine().FindOrder(id);
    if (o == nullptr && link != nullptr) o = market_->engine().FindByClientId(owner, *link);
    if (o != nullptr && o->request.owner == owner) orders.push_back(*o);
  } else {
    orders = market_->engine().OpenOrders(owner, tm);
  }
  std::string list = "[";
  for (size_t i = 0; i < orders.size(); ++i) {
    if (i > 0) list += ",";
    list += OrderJson(orders[i]);
  }
  list += "]";
  return Envelope(
      0, "OK", absl::StrCat("{\"list\":", list, ",\"nextPageCursor\":\"\",\"category\":\"spot\"}"),
      now);
}

RestReply BybitVenue::Wallet(const std::string& owner) {
  std::string coins = "[";
  bool first = true;
  for (const auto& [asset, b] : market_->engine().Balances(owner)) {
    if (!first) coins += ",";
    first = false;
    const std::string total = Qty(b.free_e8 + b.locked_e8);
    absl::StrAppend(&coins, "{\"coin\":\"", JsonEscape(asset), "\",\"equity\":\"", total,
                    "\",\"walletBalance\":\"", total, "\",\"locked\":\"", Qty(b.locked_e8),
                    "\",\"availableToWithdraw\":\"", Qty(b.free_e8), "\",\"usdValue\":\"0\"}");
  }
  coins += "]";
  return Envelope(0, "OK",
                  absl::StrCat("{\"list\":[{\"accountType\":\"UNIFIED\",\"totalEquity\":\"0\","
                               "\"coin\":",
                               coins, "}]}"),
                  ctx_.now_ms());
}

}  // namespace tickmesh::venue_sim
