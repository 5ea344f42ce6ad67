// Restart reconciliation: on start, execution reads back from persistence what it must not
// forget — every open order (QueryOrders with statuses NEW, ACKED, PARTIALLY_FILLED, paged),
// the latest position per (venue, symbol) (QueryPositions) and the latest balance per
// (venue, asset) (QueryBalances) — and hands them to ExecutionEngine::Restore before the gRPC
// server takes requests. Open parents of execution algorithms (Order.algo TWAP / ICEBERG /
// LIQUIDITY_AWARE) are set apart for AlgoRunner::Restore, with every child of theirs (any
// status: the children's fills are what the parent has done), found by reading the orders of the
// parent's (venue, symbol) created since the parent and keeping those whose parent_order_id names
// it. With per-strategy limits it also reads every strategy's net position and the current
// trading day's fills per strategy (QueryStrategyPositions), for RiskBook::SeedStrategyLedgers.
// Persistence may still be starting: UNAVAILABLE / DEADLINE_EXCEEDED answers are retried with
// backoff until the overall timeout.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "algos_runner.h"
#include "execution_engine.h"
#include "risk.h"
#include "tickmesh/v1/execution.pb.h"

namespace tickmesh::execution {

struct PersistedState {
  // Open orders for ExecutionEngine::Restore (children of parents included), parents excluded.
  std::vector<tickmesh::v1::Order> open_orders;
  // Open algorithm parents, oldest first.
  std::vector<tickmesh::v1::Order> algo_parents;
  // Children of those parents by parent order id, every status, as persisted.
  std::map<std::string, std::vector<tickmesh::v1::Order>> algo_children;
  // Parent order ids whose children could not all be read (more than max_child_scan orders of
  // their instrument since they started).
  std::set<std::string> algo_children_incomplete;
  std::vector<tickmesh::v1::Position> positions;
  std::vector<tickmesh::v1::Balance> balances;
  // Per-strategy ledgers (options.strategy_ledgers): set when persistence answered.
  struct StrategyLedgers {
    int64_t trading_day = 0;  // TradingDay the seeds' day fields describe
    std::vector<StrategyLedgerSeed> seeds;
  };
  std::optional<StrategyLedgers> strategy_ledgers;
  // Why strategy_ledgers is unset although requested ("" otherwise).
  std::string strategy_ledgers_error;
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
  // Orders read per (venue, symbol) while looking for the children of open parents.
  size_t max_child_scan = 1'000'000;
  // Read the per-strategy ledgers (set when strategy limits are configured). The trading day is
  // the one containing now_unix_ns (0 = the wall clock), days starting at
  // risk_day_reset_hour_utc:00 UTC. A failure to read them (an older persistence without the RPC,
  // no answer in time) is not an error: it is logged and strategy_ledgers stays unset.
  bool strategy_ledgers = false;
  int risk_day_reset_hour_utc = 0;
  int64_t now_unix_ns = 0;
};

// True for an order that is the parent of an execution algorithm (TWAP, ICEBERG,
// LIQUIDITY_AWARE), which AlgoRunner holds rather than the engine.
bool IsAlgoParent(const tickmesh::v1::Order& order);

// Reads the persisted state. DEADLINE_EXCEEDED (with the last error) when persistence did not
// answer within the timeout; FAILED_PRECONDITION beyond max_open_orders; other errors as
// persistence answered them.
absl::StatusOr<PersistedState> LoadPersistedState(const ReconcileOptions& options);

// Hands the open parents of `state` to `algos` (AlgoRunner::Restore), after
// ExecutionEngine::Restore adopted the open orders: each parent with its children, those still
// open in the engine's current state (a restored IOC child is CANCELLED by then, a resting
// ICEBERG child ACKED; one the engine did not adopt counts as CANCELLED); children of parents in
// algo_children_incomplete make the parent
// unresumable. Open orders whose parent_order_id names no open parent are passed as orphans (the
// runner cancels them). Call after engine.SetEventObserver routes events to `algos`.
// Hands state.strategy_ledgers to engine->RestoreStrategyLedgers (after engine->Restore) and
// logs what was rebuilt; without them (not requested, or not read), logs that the strategy
// ledgers start afresh when requested and does nothing else.
void RestoreStrategyLedgers(const PersistedState& state, ExecutionEngine* engine);

AlgoRunner::RestoreSummary RestoreAlgoParents(const PersistedState& state,
                                              const ExecutionEngine& engine, AlgoRunner* algos);

}  // namespace tickmesh::execution
