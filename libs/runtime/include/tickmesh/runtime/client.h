// gRPC client side shared by every service: one channel per peer with keepalive, message limits
// and retries for idempotent methods (via service config); deadlines; and StreamLoop, which keeps
// a long-lived stream open, re-establishing it with jittered exponential backoff, visible as
// tickmesh_<service>_client_stream_connected{peer} and _client_stream_reconnects_total{peer}.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/client_callback.h"

namespace tickmesh::runtime {

// Service config JSON retrying UNAVAILABLE up to 4 attempts (backoff 50 ms .. 1 s) for the listed
// methods, given as {"tickmesh.v1.CacheService", "Get"}; an empty method name means every method
// of the service. Only list idempotent methods.
std::string RetryServiceConfig(
    const std::vector<std::pair<std::string, std::string>>& idempotent_methods);

// A channel to `target` ("host:port") with keepalive (30 s, permitted without calls), 16 MiB
// message limits and the given service config (may be empty).
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target,
                                           const std::string& service_config_json = "");

// Channel options beyond the defaults above.
struct ChannelOptions {
  std::string service_config_json;
  int max_receive_message_bytes = 16 << 20;
  // Longest wait between reconnect attempts after failed connects (gRPC's own default is 120 s;
  // MakeChannel uses 2 s). Start-up code that must see a peer the moment it comes up (e.g.
  // execution's restart reconciliation waiting for persistence) uses a short one.
  absl::Duration max_reconnect_backoff = absl::Seconds(2);
  // Give the channel its own subchannel pool instead of the process-wide one, so its connection
  // (and reconnect backoff state) is not shared with other channels to the same target.
  bool own_subchannel_pool = false;
};
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target,
                                           const ChannelOptions& options);

// Deadline `timeout` from now, for ClientContext::set_deadline.
inline std::chrono::system_clock::time_point DeadlineIn(absl::Duration timeout) {
  return std::chrono::system_clock::now() + absl::ToChronoNanoseconds(timeout);
}

// Exponential backoff with full jitter: the n-th delay is uniform in [min, min(max, min*2^n)].
class Backoff {
 public:
  Backoff(absl::Duration min, absl::Duration max);
  absl::Duration Next();
  void Reset() { attempt_ = 0; }

 private:
  absl::Duration min_, max_;
  int attempt_ = 0;
  std::mt19937_64 rng_;
};

// Runs a stream on its own thread, forever re-opening it. `run_once` opens the stream with the
// given context, calls `connected()` once the stream is established (e.g. after the first read or
// the initial metadata), reads until the stream ends, and returns its final status. Between
// attempts StreamLoop waits a jittered backoff (reset after a stream that was connected).
// Blocking reads are fine here: this thread is not a gRPC callback thread.
class StreamLoop {
 public:
  using RunOnce =
      std::function<grpc::Status(grpc::ClientContext& ctx, const std::function<void()>& connected)>;

  // `service` is the calling service (metric prefix); `peer` a low-cardinality peer name such as
  // "market-data".
  StreamLoop(std::string service, std::string peer, RunOnce run_once,
             absl::Duration min_backoff = absl::Milliseconds(100),
             absl::Duration max_backoff = absl::Seconds(5));
  ~StreamLoop();  // Stop()s.

  void Start();
  // Cancels the current stream and joins the thread. Idempotent.
  void Stop();
  bool connected() const { return connected_.load(); }
  uint64_t reconnects() const { return reconnects_.load(); }

 private:
  void Loop();

  std::string service_, peer_;
  RunOnce run_once_;
  Backoff backoff_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> connected_{false};
  std::atomic<uint64_t> reconnects_{0};
  std::mutex mu_;
  grpc::ClientContext* current_ = nullptr;  // guarded by mu_
  std::condition_variable cv_;
  std::thread thread_;
};

// Reads one server stream on gRPC's callback threads (ClientReadReactor) and blocks the caller
// until the stream ends; returns its final status. Each message is handed to `on_message` on the
// gRPC thread that completed the read, so it is processed without a hand-off to a reader thread
// (a blocking ClientReader::Read wakes another thread for every message). `on_message` calls are
// never concurrent: the next read starts after it returns. It must not block for long: it runs on
// a thread gRPC needs for other calls.
//
// Made for StreamLoop's RunOnce (ctx is the loop's context; StreamLoop::Stop cancels it):
//   return ReadStreamOnCallbacks<SignalBatch>(
//       ctx,
//       [&](grpc::ClientContext* c, grpc::ClientReadReactor<SignalBatch>* r) {
//         stub->async()->Subscribe(c, &request, r);   // `request` outlives the call
//       },
//       /*on_established=*/[&](const grpc::ClientContext&) { connected(); return true; },
//       [&](const SignalBatch& batch) { engine->OnSignalBatch(batch); });
//
// `on_established` (may be empty) runs once the server's initial metadata has arrived, before the
// first message is read; returning false cancels the stream (e.g. a missing tag that marks an
// established subscription). With `on_established` empty, reading starts at once (for servers that
// send their headers only with the first message).
template <typename Msg>
grpc::Status ReadStreamOnCallbacks(
    grpc::ClientContext& ctx,
    const std::function<void(grpc::ClientContext*, grpc::ClientReadReactor<Msg>*)>& start,
    std::function<bool(const grpc::ClientContext&)> on_established,
    std::function<void(const Msg&)> on_message) {
  // Completion state shared with the reactor, which deletes itself in OnDone: the caller may
  // return (and destroy `ctx`) as soon as `done` is set, while OnDone is still unwinding.
  struct Completion {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    grpc::Status status;
  };
  class Reactor final : public grpc::ClientReadReactor<Msg> {
   public:
    Reactor(grpc::ClientContext* ctx, std::function<bool(const grpc::ClientContext&)> established,
            std::function<void(const Msg&)> on_message, std::shared_ptr<Completion> completion)
        : ctx_(ctx),
          established_(std::move(established)),
          on_message_(std::move(on_message)),
          completion_(std::move(completion)) {}
    void Begin() {
      if (!established_) this->StartRead(&msg_);
      this->StartCall();
    }
    void OnReadInitialMetadataDone(bool ok) override {
      if (!established_) return;
      if (!ok) return;  // The call failed; OnDone brings the status.
      if (!established_(*ctx_)) {
        ctx_->TryCancel();
        return;
      }
      this->StartRead(&msg_);
    }
    void OnReadDone(bool ok) override {
      if (!ok) return;  // End of stream or failure; OnDone follows.
      on_message_(msg_);
      msg_.Clear();
      this->StartRead(&msg_);
    }
    void OnDone(const grpc::Status& status) override {
      std::shared_ptr<Completion> c = std::move(completion_);
      delete this;
      std::lock_guard<std::mutex> lock(c->mu);
      c->status = status;
      c->done = true;
      c->cv.notify_all();
    }

   private:
    grpc::ClientContext* ctx_;
    std::function<bool(const grpc::ClientContext&)> established_;
    std::function<void(const Msg&)> on_message_;
    std::shared_ptr<Completion> completion_;
    Msg msg_;
  };
  auto completion = std::make_shared<Completion>();
  auto* reactor = new Reactor(&ctx, std::move(on_established), std::move(on_message), completion);
  start(&ctx, reactor);
  reactor->Begin();
  std::unique_lock<std::mutex> lock(completion->mu);
  completion->cv.wait(lock, [&] { return completion->done; });
  return completion->status;
}

}  // namespace tickmesh::runtime
