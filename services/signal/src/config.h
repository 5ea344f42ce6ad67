// signal's service-specific flags (each documented where declared, in config.cc) and their
// validation.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "signal_engine.h"

namespace tickmesh::signal {

struct ServiceConfig {
  SignalEngineOptions engine;
  std::string market_data_address;
  size_t subscriber_queue = 4096;
};

// Reads and validates the flags. INVALID_ARGUMENT naming the flag ("--fast must be > 0").
absl::StatusOr<ServiceConfig> ConfigFromFlags();

}  // namespace tickmesh::signal
