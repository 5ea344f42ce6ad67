#include "l1_cache.h"

#include <sched.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <new>
#include <random>

#include "absl/base/attributes.h"

namespace tickmesh::cache {
namespace {

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace

int64_t SteadyClock::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

const SteadyClock* SteadyClock::Get() {
  static const SteadyClock* const kClock = new SteadyClock();
  return kClock;
}

int64_t CoarseSteadyClock::NowMs() const {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

const CoarseSteadyClock* CoarseSteadyClock::Get() {
  static const CoarseSteadyClock* const kClock = new CoarseSteadyClock();
  return kClock;
}

void SpinLock::LockSlow() {
  constexpr int kSpinsBeforeYield = 128;
  int spins = 0;
  while (true) {
    while (locked_.load(std::memory_order_relaxed)) {
      if (spins < kSpinsBeforeYield) {
        ++spins;
        CpuRelax();
      } else {
        sched_yield();
      }
    }
    if (!locked_.exchange(true, std::memory_order_acquire)) return;
  }
}

L1Cache::L1Cache(const L1Options& options)
    : clock_(options.clock != nullptr ? options.clock : CoarseSteadyClock::Get()) {
  const size_t n = static_cast<size_t>(std::clamp(options.shards, 1, 256));
  // Entry indices are 32-bit (kNil excluded).
  shard_max_entries_ = std::clamp<size_t>((options.max_entries + n - 1) / n, 1, size_t{kNil} / 4);
  shard_max_bytes_ = std::max<size_t>(1, (options.max_bytes + n - 1) / n);
  shard_count_ = n;
  shards_ = std::make_unique<Shard[]>(n);
}

L1Cache::~L1Cache() {
  for (size_t i = 0; i < shard_count_; ++i) {
    Shard& shard = shards_[i];
    SpinLockGuard lock(shard.mu);
    for (Block* b : shard.blocks) ::operator delete(b);
  }
}

namespace {

inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint64_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
// 64x64 -> 128-bit multiply, folded: the mixing step of the multiply-based hashes (wyhash family).
inline uint64_t Fold(uint64_t a, uint64_t b) {
  const __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}
// Per-process seed, so colliding keys cannot be precomputed offline against a fixed hash.
const uint64_t kHashSeed = [] {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32 | rd()) | 1;
}();

// Keys sit at the front of an entry's payload; compare short ones inline in 8-byte words instead
// of calling memcmp (keys are typically 16-40 bytes: "ticker:binance:BTC-USDT").
inline bool KeyEquals(const char* a, const char* b, size_t n) {
  if (n > 32) return std::memcmp(a, b, n) == 0;
  if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8) {
      if (Load64(a + i) != Load64(b + i)) return false;
    }
    return Load64(a + n - 8) == Load64(b + n - 8);
  }
  if (n >= 4) return Load32(a) == Load32(b) && Load32(a + n - 4) == Load32(b + n - 4);
  return n == 0 || std::memcmp(a, b, n) == 0;
}

}  // namespace

ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint64_t L1Cache::Hash(std::string_view key) {
  // Inline multiply-fold hash over 16-byte blocks (Debian's absl::Hash of a string is an
  // out-of-line call, about a fifth of a hot get). Every output bit depends on every input bit
  // after the final fold, which the shard (top byte) and slot (low bits) selection rely on.
  constexpr uint64_t kK0 = 0xa0761d6478bd642full, kK1 = 0xe7037ed1a0b428dbull,
                     kK2 = 0x8ebc6af09c88c6e3ull;
  const char* p = key.data();
  size_t n = key.size();
  uint64_t h = kHashSeed ^ Fold(n ^ kK0, kK1);
  while (n > 16) {
    h = Fold(Load64(p) ^ kK1, Load64(p + 8) ^ h);
    p += 16;
    n -= 16;
  }
  uint64_t a = 0, b = 0;
  if (n >= 8) {
    a = Load64(p);
    b = Load64(p + n - 8);
  } else if (n >= 4) {
    a = Load32(p);
    b = Load32(p + n - 4);
  } else if (n > 0) {
    a = (uint64_t{static_cast<uint8_t>(p[0])} << 16) |
        (uint64_t{static_cast<uint8_t>(p[n >> 1])} << 8) | static_cast<uint8_t>(p[n - 1]);
  }
  return Fold(Fold(a ^ kK1, b ^ h) ^ kK2, h ^ kK0 ^ key.size());
}

namespace {

// Header + `payload` bytes, rounded up to the allocator's 16-byte granularity.
template <typename Block>
Block* NewBlock(size_t payload) {
  const size_t total = (sizeof(Block) + payload + 15) & ~size_t{15};
  auto* b = static_cast<Block*>(::operator new(total));
  b->capacity = static_cast<uint32_t>(total - sizeof(Block));
  return b;
}

}  // namespace

ABSL_ATTRIBUTE_ALWAYS_INLINE inline void L1Cache::PrefetchSlot(const Shard& shard, uint64_t hash) {
  const Slot* slots = shard.slots_hint.load(std::memory_order_relaxed);
  const uint32_t mask = shard.mask_hint.load(std::memory_order_relaxed);
  if (slots != nullptr) __builtin_prefetch(slots + (static_cast<uint32_t>(hash) & mask));
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline int64_t L1Cache::Find(const Shard& shard, uint64_t hash,
                                                          std::string_view key) {
  if (shard.slots.empty()) return -1;
  const uint32_t tag = static_cast<uint32_t>(hash);
  size_t i = tag & shard.mask;
  while (true) {
    const Slot s = shard.slots[i];
    if (s.idx == kNil) return -1;
    if (s.tag == tag) {
      const Block* b = s.block;
      if (b->key_len == key.size() && KeyEquals(b->key(), key.data(), key.size())) {
        return static_cast<int64_t>(i);
      }
    }
    i = (i + 1) & shard.mask;
  }
}

size_t L1Cache::SlotOf(const Shard& shard, uint32_t idx) {
  size_t i = static_cast<uint32_t>(shard.blocks[idx]->hash) & shard.mask;
  while (shard.slots[i].idx != idx) i = (i + 1) & shard.mask;
  return i;
}

void L1Cache::Unlink(Shard& shard, uint32_t idx) {
  const Links l = shard.links[idx];
  if (l.prev != kNil) {
    shard.links[l.prev].next = l.next;
  } else {
    shard.head = l.next;
  }
  if (l.next != kNil) {
    shard.links[l.next].prev = l.prev;
  } else {
    shard.tail = l.prev;
  }
}

void L1Cache::PushFront(Shard& shard, uint32_t idx) {
  shard.links[idx] = Links{kNil, shard.head};
  if (shard.head != kNil) {
    shard.links[shard.head].prev = idx;
  } else {
    shard.tail = idx;
  }
  shard.head = idx;
}

uint32_t L1Cache::NextVictim(Shard& shard) const {
  // Each pass over a used entry unmarks it, so this ends within one lap of the queue: amortised
  // one requeue per hit since the entry was last examined.
  while (true) {
    const uint32_t idx = shard.tail;
    Block* b = shard.blocks[idx];
    if (!b->used || shard.head == idx || Expired(*b)) return idx;
    b->used = false;
    Unlink(shard, idx);
    PushFront(shard, idx);
  }
}

void L1Cache::GrowIfNeeded(Shard& shard) {
  if (!shard.slots.empty() && (size_t{shard.size} + 1) * 4 <= shard.slots.size() * 3) return;
  const size_t cap = shard.slots.empty() ? 16 : shard.slots.size() * 2;
  std::vector<Slot> old = std::move(shard.slots);
  shard.slots.assign(cap, Slot{0, kNil, nullptr});
  shard.mask = static_cast<uint32_t>(cap - 1);
  for (const Slot& s : old) {
    if (s.idx == kNil) continue;
    size_t i = s.tag & shard.mask;
    while (shard.slots[i].idx != kNil) i = (i + 1) & shard.mask;
    shard.slots[i] = s;
  }
  shard.slots_hint.store(shard.slots.data(), std::memory_order_relaxed);
  shard.mask_hint.store(shard.mask, std::memory_order_relaxed);
}

void L1Cache::Insert(Shard& shard, Block* block) {
  GrowIfNeeded(shard);
  uint32_t idx;
  if (shard.free_head != kNil) {
    idx = shard.free_head;
    shard.free_head = shard.links[idx].next;
    shard.blocks[idx] = block;
  } else {
    idx = static_cast<uint32_t>(shard.blocks.size());
    shard.blocks.push_back(block);
    shard.links.push_back(Links{kNil, kNil});
  }
  const uint32_t tag = static_cast<uint32_t>(block->hash);
  size_t i = tag & shard.mask;
  while (shard.slots[i].idx != kNil) i = (i + 1) & shard.mask;
  shard.slots[i] = Slot{tag, idx, block};
  block->used = false;
  PushFront(shard, idx);
  ++shard.size;
  shard.bytes += block->charge();
}

L1Cache::Block* L1Cache::Detach(Shard& shard, size_t slot) {
  const uint32_t idx = shard.slots[slot].idx;
  Block* b = shard.blocks[idx];
  Unlink(shard, idx);
  // Backward-shift deletion: pull later members of the probe run into the hole so lookups never
  // need tombstones.
  size_t hole = slot;
  size_t j = slot;
  while (true) {
    j = (j + 1) & shard.mask;
    if (shard.slots[j].idx == kNil) break;
    const size_t home = shard.slots[j].tag & shard.mask;
    const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (!stays) {
      shard.slots[hole] = shard.slots[j];
      hole = j;
    }
  }
  shard.slots[hole].idx = kNil;
  shard.blocks[idx] = nullptr;
  shard.links[idx].next = shard.free_head;
  shard.free_head = idx;
  --shard.size;
  shard.bytes -= b->charge();
  return b;
}

void L1Cache::EraseAt(Shard& shard, size_t slot) { ::operator delete(Detach(shard, slot)); }

void L1Cache::EvictToFit(Shard& shard) {
  while (shard.tail != kNil &&
         (shard.size > shard_max_entries_ || shard.bytes > shard_max_bytes_)) {
    const uint32_t victim = NextVictim(shard);
    if (Expired(*shard.blocks[victim])) {
      ++shard.expirations;
    } else {
      ++shard.evictions;
    }
    EraseAt(shard, SlotOf(shard, victim));
  }
}

bool L1Cache::Get(std::string_view key, std::string* value, int64_t* ttl_ms) {
  const uint64_t hash = Hash(key);
  Shard& shard = ShardFor(hash);
  PrefetchSlot(shard, hash);
  SpinLockGuard lock(shard.mu);
  const int64_t pos = Find(shard, hash, key);
  if (pos < 0) {
    ++shard.misses;
    return false;
  }
  Block* b = shard.slots[static_cast<size_t>(pos)].block;
  int64_t ttl = -1;
  if (b->expire_at_ms != 0) {
    const int64_t now = clock_->NowMs();
    if (b->expire_at_ms <= now) {
      ++shard.expirations;
      ++shard.misses;
      EraseAt(shard, static_cast<size_t>(pos));
      return false;
    }
    ttl = b->expire_at_ms - now;
  }
  // Start the loads of the entry's later cache lines (the rest of the key, the value) in
  // parallel rather than one after the other: a cold entry costs about two memory latencies, not
  // four.
  const char* const last = b->value() + b->value_len - 1;
  for (const char* p = reinterpret_cast<const char*>(b) + 64; p < last; p += 64) {
    __builtin_prefetch(p);
  }
  __builtin_prefetch(last);
  MarkUsed(b);
  value->assign(b->value(), b->value_len);
  *ttl_ms = ttl;
  ++shard.hits;
  return true;
}

bool L1Cache::Set(std::string_view key, std::string_view value, int64_t ttl_ms) {
  const uint64_t hash = Hash(key);
  Shard& shard = ShardFor(hash);
  const size_t payload = key.size() + value.size();
  const size_t charge = payload + kEntryOverheadBytes;
  int64_t expire_at = 0;
  if (ttl_ms > 0) {
    // Saturate: a TTL too long to represent is "never" in practice.
    const int64_t now = clock_->NowMs();
    expire_at = ttl_ms > std::numeric_limits<int64_t>::max() - now
                    ? std::numeric_limits<int64_t>::max()
                    : now + ttl_ms;
  }
  SpinLockGuard lock(shard.mu);
  const int64_t pos = Find(shard, hash, key);
  if (charge > shard_max_bytes_) {
    // Too big for this tier: never keep an older value that would now be stale.
    if (pos >= 0) EraseAt(shard, static_cast<size_t>(pos));
    ++shard.rejected;
    return false;
  }
  if (pos >= 0) {
    const uint32_t idx = shard.slots[static_cast<size_t>(pos)].idx;
    Block* b = shard.blocks[idx];
    shard.bytes -= b->charge();
    if (payload > b->capacity) {
      Block* nb = NewBlock<Block>(payload);
      nb->hash = hash;
      nb->key_len = b->key_len;
      std::memcpy(nb->key(), b->key(), b->key_len);
      nb->used = b->used;
      ::operator delete(b);
      shard.blocks[idx] = b = nb;
      shard.slots[static_cast<size_t>(pos)].block = nb;
    }
    if (!value.empty()) std::memcpy(b->value(), value.data(), value.size());
    b->value_len = static_cast<uint32_t>(value.size());
    b->expire_at_ms = expire_at;
    shard.bytes += b->charge();
    MarkUsed(b);
    EvictToFit(shard);
    return true;
  }
  Block* b = nullptr;
  if (shard.size >= shard_max_entries_ && shard.tail != kNil) {
    // Full: recycle the next victim's storage if it is large enough.
    const uint32_t victim = NextVictim(shard);
    if (Expired(*shard.blocks[victim])) {
      ++shard.expirations;
    } else {
      ++shard.evictions;
    }
    b = Detach(shard, SlotOf(shard, victim));
    if (b->capacity < payload) {
      ::operator delete(b);
      b = nullptr;
    }
  }
  if (b == nullptr) b = NewBlock<Block>(payload);
  b->hash = hash;
  b->expire_at_ms = expire_at;
  b->key_len = static_cast<uint32_t>(key.size());
  b->value_len = static_cast<uint32_t>(value.size());
  std::memcpy(b->key(), key.data(), key.size());
  if (!value.empty()) std::memcpy(b->value(), value.data(), value.size());
  Insert(shard, b);
  EvictToFit(shard);
  return true;
}

bool L1Cache::Delete(std::string_view key) {
  const uint64_t hash = Hash(key);
  Shard& shard = ShardFor(hash);
  SpinLockGuard lock(shard.mu);
  const int64_t pos = Find(shard, hash, key);
  if (pos < 0) return false;
  const bool live = !Expired(*shard.slots[static_cast<size_t>(pos)].block);
  if (!live) ++shard.expirations;
  EraseAt(shard, static_cast<size_t>(pos));
  return live;
}

bool L1Cache::Contains(std::string_view key) const {
  const uint64_t hash = Hash(key);
  const Shard& shard = ShardFor(hash);
  SpinLockGuard lock(shard.mu);
  const int64_t pos = Find(shard, hash, key);
  if (pos < 0) return false;
  return !Expired(*shard.slots[static_cast<size_t>(pos)].block);
}

L1Stats L1Cache::Stats() const {
  L1Stats s;
  for (size_t i = 0; i < shard_count_; ++i) {
    const Shard* shard = &shards_[i];
    SpinLockGuard lock(shard->mu);
    s.hits += shard->hits;
    s.misses += shard->misses;
    s.evictions += shard->evictions;
    s.expirations += shard->expirations;
    s.rejected += shard->rejected;
    s.entries += shard->size;
    s.bytes += shard->bytes;
  }
  return s;
}

size_t L1Cache::entries() const {
  size_t n = 0;
  for (size_t i = 0; i < shard_count_; ++i) {
    const Shard* shard = &shards_[i];
    SpinLockGuard lock(shard->mu);
    n += shard->size;
  }
  return n;
}

size_t L1Cache::bytes() const {
  size_t n = 0;
  for (size_t i = 0; i < shard_count_; ++i) {
    const Shard* shard = &shards_[i];
    SpinLockGuard lock(shard->mu);
    n += shard->bytes;
  }
  return n;
}

}  // namespace tickmesh::cache
