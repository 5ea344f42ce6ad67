// Replay format parser and replay connector (no server).
#include "replay_feed.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "market_data.h"

namespace tickmesh::market_data {
namespace {

using tickmesh::v1::MarketEvent;
using tickmesh::v1::MarketEventBatch;

const std::string kSession = std::string(MARKET_DATA_TESTDATA) + "/session.jsonl";

TEST(ParseDecimalE8, ConvertsExactly) {
  EXPECT_EQ(*ParseDecimalE8("60000.5"), 6'000'050'000'000);
  EXPECT_EQ(*ParseDecimalE8("0.00000001"), 1);
  EXPECT_EQ(*ParseDecimalE8("1"), 100'000'000);
  EXPECT_EQ(*ParseDecimalE8("0"), 0);
  EXPECT_EQ(*ParseDecimalE8(".5"), 50'000'000);
  EXPECT_EQ(*ParseDecimalE8("1.100000000000"), 110'000'000) << "trailing zeros are exact";
  EXPECT_EQ(*ParseDecimalE8("0.1"), 10'000'000) << "no binary floating point on the way";
  EXPECT_EQ(*ParseDecimalE8("92233720368.54775807"), std::numeric_limits<int64_t>::max());
}

TEST(ParseDecimalE8, RejectsWhatIsNotAPlainExactDecimal) {
  for (const char* bad : {"", ".", "1.", "-1", "+1", "1e3", "1.2.3", " 1", "1,5", "0x10",
                          "1.000000001", "92233720368.54775808", "99999999999999999999"}) {
    EXPECT_FALSE(ParseDecimalE8(bad).ok()) << bad;
  }
}

TEST(ReplayLineParser, ParsesEveryEventType) {
  ReplayLineParser p;
  MarketEvent e;
  ASSERT_TRUE(p.Parse(R"({"venue":"binance","symbol":"BTC-USDT","seq":1,"recv_ns":20,)"
                      R"("exchange_ns":10,"type":"snapshot","bids":[["37000.1","1.5"]],)"
                      R"("asks":[["37000.2","0.75"],["37001","2"]]})",
                      &e)
                  .ok());
  EXPECT_EQ(e.venue(), "binance");
  EXPECT_EQ(e.symbol(), "BTC-USDT");
  EXPECT_EQ(e.seq(), 1u);
  EXPECT_EQ(e.receive_unix_ns(), 20);
  EXPECT_EQ(e.exchange_unix_ns(), 10);
  ASSERT_TRUE(e.has_snapshot());
  ASSERT_EQ(e.snapshot().bids_size(), 1);
  EXPECT_EQ(e.snapshot().bids(0).price_e8(), 3'700'010'000'000);
  EXPECT_EQ(e.snapshot().bids(0).qty_e8(), 150'000'000);
  ASSERT_EQ(e.snapshot().asks_size(), 2);
  EXPECT_EQ(e.snapshot().asks(1).price_e8(), 3'700'100'000'000);

  // Field order does not matter ("type" last) and unknown fields are ignored.
  ASSERT_TRUE(p.Parse(R"({"bids":[["1","0"]],"asks":[],"venue":"v","symbol":"s","seq":2,)"
                      R"("recv_ns":5,"extra":{"a":[1,2]},"type":"delta"})",
                      &e)
                  .ok());
  ASSERT_TRUE(e.has_delta());
  EXPECT_EQ(e.delta().bids(0).qty_e8(), 0);

  ASSERT_TRUE(p.Parse(R"({"venue":"v","symbol":"s","seq":3,"recv_ns":5,"type":"trade",)"
                      R"("price":"2050.12","qty":"0.001","side":"sell","trade_id":"t1"})",
                      &e)
                  .ok());
  ASSERT_TRUE(e.has_trade());
  EXPECT_EQ(e.trade().price_e8(), 205'012'000'000);
  EXPECT_EQ(e.trade().qty_e8(), 100'000);
  EXPECT_EQ(e.trade().aggressor_side(), tickmesh::v1::SIDE_SELL);
  EXPECT_EQ(e.trade().trade_id(), "t1");

  ASSERT_TRUE(p.Parse(R"({"venue":"v","symbol":"s","seq":4,"recv_ns":5,"type":"ticker",)"
                      R"("bid_price":"1.5","bid_qty":"2","ask_price":"1.6","last_price":"1.55"})",
                      &e)
                  .ok());
  ASSERT_TRUE(e.has_ticker());
  EXPECT_EQ(e.ticker().bid_price_e8(), 150'000'000);
  EXPECT_EQ(e.ticker().ask_qty_e8(), 0);
  EXPECT_EQ(e.ticker().last_price_e8(), 155'000'000);
}

TEST(ReplayLineParser, MalformedLinesNameTheField) {
  ReplayLineParser p;
  MarketEvent e;
  struct Case {
    const char* line;
    const char* field;
  };
  const Case cases[] = {
      {R"({"venue":"v","symbol":"s","seq":1,"recv_ns":5,"type":"trade","price":"1e3","qty":"1"})",
       "price"},
      {R"({"venue":"v","symbol":"s","seq":0,"recv_ns":5,"type":"trade","price":"1","qty":"1"})",
       "seq"},
      {R"({"venue":"v","symbol":"s","seq":1,"type":"trade","price":"1","qty":"1"})", "recv_ns"},
      {R"({"venue":"","symbol":"s","seq":1,"recv_ns":5,"type":"trade","price":"1","qty":"1"})",
       "venue"},
      {R"({"venue":"v","symbol":"s","seq":1,"recv_ns":5,"type":"quote"})", "type"},
      {R"({"venue":"v","symbol":"s","seq":1,"recv_ns":5})", "type"},
      {R"({"venue":"v","symbol":"s","seq":1,"recv_ns":5,"type":"delta","bids":[["1"]]})",
       "bids[0]"},
      {R"({"venue":"v","symbol":"s","seq":1,"recv_ns":5,"type":"delta","asks":[[1,2]]})",
       "asks[0][0]"},
      {R"({"venue":"v","symbol":"s","seq":1,"recv_ns":5,"type":"trade","qty":"1"})", "price"},
      {R"({"venue":"v","symbol":"s","seq":1,"recv_ns":5,"type":"trade","price":"1","qty":"1",)"
       R"("side":"up"})",
       "side"},
      {R"({"venue":"v","symbol":"s","seq":-1,"recv_ns":5,"type":"trade","price":"1","qty":"1"})",
       "seq"},
  };
  for (const Case& c : cases) {
    absl::Status s = p.Parse(c.line, &e);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.line;
    EXPECT_EQ(s.message().substr(0, std::string(c.field).size()), c.field)
        << c.line << " -> " << s.message();
  }
  for (const char* junk : {"", "not json", "[1,2]", R"({"venue":"v")", "{} {}",
                           R"({"venue":"v","symbol":"s","seq":1,"recv_ns":5,"type":"ticker"} x)"}) {
    EXPECT_FALSE(p.Parse(junk, &e).ok()) << junk;
  }
}

// Collects what a connector delivers.
struct Collector {
  absl::Mutex mu;
  std::vector<MarketEvent> events ABSL_GUARDED_BY(mu);
  size_t batches ABSL_GUARDED_BY(mu) = 0;
  EventSink Sink() {
    return [this](MarketEventBatch& b) {
      absl::MutexLock lock(&mu);
      ++batches;
      for (const auto& e : b.events()) events.push_back(e);
      return absl::OkStatus();
    };
  }
  // Events without their trace (the trace id and origin are per replay run).
  std::vector<std::string> Serialized() {
    absl::MutexLock lock(&mu);
    std::vector<std::string> out;
    for (MarketEvent e : events) {
      e.clear_trace();
      out.push_back(e.SerializeAsString());
    }
    return out;
  }
};

TEST(ReplayFeed, ReplaysTheSameEventsEveryTimeAndSkipsMalformedLines) {
  std::vector<std::string> runs[2];
  for (auto& run : runs) {
    Collector c;
    ReplayFeed feed(ReplayOptions{kSession, /*speed=*/0});
    ASSERT_TRUE(feed.Start(c.Sink()).ok());
    feed.WaitFinished();
    feed.Stop();
    EXPECT_EQ(feed.malformed_lines(), 2u);
    EXPECT_EQ(feed.events(), 39u);
    EXPECT_EQ(feed.lines(), 42u);
    EXPECT_EQ(feed.events_rejected(), 0u);
    EXPECT_FALSE(feed.healthy());
    run = c.Serialized();
    absl::MutexLock lock(&c.mu);
    for (const auto& e : c.events) EXPECT_NE(e.trace().trace_id(), 0u);
  }
  ASSERT_EQ(runs[0].size(), 39u);
  EXPECT_EQ(runs[0], runs[1]);
}

TEST(ReplayFeed, SameFileGivesTheSameBooksAndCandles) {
  tickmesh::v1::GetBookResponse books[2];
  tickmesh::v1::GetCandlesResponse candles[2];
  for (int i = 0; i < 2; ++i) {
    MarketData md(MarketDataOptions{});
    ReplayFeed feed(ReplayOptions{kSession, /*speed=*/0});
    ASSERT_TRUE(feed.Start([&](MarketEventBatch& b) { return md.Ingest(b, "replay"); }).ok());
    feed.WaitFinished();
    feed.Stop();
    EXPECT_EQ(feed.events_rejected(), 0u);
    tickmesh::v1::GetBookRequest req;
    req.set_venue("binance");
    req.set_symbol("BTC-USDT");
    auto book = md.GetBook(req);
    ASSERT_TRUE(book.ok()) << book.status();
    books[i] = *book;
    books[i].clear_unix_ns();
    tickmesh::v1::GetCandlesRequest creq;
    creq.set_venue("kraken");
    creq.set_symbol("ETH-USD");
    creq.set_interval_s(1);
    auto c = md.GetCandles(creq);
    ASSERT_TRUE(c.ok()) << c.status();
    candles[i] = *c;
  }
  EXPECT_EQ(books[0].SerializeAsString(), books[1].SerializeAsString());
  EXPECT_EQ(books[0].seq(), 19u);
  EXPECT_GT(books[0].book().bids_size(), 0);
  ASSERT_EQ(candles[0].candles_size(), 1) << "recorded timestamps drive the candles";
  EXPECT_EQ(candles[0].candles(0).open_unix_ns(), 1'700'000'000'000'000'000);
  EXPECT_EQ(candles[0].SerializeAsString(), candles[1].SerializeAsString());
}

TEST(ReplayFeed, PacesByRecordedReceiveTime) {
  // The session spans 41 ms of recorded time; at 1x replay cannot finish sooner, at 4x not
  // sooner than a quarter of it (lower bounds only: a loaded machine may be slower).
  for (double speed : {1.0, 4.0}) {
    Collector c;
    ReplayFeed feed(ReplayOptions{kSession, speed});
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(feed.Start(c.Sink()).ok());
    feed.WaitFinished();
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    feed.Stop();
    EXPECT_GE(elapsed, std::chrono::microseconds(static_cast<int64_t>(41'000 / speed)))
        << "speed " << speed;
    EXPECT_EQ(c.Serialized().size(), 39u);
    absl::MutexLock lock(&c.mu);
    EXPECT_GT(c.batches, 10u) << "paced events are not lumped into one batch";
  }
}

TEST(ReplayFeed, OverlongLinesAreMalformedAndBadEventsCostOnlyThemselves) {
  const std::string path = ::testing::TempDir() + "/replay_long.jsonl";
  {
    std::ofstream f(path);
    f << R"({"venue":"v","symbol":"s","seq":1,"recv_ns":5,"type":"trade","price":"1","qty":"1"})"
      << "\n"
      << R"({"venue":"v","symbol":"s","seq":2,"recv_ns":5,"type":"trade","price":"1","qty":"1",)"
      << R"("pad":")" << std::string(5000, 'x')
      << "\"}\n"
      // Parses, but Ingest rejects it: seq goes backwards.
      << R"({"venue":"v","symbol":"s","seq":1,"recv_ns":6,"type":"trade","price":"1","qty":"1"})"
      << "\n"
      << R"({"venue":"v","symbol":"s","seq":3,"recv_ns":7,"type":"trade","price":"2","qty":"1"})"
      << "\n";
  }
  MarketData md(MarketDataOptions{});
  ReplayOptions o{path, 0};
  o.max_line_bytes = 1000;
  ReplayFeed feed(o);
  ASSERT_TRUE(feed.Start([&](MarketEventBatch& b) { return md.Ingest(b, "replay"); }).ok());
  feed.WaitFinished();
  feed.Stop();
  EXPECT_EQ(feed.malformed_lines(), 1u);
  EXPECT_EQ(feed.events_rejected(), 1u);
  EXPECT_EQ(md.stats().events_accepted, 2u) << "the good events of the rejected batch survive";
  std::remove(path.c_str());
}

TEST(ReplayFeed, MissingFileFailsStart) {
  ReplayFeed feed(ReplayOptions{"/nonexistent/tickmesh/replay.jsonl", 1});
  absl::Status s = feed.Start([](MarketEventBatch&) { return absl::OkStatus(); });
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_NE(s.message().find("--replay_file"), std::string::npos);
}

}  // namespace
}  // namespace tickmesh::market_data
