// L2 order books kept by execution from market-data's book stream, used for paper fills, mids for
// risk checks and marks for unrealised PnL.
//
// L2Book is market-data's book (libs/book OrderBook: sorted vectors, bounded depth) plus what the
// stream contract adds: each (venue, symbol) book applies snapshots and deltas in sequence order.
// A delta whose seq is not last_seq + 1 makes the book stale (cleared, unusable) until the next
// snapshot, as the MarketEvent contract requires; an older or repeated seq is ignored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "tickmesh/book/order_book.h"
#include "tickmesh/v1/market_data.pb.h"

namespace tickmesh::execution {

// Levels per side beyond this are dropped (worst prices first) so a hostile feed cannot grow
// memory without bound.
inline constexpr size_t kMaxLevelsPerSide = 5000;

class L2Book {
 public:
  // One side's levels best first (bids highest first, asks lowest first), iterated as
  // tickmesh::book::Level {price_e8, qty_e8}; a view, invalidated by the next update.
  using Levels = tickmesh::book::OrderBook::SideView;

  L2Book() : book_(kMaxLevelsPerSide) {}

  // Replaces the whole book. INVALID_ARGUMENT (book unchanged) if a level has price <= 0 or
  // qty < 0; levels with qty 0 are skipped; levels need not be sorted (a repeated price: the
  // last one wins).
  absl::Status ApplySnapshot(const tickmesh::v1::BookSnapshot& snapshot, uint64_t seq);

  // Applies absolute level quantities (qty 0 removes the level). Returns:
  //  - OK when applied or ignored as old (seq <= last seq);
  //  - DATA_LOSS when seq skips ahead: the book is cleared and stale until the next snapshot;
  //  - FAILED_PRECONDITION when the book is stale (no snapshot yet): ignored;
  //  - INVALID_ARGUMENT for a malformed level (book unchanged).
  absl::Status ApplyDelta(const tickmesh::v1::BookDelta& delta, uint64_t seq);

  // Accounts for a non-book event of this instrument (trade, ticker) that took sequence number
  // `seq` in market-data's per-(venue, symbol) numbering, so the next delta's continuity check
  // does not mistake it for a gap. No level changes. OK when the seq is the next one, old, or 0;
  // DATA_LOSS when it skips ahead (book cleared and stale until the next snapshot);
  // FAILED_PRECONDITION while stale.
  absl::Status AdvanceSeq(uint64_t seq);

  // Clears the book and marks it stale (e.g. when the market-data stream drops).
  void MarkStale();

  // True once a snapshot was applied and no gap was seen since.
  bool usable() const { return usable_; }
  uint64_t last_seq() const { return last_seq_; }

  // Best levels as (price_e8, qty_e8); nullopt when that side is empty or the book is stale.
  std::optional<std::pair<int64_t, int64_t>> BestBid() const;
  std::optional<std::pair<int64_t, int64_t>> BestAsk() const;
  // (best bid + best ask) / 2 when both sides exist; otherwise the one side that exists;
  // nullopt when empty or stale.
  std::optional<int64_t> Mid() const;

  // Every level of a side, best first (empty while stale).
  Levels bids() const { return book_.BidLevels(); }
  Levels asks() const { return book_.AskLevels(); }
  // Quantity displayed at exactly `price_e8` on that side; 0 when there is no such level.
  int64_t BidQtyAt(int64_t price_e8) const { return book_.BidQtyAt(price_e8); }
  int64_t AskQtyAt(int64_t price_e8) const { return book_.AskQtyAt(price_e8); }

 private:
  tickmesh::book::OrderBook book_;
  uint64_t last_seq_ = 0;
  bool usable_ = false;
};

}  // namespace tickmesh::execution
