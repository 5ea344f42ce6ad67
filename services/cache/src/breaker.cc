#include "breaker.h"

#include <algorithm>

namespace tickmesh::cache {

const char* BreakerStateName(BreakerStateKind state) {
  switch (state) {
    case BreakerStateKind::kClosed:
      return "closed";
    case BreakerStateKind::kOpen:
      return "open";
    case BreakerStateKind::kHalfOpen:
      return "half_open";
  }
  return "unknown";
}

CircuitBreaker::CircuitBreaker(const BreakerOptions& options, TransitionFn on_transition)
    : options_(options),
      clock_(options.clock != nullptr ? options.clock : SteadyClock::Get()),
      on_transition_(std::move(on_transition)),
      open_interval_ms_(std::max<int64_t>(1, options.min_open_ms)) {}

BreakerStateKind CircuitBreaker::SetStateLocked(BreakerStateKind to) {
  BreakerStateKind from = state_.load(std::memory_order_relaxed);
  state_.store(to, std::memory_order_release);
  if (to == BreakerStateKind::kOpen && from != BreakerStateKind::kOpen) {
    opened_total_.fetch_add(1, std::memory_order_relaxed);
  }
  return from;
}

void CircuitBreaker::Notify(BreakerStateKind from, BreakerStateKind to) {
  if (from != to && on_transition_) on_transition_(from, to);
}

void CircuitBreaker::RecordSuccess() {
  std::lock_guard<std::mutex> lock(mu_);
  consecutive_failures_ = 0;
}

void CircuitBreaker::RecordFailure() {
  BreakerStateKind from, to;
  {
    std::lock_guard<std::mutex> lock(mu_);
    from = to = state_.load(std::memory_order_relaxed);
    if (from != BreakerStateKind::kClosed) return;  // late result of a request made while closed
    if (++consecutive_failures_ < options_.failure_threshold) return;
    consecutive_failures_ = 0;
    open_interval_ms_ = std::max<int64_t>(1, options_.min_open_ms);
    probe_at_ms_ = clock_->NowMs() + open_interval_ms_;
    to = BreakerStateKind::kOpen;
    SetStateLocked(to);
  }
  Notify(from, to);
}

bool CircuitBreaker::TryBeginProbe() {
  BreakerStateKind from;
  {
    std::lock_guard<std::mutex> lock(mu_);
    from = state_.load(std::memory_order_relaxed);
    if (from != BreakerStateKind::kOpen || clock_->NowMs() < probe_at_ms_) return false;
    SetStateLocked(BreakerStateKind::kHalfOpen);
  }
  Notify(from, BreakerStateKind::kHalfOpen);
  return true;
}

int64_t CircuitBreaker::MsUntilProbe() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_.load(std::memory_order_relaxed) != BreakerStateKind::kOpen) return 0;
  return std::max<int64_t>(0, probe_at_ms_ - clock_->NowMs());
}

void CircuitBreaker::ProbeSucceeded() {
  BreakerStateKind from;
  {
    std::lock_guard<std::mutex> lock(mu_);
    from = state_.load(std::memory_order_relaxed);
    if (from != BreakerStateKind::kHalfOpen) return;
    consecutive_failures_ = 0;
    open_interval_ms_ = std::max<int64_t>(1, options_.min_open_ms);
    SetStateLocked(BreakerStateKind::kClosed);
  }
  Notify(from, BreakerStateKind::kClosed);
}

void CircuitBreaker::ProbeFailed() {
  BreakerStateKind from;
  {
    std::lock_guard<std::mutex> lock(mu_);
    from = state_.load(std::memory_order_relaxed);
    if (from != BreakerStateKind::kHalfOpen) return;
    open_interval_ms_ = std::min<int64_t>(open_interval_ms_ * 2, options_.max_open_ms);
    probe_at_ms_ = clock_->NowMs() + open_interval_ms_;
    SetStateLocked(BreakerStateKind::kOpen);
  }
  Notify(from, BreakerStateKind::kOpen);
}

void CircuitBreaker::ForceOpen() {
  BreakerStateKind from;
  {
    std::lock_guard<std::mutex> lock(mu_);
    from = state_.load(std::memory_order_relaxed);
    consecutive_failures_ = 0;
    open_interval_ms_ = std::max<int64_t>(1, options_.min_open_ms);
    probe_at_ms_ = clock_->NowMs() + open_interval_ms_;
    SetStateLocked(BreakerStateKind::kOpen);
  }
  Notify(from, BreakerStateKind::kOpen);
}

}  // namespace tickmesh::cache
