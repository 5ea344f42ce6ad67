#include "signal_grpc.h"

#include <algorithm>

#include "tickmesh/runtime/clock.h"
#include "tickmesh/runtime/log.h"
#include "tickmesh/runtime/metrics.h"

namespace tickmesh::signal {
namespace {

std::string SanitizeName(const std::string& name) {
  std::string out;
  for (char c : name.substr(0, 32)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    out.push_back(ok ? c : '_');
  }
  return out.empty() ? "anonymous" : out;
}

bool InList(const std::vector<std::string>& list, const std::string& v) {
  return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
}

}  // namespace

SignalFilter SignalFilter::FromRequest(const tickmesh::v1::SubscribeSignalsRequest& req) {
  SignalFilter f;
  f.symbols.assign(req.symbols().begin(), req.symbols().end());
  f.strategies.assign(req.strategies().begin(), req.strategies().end());
  f.name = SanitizeName(req.subscriber());
  return f;
}

bool SignalFilter::Matches(const tickmesh::v1::Signal& s) const {
  return InList(symbols, s.symbol()) && InList(strategies, s.strategy());
}

SignalGrpc::SignalGrpc(SignalEngine* engine, size_t subscriber_queue)
    : engine_(engine),
      subscriber_queue_(std::max<size_t>(1, subscriber_queue)),
      decision_latency_(
          runtime::HistogramFamily(runtime::MetricPrefix("signal") + "decision_latency_seconds",
                                   "From receiving a market batch to emitting its signals")
              .Add({}, runtime::LatencyBuckets())),
      fanout_([this](const SignalFilter& f) {
        ++dropped_;
        runtime::CounterFamily(runtime::MetricPrefix("signal") + "subscriber_drops_total",
                               "Subscribers disconnected because their bounded queue was full")
            .Add({{"subscriber", f.name}})
            .Increment();
        runtime::LogWarn("subscriber too slow, disconnected", {{"subscriber", f.name}});
      }) {}

grpc::ServerWriteReactor<tickmesh::v1::SignalBatch>* SignalGrpc::Subscribe(
    grpc::CallbackServerContext* ctx, const tickmesh::v1::SubscribeSignalsRequest* request) {
  SignalFilter filter = SignalFilter::FromRequest(*request);
  runtime::LogInfo("subscriber joined", {{"subscriber", filter.name}});
  absl::MutexLock lock(&subscribe_mu_);
  auto* writer = fanout_.Add(std::move(filter), subscriber_queue_);
  // Headers now, so the client sees the stream established before the first signal.
  if (!closed_) writer->StartSendInitialMetadata();
  return writer;
}

void SignalGrpc::CloseSubscribers(grpc::Status status) {
  absl::MutexLock lock(&subscribe_mu_);
  closed_ = true;
  fanout_.CloseAll(std::move(status));
}

grpc::ServerUnaryReactor* SignalGrpc::GetLatestSignals(
    grpc::CallbackServerContext* ctx, const tickmesh::v1::GetLatestSignalsRequest* request,
    tickmesh::v1::GetLatestSignalsResponse* response) {
  std::vector<std::string> symbols(request->symbols().begin(), request->symbols().end());
  for (auto& s : engine_->Latest(symbols)) *response->add_signals() = std::move(s);
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

void SignalGrpc::Emit(std::vector<tickmesh::v1::Signal>& signals, int64_t recv_ns) {
  if (signals.empty()) return;
  const int64_t emit_ns = runtime::NowUnixNs();
  engine_->MarkEmitted(signals, emit_ns);
  decision_latency_.Observe(static_cast<double>(emit_ns - recv_ns) * 1e-9);
  // One batch shared by every subscriber without a filter (execution): queued without a copy.
  auto all = std::make_shared<tickmesh::v1::SignalBatch>();
  all->mutable_signals()->Reserve(static_cast<int>(signals.size()));
  for (const auto& s : signals) *all->add_signals() = s;
  fanout_.PublishShared(
      std::move(all),
      [](const SignalFilter& f, const std::shared_ptr<const tickmesh::v1::SignalBatch>& batch)
          -> std::shared_ptr<const tickmesh::v1::SignalBatch> {
        if (f.symbols.empty() && f.strategies.empty()) return batch;
        auto out = std::make_shared<tickmesh::v1::SignalBatch>();
        for (const auto& s : batch->signals()) {
          if (f.Matches(s)) *out->add_signals() = s;
        }
        if (out->signals_size() == 0) return nullptr;
        return out;
      });
}

}  // namespace tickmesh::signal
