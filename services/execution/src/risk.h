// Pre-trade risk: the checks every order passes before it reaches a venue.
//
// Rules, in the order they are checked (the first failing rule is reported):
//   kill_switch        the kill switch is engaged
//   qty                qty_e8 must be > 0
//   max_order_qty      qty_e8 <= max_order_qty_e8
//   price_band         LIMIT price within price_band_bps of the mid (skipped without a mid)
//   max_order_notional qty * reference price <= max_order_notional_e8; the reference is the
//                      limit price for LIMIT orders and the mid for MARKET orders (skipped for a
//                      MARKET order without a mid: the venue rejects it as venue:no_market)
//   max_position       worst-case |position + open same-side qty + this order| <= max_position_e8
// A limit of 0 disables that rule. The rejection reason is "risk:<rule>".
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tickmesh/v1/execution.pb.h"

namespace tickmesh::execution {

struct RiskLimits {
  int64_t max_order_qty_e8 = 0;
  int64_t max_order_notional_e8 = 0;
  int64_t max_position_e8 = 0;
  int64_t price_band_bps = 0;
};

// What the risk check needs to know about the world for one order.
struct RiskContext {
  bool kill_switch_engaged = false;
  // Signed current position in the order's (venue, symbol).
  int64_t position_e8 = 0;
  // Remaining qty of other open orders on the same side of the same (venue, symbol).
  int64_t open_same_side_e8 = 0;
  // Current mid, if the book is usable.
  std::optional<int64_t> mid_e8;
};

struct RiskDecision {
  bool ok = true;
  // Rule name when !ok, e.g. "max_order_notional".
  std::string rule;
  // "risk:<rule>" when !ok.
  std::string reason() const { return ok ? std::string() : "risk:" + rule; }
};

class RiskEngine {
 public:
  explicit RiskEngine(RiskLimits limits) : limits_(limits) {}

  // Pure: no state is changed. Quantities or prices so large that a product overflows int64 fail
  // the rule they were used in.
  RiskDecision Check(const tickmesh::v1::OrderRequest& request, const RiskContext& ctx) const;

  const RiskLimits& limits() const { return limits_; }

 private:
  RiskLimits limits_;
};

}  // namespace tickmesh::execution
