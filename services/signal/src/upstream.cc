#include "upstream.h"

#include <vector>

#include "tickmesh/runtime/clock.h"
#include "tickmesh/runtime/log.h"

namespace tickmesh::signal {

MarketDataUpstream::MarketDataUpstream(const std::string& address, SignalEngine* engine,
                                       SignalGrpc* grpc, std::function<void(bool)> on_state)
    : stub_(tickmesh::v1::MarketDataService::NewStub(runtime::MakeChannel(address))),
      engine_(engine),
      grpc_(grpc),
      on_state_(std::move(on_state)),
      loop_(std::make_unique<runtime::StreamLoop>(
          "signal", "market-data",
          [this](grpc::ClientContext& ctx, const std::function<void()>& connected) {
            return RunOnce(ctx, connected);
          })) {}

MarketDataUpstream::~MarketDataUpstream() { Stop(); }

void MarketDataUpstream::Start() { loop_->Start(); }

void MarketDataUpstream::Stop() { loop_->Stop(); }

grpc::Status MarketDataUpstream::RunOnce(grpc::ClientContext& ctx,
                                         const std::function<void()>& connected) {
  tickmesh::v1::SubscribeRequest request;
  request.set_subscriber("signal");
  // market-data sends its headers, tagged "tickmesh-stream", as soon as the subscription is
  // registered; without the tag the call failed and the status says why.
  bool established = false;
  std::vector<tickmesh::v1::Signal> signals;
  grpc::Status status = runtime::ReadStreamOnCallbacks<tickmesh::v1::MarketEventBatch>(
      ctx,
      [&](grpc::ClientContext* c,
          grpc::ClientReadReactor<tickmesh::v1::MarketEventBatch>* reactor) {
        stub_->async()->Subscribe(c, &request, reactor);
      },
      [&](const grpc::ClientContext& c) {
        if (c.GetServerInitialMetadata().count("tickmesh-stream") == 0) return false;
        engine_->ResetAll("reconnect");
        established = true;
        connected();
        if (on_state_) on_state_(true);
        runtime::LogInfo("market-data stream established");
        return true;
      },
      [&](const tickmesh::v1::MarketEventBatch& batch) {
        const int64_t recv_ns = runtime::NowUnixNs();
        signals.clear();
        engine_->OnBatch(batch, recv_ns, &signals);
        grpc_->Emit(signals, recv_ns);
      });
  if (!established) return status;
  if (on_state_) on_state_(false);
  runtime::LogWarn("market-data stream ended", {{"code", static_cast<int>(status.error_code())},
                                                {"message", status.error_message()}});
  return status;
}

}  // namespace tickmesh::signal
