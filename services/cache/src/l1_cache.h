// L1Cache: the cache service's in-process first tier — an LRU-approximating cache (second-chance
// / CLOCK eviction) with per-key TTL, split into independently locked shards, bounded both by
// entry count and by bytes. It is also what serves
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
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"

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

// CLOCK_MONOTONIC_COARSE: the same time base as SteadyClock, read in a few nanoseconds instead of
// ~25, but it advances only at the kernel tick, so it is up to one tick (1-4 ms) behind. L1's
// default: an entry may outlive its TTL by up to a tick, and reported TTLs are never longer
// than what was set.
class CoarseSteadyClock final : public Clock {
 public:
  int64_t NowMs() const override;
  static const CoarseSteadyClock* Get();
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
  // Time source; nullptr = CoarseSteadyClock. Not owned; must outlive the cache.
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

// A test-and-test-and-set spinlock for the L1 shards, whose critical sections are a few dozen
// nanoseconds (a hash probe, a relink, a small copy). Spins with a CPU pause for a short while,
// then yields the CPU between attempts, so a holder that was preempted (more threads than cores)
// costs the waiter a yield per attempt, not a spinning time slice.
class ABSL_LOCKABLE SpinLock {
 public:
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    if (!locked_.exchange(true, std::memory_order_acquire)) return;
    LockSlow();
  }
  void unlock() ABSL_UNLOCK_FUNCTION() { locked_.store(false, std::memory_order_release); }

 private:
  void LockSlow();
  std::atomic<bool> locked_{false};
};

// Holds a SpinLock for its scope (annotated, unlike std::lock_guard, for -Wthread-safety).
class ABSL_SCOPED_LOCKABLE SpinLockGuard {
 public:
  explicit SpinLockGuard(SpinLock& mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_.lock(); }
  ~SpinLockGuard() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }
  SpinLockGuard(const SpinLockGuard&) = delete;
  SpinLockGuard& operator=(const SpinLockGuard&) = delete;

 private:
  SpinLock& mu_;
};

class L1Cache {
 public:
  // Bytes charged per entry on top of key and value (entry header, allocator rounding, index
  // slot, queue links). The real figure is about 70-90 B (see README); this is the accounted one.
  static constexpr size_t kEntryOverheadBytes = 96;

  explicit L1Cache(const L1Options& options);
  ~L1Cache();
  L1Cache(const L1Cache&) = delete;
  L1Cache& operator=(const L1Cache&) = delete;

  // If `key` holds a live entry: copies its value into *value (reusing its capacity), sets
  // *ttl_ms to the remaining TTL in ms (-1 = no expiry), marks it used (it will survive the next
  // eviction pass over it, see Set) and returns true. An expired entry is removed and reported as
  // a miss. Counts a hit or a miss. Allocates only if *value's capacity is too small; reads the
  // clock only for entries with a TTL; writes nothing to the entry when it is already marked.
  bool Get(std::string_view key, std::string* value, int64_t* ttl_ms);

  // Inserts or replaces `key`; ttl_ms <= 0 means no expiry. Evicts entries of the shard until
  // the bounds hold, in second-chance order: the shard's entries form a queue by insertion; the
  // oldest entry is evicted unless it was used (Get or overwrite) since it last reached the head
  // of the queue, in which case it is unmarked and requeued as the newest. So an entry used since
  // the last pass always outlives one that was not, and among unused entries the oldest goes
  // first (see README "L1 design"). Returns false (and stores nothing, removing any older value
  // of `key`) if the entry alone exceeds the shard's byte budget. Replacing an entry whose storage
  // is large enough allocates nothing; inserting into a full shard reuses the evicted entry's
  // storage when it is large enough.
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
  // One allocation per entry: this header, then the key bytes, then the value bytes.
  struct Block {
    uint64_t hash;
    int64_t expire_at_ms;  // 0 = never
    uint32_t key_len;
    uint32_t value_len;
    uint32_t capacity;  // bytes available after the header
    bool used;          // used since it was inserted or last requeued (second chance)
    char* key() { return reinterpret_cast<char*>(this + 1); }
    const char* key() const { return reinterpret_cast<const char*>(this + 1); }
    char* value() { return key() + key_len; }
    size_t charge() const { return size_t{key_len} + value_len + kEntryOverheadBytes; }
  };
  // Doubly linked eviction queue through entry indices (kNil ends it).
  struct Links {
    uint32_t prev;
    uint32_t next;
  };
  // Open-addressing (linear probing) index slot: the low 32 bits of the key's hash (whose low
  // bits are also the home slot), the entry index (kNil = empty slot) and the entry's block, so a
  // lookup touches the slot and the block only.
  struct Slot {
    uint32_t tag;
    uint32_t idx;
    Block* block;
  };
  static constexpr uint32_t kNil = 0xffffffffu;

  struct alignas(64) Shard {
    mutable SpinLock mu;
    uint32_t head ABSL_GUARDED_BY(mu) = kNil;  // newest in the eviction queue
    uint32_t tail ABSL_GUARDED_BY(mu) = kNil;  // oldest: the next eviction candidate
    uint32_t size ABSL_GUARDED_BY(mu) = 0;
    uint32_t free_head ABSL_GUARDED_BY(mu) = kNil;  // recycled entry indices, through links.next
    size_t bytes ABSL_GUARDED_BY(mu) = 0;
    uint64_t hits ABSL_GUARDED_BY(mu) = 0;
    uint64_t misses ABSL_GUARDED_BY(mu) = 0;
    uint64_t evictions ABSL_GUARDED_BY(mu) = 0;
    uint64_t expirations ABSL_GUARDED_BY(mu) = 0;
    uint64_t rejected ABSL_GUARDED_BY(mu) = 0;
    std::vector<Block*> blocks ABSL_GUARDED_BY(mu);  // by entry index; nullptr when free
    std::vector<Links> links ABSL_GUARDED_BY(mu);
    std::vector<Slot> slots ABSL_GUARDED_BY(mu);  // power-of-two size, at most 3/4 full
    uint32_t mask ABSL_GUARDED_BY(mu) = 0;
    // Copies of slots.data() and mask, readable without the lock, only ever used as a prefetch
    // hint: a get starts loading its index slot before it takes the lock (a prefetch is not
    // ordered by the lock's atomic exchange, so the two overlap). A stale value is harmless (a
    // prefetch of any address is).
    std::atomic<const Slot*> slots_hint{nullptr};
    std::atomic<uint32_t> mask_hint{0};
  };

  static uint64_t Hash(std::string_view key);
  // The hash's top byte scaled to the shard count (no division); the index uses the low bits.
  Shard& ShardFor(uint64_t hash) const { return shards_[((hash >> 56) * shard_count_) >> 8]; }
  // Starts loading the index slot of `hash` (no lock needed; see Shard::slots_hint).
  static void PrefetchSlot(const Shard& shard, uint64_t hash);
  // Slot position holding `key`, or -1. Caller holds shard.mu.
  static int64_t Find(const Shard& shard, uint64_t hash, std::string_view key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  // Unlinks and frees the entry in `slot` (its storage is freed). Caller holds shard.mu.
  static void EraseAt(Shard& shard, size_t slot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  // Takes entry `idx` out of its slot and the eviction queue without freeing its block; returns the
  // block. Caller holds shard.mu.
  static Block* Detach(Shard& shard, size_t slot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  static void Unlink(Shard& shard, uint32_t idx) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  static void PushFront(Shard& shard, uint32_t idx) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  // Marks a hit/overwrite: sets the entry's `used` bit, with no write when it is already set (a
  // hot key's hits leave its cache lines clean and the queue untouched).
  static void MarkUsed(Block* block) {
    if (!block->used) block->used = true;
  }
  // The entry to evict next: the queue's oldest entry that is expired or unused; used entries
  // passed over on the way are unmarked and requeued as newest. Shard not empty. Caller holds
  // shard.mu.
  uint32_t NextVictim(Shard& shard) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  // Inserts a new entry (index slot, queue head, unmarked). Caller holds shard.mu.
  static void Insert(Shard& shard, Block* block) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  static void GrowIfNeeded(Shard& shard) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  // Evicts (NextVictim) until the shard is within its bounds. Caller holds shard.mu.
  void EvictToFit(Shard& shard) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  // Position of the slot that indexes entry `idx`. Caller holds shard.mu.
  static size_t SlotOf(const Shard& shard, uint32_t idx) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  bool Expired(const Block& b) const {
    return b.expire_at_ms != 0 && b.expire_at_ms <= clock_->NowMs();
  }

  const Clock* clock_;
  size_t shard_max_entries_;
  size_t shard_max_bytes_;
  size_t shard_count_;
  std::unique_ptr<Shard[]> shards_;  // contiguous: a get finds its shard with no pointer chase
};

}  // namespace tickmesh::cache
