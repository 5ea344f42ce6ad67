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
// Venue reports (live venues): a bucket may follow a figure the venue reports with each response
// (BucketSpec::sync names it; ParseVenueLimits reads them) — then after each answer to a request
// of a class the bucket charges, its level is set to the venue's count: Binance
// `X-MBX-USED-WEIGHT-<n><S|M|H|D>` / `X-MBX-ORDER-COUNT-<n><S|M|H|D>` (used in the current fixed
// interval; the level is held, not decayed, until the interval ends, then drops to the requests
// still outstanding), Bybit `X-Bapi-Limit-Status` (remaining of `X-Bapi-Limit`, which becomes the
// bucket's max; at 0 held until `X-Bapi-Limit-Reset-Timestamp`). Requests charged but not yet
// answered (`pending`: admitted orders still queued, requests in flight) are added on top, since
// the venue has not counted them yet; each stays counted until its answer comes, however slow
// (it is forgotten only after a bucket window clamped to [10 s, 60 s]: never sent, or lost — see
// kPendingMinTtlNs). A rate-limit refusal (HTTP 429 / 418, Bybit 10006 / 10018 /
// HTTP 403, Kraken `EAPI:` / `EOrder:Rate limit exceeded`) blocks the affected classes until the
// venue's `Retry-After` / reset time, or, when it gives none, for a backoff of 1 s doubling per
// consecutive refusal up to 60 s (TryAcquire refuses them with bucket "venue_throttle"); Kraken,
// which reports no usage, also has the buckets charging the class set full (drained). Malformed
// or out-of-range values are ignored (ParseVenueLimits lists them).
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
#include <utility>
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

// A set of RequestClass bits (1 << class).
using ClassMask = uint32_t;
inline constexpr ClassMask ClassBit(RequestClass cls) { return 1u << static_cast<int>(cls); }
inline constexpr ClassMask kAllClasses = (1u << kRequestClasses) - 1;
inline constexpr ClassMask kQueryClasses =
    ClassBit(RequestClass::kQueryOrder) | ClassBit(RequestClass::kOpenOrders) |
    ClassBit(RequestClass::kOrderTrades) | ClassBit(RequestClass::kBalances);

struct BucketSpec {
  std::string name;
  double max = 0;                                     // level limit
  double decay_per_s = 0;                             // level decrease per second
  double cost[kRequestClasses] = {1, 1, 1, 1, 1, 1};  // per RequestClass
  int64_t window_ns = 0;  // token buckets: the window (decay = max / window); 0 for decay buckets
  // The venue report this bucket follows (a LimitUsage::key, e.g. "X-MBX-USED-WEIGHT-1M",
  // "X-Bapi-Limit-Status"); empty = local estimate only.
  std::string sync;
};

// Parses --rate_limits: ';'-separated "VENUE/BUCKET=token:CAPACITY:WINDOW_MS:CLASS=COST[,..]" or
// "VENUE/BUCKET=decay:MAX:DECAY_PER_S:CLASS=COST[,..]", each optionally followed by ":SYNC" (the
// venue header the bucket follows, BucketSpec::sync: X-MBX-USED-WEIGHT-<interval>,
// X-MBX-ORDER-COUNT-<interval> or X-Bapi-Limit-Status); CLASS is a RequestClassName, or `query`
// for every query class (query_order, open_orders, trades, balances) not given its own cost in the
// entry; a class not listed costs 0. VENUE "*" = every venue without its own buckets.
// INVALID_ARGUMENT naming the entry.
absl::StatusOr<std::map<std::string, std::vector<BucketSpec>>> ParseRateLimits(
    const std::string& spec);

// One figure a venue reported about one of its limits.
struct LimitUsage {
  std::string key;           // "X-MBX-USED-WEIGHT-1M", "X-MBX-ORDER-COUNT-10S", ...
  double used = -1;          // counted in the current window (-1: not reported)
  double remaining = -1;     // left in the current window (-1: not reported)
  double limit = 0;          // the venue's current limit (0: not reported)
  int64_t reset_in_ms = -1;  // ms until the count resets (-1: not known)
  // Counted in fixed intervals (Binance): the count stands until reset_in_ms, then restarts.
  bool fixed_window = false;
};

// What one venue response said about the rate limits.
struct VenueLimitReport {
  bool answered = false;  // a response came (a default report: none, e.g. transport error)
  std::vector<LimitUsage> usages;
  bool throttled = false;       // the request was refused for a rate limit
  ClassMask blocked = 0;        // classes to stop sending (when throttled)
  bool drain = false;           // no usage reported: set the buckets of the class full (Kraken)
  int64_t retry_after_ms = -1;  // the venue's wait (Retry-After / reset), -1: not given
  // Rate-limit headers present but unusable (ignored), "NAME: why".
  std::vector<std::string> malformed;
};

// Reads the rate-limit figures of one response to a request of `cls` from `venue` ("binance",
// "bybit", "kraken"; others report nothing): headers (names case-insensitive), HTTP status and
// body. Never fails: malformed values are listed and ignored. `now_unix_ms` is the wall clock.
//  - binance: X-MBX-USED-WEIGHT-<n><S|M|H|D> / X-MBX-ORDER-COUNT-<n><S|M|H|D> (used; reset at the
//    end of the fixed interval); HTTP 429 / 418 throttled with Retry-After (seconds): every class
//    (the IP's weight), only orders for code -1015 (too many new orders).
//  - bybit: X-Bapi-Limit-Status / X-Bapi-Limit / X-Bapi-Limit-Reset-Timestamp (one usage keyed
//    "X-Bapi-Limit-Status"); retCode 10006 throttles the class until the reset timestamp, retCode
//    10018 or HTTP 429 every class (IP limit), HTTP 403 (IP ban) every class for 10 minutes.
//  - kraken: no headers; "EAPI:Rate limit exceeded" throttles and drains the query classes,
//    "EOrder:Rate limit exceeded" orders and cancels, "EGeneral:Too many requests" / HTTP 429
//    every class (backoff).
VenueLimitReport ParseVenueLimits(const std::string& venue, RequestClass cls, int http_status,
                                  const std::vector<std::pair<std::string, std::string>>& headers,
                                  const std::string& body, int64_t now_unix_ms);

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

  // Backoff after a rate-limit refusal without a venue wait: 1 s doubling per consecutive
  // refusal of the venue, at most 60 s. A venue wait is clamped to [100 ms, 24 h].
  static constexpr int64_t kBackoffBaseNs = 1'000'000'000;
  static constexpr int64_t kBackoffMaxNs = 60'000'000'000;
  static constexpr int64_t kMinWaitNs = 100'000'000;
  static constexpr int64_t kMaxWaitNs = 86'400'000'000'000;
  // An outstanding charge (admitted, not yet answered) is kept until answered, or forgotten
  // after one window of the bucket (its time to decay from max to 0), clamped to [10 s, 60 s]:
  // a request that long unanswered never reached the venue, or its answer was lost. Once a synced
  // bucket took a venue figure, its level never decays below its outstanding charges.
  static constexpr int64_t kPendingMinTtlNs = 10'000'000'000;
  static constexpr int64_t kPendingMaxTtlNs = 60'000'000'000;
  static constexpr size_t kMaxOutstanding = 100'000;  // charges tracked per bucket

  // The venue answered `units` requests of `cls` (a batch: one per order) with `report` (an
  // empty report when no answer came: the requests are only no longer outstanding). Synced
  // buckets charging `cls` take the venue's figures; a throttled report blocks its classes (see
  // the banner) and returns the time the block ends (0 when not throttled). Venues without
  // buckets are left alone (returns 0).
  int64_t Observe(const std::string& venue, RequestClass cls, int units,
                  const VenueLimitReport& report, int64_t now_ns);
  // A request of `cls` the venue refused is sent again: charged like an admitted one (the venue
  // will count it; its answer clears it), without an admission check — it was admitted before.
  void ChargeResend(const std::string& venue, RequestClass cls, int64_t now_ns);
  // When `cls` may be sent again to `venue` (<= now_ns: now).
  int64_t BlockedUntil(const std::string& venue, RequestClass cls, int64_t now_ns) const;
  // Blocked classes for /status: venue -> class -> seconds left.
  std::map<std::string, std::map<std::string, double>> Throttles(int64_t now_ns) const;

 private:
  struct Bucket {
    BucketSpec spec;
    double level = 0;
    double pending = 0;  // charged, not yet answered by the venue (sum of `outstanding`)
    // (charged at, cost) of the unanswered charges, oldest first; answers clear the oldest.
    std::deque<std::pair<int64_t, double>> outstanding;
    int64_t at_ns = 0;
    int64_t hold_until_ns = 0;  // synced to a fixed window: no decay until it ends
    bool reported = false;      // took a venue figure (sync): never decays below `pending`
    void Decay(int64_t now_ns);
    void Charge(double cost, int64_t now_ns);
    void Answer(double cost);
    int64_t PendingTtlNs() const;
  };
  struct VenueState {
    std::vector<Bucket> buckets;
    int64_t blocked_until_ns[kRequestClasses] = {};
    int strikes = 0;  // consecutive throttles (backoff)
  };
  VenueState* StateFor(const std::string& venue) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::map<std::string, std::vector<BucketSpec>> specs_;
  const ClockFn clock_;
  mutable std::mutex mu_;
  std::map<std::string, VenueState> venues_ ABSL_GUARDED_BY(mu_);
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
