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

}  // namespace tickmesh::runtime
