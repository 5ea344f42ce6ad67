// The simulated venues' REST rate limits (rest_limits.h): usage headers, fixed / rolling windows,
// refusals past configured limits.

#include "rest_limits.h"

#include <string>

#include "gtest/gtest.h"

namespace tickmesh::venue_sim {
namespace {

std::string Header(const RestReply& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<none>";
}

RestRequest Req(std::string method, std::string path, std::string query = "") {
  RestRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.query = std::move(query);
  return r;
}

TEST(RestLimits, BinanceCountsDocumentedWeightsPerFixedIntervalAndReportsThem) {
  int64_t now = 60'000 * 100 + 1'000;  // 1 s into a minute
  RestLimits l("binance", {}, [&] { return now; });
  RestReply reply(200, "{}");
  ASSERT_FALSE(l.Charge(Req("GET", "/api/v3/account")).has_value());
  l.Decorate(Req("GET", "/api/v3/account"), &reply);
  EXPECT_EQ(Header(reply, "X-MBX-USED-WEIGHT-1M"), "20");
  EXPECT_EQ(Header(reply, "X-MBX-ORDER-COUNT-10S"), "<none>");           // order responses only
  ASSERT_FALSE(l.Charge(Req("GET", "/api/v3/openOrders")).has_value());  // 80: all symbols
  ASSERT_FALSE(l.Charge(Req("GET", "/api/v3/openOrders", "symbol=BTCUSDT")).has_value());  // 6
  ASSERT_FALSE(l.Charge(Req("GET", "/api/v3/depth", "symbol=BTCUSDT&limit=5000")).has_value());
  EXPECT_EQ(l.binance_used_weight(), 20 + 80 + 6 + 250);
  RestReply placed(200, "{}");
  ASSERT_FALSE(l.Charge(Req("POST", "/api/v3/order")).has_value());
  l.Decorate(Req("POST", "/api/v3/order"), &placed);
  EXPECT_EQ(Header(placed, "X-MBX-USED-WEIGHT-1M"), "357");
  EXPECT_EQ(Header(placed, "X-MBX-ORDER-COUNT-10S"), "1");
  EXPECT_EQ(Header(placed, "X-MBX-ORDER-COUNT-1D"), "1");
  RestReply refused(400, R"({"code":-1013})");  // a rejected order is not counted
  l.Decorate(Req("POST", "/api/v3/order"), &refused);
  EXPECT_EQ(Header(refused, "X-MBX-ORDER-COUNT-10S"), "1");
  now += 59'000;  // the next minute: the weight restarts, the day's orders stay
  RestReply next(200, "{}");
  ASSERT_FALSE(l.Charge(Req("POST", "/api/v3/order")).has_value());
  l.Decorate(Req("POST", "/api/v3/order"), &next);
  EXPECT_EQ(Header(next, "X-MBX-USED-WEIGHT-1M"), "1");
  EXPECT_EQ(Header(next, "X-MBX-ORDER-COUNT-1D"), "2");
  EXPECT_EQ(l.refusals(), 0u);
}

TEST(RestLimits, BinancePastTheWeightLimitAnswers429WithRetryAfterUntilTheIntervalEnds) {
  int64_t now = 10'000 * 7 + 2'500;  // 2.5 s into a 10 s interval
  RestLimitOptions o;
  o.binance_weight_limit = 10;
  o.binance_weight_interval = "10s";
  RestLimits l("binance", o, [&] { return now; });
  for (int i = 0; i < 2; ++i) ASSERT_FALSE(l.Charge(Req("GET", "/api/v3/order")).has_value());
  auto r = l.Charge(Req("GET", "/api/v3/order"));  // 8 + 4 > 10
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 429);
  EXPECT_NE(r->body.find("-1003"), std::string::npos);
  EXPECT_EQ(Header(*r, "Retry-After"), "8");  // 7.5 s left, whole seconds rounded up
  l.Decorate(Req("GET", "/api/v3/order"), &*r);
  EXPECT_EQ(Header(*r, "X-MBX-USED-WEIGHT-10S"), "8");               // the refusal was not counted
  EXPECT_FALSE(l.Charge(Req("POST", "/api/v3/order")).has_value());  // weight 1 still fits
  EXPECT_EQ(l.refusals(), 1u);
  now += 7'500;
  EXPECT_FALSE(l.Charge(Req("GET", "/api/v3/order")).has_value());
}

TEST(RestLimits, BinanceOrderCountLimitAnswers1015) {
  int64_t now = 1'000'000;
  RestLimitOptions o;
  o.binance_order_limit_10s = 1;
  RestLimits l("binance", o, [&] { return now; });
  RestReply ok(200, "{}");
  ASSERT_FALSE(l.Charge(Req("POST", "/api/v3/order")).has_value());
  l.Decorate(Req("POST", "/api/v3/order"), &ok);
  auto r = l.Charge(Req("POST", "/api/v3/order"));
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(r->body.find("-1015"), std::string::npos);
  EXPECT_FALSE(l.Charge(Req("DELETE", "/api/v3/order")).has_value());  // cancels are no orders
}

TEST(RestLimits, BybitReportsRemainingPerEndpointAndRefusesWith10006) {
  int64_t now = 1672738134824;
  RestLimitOptions o;
  o.bybit_limit_per_s = 2;
  RestLimits l("bybit", o, [&] { return now; });
  RestReply a(200, "{}");
  ASSERT_FALSE(l.Charge(Req("POST", "/v5/order/create")).has_value());
  l.Decorate(Req("POST", "/v5/order/create"), &a);
  EXPECT_EQ(Header(a, "X-Bapi-Limit"), "2");
  EXPECT_EQ(Header(a, "X-Bapi-Limit-Status"), "1");
  EXPECT_EQ(Header(a, "X-Bapi-Limit-Reset-Timestamp"), std::to_string(now));
  now += 100;
  ASSERT_FALSE(l.Charge(Req("POST", "/v5/order/create")).has_value());
  ASSERT_FALSE(l.Charge(Req("GET", "/v5/order/realtime")).has_value());  // its own endpoint
  auto r = l.Charge(Req("POST", "/v5/order/create"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("\"retCode\":10006"), std::string::npos);
  l.Decorate(Req("POST", "/v5/order/create"), &*r);
  EXPECT_EQ(Header(*r, "X-Bapi-Limit-Status"), "0");
  // Room again when the oldest request leaves the rolling second.
  EXPECT_EQ(Header(*r, "X-Bapi-Limit-Reset-Timestamp"), std::to_string(now - 100 + 1000));
  now += 900;
  EXPECT_FALSE(l.Charge(Req("POST", "/v5/order/create")).has_value());
  // Public endpoints are not counted nor decorated.
  RestReply pub(200, "{}");
  ASSERT_FALSE(l.Charge(Req("GET", "/v5/market/orderbook")).has_value());
  l.Decorate(Req("GET", "/v5/market/orderbook"), &pub);
  EXPECT_EQ(Header(pub, "X-Bapi-Limit"), "<none>");
}

TEST(RestLimits, BybitDefaultsAreReportedButNeverRefused) {
  int64_t now = 1672738134824;
  RestLimits l("bybit", {}, [&] { return now; });
  for (int i = 0; i < 25; ++i) ASSERT_FALSE(l.Charge(Req("POST", "/v5/order/create")).has_value());
  RestReply a(200, "{}");
  l.Decorate(Req("POST", "/v5/order/create"), &a);
  EXPECT_EQ(Header(a, "X-Bapi-Limit"), "20");
  EXPECT_EQ(Header(a, "X-Bapi-Limit-Status"), "0");
}

TEST(RestLimits, BadOptionsAreRefused) {
  RestLimitOptions o;
  o.binance_weight_interval = "1X";
  EXPECT_FALSE(ValidateRestLimits(o).ok());
  o.binance_weight_interval = "M";
  EXPECT_FALSE(ValidateRestLimits(o).ok());
  o.binance_weight_interval = "1M";
  o.bybit_limit_per_s = -1;
  EXPECT_FALSE(ValidateRestLimits(o).ok());
  o.bybit_limit_per_s = 0;
  EXPECT_TRUE(ValidateRestLimits(o).ok());
}

}  // namespace
}  // namespace tickmesh::venue_sim
