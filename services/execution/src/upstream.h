// Upstream feeds of execution: the signal stream (SignalService.Subscribe) and the book stream
// (MarketDataService.Subscribe, kinds {BOOK, TRADE, TICKER}), each kept open by a
// runtime::StreamLoop thread with reconnect backoff and read on gRPC callback threads (each batch
// is applied to the ExecutionEngine on the thread that received it).
//
// A book that hits a sequence gap is resynced with MarketDataService.GetBook on a dedicated resync
// thread (a blocking call never runs on a gRPC callback thread, nor under the engine lock):
// requests are deduplicated per (venue, symbol), at most 4096 instruments pending, one GetBook in
// flight at a time. Events of an instrument waiting for its resync are held (at most 100 000 in
// all) and replayed after the snapshot, as if the stream had paused for that instrument only;
// other instruments keep flowing. A failed GetBook warns once and leaves the book stale until the
// next snapshot. When the book stream drops, pending resyncs are dropped and every book goes stale
// until the new stream's snapshots arrive.
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
    // SubscribeRequest.coalesce_ms of the market-data stream (0..1000): market-data may hold
    // book/trade/ticker events up to this long and send them as one message.
    uint32_t md_coalesce_ms = 0;
  };
  // `on_state(peer, up)` reports "signal" / "market-data" stream state (for ServiceHost
  // dependencies). `engine` must outlive this object.
  UpstreamFeeds(ExecutionEngine* engine, Options options,
                std::function<void(const std::string&, bool)> on_state);
  ~UpstreamFeeds();  // Stop()s.

  // Starts the stream threads (and the resync thread when market-data is configured).
  void Start();
  // Cancels both streams and any GetBook in flight, and joins their threads. Idempotent.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickmesh::execution
