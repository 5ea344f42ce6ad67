#include "algos.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"

namespace tickmesh::execution {
namespace {

using Int128 = __int128;

constexpr int64_t kBpsScale = 10'000;

// a * b, false on overflow.
bool Mul(Int128 a, Int128 b, Int128* out) { return !__builtin_mul_overflow(a, b, out); }

// a + b, false on overflow.
bool Add(Int128 a, Int128 b, Int128* out) { return !__builtin_add_overflow(a, b, out); }

}  // namespace

absl::Status ValidateAlgoFields(const tickmesh::v1::OrderRequest& r) {
  const bool twap = r.algo() == tickmesh::v1::EXEC_ALGO_TWAP;
  const bool iceberg = r.algo() == tickmesh::v1::EXEC_ALGO_ICEBERG;
  const bool liquidity = r.algo() == tickmesh::v1::EXEC_ALGO_LIQUIDITY_AWARE;
  if (!twap && !iceberg && !liquidity) {
    return absl::InvalidArgumentError(
        "order.algo must be EXEC_ALGO_TWAP, EXEC_ALGO_ICEBERG or EXEC_ALGO_LIQUIDITY_AWARE");
  }
  const std::string name = tickmesh::v1::ExecAlgo_Name(r.algo());
  if (r.client_order_id().size() > kMaxParentClientIdLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("order.client_order_id must be at most ", kMaxParentClientIdLength,
                     " characters for an execution algorithm (children append /<n>)"));
  }
  if (r.qty_e8() <= 0) {
    return absl::InvalidArgumentError("order.qty_e8 must be > 0 for an execution algorithm");
  }
  if (r.time_in_force() != tickmesh::v1::TIME_IN_FORCE_UNSPECIFIED &&
      r.time_in_force() != tickmesh::v1::TIME_IN_FORCE_GTC) {
    return absl::InvalidArgumentError(
        "order.time_in_force: IOC and FOK are not valid with an execution algorithm");
  }
  if (r.algo_duration_ms() > kMaxAlgoDurationMs) {
    return absl::InvalidArgumentError(
        absl::StrCat("order.algo_duration_ms must be <= ", kMaxAlgoDurationMs));
  }
  if ((twap || liquidity) && r.algo_duration_ms() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("order.algo_duration_ms must be > 0 for ", name));
  }
  if (!iceberg && r.display_qty_e8() != 0) {
    return absl::InvalidArgumentError("order.display_qty_e8 is only valid with EXEC_ALGO_ICEBERG");
  }
  if (!liquidity && r.max_impact_bps() != 0) {
    return absl::InvalidArgumentError(
        "order.max_impact_bps is only valid with EXEC_ALGO_LIQUIDITY_AWARE");
  }
  if (iceberg) {
    if (r.type() != tickmesh::v1::ORDER_TYPE_LIMIT) {
      return absl::InvalidArgumentError(
          "order.type must be ORDER_TYPE_LIMIT for EXEC_ALGO_ICEBERG");
    }
    if (r.display_qty_e8() <= 0 || r.display_qty_e8() > r.qty_e8()) {
      return absl::InvalidArgumentError(
          "order.display_qty_e8 must be > 0 and <= order.qty_e8 for EXEC_ALGO_ICEBERG");
    }
  }
  if (liquidity && (r.max_impact_bps() == 0 || r.max_impact_bps() > 10'000)) {
    return absl::InvalidArgumentError(
        "order.max_impact_bps must be 1..10000 for EXEC_ALGO_LIQUIDITY_AWARE");
  }
  return absl::OkStatus();
}

TwapPlan PlanTwap(int64_t qty_e8, int64_t duration_ns, int64_t slice_interval_ns, int max_slices) {
  TwapPlan plan;
  if (qty_e8 <= 0 || duration_ns <= 0 || slice_interval_ns <= 0 || max_slices <= 1) return plan;
  const int64_t by_time = duration_ns / slice_interval_ns + (duration_ns % slice_interval_ns != 0);
  const int64_t n = std::min<int64_t>({by_time, max_slices, qty_e8});
  plan.slices = static_cast<int>(std::max<int64_t>(n, 1));
  return plan;
}

int64_t TwapSliceOffsetNs(int64_t duration_ns, int slices, int i) {
  if (slices <= 0 || i <= 0 || duration_ns <= 0) return 0;
  return static_cast<int64_t>(static_cast<Int128>(duration_ns) * i / slices);
}

int64_t TwapCumulativeTarget(int64_t qty_e8, int slices, int i) {
  if (qty_e8 <= 0) return 0;
  if (slices <= 1 || i + 1 >= slices) return qty_e8;
  if (i < 0) return 0;
  return static_cast<int64_t>(static_cast<Int128>(qty_e8) * (i + 1) / slices);
}

int64_t IcebergChildQty(int64_t remaining_e8, int64_t display_qty_e8) {
  if (remaining_e8 <= 0 || display_qty_e8 <= 0) return 0;
  return std::min(remaining_e8, display_qty_e8);
}

std::optional<ImpactSizing> SizeForImpact(tickmesh::v1::Side side,
                                          const tickmesh::v1::BookSnapshot& book,
                                          uint32_t max_impact_bps, int64_t limit_price_e8,
                                          int64_t max_qty_e8) {
  if (max_qty_e8 <= 0 || book.bids_size() == 0 || book.asks_size() == 0) return std::nullopt;
  const bool buy = side == tickmesh::v1::SIDE_BUY;
  if (!buy && side != tickmesh::v1::SIDE_SELL) return std::nullopt;
  const int64_t best_bid = book.bids(0).price_e8();
  const int64_t best_ask = book.asks(0).price_e8();
  if (best_bid <= 0 || best_ask <= 0) return std::nullopt;
  const int64_t mid = best_bid + (best_ask - best_bid) / 2;
  if (mid <= 0) return std::nullopt;

  // Bound on the VWAP, scaled by kBpsScale: buy VWAP*1e4 <= mid*(1e4+bps), sell >= mid*(1e4-bps).
  const Int128 bound =
      static_cast<Int128>(mid) *
      (buy ? kBpsScale + max_impact_bps
           : std::max<int64_t>(0, kBpsScale - static_cast<int64_t>(max_impact_bps)));
  const auto& levels = buy ? book.asks() : book.bids();

  Int128 taken = 0;  // Q
  Int128 cost = 0;   // C = sum price * qty (e16)
  int64_t worst = 0;
  int64_t prev_price = 0;
  for (const auto& level : levels) {
    const int64_t p = level.price_e8();
    const int64_t q = level.qty_e8();
    if (p <= 0 || q <= 0) break;
    if (prev_price != 0 && (buy ? p <= prev_price : p >= prev_price)) break;  // not best-first
    prev_price = p;
    if (limit_price_e8 > 0 && (buy ? p > limit_price_e8 : p < limit_price_e8)) break;
    const Int128 room = static_cast<Int128>(max_qty_e8) - taken;
    if (room <= 0) break;
    Int128 x = std::min<Int128>(q, room);
    const Int128 p_scaled = static_cast<Int128>(p) * kBpsScale;
    const bool within = buy ? p_scaled <= bound : p_scaled >= bound;
    bool last = false;
    if (!within) {
      // Largest x with 1e4*(C + p*x) within bound*(Q + x).
      Int128 bq, c_scaled;
      if (!Mul(bound, taken, &bq) || !Mul(cost, kBpsScale, &c_scaled)) break;
      const Int128 slack = buy ? bq - c_scaled : c_scaled - bq;
      const Int128 per_unit = buy ? p_scaled - bound : bound - p_scaled;
      const Int128 x_max = slack <= 0 ? 0 : slack / per_unit;
      x = std::min(x, x_max);
      last = true;
    }
    if (x <= 0) break;
    Int128 add_cost, new_cost;
    if (!Mul(p, x, &add_cost) || !Add(cost, add_cost, &new_cost)) break;
    // Keep 1e4 * C and bound * Q representable for the next level's check.
    Int128 check;
    if (!Mul(new_cost, kBpsScale, &check) || !Mul(bound, taken + x, &check)) break;
    cost = new_cost;
    taken += x;
    worst = p;
    if (last) break;
  }
  if (taken <= 0) return std::nullopt;
  ImpactSizing out;
  out.qty_e8 = static_cast<int64_t>(taken);
  out.worst_price_e8 = worst;
  out.mid_e8 = mid;
  // impact = (VWAP - mid) / mid * 1e4 for a buy (mid - VWAP for a sell), rounded up.
  const Int128 denom = static_cast<Int128>(mid) * taken;
  const Int128 num = (buy ? cost - denom : denom - cost) * kBpsScale;
  const Int128 bps = num <= 0 ? 0 : (num + denom - 1) / denom;
  out.impact_bps = static_cast<int64_t>(std::min<Int128>(bps, std::numeric_limits<int64_t>::max()));
  return out;
}

}  // namespace tickmesh::execution
