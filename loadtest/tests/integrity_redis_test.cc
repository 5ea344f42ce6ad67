// CheckCacheWritesInRedis against a real redis-server (integration).
#include "fault.h"
#include "gtest/gtest.h"
#include "tickmesh/runtime/clock.h"
#include "tickmesh/testing/servers.h"

namespace tickmesh::loadtest {
namespace {

TEST(CacheWritesInRedis, CountsPresentAbsentAndChangedValues) {
  testing::RedisServer redis;
  ASSERT_TRUE(redis.Start().ok());
  redis.Cli("SET lt:1 one");
  redis.Cli("SET lt:2 two");
  redis.Cli("SET lt:3 stale");
  AckLedger ledger;
  ledger.cache_writes = {{"lt:1", "one"}, {"lt:2", "two"}, {"lt:3", "three"}, {"lt:4", "four"}};
  IntegrityCheck c = CheckCacheWritesInRedis(redis.url(), ledger, runtime::NowUnixNs());
  EXPECT_FALSE(c.passed);
  EXPECT_EQ(c.expected, 4u);
  EXPECT_EQ(c.found, 2u);
  EXPECT_EQ(c.missing, 2u);
  EXPECT_NE(c.detail.find("lt:3"), std::string::npos) << c.detail;

  redis.Cli("SET lt:3 three");
  redis.Cli("SET lt:4 four");
  c = CheckCacheWritesInRedis(redis.url(), ledger, runtime::NowUnixNs());
  EXPECT_TRUE(c.passed) << c.detail;
  EXPECT_EQ(c.found, 4u);
}

TEST(CacheWritesInRedis, ManyKeysArePipelined) {
  testing::RedisServer redis;
  ASSERT_TRUE(redis.Start().ok());
  AckLedger ledger;
  for (int i = 0; i < 2500; ++i) ledger.cache_writes.push_back({"k" + std::to_string(i), "v"});
  redis.Cli("SET k2499 v");
  IntegrityCheck c = CheckCacheWritesInRedis(redis.url(), ledger, runtime::NowUnixNs());
  EXPECT_EQ(c.found, 1u);
  EXPECT_EQ(c.missing, 2499u);
}

TEST(CacheWritesInRedis, UnreachableRedisFailsWithTheReason) {
  AckLedger ledger;
  ledger.cache_writes = {{"a", "b"}};
  IntegrityCheck c = CheckCacheWritesInRedis("redis://127.0.0.1:1/0", ledger, runtime::NowUnixNs());
  EXPECT_FALSE(c.passed);
  EXPECT_NE(c.detail.find("redis 127.0.0.1:1"), std::string::npos) << c.detail;
}

TEST(CacheWritesInRedis, NothingAcknowledgedIsNoPass) {
  testing::RedisServer redis;
  ASSERT_TRUE(redis.Start().ok());
  IntegrityCheck c = CheckCacheWritesInRedis(redis.url(), AckLedger{}, runtime::NowUnixNs());
  EXPECT_FALSE(c.passed);
}

}  // namespace
}  // namespace tickmesh::loadtest
