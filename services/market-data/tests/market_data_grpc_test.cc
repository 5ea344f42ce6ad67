// MarketDataService over real gRPC: an in-process ServiceHost on 127.0.0.1:0.
#include "market_data_grpc.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "gtest/gtest.h"
#include "tickmesh/book/order_book.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/runtime/server.h"

namespace tickmesh::market_data {
namespace {

using tickmesh::v1::MarketDataService;
using tickmesh::v1::MarketEvent;
using tickmesh::v1::MarketEventBatch;

MarketEvent Delta(const std::string& symbol, uint64_t seq, int64_t bid, int64_t ask,
                  int levels = 1) {
  MarketEvent e;
  e.set_venue("sim");
  e.set_symbol(symbol);
  e.set_seq(seq);
  for (int i = 0; i < levels; ++i) {
    auto* b = e.mutable_delta()->add_bids();
    b->set_price_e8(bid - i);
    b->set_qty_e8(100 + static_cast<int64_t>(seq));
    auto* a = e.mutable_delta()->add_asks();
    a->set_price_e8(ask + i);
    a->set_qty_e8(100 + static_cast<int64_t>(seq));
  }
  return e;
}

class MarketDataGrpcTest : public ::testing::Test {
 protected:
  void StartServer(MarketDataOptions options) {
    md_ = std::make_unique<MarketData>(options);
    service_ = std::make_unique<MarketDataGrpc>(md_.get());
    runtime::ServerOptions so;
    so.service = "market-data";
    so.grpc_address = "127.0.0.1:0";
    so.admin_address = "127.0.0.1:0";
    so.drain_timeout = absl::Milliseconds(500);
    host_ = std::make_unique<runtime::ServiceHost>(so);
    host_->AddService(service_.get(), "tickmesh.v1.MarketDataService");
    host_->OnDrain(
        [this] { md_->CloseSubscribers(grpc::Status(grpc::StatusCode::UNAVAILABLE, "draining")); });
    ASSERT_TRUE(host_->Start().ok());
    stub_ = MarketDataService::NewStub(
        runtime::MakeChannel("127.0.0.1:" + std::to_string(host_->grpc_port())));
  }
  void TearDown() override {
    if (host_) host_->Shutdown();
  }

  // `seen`, a book rebuilt from a stream, equals market-data's current sim/BTC-USD book.
  void ExpectLatestBook(const book::OrderBook& seen) {
    tickmesh::v1::GetBookRequest req;
    req.set_venue("sim");
    req.set_symbol("BTC-USD");
    auto truth = md_->GetBook(req);
    ASSERT_TRUE(truth.ok());
    book::OrderBook expected(100'000);
    ASSERT_TRUE(expected.ApplySnapshot(truth->book()).ok());
    EXPECT_EQ(seen.Bids(), expected.Bids()) << "the book rebuilt from the stream is the latest";
    EXPECT_EQ(seen.Asks(), expected.Asks());
  }

  void Ingest(std::initializer_list<MarketEvent> events) {
    MarketEventBatch b;
    for (auto& e : events) *b.add_events() = e;
    ASSERT_TRUE(md_->Ingest(b, "test").ok());
  }

  std::unique_ptr<MarketData> md_;
  std::unique_ptr<MarketDataGrpc> service_;
  std::unique_ptr<runtime::ServiceHost> host_;
  std::unique_ptr<MarketDataService::Stub> stub_;
};

TEST_F(MarketDataGrpcTest, SubscriberGetsSnapshotFirstThenLiveEvents) {
  StartServer(MarketDataOptions{});
  Ingest(
      {Delta("BTC-USD", 1, 100, 101), Delta("BTC-USD", 2, 99, 102), Delta("ETH-USD", 1, 10, 11)});
  grpc::ClientContext ctx;
  ctx.set_deadline(runtime::DeadlineIn(absl::Seconds(10)));
  tickmesh::v1::SubscribeRequest req;
  req.add_symbols("BTC-USD");
  req.set_subscriber("test");
  auto reader = stub_->Subscribe(&ctx, req);
  MarketEventBatch batch;
  ASSERT_TRUE(reader->Read(&batch));
  ASSERT_EQ(batch.events_size(), 1);
  const MarketEvent& snap = batch.events(0);
  ASSERT_TRUE(snap.has_snapshot());
  EXPECT_EQ(snap.symbol(), "BTC-USD");
  EXPECT_EQ(snap.seq(), 2u);
  ASSERT_EQ(snap.snapshot().bids_size(), 2);
  EXPECT_EQ(snap.snapshot().bids(0).price_e8(), 100);

  Ingest({Delta("ETH-USD", 2, 10, 11), Delta("BTC-USD", 3, 98, 103)});
  ASSERT_TRUE(reader->Read(&batch));
  ASSERT_EQ(batch.events_size(), 1) << "ETH-USD is filtered out";
  EXPECT_TRUE(batch.events(0).has_delta());
  EXPECT_EQ(batch.events(0).seq(), 3u);
  const auto& hops = batch.events(0).trace().hops();
  ASSERT_EQ(hops.size(), 2);
  EXPECT_EQ(hops[0].stage(), "recv");
  EXPECT_EQ(hops[1].stage(), "emit");
  ctx.TryCancel();
}

TEST_F(MarketDataGrpcTest, SubscribeRejectsUnknownKind) {
  StartServer(MarketDataOptions{});
  grpc::ClientContext ctx;
  ctx.set_deadline(runtime::DeadlineIn(absl::Seconds(10)));
  tickmesh::v1::SubscribeRequest req;
  req.add_kinds(static_cast<tickmesh::v1::EventKind>(42));
  auto reader = stub_->Subscribe(&ctx, req);
  MarketEventBatch batch;
  EXPECT_FALSE(reader->Read(&batch));
  grpc::Status s = reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find("kinds[0]"), std::string::npos);
}

// A batch of `n` trades (~40 bytes each) with seqs from `first_seq`.
MarketEventBatch Trades(const std::string& symbol, uint64_t first_seq, int n) {
  MarketEventBatch b;
  for (int i = 0; i < n; ++i) {
    MarketEvent* e = b.add_events();
    e->set_venue("sim");
    e->set_symbol(symbol);
    e->set_seq(first_seq + static_cast<uint64_t>(i));
    e->mutable_trade()->set_price_e8(1'000'000 + i);
    e->mutable_trade()->set_qty_e8(1'000 + i);
    e->mutable_trade()->set_aggressor_side(tickmesh::v1::SIDE_BUY);
    e->mutable_trade()->set_trade_id("trade-id-padding-" + std::to_string(first_seq + i));
  }
  return b;
}

// A delta whose effect depends on every earlier one: 250 levels a side over a moving window of
// 400 prices, some set to 0 (removed), so a book that missed deltas ends up different.
MarketEvent ChurnDelta(const std::string& symbol, uint64_t seq) {
  MarketEvent e;
  e.set_venue("sim");
  e.set_symbol(symbol);
  e.set_seq(seq);
  for (int j = 0; j < 250; ++j) {
    const int64_t off = static_cast<int64_t>((seq * 7 + static_cast<uint64_t>(j)) % 400);
    const int64_t qty = static_cast<int64_t>((seq + static_cast<uint64_t>(j)) % 5);
    auto* b = e.mutable_delta()->add_bids();
    b->set_price_e8(1'000'000 - off);
    b->set_qty_e8(qty);
    auto* a = e.mutable_delta()->add_asks();
    a->set_price_e8(1'000'001 + off);
    a->set_qty_e8(qty);
  }
  return e;
}

// Applies what a subscriber receives to a local book, as a consumer would.
struct ConsumerBook {
  book::OrderBook book{100'000};
  uint64_t last_seq = 0;
  int snapshots = 0, deltas = 0, gaps = 0;
  void Apply(const MarketEvent& e) {
    if (e.has_snapshot()) {
      ASSERT_TRUE(book.ApplySnapshot(e.snapshot()).ok());
      ++snapshots;
      last_seq = e.seq();
    } else if (e.has_delta()) {
      if (e.seq() != last_seq + 1) ++gaps;
      ASSERT_TRUE(book.ApplyDelta(e.delta()).ok());
      ++deltas;
      last_seq = e.seq();
    }
  }
};

class Reader {
 public:
  Reader(MarketDataService::Stub* stub, const std::string& name)
      : Reader(stub, [&] {
          tickmesh::v1::SubscribeRequest req;
          req.set_subscriber(name);
          return req;
        }()) {}
  Reader(MarketDataService::Stub* stub, const tickmesh::v1::SubscribeRequest& req) {
    ctx_.set_deadline(runtime::DeadlineIn(absl::Seconds(60)));
    stream_ = stub->Subscribe(&ctx_, req);
    // Registered before the first event: the server sends headers once the stream is added.
    stream_->WaitForInitialMetadata();
  }
  grpc::ClientContext& ctx() { return ctx_; }
  grpc::ClientReader<MarketEventBatch>& stream() { return *stream_; }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<MarketEventBatch>> stream_;
};

TEST_F(MarketDataGrpcTest, SlowSubscriberGetsConflatedBooksWhileFastOneGetsEveryDelta) {
  MarketDataOptions o;
  o.subscriber_queue = 16;  // books conflated from 8 queued batches, flushed at 4
  StartServer(o);
  constexpr int kBatches = 2000;

  Reader fast(stub_.get(), "fast");
  ASSERT_EQ(fast.ctx().GetServerInitialMetadata().count(kStreamMetadataKey), 1u);
  std::mutex mu;
  std::condition_variable cv;
  int fast_received = 0;
  ConsumerBook fast_book;
  std::thread fast_thread([&] {
    MarketEventBatch b;
    while (fast.stream().Read(&b)) {
      std::lock_guard<std::mutex> lock(mu);
      for (auto& e : b.events()) fast_book.Apply(e);
      ++fast_received;
      cv.notify_all();
    }
  });
  Reader slow(stub_.get(), "slow");  // does not read until every batch is ingested

  for (int i = 1; i <= kBatches; ++i) {
    Ingest({ChurnDelta("BTC-USD", static_cast<uint64_t>(i))});  // ~8 KB each
    // Pace on the fast subscriber only, so it never has more than a batch queued.
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return fast_received >= i; }))
        << "fast subscriber stalled at " << fast_received;
  }
  EXPECT_EQ(md_->stats().subscribers_dropped, 0u) << "books alone never disconnect";
  EXPECT_GT(md_->stats().conflations, 0u);

  // The slow subscriber now drains: deltas up to the conflation point, then a snapshot of the
  // current book carrying the last seq.
  ConsumerBook slow_book;
  int slow_events = 0;
  MarketEventBatch b;
  while (slow_book.last_seq < kBatches && slow.stream().Read(&b)) {
    for (auto& e : b.events()) {
      slow_book.Apply(e);
      ++slow_events;
    }
  }
  EXPECT_EQ(slow_book.last_seq, static_cast<uint64_t>(kBatches));
  EXPECT_LT(slow_events, kBatches) << "fewer events than were published";
  EXPECT_GE(slow_book.deltas, 1) << "deltas flow until the queue reaches its book watermark";
  // No book existed when it subscribed, so every snapshot it got is a conflated one.
  EXPECT_GE(slow_book.snapshots, 1);

  ExpectLatestBook(slow_book.book);

  fast.ctx().TryCancel();
  fast_thread.join();
  slow.ctx().TryCancel();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(fast_received, kBatches);
  EXPECT_EQ(fast_book.deltas, kBatches) << "the fast subscriber is not conflated";
  EXPECT_EQ(fast_book.gaps, 0);
  ExpectLatestBook(fast_book.book);
}

TEST_F(MarketDataGrpcTest, SlowSubscriberIsDisconnectedWhenItsTradeQueueOverflows) {
  MarketDataOptions o;
  o.subscriber_queue = 16;
  StartServer(o);
  constexpr int kBatches = 2000, kTradesPerBatch = 50;

  Reader fast(stub_.get(), "fast");
  std::mutex mu;
  std::condition_variable cv;
  int fast_received = 0;
  bool fast_in_order = true;
  std::thread fast_thread([&] {
    MarketEventBatch b;
    uint64_t expected = 1;
    while (fast.stream().Read(&b)) {
      std::lock_guard<std::mutex> lock(mu);
      for (auto& e : b.events()) {
        if (e.seq() != expected++) fast_in_order = false;
      }
      ++fast_received;
      cv.notify_all();
    }
  });
  Reader slow(stub_.get(), "slow");

  for (int i = 0; i < kBatches; ++i) {
    MarketEventBatch batch =
        Trades("BTC-USD", static_cast<uint64_t>(i) * kTradesPerBatch + 1, kTradesPerBatch);
    ASSERT_TRUE(md_->Ingest(batch, "test").ok());
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return fast_received > i; }))
        << "fast subscriber stalled at " << fast_received;
  }
  EXPECT_EQ(md_->stats().subscribers_dropped, 1u);
  EXPECT_EQ(md_->stats().conflations, 0u) << "trades are never conflated";

  // The slow subscriber gets what reached it, in order and without holes, then
  // RESOURCE_EXHAUSTED.
  MarketEventBatch b;
  uint64_t slow_events = 0;
  bool slow_in_order = true;
  while (slow.stream().Read(&b)) {
    for (auto& e : b.events()) {
      if (e.seq() != ++slow_events) slow_in_order = false;
    }
  }
  grpc::Status slow_status = slow.stream().Finish();
  EXPECT_EQ(slow_status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << slow_status.error_message();
  EXPECT_LT(slow_events, static_cast<uint64_t>(kBatches) * kTradesPerBatch);
  EXPECT_TRUE(slow_in_order);

  fast.ctx().TryCancel();
  fast_thread.join();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(fast_received, kBatches);
  EXPECT_TRUE(fast_in_order);
}

TEST_F(MarketDataGrpcTest, PublishWithBadEventIsInvalidArgumentAndLeavesBookUnchanged) {
  StartServer(MarketDataOptions{});
  grpc::ClientContext ctx;
  ctx.set_deadline(runtime::DeadlineIn(absl::Seconds(10)));
  tickmesh::v1::PublishAck ack;
  auto writer = stub_->Publish(&ctx, &ack);
  MarketEventBatch good;
  *good.add_events() = Delta("BTC-USD", 1, 100, 101);
  ASSERT_TRUE(writer->Write(good));
  MarketEventBatch bad;
  *bad.add_events() = Delta("BTC-USD", 2, 90, 110);
  MarketEvent broken = Delta("BTC-USD", 3, 80, 120);
  broken.mutable_delta()->mutable_asks(0)->set_price_e8(0);
  *bad.add_events() = broken;
  writer->Write(bad);  // may fail once the server has finished; the status tells
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("batch 1 event 1: asks[0].price_e8"), std::string::npos)
      << s.error_message();

  grpc::ClientContext book_ctx;
  book_ctx.set_deadline(runtime::DeadlineIn(absl::Seconds(10)));
  tickmesh::v1::GetBookRequest req;
  req.set_venue("sim");
  req.set_symbol("BTC-USD");
  tickmesh::v1::GetBookResponse book;
  ASSERT_TRUE(stub_->GetBook(&book_ctx, req, &book).ok());
  EXPECT_EQ(book.seq(), 1u);
  ASSERT_EQ(book.book().bids_size(), 1);
  EXPECT_EQ(book.book().bids(0).price_e8(), 100);
}

TEST_F(MarketDataGrpcTest, PublishAcknowledgesAcceptedBatches) {
  StartServer(MarketDataOptions{});
  grpc::ClientContext ctx;
  ctx.set_deadline(runtime::DeadlineIn(absl::Seconds(10)));
  tickmesh::v1::PublishAck ack;
  auto writer = stub_->Publish(&ctx, &ack);
  for (uint64_t i = 1; i <= 3; ++i) {
    MarketEventBatch b;
    *b.add_events() = Delta("ETH-USD", 2 * i - 1, 10, 11);
    *b.add_events() = Delta("ETH-USD", 2 * i, 10, 12);
    ASSERT_TRUE(writer->Write(b));
  }
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ack.batches_accepted(), 3u);
  EXPECT_EQ(ack.events_accepted(), 6u);
}

TEST_F(MarketDataGrpcTest, GetBookStatusCodes) {
  StartServer(MarketDataOptions{});
  tickmesh::v1::GetBookResponse book;
  {
    grpc::ClientContext ctx;
    tickmesh::v1::GetBookRequest req;
    EXPECT_EQ(stub_->GetBook(&ctx, req, &book).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext ctx;
    tickmesh::v1::GetBookRequest req;
    req.set_venue("sim");
    req.set_symbol("NOPE");
    EXPECT_EQ(stub_->GetBook(&ctx, req, &book).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  {
    grpc::ClientContext ctx;
    tickmesh::v1::GetCandlesRequest req;
    req.set_symbol("NOPE");
    req.set_interval_s(1);
    tickmesh::v1::GetCandlesResponse resp;
    EXPECT_EQ(stub_->GetCandles(&ctx, req, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
  }
}

// --- Coalescing (SubscribeRequest.coalesce_ms) ---

// Ingest takes its batch by reference (it appends trace stamps); this takes a temporary.
absl::Status IngestCopy(MarketData* md, MarketEventBatch batch) {
  return md->Ingest(batch, "test");
}

tickmesh::v1::SubscribeRequest CoalescingRequest(const std::string& name, uint32_t coalesce_ms) {
  tickmesh::v1::SubscribeRequest req;
  req.set_subscriber(name);
  req.set_coalesce_ms(coalesce_ms);
  return req;
}

double MillisSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

TEST_F(MarketDataGrpcTest, CoalescingSubscriberGetsEveryEventOnceInOrderInFewerMessages) {
  StartServer(MarketDataOptions{});
  constexpr int kBatches = 50, kTradesPerBatch = 2;
  constexpr uint32_t kCoalesceMs = 20;
  Reader coalesced(stub_.get(), CoalescingRequest("execution", kCoalesceMs));
  Reader plain(stub_.get(), "signal");

  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kBatches; ++i) {
    ASSERT_TRUE(
        IngestCopy(md_.get(), Trades("BTC-USD", static_cast<uint64_t>(i) * kTradesPerBatch + 1,
                                     kTradesPerBatch))
            .ok());
  }
  const double publish_ms = MillisSince(t0);

  MarketEventBatch b;
  uint64_t next = 1;
  int messages = 0;
  while (next <= kBatches * kTradesPerBatch) {
    ASSERT_TRUE(coalesced.stream().Read(&b)) << "stream ended after seq " << next - 1;
    ++messages;
    for (const MarketEvent& e : b.events()) {
      ASSERT_EQ(e.seq(), next) << "every event once, in publish order";
      ++next;
      // Per-event trace stamps survive merging: market-data recv, then emit (fan-out time).
      ASSERT_EQ(e.trace().hops_size(), 2);
      EXPECT_EQ(e.trace().hops(0).stage(), "recv");
      EXPECT_EQ(e.trace().hops(1).stage(), "emit");
    }
  }
  // A partial message goes out at most once per coalesce_ms: one per elapsed window of the
  // publishing loop, plus the window still open when it ended (+1 for timer rounding).
  EXPECT_LE(messages, 2 + static_cast<int>(publish_ms / kCoalesceMs))
      << "publishing took " << publish_ms << " ms";
  EXPECT_LT(messages, kBatches);

  // coalesce_ms = 0 is unchanged: one message per published batch.
  int plain_messages = 0, plain_events = 0;
  while (plain_events < kBatches * kTradesPerBatch) {
    ASSERT_TRUE(plain.stream().Read(&b));
    ++plain_messages;
    plain_events += b.events_size();
  }
  EXPECT_EQ(plain_messages, kBatches);
  coalesced.ctx().TryCancel();
  plain.ctx().TryCancel();
}

TEST_F(MarketDataGrpcTest, CoalescingSubscriberGetsALoneEventWithoutAnotherPublish) {
  StartServer(MarketDataOptions{});
  Reader coalesced(stub_.get(), CoalescingRequest("execution", 20));
  ASSERT_TRUE(IngestCopy(md_.get(), Trades("BTC-USD", 1, 1)).ok());
  const auto t0 = std::chrono::steady_clock::now();
  MarketEventBatch b;
  ASSERT_TRUE(coalesced.stream().Read(&b)) << "the held event is sent by the timer";
  const double waited_ms = MillisSince(t0);
  ASSERT_EQ(b.events_size(), 1);
  EXPECT_EQ(b.events(0).seq(), 1u);
  // 20 ms of hold; the bound is generous (shared CI machine), the point is that it arrives.
  EXPECT_LT(waited_ms, 2000.0);

  // The timer re-arms for the next lone event.
  ASSERT_TRUE(IngestCopy(md_.get(), Trades("BTC-USD", 2, 1)).ok());
  ASSERT_TRUE(coalesced.stream().Read(&b));
  ASSERT_EQ(b.events_size(), 1);
  EXPECT_EQ(b.events(0).seq(), 2u);
  coalesced.ctx().TryCancel();
}

TEST_F(MarketDataGrpcTest, CoalescingSubscriberGetsOnlyWhatItsFilterSelects) {
  StartServer(MarketDataOptions{});
  tickmesh::v1::SubscribeRequest req = CoalescingRequest("execution", 20);
  req.add_symbols("BTC-USD");
  req.add_kinds(tickmesh::v1::EVENT_KIND_TRADE);
  Reader coalesced(stub_.get(), req);
  constexpr int kBatches = 30;
  for (int i = 1; i <= kBatches; ++i) {
    MarketEventBatch batch = Trades("BTC-USD", 2 * static_cast<uint64_t>(i) - 1, 1);
    *batch.add_events() = Delta("BTC-USD", 2 * static_cast<uint64_t>(i), 100, 101);
    *batch.add_events() = Trades("ETH-USD", static_cast<uint64_t>(i), 1).events(0);
    ASSERT_TRUE(md_->Ingest(batch, "test").ok());
  }
  MarketEventBatch b;
  int received = 0, messages = 0;
  while (received < kBatches) {
    ASSERT_TRUE(coalesced.stream().Read(&b));
    ++messages;
    for (const MarketEvent& e : b.events()) {
      ++received;
      EXPECT_EQ(e.symbol(), "BTC-USD");
      EXPECT_TRUE(e.has_trade()) << "book events were not asked for";
      EXPECT_EQ(e.seq(), 2 * static_cast<uint64_t>(received) - 1);
    }
  }
  EXPECT_EQ(received, kBatches);
  EXPECT_LT(messages, kBatches);
  // Nothing else arrives: the next message is the one for this marker trade.
  ASSERT_TRUE(IngestCopy(md_.get(), Trades("BTC-USD", 2 * kBatches + 1, 1)).ok());
  ASSERT_TRUE(coalesced.stream().Read(&b));
  ASSERT_EQ(b.events_size(), 1);
  EXPECT_EQ(b.events(0).seq(), 2u * kBatches + 1);
  coalesced.ctx().TryCancel();
}

TEST_F(MarketDataGrpcTest, CoalescingSubscriberGetsItsHeldEventsBeforeADrainEndsTheStream) {
  StartServer(MarketDataOptions{});
  Reader coalesced(stub_.get(), CoalescingRequest("execution", kMaxCoalesceMs));
  ASSERT_TRUE(IngestCopy(md_.get(), Trades("BTC-USD", 1, 3)).ok());
  md_->CloseSubscribers(grpc::Status(grpc::StatusCode::UNAVAILABLE, "draining"));
  MarketEventBatch b;
  uint64_t received = 0;
  while (coalesced.stream().Read(&b)) {
    for (const MarketEvent& e : b.events()) EXPECT_EQ(e.seq(), ++received);
  }
  EXPECT_EQ(received, 3u) << "held events are not dropped by a drain";
  EXPECT_EQ(coalesced.stream().Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(MarketDataGrpcTest, CoalesceAboveTheCapIsInvalidArgument) {
  StartServer(MarketDataOptions{});
  grpc::ClientContext ctx;
  ctx.set_deadline(runtime::DeadlineIn(absl::Seconds(10)));
  auto reader = stub_->Subscribe(&ctx, CoalescingRequest("execution", kMaxCoalesceMs + 1));
  MarketEventBatch batch;
  EXPECT_FALSE(reader->Read(&batch));
  grpc::Status s = reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find("coalesce_ms"), std::string::npos) << s.error_message();
}

TEST_F(MarketDataGrpcTest, CoalescedMessagesStayWithinTheEventAndByteBounds) {
  StartServer(MarketDataOptions{});
  Reader coalesced(stub_.get(), CoalescingRequest("execution", kMaxCoalesceMs));
  constexpr int kTradeBatches = 60, kTradesPerBatch = 50, kDeltas = 150;  // deltas ~8 KB each
  for (int i = 0; i < kTradeBatches; ++i) {
    ASSERT_TRUE(
        IngestCopy(md_.get(), Trades("BTC-USD", static_cast<uint64_t>(i) * kTradesPerBatch + 1,
                                     kTradesPerBatch))
            .ok());
  }
  for (int i = 1; i <= kDeltas; ++i) {
    Ingest({ChurnDelta("ETH-USD", static_cast<uint64_t>(i))});
  }
  // The last one, so the reader knows when everything has arrived.
  ASSERT_TRUE(
      IngestCopy(md_.get(), Trades("BTC-USD", kTradeBatches * kTradesPerBatch + 1, 1)).ok());

  uint64_t next_trade = 1, next_delta = 1;
  int messages = 0, largest = 0;
  MarketEventBatch b;
  while (next_trade <= kTradeBatches * kTradesPerBatch + 1) {
    ASSERT_TRUE(coalesced.stream().Read(&b));
    ++messages;
    largest = std::max(largest, b.events_size());
    EXPECT_LE(b.events_size(), SubscriberStream::kMaxCoalescedEvents);
    EXPECT_LE(b.ByteSizeLong(), SubscriberStream::kMaxCoalescedBytes);
    for (const MarketEvent& e : b.events()) {
      if (e.symbol() == "BTC-USD") {
        ASSERT_EQ(e.seq(), next_trade++);
      } else {
        ASSERT_EQ(e.seq(), next_delta++);
      }
    }
  }
  EXPECT_EQ(next_delta, static_cast<uint64_t>(kDeltas) + 1) << "deltas came before the marker";
  EXPECT_LT(messages, kTradeBatches + kDeltas + 1);
  EXPECT_GT(largest, kTradesPerBatch) << "batches were merged";
  coalesced.ctx().TryCancel();
}

TEST_F(MarketDataGrpcTest, SlowCoalescingSubscriberGetsConflatedBooksInOrder) {
  MarketDataOptions o;
  o.subscriber_queue = 16;  // 16 slots of 64 events; books conflated from 8
  StartServer(o);
  constexpr int kBatches = 2000;
  Reader slow(stub_.get(), CoalescingRequest("slow", 5));  // does not read until the end
  for (int i = 1; i <= kBatches; ++i) Ingest({ChurnDelta("BTC-USD", static_cast<uint64_t>(i))});
  EXPECT_EQ(md_->stats().subscribers_dropped, 0u) << "books alone never disconnect";
  EXPECT_GT(md_->stats().conflations, 0u);

  ConsumerBook book;
  int events = 0;
  bool in_order = true;
  MarketEventBatch b;
  while (book.last_seq < kBatches && slow.stream().Read(&b)) {
    for (const MarketEvent& e : b.events()) {
      // A delta follows its predecessor or a gap; a snapshot never goes back in time.
      if (e.has_delta() ? e.seq() <= book.last_seq : e.seq() < book.last_seq) in_order = false;
      book.Apply(e);
      ++events;
    }
  }
  EXPECT_TRUE(in_order);
  EXPECT_EQ(book.last_seq, static_cast<uint64_t>(kBatches));
  EXPECT_LT(events, kBatches);
  EXPECT_GE(book.snapshots, 1);
  ExpectLatestBook(book.book);
  slow.ctx().TryCancel();
}

TEST_F(MarketDataGrpcTest, SlowCoalescingSubscriberIsDisconnectedWhenItsTradesOverflow) {
  MarketDataOptions o;
  o.subscriber_queue = 16;  // at most 16 * 64 trades queued or held
  StartServer(o);
  constexpr int kBatches = 2000, kTradesPerBatch = 50;
  Reader slow(stub_.get(), CoalescingRequest("slow", 5));
  // It reads the first batches, then stops reading.
  constexpr int kReadBatches = 5;
  for (int i = 0; i < kReadBatches; ++i) {
    ASSERT_TRUE(
        IngestCopy(md_.get(), Trades("BTC-USD", static_cast<uint64_t>(i) * kTradesPerBatch + 1,
                                     kTradesPerBatch))
            .ok());
  }
  MarketEventBatch b;
  uint64_t received = 0;
  bool in_order = true;
  while (received < kReadBatches * kTradesPerBatch) {
    ASSERT_TRUE(slow.stream().Read(&b));
    for (const MarketEvent& e : b.events()) {
      if (e.seq() != ++received) in_order = false;
    }
  }
  for (int i = kReadBatches; i < kBatches && md_->stats().subscribers_dropped == 0; ++i) {
    ASSERT_TRUE(
        IngestCopy(md_.get(), Trades("BTC-USD", static_cast<uint64_t>(i) * kTradesPerBatch + 1,
                                     kTradesPerBatch))
            .ok());
  }
  EXPECT_EQ(md_->stats().subscribers_dropped, 1u);
  while (slow.stream().Read(&b)) {
    for (const MarketEvent& e : b.events()) {
      if (e.seq() != ++received) in_order = false;
    }
  }
  grpc::Status s = slow.stream().Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_TRUE(in_order) << "what reached it has no holes";
  EXPECT_LT(received, static_cast<uint64_t>(kBatches) * kTradesPerBatch);
}

}  // namespace
}  // namespace tickmesh::market_data
