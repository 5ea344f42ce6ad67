// Pre-trade risk: the checks every order passes before it reaches a venue, account-wide and per
// strategy, and the book-keeping those checks need (per-strategy positions, open orders and the
// trading day's PnL baseline).
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
//                      (an order that only reduces |position| always passes)
//   max_open_orders    open orders (before this one) < max_open_orders
//   max_daily_loss     PnL since the start of the trading day >= -max_daily_loss_e8, or the order
//                      reduces the position: worst case (with open same-side orders) it moves the
//                      position towards zero without crossing it. Cancels never go through risk.
// A limit of 0 disables that rule. The rejection reason is "risk:<rule>", the same for the
// account-wide and the per-strategy limits (metrics tell the scope apart).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "portfolio.h"
#include "tickmesh/v1/execution.pb.h"

namespace tickmesh::execution {

struct RiskLimits {
  int64_t max_order_qty_e8 = 0;
  int64_t max_order_notional_e8 = 0;
  int64_t max_position_e8 = 0;
  int64_t price_band_bps = 0;
  // Count of open (non-terminal) orders.
  int64_t max_open_orders = 0;
  // Loss in quote units (PnL of every quote asset summed as is, no FX conversion).
  int64_t max_daily_loss_e8 = 0;
};

// What the risk check needs to know about the world for one order, in one scope (the account,
// or one strategy's own orders and fills).
struct RiskContext {
  bool kill_switch_engaged = false;
  // Signed current position in the order's (venue, symbol).
  int64_t position_e8 = 0;
  // Remaining qty of other open orders on the same side of the same (venue, symbol).
  int64_t open_same_side_e8 = 0;
  // Current mid, if the book is usable.
  std::optional<int64_t> mid_e8;
  // Open orders, not counting this one.
  int64_t open_orders = 0;
  // Realised + unrealised PnL since the start of the trading day; nullopt = unknown (the
  // max_daily_loss rule is skipped).
  std::optional<int64_t> daily_pnl_e8;
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
  // the rule they were used in. Allocates nothing when the order passes.
  RiskDecision Check(const tickmesh::v1::OrderRequest& request, const RiskContext& ctx) const {
    return Check(limits_, request, ctx);
  }
  static RiskDecision Check(const RiskLimits& limits, const tickmesh::v1::OrderRequest& request,
                            const RiskContext& ctx);

  const RiskLimits& limits() const { return limits_; }

 private:
  RiskLimits limits_;
};

// Per-strategy limits. A strategy named in `named` is held to those limits over its own orders
// and fills; every strategy not named shares `default_limits` (when set) as one pool, reported as
// strategy "other" — one pool keeps memory bounded whatever strategy names clients send, and is
// the conservative reading. The account-wide limits apply to every order in addition.
struct StrategyLimits {
  std::map<std::string, RiskLimits> named;
  std::optional<RiskLimits> default_limits;
  bool empty() const { return named.empty() && !default_limits; }
};

// Index of the trading day containing `unix_ns` for days starting at `reset_hour_utc`:00 UTC
// (0..23): floor((unix_ns - reset_hour_utc h) / 24 h).
int64_t TradingDay(int64_t unix_ns, int reset_hour_utc);

// Mid used to mark a position; nullopt when the book is not usable.
using MarkFn =
    std::function<std::optional<int64_t>(const std::string& venue, const std::string& symbol)>;

// One strategy's ledger for one (venue, symbol), as rebuilt at restart from the persisted fills
// (persistence QueryStrategyPositions with the current trading day's start as range start).
struct StrategyLedgerSeed {
  std::string strategy;
  std::string venue;
  std::string symbol;
  // Bought - sold over every persisted fill of the strategy.
  int64_t net_qty_e8 = 0;
  // Bought - sold over the fills before the trading day started: the position carried in.
  int64_t opening_qty_e8 = 0;
  // The day's fills walked from flat: average-cost realised PnL, and the average entry price of
  // the position they leave. They describe the strategy exactly only when opening_qty_e8 is 0.
  int64_t day_realized_pnl_e8 = 0;
  int64_t day_avg_entry_price_e8 = 0;
};

// RiskBook: the account-wide and per-strategy risk checks of ExecutionEngine and their state.
//
// Per strategy pool it tracks open orders (count and remaining qty per venue, symbol, side, from
// every order change the engine publishes) and a Portfolio of its own fills (net position and
// average-cost PnL per venue and symbol). The account scope uses the engine's Portfolio and
// OrderManager, passed in per call.
//
// Daily PnL is realised + unrealised (marked at the current mid, or the last mid seen while a
// book is unusable) minus the same figure taken when the trading day started. Marking walks every
// position of the scope, so each scope's figure is cached until InvalidatePnl (the owner calls it
// whenever a mark or a position may have changed: market data, fills, restores). The day rolls over
// lazily: at the first risk check or fill after the boundary (call RollDay before the fill is
// applied to any portfolio), so the baseline is taken at that moment. The account's baseline can
// be kept across a restart by the owner (SetOnRoll to store it, SeedAccountBaseline to give it
// back); without that, and for strategy pools always, the baseline after a restart is taken at the
// first check or fill from the restored positions. Strategy pools are rebuilt from the persisted
// fills by SeedStrategyLedgers (positions, and the day's PnL as far as fills tell it). See README
// "Risk limits".
//
// Not thread-safe: the owner serialises calls. Memory: one entry per open order of a limited
// strategy, one Portfolio per strategy pool.
class RiskBook {
 public:
  // `clock` returns unix ns (the trading day); null = the wall clock.
  RiskBook(RiskLimits account, StrategyLimits strategies, int day_reset_hour_utc,
           std::function<int64_t()> clock);

  // The strategy pool an order's strategy belongs to: its own name when named, "other" when
  // not (whether or not default limits exist). Stable reference.
  const std::string& Pool(const std::string& strategy) const;
  // Limits of that pool, nullptr when none apply.
  const RiskLimits* PoolLimits(const std::string& pool) const;

  // What the account scope knows for one order, filled in by the engine. daily_pnl_e8 and
  // open_orders are ignored: RiskBook computes the first and takes the second from here.
  struct Account {
    RiskContext ctx;
    const Portfolio* portfolio = nullptr;
  };
  struct Decision {
    RiskDecision decision;
    // "account" or "strategy" when rejected.
    const char* scope = "";
    // Pool of the order's strategy (see Pool).
    const std::string* pool = nullptr;
  };
  // Rolls the day if due, then checks the account limits, then the strategy pool's limits.
  // Computes daily PnL only for scopes with max_daily_loss enabled (O(positions in scope)).
  Decision Check(const tickmesh::v1::OrderRequest& request, const Account& account,
                 const MarkFn& mark);

  // Takes the new day's baselines if the trading day changed since the last call. Call before a
  // fill is applied (to the account portfolio too).
  void RollDay(const Portfolio& account, const MarkFn& mark);

  // Restart: the account baseline stored for trading day `day`. If the first roll lands on that
  // day, it is used instead of the restored positions' PnL (a loss taken earlier that day still
  // counts); otherwise it is ignored.
  void SeedAccountBaseline(int64_t day, int64_t baseline_e8) { seed_ = {day, baseline_e8}; }
  // Forgets the current day: the next check or fill takes the baselines again (or the seed).
  // For restart reconciliation, which replaces the positions the baselines were taken from.
  void ResetDay() { day_.reset(); }
  // Restart: rebuilds the strategy pools' ledgers, for trading day `day`, from `seeds` (several
  // strategies of the "other" pool are summed; strategies without a pool are ignored). Per pool
  // and (venue, symbol), the position is set (replacing any held) to the net quantity:
  //  - flat at the day's start (every seed's opening_qty_e8 is 0): entry price and realised PnL
  //    from the day's fills, and the pool's day baseline does not include it, so the pool's daily
  //    PnL counts today's realised PnL and the unrealised PnL since entry;
  //  - carried into the day: its PnL at the day's start needs that day's first mark, which is
  //    not persisted, so it enters the pool's baseline at the first roll after the restart (its
  //    PnL counts from then on); entry price is the account's for the instrument (the strategy's
  //    position is part of it), else the day's fills', else (unknown) the first mark seen or the
  //    price of the next fill, and until then it is not marked.
  // Several strategies in one pool: entry price is the mean of those on the net's side, and the
  // realised PnL absorbs the difference, so realised + unrealised equals their sum at any mark.
  // Then forgets the current day (like ResetDay). A seed the portfolio refuses (symbol not
  // BASE-QUOTE, empty venue) is skipped and counted.
  struct SeedSummary {
    size_t positions = 0;  // (pool, venue, symbol) set
    size_t skipped = 0;
  };
  SeedSummary SeedStrategyLedgers(int64_t day, const std::vector<StrategyLedgerSeed>& seeds,
                                  const Portfolio& account);

  // Called (under the owner's serialisation) with each new day and its account baseline when
  // one is taken, e.g. to store it for SeedAccountBaseline. Not called when a seed is used.
  void SetOnRoll(std::function<void(int64_t day, int64_t account_baseline_e8)> on_roll) {
    on_roll_ = std::move(on_roll);
  }

  // Drops the cached PnL of every scope. Must be called after any change of a mark (book) or of
  // the account portfolio; fills passed to OnFill invalidate their pool themselves.
  void InvalidatePnl() { ++pnl_epoch_; }

  // An order changed (every published order event, and restored open orders): keeps the pool's
  // open orders and remaining qty. No-op for strategies without limits.
  void OnOrder(const tickmesh::v1::Order& order);
  // A fill of an order of `strategy`: applied to the pool's Portfolio (no-op without limits).
  // Errors as Portfolio::ApplyFill (nothing changed).
  absl::Status OnFill(const tickmesh::v1::Fill& fill, const std::string& strategy);

  // Daily PnL of the account / of a pool now (call RollDay first; before the first roll it is
  // the PnL since the start); nullopt for a pool without limits.
  int64_t AccountDailyPnl(const Portfolio& account, const MarkFn& mark);
  std::optional<int64_t> PoolDailyPnl(const std::string& pool, const MarkFn& mark);
  // Open orders / net position of a pool (0 when unknown).
  int64_t PoolOpenOrders(const std::string& pool) const;
  int64_t PoolPosition(const std::string& pool, const std::string& venue,
                       const std::string& symbol) const;
  // The current trading day (TradingDay of the last roll), nullopt before the first.
  std::optional<int64_t> day() const { return day_; }
  const RiskLimits& account_limits() const { return account_.limits(); }
  const StrategyLimits& strategy_limits() const { return strategies_; }

 private:
  struct Pool_ {
    explicit Pool_(const RiskLimits& l) : limits(l), portfolio(0) {}
    RiskLimits limits;
    Portfolio portfolio;
    int64_t open_orders = 0;
    // "<venue>\x1f<symbol>\x1f<side>" -> remaining qty of open orders.
    std::unordered_map<std::string, int64_t> open_remaining;
    int64_t baseline_e8 = 0;
    // Restart (SeedStrategyLedgers): the day the seeds describe, the positions carried into it
    // (their PnL enters the baseline at the first roll) and those whose entry price is unknown
    // (avg 0, not marked until priced by a mark or a fill).
    std::optional<int64_t> seed_day;
    std::set<std::pair<std::string, std::string>> seed_carried;
    std::set<std::pair<std::string, std::string>> unknown_cost;
    // TotalPnl of `portfolio`, valid while cached_epoch == pnl_epoch_.
    int64_t cached_total_e8 = 0;
    uint64_t cached_epoch = 0;
  };
  struct OpenEntry {
    Pool_* pool;
    std::string key;  // open_remaining key
    int64_t remaining;
  };
  Pool_* FindPool(const std::string& strategy);
  using InstrumentSet = std::set<std::pair<std::string, std::string>>;
  // Realised + unrealised of `p`, saturated to int64; only positions in `only` when given;
  // positions in `unmarked` count their realised PnL only.
  int64_t TotalPnl(const Portfolio& p, const MarkFn& mark, const InstrumentSet* only = nullptr,
                   const InstrumentSet* unmarked = nullptr);
  // The pool's TotalPnl through its cache, after pricing unknown entry prices at the mark.
  int64_t PoolTotal(Pool_& pool, const MarkFn& mark);
  // The same, through the scope's cache.
  int64_t CachedTotal(const Portfolio& p, const MarkFn& mark, int64_t* cached, uint64_t* epoch);
  static int64_t Saturate(__int128 v);

  RiskEngine account_;
  StrategyLimits strategies_;
  int reset_hour_;
  std::function<int64_t()> clock_;
  std::map<std::string, Pool_> pools_;  // named pools and "other" (when default limits)
  std::unordered_map<std::string, OpenEntry> open_;  // by order id
  // Last usable mid per position (by address: Portfolio never moves or erases a position),
  // marks positions while their book is unusable.
  std::unordered_map<const tickmesh::v1::Position*, int64_t> last_mark_;
  uint64_t pnl_epoch_ = 1;  // cache entries with epoch 0 are never valid
  int64_t account_cached_total_e8_ = 0;
  uint64_t account_cached_epoch_ = 0;
  std::optional<int64_t> day_;
  int64_t account_baseline_e8_ = 0;
  std::optional<std::pair<int64_t, int64_t>> seed_;  // (day, account baseline)
  std::function<void(int64_t, int64_t)> on_roll_;
};

}  // namespace tickmesh::execution
