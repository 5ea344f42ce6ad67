// Kraken spot REST private endpoints (https://docs.kraken.com/api/docs/guides/spot-rest-auth):
// POST /0/private/<Method>, url-encoded body starting with nonce=<strictly increasing>, headers
// API-Key and API-Sign = base64(HMAC-SHA512(base64decode(secret), path + SHA256(nonce + body))).
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <openssl/sha.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "orders_common.h"
#include "tickmesh/venues/decimal.h"
#include "tickmesh/venues/sign.h"

namespace tickmesh::venues::internal {
namespace {

// Kraken's error strings -> absl codes.
absl::Status KrakenError(std::string_view error, int http_status) {
  const std::string text = absl::StrCat("kraken ", AV(error.substr(0, 300)));
  const absl::string_view e = AV(error);
  if (absl::StrContains(e, "Rate limit") || absl::StrContains(e, "Too many requests") ||
      http_status == 429) {
    return absl::ResourceExhaustedError(text);
  }
  if (absl::StartsWith(e, "EService:") || http_status >= 500) return absl::UnavailableError(text);
  if (absl::StartsWith(e, "EAPI:Invalid key") || absl::StartsWith(e, "EAPI:Invalid signature") ||
      absl::StartsWith(e, "EGeneral:Permission denied")) {
    return absl::PermissionDeniedError(text);
  }
  if (absl::StartsWith(e, "EOrder:Unknown order")) return absl::NotFoundError(text);
  if (absl::StartsWith(e, "EGeneral:Unknown method")) return absl::UnimplementedError(text);
  if (absl::StartsWith(e, "EOrder:Insufficient funds") ||
      absl::StartsWith(e, "EAPI:Invalid nonce")) {
    return absl::FailedPreconditionError(text);
  }
  return absl::InvalidArgumentError(text);
}

class KrakenOrderApi final : public OrderApi {
 public:
  KrakenOrderApi(const SymbolMap& symbols, Credentials credentials, std::string raw_secret,
                 OrderApiOptions options)
      : symbols_(symbols),
        api_key_(std::move(credentials.api_key)),
        key_(HmacKey::Hash::kSha512, raw_secret),
        options_(std::move(options)) {}

  Venue venue() const override { return Venue::kKraken; }

  // AddOrderBatch (https://docs.kraken.com/api/docs/rest-api/add-order-batch): 2..15 orders of
  // one pair in a JSON body {"nonce":…,"pair":…,"orders":[{ordertype,type,volume,price,
  // timeinforce,cl_ord_id}, …]}; the answer's `orders` are in request order, a refused one with
  // an `error` string and no txid.
  size_t max_place_batch() const override { return 15; }
  size_t min_place_batch() const override { return 2; }
  std::string PlaceBatchKey(const OrderParams& p) const override { return p.symbol; }

  absl::StatusOr<net::HttpRequest> PlaceOrders(
      const std::vector<OrderParams>& orders) const override {
    if (orders.size() < 2 || orders.size() > 15) {
      return absl::InvalidArgumentError("kraken AddOrderBatch takes 2..15 orders");
    }
    std::string items;
    items.reserve(160 * orders.size());
    for (size_t i = 0; i < orders.size(); ++i) {
      const OrderParams& p = orders[i];
      if (p.symbol != orders[0].symbol) {
        return absl::InvalidArgumentError("kraken AddOrderBatch orders must share one pair");
      }
      if (absl::Status s = CheckOrder(p); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("order ", i, ": ", s.message()));
      }
      const bool limit = p.type == v1::ORDER_TYPE_LIMIT;
      if (i > 0) items.push_back(',');
      absl::StrAppend(&items, R"({"ordertype":")", limit ? "limit" : "market", R"(","type":")",
                      p.side == v1::SIDE_BUY ? "buy" : "sell", R"(","volume":")",
                      FormatDecimalE8(p.qty_e8), "\"");
      if (limit) absl::StrAppend(&items, R"(,"price":")", FormatDecimalE8(p.price_e8), "\"");
      if (p.time_in_force == v1::TIME_IN_FORCE_IOC) {
        absl::StrAppend(&items, R"(,"timeinforce":"IOC")");
      } else if (limit) {
        absl::StrAppend(&items, R"(,"timeinforce":"GTC")");
      }
      absl::StrAppend(&items, R"(,"cl_ord_id":")", p.client_order_id, "\"}");
    }
    auto pair = KrakenRestPair(orders[0].symbol);
    if (!pair.ok()) return pair.status();
    const std::string nonce = absl::StrCat(options_.nonce->Next());
    std::string body =
        absl::StrCat(R"({"nonce":)", nonce, R"(,"pair":")", *pair, R"(","orders":[)", items, "]}");
    net::HttpRequest r = Sign("/0/private/AddOrderBatch", nonce, std::move(body), "place_batch");
    r.content_type = "application/json";
    return r;
  }

  absl::StatusOr<std::vector<absl::StatusOr<VenueAck>>> ParsePlaceBatch(
      const net::HttpResponse& r, const std::vector<std::string>& ids) const override {
    std::vector<absl::StatusOr<VenueAck>> out;
    absl::Status st = WithResult(r, [&](od::value result) {
      for (auto f : result.get_object().value()) {
        if (f.unescaped_key().value() != "orders") continue;
        for (auto item : f.value().get_array().value()) {
          VenueAck ack;
          ack.status = v1::ORDER_STATUS_ACKED;
          std::string error;
          for (auto g : item.get_object().value()) {
            const std::string_view key = g.unescaped_key().value();
            if (key == "txid") {
              ack.venue_order_id = std::string(StringValue(g.value().value(), "txid"));
            } else if (key == "error") {
              error = std::string(StringValue(g.value().value(), "error"));
            }
          }
          if (out.size() < ids.size()) ack.client_order_id = ids[out.size()];
          if (!error.empty()) {
            out.push_back(KrakenError(error, 200));
          } else if (ack.venue_order_id.empty()) {
            out.push_back(absl::InternalError("kraken: batch item without txid or error"));
          } else {
            out.push_back(std::move(ack));
          }
        }
      }
    });
    if (!st.ok()) return st;
    if (out.size() != ids.size()) {
      return absl::InternalError(
          absl::StrCat("kraken: batch answer lists ", out.size(), " orders for ", ids.size()));
    }
    return out;
  }

  absl::StatusOr<net::HttpRequest> PlaceOrder(const OrderParams& p) const override {
    if (absl::Status s = CheckOrder(p); !s.ok()) return s;
    auto pair = KrakenRestPair(p.symbol);
    if (!pair.ok()) return pair.status();
    const bool limit = p.type == v1::ORDER_TYPE_LIMIT;
    std::string body;
    body.reserve(200);
    absl::StrAppend(&body, "&ordertype=", limit ? "limit" : "market",
                    "&type=", p.side == v1::SIDE_BUY ? "buy" : "sell",
                    "&volume=", FormatDecimalE8(p.qty_e8), "&pair=", *pair);
    if (limit) absl::StrAppend(&body, "&price=", FormatDecimalE8(p.price_e8));
    switch (p.time_in_force) {
      case v1::TIME_IN_FORCE_IOC:
        absl::StrAppend(&body, "&timeinforce=IOC");
        break;
      default:
        if (limit) absl::StrAppend(&body, "&timeinforce=GTC");
        break;
    }
    absl::StrAppend(&body, "&cl_ord_id=", p.client_order_id);
    return Signed("/0/private/AddOrder", body, "place_order");
  }

  absl::StatusOr<net::HttpRequest> CancelOrder(std::string_view symbol,
                                               std::string_view client_order_id) const override {
    if (absl::Status s = ValidateClientOrderId(client_order_id); !s.ok()) return s;
    if (!symbols_.ToVenueSymbol(Venue::kKraken, symbol).ok()) {
      return absl::InvalidArgumentError(absl::StrCat("symbol ", AV(symbol), " is not configured"));
    }
    return Signed("/0/private/CancelOrder", absl::StrCat("&cl_ord_id=", AV(client_order_id)),
                  "cancel_order");
  }

  absl::StatusOr<net::HttpRequest> OpenOrders() const override {
    return Signed("/0/private/OpenOrders", "", "open_orders");
  }

  // QueryOrders by cl_ord_id (what AddOrder sends); txid too when known. trades=true asks for the
  // order's trade ids (not parsed; kept for the venue's own audit answer).
  absl::StatusOr<net::HttpRequest> QueryOrder(std::string_view symbol,
                                              std::string_view client_order_id,
                                              std::string_view venue_order_id) const override {
    if (absl::Status s = ValidateClientOrderId(client_order_id); !s.ok()) return s;
    if (!symbols_.ToVenueSymbol(Venue::kKraken, symbol).ok()) {
      return absl::InvalidArgumentError(absl::StrCat("symbol ", AV(symbol), " is not configured"));
    }
    // A txid is Kraken's "OXXXXX-XXXXX-XXXXXX": letters, digits and dashes only.
    for (char c : venue_order_id) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') {
        return absl::InvalidArgumentError("kraken txid has invalid characters");
      }
    }
    std::string body = absl::StrCat("&cl_ord_id=", AV(client_order_id), "&trades=true");
    if (!venue_order_id.empty()) absl::StrAppend(&body, "&txid=", AV(venue_order_id));
    return Signed("/0/private/QueryOrders", body, "query_order");
  }

  absl::StatusOr<net::HttpRequest> Balances() const override {
    return Signed("/0/private/Balance", "", "balances");
  }

  absl::StatusOr<VenueAck> ParsePlace(const net::HttpResponse& r) const override {
    VenueAck ack;
    ack.status = v1::ORDER_STATUS_ACKED;
    absl::Status st = WithResult(r, [&](od::value result) {
      for (auto f : result.get_object().value()) {
        if (f.unescaped_key().value() != "txid") continue;
        for (auto id : f.value().get_array().value()) {
          if (ack.venue_order_id.empty()) {
            ack.venue_order_id = std::string(StringValue(id.value(), "txid"));
          }
        }
      }
      if (ack.venue_order_id.empty()) throw FrameError("AddOrder result without txid");
    });
    if (!st.ok()) return st;
    return ack;
  }

  absl::StatusOr<VenueAck> ParseCancel(const net::HttpResponse& r) const override {
    VenueAck ack;
    int64_t count = -1;
    absl::Status st = WithResult(r, [&](od::value result) {
      for (auto f : result.get_object().value()) {
        if (f.unescaped_key().value() == "count") count = IntValue(f.value().value(), "count");
      }
      if (count < 0) throw FrameError("CancelOrder result without count");
    });
    if (!st.ok()) return st;
    if (count == 0) return absl::NotFoundError("kraken: no order was cancelled (count 0)");
    ack.status = v1::ORDER_STATUS_CANCELLED;
    return ack;
  }

  absl::StatusOr<std::vector<VenueOrder>> ParseOpenOrders(
      const net::HttpResponse& r) const override {
    std::vector<VenueOrder> orders;
    absl::Status st = WithResult(r, [&](od::value result) {
      for (auto f : result.get_object().value()) {
        if (f.unescaped_key().value() != "open") continue;
        for (auto entry : f.value().get_object().value()) {
          VenueOrder o;
          o.venue_order_id = std::string(entry.unescaped_key().value());
          bool known = false;
          bool fee_in_base = false;
          for (auto g : entry.value().get_object().value()) {
            const std::string_view key = g.unescaped_key().value();
            od::value v = g.value().value();
            if (key == "cl_ord_id") {
              if (!v.is_null().value())
                o.client_order_id = std::string(StringValue(v, "cl_ord_id"));
            } else if (key == "status") {
              StringValue(v, "status");
            } else if (key == "opentm") {
              o.created_unix_ns = DecimalValue(v, "opentm") * 10;  // seconds at 1e8 -> ns
            } else if (key == "vol") {
              o.qty_e8 = DecimalValue(v, "vol");
            } else if (key == "vol_exec") {
              o.filled_qty_e8 = DecimalValue(v, "vol_exec");
            } else if (key == "fee") {
              o.fee_e8 = DecimalValue(v, "fee");
              o.fee_known = true;
            } else if (key == "oflags") {
              fee_in_base = absl::StrContains(AV(StringValue(v, "oflags")), "fcib");
            } else if (key == "descr") {
              for (auto d : v.get_object().value()) {
                const std::string_view k = d.unescaped_key().value();
                od::value dv = d.value().value();
                if (k == "pair") {
                  auto sym = symbols_.FromVenueSymbol(Venue::kKraken, StringValue(dv, "pair"));
                  known = sym.ok();
                  if (known) o.symbol = *sym;
                } else if (k == "type") {
                  o.side = StringValue(dv, "type") == "buy" ? v1::SIDE_BUY : v1::SIDE_SELL;
                } else if (k == "ordertype") {
                  o.type = StringValue(dv, "ordertype") == "market" ? v1::ORDER_TYPE_MARKET
                                                                    : v1::ORDER_TYPE_LIMIT;
                } else if (k == "price") {
                  o.price_e8 = DecimalValue(dv, "price");
                }
              }
            }
          }
          o.status =
              o.filled_qty_e8 > 0 ? v1::ORDER_STATUS_PARTIALLY_FILLED : v1::ORDER_STATUS_ACKED;
          if (known && o.fee_known) o.fee_asset = FeeAsset(o.symbol, fee_in_base);
          if (known) orders.push_back(std::move(o));
        }
      }
    });
    if (!st.ok()) return st;
    return orders;
  }

  // QueryOrders: {"<txid>": {"status": pending|open|closed|canceled|expired, "vol", "vol_exec",
  // "cost" (quote of the executed part), "price" (average; preferred, cost / vol_exec
  // when it is 0), "cl_ord_id", ...}}. "closed" means
  // the order completed (filled); a cancelled order keeps its partial vol_exec.
  absl::StatusOr<VenueAck> ParseQueryOrder(const net::HttpResponse& r) const override {
    VenueAck ack;
    bool found = false;
    absl::Status st = WithResult(r, [&](od::value result) {
      for (auto entry : result.get_object().value()) {
        if (found) throw FrameError("more than one order for one cl_ord_id");
        found = true;
        ack.venue_order_id = std::string(entry.unescaped_key().value());
        int64_t cost = 0;
        int64_t avg = 0;
        std::string_view status;
        std::string symbol;
        bool fee_in_base = false;
        for (auto g : entry.value().get_object().value()) {
          const std::string_view key = g.unescaped_key().value();
          od::value v = g.value().value();
          if (key == "status") {
            status = StringValue(v, "status");
            if (status == "pending" || status == "open") {
              ack.status = v1::ORDER_STATUS_ACKED;
            } else if (status == "closed") {
              ack.status = v1::ORDER_STATUS_FILLED;
            } else if (status == "canceled") {
              ack.status = v1::ORDER_STATUS_CANCELLED;
            } else if (status == "expired") {
              ack.status = v1::ORDER_STATUS_EXPIRED;
            } else {
              throw FrameError("unknown order status");
            }
          } else if (key == "cl_ord_id") {
            if (!v.is_null().value())
              ack.client_order_id = std::string(StringValue(v, "cl_ord_id"));
          } else if (key == "vol_exec") {
            ack.filled_qty_e8 = DecimalValue(v, "vol_exec");
          } else if (key == "cost") {
            cost = DecimalValue(v, "cost");
          } else if (key == "price") {
            avg = DecimalValue(v, "price");
          } else if (key == "fee") {
            ack.fee_e8 = DecimalValue(v, "fee");
            ack.fee_known = true;
          } else if (key == "oflags") {
            fee_in_base = absl::StrContains(AV(StringValue(v, "oflags")), "fcib");
          } else if (key == "descr") {
            for (auto d : v.get_object().value()) {
              if (d.unescaped_key().value() != "pair") continue;
              auto sym = symbols_.FromVenueSymbol(Venue::kKraken, StringValue(d.value(), "pair"));
              if (sym.ok()) symbol = *sym;
            }
          }
        }
        if (status.empty()) throw FrameError("order without status");
        if (ack.fee_known) ack.fee_asset = FeeAsset(symbol, fee_in_base);
        if (ack.fee_asset.empty()) ack.fee_known = false;
        if (ack.status == v1::ORDER_STATUS_ACKED && ack.filled_qty_e8 > 0) {
          ack.status = v1::ORDER_STATUS_PARTIALLY_FILLED;
        }
        ack.avg_price_e8 = avg > 0 ? avg : AveragePriceE8(cost, ack.filled_qty_e8);
        if (ack.filled_qty_e8 == 0) ack.avg_price_e8 = 0;
      }
    });
    if (!st.ok()) return st;
    if (!found) return absl::NotFoundError("kraken: no order with this cl_ord_id");
    return ack;
  }

  // Balance: {"ZUSD": "171288.6158", ...} (total only); BalanceEx: {"ZUSD": {"balance": "...",
  // "hold_trade": "..."}} (available = balance - hold_trade). Both shapes are understood.
  absl::StatusOr<std::vector<VenueBalance>> ParseBalances(
      const net::HttpResponse& r) const override {
    std::vector<VenueBalance> out;
    absl::Status st = WithResult(r, [&](od::value result) {
      for (auto f : result.get_object().value()) {
        VenueBalance b;
        b.asset = KrakenNormaliseAsset(f.unescaped_key().value());
        od::value v = f.value().value();
        if (v.type().value() == od::json_type::object) {
          int64_t hold = 0;
          for (auto g : v.get_object().value()) {
            const std::string_view key = g.unescaped_key().value();
            if (key == "balance") b.total_e8 = DecimalValue(g.value().value(), "balance");
            if (key == "hold_trade") hold = DecimalValue(g.value().value(), "hold_trade");
          }
          b.available_e8 = b.total_e8 - hold;
        } else {
          b.total_e8 = DecimalValue(v, "balance");
          b.available_e8 = b.total_e8;
        }
        out.push_back(std::move(b));
      }
    });
    if (!st.ok()) return st;
    return out;
  }

 private:
  // Validation shared by AddOrder and AddOrderBatch items.
  absl::Status CheckOrder(const OrderParams& p) const {
    if (absl::Status s = ValidateOrder(p); !s.ok()) return s;
    if (!symbols_.ToVenueSymbol(Venue::kKraken, p.symbol).ok()) {
      return absl::InvalidArgumentError(absl::StrCat("symbol ", p.symbol, " is not configured"));
    }
    if (p.time_in_force == v1::TIME_IN_FORCE_FOK) {
      return absl::InvalidArgumentError("kraken spot has no FOK time in force");
    }
    return absl::OkStatus();
  }

  // Kraken's fee currency: quote by default, base with the `fcib` order flag. "" for a symbol
  // that is not configured.
  static std::string FeeAsset(const std::string& symbol, bool in_base) {
    auto split = SplitSymbol(symbol);
    if (!split.ok()) return "";
    return in_base ? split->first : split->second;
  }

  // body_tail starts with '&' (or is empty); the nonce is always the first parameter.
  net::HttpRequest Signed(const char* path, std::string_view body_tail,
                          const char* endpoint) const {
    const std::string nonce = absl::StrCat(options_.nonce->Next());
    return Sign(path, nonce, absl::StrCat("nonce=", nonce, AV(body_tail)), endpoint);
  }

  // API-Sign over `body` (form or JSON) that carries `nonce`.
  net::HttpRequest Sign(const char* path, const std::string& nonce, std::string body,
                        const char* endpoint) const {
    unsigned char sha[SHA256_DIGEST_LENGTH];
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, nonce.data(), nonce.size());
    SHA256_Update(&ctx, body.data(), body.size());
    SHA256_Final(sha, &ctx);
    const std::string mac =
        key_.Mac({path, std::string_view(reinterpret_cast<const char*>(sha), sizeof(sha))});
    net::HttpRequest r;
    r.method = "POST";
    r.target = path;
    r.body = std::move(body);
    r.content_type = "application/x-www-form-urlencoded";
    r.headers.emplace_back("API-Key", api_key_);
    r.headers.emplace_back("API-Sign", Base64Encode(mac));
    r.endpoint = endpoint;
    return r;
  }

  // {"error": [...], "result": {...}}: errors first, then `fn(result)`.
  absl::Status WithResult(const net::HttpResponse& r,
                          const std::function<void(od::value)>& fn) const {
    if (r.status == 429) return absl::ResourceExhaustedError("kraken: HTTP 429");
    if (r.status >= 500) return absl::UnavailableError(absl::StrCat("kraken: HTTP ", r.status));
    std::string error;
    bool have_result = false;
    absl::Status st = WithJson(Venue::kKraken, r.body, [&](od::document& doc) {
      for (auto f : doc.get_object().value()) {
        const std::string_view key = f.unescaped_key().value();
        if (key == "error") {
          for (auto e : f.value().get_array().value()) {
            if (error.empty()) error = std::string(StringValue(e.value(), "error"));
          }
        } else if (key == "result" && error.empty()) {
          fn(f.value().value());
          have_result = true;
        }
      }
      return absl::OkStatus();
    });
    if (!error.empty()) return KrakenError(error, r.status);
    if (!st.ok()) return st;
    if (r.status < 200 || r.status >= 300) {
      return absl::UnavailableError(absl::StrCat("kraken: HTTP ", r.status));
    }
    if (!have_result) return absl::InternalError("kraken: response without result");
    return absl::OkStatus();
  }

  const SymbolMap symbols_;
  const std::string api_key_;
  const HmacKey key_;
  const OrderApiOptions options_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<OrderApi>> MakeKrakenOrderApi(const SymbolMap& symbols,
                                                             Credentials credentials,
                                                             OrderApiOptions options) {
  auto raw = Base64Decode(credentials.secret);
  if (!raw.ok()) return absl::InvalidArgumentError("kraken secret is not valid base64");
  return std::unique_ptr<OrderApi>(
      new KrakenOrderApi(symbols, std::move(credentials), std::move(*raw), std::move(options)));
}

}  // namespace tickmesh::venues::internal
