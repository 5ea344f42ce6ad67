#include "kraken_venue.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "tickmesh/venues/decimal.h"
#include "tickmesh/venues/sign.h"

namespace tickmesh::venue_sim {

namespace {

using Form = std::vector<std::pair<std::string, std::string>>;

constexpr int kQtyDecimals = 8;

RestReply KrakenError(std::string_view error) {
  return {200, absl::StrCat("{\"error\":[\"", JsonEscape(error), "\"]}")};
}

RestReply KrakenResult(std::string_view result_json) {
  return {200, absl::StrCat("{\"error\":[],\"result\":", std::string(result_json), "}")};
}

std::string KrakenAsset(const std::string& asset) {
  if (asset == "BTC") return "XXBT";
  if (asset == "ETH") return "XETH";
  if (asset == "USD") return "ZUSD";
  if (asset == "EUR") return "ZEUR";
  if (asset == "DOGE") return "XXDG";
  return asset;
}

int64_t NowUs() { return WallMs() * 1000; }

}  // namespace

std::string KrakenVenue::TxId(uint64_t id) {
  return absl::StrFormat("OSIM%02X-%05X-%06X", (id >> 44) & 0xFF, (id >> 24) & 0xFFFFF,
                         id & 0xFFFFFF);
}

uint64_t KrakenVenue::OrderIdFromTxId(std::string_view txid) {
  if (txid.size() != 19 || txid.substr(0, 4) != "OSIM" || txid[6] != '-' || txid[12] != '-') {
    return 0;
  }
  uint64_t a = 0, b = 0, c = 0;
  auto hex = [](std::string_view s, uint64_t* out) {
    for (char ch : s) {
      int v = absl::ascii_isdigit(ch) ? ch - '0' : (ch >= 'A' && ch <= 'F') ? ch - 'A' + 10 : -1;
      if (v < 0) return false;
      *out = *out * 16 + v;
    }
    return true;
  };
  if (!hex(txid.substr(4, 2), &a) || !hex(txid.substr(7, 5), &b) || !hex(txid.substr(13, 6), &c)) {
    return 0;
  }
  return (a << 44) | (b << 24) | c;
}

KrakenVenue::KrakenVenue(Market* market, venues::SymbolMap symbols, VenueContext context)
    : market_(market), symbols_(std::move(symbols)), ctx_(std::move(context)) {
  for (const std::string& s : market_->symbols()) {
    SymbolState& st = state_[s];
    auto ws = symbols_.ToVenueSymbol(venues::Venue::kKraken, s);
    st.ws_symbol = ws.ok() ? *ws : s;
    auto rest = venues::KrakenRestPair(s);
    st.rest_pair = rest.ok() ? *rest : st.ws_symbol;
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

const std::string* KrakenVenue::FindSymbol(const std::string& any_name) const {
  auto s = symbols_.FromVenueSymbol(venues::Venue::kKraken, any_name);
  if (s.ok()) {
    auto it = state_.find(*s);
    if (it != state_.end()) return &it->first;
  }
  for (const auto& [tm, st] : state_) {
    if (st.rest_pair == any_name || st.ws_symbol == any_name) return &tm;
  }
  return nullptr;
}

std::string KrakenVenue::BookLevels(const Levels& levels) const {
  std::string out = "[";
  bool first = true;
  for (const auto& [p, q] : levels) {
    if (!first) out += ",";
    first = false;
    absl::StrAppend(&out,
                    "{\"price\":", venues::FormatDecimalE8(p, market_->options().price_decimals),
                    ",\"qty\":", venues::FormatDecimalE8(q, kQtyDecimals), "}");
  }
  out += "]";
  return out;
}

uint32_t KrakenVenue::Checksum(const std::string& symbol) const {
  auto convert = [&](const Levels& ls) {
    std::vector<venues::KrakenChecksumLevel> out;
    for (const auto& [p, q] : ls) {
      out.push_back({p, q, market_->options().price_decimals, kQtyDecimals});
    }
    return out;
  };
  auto asks = convert(market_->engine().Asks(symbol, 10));
  auto bids = convert(market_->engine().Bids(symbol, 10));
  return venues::KrakenBookChecksum(asks, bids);
}

std::string KrakenVenue::TickerData(const std::string& symbol, const SymbolState& st) const {
  const int pd = market_->options().price_decimals;
  int64_t last = st.last_price_e8 != 0 ? st.last_price_e8 : st.best_bid.first;
  return absl::StrCat(
      "{\"symbol\":\"", st.ws_symbol, "\",\"bid\":", venues::FormatDecimalE8(st.best_bid.first, pd),
      ",\"bid_qty\":", venues::FormatDecimalE8(st.best_bid.second, kQtyDecimals),
      ",\"ask\":", venues::FormatDecimalE8(st.best_ask.first, pd),
      ",\"ask_qty\":", venues::FormatDecimalE8(st.best_ask.second, kQtyDecimals),
      ",\"last\":", venues::FormatDecimalE8(last, pd),
      ",\"volume\":", venues::FormatDecimalE8(st.volume_e8, kQtyDecimals),
      ",\"vwap\":", venues::FormatDecimalE8(last, pd),
      ",\"low\":", venues::FormatDecimalE8(last, pd),
      ",\"high\":", venues::FormatDecimalE8(last, pd), ",\"change\":0.0,\"change_pct\":0.00}");
}

void KrakenVenue::AfterChange(const std::string& symbol) {
  auto it = state_.find(symbol);
  if (it == state_.end()) return;
  SymbolState& st = it->second;
  const std::string ts = IsoTimeUs(NowUs());
  bool checksum_done = false;
  uint32_t checksum = 0;
  bool dropped = false, corrupted = false;
  for (auto& [depth, view] : st.views) {
    Levels bids = market_->engine().Bids(symbol, depth);
    Levels asks = market_->engine().Asks(symbol, depth);
    Levels db = DiffLevels(view.first, bids);
    Levels da = DiffLevels(view.second, asks);
    view.first = std::move(bids);
    view.second = std::move(asks);
    if (db.empty() && da.empty()) continue;
    if (!checksum_done) {
      checksum = Checksum(symbol);
      checksum_done = true;
      if (st.drop_pending > 0) {
        --st.drop_pending;
        dropped = true;
      } else if (st.corrupt_pending > 0) {
        --st.corrupt_pending;
        ++checksums_corrupted_;
        corrupted = true;
      }
    }
    if (dropped) continue;
    const uint32_t sent = corrupted ? checksum ^ 0x5A5A5A5Au : checksum;
    std::string frame =
        absl::StrCat("{\"channel\":\"book\",\"type\":\"update\",\"data\":[{\"symbol\":\"",
                     st.ws_symbol, "\",\"bids\":", BookLevels(db), ",\"asks\":", BookLevels(da),
                     ",\"checksum\":", sent, ",\"timestamp\":\"", ts, "\"}]}");
    for (auto& [id, s] : sessions_) {
      auto b = s.book.find(symbol);
      if (b == s.book.end() || b->second != depth) continue;
      if (auto c = s.conn.lock()) c->Send(frame);
    }
  }
  if (!st.trades.empty()) {
    const int pd = market_->options().price_decimals;
    std::string data;
    for (const Fill& f : st.trades) {
      if (!data.empty()) data += ",";
      absl::StrAppend(&data, "{\"symbol\":\"", st.ws_symbol, "\",\"side\":\"",
                      f.taker_side == Side::kBuy ? "buy" : "sell",
                      "\",\"price\":", venues::FormatDecimalE8(f.price_e8, pd),
                      ",\"qty\":", venues::FormatDecimalE8(f.qty_e8, kQtyDecimals),
                      ",\"ord_type\":\"market\",\"trade_id\":", f.trade_id, ",\"timestamp\":\"", ts,
                      "\"}");
    }
    std::string frame =
        absl::StrCat("{\"channel\":\"trade\",\"type\":\"update\",\"data\":[", data, "]}");
    for (auto& [id, s] : sessions_) {
      if (!s.trade.contains(symbol)) continue;
      if (auto c = s.conn.lock()) c->Send(frame);
    }
  }
  Levels top_b = market_->engine().Bids(symbol, 1);
  Levels top_a = market_->engine().Asks(symbol, 1);
  std::pair<int64_t, int64_t> bb = top_b.empty() ? std::pair<int64_t, int64_t>{0, 0} : top_b[0];
  std::pair<int64_t, int64_t> ba = top_a.empty() ? std::pair<int64_t, int64_t>{0, 0} : top_a[0];
  if (bb != st.best_bid || ba != st.best_ask || !st.trades.empty()) {
    st.best_bid = bb;
    st.best_ask = ba;
    std::string frame = absl::StrCat("{\"channel\":\"ticker\",\"type\":\"update\",\"data\":[",
                                     TickerData(symbol, st), "]}");
    for (auto& [id, s] : sessions_) {
      if (!s.ticker.contains(symbol)) continue;
      if (auto c = s.conn.lock()) c->Send(frame);
    }
  }
  st.trades.clear();
}

void KrakenVenue::Heartbeat() {
  for (auto& [id, s] : sessions_) {
    if (s.book.empty() && s.trade.empty() && s.ticker.empty()) continue;
    if (auto c = s.conn.lock()) c->Send(R"({"channel":"heartbeat"})");
  }
}

// ---- WebSocket ----

bool KrakenVenue::AcceptsWs(const std::string& target) const {
  return target == "/v2" || target.rfind("/v2?", 0) == 0 || target == "/v2/";
}

void KrakenVenue::OnWsOpen(const std::shared_ptr<WsConn>& conn) {
  Session s;
  s.conn = conn;
  sessions_[conn->id()] = std::move(s);
  conn->Send(
      absl::StrCat("{\"channel\":\"status\",\"data\":[{\"api_version\":\"v2\",\"connection_id\":",
                   connection_id_ + conn->id(),
                   ",\"system\":\"online\",\"version\":\"2.0.0\"}],"
                   "\"type\":\"update\"}"));
}

void KrakenVenue::Subscribe(Session& s, const std::shared_ptr<WsConn>& conn, bool subscribe,
                            const std::string& channel, const std::vector<std::string>& symbols,
                            int depth, bool snapshot, const std::string& req_id) {
  const std::string method = subscribe ? "subscribe" : "unsubscribe";
  const std::string t_in = IsoTimeUs(NowUs());
  for (const std::string& vs : symbols) {
    const std::string* tm = FindSymbol(vs);
    auto ack_tail = [&] {
      return absl::StrCat(",\"time_in\":\"", t_in, "\",\"time_out\":\"", IsoTimeUs(NowUs()), "\"",
                          req_id.empty() ? "" : absl::StrCat(",\"req_id\":", req_id), "}");
    };
    if (tm == nullptr) {
      conn->Send(absl::StrCat("{\"error\":\"Currency pair not supported ", JsonEscape(vs),
                              "\",\"method\":\"", method, "\",\"success\":false,\"symbol\":\"",
                              JsonEscape(vs), "\"", ack_tail()));
      continue;
    }
    SymbolState& st = state_[*tm];
    std::string result = absl::StrCat("{\"channel\":\"", channel, "\"");
    if (channel == "book") absl::StrAppend(&result, ",\"depth\":", depth);
    if (subscribe) absl::StrAppend(&result, ",\"snapshot\":", snapshot ? "true" : "false");
    absl::StrAppend(&result, ",\"symbol\":\"", st.ws_symbol, "\"}");
    conn->Send(absl::StrCat("{\"method\":\"", method, "\",\"result\":", result, ",\"success\":true",
                            ack_tail()));
    if (channel == "book") {
      if (!subscribe) {
        s.book.erase(*tm);
        continue;
      }
      s.book[*tm] = depth;
      auto& view = st.views[depth];
      view.first = market_->engine().Bids(*tm, depth);
      view.second = market_->engine().Asks(*tm, depth);
      if (snapshot) {
        conn->Send(absl::StrCat(
            "{\"channel\":\"book\",\"type\":\"snapshot\",\"data\":[{"
            "\"symbol\":\"",
            st.ws_symbol, "\",\"bids\":", BookLevels(view.first),
            ",\"asks\":", BookLevels(view.second), ",\"checksum\":", Checksum(*tm), "}]}"));
      }
    } else if (channel == "trade") {
      if (subscribe) {
        s.trade.insert(*tm);
      } else {
        s.trade.erase(*tm);
      }
    } else if (channel == "ticker") {
      if (!subscribe) {
        s.ticker.erase(*tm);
        continue;
      }
      s.ticker.insert(*tm);
      if (snapshot) {
        Levels b = market_->engine().Bids(*tm, 1), a = market_->engine().Asks(*tm, 1);
        if (!b.empty()) st.best_bid = b[0];
        if (!a.empty()) st.best_ask = a[0];
        conn->Send(absl::StrCat("{\"channel\":\"ticker\",\"type\":\"snapshot\",\"data\":[",
                                TickerData(*tm, st), "]}"));
      }
    }
  }
}

void KrakenVenue::OnWsFrame(const std::shared_ptr<WsConn>& conn, std::string_view frame) {
  auto it = sessions_.find(conn->id());
  if (it == sessions_.end()) return;
  const std::string t_in = IsoTimeUs(NowUs());
  nlohmann::json j = nlohmann::json::parse(frame, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    conn->Send(absl::StrCat("{\"error\":\"Malformed request\",\"success\":false,\"time_in\":\"",
                            t_in, "\",\"time_out\":\"", IsoTimeUs(NowUs()), "\"}"));
    return;
  }
  std::string method =
      j.contains("method") && j["method"].is_string() ? j["method"].get<std::string>() : "";
  std::string req_id = j.contains("req_id") && j["req_id"].is_number_integer()
                           ? std::to_string(j["req_id"].get<int64_t>())
                           : "";
  auto fail = [&](std::string_view error) {
    conn->Send(absl::StrCat("{\"error\":\"", JsonEscape(error), "\",\"method\":\"",
                            JsonEscape(method), "\",\"success\":false,\"time_in\":\"", t_in,
                            "\",\"time_out\":\"", IsoTimeUs(NowUs()), "\"",
                            req_id.empty() ? "" : absl::StrCat(",\"req_id\":", req_id), "}"));
  };
  if (method == "ping") {
    conn->Send(absl::StrCat(
        "{\"method\":\"pong\"", req_id.empty() ? "" : absl::StrCat(",\"req_id\":", req_id),
        ",\"time_in\":\"", t_in, "\",\"time_out\":\"", IsoTimeUs(NowUs()), "\"}"));
    return;
  }
  if (method != "subscribe" && method != "unsubscribe") {
    fail("Method not found");
    return;
  }
  if (!j.contains("params") || !j["params"].is_object()) {
    fail("Missing params");
    return;
  }
  const auto& p = j["params"];
  std::string channel =
      p.contains("channel") && p["channel"].is_string() ? p["channel"].get<std::string>() : "";
  if (channel != "book" && channel != "trade" && channel != "ticker") {
    fail(absl::StrCat("Channel ", channel, " not supported by the simulator"));
    return;
  }
  std::vector<std::string> symbols;
  if (!p.contains("symbol") || !p["symbol"].is_array()) {
    fail("Missing symbol");
    return;
  }
  for (const auto& s : p["symbol"]) {
    if (s.is_string()) symbols.push_back(s.get<std::string>());
  }
  int depth = 10;
  if (p.contains("depth")) {
    if (!p["depth"].is_number_integer()) {
      fail("Invalid depth");
      return;
    }
    depth = p["depth"].get<int>();
    if (depth != 10 && depth != 25 && depth != 100 && depth != 500 && depth != 1000) {
      fail("Invalid depth");
      return;
    }
  }
  bool snapshot =
      !p.contains("snapshot") || !p["snapshot"].is_boolean() || p["snapshot"].get<bool>();
  Subscribe(it->second, conn, method == "subscribe", channel, symbols, depth, snapshot, req_id);
}

void KrakenVenue::OnWsClose(uint64_t conn_id) { sessions_.erase(conn_id); }

absl::Status KrakenVenue::InjectFault(const std::string& kind, int64_t count,
                                      const std::string& symbol) {
  auto matches = [&](const std::string& tm, const SymbolState& st) {
    return symbol.empty() || symbol == tm || symbol == st.ws_symbol || symbol == st.rest_pair;
  };
  if (kind == "gap" || kind == "checksum") {
    for (auto& [tm, st] : state_) {
      if (!matches(tm, st)) continue;
      if (kind == "gap") {
        st.drop_pending += std::max<int64_t>(1, count);
        ++gaps_injected_;
      } else {
        st.corrupt_pending += std::max<int64_t>(1, count);
      }
    }
    return absl::OkStatus();
  }
  if (kind == "malformed") {
    static const char* const kBad[] = {
        R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":)",
        "not json",
        R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":"x","qty":null}],"asks":{},"checksum":"y"}]})",
        R"({"channel":"trade","type":"update","data":{}})",
        R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":1e999,"qty":-1}],"asks":[],"checksum":1}]})",
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
      absl::StrCat("kraken: unsupported fault kind '", kind,
                   "' (disconnect, gap, checksum, malformed, rate_limit, slow, clear)"));
}

std::string KrakenVenue::StateJson() const {
  return absl::StrCat("\"malformed_sent\":", malformed_sent_, ",\"gaps_injected\":", gaps_injected_,
                      ",\"checksums_corrupted\":", checksums_corrupted_,
                      ",\"add_order_requests\":", add_order_requests_,
                      ",\"add_order_batch_requests\":", batch_requests_,
                      ",\"add_order_batch_orders\":", batch_orders_);
}

// ---- REST ----

RestReply KrakenVenue::RateLimitReply() { return KrakenError("EAPI:Rate limit exceeded"); }

RestReply KrakenVenue::HandleRest(const RestRequest& r) {
  if (r.path == "/sim/fund") return HandleFund(market_->engine(), ctx_.accounts, r);
  if (r.path == "/0/public/Time") {
    int64_t ms = ctx_.now_ms();
    return KrakenResult(absl::StrCat("{\"unixtime\":", ms / 1000, ",\"rfc1123\":\"\"}"));
  }
  if (r.path == "/0/public/Depth") return Depth(r);
  const std::string prefix = "/0/private/";
  if (r.path.rfind(prefix, 0) == 0) {
    if (r.method != "POST") return KrakenError("EGeneral:Invalid arguments");
    return Private(r, r.path.substr(prefix.size()));
  }
  return {404, R"({"error":["EGeneral:Unknown method"]})"};
}

RestReply KrakenVenue::Depth(const RestRequest& r) {
  Form form = ParseForm(r.query);
  const std::string* pair = FormValue(form, "pair");
  if (pair == nullptr) return KrakenError("EGeneral:Invalid arguments");
  const std::string* tm = FindSymbol(*pair);
  if (tm == nullptr) return KrakenError("EQuery:Unknown asset pair");
  int64_t count = 100;
  if (const std::string* c = FormValue(form, "count")) {
    if (!absl::SimpleAtoi(*c, &count) || count < 1 || count > 500) {
      return KrakenError("EGeneral:Invalid arguments");
    }
  }
  const int pd = market_->options().price_decimals;
  const int64_t ts = ctx_.now_ms() / 1000;
  auto side = [&](const Levels& ls) {
    std::string out = "[";
    bool first = true;
    for (const auto& [p, q] : ls) {
      if (!first) out += ",";
      first = false;
      absl::StrAppend(&out, "[\"", venues::FormatDecimalE8(p, pd), "\",\"",
                      venues::FormatDecimalE8(q, kQtyDecimals), "\",", ts, "]");
    }
    return out + "]";
  };
  return KrakenResult(absl::StrCat("{\"", JsonEscape(*pair),
                                   "\":{\"asks\":", side(market_->engine().Asks(*tm, count)),
                                   ",\"bids\":", side(market_->engine().Bids(*tm, count)), "}}"));
}

RestReply KrakenVenue::Private(const RestRequest& r, const std::string& method) {
  const std::string key = r.Header("API-Key");
  const Account* account = nullptr;
  for (const Account& a : ctx_.accounts) {
    if (!key.empty() && a.api_key == key) account = &a;
  }
  if (account == nullptr) return KrakenError("EAPI:Invalid key");
  // Bodies are url-encoded forms, except AddOrderBatch's JSON (nonce a number or a string).
  const bool json = !r.body.empty() && r.body.front() == '{';
  Form form;
  std::string nonce_text;
  if (json) {
    nlohmann::json j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("nonce")) {
      if (j["nonce"].is_number_unsigned()) nonce_text = std::to_string(j["nonce"].get<uint64_t>());
      if (j["nonce"].is_string()) nonce_text = j["nonce"].get<std::string>();
    }
  } else {
    form = ParseForm(r.body);
    if (const std::string* n = FormValue(form, "nonce")) nonce_text = *n;
  }
  uint64_t nonce = 0;
  if (nonce_text.empty() || !absl::SimpleAtoi(nonce_text, &nonce)) {
    return KrakenError("EAPI:Invalid nonce");
  }
  // API-Sign = base64(HMAC-SHA512(base64decode(secret), path + SHA256(nonce + POST data))).
  absl::StatusOr<std::string> expected =
      venues::KrakenSignature(account->secret, r.path, nonce_text, r.body);
  if (!expected.ok() || !SecureEquals(*expected, r.Header("API-Sign"))) {
    return KrakenError("EAPI:Invalid signature");
  }
  uint64_t& last = last_nonce_[key];
  if (nonce <= last) return KrakenError("EAPI:Invalid nonce");
  last = nonce;
  if (method == "AddOrderBatch") {
    if (!json) return KrakenError("EGeneral:Invalid arguments:orders");
    return AddOrderBatch(key, r.body);
  }
  if (json) return KrakenError("EGeneral:Invalid arguments");
  if (method == "AddOrder") return AddOrder(key, form);
  if (method == "CancelOrder") return CancelOrder(key, form);
  if (method == "OpenOrders") return OpenOrders(key);
  if (method == "QueryOrders") return QueryOrders(key, form);
  if (method == "Balance") return Balance(key);
  return KrakenError("EGeneral:Unknown method");
}

RestReply KrakenVenue::AddOrder(const std::string& owner, const Form& form) {
  ++add_order_requests_;
  OrderRequest req;
  std::string descr;
  if (auto error = ParseOrder(owner, form, &req, &descr)) return *error;
  if (const std::string* validate = FormValue(form, "validate")) {
    if (*validate == "true") {
      return KrakenResult(absl::StrCat("{\"descr\":{\"order\":\"", descr, "\"}}"));
    }
  }
  absl::StatusOr<Order> placed = market_->engine().Place(req);
  if (!placed.ok()) {
    if (placed.status().code() == absl::StatusCode::kFailedPrecondition) {
      return KrakenError("EOrder:Insufficient funds");
    }
    if (placed.status().code() == absl::StatusCode::kAlreadyExists) {
      return KrakenError("EOrder:Duplicate order");
    }
    return KrakenError("EGeneral:Invalid arguments");
  }
  AfterChange(req.symbol);
  return KrakenResult(absl::StrCat("{\"descr\":{\"order\":\"", descr, "\"},\"txid\":[\"",
                                   TxId(placed->id), "\"]}"));
}

RestReply KrakenVenue::AddOrderBatch(const std::string& owner, const std::string& body) {
  ++batch_requests_;
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("pair") || !j["pair"].is_string()) {
    return KrakenError("EGeneral:Invalid arguments:pair");
  }
  if (!j.contains("orders") || !j["orders"].is_array() || j["orders"].size() < 2 ||
      j["orders"].size() > 15) {
    return KrakenError("EGeneral:Invalid arguments:orders");
  }
  const std::string pair = j["pair"].get<std::string>();
  // Whole-batch validation first.
  std::vector<std::pair<OrderRequest, std::string>> orders;
  for (const auto& item : j["orders"]) {
    if (!item.is_object()) return KrakenError("EGeneral:Invalid arguments:orders");
    Form form = {{"pair", pair}};
    for (const auto& [k, v] : item.items()) {
      if (v.is_string()) form.emplace_back(k, v.get<std::string>());
    }
    OrderRequest req;
    std::string descr;
    if (auto error = ParseOrder(owner, form, &req, &descr)) return *error;
    orders.emplace_back(std::move(req), std::move(descr));
  }
  batch_orders_ += static_cast<int64_t>(orders.size());
  if (j.contains("validate") && j["validate"].is_boolean() && j["validate"].get<bool>()) {
    std::string out = "{\"orders\":[";
    for (size_t i = 0; i < orders.size(); ++i) {
      absl::StrAppend(&out, i > 0 ? "," : "", "{\"descr\":{\"order\":\"", orders[i].second, "\"}}");
    }
    return KrakenResult(out + "]}");
  }
  // Then each order on its own: a pre-match failure (funding) refuses that order only.
  std::string out = "{\"orders\":[";
  for (size_t i = 0; i < orders.size(); ++i) {
    if (i > 0) out += ",";
    absl::StatusOr<Order> placed = market_->engine().Place(orders[i].first);
    if (!placed.ok()) {
      const char* error = placed.status().code() == absl::StatusCode::kFailedPrecondition
                              ? "EOrder:Insufficient funds"
                          : placed.status().code() == absl::StatusCode::kAlreadyExists
                              ? "EOrder:Duplicate order"
                              : "EGeneral:Invalid arguments";
      absl::StrAppend(&out, "{\"error\":\"", error, "\"}");
      continue;
    }
    AfterChange(orders[i].first.symbol);
    absl::StrAppend(&out, "{\"txid\":\"", TxId(placed->id), "\",\"descr\":{\"order\":\"",
                    orders[i].second, "\"}}");
  }
  return KrakenResult(out + "]}");
}

std::optional<RestReply> KrakenVenue::ParseOrder(const std::string& owner, const Form& form,
                                                 OrderRequest* out, std::string* descr_out) {
  const std::string* pair = FormValue(form, "pair");
  if (pair == nullptr) return KrakenError("EGeneral:Invalid arguments:pair");
  const std::string* tm = FindSymbol(*pair);
  if (tm == nullptr) return KrakenError("EQuery:Unknown asset pair");
  const SymbolState& st = state_[*tm];
  OrderRequest& req = *out;
  req.owner = owner;
  req.symbol = *tm;
  req.now_ms = ctx_.now_ms();
  const std::string* type = FormValue(form, "type");
  if (type != nullptr && *type == "buy") {
    req.side = Side::kBuy;
  } else if (type != nullptr && *type == "sell") {
    req.side = Side::kSell;
  } else {
    return KrakenError("EGeneral:Invalid arguments:type");
  }
  const std::string* ordertype = FormValue(form, "ordertype");
  if (ordertype != nullptr && *ordertype == "limit") {
    req.type = OrderType::kLimit;
  } else if (ordertype != nullptr && *ordertype == "market") {
    req.type = OrderType::kMarket;
  } else {
    return KrakenError("EGeneral:Invalid arguments:ordertype");
  }
  const std::string* volume = FormValue(form, "volume");
  auto vol = volume == nullptr ? absl::StatusOr<int64_t>(absl::InvalidArgumentError(""))
                               : venues::ParseDecimalE8(*volume);
  if (!vol.ok() || *vol <= 0) return KrakenError("EGeneral:Invalid arguments:volume");
  req.qty_e8 = *vol;
  if (req.type == OrderType::kLimit) {
    const std::string* price = FormValue(form, "price");
    auto p = price == nullptr ? absl::StatusOr<int64_t>(absl::InvalidArgumentError(""))
                              : venues::ParseDecimalE8(*price);
    if (!p.ok() || *p <= 0) return KrakenError("EGeneral:Invalid arguments:price");
    if (*p % market_->tick_e8() != 0) {
      return KrakenError(absl::StrCat("EOrder:Invalid price:", st.rest_pair,
                                      " price can only be specified up to ",
                                      market_->options().price_decimals, " decimals."));
    }
    req.price_e8 = *p;
  }
  req.tif = req.type == OrderType::kMarket ? TimeInForce::kIoc : TimeInForce::kGtc;
  if (const std::string* tif = FormValue(form, "timeinforce")) {
    if (*tif == "GTC") {
      req.tif = TimeInForce::kGtc;
    } else if (*tif == "IOC") {
      req.tif = TimeInForce::kIoc;
    } else {
      return KrakenError("EGeneral:Invalid arguments:timeinforce");
    }
  }
  if (const std::string* cid = FormValue(form, "cl_ord_id")) req.client_order_id = *cid;
  const int pd = market_->options().price_decimals;
  *descr_out = absl::StrCat(req.side == Side::kBuy ? "buy " : "sell ",
                            venues::FormatDecimalE8(req.qty_e8, 8), " ", st.rest_pair, " @ ",
                            req.type == OrderType::kLimit
                                ? absl::StrCat("limit ", venues::FormatDecimalE8(req.price_e8, pd))
                                : std::string("market"));
  return std::nullopt;
}

RestReply KrakenVenue::CancelOrder(const std::string& owner, const Form& form) {
  const std::string* txid = FormValue(form, "txid");
  const std::string* cid = FormValue(form, "cl_ord_id");
  const Order* o = nullptr;
  if (txid != nullptr) {
    uint64_t id = OrderIdFromTxId(*txid);
    if (id != 0) o = market_->engine().FindOrder(id);
  } else if (cid != nullptr) {
    o = market_->engine().FindByClientId(owner, *cid);
  } else {
    return KrakenError("EGeneral:Invalid arguments:txid");
  }
  if (o == nullptr || o->request.owner != owner) return KrakenError("EOrder:Unknown order");
  const std::string symbol = o->request.symbol;
  auto cancelled = market_->engine().Cancel(owner, symbol, o->id, "", ctx_.now_ms());
  if (!cancelled.ok()) return KrakenError("EOrder:Unknown order");
  AfterChange(symbol);
  return KrakenResult("{\"count\":1}");
}

std::string KrakenVenue::OrderInfo(const Order& o, bool with_trades) const {
  const int pd = market_->options().price_decimals;
  const SymbolState& st = state_.at(o.request.symbol);
  const OrderRequest& r = o.request;
  const int64_t avg =
      o.filled_e8 > 0
          ? static_cast<int64_t>(static_cast<__int128>(o.cum_quote_e8) * 100000000 / o.filled_e8)
          : 0;
  const char* status = "open";
  if (o.status == OrderStatus::kFilled) status = "closed";
  if (o.status == OrderStatus::kCanceled) status = "canceled";
  if (o.status == OrderStatus::kExpired) status = "expired";
  const bool limit = r.type == OrderType::kLimit;
  const std::string price = limit ? venues::FormatDecimalE8(r.price_e8, pd) : std::string("0");
  auto tm = [](int64_t ms) {
    return absl::StrCat(ms / 1000, ".", absl::StrFormat("%03d", ms % 1000));
  };
  std::string out = absl::StrCat(
      "{\"refid\":null,\"userref\":0,",
      r.client_order_id.empty()
          ? ""
          : absl::StrCat("\"cl_ord_id\":\"", JsonEscape(r.client_order_id), "\","),
      "\"status\":\"", status, "\",\"opentm\":", tm(r.now_ms),
      std::string_view(status) == "open" ? "" : absl::StrCat(",\"closetm\":", tm(o.update_ms)),
      ",\"starttm\":0,\"expiretm\":0,\"descr\":{\"pair\":\"", st.rest_pair, "\",\"type\":\"",
      r.side == Side::kBuy ? "buy" : "sell", "\",\"ordertype\":\"", limit ? "limit" : "market",
      "\",\"price\":\"", price, "\",\"price2\":\"0\",\"leverage\":\"none\",\"order\":\"",
      r.side == Side::kBuy ? "buy " : "sell ", venues::FormatDecimalE8(r.qty_e8, 8), " ",
      st.rest_pair, " @ ", limit ? absl::StrCat("limit ", price) : std::string("market"),
      "\",\"close\":\"\"},\"vol\":\"", venues::FormatDecimalE8(r.qty_e8, 8), "\",\"vol_exec\":\"",
      venues::FormatDecimalE8(o.filled_e8, 8), "\",\"cost\":\"",
      venues::FormatDecimalE8(o.cum_quote_e8, 8), "\",\"fee\":\"",
      venues::FormatDecimalE8(o.fee_e8, 8), "\",\"price\":\"", venues::FormatDecimalE8(avg, pd),
      "\",\"stopprice\":\"0.00000\",\"limitprice\":\"0.00000\",\"misc\":\"\",\"oflags\":"
      "\"fciq\"");
  if (with_trades && !o.fills.empty()) {
    out += ",\"trades\":[";
    for (size_t i = 0; i < o.fills.size(); ++i) {
      absl::StrAppend(&out, i > 0 ? "," : "", "\"TSIM", o.fills[i].trade_id, "\"");
    }
    out += "]";
  }
  return out + "}";
}

RestReply KrakenVenue::OpenOrders(const std::string& owner) {
  std::string open = "{";
  bool first = true;
  for (const Order& o : market_->engine().OpenOrders(owner, "")) {
    if (!first) open += ",";
    first = false;
    absl::StrAppend(&open, "\"", TxId(o.id), "\":", OrderInfo(o, false));
  }
  open += "}";
  return KrakenResult(absl::StrCat("{\"open\":", open, "}"));
}

// QueryOrders by txid (comma-separated, at most 50) and/or cl_ord_id: the orders this venue
// still remembers (open or finished), {} when none matches; an unknown txid is
// "EOrder:Unknown order".
RestReply KrakenVenue::QueryOrders(const std::string& owner, const Form& form) {
  const std::string* txids = FormValue(form, "txid");
  const std::string* cid = FormValue(form, "cl_ord_id");
  if (txids == nullptr && cid == nullptr) return KrakenError("EGeneral:Invalid arguments:txid");
  const std::string* trades = FormValue(form, "trades");
  const bool with_trades = trades != nullptr && *trades == "true";
  std::vector<const Order*> found;
  if (txids != nullptr) {
    std::vector<std::string> ids = absl::StrSplit(*txids, ',', absl::SkipEmpty());
    if (ids.empty() || ids.size() > 50) return KrakenError("EGeneral:Invalid arguments:txid");
    for (const std::string& t : ids) {
      const uint64_t id = OrderIdFromTxId(t);
      const Order* o = id == 0 ? nullptr : market_->engine().FindOrder(id);
      if (o == nullptr || o->request.owner != owner) return KrakenError("EOrder:Unknown order");
      if (cid != nullptr && o->request.client_order_id != *cid) continue;
      found.push_back(o);
    }
  } else {
    const Order* o = market_->engine().FindByClientId(owner, *cid);
    if (o != nullptr) found.push_back(o);
  }
  std::string out = "{";
  for (size_t i = 0; i < found.size(); ++i) {
    absl::StrAppend(&out, i > 0 ? "," : "", "\"", TxId(found[i]->id),
                    "\":", OrderInfo(*found[i], with_trades));
  }
  return KrakenResult(out + "}");
}

RestReply KrakenVenue::Balance(const std::string& owner) {
  std::string out = "{";
  bool first = true;
  for (const auto& [asset, b] : market_->engine().Balances(owner)) {
    if (!first) out += ",";
    first = false;
    absl::StrAppend(&out, "\"", JsonEscape(KrakenAsset(asset)), "\":\"",
                    venues::FormatDecimalE8(b.free_e8 + b.locked_e8, 8), "\"");
  }
  out += "}";
  return KrakenResult(out);
}

}  // namespace tickmesh::venue_sim
