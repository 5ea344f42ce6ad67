#include "subscriber_stream.h"

#include <algorithm>
#include <utility>

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
  const MarketEventBatch& batch = *shared;
  OfferResult r;
  absl::MutexLock lock(&mu_);
  if (closing_) {
    std::fill(wanted->begin(), wanted->end(), false);
    return r;
  }
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
      if (queue_.size() >= options_.book_watermark) {
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
  if (queue_.size() >= options_.queue_batches ||
      queued_events_ + static_cast<size_t>(selected) > options_.queue_events) {
    r.overflow = true;
    std::fill(wanted->begin(), wanted->end(), false);
    queue_.clear();
    queued_events_ = 0;
    dirty_.clear();
    dirty_order_.clear();
    closing_ = true;
    final_status_ = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "subscriber too slow: trade/ticker/candle queue full "
                                 "(book state is conflated, these are not), disconnected");
    if (!writing_ && !flushing_) FinishLocked();
    return r;
  }
  r.queued_events = selected;
  if (selected == batch.events_size()) {
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
  if (closing_ || queue_.size() >= options_.book_watermark) return false;
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
    PushLocked(std::make_shared<const MarketEventBatch>(std::move(snapshots)));
  }
}

void SubscriberStream::PushLocked(std::shared_ptr<const MarketEventBatch> batch) {
  queued_events_ += static_cast<size_t>(batch->events_size());
  queue_.push_back(std::move(batch));
  if (!writing_) StartNextWriteLocked();
}

void SubscriberStream::Close(grpc::Status status) {
  absl::MutexLock lock(&mu_);
  if (closing_) return;
  closing_ = true;
  final_status_ = std::move(status);
  dirty_.clear();
  dirty_order_.clear();
  if (!writing_ && !flushing_ && queue_.empty()) FinishLocked();
}

void SubscriberStream::Abort(grpc::Status status) {
  absl::MutexLock lock(&mu_);
  queue_.clear();
  queued_events_ = 0;
  dirty_.clear();
  dirty_order_.clear();
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
      queue_.clear();
      queued_events_ = 0;
      dirty_.clear();
      dirty_order_.clear();
      if (!closing_ || final_status_.ok()) final_status_ = grpc::Status::CANCELLED;
      closing_ = true;
      if (!flushing_) FinishLocked();
      return;
    }
    if (!closing_ && !flushing_ && !dirty_order_.empty() &&
        queue_.size() <= options_.resume_watermark) {
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
  source_->StreamDone(this);
  delete this;
}

size_t SubscriberStream::depth() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
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
