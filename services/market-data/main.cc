// tickmesh-market-data: normalised market events (synthetic connector + Publish), L2 books,
// candles, and fan-out to subscribers over gRPC.
#include <iostream>

#include "config.h"
#include "market_data_grpc.h"
#include "tickmesh/runtime/config.h"
#include "tickmesh/runtime/server.h"

int main(int argc, char** argv) {
  namespace md = tickmesh::market_data;
  tickmesh::runtime::InitProcess(argc, argv, "market-data", "tickmesh-market-data [flags]");
  auto config = md::ConfigFromFlags();
  if (!config.ok()) {
    std::cerr << "tickmesh-market-data: " << config.status().message() << "\n";
    return 2;
  }
  tickmesh::runtime::ServiceHost host(
      tickmesh::runtime::ServiceHost::OptionsFromFlags("market-data", 50051, 9101));
  md::MarketData market_data(config->market_data);
  md::MarketDataGrpc service(&market_data);
  md::SyntheticFeed feed(config->synthetic, config->synthetic_rate);
  host.AddService(&service, "tickmesh.v1.MarketDataService");
  host.SetStatusProvider([&] { return md::StatusJson(market_data, feed); });
  host.OnDrain([&] {
    feed.Stop();
    market_data.CloseSubscribers(grpc::Status(grpc::StatusCode::UNAVAILABLE, "draining"));
  });
  if (auto s = feed.Start([&](auto& batch) { return market_data.Ingest(batch, "synthetic"); });
      !s.ok()) {
    std::cerr << "tickmesh-market-data: " << s.message() << "\n";
    return 1;
  }
  return host.Run();
}
