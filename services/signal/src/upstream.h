// MarketDataUpstream: signal's subscription to market-data. A runtime::StreamLoop keeps one
// Subscribe stream open (jittered reconnect backoff; connected/reconnect metrics come from
// StreamLoop). The stream is read with the callback API (runtime::ReadStreamOnCallbacks): every
// batch is fed to the SignalEngine and the resulting signals are emitted through SignalGrpc on
// the gRPC thread that received the batch, one batch at a time (no hand-off to a reader thread:
// that is one thread wake-up less per tick on the tick -> order path). Nothing there blocks.
//
// The subscription asks for every event kind of every symbol so the engine can check seq
// continuity per (venue, symbol); non-trade events cost one seq check each. On every
// (re)connect all indicator state is reset (continuity across streams cannot be checked).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "signal_engine.h"
#include "signal_grpc.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/v1/market_data.grpc.pb.h"

namespace tickmesh::signal {

class MarketDataUpstream {
 public:
  // `on_state(up)` is called when the stream is established (true) and when it ends (false),
  // e.g. ServiceHost::SetDependencyUp("market-data", up). `engine` and `grpc` must outlive this.
  MarketDataUpstream(const std::string& address, SignalEngine* engine, SignalGrpc* grpc,
                     std::function<void(bool)> on_state);
  ~MarketDataUpstream();  // Stop()s.

  void Start();
  // Cancels the stream and joins the thread; no engine call happens after it returns.
  void Stop();
  bool connected() const { return loop_->connected(); }

 private:
  grpc::Status RunOnce(grpc::ClientContext& ctx, const std::function<void()>& connected);

  std::unique_ptr<tickmesh::v1::MarketDataService::Stub> stub_;
  SignalEngine* engine_;
  SignalGrpc* grpc_;
  std::function<void(bool)> on_state_;
  std::unique_ptr<runtime::StreamLoop> loop_;
};

}  // namespace tickmesh::signal
