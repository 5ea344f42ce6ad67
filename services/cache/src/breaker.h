// CircuitBreaker: the state machine that decides whether the cache talks to Redis.
//
//   CLOSED ──(failure_threshold consecutive failures)──► OPEN
//   OPEN ──(open interval elapsed; the recovery thread probes)──► HALF_OPEN
//   HALF_OPEN ──(probe + replay succeeded)──► CLOSED
//   HALF_OPEN ──(probe or replay failed)──► OPEN, with the open interval doubled (up to a cap)
//
// Only CLOSED lets request traffic reach Redis; in OPEN and HALF_OPEN requests are served by L1
// and writes are queued for replay, and only the recovery thread's probe touches Redis.
// Thread-safe; state() is a lock-free read for the hot path.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "l1_cache.h"

namespace tickmesh::cache {

enum class BreakerStateKind { kClosed, kOpen, kHalfOpen };

// "closed" | "open" | "half_open".
const char* BreakerStateName(BreakerStateKind state);

struct BreakerOptions {
  // Consecutive request failures (errors or timeouts) that open the breaker.
  int failure_threshold = 3;
  // First open interval before a probe; doubles after each failed probe, up to max_open_ms.
  int64_t min_open_ms = 200;
  int64_t max_open_ms = 5000;
  // Not owned; nullptr = SteadyClock.
  const Clock* clock = nullptr;
};

class CircuitBreaker {
 public:
  // Called on every transition (from, to), outside the breaker's lock, on the thread that caused
  // it.
  using TransitionFn = std::function<void(BreakerStateKind from, BreakerStateKind to)>;

  explicit CircuitBreaker(const BreakerOptions& options, TransitionFn on_transition = nullptr);

  BreakerStateKind state() const { return state_.load(std::memory_order_acquire); }
  // True when request traffic may use Redis (CLOSED).
  bool AllowRequest() const { return state() == BreakerStateKind::kClosed; }

  // Outcome of a request made while CLOSED. A success resets the failure streak.
  void RecordSuccess();
  void RecordFailure();

  // Recovery thread: true if OPEN and the open interval has elapsed; then moves to HALF_OPEN
  // (the caller must follow with ProbeSucceeded() or ProbeFailed()).
  bool TryBeginProbe();
  // Milliseconds until a probe is due (0 if due now or not OPEN).
  int64_t MsUntilProbe() const;
  // HALF_OPEN -> CLOSED; resets the open interval.
  void ProbeSucceeded();
  // HALF_OPEN -> OPEN with the open interval doubled (capped).
  void ProbeFailed();
  // Forces OPEN (e.g. Redis unreachable at start-up) with the minimum interval.
  void ForceOpen();

  uint64_t opened_total() const { return opened_total_.load(std::memory_order_relaxed); }

 private:
  // Caller holds mu_; returns the previous state.
  BreakerStateKind SetStateLocked(BreakerStateKind to) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Notify(BreakerStateKind from, BreakerStateKind to);

  const BreakerOptions options_;
  const Clock* clock_;
  TransitionFn on_transition_;
  std::atomic<BreakerStateKind> state_{BreakerStateKind::kClosed};
  std::atomic<uint64_t> opened_total_{0};
  mutable std::mutex mu_;
  int consecutive_failures_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t open_interval_ms_ ABSL_GUARDED_BY(mu_);
  int64_t probe_at_ms_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tickmesh::cache
