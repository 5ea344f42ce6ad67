#include "tickmesh/runtime/client.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tickmesh/runtime/log.h"
#include "tickmesh/runtime/metrics.h"

namespace tickmesh::runtime {

std::string RetryServiceConfig(
    const std::vector<std::pair<std::string, std::string>>& idempotent_methods) {
  std::vector<std::string> names;
  for (const auto& [service, method] : idempotent_methods) {
    names.push_back(method.empty() ? absl::StrCat(R"({"service":")", service, R"("})")
                                   : absl::StrCat(R"({"service":")", service, R"(","method":")",
                                                  method, R"("})"));
  }
  return absl::StrCat(R"({"methodConfig":[{"name":[)", absl::StrJoin(names, ","),
                      R"(],"retryPolicy":{"maxAttempts":4,"initialBackoff":"0.05s",)",
                      R"("maxBackoff":"1s","backoffMultiplier":2,)",
                      R"("retryableStatusCodes":["UNAVAILABLE"]}}]})");
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target,
                                           const std::string& service_config_json) {
  ChannelOptions options;
  options.service_config_json = service_config_json;
  return MakeChannel(target, options);
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target,
                                           const ChannelOptions& options) {
  const std::string& service_config_json = options.service_config_json;
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  args.SetMaxSendMessageSize(16 << 20);
  // Reconnect quickly after a peer restarts (default max backoff is 120 s).
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  const int max_backoff_ms = static_cast<int>(
      std::max<int64_t>(100, absl::ToInt64Milliseconds(options.max_reconnect_backoff)));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, max_backoff_ms);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  if (options.own_subchannel_pool) args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  if (!service_config_json.empty()) {
    args.SetServiceConfigJSON(service_config_json);
    args.SetInt(GRPC_ARG_ENABLE_RETRIES, 1);
  }
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

Backoff::Backoff(absl::Duration min, absl::Duration max)
    : min_(min), max_(max), rng_(std::random_device{}()) {}

absl::Duration Backoff::Next() {
  absl::Duration cap = min_;
  for (int i = 0; i < attempt_ && cap < max_; ++i) cap *= 2;
  if (cap > max_) cap = max_;
  if (attempt_ < 30) ++attempt_;
  int64_t lo = absl::ToInt64Microseconds(min_);
  int64_t hi = absl::ToInt64Microseconds(cap);
  std::uniform_int_distribution<int64_t> dist(lo, std::max(lo, hi));
  return absl::Microseconds(dist(rng_));
}

StreamLoop::StreamLoop(std::string service, std::string peer, RunOnce run_once,
                       absl::Duration min_backoff, absl::Duration max_backoff)
    : service_(std::move(service)),
      peer_(std::move(peer)),
      run_once_(std::move(run_once)),
      backoff_(min_backoff, max_backoff) {}

StreamLoop::~StreamLoop() { Stop(); }

void StreamLoop::Start() {
  stop_.store(false);
  thread_ = std::thread([this] { Loop(); });
}

void StreamLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
    if (current_ != nullptr) current_->TryCancel();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StreamLoop::Loop() {
  std::string prefix = MetricPrefix(service_);
  auto& connected_gauge =
      GaugeFamily(prefix + "client_stream_connected",
                  "1 while the long-lived stream to the peer is established, else 0.")
          .Add({{"peer", peer_}});
  auto& reconnects = CounterFamily(prefix + "client_stream_reconnects_total",
                                   "Times the long-lived stream to the peer was re-opened.")
                         .Add({{"peer", peer_}});
  bool first = true;
  while (!stop_.load()) {
    grpc::ClientContext ctx;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_.load()) break;
      current_ = &ctx;
    }
    if (!first) {
      reconnects.Increment();
      reconnects_.fetch_add(1);
    }
    first = false;
    bool was_connected = false;
    grpc::Status status = run_once_(ctx, [&] {
      was_connected = true;
      connected_.store(true);
      connected_gauge.Set(1);
      ResetWarnOnce("stream-down:" + peer_);
      LogInfo("stream connected", {{"peer", peer_}});
    });
    {
      std::lock_guard<std::mutex> lock(mu_);
      current_ = nullptr;
    }
    connected_.store(false);
    connected_gauge.Set(0);
    if (stop_.load()) break;
    if (was_connected) {
      backoff_.Reset();
      LogWarn(
          "stream ended; reconnecting",
          {{"peer", peer_}, {"code", int(status.error_code())}, {"error", status.error_message()}});
    } else {
      WarnOnce(
          "stream-down:" + peer_, "cannot open stream; retrying with backoff",
          {{"peer", peer_}, {"code", int(status.error_code())}, {"error", status.error_message()}});
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, absl::ToChronoMilliseconds(backoff_.Next()), [&] { return stop_.load(); });
  }
}

}  // namespace tickmesh::runtime
