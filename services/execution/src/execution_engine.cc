#include "execution_engine.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "symbol.h"
#include "tickmesh/runtime/clock.h"
#include "tickmesh/runtime/log.h"
#include "tickmesh/runtime/metrics.h"
#include "tickmesh/v1/persistence.pb.h"

namespace tickmesh::execution {

using tickmesh::runtime::MetricPrefix;
using tickmesh::runtime::MonotonicNs;
using tickmesh::runtime::NowUnixNs;
using tickmesh::v1::Order;
using tickmesh::v1::OrderEvent;
using tickmesh::v1::OrderRequest;

namespace {

constexpr size_t kMaxIdLength = 128;
constexpr size_t kMaxPageLimit = 10'000;
constexpr size_t kDefaultPageLimit = 100;

bool IsPrintableId(absl::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

absl::Status CheckId(absl::string_view value, absl::string_view field, bool required) {
  if (value.empty()) {
    if (!required) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  }
  if (value.size() > kMaxIdLength || !IsPrintableId(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be 1..", kMaxIdLength, " printable characters without spaces"));
  }
  return absl::OkStatus();
}

void Stamp(tickmesh::v1::Trace* trace, const char* stage, int64_t unix_ns) {
  auto* hop = trace->add_hops();
  hop->set_service("execution");
  hop->set_stage(stage);
  hop->set_unix_ns(unix_ns);
}

std::string StatusLabel(tickmesh::v1::OrderStatus s) {
  std::string name = tickmesh::v1::OrderStatus_Name(s);
  if (name.rfind("ORDER_STATUS_", 0) == 0) name = name.substr(13);
  return absl::AsciiStrToLower(name);
}

}  // namespace

struct ExecutionEngine::Metrics {
  Metrics()
      : orders(tickmesh::runtime::CounterFamily(MetricPrefix("execution") + "orders_total",
                                                "Orders reaching each status")),
        risk_rejects(tickmesh::runtime::CounterFamily(
            MetricPrefix("execution") + "risk_rejects_total", "Orders rejected by a risk rule")),
        venue_rejects(tickmesh::runtime::CounterFamily(
            MetricPrefix("execution") + "venue_rejects_total", "Orders rejected by the venue")),
        fills(tickmesh::runtime::CounterFamily(MetricPrefix("execution") + "fills_total",
                                               "Fills received from the venue")
                  .Add({})),
        submit_to_ack(tickmesh::runtime::HistogramFamily(
                          MetricPrefix("execution") + "submit_to_ack_seconds",
                          "From order request (or signal) arrival to venue ack")
                          .Add({}, tickmesh::runtime::LatencyBuckets())),
        signal_to_fill(
            tickmesh::runtime::HistogramFamily(MetricPrefix("execution") + "signal_to_fill_seconds",
                                               "From signal arrival to the first fill of its order")
                .Add({}, tickmesh::runtime::LatencyBuckets())),
        position_qty(
            tickmesh::runtime::GaugeFamily(MetricPrefix("execution") + "position_qty",
                                           "Signed position per instrument, in base units")),
        signals(tickmesh::runtime::CounterFamily(
            MetricPrefix("execution") + "signals_total",
            "Signals received, by result (ordered, duplicate, rejected, invalid, error)")),
        book_events(tickmesh::runtime::CounterFamily(
            MetricPrefix("execution") + "book_events_total",
            "Book events applied or refused (ok, gap, stale, invalid, overflow)")),
        resource_rejects(tickmesh::runtime::CounterFamily(
            MetricPrefix("execution") + "resource_rejects_total",
            "Orders refused for a full outbox or the open orders limit")),
        slippage_bps(tickmesh::runtime::HistogramFamily(
                         MetricPrefix("execution") + "slippage_bps",
                         "Final slippage of filled orders vs arrival mid, basis points, positive "
                         "= worse for the order's side")
                         .Add({}, prometheus::Histogram::BucketBoundaries{-100, -50, -20, -10, -5,
                                                                          -2, -1, 0, 1, 2, 5, 10,
                                                                          20, 50, 100, 200, 500})),
        fill_rate(tickmesh::runtime::HistogramFamily(MetricPrefix("execution") + "fill_rate",
                                                     "Filled share of finished orders (0..1)")
                      .Add({}, prometheus::Histogram::BucketBoundaries{0, 0.1, 0.25, 0.5, 0.75, 0.9,
                                                                       0.99, 1})),
        time_to_fill(tickmesh::runtime::HistogramFamily(
                         MetricPrefix("execution") + "time_to_fill_seconds",
                         "Order creation to its last fill, finished orders with fills")
                         .Add({}, tickmesh::runtime::LatencyBuckets())),
        quality_score(
            tickmesh::runtime::HistogramFamily(
                MetricPrefix("execution") + "quality_score",
                "Execution quality score (0..100) of finished orders")
                .Add({}, prometheus::Histogram::BucketBoundaries{10, 25, 50, 75, 90, 95, 99, 100})),
        breaker_state(tickmesh::runtime::GaugeFamily(
            MetricPrefix("execution") + "breaker_state",
            "Circuit breaker per venue: 0 closed, 1 open, 2 half-open")),
        breaker_rejects(tickmesh::runtime::CounterFamily(
            MetricPrefix("execution") + "breaker_rejects_total",
            "Orders refused because the venue's circuit breaker was open")),
        breaker_trips(tickmesh::runtime::CounterFamily(
            MetricPrefix("execution") + "breaker_transitions_total",
            "Circuit breaker state changes, by venue "
            "and new state")),
        subscriber_overflows(tickmesh::runtime::CounterFamily(
                                 MetricPrefix("execution") + "event_subscriber_overflows_total",
                                 "StreamOrderEvents subscribers ended for a full queue")
                                 .Add({})) {}

  prometheus::Family<prometheus::Counter>& orders;
  prometheus::Family<prometheus::Counter>& risk_rejects;
  prometheus::Family<prometheus::Counter>& venue_rejects;
  prometheus::Counter& fills;
  prometheus::Histogram& submit_to_ack;
  prometheus::Histogram& signal_to_fill;
  prometheus::Family<prometheus::Gauge>& position_qty;
  prometheus::Family<prometheus::Counter>& signals;
  prometheus::Family<prometheus::Counter>& book_events;
  prometheus::Family<prometheus::Counter>& resource_rejects;
  prometheus::Histogram& slippage_bps;
  prometheus::Histogram& fill_rate;
  prometheus::Histogram& time_to_fill;
  prometheus::Histogram& quality_score;
  prometheus::Family<prometheus::Gauge>& breaker_state;
  prometheus::Family<prometheus::Counter>& breaker_rejects;
  prometheus::Family<prometheus::Counter>& breaker_trips;
  prometheus::Counter& subscriber_overflows;
};

ExecutionEngine::ExecutionEngine(EngineOptions options, OutboxQueue* outbox, CachePut cache_put)
    : options_(options),
      outbox_(outbox),
      cache_put_(std::move(cache_put)),
      metrics_(std::make_unique<Metrics>()),
      fanout_([m = metrics_.get()](const EventFilter&) { m->subscriber_overflows.Increment(); }),
      orders_(options.orders),
      risk_(options.risk),
      venue_(options.venue),
      portfolio_(options.initial_quote_e8) {}

ExecutionEngine::~ExecutionEngine() { CloseStreams(); }

absl::Status ExecutionEngine::ValidateRequest(const OrderRequest& r) {
  if (auto s = CheckId(r.client_order_id(), "order.client_order_id", true); !s.ok()) return s;
  if (auto s = CheckId(r.venue(), "order.venue", true); !s.ok()) return s;
  if (auto s = SplitSymbol(r.symbol()); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("order.symbol: ", s.status().message()));
  }
  if (r.side() != tickmesh::v1::SIDE_BUY && r.side() != tickmesh::v1::SIDE_SELL) {
    return absl::InvalidArgumentError("order.side must be SIDE_BUY or SIDE_SELL");
  }
  if (r.type() != tickmesh::v1::ORDER_TYPE_MARKET && r.type() != tickmesh::v1::ORDER_TYPE_LIMIT) {
    return absl::InvalidArgumentError("order.type must be ORDER_TYPE_MARKET or ORDER_TYPE_LIMIT");
  }
  if (!tickmesh::v1::TimeInForce_IsValid(r.time_in_force())) {
    return absl::InvalidArgumentError("order.time_in_force is not a known value");
  }
  if (r.type() == tickmesh::v1::ORDER_TYPE_MARKET &&
      r.time_in_force() == tickmesh::v1::TIME_IN_FORCE_GTC) {
    return absl::InvalidArgumentError("order.time_in_force: GTC is not valid for MARKET orders");
  }
  if (r.type() == tickmesh::v1::ORDER_TYPE_LIMIT && r.price_e8() <= 0) {
    return absl::InvalidArgumentError("order.price_e8 must be > 0 for LIMIT orders");
  }
  if (auto s = CheckId(r.strategy(), "order.strategy", false); !s.ok()) return s;
  if (r.algo() != tickmesh::v1::EXEC_ALGO_UNSPECIFIED &&
      r.algo() != tickmesh::v1::EXEC_ALGO_IMMEDIATE) {
    if (!tickmesh::v1::ExecAlgo_IsValid(r.algo())) {
      return absl::InvalidArgumentError("order.algo is not a known value");
    }
    return absl::UnimplementedError(absl::StrCat(
        "order.algo: ", tickmesh::v1::ExecAlgo_Name(r.algo()), " is not implemented yet"));
  }
  return absl::OkStatus();
}

absl::StatusOr<tickmesh::v1::SubmitOrderResponse> ExecutionEngine::Submit(
    const OrderRequest& request, int64_t arrival_mono_ns) {
  if (auto s = ValidateRequest(request); !s.ok()) return s;
  const int64_t mono = arrival_mono_ns != 0 ? arrival_mono_ns : MonotonicNs();
  tickmesh::v1::Trace trace = request.trace();
  Stamp(&trace, "recv", NowUnixNs());
  std::lock_guard<std::mutex> lock(mu_);
  return SubmitLocked(request, trace, mono, 0);
}

absl::StatusOr<tickmesh::v1::SubmitOrderResponse> ExecutionEngine::SubmitLocked(
    const OrderRequest& request, const tickmesh::v1::Trace& trace, int64_t submit_mono_ns,
    int64_t signal_recv_mono_ns) {
  tickmesh::v1::SubmitOrderResponse resp;
  if (const OrderRecord* existing = orders_.FindByClientId(request.client_order_id())) {
    if (existing->order.status() == tickmesh::v1::ORDER_STATUS_REJECTED) {
      return absl::FailedPreconditionError(existing->order.reject_reason());
    }
    *resp.mutable_order() = existing->order;
    resp.set_duplicate(true);
    return resp;
  }
  if (outbox_ != nullptr && !outbox_->HasRoom()) {
    metrics_->resource_rejects.Add({{"reason", "outbox_full"}}).Increment();
    return absl::ResourceExhaustedError("outbox full");
  }
  CircuitBreaker* breaker = BreakerLocked(request.venue());
  if (breaker != nullptr && !breaker->Allow(MonotonicNs())) {
    metrics_->breaker_rejects.Add({{"venue", request.venue()}}).Increment();
    return absl::UnavailableError(absl::StrCat("breaker:", request.venue(), " open"));
  }
  OrderRequest req = request;
  if (req.strategy().empty()) req.set_strategy("manual");
  // Validated: the symbol is BASE-QUOTE.
  (void)portfolio_.EnsureInstrument(req.venue(), req.symbol());

  const std::optional<int64_t> mid = venue_.Mid(req.venue(), req.symbol());
  RiskContext ctx;
  ctx.kill_switch_engaged = kill_.engaged();
  ctx.position_e8 = portfolio_.PositionQty(req.venue(), req.symbol());
  ctx.open_same_side_e8 = orders_.OpenRemaining(req.venue(), req.symbol(), req.side());
  ctx.mid_e8 = mid;

  std::vector<OrderEvent> events;
  const int64_t now = NowUnixNs();
  auto created = orders_.Create(req, trace, now, mid.value_or(0), submit_mono_ns,
                                signal_recv_mono_ns, &events);
  if (!created.ok()) {
    if (breaker != nullptr) breaker->Release();
    metrics_->resource_rejects.Add({{"reason", "open_orders"}}).Increment();
    return created.status();
  }
  const std::string order_id = created->record->order.order_id();

  const RiskDecision decision = risk_.Check(req, ctx);
  if (!decision.ok) {
    if (breaker != nullptr) breaker->Release();
    metrics_->risk_rejects.Add({{"rule", decision.rule}}).Increment();
    (void)orders_.Reject(order_id, decision.reason(), now, &events);
    PublishLocked(&events);
    return absl::FailedPreconditionError(decision.reason());
  }

  const int64_t venue_start = MonotonicNs();
  const ExecutionReport report = venue_.Execute(orders_.Find(order_id)->order);
  const int64_t after = NowUnixNs();
  // Business rejections (no market, ...) are answers, not failures; errors and timeouts are.
  const bool venue_failed = absl::StartsWith(report.reject_reason, "venue:error") ||
                            absl::StartsWith(report.reject_reason, "venue:timeout") ||
                            MonotonicNs() - venue_start > options_.venue_timeout_ns;
  RecordVenueCallLocked(req.venue(), breaker, !venue_failed);
  if (!report.reject_reason.empty()) {
    metrics_->venue_rejects.Add({{"reason", report.reject_reason}}).Increment();
    (void)orders_.Reject(order_id, report.reject_reason, after, &events);
    PublishLocked(&events);
    return absl::FailedPreconditionError(report.reject_reason);
  }
  if (auto s = orders_.Ack(order_id, report.venue_order_id, after, &events); !s.ok()) {
    tickmesh::runtime::LogError("ack failed", {{"order_id", order_id}, {"error", s.ToString()}});
  }
  metrics_->submit_to_ack.Observe(static_cast<double>(MonotonicNs() - submit_mono_ns) / 1e9);
  for (const VenueFill& vf : report.fills) ApplyVenueFillLocked(vf, after, &events);
  switch (report.remainder) {
    case ExecutionReport::Remainder::kCancel:
      (void)orders_.Cancel(order_id, after, &events);
      break;
    case ExecutionReport::Remainder::kExpire:
      (void)orders_.Expire(order_id, after, &events);
      break;
    case ExecutionReport::Remainder::kRest:
    case ExecutionReport::Remainder::kNone:
      break;
  }
  PublishLocked(&events);
  *resp.mutable_order() = orders_.Find(order_id)->order;
  return resp;
}

CircuitBreaker* ExecutionEngine::BreakerLocked(const std::string& venue) {
  if (!options_.breaker_enabled) return nullptr;
  auto it = breakers_.find(venue);
  if (it != breakers_.end()) return &it->second;
  if (breakers_.size() >= kMaxBreakers) return nullptr;
  metrics_->breaker_state.Add({{"venue", venue}}).Set(0);
  return &breakers_.emplace(venue, CircuitBreaker(options_.breaker)).first->second;
}

void ExecutionEngine::RecordVenueCallLocked(const std::string& venue, CircuitBreaker* breaker,
                                            bool success) {
  if (breaker == nullptr) return;
  const int64_t now = MonotonicNs();
  const CircuitBreaker::State before = breaker->state(now);
  breaker->Record(success, now);
  const CircuitBreaker::State after = breaker->state(now);
  if (after == before) return;
  metrics_->breaker_state.Add({{"venue", venue}}).Set(static_cast<double>(after));
  metrics_->breaker_trips.Add({{"venue", venue}, {"state", CircuitBreaker::Name(after)}})
      .Increment();
  tickmesh::runtime::LogWarn("circuit breaker changed state",
                             {{"venue", venue},
                              {"from", CircuitBreaker::Name(before)},
                              {"to", CircuitBreaker::Name(after)}});
}

void ExecutionEngine::ApplyVenueFillLocked(const VenueFill& vf, int64_t now_unix_ns,
                                           std::vector<OrderEvent>* events) {
  auto fill = orders_.ApplyFill(vf.order_id, vf.price_e8, vf.qty_e8, vf.fee_e8, vf.fee_asset,
                                vf.liquidity, now_unix_ns, events);
  if (!fill.ok()) {
    // The venue and the order book disagree: a bug, not an outside input.
    tickmesh::runtime::LogError("venue fill refused by the order manager",
                                {{"order_id", vf.order_id}, {"error", fill.status().ToString()}});
    return;
  }
  metrics_->fills.Increment();
  if (auto s = portfolio_.ApplyFill(*fill); !s.ok()) {
    tickmesh::runtime::LogError("fill not applied to the portfolio",
                                {{"fill_id", fill->fill_id()}, {"error", s.ToString()}});
  }
  const OrderRecord* rec = orders_.Find(vf.order_id);
  if (rec != nullptr && rec->signal_recv_mono_ns != 0 &&
      rec->order.filled_qty_e8() == vf.qty_e8) {  // first fill of the order
    metrics_->signal_to_fill.Observe(static_cast<double>(MonotonicNs() - rec->signal_recv_mono_ns) /
                                     1e9);
  }
  metrics_->position_qty.Add({{"venue", fill->venue()}, {"symbol", fill->symbol()}})
      .Set(static_cast<double>(portfolio_.PositionQty(fill->venue(), fill->symbol())) / kE8);
  WriteCacheLocked(fill->venue(), fill->symbol(), now_unix_ns);
  if (outbox_ != nullptr) {
    std::pair<std::string, std::string> key(fill->venue(), fill->symbol());
    if (std::find(touched_.begin(), touched_.end(), key) == touched_.end()) {
      touched_.push_back(std::move(key));
    }
  }
}

int64_t ExecutionEngine::NextStateNsLocked(int64_t now_unix_ns) {
  last_state_ns_ = std::max(now_unix_ns, last_state_ns_ + 1);
  return last_state_ns_;
}

void ExecutionEngine::AppendStateRecordsLocked(std::vector<tickmesh::v1::Record>* records) {
  const int64_t now = NowUnixNs();
  for (const auto& [venue, symbol] : touched_) {
    auto pair = SplitSymbol(symbol);
    if (!pair.ok()) continue;
    tickmesh::v1::Position p = portfolio_.GetPosition(venue, symbol, 0);
    p.set_updated_unix_ns(NextStateNsLocked(now));
    *records->emplace_back().mutable_position() = std::move(p);
    for (const std::string* asset : {&pair->base, &pair->quote}) {
      tickmesh::v1::Balance b = portfolio_.GetBalance(venue, *asset);
      b.set_updated_unix_ns(NextStateNsLocked(now));
      *records->emplace_back().mutable_balance() = std::move(b);
    }
  }
  touched_.clear();
}

void ExecutionEngine::WriteCacheLocked(const std::string& venue, const std::string& symbol,
                                       int64_t now_unix_ns) {
  if (!cache_put_) return;
  auto pair = SplitSymbol(symbol);
  if (!pair.ok()) return;
  for (const std::string* asset : {&pair->base, &pair->quote}) {
    cache_put_(absl::StrCat("balance:", venue, ":", *asset),
               portfolio_.GetBalance(venue, *asset).SerializeAsString());
  }
  cache_put_(absl::StrCat("position:", venue, ":", symbol),
             portfolio_.GetPosition(venue, symbol, venue_.Mid(venue, symbol).value_or(0))
                 .SerializeAsString());
}

void ExecutionEngine::PublishLocked(std::vector<OrderEvent>* events) {
  if (events->empty()) return;
  const int64_t emit_ns = NowUnixNs();
  tickmesh::v1::OrderEventBatch batch;
  std::vector<tickmesh::v1::Record> records;
  records.reserve(events->size() * 3);
  for (OrderEvent& ev : *events) {
    Stamp(ev.mutable_trace(), "emit", emit_ns);
    const Order& o = ev.order();
    // orders_total counts orders reaching a status (a further partial fill is not a new status).
    const bool first_partial = ev.type() == tickmesh::v1::ORDER_EVENT_TYPE_FILL &&
                               o.status() == tickmesh::v1::ORDER_STATUS_PARTIALLY_FILLED &&
                               o.filled_qty_e8() == ev.fill().qty_e8();
    if (ev.type() != tickmesh::v1::ORDER_EVENT_TYPE_FILL || first_partial ||
        o.status() == tickmesh::v1::ORDER_STATUS_FILLED) {
      metrics_->orders.Add({{"status", StatusLabel(o.status())}}).Increment();
    }
    // Final execution quality, once per finished order that was sent to the venue.
    if (OrderManager::IsTerminal(o.status()) && ev.has_quality() &&
        o.status() != tickmesh::v1::ORDER_STATUS_REJECTED) {
      const tickmesh::v1::ExecutionQuality& q = ev.quality();
      metrics_->fill_rate.Observe(q.fill_rate());
      metrics_->quality_score.Observe(q.score());
      if (o.filled_qty_e8() > 0) {
        if (o.arrival_mid_e8() > 0) metrics_->slippage_bps.Observe(q.slippage_bps());
        metrics_->time_to_fill.Observe(static_cast<double>(q.time_to_fill_ns()) / 1e9);
      }
    }
    if (outbox_ != nullptr) {
      *records.emplace_back().mutable_order() = o;
      *records.emplace_back().mutable_order_event() = ev;
      if (ev.has_fill()) *records.emplace_back().mutable_fill() = ev.fill();
    }
    *batch.add_events() = std::move(ev);
  }
  events->clear();
  if (outbox_ != nullptr) {
    AppendStateRecordsLocked(&records);
    outbox_->Append(std::move(records));
  }
  if (observer_) observer_(batch);
  fanout_.Publish([&](const EventFilter& f, tickmesh::v1::OrderEventBatch* out) {
    if (f.symbols.empty()) {
      *out = batch;
      return true;
    }
    for (const OrderEvent& ev : batch.events()) {
      if (f.symbols.count(ev.order().symbol()) != 0) *out->add_events() = ev;
    }
    return out->events_size() > 0;
  });
}

void ExecutionEngine::OnSignalBatch(const tickmesh::v1::SignalBatch& batch) {
  const int64_t recv_ns = NowUnixNs();
  const int64_t recv_mono = MonotonicNs();
  for (const auto& sig : batch.signals()) {
    OrderRequest req;
    req.set_client_order_id("sig-" + sig.signal_id());
    req.set_venue(sig.venue());
    req.set_symbol(sig.symbol());
    req.set_side(sig.side());
    req.set_type(tickmesh::v1::ORDER_TYPE_MARKET);
    req.set_qty_e8(sig.target_qty_e8());
    req.set_strategy(sig.strategy());
    absl::Status valid = sig.signal_id().empty()
                             ? absl::InvalidArgumentError("signal_id is required")
                             : ValidateRequest(req);
    if (!valid.ok()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++invalid_signals_;
      }
      metrics_->signals.Add({{"result", "invalid"}}).Increment();
      tickmesh::runtime::WarnOnce("execution-invalid-signal", "invalid signal ignored",
                                  {{"signal_id", sig.signal_id()}, {"error", valid.ToString()}});
      continue;
    }
    tickmesh::v1::Trace trace = sig.trace();
    Stamp(&trace, "recv", recv_ns);
    if (admission_ == nullptr) {
      SubmitSignalOrder(req, std::move(trace), recv_mono);
      continue;
    }
    const std::string venue = req.venue();
    admission_->Submit(
        venue, RequestClass::kOrder,
        [this, req = std::move(req), trace = std::move(trace), recv_mono]() mutable {
          SubmitSignalOrder(req, std::move(trace), recv_mono);
        },
        [this, id = sig.signal_id()](absl::Status s) {
          metrics_->signals.Add({{"result", "rate_limited"}}).Increment();
          tickmesh::runtime::WarnOnce("execution-signal-rate-limited", "signal order rate limited",
                                      {{"signal_id", id}, {"error", s.ToString()}});
        });
  }
}

void ExecutionEngine::SubmitSignalOrder(const OrderRequest& req, tickmesh::v1::Trace trace,
                                        int64_t recv_mono) {
  absl::StatusOr<tickmesh::v1::SubmitOrderResponse> result;
  {
    std::lock_guard<std::mutex> lock(mu_);
    result = SubmitLocked(req, trace, recv_mono, recv_mono);
  }
  const char* label = "ordered";
  if (!result.ok()) {
    label = result.status().code() == absl::StatusCode::kFailedPrecondition ? "rejected" : "error";
    if (label[0] == 'e') {
      tickmesh::runtime::WarnOnce(
          "execution-signal-order-error", "signal not turned into an order",
          {{"client_order_id", req.client_order_id()}, {"error", result.status().ToString()}});
    }
  } else if (result->duplicate()) {
    label = "duplicate";
  }
  metrics_->signals.Add({{"result", label}}).Increment();
}

std::vector<std::pair<std::string, std::string>> ExecutionEngine::OnMarketBatch(
    const tickmesh::v1::MarketEventBatch& batch) {
  std::vector<std::pair<std::string, std::string>> gapped;
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<VenueFill> fills;
  for (const auto& ev : batch.events()) {
    if (!ev.has_snapshot() && !ev.has_delta()) continue;
    absl::Status s = venue_.ApplyMarketEvent(ev, &fills);
    const char* result = "ok";
    switch (s.code()) {
      case absl::StatusCode::kOk:
        break;
      case absl::StatusCode::kDataLoss:
        result = "gap";
        break;
      case absl::StatusCode::kFailedPrecondition:
        result = "stale";
        break;
      case absl::StatusCode::kResourceExhausted:
        result = "overflow";
        break;
      default:
        result = "invalid";
    }
    metrics_->book_events.Add({{"result", result}}).Increment();
    if (s.code() == absl::StatusCode::kDataLoss) gapped.emplace_back(ev.venue(), ev.symbol());
    if (!s.ok()) {
      ++book_errors_;
      tickmesh::runtime::WarnOnce(absl::StrCat("execution-book-", result), "book event not applied",
                                  {{"venue", ev.venue()},
                                   {"symbol", ev.symbol()},
                                   {"seq", ev.seq()},
                                   {"error", s.ToString()}});
    } else if (ev.has_snapshot()) {
      (void)portfolio_.EnsureInstrument(ev.venue(), ev.symbol());  // fails for non BASE-QUOTE
    }
  }
  if (!fills.empty()) {
    std::vector<OrderEvent> events;
    const int64_t now = NowUnixNs();
    for (const VenueFill& vf : fills) ApplyVenueFillLocked(vf, now, &events);
    PublishLocked(&events);
  }
  return gapped;
}

void ExecutionEngine::ApplyBook(const tickmesh::v1::GetBookResponse& book) {
  tickmesh::v1::MarketEventBatch batch;
  auto* ev = batch.add_events();
  ev->set_venue(book.venue());
  ev->set_symbol(book.symbol());
  ev->set_seq(book.seq());
  *ev->mutable_snapshot() = book.book();
  (void)OnMarketBatch(batch);
}

void ExecutionEngine::OnMarketDataDisconnected() {
  std::lock_guard<std::mutex> lock(mu_);
  venue_.MarkAllStale();
}

const OrderRecord* ExecutionEngine::FindLocked(const tickmesh::v1::OrderRef& ref) const {
  switch (ref.ref_case()) {
    case tickmesh::v1::OrderRef::kOrderId:
      return orders_.Find(ref.order_id());
    case tickmesh::v1::OrderRef::kClientOrderId:
      return orders_.FindByClientId(ref.client_order_id());
    default:
      return nullptr;
  }
}

namespace {

absl::Status CheckRef(const tickmesh::v1::OrderRef& ref) {
  if ((ref.ref_case() == tickmesh::v1::OrderRef::kOrderId && !ref.order_id().empty()) ||
      (ref.ref_case() == tickmesh::v1::OrderRef::kClientOrderId &&
       !ref.client_order_id().empty())) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError("ref: order_id or client_order_id is required");
}

}  // namespace

absl::StatusOr<Order> ExecutionEngine::CancelLocked(const std::string& order_id,
                                                    std::vector<OrderEvent>* events) {
  const OrderRecord* rec = orders_.Find(order_id);
  if (rec == nullptr) return absl::NotFoundError(absl::StrCat("order ", order_id, " not found"));
  if (OrderManager::IsTerminal(rec->order.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat("order ", order_id, " is ", StatusLabel(rec->order.status())));
  }
  venue_.CancelResting(order_id);
  if (auto s = orders_.Cancel(order_id, NowUnixNs(), events); !s.ok()) return s;
  return orders_.Find(order_id)->order;
}

absl::StatusOr<Order> ExecutionEngine::Cancel(const tickmesh::v1::OrderRef& ref) {
  if (auto s = CheckRef(ref); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  const OrderRecord* rec = FindLocked(ref);
  if (rec == nullptr) return absl::NotFoundError("order not found");
  std::vector<OrderEvent> events;
  auto result = CancelLocked(rec->order.order_id(), &events);
  PublishLocked(&events);
  return result;
}

absl::StatusOr<Order> ExecutionEngine::GetOrder(const tickmesh::v1::OrderRef& ref) const {
  if (auto s = CheckRef(ref); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  const OrderRecord* rec = FindLocked(ref);
  if (rec == nullptr) return absl::NotFoundError("order not found");
  return rec->order;
}

absl::StatusOr<tickmesh::v1::ListOrdersResponse> ExecutionEngine::ListOrders(
    const tickmesh::v1::ListOrdersRequest& request) const {
  OrderQuery q;
  q.venue = request.venue();
  q.symbol = request.symbol();
  for (int s : request.statuses()) {
    if (!tickmesh::v1::OrderStatus_IsValid(s) || s == tickmesh::v1::ORDER_STATUS_UNSPECIFIED) {
      return absl::InvalidArgumentError("statuses: unknown order status value");
    }
    q.statuses.push_back(static_cast<tickmesh::v1::OrderStatus>(s));
  }
  const uint32_t limit = request.page().limit();
  if (limit > kMaxPageLimit) {
    return absl::InvalidArgumentError(absl::StrCat("page.limit must be <= ", kMaxPageLimit));
  }
  q.limit = limit == 0 ? kDefaultPageLimit : limit;
  if (!request.page().page_token().empty()) {
    if (!absl::SimpleAtoi(request.page().page_token(), &q.before) || q.before == 0) {
      return absl::InvalidArgumentError("page.page_token is not a token from a previous page");
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  OrderPage page = orders_.List(q);
  tickmesh::v1::ListOrdersResponse resp;
  for (auto& o : page.orders) *resp.add_orders() = std::move(o);
  if (page.next_before != 0) resp.set_next_page_token(absl::StrCat(page.next_before));
  return resp;
}

tickmesh::v1::GetPositionsResponse ExecutionEngine::GetPositions(
    const tickmesh::v1::GetPositionsRequest& request) const {
  std::lock_guard<std::mutex> lock(mu_);
  tickmesh::v1::GetPositionsResponse resp;
  for (auto& p : portfolio_.Positions(request.venue(), request.symbol())) {
    Portfolio::Mark(&p, venue_.Mid(p.venue(), p.symbol()).value_or(0));
    *resp.add_positions() = std::move(p);
  }
  return resp;
}

tickmesh::v1::GetBalancesResponse ExecutionEngine::GetBalances(
    const tickmesh::v1::GetBalancesRequest& request) const {
  std::lock_guard<std::mutex> lock(mu_);
  tickmesh::v1::GetBalancesResponse resp;
  for (auto& b : portfolio_.Balances(request.venue())) *resp.add_balances() = std::move(b);
  return resp;
}

absl::StatusOr<tickmesh::v1::KillSwitchState> ExecutionEngine::SetKillSwitch(
    const tickmesh::v1::SetKillSwitchRequest& request) {
  if (request.engaged() && absl::StripAsciiWhitespace(request.reason()).empty()) {
    return absl::InvalidArgumentError("reason is required when engaging the kill switch");
  }
  if (request.reason().size() > 1024) {
    return absl::InvalidArgumentError("reason must be at most 1024 bytes");
  }
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = NowUnixNs();
  if (!request.engaged()) {
    if (kill_.engaged()) {
      tickmesh::runtime::LogWarn("kill switch disengaged", {{"reason", request.reason()}});
    }
    kill_ = tickmesh::v1::KillSwitchState();
    kill_.set_since_unix_ns(now);
    kill_.set_reason(request.reason());
    return kill_;
  }
  if (!kill_.engaged()) kill_.set_since_unix_ns(now);
  kill_.set_engaged(true);
  kill_.set_reason(request.reason());
  std::vector<OrderEvent> events;
  uint32_t cancelled = 0;
  for (const std::string& id : orders_.OpenOrderIds()) {
    if (CancelLocked(id, &events).ok()) ++cancelled;
  }
  PublishLocked(&events);
  kill_.set_cancelled_orders(cancelled);
  tickmesh::runtime::LogWarn("kill switch engaged",
                             {{"reason", request.reason()}, {"cancelled_orders", cancelled}});
  return kill_;
}

ExecutionEngine::RestoreSummary ExecutionEngine::Restore(
    const std::vector<Order>& open_orders, const std::vector<tickmesh::v1::Position>& positions,
    const std::vector<tickmesh::v1::Balance>& balances) {
  std::lock_guard<std::mutex> lock(mu_);
  RestoreSummary sum;
  auto skip = [&](const std::string& what, const absl::Status& s) {
    ++sum.skipped;
    tickmesh::runtime::LogError("restore: record skipped",
                                {{"record", what}, {"error", s.ToString()}});
  };
  for (const auto& b : balances) {
    last_state_ns_ = std::max(last_state_ns_, b.updated_unix_ns());
    if (auto s = portfolio_.RestoreBalance(b); !s.ok()) {
      skip(absl::StrCat("balance ", b.venue(), ":", b.asset()), s);
      continue;
    }
    ++sum.balances;
  }
  const int64_t now = NowUnixNs();
  for (const auto& p : positions) {
    last_state_ns_ = std::max(last_state_ns_, p.updated_unix_ns());
    if (auto s = portfolio_.RestorePosition(p); !s.ok()) {
      skip(absl::StrCat("position ", p.venue(), ":", p.symbol()), s);
      continue;
    }
    ++sum.positions;
    metrics_->position_qty.Add({{"venue", p.venue()}, {"symbol", p.symbol()}})
        .Set(static_cast<double>(p.qty_e8()) / kE8);
    WriteCacheLocked(p.venue(), p.symbol(), now);
  }
  std::vector<OrderEvent> events;
  for (const Order& o : open_orders) {
    absl::Status s = ValidateRestoredOrder(o);
    if (s.ok()) s = orders_.Restore(o);
    if (!s.ok()) {
      skip(absl::StrCat("order ", o.order_id()), s);
      continue;
    }
    (void)portfolio_.EnsureInstrument(o.venue(), o.symbol());
    if (o.status() == tickmesh::v1::ORDER_STATUS_NEW) {
      (void)orders_.Reject(o.order_id(), "venue:unconfirmed_at_restart", now, &events);
      ++sum.closed_orders;
    } else if (venue_.RestoreResting(o)) {
      ++sum.open_orders;
    } else {
      (void)orders_.Cancel(o.order_id(), now, &events);
      ++sum.closed_orders;
    }
  }
  PublishLocked(&events);
  restored_ = sum;
  return sum;
}

absl::Status ExecutionEngine::ValidateRestoredOrder(const Order& o) {
  OrderRequest r;
  r.set_client_order_id(o.client_order_id());
  r.set_venue(o.venue());
  r.set_symbol(o.symbol());
  r.set_side(o.side());
  r.set_type(o.type());
  r.set_time_in_force(o.time_in_force());
  r.set_price_e8(o.price_e8());
  r.set_strategy(o.strategy());
  return ValidateRequest(r);
}

tickmesh::v1::KillSwitchState ExecutionEngine::kill_switch() const {
  std::lock_guard<std::mutex> lock(mu_);
  return kill_;
}

EventFanOut::Writer* ExecutionEngine::Subscribe(EventFilter filter) {
  return fanout_.Add(std::move(filter), options_.subscriber_queue);
}

void ExecutionEngine::CloseStreams() {
  fanout_.CloseAll(grpc::Status(grpc::StatusCode::UNAVAILABLE, "execution shutting down"));
}

void ExecutionEngine::SetEventObserver(
    std::function<void(const tickmesh::v1::OrderEventBatch&)> observer) {
  std::lock_guard<std::mutex> lock(mu_);
  observer_ = std::move(observer);
}

nlohmann::json ExecutionEngine::StatusJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json j;
  j["kill_switch"] = {{"engaged", kill_.engaged()},
                      {"reason", kill_.reason()},
                      {"since_unix_ns", kill_.since_unix_ns()},
                      {"cancelled_orders", kill_.cancelled_orders()}};
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& [status, n] : orders_.CountsByStatus()) counts[StatusLabel(status)] = n;
  j["orders_by_status"] = counts;
  j["open_orders"] = orders_.open_count();
  j["retained_orders"] = orders_.retained_count();
  j["outbox_depth"] = outbox_ != nullptr ? outbox_->depth() : 0;
  j["outbox_enabled"] = outbox_ != nullptr;
  j["positions"] = portfolio_.position_count();
  j["books"] = venue_.book_count();
  j["resting_orders"] = venue_.resting_count();
  j["event_subscribers"] = fanout_.size();
  j["book_errors"] = book_errors_;
  j["invalid_signals"] = invalid_signals_;
  nlohmann::json breakers = nlohmann::json::object();
  for (auto& [venue, b] : const_cast<std::map<std::string, CircuitBreaker>&>(breakers_)) {
    breakers[venue] = CircuitBreaker::Name(b.state(MonotonicNs()));
  }
  j["breakers"] = breakers;
  j["restored"] = {{"open_orders", restored_.open_orders},
                   {"closed_orders", restored_.closed_orders},
                   {"positions", restored_.positions},
                   {"balances", restored_.balances},
                   {"skipped", restored_.skipped}};
  return j;
}

}  // namespace tickmesh::execution
