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
//
// Threading: Offer/MarkDirty/Close/Abort are called by MarketData with its ingest lock held; the
// reactor callbacks run on gRPC threads. The flush of dirty books asks the SnapshotSource, which
// takes the ingest lock (lock order: ingest lock, then this stream's lock), so the snapshot and
// the live events after it are consistent. No method blocks on the network.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
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

  // The policy derived from --subscriber_queue: conflate from half full, flush at a quarter.
  static SubscriberStreamOptions FromQueue(size_t queue_batches);
};

class SubscriberStream final : public grpc::ServerWriteReactor<tickmesh::v1::MarketEventBatch> {
 public:
  static constexpr size_t kSnapshotsPerFlush = 64;

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
  // immutable batch, serialized by each stream); otherwise a filtered copy is.
  OfferResult Offer(const std::shared_ptr<const tickmesh::v1::MarketEventBatch>& batch,
                    std::vector<bool>* wanted, const std::vector<uint32_t>& book_ids);

  // Queues `batch` as is if the queue is below the book watermark; returns false otherwise
  // (used for the initial snapshots: the caller then marks the books dirty).
  bool PushIfRoom(tickmesh::v1::MarketEventBatch batch);
  // Marks book `book_id` dirty (it will be sent as a snapshot when the queue drains).
  void MarkDirty(uint32_t book_id);

  // For SnapshotSource::FlushConflated: removes and returns up to kSnapshotsPerFlush dirty book
  // ids (call with the ingest lock held, then build the snapshots and CompleteFlush).
  std::vector<uint32_t> TakeDirty();
  // Queues the snapshots built for TakeDirty()'s ids (an empty batch is not queued) and resumes
  // writing.
  void CompleteFlush(tickmesh::v1::MarketEventBatch snapshots);

  // Ends the stream with `status` once the queued batches are written. Idempotent.
  void Close(grpc::Status status);
  // Ends the stream now, dropping queued batches and dirty books. Idempotent.
  void Abort(grpc::Status status);

  const std::string& name() const { return name_; }
  size_t depth() const;  // queued batches
  size_t dirty() const;  // books waiting to be flushed as snapshots
  uint64_t conflations() const;

 private:
  void StartNextWriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PushLocked(std::shared_ptr<const tickmesh::v1::MarketEventBatch> batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
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
};

}  // namespace tickmesh::market_data
