// Hyperliquid: shapes from
// https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/websocket/subscriptions
// (WsBook {coin, levels: [bids, asks], time}, WsLevel {px, sz, n}, WsTrade {coin, side, px, sz,
// hash, time, tid, users}, WsBbo {coin, time, bbo: [bid | null, ask | null]}) and .../websocket
// (subscriptionResponse, pong). The docs define types, not sample values; values are ours.
#include <string>

#include "feed_test_util.h"
#include "gtest/gtest.h"

namespace tickmesh::venues {
namespace {

using testing::Decode;
using testing::MakeCodec;

class HyperliquidFeedTest : public ::testing::Test {
 protected:
  std::unique_ptr<FeedCodec> codec_ = MakeCodec(Venue::kHyperliquid, {"BTC-USD"});
};

TEST_F(HyperliquidFeedTest, SubscribesPerCoin) {
  EXPECT_EQ(codec_->ConnectTarget(), "/ws");
  const auto frames = codec_->SubscribeFrames();
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0], R"({"method":"subscribe","subscription":{"type":"l2Book","coin":"BTC"}})");
  EXPECT_EQ(frames[1], R"({"method":"subscribe","subscription":{"type":"trades","coin":"BTC"}})");
  EXPECT_EQ(frames[2], R"({"method":"subscribe","subscription":{"type":"bbo","coin":"BTC"}})");
  EXPECT_EQ(codec_->PingFrame(), R"({"method":"ping"})");
  EXPECT_TRUE(codec_->ResyncFrames("BTC-USD").empty());
}

TEST_F(HyperliquidFeedTest, EveryL2BookIsASnapshot) {
  constexpr char kBook[] = R"({"channel":"l2Book","data":{"coin":"BTC","time":1700000000000,
    "levels":[[{"px":"95000.0","sz":"1.5","n":3},{"px":"94999.0","sz":"0.25","n":1}],
              [{"px":"95001.0","sz":"0.8","n":2}]]}})";
  for (uint64_t seq = 1; seq <= 2; ++seq) {
    auto d = Decode(*codec_, kBook);
    ASSERT_TRUE(d.status.ok()) << d.status;
    ASSERT_EQ(d.events.size(), 1u);
    const auto& e = d.events[0];
    EXPECT_EQ(e.seq(), seq);
    EXPECT_EQ(e.venue(), "hyperliquid");
    EXPECT_EQ(e.symbol(), "BTC-USD");
    EXPECT_EQ(e.exchange_unix_ns(), 1700000000000LL * 1'000'000);
    ASSERT_EQ(e.snapshot().bids_size(), 2);
    EXPECT_EQ(e.snapshot().bids(1).qty_e8(), 25'000'000);
    EXPECT_EQ(e.snapshot().asks(0).price_e8(), 9'500'100'000'000);
  }
}

TEST_F(HyperliquidFeedTest, ParsesTradesAndBbo) {
  auto t = Decode(*codec_, R"({"channel":"trades","data":[
    {"coin":"BTC","side":"A","px":"95000.5","sz":"0.01","hash":"0xabc","time":1700000000001,
     "tid":42,"users":["0x1","0x2"]},
    {"coin":"BTC","side":"B","px":"95001","sz":"0.02","hash":"0xdef","time":1700000000002,
     "tid":43,"users":["0x3","0x4"]}]})");
  ASSERT_TRUE(t.status.ok()) << t.status;
  ASSERT_EQ(t.events.size(), 2u);
  EXPECT_EQ(t.events[0].trade().aggressor_side(), v1::SIDE_SELL);
  EXPECT_EQ(t.events[1].trade().aggressor_side(), v1::SIDE_BUY);
  EXPECT_EQ(t.events[1].trade().trade_id(), "43");
  auto b = Decode(*codec_, R"({"channel":"bbo","data":{"coin":"BTC","time":1700000000003,
    "bbo":[{"px":"95000.0","sz":"1.5","n":3},null]}})");
  ASSERT_TRUE(b.status.ok()) << b.status;
  EXPECT_EQ(b.events[0].ticker().bid_price_e8(), 9'500'000'000'000);
  EXPECT_EQ(b.events[0].ticker().ask_price_e8(), 0);
  EXPECT_EQ(b.events[0].ticker().last_price_e8(), 9'500'100'000'000);
}

TEST_F(HyperliquidFeedTest, AcksPongsAndErrors) {
  EXPECT_TRUE(
      Decode(
          *codec_,
          R"({"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{"type":"l2Book","coin":"BTC"}}})")
          .status.ok());
  EXPECT_TRUE(Decode(*codec_, R"({"channel":"pong"})").status.ok());
  EXPECT_EQ(Decode(*codec_, R"({"channel":"error","data":"Invalid subscription"})").status.code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(HyperliquidFeedTest, MalformedFramesAreInvalid) {
  for (const char* bad :
       {"{}", R"({"channel":"l2Book","data":{"coin":"ETH","levels":[[],[]]}})",
        R"({"channel":"l2Book","data":{"coin":"BTC","levels":[[]]}})",
        R"({"channel":"l2Book","data":{"coin":"BTC","levels":[[{"px":"1"}],[]]}})",
        R"({"channel":"trades","data":[{"coin":"BTC","side":"X","px":"1","sz":"1"}]})",
        R"({"channel":"bbo","data":{"coin":"BTC","bbo":[null]}})", R"({"channel":"allMids"})"}) {
    auto d = Decode(*codec_, bad);
    EXPECT_EQ(d.status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_TRUE(d.events.empty());
  }
  EXPECT_EQ(codec_->stats().parse_errors, 7u);
}

}  // namespace
}  // namespace tickmesh::venues
