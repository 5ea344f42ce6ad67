// OrderApi request builders and response parsers. Response bodies are the examples of
// Binance https://developers.binance.com/docs/binance-spot-api-docs/rest-api/trading-endpoints
// and .../account-endpoints, Kraken https://docs.kraken.com/api/docs/rest-api/add-order,
// .../get-open-orders, .../get-account-balance, and Bybit
// https://bybit-exchange.github.io/docs/v5/order/create-order, .../order/open-order,
// .../account/wallet-balance.
#include "tickmesh/venues/orders.h"

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tickmesh/venues/sign.h"

namespace tickmesh::venues {
namespace {

constexpr int64_t kNowMs = 1499827319559;

std::string Header(const net::HttpRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

net::HttpResponse Response(int status, std::string body) {
  net::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::unique_ptr<OrderApi> Make(Venue venue, Credentials c, std::vector<std::string> symbols,
                               OrderApiOptions o = {}) {
  auto map = SymbolMap::Create(std::move(symbols));
  EXPECT_TRUE(map.ok());
  o.now_unix_ms = [] { return kNowMs; };
  auto api = MakeOrderApi(venue, *map, std::move(c), std::move(o));
  EXPECT_TRUE(api.ok()) << api.status();
  return std::move(*api);
}

OrderParams Limit(std::string symbol) {
  OrderParams p;
  p.symbol = std::move(symbol);
  p.side = v1::SIDE_BUY;
  p.type = v1::ORDER_TYPE_LIMIT;
  p.qty_e8 = 125'000'000;          // 1.25
  p.price_e8 = 3'750'000'000'000;  // 37500
  p.client_order_id = "tm-1";
  return p;
}

// ---------------------------------------------------------------- Binance

const Credentials kBinanceCreds{"vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
                                "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"};

TEST(BinanceOrderApi, PlaceOrderIsASignedQuery) {
  auto api = Make(Venue::kBinance, kBinanceCreds, {"LTC-BTC"});
  auto r = api->PlaceOrder(Limit("LTC-BTC"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->endpoint, "place_order");
  const std::string query =
      "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1.25&price=37500&"
      "newClientOrderId=tm-1&newOrderRespType=FULL&recvWindow=5000&timestamp=1499827319559";
  EXPECT_EQ(r->target, absl::StrCat("/api/v3/order?", query,
                                    "&signature=", BinanceSignature(kBinanceCreds.secret, query)));
  EXPECT_EQ(Header(*r, "X-MBX-APIKEY"), kBinanceCreds.api_key);
}

TEST(BinanceOrderApi, CancelOpenOrdersAndBalancesAreSigned) {
  auto api = Make(Venue::kBinance, kBinanceCreds, {"LTC-BTC"});
  auto cancel = api->CancelOrder("LTC-BTC", "tm-1");
  ASSERT_TRUE(cancel.ok());
  EXPECT_EQ(cancel->method, "DELETE");
  EXPECT_TRUE(
      absl::StartsWith(cancel->target, "/api/v3/order?symbol=LTCBTC&origClientOrderId=tm-1&"));
  EXPECT_EQ(api->OpenOrders()->target.substr(0, 19), "/api/v3/openOrders?");
  EXPECT_TRUE(absl::StartsWith(api->Balances()->target, "/api/v3/account?omitZeroBalances=true&"));
}

TEST(BinanceOrderApi, RejectsInvalidOrders) {
  auto api = Make(Venue::kBinance, kBinanceCreds, {"LTC-BTC"});
  auto p = Limit("LTC-BTC");
  p.qty_e8 = 0;
  EXPECT_EQ(api->PlaceOrder(p).status().code(), absl::StatusCode::kInvalidArgument);
  p = Limit("LTC-BTC");
  p.price_e8 = 0;
  EXPECT_FALSE(api->PlaceOrder(p).ok());
  p = Limit("ETH-BTC");
  EXPECT_FALSE(api->PlaceOrder(p).ok());
  p = Limit("LTC-BTC");
  p.client_order_id = "has space";
  EXPECT_FALSE(api->PlaceOrder(p).ok());
  p.client_order_id = std::string(37, 'a');
  EXPECT_FALSE(api->PlaceOrder(p).ok());
  p = Limit("LTC-BTC");
  p.side = v1::SIDE_UNSPECIFIED;
  EXPECT_FALSE(api->PlaceOrder(p).ok());
}

TEST(BinanceOrderApi, ParsesTheDocumentedFullResponse) {
  auto api = Make(Venue::kBinance, kBinanceCreds, {"BTC-USDT"});
  auto ack = api->ParsePlace(Response(200, R"({
    "symbol": "BTCUSDT", "orderId": 28, "orderListId": -1,
    "clientOrderId": "6gCrw2kRUAF9CvJDGP16IP", "transactTime": 1507725176595,
    "price": "0.00000000", "origQty": "10.00000000", "executedQty": "10.00000000",
    "cummulativeQuoteQty": "10.00000000", "status": "FILLED", "timeInForce": "GTC",
    "type": "MARKET", "side": "SELL", "workingTime": 1507725176595,
    "selfTradePreventionMode": "NONE",
    "fills": [
      {"price": "4000.00000000", "qty": "1.00000000", "commission": "4.00000000",
       "commissionAsset": "USDT", "tradeId": 56},
      {"price": "3999.00000000", "qty": "5.00000000", "commission": "19.99500000",
       "commissionAsset": "USDT", "tradeId": 57}]})"));
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->venue_order_id, "28");
  EXPECT_EQ(ack->client_order_id, "6gCrw2kRUAF9CvJDGP16IP");
  EXPECT_EQ(ack->status, v1::ORDER_STATUS_FILLED);
  EXPECT_EQ(ack->filled_qty_e8, 1'000'000'000);
  EXPECT_EQ(ack->avg_price_e8, 100'000'000);  // 10 quote / 10 qty
  ASSERT_EQ(ack->fills.size(), 2u);
  EXPECT_EQ(ack->fills[1].price_e8, 399'900'000'000);
  EXPECT_EQ(ack->fills[1].fee_e8, 1'999'500'000);
  EXPECT_EQ(ack->fills[1].fee_asset, "USDT");
  EXPECT_EQ(ack->fills[1].trade_id, "57");
}

TEST(BinanceOrderApi, MapsVenueErrors) {
  auto api = Make(Venue::kBinance, kBinanceCreds, {"BTC-USDT"});
  auto funds = api->ParsePlace(Response(
      400, R"({"code":-2010,"msg":"Account has insufficient balance for requested action."})"));
  EXPECT_EQ(funds.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(funds.status().message(),
            "binance -2010: Account has insufficient balance for requested action.");
  EXPECT_EQ(api->ParsePlace(Response(429, R"({"code":-1003,"msg":"Too many requests."})"))
                .status()
                .code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(api->ParsePlace(Response(418, "")).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(api->ParsePlace(Response(503, "Service Unavailable")).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(api->ParseCancel(Response(400, R"({"code":-2011,"msg":"Unknown order sent."})"))
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(
      api
          ->ParsePlace(Response(
              401, R"({"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."})"))
          .status()
          .code(),
      absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(api->ParsePlace(Response(200, "{not json")).status().code(),
            absl::StatusCode::kInternal);
}

TEST(BinanceOrderApi, ParsesOpenOrdersAndTheDocumentedAccount) {
  auto api = Make(Venue::kBinance, kBinanceCreds, {"LTC-BTC"});
  auto orders = api->ParseOpenOrders(Response(200, R"([{
    "symbol": "LTCBTC", "orderId": 1, "orderListId": -1, "clientOrderId": "myOrder1",
    "price": "0.1", "origQty": "1.0", "executedQty": "0.0", "cummulativeQuoteQty": "0.0",
    "status": "NEW", "timeInForce": "GTC", "type": "LIMIT", "side": "BUY", "stopPrice": "0.0",
    "icebergQty": "0.0", "time": 1499827319559, "updateTime": 1499827319559,
    "isWorking": true, "origQuoteOrderQty": "0.000000"},
    {"symbol": "XRPBTC", "orderId": 2, "clientOrderId": "other", "price": "1", "origQty": "1",
     "executedQty": "0", "status": "NEW", "type": "LIMIT", "side": "SELL", "time": 1}])"));
  ASSERT_TRUE(orders.ok()) << orders.status();
  ASSERT_EQ(orders->size(), 1u);  // XRPBTC is not configured
  EXPECT_EQ((*orders)[0].symbol, "LTC-BTC");
  EXPECT_EQ((*orders)[0].client_order_id, "myOrder1");
  EXPECT_EQ((*orders)[0].price_e8, 10'000'000);
  EXPECT_EQ((*orders)[0].status, v1::ORDER_STATUS_ACKED);
  EXPECT_EQ((*orders)[0].created_unix_ns, kNowMs * 1'000'000);
  auto balances = api->ParseBalances(Response(200, R"({
    "makerCommission": 15, "takerCommission": 15, "buyerCommission": 0, "sellerCommission": 0,
    "canTrade": true, "canWithdraw": true, "canDeposit": true, "brokered": false,
    "requireSelfTradePrevention": false, "preventSor": false, "updateTime": 123456789,
    "accountType": "SPOT",
    "balances": [{"asset": "BTC", "free": "4723846.89208129", "locked": "0.00000000"},
                 {"asset": "LTC", "free": "4763368.68006011", "locked": "1.00000000"}],
    "permissions": ["SPOT"], "uid": 354937868})"));
  ASSERT_TRUE(balances.ok()) << balances.status();
  ASSERT_EQ(balances->size(), 2u);
  EXPECT_EQ((*balances)[0].asset, "BTC");
  EXPECT_EQ((*balances)[0].available_e8, 472'384'689'208'129);
  EXPECT_EQ((*balances)[1].total_e8, 476'336'968'006'011);
  EXPECT_EQ((*balances)[1].available_e8, 476'336'868'006'011);
}

// ---------------------------------------------------------------- Kraken

const Credentials kKrakenCreds{
    "api-key-example",
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="};

TEST(KrakenOrderApi, AddOrderCarriesNonceAndApiSign) {
  OrderApiOptions o;
  o.nonce = std::make_shared<NonceSource>([] { return int64_t{1616492376594}; });
  auto api = Make(Venue::kKraken, kKrakenCreds, {"BTC-USD"}, o);
  auto r = api->PlaceOrder(Limit("BTC-USD"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->target, "/0/private/AddOrder");
  EXPECT_EQ(r->content_type, "application/x-www-form-urlencoded");
  EXPECT_EQ(r->body,
            "nonce=1616492376594&ordertype=limit&type=buy&volume=1.25&pair=XBTUSD&price=37500&"
            "timeinforce=GTC&cl_ord_id=tm-1");
  EXPECT_EQ(Header(*r, "API-Key"), "api-key-example");
  EXPECT_EQ(Header(*r, "API-Sign"),
            *KrakenSignature(kKrakenCreds.secret, "/0/private/AddOrder", "1616492376594", r->body));
  // Nonces strictly increase even with a frozen clock.
  auto again = api->Balances();
  EXPECT_TRUE(absl::StartsWith(again->body, "nonce=1616492376595"));
}

TEST(KrakenOrderApi, RejectsFokAndBadSecrets) {
  auto api = Make(Venue::kKraken, kKrakenCreds, {"BTC-USD"});
  auto p = Limit("BTC-USD");
  p.time_in_force = v1::TIME_IN_FORCE_FOK;
  EXPECT_EQ(api->PlaceOrder(p).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeOrderApi(Venue::kKraken, *SymbolMap::Create({"BTC-USD"}), {"k", "not base64!"})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(KrakenOrderApi, ParsesTheDocumentedAnswers) {
  auto api = Make(Venue::kKraken, kKrakenCreds, {"BTC-USD"});
  auto ack = api->ParsePlace(Response(
      200,
      R"({"error":[],"result":{"descr":{"order":"buy 1.25000000 XBTUSD @ limit 27500.0"},"txid":["OU22CG-KLAF2-FWUDD7"]}})"));
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->venue_order_id, "OU22CG-KLAF2-FWUDD7");
  EXPECT_EQ(ack->status, v1::ORDER_STATUS_ACKED);
  auto cancel = api->ParseCancel(Response(200, R"({"error":[],"result":{"count":1}})"));
  ASSERT_TRUE(cancel.ok());
  EXPECT_EQ(cancel->status, v1::ORDER_STATUS_CANCELLED);
  auto open = api->ParseOpenOrders(Response(200, R"({"error":[],"result":{"open":{
    "OQCLML-BW3P3-BUCMWZ":{"refid":null,"userref":0,"status":"open","opentm":1688666559.8974,
      "starttm":0,"expiretm":0,"descr":{"pair":"XBTUSD","type":"buy","ordertype":"limit",
      "price":"30010.0","price2":"0","leverage":"none",
      "order":"buy 1.25000000 XBTUSD @ limit 30010.0","close":""},
      "vol":"1.25000000","vol_exec":"0.37500000","cost":"11253.7","fee":"0.00000",
      "price":"30010.0","stopprice":"0.00000","limitprice":"0.00000","misc":"","oflags":"fciq",
      "trades":["TCCCTY-WE2O6-P3NB37"]}}}})"));
  ASSERT_TRUE(open.ok()) << open.status();
  ASSERT_EQ(open->size(), 1u);
  const VenueOrder& o = (*open)[0];
  EXPECT_EQ(o.venue_order_id, "OQCLML-BW3P3-BUCMWZ");
  EXPECT_EQ(o.symbol, "BTC-USD");
  EXPECT_EQ(o.side, v1::SIDE_BUY);
  EXPECT_EQ(o.price_e8, 3'001'000'000'000);
  EXPECT_EQ(o.qty_e8, 125'000'000);
  EXPECT_EQ(o.filled_qty_e8, 37'500'000);
  EXPECT_EQ(o.status, v1::ORDER_STATUS_PARTIALLY_FILLED);
  EXPECT_EQ(o.created_unix_ns, 1688666559897400000LL);
  auto balances = api->ParseBalances(Response(200, R"({"error":[],"result":{
    "ZUSD":"171288.6158","ZEUR":"504861.8946","XXBT":"1011.1908877900","XETH":"818.5500000000",
    "USDT":"500000.00000000"}})"));
  ASSERT_TRUE(balances.ok()) << balances.status();
  ASSERT_EQ(balances->size(), 5u);
  EXPECT_EQ((*balances)[0].asset, "USD");
  EXPECT_EQ((*balances)[2].asset, "BTC");
  EXPECT_EQ((*balances)[2].total_e8, 101'119'088'779);
}

TEST(KrakenOrderApi, MapsVenueErrors) {
  auto api = Make(Venue::kKraken, kKrakenCreds, {"BTC-USD"});
  auto funds = api->ParsePlace(Response(200, R"({"error":["EOrder:Insufficient funds"]})"));
  EXPECT_EQ(funds.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(funds.status().message(), "kraken EOrder:Insufficient funds");
  EXPECT_EQ(
      api->ParsePlace(Response(200, R"({"error":["EAPI:Rate limit exceeded"]})")).status().code(),
      absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(api->ParsePlace(Response(200, R"({"error":["EService:Unavailable"]})")).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(
      api->ParsePlace(Response(200, R"({"error":["EAPI:Invalid signature"]})")).status().code(),
      absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(
      api->ParseCancel(Response(200, R"({"error":["EOrder:Unknown order"]})")).status().code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(api->ParsePlace(Response(502, "bad gateway")).status().code(),
            absl::StatusCode::kUnavailable);
}

// ---------------------------------------------------------------- QueryOrder (every venue)
// Bodies: Binance https://developers.binance.com/docs/binance-spot-api-docs/rest-api/
// trading-endpoints#query-order-user_data, Kraken https://docs.kraken.com/api/docs/rest-api/
// get-orders-info (QueryOrders), Bybit https://bybit-exchange.github.io/docs/v5/order/open-order
// (Get Open & Closed Orders).

TEST(BinanceOrderApi, QueryOrderIsASignedGetByOrigClientOrderId) {
  auto api = Make(Venue::kBinance, kBinanceCreds, {"LTC-BTC"});
  auto r = api->QueryOrder("LTC-BTC", "myOrder1");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->method, "GET");
  EXPECT_EQ(r->endpoint, "query_order");
  const std::string query =
      "symbol=LTCBTC&origClientOrderId=myOrder1&recvWindow=5000&timestamp=1499827319559";
  EXPECT_EQ(r->target, absl::StrCat("/api/v3/order?", query,
                                    "&signature=", BinanceSignature(kBinanceCreds.secret, query)));
  EXPECT_EQ(Header(*r, "X-MBX-APIKEY"), kBinanceCreds.api_key);
  EXPECT_EQ(api->QueryOrder("ETH-BTC", "myOrder1").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(api->QueryOrder("LTC-BTC", "bad id!").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(BinanceOrderApi, ParsesTheDocumentedQueryOrderAnswerAndUnknownOrder) {
  auto api = Make(Venue::kBinance, kBinanceCreds, {"LTC-BTC"});
  auto open = api->ParseQueryOrder(Response(200, R"({
    "symbol": "LTCBTC", "orderId": 1, "orderListId": -1, "clientOrderId": "myOrder1",
    "price": "0.1", "origQty": "1.0", "executedQty": "0.0", "cummulativeQuoteQty": "0.0",
    "status": "NEW", "timeInForce": "GTC", "type": "LIMIT", "side": "BUY", "stopPrice": "0.0",
    "icebergQty": "0.0", "time": 1499827319559, "updateTime": 1499827319559, "isWorking": true,
    "workingTime": 1499827319559, "origQuoteOrderQty": "0.000000",
    "selfTradePreventionMode": "NONE"})"));
  ASSERT_TRUE(open.ok()) << open.status();
  EXPECT_EQ(open->venue_order_id, "1");
  EXPECT_EQ(open->client_order_id, "myOrder1");
  EXPECT_EQ(open->status, v1::ORDER_STATUS_ACKED);
  EXPECT_EQ(open->filled_qty_e8, 0);
  EXPECT_EQ(open->avg_price_e8, 0);
  // The same document after a partial fill and a cancel: CANCELLED keeps its executed part.
  auto cancelled = api->ParseQueryOrder(Response(200, R"({
    "symbol": "LTCBTC", "orderId": 1, "clientOrderId": "myOrder1", "price": "0.1",
    "origQty": "1.0", "executedQty": "0.4", "cummulativeQuoteQty": "0.038",
    "status": "CANCELED", "type": "LIMIT", "side": "BUY"})"));
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->status, v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(cancelled->filled_qty_e8, 40'000'000);
  EXPECT_EQ(cancelled->avg_price_e8, 9'500'000);  // 0.038 / 0.4 = 0.095
  // A query reports REJECTED as a status.
  auto rejected = api->ParseQueryOrder(Response(
      200, R"({"orderId": 2, "clientOrderId": "x", "status": "REJECTED", "executedQty": "0"})"));
  ASSERT_TRUE(rejected.ok()) << rejected.status();
  EXPECT_EQ(rejected->status, v1::ORDER_STATUS_REJECTED);
  auto unknown =
      api->ParseQueryOrder(Response(400, R"({"code":-2013,"msg":"Order does not exist."})"));
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(unknown.status().message(), "binance -2013: Order does not exist.");
  EXPECT_EQ(api->ParseQueryOrder(Response(429, R"({"code":-1003,"msg":"Too many requests."})"))
                .status()
                .code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(
      api->ParseQueryOrder(Response(200, R"({"orderId": 1, "status": "WHAT"})")).status().code(),
      absl::StatusCode::kInternal);
}

TEST(KrakenOrderApi, QueryOrdersAsksByClOrdIdAndTxidWhenKnown) {
  OrderApiOptions o;
  o.nonce = std::make_shared<NonceSource>([] { return int64_t{1695828490000}; });
  auto api = Make(Venue::kKraken, kKrakenCreds, {"BTC-USD"}, o);
  auto r = api->QueryOrder("BTC-USD", "tm-1");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->target, "/0/private/QueryOrders");
  EXPECT_EQ(r->endpoint, "query_order");
  EXPECT_EQ(r->body, "nonce=1695828490000&cl_ord_id=tm-1&trades=true");
  EXPECT_EQ(Header(*r, "API-Sign"), *KrakenSignature(kKrakenCreds.secret, "/0/private/QueryOrders",
                                                     "1695828490000", r->body));
  auto by_txid = api->QueryOrder("BTC-USD", "tm-1", "OMMDB2-FSB6Z-7W3HPO");
  ASSERT_TRUE(by_txid.ok()) << by_txid.status();
  EXPECT_EQ(by_txid->body,
            "nonce=1695828490001&cl_ord_id=tm-1&trades=true&txid=OMMDB2-FSB6Z-7W3HPO");
  EXPECT_EQ(api->QueryOrder("BTC-USD", "tm-1", "O&x=1").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(api->QueryOrder("ETH-USD", "tm-1").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(KrakenOrderApi, ParsesTheDocumentedQueryOrdersAnswer) {
  auto api = Make(Venue::kKraken, kKrakenCreds, {"BTC-USD"});
  // The documented example's market sell, alone (we ask for one order).
  auto filled = api->ParseQueryOrder(Response(200, R"({"error": [], "result": {
    "OMMDB2-FSB6Z-7W3HPO": {"refid": "None", "userref": 0, "status": "closed", "reason": null,
      "opentm": 1688592012.2317, "closetm": 1688592012.2335, "starttm": 0, "expiretm": 0,
      "descr": {"pair": "XBTUSD", "type": "sell", "ordertype": "market", "price": "0",
        "price2": "0", "leverage": "none", "order": "sell 0.25000000 XBTUSD @ market",
        "close": ""},
      "vol": "0.25000000", "vol_exec": "0.25000000", "cost": "7500.0", "fee": "7.5",
      "price": "30000.0", "stopprice": "0.00000", "limitprice": "0.00000", "misc": "",
      "oflags": "fcib", "trades": ["TJUW2K-FLX2N-AR2FLU"]}}})"));
  ASSERT_TRUE(filled.ok()) << filled.status();
  EXPECT_EQ(filled->venue_order_id, "OMMDB2-FSB6Z-7W3HPO");
  EXPECT_EQ(filled->status, v1::ORDER_STATUS_FILLED);
  EXPECT_EQ(filled->filled_qty_e8, 25'000'000);
  EXPECT_EQ(filled->avg_price_e8, 3'000'000'000'000);
  EXPECT_TRUE(filled->fills.empty());
  // Cancelled after a partial fill, no average given: cost / vol_exec.
  auto cancelled = api->ParseQueryOrder(Response(200, R"({"error": [], "result": {
    "OB2": {"status": "canceled", "cl_ord_id": "tm-1", "vol": "1.0", "vol_exec": "0.5",
      "cost": "15000.5", "price": "0"}}})"));
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->status, v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(cancelled->client_order_id, "tm-1");
  EXPECT_EQ(cancelled->filled_qty_e8, 50'000'000);
  EXPECT_EQ(cancelled->avg_price_e8, 3'000'100'000'000);
  auto open = api->ParseQueryOrder(Response(200, R"({"error": [], "result": {
    "OB3": {"status": "open", "vol": "1.0", "vol_exec": "0.1", "cost": "3000", "price": "30000"}}})"));
  ASSERT_TRUE(open.ok()) << open.status();
  EXPECT_EQ(open->status, v1::ORDER_STATUS_PARTIALLY_FILLED);
  // Empty result: Kraken does not know the order.
  EXPECT_EQ(api->ParseQueryOrder(Response(200, R"({"error": [], "result": {}})")).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(
      api->ParseQueryOrder(Response(200, R"({"error": ["EOrder:Unknown order"]})")).status().code(),
      absl::StatusCode::kNotFound);
  // An endpoint that does not serve QueryOrders (the simulator) says so.
  EXPECT_EQ(api->ParseQueryOrder(Response(404, R"({"error":["EGeneral:Unknown method"]})"))
                .status()
                .code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(api->ParseQueryOrder(Response(200, R"({"error": ["EAPI:Rate limit exceeded"]})"))
                .status()
                .code(),
            absl::StatusCode::kResourceExhausted);
  // The documented example lists two orders: more than the one we asked for is not understood.
  EXPECT_EQ(api->ParseQueryOrder(Response(200, R"({"error": [], "result": {
    "A": {"status": "closed", "vol_exec": "1"}, "B": {"status": "closed", "vol_exec": "1"}}})"))
                .status()
                .code(),
            absl::StatusCode::kInternal);
}

// ---------------------------------------------------------------- Bybit

const Credentials kBybitCreds{"XXXXXXXXXX", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"};

TEST(BybitOrderApi, CreateOrderHasTheV5Headers) {
  auto api = Make(Venue::kBybit, kBybitCreds, {"BTC-USDT"});
  auto r = api->PlaceOrder(Limit("BTC-USDT"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->target, "/v5/order/create");
  EXPECT_EQ(r->content_type, "application/json");
  EXPECT_EQ(
      r->body,
      R"({"category":"spot","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"1.25","price":"37500","timeInForce":"GTC","orderLinkId":"tm-1"})");
  EXPECT_EQ(Header(*r, "X-BAPI-API-KEY"), "XXXXXXXXXX");
  EXPECT_EQ(Header(*r, "X-BAPI-TIMESTAMP"), "1499827319559");
  EXPECT_EQ(Header(*r, "X-BAPI-RECV-WINDOW"), "5000");
  EXPECT_EQ(Header(*r, "X-BAPI-SIGN"),
            BybitSignature(kBybitCreds.secret, kNowMs, kBybitCreds.api_key, 5000, r->body));
  auto get = api->OpenOrders();
  EXPECT_EQ(get->target, "/v5/order/realtime?category=spot");
  EXPECT_EQ(Header(*get, "X-BAPI-SIGN"),
            BybitSignature(kBybitCreds.secret, kNowMs, kBybitCreds.api_key, 5000, "category=spot"));
  auto market = Limit("BTC-USDT");
  market.type = v1::ORDER_TYPE_MARKET;
  EXPECT_NE(api->PlaceOrder(market)->body.find(R"("marketUnit":"baseCoin")"), std::string::npos);
}

TEST(BybitOrderApi, ParsesTheDocumentedAnswersAndErrors) {
  auto api = Make(Venue::kBybit, kBybitCreds, {"ETH-USDT"});
  auto ack = api->ParsePlace(Response(
      200,
      R"({"retCode":0,"retMsg":"OK","result":{"orderId":"1321003749386327552","orderLinkId":"spot-test-postonly"},"retExtInfo":{},"time":1672211918471})"));
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->venue_order_id, "1321003749386327552");
  EXPECT_EQ(ack->client_order_id, "spot-test-postonly");
  EXPECT_EQ(
      api
          ->ParsePlace(Response(
              200,
              R"({"retCode":10006,"retMsg":"Too many visits!","result":{},"retExtInfo":{},"time":1})"))
          .status()
          .code(),
      absl::StatusCode::kResourceExhausted);
  auto funds = api->ParsePlace(Response(
      200,
      R"({"retCode":170131,"retMsg":"Insufficient balance.","result":{},"retExtInfo":{},"time":1})"));
  EXPECT_EQ(funds.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(funds.status().message(), "bybit 170131: Insufficient balance.");
  EXPECT_EQ(api->ParsePlace(Response(403, "access too frequent")).status().code(),
            absl::StatusCode::kResourceExhausted);
  auto open = api->ParseOpenOrders(Response(200, R"({"retCode":0,"retMsg":"OK","result":{
    "list":[{"orderId":"fd4300ae-7847-404e-b947-b46980a4d140","orderLinkId":"test-000005",
      "blockTradeId":"","symbol":"ETHUSDT","price":"1600.00","qty":"0.10","side":"Buy",
      "isLeverage":"","positionIdx":1,"orderStatus":"New","cancelType":"UNKNOWN",
      "rejectReason":"EC_NoError","avgPrice":"0","leavesQty":"0.10","leavesValue":"160",
      "cumExecQty":"0.00","cumExecValue":"0","cumExecFee":"0","timeInForce":"GTC",
      "orderType":"Limit","stopOrderType":"UNKNOWN","orderIv":"","triggerPrice":"0.00",
      "takeProfit":"2500.00","stopLoss":"1500.00","createdTime":"1684738540559",
      "updatedTime":"1684738540561"}],"nextPageCursor":"page_args%3Dfd4300ae","category":"linear"},
    "retExtInfo":{},"time":1684765770483})"));
  ASSERT_TRUE(open.ok()) << open.status();
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ((*open)[0].symbol, "ETH-USDT");
  EXPECT_EQ((*open)[0].price_e8, 160'000'000'000);
  EXPECT_EQ((*open)[0].created_unix_ns, 1684738540559LL * 1'000'000);
  auto balances = api->ParseBalances(Response(200, R"({"retCode":0,"retMsg":"OK","result":{
    "list":[{"totalEquity":"3.31216591","accountIMRate":"0","totalMarginBalance":"3.00326056",
      "accountType":"UNIFIED","totalAvailableBalance":"3.00326056",
      "coin":[{"availableToBorrow":"3","bonus":"0","accruedInterest":"0",
        "availableToWithdraw":"0","totalOrderIM":"0","equity":"0","totalPositionMM":"0",
        "usdValue":"0","spotHedgingQty":"0.01592413","unrealisedPnl":"0","collateralSwitch":true,
        "borrowAmount":"0.0","totalPositionIM":"0","walletBalance":"0.5","cumRealisedPnl":"0",
        "locked":"0.1","marginCollateral":true,"coin":"BTC"}]}]},
    "retExtInfo":{},"time":1690872862481})"));
  ASSERT_TRUE(balances.ok()) << balances.status();
  ASSERT_EQ(balances->size(), 1u);
  EXPECT_EQ((*balances)[0].asset, "BTC");
  EXPECT_EQ((*balances)[0].total_e8, 50'000'000);
  EXPECT_EQ((*balances)[0].available_e8, 40'000'000);
}

TEST(OrderApi, HyperliquidOrdersAreNotSupported) {
  EXPECT_EQ(MakeOrderApi(Venue::kHyperliquid, *SymbolMap::Create({"BTC-USD"}), {"k", "s"})
                .status()
                .code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(
      MakeOrderApi(Venue::kBinance, *SymbolMap::Create({"BTC-USD"}), {"", "s"}).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(NonceSource, IsStrictlyIncreasingAcrossThreads) {
  NonceSource nonce([] { return int64_t{1000}; });
  std::vector<std::vector<int64_t>> seen(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) seen[t].push_back(nonce.Next());
    });
  }
  for (auto& t : threads) t.join();
  std::set<int64_t> all;
  for (const auto& v : seen) {
    for (size_t i = 1; i < v.size(); ++i) EXPECT_GT(v[i], v[i - 1]);
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(all.size(), 4000u);
  // Follows the clock when it moves ahead.
  NonceSource wall;
  const int64_t a = wall.Next();
  EXPECT_GT(a, int64_t{1'600'000'000'000'000});  // microseconds since epoch
  EXPECT_GT(wall.Next(), a);
}

TEST(BybitOrderApi, QueryOrderIsASignedRealtimeGetByOrderLinkId) {
  auto api = Make(Venue::kBybit, kBybitCreds, {"ETH-USDT"});
  auto r = api->QueryOrder("ETH-USDT", "test-000005");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->method, "GET");
  EXPECT_EQ(r->endpoint, "query_order");
  const std::string query = "category=spot&symbol=ETHUSDT&orderLinkId=test-000005";
  EXPECT_EQ(r->target, "/v5/order/realtime?" + query);
  EXPECT_EQ(Header(*r, "X-BAPI-SIGN"),
            BybitSignature(kBybitCreds.secret, kNowMs, kBybitCreds.api_key, 5000, query));
}

TEST(BybitOrderApi, ParsesTheDocumentedRealtimeOrderAndAnEmptyList) {
  auto api = Make(Venue::kBybit, kBybitCreds, {"ETH-USDT"});
  auto open = api->ParseQueryOrder(Response(200, R"({"retCode": 0, "retMsg": "OK", "result": {
    "list": [{"orderId": "fd4300ae-7847-404e-b947-b46980a4d140", "orderLinkId": "test-000005",
      "blockTradeId": "", "symbol": "ETHUSDT", "price": "1600.00", "qty": "0.10", "side": "Buy",
      "isLeverage": "", "positionIdx": 1, "orderStatus": "New", "cancelType": "UNKNOWN",
      "rejectReason": "EC_NoError", "avgPrice": "0", "leavesQty": "0.10", "leavesValue": "160",
      "cumExecQty": "0.00", "cumExecValue": "0", "cumExecFee": "0", "timeInForce": "GTC",
      "orderType": "Limit", "stopOrderType": "UNKNOWN", "orderIv": "", "triggerPrice": "0.00",
      "takeProfit": "2500.00", "stopLoss": "1500.00", "tpTriggerBy": "LastPrice",
      "slTriggerBy": "LastPrice", "triggerDirection": 0, "triggerBy": "UNKNOWN",
      "lastPriceOnCreated": "", "reduceOnly": false, "closeOnTrigger": false, "smpType": "None",
      "smpGroup": 0, "smpOrderId": "", "tpslMode": "Full", "tpLimitPrice": "",
      "slLimitPrice": "", "placeType": "", "createdTime": "1684738540559",
      "updatedTime": "1684738540561"}],
    "nextPageCursor": "page_args%3Dfd4300ae-7847-404e-b947-b46980a4d140%26symbol%3D6%26",
    "category": "linear"}, "retExtInfo": {}, "time": 1684765770483})"));
  ASSERT_TRUE(open.ok()) << open.status();
  EXPECT_EQ(open->venue_order_id, "fd4300ae-7847-404e-b947-b46980a4d140");
  EXPECT_EQ(open->client_order_id, "test-000005");
  EXPECT_EQ(open->status, v1::ORDER_STATUS_ACKED);
  EXPECT_EQ(open->filled_qty_e8, 0);
  EXPECT_EQ(open->avg_price_e8, 0);
  // Recently closed orders are listed too: a partial fill then cancel.
  auto closed = api->ParseQueryOrder(Response(200, R"({"retCode": 0, "retMsg": "OK", "result": {
    "list": [{"orderId": "fd43", "orderLinkId": "test-000005", "orderStatus":
      "PartiallyFilledCanceled", "avgPrice": "1600.5", "cumExecQty": "0.04",
      "cumExecValue": "64.02"}], "category": "spot"}, "retExtInfo": {}, "time": 1684765770483})"));
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(closed->status, v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(closed->filled_qty_e8, 4'000'000);
  EXPECT_EQ(closed->avg_price_e8, 160'050'000'000);
  auto gone = api->ParseQueryOrder(Response(
      200,
      R"({"retCode":0,"retMsg":"OK","result":{"list":[],"nextPageCursor":"","category":"spot"},"retExtInfo":{},"time":1})"));
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(
      api
          ->ParseQueryOrder(Response(
              200,
              R"({"retCode":10006,"retMsg":"Too many visits!","result":{},"retExtInfo":{},"time":1})"))
          .status()
          .code(),
      absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(api
                ->ParseQueryOrder(Response(
                    200, R"({"retCode":0,"retMsg":"OK","result":{"list":[{"orderLinkId":"x"}]}})"))
                .status()
                .code(),
            absl::StatusCode::kInternal);
}

// ---------------------------------------------------------------- batches and fees
// Bybit https://bybit-exchange.github.io/docs/v5/order/batch-place and .../order/batch-cancel
// (request and response examples), Kraken https://docs.kraken.com/api/docs/rest-api/
// add-order-batch (example response), Binance https://developers.binance.com/docs/
// binance-spot-api-docs/rest-api/account-endpoints#account-trade-list-user_data (myTrades).

OrderParams Item(std::string symbol, v1::Side side, int64_t qty_e8, int64_t price_e8,
                 std::string id) {
  OrderParams p;
  p.symbol = std::move(symbol);
  p.side = side;
  p.type = v1::ORDER_TYPE_LIMIT;
  p.qty_e8 = qty_e8;
  p.price_e8 = price_e8;
  p.client_order_id = std::move(id);
  return p;
}

TEST(BybitOrderApi, CreateBatchHasTheDocumentedShapeAndSignature) {
  auto api = Make(Venue::kBybit, kBybitCreds, {"BTC-USDT", "ATOM-USDT"});
  EXPECT_EQ(api->max_place_batch(), 10u);
  EXPECT_EQ(api->max_cancel_batch(), 10u);
  // The documented request's two orders.
  auto r = api->PlaceOrders(
      {Item("BTC-USDT", v1::SIDE_BUY, 5'000'000, 3'000'000'000'000, "spot-btc-03"),
       Item("ATOM-USDT", v1::SIDE_SELL, 200'000'000, 1'200'000'000, "spot-atom-03")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->target, "/v5/order/create-batch");
  EXPECT_EQ(r->endpoint, "place_batch");
  EXPECT_EQ(
      r->body,
      R"({"category":"spot","request":[{"symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.05","price":"30000","timeInForce":"GTC","orderLinkId":"spot-btc-03"},{"symbol":"ATOMUSDT","side":"Sell","orderType":"Limit","qty":"2","price":"12","timeInForce":"GTC","orderLinkId":"spot-atom-03"}]})");
  EXPECT_EQ(Header(*r, "X-BAPI-SIGN"),
            BybitSignature(kBybitCreds.secret, kNowMs, kBybitCreds.api_key, 5000, r->body));
  // Limits and per-item validation (the bad item is named).
  std::vector<OrderParams> eleven(11, Limit("BTC-USDT"));
  EXPECT_EQ(api->PlaceOrders(eleven).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(api->PlaceOrders({}).status().code(), absl::StatusCode::kInvalidArgument);
  auto bad = api->PlaceOrders({Limit("BTC-USDT"), Item("BTC-USDT", v1::SIDE_BUY, 0, 1, "x")});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(bad.status().message(), "order 1: ")) << bad.status();
  auto cancel = api->CancelOrders({{"BTC-USDT", "spot-btc-03"}, {"ATOM-USDT", "spot-atom-03"}});
  ASSERT_TRUE(cancel.ok()) << cancel.status();
  EXPECT_EQ(cancel->target, "/v5/order/cancel-batch");
  EXPECT_EQ(
      cancel->body,
      R"({"category":"spot","request":[{"symbol":"BTCUSDT","orderLinkId":"spot-btc-03"},{"symbol":"ATOMUSDT","orderLinkId":"spot-atom-03"}]})");
}

TEST(BybitOrderApi, ParsesBatchAnswersItemByItem) {
  auto api = Make(Venue::kBybit, kBybitCreds, {"BTC-USDT", "ATOM-USDT"});
  const std::vector<std::string> ids = {"spot-btc-03", "spot-atom-03"};
  // The documented answer: both accepted.
  auto both = api->ParsePlaceBatch(Response(200, R"({
    "retCode": 0, "retMsg": "OK",
    "result": {"list": [
      {"category": "spot", "symbol": "BTCUSDT", "orderId": "1666800494330512128",
       "orderLinkId": "spot-btc-03", "createAt": "1713434102752"},
      {"category": "spot", "symbol": "ATOMUSDT", "orderId": "1666800494330512129",
       "orderLinkId": "spot-atom-03", "createAt": "1713434102752"}]},
    "retExtInfo": {"list": [{"code": 0, "msg": "OK"}, {"code": 0, "msg": "OK"}]},
    "time": 1713434102753})"),
                                   ids);
  ASSERT_TRUE(both.ok()) << both.status();
  ASSERT_EQ(both->size(), 2u);
  ASSERT_TRUE((*both)[0].ok());
  EXPECT_EQ((*both)[0]->venue_order_id, "1666800494330512128");
  EXPECT_EQ((*both)[1]->venue_order_id, "1666800494330512129");
  EXPECT_EQ((*both)[1]->client_order_id, "spot-atom-03");
  EXPECT_EQ((*both)[1]->status, v1::ORDER_STATUS_ACKED);
  // Partial success: the second order is refused on its own.
  auto partial = api->ParsePlaceBatch(Response(200, R"({"retCode":0,"retMsg":"OK",
    "result":{"list":[{"category":"spot","symbol":"BTCUSDT","orderId":"1666800494330512128",
      "orderLinkId":"spot-btc-03","createAt":"1713434102752"},
      {"category":"spot","symbol":"ATOMUSDT","orderId":"","orderLinkId":"spot-atom-03",
      "createAt":""}]},
    "retExtInfo":{"list":[{"code":0,"msg":"OK"},{"code":170131,"msg":"Insufficient balance."}]},
    "time":1713434102753})"),
                                      ids);
  ASSERT_TRUE(partial.ok()) << partial.status();
  EXPECT_TRUE((*partial)[0].ok());
  EXPECT_EQ((*partial)[1].status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*partial)[1].status().message(), "bybit 170131: Insufficient balance.");
  // Whole-request errors, and answers that do not match what was sent.
  EXPECT_EQ(api->ParsePlaceBatch(Response(200, R"({"retCode":10006,"retMsg":"Too many visits!",
    "result":{},"retExtInfo":{},"time":1})"),
                                 ids)
                .status()
                .code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(api->ParsePlaceBatch(Response(200, R"({"retCode":0,"retMsg":"OK",
    "result":{"list":[{"orderId":"1","orderLinkId":"spot-btc-03"}]},
    "retExtInfo":{"list":[{"code":0,"msg":"OK"}]},"time":1})"),
                                 ids)
                .status()
                .code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(api->ParsePlaceBatch(Response(200, R"({"retCode":0,"retMsg":"OK",
    "result":{"list":[{"orderId":"1","orderLinkId":"spot-atom-03"},
      {"orderId":"2","orderLinkId":"spot-btc-03"}]},
    "retExtInfo":{"list":[{"code":0,"msg":"OK"},{"code":0,"msg":"OK"}]},"time":1})"),
                                 ids)
                .status()
                .code(),
            absl::StatusCode::kInternal);
  // The documented batch cancel answer: the second order does not exist.
  auto cancel = api->ParseCancelBatch(Response(200, R"({"retCode": 0, "retMsg": "OK",
    "result": {"list": [
      {"category": "spot", "symbol": "BTCUSDT", "orderId": "1666800494330512128",
       "orderLinkId": "spot-btc-03"},
      {"category": "spot", "symbol": "ATOMUSDT", "orderId": "",
       "orderLinkId": "1666800494330512129"}]},
    "retExtInfo": {"list": [{"code": 0, "msg": "OK"},
      {"code": 170213, "msg": "Order does not exist."}]},
    "time": 1713434299047})"),
                                      {"spot-btc-03", "1666800494330512129"});
  ASSERT_TRUE(cancel.ok()) << cancel.status();
  ASSERT_TRUE((*cancel)[0].ok());
  EXPECT_EQ((*cancel)[0]->status, v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ((*cancel)[1].status().code(), absl::StatusCode::kNotFound);
}

TEST(KrakenOrderApi, AddOrderBatchIsSignedJsonOfOnePair) {
  OrderApiOptions o;
  o.nonce = std::make_shared<NonceSource>([] { return int64_t{1695828490}; });
  auto api = Make(Venue::kKraken, kKrakenCreds, {"BTC-USD", "ETH-USD"}, o);
  EXPECT_EQ(api->max_place_batch(), 15u);
  EXPECT_EQ(api->min_place_batch(), 2u);
  EXPECT_NE(api->PlaceBatchKey(Limit("BTC-USD")), api->PlaceBatchKey(Limit("ETH-USD")));
  auto ioc = Item("BTC-USD", v1::SIDE_SELL, 120'000'000, 4'200'000'000'000, "tm-2");
  ioc.time_in_force = v1::TIME_IN_FORCE_IOC;
  auto r = api->PlaceOrders(
      {Item("BTC-USD", v1::SIDE_BUY, 120'000'000, 4'000'000'000'000, "tm-1"), ioc});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->target, "/0/private/AddOrderBatch");
  EXPECT_EQ(r->content_type, "application/json");
  EXPECT_EQ(r->endpoint, "place_batch");
  EXPECT_EQ(
      r->body,
      R"({"nonce":1695828490,"pair":"XBTUSD","orders":[{"ordertype":"limit","type":"buy","volume":"1.2","price":"40000","timeinforce":"GTC","cl_ord_id":"tm-1"},{"ordertype":"limit","type":"sell","volume":"1.2","price":"42000","timeinforce":"IOC","cl_ord_id":"tm-2"}]})");
  EXPECT_EQ(
      Header(*r, "API-Sign"),
      *KrakenSignature(kKrakenCreds.secret, "/0/private/AddOrderBatch", "1695828490", r->body));
  // 2..15 orders, one pair, no FOK.
  EXPECT_EQ(api->PlaceOrders({Limit("BTC-USD")}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(api->PlaceOrders(std::vector<OrderParams>(16, Limit("BTC-USD"))).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(api->PlaceOrders({Limit("BTC-USD"), Limit("ETH-USD")}).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto fok = Limit("BTC-USD");
  fok.time_in_force = v1::TIME_IN_FORCE_FOK;
  EXPECT_EQ(api->PlaceOrders({Limit("BTC-USD"), fok}).status().code(),
            absl::StatusCode::kInvalidArgument);
  // No batch cancel is used on Kraken.
  EXPECT_EQ(api->max_cancel_batch(), 1u);
  EXPECT_EQ(api->CancelOrders({{"BTC-USD", "tm-1"}}).status().code(),
            absl::StatusCode::kUnimplemented);
}

TEST(KrakenOrderApi, ParsesAddOrderBatchAnswersItemByItem) {
  auto api = Make(Venue::kKraken, kKrakenCreds, {"BTC-USD"});
  const std::vector<std::string> ids = {"tm-1", "tm-2"};
  auto both = api->ParsePlaceBatch(Response(200, R"({"error": [], "result": {"orders": [
    {"txid": "O5OR23-ADFAD-Y2G61C", "descr": {"order": "buy 0.80300000 XBTUSD @ limit 28300.0",
      "close": "close position @ stop loss 27000.0 -> limit 26000.0"}},
    {"txid": "9K6KFS-5H3PL-XBRC7A", "descr": {"order": "sell 0.10500000 XBTUSD @ limit 36000.0"}}
  ]}})"),
                                   ids);
  ASSERT_TRUE(both.ok()) << both.status();
  ASSERT_EQ(both->size(), 2u);
  EXPECT_EQ((*both)[0]->venue_order_id, "O5OR23-ADFAD-Y2G61C");
  EXPECT_EQ((*both)[0]->client_order_id, "tm-1");
  EXPECT_EQ((*both)[1]->venue_order_id, "9K6KFS-5H3PL-XBRC7A");
  // A pre-match refusal (funding) rejects that order only.
  auto partial = api->ParsePlaceBatch(Response(200, R"({"error": [], "result": {"orders": [
    {"txid": "O5OR23-ADFAD-Y2G61C", "descr": {"order": "buy 0.80300000 XBTUSD @ limit 28300.0"}},
    {"error": "EOrder:Insufficient funds"}]}})"),
                                      ids);
  ASSERT_TRUE(partial.ok()) << partial.status();
  EXPECT_TRUE((*partial)[0].ok());
  EXPECT_EQ((*partial)[1].status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*partial)[1].status().message(), "kraken EOrder:Insufficient funds");
  // Whole-batch validation failure and a count that does not match.
  EXPECT_EQ(
      api->ParsePlaceBatch(Response(200, R"({"error":["EGeneral:Invalid arguments:volume"]})"), ids)
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(api->ParsePlaceBatch(Response(200, R"({"error":[],"result":{"orders":[
    {"txid":"O1","descr":{}}]}})"),
                                 ids)
                .status()
                .code(),
            absl::StatusCode::kInternal);
}

TEST(BinanceOrderApi, HasNoBatchPlaceAndReadsFeesFromFillsAndMyTrades) {
  auto api = Make(Venue::kBinance, kBinanceCreds, {"BNB-BTC"});
  EXPECT_EQ(api->max_place_batch(), 1u);
  EXPECT_EQ(api->PlaceOrders({Limit("BNB-BTC"), Limit("BNB-BTC")}).status().code(),
            absl::StatusCode::kUnimplemented);
  auto r = api->OrderTrades("BNB-BTC", "100234");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->method, "GET");
  EXPECT_TRUE(absl::StartsWith(
      r->target, "/api/v3/myTrades?symbol=BNBBTC&orderId=100234&recvWindow=5000&timestamp="))
      << r->target;
  EXPECT_EQ(r->endpoint, "order_trades");
  EXPECT_EQ(api->OrderTrades("BNB-BTC", "12a").status().code(), absl::StatusCode::kInvalidArgument);
  auto trades = api->ParseOrderTrades(Response(200, R"([{"symbol": "BNBBTC", "id": 28457,
    "orderId": 100234, "orderListId": -1, "price": "4.00000100", "qty": "12.00000000",
    "quoteQty": "48.000012", "commission": "10.10000000", "commissionAsset": "BNB",
    "time": 1499865549590, "isBuyer": true, "isMaker": false, "isBestMatch": true}])"));
  ASSERT_TRUE(trades.ok()) << trades.status();
  ASSERT_EQ(trades->size(), 1u);
  EXPECT_EQ((*trades)[0].trade_id, "28457");
  EXPECT_EQ((*trades)[0].price_e8, 400'000'100);
  EXPECT_EQ((*trades)[0].qty_e8, 1'200'000'000);
  EXPECT_EQ((*trades)[0].fee_e8, 1'010'000'000);
  EXPECT_EQ((*trades)[0].fee_asset, "BNB");
  EXPECT_EQ(api->ParseOrderTrades(Response(400, R"({"code":-1121,"msg":"Invalid symbol."})"))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  // The documented FULL answer: both fills' commissions in USDT -> one cumulative fee.
  auto full = Make(Venue::kBinance, kBinanceCreds, {"BTC-USDT"})
                  ->ParsePlace(Response(200, R"({"symbol": "BTCUSDT", "orderId": 28,
    "clientOrderId": "6gCrw2kRUAF9CvJDGP16IP", "executedQty": "10.00000000",
    "cummulativeQuoteQty": "10.00000000", "status": "FILLED", "fills": [
      {"price": "4000.00000000", "qty": "1.00000000", "commission": "4.00000000",
       "commissionAsset": "USDT", "tradeId": 56},
      {"price": "3999.00000000", "qty": "5.00000000", "commission": "19.99500000",
       "commissionAsset": "USDT", "tradeId": 57}]})"));
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_TRUE(full->fee_known);
  EXPECT_EQ(full->fee_e8, 2'399'500'000);
  EXPECT_EQ(full->fee_asset, "USDT");
}

TEST(KrakenOrderApi, ReadsCumulativeFeesOfQueryAndOpenOrders) {
  auto api = Make(Venue::kKraken, kKrakenCreds, {"BTC-USD"});
  // The documented QueryOrders example: fee 7.5 with the fcib flag (fee in the base currency).
  auto q = api->ParseQueryOrder(Response(200, R"({"error": [], "result": {
    "OMMDB2-FSB6Z-7W3HPO": {"refid": "None", "userref": 0, "status": "closed", "reason": null,
      "opentm": 1688592012.2317, "closetm": 1688592012.2335, "starttm": 0, "expiretm": 0,
      "descr": {"pair": "XBTUSD", "type": "sell", "ordertype": "market", "price": "0",
        "price2": "0", "leverage": "none", "order": "sell 0.25000000 XBTUSD @ market",
        "close": ""},
      "vol": "0.25000000", "vol_exec": "0.25000000", "cost": "7500.0", "fee": "7.5",
      "price": "30000.0", "stopprice": "0.00000", "limitprice": "0.00000", "misc": "",
      "oflags": "fcib", "trades": ["TJUW2K-FLX2N-AR2FLU"]}}})"));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_TRUE(q->fee_known);
  EXPECT_EQ(q->fee_e8, 750'000'000);
  EXPECT_EQ(q->fee_asset, "BTC");
  // Default: the quote currency. Open orders carry the fee so far.
  auto open = api->ParseOpenOrders(Response(200, R"({"error": [], "result": {"open": {
    "OQCLML-BW3P3-BUCMWZ": {"refid": "None", "userref": 0, "status": "open",
      "opentm": 1688666559.8974, "starttm": 0, "expiretm": 0,
      "descr": {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "price": "30010.0",
        "price2": "0", "leverage": "none", "order": "buy 1.25000000 XBTUSD @ limit 30010.0",
        "close": ""},
      "vol": "1.25000000", "vol_exec": "0.37500000", "cost": "11253.7", "fee": "0.00000",
      "price": "30010.0", "stopprice": "0.00000", "limitprice": "0.00000", "misc": "",
      "oflags": "fciq", "trades": ["TCCCTY-WE2O6-P3NB37"]}}}})"));
  ASSERT_TRUE(open.ok()) << open.status();
  ASSERT_EQ(open->size(), 1u);
  EXPECT_TRUE((*open)[0].fee_known);
  EXPECT_EQ((*open)[0].fee_e8, 0);
  EXPECT_EQ((*open)[0].fee_asset, "USD");
}

TEST(BybitOrderApi, ReadsCumExecFeeInTheReceivedCoin) {
  auto api = Make(Venue::kBybit, kBybitCreds, {"ETH-USDT"});
  auto q = api->ParseQueryOrder(Response(200, R"({"retCode":0,"retMsg":"OK","result":{
    "list":[{"orderId":"1","orderLinkId":"tm-1","symbol":"ETHUSDT","price":"1600.00",
      "qty":"0.10","side":"Buy","orderStatus":"Filled","avgPrice":"1600","cumExecQty":"0.10",
      "cumExecValue":"160","cumExecFee":"0.0001","orderType":"Limit"}],
    "nextPageCursor":"","category":"spot"},"retExtInfo":{},"time":1})"));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_TRUE(q->fee_known);
  EXPECT_EQ(q->fee_e8, 10'000);
  EXPECT_EQ(q->fee_asset, "ETH");
}

}  // namespace
}  // namespace tickmesh::venues
