// Kraken WS v2: frames from https://docs.kraken.com/api/docs/websocket-v2/book, .../trade,
// .../ticker, and the checksum worked example of
// https://docs.kraken.com/exchange/guides/websockets/book-checksum-v2 (checksum 3310070434).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "feed_test_util.h"
#include "gtest/gtest.h"
#include "tickmesh/venues/decimal.h"
#include "tickmesh/venues/sign.h"

namespace tickmesh::venues {
namespace {

using testing::Decode;
using testing::ExpectContiguousSeqs;
using testing::MakeCodec;

constexpr char kDocBids[] = R"([
  {"price": "45283.5", "qty": "0.10000000"}, {"price": "45283.4", "qty": "1.54582015"},
  {"price": "45282.1", "qty": "0.10000000"}, {"price": "45281.0", "qty": "0.10000000"},
  {"price": "45280.3", "qty": "1.54592586"}, {"price": "45279.0", "qty": "0.07990000"},
  {"price": "45277.6", "qty": "0.03310103"}, {"price": "45277.5", "qty": "0.30000000"},
  {"price": "45277.3", "qty": "1.54602737"}, {"price": "45276.6", "qty": "0.15445238"}])";
constexpr char kDocAsks[] = R"([
  {"price": "45285.2", "qty": "0.00100000"}, {"price": "45286.4", "qty": "1.54571953"},
  {"price": "45286.6", "qty": "1.54571109"}, {"price": "45289.6", "qty": "1.54560911"},
  {"price": "45290.2", "qty": "0.15890660"}, {"price": "45291.8", "qty": "1.54553491"},
  {"price": "45294.7", "qty": "0.04454749"}, {"price": "45296.1", "qty": "0.35380000"},
  {"price": "45297.5", "qty": "0.09945542"}, {"price": "45299.5", "qty": "0.18772827"}])";

std::string DocSnapshot(uint32_t checksum) {
  return absl::StrCat(R"({"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":)",
                      kDocBids, R"(,"asks":)", kDocAsks, R"(,"checksum":)", checksum, "}]}");
}

std::string Update(const std::string& bids, const std::string& asks, uint32_t checksum) {
  return absl::StrCat(R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":)",
                      bids, R"(,"asks":)", asks, R"(,"checksum":)", checksum,
                      R"(,"timestamp":"2023-10-06T17:35:55.440295Z"}]})");
}

KrakenChecksumLevel L(const char* price, const char* qty) {
  KrakenChecksumLevel l;
  l.price_e8 = *ParseDecimalE8(price, &l.price_decimals);
  l.qty_e8 = *ParseDecimalE8(qty, &l.qty_decimals);
  return l;
}

// The documented book, best first, for deriving checksums of later states.
std::vector<KrakenChecksumLevel> DocBids() {
  return {L("45283.5", "0.10000000"), L("45283.4", "1.54582015"), L("45282.1", "0.10000000"),
          L("45281.0", "0.10000000"), L("45280.3", "1.54592586"), L("45279.0", "0.07990000"),
          L("45277.6", "0.03310103"), L("45277.5", "0.30000000"), L("45277.3", "1.54602737"),
          L("45276.6", "0.15445238")};
}
std::vector<KrakenChecksumLevel> DocAsks() {
  return {L("45285.2", "0.00100000"), L("45286.4", "1.54571953"), L("45286.6", "1.54571109"),
          L("45289.6", "1.54560911"), L("45290.2", "0.15890660"), L("45291.8", "1.54553491"),
          L("45294.7", "0.04454749"), L("45296.1", "0.35380000"), L("45297.5", "0.09945542"),
          L("45299.5", "0.18772827")};
}

class KrakenFeedTest : public ::testing::Test {
 protected:
  std::unique_ptr<FeedCodec> codec_ = MakeCodec(Venue::kKraken, {"BTC-USD"});
};

TEST_F(KrakenFeedTest, SubscribesToBookTradeAndTickerOnV2) {
  EXPECT_EQ(codec_->ConnectTarget(), "/v2");
  const auto frames = codec_->SubscribeFrames();
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(
      frames[0],
      R"({"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":10,"snapshot":true}})");
  EXPECT_NE(frames[1].find(R"("channel":"trade")"), std::string::npos);
  EXPECT_NE(frames[2].find(R"("channel":"ticker")"), std::string::npos);
  EXPECT_EQ(codec_->PingFrame(), R"({"method":"ping"})");
  const auto resync = codec_->ResyncFrames("BTC-USD");
  ASSERT_EQ(resync.size(), 2u);
  EXPECT_NE(resync[0].find("unsubscribe"), std::string::npos);
  EXPECT_NE(resync[1].find(R"("method":"subscribe")"), std::string::npos);
  EXPECT_EQ(codec_->SnapshotRequest("BTC-USD").status().code(), absl::StatusCode::kUnimplemented);
}

TEST_F(KrakenFeedTest, DocumentedSnapshotPassesItsChecksum) {
  auto d = Decode(*codec_, DocSnapshot(3310070434u));
  ASSERT_TRUE(d.status.ok()) << d.status;
  ASSERT_EQ(d.events.size(), 1u);
  const auto& s = d.events[0].snapshot();
  ASSERT_EQ(s.bids_size(), 10);
  ASSERT_EQ(s.asks_size(), 10);
  EXPECT_EQ(s.bids(0).price_e8(), 4'528'350'000'000);
  EXPECT_EQ(s.bids(0).qty_e8(), 10'000'000);
  EXPECT_EQ(s.asks(0).price_e8(), 4'528'520'000'000);
  EXPECT_EQ(d.events[0].venue(), "kraken");
  EXPECT_EQ(d.events[0].symbol(), "BTC-USD");
  EXPECT_EQ(d.events[0].seq(), 1u);
}

TEST_F(KrakenFeedTest, ChecksumMismatchIsDataLossAndWithholdsUpdatesUntilResnapshot) {
  auto bad = Decode(*codec_, DocSnapshot(3310070435u));
  EXPECT_EQ(bad.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(bad.status.message().find("BTC-USD"), std::string::npos);
  EXPECT_TRUE(bad.events.empty());
  EXPECT_EQ(codec_->stats().checksum_failures, 1u);
  // Updates for a dropped book are withheld (OK, nothing emitted).
  auto withheld = Decode(*codec_, Update(R"([{"price":"45283.5","qty":"0"}])", "[]", 1));
  EXPECT_TRUE(withheld.status.ok());
  EXPECT_TRUE(withheld.events.empty());
  // The resubscription's snapshot restores it.
  auto good = Decode(*codec_, DocSnapshot(3310070434u));
  ASSERT_TRUE(good.status.ok());
  ASSERT_EQ(good.events.size(), 1u);
  EXPECT_EQ(good.events[0].seq(), 1u);
  EXPECT_EQ(codec_->stats().resyncs, 1u);
}

TEST_F(KrakenFeedTest, UpdateIsAppliedAndVerified) {
  ASSERT_TRUE(Decode(*codec_, DocSnapshot(3310070434u)).status.ok());
  // Remove the best bid and change the best ask's qty.
  auto bids = DocBids();
  bids.erase(bids.begin());
  auto asks = DocAsks();
  asks[0] = L("45285.2", "0.50000000");
  const uint32_t expected = KrakenBookChecksum(asks, bids);
  auto d = Decode(*codec_, Update(R"([{"price":"45283.5","qty":"0.00000000"}])",
                                  R"([{"price":"45285.2","qty":"0.50000000"}])", expected));
  ASSERT_TRUE(d.status.ok()) << d.status;
  ASSERT_EQ(d.events.size(), 1u);
  const auto& delta = d.events[0].delta();
  ASSERT_EQ(delta.bids_size(), 1);
  EXPECT_EQ(delta.bids(0).qty_e8(), 0);
  EXPECT_EQ(delta.asks(0).qty_e8(), 50'000'000);
  EXPECT_EQ(d.events[0].seq(), 2u);
  // 2023-10-06T17:35:55.440295Z
  EXPECT_EQ(d.events[0].exchange_unix_ns(), 1696613755440295000LL);
  // A wrong checksum on the next update is DATA_LOSS.
  auto wrong = Decode(*codec_, Update(R"([{"price":"45283.4","qty":"2.0"}])", "[]", expected));
  EXPECT_EQ(wrong.status.code(), absl::StatusCode::kDataLoss);
}

TEST_F(KrakenFeedTest, BookIsTruncatedToTheSubscribedDepthAndTheDropIsEmitted) {
  ASSERT_TRUE(Decode(*codec_, DocSnapshot(3310070434u)).status.ok());
  // A new best bid pushes the worst (45276.6) out of the 10-level book.
  auto bids = DocBids();
  bids.insert(bids.begin(), L("45284.0", "1.00000000"));
  bids.pop_back();
  const uint32_t expected = KrakenBookChecksum(DocAsks(), bids);
  auto d = Decode(*codec_, Update(R"([{"price":"45284.0","qty":"1.00000000"}])", "[]", expected));
  ASSERT_TRUE(d.status.ok()) << d.status;
  const auto& delta = d.events[0].delta();
  ASSERT_EQ(delta.bids_size(), 2);
  EXPECT_EQ(delta.bids(1).price_e8(), 4'527'660'000'000);
  EXPECT_EQ(delta.bids(1).qty_e8(), 0);
}

TEST_F(KrakenFeedTest, NumbersKeepTheirTextForTheChecksum) {
  // The book page shows price/qty as JSON numbers (MATIC/USD example values).
  auto codec = MakeCodec(Venue::kKraken, {"MATIC-USD"});
  std::vector<KrakenChecksumLevel> bids = {L("0.5666", "4831.75496356"),
                                           L("0.5665", "6658.22734739")};
  std::vector<KrakenChecksumLevel> asks = {L("0.5668", "4410.79769741")};
  const uint32_t checksum = KrakenBookChecksum(asks, bids);
  // asks then bids, '.' removed, leading zeros stripped, digits exactly as sent.
  EXPECT_EQ(KrakenChecksumInput(asks, bids),
            "5668441079769741"
            "5666483175496356"
            "5665665822734739");
  auto d = Decode(
      *codec,
      absl::StrCat(
          R"({"channel":"book","type":"snapshot","data":[{"symbol":"MATIC/USD",)",
          R"("bids":[{"price":0.5666,"qty":4831.75496356},{"price":0.5665,"qty":6658.22734739}],)",
          R"("asks":[{"price":0.5668,"qty":4410.79769741}],"checksum":)", checksum, "}]}"));
  ASSERT_TRUE(d.status.ok()) << d.status;
  EXPECT_EQ(d.events[0].snapshot().bids(1).qty_e8(), 665'822'734'739);
}

TEST_F(KrakenFeedTest, ParsesTheDocumentedTradeAndTicker) {
  auto codec = MakeCodec(Venue::kKraken, {"MATIC-USD", "ALGO-USD"});
  auto t = Decode(*codec, R"({"channel":"trade","type":"update","data":[
    {"symbol":"MATIC/USD","side":"sell","price":0.5117,"qty":40.0,"ord_type":"market",
     "trade_id":4665906,"timestamp":"2023-09-25T07:49:37.708706Z"}]})");
  ASSERT_TRUE(t.status.ok()) << t.status;
  ASSERT_EQ(t.events.size(), 1u);
  EXPECT_EQ(t.events[0].trade().price_e8(), 51'170'000);
  EXPECT_EQ(t.events[0].trade().qty_e8(), 4'000'000'000);
  EXPECT_EQ(t.events[0].trade().aggressor_side(), v1::SIDE_SELL);
  EXPECT_EQ(t.events[0].trade().trade_id(), "4665906");
  auto k = Decode(*codec, R"({"channel":"ticker","type":"snapshot","data":[
    {"symbol":"ALGO/USD","bid":0.10025,"bid_qty":740.0,"ask":0.10035,"ask_qty":740.0,
     "last":0.10035,"volume":997038.98383185,"vwap":0.10148,"low":0.09979,"high":0.10285,
     "change":-0.00017,"change_pct":-0.17}]})");
  ASSERT_TRUE(k.status.ok()) << k.status;
  ASSERT_EQ(k.events.size(), 1u);
  EXPECT_EQ(k.events[0].symbol(), "ALGO-USD");
  EXPECT_EQ(k.events[0].ticker().bid_price_e8(), 10'025'000);
  EXPECT_EQ(k.events[0].ticker().ask_qty_e8(), 74'000'000'000);
  EXPECT_EQ(k.events[0].ticker().last_price_e8(), 10'035'000);
}

TEST_F(KrakenFeedTest, AcksHeartbeatsAndPongsAreSilentRejectionsAreReported) {
  for (
      const char* ok :
      {R"({"channel":"heartbeat"})",
       R"({"channel":"status","type":"update","data":[{"api_version":"v2","connection_id":1,"system":"online","version":"2.0.0"}]})",
       R"({"method":"pong","req_id":1,"time_in":"2023-09-25T07:49:37.708706Z","time_out":"2023-09-25T07:49:37.708706Z"})",
       R"({"method":"subscribe","result":{"channel":"book","depth":10,"snapshot":true,"symbol":"BTC/USD"},"success":true,"time_in":"2023-09-25T09:04:31.742599Z","time_out":"2023-09-25T09:04:31.742648Z"})"}) {
    auto d = Decode(*codec_, ok);
    EXPECT_TRUE(d.status.ok()) << ok << " " << d.status;
    EXPECT_TRUE(d.events.empty());
  }
  auto rejected = Decode(
      *codec_,
      R"({"error":"Currency pair not supported","method":"subscribe","success":false,"symbol":"BTC/ABC"})");
  EXPECT_EQ(rejected.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(rejected.status.message().find("Currency pair not supported"), std::string::npos);
}

TEST_F(KrakenFeedTest, MalformedFramesAreInvalidAndChangeNothing) {
  ASSERT_TRUE(Decode(*codec_, DocSnapshot(3310070434u)).status.ok());
  for (
      const std::string& bad : std::vector<std::string>{
          "{}", "[1,2]", R"({"channel":"book","type":"update"})",
          R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[]}]})",
          R"({"channel":"book","type":"weird","data":[]})",
          R"({"channel":"book","type":"update","data":[{"symbol":"XXX/USD","bids":[],"asks":[],"checksum":1}]})",
          Update(R"([{"price":"abc","qty":"1"}])", "[]", 1),
          Update(R"([{"price":"1","qty":"-1"}])", "[]", 1), Update(R"([{"qty":"1"}])", "[]", 1),
          R"({"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"up","price":1,"qty":1}]})",
          R"({"channel":"nope","data":[]})", R"({"method":"what"})"}) {
    auto d = Decode(*codec_, bad);
    EXPECT_EQ(d.status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_TRUE(d.events.empty());
  }
  // The book was not touched: an update checked against the documented state still verifies.
  auto bids = DocBids();
  bids[1] = L("45283.4", "2.00000000");
  auto d = Decode(*codec_, Update(R"([{"price":"45283.4","qty":"2.00000000"}])", "[]",
                                  KrakenBookChecksum(DocAsks(), bids)));
  ASSERT_TRUE(d.status.ok()) << d.status;
  EXPECT_EQ(d.events[0].seq(), 2u);
}

TEST(KrakenFeedOptions, RejectsUndocumentedDepths) {
  FeedOptions o;
  o.book_depth = 20;
  EXPECT_FALSE(MakeFeedCodec(Venue::kKraken, *SymbolMap::Create({"BTC-USD"}), o).ok());
}

}  // namespace
}  // namespace tickmesh::venues
