// CacheLink: signal's optional link to the cache service, on one background thread of its own
// (never the engine's or a gRPC callback thread).
//  - Latest signals: Offer() records the latest signal per (venue, symbol) in a conflating map
//    (a newer signal replaces the pending one; counted as conflated). Every flush interval the map
//    is swapped out and written with CacheService.MSet (chunks of <= 1 000), key
//    `signal:<venue>:<symbol>`, value the serialized tickmesh.v1.Signal, TTL signal_ttl_ms.
//    Queue policy: bounded by `max_pending` keys (one per instrument, so by --max_symbols in
//    practice); beyond it new keys are dropped and counted. A failed write is not retried (a newer
//    signal will follow; the TTL bounds staleness), it is counted and warned once.
//  - Positions: every position poll interval, the registered instruments' positions are read with
//    CacheService.MGet (key `position:<venue>:<symbol>`, a serialized tickmesh.v1.Position written
//    by execution) into the PositionTable; a missing key means flat/unknown (qty 0). With no
//    instrument registered, a Get of `signal:probe` keeps the dependency state current.
// Offer() takes a mutex held only for a map insert or swap: it never waits on I/O.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "positions.h"
#include "prometheus/counter.h"
#include "tickmesh/v1/cache.grpc.pb.h"
#include "tickmesh/v1/signal.pb.h"

namespace tickmesh::signal {

struct CacheLinkOptions {
  std::string address;  // cache gRPC host:port
  int64_t signal_ttl_ms = 60'000;
  absl::Duration flush_interval = absl::Milliseconds(50);
  absl::Duration position_poll = absl::Milliseconds(500);
  absl::Duration rpc_timeout = absl::Seconds(1);
  size_t max_pending = 100'000;
};

class CacheLink {
 public:
  // `positions` may be null (no polling). `on_state(up)` reports the cache dependency after each
  // RPC whose outcome differs from the previous one.
  CacheLink(CacheLinkOptions options, PositionTable* positions, std::function<void(bool)> on_state);
  ~CacheLink();  // Stop()s.

  void Start();
  // Writes what is pending once more (bounded by the RPC timeout), then joins. Idempotent.
  void Stop();

  // Records `s` as the latest signal of its (venue, symbol). Never blocks on I/O.
  void Offer(const tickmesh::v1::Signal& s);

  struct Stats {
    uint64_t written = 0, conflated = 0, dropped = 0, errors = 0, position_reads = 0;
  };
  Stats stats() const;

 private:
  void Loop();
  void Flush();
  void PollPositions();
  void SetUp(bool up);

  const CacheLinkOptions options_;
  PositionTable* positions_;
  std::function<void(bool)> on_state_;
  std::unique_ptr<tickmesh::v1::CacheService::Stub> stub_;

  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<std::string, tickmesh::v1::Signal> pending_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
  int up_state_ = -1;  // loop thread only: -1 unknown, 0 down, 1 up

  std::atomic<uint64_t> written_{0}, conflated_{0}, dropped_{0}, errors_{0}, position_reads_{0};
  prometheus::Counter& written_counter_;
  prometheus::Counter& conflated_counter_;
  prometheus::Counter& dropped_counter_;
};

}  // namespace tickmesh::signal
