// Venue rate limits and the circuit breaker: what stands between an admitted order and a venue.
//
// RateLimiter: per venue, a set of buckets, each charged a cost per request class — new orders,
// cancels, and one class per query endpoint a live venue calls (order lookup, open orders, the
// order's trades, balances), so each REST request spends its own documented weight. A bucket is a
// level that rises by the cost of each admitted request and decays linearly at `decay_per_s`; a
// request is admitted when every bucket of its venue has room (level + cost <= max). This one model
// covers the documented schemes:
//   - Kraken's decaying counter: max = the tier's counter limit (e.g. 20), decay = its decay rate
//     (e.g. 0.5/s), cost per endpoint (add order 1, cancel 0 or more; query calls +1, ledger /
//     trade history calls +2 on the REST counter).
//   - Binance's request weights / order counts: a token bucket of `capacity` per `window`
//     (max = capacity, decay = capacity / window), cost = the endpoint's weight (query order 4,
//     open orders of all symbols 80, myTrades by orderId 5, account 20, ...).
//   - Bybit's per-endpoint limits: one bucket per endpoint, charged 1 by its classes only.
// Admission is all-or-nothing across the venue's buckets (nothing is charged unless every bucket
// has room). Venues without a configured scheme use the "*" scheme if any, else are unlimited.
//
// AdmissionQueue: requests that the limiter cannot admit now wait in a per-venue priority queue
// — cancels before new orders, then arrival order — for at most their class's budget, and run
// when admitted; past the budget (or with the queue full) they are refused with
// RESOURCE_EXHAUSTED "rate_limit:<bucket>" ("rate_limit:queue_full"). A new request never jumps
// over waiting ones of its venue with the same or higher priority. `Pump(now)` is the whole
// logic (tests drive it with their own clock); Start() runs it on a dispatcher thread.
//
// CircuitBreaker: per venue. CLOSED counts outcomes in a sliding window of the last
// `window` venue calls; it OPENs when at least `min_calls` are in the window and the share of
// failures (errors or timeouts) reaches `failure_ratio`. OPEN refuses for `open_ns`, then is
// HALF_OPEN: up to `half_open_probes` calls are let through; all succeeding closes it, any
// failing re-opens it.
//
// Clocks are injected (`ClockFn`, monotonic ns) so tests control time.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tickmesh::execution {

// Monotonic nanoseconds.
using ClockFn = std::function<int64_t()>;
ClockFn SteadyClock();

// What a request is, for the venue's rate limits. kOrder / kCancel are admitted by the
// AdmissionQueue (engine requests); the query classes are the REST requests a live venue's worker
// makes to learn order states and balances, each its own endpoint with its own weight:
//   kQueryOrder  one order by id (Binance GET /api/v3/order, Kraken QueryOrders, Bybit realtime)
//   kOpenOrders  every open order (Binance GET /api/v3/openOrders without symbol, ...)
//   kOrderTrades one order's trades (Binance GET /api/v3/myTrades?orderId=, for fees)
//   kBalances    the account's balances (Binance GET /api/v3/account, Kraken Balance, ...)
enum class RequestClass {
  kOrder = 0,
  kCancel = 1,
  kQueryOrder = 2,
  kOpenOrders = 3,
  kOrderTrades = 4,
  kBalances = 5,
};
inline constexpr int kRequestClasses = 6;
// The class's name in --rate_limits ("order", "cancel", "query_order", "open_orders", "trades",
// "balances").
const char* RequestClassName(RequestClass cls);

struct BucketSpec {
  std::string name;
  double max = 0;                                     // level limit
  double decay_per_s = 0;                             // level decrease per second
  double cost[kRequestClasses] = {1, 1, 1, 1, 1, 1};  // per RequestClass
};

// Parses --rate_limits: ';'-separated "VENUE/BUCKET=token:CAPACITY:WINDOW_MS:CLASS=COST[,..]" or
// "VENUE/BUCKET=decay:MAX:DECAY_PER_S:CLASS=COST[,..]"; CLASS is a RequestClassName, or `query`
// for every query class (query_order, open_orders, trades, balances) not given its own cost in the
// entry; a class not listed costs 0. VENUE "*" = every venue without its own buckets.
// INVALID_ARGUMENT naming the entry.
absl::StatusOr<std::map<std::string, std::vector<BucketSpec>>> ParseRateLimits(
    const std::string& spec);

class RateLimiter {
 public:
  struct Decision {
    bool admitted = true;
    std::string bucket;    // the first bucket without room when !admitted
    int64_t ready_ns = 0;  // earliest time every bucket has room (when !admitted)
  };
  RateLimiter(std::map<std::string, std::vector<BucketSpec>> specs, ClockFn clock);

  // At most this many venues get buckets; requests for further venues are refused
  // (bucket "venues", never ready) so a stream of made-up venue names cannot grow memory.
  static constexpr size_t kMaxVenues = 1024;

  // Charges and admits if every bucket of the venue has room at `now_ns`; else charges nothing.
  // A request whose cost exceeds a bucket's max is never admitted (ready_ns = INT64_MAX).
  Decision TryAcquire(const std::string& venue, RequestClass cls, int64_t now_ns);
  bool limited(const std::string& venue) const;
  // Current levels for /status: venue -> bucket -> level.
  std::map<std::string, std::map<std::string, double>> Levels(int64_t now_ns);
  int64_t now() const { return clock_(); }

 private:
  struct Bucket {
    BucketSpec spec;
    double level = 0;
    int64_t at_ns = 0;
    void Decay(int64_t now_ns);
  };
  std::vector<Bucket>* BucketsFor(const std::string& venue) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::map<std::string, std::vector<BucketSpec>> specs_;
  const ClockFn clock_;
  mutable std::mutex mu_;
  std::map<std::string, std::vector<Bucket>> buckets_ ABSL_GUARDED_BY(mu_);
};

class AdmissionQueue {
 public:
  struct Options {
    int64_t order_budget_ns = 100'000'000;     // how long a new order may wait
    int64_t cancel_budget_ns = 1'000'000'000;  // how long a cancel may wait
    size_t max_queued_per_venue = 10'000;
    size_t max_queued_total = 100'000;
  };
  // `on_wait(venue, bucket, waited_ns, admitted)` observes each request that had to queue
  // (metrics); may be empty.
  AdmissionQueue(
      RateLimiter* limiter, Options options,
      std::function<void(const std::string&, const std::string&, int64_t, bool)> on_wait = nullptr);
  ~AdmissionQueue();

  // Runs `run` once admitted — inline when admitted at once, else from Pump (the dispatcher
  // thread) — or calls `refuse` with RESOURCE_EXHAUSTED. Exactly one of them is called, never
  // under the queue's lock.
  void Submit(const std::string& venue, RequestClass cls, std::function<void()> run,
              std::function<void(absl::Status)> refuse);

  // Admits / expires waiting requests at `now_ns`; returns the next time something can change
  // (INT64_MAX when nothing waits).
  int64_t Pump(int64_t now_ns);

  // Dispatcher thread; Stop() refuses everything still waiting with UNAVAILABLE.
  void Start();
  void Stop();
  size_t queued() const;

 private:
  struct Waiting {
    RequestClass cls;
    uint64_t seq;
    int64_t deadline_ns;
    int64_t enqueued_ns;
    std::string bucket;  // the bucket that made it wait
    std::function<void()> run;
    std::function<void(absl::Status)> refuse;
  };
  using Action = std::function<void()>;
  int64_t PumpLocked(int64_t now_ns, std::vector<Action>* actions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  RateLimiter* const limiter_;
  const Options options_;
  const std::function<void(const std::string&, const std::string&, int64_t, bool)> on_wait_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  // venue -> waiting requests; cancels (front part) before orders, each in arrival order.
  std::map<std::string, std::deque<Waiting>> waiting_ ABSL_GUARDED_BY(mu_);
  size_t queued_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

class CircuitBreaker {
 public:
  enum class State { kClosed = 0, kOpen = 1, kHalfOpen = 2 };
  struct Options {
    size_t window = 50;
    size_t min_calls = 20;
    double failure_ratio = 0.5;
    int64_t open_ns = 5'000'000'000;
    size_t half_open_probes = 3;
  };
  explicit CircuitBreaker(Options options) : options_(options) {}

  // May a venue call go out at `now_ns`? In HALF_OPEN it hands out one of the probe slots; a
  // caller that then does not call the venue must Release() the slot.
  bool Allow(int64_t now_ns);
  void Release();
  // Outcome of a venue call that Allow() let through.
  void Record(bool success, int64_t now_ns);
  State state(int64_t now_ns);
  static const char* Name(State s);

 private:
  void Open(int64_t now_ns);
  Options options_;
  State state_ = State::kClosed;
  std::deque<bool> window_;  // true = failure
  size_t failures_ = 0;
  int64_t opened_ns_ = 0;
  size_t probes_out_ = 0;
  size_t probes_ok_ = 0;
};

}  // namespace tickmesh::execution
