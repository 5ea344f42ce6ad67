// OutboxWriter against a real in-process gRPC PersistenceService on 127.0.0.1:0 (acks read on
// gRPC callback threads, batches written from the StreamLoop thread): every record is committed
// exactly once and in order; a stream broken with batches in flight (acked ones before it) is
// re-opened and only the un-acked records are resent, first and in order; a failed ack is retried
// (every record committed once); records appended while persistence is down are kept and sent once
// it is up; Stop() drains before it returns.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "outbox.h"
#include "tickmesh/v1/persistence.grpc.pb.h"

namespace tickmesh::execution {
namespace {

namespace v1 = tickmesh::v1;

// A persistence double. Each Append stream acks every batch OK ("commits" its records, in the
// order acked) unless told otherwise:
//  - break_first_stream_after_acks = k: the first stream acks k batches, then reads two more
//    batches without acking them and ends with UNAVAILABLE (those are in flight at the break);
//  - fail_first_acks = k: the first k batches are answered RESOURCE_EXHAUSTED (nothing committed).
class FakePersistence final : public v1::PersistenceService::Service {
 public:
  int break_first_stream_after_acks = -1;
  int fail_first_acks = 0;

  grpc::Status Append(grpc::ServerContext*,
                      grpc::ServerReaderWriter<v1::AppendAck, v1::AppendRequest>* stream) override {
    int stream_no;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stream_no = ++streams_;
    }
    v1::AppendRequest req;
    int acks = 0, unacked = 0;
    while (stream->Read(&req)) {
      std::lock_guard<std::mutex> lock(mu_);
      std::vector<std::string> ids;
      for (const auto& r : req.records()) ids.push_back(r.fill().fill_id());
      received_.push_back({stream_no, ids});
      if (stream_no == 1 && break_first_stream_after_acks >= 0 &&
          acks >= break_first_stream_after_acks) {
        unacked_at_break_.insert(unacked_at_break_.end(), ids.begin(), ids.end());
        if (++unacked == 2) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "test break");
        continue;
      }
      v1::AppendAck ack;
      ack.set_batch_id(req.batch_id());
      ack.set_records(static_cast<uint32_t>(req.records_size()));
      if (failed_ < fail_first_acks) {
        ++failed_;
        ack.set_status_code(static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED));
        ack.set_error("spool full");
      } else {
        committed_.insert(committed_.end(), ids.begin(), ids.end());
        ack.set_durability(v1::DURABILITY_DATABASE);
      }
      ++acks;
      if (!stream->Write(ack)) break;
    }
    return grpc::Status::OK;
  }

  struct Received {
    int stream;
    std::vector<std::string> ids;
  };
  std::vector<std::string> committed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return committed_;
  }
  std::vector<Received> received() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }
  std::vector<std::string> unacked_at_break() const {
    std::lock_guard<std::mutex> lock(mu_);
    return unacked_at_break_;
  }
  int streams() const {
    std::lock_guard<std::mutex> lock(mu_);
    return streams_;
  }

 private:
  mutable std::mutex mu_;
  int streams_ = 0;
  int failed_ = 0;
  std::vector<std::string> committed_;
  std::vector<Received> received_;
  std::vector<std::string> unacked_at_break_;
};

std::vector<v1::Record> Fills(int from, int n) {
  std::vector<v1::Record> out;
  for (int i = from; i < from + n; ++i) {
    out.emplace_back().mutable_fill()->set_fill_id("f-" + std::to_string(i));
  }
  return out;
}

std::vector<std::string> Ids(int from, int n) {
  std::vector<std::string> out;
  for (int i = from; i < from + n; ++i) out.push_back("f-" + std::to_string(i));
  return out;
}

OutboxQueue::Options SmallBatches() {
  OutboxQueue::Options o;
  o.max_records = 100'000;
  o.max_batch = 10;
  o.linger = absl::Milliseconds(1);
  o.retry_pause = absl::Milliseconds(10);
  return o;
}

class OutboxGrpcTest : public ::testing::Test {
 protected:
  void StartServer() {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&persistence_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port, 0);
    address_ = "127.0.0.1:" + std::to_string(port);
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
  }

  // Appends `total` records in chunks of 7 (as the engine appends an order's records together).
  static void AppendAll(OutboxQueue& q, int total) {
    for (int i = 1; i <= total; i += 7) q.Append(Fills(i, std::min(7, total - i + 1)));
  }

  FakePersistence persistence_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

TEST_F(OutboxGrpcTest, CommitsEveryRecordOnceInOrderAndEmptiesOnAcks) {
  StartServer();
  OutboxQueue q(SmallBatches());
  std::atomic<int> up{0};
  OutboxWriter writer(&q, address_, [&](bool connected) {
    if (connected) up.fetch_add(1);
  });
  writer.Start();
  AppendAll(q, 1000);
  ASSERT_TRUE(q.WaitUntilEmpty(absl::Seconds(10)));
  EXPECT_EQ(persistence_.committed(), Ids(1, 1000));
  EXPECT_EQ(q.acked_total(), 1000u);
  EXPECT_EQ(q.resent_total(), 0u);
  EXPECT_EQ(persistence_.streams(), 1);
  EXPECT_EQ(up.load(), 1);
  writer.Stop(absl::Seconds(1));
}

TEST_F(OutboxGrpcTest, BrokenStreamWithBatchesInFlightResendsOnlyUnackedRecordsFirstInOrder) {
  persistence_.break_first_stream_after_acks = 3;
  StartServer();
  OutboxQueue q(SmallBatches());
  OutboxWriter writer(&q, address_, nullptr);
  writer.Start();
  AppendAll(q, 400);
  ASSERT_TRUE(q.WaitUntilEmpty(absl::Seconds(10)));
  writer.Stop(absl::Seconds(1));

  // Nothing lost, nothing committed twice, order kept across the reconnect.
  EXPECT_EQ(persistence_.committed(), Ids(1, 400));
  EXPECT_GE(persistence_.streams(), 2);
  const std::vector<std::string> unacked = persistence_.unacked_at_break();
  ASSERT_FALSE(unacked.empty());
  // Everything in flight at the break (at least the two unacked batches) was queued again...
  EXPECT_GE(q.resent_total(), unacked.size());
  // ...and the second stream starts with exactly those records, in order: acked ones (the first
  // three batches) are never sent again.
  std::vector<std::string> second;
  for (const auto& r : persistence_.received()) {
    if (r.stream == 2) second.insert(second.end(), r.ids.begin(), r.ids.end());
  }
  ASSERT_GE(second.size(), unacked.size());
  EXPECT_EQ(std::vector<std::string>(second.begin(), second.begin() + unacked.size()), unacked);
  size_t acked_on_first = 0;
  int first_stream_batches = 0;
  for (const auto& r : persistence_.received()) {
    if (r.stream == 1 && first_stream_batches++ < 3) acked_on_first += r.ids.size();
  }
  EXPECT_EQ(second.front(), "f-" + std::to_string(acked_on_first + 1));
  EXPECT_EQ(q.acked_total(), 400u);
}

TEST_F(OutboxGrpcTest, FailedAcksAreRetriedOnTheSameStream) {
  persistence_.fail_first_acks = 2;
  StartServer();
  OutboxQueue q(SmallBatches());
  OutboxWriter writer(&q, address_, nullptr);
  writer.Start();
  AppendAll(q, 100);
  ASSERT_TRUE(q.WaitUntilEmpty(absl::Seconds(10)));
  writer.Stop(absl::Seconds(1));
  // Every record committed exactly once. Batches already in flight behind a failed one may be
  // committed before it is resent (up to max_inflight_batches are pipelined; the contract orders
  // resends, not commits across a failed ack), so compare as sets.
  std::vector<std::string> committed = persistence_.committed();
  std::vector<std::string> want = Ids(1, 100);
  std::sort(committed.begin(), committed.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(committed, want);
  EXPECT_EQ(q.failed_acks_total(), 2u);
  EXPECT_EQ(persistence_.streams(), 1);
}

TEST_F(OutboxGrpcTest, RecordsAppendedWhilePersistenceIsDownAreSentOnceItIsUp) {
  // Reserve an address, then start the writer before the server exists.
  StartServer();
  const std::string address = address_;
  server_->Shutdown(std::chrono::system_clock::now());
  server_.reset();
  OutboxQueue q(SmallBatches());
  OutboxWriter writer(&q, address, nullptr);
  writer.Start();
  AppendAll(q, 50);
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(q.depth(), 50u);  // kept, not dropped
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials());
  builder.RegisterService(&persistence_);
  server_ = builder.BuildAndStart();
  ASSERT_NE(server_, nullptr) << "port " << address << " taken meanwhile";
  ASSERT_TRUE(q.WaitUntilEmpty(absl::Seconds(15)));
  writer.Stop(absl::Seconds(1));
  EXPECT_EQ(persistence_.committed(), Ids(1, 50));
}

TEST_F(OutboxGrpcTest, StopWaitsForAcksOfWhatWasAppendedBefore) {
  StartServer();
  auto o = SmallBatches();
  o.linger = absl::Milliseconds(50);
  OutboxQueue q(o);
  OutboxWriter writer(&q, address_, nullptr);
  writer.Start();
  AppendAll(q, 35);
  writer.Stop(absl::Seconds(10));
  EXPECT_EQ(q.depth(), 0u);
  EXPECT_EQ(persistence_.committed(), Ids(1, 35));
}

}  // namespace
}  // namespace tickmesh::execution
