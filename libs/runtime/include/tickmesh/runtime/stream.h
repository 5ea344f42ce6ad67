// Server-streaming fan-out on the gRPC callback API, with bounded per-subscriber queues.
//
// QueuedWriter<Msg> is a ServerWriteReactor that owns a bounded queue: producers Push() from any
// thread and never block; the reactor writes one message at a time from gRPC's callback threads.
// FanOut<Msg, Sub> keeps the live writers with per-subscriber state (a filter) and publishes to all
// of them. Messages are queued as shared immutable objects: PublishShared() hands one message to
// every subscriber that wants all of it without copying it (each stream serialises it when it
// writes it). Queue-full policy: the subscriber is ended with RESOURCE_EXHAUSTED and counted (a
// slow consumer never slows the others and never grows memory without bound).
//
// Example:
//   grpc::ServerWriteReactor<SignalBatch>* Subscribe(grpc::CallbackServerContext* ctx,
//                                                    const SubscribeSignalsRequest* req) override {
//     return fanout_.Add(Filter(*req), /*capacity=*/1024);
//   }
//   fanout_.Publish([&](const Filter& f, SignalBatch* out) { ...; return true; });
//   // One object for every subscriber without a filter, a filtered copy for the others:
//   fanout_.PublishShared(batch, [&](const Filter& f, const auto& all) {
//     return f.empty() ? all : Filtered(f, *all);  // nullptr skips the subscriber
//   });
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "grpcpp/grpcpp.h"

namespace tickmesh::runtime {

template <typename Msg>
class QueuedWriter : public grpc::ServerWriteReactor<Msg> {
 public:
  // `on_done` runs exactly once, when gRPC is finished with the reactor, just before it deletes
  // itself; owners must forget the pointer there.
  QueuedWriter(size_t capacity, std::function<void(QueuedWriter*)> on_done)
      : capacity_(capacity), on_done_(std::move(on_done)) {}

  // Enqueues `msg`. Returns false, leaving the queue unchanged, when the queue holds `capacity`
  // messages or the stream is closing. Never blocks on the network.
  bool Push(Msg msg) { return PushShared(std::make_shared<const Msg>(std::move(msg))); }

  // Like Push, for a message shared with other writers (never copied; must not be modified
  // afterwards). A null `msg` is refused (returns false).
  bool PushShared(std::shared_ptr<const Msg> msg) {
    if (msg == nullptr) return false;
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_ || queue_.size() >= capacity_) return false;
    queue_.push_back(std::move(msg));
    if (!writing_) StartNextWriteLocked();
    return true;
  }

  // Ends the stream with `status` once the queued messages are written. Idempotent.
  void Close(grpc::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) return;
    closing_ = true;
    final_status_ = std::move(status);
    if (!writing_) FinishLocked();
  }

  // Ends the stream now, dropping queued messages. Idempotent.
  void Abort(grpc::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.clear();
    if (closing_ && finished_) return;
    closing_ = true;
    final_status_ = std::move(status);
    if (!writing_) FinishLocked();
  }

  size_t depth() const {
    std::lock_guard<std::mutex> lock(mu_);
    return queue_.size();
  }

 private:
  void StartNextWriteLocked() {
    in_flight_ = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    this->StartWrite(in_flight_.get());
  }
  void FinishLocked() {
    if (finished_) return;
    finished_ = true;
    this->Finish(final_status_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    writing_ = false;
    in_flight_.reset();
    if (!ok) {  // Client went away or the call was cancelled.
      queue_.clear();
      closing_ = true;
      if (final_status_.ok()) final_status_ = grpc::Status::CANCELLED;
      FinishLocked();
      return;
    }
    if (!queue_.empty()) {
      StartNextWriteLocked();
    } else if (closing_) {
      FinishLocked();
    }
  }
  void OnCancel() override { Abort(grpc::Status::CANCELLED); }
  void OnDone() override {
    if (on_done_) on_done_(this);
    delete this;
  }

  const size_t capacity_;
  std::function<void(QueuedWriter*)> on_done_;
  mutable std::mutex mu_;
  std::deque<std::shared_ptr<const Msg>> queue_;
  std::shared_ptr<const Msg> in_flight_;  // the message being written, alive until OnWriteDone
  bool writing_ = false;
  bool closing_ = false;
  bool finished_ = false;
  grpc::Status final_status_;
};

// Subscribers of one stream. `Sub` is per-subscriber state (filters) chosen by the service.
template <typename Msg, typename Sub>
class FanOut {
 public:
  using Writer = QueuedWriter<Msg>;

  // `on_overflow` (optional) is called with the subscriber's state when it is ended for being too
  // slow, for counting.
  explicit FanOut(std::function<void(const Sub&)> on_overflow = nullptr)
      : on_overflow_(std::move(on_overflow)) {}

  ~FanOut() { CloseAll(grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down")); }

  // Creates a writer for a new subscriber; return it from the RPC handler. If the fan-out is
  // closed the stream ends at once with UNAVAILABLE.
  Writer* Add(Sub sub, size_t capacity) {
    auto state = std::make_shared<Entry>();
    state->sub = std::move(sub);
    auto* writer = new Writer(capacity, [this, state](Writer*) {
      std::lock_guard<std::mutex> lock(mu_);
      entries_.remove(state);
    });
    state->writer = writer;
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) {
      writer->Close(grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"));
    } else {
      entries_.push_back(state);
    }
    return writer;
  }

  // Offers a message to every subscriber: `make(sub, &msg)` fills the message for that subscriber
  // and returns whether to send it. A subscriber whose queue is full is ended with
  // RESOURCE_EXHAUSTED. Returns how many subscribers received the message.
  template <typename Make>
  size_t Publish(Make&& make) {
    std::shared_ptr<Msg> spare;  // reused across subscribers that skip the message
    return PublishEach([&](const Sub& sub) -> std::shared_ptr<const Msg> {
      if (spare == nullptr) spare = std::make_shared<Msg>();
      if (!make(sub, spare.get())) {
        *spare = Msg();
        return nullptr;
      }
      return std::move(spare);
    });
  }

  // Offers one shared message: `pick(sub, msg)` returns `msg` itself (queued without a copy),
  // another message for that subscriber (e.g. a filtered copy), or nullptr to skip it. Same
  // overflow policy and result as Publish.
  template <typename Pick>
  size_t PublishShared(const std::shared_ptr<const Msg>& msg, Pick&& pick) {
    return PublishEach([&](const Sub& sub) { return pick(sub, msg); });
  }

  // Ends the streams of the subscribers for which `which(sub)` is true, after their queued
  // messages are written.
  template <typename Which>
  void CloseIf(Which&& which, grpc::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (which((*it)->sub)) {
        (*it)->writer->Close(status);
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
  }

  // Ends every stream after its queued messages are written; later Add()s end at once.
  void CloseAll(grpc::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    for (auto& e : entries_) e->writer->Close(status);
    entries_.clear();
  }

  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_.size();
  }

  // Sum of queued messages over subscribers (for a queue-depth gauge).
  size_t total_depth() const {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (auto& e : entries_) n += e->writer->depth();
    return n;
  }

 private:
  template <typename Pick>
  size_t PublishEach(Pick&& pick) {
    std::lock_guard<std::mutex> lock(mu_);
    size_t sent = 0;
    for (auto it = entries_.begin(); it != entries_.end();) {
      Entry& e = **it;
      std::shared_ptr<const Msg> msg = pick(e.sub);
      if (msg == nullptr) {
        ++it;
        continue;
      }
      if (e.writer->PushShared(std::move(msg))) {
        ++sent;
        ++it;
      } else {
        if (on_overflow_) on_overflow_(e.sub);
        e.writer->Abort(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                     "subscriber too slow: queue full, disconnected"));
        it = entries_.erase(it);
      }
    }
    return sent;
  }

  struct Entry {
    Sub sub;
    Writer* writer = nullptr;
  };
  std::function<void(const Sub&)> on_overflow_;
  mutable std::mutex mu_;
  std::list<std::shared_ptr<Entry>> entries_;
  bool closed_ = false;
};

}  // namespace tickmesh::runtime
