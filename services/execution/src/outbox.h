// Outbox: execution's records (orders on every change, order events, fills) on their way to
// persistence, kept in memory until persistence acknowledges them as durable.
//
// OutboxQueue is the bookkeeping (no gRPC, thread-safe): records wait as "unsent", are cut into
// batches of up to max_batch records, become "in flight" under a batch id, and leave the outbox
// only when the AppendAck for their batch says OK. A failed ack, or a broken stream, puts the
// records back at the front, in their original order, to be resent (persistence dedupes by
// natural key, so resending is safe). Batches already in flight behind a failed ack (up to
// max_inflight_batches are pipelined) may be committed before it is resent; persistence keeps
// an order's highest version and keys positions/balances by timestamp, so the result is the same.
//
// When a batch is cut: as soon as max_batch records wait; otherwise no later than `linger` after
// the oldest unsent record arrived. While records keep arriving, batches are cut on a cadence of
// one per `linger` (a record arriving within `linger` of the previous cut goes out `linger` after
// that cut, i.e. sooner than its own linger), so under load the writer wakes about once per
// `linger`, not once per append or per ack: Append and OnAck wake the writer only when they make
// a batch due before the writer would wake on its own.
//
// Bound and full policy: admission control, not dropping. HasRoom() is false once depth()
// reaches max_records, and the engine then rejects NEW orders with RESOURCE_EXHAUSTED
// "outbox full"; records of orders already accepted (acks, fills, cancels) are always appended,
// so an acknowledged fill is never dropped. The overshoot past max_records is bounded by what
// open orders can still produce.
//
// OutboxWriter runs the PersistenceService.Append bidi stream with one thread of its own (the
// runtime::StreamLoop thread, which cuts batches and hands them to the stream without waiting for
// the write to complete) and reads AppendAcks on gRPC's callback threads (a ClientBidiReactor),
// re-opening the stream with backoff. Records left un-acked at process exit are lost (restart
// reconciliation with persistence is a later issue); Stop() first waits up to a flush timeout
// for them.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "tickmesh/v1/persistence.grpc.pb.h"
#include "tickmesh/v1/persistence.pb.h"

namespace tickmesh::runtime {
class StreamLoop;
}

namespace tickmesh::execution {

class OutboxQueue {
 public:
  struct Options {
    size_t max_records = 1'000'000;
    size_t max_batch = 500;
    absl::Duration linger = absl::Milliseconds(5);
    // Batches sent but not yet acknowledged, at most.
    size_t max_inflight_batches = 64;
    // Pause before resending after a failed ack (e.g. persistence's spool full).
    absl::Duration retry_pause = absl::Milliseconds(200);
  };

  explicit OutboxQueue(Options options);

  // False when depth() >= max_records: new orders must be refused.
  bool HasRoom() const;
  // Appends records (always; see the bound policy above) and wakes the writer.
  void Append(std::vector<tickmesh::v1::Record> records);

  // Cuts the next batch, waiting until one is due (see above) or `deadline`. Returns nullopt at
  // the deadline, after Shutdown(), after Wake(), or when max_inflight_batches are in flight.
  // The batch's records are in flight until OnAck / OnStreamBroken. Batches come out in record
  // order. One caller at a time (the writer): the wake-up bookkeeping assumes a single waiter.
  std::optional<tickmesh::v1::AppendRequest> NextBatch(absl::Time deadline);

  // Handles the ack of an in-flight batch: OK drops its records for good; an error puts them back
  // at the front for resending (after retry_pause), except INVALID_ARGUMENT, which can never
  // succeed: the batch is dropped and counted in invalid_dropped(). Unknown batch ids are ignored
  // (returns false). Cheap and non-blocking: safe on a gRPC callback thread.
  bool OnAck(const tickmesh::v1::AppendAck& ack);

  // The stream ended: every in-flight record goes back to the front, in original order, and is
  // counted in resent_total().
  void OnStreamBroken();

  // Makes NextBatch return at once (and keeps it returning nullopt).
  void Shutdown();
  // Whether Shutdown() was called.
  bool is_shutdown() const;
  // Makes the NextBatch call that is waiting, or else the next one, return nullopt at once (e.g.
  // the stream ended), without shutting down; later calls behave as usual.
  void Wake();
  // Blocks until depth() == 0 or `timeout`; returns whether the outbox is empty.
  bool WaitUntilEmpty(absl::Duration timeout);

  // Records not yet acknowledged (unsent + in flight).
  size_t depth() const;
  size_t unsent() const;
  size_t inflight_batches() const;
  uint64_t acked_total() const;
  uint64_t resent_total() const;
  uint64_t failed_acks_total() const;
  uint64_t invalid_dropped() const;

 private:
  void RequeueFrontLocked(std::vector<tickmesh::v1::Record> records)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // When the unsent records are due to be cut (InfinitePast: now). unsent_ must not be empty.
  absl::Time DueLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether the waiting writer must be woken because a batch is now due before it would wake on
  // its own.
  bool WriterNeedsWakeLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;        // writer waits here
  std::condition_variable empty_cv_;  // WaitUntilEmpty waits here
  std::deque<tickmesh::v1::Record> unsent_ ABSL_GUARDED_BY(mu_);
  // When the oldest unsent record arrived; InfinitePast when it is due now (requeued).
  absl::Time oldest_unsent_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::map<uint64_t, std::vector<tickmesh::v1::Record>> inflight_ ABSL_GUARDED_BY(mu_);
  size_t inflight_records_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_batch_id_ ABSL_GUARDED_BY(mu_) = 1;
  absl::Time retry_not_before_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // When the last batch was cut (the linger cadence under load).
  absl::Time last_cut_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // While the writer waits in NextBatch: when it will wake on its own; InfinitePast otherwise (it
  // re-checks the state under mu_ before it waits again, so it needs no wake-up).
  absl::Time writer_wake_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool wake_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t acked_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t resent_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t failed_acks_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t invalid_dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

class OutboxWriter {
 public:
  // `on_connected(bool)` is called when the stream is established / lost (for the host's
  // dependency state). Exports tickmesh_execution_outbox_{depth,acked_total,resent_total,
  // failed_acks_total}. Batches are written in the order they were cut, at most one write
  // outstanding on the stream (the rest, at most max_inflight_batches, wait in order).
  OutboxWriter(OutboxQueue* queue, const std::string& persistence_address,
               std::function<void(bool)> on_connected);
  ~OutboxWriter();

  void Start();
  // Waits up to `flush_timeout` for the outbox to drain, then stops the stream. Idempotent.
  // Logs how many records were left un-acknowledged.
  void Stop(absl::Duration flush_timeout);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickmesh::execution
