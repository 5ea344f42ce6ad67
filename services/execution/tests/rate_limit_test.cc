#include "rate_limit.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace tickmesh::execution {
namespace {

constexpr int64_t kMs = 1'000'000;

std::map<std::string, std::vector<BucketSpec>> Parse(const std::string& spec) {
  auto r = ParseRateLimits(spec);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : std::map<std::string, std::vector<BucketSpec>>{};
}

TEST(RateLimiter, BinanceStyleWeightsRefillOverTheWindow) {
  int64_t now = 0;
  RateLimiter rl(Parse("binance/weight_1s=token:10:1000:order=2,cancel=1"), [&] { return now; });
  for (int i = 0; i < 5; ++i)
    EXPECT_TRUE(rl.TryAcquire("binance", RequestClass::kOrder, now).admitted);
  auto d = rl.TryAcquire("binance", RequestClass::kOrder, now);
  EXPECT_FALSE(d.admitted);
  EXPECT_EQ(d.bucket, "weight_1s");
  EXPECT_EQ(d.ready_ns, 200 * kMs);  // 2 weight at 10 per second
  now = 100 * kMs;                   // 1 weight back: a cancel (1) fits, an order (2) not yet
  EXPECT_FALSE(rl.TryAcquire("binance", RequestClass::kOrder, now).admitted);
  EXPECT_TRUE(rl.TryAcquire("binance", RequestClass::kCancel, now).admitted);
  now = 300 * kMs;
  EXPECT_TRUE(rl.TryAcquire("binance", RequestClass::kOrder, now).admitted);
  EXPECT_FALSE(rl.TryAcquire("binance", RequestClass::kOrder, now).admitted);
}

TEST(RateLimiter, KrakenStyleCounterDecaysAndFreeCancelsPass) {
  int64_t now = 0;
  RateLimiter rl(Parse("kraken/counter=decay:3:0.5:order=1,cancel=0"), [&] { return now; });
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(rl.TryAcquire("kraken", RequestClass::kOrder, now).admitted);
  auto d = rl.TryAcquire("kraken", RequestClass::kOrder, now);
  EXPECT_FALSE(d.admitted);
  EXPECT_EQ(d.ready_ns, 2000 * kMs);  // counter 3 -> 2 at 0.5/s
  EXPECT_TRUE(rl.TryAcquire("kraken", RequestClass::kCancel, now).admitted);
  now = 1999 * kMs;
  EXPECT_FALSE(rl.TryAcquire("kraken", RequestClass::kOrder, now).admitted);
  now = 2000 * kMs;
  EXPECT_TRUE(rl.TryAcquire("kraken", RequestClass::kOrder, now).admitted);
  EXPECT_NEAR(rl.Levels(now)["kraken"]["counter"], 3.0, 1e-9);
}

TEST(RateLimiter, AllBucketsMustHaveRoomAndNothingIsChargedOtherwise) {
  int64_t now = 0;
  RateLimiter rl(Parse("v/orders=token:2:1000:order=1;v/weight=token:100:1000:order=10"),
                 [&] { return now; });
  EXPECT_TRUE(rl.TryAcquire("v", RequestClass::kOrder, now).admitted);
  EXPECT_TRUE(rl.TryAcquire("v", RequestClass::kOrder, now).admitted);
  EXPECT_EQ(rl.TryAcquire("v", RequestClass::kOrder, now).bucket, "orders");
  EXPECT_NEAR(rl.Levels(now)["v"]["weight"], 20.0, 1e-9);  // refused request charged nothing
}

TEST(RateLimiter, StarAppliesToOtherVenuesAndUnlistedVenuesAreFree) {
  int64_t now = 0;
  RateLimiter star(Parse("*/all=token:1:1000:order=1"), [&] { return now; });
  EXPECT_TRUE(star.TryAcquire("a", RequestClass::kOrder, now).admitted);
  EXPECT_FALSE(star.TryAcquire("a", RequestClass::kOrder, now).admitted);
  EXPECT_TRUE(star.TryAcquire("b", RequestClass::kOrder, now).admitted);  // own buckets
  RateLimiter one(Parse("a/x=token:1:1000:order=1"), [&] { return now; });
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(one.TryAcquire("b", RequestClass::kOrder, now).admitted);
  EXPECT_FALSE(one.limited("b"));
}

TEST(RateLimiter, CostAboveMaxIsNeverAdmitted) {
  int64_t now = 0;
  RateLimiter rl(Parse("v/x=token:5:1000:order=6"), [&] { return now; });
  auto d = rl.TryAcquire("v", RequestClass::kOrder, now);
  EXPECT_FALSE(d.admitted);
  EXPECT_EQ(d.ready_ns, INT64_MAX);
}

TEST(ParseRateLimits, RejectsMalformedEntriesNamingThem) {
  for (const char* bad :
       {"v=token:1:1:order=1", "v/x=token:0:1000:order=1", "v/x=bucket:1:1:order=1",
        "v/x=token:1:1000:buy=1", "v/x=decay:1:nan:order=1", "v/x=token:1:1000"}) {
    auto r = ParseRateLimits(bad);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find("--rate_limits"), std::string::npos) << bad;
  }
  EXPECT_TRUE(ParseRateLimits("").ok());
}

class AdmissionQueueTest : public ::testing::Test {
 protected:
  AdmissionQueueTest()
      : limiter_(Parse("v/orders=token:1:1000:order=1,cancel=1"), [this] { return now_; }) {}

  std::function<void()> Ran(const std::string& name) {
    return [this, name] { log_.push_back("ran " + name); };
  }
  std::function<void(absl::Status)> Refused(const std::string& name) {
    return [this, name](absl::Status s) {
      log_.push_back("refused " + name + " " + std::string(s.message()));
    };
  }

  int64_t now_ = 0;
  RateLimiter limiter_;
  std::vector<std::string> log_;
};

TEST_F(AdmissionQueueTest, CancelsGoBeforeWaitingOrdersThenArrivalOrder) {
  AdmissionQueue q(&limiter_, {.order_budget_ns = 10'000 * kMs,
                               .cancel_budget_ns = 10'000 * kMs,
                               .max_queued_per_venue = 10});
  q.Submit("v", RequestClass::kOrder, Ran("o1"), Refused("o1"));  // takes the only token
  q.Submit("v", RequestClass::kOrder, Ran("o2"), Refused("o2"));
  q.Submit("v", RequestClass::kOrder, Ran("o3"), Refused("o3"));
  q.Submit("v", RequestClass::kCancel, Ran("c1"), Refused("c1"));
  EXPECT_EQ(q.queued(), 3u);
  EXPECT_EQ(q.Pump(now_), 1000 * kMs);  // next token
  now_ = 1000 * kMs;
  q.Pump(now_);
  now_ = 2000 * kMs;
  q.Pump(now_);
  now_ = 3000 * kMs;
  q.Pump(now_);
  EXPECT_EQ(log_, (std::vector<std::string>{"ran o1", "ran c1", "ran o2", "ran o3"}));
  EXPECT_EQ(q.queued(), 0u);
}

TEST_F(AdmissionQueueTest, RefusesPastTheBudgetWithTheBucketAndWhenFull) {
  AdmissionQueue q(
      &limiter_,
      {.order_budget_ns = 500 * kMs, .cancel_budget_ns = 1500 * kMs, .max_queued_per_venue = 2});
  q.Submit("v", RequestClass::kOrder, Ran("o1"), Refused("o1"));
  // The next token is 1 s away, beyond a 500 ms budget: refused at once.
  q.Submit("v", RequestClass::kOrder, Ran("o2"), Refused("o2"));
  EXPECT_EQ(log_.back(), "refused o2 rate_limit:orders");
  q.Submit("v", RequestClass::kCancel, Ran("c1"), Refused("c1"));  // waits (1.5 s budget)
  now_ = 100 * kMs;
  q.Submit("v", RequestClass::kCancel, Ran("c2"), Refused("c2"));  // queued behind c1
  q.Submit("v", RequestClass::kCancel, Ran("c3"), Refused("c3"));  // queue full
  EXPECT_EQ(log_.back(), "refused c3 rate_limit:queue_full");
  now_ = 1000 * kMs;
  q.Pump(now_);
  EXPECT_EQ(log_.back(), "ran c1");
  now_ = 1600 * kMs;  // c2's budget ends at 1.6 s, before its token at 2 s
  q.Pump(now_);
  EXPECT_EQ(log_.back(), "refused c2 rate_limit:orders");
}

TEST_F(AdmissionQueueTest, StopRefusesWaitingRequests) {
  AdmissionQueue q(&limiter_, {.order_budget_ns = 5000 * kMs});
  q.Submit("v", RequestClass::kOrder, Ran("o1"), Refused("o1"));
  q.Submit("v", RequestClass::kOrder, Ran("o2"), Refused("o2"));
  q.Stop();
  EXPECT_EQ(log_.back(), "refused o2 execution shutting down");
}

TEST(CircuitBreaker, OpensOnFailureRatioProbesWhenHalfOpenAndCloses) {
  CircuitBreaker b(
      {.window = 10, .min_calls = 4, .failure_ratio = 0.5, .open_ns = 1000, .half_open_probes = 2});
  int64_t t = 0;
  for (bool ok : {true, false, true}) {
    ASSERT_TRUE(b.Allow(t));
    b.Record(ok, t);
  }
  EXPECT_EQ(b.state(t), CircuitBreaker::State::kClosed);  // 3 calls < min_calls
  ASSERT_TRUE(b.Allow(t));
  b.Record(false, t);  // 2 of 4 failed
  EXPECT_EQ(b.state(t), CircuitBreaker::State::kOpen);
  EXPECT_FALSE(b.Allow(999));
  t = 1000;
  EXPECT_EQ(b.state(t), CircuitBreaker::State::kHalfOpen);
  EXPECT_TRUE(b.Allow(t));
  EXPECT_TRUE(b.Allow(t));
  EXPECT_FALSE(b.Allow(t));  // both probe slots out
  b.Release();               // one caller did not call the venue
  EXPECT_TRUE(b.Allow(t));
  b.Record(true, t);
  b.Record(false, t);  // a failing probe re-opens
  EXPECT_EQ(b.state(t), CircuitBreaker::State::kOpen);
  t = 2000;
  ASSERT_TRUE(b.Allow(t));
  b.Record(true, t);
  ASSERT_TRUE(b.Allow(t));
  b.Record(true, t);
  EXPECT_EQ(b.state(t), CircuitBreaker::State::kClosed);
}

TEST(CircuitBreaker, OldOutcomesLeaveTheWindow) {
  CircuitBreaker b(
      {.window = 4, .min_calls = 4, .failure_ratio = 0.75, .open_ns = 1000, .half_open_probes = 1});
  for (bool ok : {false, false, true, true, true, false, false}) b.Record(ok, 0);
  // The window holds the last 4 outcomes: {ok, ok, fail, fail}, 2/4 < 0.75.
  EXPECT_EQ(b.state(0), CircuitBreaker::State::kClosed);
  b.Record(false, 0);  // {true, false, false, false}: 3/4
  EXPECT_EQ(b.state(0), CircuitBreaker::State::kOpen);
}

TEST(RateLimiter, QueryClassesAreChargedOnlyWhereConfigured) {
  auto specs = ParseRateLimits("v/weight=token:100:1000:order=1,query=80");
  ASSERT_TRUE(specs.ok()) << specs.status();
  int64_t now = 0;
  RateLimiter rl(*specs, [&] { return now; });
  EXPECT_TRUE(rl.TryAcquire("v", RequestClass::kOpenOrders, now).admitted);
  auto d = rl.TryAcquire("v", RequestClass::kQueryOrder, now);
  EXPECT_FALSE(d.admitted);
  EXPECT_EQ(d.bucket, "weight");
  EXPECT_TRUE(rl.TryAcquire("v", RequestClass::kCancel, now).admitted);  // cancel costs 0
  EXPECT_FALSE(ParseRateLimits("v/b=token:1:1000:poll=1").ok());
}

TEST(ParseRateLimits, QueryCostsEveryQueryClassWithoutItsOwn) {
  // Order of the entries does not matter: a class named on its own keeps its cost.
  for (const char* spec : {"v/w=token:6000:60000:open_orders=80,query=4,cancel=1",
                           "v/w=token:6000:60000:query=4,open_orders=80,cancel=1"}) {
    auto specs = ParseRateLimits(spec);
    ASSERT_TRUE(specs.ok()) << specs.status();
    const BucketSpec& b = specs->at("v").at(0);
    EXPECT_EQ(b.cost[static_cast<int>(RequestClass::kOrder)], 0);
    EXPECT_EQ(b.cost[static_cast<int>(RequestClass::kCancel)], 1);
    EXPECT_EQ(b.cost[static_cast<int>(RequestClass::kQueryOrder)], 4);
    EXPECT_EQ(b.cost[static_cast<int>(RequestClass::kOpenOrders)], 80);
    EXPECT_EQ(b.cost[static_cast<int>(RequestClass::kOrderTrades)], 4);
    EXPECT_EQ(b.cost[static_cast<int>(RequestClass::kBalances)], 4);
  }
  for (int i = 0; i < kRequestClasses; ++i) {
    const std::string name = RequestClassName(static_cast<RequestClass>(i));
    auto one = ParseRateLimits("v/w=token:10:1000:" + name + "=3");
    ASSERT_TRUE(one.ok()) << name;
    for (int j = 0; j < kRequestClasses; ++j) {
      EXPECT_EQ(one->at("v").at(0).cost[j], i == j ? 3 : 0) << name << " " << j;
    }
  }
  auto bad = ParseRateLimits("v/w=token:10:1000:query_orders=1");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("v/w=token:10:1000:query_orders=1"), std::string::npos);
  EXPECT_FALSE(ParseRateLimits("v/w=token:10:1000:trades=-1").ok());
}

TEST(RateLimiter, EachRequestSpendsItsOwnWeightAndWeightComesBackWithTheClock) {
  // Binance REQUEST_WEIGHT: 6000 / min, order lookup 4, open orders of all symbols 80.
  auto specs = ParseRateLimits("binance/weight_1m=token:6000:60000:query_order=4,open_orders=80");
  ASSERT_TRUE(specs.ok()) << specs.status();
  int64_t now = 0;
  RateLimiter rl(*specs, [&] { return now; });
  int lookups = 0;
  while (rl.TryAcquire("binance", RequestClass::kQueryOrder, now).admitted) ++lookups;
  EXPECT_EQ(lookups, 1500);
  auto d = rl.TryAcquire("binance", RequestClass::kOpenOrders, now);
  EXPECT_FALSE(d.admitted);
  EXPECT_EQ(d.ready_ns, 800'000'000);  // 80 weight at 100 / s
  // 40 ms bring back one lookup's weight, not an open-orders call's.
  now = 40'000'000;
  EXPECT_FALSE(rl.TryAcquire("binance", RequestClass::kOpenOrders, now).admitted);
  EXPECT_TRUE(rl.TryAcquire("binance", RequestClass::kQueryOrder, now).admitted);
  EXPECT_FALSE(rl.TryAcquire("binance", RequestClass::kQueryOrder, now).admitted);
  now = 840'000'000;
  EXPECT_TRUE(rl.TryAcquire("binance", RequestClass::kOpenOrders, now).admitted);
  EXPECT_FALSE(rl.TryAcquire("binance", RequestClass::kQueryOrder, now).admitted);
  EXPECT_DOUBLE_EQ(rl.Levels(now)["binance"]["weight_1m"], 6000);
}

}  // namespace
}  // namespace tickmesh::execution
