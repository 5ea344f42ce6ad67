// The read side: turns Query*Request protos into SQL (the same text for both backends), runs it
// on a Store and builds the responses. Pure logic over a Store; no threads, no gRPC.
//
// Pagination: results are ordered by time then id (orders by created_unix_ns, fills and signals
// by unix_ns, candles by open_unix_ns), ascending. A page holds at most `limit` rows (0 -> 100,
// above 10 000 -> INVALID_ARGUMENT); next_page_token is an opaque keyset cursor (the sort key of
// the last row), so deep pages cost the same as the first and concurrent inserts never shift
// rows between pages.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "store.h"
#include "tickmesh/v1/persistence.pb.h"

namespace tickmesh::persistence {

inline constexpr uint32_t kDefaultPageLimit = 100;
inline constexpr uint32_t kMaxPageLimit = 10000;

// Each returns INVALID_ARGUMENT naming the field for a bad limit, page token or time range,
// UNAVAILABLE when the database is down, INTERNAL when a stored row cannot be decoded. I/O.
absl::StatusOr<v1::QueryOrdersResponse> QueryOrders(Store& store,
                                                    const v1::QueryOrdersRequest& request);
absl::StatusOr<v1::QueryFillsResponse> QueryFills(Store& store,
                                                  const v1::QueryFillsRequest& request);
// Latest row per (venue, symbol), ordered by venue, symbol.
absl::StatusOr<v1::QueryPositionsResponse> QueryPositions(Store& store,
                                                          const v1::QueryPositionsRequest& request);
// Latest row per (venue, asset), ordered by venue, asset.
absl::StatusOr<v1::QueryBalancesResponse> QueryBalances(Store& store,
                                                        const v1::QueryBalancesRequest& request);
absl::StatusOr<v1::QueryCandlesResponse> QueryCandles(Store& store,
                                                      const v1::QueryCandlesRequest& request);
absl::StatusOr<v1::QuerySignalsResponse> QuerySignals(Store& store,
                                                      const v1::QuerySignalsRequest& request);
// Realised PnL per (venue, symbol) from the fills in the time range, average-cost method, in
// exact integer arithmetic (128-bit intermediates; results truncate toward zero). Fills before
// the range are not considered (the range starts flat). Fees are summed separately, not netted.
absl::StatusOr<v1::QueryPnlResponse> QueryPnl(Store& store, const v1::QueryPnlRequest& request);

// Per (strategy, venue, symbol), the strategy being that of each fill's order (fills LEFT JOIN
// orders on order_id; "" when the order is not stored): net and opening quantity from one GROUP BY
// in the database (every fill before time.to, not read into the service), and the range fields
// (realised PnL, fees, bought, sold, count, entry price of the resulting position) from a walk of
// the fills in the range only, in (unix_ns, fill_id) order (the fills_time index), in chunks of
// 5000 — like QueryPnl, the range starts flat. Ordered by strategy, venue, symbol.
// INVALID_ARGUMENT for a bad time range; OUT_OF_RANGE beyond kMaxPageLimit groups (filter by
// strategy, venue or symbol); an error when a sum overflows int64 (the database refuses
// it); UNAVAILABLE when the database is down. I/O.
absl::StatusOr<v1::QueryStrategyPositionsResponse> QueryStrategyPositions(
    Store& store, const v1::QueryStrategyPositionsRequest& request);

// Average-cost PnL over fills already ordered by time (exposed for unit tests).
class PnlAccumulator {
 public:
  void Add(v1::Side side, int64_t price_e8, int64_t qty_e8, int64_t fee_e8);
  // Fills the numeric fields of `out` (not venue/symbol).
  void Fill(v1::SymbolPnl* out) const;
  // Signed open position and its average entry price (cost / |position|, truncated; 0 when
  // flat), saturated to int64.
  int64_t position_e8() const;
  int64_t avg_entry_price_e8() const;

 private:
  __int128 position_e8_ = 0;   // signed
  __int128 cost_e16_ = 0;      // cost basis of the open position, qty_e8 * price_e8
  __int128 realized_e16_ = 0;  // qty_e8 * price_e8 units
  int64_t fees_e8_ = 0;
  int64_t bought_e8_ = 0;
  int64_t sold_e8_ = 0;
  uint64_t count_ = 0;
};

}  // namespace tickmesh::persistence
