#include "live_venue.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tickmesh/runtime/clock.h"
#include "tickmesh/runtime/log.h"
#include "tickmesh/runtime/metrics.h"

namespace tickmesh::execution {

using tickmesh::runtime::MetricPrefix;
namespace venues = tickmesh::venues;
namespace net = tickmesh::net;

namespace {

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// `fills_are_new`: the answer's fills (Binance FULL place answers) are all executions of the
// order so far, reported here for the first time: they become VenueOrderState::fills, each with
// its own commission.
VenueOrderState FromAck(const tickmesh::v1::Order& order, const venues::VenueAck& ack,
                        bool fills_are_new = false) {
  VenueOrderState st;
  st.fee_e8 = ack.fee_e8;
  st.fee_asset = ack.fee_asset;
  st.fee_known = ack.fee_known;
  if (fills_are_new) {
    for (const auto& f : ack.fills) {
      if (f.qty_e8 <= 0 || f.price_e8 <= 0) continue;
      VenueFill vf;
      vf.order_id = order.order_id();
      vf.price_e8 = f.price_e8;
      vf.qty_e8 = f.qty_e8;
      vf.fee_e8 = f.fee_e8;
      vf.fee_asset = f.fee_asset;
      vf.liquidity = tickmesh::v1::LIQUIDITY_TAKER;  // executed on arrival
      st.fills.push_back(std::move(vf));
    }
  }
  st.client_order_id = ack.client_order_id.empty() ? order.order_id() : ack.client_order_id;
  st.venue_order_id = ack.venue_order_id.empty() ? order.venue_order_id() : ack.venue_order_id;
  st.status = LiveVenue::MapStatus(ack.status);
  st.filled_qty_e8 = ack.filled_qty_e8;
  st.avg_price_e8 = ack.avg_price_e8;
  if (st.avg_price_e8 == 0 && !ack.fills.empty()) {
    __int128 quote = 0;
    int64_t qty = 0;
    for (const auto& f : ack.fills) {
      quote += static_cast<__int128>(f.price_e8) * f.qty_e8;
      qty += f.qty_e8;
    }
    if (qty > 0) st.avg_price_e8 = static_cast<int64_t>(quote / qty);
    if (st.filled_qty_e8 == 0) st.filled_qty_e8 = qty;
  }
  st.symbol = order.symbol();
  st.side = order.side();
  st.qty_e8 = order.qty_e8();
  st.price_e8 = order.price_e8();
  return st;
}

VenueOrderState FromOpen(const venues::VenueOrder& o) {
  VenueOrderState st;
  st.client_order_id = o.client_order_id;
  st.venue_order_id = o.venue_order_id;
  st.status = LiveVenue::MapStatus(o.status);
  st.filled_qty_e8 = o.filled_qty_e8;
  st.fee_e8 = o.fee_e8;
  st.fee_asset = o.fee_asset;
  st.fee_known = o.fee_known;
  st.symbol = o.symbol;
  st.side = o.side;
  st.qty_e8 = o.qty_e8;
  st.price_e8 = o.price_e8;
  return st;
}

}  // namespace

struct LiveVenue::Metrics {
  explicit Metrics(const std::string& venue)
      : rest_seconds(tickmesh::runtime::HistogramFamily(
            MetricPrefix("execution") + "venue_rest_seconds",
            "Live venue REST request latency (send to full response) by venue and endpoint")),
        rest_errors(tickmesh::runtime::CounterFamily(
            MetricPrefix("execution") + "venue_rest_errors_total",
            "Live venue REST errors by venue, endpoint and kind (transport, http_4xx, http_5xx)")),
        sign_seconds(tickmesh::runtime::HistogramFamily(
                         MetricPrefix("execution") + "venue_sign_seconds",
                         "Building and signing one live venue request, by venue")
                         .Add({{"venue", venue}}, tickmesh::runtime::LatencyBuckets())),
        throttles(tickmesh::runtime::CounterFamily(
            MetricPrefix("execution") + "rate_limit_venue_throttles_total",
            "Rate-limit refusals from live venues (HTTP 429 / 418, Bybit 10006, Kraken rate "
            "errors), by venue and request class")),
        inferred(tickmesh::runtime::CounterFamily(
                     MetricPrefix("execution") + "venue_inferred_fills_total",
                     "Live order states inferred because the venue's order lookup could not "
                     "answer (see live_venue.h), by venue")
                     .Add({{"venue", venue}})) {}
  prometheus::Family<prometheus::Histogram>& rest_seconds;
  prometheus::Family<prometheus::Counter>& rest_errors;
  prometheus::Histogram& sign_seconds;
  prometheus::Family<prometheus::Counter>& throttles;
  prometheus::Counter& inferred;
};

VenueOrderStatus LiveVenue::MapStatus(tickmesh::v1::OrderStatus status) {
  switch (status) {
    case tickmesh::v1::ORDER_STATUS_FILLED:
      return VenueOrderStatus::kFilled;
    case tickmesh::v1::ORDER_STATUS_CANCELLED:
      return VenueOrderStatus::kCancelled;
    case tickmesh::v1::ORDER_STATUS_EXPIRED:
      return VenueOrderStatus::kExpired;
    case tickmesh::v1::ORDER_STATUS_REJECTED:
      return VenueOrderStatus::kRejected;
    default:
      return VenueOrderStatus::kOpen;
  }
}

absl::StatusOr<std::unique_ptr<LiveVenue>> LiveVenue::Create(LiveVenueOptions options,
                                                             venues::Credentials credentials) {
  auto api =
      venues::MakeOrderApi(options.venue, options.symbols, std::move(credentials), options.api);
  if (!api.ok()) return api.status();
  const std::string name(venues::VenueName(options.venue));
  net::RestOptions ro;
  ro.base_url = options.base_url;
  ro.name = name;
  ro.connect_timeout = options.connect_timeout;
  ro.read_timeout = options.request_timeout;
  ro.max_connections = options.max_connections;
  auto metrics = std::make_unique<Metrics>(name);
  ro.on_complete = [m = metrics.get(), name](const net::HttpRequest& req,
                                             const absl::StatusOr<net::HttpResponse>& r) {
    if (!r.ok()) {
      m->rest_errors.Add({{"venue", name}, {"endpoint", req.endpoint}, {"kind", "transport"}})
          .Increment();
      return;
    }
    m->rest_seconds
        .Add({{"venue", name}, {"endpoint", req.endpoint}}, tickmesh::runtime::LatencyBuckets())
        .Observe(static_cast<double>(r->latency_ns) / 1e9);
    if (r->status >= 400) {
      m->rest_errors
          .Add({{"venue", name},
                {"endpoint", req.endpoint},
                {"kind", r->status >= 500 ? "http_5xx" : "http_4xx"}})
          .Increment();
    }
  };
  auto rest = net::RestClient::Create(std::move(ro));
  if (!rest.ok()) return rest.status();
  auto venue = std::unique_ptr<LiveVenue>(
      new LiveVenue(std::move(options), std::move(*api), std::move(*rest)));
  venue->metrics_ = std::move(metrics);
  return venue;
}

LiveVenue::LiveVenue(LiveVenueOptions options, std::unique_ptr<venues::OrderApi> api,
                     std::unique_ptr<net::RestClient> rest)
    : options_(std::move(options)),
      name_(venues::VenueName(options_.venue)),
      api_(std::move(api)),
      rest_(std::move(rest)) {}

LiveVenue::~LiveVenue() = default;

absl::StatusOr<net::HttpResponse> LiveVenue::Send(const absl::StatusOr<net::HttpRequest>& request,
                                                  int64_t sign_ns, RequestClass cls, int units) {
  metrics_->sign_seconds.Observe(static_cast<double>(sign_ns) / 1e9);
  if (!request.ok()) return request.status();
  auto resp = rest_->Do(*request);
  ObserveLimits(cls, units, resp);
  return resp;
}

void LiveVenue::ObserveLimits(RequestClass cls, int units,
                              const absl::StatusOr<net::HttpResponse>& response) {
  RateLimiter* limiter = options_.limiter;
  if (limiter == nullptr) return;
  VenueLimitReport report;  // no answer: the request is only no longer outstanding
  if (response.ok()) {
    report = ParseVenueLimits(name_, cls, response->status, response->headers, response->body,
                              tickmesh::runtime::NowUnixNs() / 1'000'000);
  }
  for (const std::string& m : report.malformed) {
    tickmesh::runtime::WarnOnce(absl::StrCat("execution-rate-limit-header-", name_),
                                "venue rate-limit header ignored (malformed)",
                                {{"venue", name_}, {"header", m}});
  }
  const int64_t now = limiter->now();
  const int64_t until = limiter->Observe(name_, cls, units, report, now);
  if (!report.throttled) return;
  metrics_->throttles.Add({{"venue", name_}, {"class", RequestClassName(cls)}}).Increment();
  tickmesh::runtime::LogWarn("venue rate limit hit; pausing",
                             {{"venue", name_},
                              {"class", RequestClassName(cls)},
                              {"http_status", static_cast<int64_t>(response->status)},
                              {"pause_ms", until > now ? (until - now) / 1'000'000 : int64_t{0}}});
}

namespace {
venues::OrderParams ParamsOf(const tickmesh::v1::Order& order) {
  venues::OrderParams p;
  p.symbol = order.symbol();
  p.side = order.side();
  p.type = order.type();
  p.time_in_force = order.time_in_force();
  p.qty_e8 = order.qty_e8();
  p.price_e8 = order.price_e8();
  p.client_order_id = order.order_id();
  return p;
}
}  // namespace

absl::StatusOr<VenueOrderState> LiveVenue::Place(const tickmesh::v1::Order& order) {
  const int64_t t0 = SteadyNs();
  auto req = api_->PlaceOrder(ParamsOf(order));
  auto resp = Send(req, SteadyNs() - t0, RequestClass::kOrder);
  if (!resp.ok()) return resp.status();
  auto ack = api_->ParsePlace(*resp);
  if (!ack.ok()) return ack.status();
  return FromAck(order, *ack, /*fills_are_new=*/true);
}

size_t LiveVenue::max_place_batch() const { return api_->max_place_batch(); }
size_t LiveVenue::max_cancel_batch() const { return api_->max_cancel_batch(); }
std::string LiveVenue::BatchKey(const tickmesh::v1::Order& order) const {
  return api_->PlaceBatchKey(ParamsOf(order));
}

namespace {

// One answer per order of a batch: the batch's own failure for every order, else each order's
// item (its error, or `answer` made from its ack).
template <typename Answer>
std::vector<absl::StatusOr<VenueOrderState>> PerOrderAnswers(
    const std::vector<tickmesh::v1::Order>& orders,
    const absl::StatusOr<std::vector<absl::StatusOr<venues::VenueAck>>>& acks, Answer answer) {
  std::vector<absl::StatusOr<VenueOrderState>> out;
  out.reserve(orders.size());
  for (size_t i = 0; i < orders.size(); ++i) {
    if (!acks.ok()) {
      out.push_back(acks.status());
    } else if (!(*acks)[i].ok()) {
      out.push_back((*acks)[i].status());
    } else {
      out.push_back(answer(orders[i], *(*acks)[i]));
    }
  }
  return out;
}

}  // namespace

std::vector<absl::StatusOr<VenueOrderState>> LiveVenue::PlaceBatch(
    const std::vector<tickmesh::v1::Order>& orders) {
  if (orders.size() < std::max<size_t>(api_->min_place_batch(), 2) ||
      orders.size() > api_->max_place_batch()) {
    return Venue::PlaceBatch(orders);  // one by one
  }
  std::vector<venues::OrderParams> params;
  std::vector<std::string> ids;
  params.reserve(orders.size());
  ids.reserve(orders.size());
  for (const auto& o : orders) {
    params.push_back(ParamsOf(o));
    ids.push_back(o.order_id());
  }
  const int64_t t0 = SteadyNs();
  auto req = api_->PlaceOrders(params);
  // An order the batch builder refuses (invalid params) must not sink the others: each is then
  // sent on its own and gets its own answer.
  if (!req.ok()) return Venue::PlaceBatch(orders);
  auto resp = Send(req, SteadyNs() - t0, RequestClass::kOrder, static_cast<int>(orders.size()));
  return PerOrderAnswers(orders, resp.ok() ? api_->ParsePlaceBatch(*resp, ids) : resp.status(),
                         [this](const tickmesh::v1::Order& o, const venues::VenueAck& ack) {
                           return FromAck(o, ack, /*fills_are_new=*/true);
                         });
}

std::vector<absl::StatusOr<VenueOrderState>> LiveVenue::CancelBatch(
    const std::vector<tickmesh::v1::Order>& orders) {
  if (orders.size() < 2 || orders.size() > api_->max_cancel_batch()) {
    return Venue::CancelBatch(orders);
  }
  std::vector<venues::CancelRef> refs;
  std::vector<std::string> ids;
  for (const auto& o : orders) {
    refs.push_back({o.symbol(), o.order_id()});
    ids.push_back(o.order_id());
  }
  const int64_t t0 = SteadyNs();
  auto req = api_->CancelOrders(refs);
  if (!req.ok()) return Venue::CancelBatch(orders);
  auto resp = Send(req, SteadyNs() - t0, RequestClass::kCancel, static_cast<int>(orders.size()));
  return PerOrderAnswers(orders, resp.ok() ? api_->ParseCancelBatch(*resp, ids) : resp.status(),
                         [this](const tickmesh::v1::Order& o, const venues::VenueAck& ack) {
                           return CancelAnswer(o, ack);
                         });
}

VenueOrderState LiveVenue::CancelAnswer(const tickmesh::v1::Order& order,
                                        const venues::VenueAck& ack) {
  VenueOrderState st = FromAck(order, ack);
  // A cancel answer reports at least what the venue had filled; never less than known here.
  if (st.filled_qty_e8 < order.filled_qty_e8()) {
    st.filled_qty_e8 = order.filled_qty_e8();
    st.avg_price_e8 = order.avg_fill_price_e8();
  }
  return st;
}

bool LiveVenue::SetRequestGate(RequestGate gate) {
  gate_ = std::move(gate);
  return true;
}

absl::Status LiveVenue::Charge(RequestClass cls) { return gate_ ? gate_(cls) : absl::OkStatus(); }

absl::StatusOr<VenueOrderState> LiveVenue::Cancel(const tickmesh::v1::Order& order) {
  const int64_t t0 = SteadyNs();
  auto req = api_->CancelOrder(order.symbol(), order.order_id());
  auto resp = Send(req, SteadyNs() - t0, RequestClass::kCancel);
  if (!resp.ok()) return resp.status();
  auto ack = api_->ParseCancel(*resp);
  if (!ack.ok()) return ack.status();
  return CancelAnswer(order, *ack);
}

absl::StatusOr<std::vector<VenueOrderState>> LiveVenue::OpenOrders() {
  const int64_t t0 = SteadyNs();
  auto req = api_->OpenOrders();
  if (req.ok()) {
    if (absl::Status s = Charge(RequestClass::kOpenOrders); !s.ok()) return s;
  }
  auto resp = Send(req, SteadyNs() - t0, RequestClass::kOpenOrders);
  if (!resp.ok()) return resp.status();
  auto open = api_->ParseOpenOrders(*resp);
  if (!open.ok()) return open.status();
  std::vector<VenueOrderState> out;
  out.reserve(open->size());
  for (const auto& o : *open) out.push_back(FromOpen(o));
  return out;
}

absl::StatusOr<VenueOrderState> LiveVenue::Query(const tickmesh::v1::Order& order) {
  const int64_t t0 = SteadyNs();
  auto req = api_->QueryOrder(order.symbol(), order.order_id(), order.venue_order_id());
  if (req.ok()) {
    if (absl::Status s = Charge(RequestClass::kQueryOrder); !s.ok()) return s;
  }
  auto resp = Send(req, SteadyNs() - t0, RequestClass::kQueryOrder);
  if (!resp.ok()) return resp.status();
  auto ack = api_->ParseQueryOrder(*resp);
  if (ack.ok()) {
    VenueOrderState st = FromAck(order, *ack);
    if (st.status == VenueOrderStatus::kRejected) st.reason = "venue:REJECTED";
    // The venue's cumulative state is never behind what was applied already.
    if (st.filled_qty_e8 < order.filled_qty_e8()) {
      st.filled_qty_e8 = order.filled_qty_e8();
      st.avg_price_e8 = order.avg_fill_price_e8();
    }
    // New fills whose fee the lookup does not carry (Binance): the order's trades do.
    if (!st.fee_known && st.filled_qty_e8 > order.filled_qty_e8() && !st.venue_order_id.empty()) {
      if (absl::Status s = FetchFees(order.symbol(), st); !s.ok()) return s;
    }
    return st;
  }
  // Transport, rate-limit, permission errors: the engine retries later; nothing is inferred.
  const absl::StatusCode code = ack.status().code();
  if (code != absl::StatusCode::kNotFound && code != absl::StatusCode::kUnimplemented) {
    return ack.status();
  }
  return QueryLastResort(order, ack.status());
}

absl::StatusOr<VenueOrderState> LiveVenue::QueryLastResort(const tickmesh::v1::Order& order,
                                                           const absl::Status& lookup) {
  auto open = OpenOrders();
  if (!open.ok()) return open.status();
  for (VenueOrderState& st : *open) {
    if (st.client_order_id == order.order_id()) return std::move(st);
  }
  if (order.status() == tickmesh::v1::ORDER_STATUS_NEW) {
    // Neither the lookup nor the open orders know it: the place never reached the venue.
    return absl::NotFoundError(absl::StrCat(name_, ": order not at the venue"));
  }
  VenueOrderState st;
  st.client_order_id = order.order_id();
  st.venue_order_id = order.venue_order_id();
  st.symbol = order.symbol();
  st.side = order.side();
  st.qty_e8 = order.qty_e8();
  st.price_e8 = order.price_e8();
  st.inferred = true;
  if (options_.venue == venues::Venue::kBinance && lookup.code() == absl::StatusCode::kNotFound) {
    // Binance keeps every order that traded; it only drops (archives) CANCELED / EXPIRED orders
    // without trades. An acknowledged order it no longer knows ended without (further) fills.
    st.status = VenueOrderStatus::kCancelled;
    st.filled_qty_e8 = order.filled_qty_e8();
    st.avg_price_e8 = order.avg_fill_price_e8();
    metrics_->inferred.Increment();
    return st;
  }
  // Bybit (closed beyond the realtime endpoint's recent window), Kraken (no QueryOrders answer
  // for the cl_ord_id) or an endpoint without the lookup (UNIMPLEMENTED): acknowledged, gone from
  // the open orders, not cancelled by us -> inferred filled, the remaining quantity at its limit
  // price (MARKET: at the arrival mid).
  const int64_t remaining = order.qty_e8() - order.filled_qty_e8();
  const int64_t price =
      order.type() == tickmesh::v1::ORDER_TYPE_LIMIT ? order.price_e8() : order.arrival_mid_e8();
  if (remaining <= 0 || price <= 0) {
    return absl::UnimplementedError(
        absl::StrCat(name_, ": order left the open orders and the venue cannot look it up (",
                     lookup.message(), ")"));
  }
  st.status = VenueOrderStatus::kFilled;
  VenueFill f;
  f.order_id = order.order_id();
  f.price_e8 = price;
  f.qty_e8 = remaining;
  f.liquidity = tickmesh::v1::LIQUIDITY_UNSPECIFIED;
  st.fills.push_back(std::move(f));
  st.filled_qty_e8 = order.qty_e8();
  metrics_->inferred.Increment();
  return st;
}

absl::Status LiveVenue::FetchFees(const std::string& symbol, VenueOrderState& st) {
  const int64_t t0 = SteadyNs();
  auto req = api_->OrderTrades(symbol, st.venue_order_id);
  if (!req.ok()) return absl::OkStatus();  // UNIMPLEMENTED: the venue reports fees with the order
  if (absl::Status s = Charge(RequestClass::kOrderTrades); !s.ok()) return s;
  auto resp = Send(req, SteadyNs() - t0, RequestClass::kOrderTrades);
  if (!resp.ok()) return absl::OkStatus();
  auto trades = api_->ParseOrderTrades(*resp);
  if (!trades.ok() || trades->empty()) return absl::OkStatus();  // the fee stays unknown
  int64_t qty = 0, fee = 0;
  std::string asset = (*trades)[0].fee_asset;
  for (const auto& t : *trades) {
    if (t.fee_asset != asset && t.fee_e8 != 0) return absl::OkStatus();  // mixed fee assets
    qty += t.qty_e8;
    fee += t.fee_e8;
  }
  // Only a complete list matches the cumulative figures.
  if (qty != st.filled_qty_e8) return absl::OkStatus();
  st.fee_e8 = fee;
  st.fee_asset = asset;
  st.fee_known = true;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<VenueAssetBalance>> LiveVenue::Balances() {
  const int64_t t0 = SteadyNs();
  auto req = api_->Balances();
  if (req.ok()) {
    if (absl::Status s = Charge(RequestClass::kBalances); !s.ok()) return s;
  }
  auto resp = Send(req, SteadyNs() - t0, RequestClass::kBalances);
  if (!resp.ok()) return resp.status();
  auto balances = api_->ParseBalances(*resp);
  if (!balances.ok()) return balances.status();
  std::vector<VenueAssetBalance> out;
  out.reserve(balances->size());
  for (const auto& b : *balances) out.push_back({b.asset, b.total_e8, b.available_e8});
  return out;
}

std::string DefaultRateLimits(venues::Venue venue) {
  switch (venue) {
    case venues::Venue::kBinance:
      return "binance/weight_1m=token:6000:60000:order=1,cancel=1,query_order=4,open_orders=80,"
             "trades=5,balances=20:X-MBX-USED-WEIGHT-1M;"
             "binance/orders_10s=token:50:10000:order=1:X-MBX-ORDER-COUNT-10S;"
             "binance/orders_1d=token:160000:86400000:order=1:X-MBX-ORDER-COUNT-1D";
    case venues::Venue::kKraken:
      return "kraken/api_counter=decay:15:0.33:query_order=1,open_orders=1,trades=2,balances=1;"
             "kraken/trading=decay:60:1:order=1,cancel=8";
    case venues::Venue::kBybit:
      return "bybit/create_1s=token:20:1000:order=1:X-Bapi-Limit-Status;"
             "bybit/cancel_1s=token:20:1000:cancel=1:X-Bapi-Limit-Status;"
             "bybit/realtime_1s=token:50:1000:query_order=1,open_orders=1:X-Bapi-Limit-Status;"
             "bybit/wallet_1s=token:50:1000:balances=1:X-Bapi-Limit-Status;"
             "bybit/executions_1s=token:50:1000:trades=1:X-Bapi-Limit-Status;"
             "bybit/ip_5s=token:600:5000:order=1,cancel=1,query=1";
    case venues::Venue::kHyperliquid:
      return "";
  }
  return "";
}

}  // namespace tickmesh::execution
