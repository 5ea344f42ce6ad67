// SubscriberStream: one Subscribe stream of market-data, a gRPC ServerWriteReactor with
// market-data's slow-consumer policy (issue 5). It replaces runtime::QueuedWriter for this
// service because book state can be conflated and trades cannot.
//
// Policy (per subscriber, never affecting the producer or other subscribers):
//  - Queue: at most `queue_batches` batches and `queue_events` events are queued for writing.
//  - Books are conflated: once the queue holds `book_watermark` batches or more, a book event
//    (snapshot or delta) is not queued; its (venue, symbol) is marked dirty instead, and every
//    later book event of a dirty book is absorbed too. Each absorbed event counts one conflation.
//    Deltas cannot be merged safely (a merged delta would need the levels the consumer holds), so
//    a dirty book is later sent as a fresh BookSnapshot of the *current* book, built when the
//    queue has drained to `resume_watermark` batches or fewer (at most kSnapshotsPerFlush books
//    per flushed batch). Its seq is the last seq applied to that book (it may equal the seq of
//    the event delivered just before it); later events of that book follow it in order. A
//    consumer therefore sees a seq gap for that book, then a snapshot: exactly the recovery the
//    proto asks of it.
//  - Trades, tickers and candles are never conflated: when one does not fit the queue the
//    subscriber is ended with RESOURCE_EXHAUSTED (queued batches are dropped) and counted.
//  - Memory per subscriber is bounded by queue_batches + 1 batches, queue_events events plus
//    the flushed snapshots, and the dirty set (at most one entry per book).
//  - Coalescing (opt-in, `coalesce_ms` > 0, SubscribeRequest.coalesce_ms): live events are held
//    in a pending message instead of being queued one message per published batch. The pending
//    message is sealed (queued for writing) when the first event in it has waited coalesce_ms
//    (a grpc::Alarm), when it reaches kMaxCoalescedEvents events, before any snapshot batch is
//    queued (so per-book order holds), and on Close. Sealing splits it into messages of at most
//    kMaxCoalescedEvents events and about kMaxCoalescedBytes bytes; a pending message made of a
//    single whole published batch is queued as that shared batch, whatever its size (no copy,
//    as without coalescing). Pending events count against queue_events, and the queue depth
//    used by the watermarks and the batch bound is max(messages queued + pending, ceil(events
//    queued / events per batch slot)), so merged messages cannot hide events from the bounds.
//    With coalesce_ms == 0 nothing of this runs.
//
// Threading: Offer/MarkDirty/Close/Abort are called by MarketData with its ingest lock held; the
// reactor and alarm callbacks run on gRPC threads. The stream deletes itself once gRPC has called
// OnDone and no alarm callback is outstanding. The flush of dirty books asks the SnapshotSource,
// which takes the ingest lock (lock order: ingest lock, then this stream's lock), so the snapshot
// and the live events after it are consistent. No method blocks on the network.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/alarm.h"
#include "grpcpp/grpcpp.h"
#include "prometheus/counter.h"
#include "tickmesh/v1/market_data.pb.h"

namespace tickmesh::market_data {

class SubscriberStream;

// What a stream needs from its owner. Implemented by MarketData.
class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  // Takes the ingest lock, then calls stream->CompleteFlush with snapshots of (some of) the
  // stream's dirty books. Called from a gRPC callback thread without the stream's lock held.
  virtual void FlushConflated(SubscriberStream* stream) = 0;
  // The stream is finished and about to be deleted; forget it. Called exactly once.
  virtual void StreamDone(SubscriberStream* stream) = 0;
};

struct SubscriberStreamOptions {
  size_t queue_batches = 4096;
  size_t queue_events = 4096 * 64;
  // Book events are conflated while the queue holds at least this many batches.
  size_t book_watermark = 2048;
  // Dirty books are flushed once the queue holds at most this many batches.
  size_t resume_watermark = 1024;
  // Most time a live event is held to be merged with later ones; 0 = no coalescing (each
  // published batch is its own message). At most kMaxCoalesceMs.
  uint32_t coalesce_ms = 0;
  // Incremented by the number of published batches that did not become a message of their own
  // (merged into a coalesced one). Optional; must outlive the stream.
  prometheus::Counter* coalesced_batches = nullptr;

  // The policy derived from --subscriber_queue: conflate from half full, flush at a quarter.
  static SubscriberStreamOptions FromQueue(size_t queue_batches);
};

// Largest SubscribeRequest.coalesce_ms accepted.
inline constexpr uint32_t kMaxCoalesceMs = 1000;

class SubscriberStream final : public grpc::ServerWriteReactor<tickmesh::v1::MarketEventBatch> {
 public:
  static constexpr size_t kSnapshotsPerFlush = 64;
  // Bounds of one coalesced message (a single larger event still goes alone). The byte bound
  // keeps messages well under gRPC's default 4 MiB receive limit.
  static constexpr int kMaxCoalescedEvents = 1024;
  static constexpr size_t kMaxCoalescedBytes = size_t{1} << 20;

  // `source` must outlive the stream. `name` is the metrics label of the subscriber.
  SubscriberStream(SnapshotSource* source, SubscriberStreamOptions options, std::string name);

  // Result of offering one batch.
  struct OfferResult {
    int queued_events = 0;     // events of `batch` queued
    int conflated_events = 0;  // book events absorbed into dirty books
    bool overflow = false;     // a non-book event did not fit: the stream has been aborted
  };
  // Offers the events of `*batch` selected by `(*wanted)[i]`; `book_ids[i]` identifies the
  // (venue, symbol) of event i. Applies the policy above; on overflow aborts the stream with
  // RESOURCE_EXHAUSTED. On return `(*wanted)[i]` is true exactly for the events queued. When
  // every event is queued the shared batch itself is queued (no copy: subscribers share one
  // immutable batch, serialized by each stream); otherwise a filtered copy is. With coalescing
  // the selected events join the pending message instead (copied when it is sealed, unless it
  // is this one whole batch).
  OfferResult Offer(const std::shared_ptr<const tickmesh::v1::MarketEventBatch>& batch,
                    std::vector<bool>* wanted, const std::vector<uint32_t>& book_ids);

  // Queues `batch` as is (after sealing any pending message) if the queue is below the book
  // watermark; returns false otherwise (used for the initial snapshots: the caller then marks
  // the books dirty).
  bool PushIfRoom(tickmesh::v1::MarketEventBatch batch);
  // Marks book `book_id` dirty (it will be sent as a snapshot when the queue drains).
  void MarkDirty(uint32_t book_id);

  // For SnapshotSource::FlushConflated: removes and returns up to kSnapshotsPerFlush dirty book
  // ids (call with the ingest lock held, then build the snapshots and CompleteFlush).
  std::vector<uint32_t> TakeDirty();
  // Queues the snapshots built for TakeDirty()'s ids (an empty batch is not queued; a pending
  // coalesced message is sealed first) and resumes writing.
  void CompleteFlush(tickmesh::v1::MarketEventBatch snapshots);

  // Ends the stream with `status` once the queued batches (and a pending coalesced message) are
  // written. Idempotent.
  void Close(grpc::Status status);
  // Ends the stream now, dropping queued batches and dirty books. Idempotent.
  void Abort(grpc::Status status);

  const std::string& name() const { return name_; }
  // Queued batches; with coalescing, the depth defined above (in batch slots).
  size_t depth() const;
  size_t dirty() const;  // books waiting to be flushed as snapshots
  uint64_t conflations() const;
  // Published batches merged into a coalesced message instead of being sent on their own.
  uint64_t coalesced_batches() const;

 private:
  // Selected events of one offered batch waiting in the pending coalesced message.
  struct PendingPiece {
    std::shared_ptr<const tickmesh::v1::MarketEventBatch> batch;
    std::vector<int> indices;  // events of `batch` taken, ascending; empty = all of them
  };

  size_t DepthLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Offer under mu_; sets *arm when the caller must set the coalescing alarm (after unlocking).
  OfferResult OfferLocked(const std::shared_ptr<const tickmesh::v1::MarketEventBatch>& batch,
                          std::vector<bool>* wanted, const std::vector<uint32_t>& book_ids,
                          bool* arm) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StartNextWriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PushLocked(std::shared_ptr<const tickmesh::v1::MarketEventBatch> batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves the pending coalesced message (if any) into the write queue, split by the bounds.
  void SealPendingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops everything queued or pending (abort paths).
  void DropQueuedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnAlarm(bool fired);
  void Unref();
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

  SnapshotSource* const source_;
  const SubscriberStreamOptions options_;
  const std::string name_;

  mutable absl::Mutex mu_;
  std::deque<std::shared_ptr<const tickmesh::v1::MarketEventBatch>> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_events_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_set<uint32_t> dirty_ ABSL_GUARDED_BY(mu_);
  // Dirty ids in the order they became dirty (flushed oldest first); mirrors dirty_.
  std::deque<uint32_t> dirty_order_ ABSL_GUARDED_BY(mu_);
  uint64_t conflations_ ABSL_GUARDED_BY(mu_) = 0;
  // The batch being written (kept alive until OnWriteDone).
  std::shared_ptr<const tickmesh::v1::MarketEventBatch> in_flight_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool flushing_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_status_ ABSL_GUARDED_BY(mu_);

  // Coalescing state (unused when options_.coalesce_ms == 0).
  std::vector<PendingPiece> pending_ ABSL_GUARDED_BY(mu_);
  size_t pending_events_ ABSL_GUARDED_BY(mu_) = 0;  // also counted in queued_events_
  uint64_t coalesced_ ABSL_GUARDED_BY(mu_) = 0;
  // True from arming until the alarm callback has run.
  bool alarm_armed_ ABSL_GUARDED_BY(mu_) = false;
  // The latest alarm. Touched only by Offer (serialised by MarketData's ingest lock; outside mu_
  // so a callback can never run inline under it) and by OnDone (after MarketData has forgotten
  // the stream). A fresh Alarm per arming: re-Setting one whose callback may still be running
  // on another thread would replace that callback under it; dropping an Alarm whose callback
  // is running is safe (gRPC keeps its state alive until the callback returns).
  std::unique_ptr<grpc::Alarm> alarm_;
  // One reference for gRPC (dropped in OnDone) plus one per armed alarm.
  std::atomic<int> refs_{1};
};

}  // namespace tickmesh::market_data
