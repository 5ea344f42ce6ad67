#include "execution_engine.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
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

// One labelled child of a metric family, looked up on first use and then kept: the label-map hash
// under the family's lock happens once, not once per event, and (as with a direct Family::Add) the
// series only appears once it is first used. Safe from any thread (Family::Add is idempotent).
template <typename T>
class LazyChild {
 public:
  LazyChild(prometheus::Family<T>& family, std::string name, std::string value)
      : family_(family), name_(std::move(name)), value_(std::move(value)) {}
  T& Get() {
    T* child = child_.load(std::memory_order_acquire);
    if (child == nullptr) {
      child = &family_.Add({{name_, value_}});
      child_.store(child, std::memory_order_release);
    }
    return *child;
  }

 private:
  prometheus::Family<T>& family_;
  const std::string name_, value_;
  std::atomic<T*> child_{nullptr};
};

// book_events_total{result}: index of each result.
enum BookResult : size_t {
  kBookOk,
  kBookGap,
  kBookStale,
  kBookOverflow,
  kBookInvalid,
  kBookResults
};
constexpr const char* kBookResultLabels[kBookResults] = {"ok", "gap", "stale", "overflow",
                                                         "invalid"};
// signals_total{result}: index of each result.
enum SignalResult : size_t {
  kSignalOrdered,
  kSignalDuplicate,
  kSignalRejected,
  kSignalError,
  kSignalInvalid,
  kSignalRateLimited,
  kSignalResults
};
constexpr const char* kSignalResultLabels[kSignalResults] = {
    "ordered", "duplicate", "rejected", "error", "invalid", "rate_limited"};

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
            "Market events (book, trade, ticker) applied or refused (ok, gap, stale, invalid, overflow)")),
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
                                 .Add({})),
        // A bounded retention structure exported as <base>_retained + <base>_retention_limit:
        // the load tester's soak judges memory growth only once such structures are full.
        terminal_retained(tickmesh::runtime::GaugeFamily(
                              MetricPrefix("execution") + "terminal_orders_retained",
                              "Terminal orders kept in memory (idempotency, GetOrder)")
                              .Add({})),
        terminal_retention_limit(
            tickmesh::runtime::GaugeFamily(
                MetricPrefix("execution") + "terminal_orders_retention_limit",
                "Most terminal orders kept in memory (--order_retention); oldest forgotten first")
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
  prometheus::Gauge& terminal_retained;
  prometheus::Gauge& terminal_retention_limit;

  // orders_total{status} for one status: the label lookup (hashing under the family's lock) is
  // done once per status, not once per published event.
  prometheus::Counter& OrdersWithStatus(tickmesh::v1::OrderStatus s) {
    const auto i = static_cast<size_t>(s);
    if (i >= orders_by_status.size()) return orders.Add({{"status", StatusLabel(s)}});
    prometheus::Counter* c = orders_by_status[i].load(std::memory_order_acquire);
    if (c == nullptr) {
      c = &orders.Add({{"status", StatusLabel(s)}});
      orders_by_status[i].store(c, std::memory_order_release);
    }
    return *c;
  }
  std::array<std::atomic<prometheus::Counter*>, 8> orders_by_status{};

  // Per-event label children, looked up once (see LazyChild).
  prometheus::Counter& BookEvents(BookResult r) { return book_events_by_result[r].Get(); }
  prometheus::Counter& Signals(SignalResult r) { return signals_by_result[r].Get(); }
  std::array<LazyChild<prometheus::Counter>, kBookResults> book_events_by_result{
      LazyChild<prometheus::Counter>(book_events, "result", kBookResultLabels[kBookOk]),
      LazyChild<prometheus::Counter>(book_events, "result", kBookResultLabels[kBookGap]),
      LazyChild<prometheus::Counter>(book_events, "result", kBookResultLabels[kBookStale]),
      LazyChild<prometheus::Counter>(book_events, "result", kBookResultLabels[kBookOverflow]),
      LazyChild<prometheus::Counter>(book_events, "result", kBookResultLabels[kBookInvalid])};
  std::array<LazyChild<prometheus::Counter>, kSignalResults> signals_by_result{
      LazyChild<prometheus::Counter>(signals, "result", kSignalResultLabels[kSignalOrdered]),
      LazyChild<prometheus::Counter>(signals, "result", kSignalResultLabels[kSignalDuplicate]),
      LazyChild<prometheus::Counter>(signals, "result", kSignalResultLabels[kSignalRejected]),
      LazyChild<prometheus::Counter>(signals, "result", kSignalResultLabels[kSignalError]),
      LazyChild<prometheus::Counter>(signals, "result", kSignalResultLabels[kSignalInvalid]),
      LazyChild<prometheus::Counter>(signals, "result", kSignalResultLabels[kSignalRateLimited])};

  // position_qty{venue, symbol}, looked up once per instrument (per fill otherwise). Callers hold
  // the engine lock (ApplyVenueFillLocked), which also guards this map.
  prometheus::Gauge& Position(const std::string& venue, const std::string& symbol) {
    auto& by_symbol = positions[venue];
    auto it = by_symbol.find(symbol);
    if (it == by_symbol.end()) {
      it = by_symbol.emplace(symbol, &position_qty.Add({{"venue", venue}, {"symbol", symbol}}))
               .first;
    }
    return *it->second;
  }
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, prometheus::Gauge*>> positions;
};

ExecutionEngine::ExecutionEngine(EngineOptions options, OutboxQueue* outbox, CachePut cache_put)
    : options_(options),
      outbox_(outbox),
      cache_put_(std::move(cache_put)),
      metrics_(std::make_unique<Metrics>()),
      fanout_([m = metrics_.get()](const EventFilter&) { m->subscriber_overflows.Increment(); }),
      orders_(options.orders),
      risk_(options.risk, options.strategy_risk, options.risk_day_reset_hour_utc,
            options.risk_clock),
      venue_(options.venue),
      paper_(&venue_, options.paper_clock),
      portfolio_(options.initial_quote_e8) {
  if (options_.risk_day_seed) {
    risk_.SeedAccountBaseline(options_.risk_day_seed->first, options_.risk_day_seed->second);
  }
  if (options_.risk_on_roll) risk_.SetOnRoll(options_.risk_on_roll);
  metrics_->terminal_retention_limit.Set(static_cast<double>(options.orders.terminal_retention));
  if (paper_.delayed()) paper_.StartArrivals([this] { OnPaperArrivals(); });
}

ExecutionEngine::~ExecutionEngine() {
  paper_.StopArrivals();
  StopVenues();
  CloseStreams();
}

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
  if (!tickmesh::v1::ExecAlgo_IsValid(r.algo())) {
    return absl::InvalidArgumentError("order.algo is not a known value");
  }
  if (r.algo() != tickmesh::v1::EXEC_ALGO_UNSPECIFIED &&
      r.algo() != tickmesh::v1::EXEC_ALGO_IMMEDIATE) {
    // Parents of TWAP / ICEBERG / LIQUIDITY_AWARE are run by the AlgoRunner (algos_runner.h),
    // which ExecutionGrpc routes them to after ValidateAlgoParent (algos_engine.h); the engine
    // itself only places immediate orders.
    return absl::UnimplementedError(absl::StrCat("order.algo: ",
                                                 tickmesh::v1::ExecAlgo_Name(r.algo()),
                                                 " parents are run by the algo runner, not by "
                                                 "ExecutionEngine::Submit"));
  }
  // The algorithms' own fields have no meaning on an immediate order.
  if (r.algo_duration_ms() != 0) {
    return absl::InvalidArgumentError(
        "order.algo_duration_ms is only valid with an execution algorithm");
  }
  if (r.display_qty_e8() != 0) {
    return absl::InvalidArgumentError("order.display_qty_e8 is only valid with EXEC_ALGO_ICEBERG");
  }
  if (r.max_impact_bps() != 0) {
    return absl::InvalidArgumentError(
        "order.max_impact_bps is only valid with EXEC_ALGO_LIQUIDITY_AWARE");
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
  // Only the engine (under mu_) enqueues places, so room seen here is still there below.
  VenueWorker* const remote = Remote(request.venue());
  if (remote != nullptr && !remote->HasRoom(VenueWorker::Call::kPlace)) {
    if (breaker != nullptr) breaker->Release();
    metrics_->resource_rejects.Add({{"reason", "venue_queue"}}).Increment();
    return absl::ResourceExhaustedError(absl::StrCat("venue queue full: ", request.venue()));
  }
  if (remote == nullptr && paper_.delayed() && !paper_.HasRoom()) {
    if (breaker != nullptr) breaker->Release();
    metrics_->resource_rejects.Add({{"reason", "paper_in_flight"}}).Increment();
    return absl::ResourceExhaustedError("paper venue: too many orders in flight");
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
  ctx.open_orders = static_cast<int64_t>(orders_.open_count());

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

  const RiskBook::Decision checked = risk_.Check(req, {ctx, &portfolio_}, RiskMarkLocked());
  const RiskDecision& decision = checked.decision;
  if (!decision.ok) {
    if (breaker != nullptr) breaker->Release();
    // Labels stay bounded: strategy is a configured name or "other".
    metrics_->risk_rejects
        .Add({{"rule", decision.rule}, {"scope", checked.scope}, {"strategy", *checked.pool}})
        .Increment();
    (void)orders_.Reject(order_id, decision.reason(), now, &events);
    PublishLocked(&events);
    return absl::FailedPreconditionError(decision.reason());
  }

  if (remote != nullptr) {
    // Live venue: the NEW order (event + outbox record) is published before the call is queued;
    // the worker applies the venue's answer later (OnVenueAnswer).
    const Order& order = orders_.Find(order_id)->order;
    RemoteOrder& ro = remote_orders_[order_id];
    ro.venue = req.venue();
    if (!remote->Enqueue(VenueWorker::Call::kPlace, order)) {  // stopped (drain)
      remote_orders_.erase(order_id);
      if (breaker != nullptr) breaker->Release();
      (void)orders_.Reject(order_id, "venue:error:stopped", now, &events);
      PublishLocked(&events);
      return absl::FailedPreconditionError("venue:error:stopped");
    }
    PublishLocked(&events);
    *resp.mutable_order() = orders_.Find(order_id)->order;
    return resp;
  }

  if (paper_.delayed()) {
    // Paper latency model: NEW now (room checked above); the answer follows when the order
    // reaches the book (OnPaperArrivals). The in-process venue cannot fail.
    (void)paper_.Send(orders_.Find(order_id)->order);
    RecordVenueCallLocked(req.venue(), breaker, true);
    PublishLocked(&events);
    *resp.mutable_order() = orders_.Find(order_id)->order;
    return resp;
  }

  const int64_t venue_start = MonotonicNs();
  absl::StatusOr<VenueOrderState> answer = paper_.Place(orders_.Find(order_id)->order);
  const int64_t after = NowUnixNs();
  if (!answer.ok()) {
    VenueOrderState rejected;
    rejected.status = VenueOrderStatus::kRejected;
    rejected.reason = absl::StrCat("venue:error:", answer.status().message());
    answer = std::move(rejected);
  }
  // Business rejections (no market, ...) are answers, not failures; errors and timeouts are.
  const bool venue_failed = absl::StartsWith(answer->reason, "venue:error") ||
                            absl::StartsWith(answer->reason, "venue:timeout") ||
                            MonotonicNs() - venue_start > options_.venue_timeout_ns;
  RecordVenueCallLocked(req.venue(), breaker, !venue_failed);
  if (answer->status == VenueOrderStatus::kRejected) {
    metrics_->venue_rejects.Add({{"reason", answer->reason}}).Increment();
    (void)orders_.Reject(order_id, answer->reason, after, &events);
    PublishLocked(&events);
    return absl::FailedPreconditionError(answer->reason);
  }
  ApplyVenueStateLocked(order_id, *answer, after, &events);
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

MarkFn ExecutionEngine::RiskMarkLocked() const {
  // Called only under mu_, by risk_ within the same locked section.
  return [this](const std::string& venue, const std::string& symbol)
             ABSL_NO_THREAD_SAFETY_ANALYSIS { return venue_.Mid(venue, symbol); };
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
  // A fill past the trading day's boundary belongs to the new day: baselines first.
  risk_.RollDay(portfolio_, RiskMarkLocked());
  if (auto s = portfolio_.ApplyFill(*fill); !s.ok()) {
    tickmesh::runtime::LogError("fill not applied to the portfolio",
                                {{"fill_id", fill->fill_id()}, {"error", s.ToString()}});
  }
  risk_.InvalidatePnl();
  const OrderRecord* rec = orders_.Find(vf.order_id);
  if (rec != nullptr) {
    if (auto s = risk_.OnFill(*fill, rec->order.strategy()); !s.ok()) {
      tickmesh::runtime::LogError("fill not applied to the strategy's risk ledger",
                                  {{"fill_id", fill->fill_id()}, {"error", s.ToString()}});
    }
  }
  if (rec != nullptr && rec->signal_recv_mono_ns != 0 &&
      rec->order.filled_qty_e8() == vf.qty_e8) {  // first fill of the order
    metrics_->signal_to_fill.Observe(static_cast<double>(MonotonicNs() - rec->signal_recv_mono_ns) /
                                     1e9);
  }
  metrics_->Position(fill->venue(), fill->symbol())
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
  // Built once and shared, not copied, by every subscriber that wants all of it.
  auto shared = std::make_shared<tickmesh::v1::OrderEventBatch>();
  tickmesh::v1::OrderEventBatch& batch = *shared;
  batch.mutable_events()->Reserve(static_cast<int>(events->size()));
  std::vector<tickmesh::v1::Record> records;
  records.reserve(events->size() * 3);
  for (OrderEvent& ev : *events) {
    Stamp(ev.mutable_trace(), "emit", emit_ns);
    const Order& o = ev.order();
    risk_.OnOrder(o);  // per-strategy open orders
    // orders_total counts orders reaching a status (a further partial fill is not a new status).
    const bool first_partial = ev.type() == tickmesh::v1::ORDER_EVENT_TYPE_FILL &&
                               o.status() == tickmesh::v1::ORDER_STATUS_PARTIALLY_FILLED &&
                               o.filled_qty_e8() == ev.fill().qty_e8();
    if (ev.type() != tickmesh::v1::ORDER_EVENT_TYPE_FILL || first_partial ||
        o.status() == tickmesh::v1::ORDER_STATUS_FILLED) {
      metrics_->OrdersWithStatus(o.status()).Increment();
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
  metrics_->terminal_retained.Set(
      static_cast<double>(orders_.retained_count() - orders_.open_count()));
  if (outbox_ != nullptr) {
    AppendStateRecordsLocked(&records);
    outbox_->Append(std::move(records));
  }
  if (observer_) observer_(batch);
  fanout_.PublishShared(
      std::move(shared),
      [](const EventFilter& f, const std::shared_ptr<const tickmesh::v1::OrderEventBatch>& all)
          -> std::shared_ptr<const tickmesh::v1::OrderEventBatch> {
        if (f.symbols.empty()) return all;
        auto out = std::make_shared<tickmesh::v1::OrderEventBatch>();
        for (const OrderEvent& ev : all->events()) {
          if (f.symbols.count(ev.order().symbol()) != 0) *out->add_events() = ev;
        }
        if (out->events_size() == 0) return nullptr;
        return out;
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
      metrics_->Signals(kSignalInvalid).Increment();
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
          metrics_->Signals(kSignalRateLimited).Increment();
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
  SignalResult label = kSignalOrdered;
  if (!result.ok()) {
    const bool rejected = result.status().code() == absl::StatusCode::kFailedPrecondition;
    label = rejected ? kSignalRejected : kSignalError;
    if (label == kSignalError) {
      tickmesh::runtime::WarnOnce(
          "execution-signal-order-error", "signal not turned into an order",
          {{"client_order_id", req.client_order_id()}, {"error", result.status().ToString()}});
    }
  } else if (result->duplicate()) {
    label = kSignalDuplicate;
  }
  metrics_->Signals(label).Increment();
}

std::vector<std::pair<std::string, std::string>> ExecutionEngine::OnMarketBatch(
    const tickmesh::v1::MarketEventBatch& batch) {
  std::vector<std::pair<std::string, std::string>> gapped;
  std::lock_guard<std::mutex> lock(mu_);
  risk_.InvalidatePnl();  // marks move with the books
  std::vector<VenueFill> fills;
  std::array<uint32_t, kBookResults> counted{};  // book_events_total, added once per batch
  for (const auto& ev : batch.events()) {
    if (!ev.has_snapshot() && !ev.has_delta() && !ev.has_trade() && !ev.has_ticker()) continue;
    absl::Status s = venue_.ApplyMarketEvent(ev, &fills);
    BookResult result = kBookOk;
    switch (s.code()) {
      case absl::StatusCode::kOk:
        break;
      case absl::StatusCode::kDataLoss:
        result = kBookGap;
        break;
      case absl::StatusCode::kFailedPrecondition:
        result = kBookStale;
        break;
      case absl::StatusCode::kResourceExhausted:
        result = kBookOverflow;
        break;
      default:
        result = kBookInvalid;
    }
    ++counted[result];
    if (s.code() == absl::StatusCode::kDataLoss) gapped.emplace_back(ev.venue(), ev.symbol());
    if (!s.ok()) {
      ++book_errors_;
      tickmesh::runtime::WarnOnce(absl::StrCat("execution-book-", kBookResultLabels[result]),
                                  "book event not applied",
                                  {{"venue", ev.venue()},
                                   {"symbol", ev.symbol()},
                                   {"seq", ev.seq()},
                                   {"error", s.ToString()}});
    } else if (ev.has_snapshot()) {
      (void)portfolio_.EnsureInstrument(ev.venue(), ev.symbol());  // fails for non BASE-QUOTE
    }
  }
  for (size_t r = 0; r < kBookResults; ++r) {
    if (counted[r] != 0) {
      metrics_->BookEvents(static_cast<BookResult>(r)).Increment(static_cast<double>(counted[r]));
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

void ExecutionEngine::OnPaperArrivals() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<OrderEvent> events;
  const int64_t now = NowUnixNs();
  for (const auto& [order, state] : paper_.TakeArrivals()) {
    ApplyVenueStateLocked(order.order_id(), state, now, &events);
  }
  PublishLocked(&events);
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
  if (VenueWorker* remote = Remote(rec->order.venue())) {
    // Live venue: the cancel goes out from the worker; CANCELLED follows as an event.
    RemoteOrder& ro = remote_orders_[order_id];
    ro.venue = rec->order.venue();
    if (!ro.cancel_pending) {
      if (!remote->Enqueue(VenueWorker::Call::kCancel, rec->order)) {
        metrics_->resource_rejects.Add({{"reason", "venue_queue"}}).Increment();
        return absl::ResourceExhaustedError(absl::StrCat("venue queue full: ", rec->order.venue()));
      }
      ro.cancel_pending = true;
    }
    return rec->order;
  }
  (void)paper_.Cancel(rec->order);
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

std::optional<tickmesh::v1::BookSnapshot> ExecutionEngine::BookSnapshot(const std::string& venue,
                                                                        const std::string& symbol,
                                                                        size_t depth) const {
  std::lock_guard<std::mutex> lock(mu_);
  const L2Book* book = venue_.Book(venue, symbol);
  if (book == nullptr || !book->usable()) return std::nullopt;
  tickmesh::v1::BookSnapshot out;
  for (const auto& [price, qty] : book->bids()) {
    if (static_cast<size_t>(out.bids_size()) >= depth) break;
    auto* l = out.add_bids();
    l->set_price_e8(price);
    l->set_qty_e8(qty);
  }
  for (const auto& [price, qty] : book->asks()) {
    if (static_cast<size_t>(out.asks_size()) >= depth) break;
    auto* l = out.add_asks();
    l->set_price_e8(price);
    l->set_qty_e8(qty);
  }
  return out;
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
  risk_.InvalidatePnl();  // restored positions
  risk_.ResetDay();       // baselines from the restored positions (or the stored seed)
  std::vector<OrderEvent> events;
  for (const Order& o : open_orders) {
    absl::Status s = ValidateRestoredOrder(o);
    if (s.ok()) s = orders_.Restore(o);
    if (!s.ok()) {
      skip(absl::StrCat("order ", o.order_id()), s);
      continue;
    }
    risk_.OnOrder(o);  // counts against its strategy's open orders until closed
    (void)portfolio_.EnsureInstrument(o.venue(), o.symbol());
    if (Remote(o.venue()) != nullptr) {
      // The venue knows what became of it: the worker's polls resolve it (a NEW order may have
      // reached the venue before the restart, so it is queried, not rejected).
      RemoteOrder& ro = remote_orders_[o.order_id()];
      ro.venue = o.venue();
      ro.place_pending = false;
      if (o.status() == tickmesh::v1::ORDER_STATUS_NEW) {
        ro.unconfirmed_mono = 1;  // long past: a "not found" is believed at once
        ro.unconfirmed_reason = "venue:unconfirmed_at_restart";
      }
      ++sum.open_orders;
    } else if (o.status() == tickmesh::v1::ORDER_STATUS_NEW) {
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

RiskBook::SeedSummary ExecutionEngine::RestoreStrategyLedgers(
    int64_t day, const std::vector<StrategyLedgerSeed>& seeds) {
  std::lock_guard<std::mutex> lock(mu_);
  return risk_.SeedStrategyLedgers(day, seeds, portfolio_);
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

absl::Status ExecutionEngine::CheckAlgoParent(const OrderRequest& parent) const {
  RiskLimits limits;
  limits.max_position_e8 = options_.risk.max_position_e8;
  std::lock_guard<std::mutex> lock(mu_);
  RiskContext ctx;
  ctx.kill_switch_engaged = kill_.engaged();
  ctx.position_e8 = portfolio_.PositionQty(parent.venue(), parent.symbol());
  ctx.open_same_side_e8 = orders_.OpenRemaining(parent.venue(), parent.symbol(), parent.side());
  const RiskDecision d = RiskEngine::Check(limits, parent, ctx);
  if (!d.ok) return absl::FailedPreconditionError(d.reason());
  return absl::OkStatus();
}

void ExecutionEngine::PublishParentEvents(std::vector<OrderEvent> events) {
  if (events.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (OrderEvent& ev : events) ev.set_seq(orders_.TakeSeq());
  PublishLocked(&events);
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
  {
    const MarkFn mark = RiskMarkLocked();
    risk_.RollDay(portfolio_, mark);
    nlohmann::json risk = {{"day_reset_hour_utc", options_.risk_day_reset_hour_utc},
                           {"daily_pnl_e8", risk_.AccountDailyPnl(portfolio_, mark)},
                           {"max_daily_loss_e8", risk_.account_limits().max_daily_loss_e8},
                           {"max_open_orders", risk_.account_limits().max_open_orders}};
    if (risk_.day()) risk["trading_day"] = *risk_.day();
    nlohmann::json pools = nlohmann::json::object();
    auto add_pool = [&](const std::string& pool) ABSL_NO_THREAD_SAFETY_ANALYSIS {
      pools[pool] = {{"open_orders", risk_.PoolOpenOrders(pool)},
                     {"daily_pnl_e8", risk_.PoolDailyPnl(pool, mark).value_or(0)}};
    };
    for (const auto& [name, limits] : risk_.strategy_limits().named) add_pool(name);
    if (risk_.strategy_limits().default_limits) add_pool("other");
    risk["strategies"] = std::move(pools);
    j["risk"] = std::move(risk);
  }
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
  j["paper_in_flight"] = venue_.in_flight_count();
  j["event_subscribers"] = fanout_.size();
  j["book_errors"] = book_errors_;
  j["invalid_signals"] = invalid_signals_;
  nlohmann::json breakers = nlohmann::json::object();
  for (auto& [venue, b] : const_cast<std::map<std::string, CircuitBreaker>&>(breakers_)) {
    breakers[venue] = CircuitBreaker::Name(b.state(MonotonicNs()));
  }
  j["breakers"] = breakers;
  nlohmann::json venues = nlohmann::json::object();
  for (const auto& [name, worker] : remote_) {
    const VenueWorker::Stats st = worker->stats();
    nlohmann::json v = {{"remote", true},
                        {"queued_calls", st.queued},
                        {"calls", st.calls},
                        {"polls", st.polls},
                        {"poll_errors", st.poll_errors},
                        {"polls_rate_limited", st.polls_rate_limited},
                        {"reconciled", st.reconciled}};
    size_t tracked = 0, unconfirmed = 0, cancelling = 0;
    for (const auto& [id, ro] : remote_orders_) {
      if (ro.venue != name) continue;
      ++tracked;
      unconfirmed += ro.unconfirmed_mono != 0 ? 1 : 0;
      cancelling += ro.cancel_pending ? 1 : 0;
    }
    v["open_orders"] = tracked;
    v["unconfirmed_orders"] = unconfirmed;
    v["cancel_pending"] = cancelling;
    auto it = remote_state_.find(name);
    if (it != remote_state_.end()) {
      v["foreign_open_orders"] = it->second.foreign_open_orders;
      v["balances_reconciled"] = it->second.balances_reconciled;
      v["call_errors"] = it->second.call_errors;
      v["last_error"] = it->second.last_error;
    }
    venues[name] = std::move(v);
  }
  j["live_venues"] = venues;
  j["restored"] = {{"open_orders", restored_.open_orders},
                   {"closed_orders", restored_.closed_orders},
                   {"positions", restored_.positions},
                   {"balances", restored_.balances},
                   {"skipped", restored_.skipped}};
  return j;
}

// ---- Remote (live) venues ----

namespace {

prometheus::Family<prometheus::Counter>& VenueCallsFamily() {
  return tickmesh::runtime::CounterFamily(
      MetricPrefix("execution") + "venue_calls_total",
      "Calls to live venues by venue, call (place, cancel, query, open_orders, balances) and "
      "result (ok, rejected, not_found, error, timeout)");
}
prometheus::Family<prometheus::Histogram>& VenueCallSecondsFamily() {
  return tickmesh::runtime::HistogramFamily(MetricPrefix("execution") + "venue_call_seconds",
                                            "Duration of live venue calls by venue and call");
}
prometheus::Family<prometheus::Gauge>& VenueOrdersFamily() {
  return tickmesh::runtime::GaugeFamily(
      MetricPrefix("execution") + "venue_orders",
      "Open orders on live venues by venue and state (pending = place not answered yet, "
      "unconfirmed = place outcome unknown, open, cancelling, foreign = open at the venue but "
      "unknown to execution)");
}

// Result label of a venue call; see venue.h for what each code means.
const char* CallResult(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk:
      return "ok";
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return "rejected";
    case absl::StatusCode::kNotFound:
      return "not_found";
    case absl::StatusCode::kDeadlineExceeded:
      return "timeout";
    default:
      return "error";
  }
}

// Whether a call outcome counts as a venue failure for the circuit breaker.
bool IsVenueFailure(const absl::Status& s, int64_t call_ns, int64_t timeout_ns) {
  if (call_ns > timeout_ns) return true;
  const std::string r = CallResult(s);
  return r == "error" || r == "timeout";
}

}  // namespace

VenueWorker* ExecutionEngine::Remote(const std::string& venue) const {
  auto it = remote_.find(venue);
  return it == remote_.end() ? nullptr : it->second.get();
}

absl::Status ExecutionEngine::AddRemoteVenue(std::unique_ptr<Venue> venue, RateLimiter* limiter,
                                             VenueWorker::Options options) {
  if (venue == nullptr || !venue->remote()) {
    return absl::InvalidArgumentError("AddRemoteVenue needs a remote venue");
  }
  if (venues_started_) return absl::FailedPreconditionError("venues already started");
  const std::string name = venue->name();
  if (remote_.count(name) != 0) {
    return absl::AlreadyExistsError(absl::StrCat("venue ", name, " registered twice"));
  }
  VenueWorker::Callbacks cb;
  cb.on_answer = [this, name](VenueWorker::Call call, const Order& order,
                              const absl::StatusOr<VenueOrderState>& answer, int64_t call_ns,
                              bool counted) {
    OnVenueAnswer(name, call, order, answer, call_ns, counted);
  };
  cb.has_open_orders = [this, name] { return HasTrackedOrders(name); };
  cb.on_open_orders = [this, name](const absl::StatusOr<std::vector<VenueOrderState>>& open,
                                   int64_t call_ns) {
    return OnVenueOpenOrders(name, open, call_ns);
  };
  cb.on_balances = [this, name](const absl::StatusOr<std::vector<VenueAssetBalance>>& b,
                                int64_t call_ns) { OnVenueBalances(name, b, call_ns); };
  {
    std::lock_guard<std::mutex> lock(mu_);
    remote_state_[name];
  }
  remote_.emplace(name,
                  std::make_unique<VenueWorker>(std::move(venue), limiter, options, std::move(cb)));
  return absl::OkStatus();
}

void ExecutionEngine::StartVenues() {
  venues_started_ = true;
  for (auto& [name, worker] : remote_) worker->Start();
}

std::vector<std::string> ExecutionEngine::WaitVenuesReconciled(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::vector<std::string> missing;
  for (auto& [name, worker] : remote_) {
    if (!worker->WaitReconciled(std::max(absl::ZeroDuration(), deadline - absl::Now()))) {
      missing.push_back(name);
    }
  }
  return missing;
}

void ExecutionEngine::StopVenues() {
  for (auto& [name, worker] : remote_) worker->Stop();
}

bool ExecutionEngine::HasTrackedOrders(const std::string& venue) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, ro] : remote_orders_) {
    if (ro.venue == venue && !ro.place_pending) return true;
  }
  return false;
}

void ExecutionEngine::RecordBackgroundCallLocked(const std::string& venue, bool success,
                                                 bool count_success) {
  if (success && !count_success) return;
  CircuitBreaker* breaker = BreakerLocked(venue);
  if (breaker == nullptr || breaker->state(MonotonicNs()) != CircuitBreaker::State::kClosed) {
    return;
  }
  RecordVenueCallLocked(venue, breaker, success);
}

void ExecutionEngine::ForgetIfTerminalLocked(const std::string& order_id) {
  const OrderRecord* rec = orders_.Find(order_id);
  if (rec == nullptr || OrderManager::IsTerminal(rec->order.status())) {
    remote_orders_.erase(order_id);
  }
}

void ExecutionEngine::ApplyVenueStateLocked(const std::string& order_id, const VenueOrderState& st,
                                            int64_t now, std::vector<OrderEvent>* events) {
  const OrderRecord* rec = orders_.Find(order_id);
  if (rec == nullptr || OrderManager::IsTerminal(rec->order.status())) return;
  if (st.status == VenueOrderStatus::kRejected) {
    if (rec->order.status() == tickmesh::v1::ORDER_STATUS_NEW) {
      // Label: the reason's kind ("venue:rejected", "venue:error", ...), never the venue's text.
      const size_t colon = st.reason.find(':', st.reason.find(':') + 1);
      metrics_->venue_rejects.Add({{"reason", st.reason.substr(0, colon)}}).Increment();
      (void)orders_.Reject(order_id, st.reason, now, events);
    } else {
      (void)orders_.Cancel(order_id, now, events);  // an acked order cannot be rejected
    }
    ForgetIfTerminalLocked(order_id);
    return;
  }
  if (rec->order.status() == tickmesh::v1::ORDER_STATUS_NEW) {
    if (auto s = orders_.Ack(order_id, st.venue_order_id, now, events); !s.ok()) {
      tickmesh::runtime::LogError("ack failed", {{"order_id", order_id}, {"error", s.ToString()}});
    }
    metrics_->submit_to_ack.Observe(static_cast<double>(MonotonicNs() - rec->submit_mono_ns) / 1e9);
  }
  if (st.inferred) {
    tickmesh::runtime::LogWarn("live order state inferred (venue cannot look it up)",
                               {{"order_id", order_id},
                                {"venue", rec->order.venue()},
                                {"state", VenueOrderStatusName(st.status)}});
  }
  if (!st.fills.empty()) {
    for (const VenueFill& vf : st.fills) ApplyVenueFillLocked(vf, now, events);
    if (VenueWorker* w = Remote(rec->order.venue())) w->RefreshBalancesSoon();
  } else if (st.filled_qty_e8 > rec->order.filled_qty_e8()) {
    // Cumulative figures from a live venue: the new part is one fill at the price that makes
    // the order's average the venue's average.
    const Order& o = rec->order;
    const int64_t qty = std::min(st.filled_qty_e8, o.qty_e8()) - o.filled_qty_e8();
    int64_t price = st.avg_price_e8 > 0 ? st.avg_price_e8 : o.price_e8();
    if (st.avg_price_e8 > 0 && o.filled_qty_e8() > 0 && o.avg_fill_price_e8() > 0) {
      const __int128 venue_quote =
          static_cast<__int128>(st.avg_price_e8) * std::min(st.filled_qty_e8, o.qty_e8());
      const __int128 our_quote = static_cast<__int128>(o.avg_fill_price_e8()) * o.filled_qty_e8();
      const __int128 p = (venue_quote - our_quote) / qty;
      if (p > 0 && p <= INT64_MAX) price = static_cast<int64_t>(p);
    }
    if (qty > 0 && price > 0) {
      VenueFill vf;
      vf.order_id = order_id;
      vf.price_e8 = price;
      vf.qty_e8 = qty;
      vf.liquidity = tickmesh::v1::LIQUIDITY_UNSPECIFIED;
      // The venue's cumulative fee (when it reports one) less what earlier fills recorded.
      if (st.fee_known && st.fee_e8 > o.fee_e8()) {
        vf.fee_e8 = st.fee_e8 - o.fee_e8();
        vf.fee_asset = st.fee_asset;
      }
      ApplyVenueFillLocked(vf, now, events);
      if (VenueWorker* w = Remote(o.venue())) w->RefreshBalancesSoon();
    } else {
      tickmesh::runtime::WarnOnce("execution-venue-fill-no-price",
                                  "venue reported a fill without a usable price; not applied",
                                  {{"order_id", order_id}, {"venue", rec->order.venue()}});
    }
  }
  rec = orders_.Find(order_id);
  if (rec == nullptr || OrderManager::IsTerminal(rec->order.status())) {
    ForgetIfTerminalLocked(order_id);
    return;
  }
  switch (st.status) {
    case VenueOrderStatus::kCancelled:
      (void)orders_.Cancel(order_id, now, events);
      break;
    case VenueOrderStatus::kExpired:
      (void)orders_.Expire(order_id, now, events);
      break;
    case VenueOrderStatus::kFilled:
      // Filled at the venue but not fully here: the venue's cumulative figures were missing.
      tickmesh::runtime::WarnOnce("execution-venue-filled-short",
                                  "venue reports an order filled beyond the fills it reported",
                                  {{"order_id", order_id}, {"venue", rec->order.venue()}});
      break;
    case VenueOrderStatus::kOpen:
    case VenueOrderStatus::kRejected:
      break;
  }
  ForgetIfTerminalLocked(order_id);
}

void ExecutionEngine::OnVenueAnswer(const std::string& venue, VenueWorker::Call call,
                                    const Order& order,
                                    const absl::StatusOr<VenueOrderState>& answer, int64_t call_ns,
                                    bool counted) {
  const char* call_name = VenueWorker::CallName(call);
  VenueCallsFamily()
      .Add({{"venue", venue}, {"call", call_name}, {"result", CallResult(answer.status())}})
      .Increment();
  VenueCallSecondsFamily()
      .Add({{"venue", venue}, {"call", call_name}}, tickmesh::runtime::LatencyBuckets())
      .Observe(static_cast<double>(call_ns) / 1e9);
  const bool failed = IsVenueFailure(answer.status(), call_ns, options_.venue_timeout_ns);
  std::lock_guard<std::mutex> lock(mu_);
  const std::string& id = order.order_id();
  RemoteVenueState& vs = remote_state_[venue];
  if (!answer.ok()) {
    ++vs.call_errors;
    vs.last_error = std::string(answer.status().message()).substr(0, 256);
  }
  std::vector<OrderEvent> events;
  const int64_t now = NowUnixNs();
  auto rit = remote_orders_.find(id);
  switch (call) {
    case VenueWorker::Call::kPlace: {
      if (counted) {
        RecordVenueCallLocked(venue, BreakerLocked(venue), !failed);
      } else if (CircuitBreaker* b = BreakerLocked(venue)) {
        b->Release();  // its batch's outcome was recorded with the batch's first order
      }
      if (rit == remote_orders_.end()) break;  // already closed (e.g. cancelled while queued)
      rit->second.place_pending = false;
      if (answer.ok()) {
        ApplyVenueStateLocked(id, *answer, now, &events);
        break;
      }
      const std::string result = CallResult(answer.status());
      if (result == "rejected") {
        VenueOrderState st;
        st.status = VenueOrderStatus::kRejected;
        st.reason = absl::StrCat("venue:rejected:", answer.status().message());
        ApplyVenueStateLocked(id, st, now, &events);
      } else if (answer.status().code() == absl::StatusCode::kPermissionDenied ||
                 answer.status().code() == absl::StatusCode::kUnauthenticated ||
                 answer.status().code() == absl::StatusCode::kResourceExhausted ||
                 answer.status().code() == absl::StatusCode::kInvalidArgument) {
        // Refused before it reached the book (credentials, rate limit): never placed.
        VenueOrderState st;
        st.status = VenueOrderStatus::kRejected;
        st.reason = absl::StrCat("venue:error:", answer.status().message());
        ApplyVenueStateLocked(id, st, now, &events);
      } else {
        // Outcome unknown: the venue may hold the order. Keep it NEW; polls resolve it.
        rit->second.unconfirmed_mono = MonotonicNs();
        rit->second.unconfirmed_reason = absl::StrCat(
            result == "timeout" ? "venue:timeout:" : "venue:error:", answer.status().message());
        tickmesh::runtime::LogWarn(
            "live order outcome unknown; resolving with the venue",
            {{"venue", venue}, {"order_id", id}, {"error", answer.status().ToString()}});
        if (VenueWorker* w = Remote(venue)) w->PollSoon();
      }
      break;
    }
    case VenueWorker::Call::kCancel: {
      if (call_ns > 0 && counted) {
        RecordBackgroundCallLocked(venue, !failed, /*count_success=*/true);
      }
      if (rit != remote_orders_.end()) rit->second.cancel_pending = false;
      if (answer.ok()) {
        if (rit != remote_orders_.end() && rit->second.place_pending &&
            answer->status == VenueOrderStatus::kCancelled && call_ns == 0) {
          // Cancelled before its place was sent: the breaker slot Submit took is returned.
          if (CircuitBreaker* b = BreakerLocked(venue)) b->Release();
        }
        ApplyVenueStateLocked(id, *answer, now, &events);
      } else if (answer.status().code() == absl::StatusCode::kNotFound) {
        // Not open at the venue any more (filled or cancelled meanwhile): the poll finds out.
        if (VenueWorker* w = Remote(venue)) w->PollSoon();
      } else {
        tickmesh::runtime::WarnOnce("execution-live-cancel-failed", "live cancel failed",
                                    {{"venue", venue}, {"error", answer.status().ToString()}});
      }
      break;
    }
    case VenueWorker::Call::kQuery: {
      RecordBackgroundCallLocked(venue, !failed, /*count_success=*/false);
      if (rit == remote_orders_.end()) break;
      if (answer.ok()) {
        rit->second.unconfirmed_mono = 0;
        ApplyVenueStateLocked(id, *answer, now, &events);
      } else if (answer.status().code() == absl::StatusCode::kNotFound) {
        const OrderRecord* rec = orders_.Find(id);
        if (rec == nullptr) break;
        if (rec->order.status() == tickmesh::v1::ORDER_STATUS_NEW) {
          // Never reached the venue — believed once the grace period after the place is over.
          if (rit->second.unconfirmed_mono != 0 &&
              MonotonicNs() - rit->second.unconfirmed_mono >= options_.unconfirmed_grace_ns) {
            VenueOrderState st;
            st.status = VenueOrderStatus::kRejected;
            st.reason = rit->second.unconfirmed_reason.empty() ? "venue:error:not_at_venue"
                                                               : rit->second.unconfirmed_reason;
            ApplyVenueStateLocked(id, st, now, &events);
          }
        } else {
          tickmesh::runtime::WarnOnce("execution-live-order-vanished",
                                      "acked live order unknown to the venue",
                                      {{"venue", venue}, {"order_id", id}});
        }
      } else if (answer.status().code() == absl::StatusCode::kUnimplemented) {
        tickmesh::runtime::WarnOnce(
            "execution-live-query-unimplemented",
            "venue cannot look up closed orders; order left open until the venue lists it",
            {{"venue", venue}, {"order_id", id}, {"error", answer.status().ToString()}});
      }
      break;
    }
  }
  PublishLocked(&events);
}

std::vector<Order> ExecutionEngine::OnVenueOpenOrders(
    const std::string& venue, const absl::StatusOr<std::vector<VenueOrderState>>& open,
    int64_t call_ns) {
  VenueCallsFamily()
      .Add({{"venue", venue}, {"call", "open_orders"}, {"result", CallResult(open.status())}})
      .Increment();
  VenueCallSecondsFamily()
      .Add({{"venue", venue}, {"call", "open_orders"}}, tickmesh::runtime::LatencyBuckets())
      .Observe(static_cast<double>(call_ns) / 1e9);
  const bool failed = IsVenueFailure(open.status(), call_ns, options_.venue_timeout_ns);
  std::vector<Order> missing;
  std::lock_guard<std::mutex> lock(mu_);
  RecordBackgroundCallLocked(venue, !failed, /*count_success=*/false);
  RemoteVenueState& vs = remote_state_[venue];
  if (!open.ok()) {
    ++vs.call_errors;
    vs.last_error = std::string(open.status().message()).substr(0, 256);
    tickmesh::runtime::WarnOnce(absl::StrCat("execution-live-poll-", venue),
                                "live venue open orders poll failed",
                                {{"venue", venue}, {"error", open.status().ToString()}});
    return missing;
  }
  // The venue's client order id is execution's order id (see LiveVenue).
  std::unordered_map<std::string, const VenueOrderState*> by_id;
  for (const VenueOrderState& st : *open) by_id[st.client_order_id] = &st;
  std::vector<OrderEvent> events;
  const int64_t now = NowUnixNs();
  size_t pending = 0, unconfirmed = 0, open_n = 0, cancelling = 0;
  std::vector<std::string> ids;
  for (const auto& [id, ro] : remote_orders_) {
    if (ro.venue == venue) ids.push_back(id);
  }
  for (const std::string& id : ids) {
    auto rit = remote_orders_.find(id);
    if (rit == remote_orders_.end()) continue;
    if (rit->second.place_pending) continue;  // its place answer comes first
    const OrderRecord* rec = orders_.Find(id);
    if (rec == nullptr) {
      remote_orders_.erase(rit);
      continue;
    }
    auto it = by_id.find(id);
    if (it != by_id.end()) {
      rit->second.unconfirmed_mono = 0;
      VenueOrderState st = *it->second;
      st.status = VenueOrderStatus::kOpen;
      ApplyVenueStateLocked(id, st, now, &events);
      by_id.erase(it);
    } else {
      missing.push_back(rec->order);
    }
  }
  for (const auto& [id, ro] : remote_orders_) {
    if (ro.venue != venue) continue;
    if (ro.place_pending) {
      ++pending;
    } else if (ro.unconfirmed_mono != 0) {
      ++unconfirmed;
    } else if (ro.cancel_pending) {
      ++cancelling;
    } else {
      ++open_n;
    }
  }
  // What is left is open at the venue but not execution's: reported, not adopted (another system
  // or a person may own it; execution never manages orders it did not place).
  vs.foreign_open_orders = by_id.size();
  for (const auto& [cid, st] : by_id) {
    if (vs.reported_foreign.size() >= 10'000 || !vs.reported_foreign.insert(cid).second) continue;
    tickmesh::runtime::LogWarn("open order at the venue unknown to execution (not adopted)",
                               {{"venue", venue},
                                {"client_order_id", cid},
                                {"venue_order_id", st->venue_order_id},
                                {"symbol", st->symbol},
                                {"qty_e8", st->qty_e8},
                                {"price_e8", st->price_e8}});
  }
  auto& g = VenueOrdersFamily();
  g.Add({{"venue", venue}, {"state", "pending"}}).Set(static_cast<double>(pending));
  g.Add({{"venue", venue}, {"state", "unconfirmed"}}).Set(static_cast<double>(unconfirmed));
  g.Add({{"venue", venue}, {"state", "open"}}).Set(static_cast<double>(open_n));
  g.Add({{"venue", venue}, {"state", "cancelling"}}).Set(static_cast<double>(cancelling));
  g.Add({{"venue", venue}, {"state", "foreign"}}).Set(static_cast<double>(by_id.size()));
  PublishLocked(&events);
  return missing;
}

void ExecutionEngine::OnVenueBalances(
    const std::string& venue, const absl::StatusOr<std::vector<VenueAssetBalance>>& balances,
    int64_t call_ns) {
  VenueCallsFamily()
      .Add({{"venue", venue}, {"call", "balances"}, {"result", CallResult(balances.status())}})
      .Increment();
  VenueCallSecondsFamily()
      .Add({{"venue", venue}, {"call", "balances"}}, tickmesh::runtime::LatencyBuckets())
      .Observe(static_cast<double>(call_ns) / 1e9);
  const bool failed = IsVenueFailure(balances.status(), call_ns, options_.venue_timeout_ns);
  std::lock_guard<std::mutex> lock(mu_);
  RecordBackgroundCallLocked(venue, !failed, /*count_success=*/false);
  RemoteVenueState& vs = remote_state_[venue];
  if (!balances.ok()) {
    ++vs.call_errors;
    vs.last_error = std::string(balances.status().message()).substr(0, 256);
    tickmesh::runtime::WarnOnce(absl::StrCat("execution-live-balances-", venue),
                                "live venue balances poll failed",
                                {{"venue", venue}, {"error", balances.status().ToString()}});
    return;
  }
  // The venue is the source of truth: its balances replace execution's for that venue, and are
  // written to the cache and persistence like any balance change.
  const int64_t now = NowUnixNs();
  std::vector<tickmesh::v1::Record> records;
  for (const VenueAssetBalance& vb : *balances) {
    tickmesh::v1::Balance b;
    b.set_venue(venue);
    b.set_asset(vb.asset);
    b.set_total_e8(vb.total_e8);
    b.set_available_e8(vb.available_e8);
    const tickmesh::v1::Balance before = portfolio_.GetBalance(venue, vb.asset);
    if (before.total_e8() == vb.total_e8 && before.available_e8() == vb.available_e8 &&
        vs.balances_reconciled) {
      continue;
    }
    b.set_updated_unix_ns(NextStateNsLocked(now));
    if (auto s = portfolio_.RestoreBalance(b); !s.ok()) {
      tickmesh::runtime::WarnOnce("execution-live-balance-refused", "venue balance not applied",
                                  {{"venue", venue}, {"asset", vb.asset}, {"error", s.ToString()}});
      continue;
    }
    if (cache_put_) {
      cache_put_(absl::StrCat("balance:", venue, ":", vb.asset), b.SerializeAsString());
    }
    if (outbox_ != nullptr) *records.emplace_back().mutable_balance() = std::move(b);
  }
  vs.balances_reconciled = true;
  if (outbox_ != nullptr && !records.empty()) outbox_->Append(std::move(records));
}

}  // namespace tickmesh::execution
