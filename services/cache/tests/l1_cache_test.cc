#include "l1_cache.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace tickmesh::cache {
namespace {

L1Options OneShard(size_t max_entries, size_t max_bytes, const Clock* clock = nullptr) {
  L1Options o;
  o.max_entries = max_entries;
  o.max_bytes = max_bytes;
  o.shards = 1;
  o.clock = clock;
  return o;
}

std::string GetOr(L1Cache& c, std::string_view key, std::string fallback = "<miss>") {
  std::string v;
  int64_t ttl;
  return c.Get(key, &v, &ttl) ? v : fallback;
}

TEST(L1Cache, ReturnsWhatWasSet) {
  L1Cache c(OneShard(10, 1 << 20));
  EXPECT_TRUE(c.Set("a", "1", 0));
  std::string v;
  int64_t ttl = 0;
  ASSERT_TRUE(c.Get("a", &v, &ttl));
  EXPECT_EQ(v, "1");
  EXPECT_EQ(ttl, -1);
  EXPECT_FALSE(c.Get("b", &v, &ttl));
}

// Keys of every length through the hash's and the key compare's size classes (0-3, 4-7, 8-16,
// 17-32, > 32 bytes), including keys that differ only in their first, middle or last byte, stay
// distinct.
TEST(L1Cache, KeysOfEveryLengthThatDifferInOneByteStayDistinct) {
  L1Cache l1(OneShard(10'000, size_t{64} << 20));
  std::vector<std::string> keys;
  for (size_t len = 0; len <= 70; ++len) {
    const std::string base(len, 'k');
    keys.push_back(base);
    for (size_t pos : {size_t{0}, len / 2, len == 0 ? 0 : len - 1}) {
      if (len == 0) break;
      std::string k = base;
      k[pos] = 'x';
      keys.push_back(k);
    }
  }
  for (size_t i = 0; i < keys.size(); ++i) ASSERT_TRUE(l1.Set(keys[i], std::to_string(i), 0));
  std::string v;
  int64_t ttl;
  for (size_t i = 0; i < keys.size(); ++i) {
    // Duplicates (a middle or last byte that is also the first) map to the newest index.
    size_t want = i;
    for (size_t j = keys.size(); j-- > 0;) {
      if (keys[j] == keys[i]) {
        want = j;
        break;
      }
    }
    ASSERT_TRUE(l1.Get(keys[i], &v, &ttl)) << "len " << keys[i].size();
    EXPECT_EQ(v, std::to_string(want)) << "key '" << keys[i] << "'";
  }
  EXPECT_FALSE(l1.Get(std::string(71, 'k'), &v, &ttl));
  EXPECT_FALSE(l1.Get(std::string(33, 'x'), &v, &ttl));
}

TEST(L1Cache, OverwriteReplacesValueWithoutGrowing) {
  L1Cache c(OneShard(10, 1 << 20));
  c.Set("a", "1", 0);
  c.Set("a", "22", 0);
  EXPECT_EQ(GetOr(c, "a"), "22");
  EXPECT_EQ(c.entries(), 1u);
  EXPECT_EQ(c.bytes(), 1 + 2 + L1Cache::kEntryOverheadBytes);
}

TEST(L1Cache, EvictsLeastRecentlyUsedWhenEntryBoundReached) {
  L1Cache c(OneShard(3, 1 << 20));
  c.Set("a", "1", 0);
  c.Set("b", "2", 0);
  c.Set("c", "3", 0);
  EXPECT_EQ(GetOr(c, "a"), "1");  // a becomes most recent; b is now the LRU
  c.Set("d", "4", 0);
  EXPECT_EQ(GetOr(c, "b"), "<miss>");
  EXPECT_EQ(GetOr(c, "a"), "1");
  EXPECT_EQ(GetOr(c, "c"), "3");
  EXPECT_EQ(GetOr(c, "d"), "4");
  EXPECT_EQ(c.entries(), 3u);
  EXPECT_EQ(c.Stats().evictions, 1u);
}

TEST(L1Cache, EntriesUsedSinceTheLastPassOutliveEveryUnusedEntry) {
  constexpr int kCap = 100;
  L1Cache c(OneShard(kCap, 1 << 20));
  for (int i = 0; i < kCap; ++i) c.Set("k" + std::to_string(i), "v", 0);
  // Use every third key, scattered over the whole queue (oldest included).
  for (int i = 0; i < kCap; i += 3) ASSERT_EQ(GetOr(c, "k" + std::to_string(i)), "v");
  // Insert as many new keys as there are unused old ones: exactly the unused ones must go.
  const int unused = kCap - (kCap + 2) / 3;
  for (int i = 0; i < unused; ++i) c.Set("n" + std::to_string(i), "v", 0);
  EXPECT_EQ(c.Stats().evictions, static_cast<uint64_t>(unused));
  for (int i = 0; i < kCap; ++i) {
    const bool used = i % 3 == 0;
    EXPECT_EQ(c.Contains("k" + std::to_string(i)), used) << "k" << i;
  }
  for (int i = 0; i < unused; ++i) EXPECT_TRUE(c.Contains("n" + std::to_string(i))) << "n" << i;
}

TEST(L1Cache, UnusedEntriesAreEvictedOldestFirst) {
  L1Cache c(OneShard(4, 1 << 20));
  for (const char* k : {"a", "b", "c", "d"}) c.Set(k, "v", 0);
  c.Set("e", "v", 0);
  EXPECT_FALSE(c.Contains("a"));
  c.Set("f", "v", 0);
  EXPECT_FALSE(c.Contains("b"));
  for (const char* k : {"c", "d", "e", "f"}) EXPECT_TRUE(c.Contains(k)) << k;
}

TEST(L1Cache, SecondChanceIsSpentByOnePassUnlessUsedAgain) {
  L1Cache c(OneShard(3, 1 << 20));
  for (const char* k : {"a", "b", "c"}) c.Set(k, "v", 0);
  ASSERT_EQ(GetOr(c, "a"), "v");
  c.Set("d", "v", 0);  // a is passed over (requeued, unmarked); b goes
  EXPECT_FALSE(c.Contains("b"));
  c.Set("e", "v", 0);  // c goes
  EXPECT_FALSE(c.Contains("c"));
  ASSERT_EQ(GetOr(c, "d"), "v");
  c.Set("f", "v", 0);  // a was not used again since its pass: it goes, before d
  EXPECT_FALSE(c.Contains("a"));
  for (const char* k : {"d", "e", "f"}) EXPECT_TRUE(c.Contains(k)) << k;
}

TEST(L1Cache, HitsOnAHotSetKeepItWhileColdKeysChurn) {
  // The service's pattern: a small hot set read constantly while a stream of one-off keys is
  // written. Each cold insert evicts a cold key, never a hot one.
  L1Cache c(OneShard(64, 1 << 20));
  for (int i = 0; i < 16; ++i) c.Set("hot" + std::to_string(i), "v", 0);
  for (int i = 0; i < 5000; ++i) {
    c.Set("cold" + std::to_string(i), "v", 0);
    ASSERT_EQ(GetOr(c, "hot" + std::to_string(i % 16)), "v") << "round " << i;
  }
  for (int i = 0; i < 16; ++i) EXPECT_TRUE(c.Contains("hot" + std::to_string(i)));
  EXPECT_EQ(c.entries(), 64u);
}

TEST(L1Cache, SetRefreshesRecency) {
  L1Cache c(OneShard(2, 1 << 20));
  c.Set("a", "1", 0);
  c.Set("b", "2", 0);
  c.Set("a", "1b", 0);  // a most recent
  c.Set("c", "3", 0);   // evicts b
  EXPECT_EQ(GetOr(c, "a"), "1b");
  EXPECT_EQ(GetOr(c, "b"), "<miss>");
}

TEST(L1Cache, EvictsToRespectByteBound) {
  const size_t per = 10 + L1Cache::kEntryOverheadBytes + 1;  // 1-byte key, 10-byte value
  L1Cache c(OneShard(1000, 3 * per));
  const std::string ten(10, 'x');
  c.Set("a", ten, 0);
  c.Set("b", ten, 0);
  c.Set("c", ten, 0);
  EXPECT_EQ(c.entries(), 3u);
  c.Set("d", ten, 0);
  EXPECT_EQ(c.entries(), 3u);
  EXPECT_LE(c.bytes(), 3 * per);
  EXPECT_EQ(GetOr(c, "a"), "<miss>");
  // A bigger value pushes out as many old entries as needed.
  c.Set("e", std::string(10 + per, 'y'), 0);
  EXPECT_LE(c.bytes(), 3 * per);
  EXPECT_EQ(GetOr(c, "e"), std::string(10 + per, 'y'));
  EXPECT_EQ(c.Stats().evictions, 3u);
}

TEST(L1Cache, RejectsEntryLargerThanShardBudgetAndDropsOlderValue) {
  L1Cache c(OneShard(10, 200));
  c.Set("a", "small", 0);
  EXPECT_FALSE(c.Set("a", std::string(500, 'x'), 0));
  EXPECT_EQ(GetOr(c, "a"), "<miss>");  // never serve the stale "small"
  EXPECT_EQ(c.Stats().rejected, 1u);
  EXPECT_EQ(c.bytes(), 0u);
}

TEST(L1Cache, ExpiresEntriesAfterTtl) {
  FakeClock clock;
  L1Cache c(OneShard(10, 1 << 20, &clock));
  c.Set("a", "1", 100);
  std::string v;
  int64_t ttl = 0;
  ASSERT_TRUE(c.Get("a", &v, &ttl));
  EXPECT_EQ(ttl, 100);
  clock.AdvanceMs(60);
  ASSERT_TRUE(c.Get("a", &v, &ttl));
  EXPECT_EQ(ttl, 40);
  clock.AdvanceMs(40);
  EXPECT_FALSE(c.Get("a", &v, &ttl));
  EXPECT_EQ(c.entries(), 0u);
  EXPECT_EQ(c.Stats().expirations, 1u);
}

TEST(L1Cache, ZeroTtlNeverExpires) {
  FakeClock clock;
  L1Cache c(OneShard(10, 1 << 20, &clock));
  c.Set("a", "1", 0);
  clock.AdvanceMs(int64_t{365} * 24 * 3600 * 1000);
  EXPECT_EQ(GetOr(c, "a"), "1");
}

TEST(L1Cache, HugeTtlSaturatesInsteadOfOverflowing) {
  FakeClock clock;
  L1Cache c(OneShard(10, 1 << 20, &clock));
  c.Set("a", "1", std::numeric_limits<int64_t>::max());
  clock.AdvanceMs(1000);
  EXPECT_EQ(GetOr(c, "a"), "1");
}

TEST(L1Cache, OverwriteResetsTtl) {
  FakeClock clock;
  L1Cache c(OneShard(10, 1 << 20, &clock));
  c.Set("a", "1", 100);
  clock.AdvanceMs(90);
  c.Set("a", "2", 0);
  clock.AdvanceMs(1000);
  EXPECT_EQ(GetOr(c, "a"), "2");
}

TEST(L1Cache, ExpiredTailIsCountedAsExpirationNotEviction) {
  FakeClock clock;
  L1Cache c(OneShard(2, 1 << 20, &clock));
  c.Set("a", "1", 10);
  c.Set("b", "2", 0);
  clock.AdvanceMs(20);
  c.Set("c", "3", 0);  // recycles expired "a"
  const L1Stats s = c.Stats();
  EXPECT_EQ(s.evictions, 0u);
  EXPECT_EQ(s.expirations, 1u);
  EXPECT_EQ(GetOr(c, "b"), "2");
  EXPECT_EQ(GetOr(c, "c"), "3");
}

TEST(L1Cache, DeleteRemovesAndReportsLiveness) {
  FakeClock clock;
  L1Cache c(OneShard(10, 1 << 20, &clock));
  c.Set("a", "1", 0);
  c.Set("b", "2", 10);
  EXPECT_TRUE(c.Delete("a"));
  EXPECT_FALSE(c.Delete("a"));
  clock.AdvanceMs(10);
  EXPECT_FALSE(c.Delete("b"));  // expired: not a live entry
  EXPECT_EQ(c.entries(), 0u);
  EXPECT_EQ(c.bytes(), 0u);
}

TEST(L1Cache, ContainsDoesNotCountOrTouchRecency) {
  L1Cache c(OneShard(2, 1 << 20));
  c.Set("a", "1", 0);
  c.Set("b", "2", 0);
  EXPECT_TRUE(c.Contains("a"));  // must not make "a" most recent
  c.Set("c", "3", 0);
  EXPECT_FALSE(c.Contains("a"));
  const L1Stats s = c.Stats();
  EXPECT_EQ(s.hits + s.misses, 0u);
}

TEST(L1Cache, CountsHitsAndMisses) {
  L1Cache c(OneShard(10, 1 << 20));
  c.Set("a", "1", 0);
  GetOr(c, "a");
  GetOr(c, "a");
  GetOr(c, "zz");
  const L1Stats s = c.Stats();
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 1u);
}

TEST(L1Cache, ShardedBoundsHoldOverall) {
  L1Options o;
  o.max_entries = 64;
  o.max_bytes = 1 << 20;
  o.shards = 8;
  L1Cache c(o);
  for (int i = 0; i < 10000; ++i) c.Set("k" + std::to_string(i), "v", 0);
  EXPECT_LE(c.entries(), 64u);
  EXPECT_GT(c.entries(), 0u);
  EXPECT_EQ(c.Stats().evictions, 10000u - c.entries());
}

TEST(L1Cache, ConcurrentUseKeepsBoundsAndAccounting) {
  L1Options o;
  o.max_entries = 500;
  o.max_bytes = 64 * 1024;
  o.shards = 4;
  L1Cache c(o);
  constexpr int kThreads = 4;
  constexpr int kOps = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&c, t] {
      std::string v;
      int64_t ttl;
      for (int i = 0; i < kOps; ++i) {
        const std::string key = "k" + std::to_string((i * 7 + t) % 2000);
        switch (i % 4) {
          case 0:
          case 1:
            c.Set(key, std::string(static_cast<size_t>(i % 200), 'a' + t), i % 3 == 0 ? 50 : 0);
            break;
          case 2:
            if (c.Get(key, &v, &ttl)) {
              // A value is always one writer's complete value.
              ASSERT_TRUE(v.empty() || v == std::string(v.size(), v[0]));
            }
            break;
          case 3:
            c.Delete(key);
            break;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(c.entries(), 500u);
  EXPECT_LE(c.bytes(), 64u * 1024u);
  // Byte accounting is exact: deleting everything brings it back to zero.
  for (int i = 0; i < 2000; ++i) c.Delete("k" + std::to_string(i));
  EXPECT_EQ(c.entries(), 0u);
  EXPECT_EQ(c.bytes(), 0u);
}

}  // namespace
}  // namespace tickmesh::cache
