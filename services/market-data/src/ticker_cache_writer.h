// TickerCacheWriter: keeps the latest ticker of every (venue, symbol) in the cache service, as
// key `ticker:<venue>:<symbol>` = serialized tickmesh.v1.Ticker with a short TTL (100 ms by
// default), so readers see a fresh ticker or none at all.
//
// Off the ingest path: OnTicker (an IngestObserver, called under the ingest lock) only overwrites
// the instrument's slot and marks it dirty — conflation: whatever changed since the last write is
// written once, with its latest value. A background thread writes the dirty slots with
// CacheService.MSet (at most 1 000 entries per request, at most one request per
// `min_interval`, deadline `rpc_timeout`; after a failure, exponential backoff 100 ms .. 2 s).
// Memory is bounded by the number of books.
//
// Failure tolerant: a failed MSet is logged once (until the peer recovers), counted in
// tickmesh_market_data_cache_write_errors_total, reported by up() for /status, and its entries
// are dropped (a 100 ms-TTL value is worth nothing by the next retry; the next change is
// written). The writer never blocks Ingest.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "market_data.h"
#include "prometheus/counter.h"
#include "tickmesh/v1/cache.grpc.pb.h"

namespace tickmesh::market_data {

struct TickerCacheOptions {
  std::string address;  // CacheService host:port
  absl::Duration ttl = absl::Milliseconds(100);
  absl::Duration min_interval = absl::Milliseconds(20);
  absl::Duration rpc_timeout = absl::Milliseconds(500);
};

class TickerCacheWriter final : public IngestObserver {
 public:
  explicit TickerCacheWriter(TickerCacheOptions options);
  ~TickerCacheWriter() override;  // Stop()s.

  void Start();
  // Stops and joins the writer thread (pending tickers are not written). Idempotent.
  void Stop();

  void OnTicker(uint32_t book_id, const std::string& venue, const std::string& symbol,
                const tickmesh::v1::Ticker& ticker) override;

  // False after a failed write until the next successful one.
  bool up() const { return up_.load(); }
  uint64_t written() const { return written_.load(); }
  uint64_t errors() const { return errors_.load(); }
  // Ticker updates absorbed because a newer one replaced them before they were written.
  uint64_t conflated() const { return conflated_.load(); }

 private:
  struct Slot {
    std::string key;
    tickmesh::v1::Ticker ticker;
    bool dirty = false;
  };
  void Run();

  const TickerCacheOptions options_;
  std::unique_ptr<tickmesh::v1::CacheService::Stub> stub_;
  absl::Mutex mu_;
  std::vector<Slot> slots_ ABSL_GUARDED_BY(mu_);  // by book id
  std::vector<uint32_t> dirty_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> up_{true};
  std::atomic<uint64_t> written_{0}, errors_{0}, conflated_{0};
  prometheus::Counter& written_counter_;
  prometheus::Counter& error_counter_;
  std::thread thread_;
};

}  // namespace tickmesh::market_data
