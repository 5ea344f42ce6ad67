#include "tickmesh/net/url.h"

#include "gtest/gtest.h"

namespace tickmesh::net {
namespace {

TEST(ParseUrl, SplitsWebSocketUrlWithPortAndQuery) {
  auto u = ParseUrl("ws://127.0.0.1:9000/stream?streams=btcusdt@depth@100ms/btcusdt@trade");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->scheme, "ws");
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 9000);
  EXPECT_EQ(u->target, "/stream?streams=btcusdt@depth@100ms/btcusdt@trade");
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->HostHeader(), "127.0.0.1:9000");
}

TEST(ParseUrl, DefaultsPortAndTargetForTlsSchemes) {
  auto u = ParseUrl("WSS://ws.kraken.com");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->scheme, "wss");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/");
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->HostHeader(), "ws.kraken.com");
  auto h = ParseUrl("https://api.binance.com");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->Origin(), "https://api.binance.com:443");
}

TEST(ParseUrl, AcceptsBracketedIpv6) {
  auto u = ParseUrl("http://[::1]:8080/x");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->HostHeader(), "[::1]:8080");
}

TEST(ParseUrl, QueryWithoutPathGetsSlash) {
  auto u = ParseUrl("ws://h?x=1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->target, "/?x=1");
}

TEST(ParseUrl, RejectsBadInput) {
  for (const char* bad :
       {"", "127.0.0.1:80", "ftp://h/", "ws://", "ws://:80/", "ws://h:0/", "ws://h:70000/",
        "ws://h:/", "ws://h:12ab/", "ws://u@h/", "ws://h/#f", "http://[::1/"}) {
    auto u = ParseUrl(bad);
    EXPECT_FALSE(u.ok()) << bad;
    if (!u.ok()) {
      EXPECT_EQ(u.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    }
  }
}

}  // namespace
}  // namespace tickmesh::net
