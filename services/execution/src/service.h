// The execution service process: flags, their validation, and the wiring of engine, gRPC service,
// upstream feeds, outbox and cache writer into a runtime::ServiceHost. main.cc calls
// RunExecutionService() after InitProcess.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "execution_engine.h"

namespace tickmesh::execution {

// Everything the flags configure, validated.
struct ServiceConfig {
  std::string signal_address;
  std::string market_data_address;
  std::string persistence_address;
  std::string cache_address;
  EngineOptions engine;
  size_t outbox_max_records = 1'000'000;
  int64_t outbox_flush_timeout_ms = 2000;
};

// Reads and validates the execution flags. INVALID_ARGUMENT naming the flag on a bad value.
absl::StatusOr<ServiceConfig> ConfigFromFlags();

// Builds and runs the service until SIGTERM/SIGINT. Returns the process exit code (2 for bad
// flags, after printing the reason to stderr).
int RunExecutionService();

}  // namespace tickmesh::execution
