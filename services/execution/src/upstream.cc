#include "upstream.h"

#include <utility>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/runtime/log.h"
#include "tickmesh/v1/market_data.grpc.pb.h"
#include "tickmesh/v1/signal.grpc.pb.h"

namespace tickmesh::execution {

using tickmesh::runtime::StreamLoop;

class UpstreamFeeds::Impl {
 public:
  Impl(ExecutionEngine* engine, Options options,
       std::function<void(const std::string&, bool)> on_state)
      : engine_(engine), options_(std::move(options)), on_state_(std::move(on_state)) {
    if (!options_.signal_address.empty()) {
      signal_channel_ = tickmesh::runtime::MakeChannel(options_.signal_address);
      signal_stub_ = tickmesh::v1::SignalService::NewStub(signal_channel_);
      signal_loop_ = std::make_unique<StreamLoop>(
          "execution", "signal",
          [this](grpc::ClientContext& ctx, const std::function<void()>& connected) {
            return RunSignals(ctx, connected);
          });
    }
    if (!options_.market_data_address.empty()) {
      md_channel_ = tickmesh::runtime::MakeChannel(
          options_.market_data_address,
          tickmesh::runtime::RetryServiceConfig({{"tickmesh.v1.MarketDataService", "GetBook"}}));
      md_stub_ = tickmesh::v1::MarketDataService::NewStub(md_channel_);
      md_loop_ = std::make_unique<StreamLoop>(
          "execution", "market-data",
          [this](grpc::ClientContext& ctx, const std::function<void()>& connected) {
            return RunBooks(ctx, connected);
          });
    }
  }

  void Start() {
    if (signal_loop_) signal_loop_->Start();
    if (md_loop_) md_loop_->Start();
  }

  void Stop() {
    if (signal_loop_) signal_loop_->Stop();
    if (md_loop_) md_loop_->Stop();
  }

 private:
  void SetState(const std::string& peer, bool up) {
    if (on_state_) on_state_(peer, up);
  }

  grpc::Status RunSignals(grpc::ClientContext& ctx, const std::function<void()>& connected) {
    if (!signal_channel_->WaitForConnected(
            tickmesh::runtime::DeadlineIn(absl::Milliseconds(500)))) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "signal not reachable");
    }
    tickmesh::v1::SubscribeSignalsRequest req;
    req.set_subscriber("execution");
    connected();
    SetState("signal", true);
    // Callback-API reads: each batch is turned into orders on the gRPC thread that received it
    // (one thread wake-up less per signal than a blocking Read on this thread).
    grpc::Status status = tickmesh::runtime::ReadStreamOnCallbacks<tickmesh::v1::SignalBatch>(
        ctx,
        [&](grpc::ClientContext* c, grpc::ClientReadReactor<tickmesh::v1::SignalBatch>* r) {
          signal_stub_->async()->Subscribe(c, &req, r);
        },
        nullptr, [this](const tickmesh::v1::SignalBatch& batch) { engine_->OnSignalBatch(batch); });
    SetState("signal", false);
    tickmesh::runtime::WarnOnce(
        "execution-signal-stream", "signal stream ended",
        {{"code", static_cast<int>(status.error_code())}, {"error", status.error_message()}});
    return status;
  }

  grpc::Status RunBooks(grpc::ClientContext& ctx, const std::function<void()>& connected) {
    if (!md_channel_->WaitForConnected(tickmesh::runtime::DeadlineIn(absl::Milliseconds(500)))) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "market-data not reachable");
    }
    tickmesh::v1::SubscribeRequest req;
    // Books for paper fills; trades advance paper queue positions; every payload kind that takes
    // a seq in market-data's per-instrument numbering is needed so deltas are not taken for gaps.
    req.add_kinds(tickmesh::v1::EVENT_KIND_BOOK);
    req.add_kinds(tickmesh::v1::EVENT_KIND_TRADE);
    req.add_kinds(tickmesh::v1::EVENT_KIND_TICKER);
    req.set_subscriber("execution");
    auto reader = md_stub_->Subscribe(&ctx, req);
    connected();
    SetState("market-data", true);
    tickmesh::v1::MarketEventBatch batch;
    while (reader->Read(&batch)) {
      for (const auto& [venue, symbol] : engine_->OnMarketBatch(batch)) Resync(venue, symbol);
    }
    engine_->OnMarketDataDisconnected();
    grpc::Status status = reader->Finish();
    SetState("market-data", false);
    tickmesh::runtime::WarnOnce(
        "execution-md-stream", "market-data book stream ended",
        {{"code", static_cast<int>(status.error_code())}, {"error", status.error_message()}});
    return status;
  }

  // Fetches a fresh snapshot of one book (I/O on the stream thread, outside the engine lock).
  void Resync(const std::string& venue, const std::string& symbol) {
    tickmesh::v1::GetBookRequest req;
    req.set_venue(venue);
    req.set_symbol(symbol);
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Milliseconds(500)));
    tickmesh::v1::GetBookResponse resp;
    grpc::Status s = md_stub_->GetBook(&ctx, req, &resp);
    if (!s.ok()) {
      tickmesh::runtime::WarnOnce(
          "execution-book-resync", "book resync failed; book stale until the next snapshot",
          {{"venue", venue}, {"symbol", symbol}, {"error", s.error_message()}});
      return;
    }
    engine_->ApplyBook(resp);
  }

  ExecutionEngine* engine_;
  Options options_;
  std::function<void(const std::string&, bool)> on_state_;
  std::shared_ptr<grpc::Channel> signal_channel_, md_channel_;
  std::unique_ptr<tickmesh::v1::SignalService::Stub> signal_stub_;
  std::unique_ptr<tickmesh::v1::MarketDataService::Stub> md_stub_;
  std::unique_ptr<StreamLoop> signal_loop_, md_loop_;  // last: their threads use the above
};

UpstreamFeeds::UpstreamFeeds(ExecutionEngine* engine, Options options,
                             std::function<void(const std::string&, bool)> on_state)
    : impl_(std::make_unique<Impl>(engine, std::move(options), std::move(on_state))) {}

UpstreamFeeds::~UpstreamFeeds() { Stop(); }

void UpstreamFeeds::Start() { impl_->Start(); }

void UpstreamFeeds::Stop() { impl_->Stop(); }

}  // namespace tickmesh::execution
