// MarketData logic without a server: validation, books, gaps, candles, queries.
#include "market_data.h"

#include <map>
#include <random>

#include "gtest/gtest.h"

namespace tickmesh::market_data {
namespace {

using tickmesh::v1::MarketEvent;
using tickmesh::v1::MarketEventBatch;

MarketEvent Delta(const std::string& symbol, uint64_t seq, int64_t bid, int64_t ask,
                  int64_t qty = 100) {
  MarketEvent e;
  e.set_venue("sim");
  e.set_symbol(symbol);
  e.set_seq(seq);
  auto* b = e.mutable_delta()->add_bids();
  b->set_price_e8(bid);
  b->set_qty_e8(qty);
  auto* a = e.mutable_delta()->add_asks();
  a->set_price_e8(ask);
  a->set_qty_e8(qty);
  return e;
}

MarketEvent Trade(const std::string& symbol, uint64_t seq, int64_t price, int64_t qty,
                  int64_t ts_ns) {
  MarketEvent e;
  e.set_venue("sim");
  e.set_symbol(symbol);
  e.set_seq(seq);
  e.set_exchange_unix_ns(ts_ns);
  e.mutable_trade()->set_price_e8(price);
  e.mutable_trade()->set_qty_e8(qty);
  e.mutable_trade()->set_aggressor_side(tickmesh::v1::SIDE_BUY);
  return e;
}

MarketEventBatch Batch(std::initializer_list<MarketEvent> events) {
  MarketEventBatch b;
  for (auto& e : events) *b.add_events() = e;
  return b;
}

tickmesh::v1::GetBookResponse Book(const MarketData& md, const std::string& symbol) {
  tickmesh::v1::GetBookRequest req;
  req.set_venue("sim");
  req.set_symbol(symbol);
  auto resp = md.GetBook(req);
  EXPECT_TRUE(resp.ok()) << resp.status();
  return resp.ok() ? *resp : tickmesh::v1::GetBookResponse();
}

TEST(MarketData, AppliesValidBatchToBooksAndStampsTrace) {
  MarketData md(MarketDataOptions{});
  auto batch = Batch({Delta("BTC-USD", 1, 100, 101), Delta("BTC-USD", 2, 99, 102)});
  ASSERT_TRUE(md.Ingest(batch, "test").ok());
  auto book = Book(md, "BTC-USD");
  EXPECT_EQ(book.seq(), 2u);
  ASSERT_EQ(book.book().bids_size(), 2);
  EXPECT_EQ(book.book().bids(0).price_e8(), 100);
  EXPECT_EQ(book.book().asks(0).price_e8(), 101);
  ASSERT_EQ(batch.events(0).trace().hops_size(), 2);
  EXPECT_EQ(batch.events(0).trace().hops(0).service(), "market-data");
  EXPECT_EQ(batch.events(0).trace().hops(0).stage(), "recv");
  EXPECT_EQ(batch.events(0).trace().hops(1).stage(), "emit");
  EXPECT_LE(batch.events(0).trace().hops(0).unix_ns(), batch.events(0).trace().hops(1).unix_ns());
}

struct BadCase {
  const char* name;
  std::function<void(MarketEvent&)> corrupt;
  const char* reason;
};

TEST(MarketData, RejectsMalformedEventAndAppliesNothingOfTheBatch) {
  const std::vector<BadCase> cases = {
      {"empty venue", [](MarketEvent& e) { e.clear_venue(); }, "venue is empty"},
      {"empty symbol", [](MarketEvent& e) { e.clear_symbol(); }, "symbol is empty"},
      {"no payload", [](MarketEvent& e) { e.clear_payload(); }, "no payload"},
      {"zero seq", [](MarketEvent& e) { e.set_seq(0); }, "seq must be > 0"},
      {"negative price",
       [](MarketEvent& e) { e.mutable_delta()->mutable_bids(0)->set_price_e8(-1); },
       "bids[0].price_e8"},
      {"negative qty", [](MarketEvent& e) { e.mutable_delta()->mutable_asks(0)->set_qty_e8(-1); },
       "asks[0].qty_e8"},
      {"zero trade qty",
       [](MarketEvent& e) {
         e.mutable_trade()->set_price_e8(100);
         e.mutable_trade()->set_qty_e8(0);
       },
       "trade.qty_e8"},
      {"long symbol", [](MarketEvent& e) { e.set_symbol(std::string(65, 'x')); }, "at most 64"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    MarketData md(MarketDataOptions{});
    auto good = Batch({Delta("BTC-USD", 1, 100, 101)});
    ASSERT_TRUE(md.Ingest(good, "test").ok());
    MarketEvent bad = Delta("BTC-USD", 3, 50, 60);
    c.corrupt(bad);
    // A valid event first: it must not be applied either.
    auto batch = Batch({Delta("BTC-USD", 2, 90, 110), bad});
    absl::Status s = md.Ingest(batch, "test");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_NE(s.message().find("event 1: "), absl::string_view::npos) << s;
    EXPECT_NE(s.message().find(c.reason), absl::string_view::npos) << s;
    auto book = Book(md, "BTC-USD");
    EXPECT_EQ(book.seq(), 1u);
    ASSERT_EQ(book.book().bids_size(), 1);
    EXPECT_EQ(book.book().bids(0).price_e8(), 100);
    EXPECT_EQ(md.stats().batches_rejected, 1u);
    EXPECT_EQ(md.stats().instruments, 1u);
  }
}

TEST(MarketData, RejectsBackwardsOrRepeatedSeqIncludingWithinOneBatch) {
  MarketData md(MarketDataOptions{});
  auto first = Batch({Delta("BTC-USD", 5, 100, 101)});
  ASSERT_TRUE(md.Ingest(first, "test").ok());
  auto repeated = Batch({Delta("BTC-USD", 5, 100, 101)});
  EXPECT_EQ(md.Ingest(repeated, "test").code(), absl::StatusCode::kInvalidArgument);
  auto within = Batch({Delta("BTC-USD", 7, 100, 101), Delta("BTC-USD", 6, 100, 101)});
  absl::Status s = md.Ingest(within, "test");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("seq 6 is not after the last seq 7"), absl::string_view::npos) << s;
  EXPECT_EQ(Book(md, "BTC-USD").seq(), 5u);
}

TEST(MarketData, RejectedBatchDoesNotCreateBooks) {
  MarketData md(MarketDataOptions{});
  MarketEvent bad = Delta("ETH-USD", 1, 100, 101);
  bad.clear_payload();
  auto batch = Batch({Delta("NEW-USD", 1, 100, 101), bad});
  ASSERT_FALSE(md.Ingest(batch, "test").ok());
  tickmesh::v1::GetBookRequest req;
  req.set_venue("sim");
  req.set_symbol("NEW-USD");
  EXPECT_EQ(md.GetBook(req).status().code(), absl::StatusCode::kNotFound);
}

TEST(MarketData, CountsForwardGapAndAcceptsEvent) {
  MarketData md(MarketDataOptions{});
  auto a = Batch({Delta("BTC-USD", 1, 100, 101)});
  ASSERT_TRUE(md.Ingest(a, "test").ok());
  auto b = Batch({Delta("BTC-USD", 5, 99, 102)});
  ASSERT_TRUE(md.Ingest(b, "test").ok());
  EXPECT_EQ(md.stats().gaps, 1u);
  EXPECT_EQ(Book(md, "BTC-USD").seq(), 5u);
  auto c = Batch({Delta("BTC-USD", 6, 98, 103), Delta("ETH-USD", 10, 1, 2)});
  ASSERT_TRUE(md.Ingest(c, "test").ok());
  EXPECT_EQ(md.stats().gaps, 1u) << "consecutive seq and a new instrument are not gaps";
}

TEST(MarketData, CountsCrossedBookOnTransition) {
  MarketData md(MarketDataOptions{});
  auto a = Batch({Delta("BTC-USD", 1, 100, 101)});
  ASSERT_TRUE(md.Ingest(a, "test").ok());
  EXPECT_EQ(md.stats().crossed, 0u);
  auto b = Batch({Delta("BTC-USD", 2, 105, 106), Delta("BTC-USD", 3, 105, 107)});
  ASSERT_TRUE(md.Ingest(b, "test").ok());  // bid 105 >= ask 101: crossed once
  EXPECT_EQ(md.stats().crossed, 1u);
}

TEST(MarketData, RejectsBatchExceedingMaxInstruments) {
  MarketDataOptions o;
  o.max_instruments = 2;
  MarketData md(o);
  auto a = Batch({Delta("A", 1, 1, 2), Delta("B", 1, 1, 2)});
  ASSERT_TRUE(md.Ingest(a, "test").ok());
  auto b = Batch({Delta("A", 2, 1, 2), Delta("C", 1, 1, 2)});
  EXPECT_EQ(md.Ingest(b, "test").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(md.stats().instruments, 2u);
}

TEST(MarketData, GetBookValidatesRequestAndHonoursDepth) {
  MarketData md(MarketDataOptions{});
  auto a = Batch({Delta("BTC-USD", 1, 100, 101), Delta("BTC-USD", 2, 99, 102)});
  ASSERT_TRUE(md.Ingest(a, "test").ok());
  tickmesh::v1::GetBookRequest req;
  EXPECT_EQ(md.GetBook(req).status().code(), absl::StatusCode::kInvalidArgument);
  req.set_symbol("DOGE-USD");
  EXPECT_EQ(md.GetBook(req).status().code(), absl::StatusCode::kNotFound);
  req.set_symbol("BTC-USD");  // empty venue: the only venue is picked
  req.set_depth(1);
  auto resp = md.GetBook(req);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->venue(), "sim");
  EXPECT_EQ(resp->book().bids_size(), 1);
  EXPECT_EQ(resp->book().asks_size(), 1);
}

TEST(MarketData, BuildsCandlesFromTrades) {
  MarketData md(MarketDataOptions{});
  constexpr int64_t kSec = 1'000'000'000;
  auto a =
      Batch({Trade("BTC-USD", 1, 100, 1, 10 * kSec), Trade("BTC-USD", 2, 120, 2, 10 * kSec + 5),
             Trade("BTC-USD", 3, 90, 3, 11 * kSec)});
  ASSERT_TRUE(md.Ingest(a, "test").ok());
  tickmesh::v1::GetCandlesRequest req;
  req.set_venue("sim");
  req.set_symbol("BTC-USD");
  req.set_interval_s(1);
  auto resp = md.GetCandles(req);
  ASSERT_TRUE(resp.ok()) << resp.status();
  ASSERT_EQ(resp->candles_size(), 2);
  EXPECT_EQ(resp->candles(0).high_e8(), 120);
  EXPECT_EQ(resp->candles(0).volume_e8(), 3);
  EXPECT_TRUE(resp->candles(0).closed());
  EXPECT_EQ(resp->candles(1).open_e8(), 90);
  req.set_interval_s(60);
  resp = md.GetCandles(req);
  ASSERT_TRUE(resp.ok());
  ASSERT_EQ(resp->candles_size(), 1);
  EXPECT_EQ(resp->candles(0).trade_count(), 3u);
  req.set_interval_s(7);
  EXPECT_EQ(md.GetCandles(req).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SubscriberFilter, RejectsUnknownKindAndMatchesLists) {
  tickmesh::v1::SubscribeRequest req;
  req.add_kinds(static_cast<tickmesh::v1::EventKind>(9));
  EXPECT_EQ(SubscriberFilter::FromRequest(req).status().code(), absl::StatusCode::kInvalidArgument);
  req.clear_kinds();
  req.add_kinds(tickmesh::v1::EVENT_KIND_TRADE);
  req.add_symbols("ETH-USD");
  auto f = SubscriberFilter::FromRequest(req);
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->Matches(Trade("ETH-USD", 1, 1, 1, 0)));
  EXPECT_FALSE(f->Matches(Trade("BTC-USD", 1, 1, 1, 0)));
  EXPECT_FALSE(f->Matches(Delta("ETH-USD", 1, 1, 2)));
  EXPECT_EQ(f->name, "anonymous");
}

TEST(SubscriberFilter, AcceptsCoalesceUpToTheCapAndRejectsAbove) {
  tickmesh::v1::SubscribeRequest req;
  auto f = SubscriberFilter::FromRequest(req);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->coalesce_ms, 0u) << "default: every batch as soon as it is published";
  req.set_coalesce_ms(kMaxCoalesceMs);
  f = SubscriberFilter::FromRequest(req);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->coalesce_ms, kMaxCoalesceMs);
  req.set_coalesce_ms(kMaxCoalesceMs + 1);
  f = SubscriberFilter::FromRequest(req);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(f.status().message().find("coalesce_ms"), std::string::npos) << f.status();
}

TEST(MarketData, ValidateOptionsNamesTheOption) {
  MarketDataOptions o;
  o.candle_intervals_s = {1, 1};
  auto s = MarketData::ValidateOptions(o);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("candle_intervals"), absl::string_view::npos);
}

}  // namespace
}  // namespace tickmesh::market_data

namespace tickmesh::market_data {
namespace {

// Random, mostly malformed batches: Ingest never crashes, answers OK or INVALID_ARGUMENT, and a
// rejected batch leaves every book exactly as it was.
TEST(MarketData, RandomMalformedBatchesAreRejectedWithoutSideEffects) {
  std::mt19937_64 rng(99);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  MarketData md(MarketDataOptions{});
  const std::vector<std::string> symbols = {"A", "B", ""};
  std::map<std::string, uint64_t> next_seq = {{"A", 1}, {"B", 1}, {"", 1}};
  auto snapshot_of = [&](const std::string& symbol) {
    tickmesh::v1::GetBookRequest req;
    req.set_venue("sim");
    req.set_symbol(symbol);
    auto r = md.GetBook(req);
    return r.ok() ? r->book().SerializeAsString() + std::to_string(r->seq()) : std::string("none");
  };
  int accepted = 0, rejected = 0;
  for (int round = 0; round < 3000; ++round) {
    MarketEventBatch batch;
    const int n = static_cast<int>(pick(0, 4));
    for (int i = 0; i < n; ++i) {
      MarketEvent* e = batch.add_events();
      const std::string& sym = symbols[static_cast<size_t>(pick(0, 2))];
      e->set_venue(pick(0, 30) == 0 ? "" : "sim");
      e->set_symbol(sym);
      e->set_seq(pick(0, 9) == 0 ? static_cast<uint64_t>(pick(0, 5)) : next_seq[sym]++);
      switch (pick(0, 5)) {
        case 0: {
          auto* s = e->mutable_snapshot();
          int64_t p = pick(-2, 1000);
          for (int k = 0; k < pick(0, 5); ++k) {
            auto* l = s->add_bids();
            l->set_price_e8(p);
            l->set_qty_e8(pick(-1, 10));
            p -= pick(-1, 5);
          }
          for (int k = 0; k < pick(0, 5); ++k) {
            auto* l = s->add_asks();
            l->set_price_e8(p + pick(-3, 50));
            l->set_qty_e8(pick(-1, 10));
          }
          break;
        }
        case 1:
        case 2:
          for (int k = 0; k < pick(0, 5); ++k) {
            auto* l = pick(0, 1) ? e->mutable_delta()->add_bids() : e->mutable_delta()->add_asks();
            l->set_price_e8(pick(-2, 1000));
            l->set_qty_e8(pick(-1, 10));
          }
          e->mutable_delta();
          break;
        case 3:
          e->mutable_trade()->set_price_e8(pick(-1, 1000));
          e->mutable_trade()->set_qty_e8(pick(-1, 10));
          e->mutable_trade()->set_aggressor_side(static_cast<tickmesh::v1::Side>(pick(0, 3)));
          break;
        case 4:
          e->mutable_ticker()->set_bid_price_e8(pick(-1, 10));
          break;
        default:
          break;  // no payload
      }
    }
    const std::string before_a = snapshot_of("A"), before_b = snapshot_of("B");
    const auto before_instruments = md.stats().instruments;
    absl::Status s = md.Ingest(batch, "fuzz");
    if (s.ok()) {
      ++accepted;
    } else {
      ++rejected;
      ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
      ASSERT_EQ(snapshot_of("A"), before_a) << s;
      ASSERT_EQ(snapshot_of("B"), before_b) << s;
      ASSERT_EQ(md.stats().instruments, before_instruments);
      // The generator's seq counters ran ahead; resync them with what was accepted.
      for (const auto& sym : {"A", "B"}) {
        tickmesh::v1::GetBookRequest req;
        req.set_venue("sim");
        req.set_symbol(sym);
        auto r = md.GetBook(req);
        next_seq[sym] = r.ok() ? r->seq() + 1 : 1;
      }
    }
  }
  EXPECT_GT(accepted, 100);
  EXPECT_GT(rejected, 100);
}

}  // namespace
}  // namespace tickmesh::market_data
