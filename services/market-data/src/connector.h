// Connector: the interface every market-data source implements (synthetic, replay, venue
// simulator, exchange feeds). A connector normalises its source into MarketEventBatches with
// per-(venue, symbol) sequence numbers and hands them to a sink (MarketData::Ingest).
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "tickmesh/v1/market_data.pb.h"

namespace tickmesh::market_data {

// Receives every batch a connector produces, on the connector's own thread. Returns the
// validation result; a connector counts and logs rejected batches and carries on.
using EventSink = std::function<absl::Status(tickmesh::v1::MarketEventBatch& batch)>;

class Connector {
 public:
  virtual ~Connector() = default;

  // Low-cardinality name used in logs and metrics ("synthetic", "replay", "binance").
  virtual std::string name() const = 0;
  // Starts producing into `sink` on the connector's own thread(s). FAILED_PRECONDITION if already
  // started.
  virtual absl::Status Start(EventSink sink) = 0;
  // Stops producing and joins the connector's threads; no sink call happens after it returns.
  // Idempotent.
  virtual void Stop() = 0;
  // True while the connector is producing as configured (connected, not stalled).
  virtual bool healthy() const = 0;
};

}  // namespace tickmesh::market_data
