// CacheWriter: writes the latest balances and positions to the cache service (CacheService.MSet,
// TTL 0) from a background thread, never blocking the order path.
//
// Linger: after the first entry becomes pending the writer waits `flush_interval` (0 = not at
// all) collecting more updates, then sends them in one MSet (up to 1000 entries per call), so a
// burst of fills costs one RPC instead of one per fill; a key updated several times in the
// interval is written once, with its latest value. Stop() does not wait out the interval.
//
// Queue policy: conflation. Put() keeps only the latest value per key, so the pending set is
// bounded by the number of distinct keys; past max_keys distinct pending keys a Put for a new key
// is dropped and counted (dropped_total). A failed MSet puts its entries back unless a newer
// value for the key arrived meanwhile, counts cache_write_errors_total, warns once, and pauses
// with backoff before the next attempt.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"

namespace tickmesh::execution {

// The conflating buffer on its own (no gRPC), thread-safe.
class ConflatingBuffer {
 public:
  explicit ConflatingBuffer(size_t max_keys) : max_keys_(max_keys) {}

  // Sets the pending value of `key`; false (dropped) if the key is new and max_keys are pending.
  bool Put(std::string key, std::string value);
  // Takes up to `max` pending entries (oldest-pending keys are not prioritised; order is by key).
  std::vector<std::pair<std::string, std::string>> Take(size_t max);
  // Puts back entries whose write failed, unless the key has a newer pending value.
  void Restore(std::vector<std::pair<std::string, std::string>> entries);
  size_t size() const;
  // Blocks until something is pending or `timeout`; returns whether something is pending.
  bool WaitNonEmpty(absl::Duration timeout);
  void Wake();

 private:
  const size_t max_keys_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::string> pending_ ABSL_GUARDED_BY(mu_);
};

class CacheWriter {
 public:
  // Connects lazily to `cache_address` (host:port). `on_state(up)` (optional) is called when
  // writes start succeeding / failing. `flush_interval` is the linger above (negative = 0).
  // Exports tickmesh_execution_cache_writes_total, _cache_write_errors_total,
  // _cache_dropped_total.
  explicit CacheWriter(const std::string& cache_address,
                       std::function<void(bool)> on_state = nullptr, size_t max_keys = 100'000,
                       absl::Duration flush_interval = absl::ZeroDuration());
  ~CacheWriter();  // Stop()s.

  // Queues the latest value of `key` (non-blocking).
  void Put(std::string key, std::string value);

  void Start();
  // Ends any linger or retry pause at once, tries a last flush of everything pending (bounded by
  // `flush_timeout`), then joins the thread. Idempotent.
  void Stop(absl::Duration flush_timeout);

  uint64_t errors() const;
  size_t pending() const { return buffer_.size(); }

 private:
  class Impl;
  ConflatingBuffer buffer_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickmesh::execution
