// ExecutionEngine: execution's logic without gRPC — signals and API requests become orders, pass
// pre-trade risk, go to a venue (the paper venue, or a live venue through its VenueWorker), and
// their fills update positions and balances. Every
// order change is published as an OrderEvent to StreamOrderEvents subscribers and appended to the
// persistence outbox; balances and positions after each fill go to the cache writer.
//
// Threading: every public method is thread-safe; one engine mutex serialises the state (orders,
// venue books, portfolio, kill switch). Nothing under the mutex does network I/O: publishing
// pushes onto bounded subscriber queues (runtime::FanOut), the outbox is an in-memory queue drained
// by its own thread, the cache writer conflates in memory. Event seq numbers are therefore
// assigned and published in the same order.
//
// Venues (venue.h): the paper venue is in-process and answers under the mutex, so Submit returns
// its verdict (ACKED / FILLED / REJECTED ...). A remote (live) venue registered with
// AddRemoteVenue is called only from its VenueWorker thread: Submit records the order NEW (event
// + outbox record appended before the venue call is even queued), returns it as NEW, and the
// ack / fills / rejection follow as events when the worker applies the venue's answer through the
// engine. Cancel of a live order likewise returns the order as it is and CANCELLED follows.
//
// Example:
//   OutboxQueue outbox({});
//   ExecutionEngine engine(options, &outbox, nullptr);
//   engine.OnMarketBatch(books);                 // from market-data
//   auto resp = engine.Submit(request);          // from the gRPC Submit handler
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fixed_point.h"
#include "nlohmann/json.hpp"
#include "order_manager.h"
#include "outbox.h"
#include "paper_venue.h"
#include "paper_venue_adapter.h"
#include "portfolio.h"
#include "rate_limit.h"
#include "risk.h"
#include "tickmesh/runtime/stream.h"
#include "tickmesh/v1/execution.pb.h"
#include "tickmesh/v1/market_data.pb.h"
#include "tickmesh/v1/signal.pb.h"
#include "venue.h"
#include "venue_worker.h"

namespace tickmesh::execution {

struct EngineOptions {
  // Account-wide pre-trade limits (risk.h).
  RiskLimits risk;
  // Per-strategy limits over each strategy's own orders and fills (risk.h, RiskBook).
  StrategyLimits strategy_risk;
  // The trading day of max_daily_loss starts at this hour (UTC, 0..23).
  int risk_day_reset_hour_utc = 0;
  // Unix ns for the trading day; null = the wall clock (tests inject one).
  std::function<int64_t()> risk_clock;
  // Restart: the account's daily-loss baseline stored for a trading day (RiskBook::
  // SeedAccountBaseline), and where each new day's baseline goes (RiskBook::SetOnRoll; called
  // under the engine mutex, once per trading day).
  std::optional<std::pair<int64_t, int64_t>> risk_day_seed;
  std::function<void(int64_t day, int64_t account_baseline_e8)> risk_on_roll;
  PaperVenue::Options venue;
  OrderManager::Options orders;
  // Starting balance of each quote asset per venue.
  int64_t initial_quote_e8 = 1'000'000 * kE8;
  // Batches queued per StreamOrderEvents subscriber before it is ended with RESOURCE_EXHAUSTED.
  size_t subscriber_queue = 4096;
  // Per-venue circuit breaker over venue calls (disabled: never refuses). A venue call fails
  // when the venue answers "venue:error..." / "venue:timeout..." (live adapters) or takes longer
  // than venue_timeout_ns; business rejections such as venue:no_market are not failures.
  bool breaker_enabled = true;
  CircuitBreaker::Options breaker;
  int64_t venue_timeout_ns = 1'000'000'000;
  // Live venues: a place whose outcome is unknown (transport error, timeout) stays NEW until the
  // venue lists or finds the order; "not found" answers are only believed this long after the
  // place call (the request may still be on its way), then the order is REJECTED.
  int64_t unconfirmed_grace_ns = 10'000'000'000;
  // Monotonic ns clock of the paper venue's latency model (venue.ack_latency_ns /
  // ack_jitter_ns); empty = steady clock. Tests inject one.
  ClockFn paper_clock;
};

// Per-subscriber state of StreamOrderEvents.
struct EventFilter {
  std::set<std::string> symbols;  // empty = all
  std::string subscriber;
};

using EventFanOut = tickmesh::runtime::FanOut<tickmesh::v1::OrderEventBatch, EventFilter>;

// Writes the latest value of a cache key (balance:<venue>:<asset>, position:<venue>:<symbol>) as
// serialised protobuf bytes. Must not block.
using CachePut = std::function<void(std::string key, std::string value)>;

class ExecutionEngine {
 public:
  // `outbox` and `cache_put` may be null / empty (persistence / cache disabled). `outbox` must
  // outlive the engine.
  ExecutionEngine(EngineOptions options, OutboxQueue* outbox, CachePut cache_put);
  ~ExecutionEngine();

  // OK or INVALID_ARGUMENT naming the field ("order.symbol: symbol must be BASE-QUOTE", ...);
  // UNIMPLEMENTED for an execution algorithm other than IMMEDIATE. qty is not checked here: a
  // non-positive qty is the risk rule "qty".
  static absl::Status ValidateRequest(const tickmesh::v1::OrderRequest& request);
  // The same checks for an order read back from persistence (ids, symbol, side, type, price).
  static absl::Status ValidateRestoredOrder(const tickmesh::v1::Order& order);

  // Places an order (Submit RPC). Errors: INVALID_ARGUMENT / UNIMPLEMENTED (see ValidateRequest;
  // nothing recorded), RESOURCE_EXHAUSTED "outbox full" or "open orders limit" (nothing
  // recorded), FAILED_PRECONDITION "<risk:rule|venue:reason>" (the order is recorded REJECTED and
  // an event emitted). A known client_order_id returns the existing order with duplicate = true —
  // or, if that order was rejected, the same FAILED_PRECONDITION again.
  // UNAVAILABLE "breaker:<venue> open" while that venue's circuit breaker refuses calls (nothing
  // recorded). `arrival_mono_ns` (0 = now) is when the request arrived, before any rate-limit
  // wait, for submit_to_ack_seconds.
  absl::StatusOr<tickmesh::v1::SubmitOrderResponse> Submit(
      const tickmesh::v1::OrderRequest& request, int64_t arrival_mono_ns = 0);

  // Rate limits for signal orders (API orders are admitted by the gRPC layer through the same
  // queue). Null = no limits. Must outlive the engine; set before signals flow.
  void SetAdmission(AdmissionQueue* admission) { admission_ = admission; }

  // Turns each signal into a MARKET order (client_order_id "sig-<signal_id>"); invalid signals
  // and rejections are counted, never thrown back. Stamps {execution, recv} on arrival.
  void OnSignalBatch(const tickmesh::v1::SignalBatch& batch);

  // Applies book events (other kinds are ignored) and fills resting orders they cross. Returns
  // the (venue, symbol) books that hit a sequence gap and are stale until a snapshot arrives
  // (the caller may fetch one with MarketDataService.GetBook and pass it to ApplyBook).
  std::vector<std::pair<std::string, std::string>> OnMarketBatch(
      const tickmesh::v1::MarketEventBatch& batch);
  // Applies a GetBook answer as a snapshot of that book (resync after a gap).
  void ApplyBook(const tickmesh::v1::GetBookResponse& book);
  // Market-data stream lost: every book becomes stale (no fills until fresh snapshots).
  void OnMarketDataDisconnected();

  // Cancel RPC: INVALID_ARGUMENT without a ref, NOT_FOUND for an unknown order,
  // FAILED_PRECONDITION when the order is already terminal.
  absl::StatusOr<tickmesh::v1::Order> Cancel(const tickmesh::v1::OrderRef& ref);
  absl::StatusOr<tickmesh::v1::Order> GetOrder(const tickmesh::v1::OrderRef& ref) const;
  // Newest first. INVALID_ARGUMENT for page.limit > 10000, a bad page.page_token or an unknown
  // status value.
  absl::StatusOr<tickmesh::v1::ListOrdersResponse> ListOrders(
      const tickmesh::v1::ListOrdersRequest& request) const;
  // The (venue, symbol) book as market-data last gave it, up to `depth` levels per side best
  // first; nullopt when unknown or unusable (stale). For the algo runner's liquidity sizing.
  std::optional<tickmesh::v1::BookSnapshot> BookSnapshot(const std::string& venue,
                                                         const std::string& symbol,
                                                         size_t depth) const;
  // Positions marked at the current mid (when the book is usable).
  tickmesh::v1::GetPositionsResponse GetPositions(
      const tickmesh::v1::GetPositionsRequest& request) const;
  tickmesh::v1::GetBalancesResponse GetBalances(
      const tickmesh::v1::GetBalancesRequest& request) const;

  // Engaging (reason required, else INVALID_ARGUMENT "reason") cancels every open order and makes
  // risk reject new ones ("risk:kill_switch") until disengaged.
  absl::StatusOr<tickmesh::v1::KillSwitchState> SetKillSwitch(
      const tickmesh::v1::SetKillSwitchRequest& request);
  tickmesh::v1::KillSwitchState kill_switch() const;

  // A new StreamOrderEvents subscriber; return the writer from the RPC handler.
  EventFanOut::Writer* Subscribe(EventFilter filter);
  // Ends every event stream (drain).
  void CloseStreams();

  // Routes orders of venue `venue->name()` to that remote venue through a VenueWorker (see
  // venue_worker.h). Call before Restore / StartVenues and before serving. `limiter` (may be
  // null) charges the worker's query requests (RequestClass::kQueryOrder .. kBalances, each with
  // its endpoint's cost). INVALID_ARGUMENT for a venue that is
  // not remote(), ALREADY_EXISTS for a name registered twice, FAILED_PRECONDITION after
  // StartVenues.
  absl::Status AddRemoteVenue(std::unique_ptr<Venue> venue, RateLimiter* limiter,
                              VenueWorker::Options options);
  // Starts every venue worker; each first reconciles with its venue (balances replace the
  // engine's balances of that venue; open orders update known orders, unknown ones are reported,
  // not adopted).
  void StartVenues();
  // Waits up to `timeout` for every worker's start-up reconciliation; returns the venues that did
  // not complete it (empty = all done).
  std::vector<std::string> WaitVenuesReconciled(absl::Duration timeout);
  // Stops the workers (joins them; queued venue calls are dropped, see venue_worker.h).
  // Idempotent; the destructor calls it.
  void StopVenues();
  // True for a venue registered with AddRemoteVenue.
  bool IsRemoteVenue(const std::string& venue) const { return remote_.count(venue) != 0; }

  // Restart reconciliation (call before serving): adopts state read back from persistence.
  // Balances first, then positions, then open orders: a LIMIT GTC order that was ACKED or
  // PARTIALLY_FILLED rests on the paper venue again; any other ACKED/PARTIALLY_FILLED order
  // (MARKET, IOC, FOK: its immediate part is over) is CANCELLED; a NEW order (never confirmed
  // by the venue before the restart) is REJECTED "venue:unconfirmed_at_restart". Orders of a
  // remote venue all stay open (NEW ones as unconfirmed): their venue worker resolves them
  // against the venue (open orders, then per-order queries). Those
  // closings emit events (persisted through the outbox). Malformed records are skipped, logged
  // and counted in `skipped`. Positions and balances are also written to the cache.
  struct RestoreSummary {
    size_t open_orders = 0;    // adopted open (resting) orders
    size_t closed_orders = 0;  // adopted then cancelled / rejected
    size_t positions = 0;
    size_t balances = 0;
    size_t skipped = 0;
  };
  RestoreSummary Restore(const std::vector<tickmesh::v1::Order>& open_orders,
                         const std::vector<tickmesh::v1::Position>& positions,
                         const std::vector<tickmesh::v1::Balance>& balances);
  // Restart reconciliation, after Restore: rebuilds the per-strategy risk ledgers of trading day
  // `day` from persisted fills (RiskBook::SeedStrategyLedgers; the account portfolio, restored by
  // then, gives carried positions their entry price).
  RiskBook::SeedSummary RestoreStrategyLedgers(int64_t day,
                                               const std::vector<StrategyLedgerSeed>& seeds);

  // Whole-parent pre-check of an execution-algorithm parent (TWAP / ICEBERG / LIQUIDITY_AWARE),
  // before the runner accepts it: the kill switch, and the account's max_position with the
  // parent's full quantity (position + open same-side orders + the parent's qty), so a parent
  // that could not complete within the limit is refused before any child trades. The per-order
  // rules (qty, notional, price band, open orders) and per-strategy limits stay per child: a
  // parent is larger than its children by design. OK, or FAILED_PRECONDITION "risk:kill_switch"
  // / "risk:max_position" (nothing recorded, no event).
  absl::Status CheckAlgoParent(const tickmesh::v1::OrderRequest& parent) const;

  // Publishes events of orders the engine does not hold — the parents of execution algorithms
  // (AlgoRunner's parent_event) — through the same path as the engine's own: each gets the
  // engine's next event seq, then {execution, emit} stamp, outbox (Order + OrderEvent records,
  // so parents are persisted), observer and StreamOrderEvents subscribers. Never blocks on I/O.
  void PublishParentEvents(std::vector<tickmesh::v1::OrderEvent> events);

  // Called with every published batch, under the engine mutex (tests, taps). Must not block.
  void SetEventObserver(std::function<void(const tickmesh::v1::OrderEventBatch&)> observer);

  // /status fields.
  nlohmann::json StatusJson() const;

 private:
  struct Metrics;

  absl::StatusOr<tickmesh::v1::SubmitOrderResponse> SubmitLocked(
      const tickmesh::v1::OrderRequest& request, const tickmesh::v1::Trace& trace,
      int64_t submit_mono_ns, int64_t signal_recv_mono_ns) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Marks positions for risk's daily PnL: the mid of the (venue, symbol) book when usable. The
  // function must be used only while mu_ is held.
  MarkFn RiskMarkLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyVenueFillLocked(const VenueFill& vf, int64_t now_unix_ns,
                            std::vector<tickmesh::v1::OrderEvent>* events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<tickmesh::v1::Order> CancelLocked(const std::string& order_id,
                                                   std::vector<tickmesh::v1::OrderEvent>* events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const OrderRecord* FindLocked(const tickmesh::v1::OrderRef& ref) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The venue's breaker (created on first use; nullptr when disabled or past kMaxBreakers).
  CircuitBreaker* BreakerLocked(const std::string& venue) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RecordVenueCallLocked(const std::string& venue, CircuitBreaker* breaker, bool success)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SubmitSignalOrder(const tickmesh::v1::OrderRequest& req, tickmesh::v1::Trace trace,
                         int64_t recv_mono);
  // Paper latency model: the adapter's timer thread calls this when in-flight paper orders are
  // due; their answers are applied like a live venue's (ApplyVenueStateLocked).
  void OnPaperArrivals();
  // Stamps {execution, emit}, counts, appends to the outbox, publishes to subscribers.
  void PublishLocked(std::vector<tickmesh::v1::OrderEvent>* events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteCacheLocked(const std::string& venue, const std::string& symbol, int64_t now_unix_ns)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Appends the current Position and both Balances of every instrument in touched_ to `records`
  // (so persistence can rebuild them after a restart) and clears touched_. Their
  // updated_unix_ns is strictly increasing across the process (the persistence key includes it).
  void AppendStateRecordsLocked(std::vector<tickmesh::v1::Record>* records)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t NextStateNsLocked(int64_t now_unix_ns) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Remote venues. Per open order on a remote venue, what is in flight.
  struct RemoteOrder {
    std::string venue;
    bool place_pending = true;       // the place call has not been answered yet
    int64_t unconfirmed_mono = 0;    // != 0: place outcome unknown since then
    std::string unconfirmed_reason;  // reject reason if the venue never got it
    bool cancel_pending = false;
  };
  struct RemoteVenueState {
    bool balances_reconciled = false;
    size_t foreign_open_orders = 0;          // open at the venue, unknown to execution (reported)
    std::set<std::string> reported_foreign;  // client ids already logged (bounded)
    uint64_t call_errors = 0;
    std::string last_error;
  };
  VenueWorker* Remote(const std::string& venue) const;
  // Worker callbacks (worker thread; take the mutex).
  void OnVenueAnswer(const std::string& venue, VenueWorker::Call call,
                     const tickmesh::v1::Order& order,
                     const absl::StatusOr<VenueOrderState>& answer, int64_t call_ns, bool counted);
  std::vector<tickmesh::v1::Order> OnVenueOpenOrders(
      const std::string& venue, const absl::StatusOr<std::vector<VenueOrderState>>& open,
      int64_t call_ns);
  void OnVenueBalances(const std::string& venue,
                       const absl::StatusOr<std::vector<VenueAssetBalance>>& balances,
                       int64_t call_ns);
  bool HasTrackedOrders(const std::string& venue) const;
  // Applies the venue's view of an order: ack if NEW, fills (given, or derived from cumulative
  // figures), then the final state. Forgets remote bookkeeping once the order is terminal.
  void ApplyVenueStateLocked(const std::string& order_id, const VenueOrderState& state,
                             int64_t now_unix_ns, std::vector<tickmesh::v1::OrderEvent>* events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records the outcome of a venue call that Submit's breaker admission did not cover (cancels,
  // polls) — only while the breaker is closed, so half-open probes stay those of new orders.
  // Polls record failures only (`count_success` false): a venue that stops answering trips the
  // breaker even while no order goes out, but answered polls do not dilute failing orders.
  void RecordBackgroundCallLocked(const std::string& venue, bool success, bool count_success)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ForgetIfTerminalLocked(const std::string& order_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const EngineOptions options_;
  OutboxQueue* const outbox_;
  const CachePut cache_put_;
  std::unique_ptr<Metrics> metrics_;
  EventFanOut fanout_;

  mutable std::mutex mu_;
  OrderManager orders_ ABSL_GUARDED_BY(mu_);
  // mutable: StatusJson rolls the trading day and marks positions (RiskBook's last-mark cache).
  mutable RiskBook risk_ ABSL_GUARDED_BY(mu_);
  PaperVenue venue_ ABSL_GUARDED_BY(mu_);
  PaperVenueAdapter paper_ ABSL_GUARDED_BY(mu_);
  Portfolio portfolio_ ABSL_GUARDED_BY(mu_);
  tickmesh::v1::KillSwitchState kill_ ABSL_GUARDED_BY(mu_);
  std::function<void(const tickmesh::v1::OrderEventBatch&)> observer_ ABSL_GUARDED_BY(mu_);
  uint64_t book_errors_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t invalid_signals_ ABSL_GUARDED_BY(mu_) = 0;
  // Instruments whose position/balances changed since the last publish (few per publish).
  std::vector<std::pair<std::string, std::string>> touched_ ABSL_GUARDED_BY(mu_);
  int64_t last_state_ns_ ABSL_GUARDED_BY(mu_) = 0;
  RestoreSummary restored_ ABSL_GUARDED_BY(mu_);
  static constexpr size_t kMaxBreakers = 1024;
  std::map<std::string, CircuitBreaker> breakers_ ABSL_GUARDED_BY(mu_);
  AdmissionQueue* admission_ = nullptr;
  // Remote venues: registered before StartVenues, read-only afterwards (no lock needed).
  std::map<std::string, std::unique_ptr<VenueWorker>> remote_;
  bool venues_started_ = false;
  std::unordered_map<std::string, RemoteOrder> remote_orders_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, RemoteVenueState> remote_state_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tickmesh::execution
