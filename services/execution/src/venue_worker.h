// VenueWorker: the one thread that talks to one remote (live) venue. Every network call to the
// venue happens here — never under the engine mutex, never on a gRPC callback thread.
//
// The engine records an order NEW (event + outbox) and Enqueue()s the call; the worker makes it
// and hands the answer back through Callbacks, which take the engine mutex to apply it (ack,
// fills, cancel, reject). Calls run one at a time, in this order of priority: cancels, then
// queries (orders whose placement outcome is unknown), then new orders, each in arrival order —
// so for one order a place that was sent is always answered before its cancel is sent. A cancel
// of an order whose place is still queued removes the place and is answered kCancelled without
// calling the venue (the order never left).
//
// Besides the queue, every poll_interval the worker polls the venue for order states (REST
// polling: one OpenOrders call, then Query for each tracked order the venue no longer lists), and
// every balance_interval (or soon after fills, RefreshBalancesSoon) it fetches balances. The
// first poll after Start() is the start-up reconciliation (balances + open orders, done even
// with nothing tracked); WaitReconciled() lets the service wait for it. Every query request is
// charged to the venue's rate limits with its own class (and so its endpoint's weight):
// RequestClass::kOpenOrders, kQueryOrder, kBalances — and kOrderTrades for the trades a LiveVenue
// fetches for a fill's fee. A venue that accepts a request gate (Venue::SetRequestGate; LiveVenue)
// charges each REST request it sends through it, including the extra ones one call makes; for
// other venues the worker charges each call as one request of its class. A request the limit has
// no room for is not sent: the poll step is skipped (tried at the next interval), its answer never
// reaches the engine and counts in Stats::polls_rate_limited. Places and cancels were admitted by
// the AdmissionQueue already.
// After failed polls the interval doubles per consecutive failure, up to 30 s (a
// successful poll resets it; PollSoon still polls at once).
//
// Batching (venues with batch endpoints: Bybit create-batch / cancel-batch, Kraken
// AddOrderBatch; Venue::max_place_batch() > 1): when the worker takes a new order, the new
// orders queued behind it with the same Venue::BatchKey (Kraken: the pair) go with it in one
// PlaceBatch call, up to min(Options::max_batch, the venue's limit); cancels likewise through
// CancelBatch. Nothing waits for a batch to fill by default (batch_linger_ns 0): a lone order is
// sent at once, and orders that arrive while a call is in flight are sent together when it
// returns — "flush when the worker would otherwise be idle, or at max_batch". With
// batch_linger_ns > 0 a new order that has company coming may wait up to that long (from its
// enqueue time) for the batch to fill while nothing else is due — the issue's "5 per batch,
// 100 ms" is max_batch 5, batch_linger_ns 100 ms, at the cost of up to 100 ms on a lone order.
// Each order's answer is mapped back to it: a per-order refusal rejects only that order. A batch
// is one venue request: when all its orders got the same outcome (all answered, or all the same
// error — the request succeeded or failed as a whole) only the first answer is `counted` for the
// circuit breaker, so a failed batch is one breaker failure, not one per order it carried.
// Rate limits: each order was admitted (and charged) on its own by the AdmissionQueue, which
// is how Bybit (per-UID limits count the orders of a batch) and Kraken (+1 per order on the
// trading counter) count batches; Bybit's per-IP limit counts one request per batch and is
// thus charged conservatively.
//
// Venue rate-limit refusals: while the limiter blocks a class after a venue refusal (429 /
// Retry-After, Bybit 10006, Kraken rate errors — RateLimiter::Observe via LiveVenue), the worker
// sends no new orders / cancels of that class (they stay queued, in order; queries are refused
// by the gate). A place or cancel the venue refused that way (RESOURCE_EXHAUSTED while its class
// is blocked) was not processed by the venue: it goes back to the front of its queue and is sent
// again once the block ends — its answer does not reach the engine meanwhile — at most
// kMaxThrottleResends times; after that the refusal is answered (Stats::throttled_resends counts
// the resends). The resend is not admitted again (it goes once the block ends), but it is
// charged to the limiter as outstanding (RateLimiter::ChargeResend): the venue will count it.
// Bounds: at most Options::max_queue calls of each kind wait; Enqueue answers false beyond.
// Stop() joins the thread; calls still queued are dropped (their orders stay NEW / open in the
// engine and are resolved by the restart reconciliation against the venue).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rate_limit.h"
#include "venue.h"

namespace tickmesh::execution {

class VenueWorker {
 public:
  enum class Call { kPlace = 0, kCancel = 1, kQuery = 2 };
  // Times one place / cancel refused by a venue rate limit is sent again (see the banner).
  static constexpr int kMaxThrottleResends = 5;
  static const char* CallName(Call call);

  struct Options {
    size_t max_queue = 10'000;                     // per call kind
    int64_t poll_interval_ns = 1'000'000'000;      // order-state polling
    int64_t balance_interval_ns = 30'000'000'000;  // balances refresh
    ClockFn clock;                                 // monotonic ns; empty = steady clock
    size_t max_batch = 5;                          // orders per batch call (1 = no batching)
    int64_t batch_linger_ns = 0;                   // see the banner; 0 = never wait
  };

  struct Callbacks {
    // Answer of a Place / Cancel / Query call for `order` (as it was enqueued), with how long
    // the venue call took (0 when the venue was not called). `counted`: whether the answer
    // carries its venue request's outcome for the circuit breaker; false for the orders after
    // the first of a batch whose orders all got the same outcome (see the banner) — the engine
    // then returns the breaker slot the order took instead of recording an outcome.
    std::function<void(Call call, const tickmesh::v1::Order& order,
                       const absl::StatusOr<VenueOrderState>& answer, int64_t call_ns,
                       bool counted)>
        on_answer;
    // Whether the engine tracks open orders on this venue (decides if a poll is needed).
    std::function<bool()> has_open_orders;
    // Answer of an OpenOrders poll. Returns the tracked orders the venue no longer lists as open,
    // which the worker then queries one by one (answers through on_answer, Call::kQuery).
    std::function<std::vector<tickmesh::v1::Order>(
        const absl::StatusOr<std::vector<VenueOrderState>>& open, int64_t call_ns)>
        on_open_orders;
    // Answer of a Balances call.
    std::function<void(const absl::StatusOr<std::vector<VenueAssetBalance>>& balances,
                       int64_t call_ns)>
        on_balances;
  };

  // `limiter` may be null (no limits). `venue` must be remote().
  VenueWorker(std::unique_ptr<Venue> venue, RateLimiter* limiter, Options options,
              Callbacks callbacks);
  ~VenueWorker();  // Stop()s.
  VenueWorker(const VenueWorker&) = delete;
  VenueWorker& operator=(const VenueWorker&) = delete;

  const std::string& venue_name() const { return name_; }

  // Queues a call for `order` (thread-safe, never blocks on the venue). False when that kind's
  // queue is full or the worker is stopped (nothing queued).
  bool Enqueue(Call call, tickmesh::v1::Order order);
  // Whether Enqueue(call, ...) would find room now (room only grows until the caller enqueues if
  // the caller is the only producer, as the engine is under its mutex).
  bool HasRoom(Call call) const;
  // Makes the next poll happen at once / balances be fetched at the next poll.
  void PollSoon();
  void RefreshBalancesSoon();

  void Start();
  // Joins the thread; idempotent. No callback runs after it returns.
  void Stop();
  // True once the start-up reconciliation (balances and open orders) succeeded; waits up to
  // `timeout` for it.
  bool WaitReconciled(absl::Duration timeout);

  struct Stats {
    size_t queued = 0;
    uint64_t calls = 0;
    uint64_t polls = 0;
    uint64_t poll_errors = 0;
    uint64_t polls_rate_limited = 0;  // query requests not sent for want of rate-limit room
    uint64_t batches = 0;             // calls that carried more than one order
    uint64_t batched_orders = 0;      // orders sent in those calls
    uint64_t throttled_resends = 0;   // places / cancels sent again after a venue rate limit
    bool reconciled = false;
  };
  Stats stats() const;

 private:
  struct Task {
    Call call;
    tickmesh::v1::Order order;
    bool unsent_cancel = false;  // answered kCancelled without calling the venue
    int64_t enqueued_ns = 0;
    int throttle_resends = 0;  // times sent again after a venue rate-limit refusal
  };
  void Loop();
  // The next call to make: cancels (batched), then one query, then new orders (batched). Empty
  // when nothing is queued, or when new orders linger for company (then *linger_until is set).
  std::vector<Task> TakeLocked(int64_t now_ns, int64_t* linger_until)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves up to `cap` - 1 more tasks with `key` from `q` into `batch` (queue order kept).
  void GatherLocked(std::deque<Task>& q, const std::string& key, size_t cap,
                    std::vector<Task>* batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RunBatch(std::vector<Task> tasks);
  // Runs due polls / balance refreshes; returns the next time one is due.
  int64_t PollIfDue(int64_t now_ns);
  // Charges one query request of `cls` when the venue does not charge its own (no gate); false
  // (counted as rate limited) when the limit has no room.
  bool AcquireQuery(RequestClass cls);
  // The venue's gate: charges one request of `cls`; RESOURCE_EXHAUSTED when the limit has no
  // room (and notes it for the call in progress).
  absl::Status Gate(RequestClass cls);
  // True when the venue call that just returned `status` was cut short by the gate (its answer
  // is not the venue's and must not reach the engine); clears the note.
  bool TakeGateRefusal(const absl::Status& status);
  // Makes one call and hands its answer over; false when the gate refused it (nothing handed).
  bool Run(Task task);
  // When the limiter lets `call`'s class go to the venue again, in the worker's clock (<= now_ns:
  // now). Queries: always now (the gate decides).
  int64_t BlockedUntil(Call call, int64_t now_ns) const;
  // Puts a place / cancel the venue refused for its rate limit back at the front of its queue
  // (see the banner); false when the answer is to be handed over instead.
  bool RequeueThrottled(Task& task, const absl::Status& status);

  const std::unique_ptr<Venue> venue_;
  const std::string name_;
  RateLimiter* const limiter_;
  const Options options_;
  const ClockFn clock_;
  const Callbacks cb_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable reconciled_cv_;
  std::deque<Task> queues_[3] ABSL_GUARDED_BY(mu_);  // by Call
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool poll_now_ ABSL_GUARDED_BY(mu_) = true;
  bool balances_now_ ABSL_GUARDED_BY(mu_) = true;
  bool open_reconciled_ ABSL_GUARDED_BY(mu_) = false;
  bool balances_reconciled_ ABSL_GUARDED_BY(mu_) = false;
  Stats stats_ ABSL_GUARDED_BY(mu_);
  uint64_t enqueues_ ABSL_GUARDED_BY(mu_) = 0;  // wakes a lingering worker
  // Worker-thread only.
  int64_t next_poll_ns_ = 0;
  int64_t next_balances_ns_ = 0;
  int failed_polls_ = 0;       // consecutive failed polls (backoff)
  bool venue_gated_ = false;   // the venue charges its query requests through Gate()
  bool gate_refused_ = false;  // Gate() refused a request of the call in progress
  std::thread thread_;
};

}  // namespace tickmesh::execution
