// UpstreamFeeds' book stream (read on gRPC callback threads) against a real in-process gRPC
// MarketDataService on 127.0.0.1:0: a sequence gap triggers one GetBook on the resync thread, the
// book is fixed by its snapshot, events of that instrument arriving meanwhile are replayed after
// it, other instruments keep flowing during the resync, and a dropped stream makes books stale.
#include "upstream.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "execution_engine.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "tickmesh/v1/market_data.grpc.pb.h"

namespace tickmesh::execution {
namespace {

namespace v1 = tickmesh::v1;
using testing::E8;

// Waits for `n` without blocking a server handler past its call's cancellation.
bool WaitOrCancelled(const absl::Notification& n, grpc::ServerContext* ctx) {
  const absl::Time until = absl::Now() + absl::Seconds(10);
  while (!n.WaitForNotificationWithTimeout(absl::Milliseconds(10))) {
    if (ctx->IsCancelled() || absl::Now() > until) return false;
  }
  return true;
}

// Market-data double. The first Subscribe sends snapshots of X (sim BTC-USD) and Y (sim ETH-USD),
// then a delta of X that skips seqs (a gap); once GetBook(X) has been called it sends a delta of Y
// and two more deltas of X (seq 6, older than the resync snapshot, and seq 7, newer). GetBook(X)
// answers only when the test releases it, with a snapshot at seq 6. Later Subscribes send nothing
// (or end the stream at once when `end_first_stream` is set, for the first one).
class FakeMarketData final : public v1::MarketDataService::Service {
 public:
  grpc::Status Subscribe(grpc::ServerContext* ctx, const v1::SubscribeRequest*,
                         grpc::ServerWriter<v1::MarketEventBatch>* writer) override {
    int n;
    {
      std::lock_guard<std::mutex> lock(mu_);
      n = ++subscribes_;
    }
    if (n > 1) {
      while (!ctx->IsCancelled()) absl::SleepFor(absl::Milliseconds(10));
      return grpc::Status::OK;
    }
    v1::MarketEventBatch b1;
    *b1.add_events() = testing::Snapshot("sim", "BTC-USD", 1, {{99 * E8, E8}}, {{101 * E8, E8}});
    *b1.add_events() = testing::Snapshot("sim", "ETH-USD", 1, {{50 * E8, E8}}, {{51 * E8, E8}});
    writer->Write(b1);
    if (end_first_stream) {
      if (!WaitOrCancelled(end_stream_, ctx)) return grpc::Status::CANCELLED;
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "market-data going away");
    }
    v1::MarketEventBatch b2;  // expected seq 2: a gap
    *b2.add_events() = testing::Delta("sim", "BTC-USD", 4, {{98 * E8, E8}}, {});
    writer->Write(b2);
    if (!WaitOrCancelled(get_book_called_, ctx)) return grpc::Status::CANCELLED;
    v1::MarketEventBatch b3;
    *b3.add_events() = testing::Delta("sim", "ETH-USD", 2, {{49 * E8, 2 * E8}}, {});
    *b3.add_events() = testing::Delta("sim", "BTC-USD", 6, {{97 * E8, E8}}, {});
    *b3.add_events() = testing::Delta("sim", "BTC-USD", 7, {{96 * E8, 3 * E8}}, {});
    writer->Write(b3);
    while (!ctx->IsCancelled()) absl::SleepFor(absl::Milliseconds(10));
    return grpc::Status::OK;
  }

  grpc::Status GetBook(grpc::ServerContext* ctx, const v1::GetBookRequest* req,
                       v1::GetBookResponse* resp) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++get_books_;
      last_get_book_ = req->venue() + ":" + req->symbol();
    }
    if (!get_book_called_.HasBeenNotified()) get_book_called_.Notify();
    if (!WaitOrCancelled(release_get_book, ctx)) return grpc::Status::CANCELLED;
    resp->set_venue(req->venue());
    resp->set_symbol(req->symbol());
    resp->set_seq(6);
    *resp->mutable_book() =
        testing::Snapshot(req->venue(), req->symbol(), 6, {{95 * E8, E8}}, {{105 * E8, E8}})
            .snapshot();
    return grpc::Status::OK;
  }

  int get_books() const {
    std::lock_guard<std::mutex> lock(mu_);
    return get_books_;
  }
  std::string last_get_book() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_get_book_;
  }

  bool end_first_stream = false;
  absl::Notification release_get_book;
  absl::Notification end_stream_;
  absl::Notification get_book_called_;

 private:
  mutable std::mutex mu_;
  int subscribes_ = 0;
  int get_books_ = 0;
  std::string last_get_book_;
};

class UpstreamBooksTest : public ::testing::Test {
 protected:
  UpstreamBooksTest() : engine_(EngineOptions{}, nullptr, nullptr) {}

  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&md_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port, 0);
    address_ = "127.0.0.1:" + std::to_string(port);
  }

  void TearDown() override {
    if (!md_.release_get_book.HasBeenNotified()) md_.release_get_book.Notify();
    if (!md_.end_stream_.HasBeenNotified()) md_.end_stream_.Notify();
    if (feeds_) feeds_->Stop();
    server_->Shutdown(std::chrono::system_clock::now());
  }

  void StartFeeds() {
    feeds_ = std::make_unique<UpstreamFeeds>(
        &engine_, UpstreamFeeds::Options{.signal_address = "", .market_data_address = address_},
        nullptr);
    feeds_->Start();
  }

  // Best bid of a usable book, nullopt when unknown or stale.
  std::optional<std::pair<int64_t, int64_t>> BestBid(const std::string& symbol) const {
    auto book = engine_.BookSnapshot("sim", symbol, 10);
    if (!book || book->bids_size() == 0) return std::nullopt;
    return std::make_pair(book->bids(0).price_e8(), book->bids(0).qty_e8());
  }

  // Polls `pred` (bounded) until true.
  template <typename Pred>
  static bool Eventually(Pred pred) {
    const absl::Time until = absl::Now() + absl::Seconds(5);
    while (!pred()) {
      if (absl::Now() > until) return false;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return true;
  }

  FakeMarketData md_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  ExecutionEngine engine_;
  std::unique_ptr<UpstreamFeeds> feeds_;
};

TEST_F(UpstreamBooksTest, GapTriggersOneResyncThatFixesTheBookAndReplaysHeldEvents) {
  StartFeeds();
  ASSERT_TRUE(md_.get_book_called_.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_EQ(md_.last_get_book(), "sim:BTC-USD");
  // While X's resync is in flight, X is stale and Y's delta still applies.
  ASSERT_TRUE(Eventually([&] {
    auto eth = engine_.BookSnapshot("sim", "ETH-USD", 10);
    return eth.has_value() && eth->bids_size() == 2 && eth->bids(1).price_e8() == 49 * E8;
  }));
  EXPECT_FALSE(BestBid("BTC-USD").has_value());
  md_.release_get_book.Notify();
  // The snapshot (seq 6: bid 95) fixes X; the held delta 6 is older (ignored), delta 7 applies.
  ASSERT_TRUE(Eventually([&] { return BestBid("BTC-USD") == std::make_pair(96 * E8, 3 * E8); }));
  auto book = engine_.BookSnapshot("sim", "BTC-USD", 10);
  ASSERT_TRUE(book.has_value());
  ASSERT_EQ(book->bids_size(), 2);
  EXPECT_EQ(book->bids(1).price_e8(), 95 * E8);
  ASSERT_EQ(book->asks_size(), 1);
  EXPECT_EQ(book->asks(0).price_e8(), 105 * E8);
  EXPECT_EQ(md_.get_books(), 1);
}

TEST_F(UpstreamBooksTest, StreamEndMakesEveryBookStale) {
  md_.end_first_stream = true;
  StartFeeds();
  ASSERT_TRUE(Eventually([&] { return BestBid("BTC-USD").has_value(); }));
  ASSERT_TRUE(BestBid("ETH-USD").has_value());
  md_.end_stream_.Notify();
  ASSERT_TRUE(Eventually([&] { return !BestBid("BTC-USD").has_value(); }));
  EXPECT_FALSE(BestBid("ETH-USD").has_value());
  EXPECT_EQ(md_.get_books(), 0);
}

}  // namespace
}  // namespace tickmesh::execution
