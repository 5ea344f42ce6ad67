// tickmesh-signal: strategy signals (macd_cross by default; --config for per-symbol strategies and
// an ensemble) from market-data, streamed over gRPC; latest signal per symbol into the cache.
#include <iostream>
#include <memory>

#include "cache_link.h"
#include "config.h"
#include "signal_grpc.h"
#include "tickmesh/runtime/config.h"
#include "tickmesh/runtime/server.h"
#include "upstream.h"

int main(int argc, char** argv) {
  namespace sig = tickmesh::signal;
  tickmesh::runtime::InitProcess(argc, argv, "signal", "tickmesh-signal [flags]");
  auto config = sig::ConfigFromFlags();
  if (!config.ok()) {
    std::cerr << "tickmesh-signal: " << config.status().message() << "\n";
    return 2;
  }
  tickmesh::runtime::ServiceHost host(
      tickmesh::runtime::ServiceHost::OptionsFromFlags("signal", 50052, 9102));
  sig::PositionTable positions;
  sig::SignalEngine engine(config->engine, &positions);
  std::unique_ptr<sig::CacheLink> cache;
  if (!config->cache.address.empty()) {
    host.AddDependency("cache", /*required=*/false);
    cache = std::make_unique<sig::CacheLink>(config->cache, &positions,
                                             [&](bool up) { host.SetDependencyUp("cache", up); });
    engine.SetLatestSink([&](const tickmesh::v1::Signal& s) { cache->Offer(s); });
  }
  sig::SignalGrpc service(&engine, config->subscriber_queue);
  host.AddService(&service, "tickmesh.v1.SignalService");
  host.AddDependency("market-data", /*required=*/true);
  sig::MarketDataUpstream upstream(config->market_data_address, &engine, &service,
                                   [&](bool up) { host.SetDependencyUp("market-data", up); });
  host.OnDrain([&] {
    upstream.Stop();
    service.CloseSubscribers(grpc::Status(grpc::StatusCode::UNAVAILABLE, "draining"));
    if (cache) cache->Stop();
  });
  upstream.Start();
  if (cache) cache->Start();
  return host.Run();
}
