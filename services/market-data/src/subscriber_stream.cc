#include "subscriber_stream.h"

#include <algorithm>
#include <utility>

#include "grpc/support/time.h"

namespace tickmesh::market_data {

using tickmesh::v1::MarketEvent;
using tickmesh::v1::MarketEventBatch;

SubscriberStreamOptions SubscriberStreamOptions::FromQueue(size_t queue_batches) {
  SubscriberStreamOptions o;
  o.queue_batches = std::max<size_t>(1, queue_batches);
  o.queue_events = o.queue_batches * 64;
  o.book_watermark = std::max<size_t>(1, o.queue_batches / 2);
  o.resume_watermark = o.queue_batches / 4;
  return o;
}

SubscriberStream::SubscriberStream(SnapshotSource* source, SubscriberStreamOptions options,
                                   std::string name)
    : source_(source), options_(options), name_(std::move(name)) {}

SubscriberStream::OfferResult SubscriberStream::Offer(
    const std::shared_ptr<const MarketEventBatch>& shared, std::vector<bool>* wanted,
    const std::vector<uint32_t>& book_ids) {
  OfferResult r;
  bool arm = false;
  {
    absl::MutexLock lock(&mu_);
    r = OfferLocked(shared, wanted, book_ids, &arm);
  }
  if (arm) {
    // Outside mu_: the callback takes mu_. The stream stays alive (the alarm holds a reference)
    // and OnDone cannot Cancel concurrently: it first waits for the ingest lock our caller holds.
    const gpr_timespec deadline = gpr_time_add(
        gpr_now(GPR_CLOCK_MONOTONIC),
        gpr_time_from_millis(static_cast<int64_t>(options_.coalesce_ms), GPR_TIMESPAN));
    alarm_ = std::make_unique<grpc::Alarm>();
    alarm_->Set(deadline, [this](bool fired) { OnAlarm(fired); });
  }
  return r;
}

SubscriberStream::OfferResult SubscriberStream::OfferLocked(
    const std::shared_ptr<const MarketEventBatch>& shared, std::vector<bool>* wanted,
    const std::vector<uint32_t>& book_ids, bool* arm) {
  const MarketEventBatch& batch = *shared;
  OfferResult r;
  if (closing_) {
    std::fill(wanted->begin(), wanted->end(), false);
    return r;
  }
  const size_t depth = DepthLocked();
  int selected = 0;
  for (int i = 0; i < batch.events_size(); ++i) {
    const auto idx = static_cast<size_t>(i);
    if (!(*wanted)[idx]) continue;
    const MarketEvent& e = batch.events(i);
    const bool book = e.has_snapshot() || e.has_delta();
    if (book) {
      if (dirty_.contains(book_ids[idx])) {
        ++r.conflated_events;
        (*wanted)[idx] = false;
        continue;
      }
      if (depth >= options_.book_watermark) {
        dirty_.insert(book_ids[idx]);
        dirty_order_.push_back(book_ids[idx]);
        ++r.conflated_events;
        (*wanted)[idx] = false;
        continue;
      }
    }
    ++selected;
  }
  conflations_ += static_cast<uint64_t>(r.conflated_events);
  if (selected == 0) return r;
  if (depth >= options_.queue_batches ||
      queued_events_ + static_cast<size_t>(selected) > options_.queue_events) {
    r.overflow = true;
    std::fill(wanted->begin(), wanted->end(), false);
    DropQueuedLocked();
    closing_ = true;
    final_status_ = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "subscriber too slow: trade/ticker/candle queue full "
                                 "(book state is conflated, these are not), disconnected");
    if (!writing_ && !flushing_) FinishLocked();
    return r;
  }
  r.queued_events = selected;
  if (options_.coalesce_ms > 0) {
    PendingPiece piece{shared, {}};
    if (selected != batch.events_size()) {
      piece.indices.reserve(static_cast<size_t>(selected));
      for (int i = 0; i < batch.events_size(); ++i) {
        if ((*wanted)[static_cast<size_t>(i)]) piece.indices.push_back(i);
      }
    }
    pending_.push_back(std::move(piece));
    pending_events_ += static_cast<size_t>(selected);
    queued_events_ += static_cast<size_t>(selected);
    if (pending_events_ >= static_cast<size_t>(kMaxCoalescedEvents)) {
      SealPendingLocked();
    } else if (!alarm_armed_) {
      // Invariant: a non-empty pending message has an armed alarm (the alarm seals it).
      alarm_armed_ = true;
      refs_.fetch_add(1, std::memory_order_relaxed);
      *arm = true;
    }
  } else if (selected == batch.events_size()) {
    PushLocked(shared);
  } else {
    auto out = std::make_shared<MarketEventBatch>();
    out->mutable_events()->Reserve(selected);
    for (int i = 0; i < batch.events_size(); ++i) {
      if ((*wanted)[static_cast<size_t>(i)]) *out->add_events() = batch.events(i);
    }
    PushLocked(std::move(out));
  }
  return r;
}

bool SubscriberStream::PushIfRoom(MarketEventBatch batch) {
  absl::MutexLock lock(&mu_);
  if (closing_ || DepthLocked() >= options_.book_watermark) return false;
  SealPendingLocked();
  PushLocked(std::make_shared<const MarketEventBatch>(std::move(batch)));
  return true;
}

void SubscriberStream::MarkDirty(uint32_t book_id) {
  absl::MutexLock lock(&mu_);
  if (closing_) return;
  if (dirty_.insert(book_id).second) dirty_order_.push_back(book_id);
}

std::vector<uint32_t> SubscriberStream::TakeDirty() {
  absl::MutexLock lock(&mu_);
  std::vector<uint32_t> ids;
  while (!dirty_order_.empty() && ids.size() < kSnapshotsPerFlush) {
    ids.push_back(dirty_order_.front());
    dirty_.erase(dirty_order_.front());
    dirty_order_.pop_front();
  }
  return ids;
}

void SubscriberStream::CompleteFlush(MarketEventBatch snapshots) {
  absl::MutexLock lock(&mu_);
  flushing_ = false;
  if (closing_) {
    if (!writing_ && queue_.empty()) FinishLocked();
    return;
  }
  if (snapshots.events_size() > 0) {
    // Pending events may include events of these books older than the snapshots.
    SealPendingLocked();
    PushLocked(std::make_shared<const MarketEventBatch>(std::move(snapshots)));
  }
}

void SubscriberStream::PushLocked(std::shared_ptr<const MarketEventBatch> batch) {
  queued_events_ += static_cast<size_t>(batch->events_size());
  queue_.push_back(std::move(batch));
  if (!writing_) StartNextWriteLocked();
}

void SubscriberStream::SealPendingLocked() {
  if (pending_.empty()) return;
  const size_t pieces = pending_.size();
  size_t messages = 0;
  if (pieces == 1 && pending_.front().indices.empty()) {
    // One whole published batch: queue the shared batch itself.
    queue_.push_back(std::move(pending_.front().batch));
    messages = 1;
  } else {
    // Copies every pending event once into messages of bounded size.
    std::shared_ptr<MarketEventBatch> out;
    size_t bytes = 0;
    size_t left = pending_events_;
    auto seal = [&] {
      queue_.push_back(std::move(out));
      out.reset();
      bytes = 0;
      ++messages;
    };
    auto add = [&](const MarketEvent& e) {
      if (out != nullptr && out->events_size() >= kMaxCoalescedEvents) seal();
      if (out == nullptr) {
        out = std::make_shared<MarketEventBatch>();
        out->mutable_events()->Reserve(
            static_cast<int>(std::min(left, static_cast<size_t>(kMaxCoalescedEvents))));
      }
      MarketEvent* copy = out->add_events();
      *copy = e;
      --left;
      // Field tag + length prefix + body.
      const size_t size = copy->ByteSizeLong() + 6;
      if (out->events_size() > 1 && bytes + size > kMaxCoalescedBytes) {
        MarketEvent moved = std::move(*copy);
        out->mutable_events()->RemoveLast();
        seal();
        out = std::make_shared<MarketEventBatch>();
        *out->add_events() = std::move(moved);
      }
      bytes += size;
    };
    for (const PendingPiece& piece : pending_) {
      if (piece.indices.empty()) {
        for (const MarketEvent& e : piece.batch->events()) add(e);
      } else {
        for (int i : piece.indices) add(piece.batch->events(i));
      }
    }
    if (out != nullptr) seal();
  }
  pending_.clear();
  pending_events_ = 0;  // still counted in queued_events_ until written
  if (pieces > messages) {
    const uint64_t merged = pieces - messages;
    coalesced_ += merged;
    if (options_.coalesced_batches != nullptr) {
      options_.coalesced_batches->Increment(static_cast<double>(merged));
    }
  }
  if (!writing_) StartNextWriteLocked();
}

void SubscriberStream::DropQueuedLocked() {
  queue_.clear();
  queued_events_ = 0;
  pending_.clear();
  pending_events_ = 0;
  dirty_.clear();
  dirty_order_.clear();
}

size_t SubscriberStream::DepthLocked() const {
  if (options_.coalesce_ms == 0) return queue_.size();
  const size_t messages = queue_.size() + (pending_.empty() ? 0 : 1);
  const size_t per_slot = std::max<size_t>(1, options_.queue_events / options_.queue_batches);
  return std::max(messages, (queued_events_ + per_slot - 1) / per_slot);
}

void SubscriberStream::OnAlarm(bool fired) {
  {
    absl::MutexLock lock(&mu_);
    alarm_armed_ = false;
    // Cancelled (fired == false) only from OnDone, when the stream is already closing.
    if (!closing_) SealPendingLocked();
  }
  Unref();
}

void SubscriberStream::Unref() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

void SubscriberStream::Close(grpc::Status status) {
  absl::MutexLock lock(&mu_);
  if (closing_) return;
  SealPendingLocked();  // held events are delivered before the end
  closing_ = true;
  final_status_ = std::move(status);
  dirty_.clear();
  dirty_order_.clear();
  if (!writing_ && !flushing_ && queue_.empty()) FinishLocked();
}

void SubscriberStream::Abort(grpc::Status status) {
  absl::MutexLock lock(&mu_);
  DropQueuedLocked();
  if (finished_) return;
  if (!closing_ || final_status_.ok()) final_status_ = std::move(status);
  closing_ = true;
  if (!writing_ && !flushing_) FinishLocked();
}

void SubscriberStream::StartNextWriteLocked() {
  in_flight_ = std::move(queue_.front());
  queue_.pop_front();
  queued_events_ -= static_cast<size_t>(in_flight_->events_size());
  writing_ = true;
  StartWrite(in_flight_.get());
}

void SubscriberStream::FinishLocked() {
  if (finished_) return;
  finished_ = true;
  Finish(final_status_);
}

void SubscriberStream::OnWriteDone(bool ok) {
  bool flush = false;
  {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    in_flight_.reset();
    if (!ok) {  // The client went away or the call was cancelled.
      DropQueuedLocked();
      if (!closing_ || final_status_.ok()) final_status_ = grpc::Status::CANCELLED;
      closing_ = true;
      if (!flushing_) FinishLocked();
      return;
    }
    if (!closing_ && !flushing_ && !dirty_order_.empty() &&
        DepthLocked() <= options_.resume_watermark) {
      flushing_ = true;
      flush = true;
    }
    if (!queue_.empty()) {
      StartNextWriteLocked();
    } else if (closing_ && !flushing_) {
      FinishLocked();
    }
  }
  // Outside the stream lock: the source takes the ingest lock first (lock order).
  if (flush) source_->FlushConflated(this);
}

void SubscriberStream::OnCancel() { Abort(grpc::Status::CANCELLED); }

void SubscriberStream::OnDone() {
  // After StreamDone no Offer (hence no alarm Set) can follow: MarketData has forgotten us.
  source_->StreamDone(this);
  // An armed alarm now runs its callback soon (fired or cancelled), which drops its reference.
  if (alarm_ != nullptr) alarm_->Cancel();
  Unref();
}

size_t SubscriberStream::depth() const {
  absl::MutexLock lock(&mu_);
  return DepthLocked();
}

uint64_t SubscriberStream::coalesced_batches() const {
  absl::MutexLock lock(&mu_);
  return coalesced_;
}

size_t SubscriberStream::dirty() const {
  absl::MutexLock lock(&mu_);
  return dirty_order_.size();
}

uint64_t SubscriberStream::conflations() const {
  absl::MutexLock lock(&mu_);
  return conflations_;
}

}  // namespace tickmesh::market_data
