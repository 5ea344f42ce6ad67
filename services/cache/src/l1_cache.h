// L1Cache: the cache service's in-process first tier — an LRU with per-key TTL, split into
// independently locked shards, bounded both by entry count and by bytes. It is also what serves
// reads and takes writes while Redis is unreachable.
//
// Example:
//   L1Cache l1({.max_entries = 1000, .max_bytes = 1 << 20});
//   l1.Set("k", "v", /*ttl_ms=*/5000);
//   std::string v;
//   int64_t ttl;
//   if (l1.Get("k", &v, &ttl)) { ... }
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"

namespace tickmesh::cache {

// Monotonic milliseconds. Injectable so TTL behaviour is tested without sleeping.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMs() const = 0;
};

// steady_clock; the default.
class SteadyClock final : public Clock {
 public:
  int64_t NowMs() const override;
  // A process-wide instance.
  static const SteadyClock* Get();
};

// A clock that moves only when told to (tests). Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_ms = 1'000'000) : now_ms_(start_ms) {}
  int64_t NowMs() const override { return now_ms_.load(std::memory_order_relaxed); }
  void AdvanceMs(int64_t ms) { now_ms_.fetch_add(ms, std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> now_ms_;
};

struct L1Options {
  // Upper bound on live entries, over all shards (each shard gets an equal share, rounded up).
  size_t max_entries = 1'000'000;
  // Upper bound on accounted bytes (key + value + kEntryOverheadBytes per entry), over all shards.
  size_t max_bytes = size_t{512} << 20;
  // Number of independently locked shards (>= 1). More shards = less contention, but each
  // shard's share of the bounds is smaller (a value larger than a shard's byte share is not
  // cached).
  int shards = 16;
  // Time source; nullptr = SteadyClock. Not owned; must outlive the cache.
  const Clock* clock = nullptr;
};

struct L1Stats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;    // removed to respect max_entries / max_bytes
  uint64_t expirations = 0;  // removed because their TTL passed
  uint64_t rejected = 0;     // Set of an entry larger than a shard's byte budget (not stored)
  uint64_t entries = 0;
  uint64_t bytes = 0;
};

class L1Cache {
 public:
  // Bytes charged per entry on top of key and value (list node, map slot, bookkeeping).
  static constexpr size_t kEntryOverheadBytes = 96;

  explicit L1Cache(const L1Options& options);
  L1Cache(const L1Cache&) = delete;
  L1Cache& operator=(const L1Cache&) = delete;

  // If `key` holds a live entry: copies its value into *value (reusing its capacity), sets
  // *ttl_ms to the remaining TTL in ms (-1 = no expiry), marks it most recently used and returns
  // true. An expired entry is removed and reported as a miss. Counts a hit or a miss.
  // Allocates only if *value's capacity is too small.
  bool Get(std::string_view key, std::string* value, int64_t* ttl_ms);

  // Inserts or replaces `key`; ttl_ms <= 0 means no expiry. Evicts least recently used entries
  // of the shard until the bounds hold. Returns false (and stores nothing, removing any older
  // value of `key`) if the entry alone exceeds the shard's byte budget. Replacing reuses the
  // existing node and the value's capacity.
  bool Set(std::string_view key, std::string_view value, int64_t ttl_ms);

  // Removes `key`; returns true if a live entry was removed.
  bool Delete(std::string_view key);

  // Whether `key` holds a live entry; does not count as a hit or change recency.
  bool Contains(std::string_view key) const;

  // Summed over shards (takes each shard's lock in turn, so a snapshot per shard).
  L1Stats Stats() const;
  size_t entries() const;
  size_t bytes() const;

  const Clock& clock() const { return *clock_; }

 private:
  struct Entry {
    std::string key;
    std::string value;
    int64_t expire_at_ms = 0;  // 0 = never
    size_t charge() const { return key.size() + value.size() + kEntryOverheadBytes; }
  };
  // Most recently used at the front. Map keys view into the list nodes' keys (stable).
  using List = std::list<Entry>;

  struct alignas(64) Shard {
    mutable std::mutex mu;
    List lru ABSL_GUARDED_BY(mu);
    absl::flat_hash_map<std::string_view, List::iterator> index ABSL_GUARDED_BY(mu);
    size_t bytes ABSL_GUARDED_BY(mu) = 0;
    uint64_t hits ABSL_GUARDED_BY(mu) = 0;
    uint64_t misses ABSL_GUARDED_BY(mu) = 0;
    uint64_t evictions ABSL_GUARDED_BY(mu) = 0;
    uint64_t expirations ABSL_GUARDED_BY(mu) = 0;
    uint64_t rejected ABSL_GUARDED_BY(mu) = 0;
  };

  Shard& ShardFor(std::string_view key);
  const Shard& ShardFor(std::string_view key) const;
  // Unlinks `it` from the shard. Caller holds shard.mu.
  static void Erase(Shard& shard, List::iterator it);
  // Evicts from the LRU tail until the shard is within its bounds. Caller holds shard.mu.
  void EvictToFit(Shard& shard);

  const Clock* clock_;
  size_t shard_max_entries_;
  size_t shard_max_bytes_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace tickmesh::cache
