#include "risk.h"

#include "fixed_point.h"

namespace tickmesh::execution {
namespace {

RiskDecision Reject(const char* rule) { return RiskDecision{false, rule}; }

}  // namespace

RiskDecision RiskEngine::Check(const tickmesh::v1::OrderRequest& req,
                               const RiskContext& ctx) const {
  if (ctx.kill_switch_engaged) return Reject("kill_switch");
  if (req.qty_e8() <= 0) return Reject("qty");
  if (limits_.max_order_qty_e8 > 0 && req.qty_e8() > limits_.max_order_qty_e8) {
    return Reject("max_order_qty");
  }
  const bool is_limit = req.type() == tickmesh::v1::ORDER_TYPE_LIMIT;
  if (is_limit && limits_.price_band_bps > 0 && ctx.mid_e8 && *ctx.mid_e8 > 0) {
    // |price - mid| * 10000 <= band * mid, in 128 bits.
    const __int128 diff = static_cast<__int128>(req.price_e8()) - *ctx.mid_e8;
    const __int128 abs_diff = diff < 0 ? -diff : diff;
    if (abs_diff * 10'000 > static_cast<__int128>(limits_.price_band_bps) * *ctx.mid_e8) {
      return Reject("price_band");
    }
  }
  if (limits_.max_order_notional_e8 > 0) {
    std::optional<int64_t> ref;
    if (is_limit) {
      ref = req.price_e8();
    } else {
      ref = ctx.mid_e8;
    }
    if (ref) {
      auto notional = MulE8(*ref, req.qty_e8());
      if (!notional || *notional > limits_.max_order_notional_e8) {
        return Reject("max_order_notional");
      }
    }
  }
  if (limits_.max_position_e8 > 0) {
    const __int128 open = static_cast<__int128>(ctx.open_same_side_e8) + req.qty_e8();
    const __int128 projected = req.side() == tickmesh::v1::SIDE_BUY
                                   ? static_cast<__int128>(ctx.position_e8) + open
                                   : static_cast<__int128>(ctx.position_e8) - open;
    const __int128 abs_projected = projected < 0 ? -projected : projected;
    // An order that only reduces the position is always allowed.
    const __int128 abs_now = ctx.position_e8 < 0 ? -static_cast<__int128>(ctx.position_e8)
                                                 : static_cast<__int128>(ctx.position_e8);
    if (abs_projected > limits_.max_position_e8 && abs_projected > abs_now) {
      return Reject("max_position");
    }
  }
  return RiskDecision{};
}

}  // namespace tickmesh::execution
