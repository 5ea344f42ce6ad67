// tickmesh-signal: MACD-crossover signals from market-data trades, streamed over gRPC.
#include <iostream>

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
  sig::SignalEngine engine(config->engine);
  sig::SignalGrpc service(&engine, config->subscriber_queue);
  host.AddService(&service, "tickmesh.v1.SignalService");
  host.AddDependency("market-data", /*required=*/true);
  sig::MarketDataUpstream upstream(config->market_data_address, &engine, &service,
                                   [&](bool up) { host.SetDependencyUp("market-data", up); });
  host.OnDrain([&] {
    upstream.Stop();
    service.CloseSubscribers(grpc::Status(grpc::StatusCode::UNAVAILABLE, "draining"));
  });
  upstream.Start();
  return host.Run();
}
