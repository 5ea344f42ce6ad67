// Bybit v5: frames from https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook,
// .../public/trade, .../public/ticker and .../ws/connect (subscribe / pong replies).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "feed_test_util.h"
#include "gtest/gtest.h"

namespace tickmesh::venues {
namespace {

using testing::Decode;
using testing::MakeCodec;

constexpr char kDocSnapshot[] = R"({
  "topic": "orderbook.50.BTCUSDT", "type": "snapshot", "ts": 1672304484978,
  "data": {"s": "BTCUSDT",
           "b": [["16493.50", "0.006"], ["16493.00", "0.100"]],
           "a": [["16611.00", "0.029"], ["16612.00", "0.213"]],
           "u": 18521288, "seq": 7961638724},
  "cts": 1672304484976})";

std::string Delta(int64_t u, const char* bid_qty = "0") {
  return absl::StrCat(R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1672304484980,)",
                      R"("data":{"s":"BTCUSDT","b":[["16493.50",")", bid_qty, R"("]],"a":[],"u":)",
                      u, R"(,"seq":7961638730},"cts":1672304484978})");
}

class BybitFeedTest : public ::testing::Test {
 protected:
  std::unique_ptr<FeedCodec> codec_ = MakeCodec(Venue::kBybit, {"BTC-USDT"});
};

TEST_F(BybitFeedTest, SubscribesOnTheCategoryEndpoint) {
  EXPECT_EQ(codec_->ConnectTarget(), "/v5/public/spot");
  ASSERT_EQ(codec_->SubscribeFrames().size(), 1u);
  EXPECT_EQ(
      codec_->SubscribeFrames()[0],
      R"({"op":"subscribe","args":["orderbook.50.BTCUSDT","publicTrade.BTCUSDT","tickers.BTCUSDT"]})");
  EXPECT_EQ(codec_->PingFrame(), R"({"op":"ping"})");
  EXPECT_EQ(codec_->ping_interval_ms(), 20'000);
  EXPECT_EQ(codec_->ResyncFrames("BTC-USDT"),
            (std::vector<std::string>{R"({"op":"unsubscribe","args":["orderbook.50.BTCUSDT"]})",
                                      R"({"op":"subscribe","args":["orderbook.50.BTCUSDT"]})"}));
}

TEST_F(BybitFeedTest, ParsesTheDocumentedSnapshot) {
  auto d = Decode(*codec_, kDocSnapshot);
  ASSERT_TRUE(d.status.ok()) << d.status;
  ASSERT_EQ(d.events.size(), 1u);
  const auto& e = d.events[0];
  EXPECT_EQ(e.venue(), "bybit");
  EXPECT_EQ(e.symbol(), "BTC-USDT");
  EXPECT_EQ(e.exchange_unix_ns(), 1672304484978LL * 1'000'000);
  ASSERT_EQ(e.snapshot().bids_size(), 2);
  EXPECT_EQ(e.snapshot().bids(0).price_e8(), 1'649'350'000'000);
  EXPECT_EQ(e.snapshot().bids(0).qty_e8(), 600'000);
  EXPECT_EQ(e.snapshot().asks(1).price_e8(), 1'661'200'000'000);
  EXPECT_EQ(e.snapshot().asks(1).qty_e8(), 21'300'000);
}

TEST_F(BybitFeedTest, DeltasMustContinueUAndAGapIsDataLoss) {
  ASSERT_TRUE(Decode(*codec_, kDocSnapshot).status.ok());
  auto next = Decode(*codec_, Delta(18521289));
  ASSERT_TRUE(next.status.ok()) << next.status;
  ASSERT_EQ(next.events.size(), 1u);
  EXPECT_EQ(next.events[0].delta().bids(0).qty_e8(), 0);  // "0" removes the level
  EXPECT_EQ(next.events[0].seq(), 2u);
  // A repeated (stale) u is ignored.
  EXPECT_TRUE(Decode(*codec_, Delta(18521289)).events.empty());
  auto gap = Decode(*codec_, Delta(18521291));
  EXPECT_EQ(gap.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(gap.status.message().find("BTC-USDT"), std::string::npos);
  EXPECT_EQ(codec_->stats().gaps, 1u);
  // Withheld until a snapshot arrives, which always resets the book.
  EXPECT_TRUE(Decode(*codec_, Delta(18521292)).events.empty());
  auto snap = Decode(*codec_, kDocSnapshot);
  ASSERT_TRUE(snap.status.ok());
  EXPECT_EQ(snap.events[0].seq(), 3u);
  EXPECT_EQ(codec_->stats().resyncs, 1u);
  EXPECT_EQ(Decode(*codec_, Delta(18521289)).events.size(), 1u);
}

TEST_F(BybitFeedTest, SnapshotWithURestartedAtOneResetsTheBook) {
  ASSERT_TRUE(Decode(*codec_, kDocSnapshot).status.ok());
  auto restart =
      Decode(*codec_, R"({"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1672304490000,
    "data":{"s":"BTCUSDT","b":[["16500.00","1"]],"a":[["16501.00","1"]],"u":1,"seq":7961700000}})");
  ASSERT_TRUE(restart.status.ok());
  ASSERT_TRUE(restart.events[0].has_snapshot());
  EXPECT_EQ(Decode(*codec_, Delta(2)).events.size(), 1u);
}

TEST_F(BybitFeedTest, ParsesTheDocumentedTradeAndTicker) {
  auto t = Decode(*codec_, R"({"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1672304486868,
    "data":[{"T":1672304486865,"s":"BTCUSDT","S":"Buy","v":"0.001","p":"16578.50","L":"PlusTick",
             "i":"20f43950-d8dd-5b31-9112-a178eb6023af","BT":false}]})");
  ASSERT_TRUE(t.status.ok()) << t.status;
  ASSERT_EQ(t.events.size(), 1u);
  EXPECT_EQ(t.events[0].trade().price_e8(), 1'657'850'000'000);
  EXPECT_EQ(t.events[0].trade().qty_e8(), 100'000);
  EXPECT_EQ(t.events[0].trade().aggressor_side(), v1::SIDE_BUY);
  EXPECT_EQ(t.events[0].trade().trade_id(), "20f43950-d8dd-5b31-9112-a178eb6023af");
  EXPECT_EQ(t.events[0].exchange_unix_ns(), 1672304486865LL * 1'000'000);
  auto k = Decode(*codec_, R"({"topic":"tickers.BTCUSDT","ts":1673853746003,"type":"snapshot",
    "cs":2588407389,"data":{"symbol":"BTCUSDT","lastPrice":"21109.77","highPrice24h":"21426.99",
    "lowPrice24h":"20575","prevPrice24h":"20704.93","volume24h":"6780.866843",
    "turnover24h":"141946527.22907118","price24hPcnt":"0.0196","usdIndexPrice":"21120.2400136"}})");
  ASSERT_TRUE(k.status.ok()) << k.status;
  EXPECT_EQ(k.events[0].ticker().last_price_e8(), 2'110'977'000'000);
}

TEST_F(BybitFeedTest, RepliesArePassedOrReported) {
  EXPECT_TRUE(
      Decode(
          *codec_,
          R"({"success":true,"ret_msg":"","conn_id":"2324d924-aa4d-45b0-a858-7b8be29ab52b","req_id":"10001","op":"subscribe"})")
          .status.ok());
  EXPECT_TRUE(
      Decode(
          *codec_,
          R"({"success":true,"ret_msg":"pong","conn_id":"0970e817-426e-429a-a679-ff7f55e0b16a","op":"ping"})")
          .status.ok());
  EXPECT_TRUE(
      Decode(
          *codec_,
          R"({"req_id":"100001","op":"pong","args":["1672916271846"],"conn_id":"ce3dpomvha7dha97tvp0-2xh"})")
          .status.ok());
  auto rejected = Decode(
      *codec_,
      R"({"success":false,"ret_msg":"error:handler not found","conn_id":"x","op":"subscribe"})");
  EXPECT_EQ(rejected.status.code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(BybitFeedTest, MalformedFramesAreInvalidAndChangeNothing) {
  ASSERT_TRUE(Decode(*codec_, kDocSnapshot).status.ok());
  for (const std::string& bad : std::vector<std::string>{
           "{}", "true", Delta(18521289, "x"), Delta(18521289, "1.000000001"),
           R"({"topic":"orderbook.50.ETHUSDT","type":"delta","data":{"u":1}})",
           R"({"topic":"orderbook.50.BTCUSDT","type":"delta","data":{"s":"BTCUSDT","b":[]}})",
           R"({"topic":"orderbook.50.BTCUSDT","type":"delta","data":{"s":"ETHUSDT","u":18521289}})",
           R"({"topic":"orderbook.50.BTCUSDT","type":"partial","data":{"u":18521289}})",
           R"({"topic":"publicTrade.BTCUSDT","data":[{"S":"Up","v":"1","p":"1"}]})",
           R"({"topic":"kline.1.BTCUSDT","data":[]})", R"({"op":"auth"})"}) {
    auto d = Decode(*codec_, bad);
    EXPECT_EQ(d.status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_TRUE(d.events.empty());
  }
  auto d = Decode(*codec_, Delta(18521289));
  ASSERT_TRUE(d.status.ok()) << d.status;
  EXPECT_EQ(d.events[0].seq(), 2u);
}

}  // namespace
}  // namespace tickmesh::venues
