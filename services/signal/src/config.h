// signal's service-specific flags (each documented where declared, in config.cc), the strategy
// config file (--config) and their validation.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "cache_link.h"
#include "signal_engine.h"

namespace tickmesh::signal {

struct ServiceConfig {
  SignalEngineOptions engine;
  std::string market_data_address;
  size_t subscriber_queue = 4096;
  // Empty address = no cache link.
  CacheLinkOptions cache;
};

// Reads and validates the flags and the --config file. INVALID_ARGUMENT naming the flag
// ("--fast must be > 0") or the config key ("strategies[1].params.fast: must be > 0").
absl::StatusOr<ServiceConfig> ConfigFromFlags();

}  // namespace tickmesh::signal
