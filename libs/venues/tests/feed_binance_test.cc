// Binance spot: frames from https://developers.binance.com/docs/binance-spot-api-docs/
// web-socket-streams ("Diff. Depth Stream", "Trade Streams", "Individual Symbol Book Ticker
// Streams", "How to manage a local order book correctly") and rest-api ("Order book").
#include <string>

#include "absl/strings/str_cat.h"
#include "feed_test_util.h"
#include "gtest/gtest.h"

namespace tickmesh::venues {
namespace {

using testing::Decode;
using testing::ExpectContiguousSeqs;
using testing::kRecvNs;
using testing::MakeCodec;

// The documented diff-depth event (U=157, u=160), wrapped as a combined-stream frame.
constexpr char kDocDiff[] = R"({"stream":"bnbbtc@depth@100ms","data":{
  "e": "depthUpdate", "E": 1672515782136, "s": "BNBBTC", "U": 157, "u": 160,
  "b": [["0.0024", "10"]], "a": [["0.0026", "100"]]}})";

std::string Diff(int64_t first, int64_t last, const char* bid_qty = "1") {
  return absl::StrCat(
      R"({"stream":"bnbbtc@depth@100ms","data":{"e":"depthUpdate","E":1672515782136,)",
      R"("s":"BNBBTC","U":)", first, R"(,"u":)", last, R"(,"b":[["0.0024",")", bid_qty,
      R"("]],"a":[]}})");
}

std::string Snapshot(int64_t last_update_id) {
  return absl::StrCat(
      R"({"lastUpdateId":)", last_update_id,
      R"(,"bids":[["0.00240000","431.00000000"]],"asks":[["0.00260000","12.00000000"]]})");
}

class BinanceFeedTest : public ::testing::Test {
 protected:
  std::unique_ptr<FeedCodec> codec_ = MakeCodec(Venue::kBinance, {"BNB-BTC"});
};

TEST_F(BinanceFeedTest, ConnectTargetPutsTheStreamsInTheUrl) {
  EXPECT_EQ(codec_->ConnectTarget(),
            "/stream?streams=bnbbtc@depth@100ms/bnbbtc@trade/bnbbtc@bookTicker");
  EXPECT_TRUE(codec_->SubscribeFrames().empty());
  EXPECT_EQ(codec_->PingFrame(), "");
  auto req = codec_->SnapshotRequest("BNB-BTC");
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(req->method, "GET");
  EXPECT_EQ(req->target, "/api/v3/depth?symbol=BNBBTC&limit=1000");
  EXPECT_EQ(req->endpoint, "depth");
}

TEST_F(BinanceFeedTest, BuffersTheFirstDiffAndRequestsASnapshot) {
  auto d = Decode(*codec_, kDocDiff);
  ASSERT_TRUE(d.status.ok()) << d.status;
  EXPECT_TRUE(d.events.empty());
  EXPECT_EQ(codec_->TakeSnapshotRequests(), std::vector<std::string>{"BNB-BTC"});
  EXPECT_TRUE(codec_->TakeSnapshotRequests().empty());  // once per need
  // Later diffs are buffered silently.
  EXPECT_TRUE(Decode(*codec_, Diff(161, 165)).events.empty());
  EXPECT_TRUE(codec_->TakeSnapshotRequests().empty());
}

TEST_F(BinanceFeedTest, SnapshotThenBufferedDiffsThatBridgeIt) {
  ASSERT_TRUE(Decode(*codec_, kDocDiff).status.ok());
  ASSERT_TRUE(Decode(*codec_, Diff(161, 165)).status.ok());
  codec_->TakeSnapshotRequests();
  std::vector<v1::MarketEvent> out;
  // lastUpdateId 158: the doc event (U=157 <= 159 <= u=160) is the first applied.
  ASSERT_TRUE(codec_->ApplySnapshot("BNB-BTC", Snapshot(158), kRecvNs, &out).ok());
  ASSERT_EQ(out.size(), 3u);
  ASSERT_TRUE(out[0].has_snapshot());
  EXPECT_EQ(out[0].venue(), "binance");
  EXPECT_EQ(out[0].symbol(), "BNB-BTC");
  EXPECT_EQ(out[0].snapshot().bids(0).price_e8(), 240'000);
  EXPECT_EQ(out[0].snapshot().bids(0).qty_e8(), 43'100'000'000);
  EXPECT_EQ(out[0].snapshot().asks(0).qty_e8(), 1'200'000'000);
  ASSERT_TRUE(out[1].has_delta());
  EXPECT_EQ(out[1].delta().bids(0).price_e8(), 240'000);      // "0.0024"
  EXPECT_EQ(out[1].delta().bids(0).qty_e8(), 1'000'000'000);  // "10"
  EXPECT_EQ(out[1].delta().asks(0).price_e8(), 260'000);
  EXPECT_EQ(out[1].delta().asks(0).qty_e8(), 10'000'000'000);
  EXPECT_EQ(out[1].exchange_unix_ns(), 1672515782136LL * 1'000'000);
  EXPECT_EQ(out[1].receive_unix_ns(), kRecvNs);
  ExpectContiguousSeqs(out, 1);
  // Live: U == previous u + 1 applies.
  auto d = Decode(*codec_, Diff(166, 170));
  ASSERT_TRUE(d.status.ok());
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].seq(), 4u);
}

TEST_F(BinanceFeedTest, DropsBufferedEventsTheSnapshotAlreadyCovers) {
  ASSERT_TRUE(Decode(*codec_, Diff(100, 110)).status.ok());
  ASSERT_TRUE(Decode(*codec_, Diff(111, 120)).status.ok());
  std::vector<v1::MarketEvent> out;
  ASSERT_TRUE(codec_->ApplySnapshot("BNB-BTC", Snapshot(115), kRecvNs, &out).ok());
  ASSERT_EQ(out.size(), 2u);  // snapshot + [111, 120]; [100, 110] dropped (u <= 115)
  EXPECT_TRUE(out[0].has_snapshot());
  EXPECT_TRUE(out[1].has_delta());
  EXPECT_EQ(codec_->stats().stale_dropped, 1u);
}

TEST_F(BinanceFeedTest, SnapshotNewerThanEveryBufferedEventWaitsForTheBridgingEvent) {
  ASSERT_TRUE(Decode(*codec_, Diff(1, 5)).status.ok());
  std::vector<v1::MarketEvent> out;
  ASSERT_TRUE(codec_->ApplySnapshot("BNB-BTC", Snapshot(10), kRecvNs, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(Decode(*codec_, Diff(6, 9)).events.empty());  // u <= lastUpdateId: ignored
  auto d = Decode(*codec_, Diff(10, 12));                   // U <= 11 <= u: first applied
  ASSERT_TRUE(d.status.ok());
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].seq(), 2u);
}

TEST_F(BinanceFeedTest, SnapshotOlderThanTheFirstBufferedEventIsFetchedAgain) {
  ASSERT_TRUE(Decode(*codec_, kDocDiff).status.ok());
  codec_->TakeSnapshotRequests();
  std::vector<v1::MarketEvent> out;
  auto st = codec_->ApplySnapshot("BNB-BTC", Snapshot(100), kRecvNs, &out);
  EXPECT_EQ(st.code(), absl::StatusCode::kAborted) << st;
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(codec_->TakeSnapshotRequests(), std::vector<std::string>{"BNB-BTC"});
  // A fresh snapshot then works.
  ASSERT_TRUE(codec_->ApplySnapshot("BNB-BTC", Snapshot(158), kRecvNs, &out).ok());
  EXPECT_EQ(out.size(), 2u);
}

TEST_F(BinanceFeedTest, GapInBufferedEventsIsDataLossAndANewRequest) {
  ASSERT_TRUE(Decode(*codec_, Diff(100, 110)).status.ok());
  ASSERT_TRUE(Decode(*codec_, Diff(120, 130)).status.ok());  // 111..119 missing
  codec_->TakeSnapshotRequests();
  std::vector<v1::MarketEvent> out;
  auto st = codec_->ApplySnapshot("BNB-BTC", Snapshot(105), kRecvNs, &out);
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(codec_->TakeSnapshotRequests(), std::vector<std::string>{"BNB-BTC"});
  // The events from the gap on were kept: a snapshot at 125 bridges [120, 130].
  ASSERT_TRUE(codec_->ApplySnapshot("BNB-BTC", Snapshot(125), kRecvNs, &out).ok());
  EXPECT_EQ(out.size(), 2u);
}

TEST_F(BinanceFeedTest, LiveGapIsDataLossThenResyncContinuesSeqsWithASnapshot) {
  ASSERT_TRUE(Decode(*codec_, kDocDiff).status.ok());
  std::vector<v1::MarketEvent> out;
  ASSERT_TRUE(codec_->ApplySnapshot("BNB-BTC", Snapshot(158), kRecvNs, &out).ok());
  codec_->TakeSnapshotRequests();
  ASSERT_EQ(out.size(), 2u);
  auto gap = Decode(*codec_, Diff(170, 175));  // expected U <= 161
  EXPECT_EQ(gap.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(gap.status.message().find("BNB-BTC"), std::string::npos);
  EXPECT_TRUE(gap.events.empty());
  EXPECT_EQ(codec_->stats().gaps, 1u);
  EXPECT_EQ(codec_->TakeSnapshotRequests(), std::vector<std::string>{"BNB-BTC"});
  // Deltas are withheld until the new snapshot.
  EXPECT_TRUE(Decode(*codec_, Diff(176, 180)).events.empty());
  ASSERT_TRUE(codec_->ApplySnapshot("BNB-BTC", Snapshot(174), kRecvNs, &out).ok());
  ASSERT_EQ(out.size(), 5u);  // old 2 + snapshot + [170,175] + [176,180]
  EXPECT_TRUE(out[2].has_snapshot());
  ExpectContiguousSeqs(out, 1);
  EXPECT_EQ(codec_->stats().resyncs, 1u);
}

TEST_F(BinanceFeedTest, ApplySnapshotWithoutARequestIsRefused) {
  std::vector<v1::MarketEvent> out;
  EXPECT_EQ(codec_->ApplySnapshot("BNB-BTC", Snapshot(1), kRecvNs, &out).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(codec_->ApplySnapshot("ETH-BTC", Snapshot(1), kRecvNs, &out).code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(out.empty());
}

TEST_F(BinanceFeedTest, MalformedSnapshotIsInvalidAndRequestedAgain) {
  ASSERT_TRUE(Decode(*codec_, kDocDiff).status.ok());
  codec_->TakeSnapshotRequests();
  std::vector<v1::MarketEvent> out;
  EXPECT_EQ(
      codec_->ApplySnapshot("BNB-BTC", R"({"code":-1121,"msg":"Invalid symbol."})", kRecvNs, &out)
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(codec_->ApplySnapshot("BNB-BTC", "{", kRecvNs, &out).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(codec_->TakeSnapshotRequests(), std::vector<std::string>{"BNB-BTC"});
  EXPECT_TRUE(codec_->ApplySnapshot("BNB-BTC", Snapshot(158), kRecvNs, &out).ok());
}

TEST_F(BinanceFeedTest, MalformedFramesAreInvalidAndChangeNothing) {
  ASSERT_TRUE(Decode(*codec_, kDocDiff).status.ok());
  std::vector<v1::MarketEvent> out;
  ASSERT_TRUE(codec_->ApplySnapshot("BNB-BTC", Snapshot(158), kRecvNs, &out).ok());
  for (const std::string& bad : std::vector<std::string>{
           "", "{", "[]", "null", R"({"data":{}})", Diff(161, 165, "1e3"), Diff(161, 165, "-1"),
           Diff(165, 161), R"({"data":{"e":"depthUpdate","s":"BNBBTC","U":161,"u":165}})",
           R"({"data":{"e":"depthUpdate","s":"XRPBTC","U":161,"u":165,"b":[],"a":[]}})",
           R"({"data":{"e":"kline","s":"BNBBTC"}})",
           R"({"data":{"e":"depthUpdate","s":"BNBBTC","U":161,"u":165,"b":[["1"]],"a":[]}})",
           R"({"data":{"e":"trade","s":"BNBBTC","p":"0.001","q":"100"}})"}) {
    auto d = Decode(*codec_, bad);
    EXPECT_EQ(d.status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_TRUE(d.events.empty()) << bad;
  }
  EXPECT_EQ(codec_->stats().parse_errors, 13u);
  // The book is untouched: the next contiguous diff applies with the next seq.
  auto d = Decode(*codec_, Diff(161, 165));
  ASSERT_TRUE(d.status.ok()) << d.status;
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].seq(), 3u);
}

TEST_F(BinanceFeedTest, ParsesTheDocumentedTradeEvent) {
  auto d = Decode(*codec_, R"({"stream":"bnbbtc@trade","data":{
    "e": "trade", "E": 1672515782136, "s": "BNBBTC", "t": 12345, "p": "0.001", "q": "100",
    "T": 1672515782136, "m": true, "M": true}})");
  ASSERT_TRUE(d.status.ok()) << d.status;
  ASSERT_EQ(d.events.size(), 1u);
  const auto& t = d.events[0].trade();
  EXPECT_EQ(t.price_e8(), 100'000);
  EXPECT_EQ(t.qty_e8(), 10'000'000'000);
  EXPECT_EQ(t.aggressor_side(), v1::SIDE_SELL);  // buyer is the maker
  EXPECT_EQ(t.trade_id(), "12345");
  EXPECT_EQ(d.events[0].exchange_unix_ns(), 1672515782136LL * 1'000'000);
}

TEST_F(BinanceFeedTest, ParsesTheDocumentedBookTicker) {
  auto codec = MakeCodec(Venue::kBinance, {"BNB-USDT"});
  auto d = Decode(*codec, R"({"stream":"bnbusdt@bookTicker","data":{
    "u": 400900217, "s": "BNBUSDT", "b": "25.35190000", "B": "31.21000000",
    "a": "25.36520000", "A": "40.66000000"}})");
  ASSERT_TRUE(d.status.ok()) << d.status;
  ASSERT_EQ(d.events.size(), 1u);
  const auto& t = d.events[0].ticker();
  EXPECT_EQ(t.bid_price_e8(), 2'535'190'000);
  EXPECT_EQ(t.bid_qty_e8(), 3'121'000'000);
  EXPECT_EQ(t.ask_price_e8(), 2'536'520'000);
  EXPECT_EQ(t.ask_qty_e8(), 4'066'000'000);
  EXPECT_EQ(d.events[0].exchange_unix_ns(), 0);
}

TEST_F(BinanceFeedTest, SubscriptionRepliesAreAcceptedSilently) {
  auto d = Decode(*codec_, R"({"result":null,"id":1})");
  EXPECT_TRUE(d.status.ok());
  EXPECT_TRUE(d.events.empty());
}

TEST_F(BinanceFeedTest, ResetForgetsBooksAndRequests) {
  ASSERT_TRUE(Decode(*codec_, kDocDiff).status.ok());
  codec_->Reset();
  EXPECT_TRUE(codec_->TakeSnapshotRequests().empty());
  std::vector<v1::MarketEvent> out;
  EXPECT_EQ(codec_->ApplySnapshot("BNB-BTC", Snapshot(158), kRecvNs, &out).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Decode(*codec_, kDocDiff).status.ok());
  EXPECT_EQ(codec_->TakeSnapshotRequests(), std::vector<std::string>{"BNB-BTC"});
}

TEST_F(BinanceFeedTest, BufferIsBoundedDroppingTheOldest) {
  FeedOptions options;
  options.max_buffered_events = 3;
  auto codec = MakeCodec(Venue::kBinance, {"BNB-BTC"}, options);
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(Decode(*codec, Diff(10 * i + 1, 10 * i + 10)).status.ok());
  EXPECT_EQ(codec->stats().buffer_dropped, 7u);
  std::vector<v1::MarketEvent> out;
  // The oldest kept starts at U=71: a snapshot at 50 is now too old.
  EXPECT_EQ(codec->ApplySnapshot("BNB-BTC", Snapshot(50), kRecvNs, &out).code(),
            absl::StatusCode::kAborted);
  ASSERT_TRUE(codec->ApplySnapshot("BNB-BTC", Snapshot(75), kRecvNs, &out).ok());
  EXPECT_EQ(out.size(), 4u);  // snapshot + [71..80] [81..90] [91..100]
}

TEST(BinanceFeedOptions, RejectsUnsupportedOptions) {
  auto map = SymbolMap::Create({"BTC-USDT"});
  FeedOptions o;
  o.binance_update_ms = 250;
  EXPECT_FALSE(MakeFeedCodec(Venue::kBinance, *map, o).ok());
  o = FeedOptions{};
  o.book_depth = 6000;
  EXPECT_FALSE(MakeFeedCodec(Venue::kBinance, *map, o).ok());
  EXPECT_FALSE(MakeFeedCodec(Venue::kBinance, *SymbolMap::Create({}), FeedOptions{}).ok());
}

}  // namespace
}  // namespace tickmesh::venues
