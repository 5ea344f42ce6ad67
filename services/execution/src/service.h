// The execution service process: flags, their validation, and the wiring of engine, gRPC service,
// upstream feeds, outbox and cache writer into a runtime::ServiceHost. main.cc calls
// RunExecutionService() after InitProcess.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "execution_engine.h"
#include "tickmesh/v1/market_data.pb.h"
#include "tickmesh/venues/orders.h"
#include "tickmesh/venues/venue.h"

namespace tickmesh::execution {

// Everything the flags configure, validated.
struct ServiceConfig {
  std::string signal_address;
  std::string market_data_address;
  std::string persistence_address;
  std::string cache_address;
  int64_t cache_flush_ms = 10;  // CacheWriter linger (--cache_flush_ms)
  int64_t md_coalesce_ms = 5;   // market-data stream coalescing (--md_coalesce_ms)
  EngineOptions engine;
  // --kill_switch: non-empty = engage the kill switch at start with this reason.
  std::string kill_switch_reason;
  size_t outbox_max_records = 1'000'000;
  int64_t outbox_flush_timeout_ms = 2000;
  // Restart reconciliation budget (persistence enabled only).
  int64_t reconcile_timeout_ms = 30'000;
  // Venue rate limits (--rate_limits) and the waiting policy.
  std::map<std::string, std::vector<BucketSpec>> rate_limits;
  AdmissionQueue::Options admission;
  // --paper_static_book: fixed books applied at start, one snapshot event per instrument.
  std::vector<tickmesh::v1::MarketEvent> static_books;
  // Live venues (--live_venues): each with its REST base URL and credentials (loaded at start,
  // never logged), over the --live_symbols symbol map.
  struct LiveVenueConfig {
    tickmesh::venues::Venue venue = tickmesh::venues::Venue::kBinance;
    std::string base_url;
    tickmesh::venues::Credentials credentials;
  };
  std::vector<LiveVenueConfig> live_venues;
  tickmesh::venues::SymbolMap live_symbols;
  VenueWorker::Options live_worker;
  int64_t live_request_timeout_ms = 5000;
  int64_t live_recv_window_ms = 5000;
  int64_t live_reconcile_timeout_ms = 10'000;
};

// Parses --paper_static_book: comma-separated "VENUE:SYMBOL:BID_E8:ASK_E8:QTY_E8" entries, each
// a one-level book (bid < ask, all > 0, symbol BASE-QUOTE). INVALID_ARGUMENT naming the entry.
absl::StatusOr<std::vector<tickmesh::v1::MarketEvent>> ParseStaticBooks(const std::string& spec);

// Reads and validates the execution flags. INVALID_ARGUMENT naming the flag on a bad value.
absl::StatusOr<ServiceConfig> ConfigFromFlags();

// Builds and runs the service until SIGTERM/SIGINT. Returns the process exit code (2 for bad
// flags, after printing the reason to stderr).
int RunExecutionService();

}  // namespace tickmesh::execution
