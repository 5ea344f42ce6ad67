// AlgoRunner: parent orders of the execution algorithms TWAP, ICEBERG and LIQUIDITY_AWARE. A
// parent is never sent to a venue itself; the runner holds it, schedules child orders on its own
// timer thread and submits each child through a hook (the engine's Submit path, so every child
// passes risk, rate limits, the circuit breaker and the outbox like any other order). It follows
// the children through the engine's order events (OnOrderEvents, registered as the engine's
// event observer) and ends the parent when it is filled, cancelled or expired.
//
// Algorithms (the child's strategy, venue, symbol, side and trace are the parent's):
//  - TWAP (algo_duration_ms > 0): PlanTwap slices (one per Options::twap_slice_interval_ns, at
//    most Options::max_twap_slices), slice i due at start + duration * i / slices. Each child asks
//    for the schedule's cumulative target minus what is already filled (a slice that did not
//    fill is caught up by the next). Children are MARKET (IOC) for a MARKET parent, LIMIT IOC at
//    the parent's price for a LIMIT parent. After the last slice's child ends the parent is
//    FILLED or EXPIRED.
//  - ICEBERG (LIMIT only, display_qty_e8 > 0): one LIMIT GTC child at the parent's price showing
//    min(display, remaining); when it is FILLED the next one is sent at once (refill). With
//    algo_duration_ms > 0 the open child is cancelled and the parent EXPIRED at start + duration.
//  - LIQUIDITY_AWARE (max_impact_bps > 0, algo_duration_ms > 0): every
//    Options::liquidity_interval_ns while nothing is open, the child is sized by SizeForImpact on
//    the current book (hook `book`) so that its estimated impact stays within max_impact_bps, and
//    sent LIMIT IOC at the deepest price it may reach (never beyond a LIMIT parent's price).
//    Nothing is sent while the book is one-sided, missing or too thin. At start + duration the
//    parent EXPIRED with what it filled.
//
// Parent lifecycle: ACKED on acceptance (order id "a-<n>", algo and the algorithm parameters
// algo_duration_ms / display_qty_e8 / max_impact_bps set, no venue order id) →
// PARTIALLY_FILLED → FILLED / CANCELLED / EXPIRED. filled_qty_e8, avg_fill_price_e8 and fee_e8 are
// the sums over its children; version grows by one per change. Child client_order_id is
// "<parent client_order_id>/<n>", n = 1, 2, ... per submission attempt, and the child request's
// parent_order_id is the parent's order id, so a resubmitted parent (same client id) is
// idempotent: Submit returns the existing parent with duplicate = true.
//
// Restart: Restore adopts open parents read back from persistence with their children (see
// Restore for how each algorithm resumes, and when a parent is ended instead).
//
// Child outcomes:
//  - refused with FAILED_PRECONDITION "risk:..." (or INVALID_ARGUMENT / UNIMPLEMENTED): the parent
//    stops — CANCELLED, reject_reason = the child's reason;
//  - refused otherwise (rate limit, breaker open, outbox full, venue:no_market...): transient; the
//    next attempt is the next TWAP slice (or Options::retry_interval_ns later for the others);
//    more than Options::max_consecutive_refusals in a row stop the parent (CANCELLED, reason);
//  - a child cancelled or expired by someone else (kill switch, Cancel of the child's own id):
//    the parent stops CANCELLED with reject_reason "child_cancelled".
// Cancel of a parent stops scheduling and cancels its open child (synchronously through the
// `cancel` hook); the parent is CANCELLED once no child is open.
//
// TWAP slices that are already overdue when a child can be sent (the runner fell behind, or a
// child was refused) are merged into one child sized to the latest due slice's target.
//
// Threading: all public methods are thread-safe. Hooks are never called with the runner's mutex
// held, so OnOrderEvents may be called under the engine's mutex (it only updates in-memory state)
// while the timer thread calls into the engine. Submissions and expiry cancels happen on the
// timer thread only (never on a gRPC callback thread); `submit`'s `done` may run on any thread.
//
// Example:
//   AlgoRunner runner(AlgoRunner::Options{}, hooks);   // hooks from EngineAlgoHooks()
//   engine.SetEventObserver([&](const auto& b) { runner.OnOrderEvents(b); });
//   runner.Start();
//   auto parent = runner.Submit(twap_request);          // ACKED parent, children follow
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tickmesh/v1/execution.pb.h"
#include "tickmesh/v1/market_data.pb.h"

namespace tickmesh::execution {

class AlgoRunner {
 public:
  struct Options {
    // TWAP: one slice per interval of the duration (ceil), at most max_twap_slices.
    int64_t twap_slice_interval_ns = 1'000'000'000;
    int max_twap_slices = 1'000;
    // LIQUIDITY_AWARE: time between children (lets the book refill after each one).
    int64_t liquidity_interval_ns = 1'000'000'000;
    // ICEBERG / LIQUIDITY_AWARE: wait after a transient child refusal before the next attempt.
    int64_t retry_interval_ns = 1'000'000'000;
    // Transient refusals in a row that stop a parent.
    int max_consecutive_refusals = 10;
    // Parents running at once; beyond, Submit answers RESOURCE_EXHAUSTED.
    size_t max_active_parents = 1'000;
    // Finished parents kept for Get / idempotency (oldest forgotten first).
    size_t retained_parents = 10'000;
    // Child submissions per parent, a bound on runaway retry loops (then the parent stops).
    int max_children = 100'000;
    // First parent number ("a-<n>"); seed from the clock when ids must not repeat across restarts.
    uint64_t first_parent_id = 1;
  };

  struct Hooks {
    using Done = std::function<void(absl::StatusOr<tickmesh::v1::SubmitOrderResponse>)>;
    // Submits a child order; calls `done` exactly once with the engine's answer (possibly on
    // another thread, possibly before returning). Required.
    std::function<void(tickmesh::v1::OrderRequest child, Done done)> submit;
    // Cancels a child by client_order_id (the engine's Cancel). Required.
    std::function<absl::Status(const std::string& client_order_id)> cancel;
    // Current L2 book (levels best first) of (venue, symbol), nullopt if unusable. Required for
    // LIQUIDITY_AWARE (without it those parents never send a child and expire).
    std::function<std::optional<tickmesh::v1::BookSnapshot>(const std::string& venue,
                                                            const std::string& symbol)>
        book;
    // Every change of a parent as an OrderEvent: ACKED on acceptance, FILL when its filled
    // quantity changes (no `fill` message: the child's own event carries the Fill), CANCELLED /
    // EXPIRED / FILL(status FILLED) when it ends. event_id "<a-n>:<version>", seq per runner.
    // Called from the timer thread (RunDue), never under the runner's mutex. Optional.
    std::function<void(tickmesh::v1::OrderEvent)> parent_event;
    // Clocks: monotonic for scheduling, unix for timestamps. Default: steady / system clock.
    std::function<int64_t()> mono_now_ns;
    std::function<int64_t()> unix_now_ns;
  };

  AlgoRunner(Options options, Hooks hooks);
  // Stops the timer thread (Stop()); open children stay with the engine. A `submit` still
  // pending must have called its `done` before (stop the admission queue first).
  ~AlgoRunner();
  AlgoRunner(const AlgoRunner&) = delete;
  AlgoRunner& operator=(const AlgoRunner&) = delete;

  // True for TWAP, ICEBERG and LIQUIDITY_AWARE: requests that belong to the runner.
  static bool IsAlgo(const tickmesh::v1::OrderRequest& request);

  // Accepts a parent (the caller ran ExecutionEngine::ValidateRequest). Returns the ACKED parent,
  // or the existing parent with duplicate = true for a known client_order_id. Errors:
  // INVALID_ARGUMENT for a request that is not an algo parent, RESOURCE_EXHAUSTED "algo parents
  // limit" past Options::max_active_parents. The first child is sent by the timer thread.
  absl::StatusOr<tickmesh::v1::SubmitOrderResponse> Submit(
      const tickmesh::v1::OrderRequest& request);

  // Cancels a parent (by its order id "a-<n>" or client_order_id): stops scheduling, cancels the
  // open child. Returns the parent (CANCELLED unless a child is still in flight, in which case it
  // becomes CANCELLED when that child ends). NOT_FOUND when `ref` is not a parent;
  // FAILED_PRECONDITION when the parent has already ended.
  absl::StatusOr<tickmesh::v1::Order> Cancel(const tickmesh::v1::OrderRef& ref);

  // The parent `ref` names, or nullopt when it names no (retained) parent.
  std::optional<tickmesh::v1::Order> Get(const tickmesh::v1::OrderRef& ref) const;
  // Parents, newest first, at most `limit` (active and retained finished ones).
  std::vector<tickmesh::v1::Order> List(size_t limit) const;

  // Filtered listing (ListOrders): parents newest first (by number n of "a-<n>"), only those with
  // n < before (0 = no bound), matching venue / symbol (empty = any) and one of `statuses`
  // (empty = any), at most `limit`.
  struct ParentQuery {
    std::string venue;
    std::string symbol;
    std::vector<tickmesh::v1::OrderStatus> statuses;
    uint64_t before = 0;
    size_t limit = 100;
  };
  std::vector<tickmesh::v1::Order> List(const ParentQuery& query) const;

  // One open parent read back from persistence at restart, with every child of it that could be
  // found (any status; open children in their state after ExecutionEngine::Restore).
  struct RestoredParent {
    tickmesh::v1::Order parent;
    std::vector<tickmesh::v1::Order> children;
    // False when not every child could be read: the parent is then ended, not resumed.
    bool children_complete = true;
  };
  struct RestoreSummary {
    size_t resumed = 0;  // running again
    size_t ended = 0;    // ending at restore (filled, expired, not resumable)
    // Order id not "a-<n>", or already terminal: not adopted (its open children are cancelled).
    size_t skipped = 0;
    std::vector<std::string> cancelled_orphans;  // open children without an open parent
  };
  // Restart reconciliation (call before Start; also fine after). For each parent, its filled
  // quantity / average price / fee are recomputed from `children` (the children are the truth: a
  // parent's last update may not have reached persistence), its version and number are kept
  // (new parents are numbered past it), and children numbers continue past the highest child.
  // At most one open child is adopted (the runner follows it as if it had sent it); further open
  // children are cancelled. Then, by algorithm, with now = the unix clock:
  //  - TWAP: the remaining quantity is re-planned over the remaining duration
  //    (created_unix_ns + algo_duration_ms - now) with the usual slice interval, starting now;
  //  - ICEBERG: continues (an adopted resting child stays; otherwise the next child is sent);
  //    the deadline stays created_unix_ns + algo_duration_ms;
  //  - LIQUIDITY_AWARE: continues until created_unix_ns + algo_duration_ms.
  // A parent is ended instead (its open child cancelled first, event emitted, so persistence
  // sees the end):
  //  - FILLED when its children filled it;
  //  - EXPIRED, reject_reason "algo:deadline_passed_at_restart", when its deadline passed while
  //    execution was down;
  //  - CANCELLED, reject_reason "algo:not_resumable: <why>", when the record cannot be resumed
  //    (bad order id, algorithm fields missing or invalid — e.g. written by an older version —,
  //    children not all found, parent limit reached).
  // `orphans`: open child orders whose parent is not among `parents` (the parent ended, or its
  // record is lost) — each is cancelled through the cancel hook, never left working.
  // A parent whose client id or order id is already known is skipped (counted in neither).
  RestoreSummary Restore(std::vector<RestoredParent> parents,
                         const std::vector<tickmesh::v1::Order>& orphans = {});

  // Engine order events (the engine's event observer). Only children are looked at; cheap and
  // non-blocking, safe to call under the engine's mutex.
  void OnOrderEvents(const tickmesh::v1::OrderEventBatch& batch);

  // Does everything due at the monotonic clock's now (children to send, expiries, cancels) and
  // publishes parent events. Returns the next monotonic time something is due (INT64_MAX when
  // nothing is). Called by the timer thread; tests call it directly with an injected clock.
  int64_t RunDue();

  // Starts / stops the timer thread (idempotent). Without Start, nothing happens until RunDue.
  void Start();
  void Stop();

  size_t active_count() const;
  // Children submitted in all (for /status and tests).
  uint64_t children_submitted() const;

 private:
  struct Child {
    int64_t qty_e8 = 0;
    uint64_t version = 0;
    tickmesh::v1::OrderStatus status = tickmesh::v1::ORDER_STATUS_NEW;
    int64_t filled_e8 = 0;
    int64_t avg_price_e8 = 0;
    int64_t fee_e8 = 0;
    std::string reject_reason;
    bool done_seen = false;      // submit's done ran
    bool closed = false;         // outcome handled
    bool runner_cancel = false;  // the runner asked for its cancel
  };
  struct Parent {
    uint64_t number = 0;  // n of "a-<n>"
    tickmesh::v1::Order order;
    tickmesh::v1::OrderRequest request;
    int64_t start_mono = 0;
    int64_t end_mono = 0;  // 0 = no deadline
    // TWAP schedule: twap_qty over twap_duration_ns from start_mono, on top of twap_base_filled
    // (the whole parent from 0 normally; what remained at a restart).
    int64_t twap_base_filled = 0;
    int64_t twap_qty = 0;
    int64_t twap_duration_ns = 0;
    int twap_slices = 1;
    int twap_next = 0;     // next TWAP slice to send
    int next_child = 1;    // number of the next child client id
    int64_t next_due = 0;  // INT64_MAX = waiting on a child
    std::string open_child;
    bool cancel_child_due = false;  // the timer thread must cancel open_child
    bool stopping = false;
    tickmesh::v1::OrderStatus stop_status = tickmesh::v1::ORDER_STATUS_CANCELLED;
    std::string stop_reason;
    int refusals = 0;
    std::map<std::string, Child> children;
  };
  struct Action {
    enum class Kind { kSubmit, kCancel } kind;
    std::string parent_client_id;
    tickmesh::v1::OrderRequest child;  // kSubmit
    std::string child_client_id;
  };

  // Books fetched for LIQUIDITY_AWARE parents due now, by parent client id.
  using BookMap = std::map<std::string, std::optional<tickmesh::v1::BookSnapshot>>;

  Parent* FindLocked(const tickmesh::v1::OrderRef& ref) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const Parent* FindLocked(const tickmesh::v1::OrderRef& ref) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Works out what `p` needs at `now` (a child, a cancel, its end).
  void PlanLocked(Parent& p, int64_t now, const BookMap& books, std::vector<Action>* actions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The next child of `p` (numbered, not yet recorded), or nullopt when none is due / possible.
  std::optional<tickmesh::v1::OrderRequest> NextChildLocked(Parent& p, int64_t now,
                                                            const BookMap& books)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // When `p` next needs the timer thread (INT64_MAX: only an event can change it).
  int64_t DueLocked(const Parent& p) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WakeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyChildOrderLocked(Parent& p, const tickmesh::v1::Order& o)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnSubmitDone(const std::string& parent_cid, const std::string& child_cid,
                    const absl::StatusOr<tickmesh::v1::SubmitOrderResponse>& result);
  // Reacts once to a child that ended (terminal and its submit answered).
  void MaybeCloseChildLocked(Parent& p, const std::string& child_cid, const absl::Status& refusal)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StopLocked(Parent& p, tickmesh::v1::OrderStatus status, std::string reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends `p` if it is filled, or stopping with nothing open.
  void MaybeFinishLocked(Parent& p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ChangedLocked(Parent& p, tickmesh::v1::OrderEventType type)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RetainLocked(const std::string& client_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ThreadMain();

  const Options options_;
  const Hooks hooks_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Parents by client_order_id (active and retained finished ones).
  std::unordered_map<std::string, Parent> parents_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<std::string, std::string> by_order_id_ ABSL_GUARDED_BY(mu_);
  // Child client id -> parent client id, for children not yet closed.
  std::unordered_map<std::string, std::string> child_index_ ABSL_GUARDED_BY(mu_);
  // Creation order of parents (newest last) for List; finished ones in retention order.
  std::map<uint64_t, std::string> by_number_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> finished_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> active_ids_ ABSL_GUARDED_BY(mu_);
  size_t active_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_parent_ ABSL_GUARDED_BY(mu_);
  uint64_t event_seq_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t children_submitted_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<tickmesh::v1::OrderEvent> pending_events_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace tickmesh::execution
