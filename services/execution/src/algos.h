// Execution-algorithm scheduling logic without threads or clocks: how a TWAP parent is cut into
// slices over its duration, how big the next iceberg child is, and how large a child order may be
// so that its estimated impact on the current L2 book stays under a basis-point limit. AlgoRunner
// (algos_runner.h) drives these with a clock and the engine's Submit path; the functions here are
// pure so every number is tested directly.
//
// Quantities and prices are int64 e8; intermediate products use __int128 and refuse to overflow.
#pragma once

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "tickmesh/v1/common.pb.h"
#include "tickmesh/v1/execution.pb.h"
#include "tickmesh/v1/market_data.pb.h"

namespace tickmesh::execution {

// Longest client_order_id of a parent: children append "/<n>" (n < 10^7) within the 128
// characters an order id may have.
inline constexpr size_t kMaxParentClientIdLength = 120;
// Longest algo_duration_ms: 24 h.
inline constexpr uint32_t kMaxAlgoDurationMs = 86'400'000;

// Checks the algorithm fields of a TWAP / ICEBERG / LIQUIDITY_AWARE parent (the rest of the
// request is ExecutionEngine::ValidateRequest's). INVALID_ARGUMENT naming the field:
//  - order.client_order_id longer than kMaxParentClientIdLength;
//  - order.qty_e8 <= 0 (a parent is never checked by risk as a whole);
//  - order.time_in_force IOC / FOK (a parent works over time; its children get their own);
//  - order.algo_duration_ms 0 for TWAP and LIQUIDITY_AWARE, or above kMaxAlgoDurationMs
//    (optional for ICEBERG: 0 = until filled or cancelled);
//  - ICEBERG: order.type not LIMIT, order.display_qty_e8 not in 1..qty_e8;
//  - LIQUIDITY_AWARE: order.max_impact_bps not in 1..10000;
//  - order.display_qty_e8 / order.max_impact_bps set for an algorithm that does not use them.
// INVALID_ARGUMENT "order.algo" for a request that is not one of the three.
absl::Status ValidateAlgoFields(const tickmesh::v1::OrderRequest& request);

// How a TWAP parent is sliced: `slices` children, child i (0-based) due at
// TwapSliceOffsetNs(duration, slices, i) after the parent started.
struct TwapPlan {
  int slices = 1;
};

// Slices for a TWAP of `qty_e8` over `duration_ns` with one child per `slice_interval_ns`:
// ceil(duration / interval), at least 1, at most `max_slices` and at most qty_e8 (every slice gets
// at least one e8 unit). Non-positive inputs give one slice.
TwapPlan PlanTwap(int64_t qty_e8, int64_t duration_ns, int64_t slice_interval_ns, int max_slices);

// Offset from the parent's start at which slice `i` of `slices` is due: duration * i / slices
// (slice 0 at once, the last one at duration * (slices - 1) / slices).
int64_t TwapSliceOffsetNs(int64_t duration_ns, int slices, int i);

// Quantity the schedule wants done once slice `i` (0-based) has been sent:
// floor(qty * (i + 1) / slices); exactly qty for the last slice. A child's size is this target
// minus what is already filled, so an unfilled slice is caught up by the next one.
int64_t TwapCumulativeTarget(int64_t qty_e8, int slices, int i);

// Size of the next iceberg child: min(display, remaining); 0 when nothing remains.
int64_t IcebergChildQty(int64_t remaining_e8, int64_t display_qty_e8);

// Result of sizing a child order against a book (see SizeForImpact).
struct ImpactSizing {
  // Largest quantity whose estimated impact stays within the limit (> 0).
  int64_t qty_e8 = 0;
  // Price of the deepest level that quantity reaches: the child's protective limit price.
  int64_t worst_price_e8 = 0;
  // (best bid + best ask) / 2 the impact is measured from.
  int64_t mid_e8 = 0;
  // Estimated impact of qty_e8 in bps (volume-weighted price of walking the levels vs mid,
  // positive = worse for the side), rounded up.
  int64_t impact_bps = 0;
};

// Sizes a child order of `side` so that the volume-weighted average price of walking the
// opposite side of `book` (asks for a buy, bids for a sell; levels best first as in
// BookSnapshot) is at most `max_impact_bps` worse than the mid of the best bid and ask:
//   buy:  VWAP(q) <= mid * (1 + bps / 10 000);  sell: VWAP(q) >= mid * (1 - bps / 10 000).
// The answer is the largest such q (exact, integer arithmetic), at most `max_qty_e8`, using only
// levels no worse than `limit_price_e8` (0 = no limit). VWAP grows with q, so the first level
// that would break the limit is taken partly and the walk stops there.
// nullopt when nothing can be sent now: a side of the book is empty (no mid), max_qty_e8 <= 0,
// or even the first e8 unit would exceed the limit (e.g. the half-spread is wider than it).
// Levels with a non-positive price or quantity, or out of best-first order, end the walk (a
// malformed book never produces a larger child); so does any product that would overflow.
std::optional<ImpactSizing> SizeForImpact(tickmesh::v1::Side side,
                                          const tickmesh::v1::BookSnapshot& book,
                                          uint32_t max_impact_bps, int64_t limit_price_e8,
                                          int64_t max_qty_e8);

}  // namespace tickmesh::execution
