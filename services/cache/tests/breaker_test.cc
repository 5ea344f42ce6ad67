#include "breaker.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace tickmesh::cache {
namespace {

struct Recorder {
  std::vector<std::pair<BreakerStateKind, BreakerStateKind>> transitions;
  CircuitBreaker::TransitionFn fn() {
    return
        [this](BreakerStateKind from, BreakerStateKind to) { transitions.emplace_back(from, to); };
  }
};

BreakerOptions Opts(const Clock* clock) {
  BreakerOptions o;
  o.failure_threshold = 3;
  o.min_open_ms = 100;
  o.max_open_ms = 400;
  o.clock = clock;
  return o;
}

TEST(CircuitBreaker, OpensAfterConsecutiveFailures) {
  FakeClock clock;
  Recorder rec;
  CircuitBreaker b(Opts(&clock), rec.fn());
  EXPECT_TRUE(b.AllowRequest());
  b.RecordFailure();
  b.RecordFailure();
  EXPECT_TRUE(b.AllowRequest());
  b.RecordFailure();
  EXPECT_EQ(b.state(), BreakerStateKind::kOpen);
  EXPECT_FALSE(b.AllowRequest());
  EXPECT_EQ(b.opened_total(), 1u);
  ASSERT_EQ(rec.transitions.size(), 1u);
  EXPECT_EQ(rec.transitions[0].second, BreakerStateKind::kOpen);
}

TEST(CircuitBreaker, SuccessResetsFailureStreak) {
  FakeClock clock;
  CircuitBreaker b(Opts(&clock));
  b.RecordFailure();
  b.RecordFailure();
  b.RecordSuccess();
  b.RecordFailure();
  b.RecordFailure();
  EXPECT_EQ(b.state(), BreakerStateKind::kClosed);
}

TEST(CircuitBreaker, ProbesOnlyAfterOpenInterval) {
  FakeClock clock;
  CircuitBreaker b(Opts(&clock));
  for (int i = 0; i < 3; ++i) b.RecordFailure();
  EXPECT_FALSE(b.TryBeginProbe());
  EXPECT_EQ(b.MsUntilProbe(), 100);
  clock.AdvanceMs(100);
  EXPECT_TRUE(b.TryBeginProbe());
  EXPECT_EQ(b.state(), BreakerStateKind::kHalfOpen);
  EXPECT_FALSE(b.AllowRequest());  // only the probe talks to Redis
  EXPECT_FALSE(b.TryBeginProbe());
  b.ProbeSucceeded();
  EXPECT_EQ(b.state(), BreakerStateKind::kClosed);
}

TEST(CircuitBreaker, FailedProbeReopensWithDoubledCappedInterval) {
  FakeClock clock;
  Recorder rec;
  CircuitBreaker b(Opts(&clock), rec.fn());
  for (int i = 0; i < 3; ++i) b.RecordFailure();
  int64_t expected[] = {200, 400, 400};
  clock.AdvanceMs(100);
  for (int64_t interval : expected) {
    ASSERT_TRUE(b.TryBeginProbe());
    b.ProbeFailed();
    EXPECT_EQ(b.state(), BreakerStateKind::kOpen);
    EXPECT_EQ(b.MsUntilProbe(), interval);
    clock.AdvanceMs(interval);
  }
  ASSERT_TRUE(b.TryBeginProbe());
  b.ProbeSucceeded();
  // Back to the minimum interval after recovering.
  for (int i = 0; i < 3; ++i) b.RecordFailure();
  EXPECT_EQ(b.MsUntilProbe(), 100);
  EXPECT_EQ(rec.transitions.front().first, BreakerStateKind::kClosed);
  EXPECT_EQ(rec.transitions.back().second, BreakerStateKind::kOpen);
}

TEST(CircuitBreaker, LateFailuresWhileOpenDoNotExtendIt) {
  FakeClock clock;
  CircuitBreaker b(Opts(&clock));
  for (int i = 0; i < 3; ++i) b.RecordFailure();
  clock.AdvanceMs(50);
  b.RecordFailure();
  EXPECT_EQ(b.MsUntilProbe(), 50);
  EXPECT_EQ(b.opened_total(), 1u);
}

TEST(CircuitBreaker, ForceOpenStartsOpen) {
  FakeClock clock;
  CircuitBreaker b(Opts(&clock));
  b.ForceOpen();
  EXPECT_EQ(b.state(), BreakerStateKind::kOpen);
  clock.AdvanceMs(100);
  EXPECT_TRUE(b.TryBeginProbe());
}

}  // namespace
}  // namespace tickmesh::cache
