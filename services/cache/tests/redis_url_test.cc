#include <gtest/gtest.h>

#include "redis_tier.h"

namespace tickmesh::cache {
namespace {

TEST(ParseRedisUrl, ParsesHostPortDb) {
  auto u = ParseRedisUrl("redis://127.0.0.1:6380/3");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 6380);
  EXPECT_EQ(u->db, 3);
  EXPECT_TRUE(u->password.empty());
}

TEST(ParseRedisUrl, DefaultsPortAndDb) {
  auto u = ParseRedisUrl("redis://cache-redis");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->host, "cache-redis");
  EXPECT_EQ(u->port, 6379);
  EXPECT_EQ(u->db, 0);
}

TEST(ParseRedisUrl, ParsesPasswordAndUser) {
  auto u = ParseRedisUrl("redis://:s%40cret@h:1/0");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->password, "s@cret");
  EXPECT_TRUE(u->username.empty());
  auto v = ParseRedisUrl("redis://alice:pw@h:1");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->username, "alice");
  EXPECT_EQ(v->password, "pw");
}

TEST(ParseRedisUrl, RedactsPassword) {
  auto u = ParseRedisUrl("redis://:hunter2@h:1/2");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->Redacted(), "redis://:***@h:1/2");
  EXPECT_EQ(u->Redacted().find("hunter2"), std::string::npos);
}

TEST(ParseRedisUrl, RejectsMalformedUrls) {
  for (const char* bad : {"", "http://h:1", "redis://", "redis://:1", "redis://h:0",
                          "redis://h:70000", "redis://h:port", "redis://h:1/x", "redis://h:1/-1",
                          "redis://:%zz@h", "redis://h h:1", "redis://[::1"}) {
    EXPECT_FALSE(ParseRedisUrl(bad).ok()) << bad;
  }
}

TEST(ParseRedisUrl, AcceptsBracketedIpv6) {
  auto u = ParseRedisUrl("redis://[::1]:7000/1");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 7000);
}

}  // namespace
}  // namespace tickmesh::cache
