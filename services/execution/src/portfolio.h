// Portfolio: positions, balances and PnL per venue, from fills, in exact int64 e8 arithmetic.
//
// Positions (per venue, symbol) use the average-cost method: adding to a position moves the
// average entry price to the size-weighted mean; reducing realises (fill price - average) * qty
// (sign-adjusted for shorts) and keeps the average; crossing through zero realises the closed
// part and opens the rest at the fill price. Realised PnL excludes fees (fees are on orders and
// in balances). Unrealised PnL is position * (mark - average), marked at the mid given by the
// caller.
//
// Balances (per venue, asset): the symbol "BASE-QUOTE" names both assets; a buy adds qty of BASE
// and pays notional + fee of QUOTE, a sell receives notional - fee. Fees are always in QUOTE. The
// first time an instrument is seen (EnsureInstrument or a fill), its BASE balance is created at
// 0 and its QUOTE balance, if new, at initial_quote_e8. Balances may go negative (the paper venue
// does not check funds). Fills move available_e8 by the same amount as total_e8; the two differ
// only when a restored balance says so (a live venue's free funds, with the rest held by open
// orders). Execution itself makes no reservations yet.
// Not thread-safe: the owner serialises calls.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "tickmesh/v1/execution.pb.h"

namespace tickmesh::execution {

class Portfolio {
 public:
  explicit Portfolio(int64_t initial_quote_e8) : initial_quote_e8_(initial_quote_e8) {}

  // Creates the balances of (venue, BASE-QUOTE) if new (see above). INVALID_ARGUMENT for a
  // symbol that is not BASE-QUOTE.
  absl::Status EnsureInstrument(const std::string& venue, const std::string& symbol);

  // Applies one fill. INVALID_ARGUMENT for a symbol that is not BASE-QUOTE, a fee in another
  // asset than QUOTE, a side other than BUY/SELL or a non-positive qty/price; OUT_OF_RANGE if a
  // value would overflow int64. On error nothing changes (except that the instrument's
  // balances may have been created).
  absl::Status ApplyFill(const tickmesh::v1::Fill& fill);

  // Restart reconciliation: sets a position / balance read back from persistence or reported by
  // a live venue (replacing any value held; available_e8 capped at total_e8). INVALID_ARGUMENT for
  // a missing venue, a symbol that is not BASE-QUOTE, a missing asset or a negative average price.
  absl::Status RestorePosition(const tickmesh::v1::Position& position);
  absl::Status RestoreBalance(const tickmesh::v1::Balance& balance);

  // Position (with unrealised PnL and mark set from mark_e8 when > 0); a flat empty position if
  // never traded.
  tickmesh::v1::Position GetPosition(const std::string& venue, const std::string& symbol,
                                     int64_t mark_e8) const;
  // Every position matching the filters (empty = any), without marks.
  std::vector<tickmesh::v1::Position> Positions(const std::string& venue,
                                                const std::string& symbol) const;
  // Every balance of `venue` (empty = all venues), ordered by (venue, asset).
  std::vector<tickmesh::v1::Balance> Balances(const std::string& venue) const;
  // The balance; zero if unknown.
  tickmesh::v1::Balance GetBalance(const std::string& venue, const std::string& asset) const;

  // Signed qty, 0 if never traded.
  int64_t PositionQty(const std::string& venue, const std::string& symbol) const;
  size_t position_count() const { return positions_.size(); }
  // Calls `fn` with every position (flat ones included, without marks), ordered by (venue,
  // symbol). Allocates nothing.
  template <typename Fn>
  void ForEachPosition(Fn&& fn) const {
    for (const auto& [key, p] : positions_) fn(p);
  }

  // Sets unrealised PnL and mark on `p` from `mark_e8` (no-op for mark <= 0).
  static void Mark(tickmesh::v1::Position* p, int64_t mark_e8);

 private:
  int64_t initial_quote_e8_;
  std::map<std::pair<std::string, std::string>, tickmesh::v1::Position> positions_;
  std::map<std::pair<std::string, std::string>, tickmesh::v1::Balance> balances_;
};

}  // namespace tickmesh::execution
