#include "risk.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fixed_point.h"
#include "order_manager.h"

namespace tickmesh::execution {
namespace {

RiskDecision Reject(const char* rule) { return RiskDecision{false, rule}; }

__int128 Abs128(__int128 v) { return v < 0 ? -v : v; }

// Worst-case position once every open same-side order and this one fill.
__int128 ProjectedPosition(const tickmesh::v1::OrderRequest& req, const RiskContext& ctx) {
  const __int128 open = static_cast<__int128>(ctx.open_same_side_e8) + req.qty_e8();
  return req.side() == tickmesh::v1::SIDE_BUY ? static_cast<__int128>(ctx.position_e8) + open
                                              : static_cast<__int128>(ctx.position_e8) - open;
}

std::string OpenKey(const std::string& venue, const std::string& symbol, tickmesh::v1::Side side) {
  return absl::StrCat(venue, "\x1f", symbol, "\x1f", static_cast<int>(side));
}

const std::string& OtherPool() {
  static const std::string* const kOther = new std::string("other");
  return *kOther;
}

}  // namespace

RiskDecision RiskEngine::Check(const RiskLimits& limits, const tickmesh::v1::OrderRequest& req,
                               const RiskContext& ctx) {
  if (ctx.kill_switch_engaged) return Reject("kill_switch");
  if (req.qty_e8() <= 0) return Reject("qty");
  if (limits.max_order_qty_e8 > 0 && req.qty_e8() > limits.max_order_qty_e8) {
    return Reject("max_order_qty");
  }
  const bool is_limit = req.type() == tickmesh::v1::ORDER_TYPE_LIMIT;
  if (is_limit && limits.price_band_bps > 0 && ctx.mid_e8 && *ctx.mid_e8 > 0) {
    // |price - mid| * 10000 <= band * mid, in 128 bits.
    const __int128 diff = static_cast<__int128>(req.price_e8()) - *ctx.mid_e8;
    if (Abs128(diff) * 10'000 > static_cast<__int128>(limits.price_band_bps) * *ctx.mid_e8) {
      return Reject("price_band");
    }
  }
  if (limits.max_order_notional_e8 > 0) {
    std::optional<int64_t> ref;
    if (is_limit) {
      ref = req.price_e8();
    } else {
      ref = ctx.mid_e8;
    }
    if (ref) {
      auto notional = MulE8(*ref, req.qty_e8());
      if (!notional || *notional > limits.max_order_notional_e8) {
        return Reject("max_order_notional");
      }
    }
  }
  const __int128 now = ctx.position_e8;
  if (limits.max_position_e8 > 0) {
    const __int128 abs_projected = Abs128(ProjectedPosition(req, ctx));
    // An order that only reduces the position is always allowed.
    if (abs_projected > limits.max_position_e8 && abs_projected > Abs128(now)) {
      return Reject("max_position");
    }
  }
  if (limits.max_open_orders > 0 && ctx.open_orders >= limits.max_open_orders) {
    return Reject("max_open_orders");
  }
  if (limits.max_daily_loss_e8 > 0 && ctx.daily_pnl_e8 &&
      *ctx.daily_pnl_e8 < -limits.max_daily_loss_e8) {
    // Past the loss limit only orders that bring the position towards flat (without crossing
    // it, even if every open same-side order fills too) are let through.
    const __int128 projected = ProjectedPosition(req, ctx);
    const bool reduces = now > 0   ? projected >= 0 && projected < now
                         : now < 0 ? projected <= 0 && projected > now
                                   : false;
    if (!reduces) return Reject("max_daily_loss");
  }
  return RiskDecision{};
}

int64_t TradingDay(int64_t unix_ns, int reset_hour_utc) {
  constexpr int64_t kHourNs = 3'600'000'000'000;
  constexpr int64_t kDayNs = 24 * kHourNs;
  const __int128 shifted = static_cast<__int128>(unix_ns) - reset_hour_utc * kHourNs;
  __int128 day = shifted / kDayNs;
  if (shifted % kDayNs < 0) --day;  // floor for times before the epoch
  return static_cast<int64_t>(day);
}

RiskBook::RiskBook(RiskLimits account, StrategyLimits strategies, int day_reset_hour_utc,
                   std::function<int64_t()> clock)
    : account_(account),
      strategies_(std::move(strategies)),
      reset_hour_(day_reset_hour_utc),
      clock_(std::move(clock)) {
  for (const auto& [name, limits] : strategies_.named) pools_.emplace(name, Pool_(limits));
  if (strategies_.default_limits) {
    pools_.emplace(OtherPool(), Pool_(*strategies_.default_limits));
  }
}

const std::string& RiskBook::Pool(const std::string& strategy) const {
  auto it = strategies_.named.find(strategy);
  return it != strategies_.named.end() ? it->first : OtherPool();
}

const RiskLimits* RiskBook::PoolLimits(const std::string& pool) const {
  auto it = pools_.find(pool);
  return it == pools_.end() ? nullptr : &it->second.limits;
}

RiskBook::Pool_* RiskBook::FindPool(const std::string& strategy) {
  if (pools_.empty()) return nullptr;
  auto it = pools_.find(Pool(strategy));
  return it == pools_.end() ? nullptr : &it->second;
}

int64_t RiskBook::Saturate(__int128 v) {
  if (v > INT64_MAX) return INT64_MAX;
  if (v < INT64_MIN) return INT64_MIN;
  return static_cast<int64_t>(v);
}

int64_t RiskBook::TotalPnl(const Portfolio& portfolio, const MarkFn& mark,
                           const InstrumentSet* only, const InstrumentSet* unmarked) {
  __int128 total = 0;
  portfolio.ForEachPosition([&](const tickmesh::v1::Position& p) {
    if (only != nullptr && only->count({p.venue(), p.symbol()}) == 0) return;
    total += p.realized_pnl_e8();
    if (p.qty_e8() == 0) return;
    if (unmarked != nullptr && !unmarked->empty() && unmarked->count({p.venue(), p.symbol()})) {
      return;  // entry price unknown: realised only
    }
    std::optional<int64_t> m = mark ? mark(p.venue(), p.symbol()) : std::nullopt;
    if (m && *m > 0) {
      last_mark_[&p] = *m;
    } else if (auto it = last_mark_.find(&p); it != last_mark_.end()) {
      m = it->second;
    } else {
      return;  // never marked: realised only
    }
    total += static_cast<__int128>(p.qty_e8()) *
             (static_cast<__int128>(*m) - p.avg_entry_price_e8()) / kE8;
  });
  return Saturate(total);
}

int64_t RiskBook::CachedTotal(const Portfolio& p, const MarkFn& mark, int64_t* cached,
                              uint64_t* epoch) {
  if (*epoch != pnl_epoch_) {
    *cached = TotalPnl(p, mark);
    *epoch = pnl_epoch_;
  }
  return *cached;
}

int64_t RiskBook::PoolTotal(Pool_& pool, const MarkFn& mark) {
  if (!pool.unknown_cost.empty() && mark) {
    // A restored position whose entry price is unknown takes the first mark as its entry.
    for (auto it = pool.unknown_cost.begin(); it != pool.unknown_cost.end();) {
      const std::optional<int64_t> m = mark(it->first, it->second);
      if (!m || *m <= 0) {
        ++it;
        continue;
      }
      tickmesh::v1::Position p = pool.portfolio.GetPosition(it->first, it->second, 0);
      p.set_avg_entry_price_e8(*m);
      (void)pool.portfolio.RestorePosition(p);  // valid: it was restored with this symbol
      pool.cached_epoch = 0;
      it = pool.unknown_cost.erase(it);
    }
  }
  if (pool.cached_epoch != pnl_epoch_) {
    pool.cached_total_e8 = TotalPnl(pool.portfolio, mark, nullptr, &pool.unknown_cost);
    pool.cached_epoch = pnl_epoch_;
  }
  return pool.cached_total_e8;
}

RiskBook::SeedSummary RiskBook::SeedStrategyLedgers(int64_t day,
                                                    const std::vector<StrategyLedgerSeed>& seeds,
                                                    const Portfolio& account) {
  SeedSummary out;
  struct Rows {
    std::vector<const StrategyLedgerSeed*> rows;
  };
  std::map<std::tuple<Pool_*, std::string, std::string>, Rows> grouped;
  for (const StrategyLedgerSeed& s : seeds) {
    Pool_* pool = FindPool(s.strategy);
    if (pool == nullptr) continue;
    grouped[{pool, s.venue, s.symbol}].rows.push_back(&s);
  }
  for (auto& [name, pool] : pools_) {
    pool.seed_day = day;
    pool.seed_carried.clear();
    pool.unknown_cost.clear();
  }
  for (const auto& [key, group] : grouped) {
    const auto& [pool, venue, symbol] = key;
    const tickmesh::v1::Position held = account.GetPosition(venue, symbol, 0);
    bool carried = false, unknown = false;
    __int128 qty = 0, signed_cost_e16 = 0, realized = 0;
    std::vector<std::pair<__int128, int64_t>> legs;  // (net qty, entry price) per strategy
    for (const StrategyLedgerSeed* s : group.rows) {
      int64_t entry = s->day_avg_entry_price_e8;
      if (s->opening_qty_e8 != 0) {
        carried = true;
        entry = held.qty_e8() != 0 && held.avg_entry_price_e8() > 0 ? held.avg_entry_price_e8()
                                                                    : s->day_avg_entry_price_e8;
      } else {
        realized += s->day_realized_pnl_e8;
      }
      if (s->net_qty_e8 != 0 && entry <= 0) unknown = true;
      qty += s->net_qty_e8;
      signed_cost_e16 += static_cast<__int128>(s->net_qty_e8) * entry;
      legs.emplace_back(s->net_qty_e8, entry);
    }
    // Entry price: the mean of the legs on the net's side; realised takes up the rest so that
    // realised + qty * (mark - entry) equals the legs' sum at every mark.
    __int128 side_qty = 0, side_cost = 0;
    for (const auto& [q, e] : legs) {
      if (q != 0 && e > 0 && (q > 0) == (qty > 0)) {
        side_qty += q > 0 ? q : -q;
        side_cost += (q > 0 ? q : -q) * e;
      }
    }
    int64_t entry = 0;
    if (qty != 0 && !unknown && side_qty > 0) {
      entry = static_cast<int64_t>(side_cost / side_qty);
      realized += (qty * entry - signed_cost_e16) / kE8;
    } else if (qty != 0) {
      unknown = true;
    }
    tickmesh::v1::Position p;
    p.set_venue(venue);
    p.set_symbol(symbol);
    p.set_qty_e8(Saturate(qty));
    p.set_avg_entry_price_e8(entry);
    p.set_realized_pnl_e8(Saturate(realized));
    if (!pool->portfolio.RestorePosition(p).ok()) {
      ++out.skipped;
      continue;
    }
    ++out.positions;
    if (carried) pool->seed_carried.insert({venue, symbol});
    if (unknown) pool->unknown_cost.insert({venue, symbol});
  }
  for (auto& [name, pool] : pools_) pool.cached_epoch = 0;
  day_.reset();
  return out;
}

void RiskBook::RollDay(const Portfolio& account, const MarkFn& mark) {
  const int64_t now = clock_ ? clock_()
                             : std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
  const int64_t d = TradingDay(now, reset_hour_);
  // Same day, or a clock stepping back: keep the baselines.
  if (day_ && d <= *day_) return;
  const bool seeded = !day_ && seed_ && seed_->first == d;
  account_baseline_e8_ =
      seeded ? seed_->second
             : CachedTotal(account, mark, &account_cached_total_e8_, &account_cached_epoch_);
  for (auto& [name, pool] : pools_) {
    if (!day_ && pool.seed_day == d) {
      // First roll after a restart, on the day the seeds describe: only positions carried into
      // the day enter the baseline (see SeedStrategyLedgers).
      (void)PoolTotal(pool, mark);  // prices unknown entries first
      pool.baseline_e8 = TotalPnl(pool.portfolio, mark, &pool.seed_carried, &pool.unknown_cost);
    } else {
      pool.baseline_e8 = PoolTotal(pool, mark);
    }
  }
  day_ = d;
  if (!seeded && on_roll_) on_roll_(d, account_baseline_e8_);
}

int64_t RiskBook::AccountDailyPnl(const Portfolio& account, const MarkFn& mark) {
  return Saturate(static_cast<__int128>(CachedTotal(account, mark, &account_cached_total_e8_,
                                                    &account_cached_epoch_)) -
                  account_baseline_e8_);
}

std::optional<int64_t> RiskBook::PoolDailyPnl(const std::string& pool, const MarkFn& mark) {
  auto it = pools_.find(pool);
  if (it == pools_.end()) return std::nullopt;
  return Saturate(static_cast<__int128>(PoolTotal(it->second, mark)) - it->second.baseline_e8);
}

int64_t RiskBook::PoolOpenOrders(const std::string& pool) const {
  auto it = pools_.find(pool);
  return it == pools_.end() ? 0 : it->second.open_orders;
}

int64_t RiskBook::PoolPosition(const std::string& pool, const std::string& venue,
                               const std::string& symbol) const {
  auto it = pools_.find(pool);
  return it == pools_.end() ? 0 : it->second.portfolio.PositionQty(venue, symbol);
}

RiskBook::Decision RiskBook::Check(const tickmesh::v1::OrderRequest& req, const Account& account,
                                   const MarkFn& mark) {
  Decision out;
  out.pool = &Pool(req.strategy());
  if (account.portfolio != nullptr) RollDay(*account.portfolio, mark);
  RiskContext ctx = account.ctx;
  ctx.daily_pnl_e8.reset();
  if (account_.limits().max_daily_loss_e8 > 0 && account.portfolio != nullptr) {
    ctx.daily_pnl_e8 = AccountDailyPnl(*account.portfolio, mark);
  }
  out.decision = account_.Check(req, ctx);
  if (!out.decision.ok) {
    out.scope = "account";
    return out;
  }
  Pool_* pool = FindPool(req.strategy());
  if (pool == nullptr) return out;
  RiskContext sctx;
  sctx.mid_e8 = ctx.mid_e8;
  sctx.position_e8 = pool->portfolio.PositionQty(req.venue(), req.symbol());
  if (!pool->open_remaining.empty()) {
    auto it = pool->open_remaining.find(OpenKey(req.venue(), req.symbol(), req.side()));
    if (it != pool->open_remaining.end()) sctx.open_same_side_e8 = it->second;
  }
  sctx.open_orders = pool->open_orders;
  if (pool->limits.max_daily_loss_e8 > 0) {
    sctx.daily_pnl_e8 = Saturate(static_cast<__int128>(PoolTotal(*pool, mark)) - pool->baseline_e8);
  }
  out.decision = RiskEngine::Check(pool->limits, req, sctx);
  if (!out.decision.ok) out.scope = "strategy";
  return out;
}

void RiskBook::OnOrder(const tickmesh::v1::Order& order) {
  if (pools_.empty()) return;
  const bool open = !OrderManager::IsTerminal(order.status());
  const int64_t remaining = open ? std::max<int64_t>(0, order.qty_e8() - order.filled_qty_e8()) : 0;
  auto it = open_.find(order.order_id());
  if (it == open_.end()) {
    if (!open) return;
    Pool_* pool = FindPool(order.strategy());
    if (pool == nullptr) return;
    std::string key = OpenKey(order.venue(), order.symbol(), order.side());
    pool->open_remaining[key] += remaining;
    ++pool->open_orders;
    open_.emplace(order.order_id(), OpenEntry{pool, std::move(key), remaining});
    return;
  }
  OpenEntry& e = it->second;
  auto rem = e.pool->open_remaining.find(e.key);
  if (rem != e.pool->open_remaining.end()) rem->second += remaining - e.remaining;
  if (open) {
    e.remaining = remaining;
    return;
  }
  --e.pool->open_orders;
  if (rem != e.pool->open_remaining.end() && rem->second == 0) e.pool->open_remaining.erase(rem);
  open_.erase(it);
}

absl::Status RiskBook::OnFill(const tickmesh::v1::Fill& fill, const std::string& strategy) {
  Pool_* pool = FindPool(strategy);
  if (pool == nullptr) return absl::OkStatus();
  pool->cached_epoch = 0;
  if (!pool->unknown_cost.empty()) {
    // A restored position whose entry price is still unknown takes this fill's price.
    auto it = pool->unknown_cost.find({fill.venue(), fill.symbol()});
    if (it != pool->unknown_cost.end() && fill.price_e8() > 0) {
      tickmesh::v1::Position p = pool->portfolio.GetPosition(fill.venue(), fill.symbol(), 0);
      p.set_avg_entry_price_e8(fill.price_e8());
      (void)pool->portfolio.RestorePosition(p);
      pool->unknown_cost.erase(it);
    }
  }
  return pool->portfolio.ApplyFill(fill);
}

}  // namespace tickmesh::execution
