#include "l2_book.h"

#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "test_util.h"

namespace tickmesh::execution {
namespace {

using testing::E8;

TEST(L2Book, SnapshotThenDeltaUpdatesAndRemovesLevels) {
  L2Book book;
  auto snap = testing::Snapshot("sim", "BTC-USD", 10, {{100 * E8, E8}, {99 * E8, 2 * E8}},
                                {{101 * E8, E8}, {102 * E8, 3 * E8}});
  ASSERT_TRUE(book.ApplySnapshot(snap.snapshot(), 10).ok());
  EXPECT_EQ(book.BestBid()->first, 100 * E8);
  EXPECT_EQ(book.BestAsk()->first, 101 * E8);
  EXPECT_EQ(*book.Mid(), 100 * E8 + E8 / 2);

  auto d = testing::Delta("sim", "BTC-USD", 11, {{100 * E8, 0}}, {{101 * E8, 5 * E8}});
  ASSERT_TRUE(book.ApplyDelta(d.delta(), 11).ok());
  EXPECT_EQ(book.BestBid()->first, 99 * E8);
  EXPECT_EQ(book.BestAsk()->second, 5 * E8);
  EXPECT_EQ(book.last_seq(), 11u);
}

TEST(L2Book, GapMakesBookStaleUntilSnapshot) {
  L2Book book;
  auto snap = testing::Snapshot("sim", "BTC-USD", 1, {{100 * E8, E8}}, {{101 * E8, E8}});
  ASSERT_TRUE(book.ApplySnapshot(snap.snapshot(), 1).ok());
  auto d = testing::Delta("sim", "BTC-USD", 3, {{100 * E8, 2 * E8}}, {});
  EXPECT_EQ(book.ApplyDelta(d.delta(), 3).code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(book.usable());
  EXPECT_FALSE(book.Mid().has_value());
  auto d4 = testing::Delta("sim", "BTC-USD", 4, {{100 * E8, 2 * E8}}, {});
  EXPECT_EQ(book.ApplyDelta(d4.delta(), 4).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(book.ApplySnapshot(snap.snapshot(), 5).ok());
  EXPECT_TRUE(book.usable());
}

TEST(L2Book, IgnoresOldSequenceNumbers) {
  L2Book book;
  auto snap = testing::Snapshot("sim", "BTC-USD", 5, {{100 * E8, E8}}, {{101 * E8, E8}});
  ASSERT_TRUE(book.ApplySnapshot(snap.snapshot(), 5).ok());
  auto old = testing::Delta("sim", "BTC-USD", 5, {{100 * E8, 0}}, {});
  EXPECT_TRUE(book.ApplyDelta(old.delta(), 5).ok());
  EXPECT_EQ(book.BestBid()->first, 100 * E8);
}

TEST(L2Book, RejectsMalformedLevelsWithoutChange) {
  L2Book book;
  auto snap = testing::Snapshot("sim", "BTC-USD", 1, {{100 * E8, E8}}, {{101 * E8, E8}});
  ASSERT_TRUE(book.ApplySnapshot(snap.snapshot(), 1).ok());
  auto bad = testing::Snapshot("sim", "BTC-USD", 2, {{-5, E8}}, {});
  EXPECT_EQ(book.ApplySnapshot(bad.snapshot(), 2).code(), absl::StatusCode::kInvalidArgument);
  auto bad_delta = testing::Delta("sim", "BTC-USD", 2, {}, {{101 * E8, -1}});
  EXPECT_EQ(book.ApplyDelta(bad_delta.delta(), 2).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(book.BestBid()->first, 100 * E8);
  EXPECT_EQ(book.BestAsk()->second, E8);
}

TEST(L2Book, BoundsLevelsPerSide) {
  L2Book book;
  testing::Levels bids;
  for (int64_t i = 1; i <= static_cast<int64_t>(kMaxLevelsPerSide) + 10; ++i)
    bids.push_back({i, 1});
  auto snap = testing::Snapshot("sim", "X-Y", 1, bids, {});
  ASSERT_TRUE(book.ApplySnapshot(snap.snapshot(), 1).ok());
  EXPECT_EQ(book.bids().size(), kMaxLevelsPerSide);
  EXPECT_EQ(book.BestBid()->first, static_cast<int64_t>(kMaxLevelsPerSide) + 10);
}

TEST(L2Book, AcceptsUnsortedSnapshotsSkippingEmptyLevelsLastRepeatWins) {
  L2Book book;
  auto snap = testing::Snapshot(
      "sim", "BTC-USD", 1, {{98 * E8, E8}, {100 * E8, 0}, {99 * E8, 2 * E8}, {98 * E8, 3 * E8}},
      {{103 * E8, E8}, {101 * E8, 4 * E8}});
  ASSERT_TRUE(book.ApplySnapshot(snap.snapshot(), 1).ok());
  std::vector<std::pair<int64_t, int64_t>> bids, asks;
  for (const auto& [p, q] : book.bids()) bids.emplace_back(p, q);
  for (const auto& [p, q] : book.asks()) asks.emplace_back(p, q);
  EXPECT_EQ(bids, (testing::Levels{{99 * E8, 2 * E8}, {98 * E8, 3 * E8}}));
  EXPECT_EQ(asks, (testing::Levels{{101 * E8, 4 * E8}, {103 * E8, E8}}));
  EXPECT_EQ(book.BidQtyAt(98 * E8), 3 * E8);
  EXPECT_EQ(book.BidQtyAt(100 * E8), 0);
  EXPECT_EQ(book.AskQtyAt(103 * E8), E8);
  EXPECT_EQ(book.AskQtyAt(99 * E8), 0);
}

TEST(L2Book, SortedSnapshotReplacesTheBookAndStaleBookShowsNoLevels) {
  L2Book book;
  auto first = testing::Snapshot("sim", "BTC-USD", 1, {{100 * E8, E8}}, {{105 * E8, E8}});
  ASSERT_TRUE(book.ApplySnapshot(first.snapshot(), 1).ok());
  auto second =
      testing::Snapshot("sim", "BTC-USD", 2, {{99 * E8, E8}, {98 * E8, E8}}, {{101 * E8, 2 * E8}});
  ASSERT_TRUE(book.ApplySnapshot(second.snapshot(), 2).ok());
  EXPECT_EQ(book.bids().size(), 2u);
  EXPECT_EQ(book.bids()[0].price_e8, 99 * E8);
  EXPECT_EQ(book.AskQtyAt(105 * E8), 0);  // gone with the old snapshot
  EXPECT_EQ(book.BestAsk()->second, 2 * E8);
  book.MarkStale();
  EXPECT_TRUE(book.bids().empty());
  EXPECT_TRUE(book.asks().empty());
  EXPECT_FALSE(book.BestBid().has_value());
}

}  // namespace
}  // namespace tickmesh::execution
