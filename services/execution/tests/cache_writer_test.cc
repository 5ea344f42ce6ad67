#include "cache_writer.h"

#include "gtest/gtest.h"

namespace tickmesh::execution {
namespace {

TEST(ConflatingBuffer, KeepsLatestValuePerKey) {
  ConflatingBuffer b(10);
  EXPECT_TRUE(b.Put("balance:sim:USD", "1"));
  EXPECT_TRUE(b.Put("balance:sim:USD", "2"));
  EXPECT_TRUE(b.Put("position:sim:BTC-USD", "p"));
  EXPECT_EQ(b.size(), 2u);
  auto taken = b.Take(10);
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(taken[0].first, "balance:sim:USD");
  EXPECT_EQ(taken[0].second, "2");
  EXPECT_EQ(b.size(), 0u);
}

TEST(ConflatingBuffer, DropsNewKeysBeyondMaxButUpdatesExisting) {
  ConflatingBuffer b(1);
  EXPECT_TRUE(b.Put("a", "1"));
  EXPECT_FALSE(b.Put("b", "1"));
  EXPECT_TRUE(b.Put("a", "2"));
  EXPECT_EQ(b.size(), 1u);
}

TEST(ConflatingBuffer, RestoreNeverOverwritesNewerValue) {
  ConflatingBuffer b(10);
  b.Put("a", "old");
  auto taken = b.Take(10);
  b.Put("a", "new");
  b.Restore(taken);
  auto again = b.Take(10);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].second, "new");
  b.Restore(again);
  EXPECT_EQ(b.size(), 1u);
}

TEST(ConflatingBuffer, TakeIsBoundedByMax) {
  ConflatingBuffer b(10);
  for (int i = 0; i < 5; ++i) b.Put("k" + std::to_string(i), "v");
  EXPECT_EQ(b.Take(3).size(), 3u);
  EXPECT_EQ(b.size(), 2u);
}

}  // namespace
}  // namespace tickmesh::execution
