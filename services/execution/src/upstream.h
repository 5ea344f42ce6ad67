// Upstream feeds of execution: the signal stream (SignalService.Subscribe) and the book stream
// (MarketDataService.Subscribe, kinds {BOOK}), each on its own runtime::StreamLoop thread with
// reconnect backoff, feeding an ExecutionEngine. A book that hits a sequence gap is resynced with
// MarketDataService.GetBook (from the stream thread, never under the engine lock); when the book
// stream drops, every book goes stale until the new stream's snapshots arrive.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "execution_engine.h"

namespace tickmesh::execution {

class UpstreamFeeds {
 public:
  struct Options {
    // host:port of the signal service; empty disables the signal feed.
    std::string signal_address;
    // host:port of market-data; empty disables books (every order is then venue:no_market).
    std::string market_data_address;
  };
  // `on_state(peer, up)` reports "signal" / "market-data" stream state (for ServiceHost
  // dependencies). `engine` must outlive this object.
  UpstreamFeeds(ExecutionEngine* engine, Options options,
                std::function<void(const std::string&, bool)> on_state);
  ~UpstreamFeeds();  // Stop()s.

  void Start();
  // Cancels both streams and joins their threads. Idempotent.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickmesh::execution
