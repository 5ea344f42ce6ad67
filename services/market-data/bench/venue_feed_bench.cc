// tickmesh-bench-venue-feed: end-to-end latency of venue market data through market-data — from
// the moment market-data's WebSocket client received a venue frame (the event's trace origin) to
// the moment a gRPC subscriber has the event — measured on a running tickmesh-market-data whose
// venue connectors point at tickmesh-venue-sim (e.g. `scripts/mesh up --venue sim`). Not a test.
//
//   tickmesh-bench-venue-feed --target 127.0.0.1:50051 [--venues binance,kraken --seconds 10]
//
// Subscribes to the venues' events, ignores the snapshot-on-subscribe (events whose origin
// precedes the subscription), and prints one line per measure over the live events received in
// --seconds:
//   "frame->subscriber events=<n> p50_us=<..> p99_us=<..> p999_us=<..> max_us=<..>"
//   "frame->emit       events=<n> p50_us=<..> p99_us=<..> p999_us=<..> max_us=<..>"
// frame->emit is the part inside market-data (decode, ingest, book apply, fan-out enqueue: the
// {market-data, emit} hop); the rest is the subscriber queue and gRPC. Both clocks are the same
// host's wall clock. Exit 1 if no live event arrived.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_split.h"
#include "grpcpp/grpcpp.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/runtime/clock.h"
#include "tickmesh/runtime/config.h"
#include "tickmesh/v1/market_data.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "tickmesh-market-data gRPC address");
ABSL_FLAG(std::string, venues, "binance,kraken", "Venues whose events are measured");
ABSL_FLAG(double, seconds, 10, "Measurement duration");

namespace {

void Print(const char* name, std::vector<int64_t>& ns) {
  if (ns.empty()) {
    std::printf("%s events=0\n", name);
    return;
  }
  std::sort(ns.begin(), ns.end());
  auto q = [&](double p) {
    const size_t i =
        std::min(ns.size() - 1, static_cast<size_t>(p * static_cast<double>(ns.size())));
    return static_cast<double>(ns[i]) / 1e3;
  };
  std::printf("%s events=%zu p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f\n", name, ns.size(),
              q(0.50), q(0.99), q(0.999), static_cast<double>(ns.back()) / 1e3);
}

}  // namespace

int main(int argc, char** argv) {
  tickmesh::runtime::InitProcess(argc, argv, "bench-venue-feed",
                                 "tickmesh-bench-venue-feed --target host:port [--seconds 10]");
  auto stub = tickmesh::v1::MarketDataService::NewStub(
      tickmesh::runtime::MakeChannel(absl::GetFlag(FLAGS_target)));
  tickmesh::v1::SubscribeRequest req;
  for (absl::string_view v : absl::StrSplit(absl::GetFlag(FLAGS_venues), ',', absl::SkipEmpty())) {
    req.add_venues(std::string(v));
  }
  req.set_subscriber("bench-venue-feed");
  grpc::ClientContext ctx;
  const double seconds = absl::GetFlag(FLAGS_seconds);
  ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(seconds)));
  const int64_t start_ns = tickmesh::runtime::NowUnixNs();
  auto reader = stub->Subscribe(&ctx, req);
  std::vector<int64_t> to_subscriber, to_emit;
  to_subscriber.reserve(1 << 20);
  to_emit.reserve(1 << 20);
  tickmesh::v1::MarketEventBatch batch;
  while (reader->Read(&batch)) {
    const int64_t now = tickmesh::runtime::NowUnixNs();
    for (const auto& e : batch.events()) {
      const int64_t origin = e.trace().origin_unix_ns();
      if (origin < start_ns) continue;  // snapshot-on-subscribe or untraced
      to_subscriber.push_back(now - origin);
      for (const auto& hop : e.trace().hops()) {
        if (hop.service() == "market-data" && hop.stage() == "emit") {
          to_emit.push_back(hop.unix_ns() - origin);
        }
      }
    }
  }
  grpc::Status st = reader->Finish();
  if (!st.ok() && st.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
    std::fprintf(stderr, "subscribe ended: %s\n", st.error_message().c_str());
  }
  Print("frame->subscriber", to_subscriber);
  Print("frame->emit      ", to_emit);
  return to_subscriber.empty() ? 1 : 0;
}
