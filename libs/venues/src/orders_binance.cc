// Binance spot REST order API (SIGNED endpoints):
// https://developers.binance.com/docs/binance-spot-api-docs/rest-api (request security, trading
// endpoints, account endpoints). Every parameter goes in the query string; the signature is
// HMAC-SHA256 of that query string, appended as the last parameter; X-MBX-APIKEY carries the key.
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
  if (s == "NEW" || s == "PENDING_NEW" || s == "PENDING_CANCEL") return v1::ORDER_STATUS_ACKED;
  if (s == "PARTIALLY_FILLED") return v1::ORDER_STATUS_PARTIALLY_FILLED;
  if (s == "FILLED") return v1::ORDER_STATUS_FILLED;
  if (s == "CANCELED") return v1::ORDER_STATUS_CANCELLED;
  if (s == "REJECTED") return v1::ORDER_STATUS_REJECTED;
  if (s == "EXPIRED" || s == "EXPIRED_IN_MATCH") return v1::ORDER_STATUS_EXPIRED;
  return v1::ORDER_STATUS_UNSPECIFIED;
}

absl::Status CodeError(int64_t code, std::string_view msg, int http_status) {
  const std::string text = absl::StrCat("binance ", code, ": ", AV(msg.substr(0, 300)));
  if (http_status == 429 || http_status == 418 || code == -1003 || code == -1015) {
    return absl::ResourceExhaustedError(text);
  }
  if (http_status >= 500 || code == -1001 || code == -1006 || code == -1007 || code == -1008) {
    return absl::UnavailableError(text);
  }
  if (http_status == 401 || http_status == 403 || code == -1002 || code == -1022 || code == -2014 ||
      code == -2015) {
    return absl::PermissionDeniedError(text);
  }
  if (code == -2011 || code == -2013) return absl::NotFoundError(text);
  if (code == -2010 || code == -1021) return absl::FailedPreconditionError(text);
  return absl::InvalidArgumentError(text);
}

class BinanceOrderApi final : public OrderApi {
 public:
  BinanceOrderApi(const SymbolMap& symbols, Credentials credentials, OrderApiOptions options)
      : symbols_(symbols),
        api_key_(std::move(credentials.api_key)),
        key_(HmacKey::Hash::kSha256, credentials.secret),
        options_(std::move(options)) {}

  Venue venue() const override { return Venue::kBinance; }

  absl::StatusOr<net::HttpRequest> PlaceOrder(const OrderParams& p) const override {
    if (absl::Status s = ValidateOrder(p); !s.ok()) return s;
    auto symbol = symbols_.ToVenueSymbol(Venue::kBinance, p.symbol);
    if (!symbol.ok()) return absl::InvalidArgumentError(symbol.status().message());
    const bool limit = p.type == v1::ORDER_TYPE_LIMIT;
    std::string q;
    q.reserve(256);
    absl::StrAppend(&q, "symbol=", *symbol, "&side=", p.side == v1::SIDE_BUY ? "BUY" : "SELL",
                    "&type=", limit ? "LIMIT" : "MARKET");
    if (limit) {
      const char* tif = "GTC";
      if (p.time_in_force == v1::TIME_IN_FORCE_IOC) tif = "IOC";
      if (p.time_in_force == v1::TIME_IN_FORCE_FOK) tif = "FOK";
      absl::StrAppend(&q, "&timeInForce=", tif);
    }
    absl::StrAppend(&q, "&quantity=", FormatDecimalE8(p.qty_e8));
    if (limit) absl::StrAppend(&q, "&price=", FormatDecimalE8(p.price_e8));
    absl::StrAppend(&q, "&newClientOrderId=", p.client_order_id, "&newOrderRespType=FULL");
    return Signed("POST", "/api/v3/order", std::move(q), "place_order");
  }

  absl::StatusOr<net::HttpRequest> CancelOrder(std::string_view symbol,
                                               std::string_view client_order_id) const override {
    if (absl::Status s = ValidateClientOrderId(client_order_id); !s.ok()) return s;
    auto vs = symbols_.ToVenueSymbol(Venue::kBinance, symbol);
    if (!vs.ok()) return absl::InvalidArgumentError(vs.status().message());
    return Signed("DELETE", "/api/v3/order",
                  absl::StrCat("symbol=", *vs, "&origClientOrderId=", AV(client_order_id)),
                  "cancel_order");
  }

  absl::StatusOr<net::HttpRequest> QueryOrder(std::string_view symbol,
                                              std::string_view client_order_id,
                                              std::string_view /*venue_order_id*/) const override {
    if (absl::Status s = ValidateClientOrderId(client_order_id); !s.ok()) return s;
    auto vs = symbols_.ToVenueSymbol(Venue::kBinance, symbol);
    if (!vs.ok()) return absl::InvalidArgumentError(vs.status().message());
    return Signed("GET", "/api/v3/order",
                  absl::StrCat("symbol=", *vs, "&origClientOrderId=", AV(client_order_id)),
                  "query_order");
  }

  absl::StatusOr<net::HttpRequest> OpenOrders() const override {
    return Signed("GET", "/api/v3/openOrders", "", "open_orders");
  }

  // Binance spot has no batch place endpoint (only order lists — OCO / OTO — and cancel of all
  // of a symbol's orders): max_place_batch() stays 1.

  absl::StatusOr<net::HttpRequest> OrderTrades(std::string_view symbol,
                                               std::string_view venue_order_id) const override {
    auto vs = symbols_.ToVenueSymbol(Venue::kBinance, symbol);
    if (!vs.ok()) return absl::InvalidArgumentError(vs.status().message());
    if (venue_order_id.empty() || venue_order_id.size() > 20 ||
        venue_order_id.find_first_not_of("0123456789") != std::string_view::npos) {
      return absl::InvalidArgumentError("binance orderId must be a number");
    }
    return Signed("GET", "/api/v3/myTrades",
                  absl::StrCat("symbol=", *vs, "&orderId=", AV(venue_order_id)), "order_trades");
  }

  // [{"symbol","id","orderId","price","qty","quoteQty","commission","commissionAsset","time",
  //   "isBuyer","isMaker","isBestMatch"}, …]
  absl::StatusOr<std::vector<VenueFill>> ParseOrderTrades(
      const net::HttpResponse& r) const override {
    if (absl::Status s = CheckError(r); !s.ok()) return s;
    std::vector<VenueFill> out;
    absl::Status st = WithJson(Venue::kBinance, r.body, [&](od::document& doc) {
      for (auto item : doc.get_array().value()) {
        VenueFill f;
        bool have_id = false;
        for (auto g : item.get_object().value()) {
          const std::string_view k = g.unescaped_key().value();
          od::value v = g.value().value();
          if (k == "id") {
            f.trade_id = absl::StrCat(IntValue(v, "id"));
            have_id = true;
          } else if (k == "price") {
            f.price_e8 = DecimalValue(v, "price");
          } else if (k == "qty") {
            f.qty_e8 = DecimalValue(v, "qty");
          } else if (k == "commission") {
            f.fee_e8 = DecimalValue(v, "commission");
          } else if (k == "commissionAsset") {
            f.fee_asset = std::string(StringValue(v, "commissionAsset"));
          }
        }
        if (!have_id || f.qty_e8 <= 0) throw FrameError("trade without id or qty");
        out.push_back(std::move(f));
      }
      return absl::OkStatus();
    });
    if (!st.ok()) return st;
    return out;
  }

  absl::StatusOr<net::HttpRequest> Balances() const override {
    return Signed("GET", "/api/v3/account", "omitZeroBalances=true", "balances");
  }

  absl::StatusOr<VenueAck> ParsePlace(const net::HttpResponse& r) const override {
    return ParseOrderAnswer(r, "clientOrderId");
  }
  absl::StatusOr<VenueAck> ParseCancel(const net::HttpResponse& r) const override {
    return ParseOrderAnswer(r, "origClientOrderId");
  }
  // GET /api/v3/order answers the order object (clientOrderId, status, executedQty,
  // cummulativeQuoteQty); a REJECTED order is a status here, not an error.
  absl::StatusOr<VenueAck> ParseQueryOrder(const net::HttpResponse& r) const override {
    return ParseOrderAnswer(r, "clientOrderId", /*rejected_is_error=*/false);
  }

  absl::StatusOr<std::vector<VenueOrder>> ParseOpenOrders(
      const net::HttpResponse& r) const override {
    if (absl::Status s = CheckError(r); !s.ok()) return s;
    std::vector<VenueOrder> orders;
    absl::Status st = WithJson(Venue::kBinance, r.body, [&](od::document& doc) {
      for (auto item : doc.get_array().value()) {
        VenueOrder o;
        bool known = true;
        for (auto f : item.get_object().value()) {
          const std::string_view key = f.unescaped_key().value();
          od::value v = f.value().value();
          if (key == "symbol") {
            auto sym = symbols_.FromVenueSymbol(Venue::kBinance, StringValue(v, "symbol"));
            if (sym.ok()) o.symbol = *sym;
            known = sym.ok();
          } else if (key == "orderId") {
            o.venue_order_id = absl::StrCat(IntValue(v, "orderId"));
          } else if (key == "clientOrderId") {
            o.client_order_id = std::string(StringValue(v, "clientOrderId"));
          } else if (key == "price") {
            o.price_e8 = DecimalValue(v, "price");
          } else if (key == "origQty") {
            o.qty_e8 = DecimalValue(v, "origQty");
          } else if (key == "executedQty") {
            o.filled_qty_e8 = DecimalValue(v, "executedQty");
          } else if (key == "status") {
            o.status = MapStatus(StringValue(v, "status"));
          } else if (key == "type") {
            const std::string_view t = StringValue(v, "type");
            o.type = t == "MARKET" ? v1::ORDER_TYPE_MARKET : v1::ORDER_TYPE_LIMIT;
          } else if (key == "side") {
            o.side = StringValue(v, "side") == "BUY" ? v1::SIDE_BUY : v1::SIDE_SELL;
          } else if (key == "time") {
            o.created_unix_ns = MillisToNs(IntValue(v, "time"), "time");
          }
        }
        if (known) orders.push_back(std::move(o));
      }
      return absl::OkStatus();
    });
    if (!st.ok()) return st;
    return orders;
  }

  absl::StatusOr<std::vector<VenueBalance>> ParseBalances(
      const net::HttpResponse& r) const override {
    if (absl::Status s = CheckError(r); !s.ok()) return s;
    std::vector<VenueBalance> out;
    absl::Status st = WithJson(Venue::kBinance, r.body, [&](od::document& doc) {
      od::array balances = doc.find_field_unordered("balances").get_array().value();
      for (auto item : balances) {
        VenueBalance b;
        int64_t locked = 0;
        for (auto f : item.get_object().value()) {
          const std::string_view key = f.unescaped_key().value();
          od::value v = f.value().value();
          if (key == "asset") {
            b.asset = std::string(StringValue(v, "asset"));
          } else if (key == "free") {
            b.available_e8 = DecimalValue(v, "free");
          } else if (key == "locked") {
            locked = DecimalValue(v, "locked");
          }
        }
        if (b.asset.empty()) throw FrameError("balance without asset");
        b.total_e8 = b.available_e8 + locked;
        out.push_back(std::move(b));
      }
      return absl::OkStatus();
    });
    if (!st.ok()) return st;
    return out;
  }

 private:
  net::HttpRequest Signed(const char* method, const char* path, std::string query,
                          const char* endpoint) const {
    if (!query.empty()) query.push_back('&');
    absl::StrAppend(&query, "recvWindow=", options_.recv_window_ms, "&timestamp=", NowMs(options_));
    const std::string signature = key_.Hex({query});
    net::HttpRequest r;
    r.method = method;
    r.target = absl::StrCat(path, "?", query, "&signature=", signature);
    r.headers.emplace_back("X-MBX-APIKEY", api_key_);
    r.endpoint = endpoint;
    return r;
  }

  // HTTP status and {"code": -2010, "msg": "..."} bodies -> absl errors.
  absl::Status CheckError(const net::HttpResponse& r) const {
    if (r.status >= 200 && r.status < 300) return absl::OkStatus();
    int64_t code = 0;
    std::string msg;
    (void)WithJson(Venue::kBinance, r.body, [&](od::document& doc) {
      for (auto f : doc.get_object().value()) {
        const std::string_view key = f.unescaped_key().value();
        if (key == "code") code = f.value().get_int64().value();
        if (key == "msg") msg = std::string(f.value().get_string().value());
      }
      return absl::OkStatus();
    });
    if (msg.empty()) msg = absl::StrCat("HTTP ", r.status);
    return CodeError(code, msg, r.status);
  }

  absl::StatusOr<VenueAck> ParseOrderAnswer(const net::HttpResponse& r,
                                            std::string_view client_id_field,
                                            bool rejected_is_error = true) const {
    if (absl::Status s = CheckError(r); !s.ok()) return s;
    VenueAck ack;
    int64_t quote = 0;
    absl::Status st = WithJson(Venue::kBinance, r.body, [&](od::document& doc) {
      bool have_id = false;
      for (auto f : doc.get_object().value()) {
        const std::string_view key = f.unescaped_key().value();
        od::value v = f.value().value();
        if (key == "orderId") {
          ack.venue_order_id = absl::StrCat(IntValue(v, "orderId"));
          have_id = true;
        } else if (key == client_id_field) {
          ack.client_order_id = std::string(StringValue(v, "clientOrderId"));
        } else if (key == "status") {
          ack.status = MapStatus(StringValue(v, "status"));
        } else if (key == "executedQty") {
          ack.filled_qty_e8 = DecimalValue(v, "executedQty");
        } else if (key == "cummulativeQuoteQty") {
          quote = DecimalValue(v, "cummulativeQuoteQty");
        } else if (key == "fills") {
          for (auto fill : v.get_array().value()) {
            VenueFill vf;
            for (auto ff : fill.get_object().value()) {
              const std::string_view k = ff.unescaped_key().value();
              od::value fv = ff.value().value();
              if (k == "price") {
                vf.price_e8 = DecimalValue(fv, "price");
              } else if (k == "qty") {
                vf.qty_e8 = DecimalValue(fv, "qty");
              } else if (k == "commission") {
                vf.fee_e8 = DecimalValue(fv, "commission");
              } else if (k == "commissionAsset") {
                vf.fee_asset = std::string(StringValue(fv, "commissionAsset"));
              } else if (k == "tradeId") {
                vf.trade_id = absl::StrCat(IntValue(fv, "tradeId"));
              }
            }
            ack.fills.push_back(std::move(vf));
          }
        }
      }
      if (!have_id) throw FrameError("order answer without orderId");
      if (ack.status == v1::ORDER_STATUS_UNSPECIFIED) throw FrameError("unknown order status");
      return absl::OkStatus();
    });
    if (!st.ok()) return st;
    if (rejected_is_error && ack.status == v1::ORDER_STATUS_REJECTED) {
      return absl::FailedPreconditionError("binance: order REJECTED");
    }
    ack.avg_price_e8 = AveragePriceE8(quote, ack.filled_qty_e8);
    // FULL answers list every fill with its commission: a cumulative fee when all are in one
    // asset (BNB discounts may mix assets; then only the per-fill figures are exact).
    if (!ack.fills.empty()) {
      ack.fee_known = true;
      ack.fee_asset = ack.fills[0].fee_asset;
      for (const VenueFill& f : ack.fills) {
        if (f.fee_asset != ack.fee_asset && f.fee_e8 != 0) ack.fee_known = false;
        ack.fee_e8 += f.fee_e8;
      }
      if (!ack.fee_known) {
        ack.fee_e8 = 0;
        ack.fee_asset.clear();
      }
    }
    return ack;
  }

  const SymbolMap symbols_;
  const std::string api_key_;
  const HmacKey key_;
  const OrderApiOptions options_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<OrderApi>> MakeBinanceOrderApi(const SymbolMap& symbols,
                                                              Credentials credentials,
                                                              OrderApiOptions options) {
  return std::unique_ptr<OrderApi>(
      new BinanceOrderApi(symbols, std::move(credentials), std::move(options)));
}

}  // namespace tickmesh::venues::internal
