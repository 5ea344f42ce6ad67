// Restart reconciliation: on start, execution reads back from persistence what it must not
// forget — every open order (QueryOrders with statuses NEW, ACKED, PARTIALLY_FILLED, paged),
// the latest position per (venue, symbol) (QueryPositions) and the latest balance per
// (venue, asset) (QueryBalances) — and hands them to ExecutionEngine::Restore before the gRPC
// server takes requests. Persistence may still be starting: UNAVAILABLE / DEADLINE_EXCEEDED
// answers are retried with backoff until the overall timeout.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tickmesh/v1/execution.pb.h"

namespace tickmesh::execution {

struct PersistedState {
  std::vector<tickmesh::v1::Order> open_orders;
  std::vector<tickmesh::v1::Position> positions;
  std::vector<tickmesh::v1::Balance> balances;
};

struct ReconcileOptions {
  std::string persistence_address;
  // Overall budget, retries included.
  absl::Duration timeout = absl::Seconds(30);
  // Orders per QueryOrders page.
  uint32_t page_limit = 1000;
  // More open orders than this is an error (FAILED_PRECONDITION naming --max_open_orders): the
  // bound on what is read into memory.
  size_t max_open_orders = 10'000;
};

// Reads the persisted state. DEADLINE_EXCEEDED (with the last error) when persistence did not
// answer within the timeout; FAILED_PRECONDITION beyond max_open_orders; other errors as
// persistence answered them.
absl::StatusOr<PersistedState> LoadPersistedState(const ReconcileOptions& options);

}  // namespace tickmesh::execution
