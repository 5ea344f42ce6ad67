#include "portfolio.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "fixed_point.h"
#include "symbol.h"

namespace tickmesh::execution {

using tickmesh::v1::Balance;
using tickmesh::v1::Position;

absl::Status Portfolio::ApplyFill(const tickmesh::v1::Fill& fill) {
  auto pair = SplitSymbol(fill.symbol());
  if (!pair.ok()) return pair.status();
  if (fill.qty_e8() <= 0 || fill.price_e8() <= 0) {
    return absl::InvalidArgumentError("fill qty_e8 and price_e8 must be > 0");
  }
  if (fill.fee_e8() < 0) return absl::InvalidArgumentError("fill fee_e8 must be >= 0");
  const bool buy = fill.side() == tickmesh::v1::SIDE_BUY;
  if (!buy && fill.side() != tickmesh::v1::SIDE_SELL) {
    return absl::InvalidArgumentError("fill side must be BUY or SELL");
  }
  auto notional = MulE8(fill.price_e8(), fill.qty_e8());
  if (!notional) return absl::OutOfRangeError("fill notional overflows");

  // Compute everything first, commit only if nothing overflows.
  const auto pkey = std::make_pair(fill.venue(), fill.symbol());
  Position pos;
  if (auto it = positions_.find(pkey); it != positions_.end()) pos = it->second;
  const int64_t q = pos.qty_e8();
  const int64_t signed_fill = buy ? fill.qty_e8() : -fill.qty_e8();
  __int128 realized = pos.realized_pnl_e8();
  int64_t avg = pos.avg_entry_price_e8();
  const __int128 new_q = static_cast<__int128>(q) + signed_fill;
  if (q == 0 || (q > 0) == buy) {
    // Opening or adding: size-weighted average.
    const __int128 abs_q = q < 0 ? -static_cast<__int128>(q) : q;
    const __int128 total = abs_q + fill.qty_e8();
    const __int128 cost = abs_q * avg + static_cast<__int128>(fill.qty_e8()) * fill.price_e8();
    auto a = FitInt64((cost + total / 2) / total);
    if (!a) return absl::OutOfRangeError("average price overflows");
    avg = *a;
  } else {
    // Reducing, closing or flipping.
    const __int128 abs_q = q < 0 ? -static_cast<__int128>(q) : q;
    const __int128 closed = abs_q < fill.qty_e8() ? abs_q : fill.qty_e8();
    const __int128 per_unit = q > 0 ? static_cast<__int128>(fill.price_e8()) - avg
                                    : static_cast<__int128>(avg) - fill.price_e8();
    realized += per_unit * closed / kE8;
    if (new_q == 0) {
      avg = 0;
    } else if ((new_q > 0) != (q > 0)) {
      avg = fill.price_e8();  // flipped: the rest opens at the fill price
    }
  }
  auto nq = FitInt64(new_q);
  auto nr = FitInt64(realized);
  if (!nq || !nr) return absl::OutOfRangeError("position overflows");

  // Balances.
  if (!fill.fee_asset().empty() && fill.fee_asset() != pair->quote) {
    return absl::InvalidArgumentError("fill fee_asset must be the quote asset");
  }
  if (auto s = EnsureInstrument(fill.venue(), fill.symbol()); !s.ok()) return s;
  Balance& base = balances_.at({fill.venue(), pair->base});
  Balance& quote = balances_.at({fill.venue(), pair->quote});
  const __int128 quote_delta = buy ? -(static_cast<__int128>(*notional) + fill.fee_e8())
                                   : static_cast<__int128>(*notional) - fill.fee_e8();
  auto new_base = FitInt64(static_cast<__int128>(base.total_e8()) + signed_fill);
  auto new_quote = FitInt64(static_cast<__int128>(quote.total_e8()) + quote_delta);
  // Available moves by the same amount (held funds a live venue reported stay held).
  auto new_base_avail = FitInt64(static_cast<__int128>(base.available_e8()) + signed_fill);
  auto new_quote_avail = FitInt64(static_cast<__int128>(quote.available_e8()) + quote_delta);
  if (!new_base || !new_quote || !new_base_avail || !new_quote_avail) {
    return absl::OutOfRangeError("balance overflows");
  }

  pos.set_venue(fill.venue());
  pos.set_symbol(fill.symbol());
  pos.set_qty_e8(*nq);
  pos.set_avg_entry_price_e8(avg);
  pos.set_realized_pnl_e8(*nr);
  pos.set_updated_unix_ns(fill.unix_ns());
  positions_[pkey] = pos;

  base.set_total_e8(*new_base);
  base.set_available_e8(*new_base_avail);
  base.set_updated_unix_ns(fill.unix_ns());
  quote.set_total_e8(*new_quote);
  quote.set_available_e8(*new_quote_avail);
  quote.set_updated_unix_ns(fill.unix_ns());
  return absl::OkStatus();
}

absl::Status Portfolio::EnsureInstrument(const std::string& venue, const std::string& symbol) {
  auto pair = SplitSymbol(symbol);
  if (!pair.ok()) return pair.status();
  auto make = [&](const std::string& asset, int64_t total) {
    auto key = std::make_pair(venue, asset);
    if (balances_.count(key) != 0) return;
    Balance b;
    b.set_venue(venue);
    b.set_asset(asset);
    b.set_total_e8(total);
    b.set_available_e8(total);
    balances_.emplace(key, std::move(b));
  };
  make(pair->quote, initial_quote_e8_);
  make(pair->base, 0);
  return absl::OkStatus();
}

absl::Status Portfolio::RestorePosition(const Position& position) {
  if (position.venue().empty()) return absl::InvalidArgumentError("position venue is empty");
  if (auto pair = SplitSymbol(position.symbol()); !pair.ok()) return pair.status();
  if (position.avg_entry_price_e8() < 0) {
    return absl::InvalidArgumentError("position avg_entry_price_e8 is negative");
  }
  Position p;
  p.set_venue(position.venue());
  p.set_symbol(position.symbol());
  p.set_qty_e8(position.qty_e8());
  p.set_avg_entry_price_e8(position.qty_e8() == 0 ? 0 : position.avg_entry_price_e8());
  p.set_realized_pnl_e8(position.realized_pnl_e8());
  p.set_updated_unix_ns(position.updated_unix_ns());
  positions_[{p.venue(), p.symbol()}] = std::move(p);
  return EnsureInstrument(position.venue(), position.symbol());
}

absl::Status Portfolio::RestoreBalance(const Balance& balance) {
  if (balance.venue().empty() || balance.asset().empty()) {
    return absl::InvalidArgumentError("balance venue and asset are required");
  }
  Balance b;
  b.set_venue(balance.venue());
  b.set_asset(balance.asset());
  b.set_total_e8(balance.total_e8());
  // Available as given (a live venue's free funds) unless it exceeds the total.
  b.set_available_e8(std::min(balance.available_e8(), balance.total_e8()));
  b.set_updated_unix_ns(balance.updated_unix_ns());
  balances_[{b.venue(), b.asset()}] = std::move(b);
  return absl::OkStatus();
}

Balance Portfolio::GetBalance(const std::string& venue, const std::string& asset) const {
  if (auto it = balances_.find({venue, asset}); it != balances_.end()) return it->second;
  Balance b;
  b.set_venue(venue);
  b.set_asset(asset);
  return b;
}

Position Portfolio::GetPosition(const std::string& venue, const std::string& symbol,
                                int64_t mark_e8) const {
  Position p;
  if (auto it = positions_.find({venue, symbol}); it != positions_.end()) {
    p = it->second;
  } else {
    p.set_venue(venue);
    p.set_symbol(symbol);
  }
  Mark(&p, mark_e8);
  return p;
}

void Portfolio::Mark(Position* p, int64_t mark_e8) {
  if (mark_e8 <= 0) return;
  p->set_mark_price_e8(mark_e8);
  const __int128 u = static_cast<__int128>(p->qty_e8()) *
                     (static_cast<__int128>(mark_e8) - p->avg_entry_price_e8()) / kE8;
  p->set_unrealized_pnl_e8(FitInt64(u).value_or(u > 0 ? INT64_MAX : INT64_MIN));
}

std::vector<Position> Portfolio::Positions(const std::string& venue,
                                           const std::string& symbol) const {
  std::vector<Position> out;
  for (const auto& [key, p] : positions_) {
    if (!venue.empty() && key.first != venue) continue;
    if (!symbol.empty() && key.second != symbol) continue;
    out.push_back(p);
  }
  return out;
}

std::vector<Balance> Portfolio::Balances(const std::string& venue) const {
  std::vector<Balance> out;
  for (const auto& [key, b] : balances_) {
    if (!venue.empty() && key.first != venue) continue;
    out.push_back(b);
  }
  return out;
}

int64_t Portfolio::PositionQty(const std::string& venue, const std::string& symbol) const {
  auto it = positions_.find({venue, symbol});
  return it == positions_.end() ? 0 : it->second.qty_e8();
}

}  // namespace tickmesh::execution
