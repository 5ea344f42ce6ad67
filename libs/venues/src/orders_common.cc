#include "orders_common.h"

#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "simdjson.h"

namespace tickmesh::venues {

NonceSource::NonceSource(std::function<int64_t()> now_unix_us) : now_us_(std::move(now_unix_us)) {
  if (!now_us_) {
    now_us_ = [] {
      return std::chrono::duration_cast<std::chrono::microseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
}

int64_t NonceSource::Next() {
  const int64_t now = now_us_();
  int64_t last = last_.load(std::memory_order_relaxed);
  while (true) {
    const int64_t next = now > last ? now : last + 1;
    if (last_.compare_exchange_weak(last, next, std::memory_order_relaxed)) return next;
  }
}

namespace internal {

absl::Status WithJson(Venue venue, std::string_view body,
                      const std::function<absl::Status(od::document&)>& fn) {
  thread_local od::parser parser;
  thread_local PaddedFrame padded;
  try {
    od::document doc = parser.iterate(padded.Load(body)).value();
    return fn(doc);
  } catch (const simdjson::simdjson_error& e) {
    return absl::InternalError(
        absl::StrCat(AV(VenueName(venue)), ": unparsable response: ", e.what()));
  } catch (const FrameError& e) {
    return absl::InternalError(
        absl::StrCat(AV(VenueName(venue)), ": unexpected response: ", e.what()));
  }
}

absl::Status ValidateClientOrderId(std::string_view id) {
  if (id.empty() || id.size() > 36) {
    return absl::InvalidArgumentError("client_order_id must be 1..36 characters");
  }
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return absl::InvalidArgumentError("client_order_id may only use [A-Za-z0-9_-]");
  }
  return absl::OkStatus();
}

absl::Status ValidateOrder(const OrderParams& p) {
  if (p.side != tickmesh::v1::SIDE_BUY && p.side != tickmesh::v1::SIDE_SELL) {
    return absl::InvalidArgumentError("side must be BUY or SELL");
  }
  if (p.type != tickmesh::v1::ORDER_TYPE_LIMIT && p.type != tickmesh::v1::ORDER_TYPE_MARKET) {
    return absl::InvalidArgumentError("type must be LIMIT or MARKET");
  }
  if (p.qty_e8 <= 0) return absl::InvalidArgumentError("qty must be > 0");
  if (p.type == tickmesh::v1::ORDER_TYPE_LIMIT && p.price_e8 <= 0) {
    return absl::InvalidArgumentError("a LIMIT order needs price > 0");
  }
  return ValidateClientOrderId(p.client_order_id);
}

int64_t NowMs(const OrderApiOptions& options) {
  if (options.now_unix_ms) return options.now_unix_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t AveragePriceE8(int64_t quote_e8, int64_t qty_e8) {
  if (qty_e8 <= 0 || quote_e8 <= 0) return 0;
  const __int128 v = static_cast<__int128>(quote_e8) * 100'000'000 / qty_e8;
  return v > INT64_MAX ? INT64_MAX : static_cast<int64_t>(v);
}

}  // namespace internal

absl::StatusOr<std::unique_ptr<OrderApi>> MakeOrderApi(Venue venue, const SymbolMap& symbols,
                                                       Credentials credentials,
                                                       OrderApiOptions options) {
  if (credentials.api_key.empty() || credentials.secret.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(internal::AV(VenueName(venue)), ": empty API key or secret"));
  }
  if (options.recv_window_ms <= 0 || options.recv_window_ms > 60'000) {
    return absl::InvalidArgumentError("recv_window_ms must be 1..60000");
  }
  if (absl::Status s = symbols.CheckVenue(venue); !s.ok()) return s;
  if (!options.nonce) options.nonce = std::make_shared<NonceSource>();
  switch (venue) {
    case Venue::kBinance:
      return internal::MakeBinanceOrderApi(symbols, std::move(credentials), std::move(options));
    case Venue::kKraken:
      return internal::MakeKrakenOrderApi(symbols, std::move(credentials), std::move(options));
    case Venue::kBybit:
      return internal::MakeBybitOrderApi(symbols, std::move(credentials), std::move(options));
    case Venue::kHyperliquid:
      return absl::UnimplementedError(
          "hyperliquid orders are not supported (market data only; see libs/venues/README.md)");
  }
  return absl::InvalidArgumentError("unknown venue");
}

}  // namespace tickmesh::venues

namespace tickmesh::venues {

// Defaults for venues without batch endpoints / a per-order trades lookup.
absl::StatusOr<net::HttpRequest> OrderApi::PlaceOrders(const std::vector<OrderParams>&) const {
  return absl::UnimplementedError(
      absl::StrCat(internal::AV(VenueName(venue())), ": no batch place endpoint"));
}
absl::StatusOr<net::HttpRequest> OrderApi::CancelOrders(const std::vector<CancelRef>&) const {
  return absl::UnimplementedError(
      absl::StrCat(internal::AV(VenueName(venue())), ": no batch cancel endpoint"));
}
absl::StatusOr<std::vector<absl::StatusOr<VenueAck>>> OrderApi::ParsePlaceBatch(
    const net::HttpResponse&, const std::vector<std::string>&) const {
  return absl::UnimplementedError(
      absl::StrCat(internal::AV(VenueName(venue())), ": no batch place endpoint"));
}
absl::StatusOr<std::vector<absl::StatusOr<VenueAck>>> OrderApi::ParseCancelBatch(
    const net::HttpResponse&, const std::vector<std::string>&) const {
  return absl::UnimplementedError(
      absl::StrCat(internal::AV(VenueName(venue())), ": no batch cancel endpoint"));
}
absl::StatusOr<net::HttpRequest> OrderApi::OrderTrades(std::string_view, std::string_view) const {
  return absl::UnimplementedError(
      absl::StrCat(internal::AV(VenueName(venue())), ": fees are reported with the order"));
}
absl::StatusOr<std::vector<VenueFill>> OrderApi::ParseOrderTrades(const net::HttpResponse&) const {
  return absl::UnimplementedError(
      absl::StrCat(internal::AV(VenueName(venue())), ": fees are reported with the order"));
}

}  // namespace tickmesh::venues
