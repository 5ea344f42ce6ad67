// CandleOutbox: appends every closed candle to the persistence service
// (PersistenceService.Append, Record{candle}), off the ingest path and tolerant of outages.
//
// OnCandleClosed (an IngestObserver, called under the ingest lock) only appends to a bounded
// outbox. A background stream (runtime::StreamLoop: reconnects with jittered backoff) sends
// batches of up to `max_batch` records, at most `window` batches unacknowledged at a time:
//  - an OK ack drops its batch (the candles are durable);
//  - an error ack of a retryable kind (UNAVAILABLE, RESOURCE_EXHAUSTED, ABORTED,
//    DEADLINE_EXCEEDED) puts the batch back at the front of the outbox; any other error drops it
//    (counted in persistence_rejected_total and logged once);
//  - when the stream breaks, every unacknowledged batch goes back to the front, in order, and is
//    resent on the next stream. Candles have a natural key (venue, symbol, interval_s,
//    open_unix_ns), so a resent record the database already holds is skipped, never duplicated.
// Bound: at most `capacity` records pending + unacknowledged; when full, the oldest pending
// record is dropped and counted (persistence_dropped_total). A down peer is logged once, counted
// (the StreamLoop's reconnect metrics) and reported by connected() for /status.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "market_data.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/v1/persistence.grpc.pb.h"

namespace tickmesh::market_data {

struct CandleOutboxOptions {
  std::string address;  // PersistenceService host:port
  size_t capacity = 100'000;
  int max_batch = 500;
  size_t window = 8;
};

class CandleOutbox final : public IngestObserver {
 public:
  explicit CandleOutbox(CandleOutboxOptions options);
  ~CandleOutbox() override;  // Stop()s.

  void Start();
  // Stops the stream and joins its threads. Records not yet acknowledged are lost (they live in
  // memory only); Stop after the feeds have stopped to lose as few as possible. Idempotent.
  void Stop();

  // Waits until every record is acknowledged or `timeout` passes; true if the backlog is empty.
  // Returns at once when the stream is not connected. For drain: call after the feeds stopped,
  // before Stop().
  bool Drain(absl::Duration timeout);

  void OnCandleClosed(const tickmesh::v1::Candle& candle) override;

  bool connected() const;
  uint64_t acked() const { return acked_.load(); }
  uint64_t dropped() const { return dropped_.load(); }
  uint64_t rejected() const { return rejected_.load(); }
  uint64_t resent() const { return resent_.load(); }
  // Records pending or unacknowledged.
  size_t backlog() const;

 private:
  struct Batch {
    uint64_t id = 0;
    std::vector<tickmesh::v1::Record> records;
  };
  grpc::Status RunStream(grpc::ClientContext& ctx, const std::function<void()>& connected);
  // Moves every unacknowledged batch back to the front of pending, oldest first.
  void RequeueUnackedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const CandleOutboxOptions options_;
  std::unique_ptr<tickmesh::v1::PersistenceService::Stub> stub_;
  mutable absl::Mutex mu_;
  std::deque<tickmesh::v1::Record> pending_ ABSL_GUARDED_BY(mu_);
  std::deque<Batch> unacked_ ABSL_GUARDED_BY(mu_);  // in send order
  size_t unacked_records_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_batch_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool stream_broken_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> acked_{0}, dropped_{0}, rejected_{0}, resent_{0};
  prometheus::Counter& acked_counter_;
  prometheus::Counter& dropped_counter_;
  prometheus::Counter& rejected_counter_;
  prometheus::Gauge& backlog_gauge_;
  std::unique_ptr<runtime::StreamLoop> loop_;
};

}  // namespace tickmesh::market_data
