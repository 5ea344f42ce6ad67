// SignalGrpc: tickmesh.v1.SignalService callback-API wiring over SignalEngine.
//  - Subscribe: bounded-queue stream from a FanOut<SignalBatch, SignalFilter> (filter by symbols
//    and strategies). Queue-full policy: the subscriber is ended with RESOURCE_EXHAUSTED and
//    counted; the producer never waits.
//  - GetLatestSignals: the last signal per (symbol, strategy).
// Emit() is the producer side, called by the upstream stream with the signals a batch caused; one
// SignalBatch is built and shared (not copied) by every subscriber without a filter.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/histogram.h"
#include "signal_engine.h"
#include "tickmesh/runtime/stream.h"
#include "tickmesh/v1/signal.grpc.pb.h"

namespace tickmesh::signal {

// What one subscriber asked for; empty lists mean "all".
struct SignalFilter {
  std::vector<std::string> symbols;
  std::vector<std::string> strategies;
  std::string name;  // sanitised subscriber name (logs, metrics label)
  static SignalFilter FromRequest(const tickmesh::v1::SubscribeSignalsRequest& req);
  bool Matches(const tickmesh::v1::Signal& s) const;
};

class SignalGrpc final : public tickmesh::v1::SignalService::CallbackService {
 public:
  // `engine` must outlive this object; `subscriber_queue` batches per subscriber.
  SignalGrpc(SignalEngine* engine, size_t subscriber_queue);

  grpc::ServerWriteReactor<tickmesh::v1::SignalBatch>* Subscribe(
      grpc::CallbackServerContext* ctx,
      const tickmesh::v1::SubscribeSignalsRequest* request) override;
  grpc::ServerUnaryReactor* GetLatestSignals(
      grpc::CallbackServerContext* ctx, const tickmesh::v1::GetLatestSignalsRequest* request,
      tickmesh::v1::GetLatestSignalsResponse* response) override;

  // Stamps {signal, emit} on `signals` (via the engine), records the decision latency since
  // `recv_ns` and pushes them to every matching subscriber. Never blocks.
  void Emit(std::vector<tickmesh::v1::Signal>& signals, int64_t recv_ns);

  // Ends every subscriber after its queued batches; later Subscribe calls end with UNAVAILABLE.
  void CloseSubscribers(grpc::Status status);
  size_t subscribers() const { return fanout_.size(); }
  uint64_t subscribers_dropped() const { return dropped_.load(); }

 private:
  SignalEngine* engine_;
  size_t subscriber_queue_;
  std::atomic<uint64_t> dropped_{0};
  // Orders Subscribe's Add + initial metadata against CloseSubscribers.
  absl::Mutex subscribe_mu_;
  bool closed_ ABSL_GUARDED_BY(subscribe_mu_) = false;
  prometheus::Histogram& decision_latency_;
  runtime::FanOut<tickmesh::v1::SignalBatch, SignalFilter> fanout_;
};

}  // namespace tickmesh::signal
