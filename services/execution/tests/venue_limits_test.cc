// Venue rate-limit reports: parsing the venues' headers / refusals (ParseVenueLimits) with the
// examples from their documentation, the limiter following them (RateLimiter::Observe), and the
// VenueWorker pausing and re-sending a place the venue refused for its rate limit.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "rate_limit.h"
#include "venue.h"
#include "venue_worker.h"

namespace tickmesh::execution {
namespace {

constexpr int64_t kMs = 1'000'000;
using Headers = std::vector<std::pair<std::string, std::string>>;

std::map<std::string, std::vector<BucketSpec>> Parse(const std::string& spec) {
  auto r = ParseRateLimits(spec);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : std::map<std::string, std::vector<BucketSpec>>{};
}

const LimitUsage* Find(const VenueLimitReport& r, const std::string& key) {
  for (const auto& u : r.usages) {
    if (u.key == key) return &u;
  }
  return nullptr;
}

// 1970-01-01 00:01:23.456 UTC, the instant of Binance's interval example.
constexpr int64_t kAt012345 = 83'456;

// --- Parsing ---

TEST(ParseVenueLimits, BinanceUsedWeightAndOrderCountsWithTheirFixedIntervals) {
  // https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits: "Every request
  // will contain X-MBX-USED-WEIGHT-(intervalNum)(intervalLetter)"; successful order responses
  // X-MBX-ORDER-COUNT-(intervalNum)(intervalLetter). Binance Academy's example:
  // "X-MBX-USED-WEIGHT-1M=100 indicates 100 weight used for a 1-minute span". Binance sends the
  // names in lower case; the legacy interval-less x-mbx-used-weight is not a limit of its own.
  const Headers h = {{"Content-Type", "application/json;charset=UTF-8"},
                     {"x-mbx-used-weight", "100"},
                     {"x-mbx-used-weight-1m", "100"},
                     {"X-MBX-ORDER-COUNT-10S", "3"},
                     {"X-MBX-ORDER-COUNT-1D", "1000"}};
  VenueLimitReport r = ParseVenueLimits("binance", RequestClass::kOrder, 200, h, "{}", kAt012345);
  EXPECT_TRUE(r.answered);
  EXPECT_FALSE(r.throttled);
  EXPECT_TRUE(r.malformed.empty());
  ASSERT_EQ(r.usages.size(), 3u);
  const LimitUsage* w = Find(r, "X-MBX-USED-WEIGHT-1M");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->used, 100);
  EXPECT_TRUE(w->fixed_window);
  // "A request submitted at 00:01:23.456 counts towards the 00:01:00 minute's limit. Once the
  // 00:02:00 minute starts, the count will reset to zero again."
  EXPECT_EQ(w->reset_in_ms, 36'544);
  ASSERT_NE(Find(r, "X-MBX-ORDER-COUNT-10S"), nullptr);
  EXPECT_EQ(Find(r, "X-MBX-ORDER-COUNT-10S")->used, 3);
  EXPECT_EQ(Find(r, "X-MBX-ORDER-COUNT-10S")->reset_in_ms, 6'544);
  EXPECT_EQ(Find(r, "X-MBX-ORDER-COUNT-1D")->used, 1000);
  EXPECT_EQ(Find(r, "X-MBX-ORDER-COUNT-1D")->reset_in_ms, 86'400'000 - kAt012345);
}

TEST(ParseVenueLimits, Binance429And418ThrottleWithRetryAfterAnd1015OnlyOrders) {
  // Same page: "A Retry-After header is sent with a 418 or 429 responses and will give the
  // number of seconds required to wait". Error bodies per
  // https://developers.binance.com/docs/binance-spot-api-docs/errors (-1003 TOO_MANY_REQUESTS,
  // -1015 TOO_MANY_ORDERS).
  const std::string weight_body =
      R"({"code":-1003,"msg":"Too many requests; current limit is 1200 requests per minute. )"
      R"(Please use the websocket for live updates to avoid polling the API."})";
  VenueLimitReport r = ParseVenueLimits("binance", RequestClass::kBalances, 429,
                                        {{"Retry-After", "37"}, {"x-mbx-used-weight-1m", "1210"}},
                                        weight_body, kAt012345);
  EXPECT_TRUE(r.throttled);
  EXPECT_EQ(r.blocked, kAllClasses);  // the IP's weight: every endpoint
  EXPECT_EQ(r.retry_after_ms, 37'000);
  EXPECT_FALSE(r.drain);
  ASSERT_NE(Find(r, "X-MBX-USED-WEIGHT-1M"), nullptr);

  r = ParseVenueLimits("binance", RequestClass::kOrder, 429, {{"retry-after", "6"}},
                       R"({"code": -1015, "msg": "Too many new orders; current limit is 10 )"
                       R"(orders per SECOND."})",
                       kAt012345);
  EXPECT_TRUE(r.throttled);
  EXPECT_EQ(r.blocked, ClassBit(RequestClass::kOrder));
  EXPECT_EQ(r.retry_after_ms, 6'000);

  r = ParseVenueLimits(
      "binance", RequestClass::kQueryOrder, 418, {{"Retry-After", "120"}},
      R"({"code":-1003,"msg":"Way too many requests; IP banned until )"
      R"(1659146400000. Please use the websocket for live updates to avoid bans."})",
      kAt012345);
  EXPECT_TRUE(r.throttled);
  EXPECT_EQ(r.blocked, kAllClasses);
  EXPECT_EQ(r.retry_after_ms, 120'000);

  // A 400 (bad parameter) is no throttle.
  r = ParseVenueLimits("binance", RequestClass::kOrder, 400, {},
                       R"({"code":-1013,"msg":"Filter failure: PRICE_FILTER"})", kAt012345);
  EXPECT_FALSE(r.throttled);
}

TEST(ParseVenueLimits, BybitRemainingLimitAndResetTimestamp) {
  // https://bybit-exchange.github.io/docs/v5/rate-limit — "Http Response Header Example":
  //   X-Bapi-Limit: 100 / X-Bapi-Limit-Status: 99 / X-Bapi-Limit-Reset-Timestamp: 1672738134824
  // (the reset timestamp "is just the current timestamp" unless the limit was exceeded).
  const int64_t now = 1672738134824;
  const Headers h = {{"X-Bapi-Limit", "100"},
                     {"X-Bapi-Limit-Status", "99"},
                     {"X-Bapi-Limit-Reset-Timestamp", "1672738134824"}};
  const std::string ok_body =
      R"({"retCode":0,"retMsg":"OK","result":{"orderId":"1321003749386327552",)"
      R"("orderLinkId":"spot-test-postonly"},"retExtInfo":{},"time":1672211918471})";
  VenueLimitReport r = ParseVenueLimits("bybit", RequestClass::kOrder, 200, h, ok_body, now);
  EXPECT_FALSE(r.throttled);
  EXPECT_TRUE(r.malformed.empty());
  ASSERT_EQ(r.usages.size(), 1u);
  EXPECT_EQ(r.usages[0].key, "X-Bapi-Limit-Status");
  EXPECT_EQ(r.usages[0].remaining, 99);
  EXPECT_EQ(r.usages[0].limit, 100);
  EXPECT_EQ(r.usages[0].reset_in_ms, 0);
  EXPECT_FALSE(r.usages[0].fixed_window);

  // retCode 10006 "Too many visits!": this endpoint (class) until the reset.
  r = ParseVenueLimits(
      "bybit", RequestClass::kCancel, 200,
      {{"x-bapi-limit", "20"},
       {"x-bapi-limit-status", "0"},
       {"x-bapi-limit-reset-timestamp", "1672738135224"}},
      R"({"retCode":10006,"retMsg":"Too many visits!","result":{},"retExtInfo":{},"time":1672738134824})",
      now);
  EXPECT_TRUE(r.throttled);
  EXPECT_EQ(r.blocked, ClassBit(RequestClass::kCancel));
  EXPECT_EQ(r.retry_after_ms, 400);
  EXPECT_EQ(r.usages[0].remaining, 0);
  EXPECT_EQ(r.usages[0].reset_in_ms, 400);

  // HTTP 403 "access too frequent" (IP): every class, "wait for at least 10 minutes".
  r = ParseVenueLimits("bybit", RequestClass::kBalances, 403, {}, "", now);
  EXPECT_TRUE(r.throttled);
  EXPECT_EQ(r.blocked, kAllClasses);
  EXPECT_EQ(r.retry_after_ms, 600'000);
}

TEST(ParseVenueLimits, KrakenRateErrorsDrainWithoutUsage) {
  // https://docs.kraken.com/api/docs/guides/spot-rest-ratelimits: "EAPI:Rate limit exceeded"
  // (REST counter), "EOrder:Rate limit exceeded" (trading engine counter); errors come in the
  // body's error array with HTTP 200.
  VenueLimitReport r = ParseVenueLimits("kraken", RequestClass::kOpenOrders, 200, {},
                                        R"({"error":["EAPI:Rate limit exceeded"]})", 0);
  EXPECT_TRUE(r.throttled);
  EXPECT_TRUE(r.drain);
  EXPECT_EQ(r.blocked, kQueryClasses);
  EXPECT_EQ(r.retry_after_ms, -1);  // no wait given: backoff
  EXPECT_TRUE(r.usages.empty());
  r = ParseVenueLimits("kraken", RequestClass::kOrder, 200, {},
                       R"({"error":["EOrder:Rate limit exceeded"]})", 0);
  EXPECT_EQ(r.blocked, ClassBit(RequestClass::kOrder) | ClassBit(RequestClass::kCancel));
  r = ParseVenueLimits("kraken", RequestClass::kOrder, 200, {},
                       R"({"error":[],"result":{"txid":["OUF4EM-FRGI2-MQMWZD"]}})", 0);
  EXPECT_FALSE(r.throttled);
}

TEST(ParseVenueLimits, MalformedValuesAreListedAndIgnored) {
  VenueLimitReport r = ParseVenueLimits("binance", RequestClass::kOrder, 429,
                                        {{"X-MBX-USED-WEIGHT-1M", "abc"},
                                         {"X-MBX-USED-WEIGHT-1X", "5"},
                                         {"X-MBX-USED-WEIGHT-M", "5"},
                                         {"X-MBX-USED-WEIGHT-10S", "-5"},
                                         {"X-MBX-USED-WEIGHT-1H", "99999999999999999999999"},
                                         {"X-MBX-ORDER-COUNT-1D", " 7 "},
                                         {"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}},
                                        "not json", kAt012345);
  EXPECT_EQ(r.malformed.size(), 6u);
  ASSERT_EQ(r.usages.size(), 1u);  // only the well-formed one (surrounding blanks are fine)
  EXPECT_EQ(r.usages[0].used, 7);
  EXPECT_TRUE(r.throttled);
  EXPECT_EQ(r.retry_after_ms, -1);  // unusable Retry-After: backoff instead

  r = ParseVenueLimits("bybit", RequestClass::kOrder, 200,
                       {{"X-Bapi-Limit-Status", "1e3"},
                        {"X-Bapi-Limit", "0"},
                        {"X-Bapi-Limit-Reset-Timestamp", "99999999999999"}},
                       "", 1672738134824);
  EXPECT_EQ(r.malformed.size(), 2u);  // status and reset (the limit is unused without a status)
  EXPECT_TRUE(r.usages.empty());
  r = ParseVenueLimits("bybit", RequestClass::kOrder, 200,
                       {{"X-Bapi-Limit-Status", "5"}, {"X-Bapi-Limit", "-1"}}, "", 1672738134824);
  ASSERT_EQ(r.usages.size(), 1u);
  EXPECT_EQ(r.usages[0].limit, 0);  // bad limit ignored, remaining kept
  EXPECT_EQ(r.malformed.size(), 1u);
  // Venues without reports.
  EXPECT_TRUE(ParseVenueLimits("paper", RequestClass::kOrder, 429, {}, "", 0).usages.empty());
  EXPECT_FALSE(ParseVenueLimits("paper", RequestClass::kOrder, 429, {}, "", 0).throttled);
}

TEST(ParseRateLimits, SyncHeaderIsAnOptionalFifthField) {
  auto specs = Parse(
      "binance/weight_1m=token:6000:60000:order=1:X-MBX-USED-WEIGHT-1M;"
      "bybit/create=token:20:1000:order=1:X-Bapi-Limit-Status;kraken/c=decay:15:0.33:query=1");
  EXPECT_EQ(specs["binance"][0].sync, "X-MBX-USED-WEIGHT-1M");
  EXPECT_EQ(specs["binance"][0].window_ns, 60'000 * kMs);
  EXPECT_EQ(specs["bybit"][0].sync, "X-Bapi-Limit-Status");
  EXPECT_EQ(specs["kraken"][0].sync, "");
  auto bad = ParseRateLimits("v/x=token:1:1000:order=1:X-Made-Up");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("SYNC"), std::string::npos);
  EXPECT_FALSE(ParseRateLimits("v/x=token:1:1000:order=1:X-MBX-USED-WEIGHT-1M:extra").ok());
}

// --- The limiter following the venue ---

VenueLimitReport Used(const std::string& key, double used, int64_t reset_in_ms) {
  VenueLimitReport r;
  r.answered = true;
  LimitUsage u;
  u.key = key;
  u.used = used;
  u.reset_in_ms = reset_in_ms;
  u.fixed_window = true;
  r.usages.push_back(u);
  return r;
}

TEST(RateLimiterSync, BinanceUsedWeightBecomesTheLevelHeldUntilTheIntervalEnds) {
  int64_t now = 0;
  RateLimiter rl(
      Parse("binance/weight_1m=token:100:60000:order=1,balances=20:X-MBX-USED-WEIGHT-1M"),
      [&] { return now; });
  ASSERT_TRUE(rl.TryAcquire("binance", RequestClass::kBalances, now).admitted);
  EXPECT_NEAR(rl.Levels(now)["binance"]["weight_1m"], 20, 1e-9);  // the local estimate
  // Another client of the IP spent weight: the venue reports 90 used, 30 s left in the minute.
  rl.Observe("binance", RequestClass::kBalances, 1, Used("X-MBX-USED-WEIGHT-1M", 90, 30'000), now);
  EXPECT_NEAR(rl.Levels(now)["binance"]["weight_1m"], 90, 1e-9);
  auto d = rl.TryAcquire("binance", RequestClass::kBalances, now);
  EXPECT_FALSE(d.admitted);
  EXPECT_EQ(d.bucket, "weight_1m");
  EXPECT_EQ(d.ready_ns, 30'000 * kMs);  // when the venue's minute ends, not the decay's estimate
  now = 29'400 * kMs;                   // no decay while the venue's interval runs
  EXPECT_NEAR(rl.Levels(now)["binance"]["weight_1m"], 90, 1e-9);
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(rl.TryAcquire("binance", RequestClass::kOrder, now).admitted);
  }
  EXPECT_FALSE(rl.TryAcquire("binance", RequestClass::kOrder, now).admitted);
  // The venue's count restarted: only the 10 unanswered orders remain (not aged: they are still
  // to be counted by the venue).
  now = 30'000 * kMs;
  EXPECT_NEAR(rl.Levels(now)["binance"]["weight_1m"], 10, 1e-6);
  EXPECT_TRUE(rl.TryAcquire("binance", RequestClass::kBalances, now).admitted);
}

TEST(RateLimiterSync, SlowAnswersKeepTheOtherOutstandingRequestsCounted) {
  // 400 weight per 2 s (decay 200/s: a weight-1 charge would age out in 5 ms). Two orders are
  // admitted; the first is answered 20 ms later with the venue's count (another client spent
  // 345): the second, still unanswered, must stay on top of it, or one order too many is sent
  // into the venue's 429.
  int64_t now = 0;
  RateLimiter rl(Parse("binance/weight_2s=token:400:2000:order=1:X-MBX-USED-WEIGHT-2S"),
                 [&] { return now; });
  ASSERT_TRUE(rl.TryAcquire("binance", RequestClass::kOrder, now).admitted);
  now = 12 * kMs;
  ASSERT_TRUE(rl.TryAcquire("binance", RequestClass::kOrder, now).admitted);
  now = 20 * kMs;
  rl.Observe("binance", RequestClass::kOrder, 1, Used("X-MBX-USED-WEIGHT-2S", 346, 1'980), now);
  EXPECT_NEAR(rl.Levels(now)["binance"]["weight_2s"], 347, 1e-9);
  // 53 more fit (400), the 54th does not, however slowly the answers come within the interval.
  for (int i = 0; i < 53; ++i) {
    now += 10 * kMs;
    ASSERT_TRUE(rl.TryAcquire("binance", RequestClass::kOrder, now).admitted) << i;
  }
  now += 500 * kMs;
  EXPECT_FALSE(rl.TryAcquire("binance", RequestClass::kOrder, now).admitted);
  // The interval ended with the 54 still unanswered: they are what the venue will count next.
  now = 2'000 * kMs;
  EXPECT_NEAR(rl.Levels(now)["binance"]["weight_2s"], 54, 1e-6);
  // ... and do not decay away while unanswered.
  now = 3'000 * kMs;
  EXPECT_NEAR(rl.Levels(now)["binance"]["weight_2s"], 54, 1e-6);
  // Never answered (never sent): forgotten after the time to live (10 s here), not before.
  now = RateLimiter::kPendingMinTtlNs;
  EXPECT_NEAR(rl.Levels(now)["binance"]["weight_2s"], 54, 1e-6);
  now = RateLimiter::kPendingMinTtlNs + 600 * kMs;
  EXPECT_NEAR(rl.Levels(now)["binance"]["weight_2s"], 0, 1e-9);
}

TEST(RateLimiterSync, UnansweredRequestsAreAddedToTheVenueCount) {
  int64_t now = 0;
  RateLimiter rl(Parse("binance/orders_10s=token:50:10000:order=1:X-MBX-ORDER-COUNT-10S"),
                 [&] { return now; });
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(rl.TryAcquire("binance", RequestClass::kOrder, now).admitted);
  // The first order's answer: the venue counted 41 (ours and others'); 4 of ours still to come.
  rl.Observe("binance", RequestClass::kOrder, 1, Used("X-MBX-ORDER-COUNT-10S", 41, 5'000), now);
  EXPECT_NEAR(rl.Levels(now)["binance"]["orders_10s"], 45, 1e-9);
  // A cancel's answer does not touch the order bucket (it does not charge it).
  rl.Observe("binance", RequestClass::kCancel, 1, Used("X-MBX-ORDER-COUNT-10S", 0, 5'000), now);
  EXPECT_NEAR(rl.Levels(now)["binance"]["orders_10s"], 45, 1e-9);
  // A report for a header the bucket does not follow changes nothing.
  rl.Observe("binance", RequestClass::kOrder, 1, Used("X-MBX-USED-WEIGHT-1M", 0, 5'000), now);
  EXPECT_NEAR(rl.Levels(now)["binance"]["orders_10s"], 45, 1e-9);
}

TEST(RateLimiterSync, AResendAfterARefusalIsOutstandingUntilItsAnswer) {
  int64_t now = 0;
  RateLimiter rl(Parse("binance/weight_1m=token:100:60000:order=1:X-MBX-USED-WEIGHT-1M"),
                 [&] { return now; });
  ASSERT_TRUE(rl.TryAcquire("binance", RequestClass::kOrder, now).admitted);
  ASSERT_TRUE(rl.TryAcquire("binance", RequestClass::kOrder, now).admitted);
  // The first is refused (not counted by the venue, which reports 50): the second is still out.
  VenueLimitReport refused = Used("X-MBX-USED-WEIGHT-1M", 50, 30'000);
  refused.throttled = true;
  refused.blocked = kAllClasses;
  refused.retry_after_ms = 1'000;
  rl.Observe("binance", RequestClass::kOrder, 1, refused, now);
  EXPECT_NEAR(rl.Levels(now)["binance"]["weight_1m"], 51, 1e-9);
  // Sent again later: outstanding again, until its own answer.
  rl.ChargeResend("binance", RequestClass::kOrder, now);
  EXPECT_NEAR(rl.Levels(now)["binance"]["weight_1m"], 52, 1e-9);
  now = 1'000 * kMs;
  // The second's answer (the venue counted it: 51) leaves the resend on top.
  rl.Observe("binance", RequestClass::kOrder, 1, Used("X-MBX-USED-WEIGHT-1M", 51, 29'000), now);
  EXPECT_NEAR(rl.Levels(now)["binance"]["weight_1m"], 52, 1e-9);
  rl.Observe("binance", RequestClass::kOrder, 1, Used("X-MBX-USED-WEIGHT-1M", 52, 29'000), now);
  EXPECT_NEAR(rl.Levels(now)["binance"]["weight_1m"], 52, 1e-9);
}

TEST(RateLimiterSync, BybitLimitReplacesTheMaxAndAnEmptyEndpointWaitsForTheReset) {
  int64_t now = 0;
  RateLimiter rl(Parse("bybit/create_1s=token:20:1000:order=1:X-Bapi-Limit-Status"),
                 [&] { return now; });
  VenueLimitReport r;
  r.answered = true;
  LimitUsage u;
  u.key = "X-Bapi-Limit-Status";
  u.remaining = 3;
  u.limit = 10;
  u.reset_in_ms = 0;
  r.usages.push_back(u);
  rl.Observe("bybit", RequestClass::kOrder, 1, r, now);
  EXPECT_NEAR(rl.Levels(now)["bybit"]["create_1s"], 7, 1e-9);
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(rl.TryAcquire("bybit", RequestClass::kOrder, now).admitted);
  auto d = rl.TryAcquire("bybit", RequestClass::kOrder, now);
  EXPECT_FALSE(d.admitted);
  EXPECT_EQ(d.ready_ns, 100 * kMs);  // the venue's limit 10/s: one back every 100 ms
  r.usages[0].remaining = 0;
  r.usages[0].reset_in_ms = 400;
  rl.Observe("bybit", RequestClass::kOrder, 3, r, now);
  d = rl.TryAcquire("bybit", RequestClass::kOrder, now);
  EXPECT_FALSE(d.admitted);
  EXPECT_EQ(d.ready_ns, 400 * kMs);
  now = 400 * kMs;
  EXPECT_TRUE(rl.TryAcquire("bybit", RequestClass::kOrder, now).admitted);
}

VenueLimitReport Throttled(ClassMask blocked, int64_t retry_after_ms, bool drain = false) {
  VenueLimitReport r;
  r.answered = true;
  r.throttled = true;
  r.blocked = blocked;
  r.retry_after_ms = retry_after_ms;
  r.drain = drain;
  return r;
}

TEST(RateLimiterSync, ThrottleBlocksItsClassesUntilRetryAfterThenBacksOffWithoutOne) {
  int64_t now = 0;
  RateLimiter rl(Parse("binance/weight_1m=token:6000:60000:order=1,cancel=1,query=1"),
                 [&] { return now; });
  EXPECT_EQ(rl.Observe("binance", RequestClass::kOrder, 1,
                       Throttled(ClassBit(RequestClass::kOrder), 2'000), now),
            2'000 * kMs);
  auto d = rl.TryAcquire("binance", RequestClass::kOrder, now);
  EXPECT_FALSE(d.admitted);
  EXPECT_EQ(d.bucket, "venue_throttle");
  EXPECT_EQ(d.ready_ns, 2'000 * kMs);
  EXPECT_TRUE(rl.TryAcquire("binance", RequestClass::kCancel, now).admitted);  // not blocked
  EXPECT_EQ(rl.BlockedUntil("binance", RequestClass::kOrder, now), 2'000 * kMs);
  EXPECT_NEAR(rl.Throttles(now)["binance"]["order"], 2.0, 1e-9);
  EXPECT_TRUE(rl.Throttles(now)["binance"].count("cancel") == 0);
  now = 2'000 * kMs;
  EXPECT_TRUE(rl.TryAcquire("binance", RequestClass::kOrder, now).admitted);
  EXPECT_TRUE(rl.Throttles(now).empty());
  // No wait given: 1 s, then 2 s, 4 s per consecutive refusal ...
  EXPECT_EQ(rl.Observe("binance", RequestClass::kOrder, 1, Throttled(kAllClasses, -1), now),
            now + 2'000 * kMs);  // second consecutive refusal (the first had a wait)
  now += 2'000 * kMs;
  EXPECT_EQ(rl.Observe("binance", RequestClass::kOrder, 1, Throttled(kAllClasses, -1), now),
            now + 4'000 * kMs);
  // ... a good answer resets the backoff.
  VenueLimitReport ok;
  ok.answered = true;
  rl.Observe("binance", RequestClass::kBalances, 1, ok, now);
  EXPECT_EQ(rl.Observe("binance", RequestClass::kOrder, 1, Throttled(kAllClasses, -1), now),
            now + 1'000 * kMs);
  // Never more than 60 s of backoff; a venue wait is kept within [100 ms, 24 h].
  for (int i = 0; i < 20; ++i) {
    rl.Observe("binance", RequestClass::kOrder, 1, Throttled(kAllClasses, -1), now);
  }
  EXPECT_EQ(rl.Observe("binance", RequestClass::kOrder, 1, Throttled(kAllClasses, -1), now),
            now + 60'000 * kMs);
  EXPECT_EQ(rl.Observe("binance", RequestClass::kOrder, 1, Throttled(kAllClasses, 0), now),
            now + 100 * kMs);
  EXPECT_EQ(rl.Observe("binance", RequestClass::kOrder, 1,
                       Throttled(kAllClasses, int64_t{10} * 86'400'000), now),
            now + RateLimiter::kMaxWaitNs);
  // A transport failure (no answer) neither throttles nor resets anything.
  EXPECT_EQ(rl.Observe("binance", RequestClass::kOrder, 1, VenueLimitReport{}, now), 0);
}

TEST(RateLimiterSync, KrakenRateErrorDrainsTheCountersOfTheClass) {
  int64_t now = 0;
  RateLimiter rl(Parse("kraken/api=decay:15:0.5:query=1;kraken/trading=decay:60:1:order=1"),
                 [&] { return now; });
  rl.Observe("kraken", RequestClass::kOpenOrders, 1, Throttled(kQueryClasses, -1, true), now);
  EXPECT_NEAR(rl.Levels(now)["kraken"]["api"], 15, 1e-9);
  EXPECT_NEAR(rl.Levels(now)["kraken"]["trading"], 0, 1e-9);
  EXPECT_TRUE(rl.TryAcquire("kraken", RequestClass::kOrder, now).admitted);
  now = 1'000 * kMs;  // the backoff is over, the drained counter still has no room for 1
  auto d = rl.TryAcquire("kraken", RequestClass::kBalances, now);
  EXPECT_FALSE(d.admitted);
  EXPECT_EQ(d.bucket, "api");
  now = 2'000 * kMs;  // 15 - 2 * 0.5 = 14: room again
  EXPECT_TRUE(rl.TryAcquire("kraken", RequestClass::kBalances, now).admitted);
}

TEST(RateLimiterSync, VenuesWithoutBucketsIgnoreReports) {
  int64_t now = 0;
  RateLimiter none({}, [&] { return now; });
  EXPECT_EQ(none.Observe("binance", RequestClass::kOrder, 1, Throttled(kAllClasses, 1'000), now),
            0);
  EXPECT_TRUE(none.TryAcquire("binance", RequestClass::kOrder, now).admitted);
  RateLimiter other(Parse("kraken/api=decay:15:0.5:query=1"), [&] { return now; });
  EXPECT_EQ(other.Observe("binance", RequestClass::kOrder, 1, Throttled(kAllClasses, 1'000), now),
            0);
  EXPECT_TRUE(other.TryAcquire("binance", RequestClass::kOrder, now).admitted);
}

// --- The worker pausing and re-sending ---

// A remote venue whose first place of "o-1" is refused for a rate limit (reported to the
// limiter as LiveVenue does: 200 ms Retry-After, every class).
class ThrottlingVenue : public Venue {
 public:
  explicit ThrottlingVenue(RateLimiter* limiter) : limiter_(limiter) {}
  const std::string& name() const override { return name_; }
  bool remote() const override { return true; }
  absl::StatusOr<VenueOrderState> Place(const tickmesh::v1::Order& order) override {
    const int64_t now = limiter_->now();
    {
      std::lock_guard<std::mutex> lock(mu_);
      places_.emplace_back(order.order_id(), now);
      if (order.order_id() == "o-1" && !refused_) {
        refused_ = true;
        limiter_->Observe(name_, RequestClass::kOrder, 1, Throttled(kAllClasses, 200), now);
        return absl::ResourceExhaustedError("binance: HTTP 429 -1003 Too many requests");
      }
    }
    VenueOrderState st;
    st.client_order_id = order.order_id();
    st.venue_order_id = "v-" + order.order_id();
    return st;
  }
  absl::StatusOr<VenueOrderState> Cancel(const tickmesh::v1::Order&) override {
    return absl::UnimplementedError("not here");
  }
  absl::StatusOr<VenueOrderState> Query(const tickmesh::v1::Order&) override {
    return absl::NotFoundError("not here");
  }
  absl::StatusOr<std::vector<VenueOrderState>> OpenOrders() override {
    return std::vector<VenueOrderState>{};
  }
  absl::StatusOr<std::vector<VenueAssetBalance>> Balances() override {
    return std::vector<VenueAssetBalance>{};
  }
  std::vector<std::pair<std::string, int64_t>> places() {
    std::lock_guard<std::mutex> lock(mu_);
    return places_;
  }

 private:
  const std::string name_ = "binance";
  RateLimiter* const limiter_;
  std::mutex mu_;
  bool refused_ = false;
  std::vector<std::pair<std::string, int64_t>> places_;
};

TEST(VenueWorkerThrottle, PlaceRefusedByTheVenueRateLimitIsResentAfterThePauseInOrder) {
  RateLimiter limiter(Parse("binance/weight_1m=token:6000:60000:order=1,query=1"), SteadyClock());
  auto venue = std::make_unique<ThrottlingVenue>(&limiter);
  ThrottlingVenue* raw = venue.get();
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<std::string, absl::Status>> answers;
  VenueWorker::Callbacks cb;
  cb.on_answer = [&](VenueWorker::Call, const tickmesh::v1::Order& o,
                     const absl::StatusOr<VenueOrderState>& a, int64_t, bool) {
    std::lock_guard<std::mutex> lock(mu);
    answers.emplace_back(o.order_id(), a.status());
    cv.notify_all();
  };
  cb.has_open_orders = [] { return false; };
  cb.on_open_orders = [](const absl::StatusOr<std::vector<VenueOrderState>>&, int64_t) {
    return std::vector<tickmesh::v1::Order>{};
  };
  cb.on_balances = [](const absl::StatusOr<std::vector<VenueAssetBalance>>&, int64_t) {};
  VenueWorker::Options options;
  options.poll_interval_ns = 60'000 * kMs;
  options.balance_interval_ns = 60'000 * kMs;
  VenueWorker worker(std::move(venue), &limiter, options, std::move(cb));
  for (int i = 1; i <= 3; ++i) {
    tickmesh::v1::Order o;
    o.set_order_id("o-" + std::to_string(i));
    o.set_venue("binance");
    ASSERT_TRUE(worker.Enqueue(VenueWorker::Call::kPlace, o));
  }
  worker.Start();
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return answers.size() >= 3; }));
  }
  worker.Stop();
  // Every order answered once, accepted, in order; none lost.
  ASSERT_EQ(answers.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(answers[i].first, "o-" + std::to_string(i + 1));
    EXPECT_TRUE(answers[i].second.ok()) << answers[i].second;
  }
  // o-1 went twice (refused, then after the pause), the others once, none during the pause.
  auto places = raw->places();
  ASSERT_EQ(places.size(), 4u);
  EXPECT_EQ(places[0].first, "o-1");
  EXPECT_EQ(places[1].first, "o-1");
  EXPECT_EQ(places[2].first, "o-2");
  EXPECT_EQ(places[3].first, "o-3");
  EXPECT_GE(places[1].second - places[0].second, 200 * kMs);
  EXPECT_EQ(worker.stats().throttled_resends, 1u);
}

}  // namespace
}  // namespace tickmesh::execution
