// Cache against a real redis-server (tickmesh::testing::RedisServer): tiers, outages (SIGKILL),
// Redis restarting empty, a slow Redis (DEBUG SLEEP), replay overflow and warming.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cache_service.h"
#include "cache_test_util.h"
#include "redis_tier.h"
#include "tickmesh/testing/servers.h"

namespace tickmesh::cache {
namespace {

using testutil::Delete;
using testutil::Get;
using testutil::Set;
using testutil::WaitFor;

CacheOptions OptionsFor(const testing::RedisServer& redis) {
  CacheOptions o;
  o.redis = *ParseRedisUrl(redis.url());
  o.redis_timeout_ms = 50;
  o.redis_pool_size = 2;
  o.l1.max_entries = 100000;
  o.l1.max_bytes = 64 << 20;
  o.l1.shards = 4;
  o.breaker.min_open_ms = 50;
  o.breaker.max_open_ms = 400;
  return o;
}

// Reads keys straight from Redis (not through the cache). nullopt = missing.
std::vector<std::optional<std::string>> RedisValues(const testing::RedisServer& redis,
                                                    const std::vector<std::string>& keys) {
  RedisConnection conn(*ParseRedisUrl(redis.url()), 2000);
  std::vector<std::string_view> views(keys.begin(), keys.end());
  std::vector<std::optional<RedisValue>> values;
  EXPECT_TRUE(conn.MGet(views, &values).ok());
  std::vector<std::optional<std::string>> out;
  for (auto& v : values) {
    out.push_back(v.has_value() ? std::optional<std::string>(v->value) : std::nullopt);
  }
  out.resize(keys.size());
  return out;
}

class CacheRedisTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(redis_.Start().ok()); }
  testing::RedisServer redis_;
};

TEST_F(CacheRedisTest, WritesReachRedisAndReadsFillL1) {
  Cache cache(OptionsFor(redis_));
  cache.Start();
  ASSERT_EQ(cache.breaker_state(), v1::BREAKER_STATE_CLOSED);

  ASSERT_TRUE(Set(cache, "position:paper:BTC-USDT", std::string("\x01\x00\x02", 3)).ok());
  ASSERT_TRUE(Set(cache, "ttl-key", "v", 60000).ok());
  ASSERT_TRUE(WaitFor([&] { return cache.writes_in_flight() == 0; }));
  EXPECT_EQ(redis_.Cli("EXISTS position:paper:BTC-USDT"), "1");
  EXPECT_EQ(RedisValues(redis_, {"position:paper:BTC-USDT"})[0], std::string("\x01\x00\x02", 3));
  const int pttl = std::stoi(redis_.Cli("PTTL ttl-key"));
  EXPECT_GT(pttl, 0);
  EXPECT_LE(pttl, 60000);

  // Written by someone else: first read comes from Redis, the next from L1.
  ASSERT_EQ(redis_.Cli("SET other hello"), "OK");
  v1::GetResponse r;
  ASSERT_TRUE(Get(cache, "other", &r).ok());
  EXPECT_TRUE(r.found());
  EXPECT_EQ(r.value(), "hello");
  EXPECT_EQ(r.tier(), v1::CACHE_TIER_REDIS);
  EXPECT_EQ(r.ttl_ms(), -1);
  v1::GetResponse r2;
  ASSERT_TRUE(Get(cache, "other", &r2).ok());
  EXPECT_EQ(r2.tier(), v1::CACHE_TIER_L1);

  v1::GetResponse miss;
  ASSERT_TRUE(Get(cache, "nobody", &miss).ok());
  EXPECT_FALSE(miss.found());

  bool deleted = false;
  ASSERT_TRUE(Delete(cache, "other", &deleted).ok());
  EXPECT_TRUE(deleted);
  EXPECT_EQ(redis_.Cli("EXISTS other"), "0");

  const v1::StatsResponse st = cache.Stats();
  EXPECT_EQ(st.redis().hits(), 1u);
  EXPECT_GE(st.redis().misses(), 1u);
  EXPECT_GE(st.l1().hits(), 1u);
}

TEST_F(CacheRedisTest, QueuedUnaryRequestsShareRoundTripsAndKeepTheirOrder) {
  CacheOptions o = OptionsFor(redis_);
  o.redis_pool_size = 1;      // every key on one worker
  o.redis_timeout_ms = 3000;  // the DEBUG SLEEP below is slow, not down
  Cache cache(o);
  cache.Start();
  ASSERT_EQ(cache.breaker_state(), v1::BREAKER_STATE_CLOSED);
  // Redis busy for 400 ms: the first Set holds the worker while the rest queue up behind it.
  std::thread sleeper([&] { redis_.Cli("DEBUG SLEEP 0.4"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const uint64_t pipelines_before = cache.redis_pipelines_total();

  constexpr int kSets = 200;
  std::vector<v1::SetRequest> sets(kSets);
  std::vector<v1::SetResponse> set_resps(kSets);
  // After every 20th Set, a Get of the same key (an L1 miss: nothing is in L1 yet at dispatch).
  std::vector<v1::GetRequest> gets(kSets / 20);
  std::vector<v1::GetResponse> get_resps(kSets / 20);
  std::atomic<int> ok{0}, failed{0};
  auto count = [&](absl::Status s) { (s.ok() ? ok : failed).fetch_add(1); };
  for (int i = 0; i < kSets; ++i) {
    sets[i].set_key("seq");
    sets[i].set_value(std::to_string(i));
    cache.Set(sets[i], &set_resps[i], count);
    if (i % 20 == 19) {
      gets[i / 20].set_key("seq-other-" + std::to_string(i));  // distinct miss keys
      cache.Get(gets[i / 20], &get_resps[i / 20], count);
    }
  }
  ASSERT_TRUE(WaitFor([&] { return ok.load() + failed.load() == kSets + kSets / 20; }));
  sleeper.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(RedisValues(redis_, {"seq"})[0], std::to_string(kSets - 1));  // last write wins
  v1::GetResponse r;
  ASSERT_TRUE(Get(cache, "seq", &r).ok());
  EXPECT_EQ(r.value(), std::to_string(kSets - 1));
  // 200 Sets and 10 Gets queued behind one slow round trip: a handful of pipelines, not 210
  // (writes and reads alternate 10 times, so at most ~21, plus the first).
  const uint64_t used = cache.redis_pipelines_total() - pipelines_before;
  EXPECT_LE(used, 25u) << used;
  EXPECT_GE(used, 2u);
}

TEST_F(CacheRedisTest, MergedPipelinesKeepQueueOrderBetweenReadsAndWrites) {
  CacheOptions o = OptionsFor(redis_);
  o.redis_pool_size = 1;
  o.redis_timeout_ms = 3000;
  Cache cache(o);
  cache.Start();
  std::thread sleeper([&] { redis_.Cli("DEBUG SLEEP 0.3"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // Per round: Set a, Set b, Get a, Get b (fresh keys, so the Gets miss L1 at dispatch and queue
  // behind the Sets). Queued behind the sleep, the worker merges each pair into one pipeline;
  // every Get must still see the Set queued before it.
  constexpr int kRounds = 30;
  std::vector<v1::SetRequest> sets(2 * kRounds);
  std::vector<v1::SetResponse> set_resps(2 * kRounds);
  std::vector<v1::GetRequest> gets(2 * kRounds);
  std::vector<v1::GetResponse> get_resps(2 * kRounds);
  std::atomic<int> done{0}, failed{0};
  auto count = [&](absl::Status s) {
    if (!s.ok()) failed.fetch_add(1);
    done.fetch_add(1);
  };
  for (int i = 0; i < 2 * kRounds; i += 2) {
    for (int j = i; j < i + 2; ++j) {
      sets[j].set_key("order-" + std::to_string(j));
      sets[j].set_value("v" + std::to_string(j));
      gets[j].set_key(sets[j].key());
      cache.Set(sets[j], &set_resps[j], count);
    }
    for (int j = i; j < i + 2; ++j) cache.Get(gets[j], &get_resps[j], count);
  }
  ASSERT_TRUE(WaitFor([&] { return done.load() == 4 * kRounds; }));
  sleeper.join();
  EXPECT_EQ(failed.load(), 0);
  for (int j = 0; j < 2 * kRounds; ++j) {
    EXPECT_TRUE(get_resps[j].found()) << j;
    EXPECT_EQ(get_resps[j].value(), "v" + std::to_string(j)) << j;
  }
}

TEST_F(CacheRedisTest, ReadThroughAnsweredAfterANewerSetDoesNotPutTheOlderValueInL1) {
  CacheOptions o = OptionsFor(redis_);
  o.redis_pool_size = 1;
  o.redis_timeout_ms = 3000;  // the DEBUG SLEEP below is slow, not down
  Cache cache(o);
  cache.Start();
  ASSERT_EQ(redis_.Cli("SET k old"), "OK");
  std::thread sleeper([&] { redis_.Cli("DEBUG SLEEP 0.4"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // An L1 miss: its Redis read is sent and waits behind the sleep...
  v1::GetRequest get;
  get.set_key("k");
  v1::GetResponse during;
  std::promise<absl::Status> get_done;
  cache.Get(get, &during, [&](absl::Status s) { get_done.set_value(std::move(s)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // ...while a newer value is written.
  ASSERT_TRUE(Set(cache, "k", "new").ok());
  auto fut = get_done.get_future();
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  ASSERT_TRUE(fut.get().ok());
  sleeper.join();
  EXPECT_EQ(during.value(), "old");  // read before the write reached Redis
  // The older Redis answer must not have replaced the newer value in L1.
  v1::GetResponse after;
  ASSERT_TRUE(Get(cache, "k", &after).ok());
  EXPECT_EQ(after.value(), "new");
  EXPECT_EQ(after.tier(), v1::CACHE_TIER_L1);
  ASSERT_TRUE(WaitFor([&] { return cache.writes_in_flight() == 0; }));
  EXPECT_EQ(redis_.Cli("GET k"), "new");
}

TEST_F(CacheRedisTest, StalledRedisSlowsSetsDownInsteadOfRejectingThem) {
  CacheOptions o = OptionsFor(redis_);
  o.redis_pool_size = 1;
  o.redis_timeout_ms = 3000;  // slow, not down: the breaker stays closed
  o.worker_queue_max = 64;
  Cache cache(o);
  cache.Start();
  std::thread sleeper([&] { redis_.Cli("DEBUG SLEEP 0.3"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // Far more Sets than the worker queue holds, one after the other, while the worker waits for
  // Redis: each waits for Redis (a slow Redis slows writers down), none is rejected.
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(Set(cache, "stall" + std::to_string(i % 10), std::to_string(i)).ok()) << i;
  }
  sleeper.join();
  ASSERT_TRUE(WaitFor([&] { return cache.writes_in_flight() == 0; }));
  for (int i = 190; i < 200; ++i) {
    EXPECT_EQ(redis_.Cli("GET stall" + std::to_string(i % 10)), std::to_string(i));
  }
  EXPECT_EQ(cache.Stats().replay_queue_depth(), 0u);
}

TEST_F(CacheRedisTest, MSetPipelinesAndMGetAnswersInRequestOrder) {
  Cache cache(OptionsFor(redis_));
  cache.Start();
  v1::MSetRequest mset;
  for (int i = 0; i < 300; ++i) {
    auto* e = mset.add_entries();
    e->set_key("m" + std::to_string(i));
    e->set_value("v" + std::to_string(i));
    e->set_ttl_ms(i % 2 ? 30000 : 0);
  }
  v1::MSetResponse mset_resp;
  ASSERT_TRUE(testutil::Call(&Cache::MSet, cache, mset, &mset_resp).ok());
  EXPECT_EQ(mset_resp.written(), 300u);
  EXPECT_EQ(redis_.Cli("DBSIZE"), "300");
  EXPECT_EQ(redis_.Cli("GET m299"), "v299");

  ASSERT_EQ(redis_.Cli("SET only-in-redis x"), "OK");
  v1::MGetRequest mget;
  mget.add_keys("m5");
  mget.add_keys("absent");
  mget.add_keys("only-in-redis");
  mget.add_keys("m5");
  v1::MGetResponse mget_resp;
  ASSERT_TRUE(testutil::Call(&Cache::MGet, cache, mget, &mget_resp).ok());
  ASSERT_EQ(mget_resp.entries_size(), 4);
  EXPECT_EQ(mget_resp.entries(0).key(), "m5");
  EXPECT_EQ(mget_resp.entries(0).value(), "v5");
  EXPECT_FALSE(mget_resp.entries(1).found());
  EXPECT_EQ(mget_resp.entries(2).value(), "x");
  EXPECT_EQ(mget_resp.entries(2).tier(), v1::CACHE_TIER_REDIS);
  EXPECT_EQ(mget_resp.entries(3).value(), "v5");
}

// A pipeline mixing TTL-less SETs (sent as MSETs), SETs with PX and DELs applies in order: the
// last write of each key wins, a TTL-less write clears an earlier TTL, DEL reports what it removed.
TEST_F(CacheRedisTest, WritePipelineGroupsTtlLessSetsIntoMsetAndKeepsOrder) {
  RedisConnection conn(*ParseRedisUrl(redis_.url()), 2000);
  ASSERT_EQ(redis_.Cli("SET gone old"), "OK");
  ASSERT_EQ(redis_.Cli("CONFIG RESETSTAT"), "OK");
  const std::string v1 = "1", v2 = "2", v3 = "3", v4 = "4", v5 = "5", v6 = "6";
  const std::vector<RedisWrite> writes = {
      {"a", &v1}, {"b", &v2}, {"c", &v3, 60000}, {"a", nullptr},     {"gone", nullptr}, {"a", &v4},
      {"c", &v5}, {"b", &v6}, {"d", &v1},        {"never", nullptr}, {"e", &v2},
  };
  std::vector<bool> deleted;
  ASSERT_TRUE(conn.Write(writes, &deleted).ok());
  EXPECT_EQ(redis_.Cli("GET a"), "4");
  EXPECT_EQ(redis_.Cli("GET b"), "6");
  EXPECT_EQ(redis_.Cli("GET c"), "5");
  EXPECT_EQ(redis_.Cli("PTTL c"), "-1");  // the later TTL-less write cleared the TTL
  EXPECT_EQ(redis_.Cli("GET d"), "1");
  EXPECT_EQ(redis_.Cli("GET e"), "2");
  EXPECT_EQ(redis_.Cli("EXISTS gone"), "0");
  EXPECT_EQ(deleted, (std::vector<bool>{false, false, false, true, true, false, false, false, false,
                                        false, false}));
  // {a,b} and {a,c,b,d} went as MSETs; c with PX and the single e as SETs.
  const std::string stats = redis_.Cli("INFO commandstats");
  EXPECT_NE(stats.find("cmdstat_mset:calls=2,"), std::string::npos) << stats;
  EXPECT_NE(stats.find("cmdstat_set:calls=2,"), std::string::npos) << stats;
  EXPECT_NE(stats.find("cmdstat_del:calls=3,"), std::string::npos) << stats;

  // A refused MSET (a replica, say) fails the whole pipeline, so the caller keeps it for replay.
  ASSERT_EQ(redis_.Cli("CONFIG SET maxmemory 1"), "OK");
  ASSERT_EQ(redis_.Cli("CONFIG SET maxmemory-policy noeviction"), "OK");
  const absl::Status refused = conn.Write({{"x", &v1}, {"y", &v2}});
  EXPECT_EQ(refused.code(), absl::StatusCode::kInternal) << refused;
  ASSERT_EQ(redis_.Cli("CONFIG SET maxmemory 0"), "OK");
  EXPECT_EQ(redis_.Cli("EXISTS x"), "0");
}

TEST_F(CacheRedisTest, SigkillOutageCausesNoClientErrorsAndReplayRestoresNewestValues) {
  Cache cache(OptionsFor(redis_));
  cache.Start();
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(Set(cache, "k" + std::to_string(i), "before").ok());

  redis_.Kill();
  // Several writers overwrite the same keys (newest wins), delete some, and read; every call
  // must succeed while Redis is gone.
  std::atomic<int> errors{0};
  std::vector<std::thread> writers;
  constexpr int kWriters = 3;
  constexpr int kRounds = 40;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int round = 0; round < kRounds; ++round) {
        for (int i = w; i < 60; i += kWriters) {  // keys k0..k59, each owned by one writer
          const std::string key = "k" + std::to_string(i);
          if (!Set(cache, key, "r" + std::to_string(round)).ok()) ++errors;
          v1::GetResponse r;
          if (!Get(cache, key, &r).ok() || !r.found()) ++errors;
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Delete(cache, "k" + std::to_string(i)).ok());
  EXPECT_EQ(errors.load(), 0);
  EXPECT_GE(cache.breaker_opened_total(), 1u);
  EXPECT_NE(cache.breaker_state(), v1::BREAKER_STATE_CLOSED);
  EXPECT_EQ(cache.Stats().replay_queue_depth(), 60u);  // coalesced: one write per key
  v1::GetResponse during;
  ASSERT_TRUE(Get(cache, "k7", &during).ok());
  EXPECT_EQ(during.value(), "r" + std::to_string(kRounds - 1));

  ASSERT_TRUE(redis_.Start().ok());  // same port, empty
  ASSERT_TRUE(WaitFor([&] {
    return cache.writes_in_flight() == 0 && cache.breaker_state() == v1::BREAKER_STATE_CLOSED &&
           cache.Stats().replay_queue_depth() == 0;
  })) << "breaker "
      << v1::BreakerState_Name(cache.breaker_state()) << " depth "
      << cache.Stats().replay_queue_depth();

  std::vector<std::string> keys;
  for (int i = 0; i < 60; ++i) keys.push_back("k" + std::to_string(i));
  const auto values = RedisValues(redis_, keys);
  for (int i = 0; i < 60; ++i) {
    if (i < 5) {
      EXPECT_FALSE(values[i].has_value()) << keys[i] << " was deleted during the outage";
    } else {
      EXPECT_EQ(values[i], "r" + std::to_string(kRounds - 1)) << keys[i];
    }
  }
  EXPECT_EQ(redis_.Cli("GET k59"), "r" + std::to_string(kRounds - 1));
  EXPECT_EQ(cache.Stats().replay_overflow_total(), 0u);
  EXPECT_GE(cache.replayed_total(), 60u);
}

TEST_F(CacheRedisTest, RedisRestartingEmptyKeepsServingFromL1AndReplaysNewWrites) {
  Cache cache(OptionsFor(redis_));
  cache.Start();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Set(cache, "old" + std::to_string(i), "v").ok());
  ASSERT_EQ(redis_.Cli("SET redis-only x"), "OK");  // never read through the cache

  // A crash and restart between two requests: the cache's connections are stale, Redis empty.
  redis_.Kill();
  ASSERT_TRUE(redis_.Start().ok());
  ASSERT_EQ(redis_.Cli("DBSIZE"), "0");

  for (int i = 0; i < 20; ++i) {
    v1::GetResponse r;
    ASSERT_TRUE(Get(cache, "old" + std::to_string(i), &r).ok());
    EXPECT_TRUE(r.found());  // L1 still has it
    EXPECT_EQ(r.tier(), v1::CACHE_TIER_L1);
  }
  v1::GetResponse lost;
  ASSERT_TRUE(Get(cache, "redis-only", &lost).ok());  // gone with Redis: a miss, not an error
  EXPECT_FALSE(lost.found());

  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Set(cache, "new" + std::to_string(i), "n").ok());
  ASSERT_TRUE(WaitFor([&] {
    return cache.writes_in_flight() == 0 && cache.breaker_state() == v1::BREAKER_STATE_CLOSED &&
           cache.Stats().replay_queue_depth() == 0;
  }));
  std::vector<std::string> keys;
  for (int i = 0; i < 20; ++i) keys.push_back("new" + std::to_string(i));
  for (const auto& v : RedisValues(redis_, keys)) EXPECT_EQ(v, "n");
}

TEST_F(CacheRedisTest, SlowRedisTripsBreakerAndRecovers) {
  Cache cache(OptionsFor(redis_));
  cache.Start();
  std::atomic<bool> sleeping_done{false};
  std::thread sleeper([&] {
    redis_.Cli("DEBUG SLEEP 0.3");
    sleeping_done = true;
  });
  // Keep writing distinct and repeated keys until Redis has woken up; none may fail.
  int errors = 0;
  int n = 0;
  std::map<std::string, std::string> newest;
  while (!sleeping_done.load() && n < 100000) {
    const std::string key = "slow" + std::to_string(n % 40);
    const std::string value = "v" + std::to_string(n);
    if (!Set(cache, key, value).ok()) ++errors;
    newest[key] = value;
    ++n;
  }
  sleeper.join();
  EXPECT_EQ(errors, 0);
  EXPECT_GE(cache.breaker_opened_total(), 1u) << "a 300 ms stall must trip a 50 ms timeout";
  ASSERT_TRUE(WaitFor([&] {
    return cache.writes_in_flight() == 0 && cache.breaker_state() == v1::BREAKER_STATE_CLOSED &&
           cache.Stats().replay_queue_depth() == 0;
  }));
  std::vector<std::string> keys;
  for (const auto& [k, v] : newest) keys.push_back(k);
  const auto values = RedisValues(redis_, keys);
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(values[i], newest[keys[i]]) << keys[i];
  // And Redis is used directly again.
  const uint64_t replayed = cache.replayed_total();
  ASSERT_TRUE(Set(cache, "after", "ok").ok());
  ASSERT_TRUE(WaitFor([&] { return cache.writes_in_flight() == 0; }));
  EXPECT_EQ(redis_.Cli("GET after"), "ok");
  EXPECT_EQ(cache.replayed_total(), replayed);
}

TEST_F(CacheRedisTest, ReplayOverflowIsCountedAndShownInStats) {
  CacheOptions o = OptionsFor(redis_);
  o.replay_queue_max = 5;
  Cache cache(o);
  cache.Start();
  redis_.Kill();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Set(cache, "o" + std::to_string(i), "x").ok());
  // The first failures happen while the breaker is still closed; all ten reach the queue's door.
  ASSERT_TRUE(WaitFor([&] { return cache.writes_in_flight() == 0; }));
  const v1::StatsResponse st = cache.Stats();
  EXPECT_EQ(st.replay_queue_depth(), 5u);
  EXPECT_EQ(st.replay_overflow_total(), 5u);
  // Still served from L1.
  v1::GetResponse r;
  ASSERT_TRUE(Get(cache, "o9", &r).ok());
  EXPECT_TRUE(r.found());
}

TEST_F(CacheRedisTest, WarmsL1FromKeyListAndPrefix) {
  ASSERT_EQ(redis_.Cli("SET listed a"), "OK");
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(redis_.Cli("SET balance:paper:A" + std::to_string(i) + " b"), "OK");
  }
  ASSERT_EQ(redis_.Cli("SET unrelated c"), "OK");
  CacheOptions o = OptionsFor(redis_);
  o.warm_keys = {"listed", "missing"};
  o.warm_prefix = "balance:";
  Cache cache(o);
  cache.Start();
  EXPECT_EQ(cache.warmed_keys(), 31u);
  redis_.Kill();  // from now on only L1 can answer
  v1::GetResponse r;
  ASSERT_TRUE(Get(cache, "balance:paper:A17", &r).ok());
  EXPECT_TRUE(r.found());
  EXPECT_EQ(r.tier(), v1::CACHE_TIER_L1);
  ASSERT_TRUE(Get(cache, "listed", &r).ok());
  EXPECT_TRUE(r.found());
  v1::GetResponse u;
  ASSERT_TRUE(Get(cache, "unrelated", &u).ok());
  EXPECT_FALSE(u.found());
}

TEST_F(CacheRedisTest, StartsWithRedisDownAndCatchesUp) {
  CacheOptions o = OptionsFor(redis_);
  redis_.Kill();
  Cache cache(o);
  cache.Start();
  EXPECT_EQ(cache.breaker_state(), v1::BREAKER_STATE_OPEN);
  ASSERT_TRUE(Set(cache, "early", "1").ok());
  ASSERT_TRUE(redis_.Start().ok());
  ASSERT_TRUE(WaitFor([&] {
    return cache.writes_in_flight() == 0 && cache.breaker_state() == v1::BREAKER_STATE_CLOSED &&
           cache.Stats().replay_queue_depth() == 0;
  }));
  EXPECT_EQ(redis_.Cli("GET early"), "1");
}

TEST_F(CacheRedisTest, NoticesDeadRedisWithoutTrafficAndTellsListener) {
  Cache cache(OptionsFor(redis_));
  std::mutex mu;
  std::vector<v1::BreakerState> seen;
  cache.SetBreakerListener([&](v1::BreakerState s) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(s);
  });
  cache.Start();
  redis_.Kill();
  ASSERT_TRUE(WaitFor([&] { return cache.breaker_state() != v1::BREAKER_STATE_CLOSED; }));
  ASSERT_TRUE(redis_.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return cache.breaker_state() == v1::BREAKER_STATE_CLOSED; }));
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_GE(seen.size(), 3u);
  EXPECT_EQ(seen.front(), v1::BREAKER_STATE_CLOSED);  // initial state at Start()
  EXPECT_NE(std::find(seen.begin(), seen.end(), v1::BREAKER_STATE_OPEN), seen.end());
  EXPECT_EQ(seen.back(), v1::BREAKER_STATE_CLOSED);
}

TEST_F(CacheRedisTest, StopReplaysPendingWrites) {
  CacheOptions o = OptionsFor(redis_);
  o.breaker.min_open_ms = 60000;  // no probe during the test: only Stop() can replay
  o.breaker.max_open_ms = 60000;
  auto cache = std::make_unique<Cache>(o);
  cache->Start();
  redis_.Kill();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Set(*cache, "s" + std::to_string(i), "x").ok());
  ASSERT_TRUE(WaitFor([&] { return cache->breaker_state() == v1::BREAKER_STATE_OPEN; }));
  ASSERT_TRUE(redis_.Start().ok());
  cache->Stop();
  EXPECT_EQ(redis_.Cli("GET s4"), "x");
}

}  // namespace
}  // namespace tickmesh::cache
