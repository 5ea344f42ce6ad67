// market-data's service-specific flags (each documented where declared, in config.cc) and their
// validation, plus the /status document.
#pragma once

#include "absl/status/statusor.h"
#include "market_data.h"
#include "nlohmann/json.hpp"
#include "synthetic_feed.h"

namespace tickmesh::market_data {

struct ServiceConfig {
  MarketDataOptions market_data;
  SyntheticOptions synthetic;
  // Synthetic events per second per symbol; 0 turns the synthetic connector off.
  double synthetic_rate = 200;
};

// Reads and validates the flags. INVALID_ARGUMENT naming the flag ("--book_depth: ...").
absl::StatusOr<ServiceConfig> ConfigFromFlags();

// Fields market-data adds to the admin /status document.
nlohmann::json StatusJson(const MarketData& md, const Connector& feed);

}  // namespace tickmesh::market_data
