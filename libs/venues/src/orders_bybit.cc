// Bybit v5 private REST (https://bybit-exchange.github.io/docs/v5/guide, "Authentication"):
// headers X-BAPI-API-KEY, X-BAPI-TIMESTAMP, X-BAPI-RECV-WINDOW, X-BAPI-SIGN where the sign is
// hex HMAC-SHA256(secret, timestamp + api_key + recv_window + (query string | JSON body)).
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "orders_common.h"
#include "tickmesh/venues/decimal.h"
#include "tickmesh/venues/sign.h"

namespace tickmesh::venues::internal {
namespace {

using tickmesh::v1::OrderStatus;

OrderStatus MapStatus(std::string_view s) {
  if (s == "New" || s == "Created" || s == "Untriggered" || s == "Active") {
    return v1::ORDER_STATUS_ACKED;
  }
  if (s == "PartiallyFilled") return v1::ORDER_STATUS_PARTIALLY_FILLED;
  if (s == "Filled") return v1::ORDER_STATUS_FILLED;
  if (s == "Cancelled" || s == "PartiallyFilledCanceled" || s == "Deactivated") {
    return v1::ORDER_STATUS_CANCELLED;
  }
  if (s == "Rejected") return v1::ORDER_STATUS_REJECTED;
  return v1::ORDER_STATUS_ACKED;
}

absl::Status RetCodeError(int64_t code, std::string_view msg) {
  const std::string text = absl::StrCat("bybit ", code, ": ", AV(msg.substr(0, 300)));
  switch (code) {
    case 10006:
    case 10018:
      return absl::ResourceExhaustedError(text);
    case 10003:
    case 10004:
    case 10005:
    case 10007:
    case 10009:
    case 10010:
      return absl::PermissionDeniedError(text);
    case 10016:
      return absl::UnavailableError(text);
    case 110001:
    case 170213:
      return absl::NotFoundError(text);
    case 10001:
      return absl::InvalidArgumentError(text);
    default:
      return absl::FailedPreconditionError(text);
  }
}

// Empty strings ("" for fields the account type does not use) read as 0.
int64_t DecimalOrZero(od::value v, std::string_view field) {
  if (v.type().value() == od::json_type::string) {
    const std::string_view s = v.get_string().value();
    if (s.empty()) return 0;
    return DecimalText(s, field);
  }
  return DecimalValue(v, field);
}

class BybitOrderApi final : public OrderApi {
 public:
  BybitOrderApi(const SymbolMap& symbols, Credentials credentials, OrderApiOptions options)
      : symbols_(symbols),
        api_key_(std::move(credentials.api_key)),
        key_(HmacKey::Hash::kSha256, credentials.secret),
        options_(std::move(options)),
        recv_window_(absl::StrCat(options_.recv_window_ms)) {}

  Venue venue() const override { return Venue::kBybit; }

  absl::StatusOr<net::HttpRequest> PlaceOrder(const OrderParams& p) const override {
    std::string body;
    body.reserve(256);
    absl::StrAppend(&body, R"({"category":")", options_.bybit_category, R"(",)");
    if (absl::Status s = AppendOrderFields(p, &body); !s.ok()) return s;
    body.push_back('}');
    return Post("/v5/order/create", std::move(body), "place_order");
  }

  // /v5/order/create-batch (https://bybit-exchange.github.io/docs/v5/order/batch-place):
  // {"category":…,"request":[{order fields as in create, without category}, …]}, at most 10.
  size_t max_place_batch() const override { return kMaxBatch; }
  size_t max_cancel_batch() const override { return kMaxBatch; }

  absl::StatusOr<net::HttpRequest> PlaceOrders(
      const std::vector<OrderParams>& orders) const override {
    auto body = BatchBody(orders.size(), "place", [&](size_t i, std::string* out) {
      out->push_back('{');
      if (absl::Status s = AppendOrderFields(orders[i], out); !s.ok()) return s;
      out->push_back('}');
      return absl::OkStatus();
    });
    if (!body.ok()) return body.status();
    return Post("/v5/order/create-batch", *std::move(body), "place_batch");
  }

  // /v5/order/cancel-batch (https://bybit-exchange.github.io/docs/v5/order/batch-cancel).
  absl::StatusOr<net::HttpRequest> CancelOrders(
      const std::vector<CancelRef>& orders) const override {
    auto body = BatchBody(orders.size(), "cancel", [&](size_t i, std::string* out) {
      const CancelRef& c = orders[i];
      if (absl::Status s = ValidateClientOrderId(c.client_order_id); !s.ok()) return s;
      auto vs = symbols_.ToVenueSymbol(Venue::kBybit, c.symbol);
      if (!vs.ok()) return vs.status();
      absl::StrAppend(out, R"({"symbol":")", *vs, R"(","orderLinkId":")", c.client_order_id,
                      "\"}");
      return absl::OkStatus();
    });
    if (!body.ok()) return body.status();
    return Post("/v5/order/cancel-batch", *std::move(body), "cancel_batch");
  }

  // The batch endpoints' body, {"category":…,"request":[item, …]}, for 1..kMaxBatch items;
  // `append(i, &body)` writes item i or says why it cannot (INVALID_ARGUMENT "order i: …").
  template <typename Append>
  absl::StatusOr<std::string> BatchBody(size_t n, const char* what, Append append) const {
    if (n == 0 || n > kMaxBatch) {
      return absl::InvalidArgumentError(
          absl::StrCat("bybit batch ", what, " takes 1..", kMaxBatch, " orders"));
    }
    std::string body;
    body.reserve(64 + 200 * n);
    absl::StrAppend(&body, R"({"category":")", options_.bybit_category, R"(","request":[)");
    for (size_t i = 0; i < n; ++i) {
      if (i > 0) body.push_back(',');
      if (absl::Status s = append(i, &body); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("order ", i, ": ", s.message()));
      }
    }
    body += "]}";
    return body;
  }

  absl::StatusOr<std::vector<absl::StatusOr<VenueAck>>> ParsePlaceBatch(
      const net::HttpResponse& r, const std::vector<std::string>& ids) const override {
    return ParseBatch(r, ids, v1::ORDER_STATUS_ACKED);
  }
  absl::StatusOr<std::vector<absl::StatusOr<VenueAck>>> ParseCancelBatch(
      const net::HttpResponse& r, const std::vector<std::string>& ids) const override {
    return ParseBatch(r, ids, v1::ORDER_STATUS_CANCELLED);
  }

  absl::StatusOr<net::HttpRequest> CancelOrder(std::string_view symbol,
                                               std::string_view client_order_id) const override {
    if (absl::Status s = ValidateClientOrderId(client_order_id); !s.ok()) return s;
    auto vs = symbols_.ToVenueSymbol(Venue::kBybit, symbol);
    if (!vs.ok()) return absl::InvalidArgumentError(vs.status().message());
    return Post("/v5/order/cancel",
                absl::StrCat(R"({"category":")", options_.bybit_category, R"(","symbol":")", *vs,
                             R"(","orderLinkId":")", AV(client_order_id), "\"}"),
                "cancel_order");
  }

  absl::StatusOr<net::HttpRequest> OpenOrders() const override {
    std::string query = absl::StrCat("category=", options_.bybit_category);
    // Linear needs a symbol or settle coin to list every open order.
    if (options_.bybit_category == "linear") query += "&settleCoin=USDT";
    return Get("/v5/order/realtime", std::move(query), "open_orders");
  }

  absl::StatusOr<net::HttpRequest> QueryOrder(std::string_view symbol,
                                              std::string_view client_order_id,
                                              std::string_view /*venue_order_id*/) const override {
    if (absl::Status s = ValidateClientOrderId(client_order_id); !s.ok()) return s;
    auto vs = symbols_.ToVenueSymbol(Venue::kBybit, symbol);
    if (!vs.ok()) return absl::InvalidArgumentError(vs.status().message());
    return Get("/v5/order/realtime",
               absl::StrCat("category=", options_.bybit_category, "&symbol=", *vs,
                            "&orderLinkId=", AV(client_order_id)),
               "query_order");
  }

  absl::StatusOr<net::HttpRequest> Balances() const override {
    return Get("/v5/account/wallet-balance",
               absl::StrCat("accountType=", options_.bybit_account_type), "balances");
  }

  absl::StatusOr<VenueAck> ParsePlace(const net::HttpResponse& r) const override {
    return ParseAck(r, v1::ORDER_STATUS_ACKED);
  }
  absl::StatusOr<VenueAck> ParseCancel(const net::HttpResponse& r) const override {
    return ParseAck(r, v1::ORDER_STATUS_CANCELLED);
  }

  absl::StatusOr<std::vector<VenueOrder>> ParseOpenOrders(
      const net::HttpResponse& r) const override {
    std::vector<VenueOrder> orders;
    absl::Status st = WithResult(r, [&](od::value result) {
      for (auto f : result.get_object().value()) {
        if (f.unescaped_key().value() != "list") continue;
        for (auto item : f.value().get_array().value()) {
          VenueOrder o;
          bool known = false;
          for (auto g : item.get_object().value()) {
            const std::string_view key = g.unescaped_key().value();
            od::value v = g.value().value();
            if (key == "orderId") {
              o.venue_order_id = std::string(StringValue(v, "orderId"));
            } else if (key == "orderLinkId") {
              o.client_order_id = std::string(StringValue(v, "orderLinkId"));
            } else if (key == "symbol") {
              auto sym = symbols_.FromVenueSymbol(Venue::kBybit, StringValue(v, "symbol"));
              known = sym.ok();
              if (known) o.symbol = *sym;
            } else if (key == "price") {
              o.price_e8 = DecimalOrZero(v, "price");
            } else if (key == "qty") {
              o.qty_e8 = DecimalOrZero(v, "qty");
            } else if (key == "cumExecQty") {
              o.filled_qty_e8 = DecimalOrZero(v, "cumExecQty");
            } else if (key == "cumExecFee") {
              o.fee_e8 = DecimalOrZero(v, "cumExecFee");
              o.fee_known = true;
            } else if (key == "side") {
              o.side = StringValue(v, "side") == "Buy" ? v1::SIDE_BUY : v1::SIDE_SELL;
            } else if (key == "orderType") {
              o.type = StringValue(v, "orderType") == "Market" ? v1::ORDER_TYPE_MARKET
                                                               : v1::ORDER_TYPE_LIMIT;
            } else if (key == "orderStatus") {
              o.status = MapStatus(StringValue(v, "orderStatus"));
            } else if (key == "createdTime") {
              o.created_unix_ns = MillisToNs(IntValue(v, "createdTime"), "createdTime");
            }
          }
          if (known && o.fee_known) o.fee_asset = FeeAsset(o.symbol, o.side);
          if (known) orders.push_back(std::move(o));
        }
      }
    });
    if (!st.ok()) return st;
    return orders;
  }

  // /v5/order/realtime answers {"list":[order...]}; the order is the entry whose orderLinkId was
  // asked for (an orderLinkId filter lists at most that one). avgPrice is "" / "0" until filled;
  // the average is taken from cumExecValue / cumExecQty (exact, no rounding by the venue).
  absl::StatusOr<VenueAck> ParseQueryOrder(const net::HttpResponse& r) const override {
    VenueAck ack;
    bool found = false;
    absl::Status st = WithResult(r, [&](od::value result) {
      for (auto f : result.get_object().value()) {
        if (f.unescaped_key().value() != "list") continue;
        for (auto item : f.value().get_array().value()) {
          if (found) throw FrameError("more than one order for one orderLinkId");
          found = true;
          int64_t value = 0;
          int64_t avg = 0;
          bool have_status = false;
          std::string symbol;
          v1::Side side = v1::SIDE_UNSPECIFIED;
          for (auto g : item.get_object().value()) {
            const std::string_view key = g.unescaped_key().value();
            od::value v = g.value().value();
            if (key == "orderId") {
              ack.venue_order_id = std::string(StringValue(v, "orderId"));
            } else if (key == "orderLinkId") {
              ack.client_order_id = std::string(StringValue(v, "orderLinkId"));
            } else if (key == "orderStatus") {
              ack.status = MapStatus(StringValue(v, "orderStatus"));
              have_status = true;
            } else if (key == "cumExecQty") {
              ack.filled_qty_e8 = DecimalOrZero(v, "cumExecQty");
            } else if (key == "cumExecValue") {
              value = DecimalOrZero(v, "cumExecValue");
            } else if (key == "avgPrice") {
              avg = DecimalOrZero(v, "avgPrice");
            } else if (key == "cumExecFee") {
              ack.fee_e8 = DecimalOrZero(v, "cumExecFee");
              ack.fee_known = true;
            } else if (key == "symbol") {
              auto sym = symbols_.FromVenueSymbol(Venue::kBybit, StringValue(v, "symbol"));
              if (sym.ok()) symbol = *sym;
            } else if (key == "side") {
              side = StringValue(v, "side") == "Buy" ? v1::SIDE_BUY : v1::SIDE_SELL;
            }
          }
          if (ack.fee_known) ack.fee_asset = FeeAsset(symbol, side);
          if (ack.fee_asset.empty()) ack.fee_known = false;
          if (ack.venue_order_id.empty()) throw FrameError("order without orderId");
          if (!have_status) throw FrameError("order without orderStatus");
          ack.avg_price_e8 = value > 0 ? AveragePriceE8(value, ack.filled_qty_e8) : avg;
          if (ack.filled_qty_e8 == 0) ack.avg_price_e8 = 0;
        }
      }
    });
    if (!st.ok()) return st;
    if (!found)
      return absl::NotFoundError("bybit: order not listed (unknown or closed too long ago)");
    return ack;
  }

  absl::StatusOr<std::vector<VenueBalance>> ParseBalances(
      const net::HttpResponse& r) const override {
    std::vector<VenueBalance> out;
    absl::Status st = WithResult(r, [&](od::value result) {
      for (auto f : result.get_object().value()) {
        if (f.unescaped_key().value() != "list") continue;
        for (auto account : f.value().get_array().value()) {
          for (auto g : account.get_object().value()) {
            if (g.unescaped_key().value() != "coin") continue;
            for (auto coin : g.value().get_array().value()) {
              VenueBalance b;
              int64_t locked = 0;
              for (auto h : coin.get_object().value()) {
                const std::string_view key = h.unescaped_key().value();
                od::value v = h.value().value();
                if (key == "coin") {
                  b.asset = std::string(StringValue(v, "coin"));
                } else if (key == "walletBalance") {
                  b.total_e8 = DecimalOrZero(v, "walletBalance");
                } else if (key == "locked") {
                  locked = DecimalOrZero(v, "locked");
                }
              }
              if (b.asset.empty()) throw FrameError("coin balance without coin");
              b.available_e8 = b.total_e8 - locked;
              out.push_back(std::move(b));
            }
          }
        }
      }
    });
    if (!st.ok()) return st;
    return out;
  }

 private:
  static constexpr size_t kMaxBatch = 10;

  // Spot fees are charged in the coin the order receives (base for buys, quote for sells);
  // linear fees in the settle coin (USDT here). "" when the symbol is not configured.
  std::string FeeAsset(const std::string& symbol, v1::Side side) const {
    auto split = SplitSymbol(symbol);
    if (!split.ok()) return "";
    if (options_.bybit_category == "linear") return "USDT";
    return std::string(side == v1::SIDE_BUY ? split->first : split->second);
  }

  // The fields of one create request, without braces and category.
  absl::Status AppendOrderFields(const OrderParams& p, std::string* body) const {
    if (absl::Status s = ValidateOrder(p); !s.ok()) return s;
    auto symbol = symbols_.ToVenueSymbol(Venue::kBybit, p.symbol);
    if (!symbol.ok()) return absl::InvalidArgumentError(symbol.status().message());
    const bool limit = p.type == v1::ORDER_TYPE_LIMIT;
    const char* tif = limit ? "GTC" : "IOC";
    if (p.time_in_force == v1::TIME_IN_FORCE_IOC) tif = "IOC";
    if (p.time_in_force == v1::TIME_IN_FORCE_FOK) tif = "FOK";
    absl::StrAppend(body, R"("symbol":")", *symbol, R"(","side":")",
                    p.side == v1::SIDE_BUY ? "Buy" : "Sell", R"(","orderType":")",
                    limit ? "Limit" : "Market", R"(","qty":")", FormatDecimalE8(p.qty_e8), "\"");
    if (limit) absl::StrAppend(body, R"(,"price":")", FormatDecimalE8(p.price_e8), "\"");
    // Spot market orders size in the quote coin unless told otherwise; tickmesh sizes in base.
    if (!limit && options_.bybit_category == "spot") {
      absl::StrAppend(body, R"(,"marketUnit":"baseCoin")");
    }
    absl::StrAppend(body, R"(,"timeInForce":")", tif, R"(","orderLinkId":")", p.client_order_id,
                    "\"");
    return absl::OkStatus();
  }

  // Batch answers: {"retCode":0,"result":{"list":[{orderId, orderLinkId, …}]},
  // "retExtInfo":{"list":[{"code":0,"msg":"OK"}, …]}} — two lists in request order; an item's
  // code != 0 is that order's refusal (its orderId is then "").
  absl::StatusOr<std::vector<absl::StatusOr<VenueAck>>> ParseBatch(
      const net::HttpResponse& r, const std::vector<std::string>& ids, OrderStatus status) const {
    if (r.status == 403 || r.status == 429) {
      return absl::ResourceExhaustedError(absl::StrCat("bybit: HTTP ", r.status));
    }
    if (r.status >= 500) return absl::UnavailableError(absl::StrCat("bybit: HTTP ", r.status));
    int64_t code = -1;
    std::string msg;
    std::vector<VenueAck> acks;
    std::vector<std::pair<int64_t, std::string>> codes;
    bool have_list = false, have_codes = false;
    absl::Status st = WithJson(Venue::kBybit, r.body, [&](od::document& doc) {
      for (auto f : doc.get_object().value()) {
        const std::string_view key = f.unescaped_key().value();
        if (key == "retCode") {
          code = IntValue(f.value().value(), "retCode");
        } else if (key == "retMsg") {
          msg = std::string(StringValue(f.value().value(), "retMsg"));
        } else if (key == "result" && code == 0) {
          for (auto g : f.value().get_object().value()) {
            if (g.unescaped_key().value() != "list") continue;
            have_list = true;
            for (auto item : g.value().get_array().value()) {
              VenueAck ack;
              ack.status = status;
              for (auto h : item.get_object().value()) {
                const std::string_view k = h.unescaped_key().value();
                if (k == "orderId") {
                  ack.venue_order_id = std::string(StringValue(h.value().value(), "orderId"));
                } else if (k == "orderLinkId") {
                  ack.client_order_id = std::string(StringValue(h.value().value(), "orderLinkId"));
                }
              }
              acks.push_back(std::move(ack));
            }
          }
        } else if (key == "retExtInfo" && code == 0) {
          for (auto g : f.value().get_object().value()) {
            if (g.unescaped_key().value() != "list") continue;
            have_codes = true;
            for (auto item : g.value().get_array().value()) {
              std::pair<int64_t, std::string> c{-1, ""};
              for (auto h : item.get_object().value()) {
                const std::string_view k = h.unescaped_key().value();
                if (k == "code") c.first = IntValue(h.value().value(), "code");
                if (k == "msg") c.second = std::string(StringValue(h.value().value(), "msg"));
              }
              if (c.first < 0) throw FrameError("retExtInfo item without code");
              codes.push_back(std::move(c));
            }
          }
        }
      }
      return absl::OkStatus();
    });
    if (code > 0) return RetCodeError(code, msg);
    if (!st.ok()) return st;
    if (code != 0) return absl::InternalError("bybit: response without retCode");
    if (r.status < 200 || r.status >= 300) {
      return absl::UnavailableError(absl::StrCat("bybit: HTTP ", r.status));
    }
    if (!have_list || !have_codes || acks.size() != ids.size() || codes.size() != ids.size()) {
      return absl::InternalError(absl::StrCat("bybit: batch answer lists ", acks.size(), "/",
                                              codes.size(), " orders for ", ids.size(), " sent"));
    }
    std::vector<absl::StatusOr<VenueAck>> out;
    out.reserve(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!acks[i].client_order_id.empty() && acks[i].client_order_id != ids[i]) {
        return absl::InternalError(absl::StrCat("bybit: batch answer item ", i, " is for '",
                                                acks[i].client_order_id.substr(0, 40), "'"));
      }
      if (codes[i].first != 0) {
        out.push_back(RetCodeError(codes[i].first, codes[i].second));
      } else if (acks[i].venue_order_id.empty() && status == v1::ORDER_STATUS_ACKED) {
        out.push_back(absl::InternalError("bybit: accepted batch item without orderId"));
      } else {
        if (acks[i].client_order_id.empty()) acks[i].client_order_id = ids[i];
        out.push_back(std::move(acks[i]));
      }
    }
    return out;
  }

  net::HttpRequest Base(const char* method, std::string_view payload, const char* endpoint) const {
    const std::string ts = absl::StrCat(NowMs(options_));
    net::HttpRequest r;
    r.method = method;
    r.headers.reserve(5);
    r.headers.emplace_back("X-BAPI-API-KEY", api_key_);
    r.headers.emplace_back("X-BAPI-TIMESTAMP", ts);
    r.headers.emplace_back("X-BAPI-RECV-WINDOW", recv_window_);
    r.headers.emplace_back("X-BAPI-SIGN", key_.Hex({ts, api_key_, recv_window_, payload}));
    r.headers.emplace_back("X-BAPI-SIGN-TYPE", "2");
    r.endpoint = endpoint;
    return r;
  }

  net::HttpRequest Post(const char* path, std::string body, const char* endpoint) const {
    net::HttpRequest r = Base("POST", body, endpoint);
    r.target = path;
    r.body = std::move(body);
    r.content_type = "application/json";
    return r;
  }

  net::HttpRequest Get(const char* path, std::string query, const char* endpoint) const {
    net::HttpRequest r = Base("GET", query, endpoint);
    r.target = absl::StrCat(path, "?", query);
    return r;
  }

  // {"retCode": 0, "retMsg": "OK", "result": {...}}: errors first, then `fn(result)`.
  absl::Status WithResult(const net::HttpResponse& r,
                          const std::function<void(od::value)>& fn) const {
    // Bybit answers 403 when the IP rate limit is breached, 429 elsewhere.
    if (r.status == 403 || r.status == 429) {
      return absl::ResourceExhaustedError(absl::StrCat("bybit: HTTP ", r.status));
    }
    if (r.status >= 500) return absl::UnavailableError(absl::StrCat("bybit: HTTP ", r.status));
    int64_t code = -1;
    std::string msg;
    bool have_result = false;
    absl::Status st = WithJson(Venue::kBybit, r.body, [&](od::document& doc) {
      // retCode precedes result in Bybit's answers; both are read in document order.
      for (auto f : doc.get_object().value()) {
        const std::string_view key = f.unescaped_key().value();
        if (key == "retCode") {
          code = IntValue(f.value().value(), "retCode");
        } else if (key == "retMsg") {
          msg = std::string(StringValue(f.value().value(), "retMsg"));
        } else if (key == "result" && code == 0) {
          fn(f.value().value());
          have_result = true;
        }
      }
      return absl::OkStatus();
    });
    if (code > 0) return RetCodeError(code, msg);
    if (!st.ok()) return st;
    if (code != 0) return absl::InternalError("bybit: response without retCode");
    if (r.status < 200 || r.status >= 300) {
      return absl::UnavailableError(absl::StrCat("bybit: HTTP ", r.status));
    }
    if (!have_result) return absl::InternalError("bybit: response without result");
    return absl::OkStatus();
  }

  absl::StatusOr<VenueAck> ParseAck(const net::HttpResponse& r, OrderStatus status) const {
    VenueAck ack;
    ack.status = status;
    absl::Status st = WithResult(r, [&](od::value result) {
      for (auto f : result.get_object().value()) {
        const std::string_view key = f.unescaped_key().value();
        if (key == "orderId")
          ack.venue_order_id = std::string(StringValue(f.value().value(), "orderId"));
        if (key == "orderLinkId") {
          ack.client_order_id = std::string(StringValue(f.value().value(), "orderLinkId"));
        }
      }
      if (ack.venue_order_id.empty()) throw FrameError("result without orderId");
    });
    if (!st.ok()) return st;
    return ack;
  }

  const SymbolMap symbols_;
  const std::string api_key_;
  const HmacKey key_;
  const OrderApiOptions options_;
  const std::string recv_window_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<OrderApi>> MakeBybitOrderApi(const SymbolMap& symbols,
                                                            Credentials credentials,
                                                            OrderApiOptions options) {
  if (options.bybit_category != "spot" && options.bybit_category != "linear") {
    return absl::InvalidArgumentError("bybit_category must be spot or linear");
  }
  return std::unique_ptr<OrderApi>(
      new BybitOrderApi(symbols, std::move(credentials), std::move(options)));
}

}  // namespace tickmesh::venues::internal
