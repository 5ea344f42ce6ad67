#include "l1_cache.h"

#include <algorithm>
#include <chrono>

#include "absl/hash/hash.h"

namespace tickmesh::cache {

int64_t SteadyClock::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

const SteadyClock* SteadyClock::Get() {
  static const SteadyClock* const kClock = new SteadyClock();
  return kClock;
}

L1Cache::L1Cache(const L1Options& options)
    : clock_(options.clock != nullptr ? options.clock : SteadyClock::Get()) {
  const size_t n = static_cast<size_t>(std::max(1, options.shards));
  shard_max_entries_ = std::max<size_t>(1, (options.max_entries + n - 1) / n);
  shard_max_bytes_ = std::max<size_t>(1, (options.max_bytes + n - 1) / n);
  shards_.reserve(n);
  for (size_t i = 0; i < n; ++i) shards_.push_back(std::make_unique<Shard>());
}

L1Cache::Shard& L1Cache::ShardFor(std::string_view key) {
  return *shards_[absl::HashOf(key) % shards_.size()];
}

const L1Cache::Shard& L1Cache::ShardFor(std::string_view key) const {
  return *shards_[absl::HashOf(key) % shards_.size()];
}

void L1Cache::Erase(Shard& shard, List::iterator it) {
  shard.bytes -= it->charge();
  shard.index.erase(std::string_view(it->key));
  shard.lru.erase(it);
}

void L1Cache::EvictToFit(Shard& shard) {
  const int64_t now = clock_->NowMs();
  while (!shard.lru.empty() &&
         (shard.lru.size() > shard_max_entries_ || shard.bytes > shard_max_bytes_)) {
    auto victim = std::prev(shard.lru.end());
    if (victim->expire_at_ms != 0 && victim->expire_at_ms <= now) {
      ++shard.expirations;
    } else {
      ++shard.evictions;
    }
    Erase(shard, victim);
  }
}

bool L1Cache::Get(std::string_view key, std::string* value, int64_t* ttl_ms) {
  Shard& shard = ShardFor(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto found = shard.index.find(key);
  if (found == shard.index.end()) {
    ++shard.misses;
    return false;
  }
  auto it = found->second;
  const int64_t now = clock_->NowMs();
  if (it->expire_at_ms != 0 && it->expire_at_ms <= now) {
    ++shard.expirations;
    ++shard.misses;
    Erase(shard, it);
    return false;
  }
  if (it != shard.lru.begin()) shard.lru.splice(shard.lru.begin(), shard.lru, it);
  value->assign(it->value);
  *ttl_ms = it->expire_at_ms == 0 ? -1 : it->expire_at_ms - now;
  ++shard.hits;
  return true;
}

bool L1Cache::Set(std::string_view key, std::string_view value, int64_t ttl_ms) {
  Shard& shard = ShardFor(key);
  const size_t charge = key.size() + value.size() + kEntryOverheadBytes;
  const int64_t expire_at = ttl_ms > 0 ? clock_->NowMs() + ttl_ms : 0;
  std::lock_guard<std::mutex> lock(shard.mu);
  auto found = shard.index.find(key);
  if (charge > shard_max_bytes_) {
    // Too big for this tier: never keep an older value that would now be stale.
    if (found != shard.index.end()) Erase(shard, found->second);
    ++shard.rejected;
    return false;
  }
  if (found != shard.index.end()) {
    auto it = found->second;
    shard.bytes -= it->charge();
    it->value.assign(value.data(), value.size());
    it->expire_at_ms = expire_at;
    shard.bytes += it->charge();
    if (it != shard.lru.begin()) shard.lru.splice(shard.lru.begin(), shard.lru, it);
    EvictToFit(shard);
    return true;
  }
  if (shard.lru.size() >= shard_max_entries_ && !shard.lru.empty()) {
    // Full: recycle the least recently used node (no list-node allocation; the strings keep
    // their capacity).
    auto victim = std::prev(shard.lru.end());
    if (victim->expire_at_ms != 0 && victim->expire_at_ms <= clock_->NowMs()) {
      ++shard.expirations;
    } else {
      ++shard.evictions;
    }
    shard.bytes -= victim->charge();
    shard.index.erase(std::string_view(victim->key));
    victim->key.assign(key.data(), key.size());
    victim->value.assign(value.data(), value.size());
    victim->expire_at_ms = expire_at;
    shard.lru.splice(shard.lru.begin(), shard.lru, victim);
  } else {
    shard.lru.push_front(Entry{std::string(key), std::string(value), expire_at});
  }
  auto it = shard.lru.begin();
  shard.index.emplace(std::string_view(it->key), it);
  shard.bytes += it->charge();
  EvictToFit(shard);
  return true;
}

bool L1Cache::Delete(std::string_view key) {
  Shard& shard = ShardFor(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto found = shard.index.find(key);
  if (found == shard.index.end()) return false;
  auto it = found->second;
  const bool live = it->expire_at_ms == 0 || it->expire_at_ms > clock_->NowMs();
  if (!live) ++shard.expirations;
  Erase(shard, it);
  return live;
}

bool L1Cache::Contains(std::string_view key) const {
  const Shard& shard = ShardFor(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto found = shard.index.find(key);
  if (found == shard.index.end()) return false;
  const int64_t expire_at = found->second->expire_at_ms;
  return expire_at == 0 || expire_at > clock_->NowMs();
}

L1Stats L1Cache::Stats() const {
  L1Stats s;
  for (const auto& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard->mu);
    s.hits += shard->hits;
    s.misses += shard->misses;
    s.evictions += shard->evictions;
    s.expirations += shard->expirations;
    s.rejected += shard->rejected;
    s.entries += shard->lru.size();
    s.bytes += shard->bytes;
  }
  return s;
}

size_t L1Cache::entries() const {
  size_t n = 0;
  for (const auto& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard->mu);
    n += shard->lru.size();
  }
  return n;
}

size_t L1Cache::bytes() const {
  size_t n = 0;
  for (const auto& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard->mu);
    n += shard->bytes;
  }
  return n;
}

}  // namespace tickmesh::cache
