// market-data's service-specific flags (each documented where declared, in config.cc) and their
// validation, plus the /status document.
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "candle_outbox.h"
#include "market_data.h"
#include "nlohmann/json.hpp"
#include "replay_feed.h"
#include "synthetic_feed.h"
#include "ticker_cache_writer.h"
#include "venue_connector.h"

namespace tickmesh::market_data {

struct ServiceConfig {
  MarketDataOptions market_data;
  SyntheticOptions synthetic;
  // Synthetic events per second per symbol; 0 turns the synthetic connector off.
  double synthetic_rate = 200;
  // Replay connector; off when replay.path is empty.
  ReplayOptions replay;
  // Latest tickers to the cache; off when cache.address is empty.
  TickerCacheOptions cache;
  // Closed candles to persistence; off when persistence.address is empty.
  CandleOutboxOptions persistence;
  // Exchange feeds selected by --venues (empty = none), in the order listed.
  std::vector<VenueConnectorOptions> venues;
};

// Reads and validates the flags. INVALID_ARGUMENT naming the flag ("--book_depth: ...").
absl::StatusOr<ServiceConfig> ConfigFromFlags();

// Fields market-data adds to the admin /status document. Null pointers are parts turned off;
// `venues` are the running venue connectors (a "venues" object keyed by venue name).
nlohmann::json StatusJson(const MarketData& md, const Connector& synthetic,
                          const ReplayFeed* replay, const TickerCacheWriter* cache,
                          const CandleOutbox* persistence,
                          const std::vector<std::unique_ptr<VenueConnector>>& venues);

}  // namespace tickmesh::market_data
