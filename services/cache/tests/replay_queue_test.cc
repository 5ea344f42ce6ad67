#include "replay_queue.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace tickmesh::cache {
namespace {

PendingWrite Value(const std::string& v, int64_t expire_at_ms = 0) {
  PendingWrite w;
  w.value = std::make_shared<const std::string>(v);
  w.expire_at_ms = expire_at_ms;
  return w;
}

TEST(ReplayQueue, CoalescesPerKeyNewestWins) {
  ReplayQueue q(10, 1 << 20);
  EXPECT_EQ(q.Push("a", Value("1")), ReplayQueue::PushResult::kQueued);
  EXPECT_EQ(q.Push("a", Value("2")), ReplayQueue::PushResult::kCoalesced);
  EXPECT_EQ(q.depth(), 1u);
  auto w = q.Lookup("a");
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(*w->value, "2");
}

TEST(ReplayQueue, DeleteIsQueuedAsTombstoneOverASet) {
  ReplayQueue q(10, 1 << 20);
  q.Push("a", Value("1"));
  q.Push("a", PendingWrite{});
  auto w = q.Lookup("a");
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->value, nullptr);
}

TEST(ReplayQueue, OverflowRefusesNewKeysButAcceptsQueuedOnes) {
  ReplayQueue q(2, 1 << 20);
  q.Push("a", Value("1"));
  q.Push("b", Value("1"));
  EXPECT_EQ(q.Push("c", Value("1")), ReplayQueue::PushResult::kOverflow);
  EXPECT_EQ(q.overflow_total(), 1u);
  EXPECT_FALSE(q.Contains("c"));
  EXPECT_EQ(q.Push("a", Value("2")), ReplayQueue::PushResult::kCoalesced);
  EXPECT_EQ(q.depth(), 2u);
}

TEST(ReplayQueue, ByteBoundRefusesNewKeysAndInvalidatesGrownOnes) {
  ReplayQueue q(100, 100);
  EXPECT_EQ(q.Push("a", Value(std::string(40, 'x'))), ReplayQueue::PushResult::kQueued);
  EXPECT_EQ(q.Push("b", Value(std::string(40, 'x'))), ReplayQueue::PushResult::kQueued);
  EXPECT_EQ(q.bytes(), 82u);
  EXPECT_EQ(q.Push("c", Value(std::string(40, 'x'))), ReplayQueue::PushResult::kOverflow);
  // "a" grows past the bound: the newest value cannot be queued, so the replay must delete the
  // key rather than write the older value.
  EXPECT_EQ(q.Push("a", Value(std::string(90, 'y'))), ReplayQueue::PushResult::kOverflow);
  auto w = q.Lookup("a");
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->value, nullptr);
  EXPECT_EQ(q.overflow_total(), 2u);
  EXPECT_EQ(q.bytes(), 1u + 41u);
  q.Ack(q.PeekBatch(10, 1 << 20));
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(ReplayQueue, AckRemovesOnlyUnchangedEntries) {
  ReplayQueue q(10, 1 << 20);
  q.Push("a", Value("1"));
  q.Push("b", Value("1"));
  auto batch = q.PeekBatch(10, 1 << 20);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(q.depth(), 2u);  // peeking removes nothing
  q.Push("a", Value("2"));   // arrives while the batch is in flight
  EXPECT_EQ(q.Ack(batch), 1u);
  EXPECT_EQ(q.depth(), 1u);
  auto w = q.Lookup("a");
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(*w->value, "2");  // the newer value is still to be replayed
  EXPECT_FALSE(q.Contains("b"));
}

TEST(ReplayQueue, PeekBatchRespectsItemAndByteLimits) {
  ReplayQueue q(100, 1 << 20);
  for (int i = 0; i < 10; ++i) q.Push("k" + std::to_string(i), Value(std::string(100, 'x')));
  EXPECT_EQ(q.PeekBatch(3, 1 << 20).size(), 3u);
  EXPECT_EQ(q.PeekBatch(100, 250).size(), 2u);
  EXPECT_EQ(q.PeekBatch(100, 10).size(), 1u);  // always makes progress
}

TEST(ReplayQueue, EmptyQueueLookupIsMiss) {
  ReplayQueue q(10, 1 << 20);
  EXPECT_FALSE(q.Lookup("a").has_value());
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace tickmesh::cache
