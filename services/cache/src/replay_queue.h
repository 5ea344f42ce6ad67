// ReplayQueue: writes that Redis has not acknowledged (made while the breaker was not closed, or
// whose direct write failed), waiting to be replayed to Redis by the recovery thread.
//
// Policy (DESIGN §8, every queue bounded):
//  - coalesced per key, newest wins: a later Set or Delete of a queued key replaces the queued
//    write in place (it does not take a new slot), so the queue holds at most one write per key;
//  - Deletes are queued as tombstones (value == nullptr) so a replay removes the key from Redis;
//  - bounded by max_keys distinct keys and max_bytes of keys + values: a write of a NEW key that
//    does not fit is refused (kOverflow) and counted — the caller must log/expose it; a write to
//    an already-queued key always keeps its slot, but if its larger value does not fit in
//    max_bytes it is queued as a tombstone instead (kOverflow, counted): the replay then deletes
//    the key from Redis rather than leave an older value there, and the value lives in L1 only;
//  - entries leave only when acknowledged: PeekBatch() copies entries out without removing them and
//    Ack() removes those whose version is unchanged, so a write that arrives during a replay is
//    never lost and an entry is never replayed over a newer value.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"

namespace tickmesh::cache {

struct PendingWrite {
  // nullptr = tombstone (the key was deleted). Shared so a replay batch does not copy values.
  std::shared_ptr<const std::string> value;
  // Absolute expiry on the cache's monotonic Clock in ms; 0 = no expiry.
  int64_t expire_at_ms = 0;
  // Assigned by Push(); increases with every push.
  uint64_t version = 0;
};

class ReplayQueue {
 public:
  enum class PushResult { kQueued, kCoalesced, kOverflow };

  struct Item {
    std::string key;
    PendingWrite write;
  };

  ReplayQueue(size_t max_keys, size_t max_bytes);

  // Queues `write` for `key` (see the policy above). Allocates a map slot and the key for a new
  // key only.
  PushResult Push(std::string_view key, PendingWrite write);

  // The queued write for `key`, if any. Lock-free `false` fast path when the queue is empty.
  std::optional<PendingWrite> Lookup(std::string_view key) const;
  bool Contains(std::string_view key) const;

  // Up to max_items entries whose values total at most max_bytes (at least one entry if any),
  // without removing them.
  std::vector<Item> PeekBatch(size_t max_items, size_t max_bytes) const;
  // Removes the entries of `batch` that were not overwritten since PeekBatch(). Returns how many.
  size_t Ack(const std::vector<Item>& batch);

  size_t depth() const { return depth_.load(std::memory_order_acquire); }
  bool empty() const { return depth() == 0; }
  uint64_t overflow_total() const { return overflow_total_.load(std::memory_order_relaxed); }
  size_t max_keys() const { return max_keys_; }
  size_t max_bytes() const { return max_bytes_; }
  // Key + value bytes held.
  size_t bytes() const;

 private:
  static size_t Charge(size_t key_size, const PendingWrite& w) {
    return key_size + (w.value ? w.value->size() : 0);
  }

  const size_t max_keys_;
  const size_t max_bytes_;
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, PendingWrite> pending_ ABSL_GUARDED_BY(mu_);
  uint64_t next_version_ ABSL_GUARDED_BY(mu_) = 1;
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<size_t> depth_{0};
  std::atomic<uint64_t> overflow_total_{0};
};

}  // namespace tickmesh::cache
