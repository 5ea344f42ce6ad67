#include "outbox.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace tickmesh::execution {
namespace {

namespace v1 = tickmesh::v1;

std::vector<v1::Record> Fills(int from, int n) {
  std::vector<v1::Record> out;
  for (int i = from; i < from + n; ++i) {
    out.emplace_back().mutable_fill()->set_fill_id("f-" + std::to_string(i));
  }
  return out;
}

std::vector<std::string> Ids(const v1::AppendRequest& req) {
  std::vector<std::string> ids;
  for (const auto& r : req.records()) ids.push_back(r.fill().fill_id());
  return ids;
}

v1::AppendAck Ack(uint64_t batch_id, int code = 0) {
  v1::AppendAck a;
  a.set_batch_id(batch_id);
  a.set_status_code(code);
  return a;
}

OutboxQueue::Options Opts(size_t max_records = 100, size_t max_batch = 3) {
  OutboxQueue::Options o;
  o.max_records = max_records;
  o.max_batch = max_batch;
  o.linger = absl::ZeroDuration();
  o.retry_pause = absl::ZeroDuration();
  return o;
}

TEST(OutboxQueue, BatchesUpToMaxBatchAndDropsOnlyOnAck) {
  OutboxQueue q(Opts());
  q.Append(Fills(1, 5));
  auto b1 = q.NextBatch(absl::Now() + absl::Seconds(1));
  ASSERT_TRUE(b1.has_value());
  EXPECT_EQ(Ids(*b1), (std::vector<std::string>{"f-1", "f-2", "f-3"}));
  auto b2 = q.NextBatch(absl::Now() + absl::Seconds(1));
  ASSERT_TRUE(b2.has_value());
  EXPECT_EQ(Ids(*b2), (std::vector<std::string>{"f-4", "f-5"}));
  EXPECT_NE(b1->batch_id(), b2->batch_id());
  EXPECT_EQ(q.depth(), 5u);
  EXPECT_TRUE(q.OnAck(Ack(b1->batch_id())));
  EXPECT_EQ(q.depth(), 2u);
  EXPECT_EQ(q.acked_total(), 3u);
  EXPECT_FALSE(q.OnAck(Ack(b1->batch_id())));  // already done
  EXPECT_TRUE(q.OnAck(Ack(b2->batch_id())));
  EXPECT_EQ(q.depth(), 0u);
  EXPECT_TRUE(q.WaitUntilEmpty(absl::ZeroDuration()));
}

TEST(OutboxQueue, ResendsEveryUnackedRecordInOrderAfterStreamBreak) {
  OutboxQueue q(Opts());
  q.Append(Fills(1, 7));
  auto b1 = q.NextBatch(absl::Now() + absl::Seconds(1));
  auto b2 = q.NextBatch(absl::Now() + absl::Seconds(1));
  ASSERT_TRUE(b1 && b2);
  ASSERT_TRUE(q.OnAck(Ack(b1->batch_id())));  // f-1..f-3 durable
  q.OnStreamBroken();                         // b2 (f-4..f-6) lost in flight
  EXPECT_EQ(q.resent_total(), 3u);
  EXPECT_EQ(q.depth(), 4u);
  EXPECT_EQ(q.inflight_batches(), 0u);
  // Acks from the old stream no longer match anything.
  EXPECT_FALSE(q.OnAck(Ack(b2->batch_id())));
  auto r1 = q.NextBatch(absl::Now() + absl::Seconds(1));
  auto r2 = q.NextBatch(absl::Now() + absl::Seconds(1));
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ(Ids(*r1), (std::vector<std::string>{"f-4", "f-5", "f-6"}));
  EXPECT_EQ(Ids(*r2), (std::vector<std::string>{"f-7"}));
  ASSERT_TRUE(q.OnAck(Ack(r1->batch_id())));
  ASSERT_TRUE(q.OnAck(Ack(r2->batch_id())));
  EXPECT_EQ(q.depth(), 0u);
  EXPECT_EQ(q.acked_total(), 7u);
}

TEST(OutboxQueue, FailedAckRequeuesAtFront) {
  OutboxQueue q(Opts());
  q.Append(Fills(1, 4));
  auto b1 = q.NextBatch(absl::Now() + absl::Seconds(1));
  ASSERT_TRUE(b1);
  q.Append(Fills(5, 1));
  ASSERT_TRUE(q.OnAck(Ack(b1->batch_id(), static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED))));
  EXPECT_EQ(q.failed_acks_total(), 1u);
  EXPECT_EQ(q.depth(), 5u);
  auto again = q.NextBatch(absl::Now() + absl::Seconds(1));
  ASSERT_TRUE(again);
  EXPECT_EQ(Ids(*again), (std::vector<std::string>{"f-1", "f-2", "f-3"}));
}

TEST(OutboxQueue, InvalidBatchIsDroppedNotRetriedForever) {
  OutboxQueue q(Opts());
  q.Append(Fills(1, 2));
  auto b = q.NextBatch(absl::Now() + absl::Seconds(1));
  ASSERT_TRUE(b);
  ASSERT_TRUE(q.OnAck(Ack(b->batch_id(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT))));
  EXPECT_EQ(q.depth(), 0u);
  EXPECT_EQ(q.invalid_dropped(), 2u);
}

TEST(OutboxQueue, HasNoRoomAtMaxRecordsButStillAcceptsAppends) {
  OutboxQueue q(Opts(/*max_records=*/4));
  q.Append(Fills(1, 3));
  EXPECT_TRUE(q.HasRoom());
  q.Append(Fills(4, 1));
  EXPECT_FALSE(q.HasRoom());
  q.Append(Fills(5, 2));  // records of accepted orders are never dropped
  EXPECT_EQ(q.depth(), 6u);
  auto b = q.NextBatch(absl::Now() + absl::Seconds(1));
  ASSERT_TRUE(b);
  EXPECT_FALSE(q.HasRoom());  // in flight still counts
  ASSERT_TRUE(q.OnAck(Ack(b->batch_id())));
  EXPECT_TRUE(q.HasRoom());
}

TEST(OutboxQueue, WaitsForLingerBeforeCuttingASmallBatch) {
  auto o = Opts(100, 500);
  o.linger = absl::Milliseconds(50);
  OutboxQueue q(o);
  q.Append(Fills(1, 1));
  // Not due yet: a deadline before the linger returns nothing.
  EXPECT_FALSE(q.NextBatch(absl::Now()).has_value());
  auto b = q.NextBatch(absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->records_size(), 1);
}

TEST(OutboxQueue, LimitsBatchesInFlight) {
  auto o = Opts(100, 1);
  o.max_inflight_batches = 2;
  OutboxQueue q(o);
  q.Append(Fills(1, 3));
  auto b1 = q.NextBatch(absl::Now() + absl::Seconds(1));
  auto b2 = q.NextBatch(absl::Now() + absl::Seconds(1));
  ASSERT_TRUE(b1 && b2);
  EXPECT_FALSE(q.NextBatch(absl::Now() + absl::Milliseconds(20)).has_value());
  ASSERT_TRUE(q.OnAck(Ack(b1->batch_id())));
  EXPECT_TRUE(q.NextBatch(absl::Now() + absl::Seconds(1)).has_value());
}

TEST(OutboxQueue, RecordsArrivingWithinLingerOfACutGoOutOnThatCadence) {
  // Under load batches are cut once per linger: a record appended 300 ms after a cut (linger
  // 500 ms) is due 500 ms after the cut, not 500 ms after its own arrival.
  auto o = Opts(100, 500);
  o.linger = absl::Milliseconds(500);
  OutboxQueue q(o);
  q.Append(Fills(1, 500));  // a full batch: due now
  auto b1 = q.NextBatch(absl::Now() + absl::Seconds(1));
  ASSERT_TRUE(b1);
  const absl::Time cut = absl::Now();
  absl::SleepFor(absl::Milliseconds(300));
  q.Append(Fills(501, 1));
  // Before the cadence point: not due.
  EXPECT_FALSE(q.NextBatch(cut + absl::Milliseconds(400)).has_value());
  // Due at cut + 500 ms, i.e. before its own linger (arrival + 500 ms) runs out.
  auto b2 = q.NextBatch(cut + absl::Milliseconds(700));
  ASSERT_TRUE(b2);
  EXPECT_EQ(Ids(*b2), (std::vector<std::string>{"f-501"}));
}

TEST(OutboxQueue, WakeMakesTheNextWaitReturnOnceWithoutShuttingDown) {
  OutboxQueue q(Opts());
  q.Wake();  // before anyone waits: the next call returns at once
  EXPECT_FALSE(q.NextBatch(absl::Now() + absl::Seconds(30)).has_value());
  EXPECT_FALSE(q.is_shutdown());
  q.Append(Fills(1, 1));
  auto b = q.NextBatch(absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(b);
  EXPECT_EQ(Ids(*b), (std::vector<std::string>{"f-1"}));
}

TEST(OutboxQueue, ShutdownReleasesWaiters) {
  OutboxQueue q(Opts());
  q.Shutdown();
  q.Append(Fills(1, 1));
  EXPECT_FALSE(q.NextBatch(absl::Now() + absl::Seconds(5)).has_value());
}

}  // namespace
}  // namespace tickmesh::execution
