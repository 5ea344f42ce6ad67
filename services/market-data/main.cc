// tickmesh-market-data: normalised market events (synthetic, replay and venue connectors +
// Publish), L2 books, candles, and fan-out to subscribers over gRPC.
#include <iostream>
#include <memory>
#include <vector>

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
  std::unique_ptr<md::ReplayFeed> replay;
  if (!config->replay.path.empty()) replay = std::make_unique<md::ReplayFeed>(config->replay);
  std::vector<std::unique_ptr<md::VenueConnector>> venues;
  for (const md::VenueConnectorOptions& o : config->venues) {
    auto venue = md::VenueConnector::Create(o);
    if (!venue.ok()) {  // validated with the flags already; kept for safety
      std::cerr << "tickmesh-market-data: --venues: " << venue.status().message() << "\n";
      return 2;
    }
    venues.push_back(std::move(*venue));
  }
  host.AddService(&service, "tickmesh.v1.MarketDataService");
  // Optional peers: off the ingest path (observers only copy), failure tolerant.
  std::unique_ptr<md::TickerCacheWriter> cache;
  std::unique_ptr<md::CandleOutbox> persistence;
  if (!config->cache.address.empty()) {
    cache = std::make_unique<md::TickerCacheWriter>(config->cache);
    market_data.AddObserver(cache.get());
    cache->Start();
  }
  if (!config->persistence.address.empty()) {
    persistence = std::make_unique<md::CandleOutbox>(config->persistence);
    market_data.AddObserver(persistence.get());
    persistence->Start();
  }
  host.SetStatusProvider([&] {
    return md::StatusJson(market_data, feed, replay.get(), cache.get(), persistence.get(), venues);
  });
  host.OnDrain([&] {
    feed.Stop();
    if (replay) replay->Stop();
    for (auto& v : venues) v->Stop();
    if (persistence) persistence->Drain(absl::Seconds(1));
    market_data.CloseSubscribers(grpc::Status(grpc::StatusCode::UNAVAILABLE, "draining"));
  });
  if (auto s = feed.Start([&](auto& batch) { return market_data.Ingest(batch, "synthetic"); });
      !s.ok()) {
    std::cerr << "tickmesh-market-data: " << s.message() << "\n";
    return 1;
  }
  if (replay) {
    if (auto s = replay->Start([&](auto& batch) { return market_data.Ingest(batch, "replay"); });
        !s.ok()) {
      std::cerr << "tickmesh-market-data: " << s.message() << "\n";
      return 2;
    }
  }
  for (auto& v : venues) {
    const std::string source = v->name();
    if (auto s = v->Start([&, source](auto& batch) { return market_data.Ingest(batch, source); });
        !s.ok()) {
      std::cerr << "tickmesh-market-data: " << v->name() << ": " << s.message() << "\n";
      return 1;
    }
  }
  const int rc = host.Run();
  if (cache) cache->Stop();
  if (persistence) persistence->Stop();
  return rc;
}
